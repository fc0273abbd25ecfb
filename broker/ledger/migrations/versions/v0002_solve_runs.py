"""Runs of `broker solve` kept replayable: the scenario document and the project version.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 11:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch mode: SQLite cannot drop columns in place, and the downgrade must work there too.
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("scenario_document", sa.Text(), nullable=True))
        batch.add_column(sa.Column("broker_version", sa.String(length=50), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("broker_version")
        batch.drop_column("scenario_document")
