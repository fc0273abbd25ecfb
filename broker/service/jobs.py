"""Plans as jobs: `POST /v1/plans` stores a job and returns at once; the solve runs in a
process of its own (or on a Dask cluster), which writes its progress and its end into
the `jobs` table. So a job outlives the client that asked for it, `GET /v1/jobs/{id}`
reads the same row whichever process wrote it, and a server that restarts finds the jobs
it was running and marks them `interrupted` instead of losing them silently.

A job is `queued`, `running`, then `done` (a stored plan), `failed` (bad input, or the
solve process died), `cancelled` (`DELETE /v1/jobs/{id}`; it keeps the best plan when the
solver returned one) or `interrupted` (the server stopped while it ran). A job never
books anything: a plan is a proposal until `POST /v1/commits`, which is one transaction.

This module is the table; `runner.py` starts the solving processes (`worker.py`),
which use the table too.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from broker.ledger.db import schema as t
from broker.ledger.db.engine import WRITE_LOCK
from broker.ledger.db.registry import now

log = logging.getLogger("broker.service")

UNFINISHED = ("queued", "running")
FINISHED = ("done", "failed", "cancelled", "interrupted")

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
