"""Broadcasts and their deliveries: one row per recipient, so a broadcast can resume.

A draft belongs to the admin who made it. Confirming it creates every delivery in one
statement (INSERT ... SELECT over the chosen segment) in the same transaction that marks
the broadcast running; from then on a delivery only moves from `pending` to a final status,
and only once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, exists, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Account,
    AccountStatus,
    Broadcast,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    User,
    UserStatus,
)

#: The platform every user has from the start; it doesn't count as "connected".
DRY_RUN = "dryrun"


def segment_filter(segment: dict[str, Any], now: datetime) -> ColumnElement[bool]:
    """Who a segment means, always among users who can receive messages (not blocked, not
    banned). Unknown segments fall back to everyone active."""
    active = User.status == UserStatus.ACTIVE
    kind = segment.get("kind")
    if kind == "with_platform":
        connected = exists().where(
            Account.user_id == User.id,
            Account.platform != DRY_RUN,
            Account.status != AccountStatus.DISABLED,
        )
        return active & connected
    if kind == "active_days":
        days = int(segment.get("days", 30))
        return active & (User.last_seen_at >= now - timedelta(days=days))
    return active


async def count_recipients(session: AsyncSession, segment: dict[str, Any], now: datetime) -> int:
    return int(
        await session.scalar(select(func.count(User.id)).where(segment_filter(segment, now))) or 0
    )


async def new_draft(session: AsyncSession, admin_id: int, rate: float) -> Broadcast:
    """A fresh draft for this admin, waiting for its content; an older draft of theirs goes."""
    await session.execute(
        update(Broadcast)
        .where(Broadcast.created_by == admin_id, Broadcast.status == BroadcastStatus.DRAFT)
        .values(status=BroadcastStatus.CANCELLED)
    )
    draft = Broadcast(
        created_by=admin_id,
        status=BroadcastStatus.DRAFT,
        content={"awaiting": True},
        segment={"kind": "all"},
        rate=rate,
    )
    session.add(draft)
    await session.flush()
    return draft


async def draft(session: AsyncSession, admin_id: int, broadcast_id: int) -> Broadcast | None:
    """The admin's own draft with this id (another admin's draft is not found)."""
    return await session.scalar(
        select(Broadcast).where(
            Broadcast.id == broadcast_id,
            Broadcast.created_by == admin_id,
            Broadcast.status == BroadcastStatus.DRAFT,
        )
    )


async def awaiting_drafts(session: AsyncSession) -> dict[int, int]:
    """Admin id -> draft id, for drafts still waiting for their message."""
    rows = await session.execute(
        select(Broadcast.created_by, Broadcast.id, Broadcast.content).where(
            Broadcast.status == BroadcastStatus.DRAFT
        )
    )
    return {admin: bid for admin, bid, content in rows if (content or {}).get("awaiting")}


async def set_content(
    session: AsyncSession, admin_id: int, broadcast_id: int, content: dict[str, Any]
) -> Broadcast | None:
    found = await draft(session, admin_id, broadcast_id)
    if found is not None:
        found.content = content
        await session.flush()
    return found


async def set_segment(
    session: AsyncSession, admin_id: int, broadcast_id: int, segment: dict[str, Any]
) -> Broadcast | None:
    found = await draft(session, admin_id, broadcast_id)
    if found is not None:
        found.segment = segment
        await session.flush()
    return found


async def confirm(
    session: AsyncSession,
    *,
    admin_id: int,
    broadcast_id: int,
    now: datetime,
    progress_chat_id: int,
    progress_message_id: int,
) -> Broadcast | None:
    """Start the admin's draft: one pending delivery per recipient, in this transaction.
    None when it isn't their draft any more (already confirmed, cancelled, never theirs)."""
    found = await session.scalar(
        select(Broadcast)
        .where(
            Broadcast.id == broadcast_id,
            Broadcast.created_by == admin_id,
            Broadcast.status == BroadcastStatus.DRAFT,
        )
        .with_for_update()
    )
    if found is None:
        return None
    recipients = select(
        literal(broadcast_id),
        User.id,
        User.chat_id,
        literal(DeliveryStatus.PENDING.value),
        literal(0),
    ).where(segment_filter(found.segment, now))
    await session.execute(
        insert(Delivery).from_select(
            ["broadcast_id", "user_id", "chat_id", "status", "attempts"], recipients
        )
    )
    found.total = int(
        await session.scalar(
            select(func.count(Delivery.id)).where(Delivery.broadcast_id == broadcast_id)
        )
        or 0
    )
    found.status = BroadcastStatus.RUNNING
    found.progress_chat_id = progress_chat_id
    found.progress_message_id = progress_message_id
    content = dict(found.content)
    content.pop("awaiting", None)
    found.content = content
    await session.flush()
    return found


async def get(session: AsyncSession, broadcast_id: int) -> Broadcast | None:
    return await session.get(Broadcast, broadcast_id, populate_existing=True)


async def running(session: AsyncSession) -> list[Broadcast]:
    """Broadcasts to send, oldest first."""
    result = await session.scalars(
        select(Broadcast).where(Broadcast.status == BroadcastStatus.RUNNING).order_by(Broadcast.id)
    )
    return list(result)


async def mark_started(session: AsyncSession, broadcast_id: int, now: datetime) -> None:
    await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.started_at.is_(None))
        .values(started_at=now)
    )


@dataclass(frozen=True, kw_only=True)
class PendingDelivery:
    id: int
    user_id: int
    chat_id: int


async def pending(
    session: AsyncSession, broadcast_id: int, *, after_id: int, limit: int
) -> list[PendingDelivery]:
    """The next pending deliveries, in id order, after `after_id` (a cursor: ones in flight
    are never handed out twice)."""
    rows = await session.execute(
        select(Delivery.id, Delivery.user_id, Delivery.chat_id)
        .where(
            Delivery.broadcast_id == broadcast_id,
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.id > after_id,
        )
        .order_by(Delivery.id)
        .limit(limit)
    )
    return [PendingDelivery(id=i, user_id=u, chat_id=c) for i, u, c in rows]


async def settle(
    session: AsyncSession,
    delivery_id: int,
    status: DeliveryStatus,
    *,
    attempts: int,
    now: datetime | None = None,
    error: str | None = None,
) -> bool:
    """Move a pending delivery to its final status; False if it was settled already."""
    values: dict[str, object] = {"status": status, "attempts": attempts, "error": error}
    if now is not None:
        values["sent_at"] = now
    result = await session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.PENDING)
        .values(values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def settle_blocked(
    session: AsyncSession, delivery_id: int, user_id: int, *, attempts: int, error: str
) -> bool:
    """The recipient blocked the bot: the delivery ends and the user is marked `blocked`
    (a ban stays a ban)."""
    done = await settle(
        session, delivery_id, DeliveryStatus.BLOCKED, attempts=attempts, error=error
    )
    await session.execute(
        update(User)
        .where(User.id == user_id, User.status == UserStatus.ACTIVE)
        .values(status=UserStatus.BLOCKED)
    )
    return done


async def counts(session: AsyncSession, broadcast_id: int) -> dict[DeliveryStatus, int]:
    rows = await session.execute(
        select(Delivery.status, func.count(Delivery.id))
        .where(Delivery.broadcast_id == broadcast_id)
        .group_by(Delivery.status)
    )
    found = {DeliveryStatus(status): int(n) for status, n in rows}
    return {status: found.get(status, 0) for status in DeliveryStatus}


async def save_counts(
    session: AsyncSession, broadcast_id: int, tally: dict[DeliveryStatus, int]
) -> None:
    await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id)
        .values(
            sent=tally[DeliveryStatus.SENT],
            blocked=tally[DeliveryStatus.BLOCKED],
            failed=tally[DeliveryStatus.FAILED],
        )
    )


async def finish(session: AsyncSession, broadcast_id: int, now: datetime) -> Broadcast | None:
    """Record the final counts; a running broadcast becomes done, a cancelled one stays so."""
    await save_counts(session, broadcast_id, await counts(session, broadcast_id))
    await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.status == BroadcastStatus.RUNNING)
        .values(status=BroadcastStatus.DONE)
    )
    await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.finished_at.is_(None))
        .values(finished_at=now)
    )
    return await get(session, broadcast_id)


async def cancel(session: AsyncSession, broadcast_id: int) -> Broadcast | None:
    """Stop a running broadcast: its pending deliveries stay pending and are never sent.
    None if no such broadcast is running."""
    found = await session.scalar(
        select(Broadcast)
        .where(
            Broadcast.id == broadcast_id,
            Broadcast.status.in_((BroadcastStatus.RUNNING, BroadcastStatus.PAUSED)),
        )
        .with_for_update()
    )
    if found is None:
        return None
    found.status = BroadcastStatus.CANCELLED
    await session.flush()
    return found


async def drop_draft(session: AsyncSession, admin_id: int, broadcast_id: int) -> bool:
    """Drop the admin's own draft; False if they have no such draft."""
    result = await session.execute(
        update(Broadcast)
        .where(
            Broadcast.id == broadcast_id,
            Broadcast.created_by == admin_id,
            Broadcast.status == BroadcastStatus.DRAFT,
        )
        .values(status=BroadcastStatus.CANCELLED)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def status_of(session: AsyncSession, broadcast_id: int) -> BroadcastStatus | None:
    return await session.scalar(select(Broadcast.status).where(Broadcast.id == broadcast_id))
