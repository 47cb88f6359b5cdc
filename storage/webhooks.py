"""Outgoing webhooks: each user's endpoint, and the outbox of events for it.

An event is a row until the user's receiver answered 2xx (at least once: the worst a crash
can cause is the same event twice, with the same `event_id`, never a lost one). Everything
a user asks about is scoped to their id; the sender's claims are the only reads across users.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import WebhookDelivery, WebhookEndpoint, WebhookStatus


@dataclass(frozen=True, kw_only=True)
class NewEvent:
    user_id: int  #: whose post it is
    type: str  #: post.published, post.failed, post.unknown, post.cancelled
    payload: dict[str, Any]  #: the JSON body, as it will be sent


def new_event_id() -> str:
    """An opaque id, unique per event (`webhook-id`); random, so it says nothing."""
    return f"msg_{secrets.token_urlsafe(18)}"


# -- the endpoint -------------------------------------------------------------------------------


async def endpoint(session: AsyncSession, user_id: int) -> WebhookEndpoint | None:
    return await session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.user_id == user_id))


async def set_endpoint(
    session: AsyncSession, user_id: int, *, url: str, sealed_secret: str | None, now: datetime
) -> WebhookEndpoint:
    """Set the user's URL; a new sealed secret replaces the old one (None: keep it)."""
    found = await endpoint(session, user_id)
    if found is None:
        assert sealed_secret is not None, "a new endpoint needs a secret"
        found = WebhookEndpoint(
            user_id=user_id, url=url, secret=sealed_secret, created_at=now, updated_at=now
        )
        session.add(found)
    else:
        found.url = url
        found.updated_at = now
        if sealed_secret is not None:
            found.secret = sealed_secret
    await session.flush()
    return found


async def set_secret(
    session: AsyncSession, user_id: int, sealed_secret: str, now: datetime
) -> bool:
    """Replace the user's secret; False if they have no endpoint."""
    result = await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.user_id == user_id)
        .values(secret=sealed_secret, updated_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def clear_endpoint(session: AsyncSession, user_id: int) -> bool:
    """Remove the user's endpoint; what was still waiting for it is given up."""
    result = await session.execute(
        delete(WebhookEndpoint).where(WebhookEndpoint.user_id == user_id)
    )
    await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.user_id == user_id,
            WebhookDelivery.status.in_([WebhookStatus.PENDING, WebhookStatus.SENDING]),
        )
        .values(status=WebhookStatus.FAILED, lease_expires_at=None, last_error="URL removed")
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# -- the outbox ---------------------------------------------------------------------------------


async def enqueue(session: AsyncSession, events: Sequence[NewEvent], now: datetime) -> int:
    """Queue the events of users who have an endpoint (the others' are not kept); returns
    how many were queued. Called in the transaction that changed the post's state."""
    if not events:
        return 0
    users = sorted({event.user_id for event in events})
    listening = set(
        await session.scalars(
            select(WebhookEndpoint.user_id).where(WebhookEndpoint.user_id.in_(users))
        )
    )
    rows = [
        {
            "user_id": event.user_id,
            "event_id": new_event_id(),
            "type": event.type,
            "payload": event.payload,
            "status": WebhookStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for event in events
        if event.user_id in listening
    ]
    if rows:
        await session.execute(insert(WebhookDelivery), rows)
    return len(rows)


@dataclass(frozen=True, kw_only=True)
class Claimed:
    delivery: WebhookDelivery
    url: str
    sealed_secret: str


async def claim(
    session: AsyncSession, *, now: datetime, lease: timedelta, limit: int
) -> list[Claimed]:
    """Take due deliveries, oldest first, with their user's endpoint; an unfinished send is
    retried after its lease."""
    due = (
        select(WebhookDelivery.id)
        .where(
            (
                (WebhookDelivery.status == WebhookStatus.PENDING)
                & (WebhookDelivery.next_attempt_at <= now)
            )
            | (
                (WebhookDelivery.status == WebhookStatus.SENDING)
                & (WebhookDelivery.lease_expires_at < now)
            )
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(
        await session.scalars(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(due.scalar_subquery()))
            .values(
                status=WebhookStatus.SENDING,
                lease_expires_at=now + lease,
                attempts=WebhookDelivery.attempts + 1,
            )
            .returning(WebhookDelivery.id)
            .execution_options(synchronize_session=False)
        )
    )
    if not ids:
        return []
    rows = await session.execute(
        select(WebhookDelivery, WebhookEndpoint.url, WebhookEndpoint.secret)
        .outerjoin(WebhookEndpoint, WebhookEndpoint.user_id == WebhookDelivery.user_id)
        .where(WebhookDelivery.id.in_(ids))
        .order_by(WebhookDelivery.id)
        .execution_options(populate_existing=True)
    )
    claimed: list[Claimed] = []
    orphans: list[int] = []
    for delivery, url, secret in rows:
        if url is None:
            orphans.append(delivery.id)
        else:
            claimed.append(Claimed(delivery=delivery, url=url, sealed_secret=secret))
    if orphans:  # the URL was removed after the claim's select
        await finish(session, orphans, WebhookStatus.FAILED, now, error="URL removed")
    return claimed


async def finish(
    session: AsyncSession,
    ids: Sequence[int],
    status: WebhookStatus,
    now: datetime,
    *,
    http_status: int | None = None,
    error: str | None = None,
) -> None:
    """Delivered (2xx) or given up."""
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(list(ids)))
        .values(
            status=status,
            lease_expires_at=None,
            last_status=http_status,
            last_error=error,
            delivered_at=now if status == WebhookStatus.DELIVERED else None,
        )
    )


async def retry_later(
    session: AsyncSession,
    delivery_id: int,
    when: datetime,
    *,
    http_status: int | None,
    error: str,
) -> None:
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .values(
            status=WebhookStatus.PENDING,
            next_attempt_at=when,
            lease_expires_at=None,
            last_status=http_status,
            last_error=error,
        )
    )


async def next_due(session: AsyncSession) -> datetime | None:
    pending = await session.scalar(
        select(func.min(WebhookDelivery.next_attempt_at)).where(
            WebhookDelivery.status == WebhookStatus.PENDING
        )
    )
    sending = await session.scalar(
        select(func.min(WebhookDelivery.lease_expires_at)).where(
            WebhookDelivery.status == WebhookStatus.SENDING
        )
    )
    times = [t for t in (pending, sending) if t is not None]
    return min(times) if times else None


async def recent(session: AsyncSession, user_id: int, *, limit: int = 10) -> list[WebhookDelivery]:
    """The user's latest deliveries, newest first."""
    result = await session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.user_id == user_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    return list(result)
