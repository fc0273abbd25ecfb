"""Generalized assignment instances of Chu and Beasley's types C, D and E (minimisation),
in the SPEC form of `../shared/benchmarks/README.md`, at any size: the public `gap-large/`
stops at 20 agents x 200 jobs and 15 x 900, and held-out sets go up to 80 x 1,600.

    python benchmarks/gap_generate.py TYPE AGENTS JOBS [--seed 1] [-o FILE]
    broker bench --instances FILE --time-limit 60

Type C: hours a_ij uniform in [5, 25], costs c_ij uniform in [10, 50]; type D: a_ij
uniform in [1, 100], c_ij = 111 - a_ij + e_ij with e_ij uniform in [-10, 10] (costs
inversely correlated with hours, the hard type); type E: a_ij = 1 - 10 ln u_ij,
c_ij = 1000 / a_ij - 10 v_ij (u, v uniform in (0, 1]). Every type: capacity
b_i = 0.8 sum_j a_ij / m, integer parts (P.C. Chu and J.E. Beasley, "A genetic algorithm
for the generalised assignment problem", Computers & Operations Research 24, 1997). The
random numbers are Python's, so the instances are not OR-Library's own files of those
sizes; their optima are unknown, and `broker bench` measures against the run's bound.
"""

from __future__ import annotations

import argparse
import math
import random
from pathlib import Path
from typing import Any

from scenario_out import write

TYPES = ("c", "d", "e")


def generate(kind: str, agents: int, jobs: int, seed: int = 1) -> dict[str, Any]:
    """The scenario document of one instance (module docstring)."""
    if kind not in TYPES:
        raise ValueError(f"type must be one of {', '.join(TYPES)}, not {kind!r}")
    if agents < 1 or jobs < 1:
        raise ValueError("agents and jobs must be at least 1")
    rng = random.Random(seed)
    hours = [[0] * jobs for _ in range(agents)]
    cost = [[0] * jobs for _ in range(agents)]
    for i in range(agents):
        for j in range(jobs):
            if kind == "c":
                a, c = rng.randint(5, 25), rng.randint(10, 50)
            elif kind == "d":
                a = rng.randint(1, 100)
                c = 111 - a + rng.randint(-10, 10)
            else:
                a = int(1 - 10 * math.log(1.0 - rng.random()))
                c = int(1000 / a - 10 * (1.0 - rng.random()))
            hours[i][j], cost[i][j] = a, c
    capacity = [int(0.8 * sum(hours[i]) / agents) for i in range(agents)]
    return {
        "name": f"gap-{kind}{agents}x{jobs}-s{seed}",
        "horizon": {"periods": 1},
        "policy": {"unmet_penalty": 1e9},
        "locations": [{"id": "site"}],
        "workshops": [{"id": f"agent{i}", "location": "site",
                       "capacity": {"assembly": float(capacity[i])},
                       "rate": {"assembly": 0}} for i in range(agents)],
        "components": [{"id": f"job{j}", "weight_kg": 0, "offers_only": True,
                        "routing": [{"process": "assembly", "hours": 1}]}
                       for j in range(jobs)],
        "offers": [{"workshop": f"agent{i}", "component": f"job{j}", "step": 0,
                    "unit_price": float(cost[i][j]), "hours": float(hours[i][j])}
                   for i in range(agents) for j in range(jobs)],
        "requests": [{"id": f"R{j}", "component": f"job{j}", "quantity": 1, "due": 0}
                     for j in range(jobs)],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("type", choices=TYPES)
    ap.add_argument("agents", type=int)
    ap.add_argument("jobs", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-o", "--out", type=Path, help="file to write (default: stdout)")
    args = ap.parse_args(argv)
    return write(lambda: generate(args.type, args.agents, args.jobs, args.seed),
                 args.out, f"{args.agents} agents, {args.jobs} jobs")


if __name__ == "__main__":
    raise SystemExit(main())
