"""A plan file edited after `broker plan` (rows naming what the registry does not hold,
numbers that are not finite, rows that book too much): `broker commit` refuses it with
exit 4, names the rows, books nothing and keeps the refusal in the history; it never
says "no longer fits" about a plan that never fitted."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from ledger_support import registry
from typer.testing import CliRunner

from broker import Broker, LedgerConflict
from cli import app

runner = CliRunner()

Doc = dict[str, Any]


def _set(path: str, value: Any) -> Callable[[Doc], None]:
    def edit(d: Doc) -> None:
        key, _, sub = path.partition(".")
        if sub:
            d[key][sub] = value
        else:
            d[key] = value
    return edit


def _row(field: str, value: Any) -> Callable[[Doc], None]:
    def edit(d: Doc) -> None:
        d["production"][0][field] = value
    return edit


EDITS = {
    "workshop": (_row("workshop", "ikm-nowhere-9999"),
                 "[reference] production[0]: unknown workshop 'ikm-nowhere-9999'"),
    "request": (_row("request", "REQ-XXXX"),
                "[reference] production[0]: unknown request 'REQ-XXXX'"),
    "step": (_row("step", 7),
             "[reference] production[0]: step 7 outside 0 .. 1 for component 'drum'"),
    "period": (_row("period", 99),
               "[period] production[0]: period 99 outside the horizon (0 .. 3)"),
    "objective": (_set("objective", float("inf")),
                  "[number] objective: Infinity is not a finite number"),
    "cost": (_set("cost.production", float("inf")),
             "[number] cost.production: Infinity is not a finite number"),
    "tardiness": (_set("cost.tardiness", float("-inf")),
                  "[number] cost.tardiness: -Infinity is not a finite number"),
    # A row's whole numbers are read as they are too, and named with their row.
    "quantity-inf": (_row("quantity", float("inf")),
                     "[number] production[0].quantity: Infinity is not a finite number"),
    "quantity-nan": (_row("quantity", float("nan")),
                     "[number] production[0].quantity: NaN is not a finite number"),
    "period-inf": (_row("period", float("-inf")),
                   "[number] production[0].period: -Infinity is not a finite number"),
}


@pytest.fixture
def planned(tmp_path: Path) -> tuple[str, Path, Doc]:
    db = str(tmp_path / "ledger.db")
    sc = tmp_path / "registry.yaml"
    sc.write_text(yaml.safe_dump(registry()))
    for args in (["registry", "import", str(sc)], ["request", "submit", str(sc)],
                 ["plan", "--out", str(tmp_path / "p.json"), "--request", "R1",
                  "--time-limit", "10"]):
        res = runner.invoke(app, [*args, "--db", db])
        assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "p.json").read_text())
    assert doc["production"][0]["request"] == "R1"
    return db, tmp_path, doc


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_edited_plan_is_refused_named_and_recorded(planned: tuple[str, Path, Doc],
                                                   edit: str) -> None:
    db, tmp_path, doc = planned
    mutate, problem = EDITS[edit]
    mutate(doc)
    f = tmp_path / "edited.json"
    f.write_text(json.dumps(doc))
    res = runner.invoke(app, ["commit", str(f), "--db", db])
    assert res.exit_code == 4, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert "Traceback" not in res.output
    assert "no longer fits" not in res.output
    head = res.output.splitlines()[0]
    assert head.startswith(f"conflict: plan {doc['ledger']['plan_id']} cannot be booked: ")
    assert head.endswith("do not match the registry and its requests R1 (was the plan file "
                         "edited?); nothing was booked")
    assert f"  {problem}" in res.output.splitlines()
    with Broker(db) as b:
        assert b.request("R1").status == "open"
        refused = [r for r in b.runs() if r.kind == "commit" and r.status == "refused"]
        assert len(refused) == 1 and refused[0].plan_id == doc["ledger"]["plan_id"]
        assert refused[0].message is not None and problem in refused[0].message
        # The plan as `broker plan` wrote it still commits: nothing was half-booked.
        assert b.commit(doc["ledger"]["plan_id"]).requests == ["R1"]


def test_a_plan_edited_to_book_too_much_does_not_say_no_longer_fits(
        planned: tuple[str, Path, Doc]) -> None:
    db, tmp_path, doc = planned
    # Every machining row moved to ws-b (8 h a period), into the period it already uses.
    rows = [r for r in doc["production"] if r["step"] == 1]
    for r in rows:
        r["workshop"], r["period"] = "ws-b", rows[0]["period"]
    f = tmp_path / "greedy.json"
    f.write_text(json.dumps(doc))
    with Broker(db) as b, pytest.raises(LedgerConflict) as e:
        b.commit(f)
    msg = e.value.message
    assert "no longer fits" not in msg
    assert msg == (f"plan {doc['ledger']['plan_id']} books more than the ledger has left, "
                   "which is unchanged since it was planned (version 1): its rows are not "
                   "those `broker plan` wrote; nothing was booked")
    assert any(p.startswith("capacity of ws-b for machining in period ")
               for p in e.value.problems)
