"""Cost and KPIs of a plan's rows (SPEC sections 6 and 5.8), from the rows and the
scenario alone: no solver.

The checker (models/check.py) reads the rows through `read_rows` here and costs them with
`cost_terms`, so a plan's cost has one definition; the checker adds the violations.
`recompute_cost` and `compute_kpis` are what solvers and the ledger use to price a plan.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from models.derived import Derived, StepInfo
from models.plan import COST_TERMS, Plan
from models.scenario import Component, MaterialCenter, Request, Scenario, Workshop

# A problem found while reading one row: (kind, where, message). The checker turns them
# into its `Violation`s; pricing alone drops them.
RowProblem = tuple[str, str, str]


def fmt(v: float) -> str:
    """A number as a planner reads it: 1200, not 1200.0 or 1.2e+03."""
    if math.isfinite(v) and v == round(v) and abs(v) < 1e15:
        return str(int(round(v)))
    return f"{v:.10g}"


def non_finite_text(v: float) -> str:
    """How a non-finite number reads in a plan file."""
    return "NaN" if math.isnan(v) else ("-Infinity" if v < 0 else "Infinity")


# The numbers of a row: whole numbers in all but `kg`, and Infinity or NaN in any of them
# once read (models/plan.py `Whole`).
_ROW_NUMBERS = ("step", "period", "quantity", "kg")


def non_finite_fields(row: object) -> list[str]:
    """The row's numbers that are Infinity or NaN (such a row cannot be counted)."""
    return [f for f in _ROW_NUMBERS
            if isinstance(v := getattr(row, f, None), float) and not math.isfinite(v)]


# --------------------------------------------------------------------------------------
# Reading the rows


@dataclass
class Decisions:
    """The plan's decisions, summed over duplicate rows, keyed by ids."""

    x: dict[tuple[str, int, str, int], int] = field(default_factory=lambda: defaultdict(int))
    X: dict[tuple[str, int, str], int] = field(default_factory=lambda: defaultdict(int))
    g: dict[tuple[str, int, str, str], int] = field(default_factory=lambda: defaultdict(int))
    m: dict[tuple[str, str, str], float] = field(default_factory=lambda: defaultdict(float))
    z: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    u: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # First row index of every (request, step, workshop), so a violation can point at it.
    first_row: dict[tuple[str, int, str], int] = field(default_factory=dict)


class Context:
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


def read_rows(ctx: Context, plan: Plan, out: list[RowProblem]) -> Decisions:
    """Check every row on its own (references, quantities, periods) and sum them up.

    Rows whose references cannot be resolved are left out of the sums: they cannot be
    costed. Rows with a non-positive quantity or a period outside the horizon are kept,
    so that the cost recomputed here is the cost of the rows as written.
    """
    d = Decisions()
    periods = ctx.scenario.horizon.periods

    def unknown(where: str, what: str, value: str) -> None:
        out.append(("reference", where, f"unknown {what} '{value}'"))

    def bad_quantity(where: str, q: float, unit: str = "") -> None:
        if q == 0:
            msg = f"quantity 0{unit}: rows with quantity 0 are left out of a plan"
        else:
            msg = f"quantity {fmt(q)}{unit} is not positive"
        out.append(("quantity", where, msg))

    def non_finite(where: str, row: object) -> bool:
        """Each Infinity or NaN of the row, as a `number` problem naming its field, as
        for every other number of a plan; True if there was one: the row is left out."""
        bad = non_finite_fields(row)
        for f in bad:
            v = getattr(row, f)
            out.append(("number", f"{where}.{f}", f"{non_finite_text(v)} is not a finite number"))
        return bool(bad)

    def step_ok(where: str, r: Request, s: int, last: int) -> bool:
        if 0 <= s <= last:
            return True
        if last < 0:
            msg = f"component '{r.component}' has one step: there is nothing to ship"
        else:
            msg = f"step {s} outside 0 .. {last} for component '{r.component}'"
        out.append(("reference", where, msg))
        return False

    for i, pr in enumerate(plan.production):
        where = f"production[{i}]"
        if non_finite(where, pr):
            continue
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
            out.append(("period", where,
                                 f"period {pr.period} outside the horizon (0 .. {periods - 1})"))
        if not ok:
            continue
        d.x[(pr.request, pr.step, pr.workshop, pr.period)] += pr.quantity
        key3 = (pr.request, pr.step, pr.workshop)
        d.X[key3] += pr.quantity
        d.first_row.setdefault(key3, i)

    for i, sh in enumerate(plan.shipments):
        where = f"shipments[{i}]"
        if non_finite(where, sh):
            continue
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
            out.append((
                "path", where,
                f"no path from workshop {sh.from_} ({ctx.location_of[sh.from_]}) to workshop "
                f"{sh.to} ({ctx.location_of[sh.to]})"))
        d.g[(sh.request, sh.step, sh.from_, sh.to)] += sh.quantity

    for i, mr in enumerate(plan.materials):
        where = f"materials[{i}]"
        if non_finite(where, mr):
            continue
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
        if mr.kg <= 0:
            bad_quantity(where, mr.kg, " kg")
        if not ok:
            continue
        assert center is not None
        if mr.material not in center.materials:
            # Without a stock entry there is no price: the row cannot be costed.
            out.append(("material", where,
                                 f"center {mr.center} does not hold material '{mr.material}'"))
            continue
        if ctx.km_ids(mr.center, mr.workshop) is None:
            out.append((
                "path", where,
                f"no path from center {mr.center} ({ctx.location_of[mr.center]}) to workshop "
                f"{mr.workshop} ({ctx.location_of[mr.workshop]})"))
        d.m[(mr.center, mr.workshop, mr.material)] += mr.kg

    for i, ir in enumerate(plan.imports):
        where = f"imports[{i}]"
        if non_finite(where, ir):
            continue
        r = ctx.requests.get(ir.request)
        if r is None:
            unknown(where, "request", ir.request)
            continue
        if ir.quantity <= 0:
            bad_quantity(where, ir.quantity)
        if not ctx.scenario.import_allowed(r):
            why = ("its component has no import price" if ctx.comp(r).import_ is None
                   else "the request does not allow import")
            out.append(("import", where,
                                 f"request {r.id} imports {ir.quantity} unit(s) but {why}"))
        d.z[r.id] += ir.quantity

    for i, ur in enumerate(plan.unmet):
        where = f"unmet[{i}]"
        if non_finite(where, ur):
            continue
        r = ctx.requests.get(ur.request)
        if r is None:
            unknown(where, "request", ur.request)
            continue
        if ur.quantity <= 0:
            bad_quantity(where, ur.quantity)
        if not ur.reason.strip():
            out.append(("reason", where,
                                 f"{ur.quantity} unit(s) of request {r.id} unmet with no reason"))
        d.u[r.id] += ur.quantity
    return d


# --------------------------------------------------------------------------------------
# Cost (SPEC section 6) and KPIs


def cost_terms(ctx: Context, d: Decisions) -> dict[str, float]:
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


def _foreign_material_cost(ctx: Context, d: Decisions) -> float:
    return math.fsum(kg * ctx.centers[c].materials[mat].price_per_kg
                     for (c, _w, mat), kg in d.m.items()
                     if not ctx.centers[c].materials[mat].domestic)


def foreign_and_total(ctx: Context, d: Decisions, cost: dict[str, float]
                       ) -> tuple[float, float]:
    """(foreign, total) of SPEC 5.8: penalties (tardiness, unmet) are not spending."""
    foreign = cost["import"] + _foreign_material_cost(ctx, d)
    return foreign, spending(cost)


# The cost terms that are spending, for local content (SPEC 5.8): all but the penalties.
SPENDING_TERMS = ("production", "material", "transport", "tooling", "engagement", "import")


def spending(cost: dict[str, float]) -> float:
    """The total T of SPEC 5.8: every cost term but the penalties (tardiness, unmet)."""
    return math.fsum(cost[t] for t in SPENDING_TERMS)


def kpis(ctx: Context, d: Decisions, cost: dict[str, float]) -> dict[str, float]:
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
    foreign, total = foreign_and_total(ctx, d, cost)
    return {
        "domestic_share": made / total_qty if total_qty else 1.0,
        "local_content": 1.0 - foreign / total if total else 1.0,
        "on_time_share": on_time / total_qty if total_qty else 1.0,
    }


def recompute_cost(scenario: Scenario, plan: Plan) -> dict[str, float]:
    """Every SPEC section 6 cost term of the plan, from its rows alone.

    Rows that name unknown ids are left out (`check` reports them)."""
    ctx = Context(scenario)
    return cost_terms(ctx, read_rows(ctx, plan, []))


def compute_kpis(scenario: Scenario, plan: Plan,
                 cost: dict[str, float] | None = None) -> dict[str, float]:
    """domestic_share, local_content and on_time_share of a plan; {} without a plan.

    `cost` saves recomputing it when the caller has the recomputed terms already."""
    if not plan.status.has_plan:
        return {}
    ctx = Context(scenario)
    d = read_rows(ctx, plan, [])
    return kpis(ctx, d, cost if cost is not None else cost_terms(ctx, d))
