"""Independent plan checker (SPEC sections 5, 6 and 7).

It reads a plan's rows and its scenario and nothing else: no solver, no model of the
optimisation. A plan is trusted only when this module, written apart from every solver
back-end, finds it feasible and recomputes the same cost from its rows.

Tolerances: integer quantities (flow, demand, precedence, sourcing) are compared
exactly; kg and hours with a relative tolerance of 1e-6; money with `rel_tol`.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from models.derived import Derived, StepInfo
from models.plan import COST_TERMS, Plan
from models.scenario import Component, MaterialCenter, Request, Scenario, Workshop

KINDS = (
    "reference",
    "quantity",
    "status",
    "eligibility",
    "release",
    "period",
    "capacity",
    "flow",
    "path",
    "precedence",
    "demand",
    "import",
    "material",
    "stock",
    "sourcing",
    "lot",
    "policy",
    "cost",
    "objective",
    "bound",
    "kpi",
    "reason",
)

KPI_NAMES = ("domestic_share", "local_content", "on_time_share")

# Hours and kg come out of solvers as floats; a solver's own feasibility tolerance is
# around 1e-6 to 1e-9, so anything within 1e-6 relative is the same plan.
FEAS_TOL = 1e-6
KPI_TOL = 1e-6


@dataclass(frozen=True)
class Violation:
    kind: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.where}: {self.message}"


@dataclass
class CheckReport:
    violations: list[Violation]
    cost: dict[str, float] | None
    objective: float | None
    kpis: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        if self.ok:
            # A plan without rows has nothing to cost; calling it "feasible" would mislead.
            if self.cost is None:
                return "no plan (status infeasible or no_solution), nothing to cost"
            return "feasible, costs agree"
        lines = [f"{len(self.violations)} violation(s)"]
        lines.extend(f"  {v}" for v in self.violations)
        return "\n".join(lines)


def _fmt(v: float) -> str:
    """A number as a planner reads it: 1200, not 1200.0 or 1.2e+03."""
    if math.isfinite(v) and v == round(v) and abs(v) < 1e15:
        return str(int(round(v)))
    return f"{v:.10g}"


def _close(a: float, b: float, rel_tol: float) -> bool:
    return abs(a - b) <= rel_tol * max(1.0, abs(a), abs(b))


def _at_most(used: float, limit: float) -> bool:
    return used <= limit + FEAS_TOL * max(1.0, abs(limit))


# --------------------------------------------------------------------------------------
# Reading the rows


@dataclass
class _Decisions:
    """The plan's decisions, summed over duplicate rows, keyed by ids."""

    x: dict[tuple[str, int, str, int], int] = field(default_factory=lambda: defaultdict(int))
    X: dict[tuple[str, int, str], int] = field(default_factory=lambda: defaultdict(int))
    g: dict[tuple[str, int, str, str], int] = field(default_factory=lambda: defaultdict(int))
    m: dict[tuple[str, str, str], float] = field(default_factory=lambda: defaultdict(float))
    z: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    u: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # First row index of every (request, step, workshop), so a violation can point at it.
    first_row: dict[tuple[str, int, str], int] = field(default_factory=dict)


class _Context:
    """Look-ups over one scenario, memoised so that 100k rows cost 100k dict hits."""

    def __init__(self, scenario: Scenario, derived: Derived | None = None):
        self.scenario = scenario
        self.derived = derived if derived is not None else Derived(scenario)
        self.requests: dict[str, Request] = {r.id: r for r in scenario.requests}
        self.workshops: dict[str, Workshop] = {w.id: w for w in scenario.workshops}
        self.centers: dict[str, MaterialCenter] = {c.id: c for c in scenario.material_centers}
        self.materials: set[str] = {m.id for m in scenario.materials}
        self.components: dict[str, Component] = {c.id: c for c in scenario.components}
        self.location_of = self.derived.location_of
        self._info: dict[tuple[str, str, int], StepInfo] = {}
        self._km: dict[tuple[str, str], float | None] = {}
        self._inelig: dict[tuple[str, str, int, frozenset[str]], str | None] = {}

    def comp(self, r: Request) -> Component:
        return self.components[r.component]

    def n_steps(self, r: Request) -> int:
        return len(self.comp(r).routing)

    def info(self, wid: str, cid: str, s: int) -> StepInfo:
        key = (wid, cid, s)
        got = self._info.get(key)
        if got is None:
            got = self.derived.step_info(self.workshops[wid], cid, s)
            self._info[key] = got
        return got

    def km(self, loc_a: str, loc_b: str) -> float | None:
        key = (loc_a, loc_b)
        if key not in self._km:
            self._km[key] = self.derived.dist.km(loc_a, loc_b)
        return self._km[key]

    def km_ids(self, a: str, b: str) -> float | None:
        """km between two workshops or centers, by id."""
        return self.km(self.location_of[a], self.location_of[b])

    def ineligibility(self, wid: str, r: Request, s: int) -> str | None:
        # Eligibility depends on the request only through its component and certificates.
        key = (wid, r.component, s, frozenset(r.requires))
        if key not in self._inelig:
            self._inelig[key] = self.derived.ineligibility(self.workshops[wid], r, s)
        return self._inelig[key]


def _read_rows(ctx: _Context, plan: Plan, out: list[Violation]) -> _Decisions:
    """Check every row on its own (references, quantities, periods) and sum them up.

    Rows whose references cannot be resolved are left out of the sums: they cannot be
    costed. Rows with a non-positive quantity or a period outside the horizon are kept,
    so that the cost recomputed here is the cost of the rows as written.
    """
    d = _Decisions()
    periods = ctx.scenario.horizon.periods

    def unknown(where: str, what: str, value: str) -> None:
        out.append(Violation("reference", where, f"unknown {what} '{value}'"))

    def bad_quantity(where: str, q: float, unit: str = "") -> None:
        if q == 0:
            msg = f"quantity 0{unit}: rows with quantity 0 are left out of a plan"
        else:
            msg = f"quantity {_fmt(q)}{unit} is not positive"
        out.append(Violation("quantity", where, msg))

    def step_ok(where: str, r: Request, s: int, last: int) -> bool:
        if 0 <= s <= last:
            return True
        if last < 0:
            msg = f"component '{r.component}' has one step: there is nothing to ship"
        else:
            msg = f"step {s} outside 0 .. {last} for component '{r.component}'"
        out.append(Violation("reference", where, msg))
        return False

    for i, pr in enumerate(plan.production):
        where = f"production[{i}]"
        r = ctx.requests.get(pr.request)
        ok = True
        if r is None:
            unknown(where, "request", pr.request)
            ok = False
        if pr.workshop not in ctx.workshops:
            unknown(where, "workshop", pr.workshop)
            ok = False
        if r is not None and not step_ok(where, r, pr.step, ctx.n_steps(r) - 1):
            ok = False
        if pr.quantity <= 0:
            bad_quantity(where, pr.quantity)
        if not 0 <= pr.period < periods:
            out.append(Violation("period", where,
                                 f"period {pr.period} outside the horizon (0 .. {periods - 1})"))
        if not ok:
            continue
        d.x[(pr.request, pr.step, pr.workshop, pr.period)] += pr.quantity
        key3 = (pr.request, pr.step, pr.workshop)
        d.X[key3] += pr.quantity
        d.first_row.setdefault(key3, i)

    for i, sh in enumerate(plan.shipments):
        where = f"shipments[{i}]"
        r = ctx.requests.get(sh.request)
        ok = True
        if r is None:
            unknown(where, "request", sh.request)
            ok = False
        for wid in (sh.from_, sh.to):
            if wid not in ctx.workshops:
                unknown(where, "workshop", wid)
                ok = False
        # Units leave step s for step s+1, so the final step ships nothing (its delivery
        # leg is costed from production, not from shipments).
        if r is not None and not step_ok(where, r, sh.step, ctx.n_steps(r) - 2):
            ok = False
        if sh.quantity <= 0:
            bad_quantity(where, sh.quantity)
        if not ok:
            continue
        if ctx.km_ids(sh.from_, sh.to) is None:
            out.append(Violation(
                "path", where,
                f"no path from workshop {sh.from_} ({ctx.location_of[sh.from_]}) to workshop "
                f"{sh.to} ({ctx.location_of[sh.to]})"))
        d.g[(sh.request, sh.step, sh.from_, sh.to)] += sh.quantity

    for i, mr in enumerate(plan.materials):
        where = f"materials[{i}]"
        center = ctx.centers.get(mr.center)
        ok = True
        if center is None:
            unknown(where, "material center", mr.center)
            ok = False
        if mr.workshop not in ctx.workshops:
            unknown(where, "workshop", mr.workshop)
            ok = False
        if mr.material not in ctx.materials:
            unknown(where, "material", mr.material)
            ok = False
        if not math.isfinite(mr.kg):
            out.append(Violation("quantity", where, f"kg {mr.kg} is not a number"))
            ok = False
        elif mr.kg <= 0:
            bad_quantity(where, mr.kg, " kg")
        if not ok:
            continue
        assert center is not None
        if mr.material not in center.materials:
            # Without a stock entry there is no price: the row cannot be costed.
            out.append(Violation("material", where,
                                 f"center {mr.center} does not hold material '{mr.material}'"))
            continue
        if ctx.km_ids(mr.center, mr.workshop) is None:
            out.append(Violation(
                "path", where,
                f"no path from center {mr.center} ({ctx.location_of[mr.center]}) to workshop "
                f"{mr.workshop} ({ctx.location_of[mr.workshop]})"))
        d.m[(mr.center, mr.workshop, mr.material)] += mr.kg

    for i, ir in enumerate(plan.imports):
        where = f"imports[{i}]"
        r = ctx.requests.get(ir.request)
        if r is None:
            unknown(where, "request", ir.request)
            continue
        if ir.quantity <= 0:
            bad_quantity(where, ir.quantity)
        if not ctx.scenario.import_allowed(r):
            why = ("its component has no import price" if ctx.comp(r).import_ is None
                   else "the request does not allow import")
            out.append(Violation("import", where,
                                 f"request {r.id} imports {ir.quantity} unit(s) but {why}"))
        d.z[r.id] += ir.quantity

    for i, ur in enumerate(plan.unmet):
        where = f"unmet[{i}]"
        r = ctx.requests.get(ur.request)
        if r is None:
            unknown(where, "request", ur.request)
            continue
        if ur.quantity <= 0:
            bad_quantity(where, ur.quantity)
        if not ur.reason.strip():
            out.append(Violation("reason", where,
                                 f"{ur.quantity} unit(s) of request {r.id} unmet with no reason"))
        d.u[r.id] += ur.quantity
    return d


# --------------------------------------------------------------------------------------
# Cost (SPEC section 6) and KPIs


def _cost(ctx: _Context, d: _Decisions) -> dict[str, float]:
    sc = ctx.scenario
    production = math.fsum(q * ctx.info(w, ctx.requests[r].component, s).unit_cost
                           for (r, s, w), q in d.X.items())
    material = math.fsum(kg * ctx.centers[c].materials[mat].price_per_kg
                         for (c, _w, mat), kg in d.m.items())

    # kg * km of everything moved; a missing path is already a `path` violation.
    kg_km: list[float] = []
    for (rid, _s, w, v), q in d.g.items():
        km = ctx.km_ids(w, v)
        if km is not None:
            kg_km.append(ctx.comp(ctx.requests[rid]).weight_kg * q * km)
    for (rid, s, w), q in d.X.items():
        r = ctx.requests[rid]
        if r.destination is None or s != ctx.n_steps(r) - 1:
            continue
        km = ctx.km(ctx.location_of[w], r.destination)
        if km is not None:
            kg_km.append(ctx.comp(r).weight_kg * q * km)
    for (c, w, _mat), kg in d.m.items():
        km = ctx.km_ids(c, w)
        if km is not None:
            kg_km.append(kg * km)
    transport = sc.transport.cost_per_kg_km * math.fsum(kg_km)

    tooled = {(w, ctx.requests[r].component, s) for (r, s, w), q in d.X.items() if q > 0}
    tooling = math.fsum(ctx.info(w, c, s).tooling for (w, c, s) in tooled)
    engaged = {w for (_r, _s, w, _t), q in d.x.items() if q > 0}
    engagement = math.fsum(ctx.workshops[w].engagement_cost for w in engaged)

    imports: list[float] = []
    late: list[float] = []
    for rid, q in d.z.items():
        r = ctx.requests[rid]
        # Without an import price the row is an `import` violation and cannot be priced.
        if ctx.comp(r).import_ is None:
            continue
        imports.append(q * sc.import_unit_cost(r))
        late.append(sc.late_penalty(r) * q * sc.import_late_periods(r))
    for (rid, s, _w, t), q in d.x.items():
        r = ctx.requests[rid]
        due = sc.due(r)
        if t > due and s == ctx.n_steps(r) - 1:
            late.append(sc.late_penalty(r) * q * (t - due))
    unmet = math.fsum(q * sc.unmet_penalty(ctx.requests[rid]) for rid, q in d.u.items())

    cost = {
        "production": production,
        "material": material,
        "transport": transport,
        "tooling": tooling,
        "engagement": engagement,
        "import": math.fsum(imports),
        "tardiness": math.fsum(late),
        "unmet": unmet,
    }
    assert tuple(cost) == COST_TERMS
    return cost


def _foreign_material_cost(ctx: _Context, d: _Decisions) -> float:
    return math.fsum(kg * ctx.centers[c].materials[mat].price_per_kg
                     for (c, _w, mat), kg in d.m.items()
                     if not ctx.centers[c].materials[mat].domestic)


def _foreign_and_total(ctx: _Context, d: _Decisions, cost: dict[str, float]
                       ) -> tuple[float, float]:
    """(foreign, total) of SPEC 5.8: penalties (tardiness, unmet) are not spending."""
    foreign = cost["import"] + _foreign_material_cost(ctx, d)
    total = math.fsum(cost[t] for t in ("production", "material", "transport", "tooling",
                                        "engagement", "import"))
    return foreign, total


def _kpis(ctx: _Context, d: _Decisions, cost: dict[str, float]) -> dict[str, float]:
    sc = ctx.scenario
    total_qty = sc.total_quantity()
    made = 0
    on_time = 0
    for (rid, s, _w, t), q in d.x.items():
        r = ctx.requests[rid]
        if s == ctx.n_steps(r) - 1:
            made += q
            if t <= sc.due(r):
                on_time += q
    for rid, q in d.z.items():
        r = ctx.requests[rid]
        if ctx.comp(r).import_ is not None and sc.import_late_periods(r) == 0:
            on_time += q
    foreign, total = _foreign_and_total(ctx, d, cost)
    return {
        "domestic_share": made / total_qty if total_qty else 1.0,
        "local_content": 1.0 - foreign / total if total else 1.0,
        "on_time_share": on_time / total_qty if total_qty else 1.0,
    }


def recompute_cost(scenario: Scenario, plan: Plan) -> dict[str, float]:
    """Every SPEC section 6 cost term of the plan, from its rows alone.

    Rows that name unknown ids are left out (`check` reports them)."""
    ctx = _Context(scenario)
    return _cost(ctx, _read_rows(ctx, plan, []))


def compute_kpis(scenario: Scenario, plan: Plan,
                 cost: dict[str, float] | None = None) -> dict[str, float]:
    """domestic_share, local_content and on_time_share of a plan; {} without a plan.

    `cost` saves recomputing it when the caller has the recomputed terms already."""
    if not plan.status.has_plan:
        return {}
    ctx = _Context(scenario)
    d = _read_rows(ctx, plan, [])
    return _kpis(ctx, d, cost if cost is not None else _cost(ctx, d))


# --------------------------------------------------------------------------------------
# Feasibility (SPEC section 5)


def _check_production(ctx: _Context, plan: Plan, d: _Decisions, out: list[Violation]) -> None:
    """Eligibility (once per request, step and workshop) and release (per row)."""
    for (rid, s, w), row in d.first_row.items():
        if d.X[(rid, s, w)] <= 0:
            continue  # nothing runs there; a 0 or negative row is a `quantity` violation
        why = ctx.ineligibility(w, ctx.requests[rid], s)
        if why is not None:
            out.append(Violation(
                "eligibility", f"production[{row}]",
                f"workshop {w} may not do step {s} of request {rid}: {why}"))
    for i, pr in enumerate(plan.production):
        r = ctx.requests.get(pr.request)
        if r is not None and pr.quantity > 0 and pr.period < r.release:
            out.append(Violation(
                "release", f"production[{i}]",
                f"step {pr.step} of request {r.id} runs in period {pr.period}, before its "
                f"release in period {r.release}"))


def _check_capacity(ctx: _Context, d: _Decisions, out: list[Violation]) -> None:
    periods = ctx.scenario.horizon.periods
    used: dict[tuple[str, str, int], float] = defaultdict(float)
    for (rid, s, w, t), q in d.x.items():
        if not 0 <= t < periods:
            continue  # already a `period` violation; there is no capacity to compare with
        cid = ctx.requests[rid].component
        process = ctx.components[cid].routing[s].process
        used[(w, process, t)] += ctx.info(w, cid, s).hours * q
    for (w, process, t), hours in used.items():
        cap = ctx.workshops[w].cap(process, t)
        if not _at_most(hours, cap):
            out.append(Violation(
                "capacity", f"workshop {w}, process {process}, period {t}",
                f"uses {_fmt(hours)} h of {_fmt(cap)} h available"))


def _check_flow(ctx: _Context, d: _Decisions, out: list[Violation]) -> None:
    shipped_out: dict[tuple[str, int, str], int] = defaultdict(int)
    shipped_in: dict[tuple[str, int, str], int] = defaultdict(int)
    for (rid, s, w, v), q in d.g.items():
        shipped_out[(rid, s, w)] += q
        shipped_in[(rid, s, v)] += q

    # Units made at (r, s, w) must all leave; units made at (r, s+1, v) must all arrive.
    leave_keys = dict.fromkeys(k for k in d.X if k[1] < ctx.n_steps(ctx.requests[k[0]]) - 1)
    leave_keys.update(dict.fromkeys(shipped_out))
    for rid, s, w in leave_keys:
        made, sent = d.X.get((rid, s, w), 0), shipped_out.get((rid, s, w), 0)
        if made != sent:
            out.append(Violation(
                "flow", f"request {rid}, step {s}, workshop {w}",
                f"{made} unit(s) made but {sent} shipped on to step {s + 1}"))
    arrive_keys = dict.fromkeys((rid, s - 1, w) for (rid, s, w) in d.X if s >= 1)
    arrive_keys.update(dict.fromkeys(shipped_in))
    for rid, s, v in arrive_keys:
        made, got = d.X.get((rid, s + 1, v), 0), shipped_in.get((rid, s, v), 0)
        if made != got:
            out.append(Violation(
                "flow", f"request {rid}, step {s + 1}, workshop {v}",
                f"{made} unit(s) made but {got} shipped in from step {s}"))


def _check_delivery_paths(ctx: _Context, d: _Decisions, out: list[Violation]) -> None:
    for (rid, s, w), q in d.X.items():
        r = ctx.requests[rid]
        if q <= 0 or r.destination is None or s != ctx.n_steps(r) - 1:
            continue
        if ctx.km(ctx.location_of[w], r.destination) is None:
            out.append(Violation(
                "path", f"request {rid}, workshop {w}",
                f"final step made at {w} ({ctx.location_of[w]}) but there is no path to the "
                f"destination {r.destination}"))


def _check_precedence(ctx: _Context, d: _Decisions, out: list[Violation]) -> None:
    lag = ctx.scenario.policy.step_lag_periods
    by_step: dict[tuple[str, int], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for (rid, s, _w, t), q in d.x.items():
        by_step[(rid, s)][t] += q
    for (rid, s), made in by_step.items():
        if s == 0:
            continue
        before = by_step.get((rid, s - 1), {})
        prev_periods = sorted(before)
        prev_cum = list(accumulate(before[t] for t in prev_periods))
        cum = 0
        # Between two periods in which step s runs its cumulative count stays put while
        # the step before can only grow, so those periods are the only ones to check.
        for t in sorted(made):
            cum += made[t]
            k = bisect_right(prev_periods, t - lag)
            avail = prev_cum[k - 1] if k else 0
            if cum > avail:
                out.append(Violation(
                    "precedence", f"request {rid}, step {s}",
                    f"{cum} unit(s) made by period {t} but only {avail} unit(s) of step "
                    f"{s - 1} made by period {t - lag} (step lag {lag})"))
                break


def _check_demand(ctx: _Context, d: _Decisions, out: list[Violation]) -> None:
    made: dict[str, int] = defaultdict(int)
    for (rid, s, _w), q in d.X.items():
        if s == ctx.n_steps(ctx.requests[rid]) - 1:
            made[rid] += q
    for r in ctx.scenario.requests:
        mk, z, u = made.get(r.id, 0), d.z.get(r.id, 0), d.u.get(r.id, 0)
        if mk + z + u != r.quantity:
            out.append(Violation(
                "demand", f"request {r.id}",
                f"{mk} made + {z} imported + {u} unmet = {mk + z + u}, requested "
                f"{r.quantity}"))


def _check_materials(ctx: _Context, d: _Decisions, out: list[Violation]) -> None:
    need: dict[tuple[str, str], float] = defaultdict(float)
    for (rid, s, w), q in d.X.items():
        step = ctx.comp(ctx.requests[rid]).routing[s]
        if step.material is not None:
            need[(w, step.material)] += (step.material_kg or 0.0) * q
    got: dict[tuple[str, str], float] = defaultdict(float)
    sent: dict[tuple[str, str], float] = defaultdict(float)
    for (c, w, mat), kg in d.m.items():
        got[(w, mat)] += kg
        sent[(c, mat)] += kg
    for w, mat in dict.fromkeys([*need, *got]):
        n, g = need.get((w, mat), 0.0), got.get((w, mat), 0.0)
        if not _close(n, g, FEAS_TOL):
            out.append(Violation(
                "material", f"workshop {w}, material {mat}",
                f"receives {_fmt(g)} kg but its production needs {_fmt(n)} kg"))
    for (c, mat), kg in sent.items():
        stock = ctx.centers[c].materials[mat].stock_kg
        if not _at_most(kg, stock):
            out.append(Violation(
                "stock", f"center {c}, material {mat}",
                f"sends {_fmt(kg)} kg of {_fmt(stock)} kg in stock"))


def _check_sourcing(ctx: _Context, d: _Decisions, out: list[Violation]) -> None:
    suppliers: dict[tuple[str, int], list[str]] = defaultdict(list)
    for (rid, s, w), q in d.X.items():
        if q > 0:
            suppliers[(rid, s)].append(w)
    for (rid, s), ws in suppliers.items():
        limit = ctx.requests[rid].max_suppliers_per_step
        if limit is not None and len(ws) > limit:
            out.append(Violation(
                "sourcing", f"request {rid}, step {s}",
                f"{len(ws)} workshops ({', '.join(ws)}) share the step, at most {limit} may"))


def _check_inclusion(ctx: _Context, d: _Decisions, out: list[Violation]) -> None:
    """SPEC 8.2-8.5: minimum lots, sourcing floors, the spread and regional shares."""
    sc = ctx.scenario
    final: dict[str, int] = defaultdict(int)  # domestic units per request
    at: dict[str, int] = defaultdict(int)  # final-step units per workshop
    suppliers: dict[tuple[str, int], list[str]] = defaultdict(list)
    for (rid, s, w), q in d.X.items():
        if q <= 0:
            continue
        r = ctx.requests[rid]
        suppliers[(rid, s)].append(w)
        if s == ctx.n_steps(r) - 1:
            final[rid] += q
            at[w] += q
        lot = ctx.info(w, r.component, s).min_lot
        if q < lot:
            out.append(Violation(
                "lot", f"request {rid}, step {s}, workshop {w}",
                f"{q} unit(s) made, below the minimum lot of {lot}"))
    for r in sc.requests:
        need = sc.min_suppliers(r)
        if need <= 1 or final.get(r.id, 0) <= 0:
            continue
        for s in range(ctx.n_steps(r)):
            ws = suppliers.get((r.id, s), [])
            if len(ws) < need:
                names = f" ({', '.join(ws)})" if ws else ""
                out.append(Violation(
                    "sourcing", f"request {r.id}, step {s}",
                    f"{len(ws)} workshop(s){names} make the step, at least {need} must "
                    f"(min_suppliers_per_step) when any unit is made at home"))
    domestic = sum(final.values())
    pol = sc.policy
    if pol.max_workshop_share < 1:
        allowed = pol.max_workshop_share * domestic
        for w, q in at.items():
            if not _at_most(q, allowed):
                out.append(Violation(
                    "policy", f"policy.max_workshop_share, workshop {w}",
                    f"{q} of {domestic} domestic unit(s) made at {w} (share {q / domestic:.4g}),"
                    f" the policy allows at most {_fmt(allowed)} "
                    f"({_fmt(pol.max_workshop_share)})"))
    by_loc: dict[str, int] = defaultdict(int)
    for w, q in at.items():
        by_loc[ctx.location_of[w]] += q
    for loc, share in pol.min_location_share.items():
        target = share * domestic
        got = by_loc.get(loc, 0)
        if got < target - FEAS_TOL * max(1.0, target):
            out.append(Violation(
                "policy", f"policy.min_location_share.{loc}",
                f"{got} of {domestic} domestic unit(s) made at workshops of {loc}, the policy "
                f"asks for at least {_fmt(target)} ({_fmt(share)})"))


def _check_policies(ctx: _Context, d: _Decisions, cost: dict[str, float],
                    out: list[Violation]) -> None:
    pol = ctx.scenario.policy
    total_qty = ctx.scenario.total_quantity()
    domestic = sum(q for (rid, s, _w), q in d.X.items()
                   if s == ctx.n_steps(ctx.requests[rid]) - 1)
    target = pol.min_domestic_share * total_qty
    if domestic < target - FEAS_TOL * max(1.0, target):
        out.append(Violation(
            "policy", "policy.min_domestic_share",
            f"{domestic} of {total_qty} requested unit(s) made at home, the policy asks for at "
            f"least {_fmt(target)} ({_fmt(pol.min_domestic_share)})"))
    foreign, total = _foreign_and_total(ctx, d, cost)
    allowed = (1.0 - pol.min_local_content) * total
    if foreign > allowed + FEAS_TOL * max(1.0, abs(total)):
        content = 1.0 - foreign / total if total else 1.0
        out.append(Violation(
            "policy", "policy.min_local_content",
            f"foreign cost {_fmt(foreign)} of total {_fmt(total)} (local content "
            f"{content:.6g}), the policy allows at most {_fmt(allowed)} "
            f"(local content {_fmt(pol.min_local_content)})"))


# --------------------------------------------------------------------------------------
# Plan file (SPEC section 7)


def _check_status(plan: Plan, out: list[Violation]) -> None:
    status = plan.status.value
    if plan.status.has_plan:
        if plan.objective is None:
            out.append(Violation("status", "objective",
                                 f"status {status} but the objective is null"))
        if plan.cost is None:
            out.append(Violation("status", "cost", f"status {status} but the cost is null"))
        return
    if plan.objective is not None:
        out.append(Violation("status", "objective",
                             f"status {status} but the objective is {_fmt(plan.objective)}, "
                             f"not null"))
    if plan.cost is not None:
        out.append(Violation("status", "cost", f"status {status} but the cost is not null"))
    rows: dict[str, list[Any]] = {
        "production": plan.production, "shipments": plan.shipments,
        "materials": plan.materials, "imports": plan.imports, "unmet": plan.unmet,
    }
    nonempty = [f"{len(v)} {k}" for k, v in rows.items() if v]
    if nonempty:
        out.append(Violation("status", "rows",
                             f"status {status} but the plan has rows: {', '.join(nonempty)}"))


def _check_cost(plan: Plan, cost: dict[str, float], rel_tol: float,
                out: list[Violation]) -> None:
    recomputed = math.fsum(cost.values())
    if plan.cost is not None:
        claimed = plan.cost.as_dict()
        for term in COST_TERMS:
            if not _close(claimed[term], cost[term], rel_tol):
                out.append(Violation(
                    "cost", f"cost.{term}",
                    f"plan says {_fmt(claimed[term])}, the rows give {_fmt(cost[term])}"))
    if plan.objective is None:
        return
    if plan.cost is not None:
        claimed_sum = math.fsum(plan.cost.as_dict().values())
        if not _close(plan.objective, claimed_sum, rel_tol):
            out.append(Violation(
                "objective", "objective",
                f"{_fmt(plan.objective)} is not the sum of the plan's cost terms "
                f"{_fmt(claimed_sum)}"))
            return
    if not _close(plan.objective, recomputed, rel_tol):
        out.append(Violation(
            "objective", "objective",
            f"{_fmt(plan.objective)} differs from the cost recomputed from the rows "
            f"{_fmt(recomputed)}"))


def _check_bound(plan: Plan, rel_tol: float, out: list[Violation]) -> None:
    obj, bound = plan.objective, plan.bound
    if obj is None or bound is None:
        return
    if bound > obj + rel_tol * max(1.0, abs(obj), abs(bound)):
        out.append(Violation("bound", "bound",
                             f"lower bound {_fmt(bound)} is above the objective {_fmt(obj)}"))


def _check_kpis(plan: Plan, kpis: dict[str, float], out: list[Violation]) -> None:
    for name in KPI_NAMES:
        # Written as `not <=` so that a NaN in the plan is caught too.
        if name in plan.kpis and not abs(plan.kpis[name] - kpis[name]) <= KPI_TOL:
            out.append(Violation(
                "kpi", f"kpis.{name}",
                f"plan says {plan.kpis[name]:.6g}, the rows give {kpis[name]:.6g}"))


def check(scenario: Scenario, plan: Plan, *, rel_tol: float = 1e-6) -> CheckReport:
    """Every violation of SPEC sections 5 to 7 in `plan`, with the recomputed cost."""
    out: list[Violation] = []
    if plan.scenario != scenario.name:
        out.append(Violation("reference", "scenario",
                             f"plan is for scenario '{plan.scenario}', not '{scenario.name}'"))
    _check_status(plan, out)
    if not plan.status.has_plan:
        return CheckReport(violations=out, cost=None, objective=None, kpis={})

    ctx = _Context(scenario)
    d = _read_rows(ctx, plan, out)
    cost = _cost(ctx, d)
    _check_production(ctx, plan, d, out)
    _check_capacity(ctx, d, out)
    _check_flow(ctx, d, out)
    _check_delivery_paths(ctx, d, out)
    _check_precedence(ctx, d, out)
    _check_demand(ctx, d, out)
    _check_materials(ctx, d, out)
    _check_sourcing(ctx, d, out)
    _check_inclusion(ctx, d, out)
    _check_policies(ctx, d, cost, out)
    _check_cost(plan, cost, rel_tol, out)
    _check_bound(plan, rel_tol, out)
    kpis = _kpis(ctx, d, cost)
    _check_kpis(plan, kpis, out)
    return CheckReport(violations=out, cost=cost, objective=math.fsum(cost.values()),
                       kpis=kpis)
