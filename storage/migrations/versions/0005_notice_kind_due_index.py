"""notices.kind (a burst's summaries go as one digest); the due index ends with id

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 04:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=20), server_default="message", nullable=False)
        )
    # Claims order by (next_attempt_at, id): with id in the index PostgreSQL walks it in
    # order and stops at the claim's window instead of sorting every due target.
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.drop_index("ix_targets_due")
        batch_op.create_index("ix_targets_due", ["status", "next_attempt_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.drop_index("ix_targets_due")
        batch_op.create_index("ix_targets_due", ["status", "next_attempt_at"], unique=False)
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_column("kind")
