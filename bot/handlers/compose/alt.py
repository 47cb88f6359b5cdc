"""The alt-text walk: one photo at a time, from the draft status or the preview."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    ConversationHandler,
)

from bot.compose import posting
from bot.compose.posting import ComposeError
from bot.handlers.compose import content, preview, status
from bot.handlers.compose.common import (
    ALT_TEXT,
    COMPOSING,
)
from bot.services import CustomContext
from bot.ui import render
from bot.ui.chat import drop_buttons, reply, user_id
from storage.models import Media


@dataclass
class _AltWalk:
    """Where a user is in the alt-text walk (UI state: a restart starts it afresh)."""

    #: Where to go back to: "s" the draft status, "p" the preview.
    origin: str
    #: The photo being asked about, 0-based among the draft's photos.
    index: int = 0
    #: The question on screen, whose buttons go once it is answered.
    prompt_id: int | None = None


def _walk(context: CustomContext, uid: int) -> _AltWalk:
    walk = context.services.scratch.get(f"alt-text:{uid}")
    if not isinstance(walk, _AltWalk):
        walk = _AltWalk(origin="s")
        context.services.scratch[f"alt-text:{uid}"] = walk
    return walk


async def alt_start(update: Update, context: CustomContext) -> int:
    """Walk the draft's photos one by one, asking for each one's alt text."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await drop_buttons(query)
    origin = (query.data or "").rsplit(":", 1)[-1]
    if query.message is not None:
        status.forget(context.services, query.message.chat.id)
    context.services.scratch[f"alt-text:{user_id(update)}"] = _AltWalk(origin=origin)
    return await _ask_alt(update, context)


async def _ask_alt(update: Update, context: CustomContext) -> int:
    uid = user_id(update)
    walk = _walk(context, uid)
    try:
        photos = await posting.draft_photos(context.services, uid)
    except ComposeError as exc:
        await reply(update, f"⚠️ {escape(str(exc))}")
        return ConversationHandler.END
    if walk.index >= len(photos):
        return await _alt_finished(update, context, photos)
    photo = photos[walk.index]
    text = (
        f"🖼 <b>Photo {walk.index + 1} of {len(photos)}</b>: describe it for people who can't "
        f"see it (up to {posting.MAX_ALT_TEXT:,} characters), or tap <b>Skip</b>."
    )
    if photo.alt_text:
        text += f"\nNow: <i>{escape(render.snippet(photo.alt_text, 200))}</i>"
    sent = await reply(update, text, [[("⏭ Skip", "c:alt:skip"), ("✅ Finish", "c:alt:done")]])
    walk.prompt_id = sent.message_id
    return ALT_TEXT


async def alt_typed(update: Update, context: CustomContext) -> int:
    """Store the typed text as the current photo's alt text, then ask about the next one."""
    services = context.services
    uid = user_id(update)
    walk = _walk(context, uid)
    try:
        photos = await posting.draft_photos(services, uid)
    except ComposeError as exc:
        await reply(update, f"⚠️ {escape(str(exc))}")
        return ConversationHandler.END
    if walk.index < len(photos):
        text = update.effective_message.text or ""  # type: ignore[union-attr]
        try:
            await posting.set_alt_text(services, uid, photos[walk.index].id, text)
        except ComposeError as exc:  # too long, or empty: ask again for the same photo
            await reply(update, f"⚠️ {escape(str(exc))}")
            return ALT_TEXT
    if walk.prompt_id is not None and update.effective_chat is not None:
        # Only cosmetic: the answered question loses its Skip button.
        with contextlib.suppress(TelegramError):
            await context.bot.edit_message_reply_markup(
                update.effective_chat.id, walk.prompt_id, reply_markup=None
            )
    walk.index += 1
    return await _ask_alt(update, context)


async def alt_skip(update: Update, context: CustomContext) -> int:
    """Leave this photo's alt text as it is and go to the next photo."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await drop_buttons(query)
    _walk(context, user_id(update)).index += 1
    return await _ask_alt(update, context)


async def alt_finish(update: Update, context: CustomContext) -> int:
    """Stop asking; go back to where the walk started."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await drop_buttons(query)
    try:
        photos = await posting.draft_photos(context.services, user_id(update))
    except ComposeError as exc:
        await reply(update, f"⚠️ {escape(str(exc))}")
        return ConversationHandler.END
    return await _alt_finished(update, context, photos)


async def _alt_finished(update: Update, context: CustomContext, photos: Sequence[Media]) -> int:
    uid = user_id(update)
    walk = context.services.scratch.pop(f"alt-text:{uid}", None)
    described = sum(bool(photo.alt_text) for photo in photos)
    plural = "s" if len(photos) != 1 else ""
    await reply(update, f"🖼 Alt text on {described} of {len(photos)} photo{plural}.")
    if isinstance(walk, _AltWalk) and walk.origin == "p":
        return await preview.show_preview(update, context, fresh=True)
    assert update.effective_chat is not None
    await content.show_status(context, update.effective_chat.id, uid)
    return COMPOSING
