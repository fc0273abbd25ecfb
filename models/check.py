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
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import accumulate
from typing import Any

from models.evaluate import (
    Context,
    Decisions,
    RowProblem,
    cost_terms,
    foreign_and_total,
    kpis,
    non_finite_fields,
    non_finite_text,
    read_rows,
)
from models.evaluate import fmt as _fmt
from models.plan import COST_TERMS, Plan, Status
from models.scenario import Scenario

KINDS = (
    "number",
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
    "date",
)

KPI_NAMES = ("domestic_share", "local_content", "on_time_share")

# Hours and kg come out of solvers as floats; a solver's own feasibility tolerance is
# around 1e-6 to 1e-9, so anything within 1e-6 relative is the same plan.
FEAS_TOL = 1e-6
KPI_TOL = 1e-6
# A plan may say `optimal` only with a bound this close (relative) to its objective: the
# solvers' own rule (solvers/pipeline.py), so every plan they call optimal passes.
OPTIMAL_GAP = 1e-6
# Plan keys holding rows: their numbers are checked row by row (`read_rows`).
_ROW_KEYS = frozenset({"production", "shipments", "materials", "imports", "unmet"})


def supported_status(plan: Plan) -> Status:
    """The status the plan's own objective and bound support, by the checker's rule:
    `optimal` only with both finite and the bound within OPTIMAL_GAP (relative) of the
    objective, else `feasible`; any other status as it is. What the ledger and the history
    store, whatever the plan handed to them says."""
    if plan.status is not Status.OPTIMAL:
        return plan.status
    obj, bound = plan.objective, plan.bound
    if obj is None or bound is None or not (math.isfinite(obj) and math.isfinite(bound)) or (
            obj - bound > OPTIMAL_GAP * max(1.0, abs(obj))):
        return Status.FEASIBLE
    return Status.OPTIMAL


@dataclass(frozen=True)
class Violation:
    kind: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.where}: {self.message}"


# What a plan claims about itself (its cost terms, objective, KPIs and bound) rather than
# what it does. A plan wrong only in these has a usable allocation: the ledger books it at
# the cost it recomputes (another commit may have paid a fixed cost in between, which
# makes the plan cheaper than it says), and the bottleneck analysis reads its rows.
CLAIM_KINDS = frozenset({"cost", "objective", "kpi", "bound", "date"})


def blocking(violations: Iterable[Violation]) -> list[Violation]:
    """The violations that make a plan's allocation unusable: all but `CLAIM_KINDS`.
    The one rule for what refuses a commit or an analysed plan."""
    return [v for v in violations if v.kind not in CLAIM_KINDS]


@dataclass
class CheckReport:
    violations: list[Violation]
    cost: dict[str, float] | None
    objective: float | None
    kpis: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def blocking(self) -> list[Violation]:
        """`blocking(self.violations)`: what keeps this plan from being booked or used."""
        return blocking(self.violations)

    def by_kind(self, examples: int = 3) -> list[tuple[str, int, list[Violation]]]:
        """Per kind of violation, in the order the kinds first appear: how many there are
        and the first `examples` of them (a summary of thousands of similar rows)."""
        kinds: dict[str, tuple[list[int], list[Violation]]] = {}
        for v in self.violations:
            count, first = kinds.setdefault(v.kind, ([0], []))
            count[0] += 1
            if len(first) < examples:
                first.append(v)
        return [(k, c[0], first) for k, (c, first) in kinds.items()]

    def summary(self) -> str:
        if self.ok:
            # A plan without rows has nothing to cost; calling it "feasible" would mislead.
            if self.cost is None:
                return "no plan (status infeasible or no_solution), nothing to cost"
            return "feasible, costs agree"
        lines = [f"{len(self.violations)} violation(s)"]
        lines.extend(f"  {v}" for v in self.violations)
        return "\n".join(lines)


def _close(a: float, b: float, rel_tol: float) -> bool:
    # Infinity is not close to itself: `inf - inf` aside, `inf <= rel_tol * inf` holds.
    return (math.isfinite(a) and math.isfinite(b)
            and abs(a - b) <= rel_tol * max(1.0, abs(a), abs(b)))


def at_most(used: float, limit: float) -> bool:
    """`used <= limit` within the checker's tolerance (FEAS_TOL relative): the ledger books
    with the same test, so that a ledger the broker accepts passes the checker."""
    return used <= limit + FEAS_TOL * max(1.0, abs(limit))


# --------------------------------------------------------------------------------------
# Feasibility (SPEC section 5)


def _check_production(ctx: Context, plan: Plan, d: Decisions, out: list[Violation]) -> None:
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
        if non_finite_fields(pr):
            continue  # a `number` violation
        if r is not None and pr.quantity > 0 and pr.period < r.release:
            out.append(Violation(
                "release", f"production[{i}]",
                f"step {pr.step} of request {r.id} runs in period {pr.period}, before its "
                f"release in period {r.release}"))


def _check_capacity(ctx: Context, d: Decisions, out: list[Violation]) -> None:
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
        if not at_most(hours, cap):
            out.append(Violation(
                "capacity", f"workshop {w}, process {process}, period {t}",
                f"uses {_fmt(hours)} h of {_fmt(cap)} h available"))


def _check_flow(ctx: Context, d: Decisions, out: list[Violation]) -> None:
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


def _check_delivery_paths(ctx: Context, d: Decisions, out: list[Violation]) -> None:
    for (rid, s, w), q in d.X.items():
        r = ctx.requests[rid]
        if q <= 0 or r.destination is None or s != ctx.n_steps(r) - 1:
            continue
        if ctx.km(ctx.location_of[w], r.destination) is None:
            out.append(Violation(
                "path", f"request {rid}, workshop {w}",
                f"final step made at {w} ({ctx.location_of[w]}) but there is no path to the "
                f"destination {r.destination}"))


def _check_precedence(ctx: Context, d: Decisions, out: list[Violation]) -> None:
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


def _check_demand(ctx: Context, d: Decisions, out: list[Violation]) -> None:
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


def _check_materials(ctx: Context, d: Decisions, out: list[Violation]) -> None:
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
        if not at_most(kg, stock):
            out.append(Violation(
                "stock", f"center {c}, material {mat}",
                f"sends {_fmt(kg)} kg of {_fmt(stock)} kg in stock"))


def _check_sourcing(ctx: Context, d: Decisions, out: list[Violation]) -> None:
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


def _check_inclusion(ctx: Context, d: Decisions, out: list[Violation]) -> None:
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
            if not at_most(q, allowed):
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


def _check_policies(ctx: Context, d: Decisions, cost: dict[str, float],
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
    foreign, total = foreign_and_total(ctx, d, cost)
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


def _check_numbers(plan: Plan, out: list[Violation]) -> None:
    """Every Infinity and NaN outside the rows (objective, bound, cost terms, KPIs and any
    extra key), by path. A plan holding one is not usable whatever else it says: no
    comparison with a non-finite number means what it seems to (`inf <= 1e-6 * inf`)."""
    doc = plan.model_dump(mode="python", by_alias=True, exclude=set(_ROW_KEYS))
    stack: list[tuple[str, Any]] = [(k, v) for k, v in reversed(doc.items())]
    while stack:
        path, v = stack.pop()
        if isinstance(v, float) and not math.isfinite(v):
            out.append(Violation("number", path, f"{non_finite_text(v)} is not a finite number"))
        elif isinstance(v, dict):
            stack.extend((f"{path}.{k}", x) for k, x in reversed(v.items()))
        elif isinstance(v, list | tuple):
            stack.extend((f"{path}[{i}]", x) for i, x in reversed(list(enumerate(v))))


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
    if plan.status is Status.OPTIMAL and obj is not None and math.isfinite(obj):
        if bound is None:
            out.append(Violation(
                "bound", "bound",
                f"status optimal but the plan has no bound: optimal needs a lower bound "
                f"within {OPTIMAL_GAP:g} (relative) of the objective, else it is feasible"))
        elif math.isfinite(bound) and obj - bound > OPTIMAL_GAP * max(1.0, abs(obj)):
            out.append(Violation(
                "bound", "bound",
                f"status optimal but the bound {_fmt(bound)} is {_fmt(obj - bound)} below the "
                f"objective {_fmt(obj)} (relative gap {(obj - bound) / max(1.0, abs(obj)):.3g}"
                f"); optimal needs at most {OPTIMAL_GAP:g}, else it is feasible"))
    if obj is None or bound is None or not (math.isfinite(obj) and math.isfinite(bound)):
        return  # a non-finite one is a `number` violation
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


def _check_dates(sc: Scenario, plan: Plan, out: list[Violation]) -> None:
    """SPEC 8.1: the optional `date` of a production row is its period's first day, and a
    plan's `requests` give each request's release, due and delivery dates as the scenario
    and the rows do. Recomputed here from the horizon, not with `models.dates`."""
    h = sc.horizon
    has_dates = (any(row.date is not None for row in plan.production)
                 or plan.requests is not None)
    if not has_dates:
        return
    start = h.start
    if start is None:
        out.append(Violation("date", "horizon.start",
                             "the plan carries dates but the scenario has no horizon.start"))
        return

    def day(t: int) -> str:
        return (start + timedelta(days=t * h.period_days)).isoformat()

    counted = [(i, row) for i, row in enumerate(plan.production)
               if not non_finite_fields(row)]  # the others are `number` violations
    for i, row in counted:
        if row.date is not None and row.date != day(row.period):
            out.append(Violation("date", f"production[{i}].date",
                                 f"{row.date} is not the first day of period {row.period} "
                                 f"({day(row.period)})"))
    if plan.requests is None:
        return
    finals: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    known = {r.id: r for r in sc.requests}
    comps = {c.id: c for c in sc.components}
    for _i, row in counted:
        r = known.get(row.request)
        if r is not None and r.component in comps and \
                row.step == len(comps[r.component].routing) - 1:
            finals[row.request][row.period] += row.quantity
    seen: set[str] = set()
    for i, rd in enumerate(plan.requests):
        where = f"requests[{i}]"
        r = known.get(rd.request)
        if r is None:
            out.append(Violation("date", f"{where}.request", f"unknown request '{rd.request}'"))
            continue
        seen.add(r.id)
        due = h.periods - 1 if r.due is None else r.due
        for name, got, want in (("release", rd.release, r.release), ("due", rd.due, due),
                                ("release_date", rd.release_date, day(r.release)),
                                ("due_date", rd.due_date, day(due))):
            if got != want:
                out.append(Violation("date", f"{where}.{name}",
                                     f"plan says {got}, the scenario gives {want}"))
        made = {(d.period, d.quantity) for d in rd.deliveries if d.source == "made"}
        want_made = set(finals.get(r.id, {}).items())
        if made != want_made:
            out.append(Violation("date", f"{where}.deliveries",
                                 f"made units by period {sorted(made)} differ from the "
                                 f"final-step rows {sorted(want_made)}"))
        for j, d in enumerate(rd.deliveries):
            if d.date != day(d.period):
                out.append(Violation("date", f"{where}.deliveries[{j}].date",
                                     f"{d.date} is not the first day of period {d.period} "
                                     f"({day(d.period)})"))
    missing = [r.id for r in sc.requests if r.id not in seen]
    if missing:
        out.append(Violation("date", "requests",
                             f"no dates for request(s) {', '.join(missing[:5])}"
                             + (" ..." if len(missing) > 5 else "")))


def inclusion_violations(scenario: Scenario, plan: Plan) -> list[Violation]:
    """Only the SPEC 8.2-8.5 checks (minimum lots, sourcing floors, spread, regional
    shares) of `plan`: what a constructive plan, which meets the rest by construction,
    must still be checked for."""
    ctx = Context(scenario)
    out: list[Violation] = []
    _check_inclusion(ctx, read_rows(ctx, plan, []), out)
    return out


def check(scenario: Scenario, plan: Plan, *, rel_tol: float = 1e-6) -> CheckReport:
    """Every violation of SPEC sections 5 to 7 in `plan`, with the recomputed cost."""
    out: list[Violation] = []
    if plan.scenario != scenario.name:
        out.append(Violation("reference", "scenario",
                             f"plan is for scenario '{plan.scenario}', not '{scenario.name}'"))
    _check_numbers(plan, out)
    _check_status(plan, out)
    if not plan.status.has_plan:
        return CheckReport(violations=out, cost=None, objective=None, kpis={})

    ctx = Context(scenario)
    problems: list[RowProblem] = []
    d = read_rows(ctx, plan, problems)
    out.extend(Violation(*p) for p in problems)
    cost = cost_terms(ctx, d)
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
    recomputed = kpis(ctx, d, cost)
    _check_kpis(plan, recomputed, out)
    _check_dates(scenario, plan, out)
    return CheckReport(violations=out, cost=cost, objective=math.fsum(cost.values()),
                       kpis=recomputed)
