"""posts: URL buttons and per-post Telegram options (silent, protected, spoiler, link
preview, pin, an album's buttons, delete-after); targets: an index for due deletions

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column("buttons", sa.JSON(), nullable=True),
        sa.Column("options", sa.JSON(), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        for column in _columns():
            batch_op.add_column(column)
    op.create_index("ix_targets_delete", "targets", ["deleted_at", "delete_at"])


def downgrade() -> None:
    op.drop_index("ix_targets_delete", table_name="targets")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        for column in reversed(_columns()):
            batch_op.drop_column(column.name)
