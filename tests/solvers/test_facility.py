"""Engagement moves (solvers/facility.py): the set of engaged workshops searched on the
SPEC model, every plan through the independent checker."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pytest

from models import load_scenario
from models.check import check
from models.derived import Derived
from solvers import SolveOptions
from solvers.constraints import build
from solvers.facility import FacilityMoves
from solvers.lp_guided import evaluate
from solvers.model import Raw
from solvers.options import Method
from solvers.pipeline import _best_plan
from solvers.search import Search


def _search(sc, seconds: float) -> Search:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    return Search(sc, Derived(sc), SolveOptions(time_limit=seconds), started,
                  started + seconds, evaluate)


def _everything_open(sc, search: Search):  # type: ignore[no-untyped-def]
    """The whole model and a plan that engages every site: each customer served by the
    cheapest site with room, in turn (what the LP-guided plan of cflp-large looked like)."""
    b = build(sc, search.d)
    search.full = b
    offers = {(o.workshop, o.component): o.unit_price or 0.0 for o in sc.offers}
    room = {w.id: w.cap("supply", 0) for w in sc.workshops}
    x: dict[tuple[str, int, str, int], int] = {}
    ws = [w.id for w in sc.workshops]
    for i, r in enumerate(sc.requests):
        # Round robin first, so that every site gets a customer and is engaged.
        order = ws[i % len(ws):] + ws[:i % len(ws)] if i < len(ws) else sorted(
            ws, key=lambda w: offers[(w, r.component)])
        left = r.quantity
        for w in order:
            q = int(min(left, room[w]))
            if q > 0:
                room[w] -= q
                x[(r.id, 0, w, 0)] = q
                left -= q
        assert left == 0
    return b, Raw(status="feasible", bound=None, solver_objective=None, x=x)


@pytest.mark.parametrize("name", ["cap41", "cap61", "cap71"])
def test_engagement_moves_reach_the_published_optimum_from_every_site_open(
        benchmarks_dir: Path, name: str) -> None:
    sc = load_scenario(benchmarks_dir / "cflp" / f"{name}.json")
    optimum = json.loads((benchmarks_dir / "cflp" / "optima.json").read_text())[name]
    search = _search(sc, 30)
    b, raw = _everything_open(sc, search)
    assert search.offer("every site", b, raw)
    poor = search.upper
    assert poor is not None and poor > optimum * 1.05
    FacilityMoves().improve(search, search.deadline)
    info = search.info["facility"]
    assert "skipped" not in info and info["plans"] >= 1
    assert search.upper == pytest.approx(optimum, rel=1e-6)
    assert search.best is not None and search.best.source == "facility"
    plan = _best_plan(search, search.options, search.started, time.perf_counter())
    report = check(sc, plan)
    assert report.ok, report.summary()
    assert report.objective == pytest.approx(optimum, rel=1e-6)


def test_engagement_moves_stand_aside_where_fees_are_a_small_share(
        benchmarks_dir: Path) -> None:
    sc = load_scenario(benchmarks_dir / "cflp" / "cap41.json")
    # The same instance with fees a thousandth of theirs: under 1% of any plan's cost.
    sc = sc.model_copy(update={"workshops": [
        w.model_copy(update={"engagement_cost": w.engagement_cost / 1000})
        for w in sc.workshops]})
    sc._idx = None
    search = _search(sc, 10)
    b, raw = _everything_open(sc, search)
    assert search.offer("every site", b, raw)
    before = search.upper
    FacilityMoves().improve(search, search.deadline)
    assert search.info["facility"] == {
        "skipped": "engagement fees are a small share of the cost"}
    assert search.upper == before and not math.isinf(search.left())


def _known(benchmarks_dir: Path, folder: str) -> list[tuple[str, float]]:
    optima = json.loads((benchmarks_dir / folder / "optima.json").read_text())
    return sorted(optima.items())


@pytest.mark.parametrize("folder", ["cflp", "gap"])
def test_the_knapsack_bound_is_below_every_published_optimum(benchmarks_dir: Path,
                                                             folder: str) -> None:
    """A proven bound: at most the optimum on every published instance of the families
    it applies to (13 facility location, 60 assignment), and the strong links' worth:
    within 1% of the optimum on every facility-location one (the LP without them is up
    to 10% below on these)."""
    from solvers.facility import knapsack_lagrangian

    checked = 0
    for name, optimum in _known(benchmarks_dir, folder):
        sc = load_scenario(benchmarks_dir / folder / f"{name}.json")
        b = build(sc, Derived(sc))
        lag = knapsack_lagrangian(b, time.perf_counter() + 0.5, optimum * 1.01)
        assert lag is not None, name
        bound = lag.bound
        assert bound <= optimum * (1 + 1e-9), (name, bound, optimum)
        if folder == "cflp":
            assert bound >= optimum * 0.99, (name, bound, optimum)
        checked += 1
    assert checked == {"cflp": 13, "gap": 60}[folder]


def test_the_knapsack_bound_stands_aside_where_it_does_not_hold(benchmarks_dir: Path) -> None:
    # Several steps (flows, precedence) or materials: not one knapsack per workshop.
    sc = load_scenario(benchmarks_dir / "fatahi" / "fatahi-5x10x10-1.json")
    from solvers.facility import knapsack_lagrangian

    assert knapsack_lagrangian(build(sc, Derived(sc)), time.perf_counter() + 0.5, None) is None


def test_engagement_moves_raise_the_knapsack_bound_first(benchmarks_dir: Path) -> None:
    sc = load_scenario(benchmarks_dir / "cflp" / "cap41.json")
    optimum = dict(_known(benchmarks_dir, "cflp"))["cap41"]
    search = _search(sc, 20)
    b, raw = _everything_open(sc, search)
    assert search.offer("every site", b, raw)
    FacilityMoves().improve(search, search.deadline)
    assert search.bound_from == "knapsack lagrangian"
    assert optimum * 0.99 <= search.bound <= optimum * (1 + 1e-9)
    # The moves then reach the optimum, and the gap closes to the bound's 0.1%.
    assert search.upper == pytest.approx(optimum, rel=1e-6)


def _generated_cflp(benchmark_script, sites: int, customers: int, seed: int):  # type: ignore[no-untyped-def]
    """A facility location of Cornuejols, Sridharan and Thizy's kind
    (benchmarks/cflp_generate.py), capacity five times the demand."""
    from models import scenario_from_dict

    gen = benchmark_script("cflp_generate")
    return scenario_from_dict(gen.generate(sites, customers, 5.0, seed))


def _all_open_generated(benchmark_script, seconds: float):  # type: ignore[no-untyped-def]
    """A generated 20 x 200 facility location, a search of `seconds` and its whole
    model, and the plan that engages every site offered to it (its cost returned)."""
    sc = _generated_cflp(benchmark_script, 20, 200, 3)
    search = _search(sc, seconds)
    b, raw = _everything_open(sc, search)
    assert search.offer("every site", b, raw)
    assert search.upper is not None
    return sc, search, b, search.upper


def test_the_lagrangian_set_covers_the_demand(  # type: ignore[no-untyped-def]
        benchmarks_dir: Path, benchmark_script) -> None:
    """The workshops the knapsack Lagrangian engages at its best multipliers, topped up
    until their capacity covers every request: a set the LP can serve whole."""
    from solvers.facility import knapsack_lagrangian

    for sc in (load_scenario(benchmarks_dir / "cflp" / "cap41.json"),
               _generated_cflp(benchmark_script, 20, 200, 3)):
        b = build(sc, Derived(sc))
        lag = knapsack_lagrangian(b, time.perf_counter() + 0.5, None)
        assert lag is not None and lag.opened
        assert lag.opened <= {w.id for w in sc.workshops}
        assert sum(w.cap("supply", 0) for w in sc.workshops if w.id in lag.opened) >= sum(
            r.quantity for r in sc.requests)


def test_the_moves_begin_from_the_lagrangian_set_where_it_is_valued_lower(  # type: ignore[no-untyped-def]
        benchmark_script) -> None:
    """On a generated facility location whose plan engages every site, the moves start
    from the Lagrangian's set (200 x 2,000 with a 120 s limit: 204,555 -> 140,027, the
    descent alone having dropped six sites of 76)."""
    sc, search, _b, poor = _all_open_generated(benchmark_script, 10)
    FacilityMoves().improve(search, search.deadline)
    info = search.info["facility"]
    lag = info["lagrangian_set"]
    assert lag["engaged"] < len(sc.workshops) and math.isfinite(lag["lp_value"])
    assert search.upper is not None and search.upper <= lag["lp_value"] * (1 + 1e-9) < poor
    assert search.bound_from == "knapsack lagrangian" and search.bound <= search.upper
    plan = _best_plan(search, search.options, search.started, time.perf_counter())
    report = check(sc, plan)
    assert report.ok, report.summary()


def test_a_flat_model_past_the_whole_lp_size_is_still_built_whole(
        solve_checked, benchmark_script, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """One period and one step per component: the whole model and its LP up to
    FLAT_LP_FACTOR times FULL_LP_MAX_COLUMNS (here 1,000, so 4,000), then the engagement
    moves; a model with more steps of that size takes the large path (restricted search).
    A 1,000 x 1,000 facility location at 120 s: 44.9% above its bound on the large path,
    6.9% built whole."""
    import solvers.model as solver_model

    monkeypatch.setattr(solver_model, "FULL_LP_MAX_COLUMNS", 1000)
    flat = _generated_cflp(benchmark_script, 20, 200, 3)  # 4,000 unit columns
    assert solver_model.whole_lp_columns(flat, None) == 4000
    # As many as the limit gives 1e-4 s each, never fewer than any model's 1,000.
    assert solver_model.whole_lp_columns(flat, 0.2) == 2000
    assert solver_model.whole_lp_columns(flat, 0.01) == 1000
    plan = solve_checked(flat, time_limit=8, method=Method.LP_GUIDED)
    assert plan.solver["relaxation"] == "lp" and "facility" in plan.solver
    assert "restricted" not in plan.solver

    from models import scenario_from_dict
    from scenarios.generate import generate

    steps = scenario_from_dict(generate("small", 1))
    assert solver_model.whole_lp_columns(steps, None) == 1000
    plan = solve_checked(steps, time_limit=5, method=Method.LP_GUIDED)
    assert "restricted" in plan.solver and "facility" not in plan.solver


def test_a_kernel_sub_model_chooses_among_many_sites_at_once(  # type: ignore[no-untyped-def]
        benchmark_script) -> None:
    """From a plan that engages every site, one kernel sub-model (the engaged sites, each
    customer kept to its KERNEL_NEAR cheapest of them) engages fewer: a cheaper plan the
    checker accepts, and its set valued by the LP to descend from."""
    from solvers.facility import KERNEL_NEAR, _Moves

    sc, search, b, poor = _all_open_generated(benchmark_script, 30)
    moves = _Moves(search, b, search.deadline)
    moves.span = 20.0
    dropped = moves._near(set(moves.W), np.zeros(b.model.num_vars))
    # Every customer keeps exactly its KERNEL_NEAR cheapest of the 20 sites.
    assert len(dropped) == len(sc.requests) * (len(sc.workshops) - KERNEL_NEAR)
    got = moves._kernel(frozenset())
    assert got is not None
    opened, value, _x, _duals = got
    assert len(opened) < len(sc.workshops)
    assert moves.kernels == {"sub_models": 1, "better": 1}
    assert search.best is not None and search.best.source == "facility/kernel"
    assert search.upper is not None and search.upper < poor
    # The set's LP value is that of its cheapest allocation: at most the plan's cost.
    assert value <= search.upper * (1 + 1e-9)
    plan = _best_plan(search, search.options, search.started, time.perf_counter())
    report = check(sc, plan)
    assert report.ok, report.summary()
    assert report.objective == pytest.approx(search.upper, rel=1e-9)


def test_the_moves_stop_where_they_are_too_slow_to_search(
        benchmarks_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stall rule (`STALL_SHARE`, `STALL_EVALS`): no better plan for the stall time
    with few sets valued since ends the method's time; many valuations, or a better
    plan, give it back."""
    from solvers.facility import STALL_EVALS, _Moves

    sc = load_scenario(benchmarks_dir / "cflp" / "cap41.json")
    search = _search(sc, 60)
    b, raw = _everything_open(sc, search)
    assert search.offer("every site", b, raw)
    moves = _Moves(search, b, search.deadline)  # type: ignore[arg-type]
    assert moves.left() > 50  # no stall limit before `run` sets one
    moves._stall = 10.0
    moves._gained -= 11.0  # the last gain 11 s ago
    assert moves.left() < 0
    moves.evals = STALL_EVALS - 1
    assert moves.left() < 0
    moves.evals = STALL_EVALS  # searching quickly: the deadline holds
    assert moves.left() > 50
    moves.evals = 0
    moves._evals_gained = 0
    # A better incumbent starts the count again.
    up = search.upper
    assert up is not None
    monkeypatch.setattr(Search, "upper", property(lambda self: up - 1.0))
    assert moves.left() == pytest.approx(10.0, abs=0.5)
