"""Processes that plan and commit at the same moment never over-book, and a process killed
in the middle of a commit leaves nothing of it behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ledger_support import BACKENDS, assert_checked, database, registry, request
from sqlalchemy import func, select

from broker import Broker
from broker.ledger.db import schema as t

PROCESSES = 8

# One competitor: plans its requests, waits for the starting shot so that every process
# commits from the same ledger state, then re-plans what is still open after a refusal.
COMPETITOR = r"""
import json, pathlib, sys, time
from broker import Broker, LedgerConflict
from models import InputError
url, mine, ready, go, out = sys.argv[1], sys.argv[2].split(","), *sys.argv[3:6]
b = Broker(url)
results, waiting = [], True
for _ in range(20):
    still_open = [r for r in mine if b.request(r).status == "open"]
    if not still_open:
        break
    try:
        p = b.plan(still_open, time_limit=20)
    except InputError:
        # A neighbour committed one of them between the check above and the plan (the
        # ledger refuses to plan a committed request): look again.
        continue
    if waiting:
        pathlib.Path(ready).touch()
        while not pathlib.Path(go).exists():
            time.sleep(0.002)
        waiting = False
    try:
        c = b.commit(p.plan_id)
        results.append({"plan": p.plan_id, "requests": c.requests, "outcome": "committed"})
    except LedgerConflict as e:
        results.append({"plan": p.plan_id, "outcome": "refused", "message": str(e)})
pathlib.Path(ready).touch()
pathlib.Path(out).write_text(json.dumps(results))
"""

# Commits, but stops for good after its rows are written and before the transaction ends.
KILLED = r"""
import pathlib, sys, time
import broker.ledger.planning as planning
from broker import Broker
url, plan_id, inside = sys.argv[1], int(sys.argv[2]), sys.argv[3]
write_rows = planning._write_rows
def stuck(*args):
    write_rows(*args)
    pathlib.Path(inside).touch()
    time.sleep(600)
planning._write_rows = stuck
Broker(url).commit(plan_id)
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


def _wait_for(path: Path, proc: subprocess.Popen[bytes], seconds: float = 120) -> None:
    end = time.monotonic() + seconds
    while not path.exists():
        if proc.poll() is not None:
            _, stderr = proc.communicate()
            raise AssertionError(f"child exited with {proc.returncode} before {path.name}: "
                                 f"{(stderr or b'').decode()}")
        assert time.monotonic() < end, f"timed out waiting for {path}"
        time.sleep(0.01)


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database(request.param, tmp_path) as u:
        yield u


def test_competing_commits_never_overbook(url: str, tmp_path: Path) -> None:
    b = Broker(url)
    b.import_scenario(registry())
    ids = [f"R{i}" for i in range(PROCESSES + 1)]
    b.submit([request(rid, 6) for rid in ids])
    go = tmp_path / "go"
    procs = []
    for i in range(PROCESSES):
        mine = f"{ids[i]},{ids[i + 1]}"  # neighbours compete for one request
        args = [url, mine, str(tmp_path / f"ready{i}"), str(go), str(tmp_path / f"out{i}")]
        procs.append(subprocess.Popen([sys.executable, "-c", COMPETITOR, *args],
                                      env=_env(), stderr=subprocess.PIPE, cwd=tmp_path))
    try:
        for i, p in enumerate(procs):
            _wait_for(tmp_path / f"ready{i}", p)
        go.touch()
        for p in procs:
            _, stderr = p.communicate(timeout=300)
            assert p.returncode == 0, stderr.decode()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    results = [r for i in range(PROCESSES)
               for r in json.loads((tmp_path / f"out{i}").read_text())]
    committed = [r for r in results if r["outcome"] == "committed"]
    refused = [r for r in results if r["outcome"] == "refused"]
    assert committed and refused, results
    # Every request ends in exactly one accepted commit, wholly present.
    assert sorted(rid for r in committed for rid in r["requests"]) == sorted(ids)
    for r in committed:
        stored = b.stored_plan(r["plan"])
        for rid in r["requests"]:
            rec = b.request(rid)
            assert rec.status == "committed" and rec.plan_id == r["plan"]
        with b.engine.connect() as conn:
            rows = {(p.request_id, p.step, p.workshop_id, p.period, p.quantity)
                    for p in conn.execute(select(t.CommittedProduction).where(
                        t.CommittedProduction.plan_id == r["plan"]))}
        assert rows == {(p.request, p.step, p.workshop, p.period, p.quantity)
                        for p in stored.production}
    ex = b.export()
    assert_checked(ex.scenario, ex.plan)
    runs = b.runs()
    assert len([x for x in runs if x.kind == "commit" and x.status == "committed"]) \
        == len(committed)
    assert len([x for x in runs if x.kind == "commit" and x.status == "refused"]) \
        == len(refused)
    b.close()


def test_sigkill_in_the_middle_of_a_commit(url: str, tmp_path: Path) -> None:
    b = Broker(url)
    b.import_scenario(registry())
    b.submit([request("R1", 12)])
    p = b.plan(time_limit=20)
    version = b.ledger_version()
    inside = tmp_path / "inside"
    child = subprocess.Popen([sys.executable, "-c", KILLED, url, str(p.plan_id), str(inside)],
                             env=_env(), cwd=tmp_path)
    try:
        _wait_for(inside, child)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    fresh = Broker(url)
    assert fresh.request("R1").status == "open"
    assert fresh.ledger_version() == version
    with fresh.engine.connect() as conn:
        for table in t.LEDGER_TABLES:
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0
    # The lock died with the process: the same plan commits now, once.
    done = fresh.commit(p.plan_id)
    assert done.requests == ["R1"] and not done.already
    ex = fresh.export()
    assert_checked(ex.scenario, ex.plan)
    fresh.close()
    b.close()
