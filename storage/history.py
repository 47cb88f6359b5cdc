"""What happened to a user's posts: every attempt, and recent outcomes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage.models import Attempt, Post, Target, TargetStatus


async def attempts_for_post(
    session: AsyncSession, user_id: int, post_id: int
) -> list[tuple[Target, list[Attempt]]] | None:
    """Each target of the user's post with its attempts, oldest first; None if not theirs."""
    post = await session.scalar(select(Post).where(Post.id == post_id, Post.user_id == user_id))
    if post is None:
        return None
    targets = list(
        await session.scalars(
            select(Target)
            .where(Target.post_id == post_id, Target.user_id == user_id)
            .order_by(Target.occurrence, Target.id)
            .options(joinedload(Target.account))
        )
    )
    attempts = list(
        await session.scalars(
            select(Attempt)
            .where(Attempt.target_id.in_([t.id for t in targets]))
            .order_by(Attempt.started_at, Attempt.id)
        )
    )
    by_target: dict[int, list[Attempt]] = {t.id: [] for t in targets}
    for attempt in attempts:
        by_target[attempt.target_id].append(attempt)
    return [(t, by_target[t.id]) for t in targets]


async def recent_outcomes(session: AsyncSession, user_id: int, limit: int = 10) -> list[Target]:
    """The user's latest final targets, newest first."""
    result = await session.scalars(
        select(Target)
        .where(
            Target.user_id == user_id,
            Target.status.in_([TargetStatus.PUBLISHED, TargetStatus.FAILED, TargetStatus.UNKNOWN]),
        )
        .order_by(Target.updated_at.desc(), Target.id.desc())
        .limit(limit)
        .options(joinedload(Target.account), joinedload(Target.post))
    )
    return list(result)
