"""The registry in the database <-> the scenario document (SPEC section 2).

Importing is an upsert keyed by ids: a re-import updates what changed and never
duplicates. An entry in the file describes the whole entry, so the processes of a
workshop, the stocks of a center and the routing of a component are replaced by the
file's. Nothing is deleted: an id missing from the file stays in the registry.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from broker.ledger.db import schema as t
from models.scenario import Scenario
from models.scenario import Workshop as WorkshopModel


@dataclass
class ImportCounts:
    """How many entries of each kind an import created, updated or left unchanged."""

    created: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    updated: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    unchanged: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def count(self, kind: str, outcome: str) -> None:
        getattr(self, outcome)[kind] += 1


def _upsert(s: Session, model: type[t.Base], key: tuple[Any, ...] | Any,
            values: dict[str, Any]) -> str:
    row = s.get(model, key)
    if row is None:
        s.add(model(**values))
        return "created"
    changed = False
    for k, v in values.items():
        if getattr(row, k) != v:
            setattr(row, k, v)
            changed = True
    return "updated" if changed else "unchanged"


def settings(s: Session) -> t.Settings:
    row = s.get(t.Settings, 1)
    assert row is not None, "the settings row is created by the first migration"
    return row


def store_settings(s: Session, sc: Scenario) -> str:
    row = settings(s)
    values: dict[str, Any] = {
        "name": sc.name, "currency": sc.currency, "periods": sc.horizon.periods,
        "period_days": sc.horizon.period_days, "start": sc.horizon.start,
        "transport": sc.transport.model_dump(mode="json"),
        "policy": sc.policy.model_dump(mode="json"),
    }
    changed = any(getattr(row, k) != v for k, v in values.items())
    for k, v in values.items():
        setattr(row, k, v)
    return "updated" if changed else "unchanged"


def store_scenario(s: Session, sc: Scenario, counts: ImportCounts) -> None:
    """Upsert everything of `sc` but its requests."""
    counts.count("settings", store_settings(s, sc))
    for loc in sc.locations:
        counts.count("locations", _upsert(s, t.Location, loc.id, {
            "id": loc.id, "name": loc.name, "lat": loc.lat, "lon": loc.lon}))
    s.flush()
    existing = {(r.from_id, r.to_id): r for r in s.scalars(select(t.Route))}
    for rt in sc.routes:
        # Routes are undirected: a-b and b-a are the same road.
        row = existing.get((rt.from_, rt.to)) or existing.get((rt.to, rt.from_))
        if row is None:
            row = t.Route(from_id=rt.from_, to_id=rt.to, km=rt.km)
            s.add(row)
            existing[(rt.from_, rt.to)] = row
            counts.count("routes", "created")
        elif row.km != rt.km:
            row.km = rt.km
            counts.count("routes", "updated")
        else:
            counts.count("routes", "unchanged")
    for m in sc.materials:
        counts.count("materials", _upsert(s, t.Material, m.id, {"id": m.id, "name": m.name}))
    s.flush()
    for c in sc.material_centers:
        outcome = _upsert(s, t.MaterialCenter, c.id, {
            "id": c.id, "name": c.name, "location_id": c.location})
        s.flush()
        old = {st.material_id: st for st in s.scalars(
            select(t.CenterStock).where(t.CenterStock.center_id == c.id))}
        for mid, stock in c.materials.items():
            if _upsert(s, t.CenterStock, (c.id, mid), {
                    "center_id": c.id, "material_id": mid, "stock_kg": stock.stock_kg,
                    "price_per_kg": stock.price_per_kg, "domestic": stock.domestic}) != "unchanged":
                outcome = "updated" if outcome == "unchanged" else outcome
        for mid in set(old) - set(c.materials):
            s.delete(old[mid])
            outcome = "updated" if outcome == "unchanged" else outcome
        counts.count("material_centers", outcome)
    for w in sc.workshops:
        counts.count("workshops", store_workshop(s, w))
    for comp in sc.components:
        outcome = _upsert(s, t.Component, comp.id, {
            "id": comp.id, "name": comp.name, "weight_kg": comp.weight_kg,
            "import_price": comp.import_.price if comp.import_ else None,
            "import_lead_periods": comp.import_.lead_periods if comp.import_ else None,
            "offers_only": comp.offers_only, "steps": len(comp.routing)})
        s.flush()
        for i, step in enumerate(comp.routing):
            if _upsert(s, t.ComponentStep, (comp.id, i), {
                    "component_id": comp.id, "step": i, "process": step.process,
                    "hours": step.hours, "material_id": step.material,
                    "material_kg": step.material_kg}) != "unchanged" and outcome == "unchanged":
                outcome = "updated"
        gone = s.execute(delete(t.ComponentStep).where(
            t.ComponentStep.component_id == comp.id, t.ComponentStep.step >= len(comp.routing)))
        if getattr(gone, "rowcount", 0) and outcome == "unchanged":
            outcome = "updated"
        counts.count("components", outcome)
    s.flush()
    for o in sc.offers:
        counts.count("offers", _upsert(s, t.Offer, (o.workshop, o.component, o.step), {
            "workshop_id": o.workshop, "component_id": o.component, "step": o.step,
            "unit_price": o.unit_price, "hours": o.hours, "tooling_cost": o.tooling_cost}))
    s.flush()


def store_workshop(s: Session, w: WorkshopModel) -> str:
    outcome = _upsert(s, t.Workshop, w.id, {
        "id": w.id, "name": w.name, "location_id": w.location,
        "certifications": list(w.certifications), "engagement_cost": w.engagement_cost})
    s.flush()
    procs = dict.fromkeys([*w.processes(), *w.rate])
    old_over = {(o.process, o.period): o for o in s.scalars(
        select(t.CapacityPeriod).where(t.CapacityPeriod.workshop_id == w.id))}
    new_over = {(p, i): h for p, hours in w.capacity_by_period.items()
                for i, h in enumerate(hours)}
    changed = False
    for key, row in old_over.items():
        if key not in new_over:
            s.delete(row)
            changed = True
    s.flush()
    old_procs = {p.process: p for p in s.scalars(
        select(t.WorkshopProcess).where(t.WorkshopProcess.workshop_id == w.id))}
    for p in procs:
        changed |= _upsert(s, t.WorkshopProcess, (w.id, p), {
            "workshop_id": w.id, "process": p, "rate": w.rate.get(p),
            "capacity": w.capacity.get(p)}) != "unchanged"
    for p in set(old_procs) - set(procs):
        s.delete(old_procs[p])
        changed = True
    s.flush()
    for (p, i), h in new_over.items():
        changed |= _upsert(s, t.CapacityPeriod, (w.id, p, i), {
            "workshop_id": w.id, "process": p, "period": i, "hours": h}) != "unchanged"
    if changed and outcome == "unchanged":
        outcome = "updated"
    return outcome


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def registry_doc(s: Session) -> dict[str, Any]:
    """The registry as a scenario document without requests."""
    st = settings(s)
    horizon: dict[str, Any] = {"periods": st.periods, "period_days": st.period_days}
    if st.start is not None:
        horizon["start"] = st.start.isoformat()
    doc: dict[str, Any] = {
        "name": st.name, "currency": st.currency, "horizon": horizon,
        "transport": dict(st.transport), "policy": dict(st.policy),
        "locations": [_clean({"id": r.id, "name": r.name, "lat": r.lat, "lon": r.lon})
                      for r in s.scalars(select(t.Location).order_by(t.Location.id))],
        "routes": [{"from": r.from_id, "to": r.to_id, "km": r.km}
                   for r in s.scalars(select(t.Route).order_by(t.Route.id))],
        "materials": [_clean({"id": r.id, "name": r.name})
                      for r in s.scalars(select(t.Material).order_by(t.Material.id))],
    }
    stocks: dict[str, dict[str, Any]] = defaultdict(dict)
    for st_row in s.scalars(select(t.CenterStock).order_by(t.CenterStock.material_id)):
        stocks[st_row.center_id][st_row.material_id] = {
            "stock_kg": st_row.stock_kg, "price_per_kg": st_row.price_per_kg,
            "domestic": st_row.domestic}
    doc["material_centers"] = [
        _clean({"id": c.id, "name": c.name, "location": c.location_id,
                "materials": stocks.get(c.id, {})})
        for c in s.scalars(select(t.MaterialCenter).order_by(t.MaterialCenter.id))]
    procs: dict[str, list[t.WorkshopProcess]] = defaultdict(list)
    for p in s.scalars(select(t.WorkshopProcess).order_by(t.WorkshopProcess.process)):
        procs[p.workshop_id].append(p)
    over: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    for o in s.scalars(select(t.CapacityPeriod)):
        over[(o.workshop_id, o.process)][o.period] = o.hours
    workshops = []
    for w in s.scalars(select(t.Workshop).order_by(t.Workshop.id)):
        entry: dict[str, Any] = _clean({
            "id": w.id, "name": w.name, "location": w.location_id,
            "certifications": list(w.certifications), "engagement_cost": w.engagement_cost})
        cap = {p.process: p.capacity for p in procs[w.id] if p.capacity is not None}
        by_period = {}
        for p in procs[w.id]:
            periods = over.get((w.id, p.process))
            if periods:
                base = p.capacity or 0.0
                by_period[p.process] = [periods.get(i, base) for i in range(st.periods)]
        entry["capacity"] = cap
        if by_period:
            entry["capacity_by_period"] = by_period
        entry["rate"] = {p.process: p.rate for p in procs[w.id] if p.rate is not None}
        workshops.append(entry)
    doc["workshops"] = workshops
    steps: dict[str, list[t.ComponentStep]] = defaultdict(list)
    for step in s.scalars(select(t.ComponentStep).order_by(t.ComponentStep.step)):
        steps[step.component_id].append(step)
    comps = []
    for c in s.scalars(select(t.Component).order_by(t.Component.id)):
        entry = _clean({"id": c.id, "name": c.name, "weight_kg": c.weight_kg,
                        "offers_only": c.offers_only})
        if c.import_price is not None:
            entry["import"] = {"price": c.import_price,
                               "lead_periods": c.import_lead_periods or 0}
        entry["routing"] = [_clean({"process": st_.process, "hours": st_.hours,
                                    "material": st_.material_id,
                                    "material_kg": st_.material_kg})
                            for st_ in steps[c.id]]
        comps.append(entry)
    doc["components"] = comps
    doc["offers"] = [
        _clean({"workshop": o.workshop_id, "component": o.component_id, "step": o.step,
                "unit_price": o.unit_price, "hours": o.hours, "tooling_cost": o.tooling_cost})
        for o in s.scalars(select(t.Offer).order_by(t.Offer.workshop_id, t.Offer.component_id,
                                                    t.Offer.step))]
    doc["requests"] = []
    return doc


def now() -> datetime:
    return datetime.now(UTC)
