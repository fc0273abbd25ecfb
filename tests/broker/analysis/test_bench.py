"""The benchmark runner: both formulations in fresh processes, ratios, known optima, CLI.

Kept fast (small instances, short limits): the speed targets themselves are measured by
`broker bench` on medium and large instances, not here."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from broker.analysis import bench
from cli import app
from solvers import Formulation

VALID = {"optimal", "feasible", "infeasible", "no_solution"}


@pytest.fixture(scope="module")
def small_rows() -> list[bench.BenchRow]:
    return bench.run_bench(bench.generated(["small"], [1]), time_limit=20.0,
                           formulations=[Formulation.REDUCED, Formulation.DIRECT])


def test_small_both_formulations(small_rows: list[bench.BenchRow]) -> None:
    assert [(r.instance, r.formulation) for r in small_rows] == [
        ("small-s1", "reduced"), ("small-s1", "direct")]
    for r in small_rows:
        assert r.status in VALID, r.message
        assert r.status in ("optimal", "feasible")
        assert r.check_ok is True
        assert r.seconds is not None and 0 < r.seconds <= 20.0 * bench.TIME_LIMIT_SLACK
        assert r.overrun == pytest.approx(r.seconds / 20.0)
        assert r.peak_mb is not None and r.peak_mb > 0
        assert r.build_seconds is not None
    project, base = small_rows
    assert project.speedup == pytest.approx(base.seconds / project.seconds)
    assert project.objective_ratio == pytest.approx(project.objective / base.objective)
    assert project.gap_diff is not None
    assert base.speedup is None and base.objective_ratio is None


def test_targets_judge_the_time_limit(small_rows: list[bench.BenchRow]) -> None:
    lines = bench.targets(small_rows)
    # No size target for small; the time-limit rule applies to every run.
    assert len(lines) == 1 and lines[0].text.startswith("time limit: 2/2")
    assert lines[0].passed is True


def test_known_optimum_gap(benchmarks_dir: Path) -> None:
    file = benchmarks_dir / "gap" / "gap1-0.json"
    if not file.is_file():
        pytest.fail(f"{file} not found: set IMC_SHARED_DIR or clone the shared folder")
    [inst] = bench.from_paths([file])
    assert inst.optimum == 261.0
    [row] = bench.run_bench([inst], time_limit=20.0, formulations=[Formulation.REDUCED])
    assert row.status == "optimal" and row.check_ok is True
    assert row.optimum_gap is not None and math.isclose(row.optimum_gap, 0.0, abs_tol=1e-6)


def test_targets_medium_and_large() -> None:
    medium = bench.BenchRow(instance="medium-s1", formulation="reduced", size="medium",
                            time_limit=60.0, status="feasible", objective=100.0, bound=99.2,
                            gap=0.008, seconds=59.1, peak_mb=500.0, overrun=59.1 / 60)
    large = bench.BenchRow(instance="large-s1", formulation="reduced", size="large",
                           time_limit=60.0, status="killed", seconds=120.0, peak_mb=5000.0,
                           overrun=2.0)
    stopped = bench.BenchRow(instance="large-s2", formulation="reduced", size="large",
                             time_limit=60.0, status="killed", seconds=118.0, peak_mb=2363.0,
                             overrun=118.0 / 60)
    texts = {ln.text: ln.passed for ln in bench.targets([medium, large, stopped])}
    assert texts["medium-s1: gap 0.80% in 59.1 s (target <= 1% in 60 s): PASS"] is True
    assert texts["large-s1: killed in 120.0 s (target: a plan in <= 60 s): FAIL"] is False
    # A 60 s run that did not reach 2% cannot judge the 10 minute target.
    assert texts["large-s1: gap - in 120.0 s (target <= 2% in 600 s): NOT MEASURED"] is None
    assert texts["large-s1: peak >= 5,000 MB when killed (target <= 4,096 MB): FAIL"] is False
    # Memory still growing when killed: a lower bound under the target proves nothing.
    assert texts["large-s2: peak >= 2,363 MB when killed (target <= 4,096 MB): "
                 "NOT MEASURED"] is None
    assert any(t.startswith("time limit: 1/3") and p is False for t, p in texts.items())


def test_overrunning_child_is_killed_and_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    # No grace at all: the child cannot even start Python before its deadline.
    monkeypatch.setattr(bench, "KILL_GRACE", 0.0)
    row = bench.run_one(bench.generated(["small"], [1])[0], Formulation.REDUCED, 0.01)
    assert row.status == "killed"
    assert "killed after" in row.message and row.check_ok is None


def test_crashing_child_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    [row] = bench.run_bench(bench.from_paths([bad]), time_limit=5.0,
                            formulations=[Formulation.REDUCED])
    assert row.status == "error" and row.instance == "bad"
    assert "ScenarioError" in row.message


def test_cli_prints_the_table(benchmarks_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    res = CliRunner().invoke(app, ["bench", "--instances", str(benchmarks_dir / "gap" /
                                                                "gap1-0.json"),
                                   "--time-limit", "20", "--out", str(out)])
    assert res.exit_code == 0, res.output
    for word in ("instance", "formulation", "speed-up", "opt gap", "gap1-0", "reduced",
                 "direct", "time limit: 2/2"):
        assert word in res.stdout
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["formulation"] for r in rows] == ["reduced", "direct"]
    assert rows[0]["speedup"] != "" and rows[0]["check_ok"] == "True"


def test_cli_bad_size() -> None:
    res = CliRunner().invoke(app, ["bench", "--size", "huge"])
    assert res.exit_code == 2
    assert "unknown size 'huge'" in res.stderr and "small, medium, large" in res.stderr


def test_cli_missing_instances(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["bench", "--instances", str(tmp_path / "nope.json")])
    assert res.exit_code == 2
    assert "no such file or folder" in res.stderr
