"""A Lagrangian bound for instances whose LP relaxations are too big to build.

Take the one-period relaxation (`solvers.lp_guided.time_aggregate`), drop what only adds cost
or restricts (tooling, engagement, tardiness, sourcing limits, policies, whole units), and
move capacity (hours per workshop and process over the horizon) and stock (kg per center
and material) into the objective with multipliers lam >= 0 and mu >= 0. What is left
falls apart into one shortest path per unit: through a workshop per step (its unit cost,
plus lam times its hours, plus its material delivered from the center cheapest at
price + transport + mu), with transport between steps and to the destination, or
imported, or left unmet. For any lam, mu >= 0,

    L(lam, mu) = sum_r q_r * min(away_r, path_r(lam, mu)) - lam.C - mu.S

is at most the optimum of the scenario (C: capacity hours, S: stock). Paths depend on a
request only through its component, certifications and destination, so requests share
them, and every step's cheapest workshop per location is one numpy pass over its
eligible workshops: on the national generated instance (27 M unit columns in the
one-period relaxation) an evaluation takes well under a second. The multipliers follow
projected subgradient steps (Polyak's rule against the best plan's cost); the best L found
is the bound.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from models.derived import Derived
from models.scenario import Scenario

# Subgradient steps without a better bound after which the step size is halved.
STALL = 200
# Share of the last direction added to each new one (large: 1.69e11 at 0, 1.93e11 at 0.9).
DEFLECT = 0.9
# Polyak's step factor at the start (4.0 diverged on the large instance).
THETA = 2.0


@dataclass
class _Step:
    """The eligible workshops of one (component, step, certifications): their location,
    (workshop, process) index, unit cost and hours; and the step's material."""

    loc: np.ndarray
    wp: np.ndarray
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


@dataclass
class LagrangeResult:
    bound: float
    iterations: int
    seconds: float


class PathRelaxation:
    """The data of the decomposed relaxation, prepared once."""

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
        workshop = {w.id: w for w in sc.workshops}
        for w in sc.workshops:
            for p in w.processes():
                wp_index[(w.id, p)] = len(caps)
                caps.append(float(sum(w.cap(p, t) for t in range(T))))
        self.cap = np.array(caps)
        # Centers per material: location index, price, stock index.
        stocks: list[float] = []
        self.centers: dict[str, list[tuple[int, float, int]]] = defaultdict(list)
        for c in sc.material_centers:
            for mat, st in c.materials.items():
                stocks.append(st.stock_kg)
                self.centers[mat].append((li[c.location], st.price_per_kg, len(stocks) - 1))
        self.stock = np.array(stocks)
        self.steps: dict[tuple[object, ...], _Step] = {}
        groups: dict[tuple[str, tuple[str, ...], str | None], list[tuple[int, float]]] = (
            defaultdict(list))
        for r in sc.requests:
            comp = sc.component(r.component)
            certs = tuple(sorted(r.requires))
            keys = []
            for s, step in enumerate(comp.routing):
                # The final step's eligibility also depends on roads to the destination,
                # which the path's delivery leg (inf without a road) already accounts for.
                key = (comp.id, s, certs)
                keys.append(key)
                if key not in self.steps:
                    ws = d.eligible[(r.id, s)]
                    info = [d.step_info(workshop[w], comp.id, s) for w in ws]
                    self.steps[key] = _Step(
                        loc=np.array([li[workshop[w].location] for w in ws], dtype=np.int64),
                        wp=np.array([wp_index.get((w, step.process), -1) for w in ws],
                                    dtype=np.int64),
                        base=np.array([i.unit_cost for i in info]),
                        hours=np.array([i.hours for i in info]),
                        material=step.material if step.material_kg else None,
                        kg=float(step.material_kg or 0.0))
            groups[(comp.id, certs, r.destination)].append(
                (r.quantity, sc.away_unit_objective(r)))
        self.groups = []
        for (cid, group_certs, dest), rows in groups.items():
            comp = sc.component(cid)
            self.groups.append(_Group(
                steps=[(cid, s, group_certs) for s in range(len(comp.routing))],
                weight=comp.weight_kg,
                dest=None if dest is None else li[dest],
                quantity=np.array([q for q, _a in rows], dtype=float),
                away=np.array([a for _q, a in rows])))
        self.n_locs = n

    def evaluate(self, lam: np.ndarray, mu: np.ndarray
                 ) -> tuple[float, np.ndarray, np.ndarray]:
        """L(lam, mu) and its subgradient (hours used - capacity, kg used - stock)."""
        n = self.n_locs
        # Cheapest delivered material per (material, location), and from which center.
        mat_cost: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for mat, cs in self.centers.items():
            per = np.array([price + self.cpk * self.km[loc] + mu[si] for loc, price, si in cs])
            arg = per.argmin(axis=0)
            mat_cost[mat] = (per[arg, np.arange(n)], np.array([si for _l, _p, si in cs])[arg])
        best: dict[tuple[object, ...], tuple[np.ndarray, np.ndarray]] = {}
        for key, st in self.steps.items():
            cost = st.base + np.where(st.wp >= 0, lam[np.maximum(st.wp, 0)], 0.0) * st.hours
            if st.material is not None:
                mc = mat_cost.get(st.material)
                cost = cost + st.kg * (mc[0][st.loc] if mc is not None else np.inf)
            at = np.full(n, np.inf)
            arg = np.full(n, -1, dtype=np.int64)
            if len(cost):
                order = np.lexsort((cost, st.loc))
                first = np.ones(len(order), dtype=bool)
                first[1:] = st.loc[order][1:] != st.loc[order][:-1]
                pick = order[first]
                at[st.loc[pick]] = cost[pick]
                arg[st.loc[pick]] = pick
            best[key] = (at, arg)
        total = 0.0
        g_lam = -self.cap.copy()
        g_mu = -self.stock.copy()
        for grp in self.groups:
            tc = self.cpk * grp.weight
            value, _ = best[grp.steps[0]]
            back = []
            for key in grp.steps[1:]:
                move = value[:, None] + tc * self.km
                arg = move.argmin(axis=0)
                back.append(arg)
                value = best[key][0] + move[arg, np.arange(n)]
            if grp.dest is not None:
                value = value + tc * self.km[:, grp.dest]
            end = int(value.argmin())
            home = float(value[end])
            made = grp.away > home
            total += float(np.sum(grp.quantity * np.minimum(grp.away, home)))
            q = float(grp.quantity[made].sum())
            if q <= 0 or not math.isfinite(home):
                continue
            loc = end
            for i in range(len(grp.steps) - 1, -1, -1):
                key = grp.steps[i]
                st = self.steps[key]
                w = best[key][1][loc]
                if st.wp[w] >= 0:
                    g_lam[st.wp[w]] += q * st.hours[w]
                if st.material is not None:
                    g_mu[mat_cost[st.material][1][loc]] += q * st.kg
                if i > 0:
                    loc = int(back[i - 1][loc])
        value_l = total - float(lam @ self.cap) - float(mu @ self.stock)
        return value_l, g_lam, g_mu


def lagrangian_path_bound(sc: Scenario, d: Derived, upper: float | None,
                          deadline: float | None, max_iterations: int = 100_000
                          ) -> LagrangeResult:
    """The best L(lam, mu) found by projected subgradient steps from lam = mu = 0 (where
    it equals the capacity-free bound) until `deadline`, `max_iterations`, or the step
    size runs out. `upper` (a plan's cost) sets Polyak's step; without it, 5% above L."""
    started = time.perf_counter()
    rel = PathRelaxation(sc, d)
    lam = np.zeros(len(rel.cap))
    mu = np.zeros(len(rel.stock))
    best = -math.inf
    theta, stall = THETA, 0
    # The last step's direction (none before the first step).
    dir_lam, dir_mu = np.zeros_like(lam), np.zeros_like(mu)
    it = 0
    for it in range(1, max_iterations + 1):  # noqa: B007
        value, g_lam, g_mu = rel.evaluate(lam, mu)
        if not math.isfinite(best) or value > best + 1e-9 * max(1.0, abs(best)):
            best, stall = value, 0
        else:
            stall += 1
            if stall >= STALL:
                theta, stall = theta / 2, 0
        # Only directions that can move: a multiplier at 0 with slack stays at 0.
        g_lam = np.where((lam <= 0) & (g_lam < 0), 0.0, g_lam)
        g_mu = np.where((mu <= 0) & (g_mu < 0), 0.0, g_mu)
        # Deflected direction (Camerini, Fratta and Maffioli): a share of the last step
        # damps the zig-zag of paths that switch wholesale between workshops.
        g_lam = g_lam + DEFLECT * dir_lam
        g_mu = g_mu + DEFLECT * dir_mu
        dir_lam, dir_mu = g_lam, g_mu
        norm = float(g_lam @ g_lam + g_mu @ g_mu)
        if norm <= 0 or theta < 1e-4:
            break
        target = upper if upper is not None and upper > best else best * 1.05 + 1.0
        step = theta * (target - value) / norm
        lam = np.maximum(0.0, lam + step * g_lam)
        mu = np.maximum(0.0, mu + step * g_mu)
        if deadline is not None and time.perf_counter() >= deadline:
            break
    return LagrangeResult(bound=best, iterations=it, seconds=time.perf_counter() - started)
