"""The solve pipeline behind `solvers.solve`: build, search, extract, explain, price."""

from __future__ import annotations

import math
import time
from typing import Any

import solvers.model as model
from models.check import check
from models.dates import with_dates
from models.derived import Derived
from models.evaluate import compute_kpis
from models.plan import (
    Cost,
    ImportRow,
    MaterialRow,
    Plan,
    ProductionRow,
    ShipmentRow,
    Status,
    UnmetRow,
)
from models.scenario import Scenario
from solvers.constructive import Constructive
from solvers.explain import explain_unmet
from solvers.extract import (
    cost_terms,
    evaluate,
    import_rows,
    material_rows,
    production_rows,
    shipment_rows,
)
from solvers.model import COMPACT_ABOVE_X, Built, Raw, estimate_unit_columns
from solvers.options import BoundProvider, Formulation, Method, ProgressEvent, SolveOptions
from solvers.search import OPTIMAL_GAP, Phase, Search, SearchMethod, run

# What loads OR-Tools (the methods, the engines, the portfolio) is imported where it is
# first needed, after the first constructive plan (`_solve`): on the first solve of a
# process it took 0.3-0.5 s, most of the 5% of a 10 s limit in which the first plan is due.

# Seconds the rows, explanations and check of a plan, its dates, its file and the
# command's summary take per request (measured: 100,000 requests, 12 s on the loaded
# development machine), and the largest share of the limit kept for them: a search
# stopped too early still beats a command that ends after the limit.
ROWS_SECONDS_PER_REQUEST = 1.2e-4
RESERVE_MAX = 0.75
# Under a time limit, a plan's unmet reasons are worked out until this share of the limit
# past the deadline, less this many times what its rows took (the checks, dates, plan file
# and summary after them take about as long, in proportion).
EXPLAIN_OVERRUN = 0.05
AFTER_EXPLAIN = 6.0
# ... but never less than this share of the limit from when they start.
EXPLAIN_AT_LEAST = 0.02
# Share of a limited solve the MIP engine has on the whole model before the neighbourhood
# search, up to this many unit columns and above (see `_strategy`).
EXACT_SMALL_COLUMNS = 3_000
EXACT_SHARE_SMALL, EXACT_SHARE = 0.5, 0.2
# Share of the time left that the MIP engines on the LP's support have first, on models
# built whole under a limit (solvers/support.py); they stop early once the restriction is
# solved or their plan is close to the LP bound.
SUPPORT_SHARE = 0.3
# Share of a limited solve the LP-guided method has where the model is too large to build
# whole; the rest goes to the neighbourhood search on a restricted model.
LARGE_LP_SHARE = 0.6


def ortools_version() -> str:
    from ortools.init.python import init

    return str(init.OrToolsVersion.version_string())


def solve(scenario: Scenario, options: SolveOptions | None = None) -> Plan:
    """Solve `scenario` (SPEC sections 4 to 6) and return a plan (section 7), with the
    calendar of a dated scenario (SPEC 8.1, `models.dates.with_dates`)."""
    return with_dates(scenario, _solve(scenario, options)[0])


def solve_keeping_search(scenario: Scenario, options: SolveOptions | None = None
                         ) -> tuple[Plan, Search | None]:
    """`solve`, with the search it ran (its derived data and, where the engine had the
    whole model, `search.full`), for a caller that asks more of the same model
    (solvers/earliest.py); None where no search ran here (a portfolio, a fixed plan)."""
    plan, search = _solve(scenario, options)
    return with_dates(scenario, plan), search


def _solve(scenario: Scenario, options: SolveOptions | None) -> tuple[Plan, Search | None]:
    options = options or SolveOptions()
    started = options.started if options.started is not None else time.perf_counter()
    deadline = None if options.time_limit is None else started + options.time_limit

    def emit(phase: str, incumbent: float | None = None, bound: float | None = None) -> None:
        if options.progress is not None:
            options.progress(ProgressEvent(phase, time.perf_counter() - started, incumbent,
                                           bound))

    if options.threads >= 2 and options.fixed_plan is None and not options.duals:
        from solvers.portfolio import solve_portfolio

        emit("search")
        plan = solve_portfolio(scenario, options, started, deadline)
        emit("done", plan.objective, plan.bound)
        return plan, None
    emit("build")
    d = Derived(scenario)
    if options.fixed_plan is not None:
        return _priced(scenario, d, options, started), None
    search = Search(scenario, d, options, started, deadline, evaluate)
    unit_columns = lp_guided_columns(scenario, d, options)
    constructive = Constructive()
    if _constructs_first(scenario, options, unit_columns):
        # The first plan before the engines load (see the imports above); the loop then
        # finds it made.
        constructive.construct(search)
    methods, phases, providers = _strategy(scenario, d, options, constructive, unit_columns)
    # Kept at the end of a limit for the rows, the explanations and the check.
    # Rows, dates, explanations, the check, and the command's summary and plan file take
    # time in proportion to the requests (100,000 requests: about 12 s, where 2 s had
    # been kept and the command ended at 26 s of a 20 s limit), up to RESERVE_MAX of it.
    reserve = 0.0 if deadline is None else min(RESERVE_MAX * options.time_limit, max(  # type: ignore[operator]
        min(2.0, 0.04 * options.time_limit), ROWS_SECONDS_PER_REQUEST * len(scenario.requests)))  # type: ignore[operator]
    if options.stop is not None:
        options.stop.snapshot = lambda: with_dates(scenario, _best_plan(
            search, options, started, time.perf_counter()))
    try:
        run(search, methods, phases, providers, reserve=reserve)
    finally:
        search.close()
    t_solved = time.perf_counter()
    if options.stop is not None and not options.stop.claim("search"):
        # The plan was taken from the incumbent (solvers/interrupt.py) and is being
        # written; nobody reads this thread's answer.
        return Plan(scenario=scenario.name, status=Status.NO_SOLUTION), None
    plan = _best_plan(search, options, started, t_solved)
    emit("done", plan.objective, plan.bound)
    return plan, search


def _constructs_first(sc: Scenario, options: SolveOptions, unit_columns: int | None
                      ) -> bool:
    """Whether the strategy's first method is the constructive one (`_strategy`): below
    the large path, under a limit, where its plans are not kept as the fallback."""
    return (options.time_limit is not None and not options.constructive_last
            and (unit_columns is None
                 or unit_columns <= model.whole_lp_columns(sc, options.time_limit)))


def _strategy(sc: Scenario, d: Derived, options: SolveOptions, constructive: Constructive,
              unit_columns: int | None
              ) -> tuple[list[SearchMethod], list[Phase], list[tuple[str, BoundProvider]]]:
    """Which methods run, in which phases, with which bound providers (docs/solver.md);
    `unit_columns` is `lp_guided_columns`."""
    from solvers.facility import FacilityMoves
    from solvers.lns import Lns
    from solvers.methods import ExactMip, LpGuided, unit_bound_provider
    from solvers.restricted import RestrictedLns
    from solvers.support import SupportMip

    limited = options.time_limit is not None
    given: list[tuple[str, BoundProvider]] = [
        (getattr(p, "__name__", "provider"), p) for p in options.bound_providers]
    providers: list[tuple[str, BoundProvider]] = [
        ("unit bound with bottlenecks", unit_bound_provider), *given]
    if unit_columns is None:
        exact = ExactMip()
        if not limited or options.formulation is Formulation.DIRECT or (
                not options.neighbourhood):
            return [constructive, exact], [Phase(exact)], providers
        # Half of what is left to the engine on the whole model where it proves small
        # models optimal well within it (the default scenario's plan within 1% comes
        # 5.7 s into a 10 s limit), a fifth on larger ones, the rest to the neighbourhood
        # search from its plan: on GAP d20200 (4,000 unit columns) the engine's plan of
        # 5 s is 0.95% above the best known and no better at 30 s, and the search gets
        # further from it with the time (docs/benchmarks.md).
        share = (EXACT_SHARE_SMALL if estimate_unit_columns(sc, d) <= EXACT_SMALL_COLUMNS
                 else EXACT_SHARE)
        return [constructive, exact], [Phase(SupportMip(), SUPPORT_SHARE), Phase(exact, share),
                                       Phase(Lns())], providers
    # Under a limit the method adds the Lagrangian path bound itself, where its one-period
    # LP gave none (`LpGuided.bound`); the large path runs it inside the method.
    lp = LpGuided(unit_columns)
    if unit_columns <= model.whole_lp_columns(sc, options.time_limit):
        # Engagement moves stand aside at once where fees are a small share of the cost;
        # where they do not, they find what the neighbourhood search cannot (cflp-large:
        # 0.2-0.7% from the optimum in 120 s, where the search had stayed at 3.5 times it).
        return [constructive, lp], [Phase(lp, 0.85), Phase(FacilityMoves(), 0.75),
                                    Phase(Lns())], providers
    # Too large to build whole: the LP-guided method constructs its own plans first, then
    # the neighbourhood search improves them on the model restricted to the workshops
    # they and the relaxation used and the cheapest ones (solvers/restricted.py). No
    # built-in bound provider runs before it (the caller's do): the method takes the
    # unit bound itself once its first plans are offered, and before them it held the
    # first plan back (1,000 x 1,000 facility location, 1 M offers: 7.9 s of ranking
    # every offer, no plan at all under a 10 s limit).
    return [lp], [Phase(lp, LARGE_LP_SHARE), Phase(RestrictedLns())], given


def _priced(sc: Scenario, d: Derived, options: SolveOptions, started: float) -> Plan:
    """The fixed plan with its shadow prices: nothing is searched."""
    assert options.fixed_plan is not None
    t_built = time.perf_counter()
    from solvers.sensitivity import price

    x_keys = [(p.request, p.step, p.workshop, p.period) for p in options.fixed_plan.production]
    sensitivity = price(sc, d, x_keys, options)
    t_done = time.perf_counter()
    return options.fixed_plan.model_copy(deep=True, update={
        "sensitivity": sensitivity,
        "timings": {"build": t_built - started, "solve": t_done - t_built, "extract": 0.0,
                    "total": t_done - started}})


def _best_plan(search: Search, options: SolveOptions, started: float,
               t_solved: float) -> Plan:
    """The plan of the cheapest candidate whose rows the checker accepts (the next one
    when it does not, which would be a bug: it is recorded in `solver.rejected`)."""
    sc, d = search.sc, search.d
    rejected: list[str] = []
    for cand in list(search.pool):
        try:
            fields = _plan_fields(sc, d, search, cand.built, cand.raw, cand.source, options)
        except RuntimeError as e:
            rejected.append(f"{cand.source}: {e}")
            continue
        plan = Plan(**fields, timings=_timings(started, t_solved))
        report = check(sc, plan)
        if report.ok:
            if rejected:
                plan = plan.model_copy(update={"solver": {**(plan.solver or {}),
                                                          "rejected": rejected}})
            return plan
        rejected.append(f"{cand.source}: {report.violations[0]}")
    status = (Status.INFEASIBLE if search.infeasible and not search.pool
              else Status.NO_SOLUTION)
    solver = {**options.describe(), **_info(search), "ortools": ortools_version()}
    if rejected:
        solver["rejected"] = rejected
    bound = search.bound if math.isfinite(search.bound) else None
    return Plan(scenario=sc.name, status=status, bound=bound, solver=solver,
                diagnosis=(diagnose_infeasible(sc, search.d) if status is Status.INFEASIBLE
                           else None),
                timings=_timings(started, t_solved))


def _timings(started: float, t_solved: float) -> dict[str, float]:
    t_done = time.perf_counter()
    return {"build": 0.0, "solve": t_solved - started, "extract": t_done - t_solved,
            "total": t_done - started}


def _info(search: Search) -> dict[str, Any]:
    info = dict(search.info)
    info.pop("first_plan_seconds", None)
    if search.bound_from is not None:
        info["bound_from"] = search.bound_from
    return info


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


def diagnose_infeasible(sc: Scenario, d: Derived | None = None) -> str:
    """Why no plan exists, naming the policy that cannot be met (solvers/diagnose.py)."""
    from solvers.diagnose import diagnose_infeasible as diagnose

    return diagnose(sc, d)


def plan_rows(sc: Scenario, d: Derived, built: Built, raw: Raw
              ) -> tuple[list[ProductionRow], list[ShipmentRow], list[MaterialRow],
                         list[ImportRow], dict[str, float]]:
    """The rows of a solver's answer and their SPEC cost terms; RuntimeError when the
    model's objective and the cost of its rows disagree."""
    production = production_rows(sc, raw)
    shipments = shipment_rows(sc, d, built, raw)
    materials = material_rows(sc, built, raw)
    imports = import_rows(sc, raw)
    terms = cost_terms(sc, d, raw, shipments, materials)
    objective = sum(terms.values())
    if raw.solver_objective is not None:
        # The model and the row-by-row cost are written apart: disagreement is a bug.
        tol = 1e-6 * max(1.0, abs(objective))
        if abs(raw.solver_objective - objective) > max(tol, 1e-3):
            raise RuntimeError(f"model objective {raw.solver_objective!r} differs from the "
                               f"cost of its rows {objective!r}")
    return production, shipments, materials, imports, terms


def _plan_fields(sc: Scenario, d: Derived, search: Search, built: Built, raw: Raw,
                 source: str, options: SolveOptions) -> dict[str, Any]:
    """Everything a Plan is made of, for one candidate of the search; RuntimeError when the
    model's objective and the cost of its rows disagree."""
    solver_info = {**options.describe(), **_info(search), "plan": source,
                   "ortools": ortools_version()}
    t_rows = time.perf_counter()
    production, shipments, materials, imports, terms = plan_rows(sc, d, built, raw)
    explain_until = None
    if search.deadline is not None and options.time_limit is not None:
        now = time.perf_counter()
        explain_until = max(
            search.deadline + EXPLAIN_OVERRUN * options.time_limit - AFTER_EXPLAIN * (
                now - t_rows),
            # Reasons take milliseconds below a few thousand requests: a search that ran a
            # little late still has them all.
            now + EXPLAIN_AT_LEAST * options.time_limit)
    objective = sum(terms.values())
    bound = search.bound if math.isfinite(search.bound) else None
    status = Status.FEASIBLE
    if bound is not None:
        # A bound carries its engine's tolerances; it never exceeds a plan's cost.
        bound = min(bound, objective)
        if objective - bound <= OPTIMAL_GAP * max(1.0, abs(objective)) and (
                not search.interrupted()):
            status = Status.OPTIMAL
    reasons = explain_unmet(sc, d, raw.x, materials, raw.u, proven=status is Status.OPTIMAL,
                            deadline=explain_until)
    unmet = [UnmetRow(request=r.id, quantity=raw.u[r.id], reason=reasons[r.id])
             for r in sc.requests if r.id in raw.u]
    cost = Cost.from_dict(terms)
    kpi_plan = Plan(scenario=sc.name, status=status, cost=cost, production=production,
                    shipments=shipments, materials=materials, imports=imports)
    sensitivity = None
    if options.duals:
        from solvers.sensitivity import price

        sensitivity = price(sc, d, raw.x, options)
    return {"scenario": sc.name, "status": status, "objective": objective, "bound": bound,
            "cost": cost, "production": production, "shipments": shipments,
            "materials": materials, "imports": imports, "unmet": unmet,
            "kpis": compute_kpis(sc, kpi_plan, terms), "solver": solver_info,
            "sensitivity": sensitivity}
