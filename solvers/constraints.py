"""The SPEC model (sections 4 to 6) written one constraint family at a time.

`build` calls the families in a fixed order (which fixes the order of columns and rows,
and so keeps a seeded solve reproducible); each family reads and extends one `Context`:
the model under construction, the maps back to SPEC decisions (`Built`) and the indexes
that later families need (the unit columns per (request, step, workshop), the hours in
every capacity row, the cost parts that the local-content policy weighs).

Reductions that provably lose nothing (docs/solver.md):
- Shipments `g` and material deliveries `m` are aggregated by location pair: their cost
  depends only on the two locations, so any split among the workshops of one location is
  as good as any other; the rows are disaggregated after solving (solvers/extract.py).
- A step may only run in the window that precedence with lag leaves open: step s of r no
  earlier than release + s*lag and no later than T-1-(S-1-s)*lag.
- `x` only where the workshop has capacity for the step's process in that period; a
  capacity row only where the variables in it could exceed it.

The inclusive-supply rules of SPEC 8.2-8.5 (minimum lots, sourcing floors, spread,
regional shares) are families of their own, added only where a field binds.

`direct=True` writes the SPEC formulation as written instead (the benchmarks' baseline).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from models.derived import Derived
from models.scenario import Request, Scenario, Workshop
from solvers.lpmodel import INF, ArrayModel
from solvers.model import COMPACT_ABOVE_X, Built, delivery_km, final_eligible, step_window

Triple = tuple[str, int, str]


@dataclass
class Context:
    """The model under construction and what its families share."""

    sc: Scenario
    d: Derived
    direct: bool
    # Keep capacity rows that variable bounds make redundant, so that their duals price it.
    all_capacity_rows: bool
    m: ArrayModel
    b: Built
    workshop: dict[str, Workshop]
    request: dict[str, Request]
    # Cost parts kept apart because the local-content policy needs them (column, coef).
    foreign: list[tuple[int, float]] = field(default_factory=list)
    total: list[tuple[int, float]] = field(default_factory=list)
    cap_terms: dict[tuple[str, str, int], list[tuple[float, int]]] = field(
        default_factory=lambda: defaultdict(list))
    # Unit columns per (request, step, workshop), and the sum of their bounds.
    X: dict[Triple, list[int]] = field(default_factory=lambda: defaultdict(list))
    X_ub: dict[Triple, int] = field(default_factory=lambda: defaultdict(int))
    by_period: dict[tuple[str, int, int], list[int]] = field(
        default_factory=lambda: defaultdict(list))
    mat_need: dict[tuple[str, str], list[tuple[float, int]]] = field(
        default_factory=lambda: defaultdict(list))  # (node, material) -> (kg, column)
    tool_links: dict[tuple[str, str, int], list[Triple]] = field(
        default_factory=lambda: defaultdict(list))
    domestic_units: list[int] = field(default_factory=list)
    ws_of: dict[tuple[str, int], list[str]] = field(default_factory=lambda: defaultdict(list))
    hours_of: dict[Triple, float] = field(default_factory=dict)
    compact: bool = False

    @property
    def period_links(self) -> bool:
        return not self.direct and not self.compact

    def n_steps(self, r: Request) -> int:
        return len(self.sc.component(r.component).routing)

    def big_m(self, key: Triple) -> int:
        if self.direct:
            return self.request[key[0]].quantity
        return min(self.request[key[0]].quantity, self.X_ub[key])

    def link(self, key: Triple, y: int) -> None:
        """Units of one (request, step, workshop) only if binary y is 1: on the total, and
        per period with the period's own bound, which is tighter when capacity per period
        binds."""
        m = self.m
        xs = self.X[key]
        m.row(xs + [y], [1.0] * len(xs) + [-float(self.big_m(key))], ub=0.0)
        if len(xs) > 1 and self.period_links:
            big = self.big_m(key)
            for v in xs:
                if m.ub[v] < big:
                    m.row([v, y], [1.0, -m.ub[v]], ub=0.0)


def build(scenario: Scenario, d: Derived, *, all_capacity_rows: bool = False,
          direct: bool = False) -> Built:
    """The model. `all_capacity_rows` keeps the capacity rows that variable bounds make
    redundant, so that their dual values can price capacity. `direct` builds the SPEC
    formulation as written, without the reductions and strong links (the baseline that
    benchmarks measure against)."""
    sc = scenario
    m = ArrayModel(sc.name)
    ctx = Context(sc=sc, d=d, direct=direct, all_capacity_rows=all_capacity_rows, m=m,
                  b=Built(model=m), workshop={w.id: w for w in sc.workshops},
                  request={r.id: r for r in sc.requests})
    for w in sc.workshops:
        ctx.b.node_of[w.id] = w.id if direct else w.location
        ctx.b.node_loc[ctx.b.node_of[w.id]] = w.location
    ctx.b.component_of = {r.id: r.component for r in sc.requests}
    add_unit_columns(ctx)
    add_engagement_columns(ctx)
    add_capacity(ctx)
    for r in sc.requests:
        add_flow(ctx, r)
        add_precedence(ctx, r)
        add_demand(ctx, r)
        add_sourcing(ctx, r)
    add_tooling(ctx)
    add_engagement_links(ctx)
    add_materials(ctx)
    add_policies(ctx)
    add_lots_and_floors(ctx)
    add_spread_and_regions(ctx)
    return ctx.b


def add_unit_columns(ctx: Context) -> None:
    """Eligibility (5.1): a unit column x[r,s,w,t] for every eligible workshop and every
    period of the step's window in which it has capacity, bounded by the whole units whose
    hours fit in the period; its cost is the unit cost, the delivery leg after the final
    step and the final step's lateness."""
    sc, d, m, b = ctx.sc, ctx.d, ctx.m, ctx.b
    cpk = sc.transport.cost_per_kg_km
    T = sc.horizon.periods
    for r in sc.requests:
        comp = sc.component(r.component)
        n = len(comp.routing)
        due = sc.due(r)
        late = sc.late_penalty(r)
        for s, step in enumerate(comp.routing):
            for wid in final_eligible(d, r, s, n):
                w = ctx.workshop[wid]
                info = d.step_info(w, comp.id, s)
                unit = info.unit_cost
                if s == n - 1:
                    unit_transport = cpk * comp.weight_kg * (delivery_km(d, r, w.location) or 0.0)
                else:
                    unit_transport = 0.0
                window = range(r.release, T) if ctx.direct else step_window(sc, r, s, n)
                for t in window:
                    c = w.cap(step.process, t)
                    if info.hours > 0:
                        if c <= 0:
                            continue
                        # A whole unit needs its hours within the period.
                        # When pricing, capacity must bind in its row, not in this bound.
                        ub = r.quantity if ctx.all_capacity_rows or ctx.direct else min(
                            r.quantity, math.floor(c / info.hours + 1e-9))
                        if ub <= 0:
                            continue
                    else:
                        ub = r.quantity
                    tard = late * (t - due) if (s == n - 1 and t > due) else 0.0
                    v = m.var(0, ub, integer=True, cost=unit + unit_transport + tard)
                    b.x[(r.id, s, wid, t)] = v
                    if (r.id, s, wid) not in ctx.X:
                        ctx.ws_of[(r.id, s)].append(wid)
                    ctx.X[(r.id, s, wid)].append(v)
                    ctx.X_ub[(r.id, s, wid)] += ub
                    ctx.by_period[(r.id, s, t)].append(v)
                    if info.hours > 0:
                        ctx.cap_terms[(wid, step.process, t)].append((info.hours, v))
                    if unit + unit_transport:
                        ctx.total.append((v, unit + unit_transport))
                    if s == n - 1:
                        ctx.domestic_units.append(v)
                    if step.material is not None:
                        assert step.material_kg is not None
                        ctx.mat_need[(b.node_of[wid], step.material)].append(
                            (step.material_kg, v))
                ctx.hours_of[(r.id, s, wid)] = info.hours
                if info.tooling > 0 and (r.id, s, wid) in ctx.X:
                    ctx.tool_links[(wid, comp.id, s)].append((r.id, s, wid))
    ctx.compact = len(b.x) > COMPACT_ABOVE_X


def add_engagement_columns(ctx: Context) -> None:
    """Engagement binaries, one per workshop with a fee that has a unit column. They come
    before capacity because they also scale that workshop's capacity rows (cap * e), the
    strong facility-location form; their links and cost follow in `add_engagement_links`."""
    for (_rid, _s, wid) in ctx.X:
        if wid not in ctx.b.eng and ctx.workshop[wid].engagement_cost > 0:
            ctx.b.eng[wid] = ctx.m.var(0, 1, integer=True)


def add_capacity(ctx: Context) -> None:
    """Capacity (5.2), only where it can bind or where it links a fixed cost."""
    m, b = ctx.m, ctx.b
    for (wid, proc, t), terms in ctx.cap_terms.items():
        cap = ctx.workshop[wid].cap(proc, t)
        cols = [v for _h, v in terms]
        hours = [h for h, _v in terms]
        if wid in b.eng and not ctx.direct:
            b.cap_rows[(wid, proc, t)] = m.row(cols + [b.eng[wid]], hours + [-cap], ub=0.0)
        elif ctx.all_capacity_rows or ctx.direct or sum(h * m.ub[v] for h, v in terms) > cap:
            b.cap_rows[(wid, proc, t)] = m.row(cols, hours, ub=cap)


def add_flow(ctx: Context, r: Request) -> None:
    """Flow between consecutive steps (5.3), aggregated by location pair: shipment columns
    whose transport cost goes on the objective, or, where transport between the steps is
    free and every pair of their locations has a path, equal totals only."""
    sc, d, m, b = ctx.sc, ctx.d, ctx.m, ctx.b
    comp = sc.component(r.component)
    cpk = sc.transport.cost_per_kg_km
    node = b.node_of
    for s in range(len(comp.routing) - 1):
        ws_from = ctx.ws_of.get((r.id, s), [])
        ws_to = ctx.ws_of.get((r.id, s + 1), [])
        locs_from = sorted({node[w] for w in ws_from})
        locs_to = sorted({node[w] for w in ws_to})
        km = {(a, c): d.dist.km(b.node_loc[a], b.node_loc[c])
              for a in locs_from for c in locs_to}
        out_x: dict[str, list[int]] = defaultdict(list)
        in_x: dict[str, list[int]] = defaultdict(list)
        for w in ws_from:
            out_x[node[w]] += ctx.X[(r.id, s, w)]
        for w in ws_to:
            in_x[node[w]] += ctx.X[(r.id, s + 1, w)]
        if not ctx.direct and all(v is not None for v in km.values()) and (
                cpk * comp.weight_kg == 0 or (len(locs_from) == 1 and locs_from == locs_to)):
            b.free_flow.add((r.id, s))
            outs = [v for a in locs_from for v in out_x[a]]
            ins = [v for c in locs_to for v in in_x[c]]
            if outs or ins:
                m.row(outs + ins, [1.0] * len(outs) + [-1.0] * len(ins), 0.0, 0.0)
            continue
        out_g: dict[str, list[int]] = defaultdict(list)
        in_g: dict[str, list[int]] = defaultdict(list)
        for (a, c), dist in km.items():
            if dist is None:
                continue
            cost = cpk * comp.weight_kg * dist
            g = m.var(0, r.quantity, integer=True, cost=cost)
            b.G[(r.id, s, a, c)] = g
            out_g[a].append(g)
            in_g[c].append(g)
            if cost:
                ctx.total.append((g, cost))
        for a in locs_from:
            m.row(out_g[a] + out_x[a], [1.0] * len(out_g[a]) + [-1.0] * len(out_x[a]),
                  0.0, 0.0)
        for c in locs_to:
            m.row(in_g[c] + in_x[c], [1.0] * len(in_g[c]) + [-1.0] * len(in_x[c]), 0.0, 0.0)


def add_precedence(ctx: Context, r: Request) -> None:
    """Precedence in time with lag (5.4): units of step s made by t are at most units of
    step s-1 made by t - lag.

    Written with the cumulative sums directly, or, in a compact model, with one cumulative
    column per step and period (an exact reformulation: each unit column then appears in
    one row instead of in every later period's row, which on the large generated instance
    is most of the matrix)."""
    m = ctx.m
    n = ctx.n_steps(r)
    T = ctx.sc.horizon.periods
    lag = ctx.sc.policy.step_lag_periods
    by_period = ctx.by_period
    if not ctx.compact:
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
            ctx.b.cum[(r.id, s, t)] = col
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


def add_demand(ctx: Context, r: Request) -> None:
    """Demand (5.5): units delivered, imported and unmet add up to the quantity."""
    sc, m, b = ctx.sc, ctx.m, ctx.b
    n = ctx.n_steps(r)
    cols = [v for w in ctx.ws_of.get((r.id, n - 1), []) for v in ctx.X[(r.id, n - 1, w)]]
    if sc.import_allowed(r):
        unit_imp = sc.import_unit_cost(r)
        z = m.var(0, r.quantity, integer=True, cost=sc.import_unit_objective(r))
        b.z[r.id] = z
        ctx.total.append((z, unit_imp))
        ctx.foreign.append((z, unit_imp))
        cols.append(z)
    # u is integral whenever x and z are, so it need not be an integer variable.
    u = m.var(0, r.quantity, cost=sc.unmet_penalty(r))
    b.u[r.id] = u
    m.row(cols + [u], 1.0, r.quantity, r.quantity)


def add_sourcing(ctx: Context, r: Request) -> None:
    """Sourcing (5.7): at most `max_suppliers_per_step` workshops per step, counted by
    binaries linked to the step's units."""
    k = r.max_suppliers_per_step
    if k is None:
        return
    for s in range(ctx.n_steps(r)):
        ws_s = ctx.ws_of.get((r.id, s), [])
        if len(ws_s) > k:
            used = []
            for ws in ws_s:
                y = ctx.m.var(0, 1, integer=True)
                ctx.b.src[(r.id, s, ws)] = y
                ctx.link((r.id, s, ws), y)
                used.append(y)
            ctx.m.row(used, 1.0, ub=k)


def add_tooling(ctx: Context) -> None:
    """Tooling, paid once per (workshop, component, step) used by any request; all requests
    of the component together are also limited per period by the period's capacity."""
    sc, d, m, b = ctx.sc, ctx.d, ctx.m, ctx.b
    for (wid, cid, s), keys in ctx.tool_links.items():
        w = ctx.workshop[wid]
        info = d.step_info(w, cid, s)
        y = m.var(0, 1, integer=True, cost=info.tooling)
        b.tool[(wid, cid, s)] = y
        ctx.total.append((y, info.tooling))
        per_period = len(keys) > 1 and info.hours > 0 and not ctx.direct
        # In a compact model the per-period rows below already force y = 1 for any unit.
        if not (ctx.compact and per_period):
            for key in keys:
                ctx.link(key, y)
        if per_period:
            proc = sc.component(cid).routing[s].process
            per_t: dict[int, list[int]] = defaultdict(list)
            for rid, _s, _w in keys:
                for t in step_window(sc, ctx.request[rid], s, len(sc.component(cid).routing)):
                    xc = b.x.get((rid, s, wid, t))
                    if xc is not None:
                        per_t[t].append(xc)
            for t, vs in per_t.items():
                top = min(sum(m.ub[v] for v in vs), math.floor(w.cap(proc, t) / info.hours
                                                               + 1e-9))
                m.row(vs + [y], [1.0] * len(vs) + [-float(top)], ub=0.0)


def add_engagement_links(ctx: Context) -> None:
    """Engagement, paid once per workshop used at all: its binary linked to every
    (request, step) the workshop may do."""
    keys_by_w: dict[str, list[Triple]] = defaultdict(list)
    for key in ctx.X:
        keys_by_w[key[2]].append(key)
    for wid, e in ctx.b.eng.items():
        for key in keys_by_w[wid]:
            # A step with hours is in a capacity row scaled by e, which forces e = 1 for
            # any unit: a compact model leaves out its own link (on the one-period
            # relaxation of the large instance these links were most of the rows).
            if not (ctx.compact and ctx.hours_of[key] > 0):
                ctx.link(key, e)
        f = ctx.workshop[wid].engagement_cost
        ctx.m.add_cost(e, f)
        ctx.total.append((e, f))


def add_materials(ctx: Context) -> None:
    """Materials (5.6), aggregated by the workshop's location: deliveries cover what the
    units need, and no center sends more than its stock."""
    sc, d, m, b = ctx.sc, ctx.d, ctx.m, ctx.b
    cpk = sc.transport.cost_per_kg_km
    stock_use: dict[tuple[str, str], list[int]] = defaultdict(list)
    for (node, mat), need in ctx.mat_need.items():
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
            # Lagrangian bounds (solvers/lp_guided.py) rely on; not when pricing, where
            # the stock must bind in its row for the row to carry its dual value.
            unit = st.price_per_kg + cpk * km
            v = m.var(0, INF if ctx.all_capacity_rows else st.stock_kg, cost=unit)
            b.M[(center.id, node, mat)] = v
            supply.append(v)
            stock_use[(center.id, mat)].append(v)
            ctx.total.append((v, unit))
            if not st.domestic:
                ctx.foreign.append((v, st.price_per_kg))
        m.row(supply + [v for _kg, v in need],
              [1.0] * len(supply) + [-kg for kg, _v in need], 0.0, 0.0)
    for (cid, mat), vs in stock_use.items():
        stock = sc.center(cid).materials[mat].stock_kg
        b.stock_rows[(cid, mat)] = m.row(vs, 1.0, ub=stock)


def add_policies(ctx: Context) -> None:
    """Policies (5.8): domestic share of all requested units, cost-based local content."""
    sc, m = ctx.sc, ctx.m
    pol = sc.policy
    if pol.min_domestic_share > 0:
        m.row(ctx.domestic_units, 1.0, lb=pol.min_domestic_share * sc.total_quantity())
    if pol.min_local_content > 0:
        share = 1 - pol.min_local_content
        m.row([c for c, _ in ctx.foreign] + [c for c, _ in ctx.total],
              [k for _, k in ctx.foreign] + [-share * k for _, k in ctx.total], ub=0.0)
        add_fees_only_with_use(ctx)


def add_fees_only_with_use(ctx: Context) -> None:
    """No engagement fee or tooling cost without a unit that uses it: `e_w <= units at
    w`, `y_wcs <= units of (c, s) at w`. SPEC 6 charges a fee only where it is used, so
    these hold for every plan; without them a local-content row (5.8, fees count in its
    total) is met by paying fees for nothing: on the alt generator's small seed 4 the
    engine's optimum engaged idle workshops to reach 40% local content, and the plan, with
    those fees dropped as SPEC 6 says, had 38.0% and was refused, leaving no plan."""
    m, b = ctx.m, ctx.b
    at_w: dict[str, list[int]] = defaultdict(list)
    at_tool: dict[tuple[str, str, int], list[int]] = defaultdict(list)
    for (rid, s, wid), cols in ctx.X.items():
        at_w[wid].extend(cols)
        at_tool[(wid, b.component_of[rid], s)].extend(cols)
    for wid, e in b.eng.items():
        cols = at_w.get(wid, [])
        m.row(cols + [e], [1.0] * len(cols) + [-1.0], lb=0.0)
    for key, y in b.tool.items():
        cols = at_tool.get(key, [])
        m.row(cols + [y], [1.0] * len(cols) + [-1.0], lb=0.0)


def add_lots_and_floors(ctx: Context) -> None:
    """Minimum lots (SPEC 8.2) and sourcing floors (8.3), only where they bind, so that a
    version 1 scenario builds the same model column for column and row for row:

    - a binary `y[r,s,w]` ("makes the step", shared with the sourcing limit's where that
      made one) with `X[r,s,w] <= U * y` (U = the units that fit at `w`, at most the
      quantity; with the per-period links of the other fixed costs) and
      `X[r,s,w] >= max(min_lot, 1) * y`; where not even one lot fits, the workshop's
      columns for the step are fixed at 0;
    - for `min_suppliers_per_step` k > 1, a binary `h[r]` ("makes any unit at home") with
      `sum_w X[r,S-1,w] <= quantity * h[r]` and, for every step, `sum_w y[r,s,w] >= k h[r]`;
      `y[r,s,w] <= h[r]` tightens the LP (a workshop that makes a unit of any step makes
      the request's units at home)."""
    sc, d, m, b = ctx.sc, ctx.d, ctx.m, ctx.b
    floors = {r.id: sc.min_suppliers(r) for r in sc.requests if sc.min_suppliers(r) > 1}
    lots_bind = any(st.min_lot > 1 for c in sc.components for st in c.routing) or any(
        (o.min_lot or 0) > 1 for o in sc.offers)
    if not floors and not lots_bind:
        return
    makes: dict[tuple[str, int], list[int]] = defaultdict(list)
    for key, cols in ctx.X.items():
        rid, s, wid = key
        cid = ctx.request[rid].component
        lot = d.step_info(ctx.workshop[wid], cid, s).min_lot if lots_bind else 0
        if lot <= 1 and rid not in floors:
            continue
        if lot > ctx.big_m(key):
            # Not even one lot fits (or the request is smaller than a lot).
            for v in cols:
                m.ub[v] = 0.0
            continue
        y = b.src.get(key)
        if y is None:
            y = m.var(0, 1, integer=True)
            b.src[key] = y
            ctx.link(key, y)
        m.row(cols + [y], [1.0] * len(cols) + [-float(max(lot, 1))], lb=0.0)
        if rid in floors:
            makes[(rid, s)].append(y)
    for r in sc.requests:
        k = floors.get(r.id)
        if k is None:
            continue
        n = ctx.n_steps(r)
        finals = [v for w in ctx.ws_of.get((r.id, n - 1), []) for v in ctx.X[(r.id, n - 1, w)]]
        if not finals:
            continue
        # Fewer than k workshops could make some step: nothing of it is made at home.
        possible = all(len(makes.get((r.id, s), ())) >= k for s in range(n))
        h = m.var(0, 1 if possible else 0, integer=True)
        b.home[r.id] = h
        m.row(finals + [h], [1.0] * len(finals) + [-float(r.quantity)], ub=0.0)
        for s in range(n):
            ys = makes.get((r.id, s), [])
            m.row(ys + [h], [1.0] * len(ys) + [-float(k)], lb=0.0)
            for y in ys:
                m.row([y, h], [1.0, -1.0], ub=0.0)


def add_spread_and_regions(ctx: Context) -> None:
    """The spread (SPEC 8.4) and regional shares (8.5), only where they bind: one
    continuous column D = domestic units (5.8) with the row that defines it, then per
    workshop `F[w] <= max_workshop_share * D` and per location
    `sum_{w at loc} F[w] >= share * D`, F being the final-step units made at `w`. Through
    D every row has a few terms instead of all the domestic columns."""
    sc, d, m = ctx.sc, ctx.d, ctx.m
    pol = sc.policy
    shares = {loc: v for loc, v in pol.min_location_share.items() if v > 0}
    if pol.max_workshop_share >= 1 and not shares:
        return
    final_at: dict[str, list[int]] = defaultdict(list)
    for (rid, s, wid, _t), v in ctx.b.x.items():
        if s == ctx.n_steps(ctx.request[rid]) - 1:
            final_at[wid].append(v)
    domestic = [v for vs in final_at.values() for v in vs]
    total = m.var(0, sc.total_quantity())
    ctx.b.domestic = total
    m.row(domestic + [total], [1.0] * len(domestic) + [-1.0], 0.0, 0.0)
    if pol.max_workshop_share < 1:
        for vs in final_at.values():
            m.row(vs + [total], [1.0] * len(vs) + [-pol.max_workshop_share], ub=0.0)
    for loc, share in shares.items():
        vs = [v for wid, cols in final_at.items() if d.location_of[wid] == loc for v in cols]
        m.row(vs + [total], [1.0] * len(vs) + [-share], lb=0.0)
