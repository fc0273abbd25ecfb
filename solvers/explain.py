"""Why a request is not (wholly) delivered, in words a planner can act on.

The reasons are tried from the most structural to the most economic: a step no workshop
may do; a horizon too short for the routing; capacity of a process used up at every
eligible workshop in every period the step could run; material stock used up; the
sourcing limit; local content that no unit of the request can reach (its materials only
from foreign stock); and, when the plan could have made more, that leaving it is cheaper
at the given penalty than making or importing it.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict

from models.derived import Derived
from models.plan import MaterialRow
from models.scenario import Request, Scenario
from solvers.explain_rules import RuleContext
from solvers.model import final_eligible, step_window


def _periods(ts: list[int]) -> str:
    """[2, 3, 4, 6] -> '2-4, 6'."""
    out: list[str] = []
    for t in sorted(ts):
        if out and out[-1].split("-")[-1] == str(t - 1):
            out[-1] = out[-1].split("-")[0] + f"-{t}"
        else:
            out.append(str(t))
    return ", ".join(out)


def _names(ids: list[str], most: int = 4) -> str:
    shown = ", ".join(ids[:most])
    return shown + (f" and {len(ids) - most} more" if len(ids) > most else "")


def _no_workshop(sc: Scenario, d: Derived, r: Request, s: int) -> str:
    comp = sc.component(r.component)
    step = comp.routing[s]
    where = f"step {s} ({step.process})"
    capable = [w for w in sc.workshops if d.has_capacity(w, step.process)]
    if not capable:
        return f"no eligible workshop: no workshop has capacity for process '{step.process}' " \
               f"({where})"
    certified = [w for w in capable if all(c in w.certifications for c in r.requires)]
    if not certified:
        return (f"no certified workshop: none of the {len(capable)} workshops with "
                f"'{step.process}' capacity holds {', '.join(r.requires)} ({where})")
    if comp.offers_only:
        offered = [w for w in certified if (w.id, comp.id, s) in d.offers]
        if not offered:
            return f"no eligible workshop: no certified workshop has an offer for {where}"
        certified = offered
    if step.material is not None:
        reach = [w for w in certified if d.material_sources(step.material, w)]
        if not reach:
            return (f"no eligible workshop: no material center holding '{step.material}' can "
                    f"reach a workshop able to do {where}")
    return f"no eligible workshop for {where}"


# What a request's reason is given when the time limit ran out before it was worked out.
NOT_WORKED_OUT = ("reason not worked out: the time limit ran out while the plan was being "
                  "written; solve with a longer limit to have it")
# Request fields a reason may read besides the request's units in the plan (its id and
# buyer are only labels): requests alike in all of them and without units made at home
# share their reason.
_REASON_FIELDS = tuple(f for f in Request.model_fields if f not in ("id", "buyer"))


def explain_unmet(sc: Scenario, d: Derived, x: dict[tuple[str, int, str, int], int],
                  materials: list[MaterialRow], unmet: dict[str, int],
                  proven: bool = True, deadline: float | None = None) -> dict[str, str]:
    """A reason per request with unmet units. `proven`: the plan is optimal, so units left
    where making them looks cheaper than the penalty are left for fixed costs or policy,
    not for want of search time. Past `deadline` (a time.perf_counter() value) the
    requests not yet explained get NOT_WORKED_OUT, so that writing a plan keeps to the
    solve's time limit."""
    hours_used: dict[tuple[str, str, int], float] = defaultdict(float)
    suppliers: dict[tuple[str, int], set[str]] = defaultdict(set)
    for (rid, s, wid, t), q in x.items():
        r = sc.request(rid)
        comp = sc.component(r.component)
        info = d.step_info(sc.workshop(wid), comp.id, s)
        hours_used[(wid, comp.routing[s].process, t)] += info.hours * q
        suppliers[(rid, s)].add(wid)
    stock_used: dict[tuple[str, str], float] = defaultdict(float)
    for mr in materials:
        stock_used[(mr.center, mr.material)] += mr.kg

    # Minimum lots, sourcing floors, spread and regional shares (SPEC 8.2-8.5).
    rules = RuleContext(sc, d, x, hours_used, unmet) if sc.has_inclusion_rules() else None
    reasons: dict[str, str] = {}
    # A unit's cost estimate depends on the request only through its component and
    # certifications (eligibility before the delivery leg): shared between requests.
    estimates: dict[tuple[str, tuple[str, ...]], float] = {}
    made = {rid for rid, _s in suppliers}
    alike: dict[tuple[object, ...], str] = {}
    for i, rid in enumerate(unmet):
        # The clock is read every 64 requests: a reason takes 0.02 to 1 ms.
        if deadline is not None and i % 64 == 0 and time.perf_counter() > deadline:
            for rest in list(unmet)[i:]:
                reasons[rest] = NOT_WORKED_OUT
            break
        r = sc.request(rid)
        key: tuple[object, ...] | None = None
        if rid not in made:
            # 100,000 requests of 24 kinds took 25 s to explain one by one.
            key = (unmet[rid], *(tuple(v) if isinstance(v := getattr(r, f), list) else v
                                 for f in _REASON_FIELDS))
            if key in alike:
                reasons[rid] = alike[key]
                continue
        reasons[rid] = _explain_one(sc, d, r, hours_used, suppliers, stock_used, proven,
                                    estimates, rules)
        if key is not None:
            alike[key] = reasons[rid]
    return reasons


def _explain_one(sc: Scenario, d: Derived, r: Request,
                 hours_used: dict[tuple[str, str, int], float],
                 suppliers: dict[tuple[str, int], set[str]],
                 stock_used: dict[tuple[str, str], float], proven: bool,
                 estimates: dict[tuple[str, tuple[str, ...]], float],
                 rules: RuleContext | None = None) -> str:
    comp = sc.component(r.component)
    n = len(comp.routing)
    for s in range(n):
        if not d.eligible[(r.id, s)]:
            return _no_workshop(sc, d, r, s)
    if r.destination is not None and not final_eligible(d, r, n - 1, n):
        return (f"no eligible workshop for the final step has a road to destination "
                f"'{r.destination}'")
    lag = sc.policy.step_lag_periods
    if not step_window(sc, r, n - 1, n) or not step_window(sc, r, 0, n):
        last = r.release + (n - 1) * lag
        return (f"horizon too short: {n} steps with a lag of {lag} period(s) from release "
                f"period {r.release} would end in period {last}, after the last period "
                f"{sc.horizon.periods - 1}")
    if rules is not None and (why := rules.structural(r)) is not None:
        return why
    for s, step in enumerate(comp.routing):
        elig = final_eligible(d, r, s, n)
        limit = r.max_suppliers_per_step
        if limit is not None and len(suppliers.get((r.id, s), ())) >= limit:
            elig = sorted(suppliers[(r.id, s)])
            limited = True
        else:
            limited = False
        window = list(step_window(sc, r, s, n))
        # Is one unit's worth of hours free anywhere? Stop at the first: on a national
        # instance a step has thousands of eligible workshops.
        free = False
        for t in window:
            for wid in elig:
                w = sc.workshop(wid)
                h = d.step_info(w, comp.id, s).hours
                left = w.cap(step.process, t) - hours_used.get((wid, step.process, t), 0.0)
                if h <= 0 or left >= h - 1e-9:
                    free = True
                    break
            if free:
                break
        if not free:  # no period of the window has room for a unit
            if limited:
                return (f"sourcing limit: step {s} ({step.process}) may use at most {limit} "
                        f"workshops and {_names(elig)} have no '{step.process}' capacity left")
            when = (f"period {window[0]}" if len(window) == 1
                    else f"periods {_periods(window)}")
            at = (f"the only eligible workshop ({elig[0]})" if len(elig) == 1
                  else f"all {len(elig)} eligible workshops ({_names(elig)})")
            return (f"capacity of process '{step.process}' short in {when} at {at} for step "
                    f"{s}")
        if step.material is not None and step.material_kg:
            left_kg = 0.0
            for c in sc.material_centers:
                st = c.materials.get(step.material)
                if st is None:
                    continue
                if any(d.dist.km(c.location, sc.workshop(w).location) is not None for w in elig):
                    left_kg += st.stock_kg - stock_used.get((c.id, step.material), 0.0)
            if left_kg < step.material_kg - 1e-9:
                return (f"material '{step.material}' short: {max(0.0, left_kg):,.1f} kg left at "
                        f"the centers that reach eligible workshops, {step.material_kg:g} kg "
                        f"needed per unit (step {s})")
    if rules is not None and (why := rules.at_the_margin(r)) is not None:
        return why
    if sc.policy.min_local_content > 0 and (why := _local_content_cap(sc, d, r, stock_used)):
        return why
    penalty = sc.unmet_penalty(r)
    key = (r.component, tuple(sorted(r.requires)))
    if key not in estimates:
        estimates[key] = _unit_cost_estimate(sc, d, r)
    est = estimates[key]
    if not proven and est < penalty:
        return (f"not placed when the search stopped (time limit): capacity, material and "
                f"workshops are free and making one costs about {est:,.0f} against the "
                f"penalty of {penalty:,.0f}; a longer solve would likely place it")
    if est < penalty:
        text = (f"cheaper to leave it than to make it at the given penalty of {penalty:,.0f} "
                f"per unit: a unit's production and material cost about {est:,.0f}, but the "
                f"tooling, engagement, transport or lateness the remaining units would add "
                f"cost more than the penalty")
    else:
        text = (f"cheaper to leave it than to make it at the given penalty of {penalty:,.0f} "
                f"per unit: making one costs at least about {est:,.0f} in production and "
                f"material")
    if sc.import_allowed(r):
        text += f", importing one {sc.import_unit_cost(r):,.0f}"
    if sc.policy.min_local_content > 0:
        text += f" (and the plan must keep local content >= {sc.policy.min_local_content:g})"
    return text


def _local_content_cap(sc: Scenario, d: Derived, r: Request,
                       stock_used: dict[tuple[str, str], float]) -> str | None:
    """The reason when no unit of `r` can reach `policy.min_local_content` on its own: the
    highest local content of a unit made at home (the dearest eligible workshop per step,
    whose cost is domestic, and per material step domestic stock where some is left within
    reach, else the cheapest foreign stock), and an import is wholly foreign. None when a
    unit can reach it. Transport and fixed costs, domestic too, are left out: they are
    what the named figure would gain at most from, and say so."""
    comp = sc.component(r.component)
    domestic = foreign = 0.0
    foreign_steps: list[str] = []
    for s, step in enumerate(comp.routing):
        elig = d.eligible[(r.id, s)]
        domestic += max((d.step_info(sc.workshop(w), comp.id, s).unit_cost for w in elig),
                        default=0.0)
        if step.material is None or not step.material_kg:
            continue
        kg = step.material_kg
        home: list[float] = []
        abroad: list[tuple[float, str]] = []
        empty: list[str] = []
        for c in sc.material_centers:
            st = c.materials.get(step.material)
            if st is None or not any(d.dist.km(c.location, sc.workshop(w).location) is not None
                                     for w in elig):
                continue
            left = st.stock_kg - stock_used.get((c.id, step.material), 0.0)
            if st.domestic:
                if left >= kg - 1e-9:
                    home.append(st.price_per_kg)
                else:
                    empty.append(f"{c.id} {max(0.0, left):,.0f} kg")
            elif left >= kg - 1e-9:
                abroad.append((st.price_per_kg, c.id))
        if home:
            domestic += kg * max(home)
        elif abroad:
            price, center = min(abroad)
            foreign += kg * price
            dom_note = (f"the domestic centers within reach have too little left "
                        f"({_names(empty)})" if empty else "no domestic center within reach "
                        "holds it")
            foreign_steps.append(f"'{step.material}' for step {s} comes only from foreign "
                                 f"stock ({center}, {price:,.0f} per kg): {dom_note}")
    if not foreign_steps or domestic + foreign <= 0:
        return None
    cap = domestic / (domestic + foreign)
    need = sc.policy.min_local_content
    if cap >= need - 1e-12:
        return None
    text = (f"no unit of it reaches policy.min_local_content {need:g}: "
            f"{'; '.join(foreign_steps)}, so a unit made at home has at most about "
            f"{_pct(cap)} local content (domestic cost {domestic:,.0f} of "
            f"{domestic + foreign:,.0f} per unit, before transport and fixed costs)")
    if sc.import_allowed(r):
        text += "; importing it is wholly foreign content"
    return text


def _pct(v: float) -> str:
    """0.9574 -> '95.7%'; never rounded up to the threshold it falls short of."""
    return f"{math.floor(v * 1000) / 10:.1f}%"


def _unit_cost_estimate(sc: Scenario, d: Derived, r: Request) -> float:
    """A lower estimate of the variable cost of one unit: the cheapest workshop per step
    plus the cheapest material (fixed costs, transport and timing left out)."""
    comp = sc.component(r.component)
    total = 0.0
    for s, step in enumerate(comp.routing):
        costs = [d.step_info(sc.workshop(w), comp.id, s).unit_cost
                 for w in d.eligible[(r.id, s)]]
        total += min(costs, default=0.0)
        if step.material is not None and step.material_kg:
            prices = [c.materials[step.material].price_per_kg for c in sc.material_centers
                      if step.material in c.materials]
            total += step.material_kg * min(prices, default=0.0)
    return total
