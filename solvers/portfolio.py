"""Two engines at once, one per core: HiGHS and SCIP race on the same scenario.

Measured on the project's scenarios (docs/solver.md), neither engine wins everywhere: SCIP
proves the default scenario two to four times faster, HiGHS finds better plans where no
proof comes in time. With `threads >= 2` both run in child interpreters
(`python -m solvers.worker`), each with the options whole (method, formulation, gap,
seed) and the time left; the first proof of optimality wins and the other is stopped.
Under a time limit without a proof, the better plan is kept, with the higher of the two
proven bounds (each is a bound of the same model). A stop request (SIGINT) is passed on
to the children, which then write their best plan so far. With one thread this module is
not used, so a seeded single-threaded solve stays reproducible byte for byte.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from typing import IO

from models.io import plan_from_dict, scenario_to_dict
from models.plan import Plan, Status
from models.scenario import Scenario
from solvers.options import Engine, SolveOptions

ENGINES = (Engine.HIGHS, Engine.SCIP)
# Seconds a child gets to start its interpreter and to write its plan.
STARTUP = 1.5
# Seconds a stopped child has to write its best plan before it is killed.
GRACE = 5.0


def solve_portfolio(sc: Scenario, options: SolveOptions, started: float,
                    deadline: float | None) -> Plan:
    doc = json.dumps(scenario_to_dict(sc))
    procs: dict[Engine, subprocess.Popen[str]] = {}
    outputs: dict[Engine, list[str]] = {}
    readers: dict[Engine, threading.Thread] = {}
    for engine in ENGINES:
        limit = None if deadline is None else max(
            0.5, deadline - time.perf_counter() - STARTUP)
        child = replace(options, engine=engine, threads=1, time_limit=limit)
        p = subprocess.Popen(
            [sys.executable, "-m", "solvers.worker", json.dumps(child.describe())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True)
        assert p.stdin is not None
        p.stdin.write(doc)
        p.stdin.close()
        procs[engine] = p
        # A plan is larger than a pipe's buffer: read it while the child writes, or both wait.
        outputs[engine] = []
        assert p.stdout is not None
        readers[engine] = threading.Thread(target=_drain, args=(p.stdout, outputs[engine]),
                                           daemon=True)
        readers[engine].start()
    plans: dict[Engine, Plan] = {}
    stopping_since: float | None = None
    try:
        while procs:
            if stopping_since is None and options.stop is not None and options.stop.is_set():
                stopping_since = time.perf_counter()
                for p in procs.values():
                    p.send_signal(signal.SIGINT)
            if stopping_since is not None and time.perf_counter() - stopping_since > GRACE:
                break
            for engine, p in list(procs.items()):
                if p.poll() is None:
                    continue
                del procs[engine]
                readers[engine].join()
                out = "".join(outputs[engine])
                if p.returncode in (0, 3, 130) and out:
                    plans[engine] = plan_from_dict(json.loads(out))
                    if plans[engine].status in (Status.OPTIMAL, Status.INFEASIBLE):
                        return _finish(plans[engine], plans, started)
            time.sleep(0.02)
    finally:
        for p in procs.values():
            p.kill()
            p.wait()
    if not plans:
        raise RuntimeError("no engine of the portfolio returned a plan")
    return _finish(_best(plans), plans, started)


def _drain(stream: IO[str], into: list[str]) -> None:
    into.append(stream.read())


def _best(plans: dict[Engine, Plan]) -> Plan:
    with_plan = [p for p in plans.values() if p.objective is not None]
    if not with_plan:
        return next(iter(plans.values()))
    return min(with_plan, key=lambda p: p.objective if p.objective is not None else 0.0)


def _finish(winner: Plan, plans: dict[Engine, Plan], started: float) -> Plan:
    """The winner with the best bound of all, the portfolio in its solver block and the
    wall-clock time, as one new plan."""
    update: dict[str, object] = {"timings": {"total": time.perf_counter() - started}}
    bounds = [p.bound for p in plans.values() if p.bound is not None]
    if bounds and winner.objective is not None:
        bound = min(max(bounds), winner.objective)
        update["bound"] = bound
        if winner.status is Status.FEASIBLE and (
                winner.objective - bound <= 1e-6 * max(1.0, abs(winner.objective))):
            update["status"] = Status.OPTIMAL
    if winner.solver is not None:
        update["solver"] = {**winner.solver, "threads": max(2, len(plans)),
                            "portfolio": [e.value for e in ENGINES]}
    return winner.model_copy(update=update)
