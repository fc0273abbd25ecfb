"""One small hand-built scenario per rule of SPEC 8.2-8.5, solved exactly and checked.

Every optimum is worked out by hand in the comment above its test. Unless a test says
otherwise: one period, one step (casting, 1 hour per unit, so a workshop's unit cost is
its rate), no transport cost, no import, unmet_penalty 100.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest

import solvers.model as solver_model
from models import Derived, Plan, Scenario, scenario_from_dict
from solvers import Engine, Formulation, Method
from solvers.constraints import build

EXACT = Method.EXACT

Doc = dict[str, Any]
SolveChecked = Callable[..., Plan]


def doc(rates: dict[str, float], quantity: int, *, loc: dict[str, str] | None = None,
        capacity: dict[str, float] | None = None, **extra: Any) -> Doc:
    """Workshops named by `rates` (all at L1 unless `loc` says), capacity 100 h each
    unless `capacity` says, one request R of `quantity` units of component c."""
    loc = loc or {}
    capacity = capacity or {}
    out: Doc = {
        "name": "inclusion",
        "horizon": {"periods": 1},
        "locations": [{"id": "L1"}, {"id": "L2"}],
        "policy": {"unmet_penalty": 100},
        "workshops": [{"id": w, "location": loc.get(w, "L1"),
                       "capacity": {"casting": capacity.get(w, 100)},
                       "rate": {"casting": rate}} for w, rate in rates.items()],
        "components": [{"id": "c", "routing": [{"process": "casting", "hours": 1}]}],
        "requests": [{"id": "R", "component": "c", "quantity": quantity}],
    }
    for key, value in extra.items():
        out[key] = value
    return out


def units(plan: Plan, step: int = 0) -> dict[str, int]:
    got: dict[str, int] = defaultdict(int)
    for p in plan.production:
        if p.step == step:
            got[p.workshop] += p.quantity
    return dict(got)


def lot_case() -> Doc:
    """wA (rate 1) has room for 10 units, wB (rate 3) for 100; 12 units, min_lot 5."""
    d = doc({"wA": 1, "wB": 3}, 12, capacity={"wA": 10})
    d["components"][0]["routing"][0]["min_lot"] = 5
    return d


# Without the lot: wA 10 + wB 2 = 10 + 6 = 16. With min_lot 5, wB's 2 are not allowed:
# wA 7 + wB 5 = 7 + 15 = 22; wA 10 + 2 unmet = 10 + 200 = 210; wB 12 = 36. Optimum 22.
def test_min_lot(solve_checked: SolveChecked) -> None:
    plan = solve_checked(lot_case(), method=EXACT)
    assert plan.status.value == "optimal"
    assert plan.objective == pytest.approx(22)
    assert units(plan) == {"wA": 7, "wB": 5}


# wB's offer asks for no minimum lot: back to wA 10 + wB 2 = 16.
def test_offer_min_lot_replaces_the_steps(solve_checked: SolveChecked) -> None:
    d = lot_case()
    d["offers"] = [{"workshop": "wB", "component": "c", "step": 0, "min_lot": 0}]
    plan = solve_checked(d, method=EXACT)
    assert plan.objective == pytest.approx(16)


# A lot of 13 is more than the 12 requested: nothing can be made, all 12 unmet = 1200.
def test_min_lot_above_the_quantity(solve_checked: SolveChecked) -> None:
    d = lot_case()
    d["components"][0]["routing"][0]["min_lot"] = 13
    plan = solve_checked(d, method=EXACT)
    assert plan.objective == pytest.approx(1200)
    assert plan.production == []


# Dual sourcing, 10 units at wA (1), wB (2), wC (5): at least two workshops each make >= 1
# unit: wA 9 + wB 1 = 11 (one supplier alone: wA 10 = 10).
def test_min_suppliers(solve_checked: SolveChecked) -> None:
    d = doc({"wA": 1, "wB": 2, "wC": 5}, 10)
    d["requests"][0]["min_suppliers_per_step"] = 2
    plan = solve_checked(d, method=EXACT)
    assert plan.objective == pytest.approx(11)
    assert units(plan) == {"wA": 9, "wB": 1}


# Dual sourcing with a minimum lot of 4: wA 6 + wB 4 = 6 + 8 = 14.
def test_min_suppliers_with_min_lot(solve_checked: SolveChecked) -> None:
    d = doc({"wA": 1, "wB": 2, "wC": 5}, 10)
    d["requests"][0].update(min_suppliers_per_step=2, max_suppliers_per_step=2)
    d["components"][0]["routing"][0]["min_lot"] = 4
    plan = solve_checked(d, method=EXACT)
    assert plan.objective == pytest.approx(14)
    assert units(plan) == {"wA": 6, "wB": 4}


# Two steps; only wA can machine, so no second supplier for step 1: nothing is made at
# home and the 10 units are imported at 50 each = 500 (cheaper than unmet at 100).
def test_min_suppliers_unreachable_means_nothing_at_home(solve_checked: SolveChecked) -> None:
    d = doc({"wA": 1, "wB": 2}, 10)
    d["workshops"][0]["capacity"]["machining"] = 100
    d["workshops"][0]["rate"]["machining"] = 1
    d["components"][0]["routing"].append({"process": "machining", "hours": 1})
    d["components"][0]["import"] = {"price": 50}
    d["requests"][0]["min_suppliers_per_step"] = 2
    plan = solve_checked(d, method=EXACT)
    assert plan.objective == pytest.approx(500)
    assert plan.production == []


# Spread 0.4 over wA (1), wB (2), wC (4), 10 units: no workshop more than 4: wA 4 + wB 4
# + wC 2 = 4 + 8 + 8 = 20 (leaving units unmet costs 100 each, so all 10 are made).
def test_max_workshop_share(solve_checked: SolveChecked) -> None:
    d = doc({"wA": 1, "wB": 2, "wC": 4}, 10)
    d["policy"]["max_workshop_share"] = 0.4
    plan = solve_checked(d, method=EXACT)
    assert plan.objective == pytest.approx(20)
    assert units(plan) == {"wA": 4, "wB": 4, "wC": 2}


# The spread counts final-step units over all requests: R (10) and R2 (10) at wA (1) and
# wB (3) with share 0.6: wA at most 12 of 20: wA 12 + wB 8 = 12 + 24 = 36.
def test_max_workshop_share_over_all_requests(solve_checked: SolveChecked) -> None:
    d = doc({"wA": 1, "wB": 3}, 10)
    d["requests"].append({"id": "R2", "component": "c", "quantity": 10})
    d["policy"]["max_workshop_share"] = 0.6
    plan = solve_checked(d, method=EXACT)
    assert plan.objective == pytest.approx(36)
    assert units(plan) == {"wA": 12, "wB": 8}


# Region: wA (1) at L1, wB (3) at L2, at least 0.3 of the domestic units at L2:
# wA 7 + wB 3 = 7 + 9 = 16.
def test_min_location_share(solve_checked: SolveChecked) -> None:
    d = doc({"wA": 1, "wB": 3}, 10, loc={"wB": "L2"})
    d["policy"]["min_location_share"] = {"L2": 0.3}
    plan = solve_checked(d, method=EXACT)
    assert plan.objective == pytest.approx(16)
    assert units(plan) == {"wA": 7, "wB": 3}


# All four at once, 10 units at wA (1, L1), wB (2, L1), wC (4, L2): min_lot 2, two
# suppliers, spread 0.5, L2 at least 0.3: wC >= 3, wA <= 5, and wB takes the rest:
# wA 5 + wB 2 + wC 3 = 5 + 4 + 12 = 21 (wB 0 would need wC 5: 5 + 20 = 25).
@pytest.mark.parametrize(("engine", "formulation"), [
    (Engine.HIGHS, Formulation.REDUCED), (Engine.SCIP, Formulation.REDUCED),
    (Engine.HIGHS, Formulation.DIRECT)])
def test_all_four_together(solve_checked: SolveChecked, engine: Engine,
                           formulation: Formulation) -> None:
    d = doc({"wA": 1, "wB": 2, "wC": 4}, 10, loc={"wC": "L2"})
    d["components"][0]["routing"][0]["min_lot"] = 2
    d["requests"][0]["min_suppliers_per_step"] = 2
    d["policy"].update(max_workshop_share=0.5, min_location_share={"L2": 0.3})
    plan = solve_checked(d, method=EXACT, engine=engine, formulation=formulation)
    assert plan.objective == pytest.approx(21)
    assert units(plan) == {"wA": 5, "wB": 2, "wC": 3}


def _model(sc: Scenario) -> tuple[int, int, bytes]:
    b = build(sc, Derived(sc))
    return b.model.num_vars, b.model.num_rows, b.model.to_proto().SerializeToString()


def test_neutral_values_build_the_version_1_model() -> None:
    """min_lot 0 or 1, min_suppliers_per_step 1, max_workshop_share 1 and shares of 0 bind
    nothing, so the model is the version 1 model byte for byte."""
    base = doc({"wA": 1, "wB": 3}, 12, capacity={"wA": 10}, loc={"wB": "L2"})
    neutral = copy.deepcopy(base)
    neutral["components"][0]["routing"][0]["min_lot"] = 1
    neutral["requests"][0]["min_suppliers_per_step"] = 1
    neutral["policy"].update(max_workshop_share=1.0, min_location_share={"L2": 0.0})
    neutral["offers"] = [{"workshop": "wA", "component": "c", "step": 0, "min_lot": 0}]
    without_offer = copy.deepcopy(base)
    without_offer["offers"] = [{"workshop": "wA", "component": "c", "step": 0}]
    assert _model(scenario_from_dict(neutral)) == _model(scenario_from_dict(without_offer))


# --------------------------------------------------------------------------------------
# The constructive plan (the LP-guided method's path for large scenarios, forced here as
# in tests/solvers/test_greedy.py: no full model, no one-period LP to guide it).


@pytest.fixture(name="unguided")
def unguided_fixture(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    import solvers.lp_guided as lp_guided
    import solvers.restricted as restricted

    monkeypatch.setattr(solver_model, "FULL_LP_MAX_COLUMNS", 0)
    monkeypatch.setattr(lp_guided, "ONE_PERIOD_MAX_COLUMNS", 0)
    # Nor the neighbourhood search after it: what is asserted is the constructive plan.
    monkeypatch.setattr(restricted, "MAX_COLUMNS", 0)
    return {"method": Method.LP_GUIDED, "time_limit": 30}


# The cheapest-first plan puts 10 at wA and 2 at wB, below wB's lot of 5: the request is
# placed again without wB at that step: wA 10 and 2 unmet = 10 + 200 = 210.
def test_constructive_plan_keeps_to_min_lot(solve_checked: SolveChecked,
                                            unguided: dict[str, Any]) -> None:
    plan = solve_checked(lot_case(), **unguided)
    assert plan.solver["plan"] == "constructive"
    assert plan.objective == pytest.approx(210)
    assert units(plan) == {"wA": 10}


# Dual sourcing: no workshop makes more than half of the 10: wA 5 + wB 5 = 5 + 10 = 15.
def test_constructive_plan_keeps_to_min_suppliers(solve_checked: SolveChecked,
                                                  unguided: dict[str, Any]) -> None:
    d = doc({"wA": 1, "wB": 2, "wC": 5}, 10)
    d["requests"][0]["min_suppliers_per_step"] = 2
    plan = solve_checked(d, **unguided)
    assert plan.objective == pytest.approx(15)
    assert units(plan) == {"wA": 5, "wB": 5}


# Spread 0.4: every workshop capped at 4 of the 10: wA 4 + wB 4 + wC 2 = 20, the optimum.
def test_constructive_plan_keeps_to_the_spread(solve_checked: SolveChecked,
                                               unguided: dict[str, Any]) -> None:
    d = doc({"wA": 1, "wB": 2, "wC": 4}, 10)
    d["policy"]["max_workshop_share"] = 0.4
    plan = solve_checked(d, **unguided)
    assert plan.objective == pytest.approx(20)


def _regions_case(wb_hours: float = 100) -> Doc:
    """R (10, no import) and R2 (10, imported at 5) at wA (rate 1, L1) or wB (rate 30,
    L2, `wb_hours` of room); L2 makes at least 0.3 of the domestic units."""
    d = doc({"wA": 1, "wB": 30}, 10, loc={"wB": "L2"}, capacity={"wB": wb_hours})
    d["components"][0]["import"] = {"price": 5}
    d["requests"].append({"id": "R2", "component": "c", "quantity": 10})
    d["requests"][0]["allow_import"] = False
    d["policy"]["min_location_share"] = {"L2": 0.3}
    return d


# Region L2 at least 0.3: cheapest first, R and R2 are both made at wA (L1); L2 makes
# nothing, so the request that loses least by it, R2 (regret 5 - 1 against 100 - 1), is
# made again: the 6 units L2 lacks of 0.3 * 20 with the final step at wB, 4 at wA:
# R 10 + R2 6 * 30 + 4 = 194, a plan that meets the share. (Taking R2 and then R back,
# as the constructive plan did before it moved work, cost 10 unmet at 100 + 10 imported
# at 5 = 1050.) The optimum imports R2 and moves 3 of R: 7 + 3 * 30 + 10 * 5 = 147.
def test_constructive_plan_keeps_to_regional_shares(solve_checked: SolveChecked,
                                                    unguided: dict[str, Any]) -> None:
    plan = solve_checked(_regions_case(), **unguided)
    assert plan.solver["plan"] == "constructive"
    assert plan.objective == pytest.approx(194)
    assert units(plan) == {"wA": 14, "wB": 6}
    assert solve_checked(_regions_case(), method=EXACT).objective == pytest.approx(147)


# As above with 2 hours at wB: R2 made again gets 2 of its 6 units at L2 (2 of 20, short),
# R made again none (wB is full): both are then taken back, R2 imported and R unmet:
# 10 * 100 + 10 * 5 = 1050, a plan with no domestic units, which meets the share.
def test_constructive_plan_takes_back_what_no_region_can_make(
        solve_checked: SolveChecked, unguided: dict[str, Any]) -> None:
    plan = solve_checked(_regions_case(wb_hours=2), **unguided)
    assert plan.solver["plan"] == "constructive"
    assert plan.objective == pytest.approx(1050)
    assert units(plan) == {}


# --------------------------------------------------------------------------------------
# Infeasible scenarios: the diagnosis names the rule and the best value reachable.

ALL_HOME = "(with policy.min_domestic_share 1 (at least 10 of the 10 requested units made " \
           "at home))"


# Three workshops can make final steps; a spread of 0.3 needs ceil(1 / 0.3) = 4.
def test_spread_needs_more_workshops_than_are_eligible(solve_checked: SolveChecked) -> None:
    d = doc({"wA": 1, "wB": 2, "wC": 4}, 10)
    d["policy"].update(max_workshop_share=0.3, min_domestic_share=1.0)
    plan = solve_checked(d, method=EXACT)
    assert plan.status.value == "infeasible"
    assert plan.diagnosis == (
        "policy.max_workshop_share 0.3 needs 4 workshops making final steps; 3 are "
        "eligible; the smallest share reachable is 1/3 = 0.3333 " + ALL_HOME)


def test_region_without_an_eligible_workshop(solve_checked: SolveChecked) -> None:
    d = doc({"wA": 1, "wB": 2}, 10)
    d["policy"].update(min_location_share={"L2": 0.2}, min_domestic_share=1.0)
    plan = solve_checked(d, method=EXACT)
    assert plan.diagnosis == (
        "policy.min_location_share.L2 0.2 needs final steps made at L2, but no workshop "
        "there is eligible for any final step, so the share reachable is 0 " + ALL_HOME)


# wA has room for 2 units only: with all 10 made at home, wB and wC make at least 8, so
# one of them makes at least 4: the smallest spread with a plan is 0.4 (wA 2, wB 4, wC 4),
# found by bisection between 0.34 and 1 to within (1 - 0.34) / 2^6 = 0.0103.
def test_spread_best_reachable_value(solve_checked: SolveChecked) -> None:
    d = doc({"wA": 1, "wB": 2, "wC": 4}, 10, capacity={"wA": 2})
    d["policy"].update(max_workshop_share=0.34, min_domestic_share=1.0)
    plan = solve_checked(d, method=EXACT)
    assert plan.diagnosis is not None
    head = "policy.max_workshop_share 0.34 cannot be met: the smallest share with a plan " \
           "is about "
    assert plan.diagnosis.startswith(head)
    best = float(plan.diagnosis[len(head):].split()[0])
    assert 0.4 <= best <= 0.4 + 0.0103


def test_min_lot_too_large_for_the_domestic_share(solve_checked: SolveChecked) -> None:
    d = lot_case()
    d["components"][0]["routing"][0]["min_lot"] = 13
    d["policy"]["min_domestic_share"] = 0.5
    plan = solve_checked(d, method=EXACT)
    assert plan.diagnosis == (
        "the minimum lots (min_lot) cannot be met: without them a plan exists (with "
        "policy.min_domestic_share 0.5 (at least 6 of the 12 requested units made at home))")


# --------------------------------------------------------------------------------------
# Unmet rows name the rule that keeps their units from being made.


def _reason(plan: Plan) -> tuple[int, str]:
    assert len(plan.unmet) == 1
    return plan.unmet[0].quantity, plan.unmet[0].reason


def test_unmet_reason_lot_at_the_only_workshop(solve_checked: SolveChecked) -> None:
    d = doc({"wA": 1}, 150)
    d["components"][0]["routing"][0]["min_lot"] = 200
    d["workshops"][0]["capacity"]["casting"] = 1000
    plan = solve_checked(d, method=EXACT)
    assert _reason(plan) == (150, "min_lot 200 at the only eligible workshop for step 0 "
                                  "(casting) (wA), 150 units requested")


def test_unmet_reason_lot_at_every_workshop(solve_checked: SolveChecked) -> None:
    d = lot_case()
    d["components"][0]["routing"][0]["min_lot"] = 13
    assert _reason(solve_checked(d, method=EXACT)) == (
        12, "min_lot of at least 13 at all 2 eligible workshops for step 0 (casting), 12 "
            "units requested")


# wA (room for 10) makes 10; wB has room for 3, fewer than its lot of 5: 2 units unmet.
def test_unmet_reason_lot_at_the_margin(solve_checked: SolveChecked) -> None:
    d = lot_case()
    d["workshops"][1]["capacity"]["casting"] = 3
    plan = solve_checked(d, method=EXACT)
    assert plan.objective == pytest.approx(10 + 200)
    assert _reason(plan) == (2, "min_lot: the 2 unit(s) left are fewer than the minimum "
                                "lot (5) of every eligible workshop with room for step 0 "
                                "(casting) (wB)")


def test_unmet_reason_sourcing_floor(solve_checked: SolveChecked) -> None:
    d = doc({"wA": 1, "wB": 2}, 10)
    d["requests"][0]["min_suppliers_per_step"] = 3
    assert _reason(solve_checked(d, method=EXACT)) == (
        10, "min_suppliers_per_step 3: step 0 (casting) has only 2 eligible workshop(s) "
            "(wA, wB), so none of it can be made at home")


# Spread 0.5 with wB's room at 2: wA may make no more than wB, so 2 + 2 are made and 6
# left unmet: 2 + 4 + 600 = 606.
def test_unmet_reason_spread(solve_checked: SolveChecked) -> None:
    d = doc({"wA": 1, "wB": 2}, 10, capacity={"wB": 2})
    d["policy"]["max_workshop_share"] = 0.5
    plan = solve_checked(d, method=EXACT)
    assert plan.objective == pytest.approx(606)
    assert _reason(plan) == (6, "max_workshop_share 0.5: every eligible workshop with room "
                                "for the final step (wA) already makes its share of the 4 "
                                "domestic units")


# L2 must make half; its only workshop wB has room for 3: 3 + 3 made, 4 unmet:
# 3 + 9 + 400 = 412.
def test_unmet_reason_regional_share(solve_checked: SolveChecked) -> None:
    d = doc({"wA": 1, "wB": 3}, 10, capacity={"wB": 3}, loc={"wB": "L2"})
    d["policy"]["min_location_share"] = {"L2": 0.5}
    plan = solve_checked(d, method=EXACT)
    assert plan.objective == pytest.approx(412)
    assert _reason(plan) == (4, "min_location_share L2 0.5: 3 of the 6 domestic units are "
                                "made at L2; one more unit elsewhere needs more there, and "
                                "no eligible workshop at L2 has room")
