"""Compose step 1: collecting text and media into the draft."""

from __future__ import annotations

from html import escape
from typing import Any

from telegram import Message, Update
from telegram.ext import ConversationHandler

from bot.compose import drafts, posting
from bot.compose.posting import ComposeError
from bot.engine.text import formatting
from bot.handlers.compose import status, targets
from bot.handlers.compose.common import (
    ALBUM_SETTLE_SECONDS,
    CANCEL_ROW,
    COMPOSING,
    PICK_ACCOUNTS,
)
from bot.media.receive import Incoming, MediaRejected, check_download_size, receive
from bot.services import CustomContext
from bot.ui.chat import keyboard, reply, user_id
from storage.models import Post


async def new(update: Update, context: CustomContext) -> int:
    """Start an empty draft and ask for its content (drafts in progress stay in /drafts)."""
    try:
        await posting.start_draft(context.services, user_id(update))
    except ComposeError as exc:
        await reply(update, f"⚠️ {escape(str(exc))}")
        return ConversationHandler.END
    await reply(
        update,
        "📝 <b>New post.</b> Send me its text, photos, videos, files or an album — or "
        "forward me a message, formatting and all. "
        "You can send several messages; tap <b>Done</b> when it's complete.",
        [CANCEL_ROW],
    )
    return COMPOSING


async def first_content(update: Update, context: CustomContext) -> int:
    """A message outside any conversation starts a post with it."""
    try:
        await posting.start_draft(context.services, user_id(update))
    except ComposeError as exc:
        await reply(update, f"⚠️ {escape(str(exc))}")
        return ConversationHandler.END
    return await add_content(update, context)


async def add_content(update: Update, context: CustomContext) -> int:
    """Add a message's text or media (with its formatting) to the draft."""
    message = update.effective_message
    assert message is not None
    uid = user_id(update)
    status.note_input(context.services, message.chat_id)
    if not await add_message(context, uid, message):
        return COMPOSING
    # An album's parts arrive as separate messages: show the status once the rest came.
    settle = ALBUM_SETTLE_SECONDS if message.media_group_id else 0.0
    await status.update(context, message.chat_id, uid, settle=settle)
    return COMPOSING


async def add_message(context: CustomContext, uid: int, message: Message) -> bool:
    """Add one message's content to the current draft; say why when it can't be added (a
    burst of refusals is counted on the status instead)."""
    services = context.services
    incoming = incoming_media(message)
    try:
        if incoming is None:
            text = message.text or ""
            post = await posting.add_text(services, uid, text, formatting.entities_of(message))
        else:
            post = await _add_file(
                context, uid, incoming, message.caption, formatting.entities_of(message)
            )
    except (MediaRejected, ComposeError) as exc:
        if not status.tell_refusal(services, message.chat_id, str(exc)):
            await status.update(context, message.chat_id, uid)
            return False
        await context.bot.send_message(message.chat_id, f"⚠️ {escape(str(exc))}", parse_mode="HTML")
        draft = await posting.current_draft(services, uid)
        if draft is None or (not draft.text and not draft.media_links):
            await context.bot.send_message(
                message.chat_id,
                "Send me something else to post, or /abort.",
                reply_markup=keyboard([CANCEL_ROW]),
            )
        return False
    status.note_taken(services, message.chat_id, post, message.media_group_id)
    return True


async def _add_file(
    context: CustomContext,
    uid: int,
    incoming: Incoming,
    caption: str | None,
    caption_entities: list[dict[str, Any]],
) -> Post:
    """Download, probe and store one file; nothing is kept when any step refuses it."""
    services = context.services
    settings = services.settings
    max_bytes = None if settings.telegram_local_mode else settings.max_download_bytes
    # Too big to download is said first: room in the post or the storage wouldn't help.
    check_download_size(incoming, max_bytes)
    await posting.check_draft_room(services, uid)
    await posting.check_quota(services, uid, incoming)
    received = await receive(context.bot, incoming, settings.media_dir, max_bytes=max_bytes)
    try:
        return await posting.add_media(services, uid, received, caption, caption_entities)
    finally:
        received.discard()


async def show_status(context: CustomContext, chat_id: int, uid: int) -> None:
    """Send the draft's status with Done/Cancel as a new message (the previous loses its
    buttons)."""
    await status.show(context, chat_id, uid, fresh=True)


def incoming_media(message: Message) -> Incoming | None:
    """The file a message carries, described as Telegram describes it."""
    if message.photo:
        size = message.photo[-1]  # Telegram lists sizes smallest first
        return Incoming(
            kind="photo",
            file_id=size.file_id,
            file_unique_id=size.file_unique_id,
            size=size.file_size,
            mime=None,
            width=size.width,
            height=size.height,
        )
    if message.animation:
        a = message.animation
        return Incoming(
            kind="animation",
            file_id=a.file_id,
            file_unique_id=a.file_unique_id,
            size=a.file_size,
            mime=a.mime_type,
            file_name=a.file_name,
            width=a.width,
            height=a.height,
            duration=_duration(a.to_dict()),
        )
    if message.video:
        v = message.video
        return Incoming(
            kind="video",
            file_id=v.file_id,
            file_unique_id=v.file_unique_id,
            size=v.file_size,
            mime=v.mime_type or "video/mp4",
            file_name=v.file_name,
            width=v.width,
            height=v.height,
            duration=_duration(v.to_dict()),
        )
    if message.document:
        d = message.document
        return Incoming(
            kind="document",
            file_id=d.file_id,
            file_unique_id=d.file_unique_id,
            size=d.file_size,
            mime=d.mime_type,
            file_name=d.file_name,
        )
    return None


def _duration(raw: dict[str, object]) -> float | None:
    # Read from the wire form: PTB's `duration` property warns while it migrates to timedelta.
    value = raw.get("duration")
    return float(value) if isinstance(value, int | float) else None


async def done(update: Update, context: CustomContext) -> int:
    """Move on to picking accounts once the draft has something in it."""
    query = update.callback_query
    assert query is not None
    uid = user_id(update)
    draft = await posting.current_draft(context.services, uid)
    if draft is None or (not draft.text.strip() and not draft.media_links):
        await query.answer("Send some text or media first.", show_alert=True)
        return COMPOSING
    await query.answer()
    status.forget(context.services, query.message.chat.id if query.message else 0)
    await posting.preselect_single_account(context.services, uid)
    await targets.show_accounts(update, context)
    return PICK_ACCOUNTS


async def each(update: Update, context: CustomContext) -> int:
    """✂️ One post each: every message (an album is one) becomes a draft of its own."""
    query = update.callback_query
    assert query is not None
    assert update.effective_chat is not None
    services, uid, chat_id = context.services, user_id(update), update.effective_chat.id
    draft = await posting.current_draft(services, uid)
    try:
        if draft is None:
            raise ComposeError(drafts.GONE)
        made = await drafts.split(
            services, uid, draft.id, status.parts_of(services, chat_id, draft)
        )
    except ComposeError as exc:
        await query.answer(str(exc), show_alert=True)
        return COMPOSING
    await query.answer(f"✂️ {len(made)} posts")
    status.forget(services, chat_id)
    await reply(
        update,
        f"✂️ <b>{len(made)} posts</b>, one per message. Carry on with the first one below; "
        f"the other {len(made) - 1} are in /drafts, where ▶ Resume picks each up.",
    )
    await status.show(context, chat_id, uid, fresh=True)
    return COMPOSING
