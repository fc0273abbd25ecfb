"""Machine-readable output of the commands a script calls: one JSON document each, with
`format` and stable keys (docs/cli.md), and the exit code of the table form."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

import models
from cli import app
from models.check import check
from tests.test_cli import SMALL

runner = CliRunner()


def js(args: list[str], code: int = 0) -> dict[str, Any]:
    res = runner.invoke(app, [*args, "--json"])
    assert res.exit_code == code, (args, res.output, res.exception)
    doc = json.loads(res.stdout)  # the whole of stdout is one document
    assert isinstance(doc, dict)
    return doc


def test_solve_and_check_json(tmp_path: Path) -> None:
    scen = tmp_path / "s.yaml"
    scen.write_text(yaml.safe_dump(SMALL))
    plan_file = tmp_path / "p.json"
    db = str(tmp_path / "runs.db")
    doc = js(["solve", str(scen), "-o", str(plan_file), "--db", db])
    assert doc["format"] == "imc-broker/solve@1"
    assert (doc["status"], doc["objective"], doc["plan_file"]) == ("optimal", 125.0,
                                                                  str(plan_file))
    assert doc["run"] == 1 and doc["cost"]["production"] == 25.0
    assert doc["deliveries"][0] == {"request": "R1", "quantity": 5, "due": 1, "due_date": None,
                                    "delivered": {"1": 5}, "delivered_dates": {}, "unmet": 0}
    assert check(models.load_scenario(scen), models.load_plan(plan_file)).ok
    ok = js(["check", str(scen), str(plan_file)])
    assert (ok["format"], ok["ok"], ok["violations"]) == ("imc-broker/check@1", True, [])
    bad = json.loads(plan_file.read_text())
    bad["cost"]["production"] += 1
    plan_file.write_text(json.dumps(bad))
    failed = js(["check", str(scen), str(plan_file)], code=1)
    assert not failed["ok"]
    assert {v["kind"] for v in failed["violations"]} == {"cost", "objective"}
    assert set(failed["violations"][0]) == {"kind", "where", "message"}
    runs = js(["runs", "list", "--db", db])["runs"]
    assert [r["id"] for r in runs] == [1]


def test_scenario_list_json() -> None:
    doc = js(["scenario", "list"])
    names = [s["name"] for s in doc["scenarios"]]
    assert "java-mini" in names and sum(s["default"] for s in doc["scenarios"]) == 1


def test_compare_json_and_formats(tmp_path: Path) -> None:
    db = str(tmp_path / "runs.db")
    ids = []
    for name, qty in (("a", 5), ("b", 4)):
        doc = json.loads(json.dumps(SMALL))
        doc["requests"][0]["quantity"] = qty
        f = tmp_path / f"{name}.yaml"
        f.write_text(yaml.safe_dump(doc))
        got = js(["solve", str(f), "-o", str(tmp_path / f"{name}.json"), "--db", db])
        assert check(models.load_scenario(f), models.load_plan(tmp_path / f"{name}.json")).ok
        ids.append(got["run"])
    cmp = js(["compare", str(ids[0]), str(ids[1]), "--db", db])
    total = next(ln for ln in cmp["lines"] if ln["section"] == "cost" and ln["name"] == "total")
    assert (total["a"], total["b"], total["delta"], total["differs"]) == (125.0, 100.0, -25.0,
                                                                        True)


def test_compare_prints_one_number_format_per_table(tmp_path: Path) -> None:
    db = str(tmp_path / "runs.db")
    ids = []
    for name, qty in (("a", 5), ("b", 4)):
        doc = json.loads(json.dumps(SMALL))
        doc["requests"][0]["quantity"] = qty
        doc["transport"]["cost_per_kg_km"] = 0.015  # 0.3 per unit shipped: cents
        f = tmp_path / f"{name}.yaml"
        f.write_text(yaml.safe_dump(doc))
        got = js(["solve", str(f), "-o", str(tmp_path / f"{name}.json"), "--db", db])
        assert check(models.load_scenario(f), models.load_plan(tmp_path / f"{name}.json")).ok
        ids.append(got["run"])
    res = runner.invoke(app, ["compare", str(ids[0]), str(ids[1]), "--db", db])
    assert res.exit_code == 0, res.output
    rows = [" ".join(ln.replace("│", " ").split()) for ln in res.stdout.splitlines()]
    # Transport 1.50 -> 1.20 has cents, so the whole cost table has two decimals.
    assert "transport 1.50 1.20 -0.30" in rows
    assert "production 25.00 20.00 -5.00" in rows and "total 26.50 21.20 -5.30" in rows
