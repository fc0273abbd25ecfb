"""The earliest period by which every unit of a one-request scenario can be delivered (its
last final step made, or its imports in with their lead time).

The model is the scenario's own (solvers/constraints.py, every rule of SPEC 5 and 8) with
no unit left unmet and no cost. For each period T from the first in which the request
could be complete, the final-step units after T (and the imports, when their lead time
is after T) are fixed at 0: where even the LP relaxation is then infeasible, T is ruled
out (most often without solving it, where the columns' bounds alone fall short of the
quantity: `_capacity_short`); at the first T where it is not, the MIP looks for one
plan (any plan: the model has no cost), and finding one proves T the earliest. On the 88 quotes of
`python -m broker.service.bench` the LP was never feasible before the MIP was, so this
is a few LPs of a millisecond and one feasibility MIP (9 ms on average with SCIP). It
replaced a bisection over the due period, one whole solve per probe (47% of a quote's
time), and a MIP minimising a count of periods (28 ms on average in the engine).
"""

from __future__ import annotations

import copy
import math
import time
from array import array
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from ortools.math_opt.python import mathopt

from models.check import check
from models.derived import Derived
from models.evaluate import compute_kpis
from models.plan import Plan
from models.scenario import Scenario
from solvers.constraints import build
from solvers.extract import rows_plan
from solvers.lpmodel import Answer, ArrayModel, seconds, solve_proto
from solvers.mip import _ENGINES, engine_parameters, raw_from_answer
from solvers.model import Built, Raw
from solvers.options import SolveOptions


@dataclass(frozen=True)
class Earliest:
    """`status`: `optimal`, `period` is the earliest; `feasible`, a plan delivers every
    unit by `period` and none before `bound` (the time limit came first); `infeasible`, no
    plan delivers every unit within the horizon; `no_solution`, none found in time.
    `plan` is a plan of the scenario (through the checker) complete by `period`, None when
    `period` is the caller's own `by` or there is no period."""

    period: int | None
    status: str
    bound: int | None
    plan: Plan | None
    seconds: float


def earliest_completion(sc: Scenario, options: SolveOptions | None = None, *,
                        by: int | None = None) -> Earliest:
    """The earliest completion of the one request of `sc`. `by`: a period by which the
    caller already has a plan with every unit (the search looks no later)."""
    options = options or SolveOptions()
    started = options.started if options.started is not None else time.perf_counter()
    d = Derived(sc)
    return _earliest(sc, d, build(sc, d), options, started, by)


def solve_with_earliest(sc: Scenario, options: SolveOptions | None = None,
                        earliest_options: SolveOptions | None = None
                        ) -> tuple[Plan, Earliest | None]:
    """`solve(sc, options)` and, when its plan has one, `earliest_completion(sc,
    earliest_options, by=` the plan's completion when it delivers every unit `)`, on the
    model the engine was given (built once: the build was a third of the earliest
    question's time). None: no plan."""
    from solvers.pipeline import solve_keeping_search

    plan, search = solve_keeping_search(sc, options)
    if not plan.status.has_plan:
        return plan, None
    options = earliest_options or SolveOptions()
    started = options.started if options.started is not None else time.perf_counter()
    by = completion_period(sc, plan) if not plan.unmet else None
    if search is not None and search.full is not None:
        d, b = search.d, search.full
        # A model of its own that shares the matrix (never changed) with the engine's.
        m = copy.copy(b.model)
        m.cost, m.ub = array("d", m.cost), array("d", m.ub)
        b = replace(b, model=m)
    else:
        d = search.d if search is not None else Derived(sc)
        b = build(sc, d)
    return plan, _earliest(sc, d, b, options, started, by)


def completion_period(sc: Scenario, plan: Plan) -> int:
    """The last period of the plan's one request: its last final-step period, or the
    lead time of its imports; -1 when nothing is made or imported."""
    req = sc.requests[0]
    comp = sc.component(req.component)
    finals = [row.period for row in plan.production if row.step == len(comp.routing) - 1]
    imported = sum(i.quantity for i in plan.imports)
    lead = comp.import_.lead_periods if imported and comp.import_ is not None else 0
    return max([*finals, lead] if finals or imported else [-1])


def _earliest(sc: Scenario, d: Derived, b: Built, options: SolveOptions, started: float,
              by: int | None) -> Earliest:
    """The search of `earliest_completion` on `b`, the model of `sc` (changed here)."""
    deadline = None if options.time_limit is None else started + options.time_limit
    if len(sc.requests) != 1:
        raise ValueError(f"earliest_completion is for one request, found {len(sc.requests)}")
    r = sc.requests[0]
    comp = sc.component(r.component)
    n = len(comp.routing)
    if by is not None and by > sc.horizon.periods - 1:
        by = None  # imports in after the horizon: no help
    last = sc.horizon.periods - 1 if by is None else by

    def answer(period: int | None, status: str, bound: int | None,
               plan: Plan | None = None) -> Earliest:
        return Earliest(period, status, bound, plan, time.perf_counter() - started)

    m = b.model
    finals: dict[int, list[int]] = defaultdict(list)
    for (_rid, s, _w, t), col in b.x.items():
        if s == n - 1:
            finals[t].append(col)
    z = b.z.get(r.id)
    lead = comp.import_.lead_periods if z is not None and comp.import_ is not None else None
    ends = [t for t in sorted({*finals, *([lead] if lead is not None else [])}) if t <= last]
    if not ends:
        return answer(None, "infeasible", None)
    m.cost = array("d", bytes(8 * m.num_vars))
    m.ub[b.u[r.id]] = 0.0
    lb, ub0, _cost, _integer = m.arrays()
    short = _capacity_short(sc, b, n)
    for T in ends:
        if by is not None and by <= T:
            return answer(by, "optimal", by)
        ub = ub0.copy()
        for t, cols in finals.items():
            if t > T:
                ub[cols] = 0.0
        if z is not None and lead is not None and lead > T:
            ub[z] = 0.0
        left = math.inf if deadline is None else deadline - time.perf_counter()
        if left <= 0:
            break
        if short(T, ub, 0.0 if z is None else ub[z]):
            continue  # the LP is infeasible too
        point = _lp_point(m, lb, ub, left)
        if point is None:
            continue
        plan = _rounded_plan(sc, d, b, point, ub)
        if plan is not None:
            return answer(T, "optimal", T, plan)
        raw = _any_plan(b, ub, options, deadline)
        if raw.status == "infeasible":
            continue
        if raw.solver_objective is None:
            break  # out of time: T is neither ruled out nor reached
        try:
            return answer(T, "optimal", T, _witness(sc, d, b, raw))
        except RuntimeError:
            break  # the checker refused the engine's plan (a bug): T stays open
    else:
        # Every period up to the last that could be is ruled out (or is the caller's own).
        return answer(by, "optimal", by) if by is not None else answer(
            None, "infeasible", None)
    # Every period before T is ruled out; T itself is open.
    if by is not None:
        return answer(by, "feasible", T)
    return answer(None, "no_solution", T)


def _capacity_short(sc: Scenario, b: Built, n: int
                    ) -> Callable[[int, np.ndarray, float], bool]:
    """A test that rules a period T out without an LP: some step's columns that could
    still count by T, at their bounds, with the imports allowed by T, make fewer units
    than the request's quantity. Every final-step unit by T needs one of each earlier step
    s by T - (n-1-s) * lag (precedence with lag, and flow's equal totals), so where the
    bounds fall short the LP relaxation is infeasible as well, and the answer is the
    same. The bounds are whole units, so short is short by a unit at least. On the 100
    quotes of the bench's ledger it rules out 56 of the 58 periods whose LP was
    infeasible (138 LPs -> 82, each about 1.5 ms with its proto)."""
    quantity = sc.requests[0].quantity
    lag = sc.policy.step_lag_periods
    cols: dict[int, list[int]] = defaultdict(list)
    periods: dict[int, list[int]] = defaultdict(list)
    for (_rid, s, _w, t), col in b.x.items():
        cols[s].append(col)
        periods[s].append(t)
    steps = [(np.array(cols[s], dtype=np.int64), np.array(periods[s], dtype=np.int64),
              (n - 1 - s) * lag) for s in range(n)]

    def short(T: int, ub: np.ndarray, imported: float) -> bool:
        return any(float(ub[c[t <= T - back]].sum()) + imported <= quantity - 0.5
                   for c, t, back in steps)

    return short


def _lp_point(m: ArrayModel, lb: np.ndarray, ub: np.ndarray, left: float
              ) -> np.ndarray | None:
    """A point of the LP relaxation with these bounds; None when the LP engine proves
    there is none (then neither is there an integer one). Without a point within the
    time (not expected at this size), the zero vector, which the MIP then settles."""
    params = mathopt.SolveParameters()
    if math.isfinite(left):
        params.time_limit = seconds(left)
    ans = solve_proto(m, m.to_proto(lb=lb, ub=ub, relax=True), mathopt.SolverType.GLOP,
                      params)
    if ans.reason is mathopt.TerminationReason.INFEASIBLE:
        return None
    return ans.x if ans.x is not None else np.zeros(m.num_vars)


def _rounded_plan(sc: Scenario, d: Derived, b: Built, point: np.ndarray, ub: np.ndarray
                  ) -> Plan | None:
    """The LP's point as a plan, when it is one: every integer column integral once the
    binaries that carry anything are set to 1, and every row and bound held (65 of the
    72 feasibility questions of the bench's quotes, each a MIP saved). None otherwise."""
    m = b.model
    lb, _ub, _cost, integer = m.arrays()
    x = point.copy()
    x[integer & (ub <= 1.0) & (lb == 0.0) & (x > 1e-9)] = 1.0
    if np.any(np.abs(x[integer] - np.round(x[integer])) > 1e-6):
        return None
    x[integer] = np.round(x[integer])
    if m.violation(x) > 1e-9 or np.any(x > ub + 1e-9):
        return None
    raw = raw_from_answer(b, Answer(mathopt.TerminationReason.FEASIBLE, 0.0, 0.0, x))
    try:
        return _witness(sc, d, b, raw)
    except RuntimeError:
        return None  # the checker has the last word; the MIP answers instead


def _any_plan(b: Built, ub: np.ndarray, options: SolveOptions, deadline: float | None) -> Raw:
    """One integer point of the model with these bounds, by the MIP engine: `infeasible`
    when it proves there is none, no solution when the deadline came first."""
    params = engine_parameters(options, deadline, solution_limit=1)
    ans = solve_proto(b.model, b.model.to_proto(ub=ub), _ENGINES[options.engine], params)
    return raw_from_answer(b, ans)


def _witness(sc: Scenario, d: Derived, b: Built, raw: Raw) -> Plan:
    """The plan of the earliest model's answer, through the checker: its rows satisfy
    every rule of the scenario (its cost is the scenario's own, recomputed from the rows)."""
    # The answer's objective counts periods, not cost: the rows are costed alone.
    rows, terms = rows_plan(sc, d, b, raw)
    plan = rows.model_copy(update={"objective": sum(terms.values()),
                                   "kpis": compute_kpis(sc, rows, terms)})
    report = check(sc, plan)
    if not report.ok:
        raise RuntimeError(f"earliest-completion plan refused: {report.violations[0]}")
    return plan
