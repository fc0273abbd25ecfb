"""What limits a plan, and where capacity is worth adding.

Capacity and stock are priced by the dual values of the LP with the plan's discrete
choices fixed (`SolveOptions(duals=True)` or `fixed_plan=`). Duals are exact for small
changes of that LP, but a plan in whole units with fixed costs can react to a larger
expansion quite differently; so the best candidates for investment are re-solved with the
capacity really added, and both numbers are reported; an expansion whose re-solve saves
nothing (or cannot say, out of time) carries a note saying why.

Units: a workshop's figure is what one more hour in one period saves. A cluster's row
gives both the best period's figure (per extra hour, in one period) and the sum over its
binding periods (one extra hour in each of them), never the sum as "per hour".
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field, replace

import models
from models.plan import Plan
from models.scenario import Scenario
from solvers import SolveOptions, solve


@dataclass(frozen=True)
class CapacityValue:
    workshop: str
    cluster: str
    process: str
    period: int
    value_per_hour: float  # what one more hour saves, per the fixed LP
    available_hours: float


@dataclass(frozen=True)
class ClusterValue:
    cluster: str
    process: str
    periods: list[int]  # the periods where the cluster's capacity of `process` binds
    # The best-placed workshop's saving for one more hour, in the best of `periods`.
    best_value_per_hour: float
    # The saving of one more hour in each of `periods` (the sum of the periods' best).
    value_hour_each_period: float
    available_hours: float  # over the horizon


@dataclass(frozen=True)
class StockValue:
    center: str
    material: str
    value_per_kg: float
    stock_kg: float


@dataclass(frozen=True)
class Investment:
    cluster: str
    process: str
    factor: float  # capacity multiplied by 1 + factor in every period
    extra_hours: float  # over the horizon
    estimated_saving: float  # duals x extra hours
    saving: float | None  # re-solved: objective before minus after (None if not re-solved)
    status: str | None  # of the re-solve
    # Both solves proven optimal: the saving is exact, not a difference of two incumbents.
    proven: bool = False
    # Why the re-solve saves nothing or cannot say; None when it saves what it says.
    note: str | None = None


@dataclass
class BottleneckReport:
    scenario: str
    objective: float | None
    lp_objective: float | None
    capacity: list[CapacityValue] = field(default_factory=list)
    clusters: list[ClusterValue] = field(default_factory=list)
    stock: list[StockValue] = field(default_factory=list)
    invest: list[Investment] = field(default_factory=list)
    plan: Plan | None = None  # the plan analysed, as solved or given


def bottlenecks(scenario: Scenario, plan: Plan | None = None, *,
                options: SolveOptions | None = None, verify: int = 3,
                expand: float = 0.1) -> BottleneckReport:
    """Rank what limits `plan` (solved first when None) and re-solve the `verify` most
    valuable cluster/process expansions with capacity scaled by 1 + `expand`."""
    options = options or SolveOptions()
    if plan is None:
        plan = solve(scenario, replace(options, duals=True))
    else:
        plan = solve(scenario, replace(options, fixed_plan=plan))
    report = BottleneckReport(scenario.name, plan.objective, None, plan=plan)
    sens = plan.sensitivity
    if sens is None:
        return report
    report.lp_objective = sens["lp_objective"]
    for c in sens["capacity"]:
        w = scenario.workshop(c["workshop"])
        report.capacity.append(CapacityValue(
            c["workshop"], w.location, c["process"], c["period"], c["value_per_hour"],
            w.cap(c["process"], c["period"])))
    for st in sens["stock"]:
        stock = scenario.center(st["center"]).materials[st["material"]].stock_kg
        report.stock.append(StockValue(st["center"], st["material"], st["value_per_kg"], stock))

    # Per cluster, process and period, the best workshop's value: an hour added there.
    best: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    for c in report.capacity:
        per = best[(c.cluster, c.process)]
        per[c.period] = max(per.get(c.period, 0.0), c.value_per_hour)
    for (cluster, proc), per in best.items():
        report.clusters.append(ClusterValue(
            cluster, proc, sorted(per), max(per.values()), sum(per.values()),
            _cluster_hours(scenario, cluster, proc)))
    report.clusters.sort(key=lambda c: (-c.value_hour_each_period, c.cluster, c.process))

    base = plan.objective
    for cv in report.clusters[:max(0, verify)]:
        grown = expanded(scenario, cv.cluster, cv.process, expand)
        extra = _cluster_hours(grown, cv.cluster, cv.process) - cv.available_hours
        estimate = _estimate(report.capacity, scenario, cv.cluster, cv.process, expand)
        saving: float | None = None
        status: str | None = None
        if base is not None:
            after = solve(grown, replace(options, duals=False, fixed_plan=None))
            status = after.status.value
            if after.objective is not None:
                saving = base - after.objective
        proven = status == "optimal" and plan.status.value == "optimal"
        report.invest.append(Investment(cv.cluster, cv.process, expand, extra, estimate,
                                        saving, status, proven,
                                        _why_no_saving(saving, status, proven, base)))
    report.invest.sort(key=lambda i: -(i.saving if i.saving is not None
                                       else i.estimated_saving))
    return report


# A re-solved saving within this of the objective (relative) is no saving: the two solves
# are equally good plans up to the engine's tolerances.
NO_SAVING_REL = 1e-9


def _why_no_saving(saving: float | None, status: str | None, proven: bool,
                   base: float | None) -> str | None:
    """A note for an expansion whose re-solve shows no saving, or none that can be trusted."""
    if status is None:
        return "not re-solved: the analysed plan has no objective"
    if saving is None:
        return f"the re-solve found no plan ({status})"
    tol = NO_SAVING_REL * max(1.0, abs(base or 0.0))
    if saving > tol:
        return None
    if proven:
        return ("re-solved to proven optimality, the added hours save nothing: the dual "
                "value prices hours in the LP with the plan's choices fixed and units "
                "continuous, and no plan in whole units gains from them")
    return ("the re-solve stopped at its time limit with a plan no better than the one "
            "analysed: the saving is not known (a longer --time-limit may find it)")


def _cluster_hours(sc: Scenario, cluster: str, process: str) -> float:
    return sum(w.cap(process, t) for w in sc.workshops if w.location == cluster
               for t in range(sc.horizon.periods))


def _estimate(values: list[CapacityValue], sc: Scenario, cluster: str, process: str,
              expand: float) -> float:
    """Duals times the hours an expansion adds to each workshop and period."""
    return sum(v.value_per_hour * v.available_hours * expand for v in values
               if v.cluster == cluster and v.process == process)


def expanded(sc: Scenario, cluster: str, process: str, factor: float) -> Scenario:
    """The scenario with `process` capacity of every workshop at `cluster` times 1+factor."""
    doc = copy.deepcopy(models.scenario_to_dict(sc))
    for w in doc.get("workshops", []):
        if w["location"] != cluster:
            continue
        if process in w.get("capacity", {}):
            w["capacity"][process] *= 1 + factor
        if process in w.get("capacity_by_period", {}):
            w["capacity_by_period"][process] = [h * (1 + factor)
                                                for h in w["capacity_by_period"][process]]
    return models.scenario_from_dict(doc, f"{sc.name} with {process} at {cluster} "
                                          f"x{1 + factor:g}")
