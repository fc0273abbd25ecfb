"""IMC Broker: turns requests for manufactured components into an optimal, checked
allocation across workshops and material centers.

    from broker import load_scenario, solve, check
    plan = solve(load_scenario("my-scenario.yaml"), time_limit=60)
    assert check(scenario, plan).ok
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from broker.version import __version__ as __version__

if TYPE_CHECKING:
    from broker.analysis.sweep import SweepResult, run_sweep, run_variant
    from broker.api import builtin_scenario, check, load_scenario, solve
    from broker.errors import LedgerConflict, ReplayError, SchemaError
    from broker.ledger.db import head_revision
    from broker.ledger.disruption import Disruption
    from broker.ledger.facade import Broker
    from broker.ledger.results import RepairResult
    from broker.summary import PlanSummary, Utilization, summarize, utilization
    from models import InputError, Plan, PlanError, Scenario, ScenarioError, Status
    from models.check import CheckReport, Violation
    from scenarios.variants import resolve as resolve_variant
    from solvers import Engine, Method, ProgressEvent, SolveOptions

# Names are imported when first used: a command that needs neither the database nor the
# analysis tools (or only the ledger) starts without loading them, which keeps
# `broker quote` and friends quick.
_EXPORTS: dict[str, tuple[str, str]] = {
    "builtin_scenario": ("broker.api", "builtin_scenario"),
    "check": ("broker.api", "check"),
    "load_scenario": ("broker.api", "load_scenario"),
    "solve": ("broker.api", "solve"),
    "head_revision": ("broker.ledger.db", "head_revision"),
    "Broker": ("broker.ledger.facade", "Broker"),
    "LedgerConflict": ("broker.errors", "LedgerConflict"),
    "ReplayError": ("broker.errors", "ReplayError"),
    "SchemaError": ("broker.errors", "SchemaError"),
    "PlanSummary": ("broker.summary", "PlanSummary"),
    "Utilization": ("broker.summary", "Utilization"),
    "summarize": ("broker.summary", "summarize"),
    "utilization": ("broker.summary", "utilization"),
    "Disruption": ("broker.ledger.disruption", "Disruption"),
    "RepairResult": ("broker.ledger.results", "RepairResult"),
    "SweepResult": ("broker.analysis.sweep", "SweepResult"),
    "run_sweep": ("broker.analysis.sweep", "run_sweep"),
    "run_variant": ("broker.analysis.sweep", "run_variant"),
    "resolve_variant": ("scenarios.variants", "resolve"),
    "InputError": ("models", "InputError"),
    "Plan": ("models", "Plan"),
    "PlanError": ("models", "PlanError"),
    "Scenario": ("models", "Scenario"),
    "ScenarioError": ("models", "ScenarioError"),
    "Status": ("models", "Status"),
    "CheckReport": ("models.check", "CheckReport"),
    "Violation": ("models.check", "Violation"),
    "Engine": ("solvers", "Engine"),
    "Method": ("solvers", "Method"),
    "ProgressEvent": ("solvers", "ProgressEvent"),
    "SolveOptions": ("solvers", "SolveOptions"),
}


if not TYPE_CHECKING:
    # Only at run time: the type checker sees the imports above and nothing else.
    def __getattr__(name: str) -> Any:
        try:
            module, attr = _EXPORTS[name]
        except KeyError:
            raise AttributeError(f"module 'broker' has no attribute '{name}'") from None
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value



__all__ = [
    "Broker",
    "CheckReport",
    "Disruption",
    "Engine",
    "Method",
    "InputError",
    "LedgerConflict",
    "Plan",
    "PlanError",
    "PlanSummary",
    "ProgressEvent",
    "RepairResult",
    "Scenario",
    "ReplayError",
    "ScenarioError",
    "SchemaError",
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
    "summarize",
    "utilization",
]
