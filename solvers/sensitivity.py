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

import numpy as np
from ortools.math_opt.python import mathopt

from models.derived import Derived
from models.scenario import Scenario
from solvers.lpmodel import solve_proto
from solvers.mip import Built, build
from solvers.options import SolveOptions


def price(sc: Scenario, d: Derived, x_keys: Iterable[tuple[str, int, str, int]],
          options: SolveOptions) -> dict[str, Any] | None:
    """Shadow prices for a plan with production at `x_keys`. The model is built anew: the
    search model's tighter variable bounds would take the duals from the capacity rows."""
    pricing = build(sc, d, all_capacity_rows=True)
    return shadow_prices(pricing, fix_choices(pricing, sc, x_keys), options)


def fix_choices(b: Built, sc: Scenario, x_keys: Iterable[tuple[str, int, str, int]]
                ) -> tuple[np.ndarray, np.ndarray]:
    """Bounds that fix every binary to what a plan with production at `x_keys` chose (the
    model is then solved with all integrality relaxed): (lower, upper) over all columns."""
    used_w: set[str] = set()
    used_rsw: set[tuple[str, int, str]] = set()
    used_tool: set[tuple[str, str, int]] = set()
    for rid, s, wid, _t in x_keys:
        used_w.add(wid)
        used_rsw.add((rid, s, wid))
        used_tool.add((wid, sc.request(rid).component, s))
    lb, ub, _cost, _integer = b.model.arrays()
    for group, used in ((b.eng, used_w), (b.tool, used_tool), (b.src, used_rsw)):
        for key, col in group.items():
            lb[col] = ub[col] = 1.0 if key in used else 0.0
    return lb, ub


def shadow_prices(b: Built, bounds: tuple[np.ndarray, np.ndarray],
                  options: SolveOptions) -> dict[str, Any] | None:
    """Solve the fixed LP and return the value of one more unit of every capacity row and
    stock row that binds (saving per hour, per kg; >= 0), or None if the LP has no
    optimum (it always has one when the plan it was fixed from is feasible)."""
    params = mathopt.SolveParameters(random_seed=options.seed)
    am = b.model
    lb, ub = bounds
    ans = solve_proto(am, am.to_proto(lb=lb, ub=ub, relax=True), mathopt.SolverType.HIGHS,
                      params)
    if ans.reason is not mathopt.TerminationReason.OPTIMAL or ans.x is None or (
            ans.duals is None):
        return None
    duals = ans.duals
    used_by_row = am.matrix().times(ans.x, am.num_rows)
    capacity: list[dict[str, Any]] = []
    for (wid, proc, t), row in b.cap_rows.items():
        if wid in b.eng and ub[b.eng[wid]] < 0.5:
            # The row of a workshop the plan does not engage reads hours - cap * 0 <= 0:
            # its dual is what engaging it would be worth, not an hour more of capacity
            # (more capacity times an engagement of 0 is still 0 hours), so it is no
            # saving per hour; the re-solved expansions showed such rows saving nothing.
            continue
        # A minimisation's dual of a <= row is <= 0: the objective falls by -dual per hour.
        saving = -float(duals[row])
        if saving > 1e-9:
            used = float(used_by_row[row])
            if wid in b.eng:
                # The row reads hours - cap * e <= 0: leave the engagement term out.
                used -= am.coef(row, b.eng[wid]) * float(ans.x[b.eng[wid]])
            capacity.append({"workshop": wid, "process": proc, "period": t,
                             "value_per_hour": saving, "lp_hours_used": used})
    stock: list[dict[str, Any]] = []
    for (cid, mat), row in b.stock_rows.items():
        saving = -float(duals[row])
        if saving > 1e-9:
            stock.append({"center": cid, "material": mat, "value_per_kg": saving})
    capacity.sort(key=lambda c: (-c["value_per_hour"], c["workshop"], c["process"], c["period"]))
    stock.sort(key=lambda c: (-c["value_per_kg"], c["center"], c["material"]))
    lp = float(np.dot(np.frombuffer(am.cost, dtype=np.float64), ans.x))
    return {"lp_objective": lp if math.isfinite(lp) else None, "capacity": capacity,
            "stock": stock}
