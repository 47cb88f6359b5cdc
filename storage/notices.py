"""The outbox of DMs. A notice is a row until Telegram has accepted it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Notice, NoticeStatus, User, UserStatus


async def enqueue(
    session: AsyncSession,
    *,
    user_id: int,
    chat_id: int,
    text: str,
    buttons: list[list[dict[str, str]]] | None = None,
    now: datetime,
) -> Notice:
    notice = Notice(
        user_id=user_id,
        chat_id=chat_id,
        text=text,
        buttons=buttons or [],
        status=NoticeStatus.PENDING,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(notice)
    await session.flush()
    return notice


async def enqueue_many(session: AsyncSession, rows: list[dict[str, Any]], now: datetime) -> None:
    """Insert several notices (user_id, chat_id, text, buttons) in one statement."""
    if rows:
        await session.execute(
            insert(Notice),
            [
                {
                    "buttons": [],
                    **row,
                    "status": NoticeStatus.PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for row in rows
            ],
        )


async def claim(
    session: AsyncSession, *, now: datetime, lease: timedelta, limit: int
) -> list[Notice]:
    """Take due notices, oldest first; an unfinished send is retried after its lease.
    Due notices of users who blocked the bot are dropped instead: Telegram would refuse them."""
    await session.execute(
        update(Notice)
        .where(
            Notice.status == NoticeStatus.PENDING,
            Notice.next_attempt_at <= now,
            Notice.user_id.in_(select(User.id).where(User.status == UserStatus.BLOCKED)),
        )
        .values(status=NoticeStatus.DROPPED, last_error="user blocked the bot")
        .execution_options(synchronize_session=False)
    )
    due = (
        select(Notice.id)
        .where(
            ((Notice.status == NoticeStatus.PENDING) & (Notice.next_attempt_at <= now))
            | ((Notice.status == NoticeStatus.SENDING) & (Notice.lease_expires_at < now))
        )
        .order_by(Notice.next_attempt_at, Notice.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(
        await session.scalars(
            update(Notice)
            .where(Notice.id.in_(due.scalar_subquery()))
            .values(
                status=NoticeStatus.SENDING,
                lease_expires_at=now + lease,
                attempts=Notice.attempts + 1,
            )
            .returning(Notice.id)
            .execution_options(synchronize_session=False)
        )
    )
    if not ids:
        return []
    result = await session.scalars(
        select(Notice)
        .where(Notice.id.in_(ids))
        .order_by(Notice.id)
        .execution_options(populate_existing=True)
    )
    return list(result)


async def mark_sent(session: AsyncSession, notice_id: int, now: datetime) -> None:
    await session.execute(
        update(Notice)
        .where(Notice.id == notice_id)
        .values(status=NoticeStatus.SENT, sent_at=now, lease_expires_at=None, last_error=None)
    )


async def retry_later(session: AsyncSession, notice_id: int, when: datetime, error: str) -> None:
    await session.execute(
        update(Notice)
        .where(Notice.id == notice_id)
        .values(
            status=NoticeStatus.PENDING,
            next_attempt_at=when,
            lease_expires_at=None,
            last_error=error,
        )
    )


async def drop(session: AsyncSession, notice_id: int, error: str) -> None:
    await session.execute(
        update(Notice)
        .where(Notice.id == notice_id)
        .values(status=NoticeStatus.DROPPED, lease_expires_at=None, last_error=error)
    )


async def drop_for_user(session: AsyncSession, user_id: int, error: str) -> int:
    result = await session.execute(
        update(Notice)
        .where(Notice.user_id == user_id, Notice.status == NoticeStatus.PENDING)
        .values(status=NoticeStatus.DROPPED, last_error=error)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def next_due(session: AsyncSession) -> datetime | None:
    pending = await session.scalar(
        select(func.min(Notice.next_attempt_at)).where(Notice.status == NoticeStatus.PENDING)
    )
    sending = await session.scalar(
        select(func.min(Notice.lease_expires_at)).where(Notice.status == NoticeStatus.SENDING)
    )
    times = [t for t in (pending, sending) if t is not None]
    return min(times) if times else None


def pending_count_query() -> Any:
    return select(func.count()).where(Notice.status == NoticeStatus.PENDING)
