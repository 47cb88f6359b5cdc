"""Editing a scheduled post until it starts publishing.

The changes (text, media, time, accounts, each account's own text or thread) are staged in
an `EditDraft` while the user makes them; nothing is stored until Save, which validates
again and applies them in one transaction to the targets still queued (see
`storage.post_edits`). A target the engine claimed meanwhile goes out as it was; accounts
where the post already went out or failed keep what they have: when the text or media
changed, the waiting accounts get an edited copy of the post with its own number.

Staged edits live in memory (`Services.scratch`): a restart drops an edit in progress,
which only means nothing was saved.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.compose import posting, threads
from bot.compose.posting import ACCOUNT_NOT_YOURS, INVISIBLE, POST_NOT_FOUND, quota_message
from bot.engine import content
from bot.engine.content import account_ref
from bot.engine.series import first_occurrence, stored_form
from bot.engine.text import overrides
from bot.engine.text.formatting import tidy
from bot.media.prepare import media_file
from bot.media.receive import Received
from bot.schedule.parse import MAX_AHEAD, NOW_GRACE
from bot.schedule.recurrence import RecurrenceError
from bot.services import Services
from providers.base import Problem, Severity
from providers.registry import UnknownPlatform
from storage import accounts, media, post_edits, posts, users
from storage.models import Account, Media, Post, PostMedia, PostStatus, TargetStatus, User

NOT_FOUND = POST_NOT_FOUND
#: An account of the user's that the edited post doesn't go to.
NOT_ON_POST = "That account isn't on this post any more."


class EditError(ValueError):
    """The change can't be made; the message says why, for the user. Nothing changed."""


@dataclass
class EditDraft:
    """A scheduled post's changes while the user makes them."""

    post_id: int
    text: str
    entities: list[dict[str, Any]]
    media_ids: list[int]
    overrides: dict[str, Any]
    #: The accounts the post is to go to once saved (those it waits for).
    account_ids: list[int]
    #: When those go out (UTC).
    publish_at: datetime
    #: A repeating post: a new time moves the series (its start), not one post.
    repeats: bool
    #: Accounts whose copy was waiting when the edit began: what Save may change.
    editable: frozenset[int]
    #: Accounts whose copy was already publishing, out or failed: shown, never changed.
    locked: dict[int, TargetStatus]
    #: What the post was, to tell what changed.
    original: tuple[Any, ...] = ()
    #: The media step replaces the media with the first file sent, then adds the rest.
    media_replaced: bool = False
    #: The account whose own text the user is typing.
    awaiting: int | None = None
    #: "Now" was picked: the copies go out when the edit is saved, however long that takes.
    asap: bool = False
    #: A repeating post's rule and zone, and the series' new start (naive local wall time)
    #: once a new time is picked.
    rule: str | None = None
    tz: str | None = None
    series_start: datetime | None = None
    #: Issue 17: the post's URL buttons (as `Post.buttons` stores them) and Telegram options.
    buttons: list[Any] | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def snapshot(self) -> tuple[Any, ...]:
        """What the post is to be, as a copy (for telling what changed)."""
        return copy.deepcopy(
            (
                self.text,
                self.entities,
                self.media_ids,
                self.overrides,
                sorted(self.account_ids),
                self.publish_at,
                self.buttons,
                self.options,
            )
        )

    @property
    def content_changed(self) -> bool:
        return self.snapshot()[:4] != self.original[:4]

    @property
    def time_changed(self) -> bool:
        return self.asap or self.publish_at != self.original[5]

    @property
    def changed(self) -> bool:
        return self.snapshot() != self.original


def current(services: Services, user_id: int) -> EditDraft | None:
    return _edits(services).get(user_id)


def drop(services: Services, user_id: int) -> None:
    _edits(services).pop(user_id, None)


def _edits(services: Services) -> dict[int, EditDraft]:
    edits: dict[int, EditDraft] = services.scratch.setdefault("edits", {})
    return edits


async def begin(services: Services, user_id: int, post_id: int) -> EditDraft:
    """Stage an edit of the user's post; EditError if it has nothing waiting any more."""

    async def work(session: AsyncSession) -> EditDraft:
        post = await posts.get(session, user_id, post_id)
        if post is None or post.status == PostStatus.DRAFT:
            raise EditError(NOT_FOUND.format(id=post_id))
        queued = [t for t in post.targets if t.status == TargetStatus.QUEUED]
        if post.status != PostStatus.SCHEDULED or not queued:
            raise EditError(
                f"Post #{post_id} can't be edited any more: nothing of it is waiting to go "
                "out. /list shows where each copy stands."
            )
        occurrence = min(t.occurrence for t in queued)
        this_time = [t for t in post.targets if t.occurrence == occurrence]
        waiting = [t for t in this_time if t.status == TargetStatus.QUEUED]
        draft = EditDraft(
            post_id=post.id,
            text=post.text,
            entities=[dict(e) for e in post.entities or ()],
            media_ids=[link.media_id for link in post.media_links],
            overrides=dict(post.overrides or {}),
            account_ids=sorted({t.account_id for t in waiting}),
            publish_at=min(t.publish_at for t in waiting),
            repeats=bool(post.rrule),
            rule=post.rrule,
            tz=post.timezone,
            editable=frozenset(t.account_id for t in waiting),
            locked={
                t.account_id: t.status
                for t in this_time
                if t.status not in (TargetStatus.QUEUED, TargetStatus.CANCELLED)
            },
            buttons=copy.deepcopy(post.buttons),
            options=dict(post.options or {}),
        )
        draft.original = draft.snapshot()
        return draft

    draft = await services.db.run(work)
    _edits(services)[user_id] = draft
    return draft


# -- checking -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class EditCheck:
    #: The post as it would be saved (not stored), for the preview.
    post: Post
    user: User
    #: The accounts the edit publishes to, each with what its platform would refuse.
    checks: list[tuple[Account, list[Problem]]]
    #: Accounts left as they are, with where their copy stands.
    locked: list[tuple[Account, TargetStatus]]

    @property
    def blocking(self) -> bool:
        return any(p.severity == Severity.ERROR for _, problems in self.checks for p in problems)


async def check(services: Services, user_id: int, draft: EditDraft) -> EditCheck:
    """The edited post as each of its accounts would get it, with every problem."""

    async def work(session: AsyncSession) -> EditCheck:
        user = await users.get(session, user_id)
        post = await posts.get(session, user_id, draft.post_id)
        if user is None or post is None:
            raise EditError(NOT_FOUND.format(id=draft.post_id))
        staged = await staged_post(session, user_id, post, draft)
        chosen = await accounts.get_many(session, user_id, list(draft.account_ids))
        locked_rows = await accounts.get_many(session, user_id, list(draft.locked))
        return EditCheck(
            post=staged,
            user=user,
            checks=[(a, validate(services, staged, a)) for a in chosen],
            locked=[(a, draft.locked[a.id]) for a in locked_rows],
        )

    return await services.db.run(work)


def validate(services: Services, post: Post, account: Account) -> list[Problem]:
    """The platform's problems with the post as the account gets it, media included."""
    try:
        provider = services.registry[account.platform]
    except UnknownPlatform:
        return [Problem(code="unsupported", message="This platform is not supported any more.")]
    return content.check(post, account, provider, services.settings.media_dir)


async def staged_post(session: AsyncSession, user_id: int, post: Post, draft: EditDraft) -> Post:
    """A detached copy of the post with the staged changes (never added to the session)."""
    rows = await post_edits.media_rows(session, user_id, draft.media_ids)
    staged = Post(
        id=post.id,
        user_id=post.user_id,
        status=post.status,
        text=draft.text,
        entities=list(draft.entities),
        overrides=dict(draft.overrides),
        publish_at=draft.publish_at,
        rrule=post.rrule,
        timezone=post.timezone,
        dtstart_local=(
            stored_form(draft.series_start) if draft.series_start else post.dtstart_local
        ),
        created_at=post.created_at,
        buttons=draft.buttons,
        options=dict(draft.options) or None,
    )
    staged.media_links = [
        PostMedia(post_id=post.id, position=i, media_id=row.id, media=row)
        for i, row in enumerate(rows)
    ]
    return staged


# -- changes --------------------------------------------------------------------------------


def set_text(
    services: Services, draft: EditDraft, text: str, entities: Sequence[Mapping[str, Any]] = ()
) -> None:
    """New text for every account without its own (a thread split from the old text goes)."""
    if not text.strip():
        raise EditError("The text can't be empty. Send the new text, or tap ⬅ Back.")
    text, kept = tidy(text, entities)
    if not text:
        raise EditError(f"{INVISIBLE} Send the new text, or tap ⬅ Back.")
    if problem := posting.text_problem(text, services.settings):
        raise EditError(problem)
    draft.overrides = overrides.after_text_change(draft.overrides, draft.text)
    draft.text = text
    draft.entities = kept


def set_time(services: Services, draft: EditDraft, when: datetime | None) -> None:
    """Move the waiting copies to `when` (None: as soon as it is saved). For a repeating
    post, the series moves: it starts again at `when`, so its later posts keep the new
    time of day (and the new day, where the rule doesn't name its days)."""
    now = services.now()
    if when is not None and when < now - NOW_GRACE:
        raise EditError("That time has passed. Pick a time in the future.")
    if when is not None and when - now > MAX_AHEAD:
        raise EditError("That is more than 3 years away. Pick a nearer time.")
    if draft.repeats:
        _move_series(draft, when)
        return
    draft.asap = when is None
    draft.publish_at = max(when or now, now)


def _move_series(draft: EditDraft, when: datetime | None) -> None:
    if when is None:
        raise EditError(
            "A repeating post moves to a time, not to “now”: pick when its posts should go "
            "out from now on (⚡ Post now in /list sends the next one at once)."
        )
    rule, tz = draft.rule or "", draft.tz or "UTC"
    if "COUNT=" in rule.upper():
        # COUNT counts from the series' start: a new start would change how many go out.
        raise EditError(
            "This series is a set number of posts, so moving it would change how many go "
            "out. Cancel it in /list and schedule it again at the new time."
        )
    try:
        start, first = first_occurrence(rule, tz, when)
    except RecurrenceError as exc:
        raise EditError(str(exc)) from exc
    draft.series_start = start
    draft.asap = False
    draft.publish_at = first


async def toggle_account(
    services: Services, user_id: int, draft: EditDraft, account_id: int
) -> None:
    """Add the account to the post, or take it off (its waiting copy is cancelled on Save)."""
    if account_id in draft.locked:
        raise EditError("The post already went out there (or is going out): that stays.")
    owned = await services.db.run(lambda s: accounts.get(s, user_id, account_id))
    if owned is None:
        raise EditError(ACCOUNT_NOT_YOURS)
    if account_id in draft.account_ids:
        draft.account_ids.remove(account_id)
    else:
        draft.account_ids = sorted([*draft.account_ids, account_id])


def check_media_room(services: Services, draft: EditDraft) -> None:
    """Refuse, before downloading it, a file the edited post has no room for (`add_media`
    checks again as it adds)."""
    limit = services.settings.max_media_per_post
    # The first file sent in the media step replaces the post's media: there is room for it.
    held = len(draft.media_ids) if draft.media_replaced else 0
    if held >= limit:
        raise EditError(f"A post can hold at most {limit} media items.")


async def add_media(services: Services, user_id: int, draft: EditDraft, received: Received) -> int:
    """Store a received file for the edit: the first one sent in the media step replaces
    the post's media, the next ones add to it. Returns how many items the post now has."""
    settings = services.settings
    if not draft.media_replaced:
        draft.media_ids = []
        draft.media_replaced = True
    check_media_room(services, draft)
    info = received.info

    async def work(session: AsyncSession) -> int:
        quota = settings.media_quota_bytes
        if quota and not await media.holds(session, user_id, info.sha256):
            used = await media.usage(session, user_id)
            if used + info.size > quota:
                raise EditError(quota_message(used, info.size, quota, settings))
        row = await media.add(
            session,
            content.media_row(user_id, received),
        )
        received.keep(settings.media_dir)
        return row.id

    media_id = await services.db.run(work)
    # Not on any post until saved: a discarded edit's files go with the next clean-up.
    draft.media_ids.append(media_id)
    return len(draft.media_ids)


def remove_media(draft: EditDraft) -> None:
    draft.media_ids = []
    draft.media_replaced = True


def own_text(text: str, services: Services) -> str:
    """An account's own text as typed, tidied (see `formatting.tidy`); EditError when it
    can't be one."""
    if not text.strip():
        raise EditError("The text can't be empty. Send the text for this account.")
    text, _ = tidy(text)
    if not text:
        raise EditError(f"{INVISIBLE} Send the text for this account.")
    if problem := posting.text_problem(text, services.settings):
        raise EditError(problem)
    return text


def set_override(draft: EditDraft, services: Services, account_id: int, text: str | None) -> None:
    """The account's own text, or back to the post's text with None."""
    if account_id not in draft.account_ids:
        raise EditError(NOT_ON_POST)
    if text is not None:
        text = own_text(text, services)
    draft.overrides = overrides.with_text(draft.overrides, account_id, text)


async def split(services: Services, user_id: int, draft: EditDraft, account_id: int) -> list[str]:
    """Split what the account would get into a numbered thread for it."""
    if account_id not in draft.account_ids:
        raise EditError(NOT_ON_POST)

    async def work(session: AsyncSession) -> tuple[list[str], str, str | None]:
        account = await accounts.get(session, user_id, account_id)
        if account is None:
            raise EditError(ACCOUNT_NOT_YOURS)
        rows = await post_edits.media_rows(session, user_id, draft.media_ids)
        source, origin = overrides.thread_source(
            draft.text, draft.entities, draft.overrides, account_id, account.platform
        )
        return thread_for(services, account, source, rows), source, origin

    parts, source, origin = await services.db.run(work)
    draft.overrides = overrides.with_thread(draft.overrides, account_id, parts, source, origin)
    return parts


def thread_for(services: Services, account: Account, text: str, rows: Sequence[Media]) -> list[str]:
    """`text` split into a thread as the account's platform counts it; EditError if it
    can't be (no threads there, a single word too long, too many parts, or it fits)."""
    try:
        provider = services.registry[account.platform]
    except UnknownPlatform:
        raise EditError("This platform is not supported any more.") from None
    files = [media_file(row, services.settings.media_dir) for row in rows]
    try:
        parts = threads.split_for(provider, account_ref(account), text, files)
    except threads.ThreadError as exc:
        raise EditError(str(exc)) from exc
    if len(parts) == 1:
        raise EditError(f"The text fits in one {provider.display_name} post: no thread needed.")
    return parts
