"""Posts and drafts, and the owner-facing operations on their targets."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import (
    Account,
    Media,
    Post,
    PostMedia,
    PostStatus,
    Target,
    TargetStatus,
    utcnow,
)

PENDING_TARGET_STATUSES = (TargetStatus.QUEUED,)
RETRYABLE_TARGET_STATUSES = (TargetStatus.FAILED, TargetStatus.UNKNOWN)


def idempotency_key(post_id: int, account_id: int, occurrence: int) -> str:
    """Stable for one post on one account at one occurrence, across retries and restarts."""
    return hashlib.sha256(f"crier:{post_id}:{account_id}:{occurrence}".encode()).hexdigest()


async def get(session: AsyncSession, user_id: int, post_id: int) -> Post | None:
    return await session.scalar(
        select(Post)
        .where(Post.id == post_id, Post.user_id == user_id)
        .options(selectinload(Post.targets))
    )


async def current_draft(session: AsyncSession, user_id: int) -> Post | None:
    return await session.scalar(
        select(Post)
        .where(Post.user_id == user_id, Post.status == PostStatus.DRAFT)
        .order_by(Post.updated_at.desc(), Post.id.desc())
        .limit(1)
    )


async def new_draft(session: AsyncSession, user_id: int) -> Post:
    post = Post(user_id=user_id, status=PostStatus.DRAFT, text="")
    session.add(post)
    await session.flush()
    return post


async def delete_draft(session: AsyncSession, user_id: int, post_id: int) -> bool:
    result = await session.execute(
        delete(Post).where(
            Post.id == post_id, Post.user_id == user_id, Post.status == PostStatus.DRAFT
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _has_content() -> ColumnElement[bool]:
    return or_(Post.text != "", exists().where(PostMedia.post_id == Post.id))


def _drafts_of(user_id: int) -> tuple[ColumnElement[bool], ...]:
    """The user's drafts that have something in them."""
    return (Post.user_id == user_id, Post.status == PostStatus.DRAFT, _has_content())


async def get_draft(session: AsyncSession, user_id: int, post_id: int) -> Post | None:
    return await session.scalar(
        select(Post).where(
            Post.id == post_id, Post.user_id == user_id, Post.status == PostStatus.DRAFT
        )
    )


async def list_drafts(
    session: AsyncSession, user_id: int, *, offset: int, limit: int
) -> tuple[list[Post], int]:
    """Drafts with something in them, newest first, and how many there are in all."""
    where = _drafts_of(user_id)
    total = await session.scalar(select(func.count()).select_from(Post).where(*where)) or 0
    result = await session.scalars(
        select(Post)
        .where(*where)
        .order_by(Post.updated_at.desc(), Post.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(result), total


async def count_drafts(session: AsyncSession, user_id: int) -> int:
    where = _drafts_of(user_id)
    return int(await session.scalar(select(func.count()).select_from(Post).where(*where)) or 0)


async def prune_empty_drafts(session: AsyncSession, user_id: int, keep: int | None) -> None:
    """Delete the user's drafts with nothing in them, except `keep`."""
    empty = select(Post.id).where(
        Post.user_id == user_id, Post.status == PostStatus.DRAFT, ~_has_content()
    )
    if keep is not None:
        empty = empty.where(Post.id != keep)
    await session.execute(
        delete(Post)
        .where(Post.id.in_(empty.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )


async def make_current(session: AsyncSession, post: Post) -> None:
    """The draft the compose flow works on is the one touched last."""
    post.updated_at = utcnow()
    await session.flush()


def media_copy(row: Media) -> Media:
    """A new row for the same stored file (files are shared by content), with its own alt
    text from now on."""
    return Media(
        user_id=row.user_id,
        sha256=row.sha256,
        storage_key=row.storage_key,
        kind=row.kind,
        mime=row.mime,
        size=row.size,
        width=row.width,
        height=row.height,
        duration=row.duration,
        file_name=row.file_name,
        alt_text=row.alt_text,
        telegram_file_id=row.telegram_file_id,
        telegram_file_unique_id=row.telegram_file_unique_id,
        probe=dict(row.probe or {}),
    )


async def attach_copies(session: AsyncSession, post: Post, rows: Sequence[Media]) -> int:
    """Append copies of the user's media rows (the same stored file, their own alt text) to
    the post, so editing one post's alt text leaves the other's alone. Rows whose file was
    released are skipped; returns how many were."""
    skipped = 0
    for row in rows:
        if not row.storage_key:
            skipped += 1
            continue
        copy = media_copy(row)
        session.add(copy)
        await session.flush()
        await attach_media(session, post, copy)
    return skipped


async def attach_media(session: AsyncSession, post: Post, media: Media) -> int:
    """Append media to the post; returns how many items the post now has."""
    position = await session.scalar(
        select(func.coalesce(func.max(PostMedia.position) + 1, 0)).where(
            PostMedia.post_id == post.id
        )
    )
    session.add(PostMedia(post_id=post.id, position=position or 0, media_id=media.id))
    post.updated_at = utcnow()
    await session.flush()
    await session.refresh(post, ["media_links"])
    return len(post.media_links)


@dataclass(frozen=True, kw_only=True)
class ScheduleResult:
    post: Post
    targets: list[Target]


async def schedule(
    session: AsyncSession,
    post: Post,
    accounts: Sequence[Account],
    publish_at: datetime,
    timezone: str,
    *,
    dtstart_local: datetime | None = None,
) -> ScheduleResult:
    """Turn a draft into one queued target per account, in the caller's transaction.

    A repeating post (its `rrule` set while composing) keeps the rule with `timezone` and
    the series' start as local wall time; `publish_at` is then its first occurrence.
    """
    post.status = PostStatus.SCHEDULED
    post.publish_at = publish_at
    post.timezone = timezone
    post.dtstart_local = (
        dtstart_local.strftime("%Y-%m-%dT%H:%M:%S") if post.rrule and dtstart_local else None
    )
    post.draft_account_ids = [a.id for a in accounts]
    targets = [
        Target(
            post_id=post.id,
            account_id=account.id,
            user_id=post.user_id,
            occurrence=0,
            publish_at=publish_at,
            next_attempt_at=publish_at,
            status=TargetStatus.QUEUED,
            idempotency_key=idempotency_key(post.id, account.id, 0),
        )
        for account in accounts
    ]
    session.add_all(targets)
    await session.flush()
    return ScheduleResult(post=post, targets=targets)


async def page(
    session: AsyncSession, user_id: int, *, offset: int, limit: int
) -> tuple[list[Post], int]:
    """Scheduled and past posts, newest first, and how many there are in all."""
    where = (Post.user_id == user_id, Post.status != PostStatus.DRAFT)
    total = await session.scalar(select(func.count()).select_from(Post).where(*where)) or 0
    result = await session.scalars(
        select(Post)
        .where(*where)
        .order_by(Post.id.desc())
        .offset(offset)
        .limit(limit)
        .options(selectinload(Post.targets).joinedload(Target.account))
    )
    return list(result), total


async def cancel(session: AsyncSession, user_id: int, post_id: int) -> int | None:
    """Cancel the post's pending targets; None if the post is not the user's. For a
    repeating post this is the whole series: no further occurrence is created."""
    post = await get(session, user_id, post_id)
    if post is None or post.status == PostStatus.DRAFT:
        return None
    result = await session.execute(
        update(Target)
        .where(
            Target.post_id == post_id,
            Target.user_id == user_id,
            Target.status.in_(PENDING_TARGET_STATUSES),
        )
        .values(
            status=TargetStatus.CANCELLED,
            next_attempt_at=utcnow(),
            notified_at=utcnow(),
            last_error=None,
        )
    )
    await session.refresh(post, ["targets"])
    if post.rrule or all(t.status == TargetStatus.CANCELLED for t in post.targets):
        post.status = PostStatus.CANCELLED
    return int(result.rowcount)  # type: ignore[attr-defined]


async def cancel_occurrence(
    session: AsyncSession, user_id: int, post_id: int, occurrence: int
) -> tuple[int, list[Target]] | None:
    """Cancel one occurrence of a series (its queued targets), leaving the series going;
    returns how many were cancelled and all of that occurrence's targets afterwards.
    None if the post is not the user's."""
    post = await get(session, user_id, post_id)
    if post is None or post.status == PostStatus.DRAFT:
        return None
    result = await session.execute(
        update(Target)
        .where(
            Target.post_id == post_id,
            Target.user_id == user_id,
            Target.occurrence == occurrence,
            Target.status.in_(PENDING_TARGET_STATUSES),
        )
        .values(
            status=TargetStatus.CANCELLED,
            next_attempt_at=utcnow(),
            notified_at=utcnow(),
            last_error=None,
        )
    )
    rows = await session.scalars(
        select(Target)
        .where(Target.post_id == post_id, Target.occurrence == occurrence)
        .order_by(Target.id)
        .execution_options(populate_existing=True)
    )
    return int(result.rowcount), list(rows)  # type: ignore[attr-defined]


async def post_now(
    session: AsyncSession, user_id: int, post_id: int, now: datetime, *, at: datetime | None = None
) -> int | None:
    """Make the post's pending targets due now (or `at`: the end of an Undo window); None
    if the post is not the user's."""
    post = await get(session, user_id, post_id)
    if post is None or post.status == PostStatus.DRAFT:
        return None
    # A series keeps the occurrence's own time: the next one is counted from it, not from now.
    at = at or now
    moved = {"next_attempt_at": now} if post.rrule else {"publish_at": at, "next_attempt_at": at}
    result = await session.execute(
        update(Target)
        .where(
            Target.post_id == post_id,
            Target.user_id == user_id,
            Target.status.in_(PENDING_TARGET_STATUSES),
        )
        .values(moved)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def retry(session: AsyncSession, user_id: int, post_id: int, now: datetime) -> int | None:
    """Queue the post's failed and unknown targets again; None if the post is not the user's."""
    post = await get(session, user_id, post_id)
    if post is None or post.status == PostStatus.DRAFT:
        return None
    result = await session.execute(
        update(Target)
        .where(
            Target.post_id == post_id,
            Target.user_id == user_id,
            Target.status.in_(RETRYABLE_TARGET_STATUSES),
        )
        .values(
            status=TargetStatus.QUEUED,
            next_attempt_at=now,
            attempts=0,
            notified_at=None,
            last_error=None,
            # A two-phase publish keeps its handle (what is already up is never sent again)
            # and gets a fresh time-out.
            processing_since=None,
        )
    )
    if result.rowcount and not post.rrule:  # type: ignore[attr-defined]
        post.status = PostStatus.SCHEDULED  # (a stopped series stays stopped)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def mark_published(
    session: AsyncSession, user_id: int, post_id: int, now: datetime
) -> int | None:
    """The user checked: the post did reach the accounts marked unknown."""
    post = await get(session, user_id, post_id)
    if post is None or post.status == PostStatus.DRAFT:
        return None
    result = await session.execute(
        update(Target)
        .where(
            Target.post_id == post_id,
            Target.user_id == user_id,
            Target.status == TargetStatus.UNKNOWN,
        )
        .values(status=TargetStatus.PUBLISHED, published_at=now, last_error=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def target_ids(
    session: AsyncSession,
    user_id: int,
    post_id: int,
    statuses: Sequence[TargetStatus],
    *,
    occurrence: int | None = None,
) -> list[int]:
    """The ids of the user's post's targets in these statuses (of one occurrence, if given):
    read before a change, so what the change settled can be told (webhook events)."""
    query = select(Target.id).where(
        Target.post_id == post_id, Target.user_id == user_id, Target.status.in_(statuses)
    )
    if occurrence is not None:
        query = query.where(Target.occurrence == occurrence)
    return list(await session.scalars(query.order_by(Target.id)))
