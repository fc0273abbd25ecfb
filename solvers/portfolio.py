"""Two engines at once, one per core: HiGHS and SCIP race on the same scenario.

Measured on the project's scenarios (docs/solver.md), neither engine wins everywhere: SCIP
proves the default scenario two to four times faster, HiGHS finds better plans where no
proof comes in time. With `threads >= 2` both run in child interpreters; the first proof
of optimality wins and the other is stopped. Under a time limit without a proof, the
better plan is kept, with the higher of the two proven bounds (each is a bound of the same
model). With one thread this module is not used, so a seeded single-threaded solve stays
reproducible byte for byte.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import replace
from typing import IO

from models.io import plan_from_dict, scenario_from_dict, scenario_to_dict
from models.plan import Plan, Status
from models.scenario import Scenario
from solvers.options import Engine, SolveOptions

ENGINES = (Engine.HIGHS, Engine.SCIP)


def solve_portfolio(sc: Scenario, options: SolveOptions) -> Plan:
    doc = json.dumps(scenario_to_dict(sc))
    procs: dict[Engine, subprocess.Popen[str]] = {}
    outputs: dict[Engine, list[str]] = {}
    readers: dict[Engine, threading.Thread] = {}
    for engine in ENGINES:
        child = replace(options, engine=engine, threads=1, progress=None)
        p = subprocess.Popen(
            [sys.executable, "-m", "solvers.portfolio", json.dumps(child.describe())],
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
    try:
        while procs:
            for engine, p in list(procs.items()):
                if p.poll() is None:
                    continue
                del procs[engine]
                readers[engine].join()
                out = "".join(outputs[engine])
                if p.returncode == 0 and out:
                    plans[engine] = plan_from_dict(json.loads(out))
                    if plans[engine].status in (Status.OPTIMAL, Status.INFEASIBLE):
                        return _finish(plans[engine], plans)
            time.sleep(0.02)
    finally:
        for p in procs.values():
            p.kill()
            p.wait()
    if not plans:
        raise RuntimeError("no engine of the portfolio returned a plan")
    return _finish(_best(plans), plans)


def _drain(stream: IO[str], into: list[str]) -> None:
    into.append(stream.read())


def _best(plans: dict[Engine, Plan]) -> Plan:
    with_plan = [p for p in plans.values() if p.objective is not None]
    if not with_plan:
        return next(iter(plans.values()))
    return min(with_plan, key=lambda p: p.objective if p.objective is not None else 0.0)


def _finish(winner: Plan, plans: dict[Engine, Plan]) -> Plan:
    bounds = [p.bound for p in plans.values() if p.bound is not None]
    if bounds and winner.objective is not None:
        bound = min(max(bounds), winner.objective)
        winner.bound = bound
        if winner.status is Status.FEASIBLE and (
                winner.objective - bound <= 1e-6 * max(1.0, abs(winner.objective))):
            winner.status = Status.OPTIMAL
    if winner.solver is not None:
        winner.solver = {**winner.solver, "threads": max(2, len(plans)),
                         "portfolio": [e.value for e in ENGINES]}
    return winner


def _main() -> None:
    from solvers.options import Formulation
    from solvers.pipeline import solve

    opts = json.loads(sys.argv[1])
    options = SolveOptions(time_limit=opts["time_limit"], seed=opts["seed"], threads=1,
                           engine=Engine(opts["engine"]), gap=opts["gap"],
                           formulation=Formulation(opts["formulation"]))
    sc = scenario_from_dict(json.loads(sys.stdin.read()))
    print(solve(sc, options).to_json())


if __name__ == "__main__":
    _main()
