"""Recurring posts: each occurrence of a series is its own set of targets (one per account).

The series' rule lives on the post (`rrule`, `timezone`, `dtstart_local`); the next
occurrence is created when the previous one settles, so only one occurrence is queued at a
time. Working out *when* it is belongs to the application (bot/engine/series.py); this module only
reads and writes the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage.models import Account, Post, PostStatus, Target, TargetStatus
from storage.posts import idempotency_key


@dataclass(frozen=True, kw_only=True)
class Series:
    """A post's series fields, as read (and locked) in the current transaction."""

    post_id: int
    user_id: int
    status: PostStatus
    #: The RFC 5545 rule; None for a one-off post.
    rrule: str | None
    timezone: str | None
    #: The series' start as local wall time ("2027-03-22T09:00:00").
    dtstart_local: str | None


async def lock(session: AsyncSession, post_id: int, *, user_id: int | None) -> Series | None:
    """The post's series fields, read afresh and locked until the transaction ends
    (PostgreSQL; SQLite has one writer at a time), so two settlers can't both move the
    series on and a cancel can't slip in between. `user_id` scopes a user's request; the
    engine, settling whoever's post it is, passes None."""
    query = select(
        Post.id, Post.user_id, Post.status, Post.rrule, Post.timezone, Post.dtstart_local
    ).where(Post.id == post_id)
    if user_id is not None:
        query = query.where(Post.user_id == user_id)
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update(of=Post)
    row = (await session.execute(query)).one_or_none()
    if row is None:
        return None
    return Series(
        post_id=row.id,
        user_id=row.user_id,
        status=row.status,
        rrule=row.rrule,
        timezone=row.timezone,
        dtstart_local=row.dtstart_local,
    )


async def repeating(session: AsyncSession, post_ids: Iterable[int]) -> set[int]:
    """Which of these posts repeat (have a rule): only those have a series to move on."""
    ids = sorted(set(post_ids))
    if not ids:
        return set()
    return set(
        await session.scalars(select(Post.id).where(Post.id.in_(ids), Post.rrule.is_not(None)))
    )


async def latest_occurrence(session: AsyncSession, post_id: int) -> int | None:
    return await session.scalar(
        select(func.max(Target.occurrence)).where(Target.post_id == post_id)
    )


async def occurrence_targets(session: AsyncSession, post_id: int, occurrence: int) -> list[Target]:
    """Every target of one occurrence, accounts loaded, freshly read."""
    result = await session.scalars(
        select(Target)
        .where(Target.post_id == post_id, Target.occurrence == occurrence)
        .order_by(Target.id)
        .options(joinedload(Target.account))
        .execution_options(populate_existing=True)
    )
    return list(result)


async def add_occurrence(
    session: AsyncSession,
    series: Series,
    accounts: Sequence[Account],
    *,
    occurrence: int,
    publish_at: datetime,
    due_at: datetime,
) -> list[Target]:
    """Queue occurrence `occurrence` of the series: one target per account, due at `due_at`
    (later than `publish_at` only when a just-missed occurrence goes out now)."""
    targets = [
        Target(
            post_id=series.post_id,
            account_id=account.id,
            user_id=series.user_id,
            occurrence=occurrence,
            publish_at=publish_at,
            next_attempt_at=due_at,
            status=TargetStatus.QUEUED,
            idempotency_key=idempotency_key(series.post_id, account.id, occurrence),
        )
        for account in accounts
    ]
    session.add_all(targets)
    await session.flush()
    return targets


async def add_skipped(
    session: AsyncSession,
    series: Series,
    accounts: Sequence[Account],
    *,
    occurrence: int,
    publish_at: datetime,
    note: str,
    now: datetime,
) -> list[Target]:
    """Record occurrences that were missed and will not be published: cancelled targets with
    the reason (what /status shows), already counted as reported so no DM is sent."""
    targets = [
        Target(
            post_id=series.post_id,
            account_id=account.id,
            user_id=series.user_id,
            occurrence=occurrence,
            publish_at=publish_at,
            next_attempt_at=publish_at,
            status=TargetStatus.CANCELLED,
            last_error=note,
            notified_at=now,
            idempotency_key=idempotency_key(series.post_id, account.id, occurrence),
        )
        for account in accounts
    ]
    session.add_all(targets)
    await session.flush()
    return targets


async def skip(
    session: AsyncSession, target_ids: Sequence[int], *, note: str, now: datetime
) -> int:
    """Cancel queued targets that were never tried, with the reason; returns how many."""
    if not target_ids:
        return 0
    result = await session.execute(
        update(Target)
        .where(
            Target.id.in_(target_ids),
            Target.status == TargetStatus.QUEUED,
            Target.attempts == 0,
        )
        .values(status=TargetStatus.CANCELLED, last_error=note, notified_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def missed(session: AsyncSession, *, before: datetime, limit: int = 100) -> list[Target]:
    """Queued targets of live series that were due before `before` and never tried (not a
    retry, not held back, not claimed): what was missed while nothing was running.

    Across every user: this is the engine's housekeeping, like claiming, and nothing is
    shown to anyone. On PostgreSQL the rows are locked, so a claim skips them meanwhile.
    """
    query = (
        select(Target)
        .join(Post, Post.id == Target.post_id)
        .where(
            Target.status == TargetStatus.QUEUED,
            # next_attempt_at first: the (status, next_attempt_at) index finds the overdue rows.
            Target.next_attempt_at < before,
            Target.next_attempt_at == Target.publish_at,
            Target.attempts == 0,
            Post.rrule.is_not(None),
            Post.status == PostStatus.SCHEDULED,
        )
        .order_by(Target.next_attempt_at, Target.id)
        .limit(limit)
        .options(joinedload(Target.account))
    )
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update(of=Target, skip_locked=True)
    return list(await session.scalars(query))
