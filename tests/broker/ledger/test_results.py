"""Every typed ledger result is a JSON document: `json.dumps(result.to_dict())` writes it,
dates and times come back as the same instants, and the plan and scenario inside a
result read back as a plan the checker accepts in that scenario."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ledger_support import assert_checked, registry, request

import models
from broker import Broker, Disruption
from broker.ledger import results


def roundtrip(result: results.Result, seen: set[type]) -> dict[str, Any]:
    """The result's document after json.dumps and json.loads; notes every result type
    inside it (nested ones too)."""
    stack: list[Any] = [result]
    while stack:
        v = stack.pop()
        if isinstance(v, results.Result):
            seen.add(type(v))
            stack.extend(getattr(v, f.name) for f in dataclasses.fields(v))  # type: ignore[arg-type]
        elif isinstance(v, list):
            stack.extend(v)
    doc = result.to_dict()
    back = json.loads(json.dumps(doc, allow_nan=False))
    assert back == doc
    return back


def test_every_ledger_result_is_json(tmp_path: Path) -> None:
    seen: set[type] = set()
    with Broker(f"sqlite:///{tmp_path / 'ledger.db'}") as b:
        doc = roundtrip(b.import_scenario(registry(requests=[])), seen)
        assert doc["created"]["workshops"] == 2
        for w in b.workshops():
            assert roundtrip(w, seen)["processes"][0]["process"] == w.processes[0].process
        for c in b.centers():
            assert roundtrip(c, seen)["stocks"][0]["stock_kg"] == 300
        for comp in b.components():
            assert roundtrip(comp, seen)["processes"] == ["casting", "machining"]

        sub = b.submit([request("R1", 12)])[0]
        doc = roundtrip(sub, seen)
        assert doc["created"] is True
        assert datetime.fromisoformat(doc["request"]["submitted_at"]) == sub.request.submitted_at
        assert sub.request.submitted_at.tzinfo is not None

        proposal = b.plan(time_limit=10)
        doc = roundtrip(proposal, seen)
        sc = models.scenario_from_dict(doc["scenario"])
        plan = models.plan_from_dict(doc["plan"])
        assert plan.status.has_plan and doc["plan_id"] == proposal.plan_id
        assert_checked(sc, plan)

        doc = roundtrip(b.commit(proposal.plan_id), seen)
        assert doc["requests"] == ["R1"] and doc["already"] is False

        quote = b.quote(request("Q1", 3), time_limit=5)
        doc = roundtrip(quote, seen)
        assert quote.earliest_date is not None
        assert date.fromisoformat(doc["earliest_date"]) == quote.earliest_date

        for run in b.runs():
            doc = roundtrip(run, seen)
            assert datetime.fromisoformat(doc["created_at"]) == run.created_at

        # A disruption of the workshop that makes R1's last step: a repair with moves.
        last = max(b.export().plan.production, key=lambda p: p.step)
        repair = b.disrupt(Disruption.leave(last.workshop), dry_run=True)
        doc = roundtrip(repair, seen)
        assert doc["freed"] == ["R1"] and doc["requests"][0]["moves"]
        assert models.plan_from_dict(doc["plan"]).status.has_plan

        export = b.export()
        doc = roundtrip(export, seen)
        assert_checked(models.scenario_from_dict(doc["scenario"]),
                       models.plan_from_dict(doc["plan"]))

    declared = {v for v in vars(results).values() if isinstance(v, type)
                and issubclass(v, results.Result) and v is not results.Result}
    assert seen == declared
