"""A solve that Ctrl-C stops gracefully: the first SIGINT stops the search and returns the
best plan found so far with its bound (status `feasible`); a second one exits at once
(status 130, nothing written).

The search runs in a worker thread so that the main thread can take the signal while an
engine call holds the worker in C++ (the engines release the GIL, but HiGHS does not
answer MathOpt's interrupter). The loop checks the stop flag between phases and between
neighbourhood iterations; should the worker still be inside a long engine call after
GRACE seconds, the plan is written from the incumbent the search holds at that moment.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import replace
from types import FrameType

from models.plan import Plan
from models.scenario import Scenario
from solvers.options import SolveOptions, StopFlag

# Seconds the worker has to come back after the first SIGINT before the plan is taken
# from the incumbent; longer for a portfolio, whose children write their plans first.
GRACE = 2.0
PORTFOLIO_GRACE = 8.0
EXIT_INTERRUPTED = 130


def solve_interruptibly(scenario: Scenario, options: SolveOptions) -> tuple[Plan, bool]:
    """`solvers.solve`, stoppable by SIGINT; returns the plan and whether it was stopped.
    Call it from the main thread; after a stop the handler stays installed, so that a
    second SIGINT while the plan is being written exits at once."""
    from solvers.pipeline import solve

    stop = options.stop or StopFlag()
    options = replace(options, stop=stop)
    done: dict[str, object] = {}

    def work() -> None:
        try:
            done["plan"] = solve(scenario, options)
        except BaseException as e:  # handed to the main thread
            done["error"] = e

    stopped_at: list[float] = []

    def on_sigint(_sig: int, _frame: FrameType | None) -> None:
        if stopped_at:
            os._exit(EXIT_INTERRUPTED)
        stopped_at.append(time.perf_counter())
        stop.set()

    previous = signal.signal(signal.SIGINT, on_sigint)
    worker = threading.Thread(target=work, name="solve", daemon=True)
    worker.start()
    grace = PORTFOLIO_GRACE if options.threads >= 2 else GRACE
    while worker.is_alive():
        worker.join(0.05)
        if stopped_at and time.perf_counter() - stopped_at[0] > grace and (
                stop.snapshot is not None):
            return stop.snapshot(), True
    if not stopped_at:
        signal.signal(signal.SIGINT, previous)
    if "error" in done:
        raise done["error"]  # type: ignore[misc]
    plan = done["plan"]
    assert isinstance(plan, Plan)
    return plan, bool(stopped_at)
