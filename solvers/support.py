"""The MIP engines on the columns the LP relaxation used, before the whole model's MIP.

Under a time limit the MIP engine on a whole small model may spend its share without a
good plan: on the alt generator's small seed 1 (4,095 columns) HiGHS held a plan that
imports everything (1.96e10) after 10 s, and the solve ended 12.9% above the bound from
the constructive plan. The same model restricted to the unit columns its LP used (1,071
of 4,095 columns, every other unit column fixed at 0) gave 5.2301e9, 0.01% above the
LP, in 2 s. Which engine finds it differs by instance: HiGHS on alt small seeds 1 and
10, where SCIP found nothing or less; SCIP on the built-in default scenario (8.23128e9,
0.007% above its optimum, in 1.3 s, where HiGHS found only the import-everything plan).
So this method:

1. solves the whole model's LP (dual simplex, tenths of a second at this size); its
   Lagrangian bound is a bound of the model, and the LP is kept for the neighbourhood
   search after it (`Search.lp_solution`), which would otherwise solve it again (its
   freed columns are not kept to the LP's support: on alt small seed 9 that cost
   1.3% -> 2.4% at 10 s);
2. offers the constructive plans the LP solution guides, period by period
   (`offer_guided`): where a policy decides the plan they are the good ones;
3. hands the model restricted to the unit columns with a positive LP value (every column
   that is not a unit column kept) to HiGHS for up to two thirds of its time, then,
   unless that plan is within `CLOSE_ENOUGH` of the LP bound or the restriction is
   solved, to SCIP for the rest, and for at least `SECOND_MIN_SECONDS`.

A restricted plan is a plan of the scenario (other unit columns are only fixed at 0), so
every constraint of SPEC sections 5 and 8 holds by construction; its bound says nothing of
the whole model and is not raised. Where the restriction has no plan (the LP's support of
a GAP instance leaves split jobs nowhere to go) the method costs its share of the time
and nothing else: the search keeps its incumbent.
"""

from __future__ import annotations

import time

import numpy as np
from ortools.math_opt.python import mathopt

from solvers.constraints import build
from solvers.greedy import ORDERS, greedy_plan
from solvers.lns import clean_point, offer_point
from solvers.lp_guided import lp_bound, period_guide
from solvers.lpmodel import seconds, solve_proto
from solvers.model import Built
from solvers.search import Search

# Share of the method's time the LP may take (milliseconds on small models; the LP of
# the 14,400-column gap-large e15900 took 0.2 s).
LP_SHARE = 0.5
# A plan this close to the LP bound (relative) is not handed to the second engine.
CLOSE_ENOUGH = 0.005
# Share of the time after the LP that the first engine (HiGHS) has.
FIRST_SHARE = 2 / 3
# Seconds the second engine (SCIP) has at least, where the first one's plan is not close
# to the bound: the rest of the phase was 0.35 s of a 10 s limit on the built-in default
# scenario, where SCIP needs 0.38-0.55 s on a slower machine to prove the restriction's
# plan (8.23103e9); stopped short, it held 4.05e11, and 2 solves of 10 ended at 8.92e9.
SECOND_MIN_SECONDS = 1.0
# A unit column is in the LP's support above this value.
SUPPORT_TOL = 1e-6
# Share of the time after the LP that the plans the LP guides may take (0.01-0.08 s each
# on small models).
GUIDED_SHARE = 0.25


class SupportMip:
    """An `improve` method of the search loop (solvers/search.py), for models built whole
    under a time limit."""

    name = "support mip"

    def construct(self, search: Search) -> None:
        return None

    def bound(self, search: Search, deadline: float | None) -> None:
        return None

    def improve(self, search: Search, deadline: float | None) -> None:
        if deadline is None or search.stopped():
            return
        sc, d, options = search.sc, search.d, search.options
        info = search.info.setdefault("support_mip", {})
        t0 = time.perf_counter()
        b = search.full
        if b is None:
            b = search.full = build(sc, d)
        lp = lp_bound(b, options, t0 + LP_SHARE * (deadline - t0), search.report)
        info["lp_seconds"] = round(time.perf_counter() - t0, 3)
        if lp.infeasible:
            search.infeasible = True
            return
        if lp.x is None:
            info["skipped"] = "the LP was not solved in time"
            return
        search.raise_bound(lp.bound, "lp")
        if lp.duals is not None and lp.columns == b.model.num_vars:
            search.lp_solution = (b, lp.x, lp.duals)
        now = time.perf_counter()
        info["guided"] = offer_guided(search, b, lp.x, now + GUIDED_SHARE * (deadline - now))
        am = b.model
        units = np.fromiter(b.x.values(), dtype=np.int64, count=len(b.x))
        keep = np.ones(am.num_vars, dtype=bool)
        keep[units] = False
        keep[units[lp.x[units] > SUPPORT_TOL]] = True
        cols = np.flatnonzero(keep)
        info["columns"] = int(len(cols))
        engines = (mathopt.SolverType.HIGHS, mathopt.SolverType.GSCIP)
        for i, engine in enumerate(engines):
            if search.stopped():
                break
            now = time.perf_counter()
            left = deadline - now
            if i > 0 and search.deadline is not None:
                # The second engine has at least SECOND_MIN_SECONDS, taken from the
                # phases after this one, which are budgeted from the clock.
                left = min(max(left, SECOND_MIN_SECONDS), search.deadline - now)
            if left < 0.05:
                break
            # HiGHS two thirds of what is left (it found the plan more often, and needs
            # a second for it on alt small seed 1, two on a busy machine), SCIP the rest.
            limit = left * (FIRST_SHARE if i == 0 else 1.0)
            params = mathopt.SolveParameters(random_seed=options.seed,
                                             relative_gap_tolerance=1e-6,
                                             absolute_gap_tolerance=1e-6,
                                             time_limit=seconds(limit))
            ans = solve_proto(am, am.to_proto(cols), engine, params)
            name = "highs" if engine is mathopt.SolverType.HIGHS else "scip"
            info[name] = {"seconds": round(time.perf_counter() - now, 3),
                          "status": ans.reason.name.lower()}
            if ans.x is not None:
                v, cost = clean_point(b, ans.x)
                info[name]["objective"] = cost
                offer_point(search, f"support mip/{name}", b, v, cost)
            if ans.reason in (mathopt.TerminationReason.OPTIMAL,
                              mathopt.TerminationReason.INFEASIBLE):
                # The restriction is solved: the other engine would find the same.
                break
            up = search.upper
            if up is not None and up - search.bound <= CLOSE_ENOUGH * max(1.0, abs(up)):
                break


def offer_guided(search: Search, b: Built, x: np.ndarray, until: float) -> int:
    """The constructive plans the LP solution `x` of the whole model `b` guides, one per
    request order, each step's units by workshop and period no more than the LP made by
    then (`greedy_plan`'s `by_period`), offered to the search until `until`; returns how
    many were made. Where a policy decides the plan they are far better than the
    unguided ones: on the alt generator's small seeds 7, 9, 10, 14 and 15 they came
    21.9%, 2.5%, 2.0%, 0.15% and 0.35% above the LP bound in 0.01-0.08 s each, where the
    10 s solves ended 9.7-34%, 1.3%, 4.2%, 2.0% and 17.2% above it (docs/benchmarks.md)."""
    guide, by_period = period_guide(b, x, SUPPORT_TOL)
    made = 0
    for order_by in ORDERS:
        if search.stopped() or time.perf_counter() >= until:
            break
        gb, raw = greedy_plan(search.sc, search.d, dict(guide), order_by,
                              by_period=by_period, deadline=until)
        search.offer("constructive, LP-guided", gb, raw)
        made += 1
    return made
