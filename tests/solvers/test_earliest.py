"""The earliest completion of a one-request scenario (solvers/earliest.py): hand-worked
cases, and generated ones against whole solves of the same scenario with the due period
moved (on time at the earliest period, not one period before). Every plan goes through
the checker."""

from __future__ import annotations

from typing import Any

import pytest

import models
import solvers.earliest as earliest_mod
from models.check import check
from models.plan import Plan
from models.scenario import Scenario
from scenarios.generate import generate
from solvers import (
    Engine,
    SolveOptions,
    completion_period,
    earliest_completion,
    solve,
    solve_with_earliest,
)
from solvers.mip import engine_parameters


def hand(quantity: int = 10, lag: int = 0, **request: Any) -> Scenario:
    """Casting 4 units a period at w1, machining 10 at w2, four periods: 10 units are cast
    4 + 4 + 2, so the last is machined in period 2 (3 with a step lag of 1)."""
    return models.scenario_from_dict({
        "name": "earliest-hand",
        "horizon": {"periods": 4},
        "policy": {"step_lag_periods": lag},
        "locations": [{"id": "a"}, {"id": "b"}],
        "routes": [{"from": "a", "to": "b", "km": 10}],
        "workshops": [
            {"id": "w1", "location": "a", "capacity": {"cast": 4}, "rate": {"cast": 2}},
            {"id": "w2", "location": "b", "capacity": {"mach": 10}, "rate": {"mach": 3}},
        ],
        "components": [{"id": "c", "weight_kg": 2,
                        "routing": [{"process": "cast", "hours": 1},
                                    {"process": "mach", "hours": 1}],
                        "import": {"price": 100, "lead_periods": 1}}],
        "requests": [{"id": "R", "component": "c", "quantity": quantity, "due": 3,
                      "allow_import": False} | request],
    })


def checked(sc: Scenario, plan: Plan | None) -> None:
    assert plan is not None
    report = check(sc, plan)
    assert report.ok, report.violations


@pytest.mark.parametrize("lag, earliest", [(0, 2), (1, 3)])
def test_hand_worked_capacity_and_lag(lag: int, earliest: int) -> None:
    sc = hand(lag=lag)
    e = earliest_completion(sc)
    assert (e.period, e.status, e.bound) == (earliest, "optimal", earliest)
    checked(sc, e.plan)
    assert e.plan is not None and completion_period(sc, e.plan) == earliest


def test_hand_worked_import_and_release() -> None:
    # Imported units are in at their lead time, whatever the release.
    sc = hand(allow_import=True, release=2)
    e = earliest_completion(sc)
    assert (e.period, e.status) == (1, "optimal")
    checked(sc, e.plan)
    assert e.plan is not None and sum(i.quantity for i in e.plan.imports) == 10


def test_hand_worked_not_within_the_horizon() -> None:
    # 20 units, 16 castable in four periods, no import.
    e = earliest_completion(hand(quantity=20))
    assert (e.period, e.status, e.plan) == (None, "infeasible", None)


def test_known_plan_bounds_the_search() -> None:
    sc = hand()
    assert earliest_completion(sc, by=3).period == 2
    # The caller's own plan is the answer when nothing earlier is possible.
    e = earliest_completion(sc, by=2)
    assert (e.period, e.status, e.plan) == (2, "optimal", None)


def test_time_out_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    # Neither the LP's vertex nor the engine gives a plan in time: the earliest period is
    # not claimed, the caller's own plan stands, and the periods ruled out are the bound.
    from solvers.model import Raw

    monkeypatch.setattr(earliest_mod, "_rounded_plan", lambda *a: None)
    monkeypatch.setattr(earliest_mod, "_any_plan",
                        lambda *a: Raw(status="no_solution", bound=None, solver_objective=None))
    e = earliest_completion(hand(), by=3)
    assert (e.period, e.status, e.bound, e.plan) == (3, "feasible", 2, None)
    e = earliest_completion(hand())
    assert (e.period, e.status, e.bound) == (None, "no_solution", 2)


def generated_cases() -> list[Scenario]:
    doc = generate("small", 3)
    out = []
    for item in doc["requests"][:6]:
        out.append(models.scenario_from_dict(doc | {"requests": [item],
                                                    "name": f"one-{item['id']}"}))
    return out


def on_time_possible(sc: Scenario, due: int) -> bool:
    """Whether a plan delivers every unit by `due`: a whole exact solve of the scenario in
    which only lateness and unmet units cost anything (the question the bisection asked).
    Before the release only imports can be in."""
    r = sc.requests[0]
    if due < r.release:
        comp = sc.component(r.component)
        return sc.import_allowed(r) and comp.import_ is not None and (
            comp.import_.lead_periods <= due)
    doc = models.scenario_to_dict(sc)
    doc["transport"] = {"cost_per_kg_km": 0.0}
    doc.setdefault("policy", {}).update({"min_local_content": 0.0, "import_tariff": 0.0})
    for w in doc["workshops"]:
        w["rate"] = dict.fromkeys(w.get("rate", {}), 0.0)
        w["engagement_cost"] = 0.0
    for o in doc.get("offers", []):
        o["tooling_cost"] = 0.0
        if "unit_price" in o:
            o["unit_price"] = 0.0
    for c in doc.get("material_centers", []):
        for st in c.get("materials", {}).values():
            st["price_per_kg"] = 0.0
    for comp in doc["components"]:
        if "import" in comp:
            comp["import"]["price"] = 0.0
    req = doc["requests"][0] | {"due": due, "late_penalty": 1.0, "unmet_penalty": 1000.0}
    probe = models.scenario_from_dict(doc | {"requests": [req]})
    plan = solve(probe, SolveOptions())
    assert plan.status.value == "optimal"
    checked(probe, plan)
    assert plan.objective is not None
    return plan.objective < 0.5


@pytest.mark.parametrize("path", ["lp vertex", "mip"])
def test_generated_against_whole_solves(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if path == "mip":  # never take the LP's vertex: every answer from the MIP
        monkeypatch.setattr(earliest_mod, "_rounded_plan", lambda *a: None)
    seen = set()
    for sc in generated_cases():
        e = earliest_completion(sc, SolveOptions(time_limit=20))
        assert e.status in ("optimal", "infeasible")
        if e.period is None:
            assert not on_time_possible(sc, sc.horizon.periods - 1)
            continue
        checked(sc, e.plan)
        assert e.plan is not None and completion_period(sc, e.plan) == e.period
        assert on_time_possible(sc, e.period)
        if e.period > 0:
            assert not on_time_possible(sc, e.period - 1)
        seen.add(e.period)
    assert len(seen) >= 2  # the cases are not all alike


def test_solve_with_earliest_is_both_on_one_model() -> None:
    options = SolveOptions(time_limit=20, engine=Engine.SCIP, presolve=False, cuts=False,
                           heuristics=False, neighbourhood=False, constructive_orders=1,
                           inference_branching=True)
    for sc in generated_cases()[:3]:
        plan, e = solve_with_earliest(sc, options, options)
        alone = solve(sc, SolveOptions())
        checked(sc, plan)
        assert plan.status.value == alone.status.value == "optimal"
        assert plan.objective == pytest.approx(alone.objective, rel=1e-6)
        by = completion_period(sc, plan) if not plan.unmet else None
        assert e is not None and e.period == earliest_completion(sc, options, by=by).period
        if e.plan is not None:
            checked(sc, e.plan)


def test_engine_switches_keep_the_optimum_and_are_recorded() -> None:
    sc = generated_cases()[0]
    off = SolveOptions(engine=Engine.SCIP, presolve=False, cuts=False, heuristics=False,
                       neighbourhood=False, constructive_orders=1, inference_branching=True)
    plan, base = solve(sc, off), solve(sc, SolveOptions(engine=Engine.SCIP))
    checked(sc, plan)
    assert plan.objective == pytest.approx(base.objective, rel=1e-6)
    desc = off.describe()
    assert {k: desc[k] for k in ("presolve", "cuts", "heuristics", "neighbourhood",
                                 "constructive_orders", "inference_branching")} == {
        "presolve": False, "cuts": False, "heuristics": False, "neighbourhood": False,
        "constructive_orders": 1, "inference_branching": True}
    assert SolveOptions.from_description(desc) == off
    # Left at their defaults they are not written, so recorded descriptions read the same.
    assert not {"presolve", "inference_branching"} & set(SolveOptions().describe())


def test_inference_branching_reaches_scip_only() -> None:
    """The switch sets SCIP's inference branching rule above every other (relpscost's
    priority is 10,000) and leaves HiGHS's parameters as they were."""
    scip = engine_parameters(SolveOptions(engine=Engine.SCIP, inference_branching=True),
                             None)
    assert dict(scip.gscip.int_params) == {"branching/inference/priority": 100000}
    assert not engine_parameters(SolveOptions(engine=Engine.SCIP), None).gscip.int_params
    highs = engine_parameters(SolveOptions(engine=Engine.HIGHS, inference_branching=True),
                              None)
    assert not highs.gscip.int_params and highs == engine_parameters(
        SolveOptions(engine=Engine.HIGHS), None)


def test_periods_ruled_out_by_the_bounds_have_an_infeasible_lp(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A period the columns' bounds rule out (`_capacity_short`) is one whose LP is
    infeasible, so the earliest period is the one the LPs alone give."""
    import math

    ruled_out: list[tuple[str, int]] = []
    real = earliest_mod._capacity_short

    def checking(sc: Scenario, b: Any, n: int) -> Any:
        short = real(sc, b, n)
        lb = b.model.arrays()[0]

        def test(T: int, ub: Any, imported: float) -> bool:
            if short(T, ub, imported):
                assert earliest_mod._lp_point(b.model, lb, ub, math.inf) is None
                ruled_out.append((sc.name, T))
                return True
            return False

        return test

    cases = [hand(), hand(lag=1), hand(quantity=20), *generated_cases()]
    found = [earliest_completion(sc).period for sc in cases]
    monkeypatch.setattr(earliest_mod, "_capacity_short", checking)
    assert [earliest_completion(sc).period for sc in cases] == found
    # The hand case: 4 units cast a period, so 10 are not cast by period 0 or 1.
    assert ("earliest-hand", 0) in ruled_out and ("earliest-hand", 1) in ruled_out
    assert found[:3] == [2, 3, None]
    monkeypatch.setattr(earliest_mod, "_capacity_short",
                        lambda *a: lambda *b: False)  # every period to its LP
    assert [earliest_completion(sc).period for sc in cases] == found
