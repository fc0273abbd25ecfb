"""Quotes: the cost and earliest on-time period of one new request against the committed
ledger, without storing or booking anything."""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

import models
from broker.ledger.bookings import residual_doc
from broker.ledger.db.registry import registry_doc
from broker.ledger.planning import booked
from broker.ledger.requests import reprefix, request_items
from broker.ledger.results import Quote
from broker.ledger.store import Store, require_registry, settings
from models.dates import resolve_dates
from models.plan import Plan, Status
from models.scenario import Offer, Request, Scenario
from models.validate import cross_check
from solvers import (
    Engine,
    Method,
    SolveOptions,
    completion_period,
    earliest_completion,
    solve,
    solve_with_earliest,
)

if TYPE_CHECKING:
    from solvers.earliest import Earliest


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

    workshops = [w for w in doc.get("workshops", [])
                 if any(_has_hours(w, p) for p in procs)
                 and set(requires) <= set(w.get("certifications", []))]
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


class ResidualIndex:
    """The residual document of one ledger version, validated once, for the quotes asked
    at that version. `scenario_for(item)` is the scenario that
    `models.scenario_from_dict(pruned_for_request(doc, item))` gives, equal to it field
    for field, made from the registry's objects validated here and the request alone:
    validating the cut document again for every quote was 0.8 ms of a quote's 19 ms of
    CPU (the bench's medium registry, 150 workshops).

    Nothing is taken on trust: where the document itself has a problem, or the request
    has one (a field, a date, a reference, an unknown or ambiguous component), or its
    `requires` is not a list of text, `scenario_for` gives None and the caller validates
    the cut document as before, which names every problem in the same words."""

    def __init__(self, doc: dict[str, Any]):
        self.doc = doc
        self.scenario: Scenario | None = None
        try:
            sc = models.scenario_from_dict(doc | {"requests": []}, "ledger")
        except models.ScenarioError:
            return
        self.scenario = sc
        # Each raw entry beside its validated object (a list is validated in order).
        self._components = {c["id"]: obj for c, obj in zip(doc.get("components", []),
                                                           sc.components, strict=True)}
        self._workshops = [(_hours_processes(w), set(w.get("certifications", [])), obj)
                           for w, obj in zip(doc.get("workshops", []), sc.workshops,
                                             strict=True)]
        self._offers: dict[str, list[tuple[str, Offer]]] = {}
        for o, obj in zip(doc.get("offers", []), sc.offers, strict=True):
            self._offers.setdefault(o["component"], []).append((o["workshop"], obj))
        self._centers = [(set(c.get("materials", {})), obj)
                         for c, obj in zip(doc.get("material_centers", []),
                                           sc.material_centers, strict=True)]
        # What the request's cross-references are checked against.
        self._refs = {"horizon": doc.get("horizon"),
                      "locations": [{"id": loc["id"]} for loc in doc.get("locations", [])]}

    def scenario_for(self, item: dict[str, Any]) -> Scenario | None:
        """The validated cut scenario with the request, or None: validate
        `pruned_for_request(doc, item)` instead."""
        sc, cid, requires = self.scenario, item.get("component"), item.get("requires", [])
        if sc is None or not isinstance(cid, str) or cid not in self._components or not (
                isinstance(requires, list) and all(isinstance(r, str) for r in requires)):
            return None
        # The request as scenario_from_dict reads it: dates, fields, references.
        refs = self._refs | {"components": [{"id": cid}], "requests": [item]}
        refs, problems = resolve_dates(refs)
        if problems or cross_check(refs):
            return None
        try:
            req = Request.model_validate(refs["requests"][0])
        except ValidationError:
            return None
        # The cut of `pruned_for_request`, on the validated objects.
        comp = self._components[cid]
        procs = {st.process for st in comp.routing}
        mats = {st.material for st in comp.routing} - {None}
        need = set(requires)
        workshops = [w for hours, certs, w in self._workshops if hours & procs and need <= certs]
        kept = {w.id for w in workshops}
        out = sc.model_copy(update={
            "components": [comp],
            "workshops": workshops,
            "offers": [o for wid, o in self._offers.get(cid, []) if wid in kept],
            "material_centers": [c for held, c in self._centers if mats & held],
            "requests": [req],
        })
        out._idx = None  # the copied look-up tables would name the whole registry
        return out


def _has_hours(w: dict[str, Any], p: Any) -> bool:
    """Whether a workshop entry has hours for process `p` in some period (its
    `capacity_by_period` where it has one for `p`, else its `capacity`): the one rule of
    `pruned_for_request` and `ResidualIndex`."""
    base, by_period = w.get("capacity", {}), w.get("capacity_by_period", {})
    return any(h > 0 for h in by_period[p]) if p in by_period else base.get(p, 0) > 0


def _hours_processes(w: dict[str, Any]) -> set[str]:
    """The processes a workshop entry has hours for, as `pruned_for_request` reads it."""
    return {p for p in (*w.get("capacity", {}), *w.get("capacity_by_period", {}))
            if _has_hours(w, p)}


def quote_options(time_limit: float) -> SolveOptions:
    """How a quote's solves run. A quote's model is small (one request on the workshops
    that can make it) and can be hard for its size where `max_suppliers_per_step` binds.
    SCIP without presolve, cutting planes and heuristics proves the cheapest plan optimal
    in 10-12 ms on average (the slowest 67-94 ms), where SCIP as it comes took 30 ms (446
    ms) and HiGHS 180 ms (4.8 s); the engine has the whole limit, with no neighbourhood
    search after half of it. The earliest period's feasibility MIP, where one is needed,
    is fastest so too (7 hard cases: 57 ms in all, 138-170 ms with presolve or
    heuristics). Measured on the 88 quotes of `python -m broker.service.bench`
    (docs/service.md). Branching on inference history first took the slowest quotes
    from 383-1,134 ms to 142-420 ms (see SolveOptions.inference_branching)."""
    return SolveOptions(time_limit=time_limit, engine=Engine.SCIP, method=Method.EXACT,
                        presolve=False, cuts=False, heuristics=False, neighbourhood=False,
                        constructive_orders=1, inference_branching=True, lp_first=True,
                        constructive_last=True)


def quote_in(sc: Scenario, time_limit: float, t0: float | None = None) -> Quote:
    """The quote of the one request of `sc`, a residual scenario; `t0` is when the
    quote began (perf_counter), for the reported seconds."""
    t0 = time.perf_counter() if t0 is None else t0
    req = sc.requests[0]
    plan, found = _solve(sc, time_limit)
    if found is None:
        return Quote(req.id, req.quantity, plan.status.value, None, {}, False, None,
                     None, None, 0, 0, time.perf_counter() - t0)
    due = sc.due(req)
    unmet = sum(u.quantity for u in plan.unmet)
    imported = sum(i.quantity for i in plan.imports)
    completion = completion_period(sc, plan)
    on_time = unmet == 0 and completion <= due
    # The first due period the request could have and be on time: imports may be in
    # before its release, a due period may not (SPEC 2).
    earliest = None if found.period is None else max(req.release, found.period)
    start = sc.horizon.start

    def day(t: int | None) -> date | None:
        return (start + timedelta(days=t * sc.horizon.period_days)
                if start is not None and t is not None else None)

    assert plan.cost is not None and plan.objective is not None
    gap = 0.0 if plan.status is Status.OPTIMAL else (
        None if plan.bound is None
        else max(0.0, plan.objective - plan.bound) / max(abs(plan.objective), 1e-9))
    done = completion if completion >= 0 else None
    return Quote(req.id, req.quantity, plan.status.value, plan.objective,
                 plan.cost.as_dict(), on_time, done, earliest, day(earliest), unmet,
                 imported, time.perf_counter() - t0, due, day(due), day(done), gap,
                 found.status in ("optimal", "infeasible"))


def _solve(sc: Scenario, time_limit: float) -> tuple[Plan, Earliest | None]:
    """The cheapest plan, and the earliest period by which every unit of the request can
    be delivered (made, or imported with its lead time) whatever it costs: the cost-based
    local-content policy plays no part in it. Where the registry has none, both come
    from one built model."""
    options = quote_options(time_limit)
    if sc.policy.min_local_content == 0:
        return solve_with_earliest(sc, options, options)
    plan = solve(sc, options)
    if not plan.status.has_plan:
        return plan, None
    probe = sc.model_copy(update={"policy": sc.policy.model_copy(
        update={"min_local_content": 0.0})})
    known = completion_period(sc, plan) if not plan.unmet else None
    return plan, earliest_completion(probe, options, by=known)
