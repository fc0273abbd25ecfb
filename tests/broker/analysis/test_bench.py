"""The benchmark runner: fresh processes, the checker on every plan, references, ratios,
verdicts against the targets, the busy neighbour, the command line.

Kept fast (the smallest public instances, limits of 1-3 s): the targets themselves are
measured by `broker bench` on the benchmark families and generated sizes, not here."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

import models
from broker.analysis import bench
from cli import app
from solvers import Formulation

VALID = {"optimal", "feasible", "infeasible", "no_solution"}


def _file(benchmarks_dir: Path, rel: str) -> Path:
    file = benchmarks_dir / rel
    if not file.is_file():
        pytest.fail(f"{file} not found: set IMC_SHARED_DIR or clone the shared folder")
    return file


@pytest.fixture(scope="module")
def gap_rows() -> list[bench.BenchRow]:
    file = bench.default_benchmarks_dir() / "gap" / "gap1-0.json"
    return bench.run_bench(bench.from_paths([file], time_limit=3.0),
                           [Formulation.REDUCED, Formulation.DIRECT])


def test_gap_both_formulations_checked(gap_rows: list[bench.BenchRow]) -> None:
    assert [(r.instance, r.formulation) for r in gap_rows] == [
        ("gap1-0", "reduced"), ("gap1-0", "direct")]
    for r in gap_rows:
        assert r.status in ("optimal", "feasible"), r.message
        assert r.check_ok is True
        assert r.optimum == 261.0 and r.reference == "optimum"
        assert r.reference_gap is not None and r.reference_gap >= -1e-9
        # Measured from outside: the process's wall time includes starting Python.
        assert r.seconds is not None and r.wall_seconds is not None
        assert 0 < r.seconds < r.wall_seconds
        assert r.overrun == pytest.approx(r.seconds / 3.0)
        assert r.peak_mb is not None and r.peak_mb > 0
    project, base = gap_rows
    assert project.speedup == pytest.approx(base.seconds / project.seconds)
    assert project.objective_ratio == pytest.approx(project.objective / base.objective)
    assert base.speedup is None and base.target is None
    # The 60 files of gap/ are judged without a limit: a 3 s run that proves the optimum
    # passes, any other 3 s run cannot tell.
    assert project.target == "proven optimal without a limit"
    assert project.verdict is (True if project.status == "optimal" else None)


def test_busy_neighbour_starts_and_stops(benchmarks_dir: Path) -> None:
    [inst] = bench.from_paths([_file(benchmarks_dir, "cflp/cap41.json")], time_limit=2.0)
    row = bench.run_one(inst, Formulation.REDUCED, busy=True)
    assert row.busy and row.status in VALID and row.check_ok is not False, row.message
    pid = bench.last_spinner_pid
    assert pid is not None and pid != os.getpid()
    # It competed for a core while the solve ran, and it is gone now.
    assert row.busy_cpu_seconds is not None and row.busy_cpu_seconds > 0.2
    assert not Path(f"/proc/{pid}").exists()


def test_known_values(benchmarks_dir: Path) -> None:
    insts = {i.name: i for i in bench.family("gap-large", benchmarks_dir)}
    assert insts["c10100"].optimum == 1402.0 and insts["c10100"].time_limit == 60.0
    # Not proven optimal: a best known value and a bound, no optimum.
    d = insts["d20200"]
    assert (d.optimum, d.best_known, d.known_bound) == (None, 12244.0, 12235.0)
    [capa] = bench.family("cflp-large", benchmarks_dir, only=["capa_12000"])
    assert capa.optimum == pytest.approx(17765201.949) and capa.time_limit == 120.0
    assert {i.time_limit for i in bench.family("gap", benchmarks_dir)} == {None}
    default = bench.family("default", benchmarks_dir)
    assert [i.time_limit for i in default] == [None, 3.0, 10.0]


def test_generated_names_and_limits() -> None:
    insts = bench.generated(["small", "medium"], [1, 2], ["balanced", "tight"],
                            default_limit=True)
    assert [i.name for i in insts][:4] == ["small-s1", "small-s2", "small-s1-tight",
                                           "small-s2-tight"]
    assert {i.time_limit for i in insts if i.size == "medium"} == {60.0}
    [alt] = bench.generated(["small"], [3], generator="alt", time_limit=5.0)
    assert alt.name == "alt-small-s3" and alt.time_limit == 5.0
    with pytest.raises(Exception, match="profiles belong to the catalog generator"):
        bench.generated(["small"], [1], ["tight"], generator="alt")


def _row(**kw: object) -> bench.BenchRow:
    base: dict[str, object] = {"instance": "x", "formulation": "reduced",
                               "status": "feasible", "check_ok": True, "time_limit": 60.0}
    base.update(kw)
    r = bench.BenchRow(**base)  # type: ignore[arg-type]
    return r


@pytest.mark.parametrize(("kw", "verdict", "target"), [
    ({"family": "gap-large", "time_limit": 60.0, "reference_gap": 0.001, "seconds": 59.0},
     True, "<= 0.2% of the best known value in 60 s"),
    ({"family": "gap-large", "time_limit": 60.0, "reference_gap": 0.005, "seconds": 60.0},
     False, None),
    # A shorter limit that did not reach the target cannot judge it.
    ({"family": "gap-large", "time_limit": 30.0, "reference_gap": 0.005, "seconds": 30.0},
     None, None),
    ({"family": "cflp-large", "time_limit": 120.0, "reference_gap": 0.004, "seconds": 121.0},
     True, "<= 0.5% of the optimum in 120 s"),
    ({"family": "default", "time_limit": None, "status": "optimal", "reference_gap": 0.0},
     True, "proven optimal without a limit"),
    ({"family": "default", "time_limit": 3.0, "reference_gap": 0.08, "seconds": 3.1},
     True, "<= 10% of the optimum in 3 s"),
    ({"family": "default", "time_limit": 10.0, "reference_gap": 0.02, "seconds": 10.0},
     False, "<= 1% of the optimum in 10 s"),
    ({"size": "medium", "time_limit": 60.0, "reference_gap": 0.004, "seconds": 59.0},
     True, "<= 0.5% of the best bound in 60 s"),
    ({"size": "medium", "busy": True, "time_limit": 60.0, "reference_gap": 0.008,
      "seconds": 60.0}, True, "<= 1% of the best bound in 60 s beside a busy core"),
    ({"size": "large", "time_limit": 60.0, "reference_gap": 0.03, "seconds": 58.0},
     True, "<= 5% of the best bound in 60 s"),
    ({"size": "large", "time_limit": 600.0, "reference_gap": 0.03, "seconds": 500.0},
     False, "<= 1% of the best bound in 600 s"),
    # A plan the checker rejects never passes.
    ({"size": "medium", "time_limit": 60.0, "reference_gap": 0.001, "seconds": 50.0,
      "check_ok": False}, False, None),
    ({"size": "small", "time_limit": 10.0, "reference_gap": 0.0, "seconds": 1.0}, None, None),
])
def test_verdicts(kw: dict[str, object], verdict: bool | None, target: str | None) -> None:
    text, passed = bench.judge(_row(**kw))
    assert passed is verdict
    if target is not None:
        assert text == target


def test_references_take_the_best_bound_of_the_run() -> None:
    rows = [_row(instance="m", formulation="reduced", objective=101.0, bound=99.0),
            _row(instance="m", formulation="direct", objective=120.0, bound=100.0)]
    bench.add_references(rows)
    assert [r.reference for r in rows] == ["bound", "bound"]
    assert rows[0].reference_gap == pytest.approx(0.01)


def test_targets_lines_time_and_first_plan() -> None:
    ok = _row(instance="medium-s1", size="medium", time_limit=60.0, seconds=59.0,
              overrun=59.0 / 60, first_plan_seconds=1.5, reference_gap=0.004, reference="bound")
    late = _row(instance="medium-s2", size="medium", time_limit=60.0, seconds=70.0,
                overrun=70.0 / 60, first_plan_seconds=2.5, reference_gap=0.004)
    for r in (ok, late):
        r.target, r.verdict = bench.judge(r)
    texts = {ln.text: ln.passed for ln in bench.targets([ok, late])}
    assert texts["medium-s1@60s: feasible, 0.40% of the bound in 59.0 s (target <= 0.5% of "
                 "the best bound in 60 s): PASS"] is True
    assert any(t.startswith("time limit: 1/2") and p is False for t, p in texts.items())
    assert any(t.startswith("first plan: 1/2") and "late: medium-s2" in t and p is False
               for t, p in texts.items())


def test_overrunning_child_is_killed_and_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    # No grace at all: the child cannot even start Python before its deadline.
    monkeypatch.setattr(bench, "KILL_GRACE", 0.0)
    [inst] = bench.generated(["small"], [1], time_limit=0.01)
    row = bench.run_one(inst, Formulation.REDUCED)
    assert row.status == "killed"
    assert "killed after" in row.message and row.check_ok is None


def test_crashing_child_is_reported(tmp_path: Path) -> None:
    # A file that stops being a scenario after it was listed: the child fails to load it.
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    inst = bench.Instance(name="bad", time_limit=5.0, path=str(bad))
    [row] = bench.run_bench([inst], [Formulation.REDUCED])
    assert row.status == "error" and row.instance == "bad"
    assert "ScenarioError" in row.message


def test_instances_that_are_not_scenarios_are_refused_before_running(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    with pytest.raises(models.InputError) as e:
        bench.from_paths([bad])
    assert e.value.problems == [f"{bad}: name: required field missing",
                                f"{bad}: horizon: required field missing"]
    res = CliRunner().invoke(app, ["bench", "--instances", str(bad), "--no-baseline"])
    assert res.exit_code == 2
    assert f"{bad}: name: required field missing" in res.stderr


def test_cli_json(benchmarks_dir: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["bench", "--instances", str(_file(
        benchmarks_dir, "gap/gap1-0.json")), "--time-limit", "2", "--json", "--no-baseline"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["format"] == "imc-broker/bench@1"
    [row] = doc["rows"]
    assert row["instance"] == "gap1-0" and row["formulation"] == "reduced"
    assert row["check_ok"] is True and row["reference"] == "optimum"
    for key in ("status", "objective", "gap", "reference_gap", "seconds", "wall_seconds",
                "peak_mb", "speedup", "verdict", "busy"):
        assert key in row
    assert any(t["text"].startswith("time limit: 1/1") for t in doc["targets"])


def test_cli_table(benchmarks_dir: Path) -> None:
    res = CliRunner().invoke(app, ["bench", "--family", "cflp", "--only", "cap41",
                                   "--time-limit", "2"])
    assert res.exit_code == 0, res.output
    for word in ("instance", "ref gap", "speed-up", "verdict", "cap41", "reduced", "direct",
                 "/2 runs returned within 1.1 x the limit", "target proven optimal"):
        assert word in res.stdout


def test_cli_rejected_plan_is_loud(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(insts: object, forms: object, **kw: object) -> list[bench.BenchRow]:
        return [_row(instance="small-s1", size="small", time_limit=10.0, check_ok=False,
                     message="capacity: workshop w1 over by 3 h")]
    monkeypatch.setattr(bench, "run_bench", fake)
    res = CliRunner().invoke(app, ["bench", "--size", "small"])
    assert res.exit_code == 1
    assert "CHECKER REJECTS the plan of small-s1" in res.stderr
    assert "capacity: workshop w1 over by 3 h" in res.stderr


def test_cli_bad_input(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["bench", "--size", "huge"])
    assert res.exit_code == 2 and "'huge' is not one of" in res.stderr
    res = CliRunner().invoke(app, ["bench", "--family", "tsp"])
    assert res.exit_code == 2 and "'tsp' is not one of" in res.stderr
    res = CliRunner().invoke(app, ["bench", "--instances", str(tmp_path / "nope.json")])
    assert res.exit_code == 2 and "no such file or folder" in res.stderr
