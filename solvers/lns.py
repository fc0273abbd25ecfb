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

Three neighbourhoods use more than the incumbent: `reassign` frees the load of a few
workshops (a random one and those its requests rank next best) but only its requests' unit
columns at those workshops, so the sub-model stays small however many workshops there are;
`lp` frees requests whose columns differ from the LP relaxation's solution (a relaxation-
induced neighbourhood), and `excess` draws requests by what their columns cost above the
LP's prices (reduced cost times units), where the plan pays most beyond the relaxation.
`fees` frees every request that needs one engagement or tooling fee paid (drawn by fee
per unit served) and some served next door, so that the engine may stop paying it.
The LP is solved once when the search starts (within a tenth of its time, and only where
it can be at about 1e-4 s per column). A freed request may move only to its candidate
workshops (the few whose unit columns have the lowest reduced cost, or cost before the LP)
or keep what it uses; the engine starts from the incumbent (a solution hint), so a
sub-model stopped at its limit returns no worse a point.

Neighbourhoods are chosen by roulette on what they have paid off (improvement per second,
smoothed), after each has been tried once, every one at least a tenth of the best score;
the number of freed requests (workshops for `reassign`) grows when sub-models solve to
optimality quickly and shrinks when they hit their limit. Seeded: the same seed gives the
same sequence of neighbourhoods (the engine's results under a time limit may still differ
with timing).

Measured on Chu-Beasley GAP type D (docs/benchmarks.md): from the same incumbent of
d20200 (12,356), 33 s of `excess` alone reached 12,271 where the six neighbourhoods of
requests had stayed at 12,338 to 12,351 (machine shared, load 4 to 6). Such models are
hard for the engine: d20200 with each job restricted to its two best workshops by reduced
cost (627 columns) is not solved in 20 s, so what is freed matters more than how much.
"""

from __future__ import annotations

import math
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta

import numpy as np
from ortools.math_opt.python import mathopt

from models.scenario import Scenario
from solvers.lpmodel import Answer, solve_proto
from solvers.mip import drop_unused_fixed_costs, raw_from_answer
from solvers.model import Built, Raw
from solvers.search import Search

NEIGHBOURHOODS = ("requests", "workshops", "cluster", "periods", "component", "away",
                  "reassign", "lp", "excess", "fees")
# Smoothing of the roulette scores, and the floor (a share of the best score) that keeps
# every neighbourhood alive.
REACTION = 0.3
FLOOR = 0.1
# ... and the ceiling that keeps one large gain (a request no longer left unmet) from
# handing a neighbourhood every iteration long after it stopped paying.
SCORE_MAX = 5.0
# Sub-models whose overrun of their limit shortens the next limit (`_Run.late`).
LATE_KEPT = 5
# Seconds per sub-model: this share of the solve's limit, within these bounds.
ITERATION_SHARE = 0.05
ITERATION_MIN, ITERATION_MAX = 0.5, 8.0
# Share of the draws that go to `excess` once the LP is solved, whatever the roulette
# says: with 30 to 40 iterations a minute the roulette learns from a few gains, and
# `excess` was the best neighbourhood on every GAP instance it was measured on alone.
EXCESS_SHARE = 0.3
# Iterations in a row without gain after which the LP's support is dropped.
SUPPORT_STALE = 12
# The first sub-model, which frees every request sent away (`_Run._fill_away`), may take
# this share of the time left, and at most this many times an iteration's limit.
FILL_SHARE, FILL_ITERATIONS = 0.25, 4
# It is made again, on the requests with units unmet not freed yet, while the last one
# took more than this share off the plan's cost; a first one with no plan in its limit
# is made once more with half the free columns.
FILL_AGAIN = 0.01
# Sub-models with more free columns than this run without the engine's presolve, which
# does not keep to the time limit (see `_Run._solve`), and the first one (`_fill_away`)
# frees only candidate workshops above it.
LARGE_SUB_MODEL_COLUMNS = 20_000
# Free columns the first sub-model keeps to: past it, only the requests that leave the
# most unmet are freed. On the alt generator's large seed 1 (600 requests with units
# unmet, 45,514 columns on their candidate workshops) HiGHS spent 12.4-12.9 s without a
# plan under a 7.1-7.3 s limit, even without presolve; on its medium seed 1 a fill of
# 9,838 columns saved 0.87e9 in 4.9 s.
FILL_MAX_COLUMNS = 10_000
# Halved after each first sub-model with nothing better in its limit, down to this many.
# Stopping after one halving (5,000) left the alt generator's large seed 1 with units
# unmet that fills of 2,500 columns placed in a second each (5.9e10 and 5.4e10 off the
# plan, 0.7-1.1 s): 5.085e12 -> 4.981e12 at 60 s, 4.982e12 again in a second run.
FILL_MIN_COLUMNS = 1_250
# The LP relaxation, where the search solves it itself, gets this share of the time left;
# it is not tried where this many seconds per column would exceed that (a generous rate:
# the whole LP of generated medium took 1.5-2.3e-4 s per column by barrier).
LP_SHARE = 0.1
LP_SECONDS_PER_COLUMN = 1e-4
# The engine of the sub-models: SCIP where some free integer column is a general integer
# (units of the SPEC model), HiGHS where all are binary (assignments). On 11 sub-models of
# generated medium sourcing seed 1 (532-3,000 free columns) SCIP proved the optimum in
# 0.06-1.1 s where HiGHS took 0.9-10 s (one 6.4 s against 7.1 s); at 60 s the solve
# ended 0.17% from the bound on generated medium seed 1 (0.33% with HiGHS), 5.3% on its
# fixed-cost profile (7.5%). On GAP d20200's sub-models (binary) neither was reliably the
# faster, and the solve at 60 s was no better with SCIP (12,295 against 12,286).
GENERAL_ENGINE = mathopt.SolverType.GSCIP
BINARY_ENGINE = mathopt.SolverType.HIGHS
# Workshops whose load the reassignment neighbourhood frees at first.
REASSIGN_START = 3
# A freed request may move to its ceil(sqrt(workshops)) + this many best workshops.
CANDIDATES_EXTRA = 2


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


def column_owner(b: Built, index: dict[str, int]) -> np.ndarray:
    """Each column's request (`index` of its id), -1 for the columns no one request owns
    (engagement and tooling binaries, material deliveries)."""
    owner = np.full(b.model.num_vars, -1, dtype=np.int64)
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
    return owner


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
    sub-model, so it proves nothing about the whole model's bound.

    It is priced again from its rows (`search.offer`): the model's objective at `v` agreed
    with that to 1e-15 on alt large seed 2 and would save 0.5-0.9 s a plan there, but the
    last digits differ, and the stream of progress events then rose by 7e-6 IDR from the
    last incumbent shown to the plan returned (tests/solvers/test_progress.py)."""
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

    def __init__(self, neighbourhoods: Sequence[str] = NEIGHBOURHOODS,
                 size: int | None = None, own_lp: bool = True, whole: bool = True) -> None:
        """`size`: requests freed at first (default: a tenth of them, at least 8);
        `own_lp`: whether the search may solve the model's LP itself where no method
        left one (`_Run._lp_point`); `whole`: whether `search.full` is the whole model,
        so that a sub-model with nothing fixed, solved, gives a bound (not on the
        restricted model of solvers/restricted.py)."""
        unknown = sorted(set(neighbourhoods) - set(NEIGHBOURHOODS))
        if unknown or not neighbourhoods:
            raise ValueError(f"unknown neighbourhoods {unknown}; known: {NEIGHBOURHOODS}")
        self.neighbourhoods = tuple(neighbourhoods)
        self.size = size
        self.own_lp = own_lp
        self.whole = whole

    def construct(self, search: Search) -> None:
        return None

    def bound(self, search: Search, deadline: float | None) -> None:
        return None

    def improve(self, search: Search, deadline: float | None) -> None:
        b = search.full
        best = search.best
        if b is None or best is None or deadline is None or not search.sc.requests:
            return
        _Run(search, b, deadline, self.neighbourhoods, self.size, self.own_lp,
             self.whole).loop()


class _Run:
    def __init__(self, search: Search, b: Built, deadline: float,
                 neighbourhoods: Sequence[str], size: int | None = None,
                 own_lp: bool = True, whole: bool = True) -> None:
        self.search, self.b, self.deadline = search, b, deadline
        self.own_lp, self.whole = own_lp, whole
        sc: Scenario = search.sc
        self.sc = sc
        self.rng = random.Random(search.options.seed)
        am = b.model
        self.cost = np.frombuffer(am.cost, dtype=np.float64)
        self.ub = np.frombuffer(am.ub, dtype=np.float64)
        self.integer = np.frombuffer(am.integer, dtype=np.int8).astype(bool)
        self.rid = [r.id for r in sc.requests]
        index = {rid: i for i, rid in enumerate(self.rid)}
        self.owner = column_owner(b, index)
        self.shared = self.owner < 0
        self.fee_items: list[tuple[int, np.ndarray]] | None = None
        names = [n for n in neighbourhoods if not self._same_as_requests(n)
                 and not (n == "fees" and not self._has_fees())] or list(neighbourhoods)
        self.rng.shuffle(names)
        # None: not tried yet.
        self.weights: dict[str, float | None] = dict.fromkeys(names)
        n = len(self.rid)
        self.size = min(n, max(8, n // 10) if size is None else max(1, size))
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
        # The workshop of every unit column (-1 elsewhere), and each request's workshops
        # ranked by their cheapest unit column, for the reassignment neighbourhood.
        wsid = {w.id: k for k, w in enumerate(sc.workshops)}
        self.workshops = [w.id for w in sc.workshops]
        col_ws = np.full(am.num_vars, -1, dtype=np.int64)
        for (_r, _s, w, _t), c in b.x.items():
            col_ws[c] = wsid[w]
        self.col_ws = col_ws
        self.rank = {i: {wsid[w]: k for k, w in enumerate(sorted(cw, key=cw.__getitem__))}
                     for i, cw in cheap.items()}
        self.n_ws = REASSIGN_START
        self.lp_x: np.ndarray | None = None
        self.cand_col: np.ndarray | None = None
        self.rc: np.ndarray | None = None
        self.index, self.wsid = index, wsid
        self.lp_tried = False
        self._set_candidates(self.cost)
        self.iterations = 0
        self.accepted = 0
        self.vector: np.ndarray | None = None
        # How far past their limits the last sub-models ran (seconds, never below 0):
        # HiGHS does not look at its clock during a round of the root's cutting planes, and
        # on the built-in default scenario's sub-models 0.5 s limits ended 0.12-0.13 s late.
        # The next limit is shortened by the most of the last few, so that the last
        # sub-model ends by the deadline on whatever machine runs it.
        self.late: list[float] = []

    # -- the incumbent ----------------------------------------------------------------
    def loop(self) -> None:
        search = self.search
        v = incumbent_point(search, self.b)
        info = search.info.setdefault("lns", {"iterations": 0, "improvements": 0})
        if v is None:
            info["skipped"] = "the incumbent is not a point of the model"
            return
        cur = float(np.dot(self.cost, v))
        # Counted on from an earlier search of the same solve (the restricted model built
        # again, solvers/restricted.py), so that the plan's record holds them all.
        self.iterations = int(info.get("iterations", 0))
        self.accepted = int(info.get("improvements", 0))
        seconds_before = float(info.get("seconds", 0.0))
        t_start = time.perf_counter()
        self._lp_point()
        stale = 0
        support = search.support
        fill, filled, most = True, set[int](), FILL_MAX_COLUMNS
        while not search.stopped():
            left = self.deadline - time.perf_counter() - max(self.late, default=0.0)
            if left < 0.2:
                break
            if search.arrivals and search.take_arrivals():
                # A relaxation solved beside the search brought plans or triples: a search
                # on a restricted model builds it again with them (solvers/restricted.py).
                search.rebuild = True
                break
            if fill:
                before = cur
                v, cur, freed, solved = self._fill_away(v, cur, left, info, filled, most)
                if not solved:
                    # Nothing in its limit (alt large seed 1: one run in three, the same
                    # 10,000 columns solved in the others): again with half as many, down
                    # to FILL_MIN_COLUMNS.
                    fill = bool(freed) and most >= 2 * FILL_MIN_COLUMNS
                    most //= 2
                    continue
                filled |= freed
                # Again while it pays, on the requests not freed yet: on the alt
                # generator's large seed 1 (2,000 requests, hundreds with units unmet) the
                # first frees only those that fit in FILL_MAX_COLUMNS.
                fill = bool(freed) and before - cur > FILL_AGAIN * abs(before)
                continue
            if support is not None and stale >= SUPPORT_STALE:
                support, stale = None, 0
                info["support"] = f"dropped after {self.iterations} iterations"
            name = self._pick()
            free = self._free(name, v)
            if free is None:
                self._reward(name, 0.0, 0.01)
                continue
            if support is not None:
                # Only what the LP used (and what the incumbent uses) is freed: sub-models
                # a fraction of the size, so several times as many of them; on generated
                # medium seed 2, 0.82% -> 0.23% from the LP bound where freeing every
                # column had reached 0.72%. Once the support stops paying, everything.
                free &= support | (v != 0)
            if int(free.sum()) > LARGE_SUB_MODEL_COLUMNS:
                # HiGHS does not keep to the time limit on such sub-models, presolve or
                # not: on the alt generator's large seed 1, 14 requests with 41,662 free
                # columns took 12.8 s under a 3 s limit, and the solve returned at 66 s
                # of 60. Only as many of the freed requests as fit.
                free = self._fit(free, self.rng.sample(range(len(self.rid)),
                                                       len(self.rid)),
                                 LARGE_SUB_MODEL_COLUMNS)
            t0 = time.perf_counter()
            limit = min(self.it_limit, left)
            ans = self._solve(free, v, limit)
            secs = time.perf_counter() - t0
            self.late = [*self.late[-(LATE_KEPT - 1):], max(0.0, secs - max(0.05, limit))]
            self.iterations += 1
            info["iterations"] = self.iterations
            if ans is not None and ans.error is not None:
                info["engine_errors"] = int(info.get("engine_errors", 0)) + 1
                info["engine_error"] = ans.error
            gain = 0.0
            if ans is not None and ans.x is not None:
                v, new_cur, _found = self._accept(name, free, ans.x, v, cur, info)
                gain, cur = cur - new_cur, new_cur
                if self.whole and bool(free.all()) and (
                        ans.reason is mathopt.TerminationReason.OPTIMAL):
                    # Nothing was fixed: the sub-model is the model, its bound is one.
                    # (Not on a restricted model: its optimum bounds only itself.)
                    search.raise_bound(ans.dual_bound, "lns (whole model)")
            self._reward(name, gain / max(abs(cur), 1.0), secs)
            solved = ans is not None and ans.reason in (mathopt.TerminationReason.OPTIMAL,
                                                        mathopt.TerminationReason.INFEASIBLE)
            # Restricted to the LP's support, a sub-model may leave its requests nowhere to
            # go: solved at once, it says nothing of how many requests the engine can
            # take. Grown on such sub-models, the size reached every request of GAP
            # d801600 (1,600) in 12 iterations of 0.01 s, and once the support was dropped
            # the search spent 21 of its 42 s shrinking back from the whole model.
            if support is None or gain > 0 or not solved:
                if name == "reassign":
                    self._resize_reassign(solved, secs)
                else:
                    self._resize(solved, secs)
            stale = 0 if gain > 0 else stale + 1
            if bool(free.all()) and solved and stale >= len(self.weights):
                # The whole model was solved to optimality: nothing left to find. (Tested
                # on the size alone, a search whose requests were all free but kept to
                # their candidate workshops stopped at 22 s of 60, 1 above the optimum.)
                break
        info["seconds"] = seconds_before + time.perf_counter() - t_start
        info["size"] = self.size

    def _fill_away(self, v: np.ndarray, cur: float, left: float, info: dict,
                   filled: set[int], most: int = FILL_MAX_COLUMNS
                   ) -> tuple[np.ndarray, float, set[int], bool]:
        """One sub-model first that frees every request with units left unmet (only their
        own columns, everything else fixed): what the plan leaves unmade is placed in the
        capacity it leaves free, all at once. On the alt generator's large
        seed 2 the constructive plan left 6,059 units unmet at 1e9 each with capacity
        free for them, and the neighbourhoods, a few such requests at a time, had placed
        few of them by the end of a 60 s limit."""
        b = self.b
        # Units left unmet only: imports are often the cheapest answer, and freeing
        # every imported request made sub-models of most of the plan.
        away = [i for i, rid in enumerate(self.rid) if v[b.u[rid]] > 0.5 and i not in filled]
        if not away or len(away) >= len(self.rid):
            return v, cur, set(), True
        free = self._of_requests(away)
        if int(free.sum()) > LARGE_SUB_MODEL_COLUMNS and self.cand_col is not None:
            # Too large to solve whole in its limit (alt medium seed 1: 33,637 and 53,581
            # free columns, no plan in 2.8 and 3.8 s): only the candidate workshops of
            # each request, as in every other neighbourhood (9,838 columns, 0.87e9 less
            # in 4.9 s, the solve 1.5% from the bound at 60 s where it had been 3.2%).
            free &= self.cand_col | (v > 0.5)
        if int(free.sum()) > most:
            # The requests whose unmet units cost most first.
            u = [b.u[self.rid[i]] for i in away]
            order = [away[k] for k in np.argsort(-self.cost[u] * v[u], kind="stable")]
            free = self._fit(free, order, most)
        freed = {int(i) for i in np.unique(self.owner[free & (self.owner >= 0)])}
        t0 = time.perf_counter()
        # From the incumbent, whatever the columns: without it HiGHS often ended the fill's
        # limit with no plan or one worse than the incumbent (alt large seed 1: no plan in
        # 7.9 s in two runs of three; alt medium seed 1: 3.5e9 worse in 11.5 s, the solve
        # 2.85% from the bound at 60 s), where from it the same fill took 4.5e12 and 0.87e9
        # off the plan (5.26e12 and 1.02% at 60 s).
        ans = self._solve(free, v, min(FILL_SHARE * left, FILL_ITERATIONS * self.it_limit),
                          start=True)
        self.iterations += 1
        fill = {"requests": len(away), "seconds": round(time.perf_counter() - t0, 3)}
        # The first fill's figures, and how many followed.
        if "fill" in info:
            info["fills"] = info.get("fills", 1) + 1
        else:
            info["fill"] = fill
        if ans is not None and ans.x is not None:
            new, new_cur, found = self._accept("fill", free, ans.x, v, cur, info)
            fill["gain"] = cur - found
            # From the incumbent it always has a plan: one no better, its limit reached,
            # counts as none, so that half the columns are tried (alt large seed 1: the
            # start back after 8.1 s, the solve at 9.35e12 where the halves reach 5e12).
            if new_cur < cur or ans.reason in (mathopt.TerminationReason.OPTIMAL,
                                               mathopt.TerminationReason.INFEASIBLE):
                return new, new_cur, freed, True
        return v, cur, freed, False

    def _fit(self, free: np.ndarray, order: Sequence[int], most: int) -> np.ndarray:
        """`free` kept to the requests it frees, taken in `order`, as many as fit in
        `most` free columns with the shared ones (at least one request)."""
        per = np.bincount(self.owner[free & ~self.shared], minlength=len(self.rid))
        total = int((free & self.shared).sum())
        kept: list[int] = []
        for i in order:
            if per[i] == 0 or (kept and total + per[i] > most):
                continue
            kept.append(i)
            total += int(per[i])
        return free & self._of_requests(kept)

    def _accept(self, name: str, free: np.ndarray, x: np.ndarray, v: np.ndarray,
                cur: float, info: dict) -> tuple[np.ndarray, float, float]:
        """The point with the sub-model's answer `x` in its free columns, cleaned, and its
        cost if it is cheaper than `cur` and the search takes it, else `v` and `cur` as
        they were; and the cleaned point's cost either way."""
        new, new_cost = clean_point(self.b, np.where(free, x, v))
        if new_cost < cur - 1e-9 * max(1.0, abs(cur)) and offer_point(
                self.search, f"lns/{name}", self.b, new, new_cost):
            self.accepted += 1
            info["improvements"] = self.accepted
            return new, new_cost, new_cost
        return v, cur, new_cost

    def _of_requests(self, chosen: Sequence[int] | set[int]) -> np.ndarray:
        """The columns owned by the requests `chosen` (indices), and every shared column
        (engagement and tooling binaries, material deliveries), as a boolean mask."""
        free_req = np.zeros(len(self.rid) + 1, dtype=bool)
        free_req[list(chosen)] = True
        # owner -1 indexes the extra last entry: shared columns are always free.
        free_req[-1] = True
        return free_req[self.owner]

    def _solve(self, free: np.ndarray, v: np.ndarray, limit: float, start: bool = False
               ) -> Answer | None:
        am = self.b.model
        proto, _fixed_cost = am.sub_proto(free, v)
        params = mathopt.SolveParameters(
            random_seed=self.search.options.seed + self.iterations,
            relative_gap_tolerance=1e-6, absolute_gap_tolerance=1e-6,
            time_limit=timedelta(seconds=max(0.05, limit)))
        ids = np.flatnonzero(free)
        integer = self.integer[ids]
        binary = not bool((self.ub[ids][integer] > 1.0).any())
        engine = BINARY_ENGINE if binary else GENERAL_ENGINE
        # The incumbent is a solution of every sub-model: the engine starts from it, so
        # a sub-model stopped at its limit returns no worse a point than it was given.
        # SCIP always: it completes the start at once (generated medium sourcing seed 1
        # at 60 s: 0.47% from the bound with it, 0.68% without). HiGHS only where every
        # free integer column is binary (assignments, GAP), or `start` (the first
        # sub-model, `_fill_away`): with general integer units (generated medium) HiGHS
        # given the start spent 30 s at the root of a sub-model with a 3 s limit, which
        # it solved to optimality in 2 s without.
        started = binary or start or engine is not mathopt.SolverType.HIGHS
        hint = (ids, v[ids]) if started else None
        if len(ids) > LARGE_SUB_MODEL_COLUMNS:
            # HiGHS's presolve does not look at the clock: the first sub-model of the alt
            # generator's medium seed 1 (60,101 free columns, 46 requests with units left
            # unmet) spent 36 s in it under a 6 s limit, and the solve returned at 71 s of
            # a 60 s limit. Without it the engine stopped at 6.3 s.
            params.presolve = mathopt.Emphasis.OFF
        return solve_proto(am, proto, engine, params, hint=hint)

    # -- adaptive choice --------------------------------------------------------------
    def _same_as_requests(self, name: str) -> bool:
        """Whether a neighbourhood would only draw requests at random on this scenario
        (one period, one request per component, one location): on GAP such copies of
        `requests` took half the draws of a minute, and the luck of their first gains
        decided the roulette."""
        sc = self.sc
        if name == "periods":
            return sc.horizon.periods == 1
        if name == "component":
            return len({r.component for r in sc.requests}) == len(sc.requests)
        if name == "cluster":
            places = {r.destination for r in sc.requests if r.destination is not None}
            places |= set(self.search.d.location_of.values())
            return len(places) <= 1
        return False

    def _pick(self) -> str:
        """Each neighbourhood once, then by roulette on the scores, every one at least
        FLOOR of the best score (the floor is relative: with weights starting equal and
        an absolute floor, the nine neighbourhoods had about one iteration in nine each
        for most of a minute, whatever they paid)."""
        untried = [n for n, w in self.weights.items() if w is None]
        if untried:
            return untried[0]
        if self.rc is not None and "excess" in self.weights and (
                self.rng.random() < EXCESS_SHARE):
            return "excess"
        scores = {n: w for n, w in self.weights.items() if w is not None}
        top = max(scores.values())
        if top <= 0:
            return self.rng.choice(sorted(scores))
        weights = {n: max(w, FLOOR * top) for n, w in scores.items()}
        x = self.rng.random() * sum(weights.values())
        for name, w in weights.items():
            x -= w
            if x <= 0:
                return name
        return name

    def _reward(self, name: str, rel_gain: float, secs: float) -> None:
        # Improvement per second, in parts per thousand of the cost: one order of
        # magnitude for a good neighbourhood.
        score = min(SCORE_MAX, 1000.0 * rel_gain / max(secs, 0.05))
        old = self.weights[name]
        self.weights[name] = score if old is None else (1 - REACTION) * old + REACTION * score

    def _resize(self, solved: bool, secs: float) -> None:
        n = len(self.rid)
        if solved and secs < 0.4 * self.it_limit:
            self.size = min(n, max(self.size + 1, int(self.size * 1.3)))
        elif not solved:
            self.size = max(2, int(self.size * 0.7))

    def _resize_reassign(self, solved: bool, secs: float) -> None:
        if solved and secs < 0.2 * self.it_limit:
            self.n_ws = min(len(self.workshops), self.n_ws + 1)
        elif not solved:
            self.n_ws = max(2, self.n_ws - 1)

    # -- neighbourhoods ---------------------------------------------------------------
    def _free(self, name: str, v: np.ndarray) -> np.ndarray | None:
        """The columns the sub-model may change (a boolean mask), or None when the
        neighbourhood has nothing to free."""
        if name == "reassign":
            return self._reassign(v)
        if name == "lp":
            chosen = self._lp_disagree(v)
        elif name == "fees":
            chosen = self._fees(v)
        elif name == "excess":
            chosen = self._excess(v)
        else:
            chosen = self._neighbourhood(name, v)
        if not chosen:
            return None
        free = self._of_requests(chosen)
        if self.cand_col is not None and len(chosen) < len(self.rid):
            free &= self.cand_col | (v > 0.5)
        return free

    def _lp_point(self) -> np.ndarray | None:
        """The LP relaxation's solution of the whole model: the LP-guided method's, else
        solved once (None when it was not solved in a tenth of the time left)."""
        if self.lp_x is not None or self.lp_tried:
            return self.lp_x
        self.lp_tried = True
        am = self.b.model
        known = self.search.lp_solution
        duals: np.ndarray | None
        if known is not None and known[0] is self.b:
            x, duals = known[1], known[2]
        else:
            left = self.deadline - time.perf_counter()
            if not self.own_lp:
                self.search.info["lns"]["lp_skipped"] = "not solved on this model"
                return None
            if LP_SECONDS_PER_COLUMN * am.num_vars > LP_SHARE * left:
                # It would not be solved in its share: generated large fixed-cost seed 1
                # (856,594 columns restricted) spent 5.9 s of 60 on it for nothing, and
                # neither barrier nor dual simplex solved it in 120 s.
                self.search.info["lns"]["lp_skipped"] = (
                    f"{am.num_vars:,} columns: not solved in {LP_SHARE * left:.1f} s")
                return None
            params = mathopt.SolveParameters(
                time_limit=timedelta(seconds=max(0.05, LP_SHARE * left)))
            ans = solve_proto(am, am.to_proto(relax=True), mathopt.SolverType.HIGHS, params)
            if ans.reason is not mathopt.TerminationReason.OPTIMAL or ans.x is None:
                self.search.info["lns"]["lp_skipped"] = (
                    f"{am.num_vars:,} columns: no solution in {LP_SHARE * left:.1f} s")
                return None
            x, duals = ans.x, ans.duals
        self.lp_x = x
        self.search.info["lns"]["lp"] = float(np.dot(self.cost, x))
        if duals is not None:
            self.rc = self.cost - am.matrix().t_times(duals, am.num_vars)
            self._set_candidates(self.rc)
        return self.lp_x

    def _set_candidates(self, score: np.ndarray) -> None:
        """Each request's candidate workshops: the K whose unit columns score lowest
        (reduced cost after the LP, else cost). A freed request's unit columns elsewhere
        stay fixed (at 0 unless the incumbent uses them), which keeps sub-models small
        where there are many workshops."""
        m = len(self.workshops)
        k = int(math.ceil(math.sqrt(m))) + CANDIDATES_EXTRA
        best: dict[int, dict[int, float]] = defaultdict(dict)
        index = self.index
        for (r, _s, w, _t), c in self.b.x.items():
            i, kw = index[r], self.wsid[w]
            bw = best[i]
            sc = float(score[c])
            if kw not in bw or sc < bw[kw]:
                bw[kw] = sc
        cand = np.zeros((len(self.rid), m + 1), dtype=bool)
        for i, bw in best.items():
            for kw in sorted(bw, key=bw.__getitem__)[:k]:
                cand[i, kw] = True
        cand[:, -1] = True  # not a unit column
        xs = self.col_ws >= 0
        ok = np.ones(len(self.cost), dtype=bool)
        ok[xs] = cand[self.owner[xs], self.col_ws[xs]]
        self.cand_col = ok

    def _lp_disagree(self, v: np.ndarray) -> set[int]:
        """Requests whose columns in the incumbent differ from the LP relaxation's
        solution (the rest agree: relaxation-induced neighbourhood), topped up at random
        to the size."""
        x = self._lp_point()
        if x is None:
            return set()
        differ = np.abs(x - v) > 1e-3
        reqs = np.unique(self.owner[differ & (self.owner >= 0)])
        return self._fill(reqs.tolist(), self.size, top_up=True)

    def _excess(self, v: np.ndarray) -> set[int]:
        """Requests drawn by what their columns in the incumbent cost above the LP (their
        reduced costs at the incumbent's values): where the plan pays most beyond the
        relaxation's prices."""
        self._lp_point()
        if self.rc is None:
            return set()
        xs = self.owner >= 0
        per = np.bincount(self.owner[xs], weights=np.maximum(self.rc[xs], 0.0) * v[xs],
                          minlength=len(self.rid))
        # A little weight on every request, so that the draw is never empty.
        w = per + 1e-3 * max(1.0, float(per.max(initial=0.0)))
        k = min(self.size, len(self.rid))
        nprng = np.random.default_rng(self.rng.randrange(2**32))
        return set(nprng.choice(len(self.rid), size=k, replace=False,
                                p=w / w.sum()).tolist())

    def _reassign(self, v: np.ndarray) -> np.ndarray | None:
        """The load of a few workshops, re-assigned among those workshops alone: the
        requests they serve (and some imported or unmet ones) are freed, but only their
        unit columns at these workshops, so the sub-model stays small however many
        workshops the model has. The workshops are a random one and those its requests
        rank next best, drawn at random by that affinity."""
        _req_ws, ws_req = self._uses(v)
        wsid = {w: k for k, w in enumerate(self.workshops)}
        used = sorted(wsid[w] for w in ws_req)
        if not used:
            return None
        rng = self.rng
        chosen = [rng.choice(used)]
        members: set[int] = set(ws_req.get(self.workshops[chosen[0]], ()))
        while len(chosen) < self.n_ws:
            aff = np.zeros(len(self.workshops))
            for i in members:
                for k, rk in self.rank.get(i, {}).items():
                    aff[k] += 1.0 / (1.0 + rk)
            aff[chosen] = 0.0
            if aff.sum() <= 0:
                break
            p = aff * aff
            x = rng.random() * float(p.sum())
            k = int(np.searchsorted(np.cumsum(p), x, side="right"))
            k = min(k, len(self.workshops) - 1)
            if aff[k] <= 0:
                break
            chosen.append(k)
            members.update(ws_req.get(self.workshops[k], ()))
        b = self.b
        away = [i for i, rid in enumerate(self.rid)
                if v[b.u[rid]] > 0.5 or (rid in b.z and v[b.z[rid]] > 0.5)]
        if away:
            members.update(rng.sample(away, min(len(away), max(1, len(members) // 4))))
        free = self._of_requests(members)
        at_chosen = np.zeros(len(self.workshops) + 1, dtype=bool)
        at_chosen[chosen] = True
        at_chosen[-1] = True  # col_ws -1: not a unit column, kept as its request's
        return free & at_chosen[self.col_ws]

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

    def _has_fees(self) -> bool:
        """Whether any engagement or tooling column carries a fee."""
        b = self.b
        return any(self.cost[c] > 0 for c in (*b.eng.values(), *b.tool.values()))

    def _fee_columns(self) -> list[tuple[int, np.ndarray]]:
        """Every engagement and tooling column with a fee, with the unit columns that
        need it paid (made once, on first use; tooling needs a pass over every unit
        column, a workshop's columns come from `col_ws`)."""
        if self.fee_items is not None:
            return self.fee_items
        b = self.b
        xs = np.flatnonzero(self.col_ws >= 0)
        by_ws = xs[np.argsort(self.col_ws[xs], kind="stable")]
        edges = np.searchsorted(self.col_ws[by_ws], np.arange(len(self.workshops) + 1))
        items: list[tuple[int, np.ndarray]] = []
        for w, c in b.eng.items():
            if self.cost[c] > 0:
                k = self.wsid[w]
                items.append((c, by_ws[edges[k]:edges[k + 1]]))
        tooled = {key for key, c in b.tool.items() if self.cost[c] > 0}
        if tooled:
            at_tool: dict[tuple[str, str, int], list[int]] = defaultdict(list)
            comp = b.component_of
            for (r, s, w, _t), c in b.x.items():
                if (w, comp[r], s) in tooled:
                    at_tool[(w, comp[r], s)].append(c)
            items += [(b.tool[key], np.array(at_tool[key], dtype=np.int64))
                      for key in tooled]
        self.fee_items = items
        return items

    def _fees(self, v: np.ndarray) -> set[int]:
        """Every request that needs one fee paid (an engagement or a tooling the
        incumbent pays), so that the sub-model may stop paying it, and requests served
        by their next best workshops, up to the size. The fee is drawn by what it costs
        per unit it serves: on generated medium fixed-cost seed 1 the plan paid 225e6 to
        engage a workshop for 972 units. Other neighbourhoods close a workshop only when
        they happen to free every request it serves at once."""
        paid = [(c, cols) for c, cols in self._fee_columns() if v[c] > 0.5]
        if not paid:
            return set()
        units = np.array([float(v[cols].sum()) for _c, cols in paid])
        fee = np.array([self.cost[c] for c, _cols in paid])
        weight = fee / (1.0 + units)
        nprng = np.random.default_rng(self.rng.randrange(2**32))
        _c, cols = paid[int(nprng.choice(len(paid), p=weight / weight.sum()))]
        chosen = set(np.unique(self.owner[cols[v[cols] > 0.5]]).tolist())
        if len(chosen) >= self.size:
            return chosen
        _req_ws, ws_req = self._uses(v)
        near = [j for i in chosen for w in self.cheapest.get(i, ())
                for j in ws_req.get(w, ()) if j not in chosen]
        return chosen | self._fill(near, self.size - len(chosen), top_up=True)

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
