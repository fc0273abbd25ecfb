"""Repair after a disruption against a full re-plan of the same requests, in the same run
and on the same ledger (issue 16, item 5): a generated medium registry with 100 committed
requests, its busiest workshop dropped out (every process at 0 h) for its two busiest
consecutive periods.

    python benchmarks/repair_quality.py [--size medium] [--seed 1] [--committed 100]
                                        [--time-limit 30] [--db URL]

The repair is `Broker.disrupt(..., dry_run=True)`: the broken requests re-solved with
every other booking pinned, for the SPEC cost plus the change penalty per step-unit moved.
The full re-plan solves every committed request again from scratch in the registry after
the event, for the SPEC cost alone, with the same time limit. Both are compared with the
ledger before the event: step-units moved off their booked (workshop, period), production
rows changed (a booked row not kept as it was, or a new one), requests touched; and the
SPEC cost of the whole ledger, alone and plus the change penalty of its moves. Nothing is
booked. Without `--db` the ledger is built first (about a minute) in a temporary folder.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import models  # noqa: E402
from broker.ledger import Broker  # noqa: E402
from broker.ledger.disruption import Disruption, apply_event  # noqa: E402
from broker.service.bench import prepare  # noqa: E402
from models.check import check  # noqa: E402
from models.evaluate import recompute_cost  # noqa: E402
from models.plan import Plan  # noqa: E402
from solvers import SolveOptions, solve  # noqa: E402

Row = tuple[str, int, str, int]  # request, step, workshop, period


def units(plan: Plan, requests: set[str] | None = None) -> dict[Row, int]:
    out: dict[Row, int] = defaultdict(int)
    for p in plan.production:
        if requests is None or p.request in requests:
            out[(p.request, p.step, p.workshop, p.period)] += p.quantity
    return dict(out)


def moved_units(before: dict[Row, int], after: dict[Row, int]) -> int:
    """Step-units booked at a (workshop, period) that are no longer made there: the
    count the change penalty is paid on (broker/ledger/repair.py)."""
    return sum(max(0, q - after.get(k, 0)) for k, q in before.items())


def rows_changed(before: dict[Row, int], after: dict[Row, int]) -> int:
    """Production rows not kept as they were (removed or with another quantity), plus
    rows that are new."""
    return (sum(1 for k, q in before.items() if after.get(k) != q)
            + sum(1 for k in after if k not in before))


def touched(before: dict[Row, int], after: dict[Row, int]) -> int:
    keys = set(before) | set(after)
    return len({k[0] for k in keys if before.get(k) != after.get(k)})


def busiest(plan: Plan, sc: models.Scenario) -> tuple[str, tuple[int, int]]:
    """The workshop with the most booked hours, and its two consecutive periods with the
    most booked hours together."""
    from models.derived import Derived

    d = Derived(sc)
    ws = {w.id: w for w in sc.workshops}
    hours: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for p in plan.production:
        comp = sc.request(p.request).component
        hours[p.workshop][p.period] += p.quantity * d.step_info(
            ws[p.workshop], comp, p.step).hours
    wid = max(sorted(hours), key=lambda w: sum(hours[w].values()))
    n = sc.horizon.periods
    t = max(range(n - 1), key=lambda t: hours[wid][t] + hours[wid][t + 1])
    return wid, (t, t + 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="medium")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--committed", type=int, default=100)
    ap.add_argument("--time-limit", type=float, default=30.0,
                    help="seconds for the repair and for the full re-plan each")
    ap.add_argument("--db", help="a prepared ledger (default: built in a temporary file)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="repair-quality-") as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'ledger.db'}"
        if not args.db:
            t0 = time.perf_counter()
            prepare(url, args.size, args.seed, args.committed)
            print(f"ledger built in {time.perf_counter() - t0:.0f} s", flush=True)
        with Broker(url) as b:
            return compare(b, args.time_limit)


def compare(b: Broker, time_limit: float) -> int:
    ledger = b.export()
    before_sc, before_plan = ledger.scenario, ledger.plan
    wid, periods = busiest(before_plan, before_sc)
    event = Disruption.capacity(wid, None, periods, 0.0)
    committed = {r.id for r in before_sc.requests}
    print(f"{len(committed)} committed requests, {len(before_plan.production)} production "
          f"rows; event: {event.describe()}", flush=True)
    old = units(before_plan)

    res = b.disrupt(event, time_limit=time_limit, dry_run=True)
    repaired = dict(old)
    for k in [k for k in repaired if k[0] in set(res.freed)]:
        del repaired[k]
    repaired.update(units(res.plan))
    assert moved_units(old, repaired) == res.moved_units, "moved units counted alike"
    penalty = res.change_penalty

    # The full re-plan: every committed request from scratch, in the registry after the
    # event, SPEC cost only.
    registry = models.scenario_to_dict(b.registry())
    after_doc = apply_event(registry, event)
    after_doc["requests"] = models.scenario_to_dict(before_sc)["requests"]
    after_sc = models.scenario_from_dict(after_doc, "registry after the event")
    t0 = time.perf_counter()
    full = solve(after_sc, SolveOptions(time_limit=time_limit))
    full_s = time.perf_counter() - t0
    report = check(after_sc, full)
    if not report.ok:
        print(report.summary())
        return 1
    full_cost = math.fsum(recompute_cost(after_sc, full).values())
    full_units = units(full)

    rows: list[tuple[str, Any, Any]] = []
    rep_moved, full_moved = res.moved_units, moved_units(old, full_units)
    assert res.cost_after is not None and res.cost_before is not None
    rep_pen = res.cost_after + penalty * rep_moved
    full_pen = full_cost + penalty * full_moved
    rows.append(("step-units moved", rep_moved, full_moved))
    rows.append(("production rows changed", rows_changed(old, repaired),
                 rows_changed(old, full_units)))
    rows.append(("requests touched", touched(old, repaired), touched(old, full_units)))
    rows.append(("SPEC cost of the ledger", res.cost_after, full_cost))
    rows.append(("cost + change penalty", rep_pen, full_pen))
    rows.append(("seconds", res.seconds, full_s))
    print(f"change penalty {penalty:,.2f} per step-unit; ledger cost before the event "
          f"{res.cost_before:,.0f}; broken requests {len(res.broken)}, freed {len(res.freed)}, "
          f"rounds {res.rounds}; full re-plan status {full.status.value}")
    print(f"{'':<26} {'repair':>16} {'full re-plan':>16} {'ratio':>8}")
    for label, a, f in rows:
        ratio = f"{a / f:8.3f}" if f else "       -"
        fmt = "{:16,.0f}" if isinstance(a, int) or abs(a) >= 1000 else "{:16.2f}"
        print(f"{label:<26} {fmt.format(a)} {fmt.format(f)} {ratio}")
    print(f"repair cost within {100 * (res.cost_after / full_pen - 1):+.2f}% of the full "
          f"re-plan plus its change penalty; {100 * (res.cost_after / full_cost - 1):+.2f}% "
          "of its SPEC cost alone")
    return 0


if __name__ == "__main__":
    sys.exit(main())
