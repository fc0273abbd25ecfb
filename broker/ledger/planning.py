"""Planning against the ledger: the residual scenario (the registry less what is
committed), a proposal solved in it and stored, and the commit that books a proposal,
all or nothing, after checking it against the ledger as it is at that moment."""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import models
from broker.errors import LedgerConflict
from broker.ledger.bookings import (
    RequestBooking,
    Slot,
    Stock,
    add,
    overbooked,
    plan_bookings,
    residual_doc,
    scenario_hash,
)
from broker.ledger.db import schema as t
from broker.ledger.db.registry import now, registry_doc
from broker.ledger.requests import open_docs
from broker.ledger.results import CommitResult, PlanResult
from broker.ledger.store import Store, require_registry, settings
from models.check import check, supported_status
from models.evaluate import compute_kpis, recompute_cost
from models.plan import PLAN_FORMAT, Plan
from models.scenario import Scenario
from solvers import SolveOptions, ortools_version, solve


def residual_scenario(store: Store, request_ids: Sequence[str] | None = None
                      ) -> tuple[Scenario, int]:
    """The scenario a plan of these open requests (all when None) is made in, and the
    ledger version it reflects."""
    with store.snapshot() as s:
        return residual(s, request_ids)


def residual(s: Session, request_ids: Sequence[str] | None,
              extra: list[dict[str, Any]] | None = None) -> tuple[Scenario, int]:
    st = settings(s)
    require_registry(st)
    docs = extra if extra is not None else open_docs(s, request_ids)
    doc = residual_doc(registry_doc(s), *booked(s), docs)
    return models.scenario_from_dict(doc, "ledger"), st.version


def plan(store: Store, request_ids: Sequence[str] | None = None,
         options: SolveOptions | None = None, *, time_limit: float | None = None,
         solver: Callable[[Scenario, SolveOptions], Plan] | None = None) -> PlanResult:
    """Plan the open requests (all when none are named) against what is left after
    the committed ledger; the proposal is stored and returned, nothing is booked.
    `solver` replaces `solvers.solve` (the service's jobs solve so that a cancel keeps
    the best plan found so far, solvers/interrupt.py)."""
    if options is None:
        options = SolveOptions(time_limit=time_limit)
    t0 = time.perf_counter()
    sc, version = residual_scenario(store, request_ids)
    t_load = time.perf_counter()
    result = (solver or solve)(sc, options)
    t_solved = time.perf_counter()
    # Stored and returned with the status its bound supports (the checker's rule), so the
    # history never says `optimal` of a plan its own bound does not prove.
    status = supported_status(result)
    if status is not result.status:
        result = result.model_copy(update={"status": status})
    shash = scenario_hash(models.scenario_to_dict(sc))
    ids = [r.id for r in sc.requests]
    timings = {"load": t_load - t0, **(result.timings or {})}
    with Session(store.writer, expire_on_commit=False) as s, s.begin():
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
    plan = models.plan_from_dict(doc | {"timings": timings})
    return PlanResult(plan_id, plan, sc, shash, version, ids, timings)


def stored_plan(store: Store, plan_id: int) -> Plan:
    with store.snapshot() as s:
        run = s.get(t.Run, plan_id)
        if run is None or run.kind != "plan" or run.document is None:
            raise models.InputError("plan", [f"unknown plan id {plan_id}"])
        return models.plan_from_dict(json.loads(run.document), f"plan {plan_id}")


def commit(store: Store, plan: int | str | Path | Plan) -> CommitResult:
    """Book a plan's capacity and material and mark its requests committed, all or
    nothing. Raises LedgerConflict when the plan no longer fits the ledger (its
    requests are taken, or the hours or kg it needs were booked by others)."""
    p = _plan_arg(store, plan)
    ledger = (p.model_extra or {}).get("ledger")
    if not isinstance(ledger, dict) or not isinstance(ledger.get("plan_id"), int):
        raise models.PlanError(_name(plan), [
            "ledger: missing; only plans made by `broker plan` can be committed"])
    plan_id = int(ledger["plan_id"])
    if not p.status.has_plan:
        raise models.PlanError(_name(plan), [
            f"status: {p.status.value}; a plan without an allocation cannot be committed"])
    try:
        return _commit(store, p, plan_id)
    except LedgerConflict as e:
        record_refusal(store, plan_id, e)
        raise


def _plan_arg(store: Store, plan: int | str | Path | Plan) -> Plan:
    if isinstance(plan, Plan):
        return plan
    if isinstance(plan, int) or (isinstance(plan, str) and plan.isdigit()
                                 and not Path(plan).exists()):
        return stored_plan(store, int(plan))
    return models.load_plan(plan)


def _commit(store: Store, p: Plan, plan_id: int) -> CommitResult:
    t0 = time.perf_counter()
    with store.locked() as (s, st):
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
        sc, _ = residual(s, None, [rows[rid].document for rid in ids])
        full = models.scenario_from_dict(registry_doc(s) | {
            "requests": [rows[rid].document for rid in ids]}, "registry")
        report = check(sc, p)
        t_check = time.perf_counter()
        # Rows that name what the plan's requests and the registry do not hold, or are not
        # quantities at all, cannot be booked or even counted: refused first, and not as a
        # plan that "no longer fits" (such a plan never fitted: its file was edited).
        unreadable = [str(v) for v in report.violations if v.kind in UNBOOKABLE_KINDS]
        if unreadable:
            raise LedgerConflict(
                f"plan {plan_id} cannot be booked: {len(unreadable)} of its row(s) or "
                f"numbers do not match the registry and its requests {', '.join(ids)} "
                f"(was the plan file edited?); nothing was booked", unreadable[:20])
        books = plan_bookings(full, p)
        hours: dict[Slot, float] = defaultdict(float)
        kg: dict[Stock, float] = defaultdict(float)
        for bk in books.values():
            for k, v in bk.hours.items():
                hours[k] += v
            for k2, v2 in bk.kg.items():
                kg[k2] += v2
        booked_h, booked_kg, _, _ = booked(s)
        over = overbooked(full, add(booked_h, hours), add(booked_kg, kg))
        if over and st.version != run.ledger_version:
            raise LedgerConflict(
                f"plan {plan_id} no longer fits the ledger (planned at version "
                f"{run.ledger_version}, now {st.version}): plan again", over)
        if over:
            # The ledger is as it was planned against, so the plan itself books too much.
            raise LedgerConflict(
                f"plan {plan_id} books more than the ledger has left, which is unchanged "
                f"since it was planned (version {st.version}): its rows are not those "
                f"`broker plan` wrote; nothing was booked", over)
        bad = [str(v) for v in report.blocking]
        if bad:
            changed = (f"the ledger changed since it was planned (version "
                       f"{run.ledger_version}, now {st.version}): plan again"
                       if st.version != run.ledger_version else
                       "its rows are not those `broker plan` wrote (the ledger is unchanged "
                       f"since, at version {st.version})")
            raise LedgerConflict(f"plan {plan_id} breaks {len(bad)} rule(s) of the registry "
                                 f"and ledger; {changed}; nothing was booked", bad[:20])
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


# Checker kinds of rows that cannot be booked at all (see `_commit`).
UNBOOKABLE_KINDS = frozenset({"reference", "number", "quantity", "period", "status"})


def record_refusal(store: Store, plan_id: int, e: LedgerConflict,
                   options: dict[str, Any] | None = None) -> None:
    """Keep a refused commit of plan (or repair) `plan_id` in the history; `options`
    replaces the plan run's own in the record (a repair records who tried)."""
    with Session(store.writer) as s, s.begin():
        run = s.get(t.Run, plan_id)
        if run is None:
            return
        s.add(t.Run(kind="commit", plan_id=plan_id, created_at=now(),
                    ledger_version=settings(s).version, scenario_name=run.scenario_name,
                    scenario_hash=run.scenario_hash, request_ids=run.request_ids,
                    options=run.options if options is None else options,
                    solver_version=run.solver_version, status="refused", objective=None,
                    bound=run.bound, timings={},
                    message=str(e)))


def ledger_plan(s: Session, sc: Scenario) -> Plan:
    doc: dict[str, Any] = {"format": PLAN_FORMAT, "scenario": sc.name, "status": "feasible"}
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
    # The rows first, to price them; then the plan with its cost, built once.
    rows = models.plan_from_dict(doc, "ledger")
    cost = recompute_cost(sc, rows)
    return models.plan_from_dict(doc | {"cost": cost, "objective": math.fsum(cost.values()),
                                        "kpis": compute_kpis(sc, rows, cost)}, "ledger")


def _name(plan: object) -> str:
    return str(plan) if isinstance(plan, str | Path) else "plan"


def booked(s: Session) -> tuple[dict[Slot, float], dict[Stock, float], set[str],
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


def write_bookings(s: Session, rid: str, plan_id: int, bk: RequestBooking) -> None:
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
        write_bookings(s, rid, plan_id, bk)
    s.flush()
