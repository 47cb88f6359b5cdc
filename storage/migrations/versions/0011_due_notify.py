"""PostgreSQL: NOTIFY crier_due with the earliest time whenever targets become due-able;
front_turns (several front-ends take one user's updates in turn); leases (one process at a
time sends broadcasts; circuit breakers open for every worker)

A target inserted queued, or updated into queued or to a new time (a confirm, a retry, an
edit that moves a time, a series advance, a lease given back), sends
`NOTIFY crier_due, '<earliest next_attempt_at, ISO 8601 UTC>'` in the same transaction, so
workers in other processes are woken when it commits (bot/engine/cluster/listen.py). Triggers catch
every path that writes targets, present and future. SQLite: no triggers (one process).

front_turns: which front-end handles a user's update now (bot/handlers/persistence.py).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ISO = """to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00'"""

# Inserts come in bulk (a CSV plan, a series): one statement-level notice with the
# earliest time, not one per row.
_INSERTED = f"""
CREATE OR REPLACE FUNCTION crier_due_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE earliest timestamptz;
BEGIN
    SELECT min(next_attempt_at) INTO earliest FROM crier_new WHERE status = 'queued';
    IF earliest IS NOT NULL THEN
        PERFORM pg_notify('crier_due', {_ISO.format("earliest")});
    END IF;
    RETURN NULL;
END $$;
"""

# Updates are mostly claims, completions and lease renewals, none of which makes work due:
# a row trigger whose WHEN clause filters them costs no function call (a statement trigger
# with transition tables would copy every updated row).
_UPDATED = f"""
CREATE OR REPLACE FUNCTION crier_due_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('crier_due', {_ISO.format("NEW.next_attempt_at")});
    RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.create_table(
        "front_turns",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_INSERTED)
    op.execute(_UPDATED)
    op.execute(
        "CREATE TRIGGER crier_due_insert AFTER INSERT ON targets "
        "REFERENCING NEW TABLE AS crier_new FOR EACH STATEMENT "
        "EXECUTE FUNCTION crier_due_inserted()"
    )
    op.execute(
        "CREATE TRIGGER crier_due_update "
        "AFTER UPDATE OF status, next_attempt_at, publish_at ON targets FOR EACH ROW "
        "WHEN (NEW.status = 'queued' AND (OLD.status IS DISTINCT FROM NEW.status "
        "OR OLD.next_attempt_at IS DISTINCT FROM NEW.next_attempt_at)) "
        "EXECUTE FUNCTION crier_due_updated()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS crier_due_update ON targets")
        op.execute("DROP TRIGGER IF EXISTS crier_due_insert ON targets")
        op.execute("DROP FUNCTION IF EXISTS crier_due_updated()")
        op.execute("DROP FUNCTION IF EXISTS crier_due_inserted()")
    op.drop_table("leases")
    op.drop_table("front_turns")
