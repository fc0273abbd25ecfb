"""SPEC 8.2-8.5 through the ledger, on SQLite and PostgreSQL: a scenario with minimum lots,
a sourcing floor, a spread and a regional share is imported, its requests submitted,
planned from the ledger, committed and exported, and every figure is the one the scenario
gives when solved on its own. Each plan goes through the independent checker against the
original scenario, not only against what the ledger read back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ledger_support import BACKENDS, assert_checked, database, registry, request

import models
from broker import Broker
from models.check import check
from solvers import SolveOptions, solve


def policed() -> dict[str, Any]:
    # The test registry with every SPEC 8 rule that can bind on it: casting in lots of 6
    # (ws-a's offer: lots of 4), R1 cast and machined at two workshops each, no workshop
    # above 70% of the final steps, loc-b's workshop at least 40% of them.
    doc = registry()
    doc["components"][0]["routing"][0]["min_lot"] = 6
    doc["offers"][0]["min_lot"] = 4
    doc["requests"][0]["min_suppliers_per_step"] = 2
    doc["policy"] = {"max_workshop_share": 0.7, "min_location_share": {"loc-b": 0.4}}
    return doc


@pytest.fixture(params=BACKENDS)
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Broker]:
    with database(request.param, tmp_path) as url:
        b = Broker(url)
        yield b
        b.close()


def _ordered(doc: dict[str, Any]) -> dict[str, Any]:
    """A scenario document with its lists in key order: the registry reads entries back
    sorted by id, the file has them in its own order."""
    def key(e: dict[str, Any]) -> str:
        return str(e.get("id", (e.get("workshop"), e.get("component"), e.get("step"),
                                e.get("from"), e.get("to"))))
    return {k: sorted(v, key=key) if isinstance(v, list) and v and isinstance(v[0], dict)
            else v for k, v in doc.items()}


def test_policies_round_trip_through_the_ledger(ledger: Broker) -> None:
    doc = policed()
    original = models.scenario_from_dict(doc, "policed")
    alone = solve(original, SolveOptions(time_limit=30))
    assert alone.status.value == "optimal"
    assert_checked(original, alone)

    ledger.import_scenario(doc)
    ledger.submit(doc)
    # The registry keeps every field, the requests their sourcing floor.
    reg = models.scenario_to_dict(ledger.registry())
    want = models.scenario_to_dict(original)
    assert _ordered({k: v for k, v in reg.items() if k != "requests"}) == \
        _ordered({k: v for k, v in want.items() if k != "requests"})
    assert ledger.request("R1").document["min_suppliers_per_step"] == 2

    proposal = ledger.plan(time_limit=30)
    plan = proposal.plan
    assert plan.status.value == "optimal"
    # Against the scenario as written: the lots, the floor, the spread and the share hold.
    assert_checked(original, plan)
    assert plan.objective == pytest.approx(alone.objective, rel=1e-6)
    # The rules bind: R1 is cast at two workshops, each in a lot of its own size or more.
    cast: dict[str, int] = {}
    for r in plan.production:
        if r.request == "R1" and r.step == 0:
            cast[r.workshop] = cast.get(r.workshop, 0) + r.quantity
    assert len(cast) == 2
    assert cast.get("ws-a", 0) >= 4 and cast.get("ws-b", 0) >= 6

    ledger.commit(proposal.plan_id)
    ex = ledger.export()
    assert_checked(ex.scenario, ex.plan)
    assert_checked(original, ex.plan)
    # The checker prices the whole ledger as the solver priced the scenario alone.
    assert check(ex.scenario, ex.plan).objective == pytest.approx(alone.objective, rel=1e-6)
    got = models.scenario_to_dict(ex.scenario)
    assert _ordered({k: v for k, v in got.items() if k != "name"}) == \
        _ordered({k: v for k, v in want.items() if k != "name"})


def test_quote_keeps_the_minimum_lots(ledger: Broker) -> None:
    # 3 drums: below both casting lots (6, and 4 at ws-a), so none can be cast at home and
    # the quote imports all 3; without the lots, the cheapest plan makes them.
    ledger.import_scenario(policed() | {"requests": []})
    q = ledger.quote(request("Q1", 3))
    assert (q.imported, q.unmet) == (3, 0)
    doc = registry()
    ledger.import_scenario(doc)  # the same registry, lots and policies removed
    assert ledger.registry().components[0].routing[0].min_lot == 0
    q = ledger.quote(request("Q1", 3))
    assert (q.imported, q.unmet) == (0, 0)
