"""What a client may send and the service must answer properly, on SQLite and
PostgreSQL (found by driving a real server from outside): a registry body is a document,
never a name the server resolves to a file; `POST /v1/requests` takes one request, so a
buyer key cannot slip in another buyer's; an Idempotency-Key clash does not name another
buyer's request; a JSON syntax error reads the same on every route; ids no database
column can hold, or with a NUL character, are "not found", not a 500; refused commits
name their key; an unexpected error leaves the client's connection usable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
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
from sqlalchemy import update

from broker import Broker
from broker.ledger.db import schema as t
from broker.service.auth import KeyStore

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module", params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp(f"inputs-{request.param}")
    with database(request.param, tmp) as url:
        keys = {"planner": make_key(url, "planner")}
        with Broker(url) as b:
            b.import_scenario(registry())
            ks = KeyStore(b.engine)
            keys["buyer_a"] = ks.create("buyer", buyer="PT A").key
            keys["buyer_b"] = ks.create("buyer", buyer="PT B").key
        with running(url, tmp) as srv:
            yield {"srv": srv, "url": url, "keys": keys, "tmp": tmp}


def _problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    assert "Traceback" not in r.text and 'File "' not in r.text
    body: dict[str, Any] = r.json()
    return body


def _client(world: dict[str, Any], who: str) -> httpx.Client:
    srv: Server = world["srv"]
    return srv.client(world["keys"][who])


def test_registry_body_is_a_document_never_a_name(world: dict[str, Any]) -> None:
    # A scenario file on the server, with a name of its own: sent as a JSON string, the
    # body was read as that file's path (and a built-in's name as the built-in).
    path: Path = world["tmp"] / "on-the-server.json"
    path.write_text(json.dumps(registry(name="read-from-a-server-file")))
    with _client(world, "planner") as c:
        before = c.get("/readyz").json()["ledger_version"]
        for body in (str(path), "java-mini", "/etc/passwd", "no-such.yaml", [], 42, None):
            problem = _problem(c.put("/v1/registry", content=json.dumps(body),
                                     headers={"Content-Type": "application/json"}), 422)
            assert problem["errors"] == ["(document): a scenario must be a JSON object; "
                                         "only `extends:` may name a built-in scenario"]
        assert c.get("/readyz").json()["ledger_version"] == before
        assert c.get("/v1/export").json()["scenario"]["name"] != "read-from-a-server-file"


def test_one_request_per_post(world: dict[str, Any]) -> None:
    with _client(world, "buyer_a") as a, _client(world, "planner") as p:
        # A buyer key cannot submit in another buyer's name by wrapping the request.
        theirs = request("IN-B1", 2, buyer="PT B")
        problem = _problem(a.post("/v1/requests", json={"requests": [theirs]}), 422)
        assert any(e.startswith("requests: unknown field") for e in problem["errors"])
        # Nor may a planner store several requests through a route that answers one.
        two = {"requests": [request("IN-P1", 2), request("IN-P2", 2)]}
        _problem(p.post("/v1/requests", json=two), 422)
        stored = {r["id"] for r in p.get("/v1/requests").json()["items"]}
        assert not stored & {"IN-B1", "IN-P1", "IN-P2"}
        # A request without an id says so, like any missing field.
        doc = request("IN-X", 2)
        del doc["id"]
        assert _problem(a.post("/v1/requests", json=doc), 422)["errors"] == [
            "id: required field missing"]
        assert _problem(a.post("/v1/requests", json=request("IN-X", 2, component="bd-13")),
                        422)["errors"] == ["component: unknown component 'bd-13'"]


def test_idempotency_clash_names_only_the_callers_request(world: dict[str, Any]) -> None:
    with _client(world, "buyer_a") as a, _client(world, "buyer_b") as b_:
        hdr = {"Idempotency-Key": "shared-key-1"}
        assert a.post("/v1/requests", json=request("IN-A1", 3), headers=hdr
                      ).status_code == 201
        mine = _problem(a.post("/v1/requests", json=request("IN-A1", 4), headers=hdr), 409)
        assert mine["conflicts"] == ["Idempotency-Key: 'shared-key-1' was used for a "
                                     "different request (stored as 'IN-A1')"]
        other = _problem(b_.post("/v1/requests", json=request("IN-B2", 3), headers=hdr), 409)
        assert other["conflicts"] == ["Idempotency-Key: 'shared-key-1' was used for a "
                                      "different request"]
        assert "IN-A1" not in json.dumps(other)


def test_json_syntax_error_reads_the_same_on_every_route(world: dict[str, Any]) -> None:
    bad = b'{"plan_id": 1,'
    hdr = {"Content-Type": "application/json"}
    with _client(world, "planner") as c:
        want = _problem(c.post("/v1/requests", content=bad, headers=hdr), 422)["errors"]
        assert want[0].startswith("line 1, column 15: JSON syntax error")
        for method, path in (("POST", "/v1/plans"), ("POST", "/v1/commits"),
                             ("POST", "/v1/disruptions"),
                             ("PATCH", "/v1/workshops/ws-a/capacity")):
            got = _problem(c.request(method, path, content=bad, headers=hdr), 422)
            assert got["errors"] == want, path
        for method, path in (("POST", "/v1/plans"), ("POST", "/v1/commits")):
            got = _problem(c.request(method, path, content=b"", headers=hdr), 422)
            assert got["errors"] == ["(document): a JSON document is required"], path


def test_ids_no_column_holds_are_not_found(world: dict[str, Any]) -> None:
    with _client(world, "planner") as c:
        for big in (2**31, 2**63, 10**30):
            assert _problem(c.post("/v1/commits", json={"plan_id": big}), 404)["detail"] \
                == f"no plan '{big}'"
            _problem(c.get(f"/v1/runs/{big}"), 404)
            _problem(c.post(f"/v1/disruptions/{big}/commit"), 404)
            _problem(c.get("/v1/jobs", params={"offset": big}), 422)
            assert c.get("/healthz").status_code == 200  # the same connection goes on
        # A NUL character is in no id (PostgreSQL refuses it in any text value).
        _problem(c.get("/v1/requests/R%001"), 404)
        _problem(c.delete("/v1/requests/R%001"), 404)
        _problem(c.get("/v1/jobs/j%00b"), 404)
        _problem(c.delete("/v1/jobs/j%00b"), 404)
        problem = _problem(c.post("/v1/plans", json={"requests": ["R\x001"]}), 422)
        assert problem["errors"] == ["requests[0]: unknown request 'R\x001'"]
        assert c.get("/v1/changes", params={"key": "k\x00"}).json() == []
        assert c.get("/healthz").status_code == 200


def test_refused_commit_names_its_key(world: dict[str, Any]) -> None:
    with _client(world, "planner") as c:
        for rid in ("IN-C1", "IN-C2"):
            assert c.post("/v1/requests", json=request(rid, 6)).status_code == 201
        jobs = [c.post("/v1/plans", json={"requests": ["IN-C1", "IN-C2"], "time_limit": 10}
                       ).json()["id"] for _ in range(2)]
        plans = [wait_job(c, j)["plan_id"] for j in jobs]
        assert c.post("/v1/commits", json={"plan_id": plans[0]}).status_code == 201
        _problem(c.post("/v1/commits", json={"plan_id": plans[1]}), 409)
        key_id = world["keys"]["planner"].split("_")[1]
        refused = [r for r in c.get("/v1/runs").json()
                   if r["kind"] == "commit" and r["plan_id"] == plans[1]]
        assert [(r["status"], r["key"]) for r in refused] == [("refused", key_id)]
        changes = c.get("/v1/changes").json()
        assert any(ch["action"] == "commit.refused" and ch["key"] == key_id
                   and ch["target"] == f"run:{refused[0]['id']}" for ch in changes)


def test_unexpected_error_keeps_the_connection(world: dict[str, Any]) -> None:
    with _client(world, "planner") as c:
        assert c.post("/v1/requests", json=request("IN-E1", 1)).status_code == 201
        job = wait_job(c, c.post("/v1/plans", json={"requests": ["IN-E1"]}).json()["id"])
        # A row the service cannot read (damaged by hand): a 500 without a trace, and
        # the client's next request on the same connection is answered.
        with Broker(world["url"]) as b, b.engine.begin() as conn:
            conn.execute(update(t.Run).where(t.Run.id == job["plan_id"])
                         .values(document="{not json"))
        problem = _problem(c.get(f"/v1/runs/{job['plan_id']}"), 500)
        assert problem["detail"] == "internal error; the server log has the details"
        assert c.get("/healthz").status_code == 200


def test_openapi_declares_the_bearer_key(world: dict[str, Any]) -> None:
    srv: Server = world["srv"]
    with srv.client() as anon:
        doc = anon.get("/openapi.json").json()
    assert doc["components"]["securitySchemes"]["apiKey"] == {
        "type": "http", "scheme": "bearer", "description": doc["components"][
            "securitySchemes"]["apiKey"]["description"]}
    ops = [(path, op) for path, item in doc["paths"].items() for op in item.values()]
    assert all(op.get("security") == [{"apiKey": []}] for path, op in ops
               if path.startswith("/v1/"))
    assert all("security" not in op for path, op in ops if not path.startswith("/v1/"))


def test_a_seed_the_engines_cannot_take_is_refused(world: dict[str, Any]) -> None:
    """A plan job with a seed of 2**31 ran and ended `feasible` with its constructive
    plan (HiGHS takes a 32-bit seed); it is refused before any job starts."""
    with _client(world, "planner") as c:
        for seed in (2**31, -1):
            problem = _problem(c.post("/v1/plans", json={"seed": seed}), 422)
            assert len(problem["errors"]) == 1 and problem["errors"][0].startswith("seed:"), \
                problem
