"""Running plan jobs: `JobRunner` takes queued jobs of the `jobs` table (jobs.py) and
solves each in a process of its own, forked from a server process that has the solver
loaded, or on a Dask cluster; the process runs `worker.run_plan_job`, which writes its
progress and its end back into the table.

Kept apart from jobs.py so that the table, which the solving process uses too, does not
import the process that uses it: jobs.py <- worker.py <- runner.py, one way.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import threading
from typing import Any

import models
from broker.service.jobs import FINISHED, JobRecord, JobTable

# After SIGINT a solve has this long to hand back its best plan before it is killed.
CANCEL_GRACE_S = 10.0


class JobRunner:
    """Solves queued jobs, at most `workers` at a time, each in a process of its own
    (forked from a server process that has the solver loaded, so a job starts in
    milliseconds), or on a Dask cluster (`dask://HOST:PORT`)."""

    def __init__(self, url: str, table: JobTable, *, workers: int = 2,
                 executor: str = "local"):
        self.url = url
        self.table = table
        self.workers = max(1, workers)
        self.executor = executor
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._procs: dict[str, multiprocessing.process.BaseProcess] = {}
        self._futures: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._client: Any = None
        self._closed = False

    def start(self) -> None:
        if self.executor == "local":
            ctx = multiprocessing.get_context("forkserver")
            # The fork server imports the solver once; every job is a fork of it.
            ctx.set_forkserver_preload(["broker.service.forkserver"])
            self._ctx = ctx
            # Start it now, so that it has loaded the solver by the time a job comes.
            from multiprocessing import forkserver

            forkserver.ensure_running()
            for i in range(self.workers):
                th = threading.Thread(target=self._dispatch, name=f"plan-worker-{i}",
                                      daemon=True)
                th.start()
                self._threads.append(th)
        else:
            self._client = dask_client(self.executor)

    def submit(self, job: JobRecord) -> None:
        if self._client is not None:
            from broker.service.worker import run_plan_job

            fut = self._client.submit(run_plan_job, self.url, job.id, True, pure=False,
                                      key=f"plan-job-{job.id}")
            with self._lock:
                self._futures[job.id] = fut
            fut.add_done_callback(lambda f, jid=job.id: self._dask_done(jid, f))
        else:
            self._queue.put(job.id)

    def _dask_done(self, job_id: str, fut: Any) -> None:
        with self._lock:
            self._futures.pop(job_id, None)
        if fut.status == "error":
            self.table.finish(job_id, "failed", message="the Dask worker failed: "
                              f"{type(fut.exception()).__name__}")
        elif fut.status == "cancelled":
            self.table.finish(job_id, "cancelled", message="cancelled before it started")

    def _dispatch(self) -> None:
        from broker.service.worker import run_plan_job

        while True:
            job_id = self._queue.get()
            if job_id is None or self._closed:
                return
            job = self.table.get(job_id)
            if job is None or job.status != "queued":
                continue
            proc = self._ctx.Process(target=run_plan_job, args=(self.url, job_id, False),
                                     name=f"plan-job-{job_id[:8]}", daemon=False)
            try:
                proc.start()
            except OSError as e:
                self.table.finish(job_id, "failed", message=f"could not start a solve "
                                  f"process: {e}")
                continue
            with self._lock:
                self._procs[job_id] = proc
            proc.join()
            with self._lock:
                self._procs.pop(job_id, None)
            if proc.exitcode not in (0, None):
                after = self.table.get(job_id)
                cancelled = after is not None and after.cancel_requested
                self.table.finish(
                    job_id, "cancelled" if cancelled else "failed",
                    message=("cancelled; the solve was stopped before it had a plan to "
                             "keep, nothing was stored or booked") if cancelled else
                    f"the solve process ended abnormally (exit code {proc.exitcode}); "
                    "nothing was booked")

    def cancel(self, job_id: str) -> JobRecord | None:
        """Ask a job to stop. A running solve gets SIGINT, on which it hands back the
        best plan it has (stored as the job's plan); it is killed if it has not ended
        after CANCEL_GRACE_S."""
        rec = self.table.request_cancel(job_id)
        with self._lock:
            proc = self._procs.get(job_id)
            fut = self._futures.get(job_id)
        if rec is None or rec.status in FINISHED:
            # A job cancelled before it started: its Dask task, if not running yet, is
            # dropped (one that started anyway finds the job cancelled and skips it).
            if fut is not None and rec is not None and rec.started_at is None:
                fut.cancel()
            return rec
        # A running Dask task is not cancelled through Dask, which would drop its result
        # and leave the solve running: it sees the flag at its next progress event and
        # hands back its best plan.
        if proc is not None and proc.pid is not None and proc.is_alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGINT)
            timer = threading.Timer(CANCEL_GRACE_S, _kill_if_alive, args=(proc,))
            timer.daemon = True
            timer.start()
        return self.table.get(job_id)

    def close(self, owner: str) -> None:
        """At shutdown: stop the solves and mark what was unfinished interrupted."""
        self._closed = True
        for _ in self._threads:
            self._queue.put(None)
        with self._lock:
            procs = list(self._procs.values())
        for p in procs:
            _kill_if_alive(p)
        for p in procs:
            p.join(timeout=5)
        self.table.interrupt_unfinished(owner)
        if self._client is not None:
            self._client.close()


def _kill_if_alive(proc: multiprocessing.process.BaseProcess) -> None:
    if proc.is_alive():
        proc.kill()


def dask_client(executor: str) -> Any:
    if not executor.startswith("dask://"):
        raise models.InputError("--executor", [f"unknown executor '{executor}': use local "
                                               "or dask://HOST:PORT"])
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - dask is a declared dependency
        raise models.InputError("--executor", ["the dask executor needs "
                                               "`pip install dask[distributed]`"]) from None
    address = "tcp://" + executor[len("dask://"):]
    try:
        return Client(address, timeout=10)
    except OSError as e:
        raise models.InputError("--executor", [f"cannot reach the Dask scheduler at "
                                               f"{address}: {e}"]) from None
