"""One tiny hand-built scenario per constraint family and cost term (SPEC sections 3 to 7).

Every expected objective is worked out by hand in the comment above its test, from the
SPEC, never copied from a solver run. Distances come from `routes` in whole km, so every
number is exact. All plans go through the checker (`solve_checked`, tests/conftest.py).

Unless a test says otherwise: one period, no transport cost (cost_per_kg_km 0), no import,
unmet_penalty 1e9 (so every unit is made when it can be), hours per unit 1, so that the
unit cost of a workshop is its rate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from models import Plan, load_scenario
from solvers import Engine

Doc = dict[str, Any]
SolveChecked = Callable[..., Plan]

TERMS = ("production", "material", "transport", "tooling", "engagement", "import",
         "tardiness", "unmet")
BOTH_ENGINES = pytest.mark.parametrize("engine", [Engine.HIGHS, Engine.SCIP],
                                       ids=["highs", "scip"])


# --------------------------------------------------------------------------------------
# Building blocks


def scenario(name: str, *, workshops: list[Doc], components: list[Doc],
             requests: list[Doc], periods: int = 1, **extra: Any) -> Doc:
    """A scenario document over locations L1, L2, L3 and D (no routes unless given)."""
    doc: Doc = {
        "name": name,
        "horizon": {"periods": periods},
        "locations": [{"id": loc} for loc in ("L1", "L2", "L3", "D")],
        "workshops": workshops,
        "components": components,
        "requests": requests,
    }
    doc.update(extra)
    return doc


def workshop(wid: str, *, loc: str = "L1", **procs: tuple[float, float]) -> Doc:
    """A workshop with `process=(capacity hours, rate)` for each process."""
    return {"id": wid, "location": loc,
            "capacity": {p: c for p, (c, _r) in procs.items()},
            "rate": {p: r for p, (_c, r) in procs.items()}}


def step(process: str, hours: float = 1, **extra: Any) -> Doc:
    return {"process": process, "hours": hours, **extra}


def component(cid: str, *steps: Doc, **extra: Any) -> Doc:
    return {"id": cid, "routing": list(steps), **extra}


def request(rid: str, comp: str, quantity: int, **extra: Any) -> Doc:
    return {"id": rid, "component": comp, "quantity": quantity, **extra}


def assert_cost(plan: Plan, **terms: float) -> None:
    """All eight cost terms (those not named are 0) and the objective, exactly."""
    assert plan.cost is not None and plan.objective is not None, plan.status
    expected = {t: float(terms.pop(t, 0.0)) for t in TERMS}
    assert not terms, f"unknown cost terms {sorted(terms)}"
    got = plan.cost.as_dict()
    for t in TERMS:
        assert got[t] == pytest.approx(expected[t], rel=1e-9, abs=1e-9), (t, got)
    assert plan.objective == pytest.approx(sum(expected.values()), rel=1e-9, abs=1e-9)


def made(plan: Plan) -> dict[tuple[str, int, str], int]:
    """Units per (request, step, workshop), summed over periods."""
    out: dict[tuple[str, int, str], int] = defaultdict(int)
    for row in plan.production:
        out[(row.request, row.step, row.workshop)] += row.quantity
    return dict(out)


def per_period(plan: Plan, request_id: str, step_index: int) -> dict[int, int]:
    out: dict[int, int] = defaultdict(int)
    for row in plan.production:
        if row.request == request_id and row.step == step_index:
            out[row.period] += row.quantity
    return dict(out)


def shipments(plan: Plan) -> list[tuple[str, int, str, str, int]]:
    return sorted((s.request, s.step, s.from_, s.to, s.quantity) for s in plan.shipments)


def imports(plan: Plan) -> dict[str, int]:
    return {row.request: row.quantity for row in plan.imports}


def unmet(plan: Plan) -> dict[str, int]:
    return {row.request: row.quantity for row in plan.unmet}


def reason(plan: Plan, request_id: str) -> str:
    [row] = [u for u in plan.unmet if u.request == request_id]
    return row.reason


def assert_optimal(plan: Plan) -> None:
    assert plan.status.value == "optimal", plan.status


# --------------------------------------------------------------------------------------
# 5.1 Eligibility


# ws-cheap (rate 10, no certificate) and ws-iso (rate 30, ISO9001) can both machine. R1
# (5 units) requires ISO9001, so only ws-iso may do it: 5 * 30 = 150. Without the
# requirement ws-cheap makes them: 5 * 10 = 50.
def test_certification_required_excludes_cheaper_uncertified(
        solve_checked: SolveChecked) -> None:
    iso = workshop("ws-iso", machining=(100, 30)) | {"certifications": ["ISO9001"]}
    doc = scenario("cert", workshops=[workshop("ws-cheap", machining=(100, 10)), iso],
                   components=[component("bracket", step("machining"))],
                   requests=[request("R1", "bracket", 5, requires=["ISO9001"])])
    plan = solve_checked(doc)
    assert_optimal(plan)
    assert made(plan) == {("R1", 0, "ws-iso"): 5}
    assert_cost(plan, production=150)

    del doc["requests"][0]["requires"]
    plan = solve_checked(doc)
    assert made(plan) == {("R1", 0, "ws-cheap"): 5}
    assert_cost(plan, production=50)


# offers_only: ws-a (rate 10) has no offer, so only ws-b may do the step, at its offer's
# unit price 40 (not its rate 50 * 1 h): 4 * 40 = 160.
def test_offers_only_limits_to_workshop_with_offer(solve_checked: SolveChecked) -> None:
    doc = scenario(
        "offers-only",
        workshops=[workshop("ws-a", machining=(100, 10)), workshop("ws-b", machining=(100, 50))],
        components=[component("bracket", step("machining"), offers_only=True)],
        offers=[{"workshop": "ws-b", "component": "bracket", "step": 0, "unit_price": 40,
                 "hours": 1}],
        requests=[request("R1", "bracket", 4)],
    )
    plan = solve_checked(doc)
    assert_optimal(plan)
    assert made(plan) == {("R1", 0, "ws-b"): 4}
    assert_cost(plan, production=160)


# Release: 3 periods, machining capacity 10, 10, 2 hours. R1 (3 units, release 2, due 2)
# may only run in period 2, where 2 units fit: 2 * 10 = 20 plus 1 unit unmet at 1000.
# Objective 1020 (periods 0 and 1 would have room for all three).
def test_release_nothing_before_release_period(solve_checked: SolveChecked) -> None:
    ws = {"id": "ws", "location": "L1", "capacity_by_period": {"machining": [10, 10, 2]},
          "rate": {"machining": 10}}
    doc = scenario("release", periods=3, workshops=[ws],
                   components=[component("bracket", step("machining"))],
                   requests=[request("R1", "bracket", 3, release=2, due=2,
                                     unmet_penalty=1000)])
    plan = solve_checked(doc)
    assert_optimal(plan)
    assert per_period(plan, "R1", 0) == {2: 2}
    assert unmet(plan) == {"R1": 1}
    assert "capacity of process 'machining'" in reason(plan, "R1")
    assert_cost(plan, production=20, unmet=1000)


# Casting needs 2 kg of steel per unit from mc (at L2, 5 per kg). ws-far (rate 10) is at
# L3, which no route reaches, so it is not eligible; ws-near (rate 50, at L1, 10 km from
# L2) makes the 3 units: production 3 * 50 = 150, material 3 * 2 * 5 = 30 (transport is
# free here). Objective 180.
def test_material_step_without_reachable_center_is_ineligible(
        solve_checked: SolveChecked) -> None:
    doc = scenario(
        "material-reach",
        workshops=[workshop("ws-far", loc="L3", casting=(100, 10)),
                   workshop("ws-near", loc="L1", casting=(100, 50))],
        routes=[{"from": "L1", "to": "L2", "km": 10}],
        materials=[{"id": "steel"}],
        material_centers=[{"id": "mc", "location": "L2",
                           "materials": {"steel": {"stock_kg": 1000, "price_per_kg": 5}}}],
        components=[component("drum", step("casting", material="steel", material_kg=2))],
        requests=[request("R1", "drum", 3)],
    )
    plan = solve_checked(doc)
    assert_optimal(plan)
    assert made(plan) == {("R1", 0, "ws-near"): 3}
    assert [(m.center, m.workshop, m.material, m.kg) for m in plan.materials] == [
        ("mc", "ws-near", "steel", pytest.approx(6.0, rel=1e-9))]
    assert_cost(plan, production=150, material=30)


# --------------------------------------------------------------------------------------
# 5.2 Capacity


# 2 h per unit. ws-a (6 h, rate 10: 20 per unit) fits 3 units; ws-b (rate 20: 40 per unit)
# makes the other 2: 3 * 20 + 2 * 40 = 140.
def test_capacity_forces_split_across_workshops(solve_checked: SolveChecked) -> None:
    doc = scenario(
        "capacity-split",
        workshops=[workshop("ws-a", machining=(6, 10)), workshop("ws-b", machining=(100, 20))],
        components=[component("bracket", step("machining", hours=2))],
        requests=[request("R1", "bracket", 5)],
    )
    plan = solve_checked(doc)
    assert_optimal(plan)
    assert made(plan) == {("R1", 0, "ws-a"): 3, ("R1", 0, "ws-b"): 2}
    assert_cost(plan, production=140)


# Capacity is per process, summed over steps and requests. Component "twice" has two
# machining steps of 1 h; ws has 5 machining hours (rate 10). R1 (unmet 100) needs 2 units
# of "twice" (4 h), R2 (unmet 300) needs 2 units of "once" (2 h): 6 h > 5 h. With a units
# of R1 and b of R2 made (2a + b <= 5), the cost is 20a + 10b + 100(2 - a) + 300(2 - b):
# a=2, b=1 gives 350; a=1, b=2 gives 20 + 20 + 100 = 140, the optimum (production 40,
# unmet 100). R1's unit does both steps at ws, so it ships ws -> ws.
def test_capacity_shared_by_steps_and_requests(solve_checked: SolveChecked) -> None:
    doc = scenario(
        "capacity-shared",
        workshops=[workshop("ws", machining=(5, 10))],
        components=[component("twice", step("machining"), step("machining")),
                    component("once", step("machining"))],
        requests=[request("R1", "twice", 2, unmet_penalty=100),
                  request("R2", "once", 2, unmet_penalty=300)],
    )
    plan = solve_checked(doc)
    assert_optimal(plan)
    assert made(plan) == {("R1", 0, "ws"): 1, ("R1", 1, "ws"): 1, ("R2", 0, "ws"): 2}
    assert shipments(plan) == [("R1", 0, "ws", "ws", 1)]
    assert unmet(plan) == {"R1": 1}
    assert_cost(plan, production=40, unmet=100)


# An offer's hours replace the step's hours in capacity: ws-a quotes 10 per unit at 0.5 h
# and has 2 h (4 units); ws-b makes the rest at 20 per unit (1 h). 6 units: 4 * 10 + 2 * 20
# = 80 (with the step's 1 h ws-a would fit only 2: 2 * 10 + 4 * 20 = 100).
def test_offer_hours_used_for_capacity(solve_checked: SolveChecked) -> None:
    doc = scenario(
        "offer-hours",
        workshops=[workshop("ws-a", machining=(2, 50)), workshop("ws-b", machining=(100, 20))],
        components=[component("bracket", step("machining"))],
        offers=[{"workshop": "ws-a", "component": "bracket", "step": 0, "unit_price": 10,
                 "hours": 0.5}],
        requests=[request("R1", "bracket", 6)],
    )
    plan = solve_checked(doc)
    assert_optimal(plan)
    assert made(plan) == {("R1", 0, "ws-a"): 4, ("R1", 0, "ws-b"): 2}
    assert_cost(plan, production=80)


# One workshop, rate 10, machining capacity by period 10, 0 (holiday), 10 hours. R1 needs
# 15 units. Due 1: 10 on time in period 0, none in period 1, 5 in period 2 one period late
# at 7: production 150, tardiness 5 * 7 = 35 (leaving 5 unmet would cost 5000).
# Due 2: nothing in period 1 and nothing late (any split of 15 over periods 0 and 2 with
# at most 10 in each): 150.
def holiday_doc(due: int) -> Doc:
    ws = {"id": "ws", "location": "L1", "capacity": {"machining": 10},
          "capacity_by_period": {"machining": [10, 0, 10]}, "rate": {"machining": 10}}
    return scenario("holiday", periods=3, workshops=[ws],
                    components=[component("bracket", step("machining"))],
                    requests=[request("R1", "bracket", 15, due=due, late_penalty=7,
                                      unmet_penalty=1000)])


def test_capacity_by_period_holiday_makes_late(solve_checked: SolveChecked) -> None:
    plan = solve_checked(holiday_doc(1))
    assert_optimal(plan)
    assert per_period(plan, "R1", 0) == {0: 10, 2: 5}
    assert_cost(plan, production=150, tardiness=35)


def test_capacity_by_period_holiday_on_time(solve_checked: SolveChecked) -> None:
    plan = solve_checked(holiday_doc(2))
    assert_optimal(plan)
    periods = per_period(plan, "R1", 0)
    assert set(periods) <= {0, 2} and sum(periods.values()) == 15
    assert max(periods.values()) <= 10
    assert_cost(plan, production=150)


# --------------------------------------------------------------------------------------
# 5.3 Flow between steps, with transport


# Hub: casting then machining, 2 kg, transport 1 per kg km, L1-L2 = 10 km, so a unit moved
# between the locations costs 1 * 2 * 10 = 20. ws-a (L1): casting 10, machining 14 (room
# for 2 units); ws-b (L2): machining 10, no casting. Casting is at ws-a. Machining at ws-a
# costs 14, at ws-b 10 + 20 = 30: so 2 units stay at ws-a and the third goes to ws-b
# (without transport all three would go to ws-b). Production 3*10 + 2*14 + 10 = 68,
# transport 20, objective 88. Shipments: ws-a -> ws-a 2 (from == to), ws-a -> ws-b 1.
@BOTH_ENGINES
def test_flow_same_location_saves_transport(solve_checked: SolveChecked,
                                            engine: Engine) -> None:
    doc = scenario(
        "flow",
        transport={"cost_per_kg_km": 1},
        routes=[{"from": "L1", "to": "L2", "km": 10}],
        workshops=[workshop("ws-a", loc="L1", casting=(100, 10), machining=(2, 14)),
                   workshop("ws-b", loc="L2", machining=(100, 10))],
        components=[component("hub", step("casting"), step("machining"), weight_kg=2)],
        requests=[request("R1", "hub", 3)],
    )
    plan = solve_checked(doc, engine=engine)
    assert_optimal(plan)
    assert made(plan) == {("R1", 0, "ws-a"): 3, ("R1", 1, "ws-a"): 2, ("R1", 1, "ws-b"): 1}
    assert shipments(plan) == [("R1", 0, "ws-a", "ws-a", 2), ("R1", 0, "ws-a", "ws-b", 1)]
    assert_cost(plan, production=68, transport=20)


# --------------------------------------------------------------------------------------
# 5.4 Precedence with step_lag_periods = 1

LAG_WORKSHOP = workshop("ws", casting=(100, 10), machining=(100, 10))
LAG_COMPONENT = component("hub", step("casting"), step("machining"))


def lag_doc(periods: int, **req: Any) -> Doc:
    return scenario("lag", periods=periods, policy={"step_lag_periods": 1},
                    workshops=[LAG_WORKSHOP], components=[LAG_COMPONENT],
                    requests=[request("R1", "hub", 4, **req)])


# 2 periods: casting can only be in period 0 and machining only in period 1 (one period
# after). 4 units * (10 + 10) = 80.
def test_lag_puts_next_step_one_period_later(solve_checked: SolveChecked) -> None:
    plan = solve_checked(lag_doc(2))
    assert_optimal(plan)
    assert per_period(plan, "R1", 0) == {0: 4}
    assert per_period(plan, "R1", 1) == {1: 4}
    assert_cost(plan, production=80)


# 3 periods, release 1, due 1: casting in period 1, machining in period 2, one period late
# at 5 per unit: production 80, tardiness 4 * 5 = 20.
def test_lag_makes_request_late(solve_checked: SolveChecked) -> None:
    plan = solve_checked(lag_doc(3, release=1, due=1, late_penalty=5))
    assert_optimal(plan)
    assert per_period(plan, "R1", 0) == {1: 4}
    assert per_period(plan, "R1", 1) == {2: 4}
    assert_cost(plan, production=80, tardiness=20)


# 2 periods, release 1: casting in period 1 would need machining in period 2, past the
# horizon. All 4 units unmet at 1000: 4000.
def test_lag_horizon_too_short_leaves_demand_unmet(solve_checked: SolveChecked) -> None:
    plan = solve_checked(lag_doc(2, release=1, unmet_penalty=1000))
    assert_optimal(plan)
    assert plan.production == []
    assert unmet(plan) == {"R1": 4}
    assert "horizon" in reason(plan, "R1")
    assert_cost(plan, unmet=4000)


# --------------------------------------------------------------------------------------
# 5.5 Demand: unmet and its reasons


# Making costs 100 per unit, leaving one 60: 3 * 60 = 180, nothing made.
def test_unmet_when_cheaper_than_making(solve_checked: SolveChecked) -> None:
    doc = scenario("unmet-cheaper", workshops=[workshop("ws", machining=(100, 100))],
                   components=[component("bracket", step("machining"))],
                   requests=[request("R1", "bracket", 3, unmet_penalty=60)])
    plan = solve_checked(doc)
    assert_optimal(plan)
    assert plan.production == []
    assert unmet(plan) == {"R1": 3}
    assert "cheaper to leave it" in reason(plan, "R1")
    assert_cost(plan, unmet=180)


# R1 requires IATF16949, which no workshop holds: 2 units unmet at 1000 = 2000. R2 needs
# forging, which no workshop has capacity for: 3 units at 1000 = 3000. Objective 5000.
def test_unmet_when_no_eligible_workshop(solve_checked: SolveChecked) -> None:
    doc = scenario(
        "unmet-none",
        workshops=[workshop("ws", machining=(100, 10))],
        components=[component("bracket", step("machining")),
                    component("flange", step("forging"))],
        requests=[request("R1", "bracket", 2, requires=["IATF16949"], unmet_penalty=1000),
                  request("R2", "flange", 3, unmet_penalty=1000)],
    )
    plan = solve_checked(doc)
    assert_optimal(plan)
    assert plan.production == []
    assert unmet(plan) == {"R1": 2, "R2": 3}
    assert "no certified workshop" in reason(plan, "R1")
    assert "no eligible workshop" in reason(plan, "R2")
    assert_cost(plan, unmet=5000)


# 3 hours of machining for 5 units: 3 made at 10, 2 unmet at 1000: 30 + 2000 = 2030.
def test_unmet_when_capacity_short(solve_checked: SolveChecked) -> None:
    doc = scenario("unmet-capacity", workshops=[workshop("ws", machining=(3, 10))],
                   components=[component("bracket", step("machining"))],
                   requests=[request("R1", "bracket", 5, unmet_penalty=1000)])
    plan = solve_checked(doc)
    assert_optimal(plan)
    assert made(plan) == {("R1", 0, "ws"): 3}
    assert unmet(plan) == {"R1": 2}
    assert "capacity of process" in reason(plan, "R1")
    assert_cost(plan, production=30, unmet=2000)


# --------------------------------------------------------------------------------------
# 5.5 Import with tariff and lead time


def import_doc(due: int, late_penalty: float = 3, **req: Any) -> Doc:
    # Import price 100 with tariff 0.25: 125 per unit, lead time 2 periods. Making costs
    # 150 per unit, on time in any period.
    return scenario(
        "import", periods=4,
        policy={"import_tariff": 0.25, "late_penalty": late_penalty},
        workshops=[workshop("ws", machining=(100, 150))],
        components=[component("bracket", step("machining"),
                              **{"import": {"price": 100, "lead_periods": 2}})],
        requests=[request("R1", "bracket", 4, due=due, **req)],
    )


# 4 units imported at 125 = 500; each is max(0, 2 - due) periods late at 3:
# due 0: 4 * 3 * 2 = 24; due 1: 12; due 3: 0. Making would cost 4 * 150 = 600.
@pytest.mark.parametrize(("due", "tardiness"), [(0, 24), (1, 12), (3, 0)])
def test_import_chosen_when_cheaper(solve_checked: SolveChecked, due: int,
                                    tardiness: float) -> None:
    plan = solve_checked(import_doc(due))
    assert_optimal(plan)
    assert plan.production == []
    assert imports(plan) == {"R1": 4}
    assert_cost(plan, **{"import": 500, "tardiness": tardiness})
    assert plan.kpis["domestic_share"] == 0


# With a late penalty of 20 an import due in period 0 costs 125 + 2 * 20 = 165 > 150: all
# 4 are made at home, 600.
def test_import_lead_time_penalty_makes_home_cheaper(solve_checked: SolveChecked) -> None:
    plan = solve_checked(import_doc(0, late_penalty=20))
    assert_optimal(plan)
    assert plan.imports == []
    assert made(plan) == {("R1", 0, "ws"): 4}
    assert_cost(plan, production=600)


# allow_import false: the 4 units are made at 150: 600.
def test_allow_import_false_forbids_import(solve_checked: SolveChecked) -> None:
    plan = solve_checked(import_doc(3, allow_import=False))
    assert_optimal(plan)
    assert plan.imports == []
    assert made(plan) == {("R1", 0, "ws"): 4}
    assert_cost(plan, production=600)


# --------------------------------------------------------------------------------------
# 5.6 Materials


# 5 units * 2 kg = 10 kg of steel at 5 per kg; transport 1 per kg km. mc-near (10 km) holds
# only 6 kg, mc-far (30 km) the rest: material 10 * 5 = 50, transport 6 * 10 + 4 * 30 =
# 180, production 5 * 10 = 50. Objective 280.
def test_material_stock_limit_forces_second_center(solve_checked: SolveChecked) -> None:
    doc = scenario(
        "material-stock",
        transport={"cost_per_kg_km": 1},
        routes=[{"from": "L1", "to": "L2", "km": 10}, {"from": "L1", "to": "L3", "km": 30}],
        materials=[{"id": "steel"}],
        material_centers=[
            {"id": "mc-near", "location": "L2",
             "materials": {"steel": {"stock_kg": 6, "price_per_kg": 5}}},
            {"id": "mc-far", "location": "L3",
             "materials": {"steel": {"stock_kg": 1000, "price_per_kg": 5}}},
        ],
        workshops=[workshop("ws", loc="L1", casting=(100, 10))],
        components=[component("drum", step("casting", material="steel", material_kg=2))],
        requests=[request("R1", "drum", 5)],
    )
    plan = solve_checked(doc)
    assert_optimal(plan)
    kg = {m.center: m.kg for m in plan.materials}
    assert kg == {"mc-near": pytest.approx(6, rel=1e-9), "mc-far": pytest.approx(4, rel=1e-9)}
    assert_cost(plan, production=50, material=50, transport=180)


# The only center holds 7 kg; 2 kg per unit: 3 units (6 kg) can be made, at 10 + 2 * 5 =
# 20 each; the other 2 are unmet at 1000: 60 + 2000 = 2060 (production 30, material 30).
def test_material_stock_short_leaves_unmet(solve_checked: SolveChecked) -> None:
    doc = scenario(
        "material-short",
        routes=[{"from": "L1", "to": "L2", "km": 10}],
        materials=[{"id": "steel"}],
        material_centers=[{"id": "mc", "location": "L2",
                           "materials": {"steel": {"stock_kg": 7, "price_per_kg": 5}}}],
        workshops=[workshop("ws", loc="L1", casting=(100, 10))],
        components=[component("drum", step("casting", material="steel", material_kg=2))],
        requests=[request("R1", "drum", 5, unmet_penalty=1000)],
    )
    plan = solve_checked(doc)
    assert_optimal(plan)
    assert made(plan) == {("R1", 0, "ws"): 3}
    assert {m.center: m.kg for m in plan.materials} == {"mc": pytest.approx(6, rel=1e-9)}
    assert unmet(plan) == {"R1": 2}
    assert "material 'steel' short" in reason(plan, "R1")
    assert_cost(plan, production=30, material=30, unmet=2000)


def local_content_doc(min_local_content: float) -> Doc:
    # 2 units, 5 kg of steel each (10 kg), production 2 * 30 = 60. Steel from mc-dom at 10
    # per kg (domestic) or mc-imp at 4 per kg (domestic: false); transport is free.
    return scenario(
        "material-foreign",
        policy={"min_local_content": min_local_content},
        routes=[{"from": "L1", "to": "L2", "km": 10}],
        materials=[{"id": "steel"}],
        material_centers=[
            {"id": "mc-dom", "location": "L2",
             "materials": {"steel": {"stock_kg": 1000, "price_per_kg": 10}}},
            {"id": "mc-imp", "location": "L2",
             "materials": {"steel": {"stock_kg": 1000, "price_per_kg": 4, "domestic": False}}},
        ],
        workshops=[workshop("ws", loc="L1", casting=(100, 30))],
        components=[component("drum", step("casting", material="steel", material_kg=5))],
        requests=[request("R1", "drum", 2)],
    )


# Without a policy all 10 kg come from mc-imp: 60 + 40 = 100, foreign 40, local content
# 1 - 40/100 = 0.6.
def test_imported_material_counts_as_foreign(solve_checked: SolveChecked) -> None:
    plan = solve_checked(local_content_doc(0.0))
    assert_optimal(plan)
    assert {m.center: m.kg for m in plan.materials} == {"mc-imp": pytest.approx(10, rel=1e-9)}
    assert_cost(plan, production=60, material=40)
    assert plan.kpis["local_content"] == pytest.approx(0.6, rel=1e-9)


# min_local_content 0.7 with a kg from mc-imp, 10 - a from mc-dom: foreign 4a, total
# 60 + 4a + 10(10 - a) = 160 - 6a; 4a <= 0.3(160 - 6a) gives a <= 48/5.8 = 240/29 kg.
# Cost 160 - 6a falls with a, so a = 240/29: material 100 - 1440/29 = 1460/29, objective
# 60 + 1460/29 = 3200/29 (about 110.345), local content exactly 0.7.
def test_min_local_content_limits_imported_material(solve_checked: SolveChecked) -> None:
    plan = solve_checked(local_content_doc(0.7))
    assert_optimal(plan)
    kg = {m.center: m.kg for m in plan.materials}
    assert kg == {"mc-imp": pytest.approx(240 / 29, rel=1e-9),
                  "mc-dom": pytest.approx(10 - 240 / 29, rel=1e-9)}
    assert_cost(plan, production=60, material=1460 / 29)
    assert plan.kpis["local_content"] == pytest.approx(0.7, rel=1e-9)


# --------------------------------------------------------------------------------------
# 5.7 Sourcing


def sourcing_doc(cap_b: float, **extra: Any) -> Doc:
    # ws-a: 3 units at 10; ws-b: cap_b units at 12. R1: 5 units, one supplier per step.
    comp = component("bracket", step("machining"), **extra.pop("component", {}))
    return scenario(
        "sourcing",
        workshops=[workshop("ws-a", machining=(3, 10)), workshop("ws-b", machining=(cap_b, 12))],
        components=[comp],
        requests=[request("R1", "bracket", 5, max_suppliers_per_step=1, **extra)],
    )


# Splitting would cost 3 * 10 + 2 * 12 = 54; with one supplier ws-b makes all 5: 60.
def test_single_supplier_even_if_split_cheaper(solve_checked: SolveChecked) -> None:
    plan = solve_checked(sourcing_doc(10))
    assert_optimal(plan)
    assert made(plan) == {("R1", 0, "ws-b"): 5}
    assert_cost(plan, production=60)

    doc = sourcing_doc(10)
    del doc["requests"][0]["max_suppliers_per_step"]
    plan = solve_checked(doc)
    assert made(plan) == {("R1", 0, "ws-a"): 3, ("R1", 0, "ws-b"): 2}
    assert_cost(plan, production=54)


# ws-b fits 4 units. One supplier, unmet at 100: ws-b 4 * 12 + 1 * 100 = 148 beats
# ws-a 3 * 10 + 2 * 100 = 230.
def test_single_supplier_capacity_short_leaves_unmet(solve_checked: SolveChecked) -> None:
    plan = solve_checked(sourcing_doc(4, unmet_penalty=100))
    assert_optimal(plan)
    assert made(plan) == {("R1", 0, "ws-b"): 4}
    assert unmet(plan) == {"R1": 1}
    assert "sourcing" in reason(plan, "R1")
    assert_cost(plan, production=48, unmet=100)


# Same, with import at 50: ws-b 4 * 12 + 1 * 50 = 98 beats ws-a 3 * 10 + 2 * 50 = 130 and
# importing all 5 (250).
def test_single_supplier_capacity_short_imports(solve_checked: SolveChecked) -> None:
    plan = solve_checked(sourcing_doc(4, component={"import": {"price": 50}}))
    assert_optimal(plan)
    assert made(plan) == {("R1", 0, "ws-b"): 4}
    assert imports(plan) == {"R1": 1}
    assert_cost(plan, production=48, **{"import": 50})


# --------------------------------------------------------------------------------------
# Tooling and engagement


# ws-a quotes 10 per unit with tooling 100; ws-b makes at 20 with no tooling. R1 and R2
# need 6 units each of the same component. Tooling once: 12 * 10 + 100 = 220, cheaper
# than ws-b for all (240) or one each (60 + 100 + 120 = 280). Paying tooling per request
# (320) would have made ws-b the choice.
def test_tooling_paid_once_for_two_requests(solve_checked: SolveChecked) -> None:
    doc = scenario(
        "tooling",
        workshops=[workshop("ws-a", machining=(100, 50)), workshop("ws-b", machining=(100, 20))],
        components=[component("bracket", step("machining"))],
        offers=[{"workshop": "ws-a", "component": "bracket", "step": 0, "unit_price": 10,
                 "tooling_cost": 100}],
        requests=[request("R1", "bracket", 6), request("R2", "bracket", 6)],
    )
    plan = solve_checked(doc)
    assert_optimal(plan)
    assert made(plan) == {("R1", 0, "ws-a"): 6, ("R2", 0, "ws-a"): 6}
    assert_cost(plan, production=120, tooling=100)


# Two components, both machining, engagement 100 at each workshop. ws-a quotes 10 (p1) and
# 13 (p2), ws-b 12 (p1) and 10 (p2); 5 units of each. Split: 50 + 50 + 200 = 300; all at
# ws-a: 50 + 65 + 100 = 215; all at ws-b: 60 + 50 + 100 = 210. Engagement paid once.
@BOTH_ENGINES
def test_engagement_once_and_consolidates(solve_checked: SolveChecked, engine: Engine) -> None:
    def offer(w: str, c: str, price: float) -> Doc:
        return {"workshop": w, "component": c, "step": 0, "unit_price": price}

    doc = scenario(
        "engagement",
        workshops=[workshop("ws-a", machining=(100, 50)) | {"engagement_cost": 100},
                   workshop("ws-b", machining=(100, 50)) | {"engagement_cost": 100}],
        components=[component("p1", step("machining")), component("p2", step("machining"))],
        offers=[offer("ws-a", "p1", 10), offer("ws-a", "p2", 13),
                offer("ws-b", "p1", 12), offer("ws-b", "p2", 10)],
        requests=[request("R1", "p1", 5), request("R2", "p2", 5)],
    )
    plan = solve_checked(doc, engine=engine)
    assert_optimal(plan)
    assert made(plan) == {("R1", 0, "ws-b"): 5, ("R2", 0, "ws-b"): 5}
    assert_cost(plan, production=110, engagement=100)


# --------------------------------------------------------------------------------------
# 5.8 Policies


def policy_doc(cap: float, **policy: float) -> Doc:
    # 10 units; import at 100 per unit, making at 120 (capacity `cap` units).
    return scenario(
        "policy", policy=policy,
        workshops=[workshop("ws", machining=(cap, 120))],
        components=[component("bracket", step("machining"), **{"import": {"price": 100}})],
        requests=[request("R1", "bracket", 10)],
    )


# min_domestic_share 0.3 of 10 units: 3 made at 120, 7 imported at 100: 360 + 700 = 1060.
@BOTH_ENGINES
def test_min_domestic_share_forces_home_production(solve_checked: SolveChecked,
                                                   engine: Engine) -> None:
    plan = solve_checked(policy_doc(100, min_domestic_share=0.3), engine=engine)
    assert_optimal(plan)
    assert made(plan) == {("R1", 0, "ws"): 3}
    assert imports(plan) == {"R1": 7}
    assert_cost(plan, production=360, **{"import": 700})
    assert plan.kpis["domestic_share"] == pytest.approx(0.3, rel=1e-9)


# min_local_content 0.5 with k imported: foreign 100k, total 100k + 120(10 - k) = 1200 - 20k;
# 100k <= 0.5(1200 - 20k) gives k <= 600/110, so k = 5 (whole units): 500 + 600 = 1100,
# local content 1 - 500/1100 = 6/11. Without the policy all 10 are imported (1000).
@BOTH_ENGINES
def test_min_local_content_forces_fewer_imports(solve_checked: SolveChecked,
                                                engine: Engine) -> None:
    plan = solve_checked(policy_doc(100, min_local_content=0.5), engine=engine)
    assert_optimal(plan)
    assert made(plan) == {("R1", 0, "ws"): 5}
    assert imports(plan) == {"R1": 5}
    assert_cost(plan, production=600, **{"import": 500})
    assert plan.kpis["local_content"] == pytest.approx(6 / 11, rel=1e-9)

    plan = solve_checked(policy_doc(100), engine=engine)
    assert imports(plan) == {"R1": 10}
    assert_cost(plan, **{"import": 1000})


# min_domestic_share 1.0 needs all 10 units made at home, but only 5 fit: no plan
# satisfies section 5, not even with unmet demand.
@BOTH_ENGINES
def test_infeasible_policy(solve_checked: SolveChecked, engine: Engine) -> None:
    plan = solve_checked(policy_doc(5, min_domestic_share=1.0), engine=engine)
    assert plan.status.value == "infeasible"
    assert plan.objective is None
    assert plan.cost is None
    assert (plan.production, plan.shipments, plan.materials, plan.imports, plan.unmet) == (
        [], [], [], [], [])


# --------------------------------------------------------------------------------------
# Delivery leg


# 2 units of 3 kg to D, 0.5 per kg km. ws-near (L1, 10 km from D) at 15 per unit: 15 +
# 0.5 * 3 * 10 = 30; ws-far (L2, 40 km) at 10: 10 + 0.5 * 3 * 40 = 70. ws-near makes both:
# production 30, transport 2 * 15 = 30, objective 60.
def test_delivery_leg_costed_per_unit(solve_checked: SolveChecked) -> None:
    doc = scenario(
        "delivery",
        transport={"cost_per_kg_km": 0.5},
        routes=[{"from": "L1", "to": "D", "km": 10}, {"from": "L2", "to": "D", "km": 40}],
        workshops=[workshop("ws-far", loc="L2", machining=(100, 10)),
                   workshop("ws-near", loc="L1", machining=(100, 15))],
        components=[component("bracket", step("machining"), weight_kg=3)],
        requests=[request("R1", "bracket", 2, destination="D")],
    )
    plan = solve_checked(doc)
    assert_optimal(plan)
    assert made(plan) == {("R1", 0, "ws-near"): 2}
    assert_cost(plan, production=30, transport=30)


# --------------------------------------------------------------------------------------
# Time limit, determinism


# The generated small scenario of seed 2 is not proven optimal by either engine in two
# minutes, so a 5 s limit must cut it short: the call returns the best plan found, as
# `feasible` with a proven bound below it, checked like every other. The elapsed-time
# bound is loose on purpose (a limit that were ignored would take minutes); the +10%
# target is measured by the benchmark runner, not here.
def test_time_limit_returns_best_plan_and_bound(
        solve_checked_timed: Callable[..., tuple[Plan, float]]) -> None:
    from scenarios.generate import generate

    plan, elapsed = solve_checked_timed(generate("small", 2), time_limit=5)
    assert elapsed < 15, f"solve took {elapsed:.1f} s with a 5 s limit"
    assert plan.status.value == "feasible"
    assert plan.objective is not None and plan.bound is not None
    assert 0 < plan.bound < plan.objective
    assert plan.gap is not None and plan.gap > 0


@pytest.mark.parametrize("name", ["cflp/cap41", "fatahi/fatahi-5x10x10-1"])
def test_same_seed_same_plan_file(solve_checked: SolveChecked, benchmarks_dir: Path,
                                  name: str) -> None:
    scenario_ = load_scenario(benchmarks_dir / f"{name}.json")
    first = solve_checked(scenario_, seed=7, threads=1)
    second = solve_checked(scenario_, seed=7, threads=1)
    assert first.to_json() == second.to_json()


def test_a_local_content_row_is_not_met_by_fees_for_nothing(solve_checked) -> None:  # type: ignore[no-untyped-def]
    """Fees count in the local-content total (SPEC 5.8) but are charged only where used
    (SPEC 6): the engine's optimum of the alt generator's small seed 4 engaged idle
    workshops to reach 40%, its plan (fees dropped) had 38.0% and was refused, and the
    solve returned no plan. With `e_w <= units at w` the optimum is a plan."""
    from models import scenario_from_dict
    from scenarios import altgen

    sc = scenario_from_dict(altgen.generate("small", 4))
    assert sc.policy.min_local_content == 0.4
    plan = solve_checked(sc)
    assert plan.status.value == "optimal"
    assert plan.kpis["local_content"] >= 0.4 - 1e-9
