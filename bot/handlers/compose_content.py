"""Compose step 1: collecting text and media into the draft."""

from __future__ import annotations

import contextlib
from html import escape
from typing import Any

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import ConversationHandler

from bot import formatting, posting, render
from bot.handlers import compose_targets as targets
from bot.handlers.common import Rows, keyboard, reply, user_id
from bot.handlers.compose_common import (
    ALBUM_SETTLE_SECONDS,
    ALT_BUTTON,
    CANCEL_ROW,
    COMPOSING,
    PICK_ACCOUNTS,
)
from bot.media import Incoming, MediaRejected, check_download_size, receive
from bot.posting import ComposeError
from bot.services import CustomContext


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
    if not await add_message(context, uid, message):
        return COMPOSING
    if message.media_group_id and context.job_queue is not None:
        name = f"draft-status:{message.chat_id}"
        for job in context.job_queue.get_jobs_by_name(name):
            job.schedule_removal()
        context.job_queue.run_once(  # PTB leaves the job's context type unbound here
            _album_settled,  # type: ignore[arg-type]
            ALBUM_SETTLE_SECONDS,
            chat_id=message.chat_id,
            user_id=uid,
            name=name,
            job_kwargs={"misfire_grace_time": None},
        )
    else:
        await show_status(context, message.chat_id, uid)
    return COMPOSING


async def add_message(context: CustomContext, uid: int, message: Message) -> bool:
    """Add one message's content to the current draft; say why when it can't be added."""
    services = context.services
    incoming = incoming_media(message)
    try:
        if incoming is None:
            text = message.text or ""
            await posting.add_text(services, uid, text, formatting.entities_of(message))
        else:
            await _add_file(
                context, uid, incoming, message.caption, formatting.entities_of(message)
            )
    except (MediaRejected, ComposeError) as exc:
        await context.bot.send_message(message.chat_id, f"⚠️ {escape(str(exc))}", parse_mode="HTML")
        draft = await posting.current_draft(services, uid)
        if draft is None or (not draft.text and not draft.media_links):
            await context.bot.send_message(
                message.chat_id,
                "Send me something else to post, or /abort.",
                reply_markup=keyboard([CANCEL_ROW]),
            )
        return False
    return True


async def _add_file(
    context: CustomContext,
    uid: int,
    incoming: Incoming,
    caption: str | None,
    caption_entities: list[dict[str, Any]],
) -> None:
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
        await posting.add_media(services, uid, received, caption, caption_entities)
    finally:
        received.discard()


async def _album_settled(context: CustomContext) -> None:
    job = context.job
    assert job is not None
    assert job.chat_id is not None
    assert job.user_id is not None
    await show_status(context, job.chat_id, job.user_id)


async def show_status(context: CustomContext, chat_id: int, uid: int) -> None:
    """Send the draft's status with Done/Cancel; the previous status loses its buttons."""
    services = context.services
    draft = await posting.current_draft(services, uid)
    if draft is None:
        return
    previous = services.status_messages.pop(chat_id, None)
    if previous is not None:
        # It may be gone or unchanged already; this is only cosmetic.
        with contextlib.suppress(TelegramError):
            await context.bot.edit_message_reply_markup(chat_id, previous, reply_markup=None)
    rows: Rows = [[("✅ Done", "c:done"), *CANCEL_ROW]]
    if render.photos(draft):
        rows = [*rows, [(ALT_BUTTON, "c:alt:s")]]
    sent = await context.bot.send_message(
        chat_id, render.draft_status(draft), parse_mode="HTML", reply_markup=keyboard(rows)
    )
    services.status_messages[chat_id] = sent.message_id


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
    context.services.status_messages.pop(query.message.chat.id if query.message else 0, None)
    await posting.preselect_single_account(context.services, uid)
    await targets.show_accounts(update, context)
    return PICK_ACCOUNTS
