"""Everything that builds and solves optimization models, behind one entry point:
`solve(scenario, options) -> Plan`.

The options are light to import; the pipeline (and OR-Tools with it) is loaded on the
first solve, so commands and services that never solve start quickly.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

from solvers.options import Engine, Formulation, Method, ProgressEvent, SolveOptions

if TYPE_CHECKING:
    from models.plan import Plan
    from models.scenario import Scenario
    from solvers.earliest import Earliest

__all__ = ["Engine", "Formulation", "Method", "ProgressEvent", "SolveOptions",
           "completion_period", "earliest_completion", "ortools_version", "solve",
           "solve_with_earliest"]


def solve(scenario: Scenario, options: SolveOptions | None = None) -> Plan:
    """Solve `scenario` exactly (SPEC sections 4 to 6) and return a plan (section 7),
    with the calendar of a dated scenario (SPEC 8.1, `models.dates.with_dates`)."""
    options = _timed(options)
    from models.dates import with_dates

    if options.keep is not None:
        from solvers.repair import solve_keeping

        return with_dates(scenario, solve_keeping(scenario, options))
    from solvers.pipeline import solve as run

    return run(scenario, options)


def earliest_completion(scenario: Scenario, options: SolveOptions | None = None, *,
                        by: int | None = None) -> Earliest:
    """The earliest period by which every unit of the one request of `scenario` can be
    delivered, in one MIP (solvers/earliest.py); `by`: a period by which the caller
    already has such a plan."""
    options = _timed(options)
    from solvers.earliest import earliest_completion as run

    return run(scenario, options, by=by)


def solve_with_earliest(scenario: Scenario, options: SolveOptions | None = None,
                        earliest_options: SolveOptions | None = None
                        ) -> tuple[Plan, Earliest | None]:
    """`solve(scenario, options)` and the `earliest_completion` of its one request (with
    `earliest_options`), on one built model (solvers/earliest.py); None: no plan."""
    options = _timed(options)
    from solvers.earliest import solve_with_earliest as run

    return run(scenario, options, earliest_options)


def completion_period(scenario: Scenario, plan: Plan) -> int:
    """The last period of the plan's one request: its last final-step period, or its
    imports' lead time; -1 when nothing is made or imported."""
    from solvers.earliest import completion_period as run

    return run(scenario, plan)


def _timed(options: SolveOptions | None) -> SolveOptions:
    """The options with the time limit counting from now where the caller set no start:
    the first solve of a process loads the pipeline (OR-Tools, numpy: 0.5 s on the 2-core
    machine), and a 3 s solve of the default scenario returned at 3.7 s when the limit
    counted only from after it."""
    options = options or SolveOptions()
    return options if options.started is not None else replace(
        options, started=time.perf_counter())


def ortools_version() -> str:
    from solvers.pipeline import ortools_version as version

    return version()
