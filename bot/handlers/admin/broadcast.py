"""/broadcast: the admin sends the message, sees it as users will, picks who gets it and
confirms; /broadcast_cancel (or ⏹ Stop) stops it.

While an admin's draft waits for its message, their next text, photo, video, GIF or album
is the broadcast's message, not a new post: `capture` runs before the compose flow and
stops the update there. The draft is a row from /broadcast on, so buttons keep working
after a restart.
"""

from __future__ import annotations

import contextlib
import re
from html import escape

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.admin import access
from bot.admin.broadcast import BroadcastRunner
from bot.admin.broadcast_message import (
    SEGMENTS,
    ContentError,
    content_of,
    problem,
    send_content,
    stop_button,
    summary_text,
)
from bot.handlers.admin.guard import admin_only
from bot.services import CustomContext, Services
from bot.ui.chat import (
    ID,
    callback_id,
    callback_int,
    command_id,
    edit,
    keyboard,
    parse_id,
    reply,
    user_id,
)
from storage import broadcasts as repo
from storage.models import Broadcast, User

#: Between the gate (-10) and the features (0): sees an admin's message before compose does.
CAPTURE_GROUP = -5
#: How long to wait for the rest of an album.
ALBUM_SETTLE_SECONDS = 1.0

WHAT_TO_SEND = (
    "📣 <b>New broadcast.</b> Send me the message: text, a photo, a video, a GIF or an "
    "album, formatted as you like.\n\nTo add link buttons, end the text with lines like\n"
    "<code>Read more - https://example.com</code>\n(put two on one line with “ | ”).\n\n"
    "You'll see a preview and choose who gets it before anything is sent."
)
DROPPED = "✖ Broadcast draft dropped. Nothing was sent."
GONE = "This broadcast draft is gone. Send /broadcast to start a new one."
NO_BROADCAST = "There is no running broadcast #{id}."
_KEY = "broadcast_drafts"


def _drafts(services: Services) -> dict[int, int]:
    """Admin id -> their draft waiting for its message (this process's copy of the rows)."""
    found = services.scratch.get(_KEY)
    if not isinstance(found, dict):
        found = services.scratch[_KEY] = {}
    return found


async def load_drafts(services: Services) -> None:
    _drafts(services).update(await services.db.run(repo.awaiting_drafts))


# -- the flow ---------------------------------------------------------------------------------


@admin_only("broadcast")
async def broadcast_command(update: Update, context: CustomContext, admin: User) -> None:
    """Start a draft and ask for its message."""
    services = context.services
    draft = await services.db.run(
        lambda s: repo.new_draft(s, admin.id, services.settings.broadcast_rate)
    )
    _drafts(services)[admin.id] = draft.id
    await access.audit(services, admin.id, "broadcast.draft", f"broadcast:{draft.id}")
    await reply(update, WHAT_TO_SEND, [[("✖ Cancel", f"bc:drop:{draft.id}")]])


async def capture(update: Update, context: CustomContext) -> None:
    """An admin's message while their draft waits for one: it becomes the broadcast."""
    services = context.services
    uid = user_id(update)
    draft_id = _drafts(services).get(uid)
    if draft_id is None:
        return  # not waiting: the update goes on to the other handlers
    if await access.current_admin(services, uid) is None:
        _drafts(services).pop(uid, None)
        return
    message = update.effective_message
    assert message is not None
    try:
        incoming = content_of(message)
    except ContentError as exc:
        await reply(update, f"⚠️ {escape(str(exc))}")
        raise ApplicationHandlerStop from None
    draft = await services.db.run(lambda s: repo.draft(s, uid, draft_id))
    if draft is None:
        _drafts(services).pop(uid, None)
        return
    content = incoming
    previous = draft.content or {}
    if incoming["group"] and previous.get("group") == incoming["group"]:
        content = {**previous, "media": [*previous.get("media", []), *incoming["media"]][:10]}
        if not previous.get("text") and incoming["text"]:
            content.update(text=incoming["text"], entities=incoming["entities"])
            content["buttons"] = incoming["buttons"]
    await services.db.run(lambda s: repo.set_content(s, uid, draft_id, content))
    if incoming["group"] and context.job_queue is not None:
        name = f"broadcast-album:{uid}"
        for job in context.job_queue.get_jobs_by_name(name):
            job.schedule_removal()
        context.job_queue.run_once(
            _album_settled,  # type: ignore[arg-type]
            ALBUM_SETTLE_SECONDS,
            chat_id=message.chat_id,
            user_id=uid,
            data=draft_id,
            name=name,
            job_kwargs={"misfire_grace_time": None},
        )
    else:
        await _content_done(context, message.chat_id, uid, draft_id)
    raise ApplicationHandlerStop


async def _album_settled(context: CustomContext) -> None:
    job = context.job
    assert job is not None
    assert job.chat_id is not None
    assert job.user_id is not None
    assert isinstance(job.data, int)
    await _content_done(context, job.chat_id, job.user_id, job.data)


async def _content_done(context: CustomContext, chat_id: int, uid: int, draft_id: int) -> None:
    """Check the message; if Telegram will take it, show the preview and the choices."""
    services = context.services
    draft = await services.db.run(lambda s: repo.draft(s, uid, draft_id))
    if draft is None:
        _drafts(services).pop(uid, None)
        return
    trouble = problem(draft.content)
    if trouble is not None:
        await context.bot.send_message(
            chat_id, f"⚠️ {escape(trouble)} Send it again.", parse_mode="HTML"
        )
        return
    content = {k: v for k, v in draft.content.items() if k != "awaiting"}
    try:
        await send_content(context.bot, chat_id, content)
    except TelegramError as exc:  # e.g. a button URL Telegram doesn't accept
        await context.bot.send_message(
            chat_id,
            f"⚠️ Telegram refused this message: {escape(str(exc))}. Send another.",
            parse_mode="HTML",
        )
        return
    # Previewed: from now on the admin's messages are theirs again.
    await services.db.run(lambda s: repo.set_content(s, uid, draft_id, content))
    _drafts(services).pop(uid, None)
    text, rows = await _choices(services, draft)
    await context.bot.send_message(chat_id, text, parse_mode="HTML", reply_markup=keyboard(rows))


async def _choices(services: Services, draft: Broadcast) -> tuple[str, list[list[tuple[str, str]]]]:
    now = services.now()
    count = await services.db.run(lambda s: repo.count_recipients(s, draft.segment, now))
    rows: list[list[tuple[str, str]]] = []
    for key, (label, segment) in SEGMENTS.items():
        mark = "✅ " if segment == draft.segment else ""
        rows.append([(f"{mark}{label}", f"bc:seg:{draft.id}:{key}")])
    chosen = next((label for label, seg in SEGMENTS.values() if seg == draft.segment), "")
    people = "person" if count == 1 else "people"
    rows.append(
        [
            (f"✅ Send to {count:,} {people}", f"bc:go:{draft.id}"),
            ("✖ Cancel", f"bc:drop:{draft.id}"),
        ]
    )
    text = (
        f"📣 <b>Broadcast #{draft.id}</b>: the preview is above.\n"
        f"Recipients: <b>{count:,}</b> ({escape(chosen)}). Pick who gets it, then send."
    )
    return text, rows


@admin_only("broadcast.segment")
async def segment_button(update: Update, context: CustomContext, admin: User) -> None:
    query = update.callback_query
    assert query is not None
    _, _, raw_id, key = (query.data or "").split(":")
    services = context.services
    draft = await services.db.run(
        lambda s: repo.set_segment(s, admin.id, parse_id(raw_id) or 0, SEGMENTS[key][1])
    )
    if draft is None or (draft.content or {}).get("awaiting"):
        await query.answer(GONE, show_alert=True)
        return
    await query.answer()
    text, rows = await _choices(services, draft)
    await edit(query, text, rows)


@admin_only("broadcast.confirm")
async def confirm_button(update: Update, context: CustomContext, admin: User) -> None:
    """Create every delivery and hand the broadcast to the runner."""
    query = update.callback_query
    assert query is not None
    assert query.message is not None
    broadcast_id = callback_int(query)
    services = context.services
    draft = await services.db.run(lambda s: repo.draft(s, admin.id, broadcast_id or 0))
    if draft is None or broadcast_id is None or (draft.content or {}).get("awaiting"):
        await query.answer(GONE, show_alert=True)
        return
    now = services.now()
    if not await services.db.run(lambda s: repo.count_recipients(s, draft.segment, now)):
        await query.answer("Nobody is in this group. Pick another one.", show_alert=True)
        return
    chat_id, message_id = query.message.chat.id, query.message.message_id
    started = await services.db.run(
        lambda s: repo.confirm(
            s,
            admin_id=admin.id,
            broadcast_id=broadcast_id,
            now=now,
            progress_chat_id=chat_id,
            progress_message_id=message_id,
        )
    )
    if started is None:
        await query.answer(GONE, show_alert=True)
        return
    await query.answer("Sending")
    await access.audit(
        services,
        admin.id,
        "broadcast.start",
        f"broadcast:{started.id}",
        {"recipients": started.total, "segment": started.segment},
    )
    sending = runner(services)
    ahead = sending.current if sending else None
    wait = f" It starts when broadcast #{ahead} is done." if ahead else ""
    await query.edit_message_text(
        f"📣 <b>Broadcast #{started.id}</b>: sending to {started.total:,} people.{wait}",
        parse_mode="HTML",
        reply_markup=stop_button(started.id),
    )
    if sending is not None:
        sending.wake()


@admin_only("broadcast.drop")
async def drop_button(update: Update, context: CustomContext, admin: User) -> None:
    query = update.callback_query
    assert query is not None
    if not await _drop_draft(context.services, admin, callback_int(query) or 0):
        await query.answer(GONE, show_alert=True)
        return
    await query.answer()
    await edit(query, DROPPED)


async def _drop_draft(services: Services, admin: User, broadcast_id: int) -> bool:
    """Drop the admin's own draft; False if they have no such draft."""
    if _drafts(services).get(admin.id) == broadcast_id:
        _drafts(services).pop(admin.id)
    dropped = await services.db.run(lambda s: repo.drop_draft(s, admin.id, broadcast_id))
    if dropped:
        await access.audit(services, admin.id, "broadcast.drop", f"broadcast:{broadcast_id}")
    return dropped


async def abort(update: Update, context: CustomContext) -> None:
    """/abort while a draft waits for its message drops the draft (else /abort goes on to
    the other handlers)."""
    services = context.services
    uid = user_id(update)
    waiting = _drafts(services).get(uid)
    if waiting is None:
        return
    admin = await access.current_admin(services, uid)
    if admin is not None and await _drop_draft(services, admin, waiting):
        await reply(update, DROPPED)
        raise ApplicationHandlerStop
    _drafts(services).pop(uid, None)


async def _stop(update: Update, context: CustomContext, admin: User, broadcast_id: int) -> str:
    """Cancel a running (or queued) broadcast; returns what to tell the admin."""
    services = context.services
    found = await services.db.run(lambda s: repo.cancel(s, broadcast_id))
    if found is None:
        return NO_BROADCAST.format(id=broadcast_id)
    await access.audit(services, admin.id, "broadcast.cancel", f"broadcast:{broadcast_id}")
    sending = runner(services)
    if sending is not None and sending.cancel(broadcast_id):
        return f"⏹ Stopping broadcast #{broadcast_id}; the summary follows."
    # Not being sent right now (queued behind another one): it ends here.
    final = await services.db.run(lambda s: repo.finish(s, broadcast_id, services.now()))
    if final is None:
        return f"⏹ Broadcast #{broadcast_id} is cancelled."
    text = summary_text(final)
    if final.progress_chat_id is not None and final.progress_message_id is not None:
        with contextlib.suppress(TelegramError):
            await context.bot.edit_message_text(
                text, final.progress_chat_id, final.progress_message_id, parse_mode="HTML"
            )
    return text


@admin_only("broadcast.cancel")
async def stop_button_pressed(update: Update, context: CustomContext, admin: User) -> None:
    query = update.callback_query
    assert query is not None
    named = callback_id(query)
    if named.value is None:
        text = NO_BROADCAST.format(id=named.shown)
    else:
        text = await _stop(update, context, admin, named.value)
    await query.answer(re.sub(r"<[^>]+>", "", text)[:190], show_alert=text.startswith("There"))


@admin_only("broadcast.cancel")
async def cancel_command(update: Update, context: CustomContext, admin: User) -> None:
    """`/broadcast_cancel [id]`: stop the given broadcast, or the one being sent."""
    args = context.args or []
    named = command_id(args)
    broadcast_id: int | None = None
    if named is not None:
        if named.value is None:
            await reply(update, NO_BROADCAST.format(id=named.shown))
            return
        broadcast_id = named.value
    elif args:
        await reply(update, "Tell me which broadcast: <code>/broadcast_cancel 3</code>.")
        return
    else:
        running = await context.services.db.run(repo.running)
        if not running:
            waiting = _drafts(context.services).get(admin.id)
            if waiting is not None and await _drop_draft(context.services, admin, waiting):
                await reply(update, DROPPED)
            else:
                await reply(update, "No broadcast is running.")
            return
        broadcast_id = running[0].id
    await reply(update, await _stop(update, context, admin, broadcast_id))


def install(app: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    content = (
        (filters.TEXT | filters.PHOTO | filters.VIDEO | filters.ANIMATION | filters.Document.ALL)
        & ~filters.COMMAND
        & private
    )
    app.add_handler(MessageHandler(content, capture), group=CAPTURE_GROUP)
    app.add_handler(CommandHandler("abort", abort, filters=private), group=CAPTURE_GROUP)
    app.add_handler(CommandHandler("broadcast", broadcast_command, filters=private))
    app.add_handler(CommandHandler("broadcast_cancel", cancel_command, filters=private))
    app.add_handler(
        CallbackQueryHandler(segment_button, pattern=rf"^bc:seg:{ID}:(all|platform|7d|30d)$")
    )
    app.add_handler(CallbackQueryHandler(confirm_button, pattern=rf"^bc:go:{ID}$"))
    app.add_handler(CallbackQueryHandler(drop_button, pattern=rf"^bc:drop:{ID}$"))
    app.add_handler(CallbackQueryHandler(stop_button_pressed, pattern=rf"^bc:stop:{ID}$"))


# -- this process's runner ------------------------------------------------------------------

_RUNNER_KEY = "broadcast_runner"


def runner(services: Services) -> BroadcastRunner | None:
    found = services.scratch.get(_RUNNER_KEY)
    return found if isinstance(found, BroadcastRunner) else None


async def start_runner(services: Services) -> BroadcastRunner:
    """Start the runner of this process; it resumes any broadcast left running."""
    found = runner(services)
    if found is None:
        found = BroadcastRunner(
            services.db, services.settings, clock=services.clock, pace=services.pace
        )
        services.scratch[_RUNNER_KEY] = found
        await found.start()
    return found


async def stop_runner(services: Services) -> None:
    found = services.scratch.pop(_RUNNER_KEY, None)
    if isinstance(found, BroadcastRunner):
        await found.stop()
