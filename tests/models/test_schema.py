"""The JSON Schemas say what every field means, and the docs' field reference is the one
the models give."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from models.schema import DIALECT, IDS, field_reference, json_schema, properties

DOCS = Path(__file__).resolve().parents[2] / "docs" / "fields.md"


@pytest.mark.parametrize("kind", ["scenario", "plan"])
def test_every_property_has_a_description(kind: str) -> None:
    schema = json_schema(kind)
    assert (schema["$schema"], schema["$id"]) == (DIALECT, IDS[kind])
    props = properties(schema)
    assert len(props) > (80 if kind == "scenario" else 50)
    missing = [f"{obj}.{p}" for obj, p, spec in props if not spec.get("description")]
    assert missing == []
    # One line each: wrapped docstrings are joined.
    assert not [p for _, p, spec in props if "\n" in spec["description"]]


def test_money_and_amounts_name_their_unit() -> None:
    by = {(o, p): spec["description"] for o, p, spec in properties(json_schema("scenario"))}
    assert "currency" in by[("Workshop", "rate")] and "per hour" in by[("Workshop", "rate")]
    assert "hours per period" in by[("Workshop", "capacity")]
    assert "kg" in by[("Stock", "stock_kg")] and "km" in by[("Route", "km")]
    assert "period" in by[("Request", "due")] and "ISO date" in by[("Request", "due")]


def test_schema_command_prints_the_same_schema() -> None:
    res = CliRunner().invoke(app, ["schema", "scenario"])
    assert res.exit_code == 0
    assert json.loads(res.stdout) == json_schema("scenario")


def test_the_docs_field_reference_is_generated_from_the_models() -> None:
    # Regenerate with: python -m models.schema > docs/fields.md
    assert DOCS.read_text(encoding="utf-8") == field_reference()
