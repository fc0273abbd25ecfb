"""Keys and roles against a real server, and bodies the service must refuse: no key
401; a role doing what it may not 403; another party's object 404, exactly as for one
that does not exist; malformed documents 422 with the CLI's one-line paths; oversized
bodies 413; `extends:` a file refused; never a stack trace."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from service_support import Server, database, make_key, registry, request, running

import models
from broker import Broker
from broker.service.auth import KeyStore

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One server on SQLite with a registry, two buyers' requests and a key per role."""
    tmp = tmp_path_factory.mktemp("access")
    with database("sqlite", tmp) as url:
        keys = {
            "planner": make_key(url, "planner"),
            "viewer": make_key(url, "viewer"),
            "buyer_a": None, "buyer_b": None, "ws_a": None,
        }
        with Broker(url) as b:
            b.import_scenario(registry())
            ks = KeyStore(b.engine)
            keys["buyer_a"] = ks.create("buyer", buyer="PT A").key
            keys["buyer_b"] = ks.create("buyer", buyer="PT B").key
            keys["ws_a"] = ks.create("workshop", workshop="ws-a").key
            revoked = ks.create("viewer")
            ks.revoke(revoked.info.id)
            keys["revoked"] = revoked.key
        with running(url, tmp, extra=["--max-body-mb", "1"]) as srv:
            yield {"srv": srv, "url": url, "keys": keys}


def _problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["type"].startswith("urn:imc-broker:problem:")
    assert "Traceback" not in r.text and 'File "' not in r.text
    return body


def test_keys_and_roles(world: dict[str, Any]) -> None:
    srv: Server = world["srv"]
    k = world["keys"]
    with srv.client() as anon:
        _problem(anon.get("/v1/requests"), 401)
        assert anon.get("/v1/requests").headers["www-authenticate"] == "Bearer"
        _problem(anon.get("/v1/requests", headers={"Authorization": "Bearer imc_x_y"}), 401)
        _problem(anon.get("/v1/requests",
                          headers={"Authorization": f"Bearer {k['planner']}x"}), 401)
        _problem(anon.get("/v1/export", headers={"Authorization": f"Bearer {k['revoked']}"}),
                 401)
        assert anon.get("/healthz").status_code == 200  # health needs no key

    a, b_, ws, viewer, planner = (srv.client(k[n]) for n in
                                  ("buyer_a", "buyer_b", "ws_a", "viewer", "planner"))
    with a, b_, ws, viewer, planner:
        # Buyers submit their own requests; the buyer is filled in, another refused.
        r = a.post("/v1/requests", json=request("A1", 4))
        assert r.status_code == 201 and r.json()["buyer"] == "PT A"
        _problem(a.post("/v1/requests", json=request("A2", 4, buyer="PT B")), 403)
        assert b_.post("/v1/requests", json=request("B1", 4)).status_code == 201
        assert [x["id"] for x in a.get("/v1/requests").json()["items"]] == ["A1"]
        assert a.get("/v1/requests/A1").status_code == 200
        # Another buyer's request is not there, exactly like one that does not exist.
        theirs = _problem(a.get("/v1/requests/B1"), 404)
        none = _problem(a.get("/v1/requests/NOPE"), 404)
        assert theirs["detail"].replace("B1", "X") == none["detail"].replace("NOPE", "X")
        _problem(a.delete("/v1/requests/B1"), 404)
        assert planner.get("/v1/requests/B1").json()["status"] == "open"
        assert a.post("/v1/quotes", json=request("AQ", 3)).status_code == 200
        for method, path, body in (("POST", "/v1/plans", {}), ("GET", "/v1/export", None),
                                   ("GET", "/v1/runs", None), ("GET", "/v1/workshops", None),
                                   ("PUT", "/v1/registry", registry()),
                                   ("POST", "/v1/commits", {"plan_id": 1}),
                                   ("GET", "/v1/changes", None)):
            _problem(a.request(method, path, json=body), 403)
        assert a.delete("/v1/requests/A1").json()["status"] == "cancelled"

        # A workshop key reads and changes its own capacity only.
        assert [w["id"] for w in ws.get("/v1/workshops").json()] == ["ws-a"]
        r = ws.patch("/v1/workshops/ws-a/capacity", json={"process": "casting", "hours": 9})
        assert r.status_code == 200, r.text
        other = _problem(ws.patch("/v1/workshops/ws-b/capacity",
                                  json={"process": "casting", "hours": 1}), 404)
        missing = _problem(ws.patch("/v1/workshops/ws-zz/capacity",
                                    json={"process": "casting", "hours": 1}), 404)
        assert other["detail"].replace("ws-b", "X") == missing["detail"].replace("ws-zz", "X")
        for method, path, body in (("GET", "/v1/requests", None),
                                   ("POST", "/v1/requests", request("W1", 1)),
                                   ("POST", "/v1/quotes", request("W1", 1)),
                                   ("POST", "/v1/plans", {}), ("GET", "/v1/export", None)):
            _problem(ws.request(method, path, json=body), 403)
        ws_b = {w["id"]: w for w in planner.get("/v1/workshops").json()}["ws-b"]
        assert ws_b["processes"][0]["capacity"] == 10  # untouched

        # A viewer reads everything and changes nothing.
        for path in ("/v1/requests", "/v1/workshops", "/v1/export", "/v1/runs",
                     "/v1/changes", "/v1/jobs"):
            assert viewer.get(path).status_code == 200, path
        for method, path, body in (("POST", "/v1/requests", request("V1", 1)),
                                   ("DELETE", "/v1/requests/B1", None),
                                   ("POST", "/v1/quotes", request("V1", 1)),
                                   ("PUT", "/v1/registry", registry()),
                                   ("PATCH", "/v1/workshops/ws-a/capacity",
                                    {"process": "casting", "hours": 1}),
                                   ("POST", "/v1/plans", {}),
                                   ("DELETE", "/v1/jobs/x", None),
                                   ("POST", "/v1/commits", {"plan_id": 1})):
            _problem(viewer.request(method, path, json=body), 403)

        # Every change names the key that made it.
        changes = planner.get("/v1/changes").json()
        by_action = {(c["action"], c["target"]): c["key"] for c in changes}
        ids = {n: k[n].split("_")[1] for n in ("buyer_a", "buyer_b", "ws_a")}
        assert by_action[("request.submit", "A1")] == ids["buyer_a"]
        assert by_action[("request.submit", "B1")] == ids["buyer_b"]
        assert by_action[("request.cancel", "A1")] == ids["buyer_a"]
        assert by_action[("capacity.patch", "ws-a")] == ids["ws_a"]
        assert len(changes) == 4


def test_bad_bodies(world: dict[str, Any]) -> None:
    srv: Server = world["srv"]
    with srv.client(world["keys"]["planner"]) as c:
        body = _problem(c.post("/v1/requests", content=b'{"id": "R9",',
                               headers={"Content-Type": "application/json"}), 422)
        assert body["errors"] == ["line 1, column 13: JSON syntax error: Expecting "
                                  "property name enclosed in double quotes"]
        _problem(c.post("/v1/requests", content=b""), 422)
        _problem(c.post("/v1/requests", json=[request("R9", 1)]), 422)

        # The same one-line paths as the CLI (the library's own messages).
        bad = request("R9", 0, component="bd-13")
        with Broker(world["url"]) as b, pytest.raises(models.InputError) as lib:
            b.submit(bad)
        body = _problem(c.post("/v1/requests", json=bad), 422)
        assert body["errors"] == lib.value.problems
        assert "component: unknown component 'bd-13'" in body["errors"]
        doc = registry()
        doc["workshops"][1]["capacity"]["casting"] = -1
        doc["requests"][0]["component"] = "bd-13"
        body = _problem(c.put("/v1/registry", json=doc), 422)
        with pytest.raises(models.ScenarioError) as sc_err:
            models.scenario_from_dict(doc)
        assert body["errors"] == [p for p in sc_err.value.problems]
        assert "requests[0].component: unknown component 'bd-13'" in body["errors"]
        body = _problem(c.get("/v1/requests", params={"limit": "many"}), 422)
        assert body["errors"][0].startswith("query.limit: ")
        _problem(c.post("/v1/plans", json={"time_limit": -1}), 422)
        _problem(c.post("/v1/plans", json={"requests": ["NOPE"]}), 422)
        _problem(c.post("/v1/commits", json={"plan_id": 999}), 404)

        # Every JSON body refuses a duplicate key, naming both lines, as the CLI does (the
        # parser FastAPI uses would keep the last value silently).
        dup = b'{\n"plan_id": 1,\n"plan_id": 2\n}'
        body = _problem(c.post("/v1/commits", content=dup,
                               headers={"Content-Type": "application/json"}), 422)
        assert body["errors"] == ["plan_id: duplicate key 'plan_id' at line 3 (first at line 2)"]
        dup = b'{"time_limit": 5, "seed": 1, "seed": 2}'
        body = _problem(c.post("/v1/plans", content=dup,
                               headers={"Content-Type": "application/json"}), 422)
        assert body["errors"] == ["seed: duplicate key 'seed' at line 1 (first at line 1)"]
        dup = b'{"process": "machining", "hours": 400, "hours": 0}'
        body = _problem(c.patch("/v1/workshops/ws-a/capacity", content=dup,
                                headers={"Content-Type": "application/json"}), 422)
        assert body["errors"] == ["hours: duplicate key 'hours' at line 1 (first at line 1)"]
        dup = b'{"id": "R9", "component": "drum", "quantity": 4, "quantity": 9000, "due": 3}'
        body = _problem(c.post("/v1/requests", content=dup,
                               headers={"Content-Type": "application/json"}), 422)
        assert body["errors"] == [
            "quantity: duplicate key 'quantity' at line 1 (first at line 1)"]
        # Strict, finite types in those bodies too: no "5" hours, no `true` plan id.
        for bad, field in (({"process": "machining", "hours": "5"}, "hours"),
                           ({"process": "machining", "hours": True}, "hours"),
                           ({"process": "machining", "hours": 1e300}, "hours")):
            body = _problem(c.patch("/v1/workshops/ws-a/capacity", json=bad), 422)
            assert [e.split(":")[0] for e in body["errors"]] == [field]
        body = _problem(c.post("/v1/commits", json={"plan_id": "1"}), 422)
        assert [e.split(":")[0] for e in body["errors"]] == ["plan_id"]
        body = _problem(c.post("/v1/plans", json={"time_limit": True}), 422)
        assert [e.split(":")[0] for e in body["errors"]] == ["time_limit"]
        _problem(c.get("/v1/jobs/nope"), 404)
        _problem(c.get("/v1/nowhere"), 404)

        # A document may extend a built-in scenario, never a file on the server.
        for ext in ("/etc/passwd", "../ledger.db", "ledger.db"):
            body = _problem(c.put("/v1/registry", json={"extends": ext}), 422)
            assert body["errors"][0].startswith(f"extends: '{ext}' is not a built-in")
        r = c.put("/v1/registry", json={"extends": "java-mini", "name": "from-builtin"})
        assert r.status_code == 200, r.text

        # Bodies over the limit (1 MB on this server): by Content-Length and chunked.
        big = b'{"pad": "' + b"x" * (1024 * 1024 + 10) + b'"}'
        body = _problem(c.post("/v1/requests", content=big,
                               headers={"Content-Type": "application/json"}), 413)
        assert "1,048,576 bytes" in body["detail"]

        def chunks() -> Iterator[bytes]:
            for i in range(0, len(big), 65536):
                yield big[i:i + 65536]

        _problem(c.post("/v1/requests", content=chunks(),
                        headers={"Content-Type": "application/json"}), 413)
        assert c.get("/healthz").status_code == 200  # and the server is fine


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_verified_key_is_refused_once_revoked_elsewhere(
        kind: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The server remembers a verified key, but reads its row on every request: a
    revocation by another process (`broker keys revoke`) counts from the next request; the
    ledger version read on every quote is the one another process just moved."""
    with database(kind, tmp_path_factory.mktemp("revoke")) as url, \
            Broker(url) as server_side, Broker(url) as elsewhere:
        server_side.import_scenario(registry())
        keys = KeyStore(server_side.engine)
        buyer = KeyStore(elsewhere.engine).create("buyer", buyer="PT A")
        who = keys.authenticate(buyer.key)
        assert who is not None and (who.key_id, who.role, who.buyer, who.workshop) == (
            buyer.info.id, "buyer", "PT A", None)
        assert keys.authenticate(buyer.key) == who  # remembered, row read again
        assert keys.authenticate(buyer.key + "x") is None
        assert keys.authenticate(f"imc_nosuchkey_{buyer.key[-8:]}") is None
        KeyStore(elsewhere.engine).revoke(buyer.info.id)
        assert keys.authenticate(buyer.key) is None
        before = server_side.ledger_version()
        elsewhere.set_capacity("ws-a", "casting", 7.0)
        assert server_side.ledger_version() == elsewhere.ledger_version() == before + 1
