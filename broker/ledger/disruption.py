"""Disruptions as events, and what they break: pure functions over registry documents
and ledger rows (no database here; broker/ledger/repair.py feeds them).

An event is one of four kinds a planner meets in practice:

- `capacity`: a workshop's hours of one process (or of every process) set to `hours` in
  some periods: a furnace fails, power is cut, a holiday runs longer (0 h: it drops out);
- `leave`: a workshop leaves the registry;
- `stock`: a material center's stock of one material falls to `kg`;
- `route`: the road links between two locations are closed.
"""

from __future__ import annotations

import copy
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

import models
from broker.ledger.bookings import Slot, Stock
from models.check import at_most
from models.derived import Derived
from models.plan import Plan
from models.scenario import Scenario

Kind = Literal["capacity", "leave", "stock", "route"]
KINDS: tuple[Kind, ...] = ("capacity", "leave", "stock", "route")
# The process name that means every process of the workshop in a capacity event.
ALL_PROCESSES = "all"


@dataclass(frozen=True)
class Disruption:
    """One event. Only the fields of its kind are set."""

    kind: Kind
    workshop: str | None = None
    process: str | None = None  # None or "all": every process of the workshop
    periods: tuple[int, ...] = ()  # empty: every period
    hours: float | None = None
    center: str | None = None
    material: str | None = None
    kg: float | None = None
    from_: str | None = None
    to: str | None = None

    @classmethod
    def capacity(cls, workshop: str, process: str | None, periods: tuple[int, ...] = (),
                 hours: float = 0.0) -> Disruption:
        proc = None if process in (None, ALL_PROCESSES) else process
        return cls("capacity", workshop=workshop, process=proc,
                   periods=tuple(sorted(set(periods))), hours=float(hours))

    @classmethod
    def leave(cls, workshop: str) -> Disruption:
        return cls("leave", workshop=workshop)

    @classmethod
    def stock(cls, center: str, material: str, kg: float) -> Disruption:
        return cls("stock", center=center, material=material, kg=float(kg))

    @classmethod
    def route(cls, from_: str, to: str) -> Disruption:
        return cls("route", from_=from_, to=to)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for name in ("workshop", "process", "hours", "center", "material", "kg", "to"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.from_ is not None:
            out["from"] = self.from_
        if self.periods:
            out["periods"] = list(self.periods)
        return out

    @classmethod
    def from_dict(cls, doc: dict[str, Any], source: str = "disruption") -> Disruption:
        """The event of a document (`to_dict`'s, or a body sent to the service). Every
        problem is named by its field: an unknown kind, a field its kind needs that is
        missing, one that belongs to another kind, a value of the wrong type."""
        problems = event_problems(doc)
        if problems:
            raise models.InputError(source, problems)
        kind = doc["kind"]
        if kind == "capacity":
            return cls.capacity(doc["workshop"], doc.get("process"),
                                tuple(doc.get("periods") or ()), doc.get("hours", 0.0))
        if kind == "leave":
            return cls.leave(doc["workshop"])
        if kind == "stock":
            return cls.stock(doc["center"], doc["material"], doc["kg"])
        return cls.route(doc["from"], doc["to"])

    def describe(self) -> str:
        if self.kind == "capacity":
            when = (f"periods {', '.join(map(str, self.periods))}" if self.periods
                    else "every period")
            what = self.process or "every process"
            return f"capacity of {self.workshop} for {what} set to {self.hours:g} h in {when}"
        if self.kind == "leave":
            return f"workshop {self.workshop} leaves the registry"
        if self.kind == "stock":
            return f"stock of {self.material} at {self.center} falls to {self.kg:g} kg"
        return f"road links between {self.from_} and {self.to} closed"


# The fields of each kind: (required, optional).
FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "capacity": (("workshop",), ("process", "periods", "hours")),
    "leave": (("workshop",), ()),
    "stock": (("center", "material", "kg"), ()),
    "route": (("from", "to"), ()),
}
_TEXT = ("workshop", "process", "center", "material", "from", "to")
_NUMBER = ("hours", "kg")


def event_problems(doc: Any) -> list[str]:
    """What is wrong with an event document, one line per field (empty: nothing)."""
    if not isinstance(doc, dict):
        return ["(document): an event must be an object with a `kind`"]
    kind = doc.get("kind")
    if kind not in KINDS:
        return [f"kind: {kind!r} is not one of {', '.join(KINDS)}" if "kind" in doc
                else f"kind: required (one of {', '.join(KINDS)})"]
    required, optional = FIELDS[kind]
    out = [f"{name}: required for a {kind} event" for name in required
           if doc.get(name) is None]
    out += [f"{name}: not a field of a {kind} event (it has "
            f"{', '.join(required + optional)})" for name in doc
            if name != "kind" and name not in required + optional]
    for name in _TEXT:
        value = doc.get(name)
        if value is not None and name in required + optional and (
                not isinstance(value, str) or not value):
            out.append(f"{name}: must be a non-empty text (got {value!r})")
    for name in _NUMBER:
        value = doc.get(name)
        if value is not None and name in required + optional and (
                isinstance(value, bool) or not isinstance(value, int | float)
                or not math.isfinite(value) or value < 0):
            out.append(f"{name}: must be a number >= 0 (got {value!r})")
    periods = doc.get("periods")
    if periods is not None and kind == "capacity" and (
            not isinstance(periods, list | tuple)
            or any(isinstance(p, bool) or not isinstance(p, int) for p in periods)):
        out.append(f"periods: must be a list of period numbers (got {periods!r})")
    return out


def apply_event(registry: dict[str, Any], ev: Disruption) -> dict[str, Any]:
    """The registry document after the event. Unknown ids and impossible values raise
    `models.InputError` naming the event's field."""
    doc = copy.deepcopy(registry)
    where = f"disrupt {ev.kind}"
    periods = int(doc["horizon"]["periods"])
    if ev.kind in ("capacity", "leave"):
        ws = next((w for w in doc["workshops"] if w["id"] == ev.workshop), None)
        if ws is None:
            raise models.InputError(where, [f"workshop: unknown workshop '{ev.workshop}'"])
        if ev.kind == "leave":
            doc["workshops"] = [w for w in doc["workshops"] if w["id"] != ev.workshop]
            doc["offers"] = [o for o in doc["offers"] if o["workshop"] != ev.workshop]
            return doc
        hours = ev.hours if ev.hours is not None else 0.0
        if not math.isfinite(hours) or hours < 0:
            raise models.InputError(where, [f"hours: {hours} is not a number >= 0"])
        processes = sorted(set(ws.get("capacity", {})) | set(ws.get("capacity_by_period", {})))
        if ev.process is not None and ev.process not in processes:
            raise models.InputError(where, [
                f"process: workshop '{ev.workshop}' has no process '{ev.process}' "
                f"(it has {', '.join(processes) or 'none'})"])
        bad = [t for t in ev.periods if not 0 <= t < periods]
        if bad:
            raise models.InputError(where, [
                f"periods: period {t} outside the horizon (0 .. {periods - 1})" for t in bad])
        by_period = ws.setdefault("capacity_by_period", {})
        for p in [ev.process] if ev.process is not None else processes:
            base = by_period.get(p) or [float(ws.get("capacity", {}).get(p, 0.0))] * periods
            by_period[p] = [hours if (not ev.periods or t in ev.periods) else base[t]
                            for t in range(periods)]
        return doc
    if ev.kind == "stock":
        center = next((c for c in doc["material_centers"] if c["id"] == ev.center), None)
        if center is None:
            raise models.InputError(where, [f"center: unknown material center '{ev.center}'"])
        held = center.get("materials", {})
        if ev.material not in held:
            raise models.InputError(where, [
                f"material: center '{ev.center}' holds no '{ev.material}' "
                f"(it holds {', '.join(sorted(held)) or 'nothing'})"])
        kg = ev.kg if ev.kg is not None else 0.0
        if not math.isfinite(kg) or kg < 0:
            raise models.InputError(where, [f"kg: {kg} is not a number >= 0"])
        held[ev.material]["stock_kg"] = kg
        return doc
    ends = {ev.from_, ev.to}
    known = {loc["id"] for loc in doc["locations"]}
    unknown = [f"{name}: unknown location '{v}'" for name, v in (("from", ev.from_),
                                                                 ("to", ev.to))
               if v not in known]
    if unknown:
        raise models.InputError(where, unknown)
    if not doc.get("routes"):
        raise models.InputError(where, [
            "the registry has no routes: distances are great-circle, so there is no road "
            "link to close; import routes first"])
    kept = [rt for rt in doc["routes"] if {rt["from"], rt["to"]} != ends]
    if len(kept) == len(doc["routes"]):
        raise models.InputError(where, [f"no road link between {ev.from_} and {ev.to}"])
    doc["routes"] = kept
    return doc


@dataclass
class LedgerRows:
    """The committed ledger by request: its plan rows and what it books."""

    plan: Plan  # every committed row, as `broker export` gives them
    hours: dict[str, dict[Slot, float]] = field(default_factory=dict)
    kg: dict[str, dict[Stock, float]] = field(default_factory=dict)
    materials: dict[str, list[tuple[str, str, str, float]]] = field(default_factory=dict)


def broken_requests(before: Scenario, after: Scenario, rows: LedgerRows
                    ) -> dict[str, list[str]]:
    """The committed requests whose bookings no longer fit the registry `after` the
    event, each with the reasons: over-booked capacity, over-drawn stock, a workshop
    that is gone or can no longer do the step, or a road that no longer exists (for the
    flows between steps, the material deliveries and the delivery to the buyer).
    Freeing the whole request also frees the later steps that depended on a broken one."""
    out: dict[str, list[str]] = defaultdict(list)
    workshops = {w.id: w for w in after.workshops}
    centers = {c.id: c for c in after.material_centers}
    slot_total: dict[Slot, float] = defaultdict(float)
    for booked in rows.hours.values():
        for slot, h in booked.items():
            slot_total[slot] += h
    over: dict[Slot, str] = {}
    for (w, p, t), h in sorted(slot_total.items()):
        ws = workshops.get(w)
        cap = ws.cap(p, t) if ws is not None else 0.0
        if not at_most(h, cap):
            over[(w, p, t)] = (f"workshop {w} left the registry" if ws is None else
                               f"capacity of {w} for {p} in period {t}: {h:.6g} h booked, "
                               f"{cap:.6g} h left")
    stock_total: dict[Stock, float] = defaultdict(float)
    for booked_kg in rows.kg.values():
        for stock, kg in booked_kg.items():
            stock_total[stock] += kg
    short: dict[Stock, str] = {}
    for (c, mat), kg in sorted(stock_total.items()):
        center = centers.get(c)
        held = center.materials[mat].stock_kg if center and mat in center.materials else 0.0
        if not at_most(kg, held):
            short[(c, mat)] = (f"stock of {mat} at {c}: {kg:.6g} kg booked, {held:.6g} kg "
                               "left")
    for rid, booked in sorted(rows.hours.items()):
        out[rid].extend(over[slot] for slot in sorted(booked) if slot in over)
    for rid, booked_kg in sorted(rows.kg.items()):
        out[rid].extend(short[stock] for stock in sorted(booked_kg) if stock in short)
    d_after = Derived(after)
    loc = {w.id: w.location for w in after.workshops}
    loc_before = {w.id: w.location for w in before.workshops}
    center_loc = {c.id: c.location for c in after.material_centers}
    for row in rows.plan.production:
        if row.workshop not in workshops:
            out[row.request].append(f"workshop {row.workshop} left the registry")
            continue
        r = after.request(row.request)
        why = d_after.ineligibility(workshops[row.workshop], r, row.step)
        if why is not None:
            out[row.request].append(f"step {row.step} at {row.workshop}: {why}")
    for sh in rows.plan.shipments:
        a, b = loc_before.get(sh.from_), loc_before.get(sh.to)
        if a is not None and b is not None and sh.from_ in loc and sh.to in loc and (
                d_after.dist.km(a, b) is None):
            out[sh.request].append(f"no road from {sh.from_} ({a}) to {sh.to} ({b}) for the "
                                   f"units after step {sh.step}")
    for rid, mats in sorted(rows.materials.items()):
        for c, w, mat, _kg in mats:
            if c in center_loc and w in loc and d_after.dist.km(center_loc[c], loc[w]) is None:
                out[rid].append(f"no road from center {c} to {w} for {mat}")
    final: dict[str, set[str]] = defaultdict(set)
    for row in rows.plan.production:
        r = after.request(row.request)
        if row.step == len(after.component(r.component).routing) - 1:
            final[row.request].add(row.workshop)
    for rid, wids in sorted(final.items()):
        r = after.request(rid)
        if r.destination is None:
            continue
        for w in sorted(wids):
            if w in loc and d_after.dist.km(loc[w], r.destination) is None:
                out[rid].append(f"no road from {w} to the destination {r.destination}")
    # One line per cause and request, in the order found.
    return {rid: list(dict.fromkeys(why)) for rid, why in sorted(out.items()) if why}
