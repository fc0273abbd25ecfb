"""Tables of the ledger database (typed SQLAlchemy 2 ORM).

Three groups: the registry (what a scenario file says apart from its requests), the
requests with their state, and the ledger proper: committed plan rows per request and the
bookings they make (hours per workshop, process and period; kg per center and material).
The migration scripts in `broker/ledger/migrations` create exactly these tables; a test compares
the two.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = String(200)

# Stable constraint names: migrations can then drop or alter them on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


# ----------------------------------------------------------------------------------------
# Registry


class Settings(Base):
    """The single row of scenario-level settings, and the lock of the ledger: every write
    that can change what is free (commit, cancel, registry change) locks this row first
    and bumps `version`."""

    __tablename__ = "settings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    currency: Mapped[str] = mapped_column(String(20), default="IDR")
    # 0 until a scenario has been imported: the registry is empty.
    periods: Mapped[int] = mapped_column(Integer, default=0)
    period_days: Mapped[int] = mapped_column(Integer, default=7)
    start: Mapped[date | None] = mapped_column(Date)
    transport: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Location(Base):
    __tablename__ = "locations"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(400))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)


class Route(Base):
    __tablename__ = "routes"
    __table_args__ = (UniqueConstraint("from_id", "to_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    from_id: Mapped[str] = mapped_column(ID, ForeignKey("locations.id"))
    to_id: Mapped[str] = mapped_column(ID, ForeignKey("locations.id"))
    km: Mapped[float] = mapped_column(Float)


class Material(Base):
    __tablename__ = "materials"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(400))


class MaterialCenter(Base):
    __tablename__ = "material_centers"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(400))
    location_id: Mapped[str] = mapped_column(ID, ForeignKey("locations.id"))


class CenterStock(Base):
    __tablename__ = "center_stocks"
    center_id: Mapped[str] = mapped_column(ID, ForeignKey("material_centers.id"),
                                           primary_key=True)
    material_id: Mapped[str] = mapped_column(ID, ForeignKey("materials.id"), primary_key=True)
    stock_kg: Mapped[float] = mapped_column(Float)
    price_per_kg: Mapped[float] = mapped_column(Float)
    domestic: Mapped[bool] = mapped_column(Boolean, default=True)


class Workshop(Base):
    __tablename__ = "workshops"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(400))
    location_id: Mapped[str] = mapped_column(ID, ForeignKey("locations.id"))
    certifications: Mapped[list[Any]] = mapped_column(JSON, default=list)
    engagement_cost: Mapped[float] = mapped_column(Float, default=0.0)


class WorkshopProcess(Base):
    """Rate and base capacity of one process of one workshop. `capacity` is None when the
    scenario gave the process only a rate or only `capacity_by_period`."""

    __tablename__ = "workshop_processes"
    workshop_id: Mapped[str] = mapped_column(ID, ForeignKey("workshops.id"), primary_key=True)
    process: Mapped[str] = mapped_column(String(200), primary_key=True)
    rate: Mapped[float | None] = mapped_column(Float)
    capacity: Mapped[float | None] = mapped_column(Float)


class CapacityPeriod(Base):
    """Hours of one period that differ from the base capacity (a holiday, a breakdown, an
    extra shift): `capacity_by_period` of the scenario, and per-period changes."""

    __tablename__ = "capacity_periods"
    __table_args__ = (
        ForeignKeyConstraint(["workshop_id", "process"],
                             ["workshop_processes.workshop_id", "workshop_processes.process"],
                             name="fk_capacity_periods_workshop_processes"),
    )
    workshop_id: Mapped[str] = mapped_column(ID, primary_key=True)
    process: Mapped[str] = mapped_column(String(200), primary_key=True)
    period: Mapped[int] = mapped_column(Integer, primary_key=True)
    hours: Mapped[float] = mapped_column(Float)


class Component(Base):
    __tablename__ = "components"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(400))
    weight_kg: Mapped[float] = mapped_column(Float, default=0.0)
    import_price: Mapped[float | None] = mapped_column(Float)
    import_lead_periods: Mapped[int | None] = mapped_column(Integer)
    offers_only: Mapped[bool] = mapped_column(Boolean, default=False)
    steps: Mapped[int] = mapped_column(Integer, default=0)


class ComponentStep(Base):
    __tablename__ = "component_steps"
    component_id: Mapped[str] = mapped_column(ID, ForeignKey("components.id"),
                                              primary_key=True)
    step: Mapped[int] = mapped_column(Integer, primary_key=True)
    process: Mapped[str] = mapped_column(String(200))
    hours: Mapped[float] = mapped_column(Float)
    material_id: Mapped[str | None] = mapped_column(ID, ForeignKey("materials.id"))
    material_kg: Mapped[float | None] = mapped_column(Float)
    # SPEC 8.2: none or at least this many units at a workshop (revision 0004).
    min_lot: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Offer(Base):
    __tablename__ = "offers"
    workshop_id: Mapped[str] = mapped_column(ID, ForeignKey("workshops.id"), primary_key=True)
    component_id: Mapped[str] = mapped_column(ID, ForeignKey("components.id"),
                                              primary_key=True)
    step: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_price: Mapped[float | None] = mapped_column(Float)
    hours: Mapped[float | None] = mapped_column(Float)
    tooling_cost: Mapped[float] = mapped_column(Float, default=0.0)
    # Replaces the step's min_lot at this workshop; None keeps the step's (revision 0004).
    min_lot: Mapped[int | None] = mapped_column(Integer)


# ----------------------------------------------------------------------------------------
# Requests and history


class Request(Base):
    __tablename__ = "requests"
    __table_args__ = (Index("ix_requests_status", "status"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    # sha256 of the request as submitted: a key reused for different content is an error.
    fingerprint: Mapped[str] = mapped_column(String(64))
    # The request as submitted (SPEC section 2 `requests` item).
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    component_id: Mapped[str] = mapped_column(ID, ForeignKey("components.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    # open -> committed -> cancelled, or open -> cancelled.
    status: Mapped[str] = mapped_column(String(20), default="open")
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    committed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    plan_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("runs.id"))


class Run(Base):
    """One plan or one commit attempt, kept for good."""

    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))  # plan | commit
    # For a commit: the plan it committed (or tried to).
    plan_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("runs.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ledger_version: Mapped[int] = mapped_column(Integer)
    scenario_name: Mapped[str] = mapped_column(String(200))
    scenario_hash: Mapped[str] = mapped_column(String(64))
    request_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    solver_version: Mapped[str] = mapped_column(String(50), default="")
    # plan: optimal | feasible | infeasible | no_solution; commit: committed | refused.
    status: Mapped[str] = mapped_column(String(20))
    objective: Mapped[float | None] = mapped_column(Float)
    bound: Mapped[float | None] = mapped_column(Float)
    timings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message: Mapped[str | None] = mapped_column(Text)
    # The plan file of a plan run.
    document: Mapped[str | None] = mapped_column(Text)
    # The scenario as solved (JSON), so that a solve run can be replayed from the database.
    scenario_document: Mapped[str | None] = mapped_column(Text)
    broker_version: Mapped[str | None] = mapped_column(String(50))


# ----------------------------------------------------------------------------------------
# The committed ledger: plan rows and bookings, per request so that a cancel frees them


class _PerRequest:
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ID, ForeignKey("requests.id"), index=True)
    plan_id: Mapped[int] = mapped_column(Integer, ForeignKey("runs.id"))


class CommittedProduction(_PerRequest, Base):
    __tablename__ = "committed_production"
    step: Mapped[int] = mapped_column(Integer)
    workshop_id: Mapped[str] = mapped_column(ID, ForeignKey("workshops.id"))
    period: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)


class CommittedShipment(_PerRequest, Base):
    __tablename__ = "committed_shipments"
    step: Mapped[int] = mapped_column(Integer)
    from_id: Mapped[str] = mapped_column(ID, ForeignKey("workshops.id"))
    to_id: Mapped[str] = mapped_column(ID, ForeignKey("workshops.id"))
    quantity: Mapped[int] = mapped_column(Integer)


class CommittedMaterial(_PerRequest, Base):
    __tablename__ = "committed_materials"
    center_id: Mapped[str] = mapped_column(ID, ForeignKey("material_centers.id"))
    workshop_id: Mapped[str] = mapped_column(ID, ForeignKey("workshops.id"))
    material_id: Mapped[str] = mapped_column(ID, ForeignKey("materials.id"))
    kg: Mapped[float] = mapped_column(Float)


class CommittedImport(_PerRequest, Base):
    __tablename__ = "committed_imports"
    quantity: Mapped[int] = mapped_column(Integer)


class CommittedUnmet(_PerRequest, Base):
    __tablename__ = "committed_unmet"
    quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)


class BookedHours(_PerRequest, Base):
    __tablename__ = "booked_hours"
    __table_args__ = (Index("ix_booked_hours_slot", "workshop_id", "process", "period"),)
    workshop_id: Mapped[str] = mapped_column(ID, ForeignKey("workshops.id"))
    process: Mapped[str] = mapped_column(String(200))
    period: Mapped[int] = mapped_column(Integer)
    hours: Mapped[float] = mapped_column(Float)


class BookedMaterial(_PerRequest, Base):
    __tablename__ = "booked_materials"
    __table_args__ = (Index("ix_booked_materials_slot", "center_id", "material_id"),)
    center_id: Mapped[str] = mapped_column(ID, ForeignKey("material_centers.id"))
    material_id: Mapped[str] = mapped_column(ID, ForeignKey("materials.id"))
    kg: Mapped[float] = mapped_column(Float)


LEDGER_TABLES = (CommittedProduction, CommittedShipment, CommittedMaterial, CommittedImport,
                 CommittedUnmet, BookedHours, BookedMaterial)


# ----------------------------------------------------------------------------------------
# The HTTP service (`broker serve`): API keys, plan jobs, and who changed what


class ApiKey(Base):
    """An API key of the service. Only a salted argon2 hash of the secret is kept; the
    key itself is shown once, when it is made (`broker keys create`)."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))  # planner | buyer | workshop | viewer
    buyer: Mapped[str | None] = mapped_column(String(400))  # the buyer a buyer key acts for
    workshop_id: Mapped[str | None] = mapped_column(ID)  # the workshop a workshop key is
    secret_hash: Mapped[str] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Job(Base):
    """A plan solved in the background for the service: queued -> running -> done |
    failed | cancelled, or interrupted when the server stopped while it ran."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status", "status"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="plan")
    status: Mapped[str] = mapped_column(String(20))
    # The server that runs it (`broker serve --name`): a restart marks only its own
    # unfinished jobs interrupted.
    owner: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    request_ids: Mapped[list[Any] | None] = mapped_column(JSON)  # None: all open requests
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the latest event
    pid: Mapped[int | None] = mapped_column(Integer)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    plan_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("runs.id"))
    message: Mapped[str | None] = mapped_column(Text)


class Change(Base):
    """One change made through the service, and the key that made it."""

    __tablename__ = "changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    key_id: Mapped[str | None] = mapped_column(String(32), index=True)
    role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str | None] = mapped_column(String(400))
    ledger_version: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
