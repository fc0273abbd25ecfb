"""Pydantic models of a plan file (SPEC section 7)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PLAN_FORMAT = "imc-broker/plan@1"
COST_TERMS = (
    "production",
    "material",
    "transport",
    "tooling",
    "engagement",
    "import",
    "tardiness",
    "unmet",
)


class Status(StrEnum):
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no_solution"

    @property
    def has_plan(self) -> bool:
        return self in (Status.OPTIMAL, Status.FEASIBLE)


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ProductionRow(_Row):
    request: str
    step: int
    workshop: str
    period: int
    quantity: int
    # SPEC 8.1: the ISO first day of the period, in plans of dated scenarios.
    date: str | None = None


class ShipmentRow(_Row):
    request: str
    step: int
    from_: str = Field(alias="from")
    to: str
    quantity: int


class MaterialRow(_Row):
    center: str
    workshop: str
    material: str
    kg: float


class ImportRow(_Row):
    request: str
    quantity: int


class UnmetRow(_Row):
    request: str
    quantity: int
    reason: str


class Delivery(_Row):
    period: int
    date: str
    quantity: int
    source: Literal["made", "imported"]


class RequestDates(_Row):
    """A request's calendar in a dated plan (SPEC 8.1): release and due with their dates,
    and when its units arrive."""

    request: str
    release: int
    release_date: str
    due: int
    due_date: str
    deliveries: list[Delivery] = Field(default_factory=list)
    unmet: int = 0


class Cost(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    production: float = 0.0
    material: float = 0.0
    transport: float = 0.0
    tooling: float = 0.0
    engagement: float = 0.0
    import_: float = Field(default=0.0, alias="import")
    tardiness: float = 0.0
    unmet: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {t: float(getattr(self, "import_" if t == "import" else t)) for t in COST_TERMS}

    def total(self) -> float:
        return sum(self.as_dict().values())

    @classmethod
    def from_dict(cls, d: dict[str, float]) -> Cost:
        return cls.model_validate(d)


class Plan(BaseModel):
    """A plan: the allocation, its cost and KPIs. Extra keys (solver, options, gap,
    timings) are kept, as SPEC section 7 allows."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    format: Literal["imc-broker/plan@1"] = "imc-broker/plan@1"
    scenario: str
    status: Status
    objective: float | None = None
    bound: float | None = None
    cost: Cost | None = None
    production: list[ProductionRow] = Field(default_factory=list)
    shipments: list[ShipmentRow] = Field(default_factory=list)
    materials: list[MaterialRow] = Field(default_factory=list)
    imports: list[ImportRow] = Field(default_factory=list)
    unmet: list[UnmetRow] = Field(default_factory=list)
    kpis: dict[str, float] = Field(default_factory=dict)
    # Engine, versions and options that made the plan (no wall-clock values, so that the
    # same scenario, seed and thread count give the same file).
    solver: dict[str, Any] | None = None
    # Per request, in plans of dated scenarios (SPEC 8.1): due date and delivery dates.
    requests: list[RequestDates] | None = None
    # Why there is no plan, for status infeasible.
    diagnosis: str | None = None
    # Value of one more hour of capacity / kg of stock (solve with duals=True).
    sensitivity: dict[str, Any] | None = None
    # Seconds per phase; on the object for callers, never in the file.
    timings: dict[str, float] | None = Field(default=None, exclude=True)

    @property
    def gap(self) -> float | None:
        """Relative gap between objective and bound (0 when proven optimal)."""
        if self.objective is None or self.bound is None:
            return None
        denom = max(abs(self.objective), 1e-9)
        return max(0.0, (self.objective - self.bound) / denom)

    def to_dict(self) -> dict[str, Any]:
        d = self.model_dump(mode="json", by_alias=True)
        # Optional extensions stay out of the file when empty; SPEC keys are always there.
        for key in ("requests", "solver", "diagnosis", "sensitivity"):
            if d.get(key) is None:
                d.pop(key, None)
        for row in d["production"]:
            if row.get("date") is None:
                row.pop("date", None)
        return d

    def to_json(self) -> str:
        # Stable key order and formatting: the same plan is the same file, byte for byte.
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"
