"""IMC Broker: turns requests for manufactured components into an optimal, checked
allocation across workshops and material centers.

    from broker import load_scenario, solve, check
    plan = solve(load_scenario("my-scenario.yaml"), time_limit=60)
    assert check(scenario, plan).ok
"""

from broker.api import builtin_scenario, check, load_scenario, solve
from broker.db import head_revision
from broker.ledger import Broker, LedgerConflict
from broker.report import Utilization, utilization
from broker.sweep import SweepResult, run_sweep, run_variant
from broker.variants import resolve as resolve_variant
from models import InputError, Plan, PlanError, Scenario, ScenarioError, Status
from models.check import CheckReport, Violation
from solvers import Engine, ProgressEvent, SolveOptions

__version__ = "0.1.0"

__all__ = [
    "Broker",
    "CheckReport",
    "Engine",
    "InputError",
    "LedgerConflict",
    "Plan",
    "PlanError",
    "ProgressEvent",
    "Scenario",
    "ScenarioError",
    "SolveOptions",
    "Status",
    "SweepResult",
    "Utilization",
    "Violation",
    "builtin_scenario",
    "check",
    "head_revision",
    "load_scenario",
    "resolve_variant",
    "run_sweep",
    "run_variant",
    "solve",
    "utilization",
]
