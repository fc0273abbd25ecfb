"""Hostile and careless input files: bounded parsing, strict types, limits, duplicate
keys, dates. Each case is refused (exit 2 in the CLI) with a message naming where, or
read as a planner means it; never a traceback, an explosion in memory or a silent
overwrite."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import models
from cli import app
from models.documents import MAX_ALIAS_NODES, MAX_DEPTH
from models.scenario import MAX_MONEY, MAX_PERIODS, MAX_UNITS
from scenarios import variants

runner = CliRunner()

BASE: dict[str, Any] = {
    "name": "hostile",
    "horizon": {"periods": 2},
    "locations": [{"id": "a"}],
    "materials": [{"id": "steel"}],
    "material_centers": [{"id": "mc", "location": "a",
                          "materials": {"steel": {"stock_kg": 100, "price_per_kg": 2}}}],
    "workshops": [{"id": "w1", "location": "a", "capacity": {"cast": 10},
                   "rate": {"cast": 2}}],
    "components": [{"id": "c", "routing": [{"process": "cast", "hours": 1,
                                            "material": "steel", "material_kg": 1}]}],
    "requests": [{"id": "R1", "component": "c", "quantity": 5, "due": 1}],
}


def problems_of(text: str, kind: str = "yaml") -> list[str]:
    with pytest.raises(models.InputError) as e:
        models.scenario_from_dict(models.io.parse_text(text, "f", kind), "f")
    return e.value.problems


def doc_problems(mutate: Any) -> list[str]:
    d = copy.deepcopy(BASE)
    mutate(d)
    with pytest.raises(models.ScenarioError) as e:
        models.scenario_from_dict(d)
    return e.value.problems


# --------------------------------------------------------------------------------------
# Aliases, depth, echoed values


def laughs(levels: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]")
    lines.append(f"name: *a{levels}\nhorizon: {{periods: 1}}")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_while_parsing() -> None:
    # 9 levels of 9 aliases: 9**10 nodes once expanded, from 600 bytes.
    with pytest.raises(models.InputError) as e:
        models.io.parse_text(laughs(9), "laughs.yaml", "yaml")
    (msg,) = e.value.problems
    assert msg == (f"a5 (line 6): aliases expand the document by more than "
                   f"{MAX_ALIAS_NODES:,} nodes; write the values out or use fewer aliases")


def test_billion_laughs_cli_exit_2(tmp_path: Path) -> None:
    f = tmp_path / "laughs.yaml"
    f.write_text(laughs(9))
    res = runner.invoke(app, ["check", str(f), str(tmp_path / "plan.json")])
    assert res.exit_code == 2
    assert "aliases expand the document" in res.output
    assert len(res.output) < 400


def test_recursive_alias_is_refused() -> None:
    with pytest.raises(models.InputError) as e:
        models.io.parse_text("a: &x [1, *x]\n", "f", "yaml")
    assert e.value.problems == ["a[1] (line 1): recursive alias (a value that contains "
                                "itself)"]


def test_modest_aliases_still_work() -> None:
    d = copy.deepcopy(BASE)
    text = yaml.safe_dump(d).replace("capacity:\n    cast: 10", "capacity: &cap\n    cast: 10")
    text += "extra_workshops: [*cap, *cap]\n"
    doc = models.io.parse_text(text, "f", "yaml")
    assert doc["extra_workshops"] == [{"cast": 10}, {"cast": 10}]


def test_echoed_values_are_capped() -> None:
    probs = doc_problems(lambda d: d.update(name=list(range(100_000))))
    (msg,) = probs
    assert msg.startswith("name: must be text (got [0, 1, 2, 3, 4, 5, ...")
    assert len(msg) < 140
    probs = doc_problems(lambda d: d["requests"][0].update(component="x" * 10_000))
    (msg,) = probs
    assert msg.startswith("requests[0].component: unknown component 'xxxxxxxxxx")
    assert "..." in msg and len(msg) < 140


@pytest.mark.parametrize("kind", ["json", "yaml"])
def test_deep_nesting_is_refused(kind: str) -> None:
    n = 100_000
    text = ('{"name": ' + "[" * n + "]" * n + "}") if kind == "json" else (
        "name: " + "[" * n + "]" * n + "\n")
    with pytest.raises(models.InputError) as e:
        models.io.parse_text(text, "f", kind)
    assert e.value.problems[0].endswith(f"nesting deeper than {MAX_DEPTH} levels")


def test_json_nesting_just_past_the_limit() -> None:
    # Deep enough to be refused, shallow enough for Python's parser to build it.
    text = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    with pytest.raises(models.InputError):
        models.io.parse_text(text, "f", "json")
    assert models.io.parse_text("[" * MAX_DEPTH + "]" * MAX_DEPTH, "f", "json")


def test_deep_nesting_cli_exit_2(tmp_path: Path) -> None:
    f = tmp_path / "deep.json"
    f.write_text('{"name": ' + "[" * 100_000 + "]" * 100_000 + "}")
    for cmd in (["check", str(f), str(f)], ["solve", str(f), "--no-record"]):
        res = runner.invoke(app, cmd)
        assert res.exit_code == 2, res.output
        assert f"nesting deeper than {MAX_DEPTH} levels" in res.output


# --------------------------------------------------------------------------------------
# Duplicate keys


def test_duplicate_yaml_key_names_both_lines() -> None:
    text = yaml.safe_dump(BASE, sort_keys=False).replace(
        "  quantity: 5\n", "  quantity: 400\n  quantity: 9000\n")
    line = text.splitlines().index("  quantity: 9000") + 1
    assert problems_of(text) == [f"requests[0].quantity: duplicate key 'quantity' at line "
                                 f"{line} (first at line {line - 1})"]


def test_duplicate_json_key_names_both_lines() -> None:
    text = json.dumps(BASE, indent=1).replace('"quantity": 5,',
                                              '"quantity": 400,\n"quantity": 9000,')
    line = text.splitlines().index('"quantity": 9000,') + 1
    assert problems_of(text, "json") == [f"requests[0].quantity: duplicate key 'quantity' "
                                         f"at line {line} (first at line {line - 1})"]


def test_duplicate_keys_in_cli_and_plan(tmp_path: Path) -> None:
    f = tmp_path / "dup.json"
    f.write_text('{"format": "imc-broker/plan@1", "scenario": "x",\n "status": "optimal",\n'
                 ' "status": "infeasible"}')
    res = runner.invoke(app, ["check", "java-mini", str(f)])
    assert res.exit_code == 2
    assert "status: duplicate key 'status' at line 3 (first at line 2)" in res.output


def test_yaml_merge_keys_are_not_duplicates() -> None:
    doc = models.io.parse_text("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  x: 3\n", "f", "yaml")
    assert doc["d"] == {"x": 3, "y": 2}


# --------------------------------------------------------------------------------------
# Strict types and limits


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda d: d["requests"][0].update(quantity=True),
     "requests[0].quantity: must be a whole number (got True)"),
    (lambda d: d["requests"][0].update(quantity="100"),
     "requests[0].quantity: must be a whole number (got '100')"),
    (lambda d: d["requests"][0].update(due=False),
     "requests[0].due: must be a whole number (got False)"),
    (lambda d: d["material_centers"][0]["materials"]["steel"].update(stock_kg=True),
     "material_centers[0].materials.steel.stock_kg: must be a number (got True)"),
    (lambda d: d["workshops"][0]["capacity"].update(cast=True),
     "workshops[0].capacity.cast: must be a number (got True)"),
    (lambda d: d["material_centers"][0]["materials"]["steel"].update(domestic=1),
     "material_centers[0].materials.steel.domestic: must be true or false (got 1)"),
    (lambda d: d["horizon"].update(periods=True),
     "horizon.periods: must be a whole number (got True)"),
])
def test_no_silent_coercion(mutate: Any, expected: str) -> None:
    assert doc_problems(mutate) == [expected]


def test_yaml_yes_is_not_a_number() -> None:
    text = yaml.safe_dump(BASE, sort_keys=False).replace("cast: 10", "cast: yes")
    assert problems_of(text) == ["workshops[0].capacity.cast: must be a number (got True)"]


def test_yaml_exponent_without_dot_is_a_number() -> None:
    text = yaml.safe_dump(BASE, sort_keys=False) + "policy: {unmet_penalty: 5e6}\n"
    sc = models.scenario_from_dict(models.io.parse_text(text, "f", "yaml"))
    assert sc.policy.unmet_penalty == 5e6


@pytest.mark.parametrize(("text", "expected"), [
    ("price_per_kg: .inf", "material_centers[0].materials.steel.price_per_kg: must be a "
                           f"finite number <= {MAX_MONEY:g} (got inf)"),
    ("price_per_kg: .nan", "material_centers[0].materials.steel.price_per_kg: must be a "
                           f"finite number <= {MAX_MONEY:g} (got nan)"),
    ("price_per_kg: 1.0e300", "material_centers[0].materials.steel.price_per_kg: must be "
                              f"<= {MAX_MONEY:g} (got 1e+300)"),
])
def test_non_finite_and_huge_prices(text: str, expected: str) -> None:
    src = yaml.safe_dump(BASE, sort_keys=False).replace("price_per_kg: 2", text)
    assert problems_of(src) == [expected]


def test_infinite_penalty_and_huge_quantity() -> None:
    src = yaml.safe_dump(BASE, sort_keys=False).replace(
        "quantity: 5", "quantity: 99999999999999999999999999999\n  unmet_penalty: .inf")
    assert problems_of(src) == [
        f"requests[0].quantity: must be <= {MAX_UNITS:g} (got 99999999999999999999999999999)",
        f"requests[0].unmet_penalty: must be a finite number <= {MAX_MONEY:g} (got inf)",
    ]


def test_too_many_periods_refused_before_any_work() -> None:
    probs = doc_problems(lambda d: d["horizon"].update(periods=1_000_000_000))
    assert probs == [f"horizon.periods: must be <= {MAX_PERIODS} (got 1000000000)"]


def test_too_many_periods_are_not_held_against_per_period_lists() -> None:
    # Out of range, the horizon is reported once: "has 2 entries, horizon.periods is
    # 1000000000" for every list of the file would only bury it.
    def mutate(d: dict[str, Any]) -> None:
        d["horizon"]["periods"] = 1_000_000_000
        d["workshops"][0]["capacity_by_period"] = {"cast": [10, 10]}
    assert doc_problems(mutate) == [
        f"horizon.periods: must be <= {MAX_PERIODS} (got 1000000000)"]


def test_many_problems_are_each_reported_once() -> None:
    d = copy.deepcopy(BASE)
    d["requests"] = [{"id": f"R{i}", "component": "nope", "quantity": 1} for i in range(5000)]
    with pytest.raises(models.ScenarioError) as e:
        models.scenario_from_dict(d)
    assert len(e.value.problems) == 5000
    assert e.value.problems[4999] == "requests[4999].component: unknown component 'nope'"


def test_hostile_offer_step_and_component_types() -> None:
    def odd(d: dict[str, Any]) -> None:
        d["offers"] = [{"workshop": "w1", "component": ["c"], "step": True}]
    probs = doc_problems(odd)
    assert "offers[0].component: must be text (got ['c'])" in probs
    assert "offers[0].step: must be a whole number (got True)" in probs


# --------------------------------------------------------------------------------------
# Dates and variant chains


def test_yaml_dates_stay_text_and_json_dumps_them(tmp_path: Path) -> None:
    doc = models.io.parse_text("name: x\nhorizon: {periods: 1, start: 2027-02-22}\n", "f",
                               "yaml")
    assert doc["horizon"]["start"] == "2027-02-22"
    assert models.scenario_from_dict(doc).horizon.start == date(2027, 2, 22)
    out = tmp_path / "d.json"
    models.dump_document({"start": date(2027, 2, 22)}, out)
    assert json.loads(out.read_text()) == {"start": "2027-02-22"}


def test_dated_variant_resolves_to_json(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump(BASE, sort_keys=False))
    v = tmp_path / "v.yaml"
    v.write_text("extends: base.yaml\nname: dated\nhorizon: {periods: 2, start: 2027-02-22}\n")
    res = runner.invoke(app, ["scenario", "resolve", str(v), "--out", str(tmp_path / "c.json")])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "c.json").read_text())["horizon"]["start"] == "2027-02-22"


def test_extends_chain_of_500_files(tmp_path: Path) -> None:
    (tmp_path / "v0.yaml").write_text(yaml.safe_dump(BASE, sort_keys=False))
    for i in range(1, 501):
        (tmp_path / f"v{i}.yaml").write_text(
            f"extends: v{i - 1}.yaml\nname: v{i}\noverrides:\n"
            f"  requests[R1].quantity: {i}\n")
    sc = variants.load(tmp_path / "v500.yaml")
    assert (sc.name, sc.requests[0].quantity) == ("v500", 500)
