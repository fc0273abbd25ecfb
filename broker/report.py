"""What a planner reads after a solve: utilization by cluster and process, and the gap."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from models.derived import Derived
from models.plan import Plan
from models.scenario import Scenario


@dataclass(frozen=True)
class Utilization:
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
