"""What one more hour of capacity or kg of stock is worth to a plan.

Dual values of the LP in which the plan's discrete choices (which workshops are engaged,
which tooling is paid, which suppliers a sourcing limit admits) are fixed and units are
continuous. They price small changes exactly for that LP; for the integer plan they are an
estimate, which is why the bottleneck report re-solves the best candidates.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ortools.math_opt.python import mathopt

from models.derived import Derived
from models.scenario import Scenario
from solvers.mip import Built, build
from solvers.options import SolveOptions


def price(sc: Scenario, d: Derived, x_keys: Iterable[tuple[str, int, str, int]],
          options: SolveOptions) -> dict[str, Any] | None:
    """Shadow prices for a plan with production at `x_keys`. The model is built anew: the
    search model's tighter variable bounds would take the duals from the capacity rows."""
    pricing = build(sc, d, all_capacity_rows=True)
    fix_choices(pricing, sc, x_keys)
    return shadow_prices(pricing, options)


def fix_choices(b: Built, sc: Scenario, x_keys: Iterable[tuple[str, int, str, int]]) -> None:
    """Fix every binary to what a plan with production at `x_keys` chose, and make all
    other integer variables continuous."""
    used_w: set[str] = set()
    used_rsw: set[tuple[str, int, str]] = set()
    used_tool: set[tuple[str, str, int]] = set()
    for rid, s, wid, _t in x_keys:
        used_w.add(wid)
        used_rsw.add((rid, s, wid))
        used_tool.add((wid, sc.request(rid).component, s))
    for wid, v in b.eng.items():
        _fix(v, wid in used_w)
    for tk, v in b.tool.items():
        _fix(v, tk in used_tool)
    for sk, v in b.src.items():
        _fix(v, sk in used_rsw)
    for v in b.model.variables():
        if v.integer:
            v.integer = False


def _fix(v: mathopt.Variable, on: bool) -> None:
    v.lower_bound = v.upper_bound = 1.0 if on else 0.0


def shadow_prices(b: Built, options: SolveOptions) -> dict[str, Any] | None:
    """Solve the fixed LP and return the value of one more unit of every capacity row and
    stock row that binds (saving per hour, per kg; >= 0), or None if the LP has no
    optimum (it always has one when the plan it was fixed from is feasible)."""
    params = mathopt.SolveParameters(random_seed=options.seed)
    result = mathopt.solve(b.model, mathopt.SolverType.HIGHS, params=params)
    if result.termination.reason is not mathopt.TerminationReason.OPTIMAL:
        return None
    duals = result.dual_values()
    values = result.variable_values()
    capacity = []
    for (wid, proc, t), row in b.cap_rows.items():
        # A minimisation's dual of a <= row is <= 0: the objective falls by -dual per hour.
        saving = -duals[row]
        if saving > 1e-9:
            used = sum(term.coefficient * values[term.variable] for term in row.terms())
            capacity.append({"workshop": wid, "process": proc, "period": t,
                             "value_per_hour": saving, "lp_hours_used": used})
    stock = []
    for (cid, mat), row in b.stock_rows.items():
        saving = -duals[row]
        if saving > 1e-9:
            stock.append({"center": cid, "material": mat, "value_per_kg": saving})
    capacity.sort(key=lambda c: (-c["value_per_hour"], c["workshop"], c["process"], c["period"]))
    stock.sort(key=lambda c: (-c["value_per_kg"], c["center"], c["material"]))
    lp = result.objective_value()
    return {"lp_objective": lp if math.isfinite(lp) else None, "capacity": capacity,
            "stock": stock}
