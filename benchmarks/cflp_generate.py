"""Capacitated facility location instances of Cornuejols, Sridharan and Thizy's kind (the
generator behind the larger public sets, Avella and Boccia's among them), in the SPEC
form of `../shared/benchmarks/README.md`, at any size: the public `cflp-large/` stops at
100 sites x 1,000 customers.

    python benchmarks/cflp_generate.py SITES CUSTOMERS [--ratio 5] [--seed 1] [-o FILE]
    broker bench --instances FILE --time-limit 120

Sites and customers uniform in the unit square; demand d_j uniform in [5, 35]; capacity
s_i uniform in [10, 160], then scaled so that the sites hold `ratio` times the demand;
fixed cost f_i = U[0, 90] + U[100, 110] sqrt(s_i); serving all of customer j from site
i costs 10 d_j times their distance (G. Cornuejols, R. Sridharan and J.M. Thizy, "A
comparison of heuristics and relaxations for the capacitated plant location problem",
European Journal of Operational Research 50, 1991). Demand may be split, as in
`cflp-large/`. The random numbers are Python's: the optima are unknown, and `broker
bench` measures against the run's bound.
"""

from __future__ import annotations

import argparse
import math
import random
from pathlib import Path
from typing import Any

from scenario_out import write


def generate(sites: int, customers: int, ratio: float = 5.0, seed: int = 1) -> dict[str, Any]:
    """The scenario document of one instance (module docstring)."""
    if sites < 1 or customers < 1:
        raise ValueError("sites and customers must be at least 1")
    if not ratio >= 1:
        raise ValueError(f"ratio must be at least 1 (capacity over demand), not {ratio}")
    rng = random.Random(seed)
    site_at = [(rng.random(), rng.random()) for _ in range(sites)]
    cust_at = [(rng.random(), rng.random()) for _ in range(customers)]
    demand = [rng.randint(5, 35) for _ in range(customers)]
    raw = [rng.uniform(10, 160) for _ in range(sites)]
    scale = ratio * sum(demand) / sum(raw)
    # Whole units of capacity, rounded up so that the ratio holds.
    capacity = [math.ceil(s * scale) for s in raw]
    fixed = [round(rng.uniform(0, 90) + rng.uniform(100, 110) * math.sqrt(s), 3)
             for s in capacity]
    return {
        "name": f"cflp-{sites}x{customers}-r{ratio:g}-s{seed}",
        "horizon": {"periods": 1},
        "policy": {"unmet_penalty": 1e9},
        "locations": [{"id": "site"}],
        "workshops": [{"id": f"wh{i}", "location": "site",
                       "capacity": {"supply": float(capacity[i])}, "rate": {"supply": 0},
                       "engagement_cost": fixed[i]} for i in range(sites)],
        "components": [{"id": f"cust{j}", "weight_kg": 0, "offers_only": True,
                        "routing": [{"process": "supply", "hours": 1}]}
                       for j in range(customers)],
        # The cost per unit: 10 times the distance (the whole demand's cost over d_j).
        "offers": [{"workshop": f"wh{i}", "component": f"cust{j}", "step": 0,
                    "unit_price": round(10 * math.dist(site_at[i], cust_at[j]), 6)}
                   for i in range(sites) for j in range(customers)],
        "requests": [{"id": f"R{j}", "component": f"cust{j}", "quantity": demand[j],
                      "due": 0} for j in range(customers)],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sites", type=int)
    ap.add_argument("customers", type=int)
    ap.add_argument("--ratio", type=float, default=5.0,
                    help="capacity of all sites over all demand (default 5)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-o", "--out", type=Path, help="file to write (default: stdout)")
    args = ap.parse_args(argv)
    return write(lambda: generate(args.sites, args.customers, args.ratio, args.seed),
                 args.out, f"{args.sites} sites, {args.customers} customers")


if __name__ == "__main__":
    raise SystemExit(main())
