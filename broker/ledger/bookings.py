"""Pure arithmetic of the ledger: what a plan books, what is left, what a new plan may
use. No database here; the other ledger modules feed it rows. Capacity and stock are
compared with the checker's own `at_most`, so a ledger the broker accepts passes the
checker."""

from __future__ import annotations

import copy
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from models.check import at_most
from models.derived import Derived
from models.plan import Plan
from models.scenario import Scenario

Slot = tuple[str, str, int]  # workshop, process, period
Stock = tuple[str, str]  # center, material

# Residual hours and kg are rounded to this many decimals: a residual of 39.9999999999
# hours would otherwise cost a whole unit of a 0.4-hour step.
RESIDUAL_DECIMALS = 9


@dataclass
class RequestBooking:
    """What one request of a plan books: hours per slot and kg per center and material,
    and the plan's material rows attributed to it (center, workshop, material, kg)."""

    hours: dict[Slot, float] = field(default_factory=lambda: defaultdict(float))
    kg: dict[Stock, float] = field(default_factory=lambda: defaultdict(float))
    materials: list[tuple[str, str, str, float]] = field(default_factory=list)


def scenario_hash(doc: dict[str, Any]) -> str:
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def plan_bookings(sc: Scenario, plan: Plan) -> dict[str, RequestBooking]:
    """Bookings of every request of `plan`, hours per unit as `sc` says.

    A plan's material rows are per (center, workshop, material) for all its requests
    together; they are split among the requests in request order, filling each
    request's need from the centers in row order, so that a cancel can give back exactly
    what one request took. The last request takes what is left, rounding included."""
    d = Derived(sc)
    out: dict[str, RequestBooking] = defaultdict(RequestBooking)
    need: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in plan.production:
        r = sc.request(row.request)
        comp = sc.component(r.component)
        step = comp.routing[row.step]
        info = d.step_info(sc.workshop(row.workshop), comp.id, row.step)
        out[r.id].hours[(row.workshop, step.process, row.period)] += info.hours * row.quantity
        if step.material is not None and step.material_kg:
            need[(row.workshop, step.material)][r.id] += step.material_kg * row.quantity
    supply: dict[tuple[str, str], list[list[Any]]] = defaultdict(list)
    for m in plan.materials:
        supply[(m.workshop, m.material)].append([m.center, m.kg])
    for (w, mat), pool in supply.items():
        wants = sorted(need.get((w, mat), {}).items())
        if not wants:
            continue
        for i, (rid, kg) in enumerate(wants):
            last = i == len(wants) - 1
            left = kg
            for entry in pool:
                if entry[1] <= 0 or (left <= 1e-9 * kg and not last):
                    continue
                take = entry[1] if last else min(entry[1], left)
                entry[1] -= take
                left -= take
                out[rid].materials.append((entry[0], w, mat, take))
                out[rid].kg[(entry[0], mat)] += take
    for rid in (r.id for r in sc.requests):
        out.setdefault(rid, RequestBooking())
    return dict(out)


def residual_doc(registry: dict[str, Any], booked_hours: dict[Slot, float],
                 booked_kg: dict[Stock, float], engaged: set[str],
                 tooled: set[tuple[str, str, int]],
                 requests: list[dict[str, Any]]) -> dict[str, Any]:
    """The scenario a new plan is made in: the registry with the capacity and stock left
    after the committed bookings, fixed costs already paid set to 0, and `requests`."""
    doc = copy.deepcopy(registry)
    periods = doc["horizon"]["periods"]
    by_ws: dict[str, dict[str, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    for (w, p, t), h in booked_hours.items():
        by_ws[w][p][t] = h
    for w in doc["workshops"]:
        if w["id"] in engaged:
            w["engagement_cost"] = 0.0
        booked = by_ws.get(w["id"])
        if not booked:
            continue
        bp = dict(w.get("capacity_by_period", {}))
        for p, per_t in booked.items():
            base = bp.get(p) or [w.get("capacity", {}).get(p, 0.0)] * periods
            bp[p] = [max(0.0, round(base[t] - per_t.get(t, 0.0), RESIDUAL_DECIMALS))
                     for t in range(periods)]
        w["capacity_by_period"] = bp
    for c in doc["material_centers"]:
        for mat, st in c.get("materials", {}).items():
            used = booked_kg.get((c["id"], mat), 0.0)
            if used:
                st["stock_kg"] = max(0.0, round(st["stock_kg"] - used, RESIDUAL_DECIMALS))
    for o in doc["offers"]:
        if (o["workshop"], o["component"], o["step"]) in tooled:
            o["tooling_cost"] = 0.0
    doc["requests"] = requests
    return doc


def overbooked(sc: Scenario, booked_hours: dict[Slot, float],
               booked_kg: dict[Stock, float], limit: int = 20) -> list[str]:
    """What the bookings take beyond capacity or stock, one line per slot."""
    out: list[str] = []
    workshops = {w.id: w for w in sc.workshops}
    centers = {c.id: c for c in sc.material_centers}
    for (w, p, t), h in sorted(booked_hours.items()):
        ws = workshops.get(w)
        cap = ws.cap(p, t) if ws is not None and 0 <= t < sc.horizon.periods else 0.0
        if not at_most(h, cap):
            out.append(f"capacity of {w} for {p} in period {t}: {h:.6g} h booked, "
                       f"{cap:.6g} h available")
    for (c, mat), kg in sorted(booked_kg.items()):
        center = centers.get(c)
        stock = center.materials[mat].stock_kg if center and mat in center.materials else 0.0
        if not at_most(kg, stock):
            out.append(f"stock of {mat} at {c}: {kg:.6g} kg booked, {stock:.6g} kg held")
    return out[:limit] + ([f"... and {len(out) - limit} more"] if len(out) > limit else [])


def add(a: dict[Any, float], b: dict[Any, float]) -> dict[Any, float]:
    out: dict[Any, float] = defaultdict(float, a)
    for k, v in b.items():
        out[k] += v
    return dict(out)
