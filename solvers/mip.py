"""The exact model of SPEC sections 4 to 6, built as arrays and solved through MathOpt.

It is the SPEC model with three reductions that provably lose nothing:
- Shipments `g` and material deliveries `m` are aggregated by location pair: their cost
  depends only on the two locations, so any split among the workshops of one location is
  as good as any other; the rows are disaggregated after solving (`_shipments`).
- A step may only run in the window that precedence with lag leaves open: step s of r no
  earlier than release + s*lag and no later than T-1-(S-1-s)*lag.
- `x` only where the workshop has capacity for the step's process in that period; a
  capacity row only where the variables in it could exceed it.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.math_opt.python import mathopt

from models.derived import Derived
from models.scenario import Request, Scenario
from solvers.lpmodel import INF, Answer, ArrayModel, seconds, solve_proto
from solvers.options import Engine, ProgressEvent, SolveOptions


@dataclass
class Built:
    """The model and the maps from its columns and rows back to SPEC decisions."""

    model: ArrayModel
    x: dict[tuple[str, int, str, int], int] = field(default_factory=dict)
    G: dict[tuple[str, int, str, str], int] = field(default_factory=dict)
    M: dict[tuple[str, str, str], int] = field(default_factory=dict)  # center, location, mat
    z: dict[str, int] = field(default_factory=dict)
    u: dict[str, int] = field(default_factory=dict)
    # Requests whose consecutive steps are linked by totals only: transport between them is
    # free and every pair of their locations has a path, so flows are rebuilt afterwards.
    free_flow: set[tuple[str, int]] = field(default_factory=set)
    # Rows whose dual values price capacity and stock, and the binaries of the discrete
    # choices (engagement, tooling, sourcing), keyed as the plan would name them.
    cap_rows: dict[tuple[str, str, int], int] = field(default_factory=dict)
    stock_rows: dict[tuple[str, str], int] = field(default_factory=dict)
    eng: dict[str, int] = field(default_factory=dict)
    tool: dict[tuple[str, str, int], int] = field(default_factory=dict)
    src: dict[tuple[str, int, str], int] = field(default_factory=dict)
    # The node each workshop's flows and materials are aggregated at: its location, or
    # the workshop itself in the direct formulation; and the location of every node.
    node_of: dict[str, str] = field(default_factory=dict)
    node_loc: dict[str, str] = field(default_factory=dict)


@dataclass
class Raw:
    """A solver's answer in SPEC terms, before rows are written."""

    status: str
    bound: float | None
    solver_objective: float | None
    x: dict[tuple[str, int, str, int], int] = field(default_factory=dict)
    G: dict[tuple[str, int, str, str], int] = field(default_factory=dict)
    M: dict[tuple[str, str, str], float] = field(default_factory=dict)
    z: dict[str, int] = field(default_factory=dict)
    u: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def step_window(scenario: Scenario, r: Request, s: int, n_steps: int) -> range:
    lag = scenario.policy.step_lag_periods
    first = r.release + s * lag
    last = scenario.horizon.periods - 1 - (n_steps - 1 - s) * lag
    return range(first, last + 1)


def delivery_km(d: Derived, r: Request, workshop_loc: str) -> float | None:
    if r.destination is None:
        return 0.0
    return d.dist.km(workshop_loc, r.destination)


def final_eligible(d: Derived, r: Request, s: int, n_steps: int) -> list[str]:
    """Eligible workshops; for the final step, only those with a road to the destination
    (a unit that cannot be delivered is not delivered)."""
    ws = d.eligible[(r.id, s)]
    if s == n_steps - 1 and r.destination is not None:
        ws = [w for w in ws if delivery_km(d, r, d.location_of[w]) is not None]
    return ws


# Models with more unit columns x than this are written compactly. Per-period links
# (x[r,s,w,t] <= bound_t * y) tighten the LP a little, but on the generated medium instance
# they moved the root bound by 1e-5 while the LP took 25 s instead of 15; and precedence
# goes through cumulative columns. On small models both choices cost search time instead
# (the default scenario took 47-108 s instead of 13-24 s with cumulative columns).
COMPACT_ABOVE_X = 20_000


def build(scenario: Scenario, d: Derived, *, all_capacity_rows: bool = False,
          direct: bool = False) -> Built:
    """The model. `all_capacity_rows` keeps the capacity rows that variable bounds make
    redundant, so that their dual values can price capacity. `direct` builds the SPEC
    formulation as written, without the reductions and strong links (the baseline that
    benchmarks measure against)."""
    sc = scenario
    pol = sc.policy
    cpk = sc.transport.cost_per_kg_km
    T = sc.horizon.periods
    m = ArrayModel(sc.name)
    b = Built(model=m)
    for w in sc.workshops:
        b.node_of[w.id] = w.id if direct else w.location
        b.node_loc[b.node_of[w.id]] = w.location
    # Cost parts kept apart because the local-content policy needs them (column, coef).
    foreign: list[tuple[int, float]] = []
    total: list[tuple[int, float]] = []

    cap_terms: dict[tuple[str, str, int], list[tuple[float, int]]] = defaultdict(list)
    X: dict[tuple[str, int, str], list[int]] = defaultdict(list)
    X_ub: dict[tuple[str, int, str], int] = defaultdict(int)
    by_period: dict[tuple[str, int, int], list[int]] = defaultdict(list)
    mat_need: dict[tuple[str, str], list[tuple[float, int]]] = defaultdict(list)  # loc, mat
    tool_links: dict[tuple[str, str, int], list[tuple[str, int, str]]] = defaultdict(list)
    domestic_units: list[int] = []
    ws_of: dict[tuple[str, int], list[str]] = defaultdict(list)
    hours_of: dict[tuple[str, int, str], float] = {}
    workshop = {w.id: w for w in sc.workshops}
    request = {r.id: r for r in sc.requests}

    for r in sc.requests:
        comp = sc.component(r.component)
        n = len(comp.routing)
        due = sc.due(r)
        late = sc.late_penalty(r)
        for s, step in enumerate(comp.routing):
            for wid in final_eligible(d, r, s, n):
                w = workshop[wid]
                info = d.step_info(w, comp.id, s)
                unit = info.unit_cost
                if s == n - 1:
                    unit_transport = cpk * comp.weight_kg * (delivery_km(d, r, w.location) or 0.0)
                else:
                    unit_transport = 0.0
                window = range(r.release, T) if direct else step_window(sc, r, s, n)
                for t in window:
                    c = w.cap(step.process, t)
                    if info.hours > 0:
                        if c <= 0:
                            continue
                        # A whole unit needs its hours within the period.
                        # When pricing, capacity must bind in its row, not in this bound.
                        ub = r.quantity if all_capacity_rows or direct else min(
                            r.quantity, math.floor(c / info.hours + 1e-9))
                        if ub <= 0:
                            continue
                    else:
                        ub = r.quantity
                    tard = late * (t - due) if (s == n - 1 and t > due) else 0.0
                    v = m.var(0, ub, integer=True, cost=unit + unit_transport + tard)
                    b.x[(r.id, s, wid, t)] = v
                    if (r.id, s, wid) not in X:
                        ws_of[(r.id, s)].append(wid)
                    X[(r.id, s, wid)].append(v)
                    X_ub[(r.id, s, wid)] += ub
                    by_period[(r.id, s, t)].append(v)
                    if info.hours > 0:
                        cap_terms[(wid, step.process, t)].append((info.hours, v))
                    if unit + unit_transport:
                        total.append((v, unit + unit_transport))
                    if s == n - 1:
                        domestic_units.append(v)
                    if step.material is not None:
                        assert step.material_kg is not None
                        mat_need[(b.node_of[wid], step.material)].append((step.material_kg, v))
                hours_of[(r.id, s, wid)] = info.hours
                if info.tooling > 0 and (r.id, s, wid) in X:
                    tool_links[(wid, comp.id, s)].append((r.id, s, wid))

    keys_by_w: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
    for key in X:
        keys_by_w[key[2]].append(key)
    compact = len(b.x) > COMPACT_ABOVE_X
    period_links = not direct and not compact

    def big_m(key: tuple[str, int, str]) -> int:
        if direct:
            return request[key[0]].quantity
        return min(request[key[0]].quantity, X_ub[key])

    def link(key: tuple[str, int, str], y: int) -> None:
        """Units of one (request, step, workshop) only if binary y is 1: on the total, and
        per period with the period's own bound, which is tighter when capacity per period
        binds."""
        xs = X[key]
        m.row(xs + [y], [1.0] * len(xs) + [-float(big_m(key))], ub=0.0)
        if len(xs) > 1 and period_links:
            big = big_m(key)
            for v in xs:
                if m.ub[v] < big:
                    m.row([v, y], [1.0, -m.ub[v]], ub=0.0)

    # Engagement, once per workshop used at all: the binaries come first because they also
    # scale that workshop's capacity rows (cap * e), the strong facility-location form.
    eng: dict[str, int] = {}
    for (_rid, _s, wid) in X:
        if wid not in eng and workshop[wid].engagement_cost > 0:
            eng[wid] = m.var(0, 1, integer=True)

    # Capacity (5.2), only where it can bind or where it links a fixed cost.
    for (wid, proc, t), terms in cap_terms.items():
        cap = workshop[wid].cap(proc, t)
        cols = [v for _h, v in terms]
        hours = [h for h, _v in terms]
        if wid in eng and not direct:
            b.cap_rows[(wid, proc, t)] = m.row(cols + [eng[wid]], hours + [-cap], ub=0.0)
        elif all_capacity_rows or direct or sum(h * m.ub[v] for h, v in terms) > cap:
            b.cap_rows[(wid, proc, t)] = m.row(cols, hours, ub=cap)

    for r in sc.requests:
        comp = sc.component(r.component)
        n = len(comp.routing)
        steps_ws = [ws_of.get((r.id, s), []) for s in range(n)]
        # Flow between steps (5.3), aggregated by location pair.
        for s in range(n - 1):
            for col, coef in _add_flow(sc, d, b, r, s, steps_ws[s], steps_ws[s + 1], X,
                                       comp.weight_kg, direct):
                total.append((col, coef))
        # Precedence in time with lag (5.4).
        _add_precedence(m, r, n, T, pol.step_lag_periods, by_period, compact)
        # Demand (5.5), import and unmet.
        cols = [v for w in steps_ws[n - 1] for v in X[(r.id, n - 1, w)]]
        if sc.import_allowed(r):
            unit_imp = sc.import_unit_cost(r)
            z = m.var(0, r.quantity, integer=True,
                      cost=sc.import_unit_objective(r))
            b.z[r.id] = z
            total.append((z, unit_imp))
            foreign.append((z, unit_imp))
            cols.append(z)
        # u is integral whenever x and z are, so it need not be an integer variable.
        u = m.var(0, r.quantity, cost=sc.unmet_penalty(r))
        b.u[r.id] = u
        m.row(cols + [u], 1.0, r.quantity, r.quantity)
        # Sourcing (5.7).
        k = r.max_suppliers_per_step
        if k is not None:
            for s in range(n):
                if len(steps_ws[s]) > k:
                    used = []
                    for ws in steps_ws[s]:
                        y = m.var(0, 1, integer=True)
                        b.src[(r.id, s, ws)] = y
                        link((r.id, s, ws), y)
                        used.append(y)
                    m.row(used, 1.0, ub=k)

    # Tooling, once per (workshop, component, step) used by any request.
    for (wid, cid, s), keys in tool_links.items():
        w = workshop[wid]
        info = d.step_info(w, cid, s)
        y = m.var(0, 1, integer=True, cost=info.tooling)
        b.tool[(wid, cid, s)] = y
        total.append((y, info.tooling))
        per_period = len(keys) > 1 and info.hours > 0 and not direct
        # In a compact model the per-period rows below already force y = 1 for any unit.
        if not (compact and per_period):
            for key in keys:
                link(key, y)
        # All requests of the component together are limited by the period's capacity too.
        if per_period:
            proc = sc.component(cid).routing[s].process
            per_t: dict[int, list[int]] = defaultdict(list)
            for rid, _s, _w in keys:
                for t in step_window(sc, request[rid], s, len(sc.component(cid).routing)):
                    xc = b.x.get((rid, s, wid, t))
                    if xc is not None:
                        per_t[t].append(xc)
            for t, vs in per_t.items():
                top = min(sum(m.ub[v] for v in vs), math.floor(w.cap(proc, t) / info.hours
                                                               + 1e-9))
                m.row(vs + [y], [1.0] * len(vs) + [-float(top)], ub=0.0)

    b.eng = eng
    for wid, e in eng.items():
        for key in keys_by_w[wid]:
            # A step with hours is in a capacity row scaled by e, which forces e = 1 for
            # any unit: a compact model leaves out its own link (on the one-period
            # relaxation of the large instance these links were most of the rows).
            if not (compact and hours_of[key] > 0):
                link(key, e)
        f = workshop[wid].engagement_cost
        m.add_cost(e, f)
        total.append((e, f))

    # Materials (5.6), aggregated by the workshop's location.
    stock_use: dict[tuple[str, str], list[int]] = defaultdict(list)
    for (node, mat), need in mat_need.items():
        loc = b.node_loc[node]
        supply = []
        for center in sc.material_centers:
            st = center.materials.get(mat)
            if st is None:
                continue
            km = d.dist.km(center.location, loc)
            if km is None:
                continue
            # The stock bounds every delivery from the center: a finite bound that
            # Lagrangian bounds (solvers/sift.py) rely on; not when pricing, where the
            # stock must bind in its row for the row to carry its dual value.
            unit = st.price_per_kg + cpk * km
            v = m.var(0, INF if all_capacity_rows else st.stock_kg, cost=unit)
            b.M[(center.id, node, mat)] = v
            supply.append(v)
            stock_use[(center.id, mat)].append(v)
            total.append((v, unit))
            if not st.domestic:
                foreign.append((v, st.price_per_kg))
        m.row(supply + [v for _kg, v in need],
              [1.0] * len(supply) + [-kg for kg, _v in need], 0.0, 0.0)
    for (cid, mat), vs in stock_use.items():
        stock = sc.center(cid).materials[mat].stock_kg
        b.stock_rows[(cid, mat)] = m.row(vs, 1.0, ub=stock)

    # Policies (5.8).
    if pol.min_domestic_share > 0:
        m.row(domestic_units, 1.0, lb=pol.min_domestic_share * sc.total_quantity())
    if pol.min_local_content > 0:
        share = 1 - pol.min_local_content
        m.row([c for c, _ in foreign] + [c for c, _ in total],
              [k for _, k in foreign] + [-share * k for _, k in total], ub=0.0)
    return b


def _add_precedence(m: ArrayModel, r: Request, n: int, T: int, lag: int,
                    by_period: dict[tuple[str, int, int], list[int]], compact: bool) -> None:
    """Units of step s made by t are at most units of step s-1 made by t - lag.

    Written with the cumulative sums directly, or, when `compact`, with one cumulative
    column per step and period (an exact reformulation: each unit column then appears in
    one row instead of in every later period's row, which on the large generated instance
    is most of the matrix)."""
    if not compact:
        for s in range(1, n):
            here: list[int] = []
            prev: list[int] = []
            for t in range(T):
                here += by_period.get((r.id, s, t), [])
                if t - lag >= 0:
                    prev += by_period.get((r.id, s - 1, t - lag), [])
                # At the last period with no lag it is implied by equal totals.
                if lag == 0 and t == T - 1:
                    continue
                if here:
                    m.row(here + prev, [1.0] * len(here) + [-1.0] * len(prev), ub=0.0)
        return
    cum: list[list[int | None]] = []
    for s in range(n):
        cols: list[int | None] = []
        before: int | None = None
        for t in range(T):
            vs = by_period.get((r.id, s, t), [])
            if not vs:
                cols.append(before)
                continue
            col = m.var(0, r.quantity)
            prior = [before] if before is not None else []
            m.row([col] + prior + vs, [1.0] + [-1.0] * len(prior) + [-1.0] * len(vs), 0.0, 0.0)
            cols.append(col)
            before = col
        cum.append(cols)
    for s in range(1, n):
        for t in range(T):
            if lag == 0 and t == T - 1:
                continue
            here_c = cum[s][t]
            if here_c is None:
                continue
            prev_c = cum[s - 1][t - lag] if t - lag >= 0 else None
            if prev_c is None:
                m.row([here_c], 1.0, ub=0.0)
            else:
                m.row([here_c, prev_c], [1.0, -1.0], ub=0.0)


def _add_flow(sc: Scenario, d: Derived, b: Built, r: Request, s: int, ws_from: list[str],
              ws_to: list[str], X: dict[tuple[str, int, str], list[int]], weight: float,
              direct: bool) -> list[tuple[int, float]]:
    """Add the flow constraints between step s and s+1 of r; return their transport cost
    terms (column, cost), which are also put on the objective."""
    m = b.model
    cost_terms: list[tuple[int, float]] = []
    cpk = sc.transport.cost_per_kg_km
    node = b.node_of
    locs_from = sorted({node[w] for w in ws_from})
    locs_to = sorted({node[w] for w in ws_to})
    km = {(a, c): d.dist.km(b.node_loc[a], b.node_loc[c]) for a in locs_from for c in locs_to}
    out_x: dict[str, list[int]] = defaultdict(list)
    in_x: dict[str, list[int]] = defaultdict(list)
    for w in ws_from:
        out_x[node[w]] += X[(r.id, s, w)]
    for w in ws_to:
        in_x[node[w]] += X[(r.id, s + 1, w)]
    if not direct and all(v is not None for v in km.values()) and (cpk * weight == 0 or (
            len(locs_from) == 1 and locs_from == locs_to)):
        b.free_flow.add((r.id, s))
        outs = [v for a in locs_from for v in out_x[a]]
        ins = [v for c in locs_to for v in in_x[c]]
        if outs or ins:
            m.row(outs + ins, [1.0] * len(outs) + [-1.0] * len(ins), 0.0, 0.0)
        return cost_terms
    out_g: dict[str, list[int]] = defaultdict(list)
    in_g: dict[str, list[int]] = defaultdict(list)
    for (a, c), dist in km.items():
        if dist is None:
            continue
        cost = cpk * weight * dist
        g = m.var(0, r.quantity, integer=True, cost=cost)
        b.G[(r.id, s, a, c)] = g
        out_g[a].append(g)
        in_g[c].append(g)
        if cost:
            cost_terms.append((g, cost))
    for a in locs_from:
        m.row(out_g[a] + out_x[a], [1.0] * len(out_g[a]) + [-1.0] * len(out_x[a]), 0.0, 0.0)
    for c in locs_to:
        m.row(in_g[c] + in_x[c], [1.0] * len(in_g[c]) + [-1.0] * len(in_x[c]), 0.0, 0.0)
    return cost_terms


def parse_highs_progress(line: str) -> tuple[float | None, float | None] | None:
    """(incumbent, bound) from a line of HiGHS's branch-and-bound table, else None.

    Such a line reads `[src] proc inqueue leaves expl% bestbound bestsol gap ... time`.
    """
    tokens = line.split()
    if len(tokens) < 8 or not tokens[-1].endswith("s"):
        return None
    if tokens[0].isalpha():
        tokens = tokens[1:]
    try:
        pct = next(i for i, tok in enumerate(tokens[:5]) if tok.endswith("%"))
    except StopIteration:
        return None
    if not all(tok.isdigit() for tok in tokens[:pct]) or len(tokens) < pct + 3:
        return None

    def num(tok: str) -> float | None:
        try:
            v = float(tok)
        except ValueError:
            return None
        return v if math.isfinite(v) else None

    return num(tokens[pct + 2]), num(tokens[pct + 1])


_STATUS = {
    mathopt.TerminationReason.OPTIMAL: "optimal",
    mathopt.TerminationReason.FEASIBLE: "feasible",
    mathopt.TerminationReason.INFEASIBLE: "infeasible",
    mathopt.TerminationReason.NO_SOLUTION_FOUND: "no_solution",
}

_ENGINES = {Engine.HIGHS: mathopt.SolverType.HIGHS, Engine.SCIP: mathopt.SolverType.GSCIP}


def solve_model(b: Built, options: SolveOptions, started: float) -> Raw:
    params = mathopt.SolveParameters(
        random_seed=options.seed,
        relative_gap_tolerance=options.gap,
        absolute_gap_tolerance=1e-6,
    )
    if options.engine is not Engine.HIGHS:
        # HiGHS through MathOpt takes no thread count; its MIP search is serial anyway.
        params.threads = options.threads
    if options.time_limit is not None:
        left = options.time_limit - (time.perf_counter() - started)
        # Keep a slice of the budget for extracting and checking the plan.
        params.time_limit = seconds(left * 0.97 - 0.05)
    t0 = time.perf_counter()
    progress = options.progress
    if progress is not None:
        progress(ProgressEvent("search", t0 - started))
    ans = solve_proto(b.model, b.model.to_proto(), _ENGINES[options.engine], params,
                      highs_progress(options, started))
    raw = raw_from_answer(b, ans)
    raw.seconds["solve"] = time.perf_counter() - t0
    return raw


def highs_progress(options: SolveOptions, started: float,
                   bound: float | None = None) -> Callable[[list[str]], None] | None:
    """A HiGHS log callback that turns table lines into progress events; `bound`, when
    given, is reported instead of the engine's own (a restricted model's bound is not one
    of the full model)."""
    progress = options.progress
    if progress is None or options.engine is not Engine.HIGHS:
        return None

    def msg_cb(lines: list[str]) -> None:
        for line in lines:
            found = parse_highs_progress(line)
            if found is not None:
                inc, bd = found
                progress(ProgressEvent("search", time.perf_counter() - started, inc,
                                       bd if bound is None else bound))
    return msg_cb


def raw_from_answer(b: Built, ans: Answer) -> Raw:
    """The answer in SPEC terms; integer columns must come back integral."""
    status = _STATUS.get(ans.reason)
    if status is None:
        if ans.reason is mathopt.TerminationReason.INFEASIBLE_OR_UNBOUNDED:
            status = "infeasible"
        elif ans.has_solution:
            status = "feasible"
        else:
            status = "no_solution"
    raw = Raw(status=status, bound=None, solver_objective=None)
    if math.isfinite(ans.dual_bound):
        raw.bound = ans.dual_bound
    if status in ("infeasible", "no_solution") or ans.x is None:
        if status in ("optimal", "feasible"):
            raw.status = "no_solution"
        return raw
    vals = ans.x
    raw.solver_objective = float(np.dot(np.frombuffer(b.model.cost, dtype=np.float64), vals))
    integer = np.frombuffer(b.model.integer, dtype=np.int8).astype(bool)
    rounded = np.round(vals)
    bad = np.flatnonzero(integer & (np.abs(vals - rounded) > 1e-4))
    if len(bad):
        raise RuntimeError(f"solver returned fractional column {bad[0]} = {vals[bad[0]]}")

    def ints(cols: dict[Any, int]) -> dict[Any, int]:
        return {k: int(q) for k, c in cols.items() if (q := rounded[c]) > 0}

    raw.x = ints(b.x)
    raw.G = ints(b.G)
    raw.z = ints(b.z)
    raw.u = ints(b.u)
    raw.M = {k: float(vals[c]) for k, c in b.M.items() if vals[c] > 1e-9}
    return raw
