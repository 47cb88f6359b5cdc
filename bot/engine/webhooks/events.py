"""The events a user's webhook receives when one of their post's targets settles.

Each event is queued in the same transaction that changed the target (bot/engine/outcomes.py
for publishing, bot/compose/scheduled.py for the user's cancel and "mark as published"), so
none is lost across a crash, and only for users who set a URL.

The body follows the Standard Webhooks convention: ``{"type", "timestamp", "data"}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage import webhooks
from storage.models import Target, TargetStatus

#: The event type for each status a target can settle in.
TYPES: dict[TargetStatus, str] = {
    TargetStatus.PUBLISHED: "post.published",
    TargetStatus.FAILED: "post.failed",
    TargetStatus.UNKNOWN: "post.unknown",
    TargetStatus.CANCELLED: "post.cancelled",
}


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def for_target(
    target: Target,
    status: TargetStatus,
    *,
    url: str | None,
    error: str | None,
    now: datetime,
) -> webhooks.NewEvent:
    """The event for `target` having reached `status` at `now` (its account loaded)."""
    account = target.account
    kind = TYPES[status]
    return webhooks.NewEvent(
        user_id=target.user_id,
        type=kind,
        payload={
            "type": kind,
            "timestamp": _iso(now),
            "data": {
                "post_id": target.post_id,
                "occurrence": target.occurrence,
                "target_id": target.id,
                "account_id": account.id,
                "account": account.label,
                "platform": account.platform,
                "status": status.value,
                "url": url,
                "error": error or None,
                "scheduled_at": _iso(target.publish_at),
                "occurred_at": _iso(now),
            },
        },
    )


async def emit(session: AsyncSession, events: Sequence[webhooks.NewEvent], now: datetime) -> int:
    """Queue the events for the users who listen; returns how many were queued."""
    return await webhooks.enqueue(session, events, now)


async def emit_for_targets(
    session: AsyncSession,
    user_id: int,
    target_ids: Sequence[int],
    status: TargetStatus,
    now: datetime,
) -> int:
    """Queue an event for each of the user's targets that is now in `status`: for changes
    written with one UPDATE (a cancel, a "mark as published"). A target the change didn't
    reach (the engine took it meanwhile) is in another status, and gets its own event."""
    if not target_ids:
        return 0
    rows = await session.scalars(
        select(Target)
        .where(Target.user_id == user_id, Target.id.in_(list(target_ids)))
        .options(joinedload(Target.account))
        .order_by(Target.id)
        .execution_options(populate_existing=True)
    )
    events = [
        for_target(t, t.status, url=t.url, error=t.last_error, now=now)
        for t in rows
        if t.status == status
    ]
    return await emit(session, events, now)
