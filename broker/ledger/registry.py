"""The registry: workshops, material centers, components and offers, imported from a
scenario or a spreadsheet and changed in place (capacity). A change is refused when it
would leave a committed booking without the capacity or stock it holds."""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

import models
from broker.errors import LedgerConflict
from broker.ledger.bookings import plan_bookings
from broker.ledger.db import schema as t
from broker.ledger.db.registry import (
    ImportCounts,
    now,
    registry_doc,
    store_scenario,
    store_workshop,
)
from broker.ledger.planning import ledger_plan, write_bookings
from broker.ledger.results import (
    CenterInfo,
    ComponentInfo,
    ImportResult,
    ProcessInfo,
    StockInfo,
    WorkshopInfo,
)
from broker.ledger.store import Store, require_registry, settings
from models.check import check
from models.scenario import Scenario
from models.scenario import Workshop as WorkshopModel


def import_scenario(store: Store, source: str | Path | dict[str, Any] | Scenario) -> ImportResult:
    """Store a scenario's settings, locations, routes, materials, centers, workshops,
    components and offers (not its requests: `submit` takes those)."""
    name, sc = _scenario_of(source)
    counts = ImportCounts()
    with store.locked() as (s, st):
        store_scenario(s, sc, counts)
        after_registry_change(s, st, name, bool(counts.created or counts.updated))
        version = st.version
    return ImportResult(name, dict(counts.created), dict(counts.updated),
                        dict(counts.unchanged), version)


def import_workshops_csv(store: Store, path: str | Path) -> ImportResult:
    """Workshops from a spreadsheet: columns id, name, location, certifications
    (separated by ';'), engagement_cost, and `capacity:<process>`, `rate:<process>`."""
    workshops = _read_workshops_csv(Path(path))
    counts = ImportCounts()
    with store.locked() as (s, st):
        require_registry(st)
        known = set(s.scalars(select(t.Location.id)))
        bad = [f"row {i + 2} (workshop {w.id}), column location: unknown location "
               f"'{w.location}'" for i, w in enumerate(workshops)
               if w.location not in known]
        if bad:
            raise models.InputError(str(path), bad)
        for w in workshops:
            counts.count("workshops", store_workshop(s, w))
        s.flush()
        after_registry_change(s, st, str(path),
                                    bool(counts.created or counts.updated))
        version = st.version
    return ImportResult(str(path), dict(counts.created), dict(counts.updated),
                        dict(counts.unchanged), version)


def set_capacity(store: Store, workshop: str, process: str, hours: float,
                 periods: Sequence[int] | None = None, *, rate: float | None = None
                 ) -> ImportResult:
    """Change a workshop's hours of `process`: in the given periods only, or its base
    capacity for every period without an override. Refused with LedgerConflict when
    it would leave committed hours without capacity."""
    where = f"capacity of {workshop}/{process}"
    # Strict, as in a file: `True` is not 1 hour (a bool is an int to Python).
    if isinstance(hours, bool) or not isinstance(hours, int | float) or (
            not math.isfinite(hours) or hours < 0):
        raise models.InputError(where, [f"hours: {hours!r} is not a number >= 0"])
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int | float)
                             or not math.isfinite(rate) or rate < 0):
        raise models.InputError(where, [f"rate: {rate!r} is not a number >= 0"])
    own: list[int] = []
    with store.locked() as (s, st):
        require_registry(st)
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
            own = _own_periods(s, workshop, process, where, st.periods)
            proc.capacity = hours
        s.flush()
        after_registry_change(s, st, where)
        version = st.version
    if not periods and own:
        # Said in the result, so that "set to 0 h" is not read as every period.
        where += f" in every period but {', '.join(map(str, own))} (their own hours stay)"
    return ImportResult(where, {}, {"capacity": len(periods or [0])}, {}, version)


def _own_periods(s: Session, workshop: str, process: str, where: str,
                 periods: int) -> list[int]:
    """The periods with hours of their own, which a base-capacity change leaves as they
    are. When that is every period the change would do nothing at all (booked hours
    staying booked): refused, naming the option that changes them."""
    own = sorted(s.scalars(select(t.CapacityPeriod.period).where(
        t.CapacityPeriod.workshop_id == workshop, t.CapacityPeriod.process == process)))
    if len(own) >= periods:
        example = " ".join(f"--period {p}" for p in own[:3]) + (" ..." if len(own) > 3 else "")
        raise models.InputError(where, [
            f"every period (0 .. {periods - 1}) has hours of its own, which the base capacity "
            f"does not change, so the change would do nothing: give the periods to change "
            f"({example}; in the library periods=[...])"])
    return own


def after_registry_change(s: Session, st: t.Settings, source: str,
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
        plan = ledger_plan(s, sc)
        report = check(sc, plan)
        bad = [str(v) for v in report.blocking]
        if bad:
            raise LedgerConflict(
                f"{source} would break committed requests; cancel them first", bad[:20])
        s.execute(delete(t.BookedHours))
        s.execute(delete(t.BookedMaterial))
        for rid, bk in plan_bookings(sc, plan).items():
            rec = s.get(t.Request, rid)
            assert rec is not None and rec.plan_id is not None
            write_bookings(s, rid, rec.plan_id, bk)
    st.version += 1
    st.updated_at = now()


def workshops(store: Store) -> list[WorkshopInfo]:
    with store.snapshot() as s:
        periods = settings(s).periods
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


def centers(store: Store) -> list[CenterInfo]:
    with store.snapshot() as s:
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


def components(store: Store) -> list[ComponentInfo]:
    with store.snapshot() as s:
        offers = {c: int(n) for c, n in s.execute(
            select(t.Offer.component_id, func.count()).group_by(t.Offer.component_id))}
        steps: dict[str, list[str]] = defaultdict(list)
        for st in s.scalars(select(t.ComponentStep).order_by(t.ComponentStep.step)):
            steps[st.component_id].append(st.process)
        return [ComponentInfo(c.id, c.name, c.weight_kg, steps[c.id], c.import_price,
                              int(offers.get(c.id, 0)))
                for c in s.scalars(select(t.Component).order_by(t.Component.id))]


def registry(store: Store) -> Scenario:
    """The registry as a scenario without requests, full capacity and stock."""
    with store.snapshot() as s:
        require_registry(settings(s))
        return models.scenario_from_dict(registry_doc(s), "registry")


def _scenario_of(source: str | Path | dict[str, Any] | Scenario) -> tuple[str, Scenario]:
    if isinstance(source, Scenario):
        return source.name, source
    if isinstance(source, dict):
        return "<scenario>", models.scenario_from_dict(source)
    from broker.api import load_scenario
    return str(source), load_scenario(source)


def _read_workshops_csv(path: Path) -> list[WorkshopModel]:
    try:
        text_ = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise models.InputError(str(path), ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise models.InputError(str(path), [f"cannot read file: {e}"]) from None
    # The csv module splits the records itself: a quoted field may hold a line break (a
    # name on two lines), which splitting the text into lines first would cut in two.
    reader = csv.DictReader(io.StringIO(text_, newline=""))
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
