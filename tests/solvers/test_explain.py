"""Unmet reasons depend on whether the plan is proven: an unproven plan must not claim
that leaving demand is cheaper; a policy no unit can meet is named before any cost; an
infeasible domestic share comes with the share reachable and what limits it."""

from __future__ import annotations

import copy
from collections.abc import Callable

import models
from models.derived import Derived
from models.plan import Plan
from solvers.explain import NOT_WORKED_OUT, explain_unmet

SolveChecked = Callable[..., Plan]

DOC = {
    "name": "explain",
    "horizon": {"periods": 1},
    "policy": {"unmet_penalty": 100},
    "locations": [{"id": "a"}],
    "workshops": [{"id": "w", "location": "a", "capacity": {"cast": 10}, "rate": {"cast": 3}}],
    "components": [{"id": "c", "routing": [{"process": "cast", "hours": 1}]}],
    "requests": [{"id": "R", "component": "c", "quantity": 5}],
}


def test_unproven_plan_says_the_search_stopped() -> None:
    sc = models.scenario_from_dict(DOC)
    reasons = explain_unmet(sc, Derived(sc), {}, [], {"R": 5}, proven=False)
    assert reasons["R"] == (
        "not placed when the search stopped (time limit): capacity, material and workshops "
        "are free and making one costs about 3 against the penalty of 100; a longer solve "
        "would likely place it")


def test_proven_plan_blames_the_other_costs() -> None:
    sc = models.scenario_from_dict(DOC)
    reasons = explain_unmet(sc, Derived(sc), {}, [], {"R": 5}, proven=True)
    assert reasons["R"].startswith("cheaper to leave it than to make it at the given penalty "
                                   "of 100 per unit: a unit's production and material cost "
                                   "about 3, but the tooling")


def test_requests_alike_share_their_reason_and_a_past_deadline_names_itself() -> None:
    doc = copy.deepcopy(DOC)
    doc["requests"] = [{"id": f"R{i}", "component": "c", "quantity": 5} for i in range(3)]
    doc["requests"].append({"id": "Q", "component": "c", "quantity": 5, "unmet_penalty": 1})
    sc = models.scenario_from_dict(doc)
    unmet = {r.id: 5 for r in sc.requests}
    reasons = explain_unmet(sc, Derived(sc), {}, [], unmet, proven=False)
    one_by_one = {rid: explain_unmet(sc, Derived(sc), {}, [], {rid: 5}, proven=False)[rid]
                  for rid in unmet}
    assert reasons == one_by_one
    assert reasons["R0"] == reasons["R2"] != reasons["Q"]
    late = explain_unmet(sc, Derived(sc), {}, [], unmet, proven=False, deadline=0.0)
    assert late == dict.fromkeys(unmet, NOT_WORKED_OUT)
    assert NOT_WORKED_OUT == ("reason not worked out: the time limit ran out while the plan "
                              "was being written; solve with a longer limit to have it")


# The only domestic steel (mc-krakatau) is out of stock; imported steel is cheap (60 per
# kg, 2 kg a unit: 120) and production costs 0.05 h x 30,000 + 0.05 h x 24,000 = 2,700 a
# unit, so a unit made at home has local content 2,700 / 2,820 = 95.74%, short of the
# 0.99 asked; an import is wholly foreign. Every unit is left (10 M each), and the reason
# names the local content first, not the costs (a unit costs 2,820 against 10 M).
STEEL = {
    "name": "lc-steel",
    "horizon": {"periods": 3},
    "policy": {"min_local_content": 0.99},
    "locations": [{"id": "a"}, {"id": "b"}, {"id": "port"}],
    "routes": [{"from": "a", "to": "b", "km": 10}, {"from": "port", "to": "a", "km": 20}],
    "materials": [{"id": "steel"}],
    "material_centers": [
        {"id": "mc-krakatau", "location": "b",
         "materials": {"steel": {"stock_kg": 0, "price_per_kg": 15000}}},
        {"id": "mc-import", "location": "port",
         "materials": {"steel": {"stock_kg": 100000, "price_per_kg": 60, "domestic": False}}},
    ],
    "workshops": [{"id": "w1", "location": "a", "capacity": {"casting": 100, "machining": 100},
                   "rate": {"casting": 30000, "machining": 24000}}],
    "components": [{"id": "bracket", "weight_kg": 2,
                    "import": {"price": 2500000, "lead_periods": 1},
                    "routing": [{"process": "casting", "hours": 0.05, "material": "steel",
                                 "material_kg": 2},
                                {"process": "machining", "hours": 0.05}]}],
    "requests": [{"id": "R1", "component": "bracket", "quantity": 100, "due": 2,
                  "unmet_penalty": 10000000, "allow_import": True}],
}


def test_local_content_cap_is_named_first(solve_checked: SolveChecked) -> None:
    plan = solve_checked(STEEL)
    assert plan.status.value == "optimal"
    (u,) = plan.unmet
    assert u.quantity == 100
    assert u.reason == (
        "no unit of it reaches policy.min_local_content 0.99: 'steel' for step 0 comes only "
        "from foreign stock (mc-import, 60 per kg): the domestic centers within reach have "
        "too little left (mc-krakatau 0 kg), so a unit made at home has at most about 95.7% "
        "local content (domestic cost 2,700 of 2,820 per unit, before transport and fixed "
        "costs); importing it is wholly foreign content")


def test_local_content_within_reach_keeps_the_cost_reason(solve_checked: SolveChecked) -> None:
    # At 0.95 a unit made at home (95.7%) meets the policy: all 100 are made.
    doc = copy.deepcopy(STEEL)
    doc["policy"]["min_local_content"] = 0.95
    plan = solve_checked(doc)
    assert plan.status.value == "optimal" and plan.unmet == []
    assert plan.kpis["local_content"] >= 0.95 - 1e-9


# 171.75 h of machining a period, half an hour a unit: 343 whole units a period, 686 over
# the two, of the 700 (70% of 1,000) that min_domestic_share 0.7 asks to be made at home.
SHARE = {
    "name": "ds",
    "horizon": {"periods": 2},
    "policy": {"min_domestic_share": 0.7},
    "locations": [{"id": "a"}],
    "workshops": [{"id": "w1", "location": "a", "capacity": {"machining": 171.75},
                   "rate": {"machining": 10}}],
    "components": [{"id": "c", "import": {"price": 100},
                    "routing": [{"process": "machining", "hours": 0.5}]}],
    "requests": [{"id": "R1", "component": "c", "quantity": 600},
                 {"id": "R2", "component": "c", "quantity": 400}],
}


def test_domestic_share_diagnosis_gives_the_reachable_maximum(
        solve_checked: SolveChecked) -> None:
    plan = solve_checked(SHARE)
    assert plan.status.value == "infeasible"
    assert plan.diagnosis is not None
    head, _, why = plan.diagnosis.partition(", limited by ")
    assert head == ("policy.min_domestic_share 0.7 needs 700 of the 1,000 requested units "
                    "made at home; at most 686 (68.6%) can be")
    assert why.startswith("capacity of process 'machining' short in periods 0-1 at the only "
                          "eligible workshop (w1) for step 0 (314 unit(s) of ")
    # The maximum is reachable: at 0.686 there is a plan.
    doc = copy.deepcopy(SHARE)
    doc["policy"]["min_domestic_share"] = 0.686
    assert solve_checked(doc).status.value == "optimal"
