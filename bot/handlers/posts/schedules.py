"""/list, /cancel and the buttons on scheduled posts (cancel, post now, retry)."""

from __future__ import annotations

from html import escape

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.accounts import users
from bot.compose import posting, scheduled
from bot.engine import series
from bot.handlers.posts import published
from bot.schedule.parse import format_when
from bot.services import CustomContext
from bot.ui import render, undo
from bot.ui.chat import (
    ID,
    callback_id,
    callback_int,
    command_id,
    drop_buttons,
    edit,
    reply,
    user_id,
)
from storage.models import Post

NOT_FOUND = posting.POST_NOT_FOUND


async def list_command(update: Update, context: CustomContext) -> None:
    """Show the newest page of the user's posts."""
    text, rows = await _page(context, user_id(update), 0)
    await reply(update, text, rows)


async def list_page(update: Update, context: CustomContext) -> None:
    """Turn the /list page in place."""
    query = update.callback_query
    assert query is not None
    number = callback_int(query, smallest=0)
    await query.answer()
    text, rows = await _page(context, user_id(update), number or 0)
    await edit(query, text, rows)


async def _page(
    context: CustomContext, uid: int, number: int
) -> tuple[str, list[list[tuple[str, str]]]]:
    services = context.services
    found, pages = await scheduled.page(services, uid, number)
    if not found and number > 0:
        number = pages - 1
        found, pages = await scheduled.page(services, uid, number)
    if not found:
        return "You have no posts yet. Send me something to post, or /new.", []
    user = await users.get_user(services, uid)
    tz = user.timezone if user else services.settings.default_timezone
    now = services.now()
    entries = [render.post_entry(p, tz, now, services.platform_names) for p in found]
    text = f"🗂 <b>Your posts</b> ({tz}) — page {number + 1}/{pages}\n\n" + "\n\n".join(entries)
    rows: list[list[tuple[str, str]]] = []
    for post in found:
        row = []
        if scheduled.pending_targets(post):
            row += [(f"⚡ Post #{post.id} now", f"p:now:{post.id}")]
            row += [(f"✖ Cancel #{post.id}", f"p:cancel:{post.id}")]
            row += [(f"✏️ Edit #{post.id}", f"p:edit:{post.id}")]  # issue 6: compose graph
        if scheduled.retryable_targets(post):
            row += [(f"🔁 Retry #{post.id}", f"p:retry:{post.id}")]
        row += published.list_buttons(services, post)  # out: 🗑 Delete, ✏️ Edit
        row += [(f"📄 Duplicate #{post.id}", f"p:dup:{post.id}")]  # issue 6: compose graph
        rows.append(row)
    nav = []
    if number > 0:
        nav.append(("◀", f"l:{number - 1}"))
    if number + 1 < pages:
        nav.append(("▶", f"l:{number + 1}"))
    rows.append(nav)
    return text, rows


async def cancel_command(update: Update, context: CustomContext) -> None:
    """`/cancel <id>`: ask before cancelling the post's pending targets."""
    named = command_id(context.args)
    if named is None:
        await reply(
            update,
            "Tell me which post: <code>/cancel 12</code>. /list shows your posts and their "
            "numbers.",
        )
        return
    if named.value is None:
        await reply(update, NOT_FOUND.format(id=named.shown))
        return
    await _ask_cancel(update, context, named.value)


async def cancel_button(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None
    post = callback_id(query)
    await query.answer()
    if post.value is None:
        await reply(update, NOT_FOUND.format(id=post.shown))
        return
    await _ask_cancel(update, context, post.value)


async def _ask_cancel(update: Update, context: CustomContext, post_id: int) -> None:
    post = await scheduled.get_post(context.services, user_id(update), post_id)
    if post is None:
        await reply(update, NOT_FOUND.format(id=post_id))
        return
    if series.is_live(post):
        await _ask_cancel_series(update, context, post)
        return
    pending = scheduled.pending_targets(post)
    if not pending:
        await reply(
            update,
            f"Post #{post_id} has nothing left to cancel: it is already out, "
            "failed or cancelled. /list shows where each copy stands.",
        )
        return
    names = context.services.platform_names
    where = ", ".join(render.account_name(t.account, names) for t in pending)
    await reply(
        update,
        f"Cancel post #{post_id}? It won't be published to {where}.",
        [[("🗑 Yes, cancel it", f"p:cancel_yes:{post_id}"), ("Keep it", f"p:keep:{post_id}")]],
    )


async def _ask_cancel_series(update: Update, context: CustomContext, post: Post) -> None:
    """A repeating post: cancel only its next occurrence, or stop the whole series."""
    services = context.services
    user = await users.get_user(services, user_id(update))
    tz = user.timezone if user else services.settings.default_timezone
    said = f"Post #{post.id} repeats {escape(series.words(post, tz))}."
    occurrence = series.pending_occurrence(post)
    rows = []
    if occurrence is not None:
        when = next(t.publish_at for t in post.targets if t.occurrence == occurrence)
        shown = escape(format_when(when, tz, services.now(), style="abbr"))
        said += f" Cancel only the next one ({shown}), or the whole series?"
        rows.append([("🗑 Only this one", f"p:cancel_one:{post.id}:{occurrence}")])
    else:
        said += " Its current post is going out now; stop the series after it?"
    rows.append([("🛑 The whole series", f"p:cancel_yes:{post.id}")])
    rows.append([("Keep it", f"p:keep:{post.id}")])
    await reply(update, said, rows)


async def cancel_one(update: Update, context: CustomContext) -> None:
    """Cancel one occurrence of a series; the series goes on."""
    query = update.callback_query
    assert query is not None
    post, occurrence = callback_id(query, -2), callback_int(query, smallest=0)
    await query.answer()
    if post.value is None or occurrence is None:
        await edit(query, NOT_FOUND.format(id=post.shown))
        return
    post_id = post.value
    services = context.services
    done = await scheduled.cancel_one(services, user_id(update), post_id, occurrence)
    if done is None:
        await edit(query, NOT_FOUND.format(id=post_id))
        return
    if done.count == 0 or done.when is None:
        await edit(query, f"That post of #{post_id} isn't waiting any more: nothing changed.")
        return
    now = services.now()
    when = format_when(done.when, done.tz, now, style="abbr", with_distance=False)
    text = f"🗑 Cancelled the {escape(when)} post of #{post_id}. "
    following = done.following
    if following is None:
        text += "The series goes on after it."
    elif following.at is None:
        text += "That was the last one: the series is over."
    else:
        next_shown = format_when(following.at, following.tz, now, style="abbr")
        text += f"The series goes on: next {escape(next_shown)}."
    await edit(query, text)


async def cancel_yes(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None
    post = callback_id(query)
    await query.answer()
    if post.value is None:
        await edit(query, NOT_FOUND.format(id=post.shown))
        return
    post_id = post.value
    done = await scheduled.cancel_all(context.services, user_id(update), post_id)
    count = None if done is None else done[0]
    if count is None:
        await edit(query, NOT_FOUND.format(id=post_id))
    elif done is not None and done[1]:
        copies = "" if not count else f" ({count} {'copy' if count == 1 else 'copies'} cancelled)"
        await edit(query, f"🛑 Stopped the series #{post_id}{copies}. Nothing more will go out.")
    elif count == 0:
        await edit(query, f"Post #{post_id} had nothing left to cancel.")
    else:
        copies = "copy" if count == 1 else "copies"
        await edit(query, f"🗑 Cancelled post #{post_id} ({count} {copies}). Nothing was published.")


async def keep(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    post = callback_id(query)
    found = None
    if post.value is not None:
        found = await scheduled.get_post(context.services, user_id(update), post.value)
    if found is None:
        await edit(query, NOT_FOUND.format(id=post.shown))
        return
    await edit(query, f"👍 Kept post #{found.id} as scheduled.")


async def post_now_button(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None
    post = callback_id(query)
    post_id = post.value
    count = None
    hold = 0
    if post_id is not None:
        hold = await _undo_window(context, user_id(update), post_id)
        count = await scheduled.post_now(context.services, user_id(update), post_id, hold)
    if count and hold and post_id is not None:
        await query.answer(f"Sending in {hold} s")
        sent = await reply(update, undo.text(post_id, hold), undo.rows(post_id))
        undo.expire_later(
            context, chat_id=sent.chat.id, message_id=sent.message_id, post_id=post_id, seconds=hold
        )
        return
    if count is None:
        await query.answer()
        await reply(update, NOT_FOUND.format(id=post.shown))
    elif count == 0:
        await query.answer(f"Post #{post_id} has nothing waiting to go out.", show_alert=True)
    else:
        await query.answer("Publishing now")
        await reply(update, f"⚡ Publishing post #{post_id} now. I'll tell you how it went.")


async def _undo_window(context: CustomContext, uid: int, post_id: int) -> int:
    """The user's Undo window for "Post now" (not for a repeat, whose time stays its own)."""
    user = await users.get_user(context.services, uid)
    if user is None or not user.undo_seconds:
        return 0
    post = await scheduled.get_post(context.services, uid, post_id)
    return 0 if post is None or post.rrule else user.undo_seconds


async def undo_button(update: Update, context: CustomContext) -> None:
    """↩ Undo inside the window: the post is a draft again and nothing was sent."""
    query = update.callback_query
    assert query is not None
    post = callback_id(query)
    done = None
    if post.value is not None:
        done = await scheduled.undo(context.services, user_id(update), post.value)
    if done is None:
        await query.answer()
        await reply(update, NOT_FOUND.format(id=post.shown))
        return
    if not done:
        await query.answer(f"Too late: post #{post.value} is already going out.", show_alert=True)
        await drop_buttons(query)
        return
    undo.cancel(context, post.value or 0)
    await query.answer("Undone")
    await edit(
        query,
        f"↩ <b>Undone:</b> nothing was sent. Post #{post.value} is back as your draft: "
        "/drafts has it, or send more to add to it.",
    )


async def retry_button(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None
    post = callback_id(query)
    post_id = post.value
    count = None
    if post_id is not None:
        count = await scheduled.retry(context.services, user_id(update), post_id)
    if count is None:
        await query.answer()
        await reply(update, NOT_FOUND.format(id=post.shown))
    elif count == 0:
        await query.answer(f"Nothing of post #{post_id} needs a retry.", show_alert=True)
    else:
        await query.answer("Retrying")
        copies = "copy" if count == 1 else "copies"
        await reply(update, f"🔁 Retrying post #{post_id} ({count} {copies}) now.")


def install(app: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("list", list_command, filters=private))
    app.add_handler(CommandHandler("cancel", cancel_command, filters=private))
    app.add_handler(CallbackQueryHandler(list_page, pattern=r"^l:\d+$"))
    app.add_handler(CallbackQueryHandler(cancel_button, pattern=rf"^p:cancel:{ID}$"))
    app.add_handler(CallbackQueryHandler(cancel_yes, pattern=rf"^p:cancel_yes:{ID}$"))
    app.add_handler(CallbackQueryHandler(cancel_one, pattern=rf"^p:cancel_one:{ID}:{ID}$"))
    app.add_handler(CallbackQueryHandler(keep, pattern=rf"^p:keep:{ID}$"))
    app.add_handler(CallbackQueryHandler(post_now_button, pattern=rf"^p:now:{ID}$"))
    app.add_handler(CallbackQueryHandler(retry_button, pattern=rf"^p:retry:{ID}$"))
    app.add_handler(CallbackQueryHandler(undo_button, pattern=rf"^u:undo:{ID}$"))
