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
# A solver seed: the engines take 32 bits (HiGHS failed on 2**31, and the solve fell back
# to its constructive plan without a word).
MAX_SEED = 2**31 - 1
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
    # Attribute docstrings become the JSON Schema's descriptions (`broker schema`, and the
    # field reference in docs/fields.md).
    model_config = ConfigDict(extra="forbid", populate_by_name=True,
                              use_attribute_docstrings=True)


class Horizon(_Strict):
    periods: Annotated[int, Strict(), Field(ge=1, le=MAX_PERIODS)]
    """Number of planning periods (>= 1); periods are numbered 0 .. periods-1."""
    period_days: Annotated[int, Strict(), Field(ge=1, le=36_600)] = 7
    """Length of one period in days (default 7)."""
    start: date | None = None
    """ISO date on which period 0 begins (optional). With it, a request's release and due may be ISO
    dates and plans carry dates (SPEC 8.1)."""


class Transport(_Strict):
    cost_per_kg_km: TransportRate = 0.0
    """Transport cost per kg and km, in the scenario's currency (e.g. IDR per kg-km); default 0."""
    road_factor: Factor = 1.25
    """Road distance over great-circle distance, used when the scenario has no routes (default
    1.25)."""


class Policy(_Strict):
    min_domestic_share: Share = 0.0
    """Least share (0..1) of all requested units made at home (SPEC 5.8)."""
    min_local_content: Share = 0.0
    """Least cost-based local content (0..1) of the plan (SPEC 5.8)."""
    import_tariff: Factor = 0.0
    """Tariff added to every import price, as a fraction (0.1 = +10 %)."""
    step_lag_periods: Period = 0
    """Periods between a step and the next one of the same units."""
    unmet_penalty: Money = 1.0e9
    """Cost per unit not delivered, in the scenario's currency (default for requests; default 1e9).
    Cost per unit not delivered, in the scenario's currency (default for requests; default 1e9)."""
    late_penalty: Money = 0.0
    """Cost per unit and period late, in the scenario's currency (default for requests; default 0).
    Cost per unit and period late, in the scenario's currency (default for requests; default 0)."""
    # SPEC 8.4: no workshop makes more than this share of the domestic final-step units.
    max_workshop_share: Annotated[float, Strict(), Field(gt=0, le=1)] = 1.0
    """Most share (0 < v <= 1) of the domestic final-step units one workshop may make (SPEC 8.4;
    default 1)."""
    # SPEC 8.5: location id -> least share of the domestic final-step units made there.
    min_location_share: dict[Id, Share] = Field(default_factory=dict)
    """Location id -> least share (0..1) of the domestic final-step units made at workshops of that
    location (SPEC 8.5); shares sum to at most 1."""


class Location(_Strict):
    id: Id
    """Identifier (letters, digits, '-', '_', '.'), unique among locations."""
    name: str | None = None
    """Name for people (optional)."""
    lat: Annotated[float, Strict(), Field(ge=-90, le=90)] | None = None
    """Latitude in degrees (-90..90), for great-circle distances and the report's map."""
    lon: Annotated[float, Strict(), Field(ge=-180, le=180)] | None = None
    """Longitude in degrees (-180..180)."""


class Route(_Strict):
    from_: Id = Field(alias="from")
    """Location id at one end of an undirected road link."""
    to: Id
    """Location id at the other end."""
    km: Km
    """Road distance in km."""


class Material(_Strict):
    id: Id
    """Identifier, unique among materials."""
    name: str | None = None
    """Name for people (optional)."""


class Stock(_Strict):
    stock_kg: StockKg
    """Stock available over the horizon, in kg."""
    price_per_kg: Money
    """Price per kg, in the scenario's currency (e.g. IDR per kg)."""
    domestic: StrictBool = True
    """Whether the material is domestic, for local content (default true)."""


class MaterialCenter(_Strict):
    id: Id
    """Identifier, unique among material centers."""
    name: str | None = None
    """Name for people (optional)."""
    location: Id
    """Location id of the center."""
    materials: dict[Id, Stock] = Field(default_factory=dict)
    """Material id -> the center's stock and price of it."""


class Workshop(_Strict):
    id: Id
    """Identifier, unique among workshops."""
    name: str | None = None
    """Name for people (optional)."""
    location: Id
    """Location id (the workshop's cluster)."""
    certifications: list[str] = Field(default_factory=list)
    """Certifications held (e.g. ISO9001), matched against requests' requires."""
    capacity: dict[str, Hours] = Field(default_factory=dict)
    """Process -> hours per period available in every period."""
    capacity_by_period: dict[str, Annotated[list[Hours], Field(max_length=MAX_PERIODS)]] = \
        Field(default_factory=dict)
    """Process -> hours per period, one entry per period (overrides capacity for that process)."""
    rate: dict[str, Money] = Field(default_factory=dict)
    """Process -> cost per hour, in the scenario's currency (e.g. IDR per hour); one for every
    process with capacity."""
    engagement_cost: Money = 0.0
    """Fixed cost paid once if the plan uses the workshop at all, in the scenario's currency."""

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
    """Price per imported unit before the tariff, in the scenario's currency."""
    lead_periods: Period = 0
    """Periods an import takes to arrive; units arriving after the due period are late."""


class Step(_Strict):
    process: Annotated[str, StringConstraints(min_length=1)]
    """Process the step needs (a key of workshops' capacity and rate)."""
    hours: PerUnit
    """Hours per unit of the step."""
    material: Id | None = None
    """Material id the step consumes (optional)."""
    material_kg: PerUnit | None = None
    """kg of the material per unit (needed with material, > 0)."""
    # SPEC 8.2: a workshop making this step of a request makes none or at least this many.
    min_lot: Units = 0
    """Whole units: a workshop making this step of a request makes none or at least this many (SPEC
    8.2; default 0)."""


class Component(_Strict):
    id: Id
    """Identifier, unique among components."""
    name: str | None = None
    """Name for people (optional)."""
    weight_kg: WeightKg = 0.0
    """Weight of one finished unit in kg, for transport cost."""
    import_: Import | None = Field(default=None, alias="import")
    """How the component can be bought abroad (optional; without it, no import)."""
    offers_only: StrictBool = False
    """When true, only workshops with an offer for a step may do that step."""
    routing: Annotated[list[Step], Field(min_length=1, max_length=MAX_STEPS)]
    """The ordered steps (at least one)."""


class Offer(_Strict):
    workshop: Id
    """Workshop id making the offer."""
    component: Id
    """Component id."""
    step: Period
    """Step index in the component's routing (0-based)."""
    unit_price: Money | None = None
    """Price per unit of the step, in the scenario's currency; replaces rate x hours (optional)."""
    hours: PerUnit | None = None
    """Hours per unit at this workshop; replaces the step's hours (optional)."""
    tooling_cost: Money = 0.0
    """Fixed cost paid once if the workshop makes this step at all, in the scenario's currency."""
    # Replaces the step's min_lot for this workshop (SPEC 8.2); None keeps the step's.
    min_lot: Units | None = None
    """Whole units; replaces the step's min_lot for this workshop (SPEC 8.2; optional)."""


class Request(_Strict):
    id: Id
    """Identifier, unique among requests."""
    buyer: str | None = None
    """Who asks (optional, for people and the service's buyer keys)."""
    component: Id
    """Component id requested."""
    quantity: Count
    """Whole units requested (>= 1)."""
    release: DatedPeriod = 0
    """First period in which step 0 may run: a period number, or an ISO date with horizon.start
    (SPEC 8.1); default 0."""
    # Without a due period the request is on time anywhere in the horizon.
    due: DatedPeriod | None = None
    """Last period in which the final step may run to be on time: a period number, or an ISO date
    with horizon.start; default the horizon's last period."""
    destination: Id | None = None
    """Location id units are delivered to (optional; without it no delivery leg)."""
    requires: list[str] = Field(default_factory=list)
    """Certifications every workshop on this request must hold."""
    max_suppliers_per_step: Annotated[int, Strict(), Field(ge=1, le=MAX_ENTRIES)] | None = None
    """Most workshops that may share one step (optional)."""
    # SPEC 8.3: when any unit is made at home, every step has at least this many workshops.
    min_suppliers_per_step: Annotated[int, Strict(), Field(ge=1, le=MAX_ENTRIES)] | None = None
    """Least workshops on every step when any unit is made at home (SPEC 8.3; optional, default 1).
    Least workshops on every step when any unit is made at home (SPEC 8.3; optional, default 1)."""
    allow_import: StrictBool | None = None
    """Whether units may be imported (default true when the component has an import price)."""
    late_penalty: Money | None = None
    """Cost per unit and period late, in the scenario's currency; overrides policy.late_penalty."""
    unmet_penalty: Money | None = None
    """Cost per unit not delivered, in the scenario's currency; overrides policy.unmet_penalty."""


class Scenario(_Strict):
    """A whole scenario document. Build it with `models.load_scenario` or
    `models.scenario_from_dict`, which also run the cross-reference checks."""

    name: Annotated[str, StringConstraints(min_length=1)]
    """Name of the scenario (required); plans name it."""
    currency: str = "IDR"
    """Currency of every amount of money (default IDR)."""
    horizon: Horizon
    """The planning periods."""
    transport: Transport = Field(default_factory=Transport)
    """Transport cost settings."""
    policy: Policy = Field(default_factory=Policy)
    """Policies and default penalties."""
    locations: list[Location] = Field(default_factory=list, max_length=MAX_ENTRIES)
    """Places: clusters, material centers, buyers."""
    routes: list[Route] = Field(default_factory=list, max_length=MAX_ENTRIES)
    """Undirected road links (optional; without them, great-circle distances)."""
    materials: list[Material] = Field(default_factory=list, max_length=MAX_ENTRIES)
    """Materials the steps consume."""
    material_centers: list[MaterialCenter] = Field(default_factory=list,
                                                   max_length=MAX_ENTRIES)
    """Where materials are drawn from."""
    workshops: list[Workshop] = Field(default_factory=list, max_length=MAX_ENTRIES)
    """The workshops (IKM) with their capacity and rates."""
    components: list[Component] = Field(default_factory=list, max_length=MAX_ENTRIES)
    """What can be made, with routings."""
    offers: list[Offer] = Field(default_factory=list, max_length=MAX_OFFERS)
    """Workshop-specific quotes for one step of a component."""
    requests: list[Request] = Field(default_factory=list, max_length=MAX_REQUESTS)
    """Demand: components, quantities and periods."""

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
        # Read from the private-attribute dict itself: `self._idx` goes through pydantic's
        # __getattr__, some microseconds a call, and the solvers look up a component or a
        # request millions of times on a scenario with 100,000 requests.
        private = self.__pydantic_private__
        cached = private.get("_idx") if private is not None else None
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
