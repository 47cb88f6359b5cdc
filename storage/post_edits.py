"""Changing a scheduled post while the engine may be publishing it.

An edit only ever changes targets that are still `queued`: `lock_queued` runs first in the
edit's transaction and takes exactly those (PostgreSQL row locks: the engine's claim skips
them with SKIP LOCKED until the edit commits; SQLite's writer lock holds the engine off),
and every later change is a conditional `UPDATE ... WHERE status = 'queued'` as well. A
target the engine claimed first is simply not among them: it goes out as it was.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Media, Post, PostMedia, PostStatus, Target, TargetStatus, utcnow
from storage.posts import idempotency_key


async def lock_queued(session: AsyncSession, user_id: int, post_id: int) -> list[Target]:
    """The post's targets that are still queued, held for the rest of the transaction."""
    ids = list(
        await session.scalars(
            update(Target)
            .where(
                Target.post_id == post_id,
                Target.user_id == user_id,
                Target.status == TargetStatus.QUEUED,
            )
            .values(updated_at=utcnow())
            .returning(Target.id)
            .execution_options(synchronize_session=False)
        )
    )
    if not ids:
        return []
    result = await session.scalars(
        select(Target)
        .where(Target.id.in_(ids))
        .order_by(Target.id)
        .execution_options(populate_existing=True)
    )
    return list(result)


def _queued(user_id: int, target_ids: Sequence[int]) -> tuple[Any, ...]:
    return (
        Target.id.in_(list(target_ids)),
        Target.user_id == user_id,
        Target.status == TargetStatus.QUEUED,
    )


async def retime(
    session: AsyncSession, user_id: int, target_ids: Sequence[int], when: datetime
) -> int:
    """Move queued targets to `when` (a retry's wait is dropped: the user chose a time)."""
    if not target_ids:
        return 0
    result = await session.execute(
        update(Target)
        .where(*_queued(user_id, target_ids))
        .values(publish_at=when, next_attempt_at=when)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def cancel_targets(session: AsyncSession, user_id: int, target_ids: Sequence[int]) -> int:
    """Cancel queued targets (an account taken off the post); no notice is sent for them."""
    if not target_ids:
        return 0
    now = utcnow()
    result = await session.execute(
        update(Target)
        .where(*_queued(user_id, target_ids))
        .values(status=TargetStatus.CANCELLED, next_attempt_at=now, notified_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def move_targets(
    session: AsyncSession,
    user_id: int,
    target_ids: Sequence[int],
    post_id: int,
    when: datetime | None = None,
) -> int:
    """Hand queued targets over to another post of the user's (an edited copy), at `when`
    if given. Their idempotency keys go with them: they never published anything."""
    if not target_ids:
        return 0
    values: dict[str, Any] = {"post_id": post_id}
    if when is not None:
        values |= {"publish_at": when, "next_attempt_at": when}
    result = await session.execute(
        update(Target)
        .where(*_queued(user_id, target_ids))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def add_targets(
    session: AsyncSession,
    post: Post,
    account_ids: Sequence[int],
    when: datetime,
    occurrence: int,
) -> list[Target]:
    """New queued targets of the post for these (already checked) accounts of its owner."""
    if not account_ids:
        return []
    existing = await session.execute(
        select(Target.account_id, func.count())
        .where(Target.post_id == post.id, Target.occurrence == occurrence)
        .group_by(Target.account_id)
    )
    earlier: dict[int, int] = {int(a): int(n) for a, n in existing.all()}
    targets = [
        Target(
            post_id=post.id,
            account_id=account_id,
            user_id=post.user_id,
            occurrence=occurrence,
            publish_at=when,
            next_attempt_at=when,
            status=TargetStatus.QUEUED,
            idempotency_key=edit_key(post.id, account_id, occurrence, earlier.get(account_id, 0)),
        )
        for account_id in account_ids
    ]
    session.add_all(targets)
    await session.flush()
    return targets


def edit_key(post_id: int, account_id: int, occurrence: int, serial: int) -> str:
    """The idempotency key of the account's `serial`-th target for this occurrence: the
    usual key for the first, a new one for an account taken off and added back (its first
    target keeps its own key, and keys are unique)."""
    if serial == 0:
        return idempotency_key(post_id, account_id, occurrence)
    seed = f"crier:{post_id}:{account_id}:{occurrence}:{serial}"
    return hashlib.sha256(seed.encode()).hexdigest()


async def media_rows(session: AsyncSession, user_id: int, ids: Sequence[int]) -> list[Media]:
    """The user's media rows with these ids, in the order given (others' ids are skipped)."""
    if not ids:
        return []
    rows = await session.scalars(
        select(Media).where(Media.id.in_(list(ids)), Media.user_id == user_id)
    )
    found = {row.id: row for row in rows}
    return [found[i] for i in ids if i in found]


async def set_media(session: AsyncSession, post: Post, media: Sequence[Media]) -> None:
    """Replace the post's media with these rows, in this order."""
    await session.execute(delete(PostMedia).where(PostMedia.post_id == post.id))
    for position, row in enumerate(media):
        session.add(PostMedia(post_id=post.id, position=position, media_id=row.id))
    await session.flush()
    await session.refresh(post, ["media_links"])


async def fork(
    session: AsyncSession,
    post: Post,
    *,
    text: str,
    entities: Sequence[Mapping[str, Any]],
    overrides: Mapping[str, Any],
    media: Sequence[Media],
    publish_at: datetime,
    account_ids: Sequence[int],
) -> Post:
    """A new scheduled post with the edited content, for the accounts that still wait, when
    the original already went out somewhere (that copy keeps what it published)."""
    copy = Post(
        user_id=post.user_id,
        status=PostStatus.SCHEDULED,
        text=text,
        entities=[dict(e) for e in entities],
        overrides=dict(overrides),
        draft_account_ids=list(account_ids),
        publish_at=publish_at,
        timezone=post.timezone,
    )
    session.add(copy)
    await session.flush()
    await set_media(session, copy, media)
    return copy
