"""Disruptions over HTTP against a real server, on SQLite and PostgreSQL: a dry run that
books nothing and answers as `broker disrupt --json` does, its commit (idempotent),
an event booked at once, a stale repair refused, and bad bodies refused naming the
field; the exported ledger goes through the checker after each repair."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from service_support import (
    BACKENDS,
    Server,
    database,
    make_key,
    registry,
    request,
    running,
)
from typer.testing import CliRunner

import models
from broker import Broker
from cli import app as cli_app
from models.check import check

# A third workshop at the buyer's town, certified: R3 (which needs the certificate) is
# made there and is untouched by what happens to ws-b.
WS_C = {"id": "ws-c", "location": "loc-c", "certifications": ["ISO9001", "IATF16949"],
        "capacity": {"casting": 10, "machining": 10},
        "rate": {"casting": 150, "machining": 250}, "engagement_cost": 800}


def _ledger(url: str) -> None:
    doc = registry()
    doc["workshops"].append(WS_C)
    with Broker(url) as b:
        b.import_scenario(doc)
        b.submit([request("R1", 20, destination="loc-c"), request("R2", 15),
                  request("R3", 6, requires=["IATF16949"])])
        b.commit(b.plan().plan_id)


@pytest.fixture(params=BACKENDS)
def served(request: pytest.FixtureRequest, tmp_path: Path
           ) -> Iterator[tuple[Server, str, str]]:
    with database(request.param, tmp_path) as url:
        _ledger(url)
        key = make_key(url, "planner", label="disruption test")
        with running(url, tmp_path) as srv:
            yield srv, url, key


def _checked(export: dict[str, Any]) -> models.Plan:
    sc = models.scenario_from_dict(export["scenario"], "export")
    plan = models.plan_from_dict(export["plan"], "export")
    report = check(sc, plan)
    assert report.ok, report.summary()
    return plan


def _rows_of(plan: models.Plan, rid: str) -> dict[str, list[Any]]:
    return {k: sorted(json.dumps(r.model_dump(by_alias=True), sort_keys=True)
                      for r in getattr(plan, k) if r.request == rid)
            for k in ("production", "shipments", "imports", "unmet")}


def _machining_periods_at_b(plan: models.Plan) -> list[int]:
    return sorted({p.period for p in plan.production if p.workshop == "ws-b" and p.step == 1})


def test_dry_run_then_commit(served: tuple[Server, str, str]) -> None:
    srv, url, key = served
    with srv.client(key) as c:
        before = c.get("/v1/export").json()
        plan_before = _checked(before)
        periods = _machining_periods_at_b(plan_before)[:2]
        assert periods, "the cheap workshop machines R1/R2 before the event"
        version = c.get("/readyz").json()["ledger_version"]
        body = {"kind": "capacity", "workshop": "ws-b", "process": "machining",
                "periods": periods, "hours": 0, "dry_run": True}
        r = c.post("/v1/disruptions", json=body)
        assert r.status_code == 200, r.text
        res = r.json()
        assert r.headers["Location"] == f"/v1/runs/{res['repair_id']}"
        assert res["committed"] is False and res["commit_run_id"] is None
        assert res["broken"] and set(res["broken"]) <= {"R1", "R2"}
        for why in res["broken"].values():
            assert all(line.startswith("capacity of ws-b for machining in period ")
                       for line in why)
        assert "R3" not in res["freed"]
        assert res["moved_units"] == sum(q["moved_units"] for q in res["requests"]) > 0
        assert res["cost_delta"] == pytest.approx(res["cost_after"] - res["cost_before"])
        assert not [p for p in res["plan"]["production"] if p["workshop"] == "ws-b"
                    and p["step"] == 1 and p["period"] in periods]
        assert res["actor"] == f"key:{key.split('_')[1]}"
        # A dry run books nothing.
        assert c.get("/v1/export").json() == before
        assert c.get("/readyz").json()["ledger_version"] == version

        # The same document as `broker disrupt ... --dry-run --json` (plus `already`).
        cli = CliRunner().invoke(cli_app, [
            "disrupt", "capacity", "ws-b", "machining", "--periods",
            ",".join(map(str, periods)), "--hours", "0", "--dry-run", "--json", "--db", url])
        assert cli.exit_code == 0, cli.output
        doc = json.loads(cli.stdout)
        assert doc["format"] == "imc-broker/repair@1"
        assert set(res) == set(doc) - {"format"} | {"already"}
        for field in ("broken", "freed", "moved_units", "event", "description"):
            assert res[field] == doc[field], field

        r = c.post(f"/v1/disruptions/{res['repair_id']}/commit")
        assert r.status_code == 201, r.text
        done = r.json()
        assert done["committed"] is True and done["already"] is False
        # The commit answers with the proposal's account, per request.
        assert done["requests"] == res["requests"]
        assert done["cost_before"] == pytest.approx(res["cost_before"])
        again = c.post(f"/v1/disruptions/{res['repair_id']}/commit")
        assert again.status_code == 200 and again.json()["already"] is True
        assert again.json()["commit_run_id"] == done["commit_run_id"]

        after = _checked(c.get("/v1/export").json())
        assert not [p for p in after.production
                    if p.workshop == "ws-b" and p.step == 1 and p.period in periods]
        # R3 was not touched by the event: its rows are identical, row for row.
        assert _rows_of(after, "R3") == _rows_of(plan_before, "R3")
        ws_b = next(w for w in c.get("/v1/workshops").json() if w["id"] == "ws-b")
        machining = next(p for p in ws_b["processes"] if p["process"] == "machining")
        assert machining["hours"] == 8 * (4 - len(periods))

        # A repair id is not a plan for /v1/commits: the answer says where it goes.
        r = c.post("/v1/commits", json={"plan_id": res["repair_id"]})
        assert r.status_code == 404
        assert r.json()["detail"] == (
            f"no plan '{res['repair_id']}': it is a repair; commit it with POST "
            f"/v1/disruptions/{res['repair_id']}/commit")
        key_id = key.split("_")[1]
        runs = {run["id"]: run for run in c.get("/v1/runs").json()}
        assert runs[res["repair_id"]]["kind"] == "repair"
        assert runs[res["repair_id"]]["key"] == key_id
        assert runs[done["commit_run_id"]]["key"] == key_id
        actions = [ch["action"] for ch in c.get("/v1/changes").json()]
        assert actions.count("disruption.propose") == 1
        assert actions.count("disruption.commit") == 1


def test_event_booked_at_once_and_stale_repair_refused(
        served: tuple[Server, str, str]) -> None:
    srv, url, key = served
    with srv.client(key) as c:
        plan_before = _checked(c.get("/v1/export").json())
        # A proposal, then another change of the ledger: the proposal is stale.
        stale = c.post("/v1/disruptions", json={"kind": "capacity", "workshop": "ws-b",
                                                "process": "all", "dry_run": True}).json()
        r = c.post("/v1/disruptions", json={"kind": "leave", "workshop": "ws-b"})
        assert r.status_code == 201, r.text
        res = r.json()
        assert res["committed"] is True and res["event"] == {"kind": "leave",
                                                             "workshop": "ws-b"}
        assert set(res["broken"]) == {p.request for p in plan_before.production
                                      if p.workshop == "ws-b"}
        for why in res["broken"].values():
            assert "workshop ws-b left the registry" in why
        after = _checked(c.get("/v1/export").json())
        assert "ws-b" not in {w["id"] for w in c.get("/v1/workshops").json()}
        assert not [p for p in after.production if p.workshop == "ws-b"]
        assert _rows_of(after, "R3") == _rows_of(plan_before, "R3")

        version = c.get("/readyz").json()["ledger_version"]
        r = c.post(f"/v1/disruptions/{stale['repair_id']}/commit")
        assert r.status_code == 409, r.text
        assert r.json()["detail"].startswith(f"repair {stale['repair_id']} is stale: ")
        assert c.get("/readyz").json()["ledger_version"] == version


def test_bad_bodies_and_roles(tmp_path: Path) -> None:
    with database("sqlite", tmp_path) as url:
        _ledger(url)
        planner = make_key(url, "planner")
        viewer = make_key(url, "viewer")
        with running(url, tmp_path) as srv, srv.client(planner) as c:
            version = c.get("/readyz").json()["ledger_version"]

            def refused(body: Any, status: int = 422) -> dict[str, Any]:
                r = c.post("/v1/disruptions", json=body)
                assert r.status_code == status, r.text
                assert r.headers["content-type"] == "application/problem+json"
                assert "Traceback" not in r.text
                out: dict[str, Any] = r.json()
                return out

            assert refused({"kind": "capacity", "workshop": "ws-zz", "dry_run": True}
                           )["errors"] == ["workshop: unknown workshop 'ws-zz'"]
            assert refused({"kind": "capacity", "workshop": "ws-b", "process": "painting",
                            "dry_run": True})["errors"] == [
                "process: workshop 'ws-b' has no process 'painting' (it has casting, "
                "machining)"]
            assert refused({"kind": "capacity", "workshop": "ws-b", "periods": [9],
                            "dry_run": True})["errors"] == [
                "periods: period 9 outside the horizon (0 .. 3)"]
            assert refused({"kind": "stock", "center": "mc-b", "dry_run": True})["errors"] == [
                "material: required for a stock event", "kg: required for a stock event"]
            assert refused({"kind": "stock", "center": "mc-x", "material": "fc250",
                            "kg": 0})["errors"] == ["center: unknown material center 'mc-x'"]
            assert refused({"kind": "leave", "workshop": "ws-b", "kg": 5})["errors"] == [
                "kg: not a field of a leave event (it has workshop)"]
            assert refused({"kind": "route", "from": "loc-a", "to": "loc-b"})["errors"] == [
                "the registry has no routes: distances are great-circle, so there is no road "
                "link to close; import routes first"]
            assert refused({"kind": "flood", "workshop": "ws-b"})["errors"][0].startswith(
                "kind: ")
            assert refused({"workshop": "ws-b"})["errors"][0].startswith("kind: ")
            assert refused({"kind": "capacity", "workshop": "ws-b", "hours": "0"}
                           )["errors"][0].startswith("hours: ")
            assert refused({"kind": "capacity", "workshop": "ws-b", "hours": -1}
                           )["errors"][0].startswith("hours: ")
            assert refused({"kind": "capacity", "workshop": "ws-b", "dry_run": "yes"}
                           )["errors"][0].startswith("dry_run: ")
            assert refused({"kind": "capacity", "workshop": "ws-b", "colour": "red"}
                           )["errors"][0].startswith("colour: ")
            assert refused({"kind": "capacity", "workshop": "ws-b", "time_limit": 0.1}
                           )["errors"][0].startswith("time_limit: ")
            dup = c.post("/v1/disruptions", content='{"kind": "leave",\n"kind": "stock"}',
                         headers={"Content-Type": "application/json"})
            assert dup.status_code == 422
            assert dup.json()["errors"][0].startswith("kind: duplicate key 'kind'")
            assert c.post("/v1/disruptions/999/commit").status_code == 404
            assert c.get("/readyz").json()["ledger_version"] == version  # nothing written
            with srv.client(viewer) as v:
                r = v.post("/v1/disruptions", json={"kind": "leave", "workshop": "ws-b"})
                assert r.status_code == 403
                assert v.post("/v1/disruptions/1/commit").status_code == 403
            with srv.client() as anon:
                assert anon.post("/v1/disruptions", json={"kind": "leave"}).status_code == 401
            doc = c.get("/openapi.json").json()
            assert {"/v1/disruptions", "/v1/disruptions/{repair_id}/commit"} <= set(
                doc["paths"])
            assert {"DisruptionIn", "RepairOut"} <= set(doc["components"]["schemas"])
