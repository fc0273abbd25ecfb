"""The one-period relaxation and the Lagrangian bound of its duals, shared by the
LP-guided method (`solvers/lp_guided.py`) and the grouped relaxation
(`solvers/relax.py`), which uses the LP-guided method's relaxation: here, so that
lp_guided.py, which calls the grouped relaxation, and relax.py do not import each other.

- `time_aggregate`: the scenario in one period, a relaxation of it;
- `add_release_capacity`: rows that tighten its model with what it dropped;
- `lagrangian_bound`: for any row multipliers y, every x with rl <= Ax <= ru and
  lb <= x <= ub has
  c.x = (c - A'y).x + y.Ax >= sum_j min(d_j lb_j, d_j ub_j) + sum_i min(y_i rl_i, y_i ru_i),
  so it holds even if the LP that gave y was not solved to the end.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from models.derived import Derived
from models.scenario import Scenario
from solvers.lpmodel import ArrayModel
from solvers.mip import Built, step_window


def lagrangian_bound(y: np.ndarray, d: np.ndarray, lb: np.ndarray, ub: np.ndarray,
                     rl: np.ndarray, ru: np.ndarray) -> float:
    """The bound of the module docstring; -inf if it needs an infinite bound."""
    with np.errstate(invalid="ignore"):
        row_part = np.where(y > 0, y * rl, np.where(y < 0, y * ru, 0.0))
        col_part = np.where(d > 0, d * lb, np.where(d < 0, d * ub, 0.0))
    total = float(row_part.sum() + col_part.sum())
    return total if math.isfinite(total) else -math.inf


def duals_bound(am: ArrayModel, duals: np.ndarray
                ) -> tuple[float, np.ndarray, np.ndarray]:
    """The Lagrangian bound of row duals (module docstring), valid for any duals,
    the reduced costs they give, and the duals with the sign their rows allow."""
    lb, ub, cost, _integer = am.arrays()
    rl, ru = np.array(am.row_lb), np.array(am.row_ub)
    # Duals with the sign their row allows (solver noise aside), so the bound holds.
    y = duals.copy()
    y[np.isinf(rl) & (y > 0)] = 0.0
    y[np.isinf(ru) & (y < 0)] = 0.0
    d = cost - am.matrix().t_times(y, am.num_vars)
    return lagrangian_bound(y, d, lb, ub, rl, ru), d, y


def time_aggregate(sc: Scenario) -> Scenario:
    """A relaxation of `sc` in one period: every plan of `sc`, summed over periods, is a
    plan of it that costs the same less its tardiness. Capacity is the sum over periods
    (a whole unit may then straddle periods); releases, due periods, step lag and import
    lead times are dropped, so no tardiness is charged. Its optimum is therefore at most
    that of `sc`, and so is its LP bound."""
    T = sc.horizon.periods
    workshops = [
        w.model_copy(update={"capacity": {p: sum(w.cap(p, t) for t in range(T))
                                          for p in w.processes()},
                             "capacity_by_period": {}})
        for w in sc.workshops
    ]
    components = [
        c.model_copy(update={"import_": c.import_.model_copy(update={"lead_periods": 0})})
        if c.import_ is not None else c
        for c in sc.components
    ]
    requests = [r.model_copy(update={"release": 0, "due": 0}) for r in sc.requests]
    agg = sc.model_copy(update={
        "horizon": sc.horizon.model_copy(update={"periods": 1}),
        "policy": sc.policy.model_copy(update={"step_lag_periods": 0}),
        "workshops": workshops, "components": components, "requests": requests,
    })
    agg._idx = None  # the copied lookup cache would name the original workshops
    return agg


def add_release_capacity(sc: Scenario, d: Derived, ab: Built) -> int:
    """Tighten the one-period relaxation `ab` of `sc` (`time_aggregate`) with what it
    dropped but can state without periods, all valid for every plan of `sc`:

    - a step can only use the capacity of the periods from its window's start on: for
      every workshop, process and period t0, the hours of the steps whose window starts
      at t0 or later are at most the capacity of periods t0.. (scaled by engagement where
      the workshop has a fee, as its capacity row is). With windows that all end at the
      horizon (no step lag), these rows are exactly what lets a workshop's steps be
      spread over periods, capacity-wise;
    - whole units per period: a column is bounded by the units whose hours fit within
      each period of its window, summed;
    - an imported unit keeps its lateness (`import.lead_periods` past the due period),
      which does not depend on periods.

    On the large generated instance releases spread over periods 0-9 of 12, so requests
    released late could use capacity they never have. Returns the number of rows added."""
    am = ab.model
    request = {r.id: r for r in sc.requests}
    workshop = {w.id: w for w in sc.workshops}
    T = sc.horizon.periods
    for rid, z in ab.z.items():
        am.cost[z] = sc.import_unit_objective(request[rid])
    # (workshop, process) -> [(window start, hours, column)]
    by_wp: dict[tuple[str, str], list[tuple[int, float, int]]] = defaultdict(list)
    for (rid, s, wid, _t), col in ab.x.items():
        r = request[rid]
        comp = sc.component(r.component)
        n = len(comp.routing)
        proc = comp.routing[s].process
        h = d.step_info(workshop[wid], comp.id, s).hours
        if h <= 0:
            continue
        window = step_window(sc, r, s, n)
        fit = sum(math.floor(workshop[wid].cap(proc, t) / h + 1e-9) for t in window)
        am.ub[col] = float(min(am.ub[col], fit))
        if len(window) < T:
            by_wp[(wid, proc)].append((window.start, h, col))
    added = 0
    for (wid, proc), cols in by_wp.items():
        w = workshop[wid]
        cols.sort()
        e = ab.eng.get(wid)
        for t0 in sorted({start for start, _h, _c in cols if start > 0}):
            inside = [(h, c) for start, h, c in cols if start >= t0]
            cap = float(sum(w.cap(proc, t) for t in range(t0, T)))
            if sum(h * am.ub[c] for h, c in inside) <= cap:
                continue  # cannot bind
            hs = [h for h, _c in inside]
            cs = [c for _h, c in inside]
            if e is not None:
                am.row(cs + [e], hs + [-cap], ub=0.0)
            else:
                am.row(cs, hs, ub=cap)
            added += 1
    return added
