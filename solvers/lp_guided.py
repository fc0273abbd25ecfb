"""LP-guided search for models too large for the MIP engine in the time given.

1. **A bound from an LP relaxation**: of the full model where it fits (up to
   model.FULL_LP_MAX_COLUMNS unit columns, solved whole by barrier), else of its one-period
   relaxation (`time_aggregate`, tightened by `add_release_capacity`), solved whole by
   dual simplex up to WHOLE_ONE_PERIOD_MAX_COLUMNS, else by column generation
   ("sifting"): the LP over a small set of columns, its duals price every column (numpy,
   no solver), and columns with negative reduced cost join the set until none is left.
   The bound reported is the Lagrangian bound of the duals: for any row multipliers y,
   every x with rl <= Ax <= ru and lb <= x <= ub has
   c.x = (c - A'y).x + y.Ax >= sum_j min(d_j lb_j, d_j ub_j) + sum_i min(y_i rl_i, y_i ru_i),
   so it holds even if column generation stops before it converges. On the path without
   the full model, the Lagrangian path bound (`solvers/lagrange.py`) comes first, and is
   the bound where the one-period relaxation is too big to build; `unit_bound` (capacity
   ignored) is the floor.
2. **A plan with the LP's help**: constructive plans (`solvers/greedy.py`) guided period
   by period by the LP of the model with periods restricted to the triples the LP used
   (`_time_indexed_guide`). Where the full model is built, the MIP engine on the columns
   the LP used (all periods of each (request, step, workshop) it used, the flows between
   their locations, every non-unit column) competes with them; any plan of that
   restriction is a plan of the full model. Otherwise unguided constructive plans come
   first and the one-period LP's solution guides more. The cheapest plan that meets the
   policies is kept.

On the generated medium instance the LP uses 2,764 of 98,840 columns, which is why its
restricted MIP is fast; the gap is that of the plan against the bound of step 1.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.math_opt.python import mathopt

import solvers.model as model
from models.derived import Derived
from models.scenario import Request, Scenario
from solvers.extract import evaluate
from solvers.greedy import ORDERS, CapacityState, binds_local_content, greedy_plan, greedy_variants
from solvers.lagrange import build_seconds, lagrangian_path_bound
from solvers.lns import incumbent_point
from solvers.lp_race import RACE_MIN_COLUMNS, LpRace, race_lp
from solvers.lpmodel import Answer, ArrayModel, seconds, solve_proto
from solvers.mip import (
    _ENGINES,
    Built,
    Raw,
    build,
    highs_progress,
    raw_from_answer,
)
from solvers.model import eligible_counts, final_eligible
from solvers.one_period import add_release_capacity, duals_bound, time_aggregate
from solvers.options import SolveOptions
from solvers.search import Search

# The pipeline's progress reporter: emit(phase, incumbent=None, bound=None).
Emit = Callable[..., None]

# Share of its phase's time the whole LP may use: without it neither the bound nor the
# guide is there, and under a busy machine it took twice its quiet time (15 s -> 31 s on
# generated medium). 0.8 had fixed-cost medium seed 2 on a slower machine miss it by a
# few seconds (20.6% at 60 s; with 0.9 its LP came in both of two runs, the plan 7.7% and,
# where the LP came too late for its guided plans, 20.0% over a bound 0.7% higher); the
# neighbourhood search without the LP had made one improvement in 16 s.
LP_SHARE = 0.9
# Reduced cost below which a column joins the restricted LP.
RC_TOL = -1e-6
# Seed columns: the unit columns of this many cheapest workshops per (request, step).
SEED_WORKSHOPS = 2
# Above this many unit columns the one-period relaxation is not built (about 1 GB of
# arrays and maps per 2 M columns); the bound is then the Lagrangian path bound.
ONE_PERIOD_MAX_COLUMNS = 4_000_000
# Up to this many columns the one-period relaxation is solved whole (by dual simplex),
# above by column generation.
WHOLE_ONE_PERIOD_MAX_COLUMNS = 2_000_000
# Seconds kept at the end of a limit for the LP-guided constructive plan and the rows.
GUIDED_RESERVE = 20.0
# Share of the limit by which the large path's first constructive plan comes, cut short
# if need be (the contract: a plan within 5% of the limit). On the alt generator's large
# seed 1 (local-content floor, 2,000 requests) the first whole plan took 3.5 s and came at
# 4.7-6.3 s of a 60 s limit.
FIRST_PLAN_SHARE = 0.03
# Seconds for the Lagrangian path bound before the one-period LP.
LAGRANGE_SECONDS = 30.0
# Seconds the one-period LP takes per (request, step, eligible workshop) triple, at the
# least (generated large seed 1: 381,071 triples, 916,025 columns, 160 s by dual simplex
# on the development machine, alone); with less time left than that it is not begun.
ONE_PERIOD_SECONDS_PER_TRIPLE = 2e-4
# Share of the large path's time (from its start to its deadline) by which the
# one-period LP must be done. Where no plan precedes it, the large path's phase has the
# whole limit, and an LP that never finished held all of it: on the alt generator's large
# seed 1 (594,813 triples, 1.84 M columns, a local-content row across all of them) dual
# simplex had no solution at 556 s of a 600 s limit, the neighbourhood search got the
# last 40 s, and the plan (1.43e13) was worse than the one of a 60 s limit (8.6e12),
# where the LP is not begun. Generated large's LP (381,071 triples) took 160-250 s.
ONE_PERIOD_LP_SHARE = 0.5
# Rows per column below which the whole LP goes to dual simplex rather than barrier.
FEW_ROWS = 0.05
# Up to this many columns the period-by-period guide's LP goes to dual simplex.
GUIDE_SIMPLEX_MAX_COLUMNS = 50_000
# On the whole-model path the guide's LP may take as long as the whole LP took, or this.
GUIDE_MIN_SECONDS = 5.0
# Share of the limit the one-period LP of an instance whose whole LP is raced may take
# (`early_one_period`), and the most columns it may have.
EARLY_ONE_PERIOD_SHARE = 0.25
EARLY_ONE_PERIOD_MAX_COLUMNS = 300_000
# Above this many rows per column that LP goes to barrier, else to dual simplex. Seconds
# alone on the one-period LPs of generated medium seed 1 (rows per column; dual simplex,
# barrier): balanced (0.33; 0.7, 3.4), tight (0.33; 0.8, 4.0), scarce-material (0.33; 2.6,
# 4.2), sourcing (0.43; 1.1, 5.6); fixed-cost seeds 1-3, with a tooling link per unit
# column (0.58-0.62; 17.3 / over 25 / 13.1, 7.0 / 8.5 / 8.2); alt generator medium seeds 1-3
# (0.22-0.27; 2.3 / 0.6 / 0.8, 19.6 / 3.6 / 5.1).
EARLY_BARRIER_ROWS_PER_COLUMN = 0.5
# Seconds the one-period LP's share must hold at least, or it is not begun: its build
# alone took 1.2 s on alt medium seed 1, and with a 2 s limit the solve returned at 4.0-5.5
# s where it had returned at 2.3 s.
EARLY_MIN_SECONDS = 3.0
# Columns that may join per (request, step) and round.
ENTER_PER_STEP = 8


@dataclass
class LpResult:
    """The LP phase's outcome: a valid bound (or -inf), the last LP solution over the
    model it solved, and how it got there."""

    bound: float
    x: np.ndarray | None
    rounds: int
    columns: int
    infeasible: bool = False
    # The row duals of the last LP solved (with the sign their rows allow).
    duals: np.ndarray | None = None


def _grouped_triples(sc: Scenario, d: Derived) -> float:
    """About how many unit columns the grouped one-period LP has (`solvers.relax`): the
    one-period relaxation's, in the share of requests that merged groups keep."""
    from solvers.relax import merge_requests

    _merged, members = merge_requests(sc, by_release=False)
    return eligible_counts(sc, d)[0] * len(members) / max(1, len(sc.requests))


class _Candidates:
    """Constructive plans that meet the policies, as (cost, source, built, answer); each
    is offered to the search at once, so that a stop or the deadline finds it there."""

    def __init__(self, search: Search) -> None:
        self.sc, self.d, self.search = search.sc, search.d, search
        self.found: list[tuple[float, str, Built, Raw]] = []

    def consider(self, source: str, plan: tuple[Built, Raw]) -> None:
        cost = evaluate(self.sc, self.d, *plan)
        if cost is not None:
            self.found.append((cost, source, *plan))
            self.search.offer(source, *plan, cost=cost)


def start_race(search: Search) -> tuple[Built, LpRace | None] | None:
    """The whole model built, and its LP's race (solvers/lp_race.py) started in child
    processes, where the method will race it (`lp_bound`) and the solve has a limit: the
    bounds that run before the method (the Lagrangian path bound, a tenth of the limit)
    then run while the LP is solved, not before it. On this machine kind's slower
    variety the race of generated medium fixed-cost seed 1 took 36.5 s and began at 7.4 s
    of a 60 s limit, past its share (41.6 s). None without a limit; no race where the LP
    will not be raced. The race is stopped with the search (`Search.closers`) if the
    method never waits for it."""
    if search.deadline is None:
        return None
    b = build(search.sc, search.d)
    am = b.model
    if am.num_vars > model.whole_lp_columns(search.sc, search.options.time_limit) or (
            not raced(am)):
        return b, None
    race = LpRace(am, am.to_proto(relax=True),
                  mathopt.SolveParameters(random_seed=search.options.seed), search.deadline)
    search.closers.append(race.close)
    return b, race


def raced(am: ArrayModel) -> bool:
    """Whether the whole LP of `am` is raced (solvers/lp_race.py) rather than solved in
    this process: from RACE_MIN_COLUMNS columns, unless it has few rows for its columns
    (dual simplex alone then, see `lp_bound`). The one rule of `start_race`, `lp_bound`
    and `LpGuided.bound` (solvers/methods.py), so that a race started early is the one
    the method waits for."""
    return am.num_vars >= RACE_MIN_COLUMNS and am.num_rows > FEW_ROWS * am.num_vars


def solve_lp_guided(search: Search, deadline: float | None, unit_columns: int,
                    race: tuple[Built, LpRace | None] | None = None) -> tuple[Built, Raw]:
    """The LP-guided method (module docstring) for a scenario of about `unit_columns`
    unit columns (`estimate_unit_columns`), until `deadline`: the built model the plan's
    rows are read with, and the answer; `race`: the whole model and its LP's race, where
    `start_race` began them. Plans found on the way are offered to `search`
    as they come; the whole model, where built, is left in `search.full`."""
    sc, d, options = search.sc, search.d, search.options
    emit = search.report

    # The time this method has, counted from now: its shares are of this, not of the
    # solve's limit, so that a late start shortens every phase alike.
    span = None if deadline is None else max(0.0, deadline - time.perf_counter())
    if unit_columns <= model.whole_lp_columns(sc, options.time_limit):
        b = race[0] if race is not None else build(sc, d)
        search.full = b
        return _lp_then_mip(search, b, deadline, emit,
                            None if race is None else race[1])

    # Too large to build whole in time: constructive plans at once, the Lagrangian path
    # bound, then the one-period relaxation's LP, whose solution guides more plans.
    t0 = time.perf_counter()
    pool = _Candidates(search)
    candidates, consider = pool.found, pool.consider

    binds = False
    for i, (order_by, fees, priced) in enumerate(greedy_variants(sc)):
        if span is not None and i > 0 and time.perf_counter() > t0 + 0.25 * span:
            break
        if search.interrupted():
            break
        if priced and not binds:
            continue
        share = 0.5 if i == 0 else 0.25
        until = None if span is None else t0 + share * span
        if i == 0 and until is not None and search.deadline is not None:
            # The first plan by FIRST_PLAN_SHARE of the limit, whatever the instance: what
            # is not placed by then is imported or left unmet. Where that cut it short,
            # the same order again with its own time.
            first_by = search.started + FIRST_PLAN_SHARE * (search.deadline - search.started)
            if first_by < until:
                first = greedy_plan(sc, d, order_by=order_by, deadline=first_by, fees=fees)
                binds = binds_local_content(first[1])
                consider("constructive", first)
                if time.perf_counter() <= first_by:
                    continue
        plan = greedy_plan(sc, d, order_by=order_by, deadline=until, fees=fees, priced=priced)
        binds = binds or binds_local_content(plan[1])
        consider("constructive", plan)
    extra: dict[str, object] = {"method": "lp-guided", "relaxation": "none",
                                "greedy_seconds": time.perf_counter() - t0}
    if deadline is not None and time.perf_counter() >= deadline:
        # Past the deadline (a plan made late, `search.run`) the unit bound, which ranks
        # every offer, only delays the answer: 4.6 s on 1 M offers.
        bound = -math.inf
        extra["unit_bound"] = "skipped: past the deadline"
    else:
        bound = bottleneck_bound(sc, d)
        extra["bound_from"] = "unit bound with bottlenecks"
    # The relaxation needs time to build and price, and memory: its unit columns are
    # about the full model's divided by the periods.
    fits = unit_columns / sc.horizon.periods <= ONE_PERIOD_MAX_COLUMNS
    # First the one-period LP with requests merged by component, certifications and
    # destination (solvers/relax.py; national: 1.8884e12 in 16 s, large: the per-request
    # LP's 1.9546e11 in 1.4 s); the Lagrangian path bound only where it was not solved.
    # Both get seconds where the per-request one-period LP comes after them, most of what
    # is left where none follows (national).
    from solvers.relax import LpBound, grouped_lp  # it builds on this module's relaxation

    left = None if deadline is None else deadline - time.perf_counter()
    if left is None:
        lag_deadline = None
    else:
        lag_deadline = time.perf_counter() + (
            min(LAGRANGE_SECONDS, 0.15 * left) if fits else 0.6 * (left - GUIDED_RESERVE))
    upper = min((c[0] for c in candidates), default=None)
    if lag_deadline is not None and ONE_PERIOD_SECONDS_PER_TRIPLE * _grouped_triples(
            sc, d) > lag_deadline - time.perf_counter():
        # Its LP would not be solved in its time: where requests hardly merge (the alt
        # generator's large seed 1: 2,000 requests in 1,690 groups, 1.36 M columns) its
        # build alone took 15-20 s of a 60 s limit, and dual simplex had no solution
        # after 120 s; the Lagrangian bound gets that time instead.
        grouped = LpBound(bound=-math.inf, value=None, columns=0, rows=0, links=0,
                          seconds=0.0)
        extra["grouped_lp"] = "skipped: not solved in its time"
    else:
        grouped = grouped_lp(sc, d, lag_deadline, by_release=False)
        extra["grouped_lp_seconds"] = grouped.seconds
    search.hints.update(grouped.hints)
    if grouped.bound > bound:
        bound, extra["bound_from"] = grouped.bound, "grouped lp"
    if grouped.value is None:
        if lag_deadline is not None:
            lag_deadline = max(lag_deadline, time.perf_counter() + min(
                LAGRANGE_SECONDS, 0.15 * max(0.0, deadline - time.perf_counter())))  # type: ignore[operator]
        if lag_deadline is not None and (
                build_seconds(sc, d) > lag_deadline - time.perf_counter()):
            # Its relaxation would not even be built in its time: on a 1,000 x 1,000
            # facility location (1 M entries, 3.2 s to build) its one step took 2.6 s of
            # the 4.4 s left of a 10 s limit, and the solve returned at 11.6 s.
            extra["lagrange"] = "skipped: not built in its time"
        else:
            # Without a time limit, a few thousand steps where the LP follows.
            lag = lagrangian_path_bound(
                sc, d, upper, lag_deadline,
                max_iterations=2_000 if fits and left is None else 100_000)
            extra.update(lagrange_iterations=lag.iterations, lagrange_seconds=lag.seconds)
            if lag.bound > bound:
                bound, extra["bound_from"] = lag.bound, "lagrangian paths"
    if upper is not None and math.isfinite(bound):
        emit("bound", upper, bound)
    left = None if deadline is None else deadline - time.perf_counter()
    if fits and left is not None and (
            left < ONE_PERIOD_SECONDS_PER_TRIPLE * eligible_counts(sc, d)[0]):
        # Its LP would not be solved in time: on generated large seed 1 (381,071 triples)
        # it ran from 3 s to 41 s of a 60 s limit without a solution, time that the
        # neighbourhood search after this method can use.
        fits = False
        extra["one_period_lp"] = "skipped: not solved in the time left"
    if fits and not search.interrupted() and (
            left is None or span is None or left > 0.3 * span):
        ab, extra["release_rows"] = one_period_model(sc, d)
    else:
        fits = False
    if fits and search.deadline is not None and _one_period_beside(search, ab):
        # Under a limit the LP runs in a child process while the neighbourhood search
        # improves the plans (`_one_period_beside`).
        extra["one_period_lp"] = "beside the search"
    elif fits:
        # Leave room for the guided plan and for writing the rows out, and never more
        # than ONE_PERIOD_LP_SHARE of this method's time to an LP that may not finish.
        lp_deadline = None if deadline is None or span is None else min(
            deadline - max(GUIDED_RESERVE, 0.08 * span), t0 + ONE_PERIOD_LP_SHARE * span)

        def guided_plan(x: np.ndarray) -> None:
            """Constructive plans guided by this round's LP solution: later rounds are
            not always better guides (measured on the large instance), so every round's
            plans compete."""
            _one_period_guided(sc, d, ab, x, consider)

        # Solved whole by dual simplex where it fits: on the large generated instance
        # (916,025 columns) in 160 s, where barrier took 435 s and column generation had
        # not converged after 550 s.
        whole = ab.model.num_vars <= WHOLE_ONE_PERIOD_MAX_COLUMNS
        lp = lp_bound(ab, options, lp_deadline, emit, on_round=guided_plan, whole=whole)
        if lp.infeasible:
            return Built(model=ArrayModel(sc.name)), Raw(status="infeasible", bound=None,
                                                          solver_objective=None)
        extra["relaxation"] = "one-period lp"
        if lp.bound > bound:
            bound, extra["bound_from"] = lp.bound, "one-period lp"
        extra.update(lp_rounds=lp.rounds, lp_columns=lp.columns, columns=ab.model.num_vars,
                     lp_seconds=time.perf_counter() - t0)
        if lp.x is not None:
            search.hints.update(_used_triples(ab, lp.x))
            extra.update(_time_indexed_guide(sc, d, ab, lp.x, options, deadline, emit,
                                             consider))
    if not candidates:
        best_b, best = Built(model=ArrayModel(sc.name)), Raw(
            status="no_solution", bound=None, solver_objective=None)
    else:
        # The first of the cheapest: the unguided plan wins ties.
        best_cost, extra["plan"], best_b, best = min(candidates, key=lambda c: c[0])
        best.solver_objective = best_cost
    best.bound = bound if math.isfinite(bound) else None
    _mark_optimal(best)
    best.extra = extra
    emit("search", best.solver_objective, best.bound)
    return best_b, best


def _time_indexed_guide(sc: Scenario, d: Derived, ab: Built, x: np.ndarray,
                        options: SolveOptions, deadline: float | None, emit: Emit,
                        consider: Callable[[str, tuple[Built, Raw]], None],
                        reserve: float = GUIDED_RESERVE, cap: float | None = None
                        ) -> dict[str, object]:
    """Constructive plans guided period by period: the model with periods, restricted to
    the (request, step, workshop) triples the LP solution `x` (of `ab`: the one-period
    relaxation, or the full model) used,
    has a small LP (on the large generated instance 92,955 columns, 47,576 of them units,
    against about 4.5 M unit columns in the full model) whose solution says when each
    workshop makes what, which the one-period guide cannot. Its value is not a bound (the
    model is restricted); it only guides. `reserve`: seconds kept after its LP for the
    plans it guides; `cap`: seconds its LP may take at most. Returns what to add to the
    plan's solver block."""
    started = time.perf_counter()
    if deadline is not None and deadline - started < 2 * reserve:
        return {}
    units: dict[tuple[str, int, str], float] = defaultdict(float)
    on = x > 1e-9
    for (rid, s, wid, _t), c in ab.x.items():
        if on[c]:
            units[(rid, s, wid)] += float(x[c])
    used: dict[tuple[str, int], list[tuple[float, str]]] = defaultdict(list)
    for (rid, s, wid), v in units.items():
        used[(rid, s)].append((-v, wid))
    # A sourcing limit holds in the LP only on average (units over a big-M): keep the
    # limit's number of workshops the LP used most, so that the guide can be followed
    # (large generated instance, seed 2: a request that cannot be imported, spread over
    # three workshops with a limit of two, left 25 units unmet at 50 M IDR each).
    limit = {r.id: r.max_suppliers_per_step for r in sc.requests}
    keep = {(rid, s): {w for _v, w in sorted(ws)[:limit[rid] or len(ws)]}
            for (rid, s), ws in used.items()}
    tb = build(sc, d.restricted(keep))
    am = tb.model
    # Barrier: 36 s on the large instance's, where dual simplex took 91 s. Small ones by
    # dual simplex: barrier did not finish in 50 s the 1,638-column guide of a 40 x 800
    # GAP instance that dual simplex solves in 0.01 s (and the plan was left with 154
    # jobs unassigned).
    small = am.num_vars <= GUIDE_SIMPLEX_MAX_COLUMNS or am.num_rows <= FEW_ROWS * am.num_vars
    params = mathopt.SolveParameters(
        random_seed=options.seed,
        lp_algorithm=mathopt.LPAlgorithm.DUAL_SIMPLEX if small else mathopt.LPAlgorithm.BARRIER)
    if deadline is not None:
        room = deadline - time.perf_counter() - reserve
        params.time_limit = seconds(room if cap is None else min(room, cap))
    emit("lp")
    ans = solve_proto(am, am.to_proto(relax=True), mathopt.SolverType.HIGHS, params)
    info: dict[str, object] = {"guide_lp_columns": am.num_vars,
                               "guide_lp_seconds": time.perf_counter() - started}
    if ans.x is None or ans.reason is not mathopt.TerminationReason.OPTIMAL:
        return info
    guide, by_period = period_guide(tb, ans.x)
    for order_by in ORDERS:
        consider("constructive, time-indexed LP-guided",
                 greedy_plan(sc, d, dict(guide), order_by, by_period=by_period))
    return info


def period_guide(b: Built, x: np.ndarray, tol: float = 1e-9
                 ) -> tuple[dict[tuple[str, int, str], float],
                            dict[tuple[str, int, str, int], float]]:
    """What the LP solution `x` of the model with periods `b` makes above `tol`, as
    `greedy_plan` follows it: units by (request, step, workshop), its `guide`, and by
    (request, step, workshop, period), its `by_period`."""
    by_period = {key: float(x[c]) for key, c in b.x.items() if x[c] > tol}
    guide: dict[tuple[str, int, str], float] = defaultdict(float)
    for (rid, s, wid, _t), v in by_period.items():
        guide[(rid, s, wid)] += v
    return dict(guide), by_period


def one_period_model(sc: Scenario, d: Derived) -> tuple[Built, int]:
    """The one-period relaxation built, with its release-suffix capacity rows, and how
    many of those rows it has (step 2 of the large path, docs/solver.md)."""
    agg = time_aggregate(sc)
    ab = build(agg, Derived(agg))
    return ab, add_release_capacity(sc, d, ab)


def early_one_period(search: Search) -> bool:
    """Plans guided by the one-period relaxation's LP and its bound, while the whole LP is
    raced in child processes (`start_race`): where the whole LP comes late (a busy
    machine) or not at all, the search still starts from a plan the relaxation guided.

    The one-period LP (periods merged, with release-suffix capacity rows: the large path's
    relaxation) has about a seventh of the whole LP's columns and is solved in this
    process within EARLY_ONE_PERIOD_SHARE of the limit (by dual simplex, or by barrier
    where it has many rows per column, EARLY_BARRIER_ROWS_PER_COLUMN); its solution
    guides the time-indexed plans of `_time_indexed_guide`. Measured (dual simplex alone,
    then the plans): alt generator medium seed 1, 70,970 columns, 2.3 s, plan 4.27e10,
    where the constructive plans cost 1.2e13 (a local-content floor of 40%) and the whole
    LP took 39 s beside one busy process, and did not come in its share beside a second
    solve; generated medium seed 1, 0.7 s, plan 3.452e10 (the whole solve reaches about
    3.44e10 in 60 s). Its value bounds the SPEC model as the large path's does. True
    where its LP was solved (its bound raised)."""
    sc, d, options = search.sc, search.d, search.options
    if search.deadline is None or sc.horizon.periods <= 1:
        return False
    t0 = time.perf_counter()
    limit = search.deadline - search.started
    until = min(search.deadline, t0 + EARLY_ONE_PERIOD_SHARE * limit)
    info: dict[str, object] = {}
    search.info["early_one_period"] = info
    if until - t0 < EARLY_MIN_SECONDS or search.stopped():
        info["skipped"] = "too little time"
        return False
    ab, _rows = one_period_model(sc, d)
    if ab.model.num_vars > EARLY_ONE_PERIOD_MAX_COLUMNS:
        info["skipped"] = f"{ab.model.num_vars:,} columns"
        return False
    info["columns"] = ab.model.num_vars
    if time.perf_counter() >= until or search.stopped():
        info["skipped"] = "no time left in its share"
        return False
    am = ab.model
    barrier = am.num_rows > EARLY_BARRIER_ROWS_PER_COLUMN * am.num_vars
    info["algorithm"] = "barrier" if barrier else "dual simplex"
    lp = lp_bound(ab, options, until, search.report, algorithm=(
        mathopt.LPAlgorithm.BARRIER if barrier else mathopt.LPAlgorithm.DUAL_SIMPLEX))
    # Its build included (1.2 s of alt medium seed 1's 2.3 + 1.2 s alone).
    info["seconds"] = round(time.perf_counter() - t0, 3)
    if lp.x is None:
        info["skipped"] = "its LP was not solved in its share"
        return False
    search.raise_bound(lp.bound, "one-period lp")
    pool = _Candidates(search)
    info.update(_time_indexed_guide(sc, d, ab, lp.x, options, search.deadline,
                                    search.report, pool.consider,
                                    reserve=min(GUIDED_RESERVE, 0.1 * limit),
                                    cap=GUIDE_MIN_SECONDS))
    info["plans"] = len(pool.found)
    return True


def unit_bound(sc: Scenario, d: Derived) -> float:
    """A bound that ignores capacity and stock: every unit is imported, left unmet, or made
    at home at no less than the cheapest workshop of every step with the cheapest
    material (transport, tooling, engagement and tardiness >= 0). Cheap at any size
    (2.3 s for 100,000 requests), and kept on `d` for the next caller."""
    cached = getattr(d, "_unit_bound", None)
    if cached is not None and cached[0] is sc:
        return float(cached[1])
    ranking = CapacityState(sc, d)
    total = 0.0
    for r in sc.requests:
        home = sum(_cheapest_step(sc, ranking, r, s)
                   for s in range(len(sc.component(r.component).routing)))
        total += r.quantity * min(sc.away_unit_objective(r), home)
    d._unit_bound = (sc, total)  # type: ignore[attr-defined]
    return total


def _cheapest_step(sc: Scenario, ranking: CapacityState, r: Request, s: int) -> float:
    """The least a unit of step s of r costs at home, capacity and stock aside: its
    cheapest eligible workshop (with delivery after the final step) and the cheapest
    material; inf where no workshop is eligible."""
    ranked = ranking.ranked(r, s)
    if not ranked:
        return math.inf
    step = sc.component(r.component).routing[s]
    cost = ranked[0][0]
    if step.material is not None and step.material_kg:
        cost += step.material_kg * min(
            (c.materials[step.material].price_per_kg for c in sc.material_centers
             if step.material in c.materials), default=math.inf)
    return cost


def bottleneck_bound(sc: Scenario, d: Derived) -> float:
    """The unit bound (`unit_bound`) raised by what capacity bottlenecks force away: for
    each request, the step whose eligible workshops can make the fewest of its units in
    the horizon; requests whose step shares a process and the same eligible workshops
    share those hours, `sum h_r x_r <= C` (h_r: the fewest hours a unit takes there, C:
    the workshops' hours of that process from the group's earliest release), and the
    units that cannot fit are sent away at the least a unit loses by it (a fractional
    knapsack, most loss per hour first). Each request is in one group and every other
    rule is relaxed, so the sum stays a lower bound of the SPEC model. On the alt
    generator's large instances, unit penalties of 1e9 with a single workshop able to plate
    thousands of units, the Lagrangian bound's steps had stayed far below it."""
    cached = getattr(d, "_bottleneck_bound", None)
    if cached is not None and cached[0] is sc:
        return float(cached[1])
    total = unit_bound(sc, d)
    ranking = CapacityState(sc, d)
    T = sc.horizon.periods
    workshop = {w.id: w for w in sc.workshops}
    # Requests share their eligible lists (`Derived.eligible`, `final_eligible`): what
    # depends only on the list is worked out once per list.
    names: dict[int, tuple[str, ...]] = {}
    fewest: dict[tuple[int, str, int], float] = {}
    hours_from: dict[tuple[int, str, int], float] = {}

    def hours_in(ws: list[str], proc: str, t0: int) -> float:
        key = (id(ws), proc, t0)
        if key not in hours_from:
            hours_from[key] = sum(workshop[w].cap(proc, t) for w in ws for t in range(t0, T))
        return hours_from[key]

    # (process, eligible workshops) -> [(loss per unit, hours per unit, units)]
    groups: dict[tuple[str, tuple[str, ...]], list[tuple[float, float, int]]] = defaultdict(list)
    first: dict[tuple[str, tuple[str, ...]], tuple[list[str], int]] = {}
    for r in sc.requests:
        comp = sc.component(r.component)
        n = len(comp.routing)
        home = 0.0
        tightest: tuple[float, list[str], str, float] | None = None
        for s, step in enumerate(comp.routing):
            home += _cheapest_step(sc, ranking, r, s)
            if home == math.inf:
                break
            ws = final_eligible(d, r, s, n)
            hkey = (id(ws), comp.id, s)
            if hkey not in fewest:
                fewest[hkey] = min(i.hours for i in d.step_infos(
                    comp.id, s, [workshop[w] for w in ws]))
            hours = fewest[hkey]
            if hours <= 0:
                continue
            units = hours_in(ws, step.process, r.release) / hours
            if tightest is None or units < tightest[0]:
                tightest = (units, ws, step.process, hours)
        loss = sc.away_unit_objective(r) - home
        if tightest is None or not loss > 0:
            continue
        _units, ws, proc, hours = tightest
        if id(ws) not in names:
            names[id(ws)] = tuple(sorted(ws))
        key = (proc, names[id(ws)])
        groups[key].append((loss, hours, r.quantity))
        if key not in first or r.release < first[key][1]:
            first[key] = (ws, r.release)
    for key, members in groups.items():
        ws, t0 = first[key]
        hours_left = hours_in(ws, key[0], t0)
        for loss, h, q in sorted(members, key=lambda m: -m[0] / m[1]):
            fit = min(float(q), hours_left / h)
            hours_left -= fit * h
            total += loss * (q - fit)
    d._bottleneck_bound = (sc, total)  # type: ignore[attr-defined]
    return total


def _lp_then_mip(search: Search, b: Built, deadline: float | None, emit: Emit,
                 race: LpRace | None = None) -> tuple[Built, Raw]:
    """Whole LP of the full model `b`, constructive plans guided by it period by period
    (`_time_indexed_guide`), then the MIP engine on the columns the LP used; the cheaper
    plan wins. The MIP's sub-MIP heuristic found its good plans on the generated medium
    instance of seed 2 only after 41 s, past a 60 s limit, where the guided plan took one
    second (0.8% from the bound)."""
    sc, d, options, started = search.sc, search.d, search.options, search.started
    now = time.perf_counter()
    lp_deadline = None if deadline is None else now + LP_SHARE * (deadline - now)
    emit("lp")
    # Whole, by dual simplex, also above FULL_LP_MAX_COLUMNS where the model is flat
    # (`model.whole_lp_columns`): its rows are few.
    flat = model.whole_lp_columns(sc, options.time_limit) > model.FULL_LP_MAX_COLUMNS
    lp = lp_bound(b, options, lp_deadline, emit, race=race,
                  whole=flat and b.model.num_vars > model.FULL_LP_MAX_COLUMNS)
    if lp.infeasible:
        return b, Raw(status="infeasible", bound=None, solver_objective=None)
    lp_seconds = time.perf_counter() - now
    if lp.x is None:
        # No LP solution in time (a busy machine): nothing to guide or restrict with; the
        # constructive plans and the neighbourhood search carry on from the incumbent.
        return b, Raw(status="no_solution", bound=None, solver_objective=None,
                      extra={"method": "lp-guided", "relaxation": "lp (not solved in time)"})
    pool = _Candidates(search)
    guided = pool.found
    # The guide's LP is a tenth of the whole one (generated medium: 8,003 of 103,409
    # columns, 1-2 s) and its plans are the best start the search gets (0.82% from the
    # bound, where the constructive plan is 3.5%): it may run past this phase's share.
    guide_info = _time_indexed_guide(sc, d, b, lp.x, options, search.deadline, emit,
                                     pool.consider,
                                     reserve=min(GUIDED_RESERVE, 1.0 + 0.1 * lp_seconds),
                                     cap=max(GUIDE_MIN_SECONDS, lp_seconds))
    bound = lp.bound
    am = b.model
    keep = support_of(b, lp.x)
    search.support = keep
    if lp.columns == am.num_vars and lp.duals is not None:
        # The whole model's LP, for the neighbourhood search's LP-guided neighbourhoods
        # (it would solve it again: 14 s on generated medium).
        search.lp_solution = (b, lp.x, lp.duals)
    extra = {"method": "lp-guided", "relaxation": "lp", "lp_rounds": lp.rounds,
             "lp_seconds": lp_seconds, "lp_columns": lp.columns,
             "mip_columns": int(keep.sum()), **guide_info}
    if deadline is not None and search.best is not None and (
            incumbent_point(search, b) is not None):
        # Under a limit, the neighbourhood search on the LP's support (`search.support`)
        # improves the incumbent from here. The MIP engine on the restriction spent the
        # time on its root node: on generated medium seed 2, 50 s without a better plan
        # than the guided one (0.82% from the LP bound), where the search reached 0.23%.
        raw = Raw(status="no_solution", bound=bound, solver_objective=None,
                  extra={**extra, "plan": "neighbourhood search on the LP's support"})
        return b, raw
    params = mathopt.SolveParameters(random_seed=options.seed, relative_gap_tolerance=options.gap,
                                     absolute_gap_tolerance=1e-6)
    if deadline is not None:
        params.time_limit = seconds(deadline - time.perf_counter())
    shown = bound if math.isfinite(bound) else None
    emit("search", None, shown)
    mip = solve_proto(am, am.to_proto(np.flatnonzero(keep)), _ENGINES[options.engine], params,
                      highs_progress(options, started, shown))
    raw = _restricted_raw(b, mip, bound)
    extra["plan"] = "restricted MIP"
    if guided:
        cost, source, gb, graw = min(guided, key=lambda c: c[0])
        if raw.solver_objective is None or cost < raw.solver_objective:
            graw.solver_objective, graw.bound = cost, raw.bound
            _mark_optimal(graw)
            graw.extra = {**extra, "plan": source}
            return gb, graw
    raw.extra = extra
    return b, raw


def _used_triples(ab: Built, x: np.ndarray) -> set[tuple[str, int, str]]:
    """The (request, step, workshop) triples whose unit columns the LP solution `x` of
    the one-period model `ab` uses."""
    on = x > 1e-9
    return {(rid, s, wid) for (rid, s, wid, _t), c in ab.x.items() if on[c]}


def _one_period_guided(sc: Scenario, d: Derived, ab: Built, x: np.ndarray,
                       consider: Callable[[str, tuple[Built, Raw]], None],
                       deadline: float | None = None,
                       stopped: Callable[[], bool] | None = None) -> None:
    """A constructive plan in each of ORDERS guided by the units the one-period LP
    solution `x` of `ab` gives each (request, step, workshop), offered to `consider`;
    `deadline` cuts each plan short, `stopped` ends the loop between plans."""
    guide = {(rid, s, wid): float(x[c]) for (rid, s, wid, _t), c in ab.x.items()
             if x[c] > 1e-9}
    for order_by in ORDERS:
        if stopped is not None and stopped():
            break
        consider("constructive, LP-guided",
                 greedy_plan(sc, d, guide, order_by, deadline=deadline))


def _one_period_beside(search: Search, ab: Built) -> bool:
    """The one-period LP of `ab` by HiGHS in a child process (solvers/lp_race.py), beside
    the neighbourhood search that follows this method, until the limit less the time its
    guided plans need; False where no child could be started. When it is solved, its
    bound, its triples (`Search.hints`) and the plans it guides reach the search through
    `Search.arrivals`. In this process it held the plan still for as long as it ran: on
    generated large fixed-cost seed 1 under a 600 s limit it ran 300 s unsolved (its
    limit was 175 s), with no better plan from 3 s to 389 s (10.6% from the bound at the
    end, the search having had 290 s)."""
    sc, d, options = search.sc, search.d, search.options
    assert search.deadline is not None
    am = ab.model
    # Barrier where tooling links make rows many (see EARLY_BARRIER_ROWS_PER_COLUMN), dual
    # simplex otherwise (generated large: 160 s, where barrier took 435 s).
    algorithm = (mathopt.LPAlgorithm.BARRIER
                 if am.num_rows > EARLY_BARRIER_ROWS_PER_COLUMN * am.num_vars
                 else mathopt.LPAlgorithm.DUAL_SIMPLEX)
    limit = search.deadline - search.started
    until = search.deadline - max(GUIDED_RESERVE, 0.08 * limit)
    if until - time.perf_counter() < EARLY_MIN_SECONDS:
        return False
    t0 = time.perf_counter()
    race = LpRace(am, am.to_proto(relax=True), mathopt.SolveParameters(
        random_seed=options.seed), until, algorithms=(algorithm,))
    if not race.children:
        return False
    search.closers.append(race.close)
    info = search.info

    def arrival() -> bool | None:
        ans = race.poll()
        if ans is None:
            if race.children:
                return None
            info["one_period_lp"] = f"not solved beside the search in {until - t0:.1f} s"
            race.close()
            return False
        race.close()
        seconds_ = time.perf_counter() - t0
        info.update(relaxation="one-period lp", one_period_lp=(
            f"solved beside the search in {seconds_:.1f} s ({algorithm.name.lower()})"),
            columns=am.num_vars)
        if ans.x is None or ans.duals is None or (
                ans.reason is not mathopt.TerminationReason.OPTIMAL):
            return False
        value, _rc, _y = duals_bound(am, ans.duals)
        search.raise_bound(value, "one-period lp")
        x = ans.x
        search.hints.update(_used_triples(ab, x))
        pool = _Candidates(search)
        _one_period_guided(sc, d, ab, x, pool.consider, deadline=search.deadline,
                           stopped=search.stopped)
        if not search.stopped():
            info.update(_time_indexed_guide(sc, d, ab, x, options, search.deadline,
                                            search.report, pool.consider))
        return True

    search.arrivals.append(arrival)
    return True


def support_of(b: Built, x: np.ndarray) -> np.ndarray:
    """The columns of `b` an LP solution `x` makes worth having, as a boolean mask: all
    periods of every (request, step, workshop) it used, the flows between their
    locations, and every column that is neither a unit nor a flow."""
    on = x > 1e-9
    used = {(rid, s, wid) for (rid, s, wid, _t), c in b.x.items() if on[c]}
    keep = np.ones(b.model.num_vars, dtype=bool)
    keep[np.fromiter(b.x.values(), dtype=np.int64, count=len(b.x))] = False
    keep[np.fromiter(b.G.values(), dtype=np.int64, count=len(b.G))] = False
    nodes: dict[tuple[str, int], set[str]] = defaultdict(set)
    for (rid, s, wid, _t), c in b.x.items():
        if (rid, s, wid) in used:
            keep[c] = True
            nodes[(rid, s)].add(b.node_of[wid])
    for (rid, s, a, to), c in b.G.items():
        if a in nodes.get((rid, s), ()) and to in nodes.get((rid, s + 1), ()):
            keep[c] = True
    return keep


def lp_bound(b: Built, options: SolveOptions, lp_deadline: float | None,
             emit: Emit,
             on_round: Callable[[np.ndarray], None] | None = None,
             whole: bool = False, race: LpRace | None = None,
             algorithm: mathopt.LPAlgorithm | None = None) -> LpResult:
    """Solve the LP relaxation of `b`: whole when it has at most `model.FULL_LP_MAX_COLUMNS`
    columns (by barrier, or dual simplex below RACE_MIN_COLUMNS or with few rows) or when
    `whole` (by dual simplex), else by column generation; the
    bound is the Lagrangian bound of the last duals (equal to the LP value once no column
    prices out). `race`: the whole LP's race, started already (`start_race`);
    `algorithm`: solved whole by this algorithm in this process (no race)."""
    am = b.model
    _lb, _ub, cost, _integer = am.arrays()
    n = am.num_vars

    # Which columns are units (x) and flows (G); everything else starts in the LP.
    unit_or_flow = np.zeros(n, dtype=bool)
    unit_or_flow[np.fromiter(b.x.values(), dtype=np.int64, count=len(b.x))] = True
    unit_or_flow[np.fromiter(b.G.values(), dtype=np.int64, count=len(b.G))] = True
    active = ~unit_or_flow
    if n <= model.FULL_LP_MAX_COLUMNS or whole or algorithm is not None:
        active[:] = True
    else:
        _seed(b, cost, active)
    group = np.full(n, -1, dtype=np.int64)  # the (request, step) of unit and flow columns
    group_of: dict[tuple[str, int], int] = {}
    for (rid, s, _w, _t), c in b.x.items():
        group[c] = group_of.setdefault((rid, s), len(group_of))
    for (rid, s, _a, _c), c in b.G.items():
        group[c] = group_of.setdefault((rid, s), len(group_of))

    bound = -math.inf
    lp_x: np.ndarray | None = None
    rounds = 0
    # Barrier: 14 s on the medium instance's full LP, where dual simplex took 19 s. With
    # few rows for its columns (facility location, assignment) dual simplex instead:
    # on a 150-site, 1,500-customer facility location LP (228,150 columns, 3,150 rows)
    # it took 1.0 s where barrier had not finished after 60 s. Also below
    # RACE_MIN_COLUMNS: on the built-in default scenario (3,786 columns) it took 0.16 s
    # where barrier took 0.86 s of a 3 s limit, and 2 to 6 times less on generated and
    # alt small instances (1,836-4,095 columns). Both are the LPs that are not raced
    # (`raced`).
    whole_above = whole and n > model.FULL_LP_MAX_COLUMNS
    chosen = algorithm or (mathopt.LPAlgorithm.DUAL_SIMPLEX if whole_above or not raced(am)
                           else mathopt.LPAlgorithm.BARRIER)
    lp_params = mathopt.SolveParameters(random_seed=options.seed, lp_algorithm=chosen)
    while True:
        rounds += 1
        if lp_deadline is not None:
            left = lp_deadline - time.perf_counter()
            if left <= 0:
                # Not even a first LP past its deadline: on generated medium with a 1 s
                # limit on a busy machine, an LP begun 3.6 s late with 1 s to run took
                # 40 s in the engine, and the solve returned after 45 s.
                break
            lp_params.time_limit = seconds(max(left, 1.0))
        cols = np.flatnonzero(active)
        if len(cols) == n and not whole and algorithm is None and raced(am):
            # The whole LP of a medium model: neither algorithm is reliably the faster
            # (solvers/lp_race.py), so both run and the first answer is taken.
            # No second more than its share: with a 2 s limit on generated medium the wait
            # to 1 s past it, then the race's grace, took the solve to 3.0 s.
            until = lp_deadline
            if race is not None:
                ans, race = race.wait(until), None
            else:
                ans = race_lp(am, am.to_proto(relax=True), lp_params, until)
        else:
            ans = solve_proto(am, am.to_proto(cols, relax=True), mathopt.SolverType.HIGHS,
                              lp_params)
        if ans.reason is not mathopt.TerminationReason.OPTIMAL or ans.duals is None:
            if ans.reason is mathopt.TerminationReason.INFEASIBLE:
                if not active.all():
                    # A policy the seed columns cannot meet: price with every column in.
                    active[:] = True
                    continue
                return LpResult(-math.inf, None, rounds, int(active.sum()), infeasible=True)
            break
        lp_x = ans.x
        value, d, y = duals_bound(am, ans.duals)
        bound = max(bound, value)
        # The LP's own value is no plan: only its bound is reported.
        emit("lp", None, bound)
        if on_round is not None and lp_x is not None:
            on_round(lp_x)
        entering = np.flatnonzero(~active & (d < RC_TOL))
        if len(entering) == 0:
            break
        # Partial pricing: the most negative few of every (request, step), so that early
        # duals, which price every unit of a request short of its demand alike, do not
        # bring in whole requests at once.
        entering = entering[np.lexsort((d[entering], group[entering]))]
        grp = group[entering]
        first = np.searchsorted(grp, grp)  # index of each group's first entry
        active[entering[np.arange(len(entering)) - first < ENTER_PER_STEP]] = True
        if lp_deadline is not None and time.perf_counter() >= lp_deadline:
            break
    return LpResult(bound, lp_x, rounds, int(active.sum()),
                    duals=y if lp_x is not None else None)


def _seed(b: Built, cost: np.ndarray, active: np.ndarray) -> None:
    """First columns of column generation: the unit columns of the cheapest workshops of
    every step, and the flows between their locations."""
    by_rsw: dict[tuple[str, int, str], list[int]] = defaultdict(list)
    for (rid, s, wid, _t), c in b.x.items():
        by_rsw[(rid, s, wid)].append(c)
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


def _restricted_raw(b: Built, mip: Answer, bound: float) -> Raw:
    """The restricted model's plan with the full model's bound: the restricted model's
    own optimality says nothing about the full model, nor does its infeasibility."""
    reason = (mathopt.TerminationReason.FEASIBLE if mip.x is not None
              else mathopt.TerminationReason.NO_SOLUTION_FOUND)
    raw = raw_from_answer(b, Answer(reason=reason, primal_bound=mip.primal_bound,
                                    dual_bound=bound, x=mip.x))
    _mark_optimal(raw)  # raw.bound is `bound` where finite
    return raw


def _mark_optimal(raw: Raw) -> None:
    """Status optimal for a plan within 1e-6 of its bound: the methods here prove
    optimality only that way."""
    obj, bound = raw.solver_objective, raw.bound
    if obj is not None and bound is not None and math.isfinite(bound) and (
            obj - bound <= 1e-6 * max(1.0, abs(obj))):
        raw.status = "optimal"
