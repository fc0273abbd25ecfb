"""Repair with minimal change: the SPEC model plus a penalty per unit moved off a booking.

The ledger's repair after a disruption (broker/ledger/repair.py) frees the requests whose
bookings no longer fit and solves them again in what the rest of the ledger leaves. A
planner wants as few of their units moved as the cost allows, so the model gets, for
every booked `(request, step, workshop, period)` with `q0` units, a column
`kept <= min(q0, x[r,s,w,t])` and the objective `SPEC cost + penalty * (q0 - kept)`,
that is SPEC cost minus `penalty * kept` up to a constant. A booking whose column no
longer exists (the workshop left, the period has no capacity) counts as moved.

The plan this returns is a plan of the SPEC model (the extra columns only price moves),
so its `objective` is the SPEC cost of its rows and the checker verifies it as any
other. Its `bound` is left out: the model's bound is a bound of the penalised cost, not
of the SPEC cost. The penalised objective, its bound and the units moved are reported
in `plan.solver["repair"]`.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

from models.derived import Derived
from models.evaluate import compute_kpis
from models.plan import Cost, Plan, Status, UnmetRow
from models.scenario import Scenario
from solvers.explain import explain_unmet
from solvers.mip import build, solve_model
from solvers.model import Built, Raw
from solvers.options import SolveOptions
from solvers.pipeline import ortools_version, plan_rows

Key = tuple[str, int, str, int]


def solve_keeping(sc: Scenario, options: SolveOptions) -> Plan:
    """Solve `sc` exactly with the change penalty of `options.keep`."""
    assert options.keep is not None
    started = time.perf_counter()
    d = Derived(sc)
    built = build(sc, d)
    m = built.model
    penalty = float(options.change_penalty)
    kept_cols: dict[Key, int] = {}
    booked = 0
    for key, q0 in sorted(options.keep.items()):
        if q0 <= 0:
            continue
        booked += q0
        col = built.x.get(key)
        if col is None or penalty <= 0:
            continue
        k = m.var(0.0, float(q0), cost=-penalty)
        m.row([k, col], [1.0, -1.0], ub=0.0)
        kept_cols[key] = k
    deadline = (None if options.time_limit is None
                else (options.started or started) + options.time_limit)
    raw = solve_model(built, replace(options, keep=None), started, deadline)
    kept = 0
    if raw.status in ("optimal", "feasible"):
        kept = sum(min(q0, raw.x.get(key, 0)) for key, q0 in options.keep.items() if q0 > 0)
        if raw.solver_objective is not None:
            # The model's objective is SPEC cost - penalty * kept (the kept columns sit at
            # min(q0, x) at an optimum, and within the engine's gap otherwise): bring it
            # back to the SPEC cost for the pipeline's row-by-row comparison.
            model_kept = sum(min(q0, raw.x.get(key, 0))
                             for key, q0 in options.keep.items() if key in kept_cols)
            raw.solver_objective += penalty * model_kept
    penalised_bound = None if raw.bound is None else raw.bound + penalty * booked
    raw.bound = None
    if raw.status == "optimal":
        # Optimal for the penalised cost, not proven for the SPEC cost alone.
        raw.status = "feasible"
    moved = booked - kept
    info: dict[str, float | int | None] = {"change_penalty": penalty, "booked_units": booked}
    if raw.solver_objective is not None:
        penalised = raw.solver_objective + penalty * moved
        info |= {"kept_units": kept, "moved_units": moved, "penalised_objective": penalised,
                 "penalised_bound": penalised_bound}
        if penalised_bound is not None and math.isfinite(penalised_bound):
            info["penalised_gap"] = max(0.0, (penalised - penalised_bound)
                                        / max(1.0, abs(penalised)))
    return _plan(sc, d, built, raw, options, info, time.perf_counter() - started)


def _plan(sc: Scenario, d: Derived, built: Built, raw: Raw, options: SolveOptions,
          info: dict[str, float | int | None], seconds: float) -> Plan:
    solver = {**replace(options, keep=None).describe(), "repair": info,
              "ortools": ortools_version()}
    if raw.status not in ("optimal", "feasible"):
        return Plan(scenario=sc.name, status=Status(raw.status), solver=solver,
                    timings={"total": seconds})
    production, shipments, materials, imports, terms = plan_rows(sc, d, built, raw)
    objective = sum(terms.values())
    reasons = explain_unmet(sc, d, raw.x, materials, raw.u, proven=False)
    unmet = [UnmetRow(request=r.id, quantity=raw.u[r.id], reason=reasons[r.id])
             for r in sc.requests if r.id in raw.u]
    cost = Cost.from_dict(terms)
    kpi_plan = Plan(scenario=sc.name, status=Status.FEASIBLE, cost=cost,
                    production=production, shipments=shipments, materials=materials,
                    imports=imports)
    return Plan(scenario=sc.name, status=Status.FEASIBLE, objective=objective, bound=None,
                cost=cost, production=production, shipments=shipments, materials=materials,
                imports=imports, unmet=unmet, kpis=compute_kpis(sc, kpi_plan, terms),
                solver=solver, timings={"total": seconds})
