"""Quotes: the cost and earliest on-time period of one new request against the committed
ledger, without storing or booking anything."""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import models
from broker.ledger.bookings import residual_doc
from broker.ledger.db.registry import registry_doc
from broker.ledger.planning import booked
from broker.ledger.requests import reprefix, request_items
from broker.ledger.results import Quote
from broker.ledger.store import Store, require_registry, settings
from models.plan import Plan
from models.scenario import Scenario
from solvers import SolveOptions, solve


def quote(store: Store, source: str | Path | dict[str, Any] | list[dict[str, Any]],
          *, time_limit: float = 0.5) -> Quote:
    """Cost and earliest on-time period of one new request against the committed
    ledger, without storing or booking anything."""
    t0 = time.perf_counter()
    name, items, prefix = request_items(source)
    if len(items) != 1 or not isinstance(items[0], dict):
        raise models.InputError(name, [f"{prefix or '(document)'}: a quote is for exactly "
                                       f"one request, found {len(items)}"])
    item = {k: v for k, v in items[0].items() if k != "idempotency_key"}
    base, _ = residual_document(store)
    try:
        sc = models.scenario_from_dict(pruned_for_request(base, item), "ledger")
    except models.ScenarioError as e:
        raise models.InputError(name, [reprefix(p, prefix) for p in e.problems]) from None
    return quote_in(sc, time_limit, t0)


def residual_document(store: Store) -> tuple[dict[str, Any], int]:
    """The residual scenario document without requests (capacity and stock left by the
    committed ledger, fixed costs already paid at 0) and the ledger version it is at,
    read in one snapshot. The service keeps it in memory between versions."""
    with store.snapshot() as s:
        st = settings(s)
        require_registry(st)
        return residual_doc(registry_doc(s), *booked(s), []), st.version


def pruned_for_request(doc: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """The residual document cut down to what one request can use, with the request:
    its component; the workshops that have hours for one of its processes and hold the
    certifications it requires, and their offers for it; the centers that hold one of its
    materials. Nothing cut could take part in a plan of the request (SPEC 3, eligible),
    so its quote is the same, from a model a fraction of the size. Locations and routes
    stay whole: a shortest path may pass anywhere. A request that names no known
    component gets the whole document, whose validation names the problem."""
    comps = [c for c in doc.get("components", []) if c.get("id") == item.get("component")]
    requires = item.get("requires", [])
    if len(comps) != 1 or not isinstance(requires, list) or not all(
            isinstance(r, str) for r in requires):
        return doc | {"requests": [item]}
    comp = comps[0]
    steps = [st for st in comp.get("routing", []) if isinstance(st, dict)]
    procs = {st.get("process") for st in steps}
    mats = {st.get("material") for st in steps} - {None}

    def has_hours(w: dict[str, Any]) -> bool:
        base, by_period = w.get("capacity", {}), w.get("capacity_by_period", {})
        return any(any(h > 0 for h in by_period[p]) if p in by_period
                   else base.get(p, 0) > 0 for p in procs)

    workshops = [w for w in doc.get("workshops", [])
                 if has_hours(w) and set(requires) <= set(w.get("certifications", []))]
    kept = {w["id"] for w in workshops}
    return doc | {
        "components": [comp],
        "workshops": workshops,
        "offers": [o for o in doc.get("offers", [])
                   if o.get("component") == comp["id"] and o.get("workshop") in kept],
        "material_centers": [c for c in doc.get("material_centers", [])
                             if mats & set(c.get("materials", {}))],
        "requests": [item],
    }


def quote_in(sc: Scenario, time_limit: float, t0: float | None = None) -> Quote:
    """The quote of the one request of `sc`, a residual scenario; `t0` is when the
    quote began (perf_counter), for the reported seconds."""
    t0 = time.perf_counter() if t0 is None else t0
    req = sc.requests[0]
    options = SolveOptions(time_limit=time_limit)
    plan = solve(sc, options)
    if not plan.status.has_plan:
        return Quote(req.id, req.quantity, plan.status.value, None, {}, False, None,
                     None, None, 0, 0, time.perf_counter() - t0)
    due = sc.due(req)
    unmet = sum(u.quantity for u in plan.unmet)
    imported = sum(i.quantity for i in plan.imports)
    completion = _completion(sc, plan)
    on_time = unmet == 0 and completion <= due
    earliest = _earliest(sc, time_limit, completion if on_time else None)
    start = sc.horizon.start

    def day(t: int | None) -> date | None:
        return (start + timedelta(days=t * sc.horizon.period_days)
                if start is not None and t is not None else None)

    assert plan.cost is not None and plan.objective is not None
    done = completion if completion >= 0 else None
    return Quote(req.id, req.quantity, plan.status.value, plan.objective,
                 plan.cost.as_dict(), on_time, done, earliest, day(earliest), unmet, imported,
                 time.perf_counter() - t0, due, day(due), day(done))


def _completion(sc: Scenario, plan: Plan) -> int:
    """The last period of the plan's one request: its last final-step period, or the
    lead time of its imports; -1 when nothing is made or imported."""
    req = sc.requests[0]
    comp = sc.component(req.component)
    finals = [row.period for row in plan.production if row.step == len(comp.routing) - 1]
    imported = sum(i.quantity for i in plan.imports)
    lead = comp.import_.lead_periods if imported and comp.import_ is not None else 0
    return max([*finals, lead] if finals or imported else [-1])


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

    def feasible(due: int) -> int | None:
        """The last period of a plan with every unit by `due`; None: there is none."""
        r = dict(doc["requests"][0], due=due, late_penalty=1.0, unmet_penalty=1.0e3)
        probe = models.scenario_from_dict(doc | {"requests": [r]}, "quote")
        plan = solve(probe, SolveOptions(time_limit=time_limit))
        if plan.status.has_plan and plan.objective is not None and plan.objective < 0.5:
            return _completion(probe, plan)
        return None

    if known is None:
        first = feasible(hi)
        if first is None:
            return None
        hi = first
    while lo < hi:
        mid = (lo + hi) // 2
        found = feasible(mid)
        # A plan that is done before `mid` narrows the search to where it is done.
        if found is not None:
            hi = max(lo, found)
        else:
            lo = mid + 1
    return hi
