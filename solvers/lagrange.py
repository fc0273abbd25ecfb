"""A Lagrangian bound for instances whose LP relaxations are too big to build.

Take the one-period relaxation (`solvers.one_period.time_aggregate`), drop what only restricts
(tardiness, sourcing limits, whole units, the policies but local content), and move
capacity, tooling, stock and the local-content floor into the objective with multipliers.
The relaxation keeps the fixed costs in their facility-location form:

- capacity of workshop w and process p over the horizon, scaled by its engagement e_w
  where it has a fee: `hours(w,p) <= C(w,p) * e_w`, where C is the smaller of its hours and
  the hours that all the demand it may take would need (`hours(w,p) <= C` holds for both);
- tooling of (w, component, step): `units(w,c,s) <= M(w,c,s) * y_wcs`, M the smaller of
  the units of c's requests w may take and the whole units that fit in its hours;
- stock of every (center, material): `kg <= S`.

With multipliers lam (capacity), nu (tooling) and mu (stock), all >= 0, what is left falls
apart into one shortest path per unit: through a workshop per step (its unit cost, plus
lam times its hours, plus nu where it is tooled, plus its material delivered from the
center cheapest at price + transport + mu), with transport between steps and to the
destination, or imported, or left unmet; and each fixed cost on its own, paid where its
multipliers price it above its fee:

    L = sum_r q_r * min(away_r, path_r) + sum_w min(0, f_w - lam_w.C_w) - lam'.C'
        + sum_wcs min(0, k_wcs - nu_wcs M_wcs) - mu.S

(lam' over workshops without a fee). With a local-content floor L_c (SPEC 5.8,
F - (1 - L_c) T <= 0, F the foreign spending, T all spending) and its multiplier rho, every
unit of spending in the paths and fees costs a = 1 - rho (1 - L_c) times itself, and foreign
spending a + rho times itself (`PathRelaxation.evaluate`). For any multipliers >= 0, L is
at most the optimum of the scenario. Paths depend on a request only through its component,
certifications and destination, so requests share them, and every step's cheapest
workshop per location is one numpy pass over its eligible workshops: on the national
generated instance an evaluation takes about 20 ms.

The multipliers follow a stabilised subgradient ascent: each step goes along a running
average of the subgradients (weight ALPHA on the newest, the primal averaging of the
volume algorithm of Barahona and Anbil, 2000, which damps the zig-zag of paths that switch
wholesale between workshops), with Polyak's length against the best plan's cost; after
RED_RUN steps that do not improve the best L the step factor shrinks, and when it has
shrunk to nothing the ascent restarts from the best multipliers with their own
subgradient and a fresh, smaller factor. It stops when RESTARTS restarts in a row bring
nothing. Measured (3,000 evaluations, docs/solver.md): medium seed 1 3.4296e10, large
seed 1 1.9365e11, against 3.4297e10 and 1.633e11 for deflected steps from a fixed factor
(chaotic on large) and 3.37e10 and 1.894e11 for the volume algorithm's steps from the best
point only; the grouped one-period LP (`solvers.relax`) is 3.4304e10 and 1.9546e11.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from models.derived import Derived
from models.scenario import Scenario

# Polyak's step factor at the start (halved at every restart; 2.0 overflowed on medium).
THETA = 1.0
# Steps without a better best after which the step factor shrinks by SHRINK.
RED_RUN = 20
SHRINK = 0.66
# Below this step factor the ascent restarts from the best multipliers; after RESTARTS
# restarts in a row with no better best it stops.
THETA_MIN = 1e-3
RESTARTS = 6
# A plan's cost more than this share above the best L is no target for Polyak's steps.
FAR_TARGET = 0.5
# Weight of the newest subgradient in the running average (0.2: 3.4292e10 on medium).
ALPHA = 0.1


@dataclass
class _Step:
    """The eligible workshops of one (component, step, certifications): their location,
    (workshop, process) index, tooling index (-1 without a tool to pay), unit cost and
    hours; and the step's material."""

    loc: np.ndarray
    wp: np.ndarray
    tool: np.ndarray
    base: np.ndarray
    hours: np.ndarray
    material: str | None
    kg: float


@dataclass
class _Group:
    """Requests sharing their paths: same component, certifications and destination."""

    steps: list[tuple[object, ...]]
    weight: float
    dest: int | None
    quantity: np.ndarray  # per request
    away: np.ndarray  # per request: import or unmet, whichever is cheaper per unit
    # Per request, for the local-content multiplier: the unit left unmet, and the unit
    # imported split into its import cost (spending, foreign) and its lateness (inf where
    # it may not be imported).
    unmet: np.ndarray
    import_cost: np.ndarray
    import_late: np.ndarray


@dataclass
class LagrangeResult:
    bound: float
    iterations: int
    seconds: float
    restarts: int = 0


class PathRelaxation:
    """The data of the decomposed relaxation, prepared once. Multipliers are one vector:
    capacity per (workshop, process) (`n_wp`), then tooling per (workshop, component, step)
    (`n_tool`), then stock per (center, material); `rhs` holds their right-hand sides."""

    def __init__(self, sc: Scenario, d: Derived) -> None:
        cpk = sc.transport.cost_per_kg_km
        self.cpk = cpk
        locs: list[str] = sorted(
            {w.location for w in sc.workshops} | {c.location for c in sc.material_centers}
            | {r.destination for r in sc.requests if r.destination is not None})
        li = {loc: i for i, loc in enumerate(locs)}
        n = len(locs)
        km = np.full((n, n), np.inf)
        for a in locs:
            for b in locs:
                k = d.dist.km(a, b)
                if k is not None:
                    km[li[a], li[b]] = k
        self.km = km
        T = sc.horizon.periods
        wp_index: dict[tuple[str, str], int] = {}
        caps: list[float] = []
        wp_fee: list[int] = []  # engaged-workshop index of every (workshop, process), or -1
        fees: list[float] = []
        workshop = {w.id: w for w in sc.workshops}
        for w in sc.workshops:
            if w.engagement_cost > 0:
                fees.append(w.engagement_cost)
            for p in w.processes():
                wp_index[(w.id, p)] = len(caps)
                caps.append(float(sum(w.cap(p, t) for t in range(T))))
                wp_fee.append(len(fees) - 1 if w.engagement_cost > 0 else -1)
        self.n_wp = len(caps)
        self.wp_fee = np.array(wp_fee, dtype=np.int64)
        self.fee = np.array(fees)
        # Tooling per (workshop, component, step): fee and the whole units that fit.
        tool_index: dict[tuple[str, str, int], int] = {}
        tool_fee: list[float] = []
        tool_fit: list[float] = []
        for o in sc.offers:
            if o.tooling_cost <= 0:  # an offer's tooling is the step's (Derived.step_info)
                continue
            info = d.step_info(workshop[o.workshop], o.component, o.step)
            proc = sc.component(o.component).routing[o.step].process
            w = workshop[o.workshop]
            tool_index[(o.workshop, o.component, o.step)] = len(tool_fee)
            tool_fee.append(info.tooling)
            tool_fit.append(math.inf if info.hours <= 0 else float(sum(
                math.floor(w.cap(proc, t) / info.hours + 1e-9) for t in range(T))))
        self.n_tool = len(tool_fee)
        self.tool_fee = np.array(tool_fee)
        # Centers per material: location index, price, stock index.
        stocks: list[float] = []
        self.centers: dict[str, list[tuple[int, float, int]]] = defaultdict(list)
        foreign: dict[str, list[bool]] = defaultdict(list)
        for c in sc.material_centers:
            for mat, held in c.materials.items():
                stocks.append(held.stock_kg)
                self.centers[mat].append((li[c.location], held.price_per_kg, len(stocks) - 1))
                foreign[mat].append(not held.domestic)
        self.foreign = {mat: np.array(f) for mat, f in foreign.items()}
        self.steps: dict[tuple[object, ...], _Step] = {}
        # Per request: quantity, unit away, unmet penalty, import cost, import lateness.
        Row = tuple[int, float, float, float, float]
        groups: dict[tuple[str, tuple[str, ...], str | None], list[Row]] = defaultdict(list)
        for r in sc.requests:
            comp = sc.component(r.component)
            certs = tuple(sorted(r.requires))
            for s, step in enumerate(comp.routing):
                # The final step's eligibility also depends on roads to the destination,
                # which the path's delivery leg (inf without a road) already accounts for.
                key = (comp.id, s, certs)
                if key not in self.steps:
                    ws = d.eligible[(r.id, s)]
                    infos = d.step_infos(comp.id, s, [workshop[w] for w in ws])
                    self.steps[key] = _Step(
                        loc=np.array([li[workshop[w].location] for w in ws], dtype=np.int64),
                        wp=np.array([wp_index[(w, step.process)] for w in ws],
                                    dtype=np.int64),
                        tool=np.array([tool_index.get((w, comp.id, s), -1) for w in ws],
                                      dtype=np.int64),
                        base=np.array([i.unit_cost for i in infos]),
                        hours=np.array([i.hours for i in infos]),
                        material=step.material if step.material_kg else None,
                        kg=float(step.material_kg or 0.0))
            imported = sc.import_allowed(r)
            groups[(comp.id, certs, r.destination)].append(
                (r.quantity, sc.away_unit_objective(r), sc.unmet_penalty(r),
                 sc.import_unit_cost(r) if imported else math.inf,
                 sc.late_penalty(r) * sc.import_late_periods(r) if imported else 0.0))
        self.groups = []
        for (cid, group_certs, dest), rows in groups.items():
            comp = sc.component(cid)
            self.groups.append(_Group(
                steps=[(cid, s, group_certs) for s in range(len(comp.routing))],
                weight=comp.weight_kg,
                dest=None if dest is None else li[dest],
                quantity=np.array([row[0] for row in rows], dtype=float),
                away=np.array([row[1] for row in rows]),
                unmet=np.array([row[2] for row in rows]),
                import_cost=np.array([row[3] for row in rows]),
                import_late=np.array([row[4] for row in rows])))
        self.n_locs = n
        # No workshop works more hours, nor makes more tooled units, than all the demand
        # it may take needs: the smaller right-hand side is as valid and prices tighter.
        demand_hours = np.zeros(self.n_wp)
        demand_units = np.zeros(self.n_tool)
        for grp in self.groups:
            q = float(grp.quantity.sum())
            for step_key in grp.steps:
                at_step = self.steps[step_key]
                np.add.at(demand_hours, at_step.wp, q * at_step.hours)
                np.add.at(demand_units, at_step.tool[at_step.tool >= 0], q)
        # The local-content row of SPEC 5.8, F - (1 - L) T <= 0, moved into the objective
        # with one more multiplier (the last, right-hand side 0) where the policy binds.
        self.floor = sc.policy.min_local_content
        self.rhs = np.concatenate([
            np.minimum(np.array(caps), demand_hours),
            np.minimum(np.array(tool_fit), demand_units),
            np.array(stocks), np.zeros(1 if self.floor > 0 else 0)])
        # The row is measured in units of this many IDR (set at the first evaluation), so
        # that its subgradient weighs in the steps as much as all the others together.
        self.lc_scale = 0.0
        fin = np.isfinite(km)
        self.km_fin = np.where(fin, km, 0.0)
        self.km_inf = np.where(fin, 0.0, np.inf)

    @property
    def size(self) -> int:
        return len(self.rhs)

    def evaluate(self, u: np.ndarray) -> tuple[float, np.ndarray]:
        """L(u) and a subgradient (use minus right-hand side, the latter scaled by the
        fixed cost's binary where its multipliers price it above its fee).

        With a local-content floor L and its multiplier rho (the last of `u`, divided by
        `lc_scale`), the objective gains rho (F - (1 - L) T): every unit of spending
        costs a = 1 - rho (1 - L) times itself, and foreign spending (material from a
        center where it is not domestic, imports) a + rho = 1 + rho L times itself.
        Penalties (unmet, lateness) are not spending and keep their price."""
        n = self.n_locs
        n_wp, n_tool = self.n_wp, self.n_tool
        lc = self.floor > 0
        lam, nu = u[:n_wp], u[n_wp:n_wp + n_tool]
        mu = u[n_wp + n_tool:len(u) - 1 if lc else len(u)]
        # The scale is measured at the first evaluation (below); 1 until then.
        rho = float(u[-1]) / max(self.lc_scale, 1.0) if lc else 0.0
        a = 1.0 - rho * (1.0 - self.floor)
        fa = 1.0 + rho * self.floor
        # A road's cost (inf where there is none, whatever a's sign).
        km_cost = self.km_fin * (a * self.cpk) + self.km_inf
        # Cheapest delivered material per (material, location), and from which center.
        mat_cost: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for mat, cs in self.centers.items():
            factor = np.where(self.foreign[mat], fa, a)
            per = np.array([price * f + km_cost[loc] + mu[si]
                            for (loc, price, si), f in zip(cs, factor, strict=True)])
            arg = per.argmin(axis=0)
            mat_cost[mat] = (per[arg, np.arange(n)], np.array([si for _l, _p, si in cs])[arg],
                             arg)
        best: dict[tuple[object, ...], tuple[np.ndarray, np.ndarray]] = {}
        for key, st in self.steps.items():
            cost = a * st.base + lam[st.wp] * st.hours
            if n_tool:
                cost = cost + np.where(st.tool >= 0, nu[np.maximum(st.tool, 0)], 0.0)
            if st.material is not None:
                mc = mat_cost.get(st.material)
                cost = cost + st.kg * (mc[0][st.loc] if mc is not None else np.inf)
            at = np.full(n, np.inf)
            arg = np.full(n, -1, dtype=np.int64)
            if len(cost):
                order = np.lexsort((cost, st.loc))
                first_at = np.ones(len(order), dtype=bool)
                first_at[1:] = st.loc[order][1:] != st.loc[order][:-1]
                pick = order[first_at]
                at[st.loc[pick]] = cost[pick]
                arg[st.loc[pick]] = pick
            best[key] = (at, arg)
        total = 0.0
        g = np.zeros(len(u))
        # F and T of the relaxed solution, for the local-content subgradient.
        foreign_spent = spent = 0.0
        for grp in self.groups:
            tc = grp.weight
            value, _ = best[grp.steps[0]]
            back = []
            for key in grp.steps[1:]:
                move = value[:, None] + tc * km_cost
                arg = move.argmin(axis=0)
                back.append(arg)
                value = best[key][0] + move[arg, np.arange(n)]
            if grp.dest is not None:
                value = value + tc * km_cost[:, grp.dest]
            end = int(value.argmin())
            home = float(value[end])
            away = grp.away
            if lc:
                imported = fa * grp.import_cost + grp.import_late
                away = np.minimum(grp.unmet, imported)
                sent = (away <= home) & (imported < grp.unmet)
                imp = float(np.sum(grp.quantity[sent] * grp.import_cost[sent]))
                foreign_spent += imp
                spent += imp
            made = away > home
            total += float(np.sum(grp.quantity * np.minimum(away, home)))
            q = float(grp.quantity[made].sum())
            if q <= 0 or not math.isfinite(home):
                continue
            loc = end
            if lc and grp.dest is not None:
                spent += q * self.cpk * tc * self.km_fin[loc, grp.dest]
            for i in range(len(grp.steps) - 1, -1, -1):
                key = grp.steps[i]
                st = self.steps[key]
                w = best[key][1][loc]
                g[st.wp[w]] += q * st.hours[w]
                if st.tool[w] >= 0:
                    g[n_wp + st.tool[w]] += q
                if st.material is not None:
                    mc = mat_cost[st.material]
                    g[n_wp + n_tool + mc[1][loc]] += q * st.kg
                    if lc:
                        c_loc, price, _si = self.centers[st.material][mc[2][loc]]
                        kg = q * st.kg
                        spent += kg * (price + self.cpk * self.km_fin[c_loc, loc])
                        if self.foreign[st.material][mc[2][loc]]:
                            foreign_spent += kg * price
                if lc:
                    spent += q * float(st.base[w])
                if i > 0:
                    prev = int(back[i - 1][loc])
                    if lc:
                        spent += q * self.cpk * tc * self.km_fin[prev, loc]
                    loc = prev
        # Fixed costs: a binary is 1 where its multipliers price it above its fee.
        rhs = self.rhs
        priced = lam * rhs[:n_wp]
        on = np.ones(len(u))
        fee_of = self.wp_fee
        if len(self.fee):
            engaged = fee_of >= 0
            per_w = np.bincount(fee_of[engaged], weights=priced[engaged],
                                minlength=len(self.fee))
            total += float(np.minimum(0.0, a * self.fee - per_w).sum())
            total -= float(priced[~engaged].sum())
            paid = per_w > a * self.fee
            on[:n_wp][engaged] = paid[fee_of[engaged]]
            spent += float(self.fee[paid].sum())
        else:
            total -= float(priced.sum())
        if n_tool:
            tool_priced = nu * rhs[n_wp:n_wp + n_tool]
            tooled = tool_priced > a * self.tool_fee
            total += float(np.minimum(0.0, a * self.tool_fee - tool_priced).sum())
            on[n_wp:n_wp + n_tool] = tooled
            spent += float(self.tool_fee[tooled].sum())
        total -= float(mu @ rhs[n_wp + n_tool:n_wp + n_tool + len(mu)])
        g -= rhs * on
        if lc:
            row = foreign_spent - (1.0 - self.floor) * spent
            if self.lc_scale <= 0:
                others = float(np.sqrt(g[:-1] @ g[:-1]))
                self.lc_scale = max(1.0, abs(row) / max(others, 1.0))
            g[-1] = row / self.lc_scale
        return total, g


# The last scenario's relaxation and best multipliers, so that a bound asked for again
# (with more time, or a better plan) starts where the last one stopped.
_WARM: list[tuple[Scenario, PathRelaxation, np.ndarray, float]] = []

# Seconds `PathRelaxation` takes to build per (step, eligible workshop) entry it prices:
# 3.2e-6 on an idle machine for the 1 M entries of a 1,000 x 1,000 facility location
# (every request its own component), with a margin for a busy one. Generated instances
# share their steps among requests: 0.04 s for a large one.
BUILD_SECONDS_PER_ENTRY = 5e-6


def build_seconds(sc: Scenario, d: Derived) -> float:
    """About how long `lagrangian_path_bound` takes before its first step: nothing where
    the last call on the same scenario left its relaxation built."""
    if _WARM and _WARM[0][0] is sc:
        return 0.0
    # Requests that share a (component, step, certifications) share their eligible list
    # (`Derived.eligible`), and the relaxation prices each such step once.
    shared = {id(ws): len(ws) for ws in d.eligible.values()}
    return BUILD_SECONDS_PER_ENTRY * sum(shared.values())


def lagrangian_path_bound(sc: Scenario, d: Derived, upper: float | None,
                          deadline: float | None, max_iterations: int = 100_000
                          ) -> LagrangeResult:
    """The best L found by the ascent (module docstring) from zero multipliers (where L
    is the capacity-free bound), or from the best multipliers of the last call on the
    same scenario, until `deadline`, `max_iterations`, or the restarts run out.
    `upper` (a plan's cost) is the target of Polyak's step; without it, 5% above L."""
    started = time.perf_counter()
    if _WARM and _WARM[0][0] is sc:
        _sc, rel, u, warm_bound = _WARM[0]
    else:
        rel = PathRelaxation(sc, d)
        u, warm_bound = np.zeros(rel.size), -math.inf
    result = _ascent(rel, u, upper, deadline, max_iterations)
    bound, best_u = result
    _WARM[:] = [(sc, rel, best_u, max(bound.bound, warm_bound))]
    bound.bound = max(bound.bound, warm_bound)
    bound.seconds = time.perf_counter() - started
    return bound


def _ascent(rel: PathRelaxation, u: np.ndarray, upper: float | None,
            deadline: float | None, max_iterations: int
            ) -> tuple[LagrangeResult, np.ndarray]:
    """Steps from the current point along the running average of subgradients (weight
    ALPHA on the newest), Polyak's length against the target; after RED_RUN steps without
    a better best the factor shrinks, and when it collapses the search restarts from the
    best multipliers with that point's own subgradient."""
    value, g = rel.evaluate(u)
    best_u, best, best_g = u, value, g
    gbar = g
    theta, reds, restarts, fruitless = THETA, 0, 0, 0
    it = 1
    while it < max_iterations:
        if deadline is not None and time.perf_counter() >= deadline:
            break
        scale = max(1.0, abs(best))
        # Polyak's target: the plan's cost, unless it is more than FAR_TARGET above the
        # best L; then 5% above it. A plan far above the bound (the alt generator's large
        # seed 1: 1.65e13 against 2.6e12) made every step overshoot, and the ascent never
        # rose above its start.
        target = best + 0.05 * scale
        if upper is not None and best + 1e-6 * scale < upper <= best + FAR_TARGET * scale:
            target = upper
        direction = np.where((u <= 0) & (gbar < 0), 0.0, gbar)
        norm = float(direction @ direction)
        if norm <= 0:
            if u is best_u and gbar is best_g:
                break
            u, gbar = best_u, best_g
            continue
        u = np.maximum(0.0, u + theta * (target - value) / norm * direction)
        value, g = rel.evaluate(u)
        it += 1
        if not math.isfinite(value):
            # Overflow from a step far too long: back to the best point, shorter steps.
            theta, u, value, gbar = theta * SHRINK, best_u, best, best_g
            continue
        gbar = ALPHA * g + (1 - ALPHA) * gbar
        if value > best + 1e-9 * scale:
            best_u, best, best_g = u, value, g
            reds, fruitless = 0, 0
        else:
            reds += 1
            if reds >= RED_RUN:
                theta, reds = theta * SHRINK, 0
        if theta < THETA_MIN:
            restarts += 1
            fruitless += 1
            if fruitless > RESTARTS:
                break
            theta = THETA * 0.5 ** min(restarts, 10)
            u, value, gbar = best_u, best, best_g
    return LagrangeResult(bound=best, iterations=it, seconds=0.0, restarts=restarts), best_u


def path_bound(sc: Scenario, d: Derived, deadline: float, upper: float | None = None
               ) -> float:
    """Bound provider: the Lagrangian path bound (module docstring) by `deadline`."""
    return lagrangian_path_bound(sc, d, upper, deadline).bound
