"""What the schedule commands do with a post once it is scheduled: /list's pages, cancel,
post now, retry, mark as published, and a series' "only the next one" or "all of it".

Handlers call these with the Telegram user's id; every read and write is scoped to it.
Cancelling one occurrence of a series moves the series on at once (bot/engine/series.py's
`advance`, the step the engine takes when an occurrence settles).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.engine.series import Next, advance
from bot.engine.webhooks import events
from bot.services import Services
from storage import after, posts
from storage import series as store
from storage.models import Post, Target, TargetStatus
from storage.posts import PENDING_TARGET_STATUSES

_T = TypeVar("_T")

#: Posts shown per /list page.
PAGE_SIZE = 5


async def get_post(services: Services, user_id: int, post_id: int) -> Post | None:
    return await services.db.run(lambda s: posts.get(s, user_id, post_id))


async def cancel(services: Services, user_id: int, post_id: int) -> int | None:
    async def work(session: AsyncSession) -> int | None:
        pending = await posts.target_ids(session, user_id, post_id, PENDING_TARGET_STATUSES)
        count = await posts.cancel(session, user_id, post_id)
        await _settled(services, session, user_id, pending, count)
        return count

    return _and_wake(services, await services.db.run(work))


async def _settled(
    services: Services,
    session: AsyncSession,
    user_id: int,
    ids: list[int],
    count: int | None,
    status: TargetStatus = TargetStatus.CANCELLED,
) -> None:
    """Queue the webhook events of the targets a change put in `status` (`ids`: read
    before it)."""
    if count:
        await events.emit_for_targets(session, user_id, ids, status, services.now())


def _and_wake(services: Services, result: _T) -> _T:
    """Wake the webhook sender after a change that may have queued events."""
    if result and services.webhooks is not None:
        services.webhooks.wake()
    return result


async def post_now(services: Services, user_id: int, post_id: int, hold: int = 0) -> int | None:
    """Make the post's pending targets due now, or in `hold` seconds (the user's Undo window;
    not for a series, whose occurrence keeps its time)."""
    now = services.now()
    at = now + timedelta(seconds=hold)
    count = await services.db.run(lambda s: posts.post_now(s, user_id, post_id, now, at=at))
    if count:
        services.wake_engine(at)
    return count


async def undo(services: Services, user_id: int, post_id: int) -> bool | None:
    """Take back a "Post now" inside its window: the post is the current draft again and
    nothing was sent. False: too late (something is going out or out); None: not theirs."""
    try:
        return await services.db.run(lambda s: after.undo(s, user_id, post_id))
    except after.TooLate:
        return False


async def retry(services: Services, user_id: int, post_id: int) -> int | None:
    now = services.now()
    count = await services.db.run(lambda s: posts.retry(s, user_id, post_id, now))
    if count:
        services.wake_engine(now)
    return count


async def page(services: Services, user_id: int, page_number: int) -> tuple[list[Post], int]:
    """One page of the user's posts, newest first, and the number of pages."""
    posts_, total = await services.db.run(
        lambda s: posts.page(s, user_id, offset=page_number * PAGE_SIZE, limit=PAGE_SIZE)
    )
    pages = max(1, -(-total // PAGE_SIZE))
    return posts_, pages


def pending_targets(post: Post) -> Sequence[Target]:
    return [t for t in post.targets if t.status == TargetStatus.QUEUED]


def retryable_targets(post: Post) -> Sequence[Target]:
    return [t for t in post.targets if t.status in (TargetStatus.FAILED, TargetStatus.UNKNOWN)]


async def mark_published(services: Services, user_id: int, post_id: int) -> int | None:
    now = services.now()

    async def work(session: AsyncSession) -> int | None:
        unknown = await posts.target_ids(session, user_id, post_id, [TargetStatus.UNKNOWN])
        count = await posts.mark_published(session, user_id, post_id, now)
        await _settled(services, session, user_id, unknown, count, TargetStatus.PUBLISHED)
        return count

    return _and_wake(services, await services.db.run(work))


# -- a repeating post -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Cancelled:
    #: Targets cancelled.
    count: int
    tz: str
    #: The cancelled occurrence's time.
    when: datetime | None = None
    #: Where the series went: None while the rest of that occurrence is still publishing.
    following: Next | None = None


async def cancel_one(
    services: Services, user_id: int, post_id: int, occurrence: int
) -> Cancelled | None:
    """Cancel one occurrence of the user's series; the series goes on. None: not theirs."""
    now = services.now()

    async def work(session: AsyncSession) -> Cancelled | None:
        found = await store.lock(session, post_id, user_id=user_id)
        if found is None:
            return None
        tz = found.timezone or services.settings.default_timezone
        pending = await posts.target_ids(
            session, user_id, post_id, PENDING_TARGET_STATUSES, occurrence=occurrence
        )
        done = await posts.cancel_occurrence(session, user_id, post_id, occurrence)
        if done is None:
            return None
        count, targets = done
        await _settled(services, session, user_id, pending, count)
        when = targets[0].publish_at if targets else None
        following = None
        if count and all(t.status.is_final for t in targets):
            following = await advance(session, post_id, targets, now)
        return Cancelled(count=count, tz=tz, when=when, following=following)

    result = _and_wake(services, await services.db.run(work))
    if result is not None and result.following is not None and result.following.at is not None:
        services.wake_engine(result.following.at)
    return result


async def cancel_all(services: Services, user_id: int, post_id: int) -> tuple[int, bool] | None:
    """Cancel what is pending of the user's post; a series stops for good. Returns how many
    targets were cancelled and whether it was a series; None: not theirs."""

    async def work(session: AsyncSession) -> tuple[int, bool] | None:
        # Locked first, so an occurrence settling meanwhile can't queue the next one.
        found = await store.lock(session, post_id, user_id=user_id)
        if found is None:
            return None
        pending = await posts.target_ids(session, user_id, post_id, PENDING_TARGET_STATUSES)
        count = await posts.cancel(session, user_id, post_id)
        await _settled(services, session, user_id, pending, count)
        return None if count is None else (count, bool(found.rrule))

    return _and_wake(services, await services.db.run(work))
