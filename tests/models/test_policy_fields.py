"""SPEC 8.2-8.5 fields: every bad value is rejected with its path, good ones are read."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from models.io import ScenarioError, scenario_from_dict, scenario_to_dict

BASE: dict[str, Any] = {
    "name": "policies",
    "horizon": {"periods": 2},
    "locations": [{"id": "ceper"}, {"id": "tegal"}],
    "components": [{"id": "bd", "routing": [{"process": "casting", "hours": 1},
                                            {"process": "machining", "hours": 1}]}],
    "workshops": [{"id": "w1", "location": "ceper", "capacity": {"casting": 10},
                   "rate": {"casting": 1}}],
    "offers": [{"workshop": "w1", "component": "bd", "step": 0, "unit_price": 1}],
    "requests": [{"id": "R1", "component": "bd", "quantity": 5}],
}


def _problems(edit: dict[str, Any]) -> list[str]:
    doc = copy.deepcopy(BASE)
    for path, value in edit.items():
        node: Any = doc
        *head, last = path.split("/")
        for part in head:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        node[last] = value
    with pytest.raises(ScenarioError) as e:
        scenario_from_dict(doc)
    return e.value.problems


@pytest.mark.parametrize(("edit", "problem"), [
    ({"components/0/routing/0/min_lot": -1},
     "components[0].routing[0].min_lot: must be >= 0 (got -1)"),
    ({"components/0/routing/1/min_lot": 2.5},
     "components[0].routing[1].min_lot: must be a whole number (got 2.5)"),
    ({"offers/0/min_lot": -3}, "offers[0].min_lot: must be >= 0 (got -3)"),
    ({"offers/0/min_lot": "many"}, "offers[0].min_lot: must be a whole number (got 'many')"),
    ({"requests/0/min_suppliers_per_step": 0},
     "requests[0].min_suppliers_per_step: must be >= 1 (got 0)"),
    ({"requests/0/min_suppliers_per_step": 3, "requests/0/max_suppliers_per_step": 2},
     "requests[0].min_suppliers_per_step: 3 is more than max_suppliers_per_step 2"),
    ({"policy/max_workshop_share": 0}, "policy.max_workshop_share: must be > 0 (got 0)"),
    ({"policy/max_workshop_share": 1.5}, "policy.max_workshop_share: must be <= 1 (got 1.5)"),
    ({"policy/min_location_share": {"tegal": 1.2}},
     "policy.min_location_share.tegal: must be <= 1 (got 1.2)"),
    ({"policy/min_location_share": {"tegal": -0.1}},
     "policy.min_location_share.tegal: must be >= 0 (got -0.1)"),
    ({"policy/min_location_share": {"brebes": 0.1}},
     "policy.min_location_share.brebes: unknown location 'brebes'"),
    ({"policy/min_location_share": {"tegal": 0.6, "ceper": 0.5}},
     "policy.min_location_share: shares sum to 1.1, more than 1"),
])
def test_bad_value_named_by_path(edit: dict[str, Any], problem: str) -> None:
    assert _problems(edit) == [problem]


def test_all_problems_at_once() -> None:
    got = _problems({"components/0/routing/0/min_lot": -1, "policy/max_workshop_share": 2,
                     "policy/min_location_share": {"nowhere": 0.2}})
    assert sorted(got) == [
        "components[0].routing[0].min_lot: must be >= 0 (got -1)",
        "policy.max_workshop_share: must be <= 1 (got 2)",
        "policy.min_location_share.nowhere: unknown location 'nowhere'",
    ]


def test_good_values_read_and_round_trip() -> None:
    doc = copy.deepcopy(BASE)
    doc["components"][0]["routing"][0]["min_lot"] = 200
    doc["offers"][0]["min_lot"] = 50
    doc["requests"][0].update(min_suppliers_per_step=2, max_suppliers_per_step=2)
    doc["policy"] = {"max_workshop_share": 0.4,
                     "min_location_share": {"tegal": 0.3, "ceper": 0.7}}
    sc = scenario_from_dict(doc)
    assert sc.components[0].routing[0].min_lot == 200
    assert sc.offers[0].min_lot == 50
    assert sc.min_suppliers(sc.requests[0]) == 2
    assert sc.has_inclusion_rules()
    again = scenario_from_dict(scenario_to_dict(sc))
    assert again == sc


def test_absent_fields_mean_version_1() -> None:
    sc = scenario_from_dict(copy.deepcopy(BASE))
    assert sc.components[0].routing[0].min_lot == 0
    assert sc.offers[0].min_lot is None
    assert sc.min_suppliers(sc.requests[0]) == 1
    assert sc.policy.max_workshop_share == 1.0
    assert sc.policy.min_location_share == {}
    assert not sc.has_inclusion_rules()
    # Written back, a version 1 scenario gains none of the new keys.
    text = repr(scenario_to_dict(sc))
    for key in ("min_lot", "min_suppliers_per_step", "max_workshop_share",
                "min_location_share"):
        assert key not in text


def test_offer_min_lot_replaces_the_steps_for_its_workshop() -> None:
    from models.derived import Derived

    doc = copy.deepcopy(BASE)
    doc["components"][0]["routing"][0]["min_lot"] = 200
    doc["workshops"].append({"id": "w2", "location": "tegal", "capacity": {"casting": 10},
                             "rate": {"casting": 1}})
    doc["offers"][0]["min_lot"] = 0
    sc = scenario_from_dict(doc)
    d = Derived(sc)
    assert d.step_info(sc.workshop("w1"), "bd", 0).min_lot == 0
    assert d.step_info(sc.workshop("w2"), "bd", 0).min_lot == 200
    assert d.step_info(sc.workshop("w2"), "bd", 1).min_lot == 0
