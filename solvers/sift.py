"""LP-guided search for models too large for the MIP engine in the time given.

1. **Bound by column generation ("sifting")**: the LP relaxation is solved over a small
   set of columns, the dual values price every column of the full model (numpy, no
   solver), and columns with negative reduced cost join the set until none is left. At
   every round the duals give a Lagrangian bound that is valid for the full model:
   for any row multipliers y, every x with rl <= Ax <= ru and lb <= x <= ub has
   c.x = (c - A'y).x + y.Ax >= sum_j min(d_j lb_j, d_j ub_j) + sum_i min(y_i rl_i, y_i ru_i),
   so the bound holds even if the LP phase runs out of time before it converges.
2. **Plan from the LP's support**: the MIP engine solves the model restricted to the
   columns the LP used (all periods of each (request, step, workshop) it used, the flows
   between their locations, and every non-unit column); any plan of the restricted model
   is a plan of the full model, whose cost is checked against the bound of step 1.

On the generated medium instance the LP uses 2,764 of 98,840 columns, which is why both
steps are fast; the gap is that of the restricted plan against the full LP bound.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict

import numpy as np
from ortools.math_opt.python import mathopt

from solvers.lpmodel import Answer, seconds, solve_proto
from solvers.mip import _ENGINES, Built, Raw, highs_progress, raw_from_answer
from solvers.options import ProgressEvent, SolveOptions

# Share of the time limit the LP phase may use before the restricted MIP starts.
LP_SHARE = 0.55
# Reduced cost below which a column joins the restricted LP.
RC_TOL = -1e-6
# Seed columns: the unit columns of this many cheapest workshops per (request, step).
SEED_WORKSHOPS = 2
# Up to this many columns the LP is solved whole, in one round: pricing pays off only
# where the whole LP would not fit in the time given.
FULL_LP_MAX_COLUMNS = 500_000
# Columns that may join per (request, step) and round.
ENTER_PER_STEP = 8


def lagrangian_bound(y: np.ndarray, d: np.ndarray, lb: np.ndarray, ub: np.ndarray,
                     rl: np.ndarray, ru: np.ndarray) -> float:
    """The bound of the module docstring; -inf if it needs an infinite bound."""
    with np.errstate(invalid="ignore"):
        row_part = np.where(y > 0, y * rl, np.where(y < 0, y * ru, 0.0))
        col_part = np.where(d > 0, d * lb, np.where(d < 0, d * ub, 0.0))
    total = float(row_part.sum() + col_part.sum())
    return total if math.isfinite(total) else -math.inf


def solve_sifted(b: Built, options: SolveOptions, started: float) -> Raw:
    am = b.model
    mat = am.matrix()
    lb, ub, cost, _integer = am.arrays()
    n, n_rows = am.num_vars, am.num_rows
    rl, ru = np.array(am.row_lb), np.array(am.row_ub)
    deadline = None if options.time_limit is None else started + options.time_limit
    lp_deadline = None if deadline is None else (
        started + LP_SHARE * options.time_limit)  # type: ignore[operator]

    def emit(phase: str, incumbent: float | None = None, bound: float | None = None) -> None:
        if options.progress is not None:
            options.progress(ProgressEvent(phase, time.perf_counter() - started, incumbent,
                                           bound))

    # Which columns are units (x) and flows (G); everything else starts in the LP.
    x_cols = np.fromiter(b.x.values(), dtype=np.int64, count=len(b.x))
    g_cols = np.fromiter(b.G.values(), dtype=np.int64, count=len(b.G))
    unit_or_flow = np.zeros(n, dtype=bool)
    unit_or_flow[x_cols] = True
    unit_or_flow[g_cols] = True
    active = ~unit_or_flow
    by_rsw: dict[tuple[str, int, str], list[int]] = defaultdict(list)
    group = np.full(n, -1, dtype=np.int64)  # the (request, step) of unit and flow columns
    group_of: dict[tuple[str, int], int] = {}
    for (rid, s, wid, _t), c in b.x.items():
        by_rsw[(rid, s, wid)].append(c)
        group[c] = group_of.setdefault((rid, s), len(group_of))
    g_by_rs: dict[tuple[str, int], list[int]] = defaultdict(list)
    for (rid, s, _a, _c), c in b.G.items():
        g_by_rs[(rid, s)].append(c)
        group[c] = group_of.setdefault((rid, s), len(group_of))
    # Seed: the cheapest workshops of every step, with all flows of the request.
    cheapest: dict[tuple[str, int], list[tuple[float, str]]] = defaultdict(list)
    for (rid, s, wid), unit_cols in by_rsw.items():
        cheapest[(rid, s)].append((float(cost[unit_cols].min()), wid))
    seed_nodes: dict[tuple[str, int], set[str]] = defaultdict(set)
    for (rid, s), ws in cheapest.items():
        for _cost, wid in sorted(ws)[:SEED_WORKSHOPS]:
            active[by_rsw[(rid, s, wid)]] = True
            seed_nodes[(rid, s)].add(b.node_of[wid])
    for (rid, s, a, to), col in b.G.items():
        if a in seed_nodes[(rid, s)] and to in seed_nodes[(rid, s + 1)]:
            active[col] = True
    if n <= FULL_LP_MAX_COLUMNS:
        active[:] = True
    entering: np.ndarray

    bound = -math.inf
    lp_x: np.ndarray | None = None
    rounds = 0
    # Barrier: 14 s on the medium instance's full LP, where dual simplex took 19 s.
    lp_params = mathopt.SolveParameters(random_seed=options.seed,
                                        lp_algorithm=mathopt.LPAlgorithm.BARRIER)
    while True:
        rounds += 1
        if lp_deadline is not None:
            left = lp_deadline - time.perf_counter()
            if left <= 0 and lp_x is not None:
                break
            lp_params.time_limit = seconds(max(left, 1.0))
        cols = np.flatnonzero(active)
        ans = solve_proto(am, am.to_proto(cols, relax=True), mathopt.SolverType.HIGHS,
                          lp_params)
        if ans.reason is not mathopt.TerminationReason.OPTIMAL or ans.duals is None:
            if ans.reason is mathopt.TerminationReason.INFEASIBLE:
                if not active.all():
                    # A policy the seed columns cannot meet: price with every column in.
                    active[:] = True
                    continue
                return Raw(status="infeasible", bound=None, solver_objective=None)
            break
        lp_x = ans.x
        # Duals with the sign their row allows (solver noise aside), so the bound holds.
        y = ans.duals.copy()
        y[np.isinf(rl) & (y > 0)] = 0.0
        y[np.isinf(ru) & (y < 0)] = 0.0
        d = cost - mat.t_times(y, n)
        bound = max(bound, lagrangian_bound(y, d, lb, ub, rl, ru))
        emit("lp", ans.primal_bound, bound)
        entering = np.flatnonzero(~active & (d < RC_TOL))
        if len(entering) == 0:
            # The restricted LP is optimal for the full model: its value is the LP bound.
            bound = max(bound, ans.primal_bound)
            break
        # Partial pricing: the most negative few of every (request, step), so that early
        # duals, which price every unit of a request short of its demand alike, do not
        # bring in whole requests at once.
        order = np.lexsort((d[entering], group[entering]))
        entering = entering[order]
        grp = group[entering]
        first = np.searchsorted(grp, grp)  # index of each group's first entry
        entering = entering[np.arange(len(entering)) - first < ENTER_PER_STEP]
        active[entering] = True
        if lp_deadline is not None and time.perf_counter() >= lp_deadline:
            break
    lp_seconds = time.perf_counter() - started

    # The restricted MIP over the LP's support.
    keep = ~unit_or_flow
    if lp_x is not None:
        used = set(np.flatnonzero(lp_x > 1e-9).tolist())
        used_rs: set[tuple[str, int]] = set()
        for key, cols_k in by_rsw.items():
            if any(c in used for c in cols_k):
                keep[cols_k] = True
                used_rs.add((key[0], key[1]))
        for rs in used_rs:
            keep[g_by_rs.get(rs, [])] = True
    params = mathopt.SolveParameters(random_seed=options.seed, relative_gap_tolerance=options.gap,
                                     absolute_gap_tolerance=1e-6)
    if deadline is not None:
        params.time_limit = seconds((deadline - time.perf_counter()) * 0.97 - 0.05)
    emit("search", None, bound if math.isfinite(bound) else None)
    mip = solve_proto(am, am.to_proto(np.flatnonzero(keep)), _ENGINES[options.engine], params,
                      highs_progress(options, started, bound if math.isfinite(bound) else None))
    raw = _restricted_raw(b, mip, bound)
    raw.extra = {"method": "lp-guided", "lp_rounds": rounds, "lp_seconds": lp_seconds,
                 "lp_columns": int(active.sum()), "mip_columns": int(keep.sum()),
                 "columns": n, "rows": n_rows}
    return raw


def _restricted_raw(b: Built, mip: Answer, bound: float) -> Raw:
    """The restricted model's plan with the full model's bound: the restricted model's
    own optimality says nothing about the full model."""
    if mip.x is None and mip.reason is not mathopt.TerminationReason.INFEASIBLE:
        fallback = _all_unmet(b)
        if fallback is not None:
            mip = Answer(reason=mathopt.TerminationReason.FEASIBLE,
                         primal_bound=float(np.dot(np.frombuffer(b.model.cost), fallback)),
                         dual_bound=-math.inf, x=fallback)
    # Without a plan the restricted model proves nothing about the full one.
    status_reason = (mathopt.TerminationReason.FEASIBLE if mip.x is not None
                     else mathopt.TerminationReason.NO_SOLUTION_FOUND)
    raw = raw_from_answer(b, Answer(reason=status_reason, primal_bound=mip.primal_bound,
                                    dual_bound=bound, x=mip.x))
    if raw.solver_objective is not None and math.isfinite(bound):
        gap = raw.solver_objective - bound
        if gap <= 1e-6 * max(1.0, abs(raw.solver_objective)):
            raw.status = "optimal"
    return raw


def _all_unmet(b: Built) -> np.ndarray | None:
    """The plan that makes nothing, when every row allows it (no domestic-share floor)."""
    am = b.model
    x = np.zeros(am.num_vars)
    for col in b.u.values():
        x[col] = am.ub[col]
    activity = am.matrix().times(x, am.num_rows)
    ok = np.all(activity >= np.array(am.row_lb) - 1e-6) and np.all(
        activity <= np.array(am.row_ub) + 1e-6)
    return x if ok else None

