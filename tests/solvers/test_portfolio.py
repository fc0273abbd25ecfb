"""threads >= 2: HiGHS and SCIP race on the two cores; the first proof wins."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from models import Plan, load_scenario


def test_race_reaches_the_published_optimum(solve_checked, benchmarks_dir: Path) -> None:  # type: ignore[no-untyped-def]
    optimum = json.loads((benchmarks_dir / "cflp" / "optima.json").read_text())["cap43"]
    plan = solve_checked(load_scenario(benchmarks_dir / "cflp" / "cap43.json"), threads=2)
    assert plan.status.value == "optimal"
    assert plan.objective == pytest.approx(optimum, rel=1e-6)
    assert plan.solver["portfolio"] == ["highs", "scip"]
    assert plan.solver["engine"] in ("highs", "scip")


def test_race_under_a_time_limit_keeps_the_best_plan_and_bound(
        solve_checked_timed: Callable[..., tuple[Plan, float]]) -> None:
    from scenarios.generate import generate

    # Not proven by either engine in minutes (see test_constraints): both run to the limit.
    plan, elapsed = solve_checked_timed(generate("small", 2), time_limit=5, threads=2)
    assert elapsed < 15
    assert plan.status.value == "feasible"
    assert plan.bound is not None and plan.objective is not None
    assert 0 < plan.bound < plan.objective
