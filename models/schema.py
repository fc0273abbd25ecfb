"""The JSON Schemas of the scenario and plan files, and the field reference of the docs,
both made from the pydantic models: each field's attribute docstring is its description
(with its unit), so the schema other services read and the page people read cannot drift
apart. `python -m models.schema > docs/fields.md` writes the reference; a test checks
that the committed page is what the models give."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from models.plan import Plan
from models.scenario import Scenario

DIALECT = "https://json-schema.org/draft/2020-12/schema"
IDS = {"scenario": "urn:imc-broker:schema:scenario:1.1",
       "plan": "urn:imc-broker:schema:plan:1"}
MODELS: dict[str, type[BaseModel]] = {"scenario": Scenario, "plan": Plan}


def _tidy(node: Any) -> Any:
    """Descriptions on one line (a docstring wrapped at 100 columns is one sentence)."""
    if isinstance(node, dict):
        return {k: (" ".join(v.split()) if k == "description" and isinstance(v, str)
                    else _tidy(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_tidy(v) for v in node]
    return node


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the `scenario` or `plan` file, with `$schema`,
    `$id` and a description for every property."""
    body = _tidy(MODELS[kind].model_json_schema(by_alias=True))
    return {"$schema": DIALECT, "$id": IDS[kind], **body}


def properties(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(object, property, its schema) for the root and every definition."""
    objects = [(schema.get("title", "(root)"), schema),
               *schema.get("$defs", {}).items()]
    return [(name, prop, spec) for name, obj in objects
            for prop, spec in obj.get("properties", {}).items()]


def _type(spec: dict[str, Any]) -> str:
    if "$ref" in spec:
        return spec["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in spec:
        kinds = [_type(s) for s in spec["anyOf"]]
        return " or ".join(dict.fromkeys(k for k in kinds if k != "null")) + (
            " or null" if "null" in kinds else "")
    if "const" in spec:
        return f"`{json.dumps(spec['const'])}`"
    if "enum" in spec:
        return " / ".join(f"`{v}`" for v in spec["enum"])
    t = spec.get("type", "any")
    if t == "array":
        return f"list of {_type(spec.get('items', {}))}"
    if t == "object" and "additionalProperties" in spec:
        extra = spec["additionalProperties"]
        return f"map to {_type(extra) if isinstance(extra, dict) else 'any'}"
    if t == "string" and spec.get("format") == "date":
        return "ISO date"
    bounds = []
    for key, sign in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="),
                      ("exclusiveMaximum", "<")):
        if key in spec:
            bounds.append(f"{sign} {spec[key]:g}")
    return str(t) + (f" ({', '.join(bounds)})" if bounds else "")


def field_reference() -> str:
    """docs/fields.md: one table per object of the scenario and plan files."""
    lines = ["# Field reference", "",
             "Generated from the models by `python -m models.schema > docs/fields.md`; the "
             "same", "descriptions are in `broker schema scenario|plan`. Money is in the "
             "scenario's", "`currency` (default IDR).", ""]
    for kind in ("scenario", "plan"):
        schema = json_schema(kind)
        lines += [f"## The {kind} file (`{IDS[kind]}`)", ""]
        current = None
        for obj, prop, spec in properties(schema):
            if obj != current:
                lines += ["", f"### {obj}", "", "| field | type | default | meaning |",
                          "| --- | --- | --- | --- |"]
                current = obj
            default = ("" if "default" not in spec
                       else f"`{json.dumps(spec['default'])}`")
            required = prop in next(
                (o.get("required", []) for n, o in [(schema.get("title"), schema),
                                                    *schema.get("$defs", {}).items()]
                 if n == obj), [])
            desc = spec.get("description", "").replace("|", "\\|")
            lines.append(f"| `{prop}`{' (required)' if required else ''} | "
                         f"{_type(spec).replace('|', '/')} | {default} | {desc} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(field_reference(), end="")
