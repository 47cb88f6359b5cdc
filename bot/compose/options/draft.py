"""The draft's URL buttons and Telegram options: read and set, scoped to the user.

Buttons arrive as the posting-bot syntax (`providers.telegram_buttons.parse_buttons`); a bad
line stores nothing and comes back with its line number and why. Options are stored only
where the user chose them; the rest follow the first chosen Telegram account's defaults
(/accounts → ⚙️), so the options screen shows what will really be sent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.compose import editing
from bot.compose.editing import EditDraft
from bot.compose.posting import ComposeError
from bot.engine import content
from bot.engine.options import values
from bot.services import Services
from providers.base import ButtonRows
from providers.telegram_buttons import ParsedButtons, parse_buttons
from storage import accounts, posts
from storage.models import Account, Post

#: The platform whose accounts take these options.
PLATFORM = "telegram"

#: What each option may be set to from the options keyboard.
ALLOWED: dict[str, tuple[Any, ...]] = {
    values.SILENT: (True, False),
    values.PROTECT: (True, False),
    values.SPOILER: (True, False),
    values.LINK_PREVIEW: tuple(values.LINK_PREVIEWS),
    values.PIN: tuple(values.PINS),
    values.ALBUM_BUTTONS: ("message", "drop"),
    values.DELETE_AFTER: ("off", *values.DURATIONS),
}


@dataclass(frozen=True, kw_only=True)
class DraftOptions:
    post: Post
    #: Every option as it will be sent: the post's choices over the account's defaults.
    values: dict[str, Any]
    #: The chosen Telegram channel accounts (the options apply to these only).
    channels: list[Account]
    buttons: ButtonRows


def channels_of(chosen: list[Account]) -> list[Account]:
    return [a for a in chosen if a.platform == PLATFORM]


async def read(services: Services, user_id: int) -> DraftOptions:
    async def work(session: AsyncSession) -> DraftOptions:
        return await _read(session, user_id)

    return await services.db.run(work)


async def _read(session: AsyncSession, user_id: int) -> DraftOptions:
    post = await _draft(session, user_id)
    chosen = await accounts.get_many(session, user_id, list(post.draft_account_ids))
    return of(post, chosen)


def of(post: Post, chosen: list[Account]) -> DraftOptions:
    """The draft's buttons and options as its chosen accounts will get them."""
    channels = channels_of(chosen)
    config = channels[0].config if channels else None
    return DraftOptions(
        post=post,
        values=values.effective(post.options, config),
        channels=channels,
        buttons=values.buttons_of(post.buttons),
    )


async def _draft(session: AsyncSession, user_id: int) -> Post:
    post = await posts.current_draft(session, user_id)
    if post is None:
        raise ComposeError("That draft is gone. Send /new to start a post.")
    return post


async def set_buttons(services: Services, user_id: int, text: str) -> ParsedButtons:
    """Parse the typed buttons and store them when every line is good; with errors nothing
    is stored and they come back, each naming its line."""
    parsed = parse_buttons(text)
    if not parsed.ok:
        return parsed
    if not parsed.rows:
        raise ComposeError("Send one line per row of buttons, like: Our site - https://example.com")

    async def work(session: AsyncSession) -> None:
        post = await _draft(session, user_id)
        post.buttons = values.buttons_json(parsed.rows)

    await services.db.run(work)
    return parsed


async def clear_buttons(services: Services, user_id: int) -> None:
    async def work(session: AsyncSession) -> None:
        post = await _draft(session, user_id)
        post.buttons = None

    await services.db.run(work)


async def set_option(services: Services, user_id: int, key: str, value: Any) -> DraftOptions:
    """Choose `value` for option `key` on this draft (only the keys and values offered)."""
    if key not in ALLOWED or value not in ALLOWED[key]:
        raise ComposeError("That option isn't offered.")
    changes: dict[str, Any] = {key: value}
    if key == values.DELETE_AFTER:
        changes[values.DELETE_AT] = None  # a duration replaces a fixed time
    return await _change(services, user_id, changes)


async def set_delete_at(services: Services, user_id: int, when: datetime) -> DraftOptions:
    """Delete the post at a fixed time instead of after a duration."""
    return await _change(
        services, user_id, {values.DELETE_AT: when.isoformat(), values.DELETE_AFTER: "off"}
    )


async def _change(services: Services, user_id: int, changes: dict[str, Any]) -> DraftOptions:
    async def work(session: AsyncSession) -> DraftOptions:
        post = await _draft(session, user_id)
        merged = {**(post.options or {}), **changes}
        # A new dict: SQLAlchemy sees a JSON column change only when it is reassigned.
        post.options = {k: v for k, v in merged.items() if v is not None}
        return await _read(session, user_id)

    return await services.db.run(work)


def duration_words(value: object) -> str:
    """ "24 hours", "7 days" for a stored delete-after."""
    after = values.duration(value)
    if after is None:
        return "never"
    hours = int(after.total_seconds() // 3600)
    if hours % 24 == 0 and hours >= 72:
        return f"{hours // 24} days"
    return f"{hours} hour" + ("s" if hours != 1 else "")


def summary(chosen: dict[str, Any], has_media: bool, has_text_only: bool) -> list[str]:
    """The options that change something, in words (plain text, not escaped)."""
    parts = []
    if chosen.get(values.SILENT):
        parts.append("silent")
    if chosen.get(values.PROTECT):
        parts.append("protected")
    if chosen.get(values.SPOILER) and has_media:
        parts.append("spoiler")
    preview = chosen.get(values.LINK_PREVIEW, "auto")
    if preview != "auto" and has_text_only:
        parts.append(f"link preview {values.LINK_PREVIEWS.get(preview, preview).lower()}")
    pin = chosen.get(values.PIN, "off")
    if pin == "silent":
        parts.append("pinned silently")
    elif pin == "notify":
        parts.append("pinned with a notification")
    at = values.fixed_time(chosen.get(values.DELETE_AT))
    if at is not None:
        parts.append("deleted at a set time")
    elif values.duration(chosen.get(values.DELETE_AFTER)) is not None:
        parts.append(f"deleted after {duration_words(chosen.get(values.DELETE_AFTER))}")
    return parts


#: What the live check of the bot's rights may say about these options.
_RIGHTS = frozenset({"pin_not_allowed", "delete_not_allowed", "cannot_post"})


async def rights_problems(services: Services, shown: DraftOptions) -> list[str]:
    """Whether the bot may pin and delete in each chosen channel, asked of Telegram now
    (getChatMember): the messages of what it may not do."""
    found = await asyncio.gather(
        *(
            content.check_live(shown.post, account, services.registry, services.secrets)
            for account in shown.channels
        )
    )
    return [p.message for problems in found for p in problems if p.code in _RIGHTS]


# -- the same, on a scheduled post being edited (bot/compose/editing.py's EditDraft) ------


async def read_edit(services: Services, user_id: int, draft: EditDraft) -> DraftOptions:
    """The edited post's buttons and options as its accounts will get them."""

    async def work(session: AsyncSession) -> DraftOptions:
        post = await posts.get(session, user_id, draft.post_id)
        if post is None:
            raise ComposeError(editing.NOT_FOUND.format(id=draft.post_id))
        staged = await editing.staged_post(session, user_id, post, draft)
        chosen = await accounts.get_many(session, user_id, list(draft.account_ids))
        return of(staged, chosen)

    return await services.db.run(work)


def edit_buttons(draft: EditDraft, text: str) -> ParsedButtons:
    """Stage the typed buttons when every line is good (else nothing changes)."""
    parsed = parse_buttons(text)
    if parsed.ok and not parsed.rows:
        raise ComposeError("Send one line per row of buttons, like: Our site - https://example.com")
    if parsed.ok:
        draft.buttons = values.buttons_json(parsed.rows)
    return parsed


def edit_clear_buttons(draft: EditDraft) -> None:
    draft.buttons = None


def edit_option(draft: EditDraft, key: str, value: Any) -> None:
    if key not in ALLOWED or value not in ALLOWED[key]:
        raise ComposeError("That option isn't offered.")
    changes: dict[str, Any] = {key: value}
    if key == values.DELETE_AFTER:
        changes[values.DELETE_AT] = None
    _stage(draft, changes)


def edit_delete_at(draft: EditDraft, when: datetime) -> None:
    _stage(draft, {values.DELETE_AT: when.isoformat(), values.DELETE_AFTER: "off"})


def _stage(draft: EditDraft, changes: dict[str, Any]) -> None:
    merged = {**draft.options, **changes}
    draft.options = {k: v for k, v in merged.items() if v is not None}
