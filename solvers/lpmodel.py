"""A linear model held in flat arrays, solved through MathOpt's proto interface.

Building a model variable by variable with MathOpt's Python objects costs tens of
microseconds and several hundred bytes per variable and term: the large generated instance
(3.5 M variables) took 450 s and 5.4 GB that way. Here a variable is an index and a term
three array entries; the model goes to the solver as one `ModelProto`, and solutions come
back as arrays. The same arrays let `solvers.lp_guided` price columns with numpy.
"""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    # Loaded where a model goes to an engine, not with this module: the constructive plan
    # builds on `ArrayModel` too, and comes before OR-Tools has loaded (0.3-0.5 s of a
    # first solve, solvers/pipeline.py).
    from ortools.math_opt import model_pb2, result_pb2
    from ortools.math_opt.python import mathopt

INF = math.inf
# A sub-model's row with a bound or a coefficient above these is in money, not in hours,
# units or kilograms, and is scaled (`ArrayModel.sub_proto`).
MONEY_ROW_BOUND = 1e9
MONEY_ROW_COEFFICIENT = 1e7


class _Numpy:
    """numpy, imported at its first use in this module: the constructive plan builds on
    `ArrayModel` (its arrays are the standard library's) and is made before numpy loads,
    0.1 s of the 0.15 s in which a 3 s solve owes its first plan. The first use puts the
    module itself in this one's namespace, so later uses cost nothing more."""

    def __getattr__(self, name: str) -> Any:
        import numpy

        sys.modules[__name__].np = numpy  # type: ignore[attr-defined]
        return getattr(numpy, name)


if not TYPE_CHECKING:
    np = _Numpy()


class ArrayModel:
    """Columns (bounds, cost, integrality), rows (bounds) and the matrix as triples.
    Minimisation; all indices are plain ints in order of creation."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lb = array("d")
        self.ub = array("d")
        self.cost = array("d")
        self.integer = array("b")
        self.row_lb = array("d")
        self.row_ub = array("d")
        self.a_row = array("i")
        self.a_col = array("i")
        self.a_val = array("d")
        self._frozen: Matrix | None = None

    @property
    def num_vars(self) -> int:
        return len(self.lb)

    @property
    def num_rows(self) -> int:
        return len(self.row_lb)

    def var(self, lb: float = 0.0, ub: float = INF, *, integer: bool = False,
            cost: float = 0.0) -> int:
        self.lb.append(lb)
        self.ub.append(ub)
        self.cost.append(cost)
        self.integer.append(1 if integer else 0)
        self._frozen = None
        return len(self.lb) - 1

    def add_cost(self, col: int, coef: float) -> None:
        self.cost[col] += coef

    def row(self, cols: Sequence[int], coefs: Sequence[float] | float, lb: float = -INF,
            ub: float = INF) -> int:
        """Add `lb <= sum coefs * cols <= ub`; `coefs` may be one number for all columns.
        A column may appear more than once; its coefficients are added up."""
        i = len(self.row_lb)
        self.row_lb.append(lb)
        self.row_ub.append(ub)
        n = len(cols)
        self.a_row.extend([i] * n)
        self.a_col.extend(cols)
        if isinstance(coefs, (int, float)):
            self.a_val.extend([float(coefs)] * n)
        else:
            self.a_val.extend(coefs)
        self._frozen = None
        return i

    def matrix(self) -> Matrix:
        """The matrix with duplicate entries summed, sorted by row then column (cached
        until the model changes)."""
        if self._frozen is None:
            rows = np.frombuffer(self.a_row, dtype=np.int32)
            cols = np.frombuffer(self.a_col, dtype=np.int32)
            vals = np.frombuffer(self.a_val, dtype=np.float64)
            order = np.lexsort((cols, rows))
            rows, cols, vals = rows[order], cols[order], vals[order]
            if len(rows):
                start = np.ones(len(rows), dtype=bool)
                start[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
                idx = np.flatnonzero(start)
                vals = np.add.reduceat(vals, idx)
                rows, cols = rows[idx], cols[idx]
                keep = vals != 0.0
                rows, cols, vals = rows[keep], cols[keep], vals[keep]
            self._frozen = Matrix(rows, cols, vals)
        return self._frozen

    def coef(self, row: int, col: int) -> float:
        """The coefficient of `col` in `row` (0 if absent)."""
        mat = self.matrix()
        lo, hi = np.searchsorted(mat.rows, [row, row + 1])
        at = lo + np.searchsorted(mat.cols[lo:hi], col)
        return float(mat.vals[at]) if at < hi and mat.cols[at] == col else 0.0

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Copies of (lb, ub, cost, integer) as numpy arrays."""
        return (np.array(self.lb), np.array(self.ub), np.array(self.cost),
                np.array(self.integer, dtype=bool))

    def to_proto(self, cols: np.ndarray | None = None, *, lb: np.ndarray | None = None,
                 ub: np.ndarray | None = None, relax: bool = False) -> model_pb2.ModelProto:
        """The model (or the sub-model of the sorted column indices `cols`, the others
        being left out, i.e. fixed at 0) as a MathOpt proto. Column and row ids are their
        indices here, so solutions map back without a table. `lb`/`ub` override bounds."""
        from ortools.math_opt import model_pb2

        mat = self.matrix()
        all_lb, all_ub, cost, integer = self.arrays()
        if lb is not None:
            all_lb = lb
        if ub is not None:
            all_ub = ub
        p = model_pb2.ModelProto(name=self.name)
        if cols is None:
            ids = np.arange(self.num_vars)
            rows, mcols, vals = mat.rows, mat.cols, mat.vals
        else:
            ids = np.asarray(cols)
            inside = np.zeros(self.num_vars, dtype=bool)
            inside[ids] = True
            keep = inside[mat.cols]
            rows, mcols, vals = mat.rows[keep], mat.cols[keep], mat.vals[keep]
        v = p.variables
        v.ids.extend(ids.tolist())
        v.lower_bounds.extend(all_lb[ids].tolist())
        v.upper_bounds.extend(all_ub[ids].tolist())
        v.integers.extend((np.zeros(len(ids), dtype=bool) if relax else integer[ids]).tolist())
        nz = np.flatnonzero(cost[ids])
        p.objective.linear_coefficients.ids.extend(ids[nz].tolist())
        p.objective.linear_coefficients.values.extend(cost[ids][nz].tolist())
        c = p.linear_constraints
        c.ids.extend(range(self.num_rows))
        c.lower_bounds.extend(self.row_lb)
        c.upper_bounds.extend(self.row_ub)
        a = p.linear_constraint_matrix
        a.row_ids.extend(rows.tolist())
        a.column_ids.extend(mcols.tolist())
        a.coefficients.extend(vals.tolist())
        return p


    def sub_proto(self, free: np.ndarray, values: np.ndarray) -> tuple[model_pb2.ModelProto,
                                                                      float]:
        """The model with every column outside the boolean mask `free` fixed at `values`:
        only the free columns and the rows they appear in, each row's bounds shifted by
        what the fixed columns contribute. Returns the proto and the fixed columns' cost
        (to add to the sub-model's objective). Ids are the full model's indices, so a
        solution maps back through `solve_proto` like any other; rows in money are
        divided by their largest free coefficient (their duals are then in that unit)."""
        from ortools.math_opt import model_pb2

        mat = self.matrix()
        _lb, _ub, cost, integer = self.arrays()
        fixed_vals = np.where(free, 0.0, values)
        shift = mat.times(fixed_vals, self.num_rows)
        on_free = free[mat.cols]
        rows_kept = np.unique(mat.rows[on_free])
        p = model_pb2.ModelProto(name=self.name)
        ids = np.flatnonzero(free)
        v = p.variables
        v.ids.extend(ids.tolist())
        v.lower_bounds.extend(np.frombuffer(self.lb, dtype=np.float64)[ids].tolist())
        v.upper_bounds.extend(np.frombuffer(self.ub, dtype=np.float64)[ids].tolist())
        v.integers.extend(integer[ids].tolist())
        nz = ids[np.flatnonzero(cost[ids])]
        p.objective.linear_coefficients.ids.extend(nz.tolist())
        p.objective.linear_coefficients.values.extend(cost[nz].tolist())
        rl = np.frombuffer(self.row_lb, dtype=np.float64)[rows_kept] - shift[rows_kept]
        ru = np.frombuffer(self.row_ub, dtype=np.float64)[rows_kept] - shift[rows_kept]
        rows, vals = mat.rows[on_free], mat.vals[on_free]
        # Rows in money (the local-content row: coefficients up to 1.7e8 IDR, a bound of
        # about 4e10 once the fixed columns are taken out) are divided by their largest
        # free coefficient: the same rows, but the engine's absolute tolerance of 1e-6
        # then means something at their scale. In IDR, HiGHS refused 4 of 27 sub-models
        # of the alt generator's large seed 1 in 150 s, and 69 of 134 in a 600 s solve
        # ("HighsStatus: kError [INTERNAL]": a solution found, then judged infeasible);
        # the three saved ones, scaled so, were solved to optimality.
        top = np.zeros(self.num_rows)
        np.maximum.at(top, rows, np.abs(vals))
        top = top[rows_kept]
        big = np.fmax(np.abs(np.where(np.isfinite(rl), rl, 0.0)),
                      np.abs(np.where(np.isfinite(ru), ru, 0.0)))
        scale = np.where(((big > MONEY_ROW_BOUND) | (top > MONEY_ROW_COEFFICIENT))
                         & (top > 0), top, 1.0)
        c = p.linear_constraints
        c.ids.extend(rows_kept.tolist())
        c.lower_bounds.extend((rl / scale).tolist())
        c.upper_bounds.extend((ru / scale).tolist())
        per_row = np.ones(self.num_rows)
        per_row[rows_kept] = scale
        a = p.linear_constraint_matrix
        a.row_ids.extend(rows.tolist())
        a.column_ids.extend(mat.cols[on_free].tolist())
        a.coefficients.extend((vals / per_row[rows]).tolist())
        return p, float(np.dot(cost, fixed_vals))

    def violation(self, values: np.ndarray) -> float:
        """The largest violation of a column or row bound by `values`, relative to the
        row's scale (0 for a feasible point)."""
        lb, ub, _cost, integer = self.arrays()
        worst = float(max(np.max(lb - values, initial=0.0), np.max(values - ub, initial=0.0)))
        frac = np.abs(values[integer] - np.round(values[integer]))
        worst = max(worst, float(np.max(frac, initial=0.0)))
        mat = self.matrix()
        act = mat.times(values, self.num_rows)
        scale = 1.0 + np.bincount(mat.rows, weights=np.abs(mat.vals * values[mat.cols]),
                                  minlength=self.num_rows)
        rl = np.frombuffer(self.row_lb, dtype=np.float64)
        ru = np.frombuffer(self.row_ub, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            over = np.maximum(np.nan_to_num(rl - act, nan=0.0, neginf=0.0),
                              np.nan_to_num(act - ru, nan=0.0, neginf=0.0)) / scale
        return max(worst, float(np.max(over, initial=0.0)))


@dataclass
class Matrix:
    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray

    def times(self, x: np.ndarray, num_rows: int) -> np.ndarray:
        """A @ x."""
        return np.bincount(self.rows, weights=self.vals * x[self.cols], minlength=num_rows)

    def t_times(self, y: np.ndarray, num_cols: int) -> np.ndarray:
        """A.T @ y."""
        return np.bincount(self.cols, weights=self.vals * y[self.rows], minlength=num_cols)


@dataclass
class Answer:
    """What a solve returned, as arrays over the full model's columns and rows."""

    reason: mathopt.TerminationReason
    primal_bound: float
    dual_bound: float
    x: np.ndarray | None = None  # best solution's values (0 for columns left out)
    duals: np.ndarray | None = None  # row duals (LP only)
    error: str | None = None  # the engine's own error, where it failed

    @property
    def has_solution(self) -> bool:
        return self.x is not None


def solve_proto(am: ArrayModel, proto: model_pb2.ModelProto, solver_type: mathopt.SolverType,
                params: mathopt.SolveParameters,
                msg_cb: Callable[[list[str]], None] | None = None,
                hint: tuple[np.ndarray, np.ndarray] | None = None) -> Answer:
    """Solve `proto` (made by `am.to_proto`) and map the answer onto `am`'s indices;
    `hint` (column ids, values) is a solution the engine starts from."""
    from ortools.math_opt.core.python import solver as _solver
    from ortools.math_opt.python import mathopt

    init = mathopt.StreamableSolverInitArguments()
    model_params = mathopt.ModelSolveParameters().to_proto()
    if hint is not None:
        h = model_params.solution_hints.add()
        h.variable_values.ids.extend(hint[0].tolist())
        h.variable_values.values.extend(hint[1].tolist())
    try:
        raw: result_pb2.SolveResultProto = _solver.solve(
            proto, solver_type.value, init.to_proto(), params.to_proto(),
            model_params, msg_cb,
            mathopt.CallbackRegistration().to_proto(), None, None)
    except Exception as e:  # noqa: BLE001 - the engine's errors come as several types
        # An engine that fails on one model (HiGHS: "HighsStatus: kError [INTERNAL]" on
        # a sub-model of the neighbourhood search, alt generator's large seed 1) leaves
        # the caller without an answer, not the solve without a plan.
        return Answer(reason=mathopt.TerminationReason.OTHER_ERROR, primal_bound=math.inf,
                      dual_bound=-math.inf, error=f"{type(e).__name__}: {e}")
    return answer_from_result(am, raw)


def answer_from_result(am: ArrayModel, raw: result_pb2.SolveResultProto) -> Answer:
    """An engine's result proto as an `Answer` over `am`'s columns and rows."""
    from ortools.math_opt import solution_pb2
    from ortools.math_opt.python import result as _result

    term = _result.parse_termination(_result._upgrade_termination(raw))  # noqa: SLF001
    ans = Answer(reason=term.reason, primal_bound=term.objective_bounds.primal_bound,
                 dual_bound=term.objective_bounds.dual_bound)
    for sol in raw.solutions:
        if sol.HasField("primal_solution") and ans.x is None and (
                sol.primal_solution.feasibility_status == solution_pb2.SOLUTION_STATUS_FEASIBLE):
            x = np.zeros(am.num_vars)
            vals = sol.primal_solution.variable_values
            x[np.array(vals.ids, dtype=np.int64)] = np.array(vals.values)
            ans.x = x
        if sol.HasField("dual_solution") and ans.duals is None:
            y = np.zeros(am.num_rows)
            dv = sol.dual_solution.dual_values
            y[np.array(dv.ids, dtype=np.int64)] = np.array(dv.values)
            ans.duals = y
    return ans


def seconds(limit: float) -> timedelta:
    return timedelta(seconds=max(0.05, limit))

