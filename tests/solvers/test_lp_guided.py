"""The LP-guided method (solvers/lp_guided.py): its bound is a true lower bound of the SPEC
model and its plans pass the checker.

A bound is checked against the proven optimum of the same scenario (published, or found
by the exact method): bound <= optimum <= plan objective.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ortools.math_opt.python import mathopt

import solvers.lp_guided as lp_guided
import solvers.model as solver_model
from models import load_scenario, scenario_from_dict
from models.derived import Derived
from scenarios.generate import generate
from solvers import Method, SolveOptions
from solvers.lpmodel import ArrayModel, solve_proto
from solvers.mip import build
from solvers.model import Built, Raw
from solvers.one_period import lagrangian_bound, time_aggregate
from solvers.search import Search

BENCH = ["fatahi/fatahi-5x10x10-1", "cflp/cap41", "gap/gap3-2"]


@pytest.mark.parametrize("name", BENCH)
def test_bound_below_published_optimum(solve_checked, benchmarks_dir: Path, name: str,
                                       ) -> None:
    folder, stem = name.split("/")
    optimum = json.loads((benchmarks_dir / folder / "optima.json").read_text())[stem]
    sc = load_scenario(benchmarks_dir / f"{name}.json")
    assert lp_guided.unit_bound(sc, Derived(sc)) <= lp_guided.bottleneck_bound(
        sc, Derived(sc)) <= optimum * (1 + 1e-9) + 1e-6
    plan = solve_checked(sc, method=Method.LP_GUIDED)
    assert plan.solver["method"] == "lp-guided"
    assert plan.bound is not None and plan.objective is not None
    assert plan.bound <= optimum * (1 + 1e-9) + 1e-6
    assert plan.objective >= optimum * (1 - 1e-9) - 1e-6
    if plan.status.value == "optimal":
        assert plan.objective == pytest.approx(optimum, rel=1e-6)


def test_generated_small_bound_brackets_exact_optimum(solve_checked) -> None:
    doc = generate("small", 1)
    exact = solve_checked(doc)
    guided = solve_checked(doc, method=Method.LP_GUIDED)
    assert exact.status.value == "optimal" and exact.objective is not None
    assert guided.bound is not None and guided.objective is not None
    assert guided.bound <= exact.objective * (1 + 1e-7)
    assert guided.objective >= exact.objective * (1 - 1e-7)
    sc = scenario_from_dict(doc)
    assert 0 < lp_guided.unit_bound(sc, Derived(sc)) <= lp_guided.bottleneck_bound(
        sc, Derived(sc)) <= exact.objective * (1 + 1e-9)
    # The plan of the LP's support is close on this instance (measured: 0.0%).
    assert guided.objective <= exact.objective * 1.01
    # Plans guided by the LP period by period competed with the restricted MIP.
    assert guided.solver["guide_lp_columns"] > 0
    assert guided.solver["plan"] in ("restricted MIP", "constructive, time-indexed LP-guided")


def test_pricing_rounds_reach_the_full_lp_bound(monkeypatch) -> None:
    """With the whole-LP shortcut off, column generation must converge to the value of
    the full LP relaxation, computed here by one LP solve of every column."""
    sc = scenario_from_dict(generate("small", 3))
    b = build(sc, Derived(sc))
    monkeypatch.setattr(solver_model, "FULL_LP_MAX_COLUMNS", 0)
    priced = lp_guided.lp_bound(b, SolveOptions(), None, lambda *_: None)
    assert priced.rounds > 1
    assert priced.columns < b.model.num_vars
    am = b.model
    lp = solve_proto(am, am.to_proto(relax=True), mathopt.SolverType.HIGHS,
                     mathopt.SolveParameters())
    assert lp.reason is mathopt.TerminationReason.OPTIMAL
    assert priced.bound == pytest.approx(lp.primal_bound, rel=1e-7)


# Seeds whose exact optimum is proven in seconds (seed 2 takes minutes).
@pytest.mark.parametrize("seed", [1, 3])
def test_one_period_relaxation_bounds_the_exact_optimum(solve_checked, monkeypatch,
                                                        seed: int) -> None:
    """Above FULL_LP_MAX_COLUMNS the bound comes from the one-period relaxation; forced
    here on small instances whose exact optimum is known."""
    doc = generate("small", seed)
    exact = solve_checked(doc)
    monkeypatch.setattr(solver_model, "FULL_LP_MAX_COLUMNS", 0)
    guided = solve_checked(doc, method=Method.LP_GUIDED)
    assert guided.solver["relaxation"] == "one-period lp"
    assert exact.status.value == "optimal" and exact.objective is not None
    assert guided.bound is not None and guided.objective is not None
    assert guided.bound <= exact.objective * (1 + 1e-7)
    assert guided.objective >= exact.objective * (1 - 1e-7)


def test_one_period_relaxation_drops_time() -> None:
    sc = scenario_from_dict(generate("small", 1))
    agg = time_aggregate(sc)
    assert agg.horizon.periods == 1 and agg.policy.step_lag_periods == 0
    w, w1 = sc.workshops[0], agg.workshops[0]
    for p in w.processes():
        assert w1.cap(p, 0) == pytest.approx(sum(w.cap(p, t) for t in range(4)))
    assert {(r.release, r.due) for r in agg.requests} == {(0, 0)}
    assert agg.workshop(w.id) is w1  # lookups see the relaxed copies
    assert all(c.import_ is None or c.import_.lead_periods == 0 for c in agg.components)


def test_a_time_limited_lp_guided_solve_gives_a_plan_and_its_bound(solve_checked) -> None:
    # How close to the limit it returns is measured by `broker bench` ("time limit: N/M
    # runs returned within 1.1 x the limit"), not timed here.
    plan = solve_checked(generate("small", 2), time_limit=4, method=Method.LP_GUIDED)
    assert plan.status.value in ("optimal", "feasible")
    assert plan.bound is not None and plan.bound <= plan.objective


def test_the_one_period_lp_guides_plans_while_the_whole_lp_is_raced(solve_checked,
                                                                   monkeypatch) -> None:
    """Under a limit the medium path solves the one-period LP first and offers the plans
    it guides: where the whole LP then never comes (a busy machine), the plan is one of
    those or better, and the bound is the one-period LP's, below the exact optimum."""
    doc = generate("small", 1)
    exact = solve_checked(doc)
    assert exact.status.value == "optimal" and exact.objective is not None
    offered: list[tuple[str, float | None]] = []

    def no_whole_lp(search, b, deadline, emit, race=None):  # type: ignore[no-untyped-def]
        offered.extend((c.source, c.cost) for c in search.pool)
        return b, Raw(status="no_solution", bound=None, solver_objective=None,
                      extra={"relaxation": "lp (not solved in time)"})

    raised: list[tuple[str, float]] = []
    real_raise = Search.raise_bound

    def spy_raise(self, value, source):  # type: ignore[no-untyped-def]
        if value is not None:
            raised.append((source, value))
        real_raise(self, value, source)

    monkeypatch.setattr(lp_guided, "_lp_then_mip", no_whole_lp)
    monkeypatch.setattr(lp_guided, "EARLY_MIN_SECONDS", 0.0)  # a short limit, for speed
    monkeypatch.setattr(Search, "raise_bound", spy_raise)
    plan = solve_checked(doc, method=Method.LP_GUIDED, time_limit=10.0)
    early = plan.solver["early_one_period"]
    assert early["plans"] >= 1 and "skipped" not in early
    guided = [cost for source, cost in offered if "time-indexed LP-guided" in source]
    assert guided and plan.objective is not None and plan.objective <= min(guided) + 1e-6
    assert plan.bound is not None and plan.bound <= exact.objective * (1 + 1e-7)
    one_period = [v for source, v in raised if source == "one-period lp"]
    assert one_period and max(one_period) <= exact.objective * (1 + 1e-7)
    # The one-period LP's is the bound, unless the neighbourhood search, whose sub-models
    # SCIP now solves fast, solved this small model whole and proved the plan optimal.
    if plan.solver["bound_from"] != "one-period lp":
        assert plan.solver["bound_from"] == "lns (whole model)", plan.solver["bound_from"]
        assert plan.status.value == "optimal"
    assert exact.objective * (1 - 1e-7) <= plan.objective


def test_the_lagrangian_bound_runs_only_where_the_one_period_lp_gave_none(
        solve_checked, monkeypatch) -> None:
    import solvers.methods as methods

    calls: list[float] = []
    real = methods.lagrangian_provider

    def spy(sc, d, deadline, upper):  # type: ignore[no-untyped-def]
        calls.append(deadline)
        return real(sc, d, deadline, upper)

    monkeypatch.setattr(methods, "lagrangian_provider", spy)
    monkeypatch.setattr(lp_guided, "EARLY_MIN_SECONDS", 0.0)  # a short limit, for speed
    doc = generate("small", 1)
    plan = solve_checked(doc, method=Method.LP_GUIDED, time_limit=6.0)
    assert "skipped" not in plan.solver["early_one_period"] and calls == []
    monkeypatch.setattr(lp_guided, "EARLY_ONE_PERIOD_SHARE", 0.0)
    # Nor where the whole LP is solved in this process as the method begins (a small
    # model, under RACE_MIN_COLUMNS): it bounds at least as well, at once.
    plan = solve_checked(doc, method=Method.LP_GUIDED, time_limit=6.0)
    assert plan.solver["early_one_period"]["skipped"] == "no time left in its share"
    assert calls == [] and plan.bound is not None
    # Raced in child processes, the whole LP may take its share: the Lagrangian runs.
    monkeypatch.setattr(lp_guided, "RACE_MIN_COLUMNS", 0)
    plan = solve_checked(doc, method=Method.LP_GUIDED, time_limit=6.0)
    assert plan.solver["early_one_period"]["skipped"] == "no time left in its share"
    assert len(calls) == 1


def test_the_one_period_lp_is_not_begun_without_time_for_it(solve_checked) -> None:
    """Its share of a 4 s limit (1 s) is below EARLY_MIN_SECONDS: its build alone would
    take the solve past the limit on larger instances."""
    plan = solve_checked(generate("small", 1), method=Method.LP_GUIDED, time_limit=4.0)
    assert plan.solver["early_one_period"] == {"skipped": "too little time"}


def test_the_one_period_lp_stands_aside_without_periods_to_merge(solve_checked,
                                                                  benchmarks_dir: Path
                                                                  ) -> None:
    """One period (GAP here): the one-period LP would be the whole LP again."""
    optimum = json.loads((benchmarks_dir / "gap" / "optima.json").read_text())["gap3-2"]
    plan = solve_checked(load_scenario(benchmarks_dir / "gap" / "gap3-2.json"),
                         method=Method.LP_GUIDED, time_limit=5.0)
    assert "early_one_period" not in plan.solver
    assert plan.objective is not None and plan.objective >= optimum * (1 - 1e-9) - 1e-6


def _tiny_lp() -> ArrayModel:
    """min 3a + 2b + 4c  s.t.  a + b >= 4,  b + c >= 3,  a - c <= 1,  0 <= a, b, c <= 5."""
    am = ArrayModel("tiny")
    a, b, c = (am.var(0, 5, cost=k) for k in (3.0, 2.0, 4.0))
    am.row([a, b], 1.0, lb=4)
    am.row([b, c], 1.0, lb=3)
    am.row([a, c], [1.0, -1.0], ub=1)
    return am


def test_lagrangian_bound_is_valid_for_any_multipliers() -> None:
    am = _tiny_lp()
    ans = solve_proto(am, am.to_proto(), mathopt.SolverType.HIGHS, mathopt.SolveParameters())
    assert ans.reason is mathopt.TerminationReason.OPTIMAL and ans.duals is not None
    lb, ub, cost, _ = am.arrays()
    rl, ru = np.array(am.row_lb), np.array(am.row_ub)
    mat = am.matrix()

    def bound(y: np.ndarray) -> float:
        return lagrangian_bound(y, cost - mat.t_times(y, am.num_vars), lb, ub, rl, ru)

    # At the optimal duals the bound is the LP optimum (8: b = 4, a = c = 0).
    assert ans.primal_bound == pytest.approx(8.0)
    assert bound(ans.duals) == pytest.approx(8.0)
    rng = np.random.default_rng(0)
    for _ in range(200):
        y = rng.normal(0, 3, size=am.num_rows)
        # Multipliers of the wrong sign for a one-sided row need an infinite bound.
        y[np.isinf(rl) & (y > 0)] = 0
        y[np.isinf(ru) & (y < 0)] = 0
        assert bound(y) <= 8.0 + 1e-9
    assert bound(np.array([1.0, 0.0, 0.0])) == pytest.approx(4.0)
    assert math.isinf(lagrangian_bound(np.array([-1.0, 0, 0]), cost, lb, ub, rl, ru))



@pytest.mark.parametrize("share", [0.3, 0.99])
def test_constructive_plan_meets_the_domestic_share_or_says_why_not(solve_checked,
                                                                    monkeypatch,
                                                                    share: float) -> None:
    """A constructive plan is only kept when it meets the policies; a share the one-period
    relaxation cannot meet proves the scenario infeasible, as the exact method finds."""
    doc = generate("small", 1)
    doc["policy"]["min_domestic_share"] = share
    with monkeypatch.context() as mp:
        mp.setattr(solver_model, "FULL_LP_MAX_COLUMNS", 0)
        plan = solve_checked(doc, method=Method.LP_GUIDED)
    if plan.status.has_plan:
        assert plan.kpis["domestic_share"] >= share - 1e-9
    elif plan.status.value == "infeasible":
        assert solve_checked(doc).status.value == "infeasible"
    else:
        assert plan.status.value == "no_solution"
    assert share == 0.3 or plan.status.value == "infeasible"


def test_large_path_gives_a_plan_and_a_bound_under_a_limit(solve_checked, monkeypatch) -> None:
    """The path for instances too large to build whole (forced here): a plan and a bound
    under a limit (the time it keeps is measured by `broker bench`)."""
    monkeypatch.setattr(solver_model, "FULL_LP_MAX_COLUMNS", 0)
    plan = solve_checked(generate("small", 2), time_limit=3, method=Method.LP_GUIDED)
    assert plan.status.value in ("optimal", "feasible")
    assert plan.solver["relaxation"] == "one-period lp"
    assert plan.bound is not None and 0 < plan.bound <= plan.objective


def test_large_path_lp_keeps_to_its_share(solve_checked, monkeypatch) -> None:
    """Where the one-period LP cannot run beside the search (no child process could be
    started), it runs in this process and must be done by ONE_PERIOD_LP_SHARE of the
    path's time, whatever the phase has: where no plan precedes it the phase has the whole
    limit, and an LP that never finished (alt generator's large seed 1) held all of it."""
    monkeypatch.setattr(solver_model, "FULL_LP_MAX_COLUMNS", 0)
    monkeypatch.setattr(lp_guided, "GUIDED_RESERVE", 0.5)
    monkeypatch.setattr(lp_guided, "ONE_PERIOD_LP_SHARE", 0.2)
    monkeypatch.setattr(lp_guided, "_one_period_beside", lambda search, ab: False)
    deadlines: list[float | None] = []
    real = lp_guided.lp_bound

    def spy(b: Built, options: SolveOptions, lp_deadline: float | None, *args: Any,
            **kwargs: Any) -> lp_guided.LpResult:
        deadlines.append(lp_deadline)
        return real(b, options, lp_deadline, *args, **kwargs)

    monkeypatch.setattr(lp_guided, "lp_bound", spy)
    started = time.perf_counter()
    plan = solve_checked(generate("small", 2), time_limit=5, method=Method.LP_GUIDED,
                         started=started)
    assert plan.solver["relaxation"] == "one-period lp"
    # The first LP is the one-period relaxation's; without the share it had until 0.5 s
    # before the deadline (4.5 s here).
    first = deadlines[0]
    assert first is not None and first - started <= 0.2 * 5 + 0.5


def test_large_path_lp_runs_beside_the_search(solve_checked, monkeypatch) -> None:
    """Under a limit the large path's one-period LP runs in a child process while the
    neighbourhood search improves the plan; when it is solved, its bound (the same as in
    this process), its triples and the plans it guides reach the search, and the
    restricted model is built again with them."""
    monkeypatch.setattr(solver_model, "FULL_LP_MAX_COLUMNS", 0)
    monkeypatch.setattr(lp_guided, "GUIDED_RESERVE", 0.5)
    doc = generate("small", 1)
    sc = scenario_from_dict(doc)
    ab, _rows = lp_guided.one_period_model(sc, Derived(sc))
    here = lp_guided.lp_bound(ab, SolveOptions(), None, lambda *a, **k: None, whole=True)
    plan = solve_checked(doc, time_limit=8, method=Method.LP_GUIDED)
    info = plan.solver
    assert info["one_period_lp"].startswith("solved beside the search in ")
    assert info["relaxation"] == "one-period lp"
    assert info["restricted"]["rebuilt"] >= 1
    assert plan.bound is not None and plan.objective is not None
    assert here.bound * (1 - 1e-6) <= plan.bound <= plan.objective
    exact = solve_checked(doc)
    assert exact.objective is not None and plan.bound <= exact.objective * (1 + 1e-7)


def test_the_restricted_search_raises_no_bound(solve_checked, monkeypatch) -> None:
    """The neighbourhood search on the restricted model (solvers/restricted.py) may free
    every column of it and solve it to optimality: that optimum bounds the restricted
    model only, never the scenario. Restricted to the constructive plans' own triples,
    small seed 1's model is small enough to be freed whole."""
    import solvers.restricted as restricted

    monkeypatch.setattr(solver_model, "FULL_LP_MAX_COLUMNS", 0)
    monkeypatch.setattr(restricted, "CHEAPEST", 0)
    monkeypatch.setattr(lp_guided, "_one_period_beside", lambda search, ab: False)
    doc = generate("small", 1)
    plan = solve_checked(doc, time_limit=6, method=Method.LP_GUIDED)
    exact = solve_checked(doc)
    assert exact.objective is not None and plan.bound is not None
    assert plan.bound <= exact.objective * (1 + 1e-7)
    assert plan.solver.get("bound_from") != "lns (whole model)"


def test_constructive_plan_meets_the_local_content_policy(solve_checked, monkeypatch) -> None:
    """The large path keeps a constructive plan only when it meets min_local_content."""
    doc = generate("small", 1)
    doc["policy"]["min_local_content"] = 0.6
    monkeypatch.setattr(solver_model, "FULL_LP_MAX_COLUMNS", 0)
    plan = solve_checked(doc, method=Method.LP_GUIDED)
    assert plan.solver["relaxation"] == "one-period lp"
    if plan.status.has_plan:
        assert plan.kpis["local_content"] >= 0.6 - 1e-9
    else:
        assert plan.status.value == "no_solution"


def test_search_on_the_lp_support_under_a_limit(solve_checked, monkeypatch) -> None:
    """Under a limit the restricted MIP gives way to the neighbourhood search on the LP's
    support: every sub-model frees only columns the LP used, columns that are neither
    units nor flows, or columns the incumbent uses (until the support is dropped), and the
    plan is checked, never below the exact optimum nor above the guided plan."""
    import solvers.lns as lns

    doc = generate("small", 1)
    exact = solve_checked(doc)
    assert exact.status.value == "optimal" and exact.objective is not None
    seen: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]] = []
    solve_sub = lns._Run._solve

    def spy(self, free, v, limit, start=False):  # type: ignore[no-untyped-def]
        seen.append((free.copy(), v.copy(), self.search.support))
        return solve_sub(self, free, v, limit, start)

    monkeypatch.setattr(lns._Run, "_solve", spy)
    guided = solve_checked(doc, method=Method.LP_GUIDED, time_limit=10.0)
    assert guided.solver["relaxation"] == "lp"
    assert guided.solver["lns"]["iterations"] == len(seen) > 0
    support = seen[0][2]
    assert support is not None and not support.all()
    dropped = "support" in guided.solver["lns"]
    restricted = [bool((free & ~(support | (v != 0))).any()) is False
                  for free, v, _s in seen]
    # The support holds for every sub-model until it is dropped, then never again.
    assert restricted[0]
    if not dropped:
        assert all(restricted)
    assert guided.objective is not None and guided.bound is not None
    assert guided.bound <= exact.objective * (1 + 1e-7)
    assert exact.objective * (1 - 1e-7) <= guided.objective


def test_the_guides_lp_goes_to_dual_simplex_below_its_size(monkeypatch) -> None:
    """The period-by-period guide's LP by dual simplex where it is small: barrier did not
    finish in 50 s the 1,638-column guide of a 40 x 800 GAP instance (dual simplex:
    0.01 s), and the plan was the constructive one with 154 jobs unassigned."""
    seen: list[mathopt.LPAlgorithm | None] = []
    real = lp_guided.solve_proto

    def spy(am, proto, st, params, cb=None, hint=None):  # type: ignore[no-untyped-def]
        seen.append(params.lp_algorithm)
        return real(am, proto, st, params, cb, hint=hint)

    sc = scenario_from_dict(generate("small", 1))
    d = Derived(sc)
    b = build(sc, d)
    lp = lp_guided.lp_bound(b, SolveOptions(), None, lambda *_: None)
    assert lp.x is not None
    monkeypatch.setattr(lp_guided, "solve_proto", spy)
    plans: list[tuple[str, tuple[Built, Raw]]] = []
    info = lp_guided._time_indexed_guide(sc, d, b, lp.x, SolveOptions(), None,
                                         lambda *_: None, lambda src, p: plans.append((src, p)))
    assert 0 < info["guide_lp_columns"] <= lp_guided.GUIDE_SIMPLEX_MAX_COLUMNS  # type: ignore[operator]
    assert seen == [mathopt.LPAlgorithm.DUAL_SIMPLEX]
    assert plans
    from tests.solvers.test_greedy import _assert_checked_answer

    for _src, (gb, graw) in plans:
        _assert_checked_answer(sc, d, gb, graw)


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_the_large_paths_first_plan_comes_by_its_share_of_the_limit(
        solve_checked, monkeypatch, share: float) -> None:
    """The large path's first constructive plan is cut at FIRST_PLAN_SHARE of the limit
    (what is not placed by then is imported or left unmet) and, cut short, made again
    with its own time; where the share is past its own deadline, it is made once."""
    import solvers.greedy as greedy

    doc = generate("small", 1)
    monkeypatch.setattr(solver_model, "FULL_LP_MAX_COLUMNS", 0)
    monkeypatch.setattr(lp_guided, "FIRST_PLAN_SHARE", share)
    calls: list[tuple[str, float | None, float, float | None]] = []
    real = greedy.greedy_plan

    def spy(sc, d, guide=None, order_by="due", by_period=None, deadline=None,  # type: ignore[no-untyped-def]
            fees=True, priced=False):
        b, raw = real(sc, d, guide, order_by, by_period, deadline, fees, priced)
        away = sum(raw.u.values()) + sum(raw.z.values())
        calls.append((order_by, deadline, away, raw.solver_objective))
        return b, raw

    monkeypatch.setattr(lp_guided, "greedy_plan", spy)
    plan = solve_checked(doc, method=Method.LP_GUIDED, time_limit=10)
    unguided = [c for c in calls if c[1] is not None]
    total = sum(r["quantity"] for r in doc["requests"])
    if share == 0.0:
        # Cut at once: every unit away; then the same order again, placing units.
        assert unguided[0][0] == unguided[1][0] == "due"
        assert unguided[0][2] == total and unguided[1][2] < total
        assert unguided[0][1] is not None and unguided[1][1] is not None
        assert unguided[0][1] < unguided[1][1]
    else:
        assert [c[0] for c in unguided[:2]] == ["due", "regret"]
    assert plan.objective is not None


def test_the_large_path_makes_its_plans_before_the_unit_bound(solve_checked,
                                                             monkeypatch) -> None:
    """On the large path nothing bounds before the method's first plan: the unit bound,
    which ranks every offer, comes after it (on a 1,000 x 1,000 facility location, 1 M
    offers, it had run first for 7.9 s, and a 10 s solve had no plan)."""
    doc = generate("small", 1)
    monkeypatch.setattr(solver_model, "FULL_LP_MAX_COLUMNS", 0)
    calls: list[str] = []
    real_plan, real_bound = lp_guided.greedy_plan, lp_guided.unit_bound

    def plan_spy(*args: Any, **kwargs: Any) -> tuple[Built, Raw]:
        calls.append("plan")
        return real_plan(*args, **kwargs)

    def bound_spy(sc: Any, d: Derived) -> float:
        calls.append("unit bound")
        return real_bound(sc, d)

    monkeypatch.setattr(lp_guided, "greedy_plan", plan_spy)
    monkeypatch.setattr(lp_guided, "unit_bound", bound_spy)
    plan = solve_checked(doc, method=Method.LP_GUIDED, time_limit=10)
    assert calls[0] == "plan" and "unit bound" in calls
    assert plan.bound is not None and plan.objective is not None
    assert plan.bound <= plan.objective


def test_the_large_path_makes_a_plan_when_the_limit_is_gone_before_it_starts(
        solve_checked, monkeypatch) -> None:
    """A limit spent before the solve begins (the command line counts reading the file):
    the large path still makes its first plan, cut at once (every unit sent away), and
    neither the unit bound nor the Lagrangian bound delays it. Before, its method never
    ran and the answer was `no_solution`."""
    doc = generate("small", 1)
    monkeypatch.setattr(solver_model, "FULL_LP_MAX_COLUMNS", 0)
    plan = solve_checked(doc, method=Method.LP_GUIDED, time_limit=1.0,
                         started=time.perf_counter() - 5.0)
    total = sum(r["quantity"] for r in doc["requests"])
    assert plan.status.value == "feasible"
    assert sum(p.quantity for p in plan.imports) + sum(
        u.quantity for u in plan.unmet) == total
    assert plan.bound is None
    assert plan.solver is not None and plan.solver["unit_bound"] == (
        "skipped: past the deadline")


@pytest.mark.parametrize("large", [False, True])
def test_a_callers_bound_provider_runs_on_every_path(solve_checked, monkeypatch,
                                                      large: bool) -> None:
    """`SolveOptions(bound_providers=...)` are run on the large path too (they had been
    dropped there): each is called with the scenario, its derived data, a deadline and
    the incumbent's cost, and the plan's bound is at least what it returned."""
    from solvers.lp_guided import unit_bound

    doc = generate("small", 1)
    if large:
        monkeypatch.setattr(solver_model, "FULL_LP_MAX_COLUMNS", 0)
    calls: list[tuple[float, float | None]] = []

    def halved_unit_bound(sc: Any, d: Derived, deadline: float, upper: float | None
                          ) -> float:
        calls.append((deadline, upper))
        return 0.5 * unit_bound(sc, d)

    plan = solve_checked(doc, method=Method.LP_GUIDED, time_limit=10,
                         bound_providers=(halved_unit_bound,))
    assert len(calls) == 1 and calls[0][0] > time.perf_counter() - 10
    assert plan.bound is not None and plan.objective is not None
    sc = scenario_from_dict(doc)
    assert 0.5 * unit_bound(sc, Derived(sc)) <= plan.bound <= plan.objective


def _bottleneck_case() -> dict[str, Any]:
    """One workshop, the only one able to mill the part, with 10 hours in each of two
    periods (20 units at 1 h each, 100 a unit); R1 wants 30 (a unit unmet costs 1,000),
    R2 wants 5 (300). Nothing can be imported."""
    return {
        "name": "bottleneck", "horizon": {"periods": 2},
        "transport": {"cost_per_kg_km": 0.0},
        "locations": [{"id": "loc"}],
        "workshops": [{"id": "w1", "location": "loc", "capacity": {"milling": 10},
                       "rate": {"milling": 100}}],
        "components": [{"id": "part", "weight_kg": 1,
                        "routing": [{"process": "milling", "hours": 1.0}]}],
        "requests": [
            {"id": "R1", "component": "part", "quantity": 30, "due": 1, "unmet_penalty": 1000},
            {"id": "R2", "component": "part", "quantity": 5, "due": 1, "unmet_penalty": 300},
        ],
    }


def test_the_bottleneck_bound_sends_away_what_the_only_workshop_cannot_make(
        solve_checked) -> None:
    """Capacity ignored, every unit is made at 100: 3,500. The only workshop makes 20
    units in the horizon, so 15 go unmet, the cheapest loss per hour last: R1's 10 at 900
    more, R2's 5 at 200 more: 3,500 + 9,000 + 1,000 = 13,500, which is the optimum
    (20 made at 2,000, 10 + 5 unmet at 10,000 + 1,500)."""
    doc = _bottleneck_case()
    sc = scenario_from_dict(doc)
    assert lp_guided.unit_bound(sc, Derived(sc)) == 3500.0
    assert lp_guided.bottleneck_bound(sc, Derived(sc)) == 13500.0
    plan = solve_checked(doc)
    assert plan.status.value == "optimal" and plan.objective == pytest.approx(13500.0)
    # Released in the second period, R2 still shares the first's hours through R1's
    # group (the group counts from its earliest release); alone it has only 10 hours.
    doc["requests"] = [{**doc["requests"][1], "release": 1, "quantity": 15}]
    sc = scenario_from_dict(doc)
    assert lp_guided.bottleneck_bound(sc, Derived(sc)) == 15 * 100 + 5 * 200
