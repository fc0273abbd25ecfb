"""Pydantic models of a plan file (SPEC section 7)."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

from models.jsontext import dumps_indented

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
    model_config = ConfigDict(extra="forbid", populate_by_name=True,
                              use_attribute_docstrings=True)


# Row and cost fields are strict, as the plan's JSON Schema says: `"495"` or `true` is not
# a quantity (lax parsing would book 495 units from a string and 1 from `true`). Floats
# take JSON integers (80 for 80.0) and, unlike the scenario's, Infinity and NaN: those are
# read so that the checker reports them as violations naming their place, rather than as
# an unreadable file.


def _whole_or_non_finite(v: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return v
    return handler(v)


# A row's whole number, strict as above; Infinity and NaN are read as they are (a float in
# an int field), so that the checker names them as `number` violations of their row, as
# it does every other non-finite number of a plan, instead of the file being unreadable.
Whole = Annotated[StrictInt, WrapValidator(_whole_or_non_finite)]


class ProductionRow(_Row):
    request: StrictStr
    """Request id."""
    step: Whole
    """Step index in the request's routing (0-based)."""
    workshop: StrictStr
    """Workshop id."""
    period: Whole
    """Period number (0-based) the units are made in."""
    quantity: Whole
    """Whole units of the step made (x[r,s,w,t], SPEC 4)."""
    # SPEC 8.1: the ISO first day of the period, in plans of dated scenarios.
    date: StrictStr | None = None
    """ISO first day of the period, in plans of dated scenarios (SPEC 8.1; optional)."""


class ShipmentRow(_Row):
    request: StrictStr
    """Request id."""
    step: Whole
    """Step the units leave (they go on to step + 1)."""
    from_: StrictStr = Field(alias="from")
    """Workshop id where the step was made."""
    to: StrictStr
    """Workshop id of the next step."""
    quantity: Whole
    """Whole units shipped (g[r,s,w,v], SPEC 4)."""


class MaterialRow(_Row):
    center: StrictStr
    """Material center id."""
    workshop: StrictStr
    """Workshop id the material goes to."""
    material: StrictStr
    """Material id."""
    kg: StrictFloat
    """Material drawn, in kg."""


class ImportRow(_Row):
    request: StrictStr
    """Request id."""
    quantity: Whole
    """Whole units imported (z[r])."""


class UnmetRow(_Row):
    request: StrictStr
    """Request id."""
    quantity: Whole
    """Whole units not delivered (u[r])."""
    reason: StrictStr
    """Why the units are not made at home or imported, in a planner's words."""


class Delivery(_Row):
    period: StrictInt
    """Period number the units arrive in."""
    date: StrictStr
    """ISO first day of that period."""
    quantity: StrictInt
    """Whole units arriving."""
    source: Literal["made", "imported"]
    """made: final-step units made in the period; imported: imports arriving after their lead time.
    made: final-step units made in the period; imported: imports arriving after their lead time."""


class RequestDates(_Row):
    """A request's calendar in a dated plan (SPEC 8.1): release and due with their dates,
    and when its units arrive."""

    request: StrictStr
    """Request id."""
    release: StrictInt
    """Release period."""
    release_date: StrictStr
    """ISO first day of the release period."""
    due: StrictInt
    """Effective due period (the horizon's last without a due)."""
    due_date: StrictStr
    """ISO first day of the due period."""
    deliveries: list[Delivery] = Field(default_factory=list)
    """When the request's units arrive, in period order (imports last)."""
    unmet: StrictInt = 0
    """Whole units not delivered."""


class Cost(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True,
                              use_attribute_docstrings=True)

    production: StrictFloat = 0.0
    """Production cost (rates x hours, or offer unit prices), in the scenario's currency."""
    material: StrictFloat = 0.0
    """Material cost (kg x price per kg), in the scenario's currency."""
    transport: StrictFloat = 0.0
    """Transport cost (kg x km x cost per kg-km), in the scenario's currency."""
    tooling: StrictFloat = 0.0
    """Tooling costs of the offers used, in the scenario's currency."""
    engagement: StrictFloat = 0.0
    """Engagement costs of the workshops used, in the scenario's currency."""
    import_: StrictFloat = Field(default=0.0, alias="import")
    """Import cost with the tariff, in the scenario's currency."""
    tardiness: StrictFloat = 0.0
    """Late penalties (units x periods late x late_penalty), in the scenario's currency."""
    unmet: StrictFloat = 0.0
    """Unmet penalties (units x unmet_penalty), in the scenario's currency."""

    def as_dict(self) -> dict[str, float]:
        return {t: float(getattr(self, "import_" if t == "import" else t)) for t in COST_TERMS}

    def total(self) -> float:
        return sum(self.as_dict().values())

    @classmethod
    def from_dict(cls, d: dict[str, float]) -> Cost:
        return cls.model_validate(d)


def _format_required(schema: dict[str, Any]) -> None:
    """The JSON Schema says what `plan_from_dict` checks: a plan file names its format."""
    required = schema.setdefault("required", [])
    if "format" not in required:
        required.insert(0, "format")


class Plan(BaseModel):
    """A plan: the allocation, its cost and KPIs. Extra keys (solver, options, gap,
    timings) are kept, as SPEC section 7 allows."""

    model_config = ConfigDict(extra="allow", populate_by_name=True,
                              use_attribute_docstrings=True,
                              json_schema_extra=_format_required)

    # Required in a plan file (`models.io.plan_from_dict`); the default is for plans built
    # in code.
    format: Literal["imc-broker/plan@1"] = "imc-broker/plan@1"
    """Format of the file: imc-broker/plan@1."""
    scenario: StrictStr
    """Name of the scenario the plan is for."""
    status: Status
    """optimal, feasible, infeasible or no_solution."""
    objective: StrictFloat | None = None
    """Total cost, the sum of the cost terms, in the scenario's currency (null without a plan)."""
    bound: StrictFloat | None = None
    """Proven lower bound on the optimum, in the scenario's currency (null when unknown)."""
    cost: Cost | None = None
    """The cost terms (SPEC 6); null without a plan."""
    production: list[ProductionRow] = Field(default_factory=list)
    """Units made per request, step, workshop and period."""
    shipments: list[ShipmentRow] = Field(default_factory=list)
    """Units moving between consecutive steps at different or equal workshops."""
    materials: list[MaterialRow] = Field(default_factory=list)
    """kg drawn per center, workshop and material."""
    imports: list[ImportRow] = Field(default_factory=list)
    """Units imported per request."""
    unmet: list[UnmetRow] = Field(default_factory=list)
    """Units not delivered per request, with the reason."""
    kpis: dict[str, StrictFloat] = Field(default_factory=dict)
    """domestic_share, local_content and on_time_share, each 0..1."""
    # Engine, versions and options that made the plan (no wall-clock values, so that the
    # same scenario, seed and thread count give the same file).
    solver: dict[str, Any] | None = None
    """Engine, versions and options that made the plan (no wall-clock values)."""
    # Per request, in plans of dated scenarios (SPEC 8.1): due date and delivery dates.
    requests: list[RequestDates] | None = None
    """Per request, in plans of dated scenarios: due date and delivery dates (SPEC 8.1)."""
    # Why there is no plan, for status infeasible.
    diagnosis: str | None = None
    """Why there is no plan, for status infeasible."""
    # Value of one more hour of capacity / kg of stock (solve with duals=True).
    sensitivity: dict[str, Any] | None = None
    """Value of one more hour of capacity or kg of stock, in the scenario's currency (solve with
    duals)."""
    # Seconds per phase; on the object for callers, never in the file.
    timings: dict[str, float] | None = Field(default=None, exclude=True)
    """Seconds per phase; on the object for callers, never in the file."""

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
        return dumps_indented(self.to_dict()) + "\n"
