"""Minimum lots (SPEC 8.2) in the registry: a step's `min_lot` and an offer's, which the
registry used to drop on import, so that plans against the ledger ignored them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 15:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("component_steps", sa.Column("min_lot", sa.Integer(), nullable=False,
                                               server_default="0"))
    op.add_column("offers", sa.Column("min_lot", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("offers") as batch:
        batch.drop_column("min_lot")
    with op.batch_alter_table("component_steps") as batch:
        batch.drop_column("min_lot")
