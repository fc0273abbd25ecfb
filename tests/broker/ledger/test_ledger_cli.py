"""The ledger commands as a planner uses them: exit codes 0, 2 (bad input, no traceback)
and 4 (conflict: plan again), with `--db` and BROKER_DB_URL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from ledger_support import registry, request
from typer.testing import CliRunner

import broker
import models
from cli import app
from models.check import check

runner = CliRunner()


def test_cli_ledger_round_trip(tmp_path: Path) -> None:
    db = str(tmp_path / "ledger.db")
    sc = tmp_path / "registry.yaml"
    sc.write_text(yaml.safe_dump(registry()))

    def run(*args: str, code: int = 0) -> str:
        res = runner.invoke(app, [*args, "--db", db])
        assert res.exit_code == code, (args, res.output, res.exception)
        assert "Traceback" not in res.output
        return res.output

    assert "revision" in run("db", "upgrade")
    assert "created" in run("registry", "import", str(sc))
    assert "unchanged" in run("registry", "import", str(sc))
    assert "ws-b" in run("registry", "list", "workshops")
    assert "mc-b" in run("registry", "list", "centers")
    assert "drum" in run("registry", "list", "components")
    run("registry", "capacity", "ws-b", "machining", "0", "--period", "0")
    assert "R1: submitted" in run("request", "submit", str(sc))
    assert "R1: already stored" in run("request", "submit", str(sc))
    assert "open" in run("request", "list")
    p1, p2 = tmp_path / "p1.json", tmp_path / "p2.json"
    run("plan", "--out", str(p1), "--request", "R1", "--time-limit", "10")
    run("plan", "--out", str(p2), "--request", "R2", "--time-limit", "10")
    assert "committed plan" in run("commit", str(p1))
    out = run("commit", str(p2), code=4)
    assert "no longer fits" in out and "plan again" in out
    run("plan", "--out", str(p2), "--time-limit", "10")
    run("commit", str(p2))
    q = tmp_path / "q.yaml"
    q.write_text(yaml.safe_dump([request("Q1", 2)]))
    assert "earliest on-time" in run("quote", str(q))
    es, ep = tmp_path / "ledger.yaml", tmp_path / "ledger.json"
    run("export", "--scenario-out", str(es), "--plan-out", str(ep))
    assert check(models.load_scenario(es), models.load_plan(ep)).ok
    assert "committed" in run("runs", "list")
    assert json.loads(run("runs", "show", "1"))["kind"] == "plan"
    assert "cancelled" in run("request", "cancel", "R1")


def test_cli_bad_input_exits_2(tmp_path: Path, monkeypatch: object) -> None:
    db = str(tmp_path / "ledger.db")
    res = runner.invoke(app, ["plan", "--out", str(tmp_path / "p.json"), "--db", db])
    assert res.exit_code == 2 and "registry is empty" in res.output
    sc = tmp_path / "registry.yaml"
    sc.write_text(yaml.safe_dump(registry()))
    runner.invoke(app, ["registry", "import", str(sc), "--db", db])
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {id: X, component: nope, quantity: 1}\n")
    res = runner.invoke(app, ["request", "submit", str(bad)], env={"BROKER_DB_URL": db})
    assert res.exit_code == 2
    assert "[0].component: unknown component 'nope'" in res.output
    res = runner.invoke(app, ["request", "cancel", "NOPE", "--db", db])
    assert res.exit_code == 2 and "unknown request 'NOPE'" in res.output
    res = runner.invoke(app, ["commit", "999", "--db", db])
    assert res.exit_code == 2 and "unknown plan id 999" in res.output


SUPPORTED = ("SQLite (a file path or sqlite:///FILE) or PostgreSQL with psycopg 3 "
             "(postgresql+psycopg://USER@HOST:PORT/DB)")


@pytest.mark.parametrize(("url", "problem"), [
    ("postgresql+psycopg2://postgres@127.0.0.1:5432/test",
     f"the driver for 'postgresql+psycopg2' is not installed (No module named 'psycopg2'); "
     f"use {SUPPORTED}"),
    ("mysql://u:secret@h/x", f"unsupported database 'mysql': the ledger runs on {SUPPORTED}"),
    ("postgresql+psycopg://postgres:secret@127.0.0.1:abc/x",
     f"not a valid URL (invalid literal for int() with base 10: 'abc'); use {SUPPORTED}"),
])
def test_unusable_database_urls_exit_2(url: str, problem: str) -> None:
    for args in (["request", "list"], ["runs", "list"]):
        res = runner.invoke(app, [*args, "--db", url])
        assert res.exit_code == 2, res.output
        assert res.stderr.splitlines() == ["error: database URL: 1 problem(s)", f"  {problem}"]
        assert "secret" not in res.output  # a password in the URL is not echoed


def test_base_capacity_under_per_period_hours_is_refused_or_says_where(tmp_path: Path) -> None:
    db = str(tmp_path / "ledger.db")
    sc = tmp_path / "registry.yaml"
    doc = registry()
    doc["workshops"][1]["capacity_by_period"] = {"machining": [8, 8, 8, 8]}
    sc.write_text(yaml.safe_dump(doc))
    assert runner.invoke(app, ["registry", "import", str(sc), "--db", db]).exit_code == 0
    res = runner.invoke(app, ["registry", "capacity", "ws-b", "machining", "0", "--db", db])
    assert res.exit_code == 2, res.output
    assert res.stderr.splitlines() == [
        "error: capacity of ws-b/machining: 1 problem(s)",
        "  every period (0 .. 3) has hours of its own, which the base capacity does not "
        "change, so the change would do nothing: give the periods to change (--period 0 "
        "--period 1 --period 2 ...; in the library periods=[...])"]
    # What it says to use takes effect.
    res = runner.invoke(app, ["registry", "capacity", "ws-b", "machining", "0", "-p", "0",
                              "-p", "1", "-p", "2", "-p", "3", "--db", db])
    assert res.exit_code == 0, res.output
    with broker.Broker(db) as b:
        assert [b.registry().workshop("ws-b").cap("machining", p) for p in range(4)] == [0] * 4
    # Where only some periods have their own hours, the base changes the others, and the
    # message says which keep theirs.
    res = runner.invoke(app, ["registry", "capacity", "ws-a", "machining", "3", "-p", "1",
                              "--db", db])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["registry", "capacity", "ws-a", "machining", "6", "--db", db])
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("capacity of ws-a/machining in every period but 1 (their own "
                                 "hours stay) set to 6 h; ledger version ")
    with broker.Broker(db) as b:
        assert [b.registry().workshop("ws-a").cap("machining", p) for p in range(4)] == [
            6, 3, 6, 6]


def test_library_capacity_change_has_strict_types(tmp_path: Path) -> None:
    with broker.Broker(str(tmp_path / "ledger.db")) as b:
        b.import_scenario(registry())
        for hours, rate, problem in (
                (True, None, "hours: True is not a number >= 0"),
                ("5", None, "hours: '5' is not a number >= 0"),
                (float("inf"), None, "hours: inf is not a number >= 0"),
                (5, float("nan"), "rate: nan is not a number >= 0"),
                (5, True, "rate: True is not a number >= 0")):
            with pytest.raises(models.InputError) as e:
                b.set_capacity("ws-a", "machining", hours, [0], rate=rate)  # type: ignore[arg-type]
            assert e.value.problems == [problem]
        assert b.registry().workshop("ws-a").cap("machining", 0) == 10
