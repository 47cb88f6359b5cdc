"""The operations behind the compose flow: the draft's text, media and alt text, its accounts
and time, the platforms' checks, and confirming it into targets; and the caps on what one
user may queue (text length, posts waiting, drafts, media quota).

Handlers call these with the Telegram user's id; every read and write is scoped to it.
What the schedule commands do afterwards is in bot/compose/scheduled.py; registering the
user and their timezone in bot/accounts/users.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.compose import slots as queue_slots
from bot.config import Settings
from bot.engine import content, series
from bot.engine.text import formatting
from bot.media.profile import human_bytes
from bot.media.receive import Incoming, Received
from bot.schedule.parse import NOW_GRACE
from bot.schedule.recurrence import RecurrenceError
from bot.services import Services
from providers.base import MediaKind, Problem, Severity
from providers.registry import UnknownPlatform
from storage import accounts, media, posts, users
from storage import admin as admin_repo
from storage.models import Account, Media, Post, User
from storage.posts import ScheduleResult

#: Drafts a user keeps at most (/drafts); past it, a new post asks to delete some first.
MAX_DRAFTS = 50
#: What every command and button says of a post id that isn't one of the user's: unknown,
#: someone else's, or no id at all ("-1", 64 digits). `id` is shown after the "#".
POST_NOT_FOUND = "I can't find post #{id} among your posts. /list shows them."
#: What the compose and edit steps say of an account that isn't one of the user's.
ACCOUNT_NOT_YOURS = "That account isn't one of yours."
#: Why a text of only invisible characters (zero-width spaces and the like) is refused.
INVISIBLE = "That text has nothing visible in it, only invisible characters."
#: Longest alt text taken (Mastodon's limit; Bluesky and X allow more, LinkedIn less).
MAX_ALT_TEXT = 1500


class ComposeError(ValueError):
    """The step can't be completed; the message says why, for the user."""


@dataclass(frozen=True, kw_only=True)
class Checked:
    post: Post
    user: User
    #: The chosen accounts, each with what its platform would refuse.
    checks: list[tuple[Account, list[Problem]]]

    @property
    def blocking(self) -> bool:
        return any(p.severity == Severity.ERROR for _, problems in self.checks for p in problems)


# -- limits ---------------------------------------------------------------------------------


def text_problem(text: str, settings: Settings) -> str | None:
    """Why a post's text is too long for this instance, or None."""
    limit = settings.max_text_length
    if len(text) <= limit:
        return None
    return (
        f"That makes the post {len(text):,} characters long; the most I take is {limit:,}. "
        "Nothing was added: send a shorter text."
    )


async def pending_posts_problem(services: Services, user_id: int) -> str | None:
    """Why this user can't schedule another post right now, or None."""
    limit = services.settings.max_pending_posts_per_user
    waiting = await services.db.run(lambda s: admin_repo.pending_posts(s, user_id))
    if waiting < limit:
        return None
    return (
        f"You have {waiting:,} posts waiting to go out, the most one person can have. "
        "Cancel some in /list, or schedule this one once a few are published."
    )


# -- drafts ---------------------------------------------------------------------------------


async def current_draft(services: Services, user_id: int) -> Post | None:
    return await services.db.run(lambda s: posts.current_draft(s, user_id))


async def start_draft(services: Services, user_id: int) -> Post:
    """A fresh, empty draft; an unfinished one stays in /drafts (an empty one is reused)."""
    return await services.db.run(lambda s: fresh_draft(s, user_id))


async def fresh_draft(session: AsyncSession, user_id: int) -> Post:
    """The user's new current draft, in the caller's transaction: the empty current one if
    there is one, else a new row, within the drafts cap (ComposeError past it)."""
    old = await posts.current_draft(session, user_id)
    if old is not None and not old.text and not old.media_links:
        await posts.prune_empty_drafts(session, user_id, keep=old.id)
        return old
    await posts.prune_empty_drafts(session, user_id, keep=None)
    if await posts.count_drafts(session, user_id) >= MAX_DRAFTS:
        raise ComposeError(
            f"You have {MAX_DRAFTS} drafts, the most I keep. Delete some in /drafts, or "
            "finish one, then start a new post."
        )
    return await posts.new_draft(session, user_id)


async def add_text(
    services: Services,
    user_id: int,
    text: str,
    entities: Sequence[Mapping[str, Any]] = (),
) -> Post:
    """Add text (and its Telegram formatting) to the draft, after what it has."""
    text, kept = formatting.tidy(text, entities)
    if not text:
        raise ComposeError(f"{INVISIBLE} Nothing was added: send the text you want to post.")

    async def work(session: AsyncSession) -> Post:
        post = await posts.current_draft(session, user_id) or await posts.new_draft(
            session, user_id
        )
        post.text, post.entities = formatting.append(post.text, post.entities, text, kept)
        if problem := text_problem(post.text, services.settings):
            raise ComposeError(problem)  # rolls back: nothing was added
        await session.flush()
        return post

    return await services.db.run(work)


async def check_draft_room(services: Services, user_id: int) -> None:
    """Refuse, before downloading it, a file the draft has no room for (`add_media` checks
    again as it attaches)."""
    limit = services.settings.max_media_per_post

    async def held(session: AsyncSession) -> int:
        post = await posts.current_draft(session, user_id)
        return len(post.media_links) if post is not None else 0

    if await services.db.run(held) >= limit:
        raise ComposeError(f"A post can hold at most {limit} media items.")


async def check_quota(services: Services, user_id: int, incoming: Incoming) -> None:
    """Refuse, before downloading it, a file that can't fit in the user's storage (the exact
    check, by content, is in `add_media`)."""
    quota = services.settings.media_quota_bytes
    size = incoming.size
    if not quota or size is None:
        return

    async def work(session: AsyncSession) -> int | None:
        if await media.holds_telegram_file(session, user_id, incoming.file_unique_id):
            return None  # the same file again costs nothing
        return await media.usage(session, user_id)

    used = await services.db.run(work)
    if used is not None and used + size > quota:
        raise ComposeError(quota_message(used, size, quota, services.settings))


def quota_message(used: int, size: int, quota: int, settings: Settings) -> str:
    days = settings.media_retention_days
    return (
        f"Your media storage is full: you use {human_bytes(used)} of your "
        f"{human_bytes(quota)}, and this file is {human_bytes(size)}. Nothing was saved. "
        f"Media stops counting {days:g} day{'s' if days != 1 else ''} after the posts using "
        "it are done, and at once for a draft you /abort; or send a smaller file."
    )


async def add_media(
    services: Services,
    user_id: int,
    received: Received,
    caption: str | None,
    caption_entities: Sequence[Mapping[str, Any]] = (),
) -> Post:
    """Attach a probed file to the draft and move it into the store, within the quota."""
    settings = services.settings
    # A caption of only invisible characters is no caption: the file comes alone.
    caption, kept = formatting.tidy(caption or "", caption_entities)
    limit = settings.max_media_per_post
    info = received.info

    async def work(session: AsyncSession) -> Post:
        post = await posts.current_draft(session, user_id) or await posts.new_draft(
            session, user_id
        )
        if len(post.media_links) >= limit:
            raise ComposeError(f"A post can hold at most {limit} media items.")
        quota = settings.media_quota_bytes
        if quota and not await media.holds(session, user_id, info.sha256):
            used = await media.usage(session, user_id)
            if used + info.size > quota:
                raise ComposeError(quota_message(used, info.size, quota, settings))
        row = await media.add(
            session,
            content.media_row(user_id, received),
        )
        await posts.attach_media(session, post, row)
        if caption:
            post.text, post.entities = formatting.append(post.text, post.entities, caption, kept)
            if problem := text_problem(post.text, settings):
                raise ComposeError(problem)
        # Moved into place before the commit: a failed commit leaves an unreferenced file,
        # which the clean-up removes, never a row without its file.
        received.keep(settings.media_dir)
        await session.flush()
        return post

    return await services.db.run(work)


async def draft_photos(services: Services, user_id: int) -> list[Media]:
    """The draft's photos, in order (what alt text is asked for)."""
    post = await current_draft(services, user_id)
    if post is None:
        raise ComposeError("That draft is gone. Send /new to start a post.")
    return [link.media for link in post.media_links if link.media.kind == MediaKind.PHOTO]


async def set_alt_text(services: Services, user_id: int, media_id: int, text: str | None) -> None:
    """Store (or clear, with None) the alt text of one of the draft's photos."""
    if text is not None:
        text = text.strip()
        if not text:
            raise ComposeError("Alt text can't be empty. Describe the photo, or tap Skip.")
        if len(text) > MAX_ALT_TEXT:
            raise ComposeError(
                f"That is {len(text):,} characters; alt text can be at most "
                f"{MAX_ALT_TEXT:,}. Send a shorter description."
            )

    async def work(session: AsyncSession) -> None:
        post = await _draft(session, user_id)
        if media_id not in {link.media_id for link in post.media_links}:
            raise ComposeError("That photo is no longer in the draft.")
        await media.set_alt_text(session, user_id, media_id, text)

    await services.db.run(work)


async def discard_draft(services: Services, user_id: int) -> None:
    async def work(session: AsyncSession) -> None:
        post = await posts.current_draft(session, user_id)
        if post is not None:
            await posts.delete_draft(session, user_id, post.id)

    await services.db.run(work)


async def replace_text(
    services: Services,
    user_id: int,
    text: str,
    entities: Sequence[Mapping[str, Any]] = (),
) -> Post:
    text, kept = formatting.tidy(text, entities)
    if not text:
        raise ComposeError(f"{INVISIBLE} Send the new text for this post.")

    async def work(session: AsyncSession) -> Post:
        post = await _draft(session, user_id)
        if problem := text_problem(text, services.settings):
            raise ComposeError(problem)
        post.text = text
        post.entities = kept  # the old ones fit the old text
        return post

    return await services.db.run(work)


async def user_accounts(services: Services, user_id: int) -> list[Account]:
    return await services.db.run(lambda s: accounts.list_for(s, user_id))


async def toggle_account(services: Services, user_id: int, account_id: int | None) -> Post:
    """Flip one account in the draft's selection, or select all when `account_id` is None."""

    async def work(session: AsyncSession) -> Post:
        post = await _draft(session, user_id)
        owned = [a.id for a in await accounts.list_for(session, user_id)]
        chosen = [i for i in post.draft_account_ids if i in owned]
        if account_id is None:
            chosen = owned if set(chosen) != set(owned) else []
        elif account_id not in owned:
            raise ComposeError(ACCOUNT_NOT_YOURS)
        elif account_id in chosen:
            chosen.remove(account_id)
        else:
            chosen.append(account_id)
        post.draft_account_ids = sorted(chosen)
        return post

    return await services.db.run(work)


async def preselect_single_account(services: Services, user_id: int) -> Post:
    async def work(session: AsyncSession) -> Post:
        post = await _draft(session, user_id)
        owned = await accounts.list_for(session, user_id)
        if not post.draft_account_ids and len(owned) == 1:
            post.draft_account_ids = [owned[0].id]
        return post

    return await services.db.run(work)


async def set_time(services: Services, user_id: int, when: datetime | None) -> Post:
    """Store the chosen time on the draft; None means "as soon as it is confirmed"."""

    async def work(session: AsyncSession) -> Post:
        post = await _draft(session, user_id)
        post.publish_at = when
        return post

    return await services.db.run(work)


async def check(services: Services, user_id: int) -> Checked:
    """The draft as each chosen account will get it, with every problem its platform sees."""

    async def work(session: AsyncSession) -> Checked:
        user = await users.get(session, user_id)
        if user is None:
            raise ComposeError("Send /start first.")
        post = await _draft(session, user_id)
        chosen = await accounts.get_many(session, user_id, list(post.draft_account_ids))
        checks: list[tuple[Account, list[Problem]]] = []
        for account in chosen:
            checks.append((account, _validate(services, post, account)))
        return Checked(post=post, user=user, checks=checks)

    checked = await services.db.run(work)
    live = await asyncio.gather(
        *(
            content.check_live(checked.post, account, services.registry, services.secrets)
            for account, _ in checked.checks
        )
    )
    for (_, problems), found in zip(checked.checks, live, strict=True):
        problems.extend(found)
    return checked


def _validate(services: Services, post: Post, account: Account) -> list[Problem]:
    """The platform's problems with the post, media included, as the account gets it."""
    try:
        provider = services.registry[account.platform]
    except UnknownPlatform:
        return [Problem(code="unsupported", message="This platform is not supported any more.")]
    return content.check(post, account, provider, services.settings.media_dir)


async def confirm(
    services: Services, user_id: int, *, queue: bool = False, hold: int = 0
) -> tuple[ScheduleResult, list[Account]]:
    """Validate once more and create one queued target per account, in one transaction
    (with `queue`, each account's at its own next free queue slot: bot/compose/slots.py).
    A post for "now" goes out `hold` seconds from now (the user's Undo window)."""
    if problem := await pending_posts_problem(services, user_id):
        raise ComposeError(problem)
    now = services.now()

    async def work(session: AsyncSession) -> tuple[ScheduleResult, list[Account]]:
        user = await users.get(session, user_id)
        post = await _draft(session, user_id)
        chosen = await accounts.get_many(session, user_id, list(post.draft_account_ids))
        if not chosen:
            raise ComposeError("Pick at least one account first.")
        if not post.text.strip() and not post.media_links:
            raise ComposeError("The post is empty: send some text or media first.")
        for account in chosen:
            errors = [p for p in _validate(services, post, account) if p.severity == Severity.ERROR]
            if errors:
                raise ComposeError(f"{account.label}: {errors[0].message}")
        tz = user.timezone if user else services.settings.default_timezone
        if queue and post.rrule:
            raise ComposeError("A repeating post can't go in the queue: pick its first time.")
        times = await queue_slots.times_for(session, user_id, tz, chosen, now) if queue else {}
        soon = now + timedelta(seconds=hold) if hold and not post.rrule else now
        when = min(times.values(), default=post.publish_at or soon)
        if when < now - NOW_GRACE:
            raise ComposeError("The time you picked has passed. Pick a new time.")
        start, dtstart = max(when, now), None
        if post.rrule:  # a repeat starts at its rule's first time at or after the picked one
            try:
                dtstart, first = series.first_occurrence(post.rrule, tz, when)
            except RecurrenceError as exc:
                raise ComposeError(str(exc)) from exc
            start = max(first, now)
        result = await posts.schedule(session, post, chosen, start, tz, dtstart_local=dtstart)
        for target in result.targets:  # the queue: each account at its own slot
            at = times.get(target.account_id, target.publish_at)
            target.publish_at = target.next_attempt_at = at
        return result, chosen

    result, chosen = await services.db.run(work)
    services.wake_engine(result.post.publish_at or now)
    return result, chosen


async def _draft(session: AsyncSession, user_id: int) -> Post:
    post = await posts.current_draft(session, user_id)
    if post is None:
        raise ComposeError("That draft is gone. Send /new to start a post.")
    return post
