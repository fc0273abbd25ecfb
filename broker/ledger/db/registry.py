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
                    "material_kg": step.material_kg, "min_lot": step.min_lot}
                    ) != "unchanged" and outcome == "unchanged":
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
            "unit_price": o.unit_price, "hours": o.hours, "tooling_cost": o.tooling_cost,
            "min_lot": o.min_lot}))
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
    """The registry as a scenario document without requests.

    Read as plain rows (column selects), not ORM objects: every plan, quote and export
    reads the whole registry, and building an object per row (about 3,000 on a medium
    registry) was most of the time it took."""
    st = settings(s)
    horizon: dict[str, Any] = {"periods": st.periods, "period_days": st.period_days}
    if st.start is not None:
        horizon["start"] = st.start.isoformat()
    rows = s.execute
    doc: dict[str, Any] = {
        "name": st.name, "currency": st.currency, "horizon": horizon,
        "transport": dict(st.transport), "policy": dict(st.policy),
        "locations": [_clean({"id": i, "name": n, "lat": la, "lon": lo}) for i, n, la, lo in rows(
            select(t.Location.id, t.Location.name, t.Location.lat, t.Location.lon)
            .order_by(t.Location.id))],
        "routes": [{"from": a, "to": b, "km": km} for a, b, km in rows(
            select(t.Route.from_id, t.Route.to_id, t.Route.km).order_by(t.Route.id))],
        "materials": [_clean({"id": i, "name": n}) for i, n in rows(
            select(t.Material.id, t.Material.name).order_by(t.Material.id))],
    }
    stocks: dict[str, dict[str, Any]] = defaultdict(dict)
    for cid, mid, kg, price, domestic in rows(
            select(t.CenterStock.center_id, t.CenterStock.material_id, t.CenterStock.stock_kg,
                   t.CenterStock.price_per_kg, t.CenterStock.domestic)
            .order_by(t.CenterStock.material_id)):
        stocks[cid][mid] = {"stock_kg": kg, "price_per_kg": price, "domestic": domestic}
    doc["material_centers"] = [
        _clean({"id": i, "name": n, "location": loc, "materials": stocks.get(i, {})})
        for i, n, loc in rows(select(t.MaterialCenter.id, t.MaterialCenter.name,
                                     t.MaterialCenter.location_id)
                              .order_by(t.MaterialCenter.id))]
    procs: dict[str, list[tuple[str, float | None, float | None]]] = defaultdict(list)
    for wid, proc, cap, rate in rows(
            select(t.WorkshopProcess.workshop_id, t.WorkshopProcess.process,
                   t.WorkshopProcess.capacity, t.WorkshopProcess.rate)
            .order_by(t.WorkshopProcess.process)):
        procs[wid].append((proc, cap, rate))
    over: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    for wid, proc, period, hours in rows(
            select(t.CapacityPeriod.workshop_id, t.CapacityPeriod.process,
                   t.CapacityPeriod.period, t.CapacityPeriod.hours)):
        over[(wid, proc)][period] = hours
    workshops = []
    for wid, name, loc, certs, engagement in rows(
            select(t.Workshop.id, t.Workshop.name, t.Workshop.location_id,
                   t.Workshop.certifications, t.Workshop.engagement_cost)
            .order_by(t.Workshop.id)):
        entry: dict[str, Any] = _clean({
            "id": wid, "name": name, "location": loc, "certifications": list(certs),
            "engagement_cost": engagement})
        mine = procs[wid]
        entry["capacity"] = {p: cap for p, cap, _r in mine if cap is not None}
        by_period = {}
        for p, cap, _r in mine:
            periods = over.get((wid, p))
            if periods:
                base = cap or 0.0
                by_period[p] = [periods.get(i, base) for i in range(st.periods)]
        if by_period:
            entry["capacity_by_period"] = by_period
        entry["rate"] = {p: r for p, _c, r in mine if r is not None}
        workshops.append(entry)
    doc["workshops"] = workshops
    steps: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for cid, proc, step_hours, mat, step_kg, lot in rows(
            select(t.ComponentStep.component_id, t.ComponentStep.process,
                   t.ComponentStep.hours, t.ComponentStep.material_id,
                   t.ComponentStep.material_kg, t.ComponentStep.min_lot)
            .order_by(t.ComponentStep.step)):
        steps[cid].append(_clean({"process": proc, "hours": step_hours, "material": mat,
                                  "material_kg": step_kg, "min_lot": lot or None}))
    comps = []
    for cid, name, weight, offers_only, import_price, lead in rows(
            select(t.Component.id, t.Component.name, t.Component.weight_kg,
                   t.Component.offers_only, t.Component.import_price,
                   t.Component.import_lead_periods).order_by(t.Component.id)):
        entry = _clean({"id": cid, "name": name, "weight_kg": weight,
                        "offers_only": offers_only})
        if import_price is not None:
            entry["import"] = {"price": import_price, "lead_periods": lead or 0}
        entry["routing"] = steps[cid]
        comps.append(entry)
    doc["components"] = comps
    doc["offers"] = [
        _clean({"workshop": w, "component": c, "step": k, "unit_price": price, "hours": h,
                "tooling_cost": tool, "min_lot": lot})
        for w, c, k, price, h, tool, lot in rows(
            select(t.Offer.workshop_id, t.Offer.component_id, t.Offer.step, t.Offer.unit_price,
                   t.Offer.hours, t.Offer.tooling_cost, t.Offer.min_lot)
            .order_by(t.Offer.workshop_id, t.Offer.component_id, t.Offer.step))]
    doc["requests"] = []
    return doc


def now() -> datetime:
    return datetime.now(UTC)
