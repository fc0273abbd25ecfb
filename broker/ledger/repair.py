"""Repair the committed ledger after a disruption, with as little change as possible.

`disrupt(store, event)` finds the bookings the event breaks (disruption.py), frees the
requests they belong to, keeps every other booking pinned (its hours and kg stay
booked), and solves the freed requests again in what is left, with the SPEC cost plus a
change penalty per unit of a step moved off its booked (workshop, period)
(solvers/repair.py). When the freed requests alone cannot be placed as well as before,
a second round also frees the pinned requests booked on the same processes around the
event (moving them may make room), and keeps whichever round costs less, penalty
included. The proposal is stored in the history (`kind = "repair"`), nothing is booked;
`commit(store, repair_id)` then books the event and the repair in one transaction,
refused as stale (`LedgerConflict`) when the ledger changed in between.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
import math
import statistics
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

import models
from broker.errors import LedgerConflict
from broker.ledger.bookings import plan_bookings, residual_doc, scenario_hash
from broker.ledger.db import schema as t
from broker.ledger.db.registry import now, registry_doc
from broker.ledger.disruption import Disruption, LedgerRows, apply_event, broken_requests
from broker.ledger.planning import _write_rows, ledger_plan, record_refusal
from broker.ledger.registry import after_registry_change
from broker.ledger.results import Move, RepairResult, RequestRepair
from broker.ledger.store import Store, require_registry, settings
from models.check import check
from models.dates import period_dates
from models.derived import Derived
from models.evaluate import recompute_cost
from models.plan import PLAN_FORMAT, Plan
from models.scenario import Scenario
from solvers import Method, SolveOptions, ortools_version, solve

Key = tuple[str, int, str, int]

# The default change penalty, as a share of the median unit cost of the booked steps: a
# workshop that loses a booked unit loses its margin on it, and small-workshop margins on
# contract machining and casting are around a tenth of the price. A move is then made
# only where it saves more than that margin.
MARGIN_SHARE = 0.10
# How many pinned requests the second round may free at most.
NEIGHBOURS = 30
# Default seconds for the repair solve(s).
TIME_LIMIT = 30.0


def default_change_penalty(sc: Scenario, plan: Plan) -> float:
    """MARGIN_SHARE times the median unit cost of the ledger's production rows
    (weighted by units); 0 for an empty ledger."""
    d = Derived(sc)
    costs: list[float] = []
    workshops = {w.id: w for w in sc.workshops}
    for row in plan.production:
        w = workshops.get(row.workshop)
        if w is None:
            continue
        comp = sc.request(row.request).component
        costs.extend([d.step_info(w, comp, row.step).unit_cost] * min(row.quantity, 1000))
    return MARGIN_SHARE * statistics.median(costs) if costs else 0.0


def disrupt(store: Store, event: Disruption, *, change_penalty: float | None = None,
            time_limit: float | None = TIME_LIMIT, seed: int = 0, dry_run: bool = False,
            actor: str | None = None) -> RepairResult:
    """Find what `event` breaks, propose a repair and store it; unless `dry_run`, book
    the event and the repair at once (`commit`)."""
    result = propose(store, event, change_penalty=change_penalty, time_limit=time_limit,
                     seed=seed, actor=actor)
    if dry_run:
        return result
    return commit(store, result.repair_id, actor=actor, proposal=result)


def propose(store: Store, event: Disruption, *, change_penalty: float | None = None,
            time_limit: float | None = TIME_LIMIT, seed: int = 0,
            actor: str | None = None) -> RepairResult:
    started = time.perf_counter()
    deadline = None if time_limit is None else started + time_limit
    actor = actor or _default_actor()
    with store.snapshot() as s:
        st = settings(s)
        require_registry(st)
        version = st.version
        registry = registry_doc(s)
        committed = {r.id: r.document for r in s.scalars(
            select(t.Request).where(t.Request.status == "committed").order_by(t.Request.id))}
        before = models.scenario_from_dict(registry | {"requests": list(committed.values())},
                                           "ledger")
        rows = _ledger_rows(s, before)
    after_registry = apply_event(registry, event)
    after = models.scenario_from_dict(after_registry | {"requests": list(committed.values())},
                                      f"registry after {event.describe()}")
    broken = broken_requests(before, after, rows)
    penalty = (default_change_penalty(before, rows.plan) if change_penalty is None
               else float(change_penalty))
    if not math.isfinite(penalty) or penalty < 0:
        raise models.InputError("disrupt", [f"change_penalty: {penalty} is not a number >= 0"])
    cost_before = math.fsum(recompute_cost(before, rows.plan).values())
    freed = sorted(broken)
    best = _solve_freed(after_registry, committed, rows, freed, penalty, deadline, seed)
    rounds = 1
    if broken and deadline is not None and time.perf_counter() < deadline - 1.0 and (
            _worse_than_before(best[0], rows, freed)):
        wider = freed + _neighbours(event, rows, set(freed))
        if len(wider) > len(freed):
            rounds = 2
            other = _solve_freed(after_registry, committed, rows, wider, penalty, deadline,
                                 seed)
            if other[1] < best[1]:
                best = other
                freed = wider
    repair_plan, penalised, moved = best
    merged = _merge(after, rows.plan, repair_plan, set(freed), rows.materials)
    report = check(after, merged)
    bad = [str(v) for v in report.blocking]
    if bad:
        # The freed requests were solved in what the pinned ones leave, so this means a
        # pinned booking itself no longer fits: a kind of breakage not detected above.
        raise LedgerConflict("the repaired ledger does not pass the checker", bad[:20])
    cost_after = merged.objective
    changes = _changes(after, rows.plan, repair_plan, freed, broken)
    seconds = time.perf_counter() - started
    doc = repair_plan.to_dict()
    doc["ledger"] = {"repair_id": None, "ledger_version": version, "requests": freed,
                     "event": event.to_dict()}
    options = {"event": event.to_dict(), "change_penalty": penalty, "time_limit": time_limit,
               "seed": seed, "actor": actor, "rounds": rounds,
               "broken": {rid: why for rid, why in broken.items()},
               # What the proposal said, so that a later commit (CLI or service) answers
               # with the same per-request account.
               "summary": {"requests": [c.to_dict() for c in changes],
                           "cost_before": cost_before, "penalised_cost": penalised}}
    with Session(store.writer, expire_on_commit=False) as s, s.begin():
        run = t.Run(kind="repair", created_at=now(), ledger_version=version,
                    scenario_name=after.name,
                    scenario_hash=scenario_hash(models.scenario_to_dict(after)),
                    request_ids=freed, options=options, solver_version=ortools_version(),
                    status="proposed", objective=cost_after, bound=None,
                    timings={"total": seconds}, message=event.describe())
        s.add(run)
        s.flush()
        doc["ledger"]["repair_id"] = run.id
        run.document = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        repair_id = run.id
    return RepairResult(
        repair_id=repair_id, event=event.to_dict(), description=event.describe(),
        ledger_version=version, broken={rid: list(w) for rid, w in broken.items()},
        freed=freed, requests=changes, change_penalty=penalty, moved_units=moved,
        cost_before=cost_before, cost_after=cost_after, penalised_cost=penalised,
        seconds=seconds, rounds=rounds, plan=models.plan_from_dict(doc, "repair"),
        committed=False, commit_run_id=None, actor=actor,
        period_dates=period_dates(after.horizon.start, after.horizon.period_days,
                                  after.horizon.periods))


def is_repair_id(store: Store, ref: object) -> bool:
    """Whether `ref` (as `broker commit` takes it) names a stored repair."""
    if isinstance(ref, bool) or not isinstance(ref, int | str):
        return False
    if isinstance(ref, str) and (not ref.isdigit() or Path(ref).exists()):
        return False
    with store.snapshot() as s:
        run = s.get(t.Run, int(ref))
        return run is not None and run.kind == "repair"


def commit(store: Store, repair_id: int, *, actor: str | None = None,
           proposal: RepairResult | None = None) -> RepairResult:
    """Book a stored repair: the event changes the registry, the freed requests' rows and
    bookings are replaced by the repair's, all in one transaction. Refused as stale when
    the ledger changed since the repair was proposed; a repair committed before is
    returned as it was (nothing is booked twice)."""
    actor = actor or _default_actor()
    try:
        with store.locked() as (s, st):
            run = s.get(t.Run, repair_id)
            if run is None or run.kind != "repair" or run.document is None:
                raise models.InputError("repair", [f"unknown repair id {repair_id}"])
            result = proposal or _stored_result(run)
            done = s.scalars(select(t.Run).where(
                t.Run.kind == "commit", t.Run.plan_id == repair_id,
                t.Run.status == "committed")).first()
            if done is not None:
                return _with(result, committed=True, commit_run_id=done.id)
            if st.version != run.ledger_version:
                raise LedgerConflict(
                    f"repair {repair_id} is stale: the ledger is at version {st.version}, "
                    f"the repair was made at {run.ledger_version}; disrupt again",
                    [run.message or ""])
            event = Disruption.from_dict(dict(run.options["event"]))
            plan = models.plan_from_dict(json.loads(run.document), f"repair {repair_id}")
            freed = list(run.request_ids)
            _apply_event_rows(s, event)
            for table in t.LEDGER_TABLES:
                s.execute(delete(table).where(table.request_id.in_(freed)))
            s.flush()
            registry = registry_doc(s)
            docs = {r.id: r for r in s.scalars(select(t.Request)
                                               .where(t.Request.id.in_(freed)))}
            sc_freed = models.scenario_from_dict(
                registry | {"requests": [docs[rid].document for rid in freed]}, "repair")
            _write_rows(s, plan, repair_id, plan_bookings(sc_freed, plan))
            for rid in freed:
                docs[rid].plan_id = repair_id
            if event.kind == "leave":
                _remove_workshop(s, str(event.workshop))
            # Validates the registry and the whole ledger, re-derives every booking from
            # its rows, and moves the ledger version on.
            after_registry_change(s, st, event.describe())
            commit_run = t.Run(kind="commit", plan_id=repair_id, created_at=now(),
                               ledger_version=run.ledger_version,
                               scenario_name=run.scenario_name,
                               scenario_hash=run.scenario_hash, request_ids=freed,
                               options={"actor": actor, "event": run.options["event"]},
                               solver_version=run.solver_version, status="committed",
                               objective=run.objective, bound=None, timings={},
                               message=f"repair of: {run.message}")
            s.add(commit_run)
            s.flush()
            return _with(result, committed=True, commit_run_id=commit_run.id)
    except LedgerConflict as e:
        record_refusal(store, repair_id, e, {"actor": actor})
        raise


# ------------------------------------------------------------------------------------
# Reading the ledger


def _ledger_rows(s: Session, sc: Scenario) -> LedgerRows:
    plan = ledger_plan(s, sc)
    hours: dict[str, dict[tuple[str, str, int], float]] = defaultdict(lambda: defaultdict(float))
    for b in s.scalars(select(t.BookedHours)):
        hours[b.request_id][(b.workshop_id, b.process, b.period)] += b.hours
    kg: dict[str, dict[tuple[str, str], float]] = defaultdict(lambda: defaultdict(float))
    for m in s.scalars(select(t.BookedMaterial)):
        kg[m.request_id][(m.center_id, m.material_id)] += m.kg
    mats: dict[str, list[tuple[str, str, str, float]]] = defaultdict(list)
    for cm in s.scalars(select(t.CommittedMaterial).order_by(t.CommittedMaterial.id)):
        mats[cm.request_id].append((cm.center_id, cm.workshop_id, cm.material_id, cm.kg))
    return LedgerRows(plan, {k: dict(v) for k, v in hours.items()},
                      {k: dict(v) for k, v in kg.items()}, dict(mats))


# ------------------------------------------------------------------------------------
# Solving


def _solve_freed(registry: dict[str, Any], committed: dict[str, dict[str, Any]],
                 rows: LedgerRows, freed: list[str], penalty: float, deadline: float | None,
                 seed: int) -> tuple[Plan, float, int]:
    """The freed requests solved in what the pinned ones leave: (plan, SPEC cost of the
    freed requests plus the penalty of their moves, units moved)."""
    pinned = set(committed) - set(freed)
    hours: dict[tuple[str, str, int], float] = defaultdict(float)
    kg: dict[tuple[str, str], float] = defaultdict(float)
    for rid in pinned:
        for slot, h in rows.hours.get(rid, {}).items():
            hours[slot] += h
        for stock, v in rows.kg.get(rid, {}).items():
            kg[stock] += v
    engaged = {p.workshop for p in rows.plan.production if p.request in pinned}
    components = {rid: doc["component"] for rid, doc in committed.items()}
    tooled = {(p.workshop, components[p.request], p.step) for p in rows.plan.production
              if p.request in pinned}
    doc = residual_doc(registry, dict(hours), dict(kg), engaged, tooled,
                       [committed[rid] for rid in freed])
    doc["name"] = f"{registry['name']} (repair)"
    sc = models.scenario_from_dict(doc, "residual after the event")
    keep = {(p.request, p.step, p.workshop, p.period): p.quantity
            for p in rows.plan.production if p.request in set(freed)}
    left = None if deadline is None else max(1.0, deadline - time.perf_counter())
    plan = solve(sc, SolveOptions(time_limit=left, seed=seed, method=Method.EXACT, keep=keep,
                                  change_penalty=penalty))
    info = (plan.solver or {}).get("repair", {})
    if not plan.status.has_plan or plan.objective is None:
        raise LedgerConflict("no repair found in the time given: try a longer --time-limit",
                             [f"status {plan.status.value}"])
    moved = int(info.get("moved_units", 0))
    return plan, plan.objective + penalty * moved, moved


def _worse_than_before(plan: Plan, rows: LedgerRows, freed: list[str]) -> bool:
    """Whether the freed requests now leave more units imported or unmet than before."""
    ids = set(freed)

    def away(p: Plan) -> int:
        return (sum(r.quantity for r in p.imports if r.request in ids)
                + sum(r.quantity for r in p.unmet if r.request in ids))

    return away(plan) > away(rows.plan)


def _neighbours(event: Disruption, rows: LedgerRows, freed: set[str]) -> list[str]:
    """Pinned requests booked on the processes the event hit, in its periods and the
    periods beside them, most hours first: moving them may make room for a freed one."""
    hit_processes = {slot[1] for rid in freed for slot in rows.hours.get(rid, {})
                     if event.workshop is None or slot[0] == event.workshop}
    periods = set(event.periods)
    near = {t + dt for t in periods for dt in (-1, 0, 1)}
    score: dict[str, float] = defaultdict(float)
    for rid, booked in rows.hours.items():
        if rid in freed:
            continue
        for (_w, p, per), h in booked.items():
            if p in hit_processes and (not near or per in near):
                score[rid] += h
    return sorted(sorted(score, key=lambda rid: (-score[rid], rid))[:NEIGHBOURS])


def _merge(sc: Scenario, ledger: Plan, repair: Plan, freed: set[str],
           freed_materials: dict[str, list[tuple[str, str, str, float]]]) -> Plan:
    """The ledger's rows with the freed requests' replaced by the repair's."""
    doc: dict[str, Any] = {"format": PLAN_FORMAT, "scenario": sc.name, "status": "feasible"}
    for key in ("production", "shipments", "imports", "unmet"):
        old = [r.model_dump(by_alias=True) for r in getattr(ledger, key)
               if r.request not in freed]
        new = [r.model_dump(by_alias=True) for r in getattr(repair, key)]
        doc[key] = old + new
    # Material rows are per (center, workshop, material) for all requests: the freed
    # requests' kg (as booked) come out, the repair's go in.
    kg: dict[tuple[str, str, str], float] = defaultdict(float)
    for m in ledger.materials:
        kg[(m.center, m.workshop, m.material)] += m.kg
    for rid in freed:
        for c, w, mat, v in freed_materials.get(rid, []):
            kg[(c, w, mat)] -= v
    for m in repair.materials:
        kg[(m.center, m.workshop, m.material)] += m.kg
    doc["materials"] = [{"center": c, "workshop": w, "material": mat, "kg": v}
                        for (c, w, mat), v in sorted(kg.items()) if v > 1e-9]
    cost = recompute_cost(sc, models.plan_from_dict(doc, "repaired ledger"))
    doc["cost"] = cost
    doc["objective"] = math.fsum(cost.values())
    return models.plan_from_dict(doc, "repaired ledger")


def _changes(sc: Scenario, ledger: Plan, repair: Plan, freed: list[str],
             broken: dict[str, list[str]]) -> list[RequestRepair]:
    out = []
    for rid in freed:
        r = sc.request(rid)
        n = len(sc.component(r.component).routing)
        old: dict[int, dict[tuple[str, int], int]] = defaultdict(dict)
        new: dict[int, dict[tuple[str, int], int]] = defaultdict(dict)
        for p in ledger.production:
            if p.request == rid:
                old[p.step][(p.workshop, p.period)] = p.quantity
        for p in repair.production:
            if p.request == rid:
                new[p.step][(p.workshop, p.period)] = p.quantity
        kept = moved = 0
        moves: list[Move] = []
        for s in range(n):
            o, nw = old[s], new[s]
            kept += sum(min(q, nw.get(k, 0)) for k, q in o.items())
            gone = [(k, q - nw.get(k, 0)) for k, q in sorted(o.items()) if q > nw.get(k, 0)]
            came = [(k, q - o.get(k, 0)) for k, q in sorted(nw.items()) if q > o.get(k, 0)]
            moved += sum(q for _k, q in gone)
            moves.extend(_match_moves(s, gone, came))
        unmet_reasons = [u.reason for u in repair.unmet if u.request == rid]

        def units(rows_: list[Any], rid_: str = rid) -> int:
            return sum(x.quantity for x in rows_ if x.request == rid_)

        out.append(RequestRepair(
            request=rid, quantity=r.quantity, broken=list(broken.get(rid, [])),
            kept_units=kept, moved_units=moved, moves=moves,
            imported_before=units(ledger.imports), imported_after=units(repair.imports),
            unmet_before=units(ledger.unmet), unmet_after=units(repair.unmet),
            unmet_reasons=unmet_reasons))
    return out


def _match_moves(step: int, gone: list[tuple[tuple[str, int], int]],
                 came: list[tuple[tuple[str, int], int]]) -> list[Move]:
    """Pair the units that left booked (workshop, period) slots with those that arrived
    elsewhere, in slot order; what finds no new slot left home."""
    out: list[Move] = []
    room = [q for _k, q in came]
    j = 0
    for (w, per), q in gone:
        while q > 0:
            while j < len(came) and room[j] == 0:
                j += 1
            if j == len(came):
                out.append(Move(step, w, per, None, None, q))
                break
            take = min(q, room[j])
            (to_w, to_per) = came[j][0]
            out.append(Move(step, w, per, to_w, to_per, take))
            room[j] -= take
            q -= take
    return out


# ------------------------------------------------------------------------------------
# Committing


def _apply_event_rows(s: Session, ev: Disruption) -> None:
    """The event written into the registry tables (a leave is finished by
    `_remove_workshop` once the freed rows that name the workshop are gone)."""
    st = settings(s)
    if ev.kind == "capacity":
        procs = [ev.process] if ev.process is not None else [
            p.process for p in s.scalars(select(t.WorkshopProcess).where(
                t.WorkshopProcess.workshop_id == ev.workshop))]
        periods = ev.periods or tuple(range(st.periods))
        for proc in procs:
            for per in periods:
                row = s.get(t.CapacityPeriod, (ev.workshop, proc, per))
                if row is None:
                    s.add(t.CapacityPeriod(workshop_id=ev.workshop, process=proc, period=per,
                                           hours=float(ev.hours or 0.0)))
                else:
                    row.hours = float(ev.hours or 0.0)
    elif ev.kind == "stock":
        stock = s.get(t.CenterStock, (ev.center, ev.material))
        assert stock is not None
        stock.stock_kg = float(ev.kg or 0.0)
    elif ev.kind == "route":
        s.execute(delete(t.Route).where(
            ((t.Route.from_id == ev.from_) & (t.Route.to_id == ev.to))
            | ((t.Route.from_id == ev.to) & (t.Route.to_id == ev.from_))))
    s.flush()


def _remove_workshop(s: Session, wid: str) -> None:
    s.execute(delete(t.Offer).where(t.Offer.workshop_id == wid))
    s.execute(delete(t.CapacityPeriod).where(t.CapacityPeriod.workshop_id == wid))
    s.execute(delete(t.WorkshopProcess).where(t.WorkshopProcess.workshop_id == wid))
    s.execute(delete(t.Workshop).where(t.Workshop.id == wid))
    s.flush()


def _stored_result(run: t.Run) -> RepairResult:
    doc = json.loads(run.document or "{}")
    plan = models.plan_from_dict(doc, f"repair {run.id}")
    opts = dict(run.options)
    summary = dict(opts.get("summary") or {})  # absent in repairs stored before it was kept
    changes = [RequestRepair(**(dict(r) | {"moves": [Move(**m) for m in r["moves"]]}))
               for r in summary.get("requests", [])]
    return RepairResult(
        repair_id=run.id, event=dict(opts["event"]), description=run.message or "",
        ledger_version=run.ledger_version, broken=dict(opts.get("broken", {})),
        freed=list(run.request_ids), requests=changes,
        change_penalty=float(opts["change_penalty"]),
        moved_units=int((plan.solver or {}).get("repair", {}).get("moved_units", 0)),
        cost_before=summary.get("cost_before"), cost_after=run.objective,
        penalised_cost=summary.get("penalised_cost"),
        seconds=float(dict(run.timings).get("total", 0.0)), rounds=int(opts.get("rounds", 1)),
        plan=plan, committed=False, commit_run_id=None, actor=str(opts.get("actor", "")))


def _with(result: RepairResult, **changes: Any) -> RepairResult:
    return dataclasses.replace(result, **changes)


def _default_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in this environment (a container without passwd)
        return "cli"
