"""Saving an edit: one transaction that applies an `EditDraft` to what still waits.

The post's queued targets are locked first (`post_edits.lock_queued`); whatever the engine
claimed before that is left alone and reported as "already started". Text and media are
shared by all of a post's copies, so when some copy already went out (or is going out, or
failed and may be retried), the edited content goes to a new post that takes over the
waiting copies, and the original keeps what it published. A repeating post is edited in
place: its next occurrences take the new content, and a new time moves the whole series.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.compose.editing import NOT_FOUND, EditDraft, EditError, staged_post, validate
from bot.engine.series import stored_form
from bot.engine.text import overrides
from bot.engine.webhooks import events
from bot.schedule.parse import NOW_GRACE
from bot.services import Services
from providers.base import Severity
from storage import accounts, post_edits, posts
from storage.models import Account, Post, PostStatus, Target, TargetStatus


@dataclass(frozen=True, kw_only=True)
class Saved:
    #: The post the waiting copies belong to now: the same one, or the edited copy.
    post_id: int
    #: Set when the edit went to a copy: the post that keeps what already went out.
    forked_from: int | None = None
    #: When the waiting copies go out; None when none is left.
    when: datetime | None = None
    #: Copies that will go out as edited (kept or added).
    updated: list[Account]
    added: list[Account]
    removed: list[Account]
    #: Waiting when the edit began, claimed by the engine before it was saved: unchanged.
    started: list[Account]
    #: Already out, publishing or failed when the edit began: unchanged.
    untouched: list[Account]


async def save(services: Services, user_id: int, draft: EditDraft) -> Saved:
    """Validate the edit again and apply it to the copies still waiting; EditError (and
    nothing stored) when the post can't be saved like this."""
    if not draft.account_ids:
        raise EditError(
            "Pick at least one account. To stop the post instead, cancel it from /list."
        )
    if not draft.text.strip() and not draft.media_ids:
        raise EditError("The post is empty: give it some text or media.")
    now = services.now()
    if draft.asap:
        draft.publish_at = now  # "Now" means when it is saved
    elif draft.time_changed and draft.publish_at < now - NOW_GRACE:
        raise EditError("The time you picked has passed. Pick a new time.")

    saved = await services.db.run(lambda s: _apply(s, services, user_id, draft))
    if saved.when is not None:
        services.wake_engine(saved.when)
    if saved.removed and services.webhooks is not None:
        services.webhooks.wake()
    return saved


async def _apply(
    session: AsyncSession, services: Services, user_id: int, draft: EditDraft
) -> Saved:
    post = await posts.get(session, user_id, draft.post_id)
    if post is None or post.status != PostStatus.SCHEDULED:
        raise EditError(NOT_FOUND.format(id=draft.post_id) + " Nothing was changed.")
    queued = await post_edits.lock_queued(session, user_id, post.id)
    await session.refresh(post, ["targets"])
    occurrence = min((t.occurrence for t in queued), default=0)
    waiting = {t.account_id: t for t in queued if t.occurrence == occurrence}
    chosen = {a.id: a for a in await accounts.get_many(session, user_id, draft.account_ids)}
    started = sorted(i for i in draft.editable if i not in waiting)
    keep = [waiting[i] for i in draft.account_ids if i in waiting]
    drop = [t for t in waiting.values() if t.account_id not in draft.account_ids]
    add = [
        i
        for i in draft.account_ids
        if i in chosen and i not in waiting and i not in draft.locked and i not in started
    ]
    staged = await staged_post(session, user_id, post, draft)
    for account_id in [t.account_id for t in keep] + add:
        account = chosen[account_id]
        errors = [p for p in validate(services, staged, account) if p.severity == Severity.ERROR]
        if errors:
            raise EditError(f"{account.label}: {errors[0].message}")

    when = draft.publish_at if draft.time_changed else None
    owner = post
    if keep or add:
        owner = await _content(session, user_id, post, draft, keep, when)
        # Issue 17: the buttons and Telegram options go with the copies still waiting.
        owner.buttons = draft.buttons
        owner.options = dict(draft.options) or None
    if when is not None:
        await post_edits.retime(session, user_id, [t.id for t in keep], when)
        if owner is post and not post.rrule:
            post.publish_at = when
        if owner.rrule and draft.series_start is not None:
            # Later occurrences are planned from the series' start: it moves with the edit.
            owner.dtstart_local = stored_form(draft.series_start)
    new_at = when or min((t.publish_at for t in keep), default=draft.publish_at)
    await post_edits.add_targets(session, owner, add, new_at, occurrence)
    dropped = [t.id for t in drop]
    if await post_edits.cancel_targets(session, user_id, dropped):
        # An account taken off the post: a cancelled post there, to a webhook.
        cancelled = TargetStatus.CANCELLED
        await events.emit_for_targets(session, user_id, dropped, cancelled, services.now())

    named = {
        a.id: a
        for a in await accounts.get_many(
            session, user_id, sorted({*draft.locked, *started, *(t.account_id for t in drop)})
        )
    }
    named |= chosen
    return Saved(
        post_id=owner.id,
        forked_from=post.id if owner is not post else None,
        when=new_at if keep or add else None,
        updated=[chosen[t.account_id] for t in keep if t.account_id in chosen],
        added=[chosen[i] for i in add],
        removed=[named[t.account_id] for t in drop if t.account_id in named],
        started=[named[i] for i in started if i in named],
        untouched=[named[i] for i in sorted(draft.locked) if i in named],
    )


async def _content(
    session: AsyncSession,
    user_id: int,
    post: Post,
    draft: EditDraft,
    keep: list[Target],
    when: datetime | None,
) -> Post:
    """Apply the text and media: to the post itself, or to a copy that takes over the
    waiting targets when some copy of the post already went out. Returns the post that
    holds the waiting targets afterwards."""
    if not draft.content_changed:
        return post
    rows = await post_edits.media_rows(session, user_id, draft.media_ids)
    others = [
        t for t in post.targets if t.status not in (TargetStatus.QUEUED, TargetStatus.CANCELLED)
    ]
    if others and not post.rrule:
        copy = await post_edits.fork(
            session,
            post,
            text=draft.text,
            entities=draft.entities,
            overrides=overrides.only_for(draft.overrides, draft.account_ids),
            media=rows,
            publish_at=when or min((t.publish_at for t in keep), default=draft.publish_at),
            account_ids=draft.account_ids,
        )
        await post_edits.move_targets(session, user_id, [t.id for t in keep], copy.id)
        return copy
    post.text = draft.text
    post.entities = list(draft.entities)
    post.overrides = dict(draft.overrides)
    if [link.media_id for link in post.media_links] != draft.media_ids:
        await post_edits.set_media(session, post, rows)
    return post
