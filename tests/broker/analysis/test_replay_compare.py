"""Replay of recorded runs (bit for bit, or exactly why not) and comparison of two runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import update
from typer.testing import CliRunner

import broker
from broker.ledger.db import schema
from cli import app
from solvers import ortools_version

runner = CliRunner()

# Two foundries in two clusters; casting at a costs 2/h, at b 3/h, 10 h each per period.
# 12 units of one 1-hour step: 10 at a (20) and 2 at b (6) = 26. With capacity at a cut to
# 4 (variant B): 4 at a (8) and 8 at b (24) = 32.
SMALL: dict[str, Any] = {
    "name": "replay-small",
    "horizon": {"periods": 1},
    "locations": [{"id": "a"}, {"id": "b"}],
    "workshops": [{"id": "wa", "location": "a", "capacity": {"cast": 10}, "rate": {"cast": 2}},
                  {"id": "wb", "location": "b", "capacity": {"cast": 10}, "rate": {"cast": 3}}],
    "components": [{"id": "c", "routing": [{"process": "cast", "hours": 1}]}],
    "requests": [{"id": "R1", "component": "c", "quantity": 12}],
}


@pytest.fixture()
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'runs.db'}"


def solve_run(tmp_path: Path, db: str, doc: dict[str, Any], name: str, *extra: str) -> int:
    f = tmp_path / f"{name}.yaml"
    f.write_text(yaml.safe_dump(doc))
    res = runner.invoke(app, ["solve", str(f), "--out", str(tmp_path / f"{name}.json"),
                              "--db", db, *extra])
    assert res.exit_code == 0, res.output
    with broker.Broker(db) as b:
        run = b.runs(1)[0]
    # The recorded plan goes through the checker like every plan a test makes.
    assert broker.check(f, tmp_path / f"{name}.json").ok
    return run.id


def test_replay_reproduces_bit_for_bit(tmp_path: Path, db: str) -> None:
    run = solve_run(tmp_path, db, SMALL, "s", "--seed", "7")
    res = runner.invoke(app, ["replay", str(run), "--db", db])
    assert res.exit_code == 0, res.output
    assert res.stdout == f"run {run}: reproduced bit for bit (optimal, objective 26)\n"


def test_replay_says_when_the_solver_version_differs(tmp_path: Path, db: str) -> None:
    run = solve_run(tmp_path, db, SMALL, "s")
    with broker.Broker(db) as b, b.engine.begin() as conn:
        conn.execute(update(schema.Run).where(schema.Run.id == run)
                     .values(solver_version="9.14.6206"))
    res = runner.invoke(app, ["replay", str(run), "--db", db])
    assert res.stdout.splitlines()[0] == (
        f"note: recorded with OR-Tools 9.14.6206, installed {ortools_version()}: the plan "
        f"may differ")
    # The plan itself still comes out the same here.
    assert res.stdout.splitlines()[1] == f"run {run}: reproduced bit for bit (optimal, " \
                                         f"objective 26)"
    assert res.exit_code == 0


def test_replay_shows_the_first_differences(tmp_path: Path, db: str) -> None:
    run = solve_run(tmp_path, db, SMALL, "s")
    with broker.Broker(db) as b, b.engine.begin() as conn:
        doc = b.run(run).document or ""
        conn.execute(update(schema.Run).where(schema.Run.id == run)
                     .values(document=doc.replace('"objective": 26.0',
                                                  '"objective": 25.0'),
                             options={**b.run(run).options, "threads": 2}))
    res = runner.invoke(app, ["replay", str(run), "--db", db])
    assert res.exit_code == 1
    lines = res.stdout.splitlines()
    # Two threads race HiGHS and SCIP; when SCIP proves first, the engine differs too. That
    # line, and only that one, depends on which engine won.
    race = '  solver.engine: "highs" -> "scip"'
    assert lines.count(race) <= 1
    assert [line for line in lines if line != race] == [
        "note: the run used 2 threads: only a single-threaded solve is reproducible "
        "exactly; replayed with 2 threads as recorded, the plan may differ",
        f"run {run}: the replayed plan DIFFERS from the stored one; first differences "
        "(stored -> replayed):",
        "  objective: 25.0 -> 26.0",
        "  solver.threads: 1 -> 2",
        # Two threads race both engines (solvers/portfolio.py); the plan says so.
        '  solver.portfolio: (absent) -> ["highs", "scip"]',
    ]


def test_replay_of_a_run_without_scenario_exit_2(tmp_path: Path, db: str) -> None:
    run = solve_run(tmp_path, db, SMALL, "s")
    with broker.Broker(db) as b, b.engine.begin() as conn:
        conn.execute(update(schema.Run).where(schema.Run.id == run)
                     .values(kind="plan", scenario_document=None))
    res = runner.invoke(app, ["replay", str(run), "--db", db])
    assert res.exit_code == 2
    assert res.stderr == (
        f"error: run {run}: 1 problem(s)\n  a plan run keeps no scenario document, so it "
        "cannot be replayed or its hours compared; only runs of `broker solve` and `broker "
        "sweep` keep one\n")
    res = runner.invoke(app, ["replay", "999", "--db", db])
    assert res.exit_code == 2
    assert "unknown run id 999" in res.stderr


def test_compare_shows_cost_kpi_and_allocation_differences(tmp_path: Path, db: str) -> None:
    a = solve_run(tmp_path, db, SMALL, "a")
    b_doc = {**SMALL, "workshops": [{**SMALL["workshops"][0], "capacity": {"cast": 4}},
                                    SMALL["workshops"][1]]}
    b = solve_run(tmp_path, db, b_doc, "b")
    res = runner.invoke(app, ["compare", str(a), str(b), "--db", db])
    assert res.exit_code == 0, res.output
    lines = [ln.rstrip() for ln in res.stdout.splitlines()]
    assert lines[0].startswith("note: the runs solved different scenarios")
    rows = [" ".join(ln.replace("│", " ").split()) for ln in lines if ln.strip()]
    assert "production 26 32 6" in rows
    assert "total 26 32 6" in rows
    assert "wa units 10 4 -6" in rows and "wa hours 10 4 -6" in rows
    assert "wb units 2 8 6" in rows and "b hours 2 8 6" in rows
    # Equal rows are left out unless --all.
    assert not any(r.startswith("material ") for r in rows)
    res = runner.invoke(app, ["compare", str(a), str(b), "--db", db, "--all"])
    assert "material 0 0 0" in [" ".join(ln.replace("│", " ").split())
                                for ln in res.stdout.splitlines()]


def test_compare_same_run(tmp_path: Path, db: str) -> None:
    a = solve_run(tmp_path, db, SMALL, "a")
    res = runner.invoke(app, ["compare", str(a), str(a), "--db", db])
    assert res.stdout == f"runs {a} and {a}: same cost terms, KPIs and allocation\n"
