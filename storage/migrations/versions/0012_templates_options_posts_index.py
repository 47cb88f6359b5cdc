"""templates keep a post's URL buttons and Telegram options; posts (user_id, id) for /list

A user's /list reads their posts newest first; without this index PostgreSQL walked the
primary key backwards through every other user's posts (191 ms at a million targets,
docs/PERFORMANCE.md "Backlog").

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 15:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("templates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("buttons", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("options", sa.JSON(), nullable=True))
    op.create_index("ix_posts_user_id_id", "posts", ["user_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_posts_user_id_id", table_name="posts")
    with op.batch_alter_table("templates", schema=None) as batch_op:
        batch_op.drop_column("options")
        batch_op.drop_column("buttons")
