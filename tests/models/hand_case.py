"""The hand-worked case of the checker's and the evaluation's tests: a scenario, a plan of
it, and the plan's cost and KPIs worked out by hand."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from models import Plan, Scenario, plan_from_dict, scenario_from_dict

Doc = dict[str, Any]

# Three workshops at two locations, a delivery point, and three material centers. Routes
# give whole km: a-b 100, b-c 200, a-c 250 (shorter than a-b-c = 300). loc-far has no
# route at all, so nothing can ship to or from it.
SCENARIO: Doc = {
    "name": "checker-test",
    "horizon": {"periods": 4},
    "transport": {"cost_per_kg_km": 0.5},
    "policy": {"import_tariff": 0.25},
    "locations": [
        {"id": "loc-a", "lat": -7.672, "lon": 110.676},
        {"id": "loc-b", "lat": -6.869, "lon": 109.125},
        {"id": "loc-c", "lat": -6.2, "lon": 106.8},
        {"id": "loc-far"},
    ],
    "routes": [
        {"from": "loc-a", "to": "loc-b", "km": 100},
        {"from": "loc-b", "to": "loc-c", "km": 200},
        {"from": "loc-a", "to": "loc-c", "km": 250},
    ],
    "materials": [{"id": "fc250"}],
    "material_centers": [
        {"id": "mc-b", "location": "loc-b",
         "materials": {"fc250": {"stock_kg": 1000, "price_per_kg": 10}}},
        {"id": "mc-a", "location": "loc-a",
         "materials": {"fc250": {"stock_kg": 500, "price_per_kg": 20, "domestic": False}}},
        {"id": "mc-far", "location": "loc-far",
         "materials": {"fc250": {"stock_kg": 500, "price_per_kg": 20, "domestic": False}}},
    ],
    "workshops": [
        {"id": "ws-a", "location": "loc-a", "certifications": ["ISO9001"],
         "capacity": {"casting": 10, "machining": 10},
         "rate": {"casting": 100, "machining": 200}, "engagement_cost": 1000},
        {"id": "ws-b", "location": "loc-b", "certifications": ["ISO9001"],
         "capacity": {"machining": 8}, "rate": {"machining": 300}, "engagement_cost": 500},
        {"id": "ws-c", "location": "loc-b",
         "capacity": {"casting": 100, "machining": 100},
         "rate": {"casting": 50, "machining": 50}},
    ],
    "components": [
        {"id": "drum", "weight_kg": 2, "import": {"price": 1000, "lead_periods": 3},
         "routing": [
             {"process": "casting", "hours": 0.5, "material": "fc250", "material_kg": 3},
             {"process": "machining", "hours": 1.0},
         ]},
    ],
    "offers": [
        {"workshop": "ws-a", "component": "drum", "step": 0, "unit_price": 40, "hours": 0.4,
         "tooling_cost": 5000},
    ],
    "requests": [
        {"id": "R1", "component": "drum", "quantity": 20, "due": 2, "destination": "loc-c",
         "requires": ["ISO9001"], "max_suppliers_per_step": 2, "late_penalty": 7,
         "unmet_penalty": 10000},
        {"id": "R2", "component": "drum", "quantity": 5, "release": 1, "due": 2,
         "requires": ["ISO9001"], "late_penalty": 3, "unmet_penalty": 100},
    ],
}

# The plan, and its cost worked out by hand.
#
# R1 (20 units, due 2, to loc-c): casting at ws-a, 10 in period 0 and 10 in period 1;
#   10 stay at ws-a and are machined in period 1, 10 go to ws-b (100 km) and are machined
#   5 in period 2 and 5 in period 3 (one period late).
# R2 (5 units, release 1, due 2, no destination): 2 cast at ws-a in period 1 and machined
#   there in period 2; 2 imported; 1 unmet.
# Material: 22 cast units * 3 kg = 66 kg at ws-a: 60 kg from mc-b (100 km, 10/kg),
#   6 kg from mc-a (same location, 20/kg, not domestic).
#
# Capacity: ws-a casting p0 10*0.4 = 4 h, p1 (10+2)*0.4 = 4.8 h of 10; ws-a machining
#   p1 10 h of 10 (exactly full), p2 2 h; ws-b machining p2 5 h, p3 5 h of 8.
#
# production = casting at ws-a by offer 40/unit: 22 * 40 = 880
#            + machining at ws-a 200/h * 1 h: 12 * 200 = 2400
#            + machining at ws-b 300/h * 1 h: 10 * 300 = 3000           = 6280
# material   = 60 * 10 + 6 * 20 = 600 + 120                            = 720
# transport  = 0.5 * 2 kg * (shipments 10 * 100 km + delivery 10 * 250 km (ws-a -> loc-c)
#                             + 10 * 200 km (ws-b -> loc-c))  = 0.5 * 2 * 5500 = 5500
#            + 0.5 * (60 kg * 100 km + 6 kg * 0 km)               = 3000   = 8500
# tooling    = offer (ws-a, drum, 0), once for both requests            = 5000
# engagement = ws-a 1000 + ws-b 500                                     = 1500
# import     = 2 * 1000 * (1 + 0.25)                                    = 2500
# tardiness  = R1: 5 units * 1 period * 7 = 35; R2: lead 3 - due 2 = 1 period for each
#              imported unit: 2 * 1 * 3 = 6                             = 41
# unmet      = 1 * 100                                                  = 100
# objective  = 6280 + 720 + 8500 + 5000 + 1500 + 2500 + 41 + 100       = 24641
#
# KPIs: domestic_share = 22 / 25 = 0.88; on_time_share = (15 of R1 + 2 of R2 made by
# period 2; imports are one period late) / 25 = 0.68; local_content = 1 - foreign / total
# with foreign = 2500 + 120 = 2620, total = 24641 - 41 - 100 = 24500.
HAND_COST = {
    "production": 6280.0,
    "material": 720.0,
    "transport": 8500.0,
    "tooling": 5000.0,
    "engagement": 1500.0,
    "import": 2500.0,
    "tardiness": 41.0,
    "unmet": 100.0,
}
HAND_OBJECTIVE = 24641.0
HAND_KPIS = {"domestic_share": 0.88, "local_content": 1 - 2620 / 24500, "on_time_share": 0.68}

PLAN: Doc = {
    "format": "imc-broker/plan@1",
    "scenario": "checker-test",
    # Feasible, not optimal: the bound is 641 below the objective (optimal needs 1e-6).
    "status": "feasible",
    "objective": HAND_OBJECTIVE,
    "bound": 24000.0,
    "cost": dict(HAND_COST),
    "production": [
        {"request": "R1", "step": 0, "workshop": "ws-a", "period": 0, "quantity": 10},
        {"request": "R1", "step": 0, "workshop": "ws-a", "period": 1, "quantity": 10},
        {"request": "R1", "step": 1, "workshop": "ws-a", "period": 1, "quantity": 10},
        {"request": "R1", "step": 1, "workshop": "ws-b", "period": 2, "quantity": 5},
        {"request": "R1", "step": 1, "workshop": "ws-b", "period": 3, "quantity": 5},
        {"request": "R2", "step": 0, "workshop": "ws-a", "period": 1, "quantity": 2},
        {"request": "R2", "step": 1, "workshop": "ws-a", "period": 2, "quantity": 2},
    ],
    "shipments": [
        {"request": "R1", "step": 0, "from": "ws-a", "to": "ws-a", "quantity": 10},
        {"request": "R1", "step": 0, "from": "ws-a", "to": "ws-b", "quantity": 10},
        {"request": "R2", "step": 0, "from": "ws-a", "to": "ws-a", "quantity": 2},
    ],
    "materials": [
        {"center": "mc-b", "workshop": "ws-a", "material": "fc250", "kg": 60.0},
        {"center": "mc-a", "workshop": "ws-a", "material": "fc250", "kg": 6.0},
    ],
    "imports": [{"request": "R2", "quantity": 2}],
    "unmet": [{"request": "R2", "quantity": 1,
               "reason": "capacity of process machining short in periods 1 .. 2"}],
    "kpis": dict(HAND_KPIS),
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


def recost(doc: Doc, **terms: float) -> None:
    """Make the plan's own cost and objective match a mutation, so that only the
    feasibility violation under test is left."""
    doc["cost"].update(terms)
    doc["objective"] = sum(doc["cost"].values())
