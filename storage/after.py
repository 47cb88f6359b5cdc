"""A post after it leaves compose: its published targets (to delete or edit them, always
scoped to their owner), what deleting and editing store, and taking back a "Post now" that
is still inside its Undo window."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import Media, Post, PostMedia, PostStatus, Target, TargetStatus, utcnow


async def post_with_targets(session: AsyncSession, user_id: int, post_id: int) -> Post | None:
    """The user's post (not a draft) with every target and its account; None: not theirs."""
    return await session.scalar(
        select(Post)
        .where(Post.id == post_id, Post.user_id == user_id, Post.status != PostStatus.DRAFT)
        .options(selectinload(Post.targets), selectinload(Post.media_links))
        .execution_options(populate_existing=True)
    )


def live(post: Post) -> list[Target]:
    """The targets of the post that are out and not deleted."""
    return [t for t in post.targets if t.status == TargetStatus.PUBLISHED and t.deleted_at is None]


async def mark_deleted(
    session: AsyncSession, user_id: int, target_ids: Sequence[int], now: datetime
) -> None:
    if not target_ids:
        return
    await session.execute(
        update(Target)
        .where(Target.id.in_(list(target_ids)), Target.user_id == user_id)
        .values(deleted_at=now, delete_at=None)
    )


async def store_edit(
    session: AsyncSession,
    user_id: int,
    target_id: int,
    *,
    platform_post_id: str,
    url: str | None,
    ref: dict[str, Any] | None,
) -> None:
    """What the platform answered to an edit replaces what it answered to the publish."""
    await session.execute(
        update(Target)
        .where(Target.id == target_id, Target.user_id == user_id)
        .values(platform_post_id=platform_post_id, url=url, ref=ref)
    )


async def set_text(
    session: AsyncSession,
    user_id: int,
    post_id: int,
    text: str,
    entities: list[dict[str, Any]] | None,
) -> None:
    """The post's new text (one text for every account: their own versions are dropped)."""
    await session.execute(
        update(Post)
        .where(Post.id == post_id, Post.user_id == user_id)
        .values(text=text, entities=entities or [], overrides={})
    )


async def post_again(
    session: AsyncSession, user_id: int, target_ids: Sequence[int], now: datetime
) -> int:
    """Queue deleted targets to be published again now, each under a new idempotency key
    (the old one names the post that was deleted)."""
    rows = await session.scalars(
        select(Target).where(
            Target.id.in_(list(target_ids)),
            Target.user_id == user_id,
            Target.deleted_at.is_not(None),
        )
    )
    count = 0
    for target in rows:
        again = f"{target.idempotency_key}:again:{now.timestamp()}"
        target.idempotency_key = hashlib.sha256(again.encode()).hexdigest()
        target.status = TargetStatus.QUEUED
        target.publish_at = target.next_attempt_at = now
        target.attempts = 0
        target.platform_post_id = target.url = target.last_error = None
        target.ref = target.notes = None
        target.published_at = target.notified_at = target.deleted_at = None
        count += 1
    return count


async def undo(session: AsyncSession, user_id: int, post_id: int) -> bool | None:
    """Put a post whose targets are all still queued back as the current draft, its targets
    gone (nothing was sent). False: too late, something is going out or out; None: not the
    user's post."""
    post = await session.scalar(
        select(Post)
        .where(Post.id == post_id, Post.user_id == user_id)
        .options(selectinload(Post.targets))
        .with_for_update()
    )
    if post is None or post.status == PostStatus.DRAFT:
        return None
    ids = [t.id for t in post.targets]
    if not ids or any(t.status != TargetStatus.QUEUED for t in post.targets):
        return False
    # Conditional, so a claim that took one meanwhile makes this a no-op (rolled back).
    gone = await session.execute(
        delete(Target)
        .where(Target.id.in_(ids), Target.status == TargetStatus.QUEUED)
        .execution_options(synchronize_session=False)
    )
    if gone.rowcount != len(ids):  # type: ignore[attr-defined]
        raise TooLate
    post.status = PostStatus.DRAFT
    post.publish_at = None
    post.updated_at = utcnow()  # the current draft is the latest one
    return True


class TooLate(Exception):
    """A target was claimed while the post was being undone: the transaction rolls back."""


async def set_checking(session: AsyncSession, target_id: int, stage: str | None) -> None:
    """Mark (or unmark) a target whose next step is asking its platform whether it is out."""
    await session.execute(update(Target).where(Target.id == target_id).values(stage=stage))


async def replace_media(session: AsyncSession, user_id: int, post_id: int, media: Media) -> bool:
    """The post's photos and videos become `media` alone (an edit that replaces them); False
    when the post isn't the user's."""
    owned = await session.scalar(select(Post.id).where(Post.id == post_id, Post.user_id == user_id))
    if owned is None:
        return False
    await session.execute(delete(PostMedia).where(PostMedia.post_id == post_id))
    session.add(media)
    await session.flush()
    session.add(PostMedia(post_id=post_id, position=0, media_id=media.id))
    await session.flush()
    return True
