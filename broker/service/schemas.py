"""Pydantic models of what the service takes and gives: the OpenAPI document
(`/openapi.json`) is generated from them. Scenario and request documents are the SPEC's
own models (models.scenario), plan documents are SPEC section 7."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from models.scenario import MAX_HOURS, MAX_MONEY, MAX_SEED


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProblemOut(_Out):
    """RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[str] | None = Field(None, description="One line per problem, with its "
                                     "path in the document (as the CLI prints them).")
    conflicts: list[str] | None = Field(None, description="What no longer fits: slots, "
                                        "stocks, requests taken.")


class Health(_Out):
    status: str


class Ready(_Out):
    status: str
    revision: str | None
    head: str
    ledger_version: int | None = None


class ImportOut(_Out):
    source: str
    created: dict[str, int]
    updated: dict[str, int]
    unchanged: dict[str, int]
    ledger_version: int


class ProcessOut(_Out):
    process: str
    rate: float | None
    capacity: float | None = Field(description="Base hours per period.")
    hours: float = Field(description="Hours over the horizon.")
    booked: float = Field(description="Committed hours over the horizon.")


class WorkshopOut(_Out):
    id: str
    name: str | None
    location: str
    certifications: list[str]
    engagement_cost: float
    processes: list[ProcessOut]


class CapacityIn(BaseModel):
    """A change of one process's hours: in the given periods, or (without `periods`)
    its base capacity."""

    # Strict and finite, as the scenario's own fields: `"hours": "5"` or `true` is refused.
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    process: str
    hours: float = Field(ge=0, le=MAX_HOURS)
    periods: list[int] | None = None
    rate: float | None = Field(None, ge=0, le=MAX_MONEY, description="Cost per hour; needed "
                               "to add a process the workshop does not have.")


class RequestOut(_Out):
    id: str
    idempotency_key: str
    buyer: str | None
    component: str
    quantity: int
    status: str = Field(description="open, committed or cancelled")
    submitted_at: datetime
    plan_id: int | None
    document: dict[str, Any] = Field(description="The request as stored (SPEC section 2).")
    due: int | None = Field(None, description="Effective due period (the horizon's last "
                            "without a due).")
    due_date: date | None = Field(None, description="First day of the due period, when the "
                                  "registry's horizon has a start (SPEC 8.1).")
    release_date: date | None = Field(None, description="First day of the release period, "
                                      "when the registry's horizon has a start (SPEC 8.1).")


class RequestPage(_Out):
    items: list[RequestOut]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class QuoteOut(_Out):
    request: str
    quantity: int
    status: str
    cost: float | None
    cost_terms: dict[str, float]
    on_time: bool
    completion_period: int | None
    earliest_period: int | None = Field(description="The earliest period by which every "
                                        "unit can be delivered; null: not in the horizon.")
    earliest_date: date | None
    unmet: int
    imported: int
    seconds: float
    due: int | None = Field(None, description="The request's effective due period.")
    due_date: date | None = Field(None, description="First day of the due period (SPEC 8.1).")
    completion_date: date | None = Field(None, description="First day of the completion "
                                         "period.")
    gap: float | None = Field(None, description="Relative gap of `cost` to the bound the "
                              "engine proved: 0 when it is the optimum, more when the time "
                              "limit came first; null: no bound.")
    earliest_proven: bool = Field(True, description="False when the time limit came before "
                                  "the earliest period was proven (a plan delivers every "
                                  "unit by it; an earlier one is not ruled out).")
    ledger_version: int


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    requests: list[str] | None = Field(None, description="Open requests to plan; "
                                       "omitted: all open requests.")
    time_limit: float = Field(30.0, gt=0, le=86400, description="Seconds.")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Random seed of the solver.")


class ProgressOut(_Out):
    phase: str
    elapsed: float
    incumbent: float | None
    bound: float | None
    gap: float | None


class JobOut(_Out):
    id: str
    kind: str
    status: str = Field(description="queued, running, done, failed, cancelled or "
                        "interrupted")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    requests: list[str] | None
    options: dict[str, Any]
    progress: ProgressOut | None
    cancel_requested: bool
    plan_id: int | None
    plan: dict[str, Any] | None = Field(None, description="The plan (SPEC section 7) "
                                        "when the job has one.")
    message: str | None
    key: str | None = Field(None, description="Id of the key that started it.")


class CommitIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    plan_id: int


class HoursBooked(_Out):
    workshop: str
    process: str
    period: int
    hours: float


class KgBooked(_Out):
    center: str
    material: str
    kg: float


class CommitOut(_Out):
    plan_id: int
    run_id: int
    requests: list[str]
    hours: float
    kg: float
    cost: dict[str, float]
    ledger_version: int
    already: bool = Field(description="The plan was committed before; nothing was "
                          "written now.")
    bookings: list[HoursBooked]
    materials: list[KgBooked]


class ExportOut(_Out):
    scenario: dict[str, Any]
    plan: dict[str, Any]


class RunOut(_Out):
    id: int
    kind: str
    plan_id: int | None
    created_at: datetime
    ledger_version: int
    scenario_hash: str
    requests: list[str]
    options: dict[str, Any]
    solver_version: str
    status: str
    objective: float | None
    bound: float | None
    timings: dict[str, Any]
    message: str | None
    key: str | None = Field(None, description="Id of the key whose call made this run.")
    plan: dict[str, Any] | None = None


class ChangeOut(_Out):
    id: int
    at: datetime
    key: str | None
    role: str | None
    action: str
    target: str | None
    ledger_version: int | None
    detail: dict[str, Any]


class DisruptionIn(BaseModel):
    """An event (the kinds of `broker disrupt`) and how to repair after it. The fields of
    each kind: `capacity`: workshop, process (omitted or `all`: every process), periods
    (omitted: every period), hours (default 0: it drops out); `leave`: workshop; `stock`:
    center, material, kg; `route`: from, to."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False,
                              populate_by_name=True)
    kind: Literal["capacity", "leave", "stock", "route"]
    workshop: str | None = None
    process: str | None = None
    periods: list[int] | None = None
    hours: float | None = Field(None, ge=0, le=MAX_HOURS)
    center: str | None = None
    material: str | None = None
    kg: float | None = Field(None, ge=0)
    from_: str | None = Field(None, alias="from")
    to: str | None = None
    dry_run: bool = Field(False, description="Propose the repair and keep it; book "
                          "nothing (commit it later with POST /v1/disruptions/{id}/commit).")
    change_penalty: float | None = Field(None, ge=0, le=MAX_MONEY, description="Cost per "
                                         "step-unit moved off its booked workshop or "
                                         "period; default: a tenth of the ledger's median "
                                         "unit cost.")
    time_limit: float = Field(30.0, ge=0.5, le=3600, description="Seconds for the repair.")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Random seed of the solver.")

    def event(self) -> dict[str, Any]:
        """The event's own fields, as `Disruption.from_dict` takes them."""
        return self.model_dump(by_alias=True, exclude_none=True, exclude={
            "dry_run", "change_penalty", "time_limit", "seed"})


class MoveOut(_Out):
    step: int
    from_workshop: str
    from_period: int
    to_workshop: str | None = Field(description="null: no longer made at home (imported "
                                    "or unmet).")
    to_period: int | None
    quantity: int


class RequestRepairOut(_Out):
    request: str
    quantity: int
    broken: list[str] = Field(description="Why its bookings no longer fit (empty: freed "
                              "to make room).")
    kept_units: int
    moved_units: int
    moves: list[MoveOut]
    imported_before: int
    imported_after: int
    unmet_before: int
    unmet_after: int
    unmet_reasons: list[str]


class RepairOut(_Out):
    """A disruption and its repair: what broke, what moved, what it costs (the
    document `broker disrupt --json` prints)."""

    repair_id: int
    event: dict[str, Any]
    description: str
    ledger_version: int = Field(description="The ledger version the repair was made at.")
    broken: dict[str, list[str]] = Field(description="Request -> why its bookings no "
                                         "longer fit.")
    freed: list[str] = Field(description="Requests re-planned: the broken ones and any "
                             "freed to make room.")
    requests: list[RequestRepairOut]
    change_penalty: float
    moved_units: int
    cost_before: float | None = Field(description="SPEC cost of the whole ledger before "
                                      "the event.")
    cost_after: float | None = Field(description="SPEC cost of the whole ledger after the "
                                     "repair.")
    cost_delta: float | None
    penalised_cost: float | None = Field(description="The freed requests' SPEC cost plus "
                                         "the change penalty of their moves.")
    seconds: float
    rounds: int
    plan: dict[str, Any] = Field(description="The freed requests' rows (SPEC section 7).")
    committed: bool
    commit_run_id: int | None
    actor: str
    already: bool = Field(False, description="Committed before; nothing written now.")
    period_dates: list[str] | None = Field(None, description="ISO start date of every "
                                           "period, where the horizon has a start (SPEC 8.1).")
