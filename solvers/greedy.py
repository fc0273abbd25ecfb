"""A constructive plan for instances too large for the MIP engine in the time given.

Requests are taken one at a time (those a guide makes at home first, then those that
cannot be imported, then in one of ORDERS) and routed through their steps period by
period: each step uses at most the sourcing limit's number of workshops, in the order of
a guide (the units an LP relaxation gave each (request, step, workshop), optionally per
period) or, without one, of unit cost; it makes units only with the period's remaining
hours, the material its centers still hold, and only as many as the previous step
finished `step_lag_periods` earlier. Every step is then trimmed to what the final step
made (latest periods first, which keeps precedence), what is left is tried again in later
passes, and the rest of the request is imported when that is allowed and cheaper than
leaving it, else left unmet. Flows between steps go to the nearest locations first. The
plan is feasible by construction (the checker verifies it like any other), but it is not
optimal; its gap is measured against a bound found separately (solvers/lp_guided.py).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import replace

from models.derived import Derived
from models.scenario import Request, Scenario, Workshop
from solvers.lpmodel import ArrayModel
from solvers.model import Built, Raw, final_eligible, step_window

Triple = tuple[str, int, str]
# Workshops a step may use when the request sets no sourcing limit.
MAX_WORKSHOPS = 8
# How far down the cost ranking a step looks for workshops with room left.
SCAN_WORKSHOPS = 200


# Orders in which requests take capacity, after the guided ones and those that cannot be
# imported (see `greedy_plan`). None is best everywhere: on the large generated instance
# the plan guided by the one-period LP cost 1.994e11 by due period, 2.002e11 by regret
# and 2.007e11 by release, the unguided one 2.045e11, 2.075e11 and 2.026e11.
ORDERS = ("due", "regret", "release")


def greedy_variants(sc: Scenario, orders: tuple[str, ...] = ORDERS
                    ) -> list[tuple[str, bool, bool]]:
    """(order, fees, priced) of the constructive plans to try, in turn while time allows:
    every order with the fees counted (`greedy_plan`), then, where there are fees, every
    order by unit cost alone. Under a local-content floor every order priced with the
    floor comes right after the first plan; a caller skips them where the plans before
    had met the floor as made (`binds_local_content`). Where it binds, the priced plans
    were the better ones on every instance measured (`DOMESTIC_WEIGHT`), and on the
    generated large scarce-material seed 1 the order decided more than pricing did:
    2.207e11, 2.164e11 and 2.156e11 priced by due period, regret and release, against
    8.12e11, 1.32e12 and 3.71e11 unpriced."""
    out = [(o, True, False) for o in orders]
    if has_fees(sc):
        out += [(o, False, False) for o in orders]
    if sc.policy.min_local_content > 0:
        out[1:1] = [(o, True, True) for o in orders]
    return out


# The multipliers of `hour_prices` tried in turn where the constructive plans leave units
# unmet (solvers/constructive.py), until a plan leaves none.
FIT_LADDER = (0.5, 2.0, 8.0, 32.0)


def hour_prices(sc: Scenario, d: Derived) -> dict[str, float]:
    """Per process, a price of an hour for ranking workshops where capacity is short: the
    median unit cost per hour over the eligible offers, times the hours the requests need
    at their least-hours workshops over the hours the workshops have. Ranked by unit cost
    alone, the cheap workshops fill first; where they are also the ones that need most
    hours for a unit (GAP types D and E, whose costs fall as the hours rise) the
    constructive plan left 11 of 100 (c10100) to 707 of 900 (e15900) jobs unmet. Priced
    so, with the multiplier raised fourfold in turn (FIT_LADDER), every job was placed:
    c types at 0.5 (2-5% above the optimum), d and e types at 8 (26-58%). Kept on `d`."""
    cached = getattr(d, "_hour_prices", None)
    if cached is not None and cached[0] is sc:
        return cached[1]
    workshop = {w.id: w for w in sc.workshops}
    need: dict[str, float] = defaultdict(float)
    ratios: dict[str, list[float]] = defaultdict(list)
    least: dict[tuple[object, ...], float | None] = {}
    for r in sc.requests:
        comp = sc.component(r.component)
        n = len(comp.routing)
        for s, step in enumerate(comp.routing):
            # Requests of one component, certifications and destination share the
            # workshops (as `CapacityState.rank_key`): each group is read once.
            key = (comp.id, s, tuple(sorted(r.requires)),
                   r.destination if s == n - 1 else None)
            if key not in least:
                hours = []
                for wid in final_eligible(d, r, s, n):
                    info = d.step_info(workshop[wid], comp.id, s)
                    if info.hours > 0:
                        hours.append(info.hours)
                        ratios[step.process].append(info.unit_cost / info.hours)
                least[key] = min(hours) if hours else None
            h = least[key]
            if h is not None:
                need[step.process] += r.quantity * h
    have: dict[str, float] = defaultdict(float)
    for w in sc.workshops:
        for p in w.capacity:
            have[p] += sum(w.cap(p, t) for t in range(sc.horizon.periods))
    out: dict[str, float] = {}
    for p, needed in need.items():
        rs = sorted(ratios[p])
        if rs and have[p] > 0:
            out[p] = rs[len(rs) // 2] * needed / have[p]
    d._hour_prices = (sc, out)  # type: ignore[attr-defined]
    return out


def binds_local_content(raw: Raw) -> bool:
    """Whether the unpriced plan `raw` of `greedy_plan` missed the local-content floor as
    it was made, before units were left unmet for it."""
    return bool(raw.extra.get("local_content_short", 0.0) > 0)


# Seconds ranking the requests takes per request before the first is placed (measured
# on a loaded machine: 3 s for 100,000).
RANK_SECONDS_PER_REQUEST = 3e-5
# Rounds of the spread (SPEC 8.4): each caps every workshop's final-step units at the
# share of the domestic units the round before made.
SPREAD_ROUNDS = 4
# Rounds of `drop_foreign_heavy`, each re-estimating from the rows.
DROP_ROUNDS = 8
# Where the local-content floor L binds, a plan is also made with every choice priced at
# cost + rho (F - (1 - L) T) (`CapacityState`), rho set so that domestic spending weighs
# this much: below 0, spending more at home pays. Leaving units unmet is the plan's other
# way to meet the floor, at their penalty (5e7 IDR a unit on the alt generator's large
# seed 1, against some 2e5 IDR of shortfall each), so a haul from a farther center, a
# dearer workshop or one more IKM engaged is far cheaper. The constructive plan of that
# instance (the best after its repair, order by due period): 1.76e13 unpriced, 1.31e13,
# 1.11e13, 1.09e13 and 9.85e12 at weights -0.05, -0.2, -1 and -3; alt medium seed 1:
# 2.86e13, 9.80e12 (-0.2 and -1), 8.62e12 (-3); small seeds 3 and 18: 4.27e12 and
# 8.88e11 unpriced, 3.37e12 and 8.19e11 at any of those weights.
DOMESTIC_WEIGHT = -3.0
# The weight tried first (`_priced_plan`): foreign spending weighs 1 + rho L, some 30
# times domestic spending at L = 0.4, whose own costs still rank the workshops (at 0
# they would all tie). Where the plan meets the floor so, the weight is bisected upwards
# this many times.
FOREIGN_FIRST_WEIGHT = 0.05
PRICE_BISECTIONS = 3


def greedy_plan(sc: Scenario, d: Derived, guide: dict[Triple, float] | None = None,
                order_by: str = "due",
                by_period: dict[tuple[str, int, str, int], float] | None = None,
                deadline: float | None = None, fees: bool = True, priced: bool = False,
                fit: float = 0.0) -> tuple[Built, Raw]:
    """A plan (as a solver answer) and the Built that its rows are extracted with;
    `order_by` is one of ORDERS; `by_period` spreads the guide over periods (an LP
    solution with periods): the first pass then makes no more by a period than the guide
    had made by then, rounded up.

    With a spread (`max_workshop_share` v < 1) every workshop makes at most v times the
    domestic units of final steps; those are known only once the plan is made, so the
    first round caps at v times all requested units and each further round at v times
    what the round before made at home, until the plan meets the spread (or
    SPREAD_ROUNDS have passed; a plan that misses it is then dropped by the caller).

    Past `deadline` (a `time.perf_counter()` value) the requests not yet placed are
    imported or left unmet, so a plan comes back in time whatever the size: 100,000
    requests took 132 s to place, past a 20 s limit, and the solve had no plan at all.

    With `fees`, a step ranks the workshops with room by unit cost plus the engagement and
    tooling fees it would still pay there, spread over the units to make (a fee paid by
    an earlier request costs nothing more): on the `fixed-cost` generated medium
    instances, seeds 1 and 2, the best of the three orders costs a fifth less than
    ranked by unit cost alone (4.26e10 against 5.41e10, 4.93e10 against 6.16e10). The
    callers try both where there are fees (`greedy_variants`): on the alt generator's
    medium seed 1 unit cost alone did better (1.21e13 against 1.65e13, both far above
    its bound: local content decides there).

    With `priced` and a local-content floor, every choice is ranked by its cost plus the
    floor's row priced (`CapacityState`, weights chosen by `_priced_plan`), and units are
    then left unmet only for what the plan still misses. Without it, the unpriced plan's shortfall
    as made is kept in `raw.extra["local_content_short"]` (`binds_local_content`)."""
    floor = sc.policy.min_local_content
    if priced and floor > 0:
        return _priced_plan(sc, d, guide, order_by, by_period, deadline, fees)
    b, raw = _spread_plan(sc, d, guide, order_by, by_period, deadline, fees, fit=fit)
    if floor <= 0:
        return b, raw
    short = raw.extra["local_content_short"] = _local_content_short(sc, d, b, raw)
    raw, short = meet_local_content(sc, d, b, raw, short)
    if short > 0:
        # Still short with nothing imported: foreign material is the rest of it. The
        # priced plans that follow take domestic material first where it pays; this one
        # only has to come soon (made again with domestic material first, the first plan
        # of the alt generator's large seed 3 came at 3.6 s, past 5% of a 60 s limit).
        raw = drop_foreign_heavy(sc, d, b, raw, short)[0]
    return b, raw


def _priced_plan(sc: Scenario, d: Derived, guide: dict[Triple, float] | None,
                 order_by: str, by_period: dict[tuple[str, int, str, int], float] | None,
                 deadline: float | None, fees: bool) -> tuple[Built, Raw]:
    """`greedy_plan` priced with the local-content floor: first with domestic spending
    weighing FOREIGN_FIRST_WEIGHT; where that plan meets the floor as made, the weight is
    bisected between it and 1 (unpriced, which missed it) for the least spending that
    still meets it, PRICE_BISECTIONS times while `deadline` allows; where it does not,
    once more at DOMESTIC_WEIGHT, and where that meets it, the share of the requests
    priced so is bisected (the rest at FOREIGN_FIRST_WEIGHT). The cheapest plan once repaired
    (`meet_local_content`, `drop_foreign_heavy`) is kept, the floor met first. Too little
    weight leaves units unmet at their penalty, too much spends more than the floor
    needs: on the generated large scarce-material seed 1 (floor 40%) the plan weighed at
    -3 had 43.6% local content and cost 2.323e11, at 0 41.2% and 2.227e11, at 0.2 39.5%
    as made and 7.50e11 once units were left unmet for it."""
    floor = sc.policy.min_local_content
    best: tuple[tuple[bool, float], Built, Raw] | None = None

    def rho(weight: float) -> float:
        return (1.0 - weight) / (1.0 - floor) if floor < 1 else 1.0 - weight

    def attempt(weight: float, share: float = 1.0) -> bool:
        nonlocal best
        lead = None
        if share < 1:
            lead = (rho(weight), share)
            weight = FOREIGN_FIRST_WEIGHT
        b, raw = _spread_plan(sc, d, guide, order_by, by_period, deadline, fees, rho(weight),
                              lead)
        short = _local_content_short(sc, d, b, raw)
        met = short <= 0
        raw, short = meet_local_content(sc, d, b, raw, short)
        if short > 0:
            raw, short = drop_foreign_heavy(sc, d, b, raw, short)
        key = (short > 0, _spend(sc, d, raw)[0])
        if best is None or key < best[0]:
            best = (key, b, raw)
        return met

    def in_time() -> bool:
        return deadline is None or time.perf_counter() < deadline

    if attempt(FOREIGN_FIRST_WEIGHT):
        low, high = FOREIGN_FIRST_WEIGHT, 1.0
        for _ in range(PRICE_BISECTIONS):
            if not in_time():
                break
            mid = (low + high) / 2
            if attempt(mid):
                low = mid
            else:
                high = mid
    elif in_time() and attempt(DOMESTIC_WEIGHT):
        # Spending at home everywhere meets the floor: the share of the requests (the
        # first in their order) that spend so is bisected, the others foreign-first.
        low, high = 0.0, 1.0
        for _ in range(PRICE_BISECTIONS):
            if not in_time():
                break
            mid = (low + high) / 2
            if attempt(DOMESTIC_WEIGHT, mid):
                high = mid
            else:
                low = mid
    assert best is not None
    return best[1], best[2]


def _spread_plan(sc: Scenario, d: Derived, guide: dict[Triple, float] | None,
                 order_by: str, by_period: dict[tuple[str, int, str, int], float] | None,
                 deadline: float | None, fees: bool = True, rho: float = 0.0,
                 lead: tuple[float, float] | None = None, fit: float = 0.0
                 ) -> tuple[Built, Raw]:
    """`greedy_plan` but for the local-content floor."""
    v = sc.policy.max_workshop_share
    if v >= 1:
        return _greedy_once(sc, d, guide, order_by, by_period, None, deadline, fees, rho,
                            lead, fit)
    domestic = sc.total_quantity()
    for _round in range(SPREAD_ROUNDS):
        cap = math.floor(v * domestic + 1e-9)
        b, raw = _greedy_once(sc, d, guide, order_by, by_period, cap, deadline, fees, rho,
                              lead, fit)
        steps = {r.id: len(sc.component(r.component).routing) for r in sc.requests}
        at: dict[str, int] = defaultdict(int)
        for (rid, s, wid, _t), q in raw.x.items():
            if s == steps[rid] - 1:
                at[wid] += q
        domestic = sum(at.values())
        if all(q <= v * domestic + 1e-9 for q in at.values()):
            break
    return b, raw


def _local_content_short(sc: Scenario, d: Derived, b: Built, raw: Raw) -> float:
    """F - (1 - L) T of SPEC 5.8 for the constructive plan `raw`: positive where it misses
    the floor, less a margin of 1e-9 T for rounding (`_spend`)."""
    _objective, total, foreign = _spend(sc, d, raw)
    return foreign - (1 - sc.policy.min_local_content) * total - 1e-9 * max(1.0, total)


def _spend(sc: Scenario, d: Derived, raw: Raw) -> tuple[float, float, float]:
    """(objective, spending T, foreign spending F) of a constructive plan (SPEC 6, 5.8),
    summed from its decisions as `solvers.extract.cost_terms` sums them from its rows
    (flows between locations, materials delivered per location): its rows took a third
    of the time of a priced plan on the generated large scarce-material seed 1."""
    cpk = sc.transport.cost_per_kg_km
    spent: list[float] = []
    foreign: list[float] = []
    penalties: list[float] = []
    tools: set[tuple[str, str, int]] = set()
    used: set[str] = set()
    requests = {r.id: r for r in sc.requests}
    for (rid, s, wid, t), q in raw.x.items():
        r = requests[rid]
        comp = sc.component(r.component)
        w = sc.workshop(wid)
        info = d.step_info(w, comp.id, s)
        spent.append(q * info.unit_cost)
        if info.tooling > 0:
            tools.add((wid, comp.id, s))
        used.add(wid)
        if s == len(comp.routing) - 1:
            if r.destination is not None:
                spent.append(cpk * comp.weight_kg * (d.dist.km(w.location, r.destination)
                                                     or 0.0) * q)
            if t > sc.due(r):
                penalties.append(sc.late_penalty(r) * (t - sc.due(r)) * q)
    for (rid, _s, a, c), q in raw.G.items():
        spent.append(cpk * sc.component(requests[rid].component).weight_kg
                     * (d.dist.km(a, c) or 0.0) * q)
    for (cid, loc, mat), kg in raw.M.items():
        center = sc.center(cid)
        held = center.materials[mat]
        spent.append(kg * held.price_per_kg)
        if not held.domestic:
            foreign.append(kg * held.price_per_kg)
        spent.append(cpk * (d.dist.km(center.location, loc) or 0.0) * kg)
    spent.extend(d.step_info(sc.workshop(w), c, s).tooling for w, c, s in tools)
    spent.extend(sc.workshop(w).engagement_cost for w in used)
    for rid, q in raw.z.items():
        r = requests[rid]
        spent.append(q * sc.import_unit_cost(r))
        foreign.append(q * sc.import_unit_cost(r))
        penalties.append(q * sc.late_penalty(r) * sc.import_late_periods(r))
    for rid, q in raw.u.items():
        penalties.append(q * sc.unmet_penalty(requests[rid]))
    total = math.fsum(spent)
    return total + math.fsum(penalties), total, math.fsum(foreign)


def meet_local_content(sc: Scenario, d: Derived, b: Built, raw: Raw,
                       short: float | None = None) -> tuple[Raw, float]:
    """`raw` with imported units left unmet instead, as few and as cheap as can be, where
    its imports put it below `min_local_content` (SPEC 5.8), `raw` itself otherwise; and
    the shortfall F - (1 - L) T left (at most 0 where the floor holds). `short` is that
    of `raw` where the caller has it already.

    Penalties are not spending: a unit taken from the imports lowers the foreign cost
    and the total by its import cost c alike, so the shortfall F - (1 - L) T falls by
    L c. Units go in order of what they add to the objective per unit of c. Where the
    workshops have no room for what is imported (a small alt-generator instance: 62% of
    the units imported, local content under its floor of 40%), no constructive plan met
    the floor and the solve had no plan for 72 s."""
    floor = sc.policy.min_local_content
    if floor <= 0:
        return raw, 0.0
    if short is None:
        short = _local_content_short(sc, d, b, raw)
    if short <= 0 or not raw.z:
        return raw, short
    requests = {r.id: r for r in sc.requests}

    def loss(rid: str) -> float:
        r = requests[rid]
        return (sc.unmet_penalty(r) - sc.import_unit_objective(r)) / sc.import_unit_cost(r)

    z, u = dict(raw.z), dict(raw.u)
    for rid in sorted((rid for rid, q in z.items() if q > 0 and sc.import_unit_cost(
            requests[rid]) > 0), key=lambda rid: (loss(rid), rid)):
        per_unit = floor * sc.import_unit_cost(requests[rid])
        k = min(z[rid], math.ceil(short / per_unit - 1e-9))
        z[rid] -= k
        u[rid] = u.get(rid, 0) + k
        short -= k * per_unit
        if short <= 0:
            break
    return replace(raw, z={rid: q for rid, q in z.items() if q > 0}, u=u), short


def drop_foreign_heavy(sc: Scenario, d: Derived, b: Built, raw: Raw, short: float,
                       rounds: int = DROP_ROUNDS) -> tuple[Raw, float]:
    """`raw` with whole requests left unmet instead of made, those whose foreign
    material weighs most in their cost first, until the local-content floor holds (SPEC
    5.8), and the shortfall left; `short` is that of `raw` (`meet_local_content`).

    Where the imports are gone and the floor still fails, foreign material is the rest
    of it: on the alt generator's large seed 1 (copper and stainless only from abroad,
    material 89% of the spending) the constructive plans had 16.8% local content against
    a floor of 25%, and the solve returned no plan at all after 52 s of 60. Leaving a
    request unmet takes its foreign cost F_r out of F and its spending T_r out of T, so
    the shortfall F - (1 - L) T falls by F_r - (1 - L) T_r; requests go by penalty added
    per unit of that, estimated from the rows (materials at a location shared in
    proportion), and the shortfall is worked out again from the rows after each round."""
    floor = sc.policy.min_local_content
    cpk = sc.transport.cost_per_kg_km
    requests = {r.id: r for r in sc.requests}
    for _round in range(rounds):
        if short <= 0:
            break
        # Materials delivered per (location, material): kg, what was spent, foreign cost.
        kg_at: dict[tuple[str, str], float] = defaultdict(float)
        foreign_cost: dict[tuple[str, str], float] = defaultdict(float)
        spent_at: dict[tuple[str, str], float] = defaultdict(float)
        for (cid, loc, mat), kg in raw.M.items():
            center = sc.center(cid)
            st = center.materials[mat]
            kg_at[(loc, mat)] += kg
            spent_at[(loc, mat)] += kg * (st.price_per_kg + cpk * (
                d.dist.km(center.location, loc) or 0.0))
            if not st.domestic:
                foreign_cost[(loc, mat)] += kg * st.price_per_kg
        spend: dict[str, float] = defaultdict(float)
        foreign: dict[str, float] = defaultdict(float)
        made: dict[str, int] = defaultdict(int)
        for (rid, s, wid, _t), q in raw.x.items():
            r = requests[rid]
            comp = sc.component(r.component)
            spend[rid] += q * unit_cost(sc, d, r, s, sc.workshop(wid))
            if s == len(comp.routing) - 1:
                made[rid] += q
            step = comp.routing[s]
            if step.material is not None and step.material_kg:
                key = (d.location_of[wid], step.material)
                share = q * step.material_kg / max(kg_at[key], 1e-9)
                spend[rid] += share * spent_at[key]
                foreign[rid] += share * foreign_cost[key]
        for (rid, _s, a, c), q in raw.G.items():
            comp = sc.component(requests[rid].component)
            spend[rid] += q * cpk * comp.weight_kg * (d.dist.km(a, c) or 0.0)
        gain = {rid: foreign[rid] - (1 - floor) * spend[rid] for rid in made}
        ranked = sorted((rid for rid, g in gain.items() if g > 0 and made[rid] > 0), key=lambda
                        rid: ((made[rid] * sc.unmet_penalty(requests[rid]) - spend[rid])
                              / gain[rid], rid))
        if not ranked:
            break
        drop: set[str] = set()
        covered = 0.0
        for rid in ranked:
            drop.add(rid)
            covered += gain[rid]
            # A little beyond the estimate: fees and shared deliveries are not in it.
            if covered >= 1.02 * short:
                break
        raw = _without(sc, d, raw, drop, made)
        short = _local_content_short(sc, d, b, raw)
    return raw, short


def _without(sc: Scenario, d: Derived, raw: Raw, drop: set[str], made: dict[str, int]
             ) -> Raw:
    """`raw` with the requests `drop` made nowhere: their units left unmet, their
    deliveries taken from the foreign centers at each location first."""
    x, G = dict(raw.x), dict(raw.G)
    need: dict[tuple[str, str], float] = defaultdict(float)
    for key, q in raw.x.items():
        rid, s, wid, _t = key
        if rid not in drop:
            continue
        del x[key]
        step = sc.component(sc.request(rid).component).routing[s]
        if step.material is not None and step.material_kg:
            need[(d.location_of[wid], step.material)] += q * step.material_kg
    for gkey in raw.G:
        if gkey[0] in drop:
            del G[gkey]
    M = dict(raw.M)
    by_at: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    for mkey in raw.M:
        by_at[(mkey[1], mkey[2])].append(mkey)
    for at, kg in need.items():
        # Foreign centers first, dearest first: what is taken out is what is not bought.
        for mkey in sorted(by_at[at], key=lambda k: (
                sc.center(k[0]).materials[k[2]].domestic,
                -sc.center(k[0]).materials[k[2]].price_per_kg, k)):
            take = min(kg, M[mkey])
            M[mkey] -= take
            kg -= take
            if kg <= 1e-9:
                break
    u = dict(raw.u)
    for rid in drop:
        u[rid] = u.get(rid, 0) + made[rid]
    return replace(raw, x=x, G=G, M={k: v for k, v in M.items() if v > 1e-9}, u=u)


def _greedy_once(sc: Scenario, d: Derived, guide: dict[Triple, float] | None,
                 order_by: str, by_period: dict[tuple[str, int, str, int], float] | None,
                 final_cap: int | None, deadline: float | None = None,
                 fees: bool = True, rho: float = 0.0,
                 lead: tuple[float, float] | None = None, fit: float = 0.0
                 ) -> tuple[Built, Raw]:
    """`greedy_plan` with every workshop's final-step units capped at `final_cap`; with
    `lead` = (rho', share), the first `share` of the requests in their order are priced
    at rho' instead of `rho` (`_priced_plan`)."""

    # Units a plan must make at home (SPEC 5.8's domestic share): a plan cut short at the
    # deadline with fewer is no plan, so placing goes on until they are made (alt large
    # seed 3, a 30% share: the plan cut at 3% of a 60 s limit was refused, and the first
    # plan came from the whole pass at 6.1 s).
    floor_units = sc.policy.min_domestic_share * sc.total_quantity()
    placed = [0]

    def late(i: int) -> bool:
        # The clock, read every 64 requests (a request takes 0.1 to 1 ms).
        return (deadline is not None and i % 64 == 0 and time.perf_counter() > deadline
                and placed[0] >= floor_units * (1 + 1e-6))

    b = Built(model=ArrayModel(sc.name))
    for w in sc.workshops:
        b.node_of[w.id] = w.location
        b.node_loc[w.location] = w.location
    raw = Raw(status="feasible", bound=None, solver_objective=None)
    if deadline is not None and floor_units <= 0 and (
            time.perf_counter() + RANK_SECONDS_PER_REQUEST * len(sc.requests) > deadline):
        # Nothing would be placed before the deadline: every request away at once,
        # unranked (ranking 100,000 requests took 3 s of what was left to write the plan).
        _send_away(sc, raw, sc.requests, {r.id: r.quantity for r in sc.requests})
        return b, raw
    state = CapacityState(sc, d, fees, rho, fit)
    if final_cap is not None:
        state.final_left = defaultdict(lambda: final_cap)
    # Requests the guide makes at home go first: the others would take its capacity.
    # Then those that cannot be imported: scarce material and capacity go where nothing
    # else can stand in (on the large generated instance, rail brake blocks whose cast
    # iron runs out were left unmet at 50 M IDR a unit while importable ones used it).
    # Then by due period (earliest first), by regret (what a unit loses if not made at
    # home, most first) or by release (latest first, as its window is the narrowest).
    guided = {rid for (rid, _s, _w), v in (guide or {}).items() if v > 1e-9}
    regret = {r.id: _regret(state, r) for r in sc.requests}
    then = {
        "due": lambda r: (sc.due(r), -regret[r.id]),
        "regret": lambda r: (-regret[r.id], sc.due(r)),
        "release": lambda r: (-r.release, -regret[r.id]),
    }[order_by]
    order = sorted(sc.requests, key=lambda r: (r.id not in guided, sc.import_allowed(r),
                                               *then(r), r.id))
    rest = {r.id: r.quantity for r in sc.requests}
    led = 0 if lead is None else round(lead[1] * len(order))

    def priced(i: int) -> None:
        if lead is not None:
            state.price(lead[0] if i < led else rho)

    # Workshops each request uses per step so far, for its sourcing limit.
    used: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    # What each request made, pass by pass, so that one that misses its minimum lots or
    # sourcing floor can be placed again.
    made_of: dict[str, list[_Made]] = defaultdict(list)

    def take(r: Request, made: _Made | None) -> None:
        if made is None:
            return
        made_of[r.id].append(made)
        state.paid(made, r.component)
        for key, q in made.x.items():
            raw.x[key] = raw.x.get(key, 0) + q
        for gkey, q in made.G.items():
            raw.G[gkey] = raw.G.get(gkey, 0) + q
        for mkey, kg in made.M.items():
            raw.M[mkey] = raw.M.get(mkey, 0.0) + kg
        for (_rid, s, wid, _t) in made.x:
            used[r.id][s].add(wid)
        rest[r.id] -= made.final
        placed[0] += made.final

    # With a guide, the first pass makes only the units the guide gives each workshop:
    # capacity a request takes beyond its share is capacity the guide gave another (on the
    # large generated instance, 80,000 units the LP made at home were imported because
    # requests placed earlier had filled their workshops).
    timed: dict[str, list[tuple[int, str, int, float]]] = defaultdict(list)
    for (rid, s, wid, t), v in (by_period or {}).items():
        if v > 1e-9:
            timed[rid].append((s, wid, t, v))
    # Units the guide makes at home, per request: an importable request's first pass makes
    # no more than that, rounded down; rounded up, the extra units of hundreds of partly
    # imported requests take capacity and material the guide gave others.
    home: dict[str, float] = defaultdict(float)
    steps = {r.id: len(sc.component(r.component).routing) for r in sc.requests}
    for (rid, s, _w), v in (guide or {}).items():
        if s == steps[rid] - 1:
            home[rid] += v
    for i, r in enumerate(order):
        if late(i):
            break
        priced(i)
        if guide is None:
            take(r, _route_best(state, r, None, r.quantity))
        else:
            q = r.quantity
            if sc.import_allowed(r):
                q = min(q, math.floor(home[r.id] + 1e-6))
            if q > 0:
                take(r, _route(state, r, guide, q, strict=True, by_period=timed.get(r.id)))
    # What the first pass left, with whatever capacity is left anywhere. A guided request
    # first tries its guided workshops again, beyond their share: its first sourcing-limit
    # workshops in the same order, so the limit still holds. Then, cheapest first; with a
    # sourcing limit, the workshops a step already uses come first and new ones only up
    # to the limit (large generated instance, seed 2: a request that cannot be imported
    # had 25 units left unmet at 50 M IDR each when its two workshops were full).
    for i, r in enumerate(order):
        if late(i):
            break
        priced(i)
        if rest[r.id] > 0 and r.id in guided:
            take(r, _route(state, r, guide, rest[r.id]))
        if rest[r.id] > 0:
            if r.max_suppliers_per_step is None or rest[r.id] == r.quantity:
                take(r, _route_best(state, r, None, rest[r.id]))
            else:
                take(r, _route(state, r, None, rest[r.id], keep_to=used[r.id]))
    redone = False
    if _lots_or_floors(sc):
        for r in order:
            if made_of[r.id] and not _meets_lots_and_floors(state, r, made_of[r.id]):
                for made in made_of[r.id]:
                    _undo(state, r, made)
                again = _route_lots_and_floors(state, r)
                made_of[r.id] = [again] if again is not None else []
                rest[r.id] = r.quantity - (again.final if again is not None else 0)
                redone = True
    if any(v > 0 for v in sc.policy.min_location_share.values()):
        redone |= _meet_regions(state, order, made_of, rest, regret)
    if redone:
        raw.x, raw.G, raw.M = {}, {}, {}
        for r in order:
            for made in made_of[r.id]:
                for key, q in made.x.items():
                    raw.x[key] = raw.x.get(key, 0) + q
                for gkey, q in made.G.items():
                    raw.G[gkey] = raw.G.get(gkey, 0) + q
                for mkey, kg in made.M.items():
                    raw.M[mkey] = raw.M.get(mkey, 0.0) + kg
    _send_away(sc, raw, order, rest)
    return b, raw


def _send_away(sc: Scenario, raw: Raw, order: list[Request], rest: dict[str, int]) -> None:
    """What is left of each request imported where that is cheaper, else left unmet."""
    for r in order:
        left = rest[r.id]
        if left > 0:
            if sc.import_allowed(r) and sc.import_unit_objective(r) < sc.unmet_penalty(r):
                raw.z[r.id] = left
            else:
                raw.u[r.id] = left


def _meet_regions(st: CapacityState, order: list[Request], made_of: dict[str, list[_Made]],
                  rest: dict[str, int], regret: dict[str, float]) -> bool:
    """Regional shares (SPEC 8.5), in two passes, each taking requests made outside a
    short location (one that makes less than its share of the domestic units) by least
    regret first:

    1. the request is made again, the units a short location lacks with its final step
       at that location's workshops and the rest anywhere (`_remake_in_regions`);
    2. what is still short after that: the request is not made at home after all, which
       lowers the domestic units. This pass ends with every share met: with nothing made
       outside the short locations each of them holds.

    True if any request was made again or taken back."""
    sc = st.sc
    shares = {loc: v for loc, v in sc.policy.min_location_share.items() if v > 0}
    loc_of = st.d.location_of
    steps = {r.id: len(sc.component(r.component).routing) for r in order}
    at_loc: dict[str, int] = defaultdict(int)

    def finals(r: Request) -> dict[str, int]:
        per: dict[str, int] = defaultdict(int)
        for made in made_of[r.id]:
            for (_rid, s, wid, _t), q in made.x.items():
                if s == steps[r.id] - 1:
                    per[loc_of[wid]] += q
        return per

    for r in order:
        for loc, q in finals(r).items():
            at_loc[loc] += q
    changed = False
    for remake in (True, False):
        for r in sorted(order, key=lambda r: (regret[r.id], r.id)):
            domestic = sum(at_loc.values())
            short = {loc for loc, v in shares.items() if at_loc[loc] < v * domestic - 1e-9}
            if not short:
                return changed
            per = finals(r)
            if not per or all(loc in short for loc in per):
                continue
            for made in made_of[r.id]:
                _undo(st, r, made)
            made_of[r.id] = []
            rest[r.id] = r.quantity
            for loc, q in per.items():
                at_loc[loc] -= q
            changed = True
            if remake:
                made_of[r.id] = _remake_in_regions(st, r, shares, at_loc, sorted(short))
                rest[r.id] = r.quantity - sum(m.final for m in made_of[r.id])
                for loc, q in finals(r).items():
                    at_loc[loc] += q
    return changed


def _remake_in_regions(st: CapacityState, r: Request, shares: dict[str, float],
                       at_loc: dict[str, int], short: list[str]) -> list[_Made]:
    """Make `r` again (it has been taken back): for each short location, the units that
    bring it to its share of the domestic units with all of `r` made, with its final step
    at that location's workshops only; then the rest of `r` anywhere. What is made is
    given back, and nothing returned, when it breaks a minimum lot or sourcing floor."""
    sc = st.sc
    domestic = sum(at_loc.values()) + r.quantity
    left = r.quantity
    out: list[_Made] = []
    saved = st.final_left
    for loc in short:
        need = min(left, math.ceil(shares[loc] * domestic - at_loc[loc] - 1e-9))
        if need <= 0:
            continue
        # Final steps anywhere else have no room; at `loc`, the room the spread leaves.
        only: dict[str, int] = defaultdict(int)
        for w in sc.workshops:
            if w.location == loc:
                only[w.id] = saved[w.id] if saved is not None else r.quantity
        st.final_left = only
        try:
            made = _route(st, r, None, need)
        finally:
            st.final_left = saved
        if made is None or made.final <= 0:
            continue
        if saved is not None:
            steps = len(sc.component(r.component).routing)
            for (_rid, s, wid, _t), q in made.x.items():
                if s == steps - 1:
                    saved[wid] -= q
        out.append(made)
        left -= made.final
    if left > 0:
        more = _route_best(st, r, None, left)
        if more is not None and more.final > 0:
            out.append(more)
    if out and _lots_or_floors(sc) and not _meets_lots_and_floors(st, r, out):
        for made in out:
            _undo(st, r, made)
        return []
    return out


def _lots_or_floors(sc: Scenario) -> bool:
    return any(sc.min_suppliers(r) > 1 for r in sc.requests) or any(
        st.min_lot > 1 for c in sc.components for st in c.routing) or any(
        (o.min_lot or 0) > 1 for o in sc.offers)


def _below_lot(st: CapacityState, r: Request, made: list[_Made]) -> set[Triple]:
    """The (request, step, workshop)s of `made` with fewer units than their minimum lot."""
    total: dict[Triple, int] = defaultdict(int)
    for part in made:
        for (rid, s, wid, _t), q in part.x.items():
            total[(rid, s, wid)] += q
    return {key for key, q in total.items()
            if q < st.d.step_info(st.workshop[key[2]], r.component, key[1]).min_lot}


def _meets_lots_and_floors(st: CapacityState, r: Request, made: list[_Made]) -> bool:
    if _below_lot(st, r, made):
        return False
    k = st.sc.min_suppliers(r)
    if k <= 1 or not any(part.final for part in made):
        return True
    n = len(st.sc.component(r.component).routing)
    makers: dict[int, set[str]] = defaultdict(set)
    for part in made:
        for (_rid, s, wid, _t) in part.x:
            makers[s].add(wid)
    return all(len(makers[s]) >= k for s in range(n))


def _route_lots_and_floors(st: CapacityState, r: Request) -> _Made | None:
    """Route `r` again so that it meets its minimum lots and sourcing floor (SPEC 8.2,
    8.3), or not at all: with a floor of k, no workshop makes more than 1/k of the
    request per step, so the units are spread over at least k; a workshop left below
    its lot is excluded from that step and the request routed again (a few times). None
    when no such routing is found: the request is then imported or left unmet."""
    sc = st.sc
    n = len(sc.component(r.component).routing)
    k = sc.min_suppliers(r)
    if k > 1:
        share = math.ceil(r.quantity / k)
        for s in range(n):
            for w in final_eligible(st.d, r, s, n):
                st.unit_cap[(r.id, s, w)] = share
    found = None
    for _attempt in range(4):
        made = _route(st, r, None, r.quantity, by_room=True)
        if made is None or made.final <= 0:
            break
        below = _below_lot(st, r, [made])
        if _meets_lots_and_floors(st, r, [made]):
            found = made
            break
        _undo(st, r, made)
        if not below:
            break
        st.excluded |= below
    for key in [key for key in st.unit_cap if key[0] == r.id]:
        del st.unit_cap[key]
    return found


def _regret(st: CapacityState, r: Request) -> float:
    """What a unit of `r` costs if it is not made at home (imported or unmet), less what it
    costs made at home at its cheapest; -inf if it cannot be made at home at all."""
    return _away(st, r) - _home_unit_cost(st, r)


def _away(st: CapacityState, r: Request) -> float:
    """`Scenario.away_unit_objective` with the import priced as foreign spending."""
    sc = st.sc
    away = sc.unmet_penalty(r)
    if sc.import_allowed(r):
        away = min(away, sc.import_unit_objective(r) + (st.fgn - 1) * sc.import_unit_cost(r))
    return away


def _home_unit_cost(st: CapacityState, r: Request) -> float:
    """A unit of `r` at the cheapest workshop of every step, with the cheapest material
    delivered there, capacity aside; inf if some step has no workshop or material."""
    comp = st.sc.component(r.component)
    home = 0.0
    for s, step in enumerate(comp.routing):
        ranked = st.ranked(r, s)
        if not ranked:
            return math.inf
        home += ranked[0][0]
        if step.material is not None and step.material_kg:
            offers = st.centers(st.d.location_of[ranked[0][1]], step.material)
            if not offers:
                return math.inf
            home += step.material_kg * offers[0][0]
    return home


class CapacityState:
    """What is left of capacity and stock as requests take their share."""

    def __init__(self, sc: Scenario, d: Derived, fees: bool = True, rho: float = 0.0,
                 fit: float = 0.0) -> None:
        self.sc, self.d = sc, d
        # With `fit` > 0 workshops are ranked by unit cost plus an hour of their process
        # priced at `fit` times `hour_prices` (solvers/constructive.py); the costs they are
        # ranked with stay the units' own.
        self.fit = fit
        self.hour_price = hour_prices(sc, d) if fit > 0 else {}
        # The local-content floor L priced in with a multiplier rho >= 0 (SPEC 5.8, as the
        # Lagrangian bound prices it): every choice is ranked by cost + rho (F - (1 - L) T),
        # domestic spending weighing `dom` = 1 - rho (1 - L) times itself and foreign
        # spending `fgn` = 1 + rho L; penalties keep their price (`greedy_plan`).
        self.dom = self.fgn = 1.0
        self.price(rho)
        self.hours: dict[tuple[str, str, int], float] = {}
        self.stock: dict[tuple[str, str], float] = {
            (c.id, mat): st.stock_kg for c in sc.material_centers
            for mat, st in c.materials.items()}
        self.workshop = {w.id: w for w in sc.workshops}
        # Centers holding each material, nearest first by delivered price, per location;
        # and the workshops of each step, cheapest first. Neither depends on what has
        # been placed, so every state of the same scenario shares them (kept on `d`):
        # the unit bound and each constructive plan had ranked them again, 0.3-0.4 s a
        # time on the alt generator's large instances, before their first plan. Keyed on
        # the eligibility too: a restricted copy of `d` (`Derived.restricted`) carries
        # the attributes of the original but not its eligible workshops.
        shared = getattr(d, "_greedy_rankings", None)
        if shared is None or shared[0] is not sc or shared[3] is not d.eligible:
            shared = (sc, {}, {}, d.eligible)
            d._greedy_rankings = shared  # type: ignore[attr-defined]
        self._centers: dict[tuple[str, str, float], list[tuple[float, str, float]]] = shared[1]
        self._ranked: dict[tuple[object, ...], list[tuple[float, str]]] = shared[2]
        self._skip: dict[tuple[object, ...], int] = {}
        # SPEC 8.2-8.4 while placing: (request, step, workshop)s a step may not use (a
        # lot would not fill there), the most units one may make (dual sourcing spreads
        # a request), and what each workshop may still make of final steps (the spread).
        self.excluded: set[Triple] = set()
        self.unit_cap: dict[Triple, int] = {}
        self.final_left: dict[str, int] | None = None
        # Engagement and tooling fees paid so far (SPEC 6): a workshop engaged, or a
        # (workshop, component, step) tooled, costs nothing more for the next units.
        self.fees = fees and has_fees(sc)
        self.engaged: set[str] = set()
        self.tooled: set[tuple[str, str, int]] = set()

    def price(self, rho: float) -> None:
        """Rank what follows with the local-content floor priced at `rho`."""
        floor = self.sc.policy.min_local_content
        self.dom = 1.0 - rho * (1.0 - floor)
        self.fgn = 1.0 + rho * floor

    def fee_share(self, wid: str, cid: str, s: int, unit: float, quantity: int) -> float:
        """A unit's cost at `wid` with the fees it would still have to pay spread over
        `quantity` units."""
        if not self.fees:
            return unit
        fee = 0.0
        if wid not in self.engaged:
            fee += self.workshop[wid].engagement_cost
        if (wid, cid, s) not in self.tooled:
            fee += self.d.step_info(self.workshop[wid], cid, s).tooling
        return unit + self.dom * fee / max(1, quantity)

    def paid(self, made: _Made, cid: str) -> None:
        """Record the fees the units `made` (of component `cid`) have paid."""
        for (_r, s, wid, _t), q in made.x.items():
            if q > 0:
                self.engaged.add(wid)
                self.tooled.add((wid, cid, s))

    def ranked(self, r: Request, s: int) -> list[tuple[float, str]]:
        """(unit cost, workshop) of the workshops eligible for step s of r, cheapest
        first. Eligibility and cost depend on a request only through its component,
        certifications and (final step) destination, so requests share the ranking."""
        n = len(self.sc.component(r.component).routing)
        key = self.rank_key(r, s)
        found = self._ranked.get(key)
        if found is None:
            found = sorted(zip(self._unit_costs(r, s, n), final_eligible(self.d, r, s, n),
                               strict=True))
            price = self.fit * self.hour_price.get(
                self.sc.component(r.component).routing[s].process, 0.0)
            if price > 0:
                def priced(cw: tuple[float, str]) -> tuple[float, float, str]:
                    hours = self.d.step_info(self.workshop[cw[1]], r.component, s).hours
                    return cw[0] + price * hours, cw[0], cw[1]

                found.sort(key=priced)
            self._ranked[key] = found
        return found

    def _unit_costs(self, r: Request, s: int, n: int) -> list[float]:
        """`unit_cost` times `dom` at every workshop eligible for step s of r, in
        `final_eligible` order: what `unit_cost` asks per workshop, asked once (ranking
        the 1 M offers of a 1,000 x 1,000 facility location took 8-12 s through it)."""
        sc, d = self.sc, self.d
        comp = sc.component(r.component)
        workshop = self.workshop
        out = [i.unit_cost for i in d.step_infos(
            comp.id, s, [workshop[w] for w in final_eligible(d, r, s, n)])]
        if s == n - 1 and r.destination is not None:
            per_km = sc.transport.cost_per_kg_km * comp.weight_kg
            km, at, to = d.dist.km, d.location_of, r.destination
            out = [c + per_km * (km(at[w], to) or 0.0)
                   for c, w in zip(out, final_eligible(d, r, s, n), strict=True)]
        if self.dom != 1.0:
            out = [self.dom * c for c in out]
        return out

    def rank_key(self, r: Request, s: int) -> tuple[object, ...]:
        comp = self.sc.component(r.component)
        last = s == len(comp.routing) - 1
        return (comp.id, s, tuple(sorted(r.requires)), r.destination if last else None,
                self.dom, self.fit)

    def first_with_room(self, r: Request, s: int) -> int:
        """Index in `ranked(r, s)` before which every workshop is full in every period.
        Capacity only shrinks as requests are placed, so the index only moves on; on a
        national instance the cheapest hundreds of workshops fill up early."""
        key = self.rank_key(r, s)
        ranked = self.ranked(r, s)
        comp = self.sc.component(r.component)
        proc = comp.routing[s].process
        i = self._skip.get(key, 0)
        while i < len(ranked):
            w = ranked[i][1]
            h = self.d.step_info(self.workshop[w], comp.id, s).hours
            if h <= 0 or any(self.free_hours(w, proc, t) >= h
                             for t in range(self.sc.horizon.periods)):
                break
            i += 1
        self._skip[key] = i
        return i

    def free_hours(self, wid: str, proc: str, t: int) -> float:
        key = (wid, proc, t)
        if key not in self.hours:
            self.hours[key] = self.workshop[wid].cap(proc, t)
        return self.hours[key]

    def centers(self, loc: str, mat: str) -> list[tuple[float, str, float]]:
        """(price per kg delivered, center, km) of the centers that can serve `loc`."""
        key = (loc, mat, self.dom)
        if key not in self._centers:
            cpk = self.sc.transport.cost_per_kg_km
            found = []
            for c in self.sc.material_centers:
                st = c.materials.get(mat)
                km = None if st is None else self.d.dist.km(c.location, loc)
                if st is not None and km is not None:
                    price = (self.dom if st.domestic else self.fgn) * st.price_per_kg
                    found.append((price + self.dom * cpk * km, c.id, km))
            found.sort()
            self._centers[key] = found
        return self._centers[key]

    def material_left(self, loc: str, mat: str) -> float:
        return sum(self.stock[(c, mat)] for _p, c, _km in self.centers(loc, mat))

    def take_material(self, loc: str, mat: str, kg: float) -> dict[tuple[str, str, str], float]:
        taken: dict[tuple[str, str, str], float] = {}
        for _p, c, _km in self.centers(loc, mat):
            if kg <= 1e-9:
                break
            use = min(kg, self.stock[(c, mat)])
            if use > 0:
                self.stock[(c, mat)] -= use
                taken[(c, loc, mat)] = use
                kg -= use
        return taken


class _Made:
    def __init__(self) -> None:
        self.x: dict[tuple[str, int, str, int], int] = {}
        self.G: dict[tuple[str, int, str, str], int] = {}
        self.M: dict[tuple[str, str, str], float] = {}
        self.final = 0


def has_fees(sc: Scenario) -> bool:
    """Whether any workshop has an engagement fee or any offer a tooling cost."""
    return any(w.engagement_cost > 0 for w in sc.workshops) or any(
        o.tooling_cost > 0 for o in sc.offers)


def _unit_cost(st: CapacityState, r: Request, s: int, wid: str) -> float:
    return unit_cost(st.sc, st.d, r, s, st.workshop[wid])


def unit_cost(sc: Scenario, d: Derived, r: Request, s: int, w: Workshop) -> float:
    """Cost of one unit of step s at `w`, with the delivery leg after the final step."""
    comp = sc.component(r.component)
    cost = d.step_info(w, comp.id, s).unit_cost
    if s == len(comp.routing) - 1 and r.destination is not None:
        km = d.dist.km(d.location_of[w.id], r.destination)
        cost += sc.transport.cost_per_kg_km * comp.weight_kg * (km or 0.0)
    return cost


def _route_best(st: CapacityState, r: Request, guide: dict[Triple, float] | None,
                quantity: int) -> _Made | None:
    """`_route`, and for a request with a sourcing limit that falls short, `_route` with the
    workshops that have the most room in the step's window: the cheapest few may have
    too little left, and with a limit of k workshops per step the units they cannot make
    are imported or left unmet (on the large generated instance, 482 units at 50 M IDR
    each). The cheaper of the two, shortfall included, is kept."""
    made = _route(st, r, guide, quantity)
    if r.max_suppliers_per_step is None or made is None or made.final >= quantity:
        return made
    first = _made_cost(st, r, made, quantity)
    _undo(st, r, made)
    roomy = _route(st, r, guide, quantity, by_room=True)
    if roomy is not None and _made_cost(st, r, roomy, quantity) < first:
        return roomy
    if roomy is not None:
        _undo(st, r, roomy)
    return _route(st, r, guide, quantity)


def _made_cost(st: CapacityState, r: Request, made: _Made, quantity: int) -> float:
    """What `made` costs (production with delivery, material delivered, flows) plus what
    its shortfall costs, imported or unmet: enough to compare two ways to route `r`."""
    sc, d = st.sc, st.d
    comp = sc.component(r.component)
    cpk = sc.transport.cost_per_kg_km
    dom = st.dom
    cost = sum(q * dom * _unit_cost(st, r, s, wid) for (_r, s, wid, _t), q in made.x.items())
    for (cid, loc, mat), kg in made.M.items():
        center = sc.center(cid)
        held = center.materials[mat]
        cost += kg * ((dom if held.domestic else st.fgn) * held.price_per_kg
                      + dom * cpk * (d.dist.km(center.location, loc) or 0.0))
    for (_r, _s, a, c), q in made.G.items():
        cost += q * dom * cpk * comp.weight_kg * (d.dist.km(a, c) or 0.0)
    return cost + (quantity - made.final) * _away(st, r)


def _route(st: CapacityState, r: Request, guide: dict[Triple, float] | None, quantity: int,
           by_room: bool = False, strict: bool = False,
           by_period: list[tuple[int, str, int, float]] | None = None,
           keep_to: dict[int, set[str]] | None = None) -> _Made | None:
    """Make up to `quantity` units of `r` with what capacity and stock are left; with
    `by_room`, a sourcing-limited step takes the workshops that can make the most of it
    in its window (cheapest first among those that can make all of it); with `strict`,
    only the units the guide gives each workshop, even where importing looks cheaper;
    with `keep_to`, the workshops each step already uses come first.

    Eligibility, sourcing and roads decide the workshops (`_choose_workshops`); capacity,
    stock and precedence the units per period (`_make_units`); every step is then trimmed
    to what the final step made (`_trim`), materials are taken (`_take_materials`) and
    flows between steps laid (`_lay_flows`).

    Where the roads leave groups of locations that cannot ship to each other and the
    steps' cheapest workshops lie in different groups, the units have no road between
    steps: the request is routed again within each group in turn and the cheapest of
    those is kept (`_route_within`). Before, such a request was made nowhere: on the alt
    generator's small seed 4 (two islands without a ferry) every constructive plan made
    1-3% of the units at home against a domestic-share floor of 10%, where the optimum
    makes 15%, and the first plan came from the LP after them."""
    sc = st.sc
    if not strict and sc.import_allowed(r) and (
            sc.import_unit_objective(r) + (st.fgn - 1) * sc.import_unit_cost(r)
            <= _home_unit_cost(st, r)):
        return None  # cheaper bought abroad than made at its cheapest at home
    made = _route_within(st, r, guide, quantity, by_room, strict, by_period, keep_to, None)
    groups = st.d.dist.components()
    if made is None or made.final > 0 or len(groups) < 2:
        return made
    best: tuple[float, _Made] | None = None
    for group in groups:
        again = _route_within(st, r, guide, quantity, by_room, strict, by_period, keep_to,
                              group)
        if again is None or again.final <= 0:
            continue
        cost = _made_cost(st, r, again, quantity)
        if best is None or cost < best[0]:
            if best is not None:
                _undo(st, r, best[1])
            best = (cost, again)
        else:
            _undo(st, r, again)
    return made if best is None else best[1]


def _route_within(st: CapacityState, r: Request, guide: dict[Triple, float] | None,
                  quantity: int, by_room: bool, strict: bool,
                  by_period: list[tuple[int, str, int, float]] | None,
                  keep_to: dict[int, set[str]] | None, group: frozenset[str] | None
                  ) -> _Made | None:
    """`_route` with every step's workshops in `group` of locations (None: anywhere):
    None where a step has none, no units where roads or stock fall short."""
    choice = _choose_workshops(st, r, guide, quantity, by_room, keep_to, group)
    if choice is None:
        return None
    chosen, planned = choice
    per, final = _make_units(st, r, chosen, planned, quantity, strict, by_period)
    out = _Made()
    if final <= 0:
        return out
    _trim(st, r, per, final, out)
    if not _take_materials(st, r, out) or not _lay_flows(st, r, out):
        return _undo(st, r, out)
    out.final = final
    return out


def _choose_workshops(st: CapacityState, r: Request, guide: dict[Triple, float] | None,
                      quantity: int, by_room: bool, keep_to: dict[int, set[str]] | None,
                      group: frozenset[str] | None = None
                      ) -> tuple[list[list[str]], list[dict[str, int]]] | None:
    """Eligibility and sourcing (SPEC 5.1, 5.7): the workshops each step may use, best
    first, and the units the guide planned per workshop and step; None when a step has
    none. With `group`, only workshops at those locations."""
    sc, d = st.sc, st.d
    comp = sc.component(r.component)
    n = len(comp.routing)
    lag = sc.policy.step_lag_periods
    chosen: list[list[str]] = []
    # The first pass of every period keeps to the planned units, so that a request does
    # not take capacity the LP gave to others.
    planned: list[dict[str, int]] = []
    earliest = 0  # first period the previous step's chosen workshops have room in
    for s in range(n):
        ranked = st.ranked(r, s)
        step = comp.routing[s]
        # The cheapest workshops that still have room in the step's window: the cheapest
        # of all are shared by every request of the component and soon full.
        # Room only counts from the first period the previous step's workshops can work
        # in: a step whose room is all earlier cannot follow it (on the national instance,
        # requests of late windows were left unmet with workshops free further on).
        window_s = step_window(sc, r, s, n)
        window_s = range(max(window_s.start, earliest), window_s.stop)
        proc = step.process
        roomy: list[tuple[float, str]] = []
        start = st.first_with_room(r, s)
        scan = ranked[start:start + SCAN_WORKSHOPS] if group is None else [
            cw for cw in ranked[start:] if d.location_of[cw[1]] in group][:SCAN_WORKSHOPS]
        if group is not None:
            ranked = [cw for cw in ranked if d.location_of[cw[1]] in group]
        for c, w in scan:
            if (r.id, s, w) in st.excluded:
                continue
            h = d.step_info(st.workshop[w], comp.id, s).hours
            if h <= 0 or any(st.free_hours(w, proc, t) >= h for t in window_s):
                roomy.append((st.fee_share(w, comp.id, s, c, quantity), w))
                if len(roomy) >= 4 * MAX_WORKSHOPS:
                    break
        if st.fees:
            # Cheapest with the fees still to pay spread over the units (a fee paid
            # already costs nothing more); stable, so ties keep the unit-cost order.
            roomy.sort(key=lambda cw: cw[0])
        ws = [w for _c, w in roomy]
        plan_s: dict[str, int] = {}
        if guide is not None:
            guided = [w for _c, w in ranked if guide.get((r.id, s, w), 0.0) > 1e-9]
            guided.sort(key=lambda w: -guide[(r.id, s, w)])
            plan_s = {w: math.ceil(guide[(r.id, s, w)] - 1e-6) for w in guided}
            # Then the cheapest others, for what the guided ones cannot make.
            ws = guided + [w for w in ws if w not in plan_s]
        planned.append(plan_s)
        k = r.max_suppliers_per_step
        if keep_to is not None:
            # The workshops the step already uses first, so new ones stay within the limit.
            ws = sorted(keep_to.get(s, ())) + [w for w in ws if w not in keep_to.get(s, ())]
        if k is not None and by_room:
            rank = {w: i for i, w in enumerate(ws)}
            ws = sorted(ws, key=lambda w: (-min(quantity, _room(st, w, comp.id, s, window_s)),
                                           rank[w]))
        chosen.append(ws[:k] if k is not None else ws[:len(plan_s) + MAX_WORKSHOPS])
        if not chosen[-1]:
            return None
        hours = {w: d.step_info(st.workshop[w], comp.id, s).hours for w in chosen[-1]}
        earliest = next((t for t in window_s if any(
            hours[w] <= 0 or st.free_hours(w, proc, t) >= hours[w] for w in chosen[-1])),
            window_s.stop) + lag
    return chosen, planned


def _make_units(st: CapacityState, r: Request, chosen: list[list[str]],
                planned: list[dict[str, int]], quantity: int, strict: bool,
                by_period: list[tuple[int, str, int, float]] | None
                ) -> tuple[list[dict[int, list[tuple[str, int]]]], int]:
    """Capacity, stock and precedence with lag (SPEC 5.2, 5.4, 5.6): the units each step
    makes per period at the chosen workshops, step by step, and how many the final step
    makes. Hours are only reserved while the steps are placed and given back on return."""
    sc, d = st.sc, st.d
    comp = sc.component(r.component)
    n = len(comp.routing)
    lag = sc.policy.step_lag_periods
    T = sc.horizon.periods
    # per[s][t] = list of (workshop, units).
    per: list[dict[int, list[tuple[str, int]]]] = []
    prev_by_t = [quantity if t >= r.release else 0 for t in range(T)]  # cumulative cap
    hours_used: list[tuple[tuple[str, str, int], float]] = []
    # Kg reserved per material, counted against every location: centers are shared.
    material_used: dict[str, float] = defaultdict(float)
    given: list[dict[str, int]] = [defaultdict(int) for _ in range(n)]
    # Units the guide had made by each period, per step and workshop (strict pass only).
    upto: list[dict[str, list[float]]] = [{} for _ in range(n)]
    for s, wid, t, v in by_period or ():
        upto[s].setdefault(wid, [0.0] * T)[t] += v
    for per_w in upto:
        for running in per_w.values():
            for t in range(1, T):
                running[t] += running[t - 1]
    for s, step in enumerate(comp.routing):
        window = set(step_window(sc, r, s, n))
        made_s: dict[int, list[tuple[str, int]]] = defaultdict(list)
        cum = 0
        cum_by_t = []
        for t in range(T):
            # Units the previous step finished `lag` periods before (step 0: released).
            shift = lag if s > 0 else 0
            room = (prev_by_t[t - shift] if t >= shift else 0) - cum
            passes = [True] if strict else [True, False] if planned[s] else [False]
            for keep_to_plan in passes:
                if t not in window or room <= 0:
                    break
                for wid in chosen[s]:
                    if room <= 0:
                        break
                    info = d.step_info(st.workshop[wid], comp.id, s)
                    can = room
                    if keep_to_plan:
                        can = min(can, planned[s].get(wid, 0) - given[s][wid])
                        if strict and upto[s]:
                            made_by = upto[s].get(wid)
                            by_t = math.ceil(made_by[t] - 1e-6) if made_by is not None else 0
                            can = min(can, by_t - given[s][wid])
                    cap = st.unit_cap.get((r.id, s, wid))
                    if cap is not None:
                        can = min(can, cap - given[s][wid])
                    if s == n - 1 and st.final_left is not None:
                        can = min(can, st.final_left[wid] - given[s][wid])
                    if info.hours > 0:
                        can = min(can, math.floor(st.free_hours(wid, step.process, t)
                                                  / info.hours + 1e-9))
                    if step.material is not None and step.material_kg:
                        loc = d.location_of[wid]
                        left = st.material_left(loc, step.material) - material_used[
                            step.material]
                        can = min(can, math.floor(left / step.material_kg + 1e-9))
                    if can <= 0:
                        continue
                    made_s[t].append((wid, can))
                    given[s][wid] += can
                    room -= can
                    cum += can
                    if info.hours > 0:
                        key = (wid, step.process, t)
                        st.hours[key] -= can * info.hours
                        hours_used.append((key, can * info.hours))
                    if step.material is not None and step.material_kg:
                        material_used[step.material] += can * step.material_kg
            cum_by_t.append(cum)
        per.append(made_s)
        prev_by_t = cum_by_t
    # Give back what the hours reservations held; `_trim` takes what is kept.
    for key, h in hours_used:
        st.hours[key] += h
    return per, prev_by_t[-1]


def _trim(st: CapacityState, r: Request, per: list[dict[int, list[tuple[str, int]]]],
          final: int, out: _Made) -> None:
    """Flow between steps (SPEC 5.3, equal totals): every step keeps `final` units, its
    earliest first (so cumulative sums stay ordered and precedence holds), and takes
    their hours."""
    comp = st.sc.component(r.component)
    T = st.sc.horizon.periods
    for s, step in enumerate(comp.routing):
        keep = final
        for t in range(T):
            for wid, q in per[s].get(t, []):
                q = min(q, keep)
                if q <= 0:
                    continue
                keep -= q
                out.x[(r.id, s, wid, t)] = out.x.get((r.id, s, wid, t), 0) + q
                if s == len(comp.routing) - 1 and st.final_left is not None:
                    st.final_left[wid] -= q
                info = st.d.step_info(st.workshop[wid], comp.id, s)
                if info.hours > 0:
                    st.hours[(wid, step.process, t)] -= q * info.hours


def _take_materials(st: CapacityState, r: Request, out: _Made) -> bool:
    """Materials (SPEC 5.6): what the kept units need, from the cheapest centers delivered
    first; False when stock runs short."""
    comp = st.sc.component(r.component)
    need: dict[tuple[str, str], float] = defaultdict(float)
    for (_rid, s, wid, _t), q in out.x.items():
        step = comp.routing[s]
        if step.material is not None and step.material_kg:
            need[(st.d.location_of[wid], step.material)] += q * step.material_kg
    for (loc, mat), kg in need.items():
        taken = st.take_material(loc, mat, kg)
        for mkey, used in taken.items():
            out.M[mkey] = out.M.get(mkey, 0.0) + used
        if sum(taken.values()) < kg - 1e-6:
            return False
    return True


def _lay_flows(st: CapacityState, r: Request, out: _Made) -> bool:
    """Shipments between consecutive steps (SPEC 5.3), nearest location pairs first;
    False when some units have no road to the next step."""
    d = st.d
    n = len(st.sc.component(r.component).routing)
    for s in range(n - 1):
        here: dict[str, int] = defaultdict(int)
        nxt: dict[str, int] = defaultdict(int)
        for (_rid, ss, wid, _t), q in out.x.items():
            if ss == s:
                here[d.location_of[wid]] += q
            elif ss == s + 1:
                nxt[d.location_of[wid]] += q
        # Farthest first where domestic spending is priced below nothing (`CapacityState`).
        pairs = sorted(((d.dist.km(a, c) or 0.0) * (-1 if st.dom < 0 else 1), a, c)
                       for a in here for c in nxt if d.dist.km(a, c) is not None)
        for _km, a, c in pairs:
            q = min(here[a], nxt[c])
            if q > 0:
                out.G[(r.id, s, a, c)] = q
                here[a] -= q
                nxt[c] -= q
        if any(here.values()):
            return False
    return True


def _room(st: CapacityState, wid: str, cid: str, s: int, window: range) -> float:
    """Units of step s of component `cid` that `wid` has hours left for in `window`."""
    info = st.d.step_info(st.workshop[wid], cid, s)
    if info.hours <= 0:
        return math.inf
    proc = st.sc.component(cid).routing[s].process
    return sum(math.floor(st.free_hours(wid, proc, t) / info.hours + 1e-9) for t in window)


def _undo(st: CapacityState, r: Request, out: _Made) -> _Made:
    """Give back what a request took: it is not made at home after all."""
    comp = st.sc.component(r.component)
    for (_rid, s, wid, t), q in out.x.items():
        info = st.d.step_info(st.workshop[wid], comp.id, s)
        if info.hours > 0:
            st.hours[(wid, comp.routing[s].process, t)] += q * info.hours
        if s == len(comp.routing) - 1 and st.final_left is not None:
            st.final_left[wid] += q
    for (c, _loc, mat), kg in out.M.items():
        st.stock[(c, mat)] += kg
    return _Made()
