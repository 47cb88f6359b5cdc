"""targets: a two-phase publish's handle, stage and start; what was published (ref, notes);
delete-after

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column("handle", sa.JSON(), nullable=True),
        sa.Column("stage", sa.String(length=160), nullable=True),
        sa.Column("processing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ref", sa.JSON(), nullable=True),
        sa.Column("notes", sa.JSON(), nullable=True),
        sa.Column("delete_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("targets", schema=None) as batch_op:
        for column in _columns():
            batch_op.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("targets", schema=None) as batch_op:
        for column in reversed(_columns()):
            batch_op.drop_column(column.name)
