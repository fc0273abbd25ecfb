"""Large-neighbourhood search on the SPEC model itself.

Each iteration frees a part of the incumbent (some requests: chosen at random, by the
workshops they use and their neighbours, by a cluster of nearby destinations, by a window
of periods, by component, or among those imported or left unmet), fixes every other
request's columns at their values, and re-solves what is left exactly with the MIP engine
under a short limit: the sub-model holds only the free columns (the freed requests' units,
flows, imports, unmet units, sourcing binaries and cumulative columns, plus every shared
column: engagement and tooling binaries and material deliveries) and the rows they appear
in, with each row's bounds shifted by what the fixed columns contribute
(`ArrayModel.sub_proto`). The incumbent's own values are a solution of every sub-model, so
an iteration can only keep or improve the plan, and every constraint of the model holds by
construction: a new constraint family needs no new heuristic.

Neighbourhoods are chosen by roulette on what they have paid off (improvement per second,
smoothed); the number of freed requests grows when sub-models solve to optimality quickly
and shrinks when they hit their limit. Seeded: the same seed gives the same sequence of
neighbourhoods (the engine's results under a time limit may still differ with timing).
"""

from __future__ import annotations

import math
import random
import time
from collections import defaultdict
from datetime import timedelta

import numpy as np
from ortools.math_opt.python import mathopt

from models.scenario import Scenario
from solvers.lpmodel import Answer, solve_proto
from solvers.mip import drop_unused_fixed_costs, raw_from_answer
from solvers.model import Built, Raw
from solvers.search import Search

NEIGHBOURHOODS = ("requests", "workshops", "cluster", "periods", "component", "away")
# Smoothing of the roulette scores, and the floor that keeps every neighbourhood alive.
REACTION = 0.3
FLOOR = 0.05
# Seconds per sub-model: this share of the solve's limit, within these bounds.
ITERATION_SHARE = 0.05
ITERATION_MIN, ITERATION_MAX = 0.5, 8.0


def vector_from_raw(b: Built, raw: Raw) -> np.ndarray | None:
    """The column values in model `b` of a plan given as a solver answer (a constructive
    plan or an engine's), with every binary and cumulative column derived from the units;
    None when the plan uses a column the model does not have."""
    am = b.model
    v = np.zeros(am.num_vars)
    for key, q in raw.x.items():
        c = b.x.get(key)
        if c is None:
            return None
        v[c] = q
    for gkey, q in raw.G.items():
        if (gkey[0], gkey[1]) in b.free_flow:
            continue
        c = b.G.get(gkey)
        if c is None:
            return None
        v[c] = q
    for rid, q in raw.z.items():
        if rid not in b.z:
            return None
        v[b.z[rid]] = q
    for rid, q in raw.u.items():
        v[b.u[rid]] = q
    for mkey, kg in raw.M.items():
        c = b.M.get(mkey)
        if c is None:
            return None
        v[c] += kg
    used = {(r, s, w) for (r, s, w, _t) in raw.x}
    used_w = {w for _r, _s, w in used}
    for wid, c in b.eng.items():
        v[c] = 1.0 if wid in used_w else 0.0
    used_tool = {(w, b.component_of[r], s) for r, s, w in used}
    for tkey, c in b.tool.items():
        v[c] = 1.0 if tkey in used_tool else 0.0
    for skey, c in b.src.items():
        v[c] = 1.0 if skey in used else 0.0
    # "Makes any unit at home" of a request with a sourcing floor (SPEC 8.3): without it
    # a constructive plan of the default scenario (REQ-0004, two suppliers per step) was
    # no point of the model, and the neighbourhood search stood aside.
    made = {r for r, _s, _w in used}
    for rid, c in b.home.items():
        v[c] = 1.0 if rid in made else 0.0
    if b.domestic is not None:
        # The domestic units as one column (SPEC 8.4, 8.5): the units of final steps.
        # Unset, a plan under a spread or a regional share was no point of the model, the
        # neighbourhood search stood aside, and the solve returned at half its limit.
        last: dict[str, int] = {}
        for (r, s, _w, _t) in b.x:
            last[r] = max(last.get(r, 0), s)
        v[b.domestic] = float(sum(q for (r, s, _w, _t), q in raw.x.items() if s == last[r]))
    if b.cum:
        per_t: dict[tuple[str, int, int], int] = defaultdict(int)
        for (r, s, _w, t), q in raw.x.items():
            per_t[(r, s, t)] += q
        totals: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
        for (r, s, t), q in per_t.items():
            totals[(r, s)].append((t, q))
        for (r, s, t), c in b.cum.items():
            v[c] = float(sum(q for tt, q in totals.get((r, s), ()) if tt <= t))
    return v


def incumbent_point(search: Search, b: Built) -> np.ndarray | None:
    """The search's incumbent as column values of model `b` (kept on the candidate), or
    None when it is no point of `b`."""
    best = search.best
    assert best is not None
    if best.vector is not None and best.built is b:
        return best.vector
    v = vector_from_raw(b, best.raw)
    if v is None or b.model.violation(v) > 1e-6:
        return None
    best.vector = v
    return v


def clean_point(b: Built, x: np.ndarray) -> tuple[np.ndarray, float]:
    """An engine's column values with idle fees dropped and integer columns rounded, and
    their cost."""
    v = drop_unused_fixed_costs(b, x)
    integer = np.frombuffer(b.model.integer, dtype=np.int8).astype(bool)
    v[integer] = np.round(v[integer])
    return v, float(np.dot(np.frombuffer(b.model.cost, dtype=np.float64), v))


def offer_point(search: Search, source: str, b: Built, v: np.ndarray, cost: float) -> bool:
    """Offer the point `v` of model `b` (from `clean_point`) to the search as a plan, if
    it satisfies every row; True if it is the new incumbent. Found on a restricted or
    sub-model, so it proves nothing about the whole model's bound."""
    if b.model.violation(v) > 1e-6:
        return False
    raw = raw_from_answer(b, Answer(reason=mathopt.TerminationReason.FEASIBLE,
                                    primal_bound=cost, dual_bound=-math.inf, x=v))
    return search.offer(source, b, raw, vector=v)


class Lns:
    """The `improve` method of the search loop (solvers/search.py)."""

    name = "lns"
    # It improves a plan: without one it has nothing to do (`solvers.search.run`).
    needs_incumbent = True

    def construct(self, search: Search) -> None:
        return None

    def bound(self, search: Search, deadline: float | None) -> None:
        return None

    def improve(self, search: Search, deadline: float | None) -> None:
        b = search.full
        best = search.best
        if b is None or best is None or deadline is None or not search.sc.requests:
            return
        _Run(search, b, deadline).loop()


class _Run:
    def __init__(self, search: Search, b: Built, deadline: float) -> None:
        self.search, self.b, self.deadline = search, b, deadline
        sc: Scenario = search.sc
        self.sc = sc
        self.rng = random.Random(search.options.seed)
        am = b.model
        self.cost = np.frombuffer(am.cost, dtype=np.float64)
        self.rid = [r.id for r in sc.requests]
        index = {rid: i for i, rid in enumerate(self.rid)}
        owner = np.full(am.num_vars, -1, dtype=np.int64)
        for (r, _s, _w, _t), c in b.x.items():
            owner[c] = index[r]
        for (r, _s, _a, _c), c in b.G.items():
            owner[c] = index[r]
        for r, c in b.z.items():
            owner[c] = index[r]
        for r, c in b.u.items():
            owner[c] = index[r]
        for (r, _s, _w), c in b.src.items():
            owner[c] = index[r]
        for (r, _s, _t), c in b.cum.items():
            owner[c] = index[r]
        self.owner = owner
        self.shared = owner < 0
        self.weights = dict.fromkeys(NEIGHBOURHOODS, 1.0)
        n = len(self.rid)
        self.size = min(n, max(8, n // 10))
        limit = (search.deadline - search.started) if search.deadline is not None else 60.0
        self.it_limit = min(ITERATION_MAX, max(ITERATION_MIN, ITERATION_SHARE * limit))
        # Each request's cheapest workshops (over all its unit columns), for the workshop
        # neighbourhood: a request that would rather use a freed workshop is freed too.
        cheap: dict[int, dict[str, float]] = defaultdict(dict)
        for (r, _s, w, _t), c in b.x.items():
            i = index[r]
            cw = cheap[i]
            if w not in cw or self.cost[c] < cw[w]:
                cw[w] = float(self.cost[c])
        self.cheapest = {i: sorted(cw, key=cw.__getitem__)[:3] for i, cw in cheap.items()}
        self.by_cheap: dict[str, list[int]] = defaultdict(list)
        for i, ws in self.cheapest.items():
            for w in ws:
                self.by_cheap[w].append(i)
        self.iterations = 0
        self.accepted = 0
        self.vector: np.ndarray | None = None

    # -- the incumbent ----------------------------------------------------------------
    def loop(self) -> None:
        search = self.search
        v = incumbent_point(search, self.b)
        info = search.info.setdefault("lns", {"iterations": 0, "improvements": 0})
        if v is None:
            info["skipped"] = "the incumbent is not a point of the model"
            return
        cur = float(np.dot(self.cost, v))
        t_start = time.perf_counter()
        stale = 0
        support = search.support
        while not search.stopped():
            left = self.deadline - time.perf_counter()
            if left < 0.2:
                break
            if support is not None and stale >= 2 * len(NEIGHBOURHOODS):
                support, stale = None, 0
                info["support"] = f"dropped after {self.iterations} iterations"
            name = self._pick()
            chosen = self._neighbourhood(name, v)
            if not chosen:
                self._reward(name, 0.0, 0.01)
                continue
            free_req = np.zeros(len(self.rid) + 1, dtype=bool)
            free_req[list(chosen)] = True
            # owner -1 indexes the extra last entry: shared columns are always free.
            free_req[-1] = True
            free = free_req[self.owner]
            if support is not None:
                # Only what the LP used (and what the incumbent uses) is freed: sub-models
                # a fraction of the size, so several times as many of them; on generated
                # medium seed 2, 0.82% -> 0.23% from the LP bound where freeing every
                # column had reached 0.72%. Once the support stops paying, everything.
                free &= support | (v != 0)
            t0 = time.perf_counter()
            ans = self._solve(free, v, min(self.it_limit, left))
            secs = time.perf_counter() - t0
            self.iterations += 1
            info["iterations"] = self.iterations
            gain = 0.0
            if ans is not None and ans.x is not None:
                new, new_cost = clean_point(self.b, np.where(free, ans.x, v))
                if new_cost < cur - 1e-9 * max(1.0, abs(cur)) and offer_point(
                        search, f"lns/{name}", self.b, new, new_cost):
                    gain = cur - new_cost
                    v, cur = new, new_cost
                    self.accepted += 1
                    info["improvements"] = self.accepted
                if bool(free.all()) and ans.reason is mathopt.TerminationReason.OPTIMAL:
                    # Nothing was fixed: the sub-model is the model, its bound is one.
                    search.raise_bound(ans.dual_bound, "lns (whole model)")
            self._reward(name, gain / max(abs(cur), 1.0), secs)
            solved = ans is not None and ans.reason in (mathopt.TerminationReason.OPTIMAL,
                                                        mathopt.TerminationReason.INFEASIBLE)
            self._resize(solved, secs)
            stale = 0 if gain > 0 else stale + 1
            if (self.size >= len(self.rid) and support is None and solved
                    and stale >= len(NEIGHBOURHOODS)):
                break  # the whole model was solved to optimality: nothing left to find
        info["seconds"] = time.perf_counter() - t_start
        info["size"] = self.size

    def _solve(self, free: np.ndarray, v: np.ndarray, limit: float) -> Answer | None:
        am = self.b.model
        proto, _fixed_cost = am.sub_proto(free, v)
        params = mathopt.SolveParameters(
            random_seed=self.search.options.seed + self.iterations,
            relative_gap_tolerance=1e-6, absolute_gap_tolerance=1e-6,
            time_limit=timedelta(seconds=max(0.05, limit)))
        return solve_proto(am, proto, mathopt.SolverType.HIGHS, params)

    # -- adaptive choice --------------------------------------------------------------
    def _pick(self) -> str:
        total = sum(self.weights.values())
        x = self.rng.random() * total
        for name, w in self.weights.items():
            x -= w
            if x <= 0:
                return name
        return NEIGHBOURHOODS[-1]

    def _reward(self, name: str, rel_gain: float, secs: float) -> None:
        # Improvement per second, in parts per thousand of the cost: one order of
        # magnitude for a good neighbourhood.
        score = 1000.0 * rel_gain / max(secs, 0.05)
        w = (1 - REACTION) * self.weights[name] + REACTION * score
        self.weights[name] = max(FLOOR, w)

    def _resize(self, solved: bool, secs: float) -> None:
        n = len(self.rid)
        if solved and secs < 0.4 * self.it_limit:
            self.size = min(n, max(self.size + 1, int(self.size * 1.3)))
        elif not solved:
            self.size = max(2, int(self.size * 0.7))

    # -- neighbourhoods ---------------------------------------------------------------
    def _neighbourhood(self, name: str, v: np.ndarray) -> set[int]:
        k = self.size
        n = len(self.rid)
        rng = self.rng
        if k >= n:
            return set(range(n))
        uses = self._uses(v)
        if name == "requests":
            return set(rng.sample(range(n), k))
        if name == "workshops":
            return self._by_workshops(uses, k)
        if name == "cluster":
            return self._cluster(uses, k)
        if name == "periods":
            T = self.sc.horizon.periods
            width = max(1, T // 4)
            t0 = rng.randrange(T)
            inside = [i for i, r in enumerate(self.sc.requests)
                      if r.release <= t0 + width - 1 and self.sc.due(r) >= t0]
            return self._fill(inside, k)
        if name == "component":
            comps = sorted({r.component for r in self.sc.requests})
            cid = rng.choice(comps)
            return self._fill([i for i, r in enumerate(self.sc.requests)
                               if r.component == cid], k)
        # away: imported or unmet units, and requests that share their cheapest workshops.
        b = self.b
        away = [i for i, rid in enumerate(self.rid)
                if v[b.u[rid]] > 0.5 or (rid in b.z and v[b.z[rid]] > 0.5)]
        if not away:
            return set()
        picked = set(rng.sample(away, min(len(away), max(1, k // 2))))
        near: list[int] = []
        for i in picked:
            for w in self.cheapest.get(i, ()):
                near.extend(uses[1].get(w, ()))
        return picked | self._fill(near, k - len(picked), top_up=True)

    def _uses(self, v: np.ndarray) -> tuple[dict[int, set[str]], dict[str, list[int]]]:
        """Workshops each request uses in `v`, and requests each workshop serves."""
        on = v > 0.5
        req_ws: dict[int, set[str]] = defaultdict(set)
        ws_req: dict[str, set[int]] = defaultdict(set)
        index = {rid: i for i, rid in enumerate(self.rid)}
        for (r, _s, w, _t), c in self.b.x.items():
            if on[c]:
                req_ws[index[r]].add(w)
                ws_req[w].add(index[r])
        return req_ws, {w: sorted(rs) for w, rs in ws_req.items()}

    def _fill(self, pool: list[int], k: int, top_up: bool = False) -> set[int]:
        """k requests of `pool` at random; topped up at random from all when `pool` has
        fewer (only with `top_up`, or when `pool` is empty)."""
        rng = self.rng
        pool = sorted(set(pool))
        if len(pool) >= k:
            return set(rng.sample(pool, k))
        out = set(pool)
        if top_up or not out:
            rest = [i for i in range(len(self.rid)) if i not in out]
            out |= set(rng.sample(rest, min(len(rest), k - len(out))))
        return out

    def _km(self, a: str, c: str) -> float:
        km = self.search.d.dist.km(a, c)
        return math.inf if km is None else km

    def _by_workshops(self, uses: tuple[dict[int, set[str]], dict[str, list[int]]],
                      k: int) -> set[int]:
        """The requests served by a workshop and by its nearest neighbours, and those that
        would rather use one of them, until about k."""
        _req_ws, ws_req = uses
        used = sorted(ws_req)
        if not used:
            return set()
        rng = self.rng
        w0 = rng.choice(used)
        loc = self.search.d.location_of
        others = sorted(self.search.d.location_of, key=lambda w: (
            self._km(loc[w0], loc[w]), rng.random()))
        out: set[int] = set()
        for w in others:
            out.update(ws_req.get(w, ()))
            out.update(self.by_cheap.get(w, ()))
            if len(out) >= k:
                break
        if len(out) > 2 * k:
            out = set(rng.sample(sorted(out), 2 * k))
        return out

    def _cluster(self, uses: tuple[dict[int, set[str]], dict[str, list[int]]],
                 k: int) -> set[int]:
        """A request and the k-1 requests whose anchor (destination, else the location of
        a workshop it uses) is nearest to its own."""
        req_ws, _ws_req = uses
        loc = self.search.d.location_of
        anchor: dict[int, str] = {}
        for i, r in enumerate(self.sc.requests):
            if r.destination is not None:
                anchor[i] = r.destination
            elif req_ws.get(i):
                anchor[i] = loc[min(req_ws[i])]
        if not anchor:
            return set()
        rng = self.rng
        i0 = rng.choice(sorted(anchor))
        a0 = anchor[i0]
        near = sorted(anchor, key=lambda i: (self._km(a0, anchor[i]), rng.random()))
        return set(near[:k])
