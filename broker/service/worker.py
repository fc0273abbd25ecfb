"""The process that solves one plan job (see jobs.py). It needs only the database URL and
the job id: the job's row says what to plan, and the process writes its progress and its
end there, so it runs the same in a forked process of the server and on a Dask worker.

Imported by the server's fork server ahead of time: the solver and the ledger are loaded
once, and every job is a cheap fork.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
import traceback
from typing import Any

import models
import solvers.engines  # noqa: F401 - loaded once by the fork server, not by every job
from broker.ledger import Broker
from broker.service.jobs import JobTable
from models.plan import Plan
from models.scenario import Scenario
from solvers import ProgressEvent, SolveOptions
from solvers.options import StopFlag

log = logging.getLogger("broker.service")

_PR_SET_PDEATHSIG = 1  # linux/prctl.h

# Progress is written at most this often (the last event before the end always is).
PROGRESS_EVERY_S = 0.25


class _Reporter:
    def __init__(self, table: JobTable, job_id: str, cooperative: bool, stop: StopFlag):
        self.table, self.job_id, self.cooperative = table, job_id, cooperative
        self.stop = stop
        self.last = 0.0
        self.phase: str | None = None
        self.pending: dict[str, Any] | None = None

    def __call__(self, ev: ProgressEvent) -> None:
        self.pending = {"phase": ev.phase, "elapsed": round(ev.elapsed, 3),
                        "incumbent": ev.incumbent, "bound": ev.bound, "gap": ev.gap}
        t = time.monotonic()
        if t - self.last < PROGRESS_EVERY_S and ev.phase == self.phase:
            return
        self.flush()
        self.last, self.phase = t, ev.phase

    def flush(self) -> None:
        if self.pending is None:
            return
        cancel = self.table.progress(self.job_id, self.pending)
        self.pending = None
        if cancel and self.cooperative:
            # The search stops at its next look at the flag and returns its best plan.
            self.stop.set()


def die_with_parent() -> None:
    """Be killed when the parent process dies: a solve whose server was killed answers
    no one. On Linux the kernel does it (PR_SET_PDEATHSIG), even while the solver holds
    the interpreter; elsewhere a thread watches the parent."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL) == 0:
                if os.getppid() != parent:  # it died before the call
                    os._exit(3)
                return
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _interruptible(sc: Scenario, options: SolveOptions) -> Plan:
    from solvers.interrupt import solve_interruptibly

    return solve_interruptibly(sc, options).plan


def run_plan_job(url: str, job_id: str, cooperative: bool = False) -> str:
    """Solve the plan job `job_id` of the database at `url` to its end; returns the
    job's final status. `cooperative`: stop at the next progress event once a cancel is
    flagged (on Dask, where no signal reaches the task); otherwise SIGINT stops it."""
    if not cooperative:
        die_with_parent()
        signal.signal(signal.SIGINT, signal.default_int_handler)
    b = Broker(url, auto_migrate=False)
    table = JobTable(b.engine)
    try:
        return _run(b, table, job_id, cooperative)
    finally:
        b.close()


def _run(b: Broker, table: JobTable, job_id: str, cooperative: bool) -> str:
    if not table.start(job_id, os.getpid()):
        return "skipped"  # cancelled while it waited
    job = table.get(job_id)
    assert job is not None
    stop = StopFlag()
    reporter = _Reporter(table, job_id, cooperative, stop)
    opts = job.options
    options = SolveOptions(time_limit=opts.get("time_limit"), seed=int(opts.get("seed", 0)),
                           progress=reporter, stop=stop)
    try:
        # Here SIGINT (a cancel) stops the search, which hands back the best plan it has
        # with its bound, taken from the incumbent should an engine call not come back
        # within the grace (solvers/interrupt.py); before the solve it is a
        # KeyboardInterrupt, and nothing is stored. On Dask no signal comes: the
        # progress callback sets the flag.
        result = b.plan(job.request_ids, options,
                        solver=None if cooperative else _interruptible)
    except KeyboardInterrupt:
        table.finish(job_id, "cancelled", message="cancelled before the solver had a plan "
                     "to keep; nothing was stored or booked")
        return "cancelled"
    except models.InputError as e:
        table.finish(job_id, "failed", message=str(e))
        return "failed"
    except Exception as e:  # noqa: BLE001 - the job row says it failed; the log says why
        traceback.print_exc(file=sys.stderr)
        table.finish(job_id, "failed", message=f"internal error ({type(e).__name__}); "
                     "see the server log; nothing was booked")
        return "failed"
    # The plan is stored: a late SIGINT must not turn it into a lost job.
    if not cooperative:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    reporter.flush()
    after = table.get(job_id)
    cancelled = after is not None and after.cancel_requested
    status = result.plan.status.value
    if cancelled and not result.plan.status.has_plan:
        table.finish(job_id, "cancelled", message=f"cancelled before the solver had a plan "
                     f"to keep ({status}); nothing was booked")
        return "cancelled"
    if cancelled:
        table.finish(job_id, "cancelled", plan_id=result.plan_id,
                     message=f"cancelled; the best plan found so far is kept ({status})")
        return "cancelled"
    table.finish(job_id, "done", plan_id=result.plan_id, message=f"plan {status}")
    return "done"
