"""Scenario validation at the model level (SPEC section 2): every kind of bad document is
rejected by `scenario_from_dict` with one problem per fault, each naming its path in the
document, before anything is solved. The CLI prints these problems (tests/test_cli.py);
here they are tested where they are made."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from models.errors import ScenarioError
from models.io import scenario_from_dict

# One of everything a reference can point at: two locations with a route, a material and
# a center holding it, a workshop, a two-step component (the first step uses material),
# an offer, a request with a destination.
BASE: dict[str, Any] = {
    "name": "validate",
    "horizon": {"periods": 3},
    "locations": [{"id": "ceper"}, {"id": "tegal"}],
    "routes": [{"from": "ceper", "to": "tegal", "km": 245}],
    "materials": [{"id": "fc250"}],
    "material_centers": [{"id": "mc", "location": "tegal",
                          "materials": {"fc250": {"stock_kg": 100, "price_per_kg": 1}}}],
    "workshops": [{"id": "w1", "location": "ceper", "certifications": ["ISO9001"],
                   "capacity": {"casting": 10, "machining": 10},
                   "rate": {"casting": 1, "machining": 2}}],
    "components": [{"id": "bd", "weight_kg": 9.5, "import": {"price": 100, "lead_periods": 1},
                    "routing": [{"process": "casting", "hours": 1, "material": "fc250",
                                 "material_kg": 2},
                                {"process": "machining", "hours": 1}]}],
    "offers": [{"workshop": "w1", "component": "bd", "step": 1, "unit_price": 3}],
    "requests": [{"id": "R1", "component": "bd", "quantity": 5, "release": 0, "due": 2,
                  "destination": "tegal", "requires": ["ISO9001"]}],
}


def edited(edit: dict[str, Any]) -> dict[str, Any]:
    """BASE with `path/to/field: value` set (list indices as numbers)."""
    doc = copy.deepcopy(BASE)
    for path, value in edit.items():
        node: Any = doc
        *head, last = path.split("/")
        for part in head:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return doc


def problems(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(ScenarioError) as e:
        scenario_from_dict(doc)
    return e.value.problems


def test_base_is_valid() -> None:
    sc = scenario_from_dict(copy.deepcopy(BASE))
    assert [r.id for r in sc.requests] == ["R1"]
    assert sc.horizon.periods == 3


@pytest.mark.parametrize(("edit", "problem"), [
    # unknown references
    ({"requests/0/component": "bd-13"}, "requests[0].component: unknown component 'bd-13'"),
    ({"requests/0/destination": "jakarta"},
     "requests[0].destination: unknown location 'jakarta'"),
    ({"workshops/0/location": "nowhere"}, "workshops[0].location: unknown location 'nowhere'"),
    ({"material_centers/0/location": "nowhere"},
     "material_centers[0].location: unknown location 'nowhere'"),
    ({"routes/0/to": "nowhere"}, "routes[0].to: unknown location 'nowhere'"),
    ({"offers/0/workshop": "w9"}, "offers[0].workshop: unknown workshop 'w9'"),
    ({"offers/0/component": "hub"}, "offers[0].component: unknown component 'hub'"),
    # a step index outside the routing
    ({"offers/0/step": 2}, "offers[0].step: step 2 outside the routing of 'bd' (0 .. 1)"),
    # materials not in `materials`
    ({"components/0/routing/0/material": "al6061"},
     "components[0].routing[0].material: unknown material 'al6061'"),
    ({"material_centers/0/materials": {"al6061": {"stock_kg": 1, "price_per_kg": 1}}},
     "material_centers[0].materials.al6061: unknown material 'al6061'"),
    # a material step without material_kg > 0
    ({"components/0/routing/0/material_kg": 0},
     "components[0].routing[0].material_kg: a material step needs material_kg > 0"),
    # negative numbers where the field says >= 0
    ({"transport": {"cost_per_kg_km": -1}}, "transport.cost_per_kg_km: must be >= 0 (got -1)"),
    ({"workshops/0/capacity": {"casting": -1, "machining": 10}},
     "workshops[0].capacity.casting: must be >= 0 (got -1)"),
    ({"workshops/0/engagement_cost": -5}, "workshops[0].engagement_cost: must be >= 0 (got -5)"),
    ({"material_centers/0/materials/fc250/stock_kg": -1},
     "material_centers[0].materials.fc250.stock_kg: must be >= 0 (got -1)"),
    ({"offers/0/unit_price": -3}, "offers[0].unit_price: must be >= 0 (got -3)"),
    ({"policy": {"import_tariff": -0.1}}, "policy.import_tariff: must be >= 0 (got -0.1)"),
    ({"requests/0/quantity": 0}, "requests[0].quantity: must be >= 1 (got 0)"),
    # shares outside 0..1
    ({"policy": {"min_domestic_share": 1.5}},
     "policy.min_domestic_share: must be <= 1 (got 1.5)"),
    ({"policy": {"min_local_content": -0.2}},
     "policy.min_local_content: must be >= 0 (got -0.2)"),
    # capacity_by_period whose length is not horizon.periods
    ({"workshops/0/capacity_by_period": {"casting": [1, 2]}},
     "workshops[0].capacity_by_period.casting: has 2 entries, horizon.periods is 3"),
    # release and due outside the horizon, or release after due
    ({"requests/0/due": 3}, "requests[0].due: period 3 outside the horizon (0 .. 2)"),
    ({"requests/0/release": 2, "requests/0/due": 1},
     "requests[0].release: release 2 is after due 1"),
    # a process with capacity but no rate
    ({"workshops/0/rate": {"casting": 1}},
     "workshops[0].rate: process 'machining' has capacity but no rate"),
    # malformed fields
    ({"requests/0/quantitty": 3}, "requests[0].quantitty: unknown field (got 3)"),
    ({"requests/0/id": "R 1"},
     "requests[0].id: not a valid identifier (letters, digits, '-', '_', '.' only) "
     "(got 'R 1')"),
    ({"requests/0/quantity": 2.5}, "requests[0].quantity: must be a whole number (got 2.5)"),
    ({"horizon": {"periods": 0}}, "horizon.periods: must be >= 1 (got 0)"),
])
def test_bad_value_named_by_path(edit: dict[str, Any], problem: str) -> None:
    assert problems(edited(edit)) == [problem]


def test_negative_release_is_below_zero_and_outside_the_horizon() -> None:
    assert problems(edited({"requests/0/release": -1})) == [
        "requests[0].release: must be >= 0 (got -1)",
        "requests[0].release: period -1 outside the horizon (0 .. 2)",
    ]


def test_duplicate_ids_name_the_first() -> None:
    doc = copy.deepcopy(BASE)
    doc["workshops"].append(copy.deepcopy(doc["workshops"][0]))
    doc["requests"].append(dict(doc["requests"][0], quantity=1))
    got = problems(doc)
    assert "workshops[1].id: duplicate id 'w1' (first at workshops[0])" in got
    assert "requests[1].id: duplicate id 'R1' (first at requests[0])" in got


def test_required_fields() -> None:
    doc = copy.deepcopy(BASE)
    del doc["horizon"]
    del doc["name"]
    got = problems(doc)
    assert "horizon: required field missing" in got
    assert "name: required field missing" in got


def test_every_problem_is_reported_at_once() -> None:
    doc = edited({"requests/0/component": "nope", "workshops/0/location": "nowhere",
                  "transport": {"cost_per_kg_km": -2}})
    assert sorted(problems(doc)) == sorted([
        "requests[0].component: unknown component 'nope'",
        "workshops[0].location: unknown location 'nowhere'",
        "transport.cost_per_kg_km: must be >= 0 (got -2)",
    ])


def test_error_names_its_source() -> None:
    with pytest.raises(ScenarioError) as e:
        scenario_from_dict(edited({"requests/0/component": "nope"}), "central-java.yaml")
    assert e.value.source == "central-java.yaml"
    assert "requests[0].component: unknown component 'nope'" in str(e.value)
