"""Operator alerts: the deduplication table, and the figures that alerts and /metrics are
computed from (queue depth, overdue targets, failure rates, the notice outbox).

An alert row lives per key ("failure_rate:mastodon", "error:ValueError@bot.handlers.x").
`record` and `resolve` decide, under a row lock, whether a DM is due and mark it sent in the
same transaction, so several processes checking the same condition send it once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Account,
    AccountStatus,
    Alert,
    Attempt,
    Broadcast,
    BroadcastStatus,
    Delivery,
    Notice,
    NoticeStatus,
    Role,
    Target,
    TargetStatus,
    User,
    UserStatus,
)

#: After a "resolved" DM, the same alert coming back stays quiet this long at most, so a
#: condition that flaps doesn't send a pair of DMs every check.
REOPEN_QUIET = timedelta(minutes=10)
#: Attempt outcomes that don't count as a platform failing: rate limits are the platform
#: pacing us, auth errors are one account's token (its owner is told).
NOT_FAILURES = ("published", "rate_limited", "auth")


@dataclass(frozen=True, kw_only=True)
class Report:
    """A DM that is due about one alert."""

    key: str
    kind: Literal["started", "repeat", "resolved"]
    #: Occurrences since the previous DM about this key, this one included.
    count: int
    #: When the current episode started.
    since: datetime
    #: When the previous DM about this key went out (None: never).
    previous_sent_at: datetime | None


async def _lock_row(session: AsyncSession, key: str, now: datetime) -> Alert:
    """The alert's row, created if missing, locked until the transaction ends."""
    values = {"key": key, "first_at": now, "count": 0}
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(pg_insert(Alert).values(values).on_conflict_do_nothing())
    else:
        await session.execute(sqlite_insert(Alert).values(values).on_conflict_do_nothing())
    row = await session.get(Alert, key, with_for_update=True, populate_existing=True)
    assert row is not None
    return row


async def record(
    session: AsyncSession, key: str, *, now: datetime, repeat_every: timedelta
) -> Report | None:
    """The condition `key` holds (or the event happened) now; returns the DM that is due,
    already marked sent, or None while it is rate-limited."""
    row = await _lock_row(session, key, now)
    if row.resolved_at is not None:  # a new episode
        row.first_at, row.resolved_at, row.count = now, None, 0
    row.count += 1
    previous = row.last_sent_at
    told = previous is not None and previous >= row.first_at
    quiet = repeat_every if told else min(repeat_every, REOPEN_QUIET)
    if previous is not None and now - previous < quiet:
        return None
    report = Report(
        key=key,
        kind="repeat" if told else "started",
        count=row.count,
        since=row.first_at,
        previous_sent_at=previous,
    )
    row.last_sent_at, row.count = now, 0
    return report


async def resolve(session: AsyncSession, key: str, *, now: datetime) -> Report | None:
    """The condition `key` no longer holds; returns the "resolved" DM when admins were told
    about this episode."""
    row = await session.get(Alert, key, with_for_update=True, populate_existing=True)
    if row is None or row.resolved_at is not None:
        return None
    row.resolved_at = now
    previous = row.last_sent_at
    if previous is None or previous < row.first_at:
        row.count = 0
        return None  # it came and went between two DMs: nothing to take back
    report = Report(
        key=key, kind="resolved", count=row.count, since=row.first_at, previous_sent_at=previous
    )
    row.last_sent_at, row.count = now, 0
    return report


async def unsend(session: AsyncSession, report: Report, *, sent_at: datetime) -> None:
    """The DM could not be delivered: put the row back so the next check tries again."""
    values: dict[str, object] = {
        "last_sent_at": report.previous_sent_at,
        "count": Alert.count + report.count,
    }
    if report.kind == "resolved":
        values["resolved_at"] = None
    await session.execute(
        update(Alert).where(Alert.key == report.key, Alert.last_sent_at == sent_at).values(values)
    )


async def active(session: AsyncSession, prefix: str) -> dict[str, datetime]:
    """Alerts going on whose key starts with `prefix`, and when each started."""
    rows = await session.execute(
        select(Alert.key, Alert.first_at).where(
            Alert.key.startswith(prefix, autoescape=True), Alert.resolved_at.is_(None)
        )
    )
    return {key: first_at for key, first_at in rows}


async def admin_chats(session: AsyncSession) -> list[int]:
    """Private chats of the admins who can receive a DM."""
    result = await session.scalars(
        select(User.chat_id)
        .where(User.role == Role.ADMIN, User.status == UserStatus.ACTIVE)
        .order_by(User.id)
    )
    return list(result)


# -- figures ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PlatformFailures:
    platform: str
    attempts: int
    failed: int


async def failure_rates(session: AsyncSession, *, since: datetime) -> list[PlatformFailures]:
    """Publish attempts and failures per platform since `since`."""
    failed = func.sum(case((Attempt.outcome.in_(NOT_FAILURES), 0), else_=1))
    rows = await session.execute(
        select(Account.platform, func.count(), failed)
        .select_from(Attempt)
        .join(Target, Target.id == Attempt.target_id)
        .join(Account, Account.id == Target.account_id)
        .where(Attempt.started_at >= since)
        .group_by(Account.platform)
        .order_by(Account.platform)
    )
    return [PlatformFailures(platform=p, attempts=n, failed=int(f or 0)) for p, n, f in rows]


@dataclass(frozen=True, kw_only=True)
class Backlog:
    count: int = 0
    oldest: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class Overdue:
    platform: str
    count: int
    oldest: datetime


async def overdue(session: AsyncSession, *, before: datetime) -> list[Overdue]:
    """Per platform, queued targets the engine could publish but hasn't, due before `before`
    (accounts that need reconnecting and banned owners' posts wait on purpose)."""
    rows = await session.execute(
        select(Account.platform, func.count(), func.min(Target.next_attempt_at))
        .select_from(Target)
        .join(Account, Account.id == Target.account_id)
        .join(User, User.id == Target.user_id)
        .where(
            Target.status == TargetStatus.QUEUED,
            Target.next_attempt_at < before,
            Account.status == AccountStatus.ACTIVE,
            User.status != UserStatus.BANNED,
        )
        .group_by(Account.platform)
        .order_by(Account.platform)
    )
    return [Overdue(platform=p, count=n, oldest=oldest) for p, n, oldest in rows]


async def published_since(session: AsyncSession, platform: str, since: datetime) -> bool:
    """Whether any post reached `platform` at or after `since`."""
    found = await session.scalar(
        select(Target.id)
        .join(Account, Account.id == Target.account_id)
        .where(
            Target.status == TargetStatus.PUBLISHED,
            Target.published_at >= since,
            Account.platform == platform,
        )
        .limit(1)
    )
    return found is not None


async def notice_backlog(session: AsyncSession, *, before: datetime | None = None) -> Backlog:
    """Notices still waiting to be delivered (written before `before`, if given)."""
    query = select(func.count(), func.min(Notice.created_at)).where(
        Notice.status.in_((NoticeStatus.PENDING, NoticeStatus.SENDING))
    )
    if before is not None:
        query = query.where(Notice.created_at < before)
    count, oldest = (await session.execute(query)).one()
    return Backlog(count=count, oldest=oldest)


@dataclass(frozen=True, kw_only=True)
class Figures:
    """What /metrics reads from the database."""

    #: Targets by non-final status (queued, publishing).
    targets: dict[str, int] = field(default_factory=dict)
    #: Queued targets whose time has come, and the earliest of their times.
    due: Backlog = Backlog()
    #: Notices waiting in the outbox, and the oldest one's creation time.
    notices: Backlog = Backlog()
    #: Running or paused broadcasts: {broadcast id: {delivery status: count}}.
    broadcasts: dict[int, dict[str, int]] = field(default_factory=dict)


async def figures(session: AsyncSession, *, now: datetime) -> Figures:
    targets = {
        str(status): count
        for status, count in await session.execute(
            select(Target.status, func.count())
            .where(Target.status.in_((TargetStatus.QUEUED, TargetStatus.PUBLISHING)))
            .group_by(Target.status)
        )
    }
    due_count, due_oldest = (
        await session.execute(
            select(func.count(), func.min(Target.next_attempt_at)).where(
                Target.status == TargetStatus.QUEUED, Target.next_attempt_at <= now
            )
        )
    ).one()
    broadcasts: dict[int, dict[str, int]] = {}
    running = select(Broadcast.id).where(
        Broadcast.status.in_((BroadcastStatus.RUNNING, BroadcastStatus.PAUSED))
    )
    for broadcast_id, status, count in await session.execute(
        select(Delivery.broadcast_id, Delivery.status, func.count())
        .where(Delivery.broadcast_id.in_(running.scalar_subquery()))
        .group_by(Delivery.broadcast_id, Delivery.status)
    ):
        broadcasts.setdefault(broadcast_id, {})[str(status)] = count
    return Figures(
        targets=targets,
        due=Backlog(count=due_count, oldest=due_oldest),
        notices=await notice_backlog(session),
        broadcasts=broadcasts,
    )
