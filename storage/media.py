"""Media rows. Files live content-addressed under MEDIA_DIR; rows are per owner.

A row whose `storage_key` is empty has had its file released by the clean-up: the row stays
as the history of a finished post, the bytes are gone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import templates
from storage.models import (
    FINAL_TARGET_STATUSES,
    Media,
    Post,
    PostMedia,
    PostStatus,
    Target,
)

#: `storage_key` of a row whose file was released.
RELEASED = ""


async def add(session: AsyncSession, media: Media) -> Media:
    session.add(media)
    await session.flush()
    return media


async def get(session: AsyncSession, user_id: int, media_id: int) -> Media | None:
    return await session.scalar(select(Media).where(Media.id == media_id, Media.user_id == user_id))


def _counted(user_id: int) -> tuple[ColumnElement[bool], ...]:
    """Rows that count towards the user's quota: files held for the user's posts (a dropped
    draft's files stop counting at once, though the clean-up deletes them later)."""
    return (
        Media.user_id == user_id,
        Media.storage_key != RELEASED,
        Media.id.in_(select(PostMedia.media_id)),
    )


async def usage(session: AsyncSession, user_id: int) -> int:
    """Bytes stored for the user's posts: each distinct file once, however many use it."""
    per_file = (
        select(func.max(Media.size).label("size"))
        .where(*_counted(user_id))
        .group_by(Media.sha256)
        .subquery()
    )
    return int(await session.scalar(select(func.coalesce(func.sum(per_file.c.size), 0))) or 0)


async def holds(session: AsyncSession, user_id: int, sha256: str) -> bool:
    """Whether this file already counts for the user (sending it again costs nothing)."""
    found = await session.scalar(
        select(Media.id).where(*_counted(user_id), Media.sha256 == sha256).limit(1)
    )
    return found is not None


async def holds_telegram_file(session: AsyncSession, user_id: int, file_unique_id: str) -> bool:
    """Whether this Telegram file (same id, same bytes) already counts for the user."""
    found = await session.scalar(
        select(Media.id)
        .where(*_counted(user_id), Media.telegram_file_unique_id == file_unique_id)
        .limit(1)
    )
    return found is not None


async def set_alt_text(
    session: AsyncSession, user_id: int, media_id: int, alt_text: str | None
) -> bool:
    result = await session.execute(
        update(Media)
        .where(Media.id == media_id, Media.user_id == user_id)
        .values(alt_text=alt_text)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def stored_mime(session: AsyncSession, sha256: str) -> str | None:
    """The MIME type of a file some row still keeps, whoever owns it; None when none does.
    Not scoped to a user on purpose: /media serves by sha256, a name only a holder of the
    file (or of a link Crier sent) knows."""
    return await session.scalar(
        select(Media.mime).where(Media.sha256 == sha256, Media.storage_key != RELEASED).limit(1)
    )


# -- clean-up (a maintenance job over every user's rows; nothing is read out) ---------------


def _needed_media(cutoff: datetime) -> Select[int]:
    """Ids of media a post may still publish: drafts, posts with a target not final (a live
    series always has its next occurrence queued), and posts finished (or changed) less than
    the retention period ago."""
    unfinished = exists().where(
        Target.post_id == Post.id,
        or_(Target.status.not_in(list(FINAL_TARGET_STATUSES)), Target.updated_at >= cutoff),
    )
    needed_posts = select(Post.id).where(
        or_(
            Post.status == PostStatus.DRAFT,
            Post.updated_at >= cutoff,
            unfinished,
        )
    )
    return select(PostMedia.media_id).where(PostMedia.post_id.in_(needed_posts))


async def expire(session: AsyncSession, *, cutoff: datetime) -> tuple[int, int]:
    """Release the files of media no post needs any more, kept since before `cutoff`.

    Rows of dropped drafts are deleted; rows of finished posts stay, with no file. Returns
    (rows deleted, rows released).
    """
    # Templates hold media rows no post references; they must keep their files.
    kept_by_templates = sorted(await templates.media_in_use(session))
    expired = select(Media.id).where(
        Media.storage_key != RELEASED,
        Media.created_at < cutoff,
        Media.id.not_in(_needed_media(cutoff)),
        Media.id.not_in(kept_by_templates),
    )
    linked = select(PostMedia.media_id)
    deleted = await session.execute(
        delete(Media)
        .where(Media.id.in_(expired), Media.id.not_in(linked))
        .execution_options(synchronize_session=False)
    )
    released = await session.execute(
        update(Media)
        .where(Media.id.in_(expired))
        .values(storage_key=RELEASED)
        .execution_options(synchronize_session=False)
    )
    return int(deleted.rowcount or 0), int(released.rowcount or 0)  # type: ignore[attr-defined]


async def live_files(session: AsyncSession) -> set[str]:
    """The sha256 of every file some row still needs, whoever owns it."""
    result = await session.scalars(
        select(Media.sha256).where(Media.storage_key != RELEASED).distinct()
    )
    return set(result)
