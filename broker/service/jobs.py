"""Plans as jobs: `POST /v1/plans` stores a job and returns at once; the solve runs in a
process of its own (or on a Dask cluster), which writes its progress and its end into
the `jobs` table. So a job outlives the client that asked for it, `GET /v1/jobs/{id}`
reads the same row whichever process wrote it, and a server that restarts finds the jobs
it was running and marks them `interrupted` instead of losing them silently.

A job is `queued`, `running`, then `done` (a stored plan), `failed` (bad input, or the
solve process died), `cancelled` (`DELETE /v1/jobs/{id}`; it keeps the best plan when the
solver returned one) or `interrupted` (the server stopped while it ran). A job never
books anything: a plan is a proposal until `POST /v1/commits`, which is one transaction.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import signal
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

import models
from broker.ledger.db import schema as t
from broker.ledger.db.engine import WRITE_LOCK
from broker.ledger.db.registry import now

log = logging.getLogger("broker.service")

UNFINISHED = ("queued", "running")
FINISHED = ("done", "failed", "cancelled", "interrupted")
# After SIGINT a solve has this long to hand back its best plan before it is killed.
CANCEL_GRACE_S = 10.0

INTERRUPTED = ("the server stopped while this job was {was}; its solve was lost and "
               "nothing was booked: plan again")


@dataclass(frozen=True)
class JobRecord:
    id: str
    kind: str
    status: str
    owner: str
    key_id: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    request_ids: list[str] | None
    options: dict[str, Any]
    progress: dict[str, Any] | None
    cancel_requested: bool
    plan_id: int | None
    message: str | None


def _count(result: Any) -> int:
    """Rows an UPDATE matched."""
    return int(result.rowcount)


def _utc(d: datetime | None) -> datetime | None:
    from datetime import UTC

    return d if d is None or d.tzinfo is not None else d.replace(tzinfo=UTC)


def _record(j: t.Job) -> JobRecord:
    created = _utc(j.created_at)
    assert created is not None
    return JobRecord(j.id, j.kind, j.status, j.owner, j.key_id, created, _utc(j.started_at),
                     _utc(j.finished_at), list(j.request_ids) if j.request_ids is not None
                     else None, dict(j.options or {}), dict(j.progress) if j.progress else None,
                     bool(j.cancel_requested), j.plan_id, j.message)


class JobTable:
    """The `jobs` table; used by the server and by the processes that solve."""

    def __init__(self, engine: Engine):
        self._engine = engine
        # SQLite: take the write lock at BEGIN (see broker.ledger.db.engine), as every writer does.
        self._writer = engine.execution_options(**{WRITE_LOCK: True})

    def create(self, owner: str, key_id: str | None, request_ids: Sequence[str] | None,
               options: dict[str, Any]) -> JobRecord:
        with Session(self._writer, expire_on_commit=False) as s, s.begin():
            job = t.Job(id=uuid.uuid4().hex, kind="plan", status="queued", owner=owner,
                        key_id=key_id, created_at=now(),
                        request_ids=list(request_ids) if request_ids is not None else None,
                        options=options, cancel_requested=False)
            s.add(job)
        return _record(job)

    def get(self, job_id: str) -> JobRecord | None:
        with Session(self._engine) as s:
            j = s.get(t.Job, job_id)
            return _record(j) if j is not None else None

    def list(self, limit: int = 50, offset: int = 0) -> list[JobRecord]:
        with Session(self._engine) as s:
            q = select(t.Job).order_by(t.Job.created_at.desc(), t.Job.id).limit(limit) \
                .offset(offset)
            return [_record(j) for j in s.scalars(q)]

    def start(self, job_id: str, pid: int) -> bool:
        """Mark a queued job running; False when it is no longer queued (cancelled)."""
        with Session(self._writer) as s, s.begin():
            n = _count(s.execute(update(t.Job).where(t.Job.id == job_id,
                                                     t.Job.status == "queued")
                                 .values(status="running", started_at=now(), pid=pid)))
        return bool(n)

    def progress(self, job_id: str, event: dict[str, Any]) -> bool:
        """Store the latest progress event; returns whether a cancel was asked for."""
        with Session(self._writer) as s, s.begin():
            s.execute(update(t.Job).where(t.Job.id == job_id, t.Job.status == "running")
                      .values(progress=event))
            return bool(s.scalar(select(t.Job.cancel_requested).where(t.Job.id == job_id)))

    def finish(self, job_id: str, status: str, *, plan_id: int | None = None,
               message: str | None = None) -> bool:
        """End an unfinished job; False when it had ended already (the first end wins)."""
        assert status in FINISHED
        values: dict[str, Any] = {"status": status, "finished_at": now(), "message": message}
        if plan_id is not None:
            values["plan_id"] = plan_id
        with Session(self._writer) as s, s.begin():
            n = _count(s.execute(update(t.Job).where(t.Job.id == job_id,
                                                     t.Job.status.in_(UNFINISHED))
                                 .values(**values)))
        return bool(n)

    def request_cancel(self, job_id: str) -> JobRecord | None:
        """Flag a cancel; a job that has not started yet is cancelled on the spot."""
        with Session(self._writer, expire_on_commit=False) as s, s.begin():
            j = s.get(t.Job, job_id)
            if j is None:
                return None
            if j.status in UNFINISHED:
                j.cancel_requested = True
            if j.status == "queued":
                j.status, j.finished_at = "cancelled", now()
                j.message = "cancelled before it started; nothing was stored or booked"
        return _record(j)

    def interrupt_unfinished(self, owner: str, why: str = INTERRUPTED) -> int:
        """Mark every unfinished job of `owner` interrupted (after a restart or at
        shutdown); returns how many."""
        n = 0
        with Session(self._writer) as s, s.begin():
            for status, was in (("running", "running"), ("queued", "waiting to run")):
                n += _count(s.execute(update(t.Job).where(t.Job.owner == owner,
                                                          t.Job.status == status)
                                      .values(status="interrupted", finished_at=now(),
                                              message=why.format(was=was))))
        return n


# ----------------------------------------------------------------------------------------
# Running jobs


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
        if rec is None or rec.status in FINISHED:
            return rec
        with self._lock:
            proc = self._procs.get(job_id)
            fut = self._futures.get(job_id)
        if fut is not None:
            fut.cancel()  # a task not started yet; a running one stops at its next event
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
