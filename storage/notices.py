"""The outbox of DMs. A notice is a row until Telegram has accepted it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Notice, NoticeStatus, User, UserStatus

#: A post's outcome (see Notice.kind): several waiting for one chat may go as one digest.
SUMMARY = "summary"


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
    """Insert several notices (user_id, chat_id, text, buttons, kind) in one statement. A
    summary for a user whose summaries are already held back to go together (a burst)
    joins them: it is due when they are."""
    if not rows:
        return
    summary_users = {row["user_id"] for row in rows if row.get("kind") == SUMMARY}
    held: dict[int, datetime] = {}
    if summary_users:
        held = {
            user_id: when
            for user_id, when in await session.execute(
                select(Notice.user_id, func.max(Notice.next_attempt_at))
                .where(
                    Notice.user_id.in_(sorted(summary_users)),
                    Notice.kind == SUMMARY,
                    Notice.status == NoticeStatus.PENDING,
                    Notice.next_attempt_at > now,
                )
                .group_by(Notice.user_id)
            )
        }
    await session.execute(
        insert(Notice),
        [
            {
                "buttons": [],
                **row,
                "status": NoticeStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": held.get(row["user_id"], now)
                if row.get("kind") == SUMMARY
                else now,
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


async def take_summaries(
    session: AsyncSession,
    *,
    user_ids: Sequence[int],
    exclude: Sequence[int],
    now: datetime,
    lease: timedelta,
) -> list[Notice]:
    """Claim, like `claim`, every other due summary of these users (to join a digest)."""
    if not user_ids:
        return []
    ids = list(
        await session.scalars(
            update(Notice)
            .where(
                Notice.user_id.in_(user_ids),
                Notice.kind == SUMMARY,
                Notice.status == NoticeStatus.PENDING,
                Notice.next_attempt_at <= now,
                Notice.id.not_in(exclude),
            )
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


async def postpone(session: AsyncSession, notice_ids: Sequence[int], when: datetime) -> None:
    """Put claimed notices back until `when`, the claim not counting as a try."""
    await session.execute(
        update(Notice)
        .where(Notice.id.in_(notice_ids), Notice.status == NoticeStatus.SENDING)
        .values(
            status=NoticeStatus.PENDING,
            next_attempt_at=when,
            lease_expires_at=None,
            attempts=Notice.attempts - 1,
        )
    )


async def mark_sent(session: AsyncSession, notice_id: int | Sequence[int], now: datetime) -> None:
    await session.execute(
        update(Notice)
        .where(Notice.id.in_(_ids(notice_id)))
        .values(status=NoticeStatus.SENT, sent_at=now, lease_expires_at=None, last_error=None)
    )


async def retry_later(
    session: AsyncSession, notice_id: int | Sequence[int], when: datetime, error: str
) -> None:
    await session.execute(
        update(Notice)
        .where(Notice.id.in_(_ids(notice_id)))
        .values(
            status=NoticeStatus.PENDING,
            next_attempt_at=when,
            lease_expires_at=None,
            last_error=error,
        )
    )


async def drop(session: AsyncSession, notice_id: int | Sequence[int], error: str) -> None:
    await session.execute(
        update(Notice)
        .where(Notice.id.in_(_ids(notice_id)))
        .values(status=NoticeStatus.DROPPED, lease_expires_at=None, last_error=error)
    )


def _ids(notice_id: int | Sequence[int]) -> list[int]:
    return [notice_id] if isinstance(notice_id, int) else list(notice_id)


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
