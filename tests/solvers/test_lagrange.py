"""The Lagrangian path bound (solvers/lagrange.py) is a lower bound of the SPEC model: for
any multipliers, below published and exact optima; at zero multipliers, no weaker than the
capacity-free unit bound."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import solvers.lp_guided as lp_guided
from models import load_scenario, scenario_from_dict
from models.derived import Derived
from scenarios.generate import generate
from solvers import Method
from solvers.lagrange import PathRelaxation, lagrangian_path_bound

BENCH = ["fatahi/fatahi-5x10x10-1", "cflp/cap41", "gap/gap3-2", "gap/gap1-1"]


@pytest.mark.parametrize("name", BENCH)
def test_bound_below_published_optimum(benchmarks_dir: Path, name: str) -> None:
    folder, stem = name.split("/")
    optimum = json.loads((benchmarks_dir / folder / "optima.json").read_text())[stem]
    sc = load_scenario(benchmarks_dir / f"{name}.json")
    d = Derived(sc)
    result = lagrangian_path_bound(sc, d, optimum, None, max_iterations=3000)
    assert result.bound <= optimum * (1 + 1e-9) + 1e-6
    assert result.bound >= lp_guided.unit_bound(sc, d) - 1e-6 * max(1.0, optimum)


# Seeds whose exact optimum is proven in seconds.
@pytest.mark.parametrize("seed", [1, 3])
def test_any_multipliers_bound_the_exact_optimum(solve_checked, seed: int) -> None:
    doc = generate("small", seed)
    exact = solve_checked(doc)
    assert exact.status.value == "optimal" and exact.objective is not None
    sc = scenario_from_dict(doc)
    d = Derived(sc)
    rel = PathRelaxation(sc, d)
    rng = np.random.default_rng(seed)
    for scale in (0.0, 1e2, 1e4, 1e6):
        lam = rng.exponential(scale, size=len(rel.cap)) if scale else np.zeros(len(rel.cap))
        mu = rng.exponential(scale / 100, size=len(rel.stock)) if scale else np.zeros(
            len(rel.stock))
        value, _g_lam, _g_mu = rel.evaluate(lam, mu)
        assert value <= exact.objective * (1 + 1e-9)
    best = lagrangian_path_bound(sc, d, exact.objective, None, max_iterations=3000)
    assert lp_guided.unit_bound(sc, d) <= best.bound <= exact.objective * (1 + 1e-9)


def test_large_path_reports_the_lagrangian_bound_when_no_lp_is_built(solve_checked,
                                                                      monkeypatch) -> None:
    """With the one-period relaxation out of reach (forced), the bound is the better of the
    unit bound and the Lagrangian path bound, and still below the exact optimum."""
    doc = generate("small", 1)
    exact = solve_checked(doc)
    monkeypatch.setattr(lp_guided, "FULL_LP_MAX_COLUMNS", 0)
    monkeypatch.setattr(lp_guided, "ONE_PERIOD_MAX_COLUMNS", 0)
    plan = solve_checked(doc, method=Method.LP_GUIDED)
    assert plan.solver["bound_from"] in ("unit bound", "lagrangian paths")
    assert plan.solver["lagrange_iterations"] > 0
    sc = scenario_from_dict(doc)
    assert plan.bound is not None and exact.objective is not None
    assert lp_guided.unit_bound(sc, Derived(sc)) <= plan.bound <= exact.objective * (1 + 1e-9)
