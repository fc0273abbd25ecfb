"""The generator: sizes, determinism, validity, realism of its structure."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

import models
from cli import app
from scenarios import catalog as cat
from scenarios.generate import SIZES, generate


@pytest.mark.parametrize("size", ["small", "medium", "large"])
def test_sizes_and_validity(size: str) -> None:
    doc = generate(size, 7)
    spec = SIZES[size]
    assert len(doc["workshops"]) == spec.workshops
    assert len(doc["requests"]) == spec.requests
    assert doc["horizon"]["periods"] == spec.periods
    sc = models.scenario_from_dict(doc)  # every reference resolves, every rule holds
    assert sc.name == f"generated-{size}-s7"


def test_national_size() -> None:
    doc = generate("national", 1)
    assert (len(doc["workshops"]), len(doc["requests"])) == (5000, 20000)
    models.scenario_from_dict(doc)


def test_same_seed_same_document_other_seed_other() -> None:
    assert json.dumps(generate("medium", 3)) == json.dumps(generate("medium", 3))
    assert generate("medium", 3) != generate("medium", 4)


def test_structure_follows_the_clusters() -> None:
    doc = generate("medium", 1)
    by_cluster = Counter(w["id"].split("-")[1] for w in doc["workshops"])
    # Ceper (about 300 foundries) is larger than Purbalingga (150 to 200).
    assert by_cluster["ceper"] > by_cluster["purbalingga"] > 0
    places = {p for c in cat.CLUSTERS for p in c.places}
    assert all(w["location"] in places for w in doc["workshops"])
    ceper = [w for w in doc["workshops"] if w["id"].startswith("ikm-ceper-")]
    assert sum("casting" in w["capacity"] for w in ceper) > 0.8 * len(ceper)
    # The Idul Fitri week (period 2 from 22 February 2027) has less capacity everywhere.
    lebaran = cat.lebaran_period(cat.DEFAULT_START, 8)
    assert lebaran == 2
    for w in doc["workshops"]:
        for p, hours in w["capacity"].items():
            assert w["capacity_by_period"][p][lebaran] < hours
    assert any(o.get("tooling_cost", 0) > 0 for o in doc["offers"])
    assert any("max_suppliers_per_step" in r for r in doc["requests"])
    assert any(c.get("import") for c in doc["components"])
    assert any(not m["domestic"] for c in doc["material_centers"]
               for m in c["materials"].values())


def test_cli_generate(tmp_path: Path) -> None:
    out = tmp_path / "small.yaml"
    res = CliRunner().invoke(app, ["scenario", "generate", "--size", "small", "--seed", "2",
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "30 workshops, 25 requests, 4 periods" in res.stdout
    assert models.load_scenario(out) == models.scenario_from_dict(generate("small", 2))
    res = CliRunner().invoke(app, ["scenario", "generate", "--size", "huge", "--out",
                                   str(out)])
    assert res.exit_code == 2
    assert "'huge' is not one of" in res.stderr


def test_small_generated_solves_to_proven_optimum(solve_checked) -> None:  # type: ignore[no-untyped-def]
    plan = solve_checked(generate("small", 1))
    assert plan.status.value == "optimal"
    assert plan.gap is not None and plan.gap <= 1e-6
    # Most demand is made at home; some is imported where that is cheaper.
    assert 0.5 < plan.kpis["domestic_share"] < 1.0
