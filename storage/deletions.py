"""Delete-after: published targets whose post is to be removed at `delete_at`.

A deletion is a row, so it survives restarts, and it is taken like a claim: one conditional
UPDATE moves `delete_at` on by `hold` before the platform is asked, so two workers never
delete the same post at once, and one that dies mid-way leaves it due again after `hold`.
Done: `deleted_at` is set. Given up (the platform refused for good): `delete_at` is cleared.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage.models import Post, Target, TargetStatus


def _pending() -> tuple[object, ...]:
    return (
        Target.status == TargetStatus.PUBLISHED,
        Target.delete_at.is_not(None),
        Target.deleted_at.is_(None),
    )


async def take_due(
    session: AsyncSession, now: datetime, hold: timedelta, limit: int = 20
) -> list[Target]:
    """Targets due for deletion, each moved on by `hold` so no one else takes it meanwhile."""
    due = list(
        await session.scalars(
            select(Target.id)
            .where(*_pending(), Target.delete_at <= now)  # type: ignore[arg-type]
            .order_by(Target.delete_at)
            .limit(limit)
        )
    )
    if not due:
        return []
    taken = list(
        await session.scalars(
            update(Target)
            .where(Target.id.in_(due), *_pending(), Target.delete_at <= now)  # type: ignore[arg-type]
            .values(delete_at=now + hold)
            .returning(Target.id)
            .execution_options(synchronize_session=False)
        )
    )
    if not taken:
        return []
    found = await session.scalars(
        select(Target)
        .where(Target.id.in_(taken))
        .options(joinedload(Target.account), joinedload(Target.post).joinedload(Post.user))
        .execution_options(populate_existing=True)
    )
    return list(found.unique())


async def next_due(session: AsyncSession) -> datetime | None:
    """The earliest deletion still to do."""
    return await session.scalar(select(func.min(Target.delete_at)).where(*_pending()))  # type: ignore[arg-type]


async def deleted(session: AsyncSession, target_id: int, now: datetime) -> None:
    await session.execute(
        update(Target)
        .where(Target.id == target_id, Target.deleted_at.is_(None))
        .values(deleted_at=now)
    )


async def given_up(session: AsyncSession, target_id: int) -> None:
    """The platform refused for good: no further attempt."""
    await session.execute(
        update(Target)
        .where(Target.id == target_id, Target.deleted_at.is_(None))
        .values(delete_at=None)
    )
