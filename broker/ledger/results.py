"""The typed results of the ledger's operations (frozen dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from models.plan import Plan
from models.scenario import Scenario


@dataclass(frozen=True)
class ImportResult:
    source: str
    created: dict[str, int]
    updated: dict[str, int]
    unchanged: dict[str, int]
    ledger_version: int


@dataclass(frozen=True)
class ProcessInfo:
    process: str
    rate: float | None
    capacity: float | None  # base hours per period
    hours: float  # over the horizon
    booked: float  # committed hours over the horizon


@dataclass(frozen=True)
class WorkshopInfo:
    id: str
    name: str | None
    location: str
    certifications: list[str]
    engagement_cost: float
    processes: list[ProcessInfo]


@dataclass(frozen=True)
class StockInfo:
    material: str
    stock_kg: float
    booked_kg: float
    price_per_kg: float
    domestic: bool


@dataclass(frozen=True)
class CenterInfo:
    id: str
    name: str | None
    location: str
    stocks: list[StockInfo]


@dataclass(frozen=True)
class ComponentInfo:
    id: str
    name: str | None
    weight_kg: float
    processes: list[str]
    import_price: float | None
    offers: int


@dataclass(frozen=True)
class RequestRecord:
    id: str
    idempotency_key: str
    component: str
    quantity: int
    status: str  # open | committed | cancelled
    submitted_at: datetime
    plan_id: int | None
    document: dict[str, Any]


@dataclass(frozen=True)
class SubmitResult:
    request: RequestRecord
    created: bool  # False: the idempotency key was known, nothing was written


@dataclass(frozen=True)
class PlanResult:
    plan_id: int
    plan: Plan  # with a `ledger` key naming the plan id, version and requests
    scenario: Scenario  # what it was solved in: residual capacity, stock and fixed costs
    scenario_hash: str
    ledger_version: int
    requests: list[str]
    timings: dict[str, float]


@dataclass(frozen=True)
class CommitResult:
    plan_id: int
    run_id: int
    requests: list[str]
    hours: float
    kg: float
    cost: dict[str, float]  # recomputed against the ledger at commit
    ledger_version: int
    already: bool = False  # the plan was committed before; nothing was written now


@dataclass(frozen=True)
class Quote:
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


@dataclass(frozen=True)
class RunRecord:
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
class LedgerExport:
    scenario: Scenario
    plan: Plan

