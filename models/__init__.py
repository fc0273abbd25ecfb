"""Domain models and file formats of IMC Broker: pure data, no solver, no database."""

from models.derived import Derived, Distances, great_circle_km
from models.errors import InputError, PlanError, ScenarioError
from models.io import (
    dump_document,
    load_plan,
    load_scenario,
    plan_from_dict,
    read_document,
    scenario_from_dict,
    scenario_to_dict,
    write_plan,
)
from models.plan import COST_TERMS, PLAN_FORMAT, Cost, Plan, Status
from models.scenario import Scenario

__all__ = [
    "COST_TERMS",
    "PLAN_FORMAT",
    "Cost",
    "Derived",
    "Distances",
    "InputError",
    "Plan",
    "PlanError",
    "Scenario",
    "ScenarioError",
    "Status",
    "dump_document",
    "great_circle_km",
    "load_plan",
    "load_scenario",
    "plan_from_dict",
    "read_document",
    "scenario_from_dict",
    "scenario_to_dict",
    "write_plan",
]
