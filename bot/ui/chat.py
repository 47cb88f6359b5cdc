"""Small helpers every handler module shares."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest

log = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

#: (label, callback data) rows.
Rows = Sequence[Sequence[tuple[str, str]]]


#: (label, URL) rows: link buttons, as a post's URL buttons look in the channel.
LinkRows = Sequence[Sequence[tuple[str, str]]]


def keyboard(rows: Rows, links: LinkRows = ()) -> InlineKeyboardMarkup | None:
    """Callback buttons, under any `links` (URL buttons shown as the post will have them)."""
    rows = [row for row in rows if row]
    if not rows and not links:
        return None
    return InlineKeyboardMarkup(
        [
            *([InlineKeyboardButton(text, url=url) for text, url in row] for row in links),
            *(
                [InlineKeyboardButton(text, callback_data=data) for text, data in row]
                for row in rows
            ),
        ]
    )


def user_id(update: Update) -> int:
    assert update.effective_user is not None
    return update.effective_user.id


def message_of(update: Update) -> Message:
    assert update.effective_message is not None
    return update.effective_message


async def reply(update: Update, text: str, rows: Rows = (), links: LinkRows = ()) -> Message:
    """Send a new message in the chat the update came from."""
    assert update.effective_chat is not None
    return await update.effective_chat.send_message(
        text,
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard(rows, links),
        link_preview_options=NO_PREVIEW,
    )


async def edit(query: CallbackQuery, text: str, rows: Rows = (), links: LinkRows = ()) -> None:
    """Replace the message the button belongs to, in place."""
    try:
        await query.edit_message_text(
            text,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard(rows, links),
            link_preview_options=NO_PREVIEW,
        )
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


async def drop_buttons(query: CallbackQuery) -> None:
    with contextlib.suppress(BadRequest):
        await query.edit_message_reply_markup(reply_markup=None)


#: The largest id a row can have: ids are `Integer` columns (PostgreSQL int4).
MAX_ID = 2**31 - 1
#: The largest Telegram user id the `users` table holds (a `BigInteger` column).
MAX_USER_ID = 2**63 - 1
#: What an id looks like in a callback pattern: anything up to the next colon, so that a
#: forged or out-of-range id still reaches its handler and is answered like an unknown one.
ID = r"[^:]+"
#: How much of a bad id a message repeats back.
_SHOWN_CHARS = 20


def parse_id(raw: str, *, smallest: int = 1, largest: int = MAX_ID) -> int | None:
    """The id in "12" or "#12", or None when no row can have it.

    Only ASCII digits count: `str.isdigit` also takes "²" (which `int` then refuses) and
    "١٢" (which `int` reads as 12). "1e9", "-1", "0" and 20 digits are not ids either.
    `smallest` is 0 for numbers that start at 0 (a series' occurrences).
    """
    digits = raw.strip().removeprefix("#")
    if not digits or len(digits) > 20 or not (digits.isascii() and digits.isdigit()):
        return None
    value = int(digits)
    return value if smallest <= value <= largest else None


def shown_id(raw: str) -> str:
    """`raw` as the "#…" of a message: without its '#', clipped, and without the characters
    HTML gives a meaning to, so it reads the same in HTML replies and plain-text answers."""
    text = "".join(c for c in raw.strip().removeprefix("#") if c.isprintable() and c not in "<>&")
    if len(text) > _SHOWN_CHARS:
        text = text[: _SHOWN_CHARS - 1] + "…"
    return text


@dataclass(frozen=True)
class IdArgument:
    """The id a command or a button names."""

    #: The id, or None when no row can have it (answered exactly like an unknown id).
    value: int | None
    #: How messages show it, "#{shown}" (safe in HTML and in plain text).
    shown: str


def _id_argument(raw: str) -> IdArgument:
    value = parse_id(raw)
    return IdArgument(value, str(value) if value is not None else shown_id(raw))


def command_id(args: Sequence[str] | None) -> IdArgument | None:
    """The id in a command's first argument (`/cancel 12`, `/edit #12`); None when the
    argument is missing or has no digit at all (`/cancel abc`), so the command asks for one.
    Anything else that isn't an id ("-1", "1e9", "²", 64 digits) gets a `value` of None."""
    if not args or not any(char.isnumeric() for char in args[0]):
        return None
    return _id_argument(args[0])


def callback_id(query: CallbackQuery, index: int = -1) -> IdArgument:
    """The id in part `index` of `prefix:...:<id>` callback data."""
    parts = (query.data or "").split(":")
    try:
        return _id_argument(parts[index])
    except IndexError:
        return IdArgument(None, "")


def callback_int(query: CallbackQuery, index: int = -1, *, smallest: int = 1) -> int | None:
    """The id in part `index` of `prefix:...:<id>` callback data, or None if no row can
    have it (see `parse_id`)."""
    parts = (query.data or "").split(":")
    try:
        return parse_id(parts[index], smallest=smallest)
    except IndexError:
        return None
