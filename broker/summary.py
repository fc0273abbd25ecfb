"""What a planner reads after a solve, as data: the rows of a plan's summary (status,
objective, bound and gap, cost terms, KPIs, unmet demand with reasons) and utilization
by cluster and process. The CLI prints a `PlanSummary`; services and reports can send or
render the same rows (`PlanSummary.to_dict()` is a JSON document)."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from models.dates import period_start
from models.derived import Derived
from models.plan import Plan, Status
from models.scenario import Scenario


@dataclass(frozen=True)
class Utilization:
    """Hours used and available over the horizon at one cluster for one process."""

    cluster: str  # the workshop's location id
    process: str
    used_hours: float
    available_hours: float
    workshops: int  # workshops of the cluster with capacity for the process

    @property
    def share(self) -> float:
        return self.used_hours / self.available_hours if self.available_hours > 0 else 0.0


def utilization(scenario: Scenario, plan: Plan) -> list[Utilization]:
    """Hours used against hours available over the horizon, per cluster and process."""
    d = Derived(scenario)
    periods = range(scenario.horizon.periods)
    avail: dict[tuple[str, str], float] = defaultdict(float)
    count: dict[tuple[str, str], int] = defaultdict(int)
    for w in scenario.workshops:
        for p in w.processes():
            hours = sum(w.cap(p, t) for t in periods)
            if hours > 0:
                avail[(w.location, p)] += hours
                count[(w.location, p)] += 1
    used: dict[tuple[str, str], float] = defaultdict(float)
    for row in plan.production:
        r = scenario.request(row.request)
        comp = scenario.component(r.component)
        w = scenario.workshop(row.workshop)
        h = d.step_info(w, comp.id, row.step).hours
        used[(w.location, comp.routing[row.step].process)] += h * row.quantity
    return [
        Utilization(loc, p, used.get((loc, p), 0.0), hours, count[(loc, p)])
        for (loc, p), hours in sorted(avail.items())
    ]


@dataclass(frozen=True)
class UnmetLine:
    request: str
    quantity: int
    reason: str


@dataclass(frozen=True)
class RequestLine:
    """When a request's units arrive against its due period; dates with `horizon.start`."""

    request: str
    quantity: int
    due: int
    due_date: str | None
    delivered: dict[int, int]  # period -> units arriving (made or imported)
    delivered_dates: dict[int, str]  # period -> its first day (dated scenarios only)
    unmet: int

    @property
    def last(self) -> int | None:
        return max(self.delivered) if self.delivered else None


def request_lines(scenario: Scenario, plan: Plan) -> list[RequestLine]:
    """Per request: due period and date, units arriving per period, units unmet."""
    start, days = scenario.horizon.start, scenario.horizon.period_days

    dates: dict[int, str | None] = {}

    def on(t: int) -> str | None:
        if t not in dates:
            dates[t] = None if start is None else period_start(start, days, t).isoformat()
        return dates[t]

    arriving: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in plan.production:
        r = scenario.request(row.request)
        if row.step == len(scenario.component(r.component).routing) - 1:
            arriving[r.id][row.period] += row.quantity
    for imp in plan.imports:
        comp = scenario.component(scenario.request(imp.request).component)
        lead = comp.import_.lead_periods if comp.import_ is not None else 0
        arriving[imp.request][lead] += imp.quantity
    unmet: dict[str, int] = defaultdict(int)
    for u in plan.unmet:
        unmet[u.request] += u.quantity
    lines = []
    for r in scenario.requests:
        got = dict(sorted(arriving.get(r.id, {}).items()))
        due = scenario.due(r)
        lines.append(RequestLine(r.id, r.quantity, due, on(due), got,
                                 {t: d for t in got if (d := on(t)) is not None},
                                 unmet[r.id]))
    return lines


@dataclass(frozen=True)
class PlanSummary:
    """The rows of a plan summary. Without a plan, `cost` is None and `no_plan` says why
    in a planner's words."""

    scenario: str
    currency: str
    workshops: int
    requests: int
    periods: int
    # SPEC 8.1: first and last day of the horizon, when it has a start.
    start_date: str | None
    end_date: str | None
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float  # the solve's total time (0 when the plan carries no timings)
    cost: dict[str, float] | None
    kpis: dict[str, float]
    imported_units: int
    unmet: list[UnmetLine]
    utilization: list[Utilization]
    no_plan: str | None
    deliveries: list[RequestLine] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        doc = dataclasses.asdict(self)
        doc["utilization"] = [dict(row, share=u.share)
                              for row, u in zip(doc["utilization"], self.utilization,
                                                strict=True)]
        # JSON object keys are text: periods as strings, in period order.
        for line in doc["deliveries"]:
            line["delivered"] = {str(t): q for t, q in line["delivered"].items()}
            line["delivered_dates"] = {str(t): d for t, d in line["delivered_dates"].items()}
        return doc


def no_plan_reason(plan: Plan) -> str:
    """Why a plan without an allocation has none."""
    if plan.status is Status.INFEASIBLE:
        return plan.diagnosis or "the scenario has no plan that meets every constraint"
    return "the time limit ran out before a plan was found"


def summarize(scenario: Scenario, plan: Plan, deliveries: bool = True) -> PlanSummary:
    """Everything the summary of `plan` shows, computed once; without `deliveries`, no
    per-request lines (a terminal summary of many requests does not show them)."""
    has_plan = plan.status.has_plan and plan.cost is not None
    h = scenario.horizon
    end = (None if h.start is None
           else period_start(h.start, h.period_days, h.periods) - timedelta(days=1))
    return PlanSummary(
        scenario=scenario.name, currency=scenario.currency,
        workshops=len(scenario.workshops), requests=len(scenario.requests),
        periods=h.periods, start_date=None if h.start is None else h.start.isoformat(),
        end_date=None if end is None else end.isoformat(), status=plan.status.value,
        objective=plan.objective, bound=plan.bound, gap=plan.gap,
        seconds=float((plan.timings or {}).get("total", 0.0)),
        cost=plan.cost.as_dict() if has_plan and plan.cost is not None else None,
        kpis=dict(plan.kpis),
        imported_units=sum(i.quantity for i in plan.imports),
        unmet=[UnmetLine(u.request, u.quantity, u.reason) for u in plan.unmet],
        utilization=utilization(scenario, plan) if has_plan else [],
        no_plan=None if has_plan else no_plan_reason(plan),
        deliveries=request_lines(scenario, plan) if has_plan and deliveries else [])
