"""The solve pipeline behind `solvers.solve`: build, search, extract, explain, price."""

from __future__ import annotations

import time
from dataclasses import replace

from ortools.init.python import init

from models.derived import Derived
from models.evaluate import compute_kpis
from models.plan import Cost, Plan, Status, UnmetRow
from models.scenario import Scenario
from solvers.explain import explain_unmet
from solvers.extract import (
    cost_terms,
    import_rows,
    material_rows,
    production_rows,
    shipment_rows,
)
from solvers.lp_guided import estimate_unit_columns, solve_lp_guided
from solvers.mip import COMPACT_ABOVE_X, Built, Raw, build, solve_model
from solvers.options import Formulation, Method, ProgressEvent, SolveOptions
from solvers.sensitivity import price

# A plan proven within this relative gap of its bound is reported as optimal.
OPTIMAL_GAP = 1e-6


def ortools_version() -> str:
    return str(init.OrToolsVersion.version_string())


def solve(scenario: Scenario, options: SolveOptions | None = None) -> Plan:
    """Solve `scenario` exactly (SPEC sections 4 to 6) and return a plan (section 7)."""
    options = options or SolveOptions()
    started = time.perf_counter()

    def emit(phase: str, incumbent: float | None = None, bound: float | None = None) -> None:
        if options.progress is not None:
            options.progress(ProgressEvent(phase, time.perf_counter() - started, incumbent,
                                           bound))

    if options.threads >= 2 and options.fixed_plan is None and not options.duals:
        from solvers.portfolio import solve_portfolio

        emit("search")
        # The children start their own interpreters: leave them that time within the limit.
        limit = None if options.time_limit is None else max(0.5, options.time_limit - 1.5)
        plan = solve_portfolio(scenario, replace(options, time_limit=limit))
        plan.timings = {"total": time.perf_counter() - started}
        emit("done", plan.objective, plan.bound)
        return plan
    emit("build")
    d = Derived(scenario)
    if options.fixed_plan is not None:
        t_built = time.perf_counter()
        plan = options.fixed_plan.model_copy(deep=True)
        x_keys = [(p.request, p.step, p.workshop, p.period) for p in plan.production]
        plan.sensitivity = price(scenario, d, x_keys, options)
        t_solved = t_done = time.perf_counter()
    else:
        unit_columns = lp_guided_columns(scenario, d, options)
        if unit_columns is not None:
            # Builds what it needs: the whole model only where it fits.
            built, raw = solve_lp_guided(scenario, d, options, started, unit_columns, emit)
            t_built = started
        else:
            built = build(scenario, d, direct=options.formulation is Formulation.DIRECT)
            t_built = time.perf_counter()
            raw = solve_model(built, options, started)
        t_solved = time.perf_counter()
        plan = _to_plan(scenario, d, built, raw, options)
        if options.duals and plan.status.has_plan:
            plan.sensitivity = price(scenario, d, raw.x, options)
        t_done = time.perf_counter()
    plan.timings = {
        "build": t_built - started,
        "solve": t_solved - t_built,
        "extract": t_done - t_solved,
        "total": t_done - started,
    }
    emit("done", plan.objective, plan.bound)
    return plan


def lp_guided_columns(sc: Scenario, d: Derived, options: SolveOptions) -> int | None:
    """The estimated unit columns when the LP-guided method runs (see `Method`), else
    None; counted once, since on a national instance counting takes seconds."""
    if options.formulation is not Formulation.REDUCED or options.method is Method.EXACT:
        return None
    if options.method is Method.AUTO and options.time_limit is None:
        return None
    columns = estimate_unit_columns(sc, d)
    if options.method is Method.AUTO and columns <= COMPACT_ABOVE_X:
        return None
    return columns


def diagnose_infeasible(sc: Scenario) -> str:
    """Why no plan exists. Unmet demand can absorb every other constraint (a plan that
    makes nothing meets capacity, flow, precedence, materials and sourcing), and such a plan
    has local content 1 (total 0); so only the domestic-share policy, alone or together
    with local content, can make a scenario infeasible."""
    pol = sc.policy
    need = pol.min_domestic_share * sc.total_quantity()
    text = (f"policy.min_domestic_share {pol.min_domestic_share:g} needs {need:,.0f} of the "
            f"{sc.total_quantity():,} requested units made at home, more than eligibility, "
            f"capacity, materials and time allow")
    if pol.min_local_content > 0:
        text += f" together with policy.min_local_content {pol.min_local_content:g}"
    return text


def _to_plan(sc: Scenario, d: Derived, built: Built, raw: Raw, options: SolveOptions) -> Plan:
    solver_info = {
        **options.describe(),
        **raw.extra,
        "ortools": ortools_version(),
        # A constructive plan (solvers/greedy.py) has no model of its own.
        **({"model": {"variables": built.model.num_vars, "constraints": built.model.num_rows}}
           if built.model.num_vars else {}),
    }
    status = Status(raw.status)
    if not status.has_plan:
        plan = Plan(scenario=sc.name, status=status, bound=raw.bound, solver=solver_info)
        if status is Status.INFEASIBLE:
            plan.diagnosis = diagnose_infeasible(sc)
        return plan
    production = production_rows(sc, raw)
    shipments = shipment_rows(sc, d, built, raw)
    materials = material_rows(sc, built, raw)
    imports = import_rows(sc, raw)
    reasons = explain_unmet(sc, d, raw.x, materials, raw.u, proven=raw.status == "optimal")
    unmet = [UnmetRow(request=r.id, quantity=raw.u[r.id], reason=reasons[r.id])
             for r in sc.requests if r.id in raw.u]
    terms = cost_terms(sc, d, raw, shipments, materials)
    objective = sum(terms.values())
    if raw.solver_objective is not None:
        # The model and the row-by-row cost are written apart: disagreement is a bug.
        tol = 1e-6 * max(1.0, abs(objective))
        if abs(raw.solver_objective - objective) > max(tol, 1e-3):
            raise RuntimeError(f"model objective {raw.solver_objective!r} differs from the "
                               f"cost of its rows {objective!r}")
    bound = raw.bound
    if bound is not None:
        # The solver's bound carries its own tolerances; it never exceeds a plan's cost.
        bound = min(bound, objective)
        if status is Status.OPTIMAL and (objective - bound) > OPTIMAL_GAP * max(1.0,
                                                                                abs(objective)):
            status = Status.FEASIBLE
    plan = Plan(
        scenario=sc.name,
        status=status,
        objective=objective,
        bound=bound,
        cost=Cost.from_dict(terms),
        production=production,
        shipments=shipments,
        materials=materials,
        imports=imports,
        unmet=unmet,
        solver=solver_info,
    )
    plan.kpis = compute_kpis(sc, plan, terms)
    return plan
