"""Engagement moves: a local search over which workshops with an engagement fee are used.

Where engagement fees are a large part of the cost (facility location, the `fixed-cost`
generator profile), the hard decision is the set of workshops to engage; given that set,
what is left is an allocation the LP solves well. The restricted MIP of the LP-guided
method cannot make that decision: the LP relaxation pays a fee only in proportion to the
hours used, so it spreads over almost every workshop, and the plan it guides engages them
all (cflp-large capa: 76 of 100 sites open, 3.5 times the optimum). The neighbourhood
search frees requests, not workshops, and closes a workshop only when every request it
serves happens to be freed at once.

This method works on the set of engaged workshops itself (`opened`), on the SPEC model:

- a set is valued by the LP of the whole model with the workshops outside it left out
  (their unit, tooling and sourcing columns fixed at 0) and every engagement in it fixed
  at 1: the cost of the cheapest allocation to the set, fees included (exact for facility
  location, whose allocation LP has integral optima; a close estimate elsewhere);
- moves are *drop* (the workshops that carry least per unit of fee first, several at a
  time while that pays), *add* (ranked by the LP's duals: what the workshop's columns
  would save at their reduced costs, filling its capacity rows, less its fee) and *swap*;
  when no move improves, a random kick from the best set (iterated local search);
- a set that improves on the best becomes a plan through the MIP engine on the model
  restricted to its workshops (every constraint of SPEC sections 5 and 8 holds: it is a
  plan of the model), offered to the search;
- before the descent and at each local optimum, a kernel sub-model: the MIP engine on
  the workshops engaged and the next few the LP relaxation engages most, engagements
  free (`_Moves._kernel`); it chooses among a few dozen workshops at once.

It stops at its deadline, and does nothing where fees are under FEE_SHARE of the
incumbent's cost or where one valuation would take more than EVAL_SHARE of its time.

Before the moves, where every request is one step in one period and the only costs are
units, fees and units away (facility location, assignment), `knapsack_lagrangian` gives a
Lagrangian bound with the strong facility-location links.
"""

from __future__ import annotations

import math
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from ortools.math_opt.python import mathopt

from solvers.lns import clean_point, column_owner, incumbent_point, offer_point
from solvers.lpmodel import Answer, solve_proto
from solvers.model import Built
from solvers.search import Search

# Fees below this share of the incumbent's cost: nothing to gain from moving them.
FEE_SHARE = 0.01
# A valuation slower than this share of the method's time: the method stands aside. A
# descent needs dozens of them: on generated medium `fixed-cost` seed 1 under a 900 s limit
# the first took 25 s (a tenth of the time would have allowed 65 s), and no set it valued
# became a better plan.
EVAL_SHARE = 0.03
# Add candidates valued per round, swap pairs tried per round.
ADD_TRIES = 8
SWAP_DROPS, SWAP_ADDS = 8, 6
# The Lagrangian bound of `knapsack_lagrangian` gets this many seconds, or this many per
# column of the model where that is more, at most this share of the time: in 3 s its
# ascent reached 133,897 on a generated facility location of 200 sites x 2,000 customers
# (404,200 columns), 138,551 in 10 s (the LP's bound: 131,719).
BOUND_SECONDS, BOUND_SECONDS_PER_COLUMN, BOUND_SHARE = 3.0, 2.5e-5, 0.1
# Seconds between plans made from improving sets (the last set always gets one).
OFFER_EVERY = 2.0
# Kernel sub-models (`_Moves._kernel`): the workshops engaged, and this share of their
# number more (at least KERNEL_BUCKET_MIN), taken in turn from those the LP relaxation
# engages most; each request keeps its KERNEL_NEAR cheapest unit columns there. Each gets
# KERNEL_SHARE of the method's time, at least KERNEL_MIN seconds.
KERNEL_BUCKET_SHARE, KERNEL_BUCKET_MIN = 0.5, 5
KERNEL_NEAR = 10
KERNEL_SHARE, KERNEL_MIN = 0.15, 3.0
# ... the first, before the descent, half of that: with 15% (11 s) it found nothing on
# cflp-large capb and the kicks had less time (+0.81% at 120 s, +0.44% with 7%); on a
# 700 x 700 facility location, 89,605 with 15%, 89,730 with 7%.
KERNEL_FIRST_SHARE = 0.07
# A kernel sub-model pays where the incumbent comes out this share cheaper.
KERNEL_PAYS = 1e-3
# The method hands the rest of its time to the next phase where it is too slow to search:
# the incumbent has not improved for this share of its time (at least STALL_MIN seconds)
# and fewer than STALL_EVALS sets were valued meanwhile. On generated medium `fixed-cost`
# seed 1 under a 900 s limit, where an allocation is no longer a transport problem
# (tooling, periods), a set's valuation took 25-88 s and its plan a MIP that ran its 75 s
# limit, and the method held 650 s without a better plan, while the neighbourhood search
# after it improves the plan every few seconds. Where valuations are fast, kicks find
# better sets after long stalls (cflp-large capb: 535 valuations in 33 s, and stopped
# after 19 s without a gain, 0.81% from the optimum at 120 s where it reaches 0.2-0.4%).
STALL_SHARE, STALL_MIN, STALL_EVALS = 0.25, 10.0, 50


class FacilityMoves:
    """The `improve` method of the search loop (solvers/search.py)."""

    name = "facility"

    def construct(self, search: Search) -> None:
        return None

    def bound(self, search: Search, deadline: float | None) -> None:
        return None

    def improve(self, search: Search, deadline: float | None) -> None:
        b = search.full
        if b is None or search.best is None or deadline is None:
            return
        # First the bound (facility location and assignment models only): it tells the
        # user how good the plans that follow are (capa: 17.43e6 in 3 s, where the LP's
        # was 10.35e6 against an optimum of 17.77e6).
        now = time.perf_counter()
        budget = min(max(BOUND_SECONDS, BOUND_SECONDS_PER_COLUMN * b.model.num_vars),
                     BOUND_SHARE * max(0.0, deadline - now))
        lag = knapsack_lagrangian(b, now + budget, search.upper)
        if lag is not None:
            search.raise_bound(lag.bound, "knapsack lagrangian")
            search.info["knapsack_bound_seconds"] = time.perf_counter() - now
        if b.eng and not search.stopped():
            _Moves(search, b, deadline, None if lag is None else lag.opened).run()


class _Moves:
    def __init__(self, search: Search, b: Built, deadline: float,
                 start: frozenset[str] | None = None) -> None:
        self.search, self.b, self.deadline = search, b, deadline
        # Another set to begin from where it is valued below the incumbent's (the
        # workshops the Lagrangian relaxation engages at its best multipliers).
        self.start = start
        self.t_start = time.perf_counter()
        self.evals = 0
        # The incumbent's cost last seen, when it last improved, and the stall limit
        # (`left`), set in `run` from the method's time.
        self._seen: float | None = search.upper
        self._gained = self.t_start
        self._stall = math.inf
        self._evals_gained = 0
        am = b.model
        self.am = am
        self.lb, self.ub, self.cost, _integer = am.arrays()
        cols: dict[str, list[int]] = defaultdict(list)
        xcols: dict[str, list[int]] = defaultdict(list)
        for (_r, _s, w, _t), c in b.x.items():
            cols[w].append(c)
            xcols[w].append(c)
        for (w, _comp, _s), c in b.tool.items():
            cols[w].append(c)
        for (_r, _s, w), c in b.src.items():
            cols[w].append(c)
        self.W = sorted(b.eng)
        self.cols = {w: np.array(sorted(cols[w]), dtype=np.int64) for w in self.W}
        self.xcols = {w: np.array(sorted(xcols[w]), dtype=np.int64) for w in self.W}
        self.fee = {w: float(self.cost[b.eng[w]]) for w in self.W}
        base = np.ones(am.num_vars, dtype=bool)
        for w in self.W:
            base[self.cols[w]] = False
            base[b.eng[w]] = False
        self.base = base
        self.mat = am.matrix()
        self._cap_entries()
        self.rng = random.Random(search.options.seed)
        self.cache: dict[frozenset[str], float] = {}
        self.last_offer = -math.inf
        self.offered: frozenset[str] | None = None
        self.span = 0.0
        self._best_duals: np.ndarray | None = None
        self.info: dict[str, object] = {}
        self._kicked: tuple[frozenset[str], float, np.ndarray, np.ndarray | None] = (
            frozenset(), math.inf, np.zeros(0), None)
        # Kernel sub-models: the ranking of the workshops, where the next bucket of it
        # starts, and each unit column's request (made on first use).
        self._rank: list[str] | None = None
        self._next = 0
        self._owner: np.ndarray | None = None
        self.kernels = {"sub_models": 0, "better": 0}

    def _cap_entries(self) -> None:
        """For each workshop with a fee, the (column, hours, row) entries of its capacity
        rows and each row's hours, so an add move can be valued by filling them."""
        b, mat = self.b, self.mat
        row_of: dict[int, str] = {}
        for (w, _p, _t), r in b.cap_rows.items():
            if w in b.eng:
                row_of[r] = w
        self.cap_rows: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.cap_cols: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        if not row_of:
            return
        rows = np.fromiter(row_of, dtype=np.int64)
        mask = np.isin(mat.rows, rows)
        rr, cc, vv = mat.rows[mask], mat.cols[mask], mat.vals[mask]
        eng_col = {b.eng[w]: w for w in b.eng}
        ru = np.asarray(self.am.row_ub)
        per_w: dict[str, list[int]] = defaultdict(list)
        for i in range(len(rr)):
            w = row_of[int(rr[i])]
            if int(cc[i]) == b.eng[w]:
                # hours <= cap * e: the row's hours are minus e's coefficient.
                self.cap_rows[w].append((int(rr[i]), -float(vv[i]) + float(ru[rr[i]])))
            elif int(cc[i]) not in eng_col:
                per_w[w].append(i)
        for w, idx in per_w.items():
            ii = np.array(idx, dtype=np.int64)
            self.cap_cols[w] = (cc[ii], vv[ii], rr[ii])
        for (w, _p, _t), r in b.cap_rows.items():
            if w in b.eng and not any(r == row for row, _h in self.cap_rows[w]):
                self.cap_rows[w].append((r, float(ru[r])))

    # -- valuing a set ------------------------------------------------------------------
    def left(self) -> float:
        """Seconds left before the deadline, or before the stall limit (STALL_SHARE)
        counted from the incumbent's last improvement while few sets were valued since."""
        now = time.perf_counter()
        up = self.search.upper
        if up is not None and (self._seen is None or up < self._seen):
            self._seen, self._gained, self._evals_gained = up, now, self.evals
        if self.evals - self._evals_gained >= STALL_EVALS:
            return self.deadline - now
        return min(self.deadline, self._gained + self._stall) - now

    def value(self, opened: frozenset[str], most: float | None = None
              ) -> tuple[float, Answer | None]:
        """The LP value of engaging exactly opened (module docstring); inf if none is found."""
        if opened in self.cache:
            return self.cache[opened], None
        keep = self.base.copy()
        lb = self.lb.copy()
        for w in opened:
            keep[self.cols[w]] = True
            keep[self.b.eng[w]] = True
            lb[self.b.eng[w]] = 1.0
        limit = self.left() if most is None else min(self.left(), most)
        if limit <= 0.05:
            return math.inf, None
        params = mathopt.SolveParameters(lp_algorithm=mathopt.LPAlgorithm.DUAL_SIMPLEX,
                                         time_limit=timedelta(seconds=limit))
        ans = solve_proto(self.am, self.am.to_proto(np.flatnonzero(keep), lb=lb, relax=True),
                          mathopt.SolverType.HIGHS, params)
        self.evals += 1
        val = (ans.primal_bound if ans.reason is mathopt.TerminationReason.OPTIMAL
               and ans.x is not None else math.inf)
        self.cache[opened] = val
        return val, ans

    def loads(self, x: np.ndarray, opened: frozenset[str]) -> dict[str, float]:
        """Units each workshop of opened makes in the LP solution x."""
        return {w: float(x[self.xcols[w]].sum()) for w in opened}

    def drop_order(self, x: np.ndarray, opened: frozenset[str]) -> list[str]:
        """Workshops of opened, those making fewest units per unit of fee first."""
        load = self.loads(x, opened)
        return sorted(opened, key=lambda w: (load[w] / max(self.fee[w], 1e-9), w))

    def add_order(self, duals: np.ndarray | None, opened: frozenset[str]) -> list[str]:
        """Workshops outside opened, the most promising first: the fee less what their unit
        columns would save at the LP's reduced costs, filling their capacity rows with
        the columns that save most per hour."""
        closed = [w for w in self.W if w not in opened]
        if duals is None or not closed:
            self.rng.shuffle(closed)
            return closed
        rc = self.cost - self.mat.t_times(duals, self.am.num_vars)
        gain: dict[str, float] = {}
        for w in closed:
            g = self.fee[w]
            entries = self.cap_cols.get(w)
            if entries is not None and len(entries[0]):
                cc, hours, rows = entries
                r = rc[cc]
                good = r < 0
                cc, hours, rows, r = cc[good], hours[good], rows[good], r[good]
                room = {row: h for row, h in self.cap_rows[w]}
                order = np.argsort(r / np.maximum(hours, 1e-9))
                used: dict[int, float] = defaultdict(float)
                for i in order:
                    row = int(rows[i])
                    free_h = room.get(row, math.inf) - used[row]
                    if free_h <= 1e-9:
                        continue
                    units = min(float(self.ub[cc[i]]), free_h / max(float(hours[i]), 1e-9))
                    used[row] += units * float(hours[i])
                    g += units * float(r[i])
            else:
                xc = self.xcols[w]
                r = rc[xc]
                g += float((np.minimum(r, 0.0) * np.minimum(self.ub[xc], 1e9)).sum())
            gain[w] = g
        return sorted(closed, key=lambda w: (gain[w], w))

    # -- plans --------------------------------------------------------------------------
    def offer(self, opened: frozenset[str], force: bool = False) -> None:
        """The plan of set opened: the MIP engine on the model restricted to its workshops."""
        now = time.perf_counter()
        if self.offered == opened or (not force and now - self.last_offer < OFFER_EVERY):
            return
        limit = self.left()
        if limit <= 0.1:
            return
        keep = self.base.copy()
        lb = self.lb.copy()
        for w in opened:
            keep[self.cols[w]] = True
            keep[self.b.eng[w]] = True
            # Engaged: what is left is the allocation, which the engine solves at its
            # root where the set is free to shrink it would face the whole location
            # problem again (46 sites of capa: no plan in 14 s). Fees of workshops left
            # idle are dropped below.
            lb[self.b.eng[w]] = 1.0
        params = mathopt.SolveParameters(
            random_seed=self.search.options.seed, relative_gap_tolerance=1e-6,
            absolute_gap_tolerance=1e-6,
            time_limit=timedelta(seconds=max(0.05, min(limit, 0.25 * self.span))))
        ans = solve_proto(self.am, self.am.to_proto(np.flatnonzero(keep), lb=lb),
                          mathopt.SolverType.HIGHS, params)
        self.last_offer, self.offered = time.perf_counter(), opened
        if ans.x is None:
            return
        # The restricted model's optimality proves nothing about the whole model.
        v, cost = clean_point(self.b, ans.x)
        if offer_point(self.search, "facility", self.b, v, cost):
            self.info["plans"] = int(self.info.get("plans", 0)) + 1  # type: ignore[call-overload]

    # -- the search ---------------------------------------------------------------------
    def run(self) -> None:
        search, b = self.search, self.b
        self.span = max(0.0, self.left())
        self._stall = max(STALL_MIN, STALL_SHARE * self.span)
        self.info = search.info.setdefault("facility", {})
        v = incumbent_point(search, b)
        if v is None:
            self.info["skipped"] = "the incumbent is not a point of the model"
            return
        opened = frozenset(w for w in self.W if v[b.eng[w]] > 0.5)
        fees = sum(self.fee[w] for w in opened)
        up = search.upper or 0.0
        if fees < FEE_SHARE * max(abs(up), 1.0):
            self.info["skipped"] = "engagement fees are a small share of the cost"
            return
        t0 = time.perf_counter()
        # The first valuation may take EVAL_SHARE of the time, not all of it: where one
        # takes longer the method stands aside with the rest of its time unspent.
        cur, ans = self.value(opened, most=EVAL_SHARE * self.span)
        if ans is None or ans.x is None or not math.isfinite(cur):
            self.info["skipped"] = "the incumbent's workshops have no LP value in time"
            return
        if time.perf_counter() - t0 > EVAL_SHARE * self.span:
            self.info["skipped"] = "one valuation takes too long for the time left"
            return
        x, duals = ans.x, ans.duals
        if self.start and self.start != opened:
            # The Lagrangian's set, on a generated facility location of 200 x 2,000:
            # the incumbent engaged 76 sites (218,900 as valued), and the descent, a
            # valuation of 0.8-1.2 s each, had taken it to 70 (204,555) by the end of a
            # 120 s limit.
            val, got = self.value(self.start, most=EVAL_SHARE * self.span)
            # None where no value came in its time (the plan's solver record is JSON).
            self.info["lagrangian_set"] = {"engaged": len(self.start),
                                           "lp_value": val if math.isfinite(val) else None}
            if got is not None and got.x is not None and val < cur:
                opened, cur, x, duals = self.start, val, got.x, got.duals
                self.offer(opened, force=True)
        self._best_duals = duals
        # A kernel sub-model first: on a 700 x 700 facility location (capacity ten times
        # the demand) the descent from the Lagrangian's 49 sites, at 0.2 s a valuation,
        # was still dropping sites at the end of its 60 s (93,970 at 120 s), where the
        # first kernel sub-model took the plan from 116,302 to 89,990 in 8.7 s (89,219).
        before = search.upper
        kern = self._kernel(opened, KERNEL_FIRST_SHARE)
        # The next kernel sub-model comes once this many kicks are made, and after one
        # that does not pay the wait doubles. Where the first does not pay, none is tried
        # again (cflp-large capb: 8 sites open of 100, sub-models of 13 sites x 1,000
        # customers found nothing in 11 s each and took the kicks' time: +0.81% at 120 s
        # where the moves alone had reached +0.21-0.44%).
        kernel_after, kernel_wait = (0.0 if self._paid(before) else math.inf), 0
        if kern is not None and kern[1] < cur:
            opened, cur, x, duals = kern
        best_set, best_val, self._best_duals = opened, cur, duals
        kicks = 0
        while not search.stopped() and self.left() > 0.2:
            moved = self._descend(opened, cur, x, duals)
            if moved is None:
                # A local optimum: make its plan, then a kernel sub-model with the next
                # workshops of the ranking, else a kick from the best set.
                if best_val <= cur + 1e-9 * abs(cur):
                    self.offer(opened, force=True)
                kern = None
                if kicks >= kernel_after:
                    before = search.upper
                    kern = self._kernel(best_set)
                    kernel_wait = 0 if self._paid(before) else max(1, 2 * kernel_wait)
                    kernel_after = kicks + kernel_wait
                if kern is not None:
                    opened, cur, x, duals = kern
                    if cur < best_val - 1e-9 * max(1.0, abs(best_val)):
                        best_set, best_val, self._best_duals = opened, cur, duals
                    continue
                if not self._kick(best_set):
                    break
                kicks += 1
                opened, cur, x, duals = self._kicked
                continue
            opened, cur, x, duals = moved
            if cur < best_val - 1e-9 * max(1.0, abs(best_val)):
                best_set, best_val, self._best_duals = opened, cur, duals
                self.offer(opened)
        if best_set != self.offered and self.left() > 0.1:
            self.offer(best_set, force=True)
        if self.deadline - time.perf_counter() > 0.2 and self.left() <= 0.2:
            self.info["stalled"] = round(self._stall, 2)
        self.info.update(evaluations=self.evals, kicks=kicks, kernel=self.kernels,
                         engaged=len(best_set),
                         lp_value=best_val, seconds=time.perf_counter() - self.t_start)

    def _accept(self, opened: frozenset[str], cur: float
                ) -> tuple[frozenset[str], float, np.ndarray, np.ndarray | None] | None:
        val, ans = self.value(opened)
        if ans is not None and ans.x is not None and val < cur - 1e-9 * max(1.0, abs(cur)):
            return opened, val, ans.x, ans.duals
        return None

    def _descend(self, opened: frozenset[str], cur: float, x: np.ndarray,
                 duals: np.ndarray | None
                 ) -> tuple[frozenset[str], float, np.ndarray, np.ndarray | None] | None:
        """One improving move from opened (drop, add, then swap), or None at a local optimum."""
        drops = self.drop_order(x, opened)
        # Half of the set, the least loaded, at once, then a quarter, ... then one at a
        # time: from the LP-guided plan's 76 sites of 100 (capa) a handful of valuations
        # reach the dozen that matter, where one at a time took 70.
        k = max(1, len(drops) // 2)
        while k > 1:
            got = self._accept(opened - frozenset(drops[:k]), cur)
            if got is not None:
                return got
            k //= 2
        for w in drops:
            if self.left() <= 0.2 or self.search.stopped():
                return None
            got = self._accept(opened - {w}, cur)
            if got is not None:
                return got
        adds = self.add_order(duals, opened)
        for w in adds[:ADD_TRIES]:
            if self.left() <= 0.2 or self.search.stopped():
                return None
            got = self._accept(opened | {w}, cur)
            if got is not None:
                return got
        for w in drops[:SWAP_DROPS]:
            for w2 in adds[:SWAP_ADDS]:
                if self.left() <= 0.2 or self.search.stopped():
                    return None
                got = self._accept((opened - {w}) | {w2}, cur)
                if got is not None:
                    return got
        return None

    def _ranking(self) -> list[str]:
        """Workshops with a fee, those the LP relaxation of the whole model engages most
        first (else by `add_order` at the best set's duals)."""
        if self._rank is None:
            known = self.search.lp_solution
            if known is not None and known[0] is self.b:
                y = known[1]
                eng = self.b.eng
                self._rank = sorted(self.W, key=lambda w: (-float(y[eng[w]]), w))
            else:
                self._rank = self.add_order(self._best_duals, frozenset())
        return self._rank

    def _near(self, kernel: set[str], v: np.ndarray) -> np.ndarray:
        """The unit columns of the workshops in kernel beyond each request's KERNEL_NEAR
        cheapest there (those the point v uses excepted)."""
        if self._owner is None:
            self._owner = column_owner(
                self.b, {r.id: i for i, r in enumerate(self.search.sc.requests)})
        cols = np.concatenate([self.xcols[w] for w in sorted(kernel)])
        own = self._owner[cols]
        order = np.lexsort((self.cost[cols], own))
        cols, own = cols[order], own[order]
        rank = np.arange(len(own)) - np.searchsorted(own, own, side="left")
        return cols[(rank >= KERNEL_NEAR) & (v[cols] <= 0.5)]

    def _paid(self, before: float | None) -> bool:
        """Whether the incumbent is now KERNEL_PAYS cheaper than `before`."""
        up = self.search.upper
        return up is not None and before is not None and (
            up < before - KERNEL_PAYS * max(1.0, abs(before)))

    def _kernel(self, best_set: frozenset[str], share: float = KERNEL_SHARE
                ) -> tuple[frozenset[str], float, np.ndarray, np.ndarray | None] | None:
        """A kernel sub-model (Guastaroba and Speranza's kernel search for facility
        location): the MIP engine on the model restricted to the workshops the incumbent
        and best_set engage and the next bucket of the ranking, every engagement among
        them free, each request kept to its KERNEL_NEAR cheapest unit columns there,
        from the incumbent. The moves change a set one or two workshops at a time, each
        valued by an LP; this sub-model chooses among a few dozen at once. Its plan is
        offered; its set, valued, is returned to descend from (None: no new set)."""
        b = self.b
        limit = min(self.left() - 0.2, max(KERNEL_MIN, share * self.span))
        v = incumbent_point(self.search, b)
        if v is None or limit <= 0.2 or self.search.stopped():
            return None
        engaged = {w for w in self.W if v[b.eng[w]] > 0.5} | best_set
        outside = [w for w in self._ranking() if w not in engaged]
        k = min(len(outside), max(KERNEL_BUCKET_MIN,
                                  int(KERNEL_BUCKET_SHARE * len(engaged))))
        start = self._next % len(outside) if outside else 0
        kernel = engaged | set((outside + outside)[start:start + k])
        self._next = start + k
        keep = self.base.copy()
        for w in kernel:
            keep[self.cols[w]] = True
            keep[b.eng[w]] = True
        keep[self._near(kernel, v)] = False
        ids = np.flatnonzero(keep)
        # Without presolve: with it HiGHS spent 29 s on such a sub-model (12,033 columns,
        # a facility location of 100 x 1,000 with capacity three times the demand) under
        # an 11 s limit; without it, 11.1 s and the same plans.
        params = mathopt.SolveParameters(
            random_seed=self.search.options.seed, relative_gap_tolerance=1e-6,
            absolute_gap_tolerance=1e-6, presolve=mathopt.Emphasis.OFF,
            time_limit=timedelta(seconds=limit))
        ans = solve_proto(self.am, self.am.to_proto(ids), mathopt.SolverType.HIGHS, params,
                          hint=(ids, v[ids]))
        self.kernels["sub_models"] += 1
        if ans.x is None:
            return None
        point, cost = clean_point(b, ans.x)
        up = self.search.upper
        if offer_point(self.search, "facility/kernel", b, point, cost) and (
                up is None or cost < up - 1e-9 * max(1.0, abs(up))):
            self.kernels["better"] += 1
        new = frozenset(w for w in self.W if point[b.eng[w]] > 0.5)
        if new in self.cache:
            return None
        self.offered = new
        val, got = self.value(new)
        if got is None or got.x is None or not math.isfinite(val):
            return None
        return new, val, got.x, got.duals

    def _kick(self, opened: frozenset[str]) -> bool:
        """A random neighbour of the best set (one or two workshops out, one or two of
        the most promising by the best set's duals in) to descend from; False when none
        has an LP value."""
        closed = self.add_order(self._best_duals, opened)[:max(ADD_TRIES, 2 * len(opened))]
        for _ in range(5):
            if self.left() <= 0.2 or self.search.stopped():
                return False
            out = set(self.rng.sample(sorted(opened), min(len(opened), self.rng.choice((1, 2)))))
            inn = set(self.rng.sample(closed, min(len(closed), self.rng.choice((1, 2)))))
            new = frozenset((opened - out) | inn)
            if new in self.cache:
                continue
            val, ans = self.value(new)
            if ans is not None and ans.x is not None and math.isfinite(val):
                self._kicked = (new, val, ans.x, ans.duals)
                return True
        return False


# -- a Lagrangian bound where every request is one step in one period ---------------------

# Polyak step factor at the start, halved after HALVE_AFTER steps without a better bound.
LAG_THETA = 1.0
HALVE_AFTER = 20


@dataclass(frozen=True)
class KnapsackLagrangian:
    bound: float
    # The workshops with a fee engaged at the best multipliers, topped up with those
    # nearest to paying for themselves until their capacity covers the demand's hours.
    opened: frozenset[str]


def knapsack_lagrangian(b: Built, deadline: float, upper: float | None
                        ) -> KnapsackLagrangian | None:
    """A proven lower bound of the model `b` where every unit column is step 0 in
    period 0 and the only costs are units, engagement and units away (facility location,
    assignment): the demand rows move into the objective with multipliers pi, and what
    is left falls apart by workshop into an engagement decision and, per capacity row, a
    continuous knapsack with `x[r,w] <= q_r` while engaged:

        L(pi) = sum_r q_r * min(pi_r, away_r) + sum_w min(0, f_w + sum_p K_wp(pi))

    K_wp the cheapest fill of (w, p)'s hours with the columns of negative reduced cost
    c_rw - pi_r. Every other row only restricts, and is dropped. The links are the strong
    ones, so at its best pi this is the strong facility-location LP's value (which dual
    simplex did not reach in 60 s on cflp-large capa). Subgradient ascent with Polyak's
    step against `upper` until `deadline`. None where the model is not of that form."""
    am = b.model
    # Cumulative columns (a compact model's) cost nothing and only restrict: dropped.
    if b.G or b.M or b.tool or not b.x or any(
            s != 0 or t != 0 for (_r, s, _w, t) in b.x):
        return None
    cost = np.frombuffer(am.cost, dtype=np.float64)
    ub = np.frombuffer(am.ub, dtype=np.float64)
    priced = np.flatnonzero(cost)
    known = np.zeros(am.num_vars, dtype=bool)
    for cols in (b.x.values(), b.u.values(), b.z.values(), b.eng.values()):
        known[np.fromiter(cols, dtype=np.int64)] = True
    if not known[priced].all() or (cost < 0).any():
        return None
    rids = sorted(b.u)
    rix = {r: i for i, r in enumerate(rids)}
    qty = np.zeros(len(rids))
    away = np.full(len(rids), math.inf)
    for r, c in b.u.items():
        qty[rix[r]] = ub[c]
        away[rix[r]] = cost[c]
    for r, c in b.z.items():
        away[rix[r]] = min(away[rix[r]], cost[c])
    keys = list(b.x)
    xc = np.fromiter((b.x[k] for k in keys), dtype=np.int64, count=len(keys))
    er = np.fromiter((rix[k[0]] for k in keys), dtype=np.int64, count=len(keys))
    wids = sorted({k[2] for k in keys})
    wix = {w: i for i, w in enumerate(wids)}
    ew = np.fromiter((wix[k[2]] for k in keys), dtype=np.int64, count=len(keys))
    ec, eub = cost[xc], np.minimum(ub[xc], qty[er])
    fee = np.zeros(len(wids))
    for w, c in b.eng.items():
        if w in wix:
            fee[wix[w]] = cost[c]
    # Each unit column's hours in its capacity row (the knapsack it is in), if any.
    mat = am.matrix()
    row_cap: dict[int, float] = {}
    ru = np.asarray(am.row_ub)
    for row in b.cap_rows.values():
        row_cap[row] = float(ru[row])
    eng_cols = {c: w for w, c in b.eng.items()}
    in_cap = np.isin(mat.rows, np.fromiter(row_cap, dtype=np.int64, count=len(row_cap)))
    col_pos = np.full(am.num_vars, -1, dtype=np.int64)
    col_pos[xc] = np.arange(len(xc))
    group = np.full(len(xc), -1, dtype=np.int64)
    hours = np.zeros(len(xc))
    cap_of: list[float] = []
    gid: dict[int, int] = {}
    for row, col, val in zip(mat.rows[in_cap].tolist(), mat.cols[in_cap].tolist(),
                             mat.vals[in_cap].tolist(), strict=True):
        g = gid.setdefault(row, len(gid))
        if g == len(cap_of):
            cap_of.append(row_cap[row])
        if col in eng_cols:
            cap_of[g] += -val  # hours <= cap * e: the cap is minus e's coefficient
        elif col_pos[col] >= 0:
            if group[col_pos[col]] >= 0:
                return None  # a column in two capacity rows: not one knapsack each
            group[col_pos[col]] = g
            hours[col_pos[col]] = val
    cap = np.array(cap_of + [math.inf])
    group[group < 0] = len(cap_of)  # columns under no capacity row: an unbounded sack
    if (hours < 0).any():
        return None

    def evaluate(pi: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        rc = ec - pi[er]
        take = np.flatnonzero(rc < 0)
        units = np.zeros(len(xc))
        if len(take):
            h = hours[take]
            ratio = np.where(h > 0, rc[take] / np.maximum(h, 1e-300), -np.inf)
            order = take[np.lexsort((ratio, group[take]))]
            g, h = group[order], hours[order] * eub[order]
            csum = np.cumsum(h)
            start = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
            before = csum - h
            before -= np.repeat(before[start], np.diff(np.r_[start, len(order)]))
            room = np.maximum(0.0, cap[g] - before)
            frac = np.where(h > 0, np.minimum(1.0, room / np.where(h > 0, h, 1.0)), 1.0)
            units[order] = frac * eub[order]
        gain = np.bincount(ew, weights=rc * units, minlength=len(wids))
        opened = fee + gain < 0
        units[~opened[ew]] = 0.0
        made = np.bincount(er, weights=units, minlength=len(rids))
        short = pi > away
        value = float((qty * np.where(short, away, pi)).sum() + np.minimum(0.0, fee + gain).sum())
        sub = qty - made - np.where(short, qty, 0.0)
        return value, sub, fee + gain

    pi = np.full(len(rids), math.inf)
    np.minimum.at(pi, er, ec)
    pi = np.minimum(pi, away)
    pi[~np.isfinite(pi)] = 0.0
    best = -math.inf
    best_net = np.zeros(len(wids))
    theta, stale = LAG_THETA, 0
    target = upper
    while time.perf_counter() < deadline:
        value, sub, net = evaluate(pi)
        if not math.isfinite(best) or value > best + 1e-9 * max(1.0, abs(best)):
            best, stale, best_net = value, 0, net
        else:
            stale += 1
            if stale >= HALVE_AFTER:
                theta, stale = theta / 2, 0
                if theta < 1e-4:
                    break
        norm = float(np.dot(sub, sub))
        if norm <= 1e-12:
            break  # pi prices every request's demand exactly: L is the optimum
        aim = target if target is not None and target > best else best + max(
            abs(best) * 0.01, 1.0)
        pi = pi + theta * (aim - value) / norm * sub
    if not math.isfinite(best):
        return None
    # The relaxation engages workshops without regard to the demand it drops: topped up,
    # nearest to paying for themselves first, until their hours cover every request at
    # its fewest hours per unit (those without a fee count as engaged).
    least = np.full(len(rids), math.inf)
    np.minimum.at(least, er, hours)
    need = float((qty * np.where(np.isfinite(least), least, 0.0)).sum())
    # Each workshop's hours: its capacity rows' (the workshop of a row read off any of its
    # columns), unbounded where some column is under no capacity row.
    bounded = group < len(cap) - 1
    row_ws = np.full(len(cap) - 1, -1, dtype=np.int64)
    row_ws[group[bounded]] = ew[bounded]
    cap_w = np.zeros(len(wids))
    np.add.at(cap_w, row_ws[row_ws >= 0], cap[:-1][row_ws >= 0])
    cap_w[np.unique(ew[~bounded])] = math.inf
    engaged = (best_net < 0) | (fee <= 0)
    have = float(cap_w[engaged].sum())
    for i in np.argsort(best_net, kind="stable"):
        if have >= need:
            break
        if not engaged[i]:
            engaged[i] = True
            have += float(cap_w[i])
    opened = frozenset(wids[i] for i in np.flatnonzero(engaged) if wids[i] in b.eng)
    return KnapsackLagrangian(bound=best, opened=opened)
