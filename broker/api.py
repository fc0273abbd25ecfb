"""The library face of IMC Broker: what the `broker` command does, as functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import models
from models.check import CheckReport
from models.check import check as _check
from models.plan import Plan
from models.scenario import Scenario
from scenarios import DEFAULT_SCENARIO, builtin_dict, builtin_names, variants
from solvers import SolveOptions
from solvers import solve as _solve


def builtin_scenario(name: str = DEFAULT_SCENARIO) -> Scenario:
    """A built-in scenario by name (see `broker scenario list`)."""
    try:
        doc = builtin_dict(name)
    except KeyError:
        raise models.ScenarioError(
            name, [f"unknown built-in scenario '{name}' (known: {', '.join(builtin_names())})"]
        ) from None
    return models.scenario_from_dict(doc, f"built-in '{name}'")


def load_scenario(source: str | Path | dict[str, Any] | Scenario | None = None) -> Scenario:
    """A scenario from a file path, a built-in name, a parsed document, or None for the
    built-in default. Raises `models.ScenarioError` listing every problem."""
    if source is None:
        return builtin_scenario()
    if isinstance(source, Scenario):
        return source
    if isinstance(source, dict):
        if variants.is_variant(source):
            return variants.load(source)
        return models.scenario_from_dict(source)
    path = Path(source)
    if not path.exists() and isinstance(source, str) and source in builtin_names():
        return builtin_scenario(source)
    # A variant file (`extends:`) resolves to its scenario; a plain file reads as before.
    return variants.load(path)


def solve(scenario: Scenario | str | Path | dict[str, Any] | None = None,
          options: SolveOptions | None = None, **kwargs: Any) -> Plan:
    """Solve a scenario; keyword arguments are `SolveOptions` fields
    (time_limit, seed, threads, engine, gap, progress)."""
    if options is None:
        options = SolveOptions(**kwargs)
    elif kwargs:
        raise TypeError("give either options or keyword arguments, not both")
    return _solve(load_scenario(scenario), options)


def check(scenario: Scenario | str | Path | dict[str, Any], plan: Plan | str | Path) -> CheckReport:
    """Check a plan against its scenario with no solver; see `CheckReport.ok`."""
    sc = load_scenario(scenario)
    p = plan if isinstance(plan, Plan) else models.load_plan(plan)
    return _check(sc, p)
