"""What admins read and change: statistics, users, roles and bans, the audit trail, the
allow-list and invite codes.

Statistics take an optional `user_id`: None means the whole instance, a user id scopes
every figure to that user's rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Account,
    AccountStatus,
    AllowedUser,
    Attempt,
    Audit,
    Invite,
    Post,
    PostStatus,
    Role,
    Target,
    TargetStatus,
    User,
    UserStatus,
)

S = TypeVar("S", bound="Select[*tuple[Any, ...]]")

#: Targets still waiting to go out.
WAITING = (TargetStatus.QUEUED, TargetStatus.PUBLISHING)


def _scoped(query: S, column: Any, user_id: int | None) -> S:
    return query if user_id is None else query.where(column == user_id)


# -- statistics -----------------------------------------------------------------------------


async def user_counts(session: AsyncSession, now: datetime) -> dict[str, int]:
    """Users in all, seen in the last 7 days, who blocked the bot, and banned."""
    week = now - timedelta(days=7)
    row = (
        await session.execute(
            select(
                func.count(User.id),
                func.count(User.id).filter(User.last_seen_at >= week),
                func.count(User.id).filter(User.status == UserStatus.BLOCKED),
                func.count(User.id).filter(User.status == UserStatus.BANNED),
            )
        )
    ).one()
    total, active, blocked, banned = (int(n or 0) for n in row)
    return {"total": total, "active_7d": active, "blocked": blocked, "banned": banned}


async def post_counts(session: AsyncSession, user_id: int | None = None) -> dict[PostStatus, int]:
    query = _scoped(
        select(Post.status, func.count(Post.id)).group_by(Post.status), Post.user_id, user_id
    )
    return {PostStatus(status): int(n) for status, n in await session.execute(query)}


async def target_counts(
    session: AsyncSession, user_id: int | None = None
) -> dict[TargetStatus, int]:
    query = _scoped(
        select(Target.status, func.count(Target.id)).group_by(Target.status),
        Target.user_id,
        user_id,
    )
    return {TargetStatus(status): int(n) for status, n in await session.execute(query)}


async def retry_counts(session: AsyncSession, user_id: int | None = None) -> tuple[int, int]:
    """(targets tried at least once, targets that needed more than one attempt), counted from
    the attempts table, which records every try (rate-limited ones included)."""
    per_target = _scoped(
        select(Attempt.target_id, func.count(Attempt.id).label("tries"))
        .join(Target, Target.id == Attempt.target_id)
        .group_by(Attempt.target_id),
        Target.user_id,
        user_id,
    ).subquery()
    row = (
        await session.execute(
            select(
                func.count(per_target.c.target_id),
                func.count(per_target.c.target_id).filter(per_target.c.tries > 1),
            )
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


async def publish_delays(
    session: AsyncSession, user_id: int | None = None, *, limit: int = 10_000
) -> list[float]:
    """Seconds from publish_at to the start of the first successful attempt, for the `limit`
    most recently published targets. Percentiles are computed by the caller in Python: the
    same code on SQLite (no percentile function) and PostgreSQL."""
    first_success = func.min(Attempt.started_at)
    query = _scoped(
        select(Target.publish_at, first_success)
        .join(Attempt, Attempt.target_id == Target.id)
        .where(Target.status == TargetStatus.PUBLISHED, Attempt.outcome == "published")
        .group_by(Target.id, Target.publish_at)
        .order_by(Target.id.desc())
        .limit(limit),
        Target.user_id,
        user_id,
    )
    return [
        (started - publish_at).total_seconds()
        for publish_at, started in await session.execute(query)
        if started is not None
    ]


async def platform_counts(
    session: AsyncSession, user_id: int | None = None
) -> dict[str, dict[TargetStatus, int]]:
    query = _scoped(
        select(Account.platform, Target.status, func.count(Target.id))
        .join(Account, Account.id == Target.account_id)
        .group_by(Account.platform, Target.status),
        Target.user_id,
        user_id,
    )
    found: dict[str, dict[TargetStatus, int]] = {}
    for platform, status, n in await session.execute(query):
        found.setdefault(platform, {})[TargetStatus(status)] = int(n)
    return found


async def failure_reasons(
    session: AsyncSession, user_id: int | None = None, *, limit: int = 5
) -> list[tuple[str, int]]:
    """The most common last errors of failed targets, most frequent first."""
    n = func.count(Target.id)
    query = _scoped(
        select(Target.last_error, n)
        .where(Target.status == TargetStatus.FAILED, Target.last_error.is_not(None))
        .group_by(Target.last_error)
        .order_by(n.desc(), Target.last_error)
        .limit(limit),
        Target.user_id,
        user_id,
    )
    return [(str(reason), int(count)) for reason, count in await session.execute(query)]


async def queue_depth(
    session: AsyncSession, now: datetime, user_id: int | None = None
) -> dict[str, int]:
    """Queued targets, how many of them are due now, and how many are publishing."""
    query = _scoped(
        select(
            func.count(Target.id).filter(Target.status == TargetStatus.QUEUED),
            func.count(Target.id).filter(
                Target.status == TargetStatus.QUEUED, Target.next_attempt_at <= now
            ),
            func.count(Target.id).filter(Target.status == TargetStatus.PUBLISHING),
        ).where(Target.status.in_(WAITING)),
        Target.user_id,
        user_id,
    )
    queued, due, publishing = (int(n or 0) for n in (await session.execute(query)).one())
    return {"queued": queued, "due": due, "publishing": publishing}


async def next_due(session: AsyncSession, user_id: int | None = None) -> datetime | None:
    """When the earliest queued target that may publish is due (the queue's own rule)."""
    query = _scoped(
        select(Target.next_attempt_at)
        .join(Account, Account.id == Target.account_id)
        .join(User, User.id == Target.user_id)
        .where(
            Target.status == TargetStatus.QUEUED,
            Account.status == AccountStatus.ACTIVE,
            User.status != UserStatus.BANNED,
        )
        .order_by(Target.next_attempt_at)
        .limit(1),
        Target.user_id,
        user_id,
    )
    return await session.scalar(query)


async def pending_posts(session: AsyncSession, user_id: int) -> int:
    """The user's scheduled posts with something still waiting to go out."""
    return int(
        await session.scalar(
            select(func.count(func.distinct(Target.post_id))).where(
                Target.user_id == user_id, Target.status.in_(WAITING)
            )
        )
        or 0
    )


# -- users ------------------------------------------------------------------------------------


def _matching(text: str) -> ColumnElement[bool]:
    text = text.strip().lstrip("@")
    pattern = f"%{_escape_like(text.lower())}%"
    conditions: list[ColumnElement[bool]] = [
        func.lower(User.username).like(pattern, escape="\\"),
        func.lower(User.first_name).like(pattern, escape="\\"),
    ]
    if text.isdigit():
        conditions.append(User.id == int(text))
    return or_(*conditions)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search_users(
    session: AsyncSession, text: str, *, offset: int, limit: int
) -> tuple[list[User], int]:
    """Users whose name, username or id matches `text` (everyone when empty), most recently
    seen first, and how many match in all."""
    where = _matching(text) if text.strip() else None
    count = select(func.count(User.id))
    page = select(User).order_by(User.last_seen_at.desc(), User.id).offset(offset).limit(limit)
    if where is not None:
        count, page = count.where(where), page.where(where)
    total = int(await session.scalar(count) or 0)
    return list(await session.scalars(page)), total


async def waiting_counts(session: AsyncSession, user_ids: Sequence[int]) -> dict[int, int]:
    """User id -> targets still waiting to go out."""
    if not user_ids:
        return {}
    rows = await session.execute(
        select(Target.user_id, func.count(Target.id))
        .where(Target.user_id.in_(user_ids), Target.status.in_(WAITING))
        .group_by(Target.user_id)
    )
    return {int(uid): int(n) for uid, n in rows}


async def find_user(session: AsyncSession, ref: str) -> User | None:
    """A user by numeric id or @username (case-insensitive)."""
    ref = ref.strip()
    # ASCII digits only ("²".isdigit() is true, int("١٢") is 12), and no more than a
    # BIGINT holds: anything else can't be an id and is looked up as a name (none matches).
    if ref.isascii() and ref.isdigit() and len(ref) <= 19 and int(ref) < 2**63:
        return await session.get(User, int(ref))
    name = ref.lstrip("@").lower()
    if not name:
        return None
    return await session.scalar(
        select(User).where(func.lower(User.username) == name).order_by(User.last_seen_at.desc())
    )


async def set_role(session: AsyncSession, user_id: int, role: Role) -> None:
    await session.execute(update(User).where(User.id == user_id).values(role=role))


async def set_ban(session: AsyncSession, user_id: int, banned: bool) -> int:
    """Ban or unban; returns the user's targets waiting to go out (held while banned).
    The "you are suspended" notice is reset so it is told once per ban."""
    status = UserStatus.BANNED if banned else UserStatus.ACTIVE
    await session.execute(
        update(User).where(User.id == user_id).values(status=status, status_notice_at=None)
    )
    return (await waiting_counts(session, [user_id])).get(user_id, 0)


async def claim_status_notice(session: AsyncSession, user_id: int, now: datetime) -> bool:
    """True exactly once per ban: the caller should tell the user about it."""
    result = await session.execute(
        update(User)
        .where(
            User.id == user_id,
            User.status == UserStatus.BANNED,
            User.status_notice_at.is_(None),
        )
        .values(status_notice_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def admin_ids(session: AsyncSession) -> list[int]:
    return list(await session.scalars(select(User.id).where(User.role == Role.ADMIN)))


# -- audit --------------------------------------------------------------------------------------


async def audit(
    session: AsyncSession,
    *,
    actor_id: int | None,
    action: str,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
    now: datetime,
) -> None:
    session.add(
        Audit(
            at=now,
            actor_id=actor_id,
            action=action[:64],
            subject=subject[:128] if subject else None,
            detail=detail or {},
        )
    )
    await session.flush()


async def recent_audit(session: AsyncSession, *, limit: int) -> list[Audit]:
    result = await session.scalars(select(Audit).order_by(Audit.id.desc()).limit(limit))
    return list(result)


# -- allow-list and invites ---------------------------------------------------------------------


async def is_allowed(session: AsyncSession, user_id: int) -> bool:
    """On the allow-list, or already a user of the bot."""
    listed = await session.scalar(select(AllowedUser.user_id).where(AllowedUser.user_id == user_id))
    if listed is not None:
        return True
    return await session.scalar(select(User.id).where(User.id == user_id)) is not None


async def allow(
    session: AsyncSession, user_id: int, *, added_by: int | None, via_invite: str | None = None
) -> bool:
    """Put a user on the allow-list; False if they were on it already."""
    values = {"user_id": user_id, "added_by": added_by, "via_invite": via_invite}
    dialect = session.get_bind().dialect.name
    insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
    result = await session.execute(
        insert_(AllowedUser).values(**values).on_conflict_do_nothing(index_elements=["user_id"])
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def create_invite(
    session: AsyncSession, *, code: str, created_by: int, uses: int, expires_at: datetime
) -> Invite:
    invite = Invite(code=code, created_by=created_by, uses_left=uses, expires_at=expires_at)
    session.add(invite)
    await session.flush()
    return invite


async def redeem_invite(session: AsyncSession, code: str, user_id: int, now: datetime) -> bool:
    """Use one of the invite's uses and put the user on the allow-list, atomically."""
    result = await session.execute(
        update(Invite)
        .where(
            Invite.code == code,
            Invite.uses_left > 0,
            or_(Invite.expires_at.is_(None), Invite.expires_at > now),
        )
        .values(uses_left=Invite.uses_left - 1)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await allow(session, user_id, added_by=None, via_invite=code)
    return True
