"""16 concurrent clients against a real server, on SQLite and PostgreSQL: they submit,
quote, plan their own requests at the same ledger version and commit the competing
plans at once. Capacity is tight, so some commits must be refused with the slots named;
the refused plan again until theirs fits. The exported ledger then passes the checker:
nothing over-booked. Bounded in rounds and time; 127.0.0.1 only."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from service_support import BACKENDS, Server, database, make_key, registry, request, running

import models
from models.check import check

CLIENTS = 16
ROUNDS = 12  # plan-and-commit attempts per client at most


def _all(fn: Callable[[int], Any]) -> list[Any]:
    with ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(fn, range(CLIENTS)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_sixteen_clients_commit_competing_plans(backend: str, tmp_path: Path) -> None:
    with database(backend, tmp_path) as url:
        key = make_key(url, "planner")
        with running(url, tmp_path, workers=2) as srv:
            _run(srv, key)


def _run(srv: Server, key: str) -> None:
    clients = [srv.client(key) for _ in range(CLIENTS)]
    try:
        assert clients[0].put("/v1/registry", json=registry()).status_code == 200
        rid = [f"C{i:02d}" for i in range(CLIENTS)]

        def submit_and_quote(i: int) -> float:
            c = clients[i]
            r = c.post("/v1/requests", json=request(rid[i], 5),
                       headers={"Idempotency-Key": f"key-{rid[i]}"})
            assert r.status_code == 201, r.text
            q = c.post("/v1/quotes", json=request(f"Q{i}", 5))
            assert q.status_code == 200, q.text
            return float(q.json()["cost"])

        quotes = _all(submit_and_quote)
        assert len(set(quotes)) == 1  # the same request against the same ledger

        def plan(i: int) -> int:
            c = clients[i]
            r = c.post("/v1/plans", json={"requests": [rid[i]], "time_limit": 20})
            assert r.status_code == 202, r.text
            from service_support import wait_job

            job = wait_job(c, r.json()["id"], timeout=180)
            assert job["status"] == "done", job
            return int(job["plan_id"])

        # Every plan is made before any commit: all at the same ledger version, all
        # wanting the same cheapest hours.
        plans = _all(plan)
        barrier = threading.Barrier(CLIENTS)

        def commit(i: int) -> tuple[int, dict[str, Any]]:
            barrier.wait(timeout=60)
            r = clients[i].post("/v1/commits", json={"plan_id": plans[i]})
            return r.status_code, r.json()

        first = _all(commit)
        codes = [code for code, _ in first]
        assert set(codes) <= {201, 409}
        assert 201 in codes and 409 in codes, codes
        for code, body in first:
            if code == 409:
                assert body["conflicts"], body
                assert all(c.startswith(("capacity of ", "stock of ")) for c in
                           body["conflicts"]), body["conflicts"]

        def until_committed(i: int) -> int:
            if codes[i] == 201:
                return 1
            c = clients[i]
            for attempt in range(2, ROUNDS + 1):
                pid = plan(i)
                r = c.post("/v1/commits", json={"plan_id": pid})
                if r.status_code == 201:
                    return attempt
                assert r.status_code == 409, r.text
            return ROUNDS + 1

        attempts = _all(until_committed)
        assert max(attempts) <= ROUNDS, attempts

        listing = clients[0].get("/v1/requests", params={"status": "committed",
                                                        "limit": 1000}).json()
        assert sorted(r["id"] for r in listing["items"]) == rid
        export = clients[0].get("/v1/export").json()
        sc = models.scenario_from_dict(export["scenario"], "export")
        report = check(sc, models.plan_from_dict(export["plan"], "export"))
        assert report.ok, report.summary()
        # The refusals are in the history too.
        runs = clients[0].get("/v1/runs", params={"limit": 1000}).json()
        refused = [r for r in runs if r["kind"] == "commit" and r["status"] == "refused"]
        assert len(refused) >= codes.count(409)
    finally:
        for c in clients:
            c.close()
