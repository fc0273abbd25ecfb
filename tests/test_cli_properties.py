"""Every command that reads a file, fed random bytes, random YAML and JSON documents, and
valid documents with one number replaced by a hostile one (inf, nan, huge, negative zero,
a boolean, a string...): never a traceback. Input that is not a valid document gets exit
code 2 and a message naming the file; a hostile number that is still valid input gets the
command's usual answer (Hypothesis; a few dozen cases per command and kind of input)."""

from __future__ import annotations

import copy
import itertools
import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

import models
from cli import app

runner = CliRunner()
SETTINGS = settings(max_examples=15, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

SCENARIO: dict[str, Any] = {
    "name": "fuzz",
    "horizon": {"periods": 2},
    "transport": {"cost_per_kg_km": 1.0},
    "policy": {"unmet_penalty": 1000.0},
    "locations": [{"id": "a"}, {"id": "b"}],
    "routes": [{"from": "a", "to": "b", "km": 10}],
    "materials": [{"id": "m"}],
    "material_centers": [{"id": "mc", "location": "a",
                          "materials": {"m": {"stock_kg": 100, "price_per_kg": 2}}}],
    "workshops": [
        {"id": "w1", "location": "a", "capacity": {"cast": 10}, "rate": {"cast": 2},
         "engagement_cost": 5},
        {"id": "w2", "location": "b", "capacity": {"mach": 10}, "rate": {"mach": 3}},
    ],
    "components": [{"id": "c", "weight_kg": 2, "import": {"price": 50, "lead_periods": 1},
                    "routing": [{"process": "cast", "hours": 1, "material": "m",
                                 "material_kg": 1},
                                {"process": "mach", "hours": 1}]}],
    "requests": [{"id": "R1", "component": "c", "quantity": 5, "due": 1}],
}
REQUEST: dict[str, Any] = {"id": "Q1", "component": "c", "quantity": 3, "due": 1}


def _plan_doc() -> dict[str, Any]:
    from models.check import check
    from solvers import SolveOptions, solve

    sc = models.scenario_from_dict(SCENARIO)
    plan = solve(sc, SolveOptions())
    assert check(sc, plan).ok
    doc: dict[str, Any] = json.loads(plan.to_json())
    return doc


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A folder, a valid scenario file, a valid plan file and a ledger with the registry."""
    root = tmp_path_factory.mktemp("fuzz")
    scen = root / "valid.yaml"
    scen.write_text(yaml.safe_dump(SCENARIO))
    plan = root / "valid.plan.json"
    plan.write_text(json.dumps(_plan_doc()))
    db = f"sqlite:///{root / 'ledger.db'}"
    res = runner.invoke(app, ["registry", "import", str(scen), "--db", db])
    assert res.exit_code == 0, res.output
    return {"root": root, "scenario": scen, "plan": plan, "db": db,
            "counter": itertools.count()}


# What each command is given: the argument list, with FILE where the random file goes.
COMMANDS: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "solve": lambda w: ["solve", "FILE", "--time-limit", "2", "--no-record",
                        "-o", str(w["root"] / "out.plan.json"), "-q"],
    "check scenario": lambda w: ["check", "FILE", str(w["plan"])],
    "check plan": lambda w: ["check", str(w["scenario"]), "FILE"],
    "scenario resolve": lambda w: ["scenario", "resolve", "FILE"],
    "bottlenecks scenario": lambda w: ["bottlenecks", "FILE", "--verify", "0",
                                       "--time-limit", "2"],
    "bottlenecks plan": lambda w: ["bottlenecks", str(w["scenario"]), "FILE", "--verify", "0",
                                   "--time-limit", "2"],
    "sweep": lambda w: ["sweep", "FILE", "--vary", "policy.import_tariff=0", "--out",
                        str(w["root"] / "sweep"), "--workers", "1"],
    "registry import": lambda w: ["registry", "import", "FILE", "--db", w["db"]],
    "request submit": lambda w: ["request", "submit", "FILE", "--db", w["db"]],
    "quote": lambda w: ["quote", "FILE", "--db", w["db"], "--time-limit", "1"],
    "commit": lambda w: ["commit", "FILE", "--db", w["db"]],
    "report scenario": lambda w: ["report", "FILE", str(w["plan"]), "-o",
                                  str(w["root"] / "r.html")],
    "report plan": lambda w: ["report", str(w["scenario"]), "FILE", "-o",
                              str(w["root"] / "r.html")],
    "export-plan scenario": lambda w: ["export-plan", str(w["plan"]), "--scenario", "FILE",
                                       "--csv", str(w["root"] / "tables")],
    "export-plan plan": lambda w: ["export-plan", "FILE", "--scenario", str(w["scenario"]),
                                   "--csv", str(w["root"] / "tables")],
}
# The kind of valid document a command reads, for the hostile-number cases.
VALID: dict[str, str] = {
    "solve": "scenario", "check scenario": "scenario", "check plan": "plan",
    "scenario resolve": "scenario", "bottlenecks scenario": "scenario",
    "bottlenecks plan": "plan", "sweep": "scenario", "registry import": "scenario",
    "request submit": "request", "quote": "request", "commit": "plan",
    "report scenario": "scenario", "report plan": "plan",
    "export-plan scenario": "scenario", "export-plan plan": "plan",
}

# `bench` reads instance files too; it is given only input that is never a valid scenario
# (a valid one would start solving in child processes).
COMMANDS_INVALID_ONLY = {
    "bench": lambda w: ["bench", "--instances", "FILE", "--no-baseline", "--time-limit", "1"],
}
COMMANDS_ALL = {**COMMANDS, **COMMANDS_INVALID_ONLY}


def invoke(world: dict[str, Any], command: str, name: str, content: bytes) -> tuple[
        Result, Path]:
    f = world["root"] / f"in-{next(world['counter'])}-{name}"
    f.write_bytes(content)
    args = [str(f) if a == "FILE" else a for a in COMMANDS_ALL[command](world)]
    return runner.invoke(app, args), f


def assert_no_traceback(res: Result) -> None:
    assert res.exception is None or isinstance(res.exception, SystemExit), (
        f"traceback: {res.exception!r}\n{res.output}")


def assert_refused(res: Result, f: Path) -> None:
    assert_no_traceback(res)
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith("error: "), res.stderr
    assert f.name in res.stderr, res.stderr


SUFFIXES = [".yaml", ".json"]


@pytest.mark.parametrize("command", COMMANDS_ALL)
@SETTINGS
@given(content=st.binary(max_size=200), suffix=st.sampled_from([*SUFFIXES, ".yml"]))
def test_random_bytes_are_refused(world: dict[str, Any], command: str, content: bytes,
                                  suffix: str) -> None:
    res, f = invoke(world, command, f"bytes{suffix}", content)
    assert_refused(res, f)


HOSTILE = st.sampled_from([math.inf, -math.inf, math.nan, 1e308, -1e308, 1e20, 2**63,
                           10**30, -0.0, -1, 0, True, False, None, "5", "", [], {}])
SCALARS = st.one_of(HOSTILE, st.integers(), st.floats(), st.text(max_size=8),
                    st.booleans(), st.none())
DOCS = st.recursive(SCALARS, lambda kids: st.one_of(
    st.lists(kids, max_size=4),
    st.dictionaries(st.one_of(st.text(max_size=6),
                              st.sampled_from(["id", "name", "requests", "workshops",
                                               "quantity", "horizon", "production",
                                               "format", "status", "extends"])),
                    kids, max_size=5)), max_leaves=20)


def _text(doc: Any, suffix: str) -> bytes:
    if suffix == ".json":
        return json.dumps(doc).encode()
    return yaml.safe_dump(doc, allow_unicode=True).encode()


@pytest.mark.parametrize("command", COMMANDS_ALL)
@SETTINGS
@given(doc=DOCS, suffix=st.sampled_from(SUFFIXES))
def test_random_documents_are_refused(world: dict[str, Any], command: str, doc: Any,
                                      suffix: str) -> None:
    res, f = invoke(world, command, f"doc{suffix}", _text(doc, suffix))
    assert_refused(res, f)


def _leaves(v: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(v, dict):
        for k, x in v.items():
            yield from _leaves(x, (*path, k))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from _leaves(x, (*path, i))
    elif isinstance(v, int | float) and not isinstance(v, bool):
        yield path


def _valid(world: dict[str, Any], kind: str) -> dict[str, Any]:
    if kind == "scenario":
        return copy.deepcopy(SCENARIO)
    if kind == "request":
        return copy.deepcopy(REQUEST)
    doc: dict[str, Any] = json.loads(world["plan"].read_text())
    return doc


@pytest.mark.parametrize("command", COMMANDS)
@SETTINGS
@given(data=st.data(), value=st.one_of(HOSTILE, st.floats(), st.integers(-10**40, 10**40)),
       suffix=st.sampled_from(SUFFIXES))
def test_hostile_numbers_never_give_a_traceback(world: dict[str, Any], command: str,
                                                data: st.DataObject, value: Any,
                                                suffix: str) -> None:
    doc = _valid(world, VALID[command])
    paths = sorted(_leaves(doc), key=repr)
    path = data.draw(st.sampled_from(paths))
    target: Any = doc
    for k in path[:-1]:
        target = target[k]
    target[path[-1]] = value
    res, f = invoke(world, command, f"num{suffix}", _text(doc, suffix))
    assert_no_traceback(res)
    assert res.exit_code in (0, 1, 2, 3, 4), res.output
    if res.exit_code == 2:
        assert res.stderr.startswith("error: "), res.stderr


# #11 item 3: a non-finite number anywhere in a plan is a violation.
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), value=st.sampled_from([math.inf, -math.inf, math.nan]))
def test_check_never_accepts_a_non_finite_number(world: dict[str, Any], data: st.DataObject,
                                                 value: float) -> None:
    doc = _valid(world, "plan")
    path = data.draw(st.sampled_from(sorted(_leaves(doc), key=repr)))
    target: Any = doc
    for k in path[:-1]:
        target = target[k]
    target[path[-1]] = value
    res, f = invoke(world, "check plan", "nonfinite.json", json.dumps(doc).encode())
    assert_no_traceback(res)
    assert res.exit_code in (1, 2), (path, res.output)
