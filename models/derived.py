"""Derived data of a scenario (SPEC section 3): distances, eligibility, hours, unit cost,
tooling and capacity. Pure: the solvers and the checker both read it from here."""

from __future__ import annotations

import copy
import heapq
import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from models.scenario import Component, Offer, Request, Scenario, Step, Workshop

EARTH_RADIUS_KM = 6371.0088


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


class Distances:
    """km between locations, or None where they cannot ship to each other.

    With routes, shortest paths over the road graph (one Dijkstra per source location,
    computed when first asked and kept); without, great-circle times the road factor.
    """

    def __init__(self, scenario: Scenario):
        self._scenario = scenario
        self._coords = {
            loc.id: (loc.lat, loc.lon)
            for loc in scenario.locations
            if loc.lat is not None and loc.lon is not None
        }
        # The road graph as adjacency lists, the shorter of parallel links (the road a
        # planner would take). Walked here rather than with networkx, whose import took
        # 0.29 of the 0.38 s before the first plan of a small alt-generator instance.
        self._graph: dict[str, dict[str, float]] | None = None
        if scenario.routes:
            g: dict[str, dict[str, float]] = {loc.id: {} for loc in scenario.locations}
            for rt in scenario.routes:
                if rt.from_ == rt.to:
                    continue
                for a, b in ((rt.from_, rt.to), (rt.to, rt.from_)):
                    row = g.setdefault(a, {})
                    if rt.km < row.get(b, math.inf):
                        row[b] = rt.km
            self._graph = g
        self._from: dict[str, dict[str, float]] = {}
        self._pairs: dict[tuple[str, str], float | None] = {}
        self._components: list[frozenset[str]] | None = None

    def components(self) -> list[frozenset[str]]:
        """The groups of locations that can ship to each other (every pair of a group has
        a distance, no pair across groups has one), largest first: one group unless the
        roads leave islands or a location has no coordinates."""
        if self._components is None:
            ids = [loc.id for loc in self._scenario.locations]
            if self._graph is not None:
                groups: list[frozenset[str]] = []
                seen: set[str] = set()
                for loc in self._graph:
                    if loc not in seen:
                        group = frozenset(self._shortest_from(loc))
                        seen |= group
                        groups.append(group)
            else:
                placed = frozenset(i for i in ids if i in self._coords)
                groups = ([placed] if placed else []) + [
                    frozenset([i]) for i in ids if i not in self._coords]
            self._components = sorted(groups, key=lambda g: (-len(g), min(g)))
        return self._components

    def _shortest_from(self, a: str) -> dict[str, float]:
        """km of the shortest road from `a` to every location it reaches (Dijkstra)."""
        row = self._from.get(a)
        if row is None:
            assert self._graph is not None
            graph = self._graph
            row = {}
            heap = [(0.0, a)]
            while heap:
                km, here = heapq.heappop(heap)
                if here in row:
                    continue
                row[here] = km
                for there, leg in graph.get(here, {}).items():
                    if there not in row:
                        heapq.heappush(heap, (km + leg, there))
            self._from[a] = row
        return row

    def km(self, a: str, b: str) -> float | None:
        if a == b:
            return 0.0
        if self._graph is not None:
            return self._shortest_from(a).get(b)
        # Kept per pair: with 100,000 requests the same few hundred pairs are asked for
        # half a million times, and the trigonometry was most of the time before a solve.
        key = (a, b)
        if key in self._pairs:
            return self._pairs[key]
        ca, cb = self._coords.get(a), self._coords.get(b)
        km = (None if ca is None or cb is None else
              great_circle_km(ca[0], ca[1], cb[0], cb[1]) * self._scenario.transport.road_factor)
        self._pairs[key] = km
        return km


class StepInfo(NamedTuple):
    """What a workshop does for one step of one component. A named tuple rather than a
    frozen dataclass: one is made for every offer a solve ranks, and a frozen dataclass's
    constructor cost 2.9 s of the 12 s that ranking the 1 M offers of a 1,000 x 1,000
    facility location took."""

    hours: float
    unit_cost: float
    tooling: float
    # SPEC 8.2: none or at least this many units (the offer's value, else the step's).
    min_lot: int = 0


@dataclass
class Derived:
    scenario: Scenario
    dist: Distances = field(init=False)

    def __post_init__(self) -> None:
        self.dist = Distances(self.scenario)

    @cached_property
    def offers(self) -> dict[tuple[str, str, int], Offer]:
        return {(o.workshop, o.component, o.step): o for o in self.scenario.offers}

    @cached_property
    def location_of(self) -> dict[str, str]:
        """Location of every workshop and material center, by id."""
        out = {w.id: w.location for w in self.scenario.workshops}
        out.update({c.id: c.location for c in self.scenario.material_centers})
        return out

    @cached_property
    def _capacity_known(self) -> dict[tuple[str, str], tuple[Workshop, bool]]:
        return {}

    def has_capacity(self, w: Workshop, process: str) -> bool:
        # Kept per (workshop, process): eligibility asks once per workshop and distinct
        # (component, step, certifications), 381,600 times on the alt generator's large
        # seed 1 for 3,600 distinct answers (1.2 s of its first plan). The workshop object
        # is kept too, as in `step_info`.
        hit = self._capacity_known.get((w.id, process))
        if hit is not None and hit[0] is w:
            return hit[1]
        periods = self.scenario.horizon.periods
        found = any(w.cap(process, t) > 0 for t in range(periods))
        self._capacity_known[(w.id, process)] = (w, found)
        return found

    @cached_property
    def _step_infos(self) -> dict[tuple[str, str, int], tuple[Workshop, StepInfo]]:
        return {}

    def step_info(self, w: Workshop, component: str, s: int) -> StepInfo:
        # Kept per (workshop, component, step): a constructive plan of 100,000 requests
        # asks millions of times for a few thousand distinct answers. The workshop object
        # is kept too, so a workshop of another scenario with the same id is not served
        # this one's hours.
        key = (w.id, component, s)
        hit = self._step_infos.get(key)
        if hit is not None and hit[0] is w:
            return hit[1]
        info = self._step_info(w, component, s)
        self._step_infos[key] = (w, info)
        return info

    def step_infos(self, component: str, s: int, workshops: Iterable[Workshop]
                   ) -> list[StepInfo]:
        """`step_info(w, component, s)` for each of `workshops`, computed in one pass and
        not kept: where every workshop of a step is asked for once (ranking them, a
        relaxation's data), the cache only costs. Through `step_info` the unit bound of a
        1,000 x 1,000 facility location (1 M offers) took 8.9-10 s, most of it in
        filling the cache; 2.4-3.5 s so."""
        step = self.scenario.component(component).routing[s]
        offers = self.offers
        out = []
        for w in workshops:
            offer = offers.get((w.id, component, s))
            # Fields by position (hours, unit cost, tooling, minimum lot): by keyword a
            # named tuple takes twice as long to make.
            if offer is None:
                out.append(StepInfo(step.hours, w.rate.get(step.process, 0.0) * step.hours,
                                    0.0, step.min_lot))
                continue
            hours = step.hours if offer.hours is None else offer.hours
            out.append(StepInfo(
                hours,
                (w.rate.get(step.process, 0.0) * hours if offer.unit_price is None
                 else offer.unit_price),
                offer.tooling_cost,
                step.min_lot if offer.min_lot is None else offer.min_lot))
        return out

    def _step_info(self, w: Workshop, component: str, s: int) -> StepInfo:
        return self.step_infos(component, s, (w,))[0]

    @cached_property
    def _sources_known(self) -> dict[tuple[str, str], tuple[Workshop, list[tuple[str, float]]]]:
        return {}

    def material_sources(self, material: str, workshop: Workshop) -> list[tuple[str, float]]:
        """(center id, km) of every center holding `material` with a path to the workshop
        (kept per material and workshop, as `has_capacity` is)."""
        hit = self._sources_known.get((material, workshop.id))
        if hit is not None and hit[0] is workshop:
            return list(hit[1])
        out = self._material_sources(material, workshop)
        self._sources_known[(material, workshop.id)] = (workshop, out)
        return list(out)

    def _material_sources(self, material: str, workshop: Workshop) -> list[tuple[str, float]]:
        out = []
        for c in self.scenario.material_centers:
            if material in c.materials:
                km = self.dist.km(c.location, workshop.location)
                if km is not None:
                    out.append((c.id, km))
        return out

    def ineligibility(self, w: Workshop, r: Request, s: int) -> str | None:
        """Why `w` may not do step `s` of `r`, or None when it may (SPEC section 3)."""
        comp = self.scenario.component(r.component)
        step: Step = comp.routing[s]
        if not self.has_capacity(w, step.process):
            return f"no capacity for process '{step.process}'"
        missing = [c for c in r.requires if c not in w.certifications]
        if missing:
            return "lacks certification " + ", ".join(missing)
        return self._supply_ineligibility(w, comp, s)

    def _supply_ineligibility(self, w: Workshop, comp: Component, s: int) -> str | None:
        """What `ineligibility` checks after capacity and certifications (neither depends
        on the request): an offer where the component needs one, and material in reach."""
        step: Step = comp.routing[s]
        if comp.offers_only and (w.id, comp.id, s) not in self.offers:
            return "no offer for this step"
        if step.material is not None and not self.material_sources(step.material, w):
            return f"no center holding material '{step.material}' can reach it"
        return None

    def restricted(self, keep: Mapping[tuple[str, int], Collection[str]]) -> Derived:
        """The same derived data with only the workshops in `keep` eligible for each
        (request, step) (none where `keep` has no entry): a model built from it is the
        scenario's model with every other unit column fixed at 0."""
        out = copy.copy(self)  # shares distances and the other cached tables
        out.__dict__["eligible"] = {key: [w for w in ws if w in keep.get(key, ())]
                                    for key, ws in self.eligible.items()}
        return out

    @cached_property
    def eligible(self) -> dict[tuple[str, int], list[str]]:
        """Workshops (ids, in scenario order) eligible for every (request, step)."""
        out: dict[tuple[str, int], list[str]] = {}
        # Eligibility depends on the request only through its component and certifications,
        # so thousands of requests share a few hundred distinct answers; and all but the
        # certifications only on the (component, step): those are checked once per step,
        # the certifications per answer (on the alt generator's large instances, 1,024
        # answers over 450 workshops had taken about 1 s, before the first plan).
        memo: dict[tuple[str, int, frozenset[str]], list[str]] = {}
        steps: dict[tuple[str, int], list[Workshop]] = {}
        for r in self.scenario.requests:
            comp = self.scenario.component(r.component)
            for s in range(len(comp.routing)):
                key = (comp.id, s, frozenset(r.requires))
                if key not in memo:
                    if (comp.id, s) not in steps:
                        proc = comp.routing[s].process
                        steps[(comp.id, s)] = [
                            w for w in self.scenario.workshops
                            if self.has_capacity(w, proc)
                            and self._supply_ineligibility(w, comp, s) is None]
                    memo[key] = [w.id for w in steps[(comp.id, s)]
                                 if key[2].issubset(w.certifications)]
                out[(r.id, s)] = memo[key]
        return out
