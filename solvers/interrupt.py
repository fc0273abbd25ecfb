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
from typing import NamedTuple

from models.plan import Plan
from models.scenario import Scenario
from solvers.options import SolveOptions, StopFlag

# Seconds the worker has to come back after the first SIGINT before the plan is taken
# from the incumbent; longer for a portfolio, whose children write their plans first.
GRACE = 2.0
PORTFOLIO_GRACE = 8.0
EXIT_INTERRUPTED = 130
# The time limit is the command's (docs/solver.md): a worker still busy this share of the
# limit after the deadline (in a phase that does not look at the clock, such as a
# constructive plan of 100,000 requests) is left running and the plan is taken from the
# search's incumbent, as after a SIGINT, so that the command ends within the limit + 10%.
DEADLINE_GRACE = 0.03


class Outcome(NamedTuple):
    plan: Plan
    # Stopped by SIGINT (exit 130).
    interrupted: bool
    # The worker is still running (the plan came from the incumbent): leave with os._exit.
    detached: bool


def solve_interruptibly(scenario: Scenario, options: SolveOptions) -> Outcome:
    """`solvers.solve`, stoppable by SIGINT and held to its time limit; returns the plan,
    whether SIGINT stopped it and whether the worker was left running. Call it from the
    main thread; after a stop the handler stays installed, so that a second SIGINT while
    the plan is being written exits at once."""
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
    deadline = None
    if options.time_limit is not None:
        start = options.started if options.started is not None else time.perf_counter()
        deadline = start + options.time_limit
    # Once the search writes its own plan (StopFlag.claim), it is waited for: taking the
    # snapshot would write the same rows a second time on the same interpreter, and the
    # writing keeps to the limit by itself (unmet reasons past it are not worked out).
    writing = False
    while worker.is_alive():
        worker.join(0.05)
        now = time.perf_counter()
        if writing or stop.snapshot is None:
            continue
        # Not a stop: a search that ends in the grace keeps its status (a stop would make
        # a proven optimum "feasible"); the search stops at the deadline by itself.
        late = deadline is not None and not stopped_at and (
            now > deadline + DEADLINE_GRACE * (options.time_limit or 0.0))
        if (stopped_at and now - stopped_at[0] > grace) or late:
            if not stop.claim("snapshot"):
                writing = True
                continue
            if late:
                signal.signal(signal.SIGINT, previous)
            return Outcome(stop.snapshot(), bool(stopped_at), True)
    if not stopped_at:
        signal.signal(signal.SIGINT, previous)
    if "error" in done:
        raise done["error"]  # type: ignore[misc]
    plan = done["plan"]
    assert isinstance(plan, Plan)
    return Outcome(plan, bool(stopped_at), False)
