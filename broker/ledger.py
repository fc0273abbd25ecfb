"""The broker as the service of record: a registry of workshops and material centers,
requests that arrive over time, and a ledger of committed capacity (docs/ledger.md).

    b = Broker("postgresql+psycopg://broker@db/broker")
    b.import_scenario("central-java.yaml")
    b.submit("requests.yaml")
    proposal = b.plan(time_limit=30)
    b.commit(proposal.plan_id)          # LedgerConflict when someone else got there first

Every method is one transaction: it happens wholly or not at all.
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.orm import Session

import models
from broker.bookings import (
    RequestBooking,
    Slot,
    Stock,
    add,
    overbooked,
    plan_bookings,
    residual_doc,
    scenario_hash,
)
from broker.db import migrate
from broker.db import schema as t
from broker.db.engine import WRITE_LOCK, is_sqlite, make_engine, resolve_url
from broker.db.registry import ImportCounts, now, registry_doc, store_scenario, store_workshop
from models.check import check, compute_kpis, recompute_cost
from models.plan import Cost, Plan
from models.scenario import Request as RequestModel
from models.scenario import Scenario
from models.scenario import Workshop as WorkshopModel
from solvers import SolveOptions, ortools_version, solve

# Violations of these kinds at commit are about the plan's claimed cost, which the ledger
# recomputes anyway (fixed costs another commit paid in between make a plan cheaper).
_COST_KINDS = frozenset({"cost", "objective", "kpi", "bound"})
_PG_MIGRATION_LOCK = 0x1BC0_B40C  # advisory lock id: one migrator at a time


class LedgerConflict(Exception):
    """The ledger changed so that the operation no longer fits: plan again.

    `problems` names what no longer fits, one line each."""

    def __init__(self, message: str, problems: Sequence[str] = ()):
        self.problems = list(problems)
        lines = "".join(f"\n  {p}" for p in self.problems)
        super().__init__(message + lines)
        self.message = message


class SchemaError(models.InputError):
    """The database is not at the schema revision this broker needs."""


# ----------------------------------------------------------------------------------------
# Typed results


@dataclass(frozen=True)
class ImportResult:
    source: str
    created: dict[str, int]
    updated: dict[str, int]
    unchanged: dict[str, int]
    ledger_version: int


@dataclass(frozen=True)
class ProcessInfo:
    process: str
    rate: float | None
    capacity: float | None  # base hours per period
    hours: float  # over the horizon
    booked: float  # committed hours over the horizon


@dataclass(frozen=True)
class WorkshopInfo:
    id: str
    name: str | None
    location: str
    certifications: list[str]
    engagement_cost: float
    processes: list[ProcessInfo]


@dataclass(frozen=True)
class StockInfo:
    material: str
    stock_kg: float
    booked_kg: float
    price_per_kg: float
    domestic: bool


@dataclass(frozen=True)
class CenterInfo:
    id: str
    name: str | None
    location: str
    stocks: list[StockInfo]


@dataclass(frozen=True)
class ComponentInfo:
    id: str
    name: str | None
    weight_kg: float
    processes: list[str]
    import_price: float | None
    offers: int


@dataclass(frozen=True)
class RequestRecord:
    id: str
    idempotency_key: str
    component: str
    quantity: int
    status: str  # open | committed | cancelled
    submitted_at: datetime
    plan_id: int | None
    document: dict[str, Any]


@dataclass(frozen=True)
class SubmitResult:
    request: RequestRecord
    created: bool  # False: the idempotency key was known, nothing was written


@dataclass(frozen=True)
class PlanResult:
    plan_id: int
    plan: Plan  # with a `ledger` key naming the plan id, version and requests
    scenario: Scenario  # what it was solved in: residual capacity, stock and fixed costs
    scenario_hash: str
    ledger_version: int
    requests: list[str]
    timings: dict[str, float]


@dataclass(frozen=True)
class CommitResult:
    plan_id: int
    run_id: int
    requests: list[str]
    hours: float
    kg: float
    cost: dict[str, float]  # recomputed against the ledger at commit
    ledger_version: int
    already: bool = False  # the plan was committed before; nothing was written now


@dataclass(frozen=True)
class Quote:
    request: str
    quantity: int
    status: str
    cost: float | None
    cost_terms: dict[str, float]
    on_time: bool  # every unit delivered by the request's due period in the cheapest plan
    completion_period: int | None  # last period of the cheapest plan (None: nothing made)
    earliest_period: int | None  # earliest period all units can be in, None: not in horizon
    earliest_date: date | None
    unmet: int
    imported: int
    seconds: float


@dataclass(frozen=True)
class RunRecord:
    id: int
    kind: str
    plan_id: int | None
    created_at: datetime
    ledger_version: int
    scenario_hash: str
    request_ids: list[str]
    options: dict[str, Any]
    solver_version: str
    status: str
    objective: float | None
    bound: float | None
    timings: dict[str, Any]
    message: str | None
    document: str | None = field(default=None, repr=False)
    scenario_document: str | None = field(default=None, repr=False)
    broker_version: str | None = None


@dataclass(frozen=True)
class LedgerExport:
    scenario: Scenario
    plan: Plan


# ----------------------------------------------------------------------------------------


class Broker:
    """Registry, requests and capacity ledger in one database (SQLite or PostgreSQL)."""

    def __init__(self, url: str | None = None, *, auto_migrate: bool = True,
                 check_schema: bool = True, engine: Engine | None = None):
        self.url = resolve_url(url)
        self.engine = engine if engine is not None else make_engine(self.url)
        self._sqlite = is_sqlite(self.engine)
        self._writer = self.engine.execution_options(**{WRITE_LOCK: True})
        # Planning reads the registry and the bookings in several statements: one snapshot.
        self._reader = (self.engine if self._sqlite else
                        self.engine.execution_options(isolation_level="REPEATABLE READ"))
        if check_schema:
            self._ensure_schema(auto_migrate)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Broker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- schema

    def _ensure_schema(self, auto_migrate: bool) -> None:
        head = migrate.head_revision()
        with self.engine.connect() as conn:
            current = migrate.current_revision(conn)
            empty = current is None and migrate.is_empty(conn)
        if current == head:
            return
        if empty and auto_migrate:
            self.upgrade()
            return
        where = resolve_url(self.url)
        raise SchemaError(where, [f"database at schema revision {current or '(none)'}, this "
                                  f"broker needs {head}: run `broker db upgrade`"])

    def upgrade(self, revision: str = "head") -> str | None:
        """Migrate the database to `revision`; returns the revision it is at now."""
        with self._writer.connect() as conn:
            if not self._sqlite:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                             {"k": _PG_MIGRATION_LOCK})
            migrate.upgrade(conn, revision)
            conn.commit()
        return self.revision()

    def downgrade(self, revision: str = "base") -> str | None:
        with self._writer.connect() as conn:
            if not self._sqlite:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                             {"k": _PG_MIGRATION_LOCK})
            migrate.downgrade(conn, revision)
            conn.commit()
        return self.revision()

    def revision(self) -> str | None:
        with self.engine.connect() as conn:
            return migrate.current_revision(conn)

    # ----- transactions

    @contextmanager
    def _write(self) -> Iterator[tuple[Session, t.Settings]]:
        """A write transaction holding the ledger lock: SQLite by BEGIN IMMEDIATE,
        PostgreSQL by the settings row FOR UPDATE. Writers wait for each other."""
        with Session(self._writer, expire_on_commit=False) as s, s.begin():
            st = s.scalars(select(t.Settings).where(t.Settings.id == 1)
                           .with_for_update()).one()
            yield s, st

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with Session(self._reader, expire_on_commit=False) as s, s.begin():
            yield s

    # ----- registry

    def import_scenario(self, source: str | Path | dict[str, Any] | Scenario) -> ImportResult:
        """Store a scenario's settings, locations, routes, materials, centers, workshops,
        components and offers (not its requests: `submit` takes those)."""
        name, sc = _scenario_of(source)
        counts = ImportCounts()
        with self._write() as (s, st):
            store_scenario(s, sc, counts)
            self._after_registry_change(s, st, name, bool(counts.created or counts.updated))
            version = st.version
        return ImportResult(name, dict(counts.created), dict(counts.updated),
                            dict(counts.unchanged), version)

    def import_workshops_csv(self, path: str | Path) -> ImportResult:
        """Workshops from a spreadsheet: columns id, name, location, certifications
        (separated by ';'), engagement_cost, and `capacity:<process>`, `rate:<process>`."""
        workshops = _read_workshops_csv(Path(path))
        counts = ImportCounts()
        with self._write() as (s, st):
            _require_registry(st)
            known = set(s.scalars(select(t.Location.id)))
            bad = [f"row {i + 2} (workshop {w.id}), column location: unknown location "
                   f"'{w.location}'" for i, w in enumerate(workshops)
                   if w.location not in known]
            if bad:
                raise models.InputError(str(path), bad)
            for w in workshops:
                counts.count("workshops", store_workshop(s, w))
            s.flush()
            self._after_registry_change(s, st, str(path),
                                        bool(counts.created or counts.updated))
            version = st.version
        return ImportResult(str(path), dict(counts.created), dict(counts.updated),
                            dict(counts.unchanged), version)

    def set_capacity(self, workshop: str, process: str, hours: float,
                     periods: Sequence[int] | None = None, *, rate: float | None = None
                     ) -> ImportResult:
        """Change a workshop's hours of `process`: in the given periods only, or its base
        capacity for every period without an override. Refused with LedgerConflict when
        it would leave committed hours without capacity."""
        where = f"capacity of {workshop}/{process}"
        if not math.isfinite(hours) or hours < 0:
            raise models.InputError(where, [f"hours: {hours} is not a number >= 0"])
        with self._write() as (s, st):
            _require_registry(st)
            if s.get(t.Workshop, workshop) is None:
                raise models.InputError(where, [f"unknown workshop '{workshop}'"])
            proc = s.get(t.WorkshopProcess, (workshop, process))
            if proc is None:
                if rate is None:
                    raise models.InputError(where, [
                        f"workshop '{workshop}' has no process '{process}': give its rate "
                        "to add it"])
                proc = t.WorkshopProcess(workshop_id=workshop, process=process, rate=rate,
                                         capacity=0.0 if periods else hours)
                s.add(proc)
                s.flush()
            elif rate is not None:
                proc.rate = rate
            if periods:
                bad = [p for p in periods if not 0 <= p < st.periods]
                if bad:
                    raise models.InputError(where, [
                        f"period {p} outside the horizon (0 .. {st.periods - 1})" for p in bad])
                for p in periods:
                    row = s.get(t.CapacityPeriod, (workshop, process, p))
                    if row is None:
                        s.add(t.CapacityPeriod(workshop_id=workshop, process=process,
                                               period=p, hours=hours))
                    else:
                        row.hours = hours
            else:
                proc.capacity = hours
            s.flush()
            self._after_registry_change(s, st, where)
            version = st.version
        return ImportResult(where, {}, {"capacity": len(periods or [0])}, {}, version)

    def _after_registry_change(self, s: Session, st: t.Settings, source: str,
                               changed: bool = True) -> None:
        """Validate the registry as a whole and re-derive the bookings of committed
        requests from its new hours; refuse a change that over-books the ledger."""
        if not changed:
            return
        doc = registry_doc(s)
        committed = [r.document for r in s.scalars(
            select(t.Request).where(t.Request.status == "committed").order_by(t.Request.id))]
        try:
            sc = models.scenario_from_dict(doc | {"requests": committed},
                                           f"registry after {source}")
        except models.ScenarioError as e:
            raise models.ScenarioError(e.source, e.problems) from None
        if committed:
            plan = self._ledger_plan(s, sc)
            report = check(sc, plan)
            bad = [str(v) for v in report.violations if v.kind not in _COST_KINDS]
            if bad:
                raise LedgerConflict(
                    f"{source} would break committed requests; cancel them first", bad[:20])
            s.execute(delete(t.BookedHours))
            s.execute(delete(t.BookedMaterial))
            for rid, bk in plan_bookings(sc, plan).items():
                rec = s.get(t.Request, rid)
                assert rec is not None and rec.plan_id is not None
                _write_bookings(s, rid, rec.plan_id, bk)
        st.version += 1
        st.updated_at = now()

    def workshops(self) -> list[WorkshopInfo]:
        with self._read() as s:
            periods = _settings(s).periods
            booked: dict[tuple[str, str], float] = defaultdict(float)
            for w, p, h in s.execute(select(t.BookedHours.workshop_id, t.BookedHours.process,
                                            func.sum(t.BookedHours.hours))
                                     .group_by(t.BookedHours.workshop_id,
                                               t.BookedHours.process)):
                booked[(w, p)] = float(h or 0.0)
            over: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
            for o in s.scalars(select(t.CapacityPeriod)):
                over[(o.workshop_id, o.process)][o.period] = o.hours
            procs: dict[str, list[ProcessInfo]] = defaultdict(list)
            for wp in s.scalars(select(t.WorkshopProcess)
                                .order_by(t.WorkshopProcess.process)):
                per = over.get((wp.workshop_id, wp.process), {})
                hours = sum(per.get(i, wp.capacity or 0.0) for i in range(periods))
                procs[wp.workshop_id].append(ProcessInfo(
                    wp.process, wp.rate, wp.capacity, hours,
                    booked[(wp.workshop_id, wp.process)]))
            return [WorkshopInfo(w.id, w.name, w.location_id, list(w.certifications),
                                 w.engagement_cost, procs[w.id])
                    for w in s.scalars(select(t.Workshop).order_by(t.Workshop.id))]

    def centers(self) -> list[CenterInfo]:
        with self._read() as s:
            booked = {(c, m): float(kg or 0.0) for c, m, kg in s.execute(
                select(t.BookedMaterial.center_id, t.BookedMaterial.material_id,
                       func.sum(t.BookedMaterial.kg))
                .group_by(t.BookedMaterial.center_id, t.BookedMaterial.material_id))}
            stocks: dict[str, list[StockInfo]] = defaultdict(list)
            for st in s.scalars(select(t.CenterStock).order_by(t.CenterStock.material_id)):
                stocks[st.center_id].append(StockInfo(
                    st.material_id, st.stock_kg, booked.get((st.center_id, st.material_id), 0.0),
                    st.price_per_kg, st.domestic))
            return [CenterInfo(c.id, c.name, c.location_id, stocks[c.id])
                    for c in s.scalars(select(t.MaterialCenter).order_by(t.MaterialCenter.id))]

    def components(self) -> list[ComponentInfo]:
        with self._read() as s:
            offers = {c: int(n) for c, n in s.execute(
                select(t.Offer.component_id, func.count()).group_by(t.Offer.component_id))}
            steps: dict[str, list[str]] = defaultdict(list)
            for st in s.scalars(select(t.ComponentStep).order_by(t.ComponentStep.step)):
                steps[st.component_id].append(st.process)
            return [ComponentInfo(c.id, c.name, c.weight_kg, steps[c.id], c.import_price,
                                  int(offers.get(c.id, 0)))
                    for c in s.scalars(select(t.Component).order_by(t.Component.id))]

    def registry(self) -> Scenario:
        """The registry as a scenario without requests, full capacity and stock."""
        with self._read() as s:
            _require_registry(_settings(s))
            return models.scenario_from_dict(registry_doc(s), "registry")

    # ----- requests

    def submit(self, source: str | Path | list[dict[str, Any]] | dict[str, Any]
               ) -> list[SubmitResult]:
        """Store new requests. `source`: a YAML/JSON file (a list of requests, or a
        scenario whose requests are taken) or the parsed document. Each request may carry
        an `idempotency_key` (default: its id); a key already stored returns the stored
        request and writes nothing."""
        name, items, prefix = _request_items(source)
        keys: list[str] = []
        docs: list[dict[str, Any]] = []
        problems: list[str] = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                problems.append(f"{prefix}[{i}]: a request must be a mapping of keys")
                continue
            item = dict(item)
            key = item.pop("idempotency_key", None)
            if key is not None and (not isinstance(key, str) or not key.strip()):
                problems.append(f"{prefix}[{i}].idempotency_key: must be a non-empty string")
            docs.append(item)
            keys.append(key if isinstance(key, str) and key.strip() else str(item.get("id")))
        if problems:
            raise models.InputError(name, problems)
        results: list[SubmitResult] = []
        with self._write() as (s, st):
            _require_registry(st)
            doc = registry_doc(s) | {"requests": docs}
            try:
                sc = models.scenario_from_dict(doc, name)
            except models.ScenarioError as e:
                raise models.InputError(name, [_reprefix(p, prefix) for p in e.problems]
                                        ) from None
            stamp = now()
            for i, (key, req) in enumerate(zip(keys, sc.requests, strict=True)):
                norm = _request_doc(req)
                fp = scenario_hash(norm)
                old = s.scalars(select(t.Request).where(t.Request.idempotency_key == key)
                                ).one_or_none()
                if old is not None:
                    if old.fingerprint != fp:
                        problems.append(f"{prefix}[{i}]: idempotency key '{key}' was used for "
                                        f"a different request (stored as '{old.id}')")
                    else:
                        results.append(SubmitResult(_record(old), created=False))
                    continue
                if s.get(t.Request, req.id) is not None:
                    problems.append(f"{prefix}[{i}].id: request '{req.id}' already exists "
                                    "with another idempotency key")
                    continue
                row = t.Request(id=req.id, idempotency_key=key, fingerprint=fp, document=norm,
                                component_id=req.component, quantity=req.quantity,
                                status="open", submitted_at=stamp)
                s.add(row)
                results.append(SubmitResult(_record(row), created=True))
            if problems:
                raise models.InputError(name, problems)
        return results

    def requests(self, status: str | None = None) -> list[RequestRecord]:
        with self._read() as s:
            q = select(t.Request).order_by(t.Request.submitted_at, t.Request.id)
            if status is not None:
                q = q.where(t.Request.status == status)
            return [_record(r) for r in s.scalars(q)]

    def request(self, request_id: str) -> RequestRecord:
        with self._read() as s:
            row = s.get(t.Request, request_id)
            if row is None:
                raise models.InputError("request", [f"unknown request '{request_id}'"])
            return _record(row)

    def cancel(self, request_id: str) -> RequestRecord:
        """Cancel a request; a committed one gives back everything it booked."""
        with self._write() as (s, st):
            row = s.get(t.Request, request_id)
            if row is None:
                raise models.InputError("request", [f"unknown request '{request_id}'"])
            if row.status == "cancelled":
                return _record(row)
            if row.status == "committed":
                for table in t.LEDGER_TABLES:
                    s.execute(delete(table).where(table.request_id == request_id))
                st.version += 1
            row.status = "cancelled"
            row.cancelled_at = now()
            return _record(row)

    # ----- planning

    def residual_scenario(self, request_ids: Sequence[str] | None = None
                          ) -> tuple[Scenario, int]:
        """The scenario a plan of these open requests (all when None) is made in, and the
        ledger version it reflects."""
        with self._read() as s:
            return self._residual(s, request_ids)

    def _residual(self, s: Session, request_ids: Sequence[str] | None,
                  extra: list[dict[str, Any]] | None = None) -> tuple[Scenario, int]:
        st = _settings(s)
        _require_registry(st)
        docs = extra if extra is not None else _open_docs(s, request_ids)
        doc = residual_doc(registry_doc(s), *_booked(s), docs)
        return models.scenario_from_dict(doc, "ledger"), st.version

    def plan(self, request_ids: Sequence[str] | None = None,
             options: SolveOptions | None = None, *, time_limit: float | None = None
             ) -> PlanResult:
        """Plan the open requests (all when none are named) against what is left after
        the committed ledger; the proposal is stored and returned, nothing is booked."""
        if options is None:
            options = SolveOptions(time_limit=time_limit)
        t0 = time.perf_counter()
        sc, version = self.residual_scenario(request_ids)
        t_load = time.perf_counter()
        result = solve(sc, options)
        t_solved = time.perf_counter()
        shash = scenario_hash(models.scenario_to_dict(sc))
        ids = [r.id for r in sc.requests]
        timings = {"load": t_load - t0, **(result.timings or {})}
        with Session(self._writer, expire_on_commit=False) as s, s.begin():
            run = t.Run(kind="plan", created_at=now(), ledger_version=version,
                        scenario_name=sc.name, scenario_hash=shash, request_ids=ids,
                        options=options.describe(), solver_version=ortools_version(),
                        status=result.status.value, objective=result.objective,
                        bound=result.bound, timings=timings)
            s.add(run)
            s.flush()
            doc = result.to_dict()
            doc["ledger"] = {"plan_id": run.id, "ledger_version": version, "requests": ids,
                             "scenario_hash": shash}
            run.document = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
            plan_id = run.id
        timings["store"] = time.perf_counter() - t_solved
        plan = models.plan_from_dict(doc)
        plan.timings = timings
        return PlanResult(plan_id, plan, sc, shash, version, ids, timings)

    def record_solve(self, scenario: Scenario, plan: Plan, options: SolveOptions
                     ) -> RunRecord:
        """Keep a `broker solve` run (scenario as solved, options, versions, plan) in the
        history, without touching the registry or the ledger."""
        from broker import __version__

        doc = models.scenario_to_dict(scenario)
        with Session(self._writer, expire_on_commit=False) as s, s.begin():
            run = t.Run(kind="solve", created_at=now(), ledger_version=_settings_version(s),
                        scenario_name=scenario.name, scenario_hash=scenario_hash(doc),
                        request_ids=[r.id for r in scenario.requests],
                        options=options.describe(), solver_version=ortools_version(),
                        status=plan.status.value, objective=plan.objective, bound=plan.bound,
                        timings=dict(plan.timings or {}), document=plan.to_json(),
                        scenario_document=json.dumps(doc, ensure_ascii=False),
                        broker_version=__version__)
            s.add(run)
            s.flush()
            return _run_record(run)

    def stored_plan(self, plan_id: int) -> Plan:
        with self._read() as s:
            run = s.get(t.Run, plan_id)
            if run is None or run.kind != "plan" or run.document is None:
                raise models.InputError("plan", [f"unknown plan id {plan_id}"])
            return models.plan_from_dict(json.loads(run.document), f"plan {plan_id}")

    def commit(self, plan: int | str | Path | Plan) -> CommitResult:
        """Book a plan's capacity and material and mark its requests committed, all or
        nothing. Raises LedgerConflict when the plan no longer fits the ledger (its
        requests are taken, or the hours or kg it needs were booked by others)."""
        p = self._plan_arg(plan)
        ledger = (p.model_extra or {}).get("ledger")
        if not isinstance(ledger, dict) or not isinstance(ledger.get("plan_id"), int):
            raise models.PlanError(_name(plan), [
                "ledger: missing; only plans made by `broker plan` can be committed"])
        plan_id = int(ledger["plan_id"])
        if not p.status.has_plan:
            raise models.PlanError(_name(plan), [
                f"status: {p.status.value}; a plan without an allocation cannot be committed"])
        try:
            return self._commit(p, plan_id)
        except LedgerConflict as e:
            self._record_refusal(plan_id, e)
            raise

    def _plan_arg(self, plan: int | str | Path | Plan) -> Plan:
        if isinstance(plan, Plan):
            return plan
        if isinstance(plan, int) or (isinstance(plan, str) and plan.isdigit()
                                     and not Path(plan).exists()):
            return self.stored_plan(int(plan))
        return models.load_plan(plan)

    def _commit(self, p: Plan, plan_id: int) -> CommitResult:
        t0 = time.perf_counter()
        with self._write() as (s, st):
            t_lock = time.perf_counter()
            run = s.get(t.Run, plan_id)
            if run is None or run.kind != "plan":
                raise models.PlanError("plan", [f"ledger.plan_id: unknown plan id {plan_id}"])
            done = s.scalars(select(t.Run).where(t.Run.kind == "commit", t.Run.plan_id == plan_id,
                                                 t.Run.status == "committed")).first()
            if done is not None:
                return CommitResult(plan_id, done.id, list(run.request_ids), 0.0, 0.0, {},
                                    st.version, already=True)
            ids = list(run.request_ids)
            rows = {r.id: r for r in s.scalars(select(t.Request).where(t.Request.id.in_(ids)))}
            taken = [f"request {rid} is {rows[rid].status}"
                     + (f" (plan {rows[rid].plan_id})" if rows[rid].plan_id else "")
                     for rid in ids if rows[rid].status != "open"]
            if taken:
                raise LedgerConflict(f"plan {plan_id} is stale: its requests are no longer "
                                     "open; plan again", taken)
            sc, _ = self._residual(s, None, [rows[rid].document for rid in ids])
            full = models.scenario_from_dict(registry_doc(s) | {
                "requests": [rows[rid].document for rid in ids]}, "registry")
            report = check(sc, p)
            t_check = time.perf_counter()
            books = plan_bookings(full, p)
            hours: dict[Slot, float] = defaultdict(float)
            kg: dict[Stock, float] = defaultdict(float)
            for bk in books.values():
                for k, v in bk.hours.items():
                    hours[k] += v
                for k2, v2 in bk.kg.items():
                    kg[k2] += v2
            booked_h, booked_kg, _, _ = _booked(s)
            over = overbooked(full, add(booked_h, hours), add(booked_kg, kg))
            if over:
                raise LedgerConflict(
                    f"plan {plan_id} no longer fits the ledger (planned at version "
                    f"{run.ledger_version}, now {st.version}): plan again", over)
            bad = [str(v) for v in report.violations if v.kind not in _COST_KINDS]
            if bad:
                raise LedgerConflict(f"plan {plan_id} does not fit the registry and ledger as "
                                     "they are now: plan again", bad[:20])
            assert report.cost is not None
            stamp = now()
            _write_rows(s, p, plan_id, books)
            for rid in ids:
                rows[rid].status = "committed"
                rows[rid].committed_at = stamp
                rows[rid].plan_id = plan_id
            version_before = st.version
            st.version += 1
            commit_run = t.Run(kind="commit", plan_id=plan_id, created_at=stamp,
                               ledger_version=version_before, scenario_name=sc.name,
                               scenario_hash=scenario_hash(models.scenario_to_dict(sc)),
                               request_ids=ids, options=run.options,
                               solver_version=run.solver_version, status="committed",
                               objective=report.objective, bound=run.bound, timings={})
            s.add(commit_run)
            s.flush()
            t_end = time.perf_counter()
            commit_run.timings = {"lock_wait": t_lock - t0, "check": t_check - t_lock,
                                  "write": t_end - t_check, "total": t_end - t0}
            return CommitResult(plan_id, commit_run.id, ids, math.fsum(hours.values()),
                                math.fsum(kg.values()), dict(report.cost), st.version)

    def _record_refusal(self, plan_id: int, e: LedgerConflict) -> None:
        with Session(self._writer) as s, s.begin():
            run = s.get(t.Run, plan_id)
            if run is None:
                return
            s.add(t.Run(kind="commit", plan_id=plan_id, created_at=now(),
                        ledger_version=_settings(s).version, scenario_name=run.scenario_name,
                        scenario_hash=run.scenario_hash, request_ids=run.request_ids,
                        options=run.options, solver_version=run.solver_version,
                        status="refused", objective=None, bound=run.bound, timings={},
                        message=str(e)))

    # ----- quote

    def quote(self, source: str | Path | dict[str, Any] | list[dict[str, Any]],
              *, time_limit: float = 0.5) -> Quote:
        """Cost and earliest on-time period of one new request against the committed
        ledger, without storing or booking anything."""
        t0 = time.perf_counter()
        name, items, prefix = _request_items(source)
        if len(items) != 1 or not isinstance(items[0], dict):
            raise models.InputError(name, [f"{prefix or '(document)'}: a quote is for exactly "
                                           f"one request, found {len(items)}"])
        item = {k: v for k, v in items[0].items() if k != "idempotency_key"}
        with self._read() as s:
            try:
                sc, _ = self._residual(s, None, [item])
            except models.ScenarioError as e:
                raise models.InputError(name, [_reprefix(p, prefix) for p in e.problems]
                                        ) from None
        req = sc.requests[0]
        options = SolveOptions(time_limit=time_limit)
        plan = solve(sc, options)
        if not plan.status.has_plan:
            return Quote(req.id, req.quantity, plan.status.value, None, {}, False, None,
                         None, None, 0, 0, time.perf_counter() - t0)
        due = sc.due(req)
        finals = [row.period for row in plan.production
                  if row.step == len(sc.component(req.component).routing) - 1]
        unmet = sum(u.quantity for u in plan.unmet)
        imported = sum(i.quantity for i in plan.imports)
        lead = sc.component(req.component).import_.lead_periods if imported else 0  # type: ignore[union-attr]
        completion = max([*finals, lead] if finals or imported else [-1])
        on_time = unmet == 0 and completion <= due
        earliest = _earliest(sc, time_limit, completion if on_time else None)
        start = sc.horizon.start
        when = (start + timedelta(days=earliest * sc.horizon.period_days)
                if start is not None and earliest is not None else None)
        assert plan.cost is not None and plan.objective is not None
        return Quote(req.id, req.quantity, plan.status.value, plan.objective,
                     plan.cost.as_dict(), on_time, completion if completion >= 0 else None,
                     earliest, when, unmet, imported, time.perf_counter() - t0)

    # ----- export and history

    def export(self) -> LedgerExport:
        """The registry with every committed request as a scenario, and every committed
        booking as one plan (SPEC section 7): the checker verifies the whole ledger."""
        with self._read() as s:
            st = _settings(s)
            _require_registry(st)
            committed = [r.document for r in s.scalars(
                select(t.Request).where(t.Request.status == "committed")
                .order_by(t.Request.id))]
            sc = models.scenario_from_dict(registry_doc(s) | {"requests": committed},
                                           "ledger")
            plan = self._ledger_plan(s, sc)
            return LedgerExport(sc, plan)

    def _ledger_plan(self, s: Session, sc: Scenario) -> Plan:
        doc: dict[str, Any] = {"scenario": sc.name, "status": "feasible"}
        doc["production"] = [
            {"request": r.request_id, "step": r.step, "workshop": r.workshop_id,
             "period": r.period, "quantity": r.quantity}
            for r in s.scalars(select(t.CommittedProduction).order_by(
                t.CommittedProduction.request_id, t.CommittedProduction.step,
                t.CommittedProduction.period, t.CommittedProduction.workshop_id))]
        doc["shipments"] = [
            {"request": r.request_id, "step": r.step, "from": r.from_id, "to": r.to_id,
             "quantity": r.quantity}
            for r in s.scalars(select(t.CommittedShipment).order_by(
                t.CommittedShipment.request_id, t.CommittedShipment.id))]
        kg: dict[tuple[str, str, str], list[float]] = defaultdict(list)
        for m in s.scalars(select(t.CommittedMaterial).order_by(t.CommittedMaterial.id)):
            kg[(m.center_id, m.workshop_id, m.material_id)].append(m.kg)
        doc["materials"] = [{"center": c, "workshop": w, "material": mat, "kg": math.fsum(v)}
                            for (c, w, mat), v in sorted(kg.items())]
        doc["imports"] = [{"request": r.request_id, "quantity": r.quantity}
                          for r in s.scalars(select(t.CommittedImport)
                                             .order_by(t.CommittedImport.request_id))]
        doc["unmet"] = [{"request": r.request_id, "quantity": r.quantity, "reason": r.reason}
                        for r in s.scalars(select(t.CommittedUnmet)
                                           .order_by(t.CommittedUnmet.request_id))]
        plan = models.plan_from_dict(doc, "ledger")
        cost = recompute_cost(sc, plan)
        plan.cost = Cost.from_dict(cost)
        plan.objective = math.fsum(cost.values())
        plan.kpis = compute_kpis(sc, plan, cost)
        return plan

    def runs(self, limit: int | None = None) -> list[RunRecord]:
        with self._read() as s:
            q = select(t.Run).order_by(t.Run.id.desc())
            if limit is not None:
                q = q.limit(limit)
            return [_run_record(r) for r in s.scalars(q)]

    def run(self, run_id: int) -> RunRecord:
        with self._read() as s:
            r = s.get(t.Run, run_id)
            if r is None:
                raise models.InputError("runs", [f"unknown run id {run_id}"])
            return _run_record(r)

    def ledger_version(self) -> int:
        with self._read() as s:
            return _settings(s).version


# ----------------------------------------------------------------------------------------
# Helpers


def _settings(s: Session) -> t.Settings:
    st = s.get(t.Settings, 1)
    assert st is not None
    return st


def _require_registry(st: t.Settings) -> None:
    if st.periods < 1:
        raise models.InputError("registry", [
            "the registry is empty: run `broker registry import SCENARIO` first"])


def _name(plan: object) -> str:
    return str(plan) if isinstance(plan, str | Path) else "plan"


def _scenario_of(source: str | Path | dict[str, Any] | Scenario) -> tuple[str, Scenario]:
    if isinstance(source, Scenario):
        return source.name, source
    if isinstance(source, dict):
        return "<scenario>", models.scenario_from_dict(source)
    from broker.api import load_scenario
    return str(source), load_scenario(source)


def _request_items(source: str | Path | list[dict[str, Any]] | dict[str, Any]
                   ) -> tuple[str, list[Any], str]:
    """(source name, request items, path prefix of the items in the document)."""
    if isinstance(source, str | Path):
        name, doc = str(source), models.read_document(source)
    else:
        name, doc = "<requests>", source
    if isinstance(doc, list):
        return name, doc, ""
    if isinstance(doc, dict):
        if "requests" in doc:
            items = doc["requests"]
            if not isinstance(items, list):
                raise models.InputError(name, ["requests: must be a list"])
            return name, items, "requests"
        if "id" in doc and "component" in doc:
            return name, [doc], "(request)"
    raise models.InputError(name, ["(document): expected a list of requests or a scenario "
                                   "with `requests`"])


def _reprefix(problem: str, prefix: str) -> str:
    if problem.startswith("requests[") and prefix != "requests":
        return prefix + problem[len("requests"):] if prefix != "(request)" else \
            problem.split("]", 1)[1].lstrip(".") or "(request)"
    return problem


def _request_doc(r: RequestModel) -> dict[str, Any]:
    return r.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True) \
        | {"id": r.id, "component": r.component, "quantity": r.quantity}


def _utc(d: datetime) -> datetime:
    # SQLite keeps no time zone; every stamp the broker writes is UTC.
    return d if d.tzinfo is not None else d.replace(tzinfo=UTC)


def _record(r: t.Request) -> RequestRecord:
    return RequestRecord(r.id, r.idempotency_key, r.component_id, r.quantity, r.status,
                         _utc(r.submitted_at), r.plan_id, dict(r.document))


def _settings_version(s: Session) -> int:
    """The ledger version, 0 before any registry import (a solve needs no registry)."""
    st = s.get(t.Settings, 1)
    return st.version if st is not None else 0


def _run_record(r: t.Run) -> RunRecord:
    return RunRecord(r.id, r.kind, r.plan_id, _utc(r.created_at), r.ledger_version, r.scenario_hash,
                     list(r.request_ids), dict(r.options), r.solver_version, r.status,
                     r.objective, r.bound, dict(r.timings), r.message, r.document,
                     r.scenario_document, r.broker_version)


def _open_docs(s: Session, request_ids: Sequence[str] | None) -> list[dict[str, Any]]:
    if request_ids is None or len(request_ids) == 0:
        rows = list(s.scalars(select(t.Request).where(t.Request.status == "open")
                              .order_by(t.Request.submitted_at, t.Request.id)))
        if not rows:
            raise models.InputError("requests", ["no open requests to plan"])
        return [r.document for r in rows]
    problems = []
    docs = []
    for i, rid in enumerate(dict.fromkeys(request_ids)):
        row = s.get(t.Request, rid)
        if row is None:
            problems.append(f"--request[{i}]: unknown request '{rid}'")
        elif row.status != "open":
            problems.append(f"--request[{i}]: request '{rid}' is {row.status}, not open")
        else:
            docs.append(row.document)
    if problems:
        raise models.InputError("requests", problems)
    return docs


def _booked(s: Session) -> tuple[dict[Slot, float], dict[Stock, float], set[str],
                                 set[tuple[str, str, int]]]:
    """Committed hours per slot, kg per stock, engaged workshops and tooled steps."""
    hours = {(w, p, per): float(h) for w, p, per, h in s.execute(
        select(t.BookedHours.workshop_id, t.BookedHours.process, t.BookedHours.period,
               func.sum(t.BookedHours.hours))
        .group_by(t.BookedHours.workshop_id, t.BookedHours.process, t.BookedHours.period))}
    kg = {(c, m): float(v) for c, m, v in s.execute(
        select(t.BookedMaterial.center_id, t.BookedMaterial.material_id,
               func.sum(t.BookedMaterial.kg))
        .group_by(t.BookedMaterial.center_id, t.BookedMaterial.material_id))}
    engaged = set(s.scalars(select(t.CommittedProduction.workshop_id).distinct()))
    tooled = {(w, c, st) for w, c, st in s.execute(
        select(t.CommittedProduction.workshop_id, t.Request.component_id,
               t.CommittedProduction.step).distinct()
        .join(t.Request, t.Request.id == t.CommittedProduction.request_id))}
    return hours, kg, engaged, tooled


def _write_bookings(s: Session, rid: str, plan_id: int, bk: RequestBooking) -> None:
    s.add_all(t.BookedHours(request_id=rid, plan_id=plan_id, workshop_id=w, process=p,
                            period=per, hours=h) for (w, p, per), h in bk.hours.items() if h)
    s.add_all(t.BookedMaterial(request_id=rid, plan_id=plan_id, center_id=c, material_id=m,
                               kg=kg) for (c, m), kg in bk.kg.items() if kg)


def _write_rows(s: Session, p: Plan, plan_id: int, books: dict[str, RequestBooking]) -> None:
    s.add_all(t.CommittedProduction(request_id=r.request, plan_id=plan_id, step=r.step,
                                    workshop_id=r.workshop, period=r.period,
                                    quantity=r.quantity) for r in p.production)
    s.add_all(t.CommittedShipment(request_id=r.request, plan_id=plan_id, step=r.step,
                                  from_id=r.from_, to_id=r.to, quantity=r.quantity)
              for r in p.shipments)
    s.add_all(t.CommittedImport(request_id=r.request, plan_id=plan_id, quantity=r.quantity)
              for r in p.imports)
    s.add_all(t.CommittedUnmet(request_id=r.request, plan_id=plan_id, quantity=r.quantity,
                               reason=r.reason) for r in p.unmet)
    for rid, bk in books.items():
        s.add_all(t.CommittedMaterial(request_id=rid, plan_id=plan_id, center_id=c,
                                      workshop_id=w, material_id=m, kg=kg)
                  for c, w, m, kg in bk.materials if kg)
        _write_bookings(s, rid, plan_id, bk)
    s.flush()


def _earliest(sc: Scenario, time_limit: float, known: int | None) -> int | None:
    """The earliest period by which every unit of the scenario's one request can be
    delivered (made, or imported with its lead time), by bisection over feasibility
    solves in which only lateness and unmet units cost anything."""
    req = sc.requests[0]
    doc = models.scenario_to_dict(sc)
    doc["transport"] = {"cost_per_kg_km": 0.0}
    pol = doc.setdefault("policy", {})
    pol.update({"min_local_content": 0.0, "import_tariff": 0.0})
    for w in doc.get("workshops", []):
        w["rate"] = {p: 0.0 for p in w.get("rate", {})}
        w["engagement_cost"] = 0.0
    for o in doc.get("offers", []):
        o.update({"tooling_cost": 0.0})
        if "unit_price" in o:
            o["unit_price"] = 0.0
    for c in doc.get("material_centers", []):
        for st in c.get("materials", {}).values():
            st["price_per_kg"] = 0.0
    for comp in doc.get("components", []):
        if "import" in comp:
            comp["import"]["price"] = 0.0
    lo = req.release
    hi = known if known is not None else sc.horizon.periods - 1

    def feasible(due: int) -> bool:
        r = dict(doc["requests"][0], due=due, late_penalty=1.0, unmet_penalty=1.0e3)
        probe = models.scenario_from_dict(doc | {"requests": [r]}, "quote")
        plan = solve(probe, SolveOptions(time_limit=time_limit))
        return plan.status.has_plan and plan.objective is not None and plan.objective < 0.5

    if known is None and not feasible(hi):
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if feasible(mid):
            hi = mid
        else:
            lo = mid + 1
    return hi


def _read_workshops_csv(path: Path) -> list[WorkshopModel]:
    try:
        text_ = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise models.InputError(str(path), ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise models.InputError(str(path), [f"cannot read file: {e}"]) from None
    reader = csv.DictReader(text_.splitlines())
    header = reader.fieldnames or []
    problems: list[str] = []
    for col in ("id", "location"):
        if col not in header:
            problems.append(f"header: missing column '{col}'")
    known = {"id", "name", "location", "certifications", "engagement_cost"}
    for col in header:
        if col not in known and not col.startswith(("capacity:", "rate:")):
            problems.append(f"header: unknown column '{col}' (use id, name, location, "
                            "certifications, engagement_cost, capacity:<process>, "
                            "rate:<process>)")
    if problems:
        raise models.InputError(str(path), problems)
    out: list[WorkshopModel] = []
    seen: set[str] = set()
    for n, row in enumerate(reader, start=2):
        where = f"row {n}"
        doc: dict[str, Any] = {"capacity": {}, "rate": {}}
        for col, raw in row.items():
            val = (raw or "").strip()
            if col is None or not val:
                continue
            if col in ("capacity", "rate") or col.startswith(("capacity:", "rate:")):
                kind, _, proc = col.partition(":")
                try:
                    doc[kind][proc.strip()] = float(val)
                except ValueError:
                    problems.append(f"{where}, column {col}: '{val}' is not a number")
            elif col == "engagement_cost":
                try:
                    doc[col] = float(val)
                except ValueError:
                    problems.append(f"{where}, column {col}: '{val}' is not a number")
            elif col == "certifications":
                doc[col] = [c.strip() for c in val.replace("|", ";").split(";") if c.strip()]
            else:
                doc[col] = val
        for proc in doc["capacity"]:
            if proc not in doc["rate"]:
                problems.append(f"{where}, column capacity:{proc}: no rate:{proc} given")
        try:
            w = WorkshopModel.model_validate(doc)
        except Exception as e:  # pydantic's ValidationError, reported per row
            from pydantic import ValidationError

            if not isinstance(e, ValidationError):
                raise
            from models.validate import pydantic_problems
            problems.extend(f"{where}, column {p}" for p in pydantic_problems(e))
            continue
        if w.id in seen:
            problems.append(f"{where}, column id: duplicate workshop '{w.id}'")
        seen.add(w.id)
        out.append(w)
    if problems:
        raise models.InputError(str(path), problems)
    return out


__all__ = [
    "Broker",
    "CenterInfo",
    "CommitResult",
    "ComponentInfo",
    "ImportResult",
    "LedgerConflict",
    "LedgerExport",
    "PlanResult",
    "Quote",
    "RequestRecord",
    "RunRecord",
    "SchemaError",
    "SubmitResult",
    "WorkshopInfo",
]
