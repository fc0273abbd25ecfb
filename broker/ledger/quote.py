"""Quotes: the cost and earliest on-time period of one new request against the committed
ledger, without storing or booking anything."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import models
from broker.ledger.planning import residual
from broker.ledger.requests import reprefix, request_items
from broker.ledger.results import Quote
from broker.ledger.store import Store
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
    with store.snapshot() as s:
        try:
            sc, _ = residual(s, None, [item])
        except models.ScenarioError as e:
            raise models.InputError(name, [reprefix(p, prefix) for p in e.problems]
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
