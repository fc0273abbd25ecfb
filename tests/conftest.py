"""Shared test helpers: the checked solve and the location of the shared benchmark folder.

Every plan a test makes goes through `solve_checked`, which runs the independent checker
(`models.check.check`) on it: a plan is only trusted when the checker finds it feasible and
recomputes the same objective from its rows.

Test modules get the helpers as fixtures (`solve_checked`, `shared_dir`, `benchmarks_dir`,
`benchmark_script`) rather than with `import conftest`: `tests/` has no packages, so a
second conftest.py anywhere under it would take over the module name `conftest`.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import settings

from models import Plan, Scenario, scenario_from_dict
from models.check import check
from solvers import SolveOptions, solve

# --------------------------------------------------------------------------------------
# Property tests (Hypothesis): the same cases on every run by default, so that the suite
# passes or fails the same way in CI; HYPOTHESIS_PROFILE=explore draws new ones each run.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# --------------------------------------------------------------------------------------
# The shared folder (SPEC.md and benchmarks/) lives beside the repository:
# <repo>/../shared, or wherever IMC_SHARED_DIR points.

SHARED_ENV = "IMC_SHARED_DIR"
REPO_ROOT = Path(__file__).resolve().parents[1]
BENCHMARK_FOLDERS = ("gap", "cflp", "fatahi")


def shared_dir() -> Path:
    """The shared folder: $IMC_SHARED_DIR if set, else `shared/` beside the repository."""
    env = os.environ.get(SHARED_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return REPO_ROOT.parent / "shared"


SHARED = shared_dir()
BENCHMARKS = SHARED / "benchmarks"


@dataclass(frozen=True)
class BenchmarkCase:
    """One benchmark scenario file and its published optimum (None when a problem with the
    benchmark folder is to be reported by the test instead)."""

    folder: str
    path: Path
    optimum: float | None
    problem: str | None = None

    @property
    def id(self) -> str:
        return self.path.stem


def _missing(message: str) -> BenchmarkCase:
    return BenchmarkCase(folder="", path=Path("benchmarks-missing"), optimum=None,
                         problem=message)


def benchmark_cases(root: Path = BENCHMARKS) -> list[BenchmarkCase]:
    """Every scenario file of every benchmark folder with its optimum from optima.json.

    A missing folder or file gives one case carrying the problem, so that the test using
    it fails with that message (an empty parametrization would only be skipped)."""
    if not root.is_dir():
        return [_missing(
            f"benchmark folder {root} not found: clone the shared folder beside the "
            f"repository (<repo>/../shared) or set {SHARED_ENV} to its path")]
    cases: list[BenchmarkCase] = []
    for folder in BENCHMARK_FOLDERS:
        optima_file = root / folder / "optima.json"
        if not optima_file.is_file():
            cases.append(_missing(f"{optima_file} not found"))
            continue
        optima: dict[str, float] = json.loads(optima_file.read_text(encoding="utf-8"))
        files = sorted(p for p in (root / folder).glob("*.json") if p.name != "optima.json")
        for p in files:
            opt = optima.get(p.stem)
            problem = None if opt is not None else f"{p.stem} has no entry in {optima_file}"
            cases.append(BenchmarkCase(folder=folder, path=p, optimum=opt, problem=problem))
    return cases


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`benchmark_case` runs once per benchmark scenario file, with the file stem as id."""
    if "benchmark_case" in metafunc.fixturenames:
        cases = benchmark_cases()
        metafunc.parametrize("benchmark_case", cases, ids=[c.id for c in cases])


# --------------------------------------------------------------------------------------
# Solving, always through the checker

OBJECTIVE_REL_TOL = 1e-6


def as_scenario(scenario_or_dict: Scenario | Mapping[str, Any]) -> Scenario:
    if isinstance(scenario_or_dict, Scenario):
        return scenario_or_dict
    return scenario_from_dict(dict(scenario_or_dict))


def solve_checked_timed(scenario_or_dict: Scenario | Mapping[str, Any],
                        **options: Any) -> tuple[Plan, float]:
    """`solve_checked`, also giving the wall-clock seconds of the solve call alone."""
    scenario = as_scenario(scenario_or_dict)
    started = time.perf_counter()
    plan = solve(scenario, SolveOptions(**options))
    seconds = time.perf_counter() - started
    _assert_checked(scenario, plan)
    return plan, seconds


def solve_checked(scenario_or_dict: Scenario | Mapping[str, Any], **options: Any) -> Plan:
    """Solve with `solvers.solve(scenario, SolveOptions(**options))`, then check the plan.

    Asserts that the checker finds no violation and, for a plan with an objective, that the
    objective equals the checker's recomputation from the rows within 1e-6 relative."""
    return solve_checked_timed(scenario_or_dict, **options)[0]


def _assert_checked(scenario: Scenario, plan: Plan) -> None:
    report = check(scenario, plan)
    assert report.ok, (
        f"checker rejects the {plan.status.value} plan of scenario {scenario.name!r}:\n"
        + report.summary()
    )
    if plan.objective is None:
        assert report.objective is None, (
            f"plan has no objective but the checker costs it at {report.objective}")
    else:
        assert report.objective is not None, "checker found no plan to cost"
        assert math.isclose(plan.objective, report.objective,
                            rel_tol=OBJECTIVE_REL_TOL, abs_tol=1e-9), (
            f"plan objective {plan.objective!r} differs from the checker's recomputed "
            f"{report.objective!r} (cost terms {report.cost})")


SolveChecked = Callable[..., Plan]


@pytest.fixture(name="solve_checked")
def solve_checked_fixture() -> SolveChecked:
    """The only way tests call the solver: `solve_checked(scenario_or_dict, **options)`."""
    return solve_checked


@pytest.fixture(name="solve_checked_timed")
def solve_checked_timed_fixture() -> Callable[..., tuple[Plan, float]]:
    """`solve_checked_timed(scenario_or_dict, **options) -> (plan, solve seconds)`."""
    return solve_checked_timed


@pytest.fixture(name="shared_dir")
def shared_dir_fixture() -> Path:
    return SHARED


@pytest.fixture(name="benchmarks_dir")
def benchmarks_dir_fixture() -> Path:
    return BENCHMARKS


def load_benchmark_script(name: str) -> ModuleType:
    """The script benchmarks/`name`.py of the repository (a folder of scripts, not a
    package), loaded as a module; the folder is put on the import path, as running a
    script there does, for the modules the scripts share (scenario_out.py)."""
    folder = Path(__file__).resolve().parents[1] / "benchmarks"
    if str(folder) not in sys.path:
        sys.path.append(str(folder))
    path = folder / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(name="benchmark_script")
def benchmark_script_fixture() -> Callable[[str], ModuleType]:
    return load_benchmark_script


@pytest.fixture(autouse=True)
def _private_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`broker solve` keeps its runs in $BROKER_DB_URL (default ./imc-broker.db): every test
    gets its own file, so no test writes into the checkout or sees another's runs."""
    monkeypatch.setenv("BROKER_DB_URL", f"sqlite:///{tmp_path / 'broker-test.db'}")
