"""The durable publish queue over the `targets` table.

A target is claimed by moving it from `queued` to `publishing` with a lease in one
conditional statement, so two workers can never hold the same target. PostgreSQL skips rows
another transaction has locked (`FOR UPDATE SKIP LOCKED`); SQLite has one writer at a time,
which makes the same conditional UPDATE atomic. A claim takes only what fits the worker's
free slots (`storage.room.Room`), per platform and per account.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage.claims import Claimed as Claimed
from storage.claims import claim_fitting as claim_fitting
from storage.claims import claimable
from storage.models import (
    Account,
    AccountStatus,
    Attempt,
    Post,
    Target,
    TargetStatus,
    User,
)
from storage.room import NO_HOLD as NO_HOLD
from storage.room import Hold as Hold
from storage.room import Room as Room


async def claim(
    session: AsyncSession,
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int | None = None,
    hold: Hold = NO_HOLD,
    room: Room | None = None,
) -> list[Target]:
    """Take due targets for `owner`, earliest first, with post and account loaded: up to
    `limit`, or what fits in `room` (see `storage.claims`)."""
    room = room or Room(total=limit or 0, hold=hold)
    claimed = await claim_fitting(session, owner=owner, now=now, lease=lease, room=room)
    return claimed.targets


async def next_due(session: AsyncSession, hold: Hold = NO_HOLD) -> datetime | None:
    """When the earliest claimable target is due (possibly in the past), or None."""
    # ORDER BY ... LIMIT 1 walks the (status, next_attempt_at) index and stops at the first
    # claimable row; min() with the joins visited every queued target.
    return await session.scalar(
        select(Target.next_attempt_at)
        .join(Account, Account.id == Target.account_id)
        .join(User, User.id == Target.user_id)
        .where(*claimable(hold))
        .order_by(Target.next_attempt_at)
        .limit(1)
    )


async def release(session: AsyncSession, *, target_ids: Sequence[int], owner: str) -> None:
    """Give back targets claimed but not started (a slot filled up): as if never claimed."""
    if target_ids:
        await session.execute(
            update(Target)
            .where(
                Target.id.in_(target_ids),
                Target.status == TargetStatus.PUBLISHING,
                Target.lease_owner == owner,
            )
            .values(
                status=TargetStatus.QUEUED,
                attempts=Target.attempts - 1,
                lease_owner=None,
                lease_expires_at=None,
            )
        )


async def renew_leases(
    session: AsyncSession, *, target_ids: Sequence[int], owner: str, until: datetime
) -> int:
    """Extend the leases of targets still being published (a long video upload)."""
    if not target_ids:
        return 0
    result = await session.execute(
        update(Target)
        .where(
            Target.id.in_(target_ids),
            Target.status == TargetStatus.PUBLISHING,
            Target.lease_owner == owner,
        )
        .values(lease_expires_at=until)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def published_since(
    session: AsyncSession, account_id: int, since: datetime
) -> list[datetime]:
    """When the account's posts went out since `since`, oldest first (for quotas)."""
    result = await session.scalars(
        select(Target.published_at)
        .where(
            Target.account_id == account_id,
            Target.status == TargetStatus.PUBLISHED,
            Target.published_at >= since,
        )
        .order_by(Target.published_at)
    )
    return [t for t in result if t is not None]


async def publishing_for(
    session: AsyncSession, *, account_id: int, now: datetime, exclude: Sequence[int] = ()
) -> int:
    """How many of the account's targets some worker is publishing now (a live lease), in
    every process: per-account quotas hold across workers."""
    query = select(func.count()).where(
        Target.account_id == account_id,
        Target.status == TargetStatus.PUBLISHING,
        Target.lease_expires_at > now,
    )
    if exclude:
        query = query.where(Target.id.not_in(list(exclude)))
    return int(await session.scalar(query) or 0)


def _held_by(target_id: int, owner: str) -> tuple[ColumnElement[bool], ...]:
    # Only the lease holder may settle a target: if its lease expired and the target was
    # recovered, this worker's late outcome must not overwrite the new state.
    return (
        Target.id == target_id,
        Target.status == TargetStatus.PUBLISHING,
        Target.lease_owner == owner,
    )


async def complete(
    session: AsyncSession,
    *,
    target_id: int,
    owner: str,
    platform_post_id: str | None,
    url: str | None,
    now: datetime,
) -> bool:
    result = await session.execute(
        update(Target)
        .where(*_held_by(target_id, owner))
        .values(
            status=TargetStatus.PUBLISHED,
            platform_post_id=platform_post_id,
            url=url,
            published_at=now,
            last_error=None,
            lease_owner=None,
            lease_expires_at=None,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True, kw_only=True)
class Done:
    """A target its platform published: what `complete_many` stores."""

    target_id: int
    platform_post_id: str | None
    url: str | None
    #: What the platform made (PublishResult.ref) and what went wrong after it was out.
    ref: dict[str, Any] | None = None
    notes: list[str] | None = None
    #: Delete-after: when the post is to be removed (None: never).
    delete_at: datetime | None = None


async def complete_many(
    session: AsyncSession, *, done: Sequence[Done], owner: str, now: datetime
) -> set[int]:
    """`complete` for several targets under `owner`'s lease, in two statements whatever
    their number; returns the ids still held (one taken back meanwhile is left alone)."""
    if not done:
        return set()
    held = set(
        await session.scalars(
            update(Target)
            .where(
                Target.id.in_([d.target_id for d in done]),
                Target.status == TargetStatus.PUBLISHING,
                Target.lease_owner == owner,
            )
            .values(
                status=TargetStatus.PUBLISHED,
                published_at=now,
                last_error=None,
                lease_owner=None,
                lease_expires_at=None,
            )
            .returning(Target.id)
            .execution_options(synchronize_session=False)
        )
    )
    rows = [
        {
            "id": d.target_id,
            "platform_post_id": d.platform_post_id,
            "url": d.url,
            "ref": d.ref,
            "notes": d.notes or None,
            "delete_at": d.delete_at,
            "handle": None,
            "stage": None,
        }
        for d in done
        if d.target_id in held
    ]
    if rows:
        # The ORM's bulk UPDATE by primary key: one executemany.
        await session.execute(update(Target), rows)
    return held


async def retry_at(
    session: AsyncSession,
    *,
    target_id: int,
    owner: str,
    when: datetime,
    error: str,
    count_attempt: bool = True,
) -> bool:
    values: dict[str, object] = {
        "status": TargetStatus.QUEUED,
        "next_attempt_at": when,
        "last_error": error,
        "lease_owner": None,
        "lease_expires_at": None,
    }
    if not count_attempt:
        values["attempts"] = Target.attempts - 1
    result = await session.execute(update(Target).where(*_held_by(target_id, owner)).values(values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def processing(
    session: AsyncSession,
    *,
    target_id: int,
    owner: str,
    handle: dict[str, Any],
    stage: str,
    when: datetime,
    since: datetime,
) -> bool:
    """A two-phase publish goes on: keep its handle, free the target until `when` (the
    platform's advised wait), counting no attempt."""
    result = await session.execute(
        update(Target)
        .where(*_held_by(target_id, owner))
        .values(
            status=TargetStatus.QUEUED,
            next_attempt_at=when,
            handle=handle,
            stage=stage[:160],
            processing_since=func.coalesce(Target.processing_since, since),
            last_error=None,
            attempts=Target.attempts - 1,
            lease_owner=None,
            lease_expires_at=None,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def fail(
    session: AsyncSession,
    *,
    target_id: int,
    owner: str,
    error: str,
    status: TargetStatus = TargetStatus.FAILED,
) -> bool:
    """End the target as failed, or as unknown when the attempt may have reached the platform."""
    result = await session.execute(
        update(Target)
        .where(*_held_by(target_id, owner))
        .values(status=status, last_error=error, lease_owner=None, lease_expires_at=None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def expired_leases(session: AsyncSession, now: datetime, limit: int = 100) -> list[Target]:
    """Targets left `publishing` by a worker that stopped renewing its lease."""
    result = await session.scalars(
        select(Target)
        .where(Target.status == TargetStatus.PUBLISHING, Target.lease_expires_at < now)
        .order_by(Target.lease_expires_at)
        .limit(limit)
        .options(joinedload(Target.account), joinedload(Target.post).joinedload(Post.user))
    )
    return list(result)


async def lease_held_too_long(
    session: AsyncSession, *, before: datetime, owner: str, until: datetime, limit: int = 100
) -> list[Target]:
    """Targets held for an account that needs reconnecting, due before `before`: leased to
    `owner` (so one worker settles each) and returned, to be failed."""
    ids = list(
        await session.scalars(
            select(Target.id)
            .join(Account, Account.id == Target.account_id)
            .where(
                Target.status == TargetStatus.QUEUED,
                Account.status == AccountStatus.NEEDS_REAUTH,
                Target.publish_at < before,
            )
            .order_by(Target.publish_at)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Target)
        )
    )
    if not ids:
        return []
    taken = list(
        await session.scalars(
            update(Target)
            .where(Target.id.in_(ids), Target.status == TargetStatus.QUEUED)
            .values(
                status=TargetStatus.PUBLISHING,
                lease_owner=owner,
                lease_expires_at=until,
                attempts=Target.attempts + 1,
            )
            .returning(Target.id)
            .execution_options(synchronize_session=False)
        )
    )
    result = await session.scalars(
        select(Target)
        .where(Target.id.in_(taken))
        .options(joinedload(Target.account), joinedload(Target.post).joinedload(Post.user))
    )
    return list(result)


async def release_expired(
    session: AsyncSession,
    *,
    target_id: int,
    lease_owner: str | None,
    now: datetime,
    status: TargetStatus,
    error: str,
) -> bool:
    """Take back one abandoned target, if it is still abandoned by the same owner."""
    values: dict[str, object] = {
        "status": status,
        "lease_owner": None,
        "lease_expires_at": None,
        "last_error": error,
    }
    if status == TargetStatus.QUEUED:
        values["next_attempt_at"] = now
    result = await session.execute(
        update(Target)
        .where(
            Target.id == target_id,
            Target.status == TargetStatus.PUBLISHING,
            Target.lease_owner == lease_owner,
            Target.lease_expires_at < now,
        )
        .values(values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def record_attempt(
    session: AsyncSession,
    *,
    target_id: int,
    started_at: datetime,
    duration_ms: int,
    outcome: str,
    http_status: int | None = None,
    error: str | None = None,
    worker: str | None = None,
) -> None:
    session.add(
        Attempt(
            target_id=target_id,
            started_at=started_at,
            duration_ms=duration_ms,
            outcome=outcome,
            http_status=http_status,
            error=error,
            worker=worker,
        )
    )
    await session.flush()


async def record_attempts(session: AsyncSession, rows: Sequence[dict[str, object]]) -> None:
    """Insert several attempt rows in one statement."""
    if rows:
        await session.execute(insert(Attempt), list(rows))


Occurrence = tuple[int, int]  # (post id, occurrence)


async def settle_occurrences(
    session: AsyncSession, keys: Iterable[Occurrence], now: datetime
) -> dict[Occurrence, list[Target]]:
    """For each occurrence whose targets are all final with some outcome not yet reported:
    mark them reported and return them (for one summary DM each)."""
    wanted_set = set(keys)
    wanted = sorted(wanted_set)
    if not wanted:
        return {}
    # Serialise concurrent settlers of a post (SQLite already runs one writer at a time);
    # sorted ids keep two settlers from locking in opposite orders.
    if session.get_bind().dialect.name != "sqlite":
        post_ids = sorted({post_id for post_id, _ in wanted})
        await session.execute(
            select(Post.id).where(Post.id.in_(post_ids)).order_by(Post.id).with_for_update()
        )
    rows = await session.scalars(
        select(Target)
        # Not a row-value IN: SQLite can't use the (post_id, occurrence) index for that.
        .where(
            Target.post_id.in_({p for p, _ in wanted}),
            Target.occurrence.in_({o for _, o in wanted}),
        )
        .order_by(Target.id)
        .options(joinedload(Target.account))
        .execution_options(populate_existing=True)
    )
    groups: dict[Occurrence, list[Target]] = {}
    for target in rows:
        key = (target.post_id, target.occurrence)
        if key in wanted_set:
            groups.setdefault(key, []).append(target)
    settled = {
        key: targets
        for key, targets in groups.items()
        if all(t.status.is_final for t in targets) and any(t.notified_at is None for t in targets)
    }
    ids = [t.id for targets in settled.values() for t in targets]
    if ids:
        await session.execute(update(Target).where(Target.id.in_(ids)).values(notified_at=now))
    return settled


async def settle_occurrence(
    session: AsyncSession, *, post_id: int, occurrence: int, now: datetime
) -> list[Target] | None:
    """`settle_occurrences` for one occurrence."""
    return (await settle_occurrences(session, [(post_id, occurrence)], now)).get(
        (post_id, occurrence)
    )


async def by_ids(session: AsyncSession, ids: Sequence[int]) -> list[Target]:
    result = await session.scalars(select(Target).where(Target.id.in_(ids)))
    return list(result)
