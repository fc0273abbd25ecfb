"""Proven lower bounds from LP relaxations with facility-location-strength links.

Each public `*_bound(sc, d, deadline, upper) -> float` is a bound provider: it returns a
proven lower bound on the optimum of the SPEC model, or -inf, by `deadline` (a
`time.perf_counter()` value). `upper` (a plan's cost, or None) is not needed by an LP.

- `full_lp_bound`: the LP of the whole model (`solvers.constraints.build`) with the disaggregated
  links of every fixed cost added where the compact model leaves them out.
- `grouped_lp_bound`: the LP of the one-period relaxation (`time_aggregate`, with the
  release-capacity rows of `add_release_capacity`) in which requests that differ only in
  quantity, due period and what a unit away costs are merged: requests with the same
  component, certifications, destination and release period are interchangeable in that
  relaxation, so one merged request carries their units (its columns are the sums of
  theirs) while each keeps its own import/unmet column. On the national generated
  instance 20,000 requests become 909 (component, step) groups and 27 M unit columns
  490,000. Merging loses only what is per request: the sourcing limits and floors
  (dropped) and the links `X[r,s,w] <= q_r * y`, which become
  `sum_r X[r,s,w] <= sum_r q_r * y`. (A minimum lot still holds for the sum: each
  member's units at a workshop are 0 or at least the lot.)
- `coarse_lp_bound`: the same with requests merged across release periods as well, each
  merged request released with its earliest member: 99 (component, step) groups on the
  national instance, solved in seconds.

Both add, for every fixed cost y (engagement of a workshop, tooling of a (workshop,
component, step)) and every (request, step, workshop) it covers, the strong
facility-location link `X[r,s,w] <= min(q_r, units that fit) * y`, which the compact model
(`solvers.model.COMPACT_ABOVE_X`) implies only in aggregate through `hours <= cap * y`: for
CFLP that is the difference between the weak and the strong LP.

The bound reported is the Lagrangian bound of the LP's duals
(`solvers.one_period.lagrangian_bound`), valid for any duals, so an inexact LP answer (a time
limit, first-order methods) still gives a proven bound; at an optimal basis it equals the
LP value.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from ortools.math_opt.python import mathopt

from models.derived import Derived
from models.scenario import Request, Scenario
from solvers.constraints import build
from solvers.lpmodel import ArrayModel, seconds, solve_proto
from solvers.model import Built
from solvers.one_period import add_release_capacity, duals_bound, time_aggregate

# Seconds kept before the deadline for reading the duals back and pricing the columns.
RESERVE = 0.5


@dataclass
class LpBound:
    """A bound and how it was reached."""

    bound: float
    value: float | None  # the LP's own optimal value, when solved to optimality
    columns: int
    rows: int
    links: int
    seconds: float
    x: np.ndarray | None = None
    # (request, step, workshop) of every member of a merged request whose columns the
    # solution uses (`grouped_lp`): where the neighbourhood search looks first.
    hints: set[tuple[str, int, str]] = field(default_factory=set)


def add_strong_links(b: Built, requests: list[Request]) -> int:
    """Add `X[r,s,w] <= min(q_r, ub) * y` for every fixed-cost binary y (engagement of w,
    tooling of (w, component, s)) and every (request, step, workshop) it covers, where that
    is tighter than what the model already says (`hours <= cap * y`, or the link `build`
    wrote). Valid for every plan: without y no unit, and no more units than the request
    has or its columns allow. Returns the number of rows added."""
    am = b.model
    quantity = {r.id: float(r.quantity) for r in requests}
    comp_of = {r.id: r.component for r in requests}
    by_key: dict[tuple[str, int, str], list[int]] = defaultdict(list)
    for (rid, s, wid, _t), col in b.x.items():
        by_key[(rid, s, wid)].append(col)
    ub = np.frombuffer(am.ub, dtype=np.float64)
    added = 0
    for key, cols in by_key.items():
        big = min(quantity[key[0]], float(ub[cols].sum()))
        for y in (b.eng.get(key[2]), b.tool.get((key[2], comp_of[key[0]], key[1]))):
            if y is None or big <= 0:
                continue
            am.row(cols + [y], [1.0] * len(cols) + [-big], ub=0.0)
            added += 1
    return added


def solve_lp(am: ArrayModel, deadline: float | None, algorithm: mathopt.LPAlgorithm,
             seed: int = 0) -> tuple[float, float | None, np.ndarray | None]:
    """(proven bound, LP value if optimal, primal x) of the LP relaxation of `am` by
    HiGHS, or (-inf, None, None) when no duals came back before `deadline`."""
    params = mathopt.SolveParameters(random_seed=seed, lp_algorithm=algorithm)
    if deadline is not None:
        left = deadline - time.perf_counter() - RESERVE
        if left <= 0.05:
            return -math.inf, None, None
        params.time_limit = seconds(left)
    ans = solve_proto(am, am.to_proto(relax=True), mathopt.SolverType.HIGHS, params)
    if ans.duals is None:
        return -math.inf, None, None
    return duals_bound(am, ans.duals)[0], (
        ans.primal_bound if ans.reason is mathopt.TerminationReason.OPTIMAL else None), ans.x


def merge_requests(sc: Scenario, by_release: bool = True
                   ) -> tuple[Scenario, dict[str, list[Request]]]:
    """The scenario with requests of the same component, certifications, destination and
    release merged into one (quantity summed, no sourcing limit, nothing away: its units
    left unmade are its members' import or unmet columns, added by `grouped_lp`), and the
    members of each merged request. Where a local-content policy prices imports apart
    from unmet units, requests are merged only with the same import and unmet costs and
    keep theirs, so that the policy row sees them as `build` writes it."""
    keep_away = sc.policy.min_local_content > 0
    groups: dict[tuple[object, ...], list[Request]] = defaultdict(list)
    for r in sc.requests:
        key: tuple[object, ...] = (r.component, tuple(sorted(r.requires)), r.destination,
                                   r.release if by_release else None)
        if keep_away:
            key += (sc.import_allowed(r), sc.import_unit_objective(r) if sc.import_allowed(r)
                    else 0.0, sc.unmet_penalty(r))
        groups[key].append(r)
    merged: list[Request] = []
    members: dict[str, list[Request]] = {}
    for i, rs in enumerate(groups.values()):
        first = rs[0]
        update: dict[str, object] = {
            "id": f"group-{i}", "quantity": sum(r.quantity for r in rs),
            # The earliest release: its window holds every member's.
            "release": min(r.release for r in rs),
            "max_suppliers_per_step": None, "min_suppliers_per_step": None}
        if not keep_away:
            update.update(allow_import=False, unmet_penalty=0.0)
        merged.append(first.model_copy(update=update))
        members[f"group-{i}"] = rs
    out = sc.model_copy(update={"requests": merged})
    out._idx = None  # the copied lookup cache would name the original requests
    return out, members


def grouped_model(sc: Scenario, by_release: bool = True
                  ) -> tuple[Built, Scenario, int, dict[str, list[Request]]]:
    """The one-period relaxation of the merged scenario (`merge_requests`), with release
    capacity and strong links, and each member's own away column; the number of rows
    added for links; the members of each merged request."""
    merged, members = merge_requests(sc, by_release)
    agg = time_aggregate(merged)
    ab = build(agg, Derived(agg))
    add_release_capacity(merged, Derived(merged), ab)
    am = ab.model
    links = add_strong_links(ab, merged.requests)
    if sc.policy.min_local_content <= 0:
        # Each member's units not made cost what that member's unit away costs (import or
        # unmet, whichever is cheaper: without a local-content policy nothing else tells
        # them apart). The merged request's own unmet column is closed.
        demand_row = _rows_of(am, list(ab.u.values()))
        for gid, rs in members.items():
            u = ab.u[gid]
            am.ub[u] = 0.0
            row = demand_row[u]
            for r in rs:
                v = am.var(0, r.quantity, cost=sc.away_unit_objective(r))
                am.a_row.append(row)
                am.a_col.append(v)
                am.a_val.append(1.0)
        am._frozen = None  # noqa: SLF001 - entries appended to existing rows
    return ab, merged, links, members


def _rows_of(am: ArrayModel, cols: list[int]) -> dict[int, int]:
    """The one row each of `cols` appears in."""
    rows = np.frombuffer(am.a_row, dtype=np.int32)
    acol = np.frombuffer(am.a_col, dtype=np.int32)
    want = np.zeros(am.num_vars, dtype=bool)
    want[cols] = True
    at = np.flatnonzero(want[acol])
    return {int(acol[i]): int(rows[i]) for i in at}


def grouped_lp(sc: Scenario, d: Derived, deadline: float | None,
               algorithm: mathopt.LPAlgorithm = mathopt.LPAlgorithm.DUAL_SIMPLEX,
               by_release: bool = True) -> LpBound:
    started = time.perf_counter()
    if deadline is not None and started >= deadline:
        # No time to solve it: building it alone took 2 s of a plan of 100,000 requests
        # that was already late.
        return LpBound(bound=-math.inf, value=None, columns=0, rows=0, links=0, seconds=0.0)
    ab, _merged, links, members = grouped_model(sc, by_release)
    am = ab.model
    bound, value, x = solve_lp(am, deadline, algorithm)
    hints: set[tuple[str, int, str]] = set()
    if x is not None:
        on = x > 1e-9
        for (gid, s, wid, _t), c in ab.x.items():
            if on[c]:
                hints.update((r.id, s, wid) for r in members[gid])
    return LpBound(bound=bound, value=value, columns=am.num_vars, rows=am.num_rows,
                   links=links, seconds=time.perf_counter() - started, x=x, hints=hints)


def grouped_lp_bound(sc: Scenario, d: Derived, deadline: float,
                     upper: float | None = None) -> float:
    """Bound provider: the grouped one-period LP (module docstring)."""
    return grouped_lp(sc, d, deadline).bound


def coarse_lp_bound(sc: Scenario, d: Derived, deadline: float,
                    upper: float | None = None) -> float:
    """Bound provider: the grouped one-period LP with requests merged across release
    periods too (each merged request released with its earliest member, so its window
    holds theirs). National generated instance: 85,737 columns, 1.8884e12 in 16 s, where
    merging by release gives 605,066 columns that dual simplex had not solved in 900 s;
    on large seed 1 both give 1.95458e11 (1.4 s against 29 s)."""
    return grouped_lp(sc, d, deadline, by_release=False).bound


def full_lp(sc: Scenario, d: Derived, deadline: float | None,
            algorithm: mathopt.LPAlgorithm = mathopt.LPAlgorithm.BARRIER) -> LpBound:
    started = time.perf_counter()
    b = build(sc, d)
    links = add_strong_links(b, sc.requests)
    am = b.model
    bound, value, x = solve_lp(am, deadline, algorithm)
    return LpBound(bound=bound, value=value, columns=am.num_vars, rows=am.num_rows,
                   links=links, seconds=time.perf_counter() - started, x=x)


def full_lp_bound(sc: Scenario, d: Derived, deadline: float,
                  upper: float | None = None) -> float:
    """Bound provider: the LP of the whole model with strong links (module docstring)."""
    return full_lp(sc, d, deadline).bound
