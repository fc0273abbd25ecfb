"""What a workshop does for one step (SPEC sections 3 and 8.2): hours, unit cost, tooling
and minimum lot from its offer where it has one, else from the step and its rate; asked
one at a time (`Derived.step_info`, kept) or for many workshops at once
(`Derived.step_infos`, not kept), with the same answers."""

from __future__ import annotations

import copy

from models import scenario_from_dict
from models.derived import Derived, StepInfo
from tests.models.hand_case import SCENARIO


def _derived() -> Derived:
    doc = copy.deepcopy(SCENARIO)
    doc["components"][0]["routing"][1]["min_lot"] = 2
    # An offer with hours and a minimum lot but no price: the rate prices its hours.
    doc["offers"].append({"workshop": "ws-b", "component": "drum", "step": 1, "hours": 2.0,
                          "min_lot": 3})
    return Derived(scenario_from_dict(doc))


def test_offers_replace_the_steps_hours_price_tooling_and_lot() -> None:
    d = _derived()
    ws = {w.id: w for w in d.scenario.workshops}
    # Casting (step 0): ws-a by its offer (40 a unit, 0.4 h, tooling 5,000); ws-c by its
    # rate, 50/h for the step's 0.5 h. Machining (step 1, lot 2): ws-a 200/h for 1 h;
    # ws-b by its offer's 2 h at 300/h and its own lot of 3.
    assert d.step_infos("drum", 0, [ws["ws-a"], ws["ws-c"]]) == [
        StepInfo(hours=0.4, unit_cost=40.0, tooling=5000.0, min_lot=0),
        StepInfo(hours=0.5, unit_cost=25.0, tooling=0.0, min_lot=0)]
    assert d.step_infos("drum", 1, [ws["ws-a"], ws["ws-b"], ws["ws-c"]]) == [
        StepInfo(hours=1.0, unit_cost=200.0, tooling=0.0, min_lot=2),
        StepInfo(hours=2.0, unit_cost=600.0, tooling=0.0, min_lot=3),
        StepInfo(hours=1.0, unit_cost=50.0, tooling=0.0, min_lot=2)]


def test_one_at_a_time_and_all_at_once_agree() -> None:
    d = _derived()
    for s in (0, 1):
        together = d.step_infos("drum", s, d.scenario.workshops)
        assert together == [d.step_info(w, "drum", s) for w in d.scenario.workshops]
