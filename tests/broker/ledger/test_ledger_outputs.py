"""What a planner and a script read from the ledger commands: dates (SPEC 8.1), one JSON
document per `--json` command, full tables when piped, and filter values checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from ledger_support import registry, request
from typer.testing import CliRunner

import models
from cli import app
from models.check import check

runner = CliRunner()


def dated_registry() -> dict[str, Any]:
    doc = registry()
    doc["horizon"] = dict(doc["horizon"], start="2027-03-01", period_days=7)
    return doc


def test_ledger_commands_show_dates_and_speak_json(tmp_path: Path) -> None:
    db = str(tmp_path / "ledger.db")
    doc = dated_registry()
    periods = doc["horizon"]["periods"]
    last_day = f"2027-03-{1 + 7 * (periods - 1):02d}"
    # A due given as a date is stored as its period.
    doc["requests"][0]["due"] = last_day
    sc = tmp_path / "registry.yaml"
    sc.write_text(yaml.safe_dump(doc))

    def run(*args: str, code: int = 0) -> str:
        res = runner.invoke(app, [*args, "--db", db])
        assert res.exit_code == code, (args, res.output, res.exception)
        assert "Traceback" not in res.output
        return res.stdout

    def js(*args: str, code: int = 0) -> dict[str, Any]:
        doc = json.loads(run(*args, "--json", code=code))
        assert isinstance(doc, dict)
        return doc

    run("registry", "import", str(sc))
    ws = js("registry", "list", "workshops")
    assert ws["format"] == "imc-broker/registry-workshops@1"
    assert {w["id"] for w in ws["workshops"]} == {w["id"] for w in doc["workshops"]}
    sub = js("request", "submit", str(sc))
    assert [r["id"] for r in sub["requests"]] == [r["id"] for r in doc["requests"]]
    reqs = js("request", "list")["requests"]
    r1 = next(r for r in reqs if r["id"] == doc["requests"][0]["id"])
    assert (r1["due"], r1["due_date"], r1["document"]["due"]) == (periods - 1, last_day,
                                                                  periods - 1)
    # The table shows the date too.
    assert last_day in run("request", "list")
    plan_file = tmp_path / "p.json"
    prop = js("plan", "--out", str(plan_file), "--time-limit", "10")
    assert prop["format"] == "imc-broker/proposal@1" and prop["start_date"] == "2027-03-01"
    assert prop["status"] in ("optimal", "feasible")
    plan = models.load_plan(plan_file)
    assert plan.requests is not None
    assert all(row.date is not None for row in plan.production)
    com = js("commit", str(plan_file))
    assert com["plan_id"] == prop["plan_id"]
    q = tmp_path / "q.yaml"
    q.write_text(yaml.safe_dump([request("Q1", 2)]))
    quote = js("quote", str(q))
    assert quote["format"] == "imc-broker/quote@1"
    assert quote["due_date"] is not None and quote["due_date"].startswith("2027-")
    es, ep = tmp_path / "ledger.yaml", tmp_path / "ledger.json"
    run("export", "--scenario-out", str(es), "--plan-out", str(ep))
    exported = models.load_plan(ep)
    assert exported.requests is not None and check(models.load_scenario(es), exported).ok
    # The report and the spreadsheet tables of the committed ledger.
    page = tmp_path / "ledger.html"
    assert "committed ledger" in run("report", "--ledger", "--out", str(page))
    assert "Committed ledger of" in page.read_text() and 'id="map"' in page.read_text()
    run("export-plan", "--ledger", "--csv", str(tmp_path / "csv"))
    sched = (tmp_path / "csv" / "schedule.csv").read_text().splitlines()
    assert len(sched) - 1 == len(exported.production)
    runs = js("runs", "list")["runs"]
    assert runs and "document" not in runs[0] and {"id", "kind", "status"} <= set(runs[0])
    assert js("request", "cancel", r1["id"])["status"] == "cancelled"


def test_an_unknown_status_is_an_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["request", "list", "--status", "bogus", "--db",
                              str(tmp_path / "x.db")])
    assert res.exit_code == 2
    assert "bogus" in res.output and "Traceback" not in res.output


def test_piped_tables_keep_their_ids(tmp_path: Path) -> None:
    # The test runner's stdout is not a terminal: no column is cut or wrapped.
    db = str(tmp_path / "ledger.db")
    doc = registry()
    long_id = "ikm-yogyakarta-000123-with-a-long-name"
    doc["workshops"][0]["id"] = long_id
    for o in doc.get("offers", []):
        if o["workshop"] == registry()["workshops"][0]["id"]:
            o["workshop"] = long_id
    sc = tmp_path / "registry.yaml"
    sc.write_text(yaml.safe_dump(doc))
    assert runner.invoke(app, ["registry", "import", str(sc), "--db", db]).exit_code == 0
    res = runner.invoke(app, ["registry", "list", "workshops", "--db", db])
    assert res.exit_code == 0
    assert long_id in res.stdout
