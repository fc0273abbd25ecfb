"""The whole flow over HTTP against a real server, on SQLite and PostgreSQL: import,
submit (idempotent), quote, plan as a job, commit (idempotent), export, and the checker
on the export; a CLI commit on the same database is seen by the resident quote."""

from __future__ import annotations

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
    wait_job,
)

import models
from broker import Broker
from models.check import check


@pytest.fixture(params=BACKENDS)
def served(request: pytest.FixtureRequest, tmp_path: Path
           ) -> Iterator[tuple[Server, str, str]]:
    with database(request.param, tmp_path) as url:
        key = make_key(url, "planner", label="flow test")
        with running(url, tmp_path) as srv:
            yield srv, url, key


def _checked(export: dict[str, Any]) -> None:
    sc = models.scenario_from_dict(export["scenario"], "export")
    plan = models.plan_from_dict(export["plan"], "export")
    report = check(sc, plan)
    assert report.ok, report.summary()


def test_whole_flow(served: tuple[Server, str, str]) -> None:
    srv, url, key = served
    with srv.client(key) as c:
        r = c.put("/v1/registry", json=registry())
        assert r.status_code == 200, r.text
        assert r.json()["created"]["workshops"] == 2

        csv = ("id,name,location,certifications,engagement_cost,capacity:machining,"
               "rate:machining\nws-c,CV Tiga,loc-c,ISO9001,0,6,250\n")
        r = c.post("/v1/registry/workshops.csv", content=csv,
                   headers={"Content-Type": "text/csv"})
        assert r.status_code == 200, r.text
        assert r.json()["created"] == {"workshops": 1}

        r = c.patch("/v1/workshops/ws-c/capacity",
                    json={"process": "machining", "hours": 0, "periods": [0]})
        assert r.status_code == 200, r.text
        ws = {w["id"]: w for w in c.get("/v1/workshops").json()}
        assert ws["ws-c"]["processes"][0]["hours"] == 18.0  # 0 + 6 + 6 + 6

        first = c.post("/v1/requests", json=request("R1", 12, destination="loc-c"),
                       headers={"Idempotency-Key": "k-R1"})
        assert first.status_code == 201, first.text
        # The registry's horizon starts 2027-01-04 (weeks): release 0 and due 3 by date.
        assert (first.json()["release_date"], first.json()["due_date"]) == (
            "2027-01-04", "2027-01-25")
        again = c.post("/v1/requests", json=request("R1", 12, destination="loc-c"),
                       headers={"Idempotency-Key": "k-R1"})
        assert again.status_code == 200
        assert again.json() == first.json()
        other = c.post("/v1/requests", json=request("R1b", 13),
                       headers={"Idempotency-Key": "k-R1"})
        assert other.status_code == 409
        assert "k-R1" in other.json()["conflicts"][0]
        assert c.post("/v1/requests", json=request("R2", 9)).status_code == 201

        page = c.get("/v1/requests", params={"status": "open", "limit": 1}).json()
        assert page["total"] == 2 and [r["id"] for r in page["items"]] == ["R1"]
        assert page["next_offset"] == 1

        q = c.post("/v1/quotes", json=request("Q1", 5))
        assert q.status_code == 200, q.text
        quote = q.json()
        assert quote["cost"] > 0 and quote["on_time"] is True
        assert quote["earliest_period"] is not None and quote["earliest_date"] is not None
        # The resident quote answers as the library does.
        with Broker(url) as b:
            lib = b.quote(request("Q1", 5))
        assert quote["cost"] == pytest.approx(lib.cost, rel=1e-6)
        assert quote["earliest_period"] == lib.earliest_period

        r = c.post("/v1/plans", json={"time_limit": 20})
        assert r.status_code == 202, r.text
        assert r.headers["Location"] == f"/v1/jobs/{r.json()['id']}"
        job = wait_job(c, r.json()["id"])
        assert job["status"] == "done", job
        assert job["progress"] is not None and job["progress"]["phase"]
        plan_id = job["plan_id"]
        assert job["plan"]["ledger"]["plan_id"] == plan_id
        assert sorted(job["plan"]["ledger"]["requests"]) == ["R1", "R2"]

        r = c.post("/v1/commits", json={"plan_id": plan_id})
        assert r.status_code == 201, r.text
        commit = r.json()
        assert commit["already"] is False and sorted(commit["requests"]) == ["R1", "R2"]
        assert sum(b["hours"] for b in commit["bookings"]) == pytest.approx(commit["hours"])
        assert commit["kg"] == pytest.approx(sum(m["kg"] for m in commit["materials"]))
        again = c.post("/v1/commits", json={"plan_id": plan_id})
        assert again.status_code == 200 and again.json()["already"] is True
        assert again.json()["run_id"] == commit["run_id"]

        assert c.get("/v1/requests/R1").json()["status"] == "committed"
        export = c.get("/v1/export").json()
        assert sorted(r["id"] for r in export["scenario"]["requests"]) == ["R1", "R2"]
        _checked(export)

        runs = c.get("/v1/runs").json()
        key_id = key.split("_")[1]
        by_id = {r["id"]: r for r in runs}
        assert by_id[plan_id]["kind"] == "plan" and by_id[plan_id]["key"] == key_id
        assert by_id[commit["run_id"]]["key"] == key_id
        detail = c.get(f"/v1/runs/{plan_id}").json()
        assert detail["plan"]["ledger"]["plan_id"] == plan_id
        changes = c.get("/v1/changes").json()
        assert {ch["action"] for ch in changes} >= {
            "registry.put", "registry.workshops_csv", "capacity.patch", "request.submit",
            "plan.start", "commit"}
        assert {ch["key"] for ch in changes} == {key_id}

        # A quote after the commit prices the residual ledger, and so does a quote after
        # a change made by another process (here the library, as the CLI would).
        after = c.post("/v1/quotes", json=request("Q1", 5)).json()
        assert after["ledger_version"] > quote["ledger_version"]
        with Broker(url) as b:
            b.cancel("R2")
            version = b.ledger_version()
            lib = b.quote(request("Q1", 5))
        seen = c.post("/v1/quotes", json=request("Q1", 5)).json()
        assert seen["ledger_version"] == version
        assert seen["cost"] == pytest.approx(lib.cost, rel=1e-6)

        r = c.delete("/v1/requests/R1")
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        _checked(c.get("/v1/export").json())

        ready = c.get("/readyz").json()
        assert ready["status"] == "ready" and ready["revision"] == ready["head"]
        doc = c.get("/openapi.json").json()
        assert "/v1/commits" in doc["paths"] and "Request" in doc["components"]["schemas"]
        assert c.get("/docs").status_code == 200


def test_the_server_takes_the_c_http_parser_and_event_loop() -> None:
    """`broker serve` runs uvicorn as it comes, which takes httptools and uvloop where
    they are installed (they are dependencies: 2.9 -> 2.5 ms of the server's CPU per
    quote), and h11 and asyncio otherwise."""
    import sys

    from uvicorn.config import Config

    config = Config(app="broker.service.app:create_app", factory=True)
    config.load()
    assert config.http_protocol_class.__name__ == "HttpToolsProtocol"
    if sys.platform != "win32":
        factory = config.get_loop_factory()
        assert factory is not None and factory.__module__.startswith("uvloop")
