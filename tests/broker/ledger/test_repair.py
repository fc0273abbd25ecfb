"""Disruptions and repair of the committed ledger, on SQLite and PostgreSQL: each kind of
event, what it breaks, the repair that moves as little as it can, dry runs that book
nothing, stale repairs refused, and the exported ledger through the checker each time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ledger_support import BACKENDS, assert_checked, database, registry, request
from sqlalchemy import select
from typer.testing import CliRunner

import models
from broker import Broker, Disruption, LedgerConflict, RepairResult
from broker.ledger.db import schema as t
from cli import app

# A third workshop at the buyer's town, certified, so that a request that requires the
# certificate is made away from ws-b and is untouched by what happens to ws-b.
WS_C = {"id": "ws-c", "location": "loc-c", "certifications": ["ISO9001", "IATF16949"],
        "capacity": {"casting": 10, "machining": 10},
        "rate": {"casting": 150, "machining": 250}, "engagement_cost": 800}
ROUTES = [{"from": "loc-a", "to": "loc-b", "km": 200}, {"from": "loc-b", "to": "loc-c", "km": 300},
          {"from": "loc-a", "to": "loc-c", "km": 450}]


def _registry(**changes: Any) -> dict[str, Any]:
    doc = registry(**changes)
    doc["workshops"].append(WS_C)
    return doc


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database(request.param, tmp_path) as u:
        yield u


def _ledger(url: str, doc: dict[str, Any] | None = None) -> Broker:
    """R1 and R2 (made at ws-b, the cheap one) and R3 (needs IATF16949: only ws-c)."""
    b = Broker(url)
    b.import_scenario(doc or _registry())
    b.submit([request("R1", 20, destination="loc-c"), request("R2", 15),
              request("R3", 6, requires=["IATF16949"])])
    proposal = b.plan()
    assert proposal.plan.status is models.Status.OPTIMAL
    assert_checked(proposal.scenario, proposal.plan)
    b.commit(proposal.plan_id)
    return b


def _exported_ok(b: Broker) -> models.Plan:
    ex = b.export()
    assert_checked(ex.scenario, ex.plan)
    return ex.plan


def _rows(b: Broker, table: type[Any], rid: str) -> list[tuple[Any, ...]]:
    cols = [c.name for c in table.__table__.columns if c.name != "id"]
    with b.snapshot() as s:
        return sorted(tuple(getattr(r, c) for c in cols)
                      for r in s.scalars(select(table).where(table.request_id == rid)))


def _state(b: Broker) -> dict[str, Any]:
    """Everything a dry run must leave as it was: registry, ledger rows, version."""
    ex = b.export()
    return {"version": b.ledger_version(), "registry": models.scenario_to_dict(b.registry()),
            "plan": ex.plan.to_dict(), "requests": [(r.id, r.status, r.plan_id)
                                                    for r in b.requests()]}


def test_capacity_cut_repairs_the_broken_requests_and_pins_the_rest(url: str) -> None:
    b = _ledger(url)
    r3_before = {tb.__name__: _rows(b, tb, "R3") for tb in (
        t.CommittedProduction, t.CommittedShipment, t.CommittedMaterial, t.BookedHours,
        t.BookedMaterial)}
    machining_at_b = {p.period for p in _exported_ok(b).production
                      if p.workshop == "ws-b" and p.step == 1}
    assert machining_at_b, "the cheap workshop machines R1/R2 before the event"
    state = _state(b)
    periods = tuple(sorted(machining_at_b))[:2]
    res = b.disrupt(Disruption.capacity("ws-b", "machining", periods, 0.0), dry_run=True)
    # What breaks is named before anything changes, with the slot and the hours.
    assert set(res.broken) <= {"R1", "R2"} and res.broken
    for why in res.broken.values():
        assert all(line.startswith("capacity of ws-b for machining in period ") for line in why)
    assert "R3" not in res.freed
    assert not res.committed and _state(b) == state  # a dry run books nothing
    # No freed request machines at ws-b in the cut periods any more.
    assert not [p for p in res.plan.production
                if p.workshop == "ws-b" and p.step == 1 and p.period in periods]
    assert res.moved_units == sum(r.moved_units for r in res.requests) > 0
    done = b.commit_repair(res.repair_id)
    assert isinstance(done, RepairResult) and done.committed
    plan = _exported_ok(b)
    assert not [p for p in plan.production
                if p.workshop == "ws-b" and p.step == 1 and p.period in periods]
    # R3 was not touched by the event: its rows and bookings are identical, row for row.
    for tb in (t.CommittedProduction, t.CommittedShipment, t.CommittedMaterial,
               t.BookedHours, t.BookedMaterial):
        assert _rows(b, tb, "R3") == r3_before[tb.__name__], tb.__name__
    # The registry now holds the cut; committing again books nothing twice.
    ws_b = next(w for w in b.registry().workshops if w.id == "ws-b")
    assert all(ws_b.cap("machining", p) == 0 for p in periods)
    version = b.ledger_version()
    again = b.commit_repair(res.repair_id)
    assert isinstance(again, RepairResult) and again.commit_run_id == done.commit_run_id
    assert b.ledger_version() == version
    # The history keeps the event, the repair and who made them.
    runs: dict[str, Any] = {}
    for r in b.runs():  # newest first
        runs.setdefault(r.kind, r)
    assert runs["repair"].options["event"]["kind"] == "capacity"
    assert runs["repair"].options["actor"].startswith("cli")
    assert runs["commit"].plan_id == res.repair_id and runs["commit"].status == "committed"
    b.close()


def test_a_workshop_leaving_moves_everything_it_made(url: str) -> None:
    b = _ledger(url)
    res = b.disrupt(Disruption.leave("ws-b"))
    assert res.committed
    assert set(res.broken) == {r for r in ("R1", "R2")
                               if any(line == "workshop ws-b left the registry"
                                      for line in res.broken.get(r, []))}
    plan = _exported_ok(b)
    assert not [p for p in plan.production if p.workshop == "ws-b"]
    assert "ws-b" not in [w.id for w in b.workshops()]
    b.close()


def test_a_stock_cut_frees_the_requests_that_drew_on_it(url: str) -> None:
    b = _ledger(url)
    drawn = sum(m.kg for m in _exported_ok(b).materials)
    res = b.disrupt(Disruption.stock("mc-b", "fc250", drawn / 2), dry_run=True)
    assert res.broken and all(
        "stock of fc250 at mc-b:" in line for why in res.broken.values() for line in why)
    b.commit_repair(res.repair_id)
    plan = _exported_ok(b)
    assert sum(m.kg for m in plan.materials) <= drawn / 2 + 1e-6
    # The units that no longer have material are imported or unmet, with a reason.
    away = sum(r.imported_after + r.unmet_after for r in res.requests)
    assert away > 0
    for u in plan.unmet:
        assert u.reason
    b.close()


def test_a_closed_road_with_a_detour_breaks_nothing_but_costs_more(url: str) -> None:
    b = _ledger(url, _registry(routes=ROUTES))
    res = b.disrupt(Disruption.route("loc-b", "loc-c"))
    # loc-b and loc-c still meet through loc-a: every booking has a road, only a longer one.
    assert res.broken == {} and res.freed == [] and res.committed
    assert res.cost_after is not None and res.cost_before is not None
    assert res.cost_after >= res.cost_before
    _exported_ok(b)
    b.close()


def test_a_closed_road_without_a_detour_breaks_the_flows_over_it(url: str) -> None:
    # Without the a-c link, closing b-c cuts loc-c off: R1 (delivered to loc-c) and R3's
    # material from mc-b (at loc-b) to ws-c (at loc-c) have no road any more.
    b = _ledger(url, _registry(routes=ROUTES[:2]))
    res = b.disrupt(Disruption.route("loc-b", "loc-c"))
    assert "no road from center mc-b to ws-c for fc250" in res.broken["R3"]
    # R1 crosses the cut between steps or on its delivery leg, as its plan has it.
    assert res.broken["R1"] and all(line.startswith("no road from ")
                                    for line in res.broken["R1"])
    plan = _exported_ok(b)
    r3 = next(r for r in res.requests if r.request == "R3")
    assert r3.unmet_after + r3.imported_after == 6
    assert not [p for p in plan.production if p.request == "R3"]
    b.close()


def test_an_unplaceable_request_is_reported_unmet_with_its_reason(url: str) -> None:
    b = _ledger(url)
    res = b.disrupt(Disruption.leave("ws-c"))  # R3 needs IATF16949: only ws-c holds it
    r3 = next(r for r in res.requests if r.request == "R3")
    assert r3.unmet_after + r3.imported_after == 6
    plan = _exported_ok(b)
    reasons = [u.reason for u in plan.unmet if u.request == "R3"]
    if r3.unmet_after:
        assert reasons and "IATF16949" in reasons[0]
    b.close()


def test_a_repair_made_stale_by_another_commit_is_refused_and_writes_nothing(url: str) -> None:
    b = _ledger(url)
    res = b.disrupt(Disruption.capacity("ws-b", "all", (1,), 0.0), dry_run=True)
    b.submit([request("R4", 2)])
    other = b.plan(["R4"])
    b.commit(other.plan_id)
    state = _state(b)
    with pytest.raises(LedgerConflict, match=f"repair {res.repair_id} is stale"):
        b.commit_repair(res.repair_id)
    assert _state(b) == state
    refused = [r for r in b.runs() if r.kind == "commit" and r.status == "refused"]
    assert refused and refused[0].plan_id == res.repair_id
    b.close()


def test_a_higher_change_penalty_moves_no_more_units(url: str) -> None:
    b = _ledger(url)
    event = Disruption.capacity("ws-b", "machining", (2,), 0.0)
    free = b.disrupt(event, change_penalty=0.0, dry_run=True)
    sticky = b.disrupt(event, change_penalty=1.0e5, dry_run=True)
    assert sticky.moved_units <= free.moved_units
    # The SPEC cost of the sticky repair can only be the same or higher.
    assert sticky.cost_after is not None and free.cost_after is not None
    assert sticky.cost_after >= free.cost_after - 1e-6 * abs(free.cost_after)
    b.close()


def test_bad_events_are_named() -> None:
    doc = _registry()
    from broker.ledger.disruption import apply_event

    cases = [
        (Disruption.capacity("ws-x", "machining", (1,)),
         "workshop: unknown workshop 'ws-x'"),
        (Disruption.capacity("ws-b", "welding", (1,)),
         "process: workshop 'ws-b' has no process 'welding' (it has casting, machining)"),
        (Disruption.capacity("ws-b", "machining", (9,)),
         "periods: period 9 outside the horizon (0 .. 3)"),
        (Disruption.stock("mc-b", "steel", 1.0),
         "material: center 'mc-b' holds no 'steel' (it holds fc250)"),
        (Disruption.route("loc-a", "loc-b"),
         "the registry has no routes: distances are great-circle, so there is no road "
         "link to close; import routes first"),
    ]
    for ev, problem in cases:
        with pytest.raises(models.InputError) as e:
            apply_event(doc, ev)
        assert e.value.problems == [problem]


def test_cli_disrupt_dry_run_then_commit(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'l.db'}"
    _ledger(db).close()
    runner = CliRunner()
    res = runner.invoke(app, ["disrupt", "capacity", "ws-b", "machining", "--periods", "1,2",
                              "--hours", "0", "--dry-run", "--db", db])
    assert res.exit_code == 0, res.output
    assert "capacity of ws-b for machining set to 0 h in periods 1, 2" in res.output
    assert "kept as a proposal; book it with `broker commit" in res.output
    repair_id = res.output.split("book it with `broker commit ")[1].split("`")[0]
    res = runner.invoke(app, ["commit", repair_id, "--db", db])
    assert res.exit_code == 0, res.output
    assert f"event and repair {repair_id} committed" in res.output
    as_json = runner.invoke(app, ["disrupt", "stock", "mc-b", "fc250", "--kg", "0",
                                  "--dry-run", "--json", "--db", db])
    assert as_json.exit_code == 0, as_json.output
    doc = json.loads(as_json.output)
    assert doc["event"] == {"kind": "stock", "center": "mc-b", "material": "fc250", "kg": 0.0}
    assert doc["committed"] is False and doc["plan"]["format"] == "imc-broker/plan@1"
    assert doc["format"] == "imc-broker/repair@1"
    bad = runner.invoke(app, ["disrupt", "capacity", "ws-b", "machining", "--periods", "x",
                              "--db", db])
    assert bad.exit_code == 2
    unknown = runner.invoke(app, ["disrupt", "leave", "ws-zz", "--db", db])
    assert unknown.exit_code == 2 and "unknown workshop 'ws-zz'" in unknown.output
    with Broker(db) as b:
        _exported_ok(b)


def test_cli_disrupt_shows_the_dates_of_a_dated_ledger(tmp_path: Path) -> None:
    """With horizon.start (SPEC 8.1) every move names its periods' start dates, and the
    JSON document carries the date of every period."""
    db = f"sqlite:///{tmp_path / 'l.db'}"
    doc = _registry()
    doc["horizon"] = {**doc["horizon"], "start": "2027-03-01", "period_days": 7}
    _ledger(db, doc).close()
    runner = CliRunner()
    res = runner.invoke(app, ["disrupt", "leave", "ws-b", "--dry-run", "--db", db])
    assert res.exit_code == 0, res.output
    moves = [ln for ln in res.output.splitlines() if ln.strip().startswith("step ")]
    assert moves, res.output
    assert all("period 0 (2027-03-01)" in ln or "period 1 (2027-03-08)" in ln
               or "period 2 (2027-03-15)" in ln or "period 3 (2027-03-22)" in ln
               for ln in moves), moves
    as_json = runner.invoke(app, ["disrupt", "leave", "ws-b", "--dry-run", "--json",
                                  "--db", db])
    periods = len(doc_periods := json.loads(as_json.output)["period_dates"])
    assert doc_periods[:2] == ["2027-03-01", "2027-03-08"] and periods == doc["horizon"][
        "periods"]
