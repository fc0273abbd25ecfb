"""The typed results of the ledger's operations: frozen dataclasses, each with
`to_dict()`, a document `json.dumps` writes (dates and times as ISO 8601 text, a plan
as its plan file of SPEC section 7, a scenario as its scenario document)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from models.io import scenario_to_dict
from models.plan import Plan
from models.scenario import Scenario


def to_json(value: Any) -> Any:
    """`value` as plain JSON data: dataclasses as objects, datetimes and dates as ISO
    text, plans and scenarios as their documents, tuples as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Plan):
        return value.to_dict()
    if isinstance(value, Scenario):
        return scenario_to_dict(value)
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


class Result:
    """What every ledger result can do: become a JSON document."""

    def to_dict(self) -> dict[str, Any]:
        out = to_json(self)
        assert isinstance(out, dict)
        return out


@dataclass(frozen=True)
class ImportResult(Result):
    """What an import or capacity change created, updated and left unchanged, per kind."""

    source: str
    created: dict[str, int]
    updated: dict[str, int]
    unchanged: dict[str, int]
    ledger_version: int


@dataclass(frozen=True)
class ProcessInfo(Result):
    """One process of a workshop: rate, base capacity, hours over the horizon, booked."""

    process: str
    rate: float | None
    capacity: float | None  # base hours per period
    hours: float  # over the horizon
    booked: float  # committed hours over the horizon


@dataclass(frozen=True)
class WorkshopInfo(Result):
    """A workshop of the registry with its processes."""

    id: str
    name: str | None
    location: str
    certifications: list[str]
    engagement_cost: float
    processes: list[ProcessInfo]


@dataclass(frozen=True)
class StockInfo(Result):
    """One material a center holds: stock, booked kg, price."""

    material: str
    stock_kg: float
    booked_kg: float
    price_per_kg: float
    domestic: bool


@dataclass(frozen=True)
class CenterInfo(Result):
    """A material center of the registry with its stocks."""

    id: str
    name: str | None
    location: str
    stocks: list[StockInfo]


@dataclass(frozen=True)
class ComponentInfo(Result):
    """A component of the registry: its routing's processes and offers."""

    id: str
    name: str | None
    weight_kg: float
    processes: list[str]
    import_price: float | None
    offers: int


@dataclass(frozen=True)
class RequestRecord(Result):
    """A stored request: status open, committed or cancelled, and its document."""

    id: str
    idempotency_key: str
    component: str
    quantity: int
    status: str  # open | committed | cancelled
    submitted_at: datetime
    plan_id: int | None
    document: dict[str, Any]
    # SPEC 8.1: the first days of its release and due periods, when the registry's
    # horizon has a start; `due` is the effective due period (the horizon's last without one).
    due: int | None = None
    release_date: date | None = None
    due_date: date | None = None


@dataclass(frozen=True)
class SubmitResult(Result):
    """One submitted request; `created` is False when its key was known."""

    request: RequestRecord
    created: bool  # False: the idempotency key was known, nothing was written


@dataclass(frozen=True)
class PlanResult(Result):
    """A stored proposal: the plan, the residual scenario it was solved in, timings."""

    plan_id: int
    plan: Plan  # with a `ledger` key naming the plan id, version and requests
    scenario: Scenario  # what it was solved in: residual capacity, stock and fixed costs
    scenario_hash: str
    ledger_version: int
    requests: list[str]
    timings: dict[str, float]


@dataclass(frozen=True)
class CommitResult(Result):
    """A commit: hours and kg booked, cost recomputed against the ledger."""

    plan_id: int
    run_id: int
    requests: list[str]
    hours: float
    kg: float
    cost: dict[str, float]  # recomputed against the ledger at commit
    ledger_version: int
    already: bool = False  # the plan was committed before; nothing was written now


@dataclass(frozen=True)
class Quote(Result):
    """The cost and earliest on-time period of one new request; nothing is stored."""

    request: str
    quantity: int
    status: str
    cost: float | None
    cost_terms: dict[str, float]
    on_time: bool  # every unit delivered by the request's due period in the cheapest plan
    completion_period: int | None  # last period of the cheapest plan (None: nothing made)
    earliest_period: int | None  # earliest period all units can be in, None: not in horizon
    earliest_date: date | None
    unmet: int
    imported: int
    seconds: float
    due: int | None = None  # the request's effective due period
    due_date: date | None = None  # its first day, with horizon.start (SPEC 8.1)
    completion_date: date | None = None  # first day of completion_period
    # Relative gap of `cost` to the bound the engine proved (0: the optimum of the
    # one-request residual model; None: no bound), when the time limit came first.
    gap: float | None = None
    # False when the time limit came before the earliest period was proven: a plan
    # delivers every unit by it, an earlier one is not ruled out.
    earliest_proven: bool = True


@dataclass(frozen=True)
class RunRecord(Result):
    """One run of the history: a plan, commit (or refusal) or recorded solve."""

    id: int
    kind: str
    plan_id: int | None
    created_at: datetime
    ledger_version: int
    scenario_hash: str
    request_ids: list[str]
    options: dict[str, Any]
    solver_version: str
    status: str
    objective: float | None
    bound: float | None
    timings: dict[str, Any]
    message: str | None
    document: str | None = field(default=None, repr=False)
    scenario_document: str | None = field(default=None, repr=False)
    broker_version: str | None = None


@dataclass(frozen=True)
class LedgerExport(Result):
    """The committed ledger as one scenario and one plan, for the checker."""

    scenario: Scenario
    plan: Plan



@dataclass(frozen=True)
class Move(Result):
    """Units of one step moved off their booked (workshop, period); `to_workshop` None:
    no longer made at home (imported or unmet)."""

    step: int
    from_workshop: str
    from_period: int
    to_workshop: str | None
    to_period: int | None
    quantity: int


@dataclass(frozen=True)
class RequestRepair(Result):
    """What a repair does to one freed request. Units are counted per step (a unit of a
    two-step request kept at both steps counts twice), as the change penalty is."""

    request: str
    quantity: int
    broken: list[str]  # why its bookings no longer fit (empty: freed to make room)
    kept_units: int
    moved_units: int
    moves: list[Move]
    imported_before: int
    imported_after: int
    unmet_before: int
    unmet_after: int
    unmet_reasons: list[str]


@dataclass(frozen=True)
class RepairResult(Result):
    """A disruption and its repair (docs/ledger.md, "Disruptions and repair")."""

    repair_id: int
    event: dict[str, Any]
    description: str
    ledger_version: int  # the version the repair was made at
    broken: dict[str, list[str]]  # request -> why its bookings no longer fit
    freed: list[str]  # requests re-planned (the broken ones, and any freed to make room)
    requests: list[RequestRepair]
    change_penalty: float  # per step-unit moved
    moved_units: int
    cost_before: float | None  # SPEC cost of the whole ledger before the event
    cost_after: float | None  # SPEC cost of the whole ledger after the repair
    penalised_cost: float | None  # the freed requests' SPEC cost plus the change penalty
    seconds: float
    rounds: int
    plan: Plan  # the freed requests' rows (SPEC section 7)
    committed: bool
    commit_run_id: int | None
    actor: str
    # The ISO start date of every period (SPEC 8.1), where the ledger's horizon has one.
    period_dates: list[str] | None = None

    @property
    def cost_delta(self) -> float | None:
        if self.cost_before is None or self.cost_after is None:
            return None
        return self.cost_after - self.cost_before
