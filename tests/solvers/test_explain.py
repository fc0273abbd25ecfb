"""Unmet reasons depend on whether the plan is proven: an unproven plan must not claim
that leaving demand is cheaper."""

from __future__ import annotations

import models
from models.derived import Derived
from solvers.explain import explain_unmet

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
