"""Initial ledger schema: registry, requests, run history and the committed ledger.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 10:50:43.209335
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "components",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=True),
        sa.Column("weight_kg", sa.Float(), nullable=False),
        sa.Column("import_price", sa.Float(), nullable=True),
        sa.Column("import_lead_periods", sa.Integer(), nullable=True),
        sa.Column("offers_only", sa.Boolean(), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_components")),
    )
    op.create_table(
        "locations",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_locations")),
    )
    op.create_table(
        "materials",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_materials")),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ledger_version", sa.Integer(), nullable=False),
        sa.Column("scenario_name", sa.String(length=200), nullable=False),
        sa.Column("scenario_hash", sa.String(length=64), nullable=False),
        sa.Column("request_ids", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("solver_version", sa.String(length=50), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("objective", sa.Float(), nullable=True),
        sa.Column("bound", sa.Float(), nullable=True),
        sa.Column("timings", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("document", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["runs.id"], name=op.f("fk_runs_plan_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    op.create_table(
        "settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=20), nullable=False),
        sa.Column("periods", sa.Integer(), nullable=False),
        sa.Column("period_days", sa.Integer(), nullable=False),
        sa.Column("start", sa.Date(), nullable=True),
        sa.Column("transport", sa.JSON(), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settings")),
    )
    op.create_table(
        "component_steps",
        sa.Column("component_id", sa.String(length=200), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("process", sa.String(length=200), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("material_id", sa.String(length=200), nullable=True),
        sa.Column("material_kg", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["components.id"],
            name=op.f("fk_component_steps_component_id_components"),
        ),
        sa.ForeignKeyConstraint(
            ["material_id"], ["materials.id"], name=op.f("fk_component_steps_material_id_materials")
        ),
        sa.PrimaryKeyConstraint("component_id", "step", name=op.f("pk_component_steps")),
    )
    op.create_table(
        "material_centers",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=True),
        sa.Column("location_id", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_material_centers_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_material_centers")),
    )
    op.create_table(
        "requests",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("component_id", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["component_id"], ["components.id"], name=op.f("fk_requests_component_id_components")
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["runs.id"], name=op.f("fk_requests_plan_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requests")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_requests_idempotency_key")),
    )
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.create_index("ix_requests_status", ["status"], unique=False)

    op.create_table(
        "routes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("from_id", sa.String(length=200), nullable=False),
        sa.Column("to_id", sa.String(length=200), nullable=False),
        sa.Column("km", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_id"], ["locations.id"], name=op.f("fk_routes_from_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["to_id"], ["locations.id"], name=op.f("fk_routes_to_id_locations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routes")),
        sa.UniqueConstraint("from_id", "to_id", name=op.f("uq_routes_from_id")),
    )
    op.create_table(
        "workshops",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=True),
        sa.Column("location_id", sa.String(length=200), nullable=False),
        sa.Column("certifications", sa.JSON(), nullable=False),
        sa.Column("engagement_cost", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_workshops_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshops")),
    )
    op.create_table(
        "booked_hours",
        sa.Column("workshop_id", sa.String(length=200), nullable=False),
        sa.Column("process", sa.String(length=200), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=200), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["runs.id"], name=op.f("fk_booked_hours_plan_id_runs")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_booked_hours_request_id_requests")
        ),
        sa.ForeignKeyConstraint(
            ["workshop_id"], ["workshops.id"], name=op.f("fk_booked_hours_workshop_id_workshops")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booked_hours")),
    )
    with op.batch_alter_table("booked_hours", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_booked_hours_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(
            "ix_booked_hours_slot", ["workshop_id", "process", "period"], unique=False
        )

    op.create_table(
        "booked_materials",
        sa.Column("center_id", sa.String(length=200), nullable=False),
        sa.Column("material_id", sa.String(length=200), nullable=False),
        sa.Column("kg", sa.Float(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=200), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["center_id"],
            ["material_centers.id"],
            name=op.f("fk_booked_materials_center_id_material_centers"),
        ),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["materials.id"],
            name=op.f("fk_booked_materials_material_id_materials"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["runs.id"], name=op.f("fk_booked_materials_plan_id_runs")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_booked_materials_request_id_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booked_materials")),
    )
    with op.batch_alter_table("booked_materials", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_booked_materials_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(
            "ix_booked_materials_slot", ["center_id", "material_id"], unique=False
        )

    op.create_table(
        "center_stocks",
        sa.Column("center_id", sa.String(length=200), nullable=False),
        sa.Column("material_id", sa.String(length=200), nullable=False),
        sa.Column("stock_kg", sa.Float(), nullable=False),
        sa.Column("price_per_kg", sa.Float(), nullable=False),
        sa.Column("domestic", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["center_id"],
            ["material_centers.id"],
            name=op.f("fk_center_stocks_center_id_material_centers"),
        ),
        sa.ForeignKeyConstraint(
            ["material_id"], ["materials.id"], name=op.f("fk_center_stocks_material_id_materials")
        ),
        sa.PrimaryKeyConstraint("center_id", "material_id", name=op.f("pk_center_stocks")),
    )
    op.create_table(
        "committed_imports",
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=200), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["runs.id"], name=op.f("fk_committed_imports_plan_id_runs")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_committed_imports_request_id_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_committed_imports")),
    )
    with op.batch_alter_table("committed_imports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_committed_imports_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "committed_materials",
        sa.Column("center_id", sa.String(length=200), nullable=False),
        sa.Column("workshop_id", sa.String(length=200), nullable=False),
        sa.Column("material_id", sa.String(length=200), nullable=False),
        sa.Column("kg", sa.Float(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=200), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["center_id"],
            ["material_centers.id"],
            name=op.f("fk_committed_materials_center_id_material_centers"),
        ),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["materials.id"],
            name=op.f("fk_committed_materials_material_id_materials"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["runs.id"], name=op.f("fk_committed_materials_plan_id_runs")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_committed_materials_request_id_requests")
        ),
        sa.ForeignKeyConstraint(
            ["workshop_id"],
            ["workshops.id"],
            name=op.f("fk_committed_materials_workshop_id_workshops"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_committed_materials")),
    )
    with op.batch_alter_table("committed_materials", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_committed_materials_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "committed_production",
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.String(length=200), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=200), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["runs.id"], name=op.f("fk_committed_production_plan_id_runs")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_committed_production_request_id_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["workshop_id"],
            ["workshops.id"],
            name=op.f("fk_committed_production_workshop_id_workshops"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_committed_production")),
    )
    with op.batch_alter_table("committed_production", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_committed_production_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "committed_shipments",
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("from_id", sa.String(length=200), nullable=False),
        sa.Column("to_id", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=200), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_id"], ["workshops.id"], name=op.f("fk_committed_shipments_from_id_workshops")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["runs.id"], name=op.f("fk_committed_shipments_plan_id_runs")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_committed_shipments_request_id_requests")
        ),
        sa.ForeignKeyConstraint(
            ["to_id"], ["workshops.id"], name=op.f("fk_committed_shipments_to_id_workshops")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_committed_shipments")),
    )
    with op.batch_alter_table("committed_shipments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_committed_shipments_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "committed_unmet",
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=200), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["runs.id"], name=op.f("fk_committed_unmet_plan_id_runs")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_committed_unmet_request_id_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_committed_unmet")),
    )
    with op.batch_alter_table("committed_unmet", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_committed_unmet_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "offers",
        sa.Column("workshop_id", sa.String(length=200), nullable=False),
        sa.Column("component_id", sa.String(length=200), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Float(), nullable=True),
        sa.Column("hours", sa.Float(), nullable=True),
        sa.Column("tooling_cost", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["component_id"], ["components.id"], name=op.f("fk_offers_component_id_components")
        ),
        sa.ForeignKeyConstraint(
            ["workshop_id"], ["workshops.id"], name=op.f("fk_offers_workshop_id_workshops")
        ),
        sa.PrimaryKeyConstraint("workshop_id", "component_id", "step", name=op.f("pk_offers")),
    )
    op.create_table(
        "workshop_processes",
        sa.Column("workshop_id", sa.String(length=200), nullable=False),
        sa.Column("process", sa.String(length=200), nullable=False),
        sa.Column("rate", sa.Float(), nullable=True),
        sa.Column("capacity", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workshop_id"],
            ["workshops.id"],
            name=op.f("fk_workshop_processes_workshop_id_workshops"),
        ),
        sa.PrimaryKeyConstraint("workshop_id", "process", name=op.f("pk_workshop_processes")),
    )
    op.create_table(
        "capacity_periods",
        sa.Column("workshop_id", sa.String(length=200), nullable=False),
        sa.Column("process", sa.String(length=200), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workshop_id", "process"],
            ["workshop_processes.workshop_id", "workshop_processes.process"],
            name="fk_capacity_periods_workshop_processes",
        ),
        sa.PrimaryKeyConstraint(
            "workshop_id", "process", "period", name=op.f("pk_capacity_periods")
        ),
    )
    settings = sa.table(
        "settings",
        sa.column("id", sa.Integer()),
        sa.column("name", sa.String()),
        sa.column("currency", sa.String()),
        sa.column("periods", sa.Integer()),
        sa.column("period_days", sa.Integer()),
        sa.column("transport", sa.JSON()),
        sa.column("policy", sa.JSON()),
        sa.column("version", sa.Integer()),
    )
    # The one settings row is the ledger's lock: it exists before the first writer needs it.
    op.bulk_insert(
        settings,
        [
            {
                "id": 1,
                "name": "",
                "currency": "IDR",
                "periods": 0,
                "period_days": 7,
                "transport": {},
                "policy": {},
                "version": 0,
            }
        ],
    )


def downgrade() -> None:
    op.drop_table("capacity_periods")
    op.drop_table("workshop_processes")
    op.drop_table("offers")
    with op.batch_alter_table("committed_unmet", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_committed_unmet_request_id"))

    op.drop_table("committed_unmet")
    with op.batch_alter_table("committed_shipments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_committed_shipments_request_id"))

    op.drop_table("committed_shipments")
    with op.batch_alter_table("committed_production", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_committed_production_request_id"))

    op.drop_table("committed_production")
    with op.batch_alter_table("committed_materials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_committed_materials_request_id"))

    op.drop_table("committed_materials")
    with op.batch_alter_table("committed_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_committed_imports_request_id"))

    op.drop_table("committed_imports")
    op.drop_table("center_stocks")
    with op.batch_alter_table("booked_materials", schema=None) as batch_op:
        batch_op.drop_index("ix_booked_materials_slot")
        batch_op.drop_index(batch_op.f("ix_booked_materials_request_id"))

    op.drop_table("booked_materials")
    with op.batch_alter_table("booked_hours", schema=None) as batch_op:
        batch_op.drop_index("ix_booked_hours_slot")
        batch_op.drop_index(batch_op.f("ix_booked_hours_request_id"))

    op.drop_table("booked_hours")
    op.drop_table("workshops")
    op.drop_table("routes")
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_index("ix_requests_status")

    op.drop_table("requests")
    op.drop_table("material_centers")
    op.drop_table("component_steps")
    op.drop_table("settings")
    op.drop_table("runs")
    op.drop_table("materials")
    op.drop_table("locations")
    op.drop_table("components")
