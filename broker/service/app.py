"""The broker as an HTTP service (FastAPI): the ledger's registry, requests, quotes, plans
as jobs, commits, export and history under `/v1`, with API keys and roles.

    app = create_app(ServiceConfig(db="postgresql+psycopg://broker@db/broker"))

`broker serve` runs it under uvicorn. Every route calls the same library (`Broker`) and
database as the CLI, so a CLI commit and an HTTP commit see and lock the same ledger.
"""

# No `from __future__ import annotations` here: FastAPI reads the routes' annotations,
# which name dependencies local to create_app.
import contextlib
import json
import logging
import re
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request, Response
from fastapi.openapi.utils import get_openapi
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import models
from broker.ledger import Broker, LedgerConflict
from broker.ledger.bookings import plan_bookings
from broker.ledger.db import schema as t
from broker.ledger.db.engine import WRITE_LOCK
from broker.ledger.db.migrate import current_revision, head_revision
from broker.ledger.db.registry import now
from broker.ledger.disruption import Disruption
from broker.ledger.results import RepairResult, RequestRecord, RunRecord
from broker.ledger.store import utc
from broker.service import errors
from broker.service.auth import KeyStore, Principal
from broker.service.errors import BodyTooLarge, Problem
from broker.service.jobs import JobRecord, JobTable
from broker.service.quote import ResidentQuoter
from broker.service.runner import JobRunner
from broker.service.schemas import (
    CapacityIn,
    ChangeOut,
    CommitIn,
    CommitOut,
    DisruptionIn,
    ExportOut,
    Health,
    HoursBooked,
    ImportOut,
    JobOut,
    KgBooked,
    PlanIn,
    ProblemOut,
    ProcessOut,
    ProgressOut,
    QuoteOut,
    Ready,
    RepairOut,
    RequestOut,
    RequestPage,
    RunOut,
    WorkshopOut,
)
from models.scenario import Request as RequestModel
from models.scenario import Scenario as ScenarioModel
from scenarios import builtin_names

log = logging.getLogger("broker.service")

MAX_BODY = 20 * 1024 * 1024
# Run ids (plans, commits, repairs) are INTEGER columns, 32 bits on PostgreSQL: an id
# beyond is no run's (asked of the database it was a 500), and no offset need go past.
MAX_ID = 2**31 - 1

# Who may do what. A buyer key acts only on its own requests, a workshop key only on its
# own workshop; another party's object answers 404, as if it did not exist.
ROLES_OF: dict[str, tuple[str, ...]] = {
    "registry": ("planner",),
    "read": ("planner", "viewer"),
    "workshops": ("planner", "viewer", "workshop"),
    "capacity": ("planner", "workshop"),
    "submit": ("planner", "buyer"),
    "requests": ("planner", "viewer", "buyer"),
    "cancel": ("planner", "buyer"),
    "quote": ("planner", "buyer"),
    "plan": ("planner",),
    "commit": ("planner",),
    "disrupt": ("planner",),
}


@dataclass(frozen=True)
class ServiceConfig:
    db: str | None = None
    workers: int = 2
    executor: str = "local"  # or dask://HOST:PORT
    max_body: int = MAX_BODY
    # Jobs are owned by a server name: a restart marks its own unfinished jobs interrupted.
    name: str = "serve"
    quote_time_limit: float = 0.5
    # Worker processes that solve quotes (0: in the server's own threads); `broker serve`
    # starts one per core (docs/service.md, the resident quote).
    quote_processes: int = 0


class Service:
    """What the routes share: the broker, keys, jobs and the resident quote state."""

    def __init__(self, config: ServiceConfig):
        self.config = config
        self.broker = Broker(config.db)
        self.keys = KeyStore(self.broker.engine)
        self.jobs = JobTable(self.broker.engine)
        self.runner = JobRunner(self.broker.url, self.jobs, workers=config.workers,
                                executor=config.executor)
        self.quoter = ResidentQuoter(self.broker)
        self._writer = self.broker.engine.execution_options(**{WRITE_LOCK: True})

    def start(self) -> int:
        """Mark the jobs a previous run of this server left unfinished, start the solve
        workers; returns how many jobs were marked interrupted."""
        import solvers.engines  # noqa: F401 - the first quote should not pay for the import

        n = self.jobs.interrupt_unfinished(self.config.name)
        if n:
            log.warning("%d job(s) left unfinished by the last run marked interrupted", n)
        self.runner.start()
        with contextlib.suppress(models.InputError):  # an empty registry has nothing to load
            self.quoter.base()
        if self.config.quote_processes > 0:
            from broker.service.quote import QuotePool

            pool = QuotePool(self.broker.url, self.config.quote_processes)
            pool.warm()
            self.quoter.pool = pool
        return n

    def stop(self) -> None:
        if self.quoter.pool is not None:
            self.quoter.pool.close()
        self.runner.close(self.config.name)
        self.broker.close()

    def record(self, who: Principal, action: str, target: str | None,
               ledger_version: int | None = None, **detail: Any) -> None:
        """Keep who changed what (the `changes` history)."""
        with Session(self._writer) as s, s.begin():
            s.add(t.Change(at=now(), key_id=who.key_id, role=who.role, action=action,
                           target=target, ledger_version=ledger_version, detail=detail))


# ----------------------------------------------------------------------------------------
# Plumbing: body limit, JSON bodies, keys


class BodyLimit:
    """Refuse request bodies above `limit` bytes with 413, by Content-Length when given
    and by counting otherwise (chunked uploads)."""

    def __init__(self, app: Any, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    size = int(value)
                except ValueError:
                    size = 0
                if size > self.limit:
                    await _send_problem(send, errors.too_large(self.limit), scope["path"])
                    return
        seen = 0

        async def counting() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, counting, send)


async def _send_problem(send: Any, p: Problem, path: str) -> None:
    body = json.dumps(p.body(path)).encode()
    await send({"type": "http.response.start", "status": p.status,
                "headers": [(b"content-type", errors.PROBLEM_JSON.encode()),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


async def json_body(request: Request) -> Any:
    return errors.parse_body(await request.body())


async def strict_body(request: Request) -> None:
    """For routes whose body FastAPI reads into a model (plans, commits, capacity): the
    body goes through the same parser as every other document first, so a duplicate key
    (`{"plan_id": 1, "plan_id": 2}`, which FastAPI's parser reads as 2) or nesting past
    the limit is a 422 naming its line, as in the CLI and the library."""
    if (await request.body()).strip():
        await json_body(request)


def _schema_ref(name: str) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{name}"}}}}}


PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"model": ProblemOut, "content": {errors.PROBLEM_JSON: {}}}
    for code in (401, 403, 404, 409, 413, 422)
}


# ----------------------------------------------------------------------------------------


def create_app(config: ServiceConfig | None = None) -> FastAPI:
    config = config or ServiceConfig()
    holder: dict[str, Service] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc = Service(config)
        svc.start()
        holder["svc"] = svc
        app.state.service = svc
        try:
            yield
        finally:
            svc.stop()

    app = FastAPI(title="IMC Broker", version=_version(), lifespan=lifespan,
                  description="Registry, requests, quotes, plans and the capacity ledger "
                  "of the virtual Indonesia Manufacturing Center. Keys travel as "
                  "`Authorization: Bearer KEY`; errors are RFC 9457 problem documents.",
                  responses=PROBLEMS)
    errors.install(app)
    app.add_middleware(BodyLimit, limit=config.max_body)
    app.add_middleware(errors.CatchAll)

    def svc() -> Service:
        return holder["svc"]

    def caller(authorization: Annotated[str | None, Header()] = None) -> Principal:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Problem(401, "an API key is required: `Authorization: Bearer KEY`",
                          headers={"WWW-Authenticate": "Bearer"})
        who = svc().keys.authenticate(authorization[7:].strip())
        if who is None:
            raise Problem(401, "unknown or revoked API key",
                          headers={"WWW-Authenticate": "Bearer"})
        return who

    def allowed(what: str) -> Callable[..., Awaitable[Principal]]:
        roles = ROLES_OF[what]

        # On the event loop: it reads nothing (a sync dependency is a trip to a thread).
        async def dep(who: Annotated[Principal, Depends(caller)]) -> Principal:
            if who.role not in roles:
                raise Problem(403, f"a {who.role} key may not do this (allowed: "
                              f"{', '.join(roles)})")
            return who

        return dep

    # ----- health

    @app.get("/healthz", response_model=Health, tags=["health"])
    def healthz() -> Health:
        """The process answers."""
        return Health(status="ok")

    @app.get("/readyz", response_model=Ready, tags=["health"],
             responses={503: {"model": ProblemOut}})
    def readyz() -> Ready:
        """The database answers and its schema is at the revision this broker needs."""
        b = svc().broker
        head = head_revision()
        try:
            with b.engine.connect() as conn:
                rev = current_revision(conn)
            version = b.ledger_version() if rev == head else None
        except Exception as e:  # noqa: BLE001 - any failure to reach the database
            log.warning("readiness: database does not answer: %s", e)
            raise Problem(503, "the database does not answer") from None
        if rev != head:
            raise Problem(503, f"database at schema revision {rev or '(none)'}, this broker "
                          f"needs {head}: run `broker db upgrade`")
        return Ready(status="ready", revision=rev, head=head, ledger_version=version)

    # ----- registry

    @app.put("/v1/registry", response_model=ImportOut, tags=["registry"],
             openapi_extra=_schema_ref("Scenario"))
    async def put_registry(request: Request,
                           who: Annotated[Principal, Depends(allowed("registry"))]
                           ) -> ImportOut:
        """Store or update the registry from a scenario document (its requests are not
        taken). `extends:` may name only a built-in scenario."""
        doc = _no_files(await json_body(request))
        res = await _threaded(svc().broker.import_scenario, doc)
        svc().record(who, "registry.put", res.source, res.ledger_version,
                     created=res.created, updated=res.updated)
        return ImportOut(**(asdict(res) | {"source": "request body"}))

    @app.post("/v1/registry/workshops.csv", response_model=ImportOut, tags=["registry"],
              openapi_extra={"requestBody": {"required": True, "content": {
                  "text/csv": {"schema": {"type": "string"}}}}})
    async def post_workshops_csv(request: Request,
                                 who: Annotated[Principal, Depends(allowed("registry"))]
                                 ) -> ImportOut:
        """Workshops from a spreadsheet, as `broker registry import workshops.csv`."""
        raw = await request.body()
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "workshops.csv"
            path.write_bytes(raw)
            try:
                res = await _threaded(svc().broker.import_workshops_csv, path)
            except models.InputError as e:
                raise models.InputError("workshops.csv", e.problems) from None
        svc().record(who, "registry.workshops_csv", "workshops.csv", res.ledger_version,
                     created=res.created, updated=res.updated)
        out = asdict(res) | {"source": "workshops.csv"}
        return ImportOut(**out)

    @app.get("/v1/workshops", response_model=list[WorkshopOut], tags=["registry"])
    def list_workshops(who: Annotated[Principal, Depends(allowed("workshops"))]
                       ) -> list[WorkshopOut]:
        """Workshops with hours and booked hours over the horizon (a workshop key sees
        its own)."""
        ws = svc().broker.workshops()
        if who.role == "workshop":
            ws = [w for w in ws if w.id == who.workshop]
        return [WorkshopOut(**(asdict(w) | {"processes": [ProcessOut(**asdict(p))
                                                          for p in w.processes]}))
                for w in ws]

    @app.patch("/v1/workshops/{workshop_id}/capacity", response_model=ImportOut,
               tags=["registry"],
               dependencies=[Depends(strict_body)])
    def patch_capacity(workshop_id: str, change: CapacityIn,
                       who: Annotated[Principal, Depends(allowed("capacity"))]) -> ImportOut:
        """Change the hours of one process, in some periods or its base capacity. 409
        when committed requests hold more hours than would be left."""
        if who.role == "workshop" and workshop_id != who.workshop:
            raise _not_found("workshop", workshop_id)
        if workshop_id not in _workshop_ids(svc()):
            raise _not_found("workshop", workshop_id)
        res = svc().broker.set_capacity(workshop_id, change.process, change.hours,
                                        change.periods or None, rate=change.rate)
        svc().record(who, "capacity.patch", workshop_id, res.ledger_version,
                     process=change.process, hours=change.hours, periods=change.periods,
                     rate=change.rate)
        return ImportOut(**asdict(res))

    # ----- requests

    @app.post("/v1/requests", response_model=RequestOut, status_code=201, tags=["requests"],
              openapi_extra=_schema_ref("Request"),
              responses={200: {"model": RequestOut, "description": "The stored request: "
                               "this Idempotency-Key was used before for the same content."}})
    async def post_request(request: Request, response: Response,
                           who: Annotated[Principal, Depends(allowed("submit"))],
                           idempotency_key: Annotated[str | None, Header()] = None
                           ) -> RequestOut:
        """Submit one request. With `Idempotency-Key`, a repeat returns the stored request
        (200); the same key with other content is 409."""
        doc = await json_body(request)
        if not isinstance(doc, dict):
            raise Problem(422, "request body: 1 problem(s)", errors=[
                "(document): a request must be a JSON object"])
        doc = _own_request(who, doc)
        if idempotency_key is not None:
            if not idempotency_key.strip():
                raise Problem(422, "Idempotency-Key: 1 problem(s)", errors=[
                    "Idempotency-Key: must be a non-empty string"])
            doc["idempotency_key"] = idempotency_key
        try:
            # Always a list of one: the library reads a dict with `requests` as several,
            # which would store what this route does not answer for, unchecked by
            # _own_request.
            results = await _threaded(svc().broker.submit, {"requests": [doc]})
        except models.InputError as e:
            problems = [_one_request_line(svc(), who, p) for p in e.problems]
            clash = [p for p in problems if p.startswith("Idempotency-Key: ")
                     or "already exists with another idempotency key" in p]
            if clash:
                raise Problem(409, "the request clashes with a stored one", conflicts=clash
                              ) from None
            raise models.InputError(e.source, problems) from None
        res = results[0]
        if res.created:
            svc().record(who, "request.submit", res.request.id, None,
                         idempotency_key=res.request.idempotency_key)
        else:
            response.status_code = 200
        return _request_out(res.request)

    @app.get("/v1/requests", response_model=RequestPage, tags=["requests"])
    def list_requests(who: Annotated[Principal, Depends(allowed("requests"))],
                      status: Annotated[str | None, Query(
                          pattern="^(open|committed|cancelled)$")] = None,
                      component: str | None = None, buyer: str | None = None,
                      limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                      offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> RequestPage:
        """Requests in submission order, filtered by status, component and buyer (a
        buyer key sees its own only)."""
        rows = svc().broker.requests(status)
        if who.role == "buyer":
            rows = [r for r in rows if r.document.get("buyer") == who.buyer]
        if component is not None:
            rows = [r for r in rows if r.component == component]
        if buyer is not None:
            rows = [r for r in rows if r.document.get("buyer") == buyer]
        page = rows[offset:offset + limit]
        nxt = offset + limit if offset + limit < len(rows) else None
        return RequestPage(items=[_request_out(r) for r in page], total=len(rows),
                           limit=limit, offset=offset, next_offset=nxt)

    @app.get("/v1/requests/{request_id}", response_model=RequestOut, tags=["requests"])
    def get_request(request_id: str, who: Annotated[Principal, Depends(allowed("requests"))]
                    ) -> RequestOut:
        return _request_out(_visible_request(svc(), who, request_id))

    @app.delete("/v1/requests/{request_id}", response_model=RequestOut, tags=["requests"])
    def cancel_request(request_id: str,
                       who: Annotated[Principal, Depends(allowed("cancel"))]) -> RequestOut:
        """Cancel a request; a committed one gives back every hour and kg it booked.
        Cancelling twice is harmless."""
        before = _visible_request(svc(), who, request_id)
        rec = svc().broker.cancel(request_id)
        if before.status != "cancelled":
            svc().record(who, "request.cancel", request_id, svc().broker.ledger_version(),
                         was=before.status)
        return _request_out(rec)

    # ----- quotes

    @app.post("/v1/quotes", response_model=QuoteOut, tags=["planning"],
              openapi_extra=_schema_ref("Request"))
    async def post_quote(request: Request,
                         who: Annotated[Principal, Depends(allowed("quote"))],
                         time_limit: Annotated[float | None, Query(gt=0, le=60)] = None
                         ) -> QuoteOut:
        """Cost and earliest on-time period and date of one new request against the
        committed ledger; nothing is stored or booked."""
        doc = await json_body(request)
        if not isinstance(doc, dict):
            raise Problem(422, "request body: 1 problem(s)", errors=[
                "(document): a request must be a JSON object"])
        doc = _own_request(who, dict(doc))
        doc.setdefault("id", "quote")
        limit = time_limit or svc().config.quote_time_limit
        q, version = await _threaded(svc().quoter.quote, doc, time_limit=limit)
        return QuoteOut(**asdict(q), ledger_version=version)

    # ----- plans and jobs

    @app.post("/v1/plans", response_model=JobOut, status_code=202, tags=["planning"],
              dependencies=[Depends(strict_body)])
    def post_plan(body: PlanIn, response: Response,
                  who: Annotated[Principal, Depends(allowed("plan"))]) -> JobOut:
        """Start a plan of the named open requests (all open ones when omitted) as a job;
        poll `GET /v1/jobs/{id}`, then commit its plan."""
        s = svc()
        _check_plannable(s.broker, body.requests)
        job = s.jobs.create(s.config.name, who.key_id, body.requests,
                            {"time_limit": body.time_limit, "seed": body.seed})
        s.record(who, "plan.start", job.id, None, requests=body.requests,
                 time_limit=body.time_limit)
        s.runner.submit(job)
        response.headers["Location"] = f"/v1/jobs/{job.id}"
        return _job_out(s, job, with_plan=False)

    @app.get("/v1/jobs", response_model=list[JobOut], tags=["planning"])
    def list_jobs(who: Annotated[Principal, Depends(allowed("read"))],
                  limit: Annotated[int, Query(ge=1, le=1000)] = 50,
                  offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> list[JobOut]:
        return [_job_out(svc(), j, with_plan=False) for j in svc().jobs.list(limit, offset)]

    @app.get("/v1/jobs/{job_id}", response_model=JobOut, tags=["planning"])
    def get_job(job_id: str, who: Annotated[Principal, Depends(allowed("read"))]) -> JobOut:
        """Status, the latest progress event (phase, incumbent, bound, gap) and, when the
        job has one, the plan."""
        job = svc().jobs.get(job_id) if _storable(job_id) else None
        if job is None:
            raise _not_found("job", job_id)
        return _job_out(svc(), job, with_plan=True)

    @app.delete("/v1/jobs/{job_id}", response_model=JobOut, status_code=202,
                tags=["planning"])
    def cancel_job(job_id: str, who: Annotated[Principal, Depends(allowed("plan"))]
                   ) -> JobOut:
        """Cancel a job: its solve stops and keeps the best plan found, if any."""
        job = svc().runner.cancel(job_id) if _storable(job_id) else None
        if job is None:
            raise _not_found("job", job_id)
        svc().record(who, "plan.cancel", job_id, None, status=job.status)
        return _job_out(svc(), job, with_plan=True)

    # ----- commits

    @app.post("/v1/commits", response_model=CommitOut, status_code=201, tags=["planning"],
              responses={200: {"model": CommitOut, "description": "Committed before; "
                               "nothing written now."}},
              dependencies=[Depends(strict_body)])
    def post_commit(body: CommitIn, response: Response,
                    who: Annotated[Principal, Depends(allowed("commit"))]) -> CommitOut:
        """Book a plan, all or nothing. 409 naming what no longer fits when the ledger
        moved; a repeat of a committed plan returns the earlier commit (200)."""
        s = svc()
        if not 0 < body.plan_id <= MAX_ID:
            raise _not_found("plan", str(body.plan_id))
        try:
            plan = s.broker.stored_plan(body.plan_id)
        except models.InputError:
            if s.broker.is_repair(body.plan_id):
                raise Problem(404, f"no plan '{body.plan_id}': it is a repair; commit it "
                              f"with POST /v1/disruptions/{body.plan_id}/commit") from None
            raise _not_found("plan", str(body.plan_id)) from None
        try:
            res = s.broker.commit(body.plan_id)
        except LedgerConflict:
            # The library keeps the refusal as a commit run; name the key behind it.
            refused = _refused_run(s, body.plan_id)
            if refused is not None:
                s.record(who, "commit.refused", f"run:{refused}", s.broker.ledger_version(),
                         plan_id=body.plan_id)
            raise
        if res.already:
            response.status_code = 200
        else:
            s.record(who, "commit", f"run:{res.run_id}", res.ledger_version,
                     plan_id=res.plan_id, requests=res.requests)
        hours, kg = _bookings(s, plan, res.requests)
        return CommitOut(plan_id=res.plan_id, run_id=res.run_id, requests=res.requests,
                         hours=res.hours, kg=res.kg, cost=res.cost,
                         ledger_version=res.ledger_version, already=res.already,
                         bookings=hours, materials=kg)

    # ----- disruptions and repair

    @app.post("/v1/disruptions", response_model=RepairOut, status_code=201,
              tags=["disruptions"],
              responses={200: {"model": RepairOut, "description": "A dry run: the repair "
                               "is proposed and kept, nothing is booked."}},
              dependencies=[Depends(strict_body)])
    def post_disruption(body: DisruptionIn, response: Response,
                        who: Annotated[Principal, Depends(allowed("disrupt"))]) -> RepairOut:
        """An event (a capacity cut, a workshop leaving, a stock cut, a road closed):
        what it breaks, and the repair of the committed ledger that moves as little as it
        can. Booked at once (`201`) unless `dry_run` (`200`: kept as a proposal, commit
        it with `POST /v1/disruptions/{repair_id}/commit`). `422` names the field of an
        unknown id or a missing value; `409` when no repair is found in the time given
        or another commit came first."""
        s = svc()
        event = Disruption.from_dict(body.event(), "request body")
        res = s.broker.disrupt(event, change_penalty=body.change_penalty,
                               time_limit=body.time_limit, seed=body.seed,
                               dry_run=body.dry_run, actor=f"key:{who.key_id}")
        s.record(who, "disruption.propose", f"run:{res.repair_id}", res.ledger_version,
                 event=res.event, freed=res.freed, moved_units=res.moved_units)
        if res.committed:
            s.record(who, "disruption.commit", f"run:{res.commit_run_id}",
                     s.broker.ledger_version(), repair_id=res.repair_id, freed=res.freed)
        else:
            response.status_code = 200
        response.headers["Location"] = f"/v1/runs/{res.repair_id}"
        return _repair_out(res)

    @app.post("/v1/disruptions/{repair_id}/commit", response_model=RepairOut,
              status_code=201, tags=["disruptions"],
              responses={200: {"model": RepairOut, "description": "Committed before; "
                               "nothing written now."}})
    def commit_disruption(repair_id: int, response: Response,
                          who: Annotated[Principal, Depends(allowed("disrupt"))]
                          ) -> RepairOut:
        """Book a repair proposed with `dry_run`: the event goes into the registry and the
        freed requests' rows and bookings are replaced, in one transaction. `409` when
        the ledger moved since the repair was proposed (propose it again); a repeat
        returns the earlier commit (`200`)."""
        s = svc()
        if not 0 < repair_id <= MAX_ID or not s.broker.is_repair(repair_id):
            raise _not_found("repair", str(repair_id))
        before = _repair_commit_run(s, repair_id)
        res = s.broker.commit_repair(repair_id, actor=f"key:{who.key_id}")
        if before is not None:
            response.status_code = 200
        else:
            s.record(who, "disruption.commit", f"run:{res.commit_run_id}",
                     s.broker.ledger_version(), repair_id=repair_id, freed=res.freed)
        return _repair_out(res, already=before is not None)

    # ----- export and history

    @app.get("/v1/export", response_model=ExportOut, tags=["history"])
    def export(who: Annotated[Principal, Depends(allowed("read"))]) -> ExportOut:
        """The whole ledger as one scenario and one plan, for the checker."""
        ex = svc().broker.export()
        return ExportOut(scenario=models.scenario_to_dict(ex.scenario), plan=ex.plan.to_dict())

    @app.get("/v1/runs", response_model=list[RunOut], tags=["history"])
    def list_runs(who: Annotated[Principal, Depends(allowed("read"))],
                  limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> list[RunOut]:
        runs = svc().broker.runs(limit)
        keys = _run_keys(svc(), [r.id for r in runs])
        return [_run_out(r, keys.get(r.id)) for r in runs]

    @app.get("/v1/runs/{run_id}", response_model=RunOut, tags=["history"])
    def get_run(run_id: int, who: Annotated[Principal, Depends(allowed("read"))]) -> RunOut:
        if not 0 < run_id <= MAX_ID:
            raise _not_found("run", str(run_id))
        try:
            r = svc().broker.run(run_id)
        except models.InputError:
            raise _not_found("run", str(run_id)) from None
        out = _run_out(r, _run_keys(svc(), [r.id]).get(r.id))
        if r.document:
            out.plan = json.loads(r.document)
        return out

    @app.get("/v1/changes", response_model=list[ChangeOut], tags=["history"])
    def list_changes(who: Annotated[Principal, Depends(allowed("read"))],
                     limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                     key: str | None = None) -> list[ChangeOut]:
        """Every change made through the service, newest first, with the key that made
        it."""
        with Session(svc().broker.engine) as s:
            q = select(t.Change).order_by(t.Change.id.desc()).limit(limit)
            if key is not None:
                if not _storable(key):
                    return []
                q = q.where(t.Change.key_id == key)
            return [ChangeOut(id=c.id, at=utc(c.at), key=c.key_id, role=c.role, action=c.action,
                              target=c.target, ledger_version=c.ledger_version,
                              detail=dict(c.detail or {})) for c in s.scalars(q)]

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(title=app.title, version=app.version, routes=app.routes,
                          description=app.description)
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        for name, model in (("Scenario", ScenarioModel), ("Request", RequestModel)):
            js = model.model_json_schema(ref_template="#/components/schemas/{model}",
                                         by_alias=True)
            schemas.update(js.pop("$defs", {}))
            schemas[name] = js
        # The key of every /v1 route, so that /docs can send it ("Authorize").
        doc["components"]["securitySchemes"] = {"apiKey": {
            "type": "http", "scheme": "bearer",
            "description": "An API key made with `broker keys create`: "
                           "`Authorization: Bearer imc_<id>_<secret>`."}}
        for path, item in doc["paths"].items():
            if path.startswith("/v1/"):
                for op in item.values():
                    op["security"] = [{"apiKey": []}]
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
    return app


# ----------------------------------------------------------------------------------------
# Helpers of the routes


async def _threaded(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run blocking library code off the event loop (async routes read raw bodies)."""
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, *args, **kwargs)


def _version() -> str:
    from broker import __version__

    return __version__


def _not_found(kind: str, ident: str) -> Problem:
    return Problem(404, f"no {kind} '{ident}'")


def _storable(ident: str) -> bool:
    """Whether a text id could be stored at all: no id holds a NUL character, which
    PostgreSQL refuses even to compare (a 500 when asked)."""
    return "\x00" not in ident


def _no_files(doc: Any) -> Any:
    """A document received over HTTP may not make the server read its files: it must be
    a JSON object (the library reads a string as a file path or a built-in name), and
    `extends:` must name a built-in scenario, resolved with no directory to look in."""
    if not isinstance(doc, dict):
        raise Problem(422, "request body: 1 problem(s)", errors=[
            "(document): a scenario must be a JSON object; only `extends:` may name a "
            "built-in scenario"])
    if "extends" not in doc:
        return doc
    ext = doc["extends"]
    names = builtin_names()
    if not isinstance(ext, str) or ext not in names:
        raise Problem(422, "request body: 1 problem(s)", errors=[
            f"extends: {ext!r} is not a built-in scenario; a document sent to the service "
            f"may extend only a built-in one ({', '.join(names)}), never a file"])
    from scenarios import variants

    with tempfile.TemporaryDirectory() as empty:
        return variants.resolve(doc, base_dir=empty)


def _own_request(who: Principal, doc: dict[str, Any]) -> dict[str, Any]:
    """A buyer key submits and quotes for its own buyer: the field is filled in, and
    another buyer's name refused."""
    if who.role != "buyer":
        return doc
    named = doc.get("buyer")
    if named is not None and named != who.buyer:
        raise Problem(403, "a buyer key submits only its own requests (buyer "
                      f"'{who.buyer}')")
    return dict(doc) | {"buyer": who.buyer}


_CLASH = re.compile(r"idempotency key '(?P<key>.*)' was used for a different request "
                    r"\(stored as '(?P<id>.*)'\)$", re.S)


def _one_request_line(s: Service, who: Principal, problem: str) -> str:
    """A problem of the one request `POST /v1/requests` submits as `requests[0]`, with
    the path the request itself has (`component: ...`, as for a request file). A clash
    of Idempotency-Key names the stored request only to a caller who may see it."""
    for head in ("requests[0].", "requests[0]: "):
        if problem.startswith(head):
            problem = problem[len(head):]
            break
    else:
        return problem
    m = _CLASH.match(problem)
    if m is None:
        return problem if head.endswith(".") else f"(request): {problem}"
    line = f"Idempotency-Key: '{m['key']}' was used for a different request"
    try:
        _visible_request(s, who, m["id"])
    except Problem:
        return line
    return f"{line} (stored as '{m['id']}')"


def _visible_request(s: Service, who: Principal, request_id: str) -> RequestRecord:
    if not _storable(request_id):
        raise _not_found("request", request_id)
    try:
        rec = s.broker.request(request_id)
    except models.InputError:
        raise _not_found("request", request_id) from None
    if who.role == "buyer" and rec.document.get("buyer") != who.buyer:
        raise _not_found("request", request_id)
    return rec


def _request_out(r: RequestRecord) -> RequestOut:
    return RequestOut(id=r.id, idempotency_key=r.idempotency_key,
                      buyer=r.document.get("buyer"), component=r.component,
                      quantity=r.quantity, status=r.status, submitted_at=r.submitted_at,
                      plan_id=r.plan_id, document=r.document, due=r.due,
                      due_date=r.due_date, release_date=r.release_date)


def _workshop_ids(s: Service) -> set[str]:
    base, _ = s.quoter.base()
    return {w["id"] for w in base.get("workshops", [])}


def _check_plannable(b: Broker, ids: list[str] | None) -> None:
    """Refuse at once (422) what the job would fail on: unknown or closed requests."""
    if ids is None:
        if not b.requests("open"):
            raise models.InputError("requests", ["no open requests to plan"])
        return
    if not ids:
        raise models.InputError("requests", ["requests: give at least one id, or omit it "
                                             "for all open requests"])
    problems = []
    for i, rid in enumerate(ids):
        try:
            rec = b.request(rid) if _storable(rid) else None
        except models.InputError:
            rec = None
        if rec is None:
            problems.append(f"requests[{i}]: unknown request '{rid}'")
            continue
        if rec.status != "open":
            problems.append(f"requests[{i}]: request '{rid}' is {rec.status}, not open")
    if problems:
        raise models.InputError("requests", problems)


def _job_out(s: Service, j: JobRecord, *, with_plan: bool) -> JobOut:
    plan = None
    if with_plan and j.plan_id is not None:
        plan = s.broker.stored_plan(j.plan_id).to_dict()
    prog = j.progress
    return JobOut(id=j.id, kind=j.kind, status=j.status, created_at=j.created_at,
                  started_at=j.started_at, finished_at=j.finished_at, requests=j.request_ids,
                  options=j.options, progress=ProgressOut(**prog) if prog else None,
                  cancel_requested=j.cancel_requested, plan_id=j.plan_id, plan=plan,
                  message=j.message, key=j.key_id)


def _bookings(s: Service, plan: models.Plan, request_ids: list[str]
              ) -> tuple[list[HoursBooked], list[KgBooked]]:
    """What the plan books, per slot and per stock."""
    base, _ = s.quoter.base()
    docs = [s.broker.request(rid).document for rid in request_ids]
    sc = models.scenario_from_dict(base | {"requests": docs}, "commit")
    hours: dict[tuple[str, str, int], float] = {}
    kg: dict[tuple[str, str], float] = {}
    for bk in plan_bookings(sc, plan).values():
        for k, v in bk.hours.items():
            hours[k] = hours.get(k, 0.0) + v
        for k2, v2 in bk.kg.items():
            kg[k2] = kg.get(k2, 0.0) + v2
    return ([HoursBooked(workshop=w, process=p, period=per, hours=h)
             for (w, p, per), h in sorted(hours.items()) if h],
            [KgBooked(center=c, material=m, kg=v) for (c, m), v in sorted(kg.items()) if v])


def _repair_out(res: RepairResult, *, already: bool = False) -> RepairOut:
    return RepairOut(**(res.to_dict() | {"cost_delta": res.cost_delta, "already": already}))


def _refused_run(s: Service, plan_id: int) -> int | None:
    """The latest refused commit run of a plan (the one just refused: two refusals of one
    plan at the same instant may each find the other's)."""
    with Session(s.broker.engine) as ses:
        return ses.scalar(select(func.max(t.Run.id)).where(
            t.Run.kind == "commit", t.Run.plan_id == plan_id, t.Run.status == "refused"))


def _repair_commit_run(s: Service, repair_id: int) -> int | None:
    """The run that committed this repair, if one did."""
    with Session(s.broker.engine) as ses:
        return ses.scalar(select(t.Run.id).where(
            t.Run.kind == "commit", t.Run.plan_id == repair_id, t.Run.status == "committed"))


def _run_keys(s: Service, run_ids: list[int]) -> dict[int, str]:
    """The key behind each run: the job that made a plan, the call that made a commit."""
    if not run_ids:
        return {}
    out: dict[int, str] = {}
    with Session(s.broker.engine) as ses:
        for plan_id, key in ses.execute(select(t.Job.plan_id, t.Job.key_id)
                                        .where(t.Job.plan_id.in_(run_ids))):
            if plan_id is not None and key is not None:
                out[plan_id] = key
        targets = {f"run:{i}": i for i in run_ids}
        for target, key in ses.execute(select(t.Change.target, t.Change.key_id)
                                       .where(t.Change.target.in_(list(targets)))):
            if key is not None and target is not None:
                out[targets[target]] = key
    return out


def _run_out(r: RunRecord, key: str | None) -> RunOut:
    return RunOut(id=r.id, kind=r.kind, plan_id=r.plan_id, created_at=r.created_at,
                  ledger_version=r.ledger_version, scenario_hash=r.scenario_hash,
                  requests=r.request_ids, options=r.options, solver_version=r.solver_version,
                  status=r.status, objective=r.objective, bound=r.bound, timings=r.timings,
                  message=r.message, key=key)
