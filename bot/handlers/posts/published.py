"""🗑 Delete and ✏️ Edit on a post that is out (the success DM, /list): ask, call the service
(bot/engine/after/manage.py), and say what happened on each account. Bluesky and other
platforms that can't edit are offered delete-and-post-again."""

from __future__ import annotations

from html import escape
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.compose import posting
from bot.engine.after.manage import AfterPublishing, Done, offers
from bot.engine.text import formatting
from bot.handlers.compose.content import incoming_media
from bot.media.receive import MediaRejected, receive
from bot.services import CustomContext, Services
from bot.ui.asking import ASK_GROUP, leave_otherwise, stop_after
from bot.ui.chat import ID, Rows, callback_id, edit, reply, user_id
from storage.models import Post

NOT_FOUND = posting.POST_NOT_FOUND
TYPING = 0
#: services.scratch key: the post whose new text each user is typing (lost on restart).
EDITING = "after_edit"


def service(services: Services) -> AfterPublishing:
    return AfterPublishing(
        db=services.db,
        registry=services.registry,
        secrets=services.secrets,
        media_dir=services.settings.media_dir,
        clock=services.now,
        names=services.platform_names,
    )


def list_buttons(services: Services, post: Post) -> list[tuple[str, str]]:
    """/list's 🗑 Delete and ✏️ Edit for a post that is out, where its platforms allow."""
    live = [t for t in post.targets if t.status.value == "published" and t.deleted_at is None]
    can_delete, can_edit = offers(services.registry, live)
    row = []
    if can_delete:
        row.append((f"🗑 Delete #{post.id}", f"a:del:{post.id}"))
    pending = any(t.status.value == "queued" for t in post.targets)
    if can_edit and not pending:  # while some copy waits, ✏️ Edit is the scheduled post's
        row.append((f"✏️ Edit #{post.id}", f"a:edit:{post.id}"))
    return row


async def _owned(update: Update, context: CustomContext) -> Post | None:
    """The user's post the button names, answering the query; says "not found" otherwise."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    named = callback_id(query)
    post = None
    if named.value is not None:
        post = await service(context.services).post(user_id(update), named.value)
    if post is None:
        await reply(update, NOT_FOUND.format(id=named.shown))
    return post


def _report(head: str, done: list[Done]) -> str:
    lines = [head, ""]
    for item in done:
        icon = "✅" if item.ok else "⚠️"
        lines.append(f"{icon} {item.name} — {escape(item.said)}")
    return "\n".join(lines)


# -- delete -------------------------------------------------------------------------------------


async def ask_delete(update: Update, context: CustomContext) -> None:
    """Ask before deleting the post everywhere it is out."""
    post = await _owned(update, context)
    if post is None:
        return
    after = service(context.services)
    live = after.live(post)
    if not live:
        await reply(update, f"Post #{post.id} isn't out anywhere: there is nothing to delete.")
        return
    where = ", ".join(after.name(t) for t in live)
    await reply(
        update,
        f"🗑 Delete post #{post.id} from {where}? This can't be undone.",
        [[("🗑 Yes, delete it", f"a:del_yes:{post.id}"), ("Keep it", f"a:keep:{post.id}")]],
    )


async def delete_yes(update: Update, context: CustomContext) -> None:
    """Delete it, and say what happened on each account."""
    query = update.callback_query
    assert query is not None
    named = callback_id(query)
    await query.answer()
    done = None
    if named.value is not None:
        done = await service(context.services).delete(user_id(update), named.value)
    if done is None:
        await edit(query, NOT_FOUND.format(id=named.shown))
        return
    if not done:
        await edit(query, f"Post #{named.value} isn't out anywhere: there is nothing to delete.")
        return
    head = f"🗑 <b>Post #{named.value}</b>"
    await edit(query, _report(head, done))


async def keep(update: Update, context: CustomContext) -> None:
    """Keep it as it is."""
    query = update.callback_query
    assert query is not None
    context.services.scratch.get(EDITING, {}).pop(user_id(update), None)
    post = await _owned(update, context)
    if post is not None:
        await edit(query, f"👍 Post #{post.id} stays as it is.")


# -- edit ---------------------------------------------------------------------------------------


async def ask_edit(update: Update, context: CustomContext) -> int:
    """Ask for the text that replaces the post's text where it is out."""
    post = await _owned(update, context)
    if post is None:
        return ConversationHandler.END
    after = service(context.services)
    live = after.live(post)
    if not live:
        await reply(update, f"Post #{post.id} isn't out anywhere: there is nothing to edit.")
        return ConversationHandler.END
    context.services.scratch.setdefault(EDITING, {})[user_id(update)] = post.id
    where = ", ".join(after.name(t) for t in live)
    await reply(
        update,
        f"✏️ Send the new text for post #{post.id}. It replaces the text on {where}, where the "
        "platform allows it; it is checked as when you composed it. Or send one photo or "
        "video (its caption as the new text) to replace the media too.",
        [[("✖ Keep it as it is", f"a:keep:{post.id}")]],
    )
    return TYPING


async def new_text(update: Update, context: CustomContext) -> int:
    """Edit the post with the typed text, and say what happened on each account."""
    services = context.services
    uid = user_id(update)
    post_id = services.scratch.get(EDITING, {}).pop(uid, None)
    message = update.effective_message
    if post_id is None or message is None:
        return ConversationHandler.END
    text = message.text or ""
    problem = posting.text_problem(text, services.settings)
    if problem:
        services.scratch[EDITING][uid] = post_id
        await reply(update, f"⚠️ {escape(problem)}")
        return TYPING
    entities = formatting.entities_of(message)
    done = await service(services).edit(uid, post_id, text, entities)
    return await _answer(update, post_id, done)


async def new_media(update: Update, context: CustomContext) -> int:
    """Replace the post's photo or video (and its text with the caption, if any)."""
    services = context.services
    uid = user_id(update)
    message = update.effective_message
    post_id = services.scratch.get(EDITING, {}).get(uid)
    incoming = incoming_media(message) if message is not None else None
    if post_id is None or message is None or incoming is None:
        return ConversationHandler.END
    if message.media_group_id:
        await reply(update, "⚠️ Send one photo or video: an album can't replace the media here.")
        return TYPING
    settings = services.settings
    max_bytes = None if settings.telegram_local_mode else settings.max_download_bytes
    try:
        await posting.check_quota(services, uid, incoming)  # as when composing
        received = await receive(context.bot, incoming, settings.media_dir, max_bytes=max_bytes)
    except (MediaRejected, posting.ComposeError) as exc:
        await reply(update, f"⚠️ {escape(str(exc))}")
        return TYPING
    services.scratch[EDITING].pop(uid, None)
    try:
        caption = message.caption or None
        entities = formatting.entities_of(message) if caption else []
        done = await service(services).edit(uid, post_id, caption, entities, media=received)
    finally:
        received.discard()
    return await _answer(update, post_id, done)


async def _answer(update: Update, post_id: int, done: list[Done] | None) -> int:
    """What the edit did on each account, with delete-and-post-again where it couldn't."""
    if done is None:
        await reply(update, NOT_FOUND.format(id=post_id))
        return ConversationHandler.END
    again = [d for d in done if d.post_again]
    rows: Rows = []
    if again:
        names = ", ".join(d.name for d in again)
        rows = [[(f"🗑 Delete and post again ({len(again)})", f"a:again:{post_id}")]]
        text_ = _report(f"✏️ <b>Post #{post_id}</b>", done)
        text_ += f"\n\nDelete it from {names} and post it there again as it is now?"
    else:
        text_ = _report(f"✏️ <b>Post #{post_id}</b>", done)
    await reply(update, text_, rows)
    return ConversationHandler.END


async def post_again(update: Update, context: CustomContext) -> None:
    """Where the platform can't edit: delete the post there and publish the new text now."""
    query = update.callback_query
    assert query is not None
    named = callback_id(query)
    await query.answer()
    services = context.services
    found = None
    if named.value is not None:
        found = await service(services).post_again(user_id(update), named.value)
    if found is None:
        await edit(query, NOT_FOUND.format(id=named.shown))
        return
    done, queued = found
    text = _report(f"🔁 <b>Post #{named.value}</b>", done)
    if queued:
        services.wake_engine(services.now())
        text += "\n\nPosting it there again now. I'll tell you how it went."
    await edit(query, text)


def build() -> ConversationHandler:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    typed, sent = stop_after(new_text), stop_after(new_media)
    asks: list[BaseHandler[Update, Any, Any]] = [
        CallbackQueryHandler(stop_after(ask_edit), pattern=rf"^a:edit:{ID}$"),
    ]
    return ConversationHandler(
        entry_points=asks,
        states={
            TYPING: [
                MessageHandler(filters.TEXT & ~filters.COMMAND & private, typed),
                MessageHandler((filters.PHOTO | filters.VIDEO) & private, sent),
            ]
        },
        fallbacks=[*asks, *leave_otherwise()],  # asking again starts over
        name="after_edit",
    )


def install(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(build(), group=ASK_GROUP)
    app.add_handler(CallbackQueryHandler(ask_delete, pattern=rf"^a:del:{ID}$"))
    app.add_handler(CallbackQueryHandler(delete_yes, pattern=rf"^a:del_yes:{ID}$"))
    app.add_handler(CallbackQueryHandler(keep, pattern=rf"^a:keep:{ID}$"))
    app.add_handler(CallbackQueryHandler(post_again, pattern=rf"^a:again:{ID}$"))
