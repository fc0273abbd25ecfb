"""Everything that builds and solves optimization models, behind one entry point:
`solve(scenario, options) -> Plan`.

The options are light to import; the pipeline (and OR-Tools with it) is loaded on the
first solve, so commands and services that never solve start quickly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from solvers.options import Engine, Formulation, Method, ProgressEvent, SolveOptions

if TYPE_CHECKING:
    from models.plan import Plan
    from models.scenario import Scenario

__all__ = ["Engine", "Formulation", "Method", "ProgressEvent", "SolveOptions", "ortools_version",
           "solve"]


def solve(scenario: Scenario, options: SolveOptions | None = None) -> Plan:
    """Solve `scenario` exactly (SPEC sections 4 to 6) and return a plan (section 7),
    with the calendar of a dated scenario (SPEC 8.1, `models.dates.with_dates`)."""
    from models.dates import with_dates

    if options is not None and options.keep is not None:
        from solvers.repair import solve_keeping

        return with_dates(scenario, solve_keeping(scenario, options))
    from solvers.pipeline import solve as run

    return run(scenario, options)


def ortools_version() -> str:
    from solvers.pipeline import ortools_version as version

    return version()
