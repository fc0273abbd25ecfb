"""The checker on SPEC 8.2-8.5: a hand plan that meets all four rules, and tampered
plans or tightened scenarios that break each one, named by request, step, workshop or
location."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from models import Plan, Scenario, plan_from_dict, scenario_from_dict
from models.check import Violation, check

Doc = dict[str, Any]

# Two locations 10 km apart (transport free), three workshops that cast and machine at
# 1 IDR per hour, one hour per unit and step.
SCENARIO: Doc = {
    "name": "inclusion-check",
    "horizon": {"periods": 2},
    "locations": [{"id": "la"}, {"id": "lb"}],
    "routes": [{"from": "la", "to": "lb", "km": 10}],
    "workshops": [
        {"id": w, "location": loc, "capacity": {"casting": 100, "machining": 100},
         "rate": {"casting": 1, "machining": 1}}
        for w, loc in (("wa1", "la"), ("wa2", "la"), ("wb", "lb"))
    ],
    "components": [{"id": "drum", "routing": [
        {"process": "casting", "hours": 1, "min_lot": 4},
        {"process": "machining", "hours": 1},
    ]}],
    "requests": [
        {"id": "R1", "component": "drum", "quantity": 12, "min_suppliers_per_step": 2},
        {"id": "R2", "component": "drum", "quantity": 6},
    ],
    "policy": {"max_workshop_share": 0.5, "min_location_share": {"lb": 0.25}},
}

# R1 is split 6/6 between wa1 and wb at both steps, R2 is made at wa2: every lot is 6
# (>= 4), R1 has two workshops per step, each workshop makes 6 of the 18 domestic units
# (1/3 <= 0.5), lb makes 6 of 18 (1/3 >= 0.25). Cost: 18 cast + 18 machined hours = 36.
PLAN: Doc = {
    "format": "imc-broker/plan@1",
    "scenario": "inclusion-check",
    "status": "feasible",
    "objective": 36.0,
    "cost": {"production": 36.0, "material": 0, "transport": 0, "tooling": 0,
             "engagement": 0, "import": 0, "tardiness": 0, "unmet": 0},
    "production": [
        {"request": "R1", "step": 0, "workshop": "wa1", "period": 0, "quantity": 6},
        {"request": "R1", "step": 0, "workshop": "wb", "period": 0, "quantity": 6},
        {"request": "R1", "step": 1, "workshop": "wa1", "period": 1, "quantity": 6},
        {"request": "R1", "step": 1, "workshop": "wb", "period": 1, "quantity": 6},
        {"request": "R2", "step": 0, "workshop": "wa2", "period": 0, "quantity": 6},
        {"request": "R2", "step": 1, "workshop": "wa2", "period": 1, "quantity": 6},
    ],
    "shipments": [
        {"request": "R1", "step": 0, "from": "wa1", "to": "wa1", "quantity": 6},
        {"request": "R1", "step": 0, "from": "wb", "to": "wb", "quantity": 6},
        {"request": "R2", "step": 0, "from": "wa2", "to": "wa2", "quantity": 6},
    ],
}


def scenario(mutate: Callable[[Doc], None] | None = None) -> Scenario:
    doc = copy.deepcopy(SCENARIO)
    if mutate is not None:
        mutate(doc)
    return scenario_from_dict(doc)


def plan(mutate: Callable[[Doc], None] | None = None) -> Plan:
    doc = copy.deepcopy(PLAN)
    if mutate is not None:
        mutate(doc)
    return plan_from_dict(doc)


def test_hand_plan_meets_all_four() -> None:
    report = check(scenario(), plan())
    assert report.violations == []
    assert report.objective == 36.0


def test_lot_below_minimum_names_request_step_and_workshop() -> None:
    report = check(scenario(lambda d: d["components"][0]["routing"][0].update(min_lot=7)),
                   plan())
    assert report.violations == [
        Violation("lot", f"request {r}, step 0, workshop {w}",
                  "6 unit(s) made, below the minimum lot of 7")
        for r, w in (("R1", "wa1"), ("R1", "wb"), ("R2", "wa2"))
    ]


def test_offer_min_lot_replaces_the_steps() -> None:
    def tighten(d: Doc) -> None:
        d["components"][0]["routing"][0]["min_lot"] = 7
        # wa2 quotes small lots; wb's quote asks for more than the step does.
        d["offers"] = [{"workshop": "wa2", "component": "drum", "step": 0, "min_lot": 0},
                       {"workshop": "wb", "component": "drum", "step": 1, "min_lot": 10}]

    report = check(scenario(tighten), plan())
    assert [v.where for v in report.violations] == [
        "request R1, step 0, workshop wa1", "request R1, step 0, workshop wb",
        "request R1, step 1, workshop wb"]
    assert report.violations[2].message == "6 unit(s) made, below the minimum lot of 10"


def test_sourcing_floor_broken_at_every_step() -> None:
    report = check(scenario(lambda d: d["requests"][1].update(min_suppliers_per_step=2)),
                   plan())
    assert report.violations == [
        Violation("sourcing", f"request R2, step {s}",
                  "1 workshop(s) (wa2) make the step, at least 2 must (min_suppliers_per_step) "
                  "when any unit is made at home")
        for s in (0, 1)
    ]


def _r2_unmet(d: Doc) -> None:
    d["production"] = [p for p in d["production"] if p["request"] == "R1"]
    d["shipments"] = [s for s in d["shipments"] if s["request"] == "R1"]
    d["unmet"] = [{"request": "R2", "quantity": 6, "reason": "left for the test"}]
    d["cost"].update(production=24.0, unmet=6e9)
    d["objective"] = 24.0 + 6e9


def test_sourcing_floor_does_not_apply_to_a_request_not_made_at_home() -> None:
    sc = scenario(lambda d: (d["requests"][1].update(min_suppliers_per_step=3),
                             d["policy"].update(max_workshop_share=1.0)))
    assert check(sc, plan(_r2_unmet)).violations == []


def test_spread_and_regional_share_broken_by_moving_work() -> None:
    def to_wa1(d: Doc) -> None:
        # R1's machining moves from wb to wa1: wa1 makes 12 of 18, lb none, and R1's
        # machining has one workshop left.
        d["production"][3]["workshop"] = "wa1"
        d["shipments"][1]["to"] = "wa1"

    report = check(scenario(), plan(to_wa1))
    assert report.violations == [
        Violation("sourcing", "request R1, step 1",
                  "1 workshop(s) (wa1) make the step, at least 2 must (min_suppliers_per_step) "
                  "when any unit is made at home"),
        Violation("policy", "policy.max_workshop_share, workshop wa1",
                  "12 of 18 domestic unit(s) made at wa1 (share 0.6667), the policy allows at "
                  "most 9 (0.5)"),
        Violation("policy", "policy.min_location_share.lb",
                  "0 of 18 domestic unit(s) made at workshops of lb, the policy asks for at "
                  "least 4.5 (0.25)"),
    ]


def test_spread_tighter_than_the_plan() -> None:
    report = check(scenario(lambda d: d["policy"].update(max_workshop_share=0.3)), plan())
    assert [v.where for v in report.violations] == [
        f"policy.max_workshop_share, workshop {w}" for w in ("wa1", "wb", "wa2")]
    # A share of exactly 1/3 is allowed at 1/3 (6 <= 6 within the tolerance).
    assert check(scenario(lambda d: d["policy"].update(max_workshop_share=1 / 3)),
                 plan()).violations == []


def test_regional_share_tighter_than_the_plan() -> None:
    sc = scenario(lambda d: d["policy"].update(min_location_share={"lb": 0.5, "la": 0.5}))
    assert check(sc, plan()).violations == [
        Violation("policy", "policy.min_location_share.lb",
                  "6 of 18 domestic unit(s) made at workshops of lb, the policy asks for at "
                  "least 9 (0.5)"),
    ]
