"""The exact model of SPEC sections 4 to 6, built with OR-Tools MathOpt.

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
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeAlias

from ortools.math_opt.python import mathopt

from models.derived import Derived
from models.scenario import Request, Scenario
from solvers.options import Engine, ProgressEvent, SolveOptions

Var: TypeAlias = mathopt.Variable


@dataclass
class Built:
    """The model and the maps from its variables back to SPEC decisions."""

    model: mathopt.Model
    x: dict[tuple[str, int, str, int], Var] = field(default_factory=dict)
    G: dict[tuple[str, int, str, str], Var] = field(default_factory=dict)
    M: dict[tuple[str, str, str], Var] = field(default_factory=dict)  # center, location, mat
    z: dict[str, Var] = field(default_factory=dict)
    u: dict[str, Var] = field(default_factory=dict)
    # Requests whose consecutive steps are linked by totals only: transport between them is
    # free and every pair of their locations has a path, so flows are rebuilt afterwards.
    free_flow: set[tuple[str, int]] = field(default_factory=set)
    # Rows whose dual values price capacity and stock, and the binaries of the discrete
    # choices (engagement, tooling, sourcing), keyed as the plan would name them.
    cap_rows: dict[tuple[str, str, int], mathopt.LinearConstraint] = field(default_factory=dict)
    stock_rows: dict[tuple[str, str], mathopt.LinearConstraint] = field(default_factory=dict)
    eng: dict[str, Var] = field(default_factory=dict)
    tool: dict[tuple[str, str, int], Var] = field(default_factory=dict)
    src: dict[tuple[str, int, str], Var] = field(default_factory=dict)
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
    m = mathopt.Model(name=sc.name)
    b = Built(model=m)
    for w in sc.workshops:
        b.node_of[w.id] = w.id if direct else w.location
        b.node_loc[b.node_of[w.id]] = w.location
    obj = mathopt.LinearExpression()
    # Cost parts kept apart because the local-content policy needs them.
    foreign = mathopt.LinearExpression()
    total = mathopt.LinearExpression()

    cap_terms: dict[tuple[str, str, int], list[tuple[float, Var]]] = defaultdict(list)
    X: dict[tuple[str, int, str], list[Var]] = defaultdict(list)
    X_ub: dict[tuple[str, int, str], int] = defaultdict(int)
    by_period: dict[tuple[str, int, int], list[Var]] = defaultdict(list)
    mat_need: dict[tuple[str, str], list[tuple[float, Var]]] = defaultdict(list)  # loc, mat
    tool_links: dict[tuple[str, str, int], list[tuple[str, int, str]]] = defaultdict(list)
    domestic_units = mathopt.LinearExpression()
    ws_of: dict[tuple[str, int], list[str]] = defaultdict(list)

    for r in sc.requests:
        comp = sc.component(r.component)
        n = len(comp.routing)
        due = sc.due(r)
        late = sc.late_penalty(r)
        for s, step in enumerate(comp.routing):
            for wid in final_eligible(d, r, s, n):
                w = sc.workshop(wid)
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
                    v = m.add_integer_variable(lb=0, ub=ub, name=f"x[{r.id},{s},{wid},{t}]")
                    b.x[(r.id, s, wid, t)] = v
                    if (r.id, s, wid) not in X:
                        ws_of[(r.id, s)].append(wid)
                    X[(r.id, s, wid)].append(v)
                    X_ub[(r.id, s, wid)] += ub
                    by_period[(r.id, s, t)].append(v)
                    if info.hours > 0:
                        cap_terms[(wid, step.process, t)].append((info.hours, v))
                    tard = late * (t - due) if (s == n - 1 and t > due) else 0.0
                    obj += (unit + unit_transport + tard) * v
                    total += (unit + unit_transport) * v
                    if s == n - 1:
                        domestic_units += v
                    if step.material is not None:
                        assert step.material_kg is not None
                        mat_need[(b.node_of[wid], step.material)].append((step.material_kg, v))
                if info.tooling > 0 and (r.id, s, wid) in X:
                    tool_links[(wid, comp.id, s)].append((r.id, s, wid))

    keys_by_w: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
    for key in X:
        keys_by_w[key[2]].append(key)

    def xsum(key: tuple[str, int, str]) -> mathopt.LinearExpression:
        return mathopt.fast_sum(X[key])

    def big_m(key: tuple[str, int, str]) -> int:
        if direct:
            return sc.request(key[0]).quantity
        return min(sc.request(key[0]).quantity, X_ub[key])

    # Engagement, once per workshop used at all: the binaries come first because they also
    # scale that workshop's capacity rows (cap * e), the strong facility-location form.
    eng: dict[str, Var] = {}
    for (_rid, _s, wid) in X:
        if wid not in eng and sc.workshop(wid).engagement_cost > 0:
            eng[wid] = m.add_binary_variable(name=f"eng[{wid}]")

    # Capacity (5.2), only where it can bind or where it links a fixed cost.
    for (wid, proc, t), terms in cap_terms.items():
        cap = sc.workshop(wid).cap(proc, t)
        lhs = mathopt.fast_sum(h * v for h, v in terms)
        if wid in eng and not direct:
            b.cap_rows[(wid, proc, t)] = m.add_linear_constraint(
                lhs - cap * eng[wid] <= 0, name=f"cap[{wid},{proc},{t}]")
        elif all_capacity_rows or direct or sum(h * v.upper_bound for h, v in terms) > cap:
            b.cap_rows[(wid, proc, t)] = m.add_linear_constraint(
                lhs <= cap, name=f"cap[{wid},{proc},{t}]")

    for r in sc.requests:
        comp = sc.component(r.component)
        n = len(comp.routing)
        steps_ws = [ws_of.get((r.id, s), []) for s in range(n)]
        # Flow between steps (5.3), aggregated by location pair.
        for s in range(n - 1):
            flow_cost = _add_flow(sc, d, b, r, s, steps_ws[s], steps_ws[s + 1], xsum,
                                  comp.weight_kg, direct)
            obj += flow_cost
            total += flow_cost
        # Precedence in time with lag (5.4).
        lag = pol.step_lag_periods
        for s in range(1, n):
            cum_here = mathopt.LinearExpression()
            cum_prev = mathopt.LinearExpression()
            for t in range(T):
                cum_here += mathopt.fast_sum(by_period.get((r.id, s, t), []))
                if t - lag >= 0:
                    cum_prev += mathopt.fast_sum(by_period.get((r.id, s - 1, t - lag), []))
                # At the last period with no lag it is implied by equal totals.
                if lag == 0 and t == T - 1:
                    continue
                if any(by_period.get((r.id, s, tt)) for tt in range(t + 1)):
                    m.add_linear_constraint(cum_here <= cum_prev, name=f"prec[{r.id},{s},{t}]")
        # Demand (5.5), import and unmet.
        final = mathopt.fast_sum(v for w in steps_ws[n - 1] for v in X[(r.id, n - 1, w)])
        lhs = mathopt.LinearExpression() + final
        if sc.import_allowed(r):
            z = m.add_integer_variable(lb=0, ub=r.quantity, name=f"z[{r.id}]")
            b.z[r.id] = z
            unit_imp = sc.import_unit_cost(r)
            obj += (unit_imp + sc.late_penalty(r) * sc.import_late_periods(r)) * z
            total += unit_imp * z
            foreign += unit_imp * z
            lhs += z
        # u is integral whenever x and z are, so it need not be an integer variable.
        u = m.add_variable(lb=0, ub=r.quantity, name=f"u[{r.id}]")
        b.u[r.id] = u
        obj += sc.unmet_penalty(r) * u
        m.add_linear_constraint(lhs + u == r.quantity, name=f"demand[{r.id}]")
        # Sourcing (5.7).
        k = r.max_suppliers_per_step
        if k is not None:
            for s in range(n):
                if len(steps_ws[s]) > k:
                    used = []
                    for ws in steps_ws[s]:
                        y = m.add_binary_variable(name=f"src[{r.id},{s},{ws}]")
                        b.src[(r.id, s, ws)] = y
                        _link(m, X[(r.id, s, ws)], big_m((r.id, s, ws)), y, direct)
                        used.append(y)
                    m.add_linear_constraint(mathopt.fast_sum(used) <= k, name=f"src[{r.id},{s}]")

    # Tooling, once per (workshop, component, step) used by any request.
    for (wid, cid, s), keys in tool_links.items():
        w = sc.workshop(wid)
        info = d.step_info(w, cid, s)
        y = m.add_binary_variable(name=f"tool[{wid},{cid},{s}]")
        b.tool[(wid, cid, s)] = y
        for key in keys:
            _link(m, X[key], big_m(key), y, direct)
        # All requests of the component together are limited by the period's capacity too.
        if len(keys) > 1 and info.hours > 0 and not direct:
            proc = sc.component(cid).routing[s].process
            per_t: dict[int, list[Var]] = defaultdict(list)
            for rid, _s, _w in keys:
                for t in step_window(sc, sc.request(rid), s, len(sc.component(cid).routing)):
                    v = b.x.get((rid, s, wid, t))
                    if v is not None:
                        per_t[t].append(v)
            for t, vs in per_t.items():
                ub = min(sum(v.upper_bound for v in vs), math.floor(w.cap(proc, t) / info.hours
                                                                    + 1e-9))
                m.add_linear_constraint(mathopt.fast_sum(vs) - ub * y <= 0)
        obj += info.tooling * y
        total += info.tooling * y

    b.eng = eng
    for wid, e in eng.items():
        for key in keys_by_w[wid]:
            _link(m, X[key], big_m(key), e, direct)
        f = sc.workshop(wid).engagement_cost
        obj += f * e
        total += f * e

    # Materials (5.6), aggregated by the workshop's location.
    stock_use: dict[tuple[str, str], list[Var]] = defaultdict(list)
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
            v = m.add_variable(lb=0, name=f"m[{center.id},{node},{mat}]")
            b.M[(center.id, node, mat)] = v
            supply.append(v)
            stock_use[(center.id, mat)].append(v)
            unit = st.price_per_kg + cpk * km
            obj += unit * v
            total += unit * v
            if not st.domestic:
                foreign += st.price_per_kg * v
        m.add_linear_constraint(
            mathopt.fast_sum(supply) - mathopt.fast_sum(kg * v for kg, v in need) == 0,
            name=f"mat[{node},{mat}]",
        )
    for (cid, mat), vs in stock_use.items():
        stock = sc.center(cid).materials[mat].stock_kg
        b.stock_rows[(cid, mat)] = m.add_linear_constraint(
            mathopt.fast_sum(vs) <= stock, name=f"stock[{cid},{mat}]")

    # Policies (5.8).
    if pol.min_domestic_share > 0:
        m.add_linear_constraint(
            domestic_units >= pol.min_domestic_share * sc.total_quantity(), name="domestic_share"
        )
    if pol.min_local_content > 0:
        m.add_linear_constraint(foreign - (1 - pol.min_local_content) * total <= 0,
                                name="local_content")
    m.minimize(obj)
    return b


def _link(m: mathopt.Model, xs: list[Var], big: int, y: Var, direct: bool = False) -> None:
    """Units of one (request, step, workshop) only if binary y is 1: on the total, and per
    period with the period's own bound, which is tighter when capacity per period binds."""
    m.add_linear_constraint(mathopt.fast_sum(xs) - big * y <= 0)
    if len(xs) > 1 and not direct:
        for v in xs:
            if v.upper_bound < big:
                m.add_linear_constraint(v - v.upper_bound * y <= 0)


def _add_flow(sc: Scenario, d: Derived, b: Built, r: Request, s: int, ws_from: list[str],
              ws_to: list[str], xsum: Any, weight: float, direct: bool
              ) -> mathopt.LinearExpression:
    """Add the flow constraints between step s and s+1 of r; return their transport cost."""
    m = b.model
    cost_expr = mathopt.LinearExpression()
    cpk = sc.transport.cost_per_kg_km
    node = b.node_of
    locs_from = sorted({node[w] for w in ws_from})
    locs_to = sorted({node[w] for w in ws_to})
    km = {(a, c): d.dist.km(b.node_loc[a], b.node_loc[c]) for a in locs_from for c in locs_to}
    out_x = {a: mathopt.fast_sum(xsum((r.id, s, w)) for w in ws_from if node[w] == a)
             for a in locs_from}
    in_x = {c: mathopt.fast_sum(xsum((r.id, s + 1, w)) for w in ws_to if node[w] == c)
            for c in locs_to}
    if not direct and all(v is not None for v in km.values()) and (cpk * weight == 0 or (
            len(locs_from) == 1 and locs_from == locs_to)):
        b.free_flow.add((r.id, s))
        if locs_from or locs_to:
            m.add_linear_constraint(
                mathopt.fast_sum(out_x.values()) - mathopt.fast_sum(in_x.values()) == 0,
                name=f"flow[{r.id},{s}]",
            )
        return cost_expr
    out_g: dict[str, list[Var]] = defaultdict(list)
    in_g: dict[str, list[Var]] = defaultdict(list)
    for (a, c), dist in km.items():
        if dist is None:
            continue
        g = m.add_integer_variable(lb=0, ub=r.quantity, name=f"g[{r.id},{s},{a},{c}]")
        b.G[(r.id, s, a, c)] = g
        out_g[a].append(g)
        in_g[c].append(g)
        cost = cpk * weight * dist
        if cost:
            cost_expr += cost * g
    # `- x == 0` rather than `== x`: one side may be an empty sum, which is a plain 0.
    for a in locs_from:
        m.add_linear_constraint(mathopt.fast_sum(out_g[a]) - out_x[a] == 0)
    for c in locs_to:
        m.add_linear_constraint(mathopt.fast_sum(in_g[c]) - in_x[c] == 0)
    return cost_expr


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
        params.time_limit = timedelta(seconds=max(0.05, left * 0.97 - 0.05))
    t0 = time.perf_counter()
    progress = options.progress
    msg_cb = None
    if progress is not None:
        progress(ProgressEvent("search", t0 - started))
        if options.engine is Engine.HIGHS:
            def msg_cb(lines: list[str]) -> None:
                for line in lines:
                    found = parse_highs_progress(line)
                    if found is not None:
                        progress(ProgressEvent("search", time.perf_counter() - started, *found))
    result = mathopt.solve(b.model, _ENGINES[options.engine], params=params, msg_cb=msg_cb)
    t1 = time.perf_counter()
    reason = result.termination.reason
    status = _STATUS.get(reason)
    if status is None:
        if reason in (mathopt.TerminationReason.INFEASIBLE_OR_UNBOUNDED,):
            status = "infeasible"
        elif result.has_primal_feasible_solution():
            status = "feasible"
        else:
            status = "no_solution"
    if status == "optimal" and not result.has_primal_feasible_solution():
        status = "no_solution"
    raw = Raw(status=status, bound=None, solver_objective=None)
    raw.seconds["solve"] = t1 - t0
    bounds = result.termination.objective_bounds
    if math.isfinite(bounds.dual_bound):
        raw.bound = bounds.dual_bound
    if status in ("infeasible", "no_solution") or not result.has_primal_feasible_solution():
        if status in ("optimal", "feasible"):
            raw.status = "no_solution"
        return raw
    raw.solver_objective = result.objective_value()
    vals = result.variable_values()

    def as_int(v: Var) -> int:
        val = vals[v]
        iv = round(val)
        if abs(val - iv) > 1e-4:
            raise RuntimeError(f"solver returned fractional {v.name} = {val}")
        return int(iv)

    raw.x = {k: q for k, v in b.x.items() if (q := as_int(v)) > 0}
    raw.G = {k: q for k, v in b.G.items() if (q := as_int(v)) > 0}
    raw.z = {k: q for k, v in b.z.items() if (q := as_int(v)) > 0}
    raw.u = {k: q for k, v in b.u.items() if (q := as_int(v)) > 0}
    raw.M = {k: vals[v] for k, v in b.M.items() if vals[v] > 1e-9}
    return raw
