"""Pydantic models of a scenario file (SPEC section 2).

Field-level rules (types, ranges, required keys) live here; rules that relate one part of
the document to another (references, duplicates, lengths) live in `models.validate`, so
that a file with many problems gets all of them reported at once.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
)

ID_PATTERN = r"^[A-Za-z0-9_.-]+$"

# Size and number limits (docs/scenario.md, "Limits"). Each is far above a national
# scenario (5,000 workshops, 20,000 requests, 12 periods, unit prices below 1e9 IDR) and
# keeps every coefficient the engines see below HiGHS's infinity (1e20): a unit cost is at
# most MAX_MONEY * MAX_PER_UNIT = 1e19. A file beyond them is refused before any solving,
# with the limit in the message, instead of an engine error or hours in derived data.
MAX_PERIODS = 1_000
MAX_UNITS = 1_000_000_000
MAX_MONEY = 1e15  # a price, rate, penalty, fixed cost (per unit, hour, kg or once)
MAX_PER_UNIT = 1e4  # hours or kg of material per unit of a step
MAX_WEIGHT_KG = 1e4
MAX_HOURS = 1e9  # hours per period of a workshop's process
MAX_KG = 1e12  # kg of stock
MAX_KM = 1e5
MAX_TRANSPORT_RATE = 1e6  # per kg and km
MAX_FACTOR = 100.0  # road factor, import tariff
MAX_REQUESTS = 1_000_000
MAX_OFFERS = 1_000_000
MAX_ENTRIES = 100_000  # locations, routes, materials, centers, workshops, components
MAX_STEPS = 100

Id = Annotated[str, StringConstraints(pattern=ID_PATTERN, min_length=1)]


# Numbers >= 0 up to a limit. Strict: `true` or `"100"` is not a number (an int is taken
# for a float: YAML and JSON write 80 for 80.0); inf and nan fail the upper bound.
Money = Annotated[float, Strict(), Field(ge=0, le=MAX_MONEY)]
PerUnit = Annotated[float, Strict(), Field(ge=0, le=MAX_PER_UNIT)]
WeightKg = Annotated[float, Strict(), Field(ge=0, le=MAX_WEIGHT_KG)]
Hours = Annotated[float, Strict(), Field(ge=0, le=MAX_HOURS)]
StockKg = Annotated[float, Strict(), Field(ge=0, le=MAX_KG)]
Km = Annotated[float, Strict(), Field(ge=0, le=MAX_KM)]
TransportRate = Annotated[float, Strict(), Field(ge=0, le=MAX_TRANSPORT_RATE)]
Factor = Annotated[float, Strict(), Field(ge=0, le=MAX_FACTOR)]
NonNeg = Money  # a number >= 0 with no more specific limit
Share = Annotated[float, Strict(), Field(ge=0, le=1)]
Period = Annotated[int, Strict(), Field(ge=0, le=MAX_PERIODS)]
Count = Annotated[int, Strict(), Field(ge=1, le=MAX_UNITS)]
# A request's release or due: a period number, or (SPEC 8.1, with horizon.start) an ISO
# date, which `models.dates` turns into its period before validation; so the model holds a
# period and the schema says both are accepted.
DatedPeriod = Annotated[int, Strict(), Field(ge=0, le=MAX_PERIODS), WithJsonSchema({
    "anyOf": [{"type": "integer", "minimum": 0, "maximum": MAX_PERIODS},
              {"type": "string", "format": "date"}]})]
# Whole units, >= 0 (SPEC 8.2).
Units = Annotated[int, Strict(), Field(ge=0, le=MAX_UNITS)]


class _Strict(BaseModel):
    # A misspelt key is a mistake a planner wants to hear about, not silently ignored.
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Horizon(_Strict):
    periods: Annotated[int, Strict(), Field(ge=1, le=MAX_PERIODS)]
    period_days: Annotated[int, Strict(), Field(ge=1, le=36_600)] = 7
    start: date | None = None


class Transport(_Strict):
    cost_per_kg_km: TransportRate = 0.0
    road_factor: Factor = 1.25


class Policy(_Strict):
    min_domestic_share: Share = 0.0
    min_local_content: Share = 0.0
    import_tariff: Factor = 0.0
    step_lag_periods: Period = 0
    unmet_penalty: Money = 1.0e9
    late_penalty: Money = 0.0
    # SPEC 8.4: no workshop makes more than this share of the domestic final-step units.
    max_workshop_share: Annotated[float, Strict(), Field(gt=0, le=1)] = 1.0
    # SPEC 8.5: location id -> least share of the domestic final-step units made there.
    min_location_share: dict[Id, Share] = Field(default_factory=dict)


class Location(_Strict):
    id: Id
    name: str | None = None
    lat: Annotated[float, Strict(), Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Strict(), Field(ge=-180, le=180)] | None = None


class Route(_Strict):
    from_: Id = Field(alias="from")
    to: Id
    km: Km


class Material(_Strict):
    id: Id
    name: str | None = None


class Stock(_Strict):
    stock_kg: StockKg
    price_per_kg: Money
    domestic: StrictBool = True


class MaterialCenter(_Strict):
    id: Id
    name: str | None = None
    location: Id
    materials: dict[Id, Stock] = Field(default_factory=dict)


class Workshop(_Strict):
    id: Id
    name: str | None = None
    location: Id
    certifications: list[str] = Field(default_factory=list)
    capacity: dict[str, Hours] = Field(default_factory=dict)
    capacity_by_period: dict[str, Annotated[list[Hours], Field(max_length=MAX_PERIODS)]] = \
        Field(default_factory=dict)
    rate: dict[str, Money] = Field(default_factory=dict)
    engagement_cost: Money = 0.0

    def processes(self) -> list[str]:
        """Processes named in capacity or capacity_by_period, in first-seen order."""
        seen = dict.fromkeys(self.capacity)
        seen.update(dict.fromkeys(self.capacity_by_period))
        return list(seen)

    def cap(self, process: str, period: int) -> float:
        """Hours of `process` available in `period` (SPEC section 3)."""
        by_period = self.capacity_by_period.get(process)
        if by_period is not None:
            return by_period[period]
        return self.capacity.get(process, 0.0)


class Import(_Strict):
    price: Money
    lead_periods: Period = 0


class Step(_Strict):
    process: Annotated[str, StringConstraints(min_length=1)]
    hours: PerUnit
    material: Id | None = None
    material_kg: PerUnit | None = None
    # SPEC 8.2: a workshop making this step of a request makes none or at least this many.
    min_lot: Units = 0


class Component(_Strict):
    id: Id
    name: str | None = None
    weight_kg: WeightKg = 0.0
    import_: Import | None = Field(default=None, alias="import")
    offers_only: StrictBool = False
    routing: Annotated[list[Step], Field(min_length=1, max_length=MAX_STEPS)]


class Offer(_Strict):
    workshop: Id
    component: Id
    step: Period
    unit_price: Money | None = None
    hours: PerUnit | None = None
    tooling_cost: Money = 0.0
    # Replaces the step's min_lot for this workshop (SPEC 8.2); None keeps the step's.
    min_lot: Units | None = None


class Request(_Strict):
    id: Id
    buyer: str | None = None
    component: Id
    quantity: Count
    release: DatedPeriod = 0
    # Without a due period the request is on time anywhere in the horizon.
    due: DatedPeriod | None = None
    destination: Id | None = None
    requires: list[str] = Field(default_factory=list)
    max_suppliers_per_step: Annotated[int, Strict(), Field(ge=1, le=MAX_ENTRIES)] | None = None
    # SPEC 8.3: when any unit is made at home, every step has at least this many workshops.
    min_suppliers_per_step: Annotated[int, Strict(), Field(ge=1, le=MAX_ENTRIES)] | None = None
    allow_import: StrictBool | None = None
    late_penalty: Money | None = None
    unmet_penalty: Money | None = None


class Scenario(_Strict):
    """A whole scenario document. Build it with `models.load_scenario` or
    `models.scenario_from_dict`, which also run the cross-reference checks."""

    name: Annotated[str, StringConstraints(min_length=1)]
    currency: str = "IDR"
    horizon: Horizon
    transport: Transport = Field(default_factory=Transport)
    policy: Policy = Field(default_factory=Policy)
    locations: list[Location] = Field(default_factory=list, max_length=MAX_ENTRIES)
    routes: list[Route] = Field(default_factory=list, max_length=MAX_ENTRIES)
    materials: list[Material] = Field(default_factory=list, max_length=MAX_ENTRIES)
    material_centers: list[MaterialCenter] = Field(default_factory=list,
                                                   max_length=MAX_ENTRIES)
    workshops: list[Workshop] = Field(default_factory=list, max_length=MAX_ENTRIES)
    components: list[Component] = Field(default_factory=list, max_length=MAX_ENTRIES)
    offers: list[Offer] = Field(default_factory=list, max_length=MAX_OFFERS)
    requests: list[Request] = Field(default_factory=list, max_length=MAX_REQUESTS)

    # Look-up tables by id, built on first use; a loaded scenario is treated as immutable.
    _idx: dict[str, dict[str, BaseModel]] | None = PrivateAttr(default=None)

    # Effective per-request values, so that every consumer resolves defaults the same way.
    def due(self, r: Request) -> int:
        return self.horizon.periods - 1 if r.due is None else r.due

    def late_penalty(self, r: Request) -> float:
        return self.policy.late_penalty if r.late_penalty is None else r.late_penalty

    def unmet_penalty(self, r: Request) -> float:
        return self.policy.unmet_penalty if r.unmet_penalty is None else r.unmet_penalty

    def min_suppliers(self, r: Request) -> int:
        return 1 if r.min_suppliers_per_step is None else r.min_suppliers_per_step

    def has_inclusion_rules(self) -> bool:
        """Whether any SPEC 8.2-8.5 rule binds at all: without one, the model is exactly
        the version 1 model (no column or row is added)."""
        pol = self.policy
        return (pol.max_workshop_share < 1 or any(v > 0 for v in pol.min_location_share.values())
                or any(self.min_suppliers(r) > 1 for r in self.requests)
                or any(st.min_lot > 1 for c in self.components for st in c.routing)
                or any((o.min_lot or 0) > 1 for o in self.offers))

    def component(self, cid: str) -> Component:
        return self._index()["components"][cid]  # type: ignore[return-value]

    def import_allowed(self, r: Request) -> bool:
        comp = self.component(r.component)
        if comp.import_ is None:
            return False
        return True if r.allow_import is None else r.allow_import

    def import_unit_cost(self, r: Request) -> float:
        comp = self.component(r.component)
        assert comp.import_ is not None
        return comp.import_.price * (1.0 + self.policy.import_tariff)

    def import_late_periods(self, r: Request) -> int:
        comp = self.component(r.component)
        assert comp.import_ is not None
        return max(0, comp.import_.lead_periods - self.due(r))

    def import_unit_objective(self, r: Request) -> float:
        """What one imported unit of `r` adds to the objective: its price with the tariff,
        and the lateness its lead time causes (SPEC section 6)."""
        return self.import_unit_cost(r) + self.late_penalty(r) * self.import_late_periods(r)

    def away_unit_objective(self, r: Request) -> float:
        """The least one unit of `r` not made at home adds to the objective: imported
        where that is allowed and cheaper, else left unmet (SPEC section 6)."""
        away = self.unmet_penalty(r)
        if self.import_allowed(r):
            away = min(away, self.import_unit_objective(r))
        return away

    def _index(self) -> dict[str, dict[str, BaseModel]]:
        cached = self._idx
        if cached is None:
            cached = {
                "components": {c.id: c for c in self.components},
                "workshops": {w.id: w for w in self.workshops},
                "requests": {r.id: r for r in self.requests},
                "centers": {c.id: c for c in self.material_centers},
                "locations": {loc.id: loc for loc in self.locations},
            }
            self._idx = cached
        return cached

    def workshop(self, wid: str) -> Workshop:
        return self._index()["workshops"][wid]  # type: ignore[return-value]

    def request(self, rid: str) -> Request:
        return self._index()["requests"][rid]  # type: ignore[return-value]

    def center(self, cid: str) -> MaterialCenter:
        return self._index()["centers"][cid]  # type: ignore[return-value]

    def total_quantity(self) -> int:
        return sum(r.quantity for r in self.requests)
