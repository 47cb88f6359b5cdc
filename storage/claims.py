"""Claiming due targets: one look along the due index, a pick of what fits the worker's free
slots, and one conditional UPDATE that moves the picks to `publishing` under a lease.

The look reads plain (id, account, platform, time) tuples in queue order, so nothing is
claimed that the worker would hand straight back (one account's backlog fills that
account's slots and no more), and the same look says whether more is due beyond it and
when the next target falls due, without a second walk along the index.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage import turns
from storage.models import (
    Account,
    AccountStatus,
    Post,
    PostMedia,
    Target,
    TargetStatus,
    User,
    UserStatus,
)
from storage.room import Hold, Room

#: A claim looks at this many targets per slot it may fill: enough to find other accounts'
#: work behind one busy account's next few posts, few enough to stay one short index range.
SCAN_PER_SLOT = 4
#: Due work left because other workers fill its platform or account is looked at again
#: this soon (their freed slots kick their own claims, not this worker's).
CLUSTER_RECHECK = timedelta(milliseconds=250)
#: The PostgreSQL advisory lock claims take turns under ("crier" in ASCII).
CLAIM_LOCK = 0x6372696572


def claimable(hold: Hold) -> tuple[ColumnElement[bool], ...]:
    """Queued targets whose account and owner may publish, outside `hold`."""
    conditions: list[ColumnElement[bool]] = [
        Target.status == TargetStatus.QUEUED,
        Account.status == AccountStatus.ACTIVE,
        User.status != UserStatus.BANNED,
    ]
    if hold.platforms:
        conditions.append(Account.platform.not_in(sorted(hold.platforms)))
    if hold.accounts:
        conditions.append(Target.account_id.not_in(sorted(hold.accounts)))
    return tuple(conditions)


@dataclass(frozen=True, kw_only=True)
class Claimed:
    #: Claimed for the worker, earliest first, with post, media, owner and account loaded.
    targets: list[Target]
    #: Due targets the look saw but left, their platform or account being full.
    left_behind: bool
    #: The look ended on a due target: more may be due beyond it.
    more: bool
    #: When the earliest target seen that is not yet due falls due (None: none seen).
    next_at: datetime | None


async def claim_fitting(
    session: AsyncSession, *, owner: str, now: datetime, lease: timedelta, room: Room
) -> Claimed:
    """Claim for `owner` the due targets, earliest first, that fit in `room` less what
    other workers are publishing now (the limits hold across processes)."""
    if room.total <= 0:
        return Claimed(targets=[], left_behind=False, more=False, next_at=None)
    if session.get_bind().dialect.name == "postgresql":
        # Claims take turns across workers until commit, so two never both count the same
        # free slot. SQLite's writers take turns already (BEGIN IMMEDIATE).
        await session.execute(select(func.pg_advisory_xact_lock(CLAIM_LOCK)))
    mine = room
    room = await _less_elsewhere(session, room, owner=owner, now=now)
    room = await _held_by_breakers(session, room, now=now)
    # Slots other workers hold free up without telling this one: look again soon.
    recheck = now + CLUSTER_RECHECK if room is not mine else None
    if room.total <= 0:
        return Claimed(targets=[], left_behind=True, more=False, next_at=recheck)
    window = room.total * SCAN_PER_SLOT
    # On PostgreSQL the rows looked at are locked (SKIP LOCKED) until commit, so concurrent
    # workers look at other rows; the conditional UPDATE below is what makes a claim
    # exclusive on either database.
    look = (
        select(Target.id, Target.account_id, Account.platform, Target.next_attempt_at)
        .join(Account, Account.id == Target.account_id)
        .join(User, User.id == Target.user_id)
        .where(*claimable(room.hold))
        .order_by(Target.next_attempt_at, Target.id)
        .limit(window)
        .with_for_update(of=Target, skip_locked=True)
    )
    rows: list[tuple[int, int, str, datetime]] = [
        (int(r[0]), int(r[1]), str(r[2]), r[3]) for r in await session.execute(look)
    ]
    due = [(tid, account_id, platform) for tid, account_id, platform, at in rows if at <= now]
    later = [at for *_, at in rows if at > now]
    picked = room.pick(due)
    targets = await _take(session, picked, owner=owner, now=now, lease=lease)
    next_at = later[0] if later else None
    if recheck is not None and len(picked) < len(due):
        next_at = min(next_at, recheck) if next_at else recheck
    return Claimed(
        targets=targets,
        left_behind=len(picked) < len(due),
        more=len(rows) == window and not later,
        next_at=next_at,
    )


async def _less_elsewhere(session: AsyncSession, room: Room, *, owner: str, now: datetime) -> Room:
    """`room` less the publishes other workers hold under live leases (a dead worker's
    expired leases free their slots: recovery takes those targets back)."""
    rows = await session.execute(
        select(Target.account_id, Account.platform, Target.lease_owner, func.count())
        .join(Account, Account.id == Target.account_id)
        .where(Target.status == TargetStatus.PUBLISHING, Target.lease_expires_at > now)
        .group_by(Target.account_id, Account.platform, Target.lease_owner)
    )
    busy: list[tuple[int, str, int]] = []
    running = 0
    for account_id, platform, lease_owner, count in rows:
        running += int(count)
        if lease_owner != owner:
            busy.append((int(account_id), str(platform), int(count)))
    return room.less(busy, running) if busy or room.cluster_cap is not None else room


async def _held_by_breakers(session: AsyncSession, room: Room, *, now: datetime) -> Room:
    """`room` holding the platforms and accounts whose breaker any worker opened."""
    keys = await turns.open_breakers(session, now)
    if not keys:
        return room
    platforms = {k.split(":", 1)[1] for k in keys if k.startswith("platform:")}
    accounts = {int(k.split(":", 1)[1]) for k in keys if k.startswith("account:")}
    hold = Hold(platforms=room.hold.platforms | platforms, accounts=room.hold.accounts | accounts)
    return replace(room, hold=hold)


async def _take(
    session: AsyncSession, ids: list[int], *, owner: str, now: datetime, lease: timedelta
) -> list[Target]:
    if not ids:
        return []
    claimed_ids = list(
        await session.scalars(
            update(Target)
            # coalesce() keeps the status test off the indexes: SQLite otherwise walked every
            # queued target on (status, …) instead of looking the ids up (measured with a
            # million queued: 189 ms a claim).
            .where(Target.id.in_(ids), func.coalesce(Target.status, "") == TargetStatus.QUEUED)
            .values(
                status=TargetStatus.PUBLISHING,
                lease_owner=owner,
                lease_expires_at=now + lease,
                attempts=Target.attempts + 1,
            )
            .returning(Target.id)
            .execution_options(synchronize_session=False)
        )
    )
    if not claimed_ids:
        return []
    result = await session.scalars(
        select(Target)
        .where(Target.id.in_(claimed_ids))
        .order_by(Target.next_attempt_at, Target.id)
        .options(
            joinedload(Target.account),
            joinedload(Target.post).options(
                joinedload(Post.user),
                # Joined, not selectin: one statement less per claim (posts have few media).
                joinedload(Post.media_links).joinedload(PostMedia.media),
            ),
        )
        .execution_options(populate_existing=True)
    )
    return list(result.unique())
