"""Sweeps: the grid, rows worked out by hand, local processes and a Dask cluster giving the
same results.csv, failed variants reported in their rows, and the command."""

from __future__ import annotations

import copy
import csv
import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import broker
import models
from broker.analysis import outputs
from broker.analysis import sweep as sw
from cli import app
from models.check import check

runner = CliRunner()

# One workshop that casts 6 units per period at 10 each; importing costs 8 a unit. So the
# cheapest plan imports everything, and a domestic share s forces ceil(10 s) units home:
#   s = 0: 10 x 8 = 80; 0.25: 3 x 10 + 7 x 8 = 86; 0.5: 5 x 10 + 5 x 8 = 90;
#   0.75 and 1: 8 and 10 units > 6 of capacity: infeasible.
# With casting capacity scaled by 2 (12 units): 0.75: 8 x 10 + 2 x 8 = 96; 1: 100.
TINY: dict[str, Any] = {
    "name": "tiny",
    "horizon": {"periods": 1},
    "locations": [{"id": "ceper"}],
    "workshops": [{"id": "w1", "location": "ceper", "capacity": {"casting": 6},
                   "rate": {"casting": 10}}],
    "components": [{"id": "bd", "import": {"price": 8},
                    "routing": [{"process": "casting", "hours": 1}]}],
    "requests": [{"id": "R1", "component": "bd", "quantity": 10}],
}

SHARE = "policy.min_domestic_share"
SCALE = "scale.capacity[cluster=ceper,process=casting]"
EXPECTED = {  # (share, scale) -> objective or status
    (0.0, 1): 80.0, (0.0, 2): 80.0, (0.25, 1): 86.0, (0.25, 2): 86.0,
    (0.5, 1): 90.0, (0.5, 2): 90.0, (0.75, 1): "infeasible", (0.75, 2): 96.0,
    (1.0, 1): "infeasible", (1.0, 2): 100.0,
}


@pytest.fixture()
def tiny_file(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.yaml"
    p.write_text(yaml.safe_dump(TINY))
    return p


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_values_lists_and_ranges() -> None:
    assert sw.parse_values("0:1:0.25") == (0.0, 0.25, 0.5, 0.75, 1.0)
    assert sw.parse_values("0:1:0.1") == (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9,
                                          1.0)
    assert sw.parse_values("0:1:0.3") == (0.0, 0.3, 0.6, 0.9)  # 1 is off the grid
    assert sw.parse_values("100:400:100") == (100, 200, 300, 400)
    assert sw.parse_values("8e5,1e6") == (800000.0, 1000000.0)
    assert sw.parse_values("0,0.2,0.5") == (0, 0.2, 0.5)
    with pytest.raises(ValueError, match="step must be non-zero"):
        sw.parse_values("0:1:-0.5")


def test_grid_is_row_major_over_the_flags() -> None:
    axes = [sw.parse_vary(f"{SHARE}=0:1:0.5"),
            sw.parse_vary("components[bd-12].import.price=8e5,1e6"),
            sw.parse_vary(f"{SCALE}=1,1.5")]
    assert axes[2].scale == (("cluster", "ceper"), ("process", "casting"))
    grid = sw.expand(axes)
    assert [v.values for v in grid] == [
        (s, p, f) for s in (0.0, 0.5, 1.0) for p in (8e5, 1e6) for f in (1, 1.5)]
    assert grid[3].overrides == {SHARE: 0.0, "components[bd-12].import.price": 1e6}
    assert grid[3].scale == [{"capacity": 1.5, "cluster": "ceper", "process": "casting"}]


def check_rows(res: sw.SweepResult) -> None:
    """Every plan a sweep made goes through the checker, here again from the files' data."""
    for r in res.results:
        if r.plan is not None and r.scenario_doc is not None:
            rep = check(models.scenario_from_dict(r.scenario_doc),
                        models.plan_from_dict(r.plan))
            assert rep.ok, rep.summary()


def test_sweep_rows_match_the_hand_worked_objectives(tiny_file: Path, tmp_path: Path) -> None:
    res = sw.run_sweep(tiny_file, [f"{SHARE}=0:1:0.25", f"{SCALE}=1,2"], workers=2)
    check_rows(res)
    got = {r.variant.values: (r.row["objective"] if r.row["status"] == "optimal"
                              else r.row["status"]) for r in res.results}
    assert got == EXPECTED
    assert [r.variant.index for r in res.results] == list(range(10))
    r = res.results[2]  # share 0.25, scale 1: 3 at home, 7 imported
    assert (r.row["domestic_share"], r.row["unmet_units"], r.row["imported_units"]) == (
        0.3, 0, 7)
    assert r.row["local_content"] == pytest.approx(1 - 56 / 86)
    assert res.results[6].row["message"] == (
        "policy.min_domestic_share 0.75 needs 8 of the 10 requested units made at home; at "
        "most 6 (60.0%) can be, limited by capacity of process 'casting' short in period 0 "
        "at the only eligible workshop (w1) for step 0 (4 unit(s) of R1 left)")
    out = tmp_path / "out"
    outputs.write_outputs(res, out)
    text = (out / "results.csv").read_text()
    assert text.splitlines()[0] == (
        # The scale path has a comma, so CSV quotes it.
        f'variant,{SHARE},"{SCALE}",status,objective,bound,gap,cost_production,cost_material,'
        "cost_transport,cost_tooling,cost_engagement,cost_import,cost_tardiness,cost_unmet,"
        "domestic_share,local_content,on_time_share,unmet_units,imported_units,"
        "workshops_used,locations_used,max_workshop_share,check,message")
    assert text.splitlines()[3] == (
        "2,0.25,1,optimal,86.0,86.0,0.0,30.0,0.0,0.0,0.0,0.0,56.0,0.0,0.0,0.3,"
        f"{1 - 56 / 86!r},1.0,0,7,1,1,1.0,ok,")
    assert sorted(p.name for p in out.glob("*.png")) == [
        "cost_vs_policy.min_domestic_share.png",
        "cost_vs_scale.capacity_cluster_ceper_process_casting.png",
        "local_content_vs_policy.min_domestic_share.png",
        "local_content_vs_scale.capacity_cluster_ceper_process_casting.png",
        "unmet_vs_policy.min_domestic_share.png",
        "unmet_vs_scale.capacity_cluster_ceper_process_casting.png",
        "utilization.png"]
    assert len(list((out / "plans").glob("*.plan.json"))) == 10
    assert [r["variant"] for r in rows((out / "runs.csv").read_text())] == [
        str(i) for i in range(10)]


def test_invalid_variant_is_reported_in_its_row(tiny_file: Path) -> None:
    res = sw.run_sweep(tiny_file, [f"{SHARE}=0.5,1.5"])
    assert [r.row["status"] for r in res.results] == ["optimal", "error"]
    assert res.results[1].row["message"] == "policy.min_domestic_share: must be <= 1 (got 1.5)"
    assert res.results[1].plan is None
    text = outputs.results_csv(res)
    assert text.splitlines()[2] == (
        "1,1.5,error,,,,,,,,,,,,,,,,,,,,,policy.min_domestic_share: must be <= 1 (got 1.5)")


def test_worker_exception_becomes_an_error_row() -> None:
    out = sw.run_variant({"name": "x", "horizon": {"periods": 1}}, {"engine": "no-such"})
    assert out["row"] == {"status": "error",
                          "message": "ValueError: 'no-such' is not a valid Engine"}


def test_path_that_names_nothing_fails_the_sweep(tiny_file: Path) -> None:
    with pytest.raises(models.ScenarioError) as e:
        sw.run_sweep(tiny_file, ["workshops[w9].capacity.casting=1,2"])
    assert e.value.problems == ["--vary.workshops[w9].capacity.casting: no workshop 'w9'"]


def test_local_and_dask_give_identical_results_csv(tiny_file: Path) -> None:
    from distributed import LocalCluster

    vary = [f"{SHARE}=0.25,0.75,1", f"{SCALE}=1,2"]
    local = sw.run_sweep(tiny_file, vary, workers=2)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        remote = sw.run_sweep(tiny_file, vary, executor=cluster.scheduler_address)
    check_rows(remote)
    assert outputs.results_csv(remote) == outputs.results_csv(local)
    assert [r.plan for r in remote.results] == [r.plan for r in local.results]
    assert [r.row["status"] for r in remote.results] == [
        "optimal", "optimal", "infeasible", "optimal", "infeasible", "optimal"]


def test_sweep_command_writes_files_and_records_runs(tiny_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    res = runner.invoke(app, ["sweep", str(tiny_file), "--vary", f"{SHARE}=0,0.5,0.75",
                              "--out", str(out), "--db", db, "--workers", "2"])
    assert res.exit_code == 3, res.output  # one variant has no plan
    assert "variant 2: infeasible: policy.min_domestic_share 0.75 needs 8" in res.stdout
    table = rows((out / "results.csv").read_text())
    assert [(r[SHARE], r["status"], r["objective"]) for r in table] == [
        ("0", "optimal", "80.0"), ("0.5", "optimal", "90.0"), ("0.75", "infeasible", "")]
    with broker.Broker(db) as b:
        runs = b.runs()
    # Every variant that was solved is a run, the infeasible one too (as with `broker solve`).
    recorded = {r.id: r for r in runs}
    ids = [int(r["run"]) for r in rows((out / "runs.csv").read_text())]
    assert sorted(ids) == sorted(recorded)
    assert [(recorded[i].status, recorded[i].objective) for i in ids] == [
        ("optimal", 80.0), ("optimal", 90.0), ("infeasible", None)]
    assert json.loads(recorded[ids[1]].scenario_document or "{}")["policy"] == {
        "min_domestic_share": 0.5}


def test_recording_and_writing_leave_the_results_as_they_were(tiny_file: Path,
                                                               tmp_path: Path) -> None:
    # A sweep's results are built once: recording returns a copy with the run ids, writing
    # the files returns their paths; neither changes the result it was given.
    res = sw.run_sweep(tiny_file, [f"{SHARE}=0,0.5"])
    before = copy.deepcopy(res)
    recorded = sw.record_runs(res, f"sqlite:///{tmp_path / 'runs.db'}")
    assert res == before
    assert [r.run_id for r in res.results] == [None, None]
    assert [r.run_id for r in recorded.results] == [1, 2]
    assert [r.row for r in recorded.results] == [r.row for r in res.results]
    files = outputs.write_outputs(recorded, tmp_path / "out", plots=False)
    assert tmp_path / "out" / "runs.csv" in files
    assert [r["run"] for r in rows((tmp_path / "out" / "runs.csv").read_text())] == ["1", "2"]
    assert res == before
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.results[0].run_id = 7  # type: ignore[misc]


def test_sweep_command_bad_vary_exit_2(tiny_file: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["sweep", str(tiny_file), "--vary", "policy.min_dom=0,1",
                              "--out", str(tmp_path / "o"), "--no-record"])
    assert res.exit_code == 2
    assert "--vary.policy.min_dom: unknown key 'min_dom' in policy" in res.stderr
    assert "Traceback" not in res.output


# Two locations: w1 (10 a unit, room for 6) at ceper, w2 (12 a unit) at tegal; 10 units
# that cost 20 each imported. Spread v: each workshop at most 10 v units, so
#   v = 1: w1 6 + w2 4 = 108; 0.5: 5 + 5 = 110; 0.3: two workshops make at most
#   0.6 of the domestic units, so none are made: 10 imported = 200.
# A regional share for tegal of 0.7 (spread 1): w2 >= 0.7 (w1 + w2): w1 3 + w2 7 = 114.
INCLUSION: dict[str, Any] = {
    "name": "inclusion",
    "horizon": {"periods": 1},
    "locations": [{"id": "ceper"}, {"id": "tegal"}],
    "workshops": [{"id": "w1", "location": "ceper", "capacity": {"casting": 6},
                   "rate": {"casting": 10}},
                  {"id": "w2", "location": "tegal", "capacity": {"casting": 100},
                   "rate": {"casting": 12}}],
    "components": [{"id": "bd", "import": {"price": 20},
                    "routing": [{"process": "casting", "hours": 1}]}],
    "requests": [{"id": "R1", "component": "bd", "quantity": 10}],
}


def test_sweep_over_the_spread_and_a_regional_share() -> None:
    res = sw.run_sweep(INCLUSION, ["policy.max_workshop_share=1,0.5,0.3"])
    check_rows(res)
    got = [(r.row["objective"], r.row["workshops_used"], r.row["locations_used"],
            r.row["max_workshop_share"]) for r in res.results]
    assert got == [(108.0, 2, 2, 0.6), (110.0, 2, 2, 0.5), (200.0, 0, 0, None)]
    res = sw.run_sweep(INCLUSION, ["policy.min_location_share.tegal=0,0.7"])
    check_rows(res)
    assert [(r.row["objective"], r.row["max_workshop_share"]) for r in res.results] == [
        (108.0, 0.6), (114.0, 0.7)]
    # Dual sourcing on the request: at least 2 workshops, as the plan without it has.
    res = sw.run_sweep(INCLUSION, ["requests[R1].min_suppliers_per_step=1,2"])
    assert [r.row["objective"] for r in res.results] == [108.0, 108.0]


def test_dated_yaml_sweeps_from_the_cli_and_with_dates_from_code(tmp_path: Path) -> None:
    # An unquoted YAML date, as in the README's example: no "date is not JSON serializable".
    text = yaml.safe_dump(TINY).replace("horizon:\n  periods: 1\n",
                                        "horizon:\n  periods: 1\n  start: 2027-02-22\n")
    assert "start: 2027-02-22\n" in text
    f = tmp_path / "dated.yaml"
    f.write_text(text)
    res = runner.invoke(app, ["sweep", str(f), "--vary", "policy.import_tariff=0,0.5",
                              "--out", str(tmp_path / "d"), "--time-limit", "10"])
    assert res.exit_code == 0, res.output
    got = rows((tmp_path / "d" / "results.csv").read_text())
    # All 10 units imported at 8: 80; with the tariff an import costs 12, so the 6 units
    # w1 can cast are made at 10 and 4 imported: 60 + 48 = 108.
    assert [(r["policy.import_tariff"], float(r["objective"])) for r in got] == [
        ("0", 80.0), ("0.5", 108.0)]
    doc = json.loads((tmp_path / "d" / "scenarios" / "variant-000.json").read_text())
    assert doc["horizon"]["start"] == "2027-02-22"
    # A document built in code may hold a date; the caller's document is left as it was.
    from datetime import date

    base = json.loads(json.dumps(TINY))
    base["horizon"]["start"] = date(2027, 2, 22)
    result = sw.run_sweep(base, ["policy.import_tariff=0"], time_limit=10)
    assert [r.row["status"] for r in result.results] == ["optimal"]
    assert base["horizon"]["start"] == date(2027, 2, 22)
