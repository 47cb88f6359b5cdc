"""Small helpers every handler module shares."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence

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


def keyboard(rows: Rows) -> InlineKeyboardMarkup | None:
    rows = [row for row in rows if row]
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


def user_id(update: Update) -> int:
    assert update.effective_user is not None
    return update.effective_user.id


def message_of(update: Update) -> Message:
    assert update.effective_message is not None
    return update.effective_message


async def reply(update: Update, text: str, rows: Rows = ()) -> Message:
    """Send a new message in the chat the update came from."""
    assert update.effective_chat is not None
    return await update.effective_chat.send_message(
        text,
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard(rows),
        link_preview_options=NO_PREVIEW,
    )


async def edit(query: CallbackQuery, text: str, rows: Rows = ()) -> None:
    """Replace the message the button belongs to, in place."""
    try:
        await query.edit_message_text(
            text,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard(rows),
            link_preview_options=NO_PREVIEW,
        )
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


async def drop_buttons(query: CallbackQuery) -> None:
    with contextlib.suppress(BadRequest):
        await query.edit_message_reply_markup(reply_markup=None)


def callback_int(query: CallbackQuery, index: int = -1) -> int | None:
    """The numeric part of `prefix:...:<n>` callback data, or None if it isn't a number."""
    try:
        return int((query.data or "").split(":")[index])
    except ValueError:
        return None
