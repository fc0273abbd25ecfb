"""Plan jobs against a real server, on SQLite and PostgreSQL: a server killed with
SIGKILL while a job solves, then restarted, reports the job `interrupted` (its solve
process gone, nothing booked, the ledger still passes the checker); a cancelled job
stops its solve."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from service_support import (
    BACKENDS,
    Server,
    database,
    make_key,
    pid_alive,
    running,
    wait_job,
)

import models
from broker import Broker
from broker.service.runner import CANCEL_GRACE_S
from models.check import check
from scenarios.generate import generate


def _running_job(c: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    r = c.post("/v1/plans", json=body)
    assert r.status_code == 202, r.text
    return wait_job(c, r.json()["id"], until=("running", "done", "failed", "cancelled"))


def _gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("backend", BACKENDS)
def test_kill_during_a_job_then_restart(backend: str, tmp_path: Path) -> None:
    # A generated small market: its 25 requests take seconds to plan, long enough to
    # kill the server while the solve runs.
    doc = generate("small", 1)
    with database(backend, tmp_path) as url:
        key = make_key(url, "planner")
        with Broker(url) as b:
            b.import_scenario(doc)
            b.submit(doc["requests"][:3])
            committed = b.commit(b.plan(time_limit=10).plan_id)
            b.submit(doc["requests"][3:])
            version = b.ledger_version()
        srv = Server(url, tmp_path / "killed.log").start()
        try:
            with srv.client(key) as c:
                job = _running_job(c, {"time_limit": 60})
                assert job["status"] == "running", job
            with Broker(url) as b:
                pid = b.engine.connect().exec_driver_sql(
                    f"SELECT pid FROM jobs WHERE id = '{job['id']}'").scalar()
            assert pid
            srv.kill()
            assert _gone(pid), "the solve process outlived its server"
        finally:
            srv.kill()
        with running(url, tmp_path) as again, again.client(key) as c:
            after = c.get(f"/v1/jobs/{job['id']}").json()
            assert after["status"] == "interrupted"
            assert after["message"] == ("the server stopped while this job was running; its "
                                        "solve was lost and nothing was booked: plan again")
            assert after["plan_id"] is None
            export = c.get("/v1/export").json()
            open_ = c.get("/v1/requests", params={"status": "open", "limit": 1000}).json()
        assert open_["total"] == len(doc["requests"]) - 3
        assert sorted(r["id"] for r in export["scenario"]["requests"]) == sorted(
            committed.requests)
        report = check(models.scenario_from_dict(export["scenario"]),
                       models.plan_from_dict(export["plan"]))
        assert report.ok, report.summary()
        with Broker(url) as b:
            assert b.ledger_version() == version


def test_cancel_stops_the_solve(tmp_path: Path) -> None:
    doc = generate("small", 1)
    with database("sqlite", tmp_path) as url:
        key = make_key(url, "planner")
        with Broker(url) as b:
            b.import_scenario(doc)
            b.submit(doc["requests"])
        with running(url, tmp_path, workers=1) as srv, srv.client(key) as c:
            job = _running_job(c, {"time_limit": 60})
            assert job["status"] == "running", job
            queued = c.post("/v1/plans", json={"requests": [doc["requests"][0]["id"]],
                                               "time_limit": 5}).json()
            assert queued["status"] == "queued"  # one worker, and it is busy
            r = c.delete(f"/v1/jobs/{queued['id']}")
            assert r.status_code == 202 and r.json()["status"] == "cancelled"
            r = c.delete(f"/v1/jobs/{job['id']}")
            assert r.status_code == 202 and r.json()["cancel_requested"] is True
            done = wait_job(c, job["id"], timeout=60)
            assert done["status"] == "cancelled", done
            if done["plan_id"] is not None:  # the solver handed back its best plan
                plan = models.plan_from_dict(done["plan"])
                assert plan.status.has_plan
            else:
                # Cancelled before the solve began (nothing stored), or during it before
                # any plan (the run is in the history, without a plan): nothing booked.
                assert done["message"] in (
                    "cancelled before the solver had a plan to keep; nothing was stored "
                    "or booked",
                    "cancelled before the solver had a plan to keep (no_solution); "
                    "nothing was booked")
            with Broker(url) as b:
                pid = b.engine.connect().exec_driver_sql(
                    f"SELECT pid FROM jobs WHERE id = '{job['id']}'").scalar()
            assert _gone(pid)
            assert c.get("/v1/requests", params={"status": "committed"}).json()["total"] == 0
            # The pool goes on: the next job runs.
            nxt = c.post("/v1/plans", json={"requests": [request_id(doc, 0)],
                                            "time_limit": 10}).json()
            assert wait_job(c, nxt["id"], timeout=60)["status"] == "done"


def request_id(doc: dict[str, Any], i: int) -> str:
    return str(doc["requests"][i]["id"])



def _incumbent_job(c: httpx.Client, body: dict[str, Any], timeout: float = 90.0
                   ) -> dict[str, Any]:
    """Start a job and wait until its solve has an incumbent and still runs."""
    r = c.post("/v1/plans", json=body)
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = c.get(f"/v1/jobs/{r.json()['id']}").json()
        assert job["status"] in ("queued", "running"), job
        if (job["progress"] or {}).get("incumbent") is not None:
            return job
        time.sleep(0.05)
    pytest.fail("the job had no incumbent in time")


def _kept_plan(url: str, job: dict[str, Any]) -> models.Plan:
    """The plan a cancelled job kept: stored, and feasible for what it planned."""
    assert job["status"] == "cancelled", job
    assert job["plan_id"] is not None, job
    assert job["message"].startswith("cancelled; the best plan found so far is kept ("), job
    plan = models.plan_from_dict(job["plan"])
    assert plan.status.has_plan
    with Broker(url) as b:
        sc, _version = b.residual_scenario(job["plan"]["ledger"]["requests"])
    report = check(sc, plan)
    assert report.ok, report.summary()
    return plan


def test_cancel_keeps_the_best_plan_found_so_far(tmp_path: Path) -> None:
    # A generated medium market: 200 requests, whose solve runs the whole time limit.
    doc = generate("medium", 1)
    with database("sqlite", tmp_path) as url:
        key = make_key(url, "planner")
        with Broker(url) as b:
            b.import_scenario(doc)
            b.submit(doc["requests"])
        with running(url, tmp_path, workers=1) as srv, srv.client(key) as c:
            job = _incumbent_job(c, {"time_limit": 300})
            t0 = time.monotonic()
            assert c.delete(f"/v1/jobs/{job['id']}").status_code == 202
            done = wait_job(c, job["id"], timeout=60)
            # Stopped by the cancel, well before the time limit: within the runner's
            # grace, after which a solve would be killed with nothing kept.
            assert time.monotonic() - t0 < CANCEL_GRACE_S
            plan = _kept_plan(url, done)
            assert plan.status is models.Status.FEASIBLE  # stopped: not proven optimal
            # It is a plan like any other: it can be committed.
            r = c.post("/v1/commits", json={"plan_id": done["plan_id"]})
            assert r.status_code == 201, r.text


def test_dask_executor_solves_and_cancels_jobs(tmp_path: Path) -> None:
    from distributed import LocalCluster

    doc = generate("small", 1)
    with database("sqlite", tmp_path) as url:
        key = make_key(url, "planner")
        with Broker(url) as b:
            b.import_scenario(doc)
            b.submit(doc["requests"])
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                          dashboard_address=None, host="127.0.0.1") as cluster:
            address = cluster.scheduler_address.removeprefix("tcp://")
            with running(url, tmp_path, extra=["--executor", f"dask://{address}"]) as srv, \
                    srv.client(key) as c:
                first = [r["id"] for r in doc["requests"][:3]]
                r = c.post("/v1/plans", json={"requests": first, "time_limit": 20})
                assert r.status_code == 202, r.text
                job = wait_job(c, r.json()["id"], timeout=90)
                assert job["status"] == "done", job
                assert sorted(job["plan"]["ledger"]["requests"]) == sorted(first)
                r = c.post("/v1/commits", json={"plan_id": job["plan_id"]})
                assert r.status_code == 201, r.text
                export = c.get("/v1/export").json()
                report = check(models.scenario_from_dict(export["scenario"]),
                               models.plan_from_dict(export["plan"]))
                assert report.ok, report.summary()
                # On Dask no signal reaches the task: the cancel is seen at the next
                # progress event, and the search hands back its best plan.
                job = _incumbent_job(c, {"time_limit": 60})
                assert c.delete(f"/v1/jobs/{job['id']}").status_code == 202
                _kept_plan(url, wait_job(c, job["id"], timeout=90))
