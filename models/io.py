"""Reading and writing scenario and plan files (YAML or JSON, chosen by extension)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from models.dates import resolve_dates
from models.documents import dump_yaml, load_json, load_yaml
from models.errors import DocumentError, InputError, PlanError, ScenarioError
from models.plan import PLAN_FORMAT, Plan
from models.scenario import Scenario
from models.validate import cross_check, pydantic_problems


def read_document(path: str | Path) -> Any:
    """Parse a YAML (.yaml, .yml) or JSON (.json) file; a syntax error names its line."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".json", ".yaml", ".yml"):
        raise InputError(str(p), [f"unknown file type '{p.suffix}': use .yaml, .yml or .json"])
    return parse_text(_read_text(p, InputError), str(p), "json" if suffix == ".json" else "yaml")


def _read_text(p: Path, error: type[InputError]) -> str:
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(str(p), ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise error(str(p), [f"cannot read file: {e}"]) from None


def parse_text(text: str, source: str, kind: str) -> Any:
    """A parsed YAML or JSON document; duplicate keys, deep nesting and alias bombs are
    refused (see `models.documents`), each with its line."""
    if kind == "json":
        try:
            return load_json(text)
        except json.JSONDecodeError as e:
            raise InputError(source, [f"line {e.lineno}, column {e.colno}: JSON syntax error: "
                                      f"{e.msg}"]) from None
        except DocumentError as e:
            raise InputError(source, [str(e)]) from None
    try:
        return load_yaml(text)
    except DocumentError as e:
        raise InputError(source, [str(e)]) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = e.problem or e.context or "syntax error"
        raise InputError(source, [f"{where}YAML syntax error: {what}"]) from None
    except yaml.YAMLError as e:
        raise InputError(source, [f"YAML error: {e}"]) from None


def scenario_from_dict(doc: Any, source: str = "<scenario>") -> Scenario:
    """Validate a parsed document; raise ScenarioError with every problem found."""
    if not isinstance(doc, dict):
        raise ScenarioError(source, ["(document): a scenario must be a mapping of keys"])
    # SPEC 8.1: ISO dates of release and due become period numbers before validation.
    doc, problems = resolve_dates(doc)
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(doc)
    except ValidationError as e:
        problems.extend(pydantic_problems(e))
    # A set, not the list: with 100k problems a list lookup per problem is quadratic.
    seen = set(problems)
    problems.extend(p for p in dict.fromkeys(cross_check(doc)) if p not in seen)
    if problems:
        raise ScenarioError(source, problems)
    assert scenario is not None
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    return scenario_from_dict(read_document(path), str(path))


def plan_from_dict(doc: Any, source: str = "<plan>") -> Plan:
    if not isinstance(doc, dict):
        raise PlanError(source, ["(document): a plan must be a JSON object"])
    problems: list[str] = []
    if "format" not in doc:
        # A file without it may be any JSON object that happens to have plan-like keys.
        problems.append(f"format: required (a plan file starts with "
                        f"\"format\": \"{PLAN_FORMAT}\")")
    try:
        plan = Plan.model_validate(doc)
    except ValidationError as e:
        problems.extend(pydantic_problems(e))
    if problems:
        raise PlanError(source, problems)
    return plan


def load_plan(path: str | Path) -> Plan:
    p = Path(path)
    return plan_from_dict(parse_text(_read_text(p, PlanError), str(p), "json"), str(p))


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """The document form of a scenario, with defaults left out so files stay readable."""
    return scenario.model_dump(mode="json", by_alias=True, exclude_none=True,
                               exclude_defaults=True) | {"name": scenario.name,
                                                         "horizon": scenario.horizon.model_dump(
                                                             mode="json", exclude_none=True)}


def dump_document(doc: Any, path: str | Path) -> None:
    p = Path(path)
    if p.suffix.lower() == ".json":
        text = json.dumps(doc, indent=2, ensure_ascii=False, default=_json_value) + "\n"
    else:
        text = dump_yaml(doc)
    p.write_text(text, encoding="utf-8")


def json_document(doc: Any) -> Any:
    """`doc` as a JSON file holds it: dates (a document built in code may hold them) as
    ISO text, tuples as lists; a copy, so the caller's document is left as it was."""
    return json.loads(json.dumps(doc, ensure_ascii=False, default=_json_value))


def _json_value(v: Any) -> Any:
    """Dates (a document built in code may hold them) as ISO text, as a JSON file has them."""
    if isinstance(v, date):
        return v.isoformat()
    raise TypeError(f"Object of type {type(v).__name__} is not JSON serializable")


def write_plan(plan: Plan, path: str | Path) -> None:
    Path(path).write_text(plan.to_json(), encoding="utf-8")
