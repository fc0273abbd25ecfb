"""The exact model of SPEC sections 4 to 6 solved through MathOpt.

The model itself is written one constraint family at a time in `solvers/constraints.py`;
`Built`, `Raw` and the shared rules live in `solvers/model.py`. Both are re-exported here,
where the rest of the code has always found them. This module turns the built model into
an engine call and the engine's answer back into SPEC decisions.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from ortools.math_opt.python import mathopt

from solvers.constraints import build
from solvers.lpmodel import Answer, seconds, solve_proto
from solvers.model import (
    COMPACT_ABOVE_X,
    Built,
    Raw,
    delivery_km,
    final_eligible,
    step_window,
)
from solvers.options import Engine, ProgressEvent, SolveOptions

__all__ = ["COMPACT_ABOVE_X", "Built", "Raw", "build", "delivery_km", "final_eligible",
           "highs_progress", "parse_highs_progress", "raw_from_answer", "solve_model",
           "step_window"]


# Relative amount taken off a bound read from the engine's printed table.
PRINTED_BOUND_SHAVE = 1e-8
# How far from an integer a relaxation's value of an integer column may be for the
# relaxation's solution to be taken as the MIP's (`integral_relaxation`).
INTEGRAL_TOLERANCE = 1e-6


def parse_highs_progress(line: str) -> tuple[float | None, float | None] | None:
    """(incumbent, bound) from a line of HiGHS's branch-and-bound table, else None.

    Such a line reads `[src] proc inqueue leaves expl% bestbound bestsol gap ... time`.
    """
    tokens = line.split()
    if len(tokens) < 8 or not tokens[-1].endswith("s"):
        return None
    if tokens[0].isalpha():
        tokens = tokens[1:]
    try:
        pct = next(i for i, tok in enumerate(tokens[:5]) if tok.endswith("%"))
    except StopIteration:
        return None
    if not all(tok.isdigit() for tok in tokens[:pct]) or len(tokens) < pct + 3:
        return None

    def num(tok: str) -> float | None:
        try:
            v = float(tok)
        except ValueError:
            return None
        return v if math.isfinite(v) else None

    return num(tokens[pct + 2]), num(tokens[pct + 1])


_STATUS = {
    mathopt.TerminationReason.OPTIMAL: "optimal",
    mathopt.TerminationReason.FEASIBLE: "feasible",
    mathopt.TerminationReason.INFEASIBLE: "infeasible",
    mathopt.TerminationReason.NO_SOLUTION_FOUND: "no_solution",
}

_ENGINES = {Engine.HIGHS: mathopt.SolverType.HIGHS, Engine.SCIP: mathopt.SolverType.GSCIP}


def engine_parameters(options: SolveOptions, deadline: float | None,
                      **given: Any) -> mathopt.SolveParameters:
    """The MIP engine's parameters from `options` (seed, threads, presolve, heuristics,
    cuts) and `deadline` (a time.perf_counter() value; None: no limit), with `given`."""
    params = mathopt.SolveParameters(random_seed=options.seed, **given)
    if options.engine is not Engine.HIGHS:
        # HiGHS through MathOpt takes no thread count; its MIP search is serial anyway.
        params.threads = options.threads
    if not options.presolve:
        params.presolve = mathopt.Emphasis.OFF
    if not options.heuristics:
        params.heuristics = mathopt.Emphasis.OFF
    if not options.cuts:
        params.cuts = mathopt.Emphasis.OFF
    if options.inference_branching and options.engine is Engine.SCIP:
        # Above every other rule's priority (relpscost's is 10000): see SolveOptions.
        params.gscip.int_params["branching/inference/priority"] = 100000
    if deadline is not None:
        params.time_limit = seconds(deadline - time.perf_counter())
    return params


def solve_model(b: Built, options: SolveOptions, started: float,
                deadline: float | None = None) -> Raw:
    """The whole model on the MIP engine, until proven optimal or `deadline` (a
    time.perf_counter() value; None: no limit)."""
    params = engine_parameters(options, deadline, relative_gap_tolerance=options.gap,
                               absolute_gap_tolerance=1e-6)
    t0 = time.perf_counter()
    progress = options.progress
    if progress is not None:
        progress(ProgressEvent("search", t0 - started))
    proto = b.model.to_proto(relax=options.lp_first)
    if options.lp_first:
        found = integral_relaxation(b, proto, deadline)
        if found is not None:
            found.seconds["solve"] = time.perf_counter() - t0
            return found
        del proto.variables.integers[:]
        proto.variables.integers.extend(np.frombuffer(b.model.integer, dtype=np.int8)
                                        .astype(bool).tolist())
    ans = solve_proto(b.model, proto, _ENGINES[options.engine], params,
                      highs_progress(options, started))
    raw = raw_from_answer(b, ans)
    raw.seconds["solve"] = time.perf_counter() - t0
    return raw


def integral_relaxation(b: Built, relaxed: Any, deadline: float | None) -> Raw | None:
    """The model's LP relaxation (`relaxed`, its proto with every column continuous) on
    GLOP, as the MIP's answer where it is optimal and every integer column integral: a
    solution of the MIP whose cost is the relaxation's optimum, a lower bound of the
    MIP's, so the MIP's optimum. None otherwise (fractional, infeasible, out of time):
    the MIP engine decides."""
    # Without presolve: 1.9 against 2.3 ms a quote's relaxation (the service bench's).
    params = mathopt.SolveParameters(presolve=mathopt.Emphasis.OFF)
    if deadline is not None:
        params.time_limit = seconds(deadline - time.perf_counter())
    ans = solve_proto(b.model, relaxed, mathopt.SolverType.GLOP, params)
    if ans.reason is not mathopt.TerminationReason.OPTIMAL or ans.x is None:
        return None
    integer = np.frombuffer(b.model.integer, dtype=np.int8).astype(bool)
    rounded = np.round(ans.x[integer])
    if np.any(np.abs(ans.x[integer] - rounded) > INTEGRAL_TOLERANCE):
        return None
    ans.x[integer] = rounded
    raw = raw_from_answer(b, ans)
    if raw.solver_objective is None:
        return None
    # The bound is the relaxation's optimum; GLOP's tolerances may put its dual value a
    # hair above the rounded solution's cost.
    raw.bound = min(ans.dual_bound, raw.solver_objective)
    return raw


def highs_progress(options: SolveOptions, started: float,
                   bound: float | None = None) -> Callable[[list[str]], None] | None:
    """A HiGHS log callback that turns table lines into progress events; `bound`, when
    given, is reported instead of the engine's own (a restricted model's bound is not one
    of the full model)."""
    progress = options.progress
    if progress is None or options.engine is not Engine.HIGHS:
        return None

    def msg_cb(lines: list[str]) -> None:
        for line in lines:
            found = parse_highs_progress(line)
            if found is not None:
                inc, bd = found
                if bd is not None:
                    # The table prints the bound rounded (to 10 or so digits): shaved by
                    # more than that, it stays a bound (default scenario: 8226110220.264
                    # printed, 8226110220.263785 returned).
                    bd -= PRINTED_BOUND_SHAVE * max(1.0, abs(bd))
                progress(ProgressEvent("search", time.perf_counter() - started, inc,
                                       bd if bound is None else bound))
    return msg_cb


def drop_unused_fixed_costs(b: Built, vals: np.ndarray) -> np.ndarray:
    """`vals` with every engagement, tooling and sourcing binary that no unit uses set to
    0. A plan found under a time limit may pay for a workshop or a tool it never uses
    (the model allows it, it only costs more): its rows do not, and SPEC section 6 charges
    only what is used, so the model's objective would exceed the cost of its rows (generated
    medium, seed 1, 45 s: by 116,200,000, in tooling). Dropping them keeps every row
    satisfied: each binary only bounds units that are 0, and where fees count in a
    local-content row the model has no idle fee to drop (`add_fees_only_with_use`)."""
    on = vals > 0.5
    used = {(rid, s, wid) for (rid, s, wid, _t), c in b.x.items() if vals[c] > 0.5}
    used_w = {w for _r, _s, w in used}
    used_tool = {(w, b.component_of[r], s) for r, s, w in used}
    drop = [c for wid, c in b.eng.items() if on[c] and wid not in used_w]
    drop += [c for key, c in b.tool.items() if on[c] and key not in used_tool]
    drop += [c for key, c in b.src.items() if on[c] and key not in used]
    if not drop:
        return vals
    out = vals.copy()
    out[np.asarray(drop, dtype=np.int64)] = 0.0
    return out


def raw_from_answer(b: Built, ans: Answer) -> Raw:
    """The answer in SPEC terms; integer columns must come back integral."""
    status = _STATUS.get(ans.reason)
    if status is None:
        if ans.reason is mathopt.TerminationReason.INFEASIBLE_OR_UNBOUNDED:
            status = "infeasible"
        elif ans.has_solution:
            status = "feasible"
        else:
            status = "no_solution"
    raw = Raw(status=status, bound=None, solver_objective=None)
    if math.isfinite(ans.dual_bound):
        raw.bound = ans.dual_bound
    if status in ("infeasible", "no_solution") or ans.x is None:
        if status in ("optimal", "feasible"):
            raw.status = "no_solution"
        return raw
    vals = drop_unused_fixed_costs(b, ans.x)
    raw.solver_objective = float(np.dot(np.frombuffer(b.model.cost, dtype=np.float64), vals))
    integer = np.frombuffer(b.model.integer, dtype=np.int8).astype(bool)
    rounded = np.round(vals)
    bad = np.flatnonzero(integer & (np.abs(vals - rounded) > 1e-4))
    if len(bad):
        raise RuntimeError(f"solver returned fractional column {bad[0]} = {vals[bad[0]]}")

    def ints(cols: dict[Any, int]) -> dict[Any, int]:
        return {k: int(q) for k, c in cols.items() if (q := rounded[c]) > 0}

    raw.x = ints(b.x)
    raw.G = ints(b.G)
    raw.z = ints(b.z)
    raw.u = ints(b.u)
    raw.M = {k: float(vals[c]) for k, c in b.M.items() if vals[c] > 1e-9}
    return raw
