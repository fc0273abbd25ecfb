"""The solver reproduces every published optimum of the shared benchmark set.

`benchmark_case` is parametrized in tests/conftest.py (`pytest_generate_tests`) over every
scenario file of shared/benchmarks/{gap,cflp,fatahi}, with the file stem as test id, e.g.
`pytest tests/solvers/test_benchmarks.py -k cap43`. A missing shared folder fails the tests
(with where to put it) instead of skipping them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from models import Plan, load_scenario

# Files per folder as published (see shared/benchmarks/README.md).
EXPECTED_COUNTS = {"gap": 60, "cflp": 13, "fatahi": 6}
REL_TOL = 1e-6


def test_benchmark_set_is_complete(benchmarks_dir: Path) -> None:
    if not benchmarks_dir.is_dir():
        pytest.fail(f"benchmark folder {benchmarks_dir} not found: clone the shared folder "
                    f"beside the repository (<repo>/../shared) or set IMC_SHARED_DIR")
    for folder, count in EXPECTED_COUNTS.items():
        files = {p.stem for p in (benchmarks_dir / folder).glob("*.json")} - {"optima"}
        optima = json.loads((benchmarks_dir / folder / "optima.json").read_text("utf-8"))
        assert len(files) == count, f"{folder}: {len(files)} scenario files, expected {count}"
        assert files == set(optima), (
            f"{folder}: files without optimum {sorted(files - set(optima))}, "
            f"optima without file {sorted(set(optima) - files)}")


def test_benchmark_optimum(benchmark_case: Any, solve_checked: Callable[..., Plan]) -> None:
    if benchmark_case.problem is not None:
        pytest.fail(benchmark_case.problem)
    optimum = benchmark_case.optimum
    scenario = load_scenario(benchmark_case.path)
    plan = solve_checked(scenario)
    assert plan.status.value == "optimal", f"status {plan.status.value}, expected optimal"
    assert plan.objective is not None
    assert abs(plan.objective - optimum) <= REL_TOL * abs(optimum), (
        f"{benchmark_case.id}: objective {plan.objective!r}, published optimum {optimum!r}")
