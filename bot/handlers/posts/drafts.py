"""/drafts (resume or delete a kept draft), 💾 Keep as draft, and 📄 Duplicate from /list.

Resume, Keep and Duplicate move the compose conversation, so handlers/conversation.py wires
them into its graph; the listing and deleting live outside it and work at any time.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    filters,
)

from bot.compose import drafts, posting
from bot.compose.drafts import Copied
from bot.compose.posting import POST_NOT_FOUND, ComposeError
from bot.handlers.compose import content, status, targets
from bot.handlers.compose.common import COMPOSING, PICK_ACCOUNTS, PICK_TIME, ask_time
from bot.services import CustomContext
from bot.ui.chat import ID, Rows, callback_id, callback_int, edit, reply, user_id
from bot.ui.render import draft_line
from storage.models import Post

EMPTY = (
    "You have no drafts. A post you leave with 💾 <b>Keep as draft</b> waits here until you "
    "finish it."
)


# -- /drafts --------------------------------------------------------------------------------


async def drafts_command(update: Update, context: CustomContext) -> None:
    """List the user's drafts, newest first."""
    text, rows = await _page(context, user_id(update), 0)
    await reply(update, text, rows)


async def drafts_page(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    text, rows = await _page(context, user_id(update), callback_int(query, smallest=0) or 0)
    await edit(query, text, rows)


async def _page(context: CustomContext, uid: int, number: int) -> tuple[str, Rows]:
    services = context.services
    found, pages, total = await drafts.page(services, uid, number)
    if not found and number > 0:
        number = pages - 1
        found, pages, total = await drafts.page(services, uid, number)
    if not found:
        return EMPTY, []
    now = services.now()
    first = number * drafts.PAGE_SIZE
    lines = [
        f"📝 <b>Your drafts</b> ({total})" + (f" — page {number + 1}/{pages}" if pages > 1 else "")
    ]
    rows: list[list[tuple[str, str]]] = []
    for index, post in enumerate(found, start=first + 1):
        lines.append(f"\n<b>{index}.</b> {draft_line(post, now)}")
        rows.append(
            [(f"▶ Resume {index}", f"d:resume:{post.id}"), (f"🗑 {index}", f"d:del:{post.id}")]
        )
    nav = []
    if number > 0:
        nav.append(("◀", f"d:page:{number - 1}"))
    if number + 1 < pages:
        nav.append(("▶", f"d:page:{number + 1}"))
    rows.append(nav)
    return "\n".join(lines), rows


async def delete_ask(update: Update, context: CustomContext) -> None:
    """Ask before deleting a draft."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    post_id = callback_int(query)
    post = None if post_id is None else await drafts.get(context.services, user_id(update), post_id)
    if post is None:
        await reply(update, drafts.GONE)
        return
    await reply(
        update,
        f"Delete this draft? {draft_line(post, context.services.now())}\nThis can't be undone.",
        [[("🗑 Yes, delete it", f"d:delyes:{post.id}"), ("Keep it", "d:delno")]],
    )


async def delete_yes(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    post_id = callback_int(query)
    deleted = post_id is not None and await drafts.delete(
        context.services, user_id(update), post_id
    )
    await edit(query, "🗑 Draft deleted. /drafts shows the rest." if deleted else drafts.GONE)


async def delete_no(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await edit(query, "👍 Kept. /drafts shows your drafts.")


# -- in the compose conversation ------------------------------------------------------------


async def resume(update: Update, context: CustomContext) -> int | None:
    """Make the draft current and go back to its content step."""
    query = update.callback_query
    assert query is not None
    post_id = callback_int(query)
    uid = user_id(update)
    try:
        if post_id is None:
            raise ComposeError(drafts.GONE)
        previous = await drafts.in_progress(context.services, uid)
        post = await drafts.resume(context.services, uid, post_id)
    except ComposeError as exc:
        await query.answer(str(exc), show_alert=True)
        return None
    await query.answer()
    note = "▶ <b>Back to your draft.</b>"
    if previous is not None and previous.id != post.id:
        note += " The post you were on is kept in /drafts."
    await reply(update, note)
    assert update.effective_chat is not None
    await content.show_status(context, update.effective_chat.id, uid)
    return COMPOSING


async def keep(update: Update, context: CustomContext) -> int:
    """Leave the compose flow, keeping the draft for later (an empty one is dropped)."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    uid = user_id(update)
    services = context.services
    status.forget(services, update.effective_chat.id if update.effective_chat else 0)
    post = await drafts.in_progress(services, uid)
    if post is None:
        await posting.discard_draft(services, uid)  # an empty row is no draft
        await edit(query, "Nothing to keep: the post was empty. Send me something to post.")
        return ConversationHandler.END
    await edit(
        query,
        f"💾 <b>Kept as a draft</b>: {draft_line(post, services.now())}\n"
        "Nothing was scheduled. /drafts resumes it whenever you like.",
    )
    return ConversationHandler.END


async def duplicate(update: Update, context: CustomContext) -> int | None:
    """Copy a post's content and accounts into a new draft and ask when it goes out."""
    query = update.callback_query
    assert query is not None
    named = callback_id(query)
    post_id = named.value
    uid = user_id(update)
    services = context.services
    previous = await drafts.in_progress(services, uid)
    try:
        if post_id is None:
            raise ComposeError(POST_NOT_FOUND.format(id=named.shown))
        copied = await drafts.duplicate(services, uid, post_id)
    except ComposeError as exc:
        await query.answer(str(exc), show_alert=True)
        return None
    await query.answer("Copied")
    sent = await reply(update, copy_note(f"📄 <b>A copy of post #{post_id}</b>", copied, previous))
    # The time question is a new message: the /list it was tapped on stays as it was.
    fresh = as_message(update, sent)
    if not copied.post.draft_account_ids:
        await targets.show_accounts(fresh, context)
        return PICK_ACCOUNTS
    await ask_time(fresh, context)
    return PICK_TIME


def copy_note(head: str, copied: Copied, previous: Post | None) -> str:
    """What was copied into the new draft, and what could not be."""
    lines = [f"{head} is your new draft."]
    if copied.skipped_media:
        n = copied.skipped_media
        lines.append(
            f"⚠️ {n} photo{'s' if n != 1 else ''} or video{'s' if n != 1 else ''} "
            "couldn't come along: the file was cleaned up after the retention period."
        )
    if copied.dropped_accounts:
        n = copied.dropped_accounts
        lines.append(f"⚠️ {n} account{'s' if n != 1 else ''} it went to are no longer connected.")
    if previous is not None and previous.id != copied.post.id:
        lines.append("The post you were on is kept in /drafts.")
    return "\n".join(lines)


def as_message(update: Update, sent: Message) -> Update:
    """The same person, as if they had just written in the chat: the next step then answers
    with a new message instead of editing the one whose button was tapped."""
    assert update.effective_user is not None
    message = Message(
        message_id=sent.message_id,
        date=sent.date,
        chat=sent.chat,
        from_user=update.effective_user,
    )
    message.set_bot(sent.get_bot())
    return Update(update.update_id, message=message)


def install(app: Application) -> None:  # type: ignore[type-arg]
    """The handlers outside the compose conversation (handlers/conversation.py wires the rest)."""
    app.add_handler(CommandHandler("drafts", drafts_command, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(drafts_page, pattern=r"^d:page:\d+$"))
    app.add_handler(CallbackQueryHandler(delete_ask, pattern=rf"^d:del:{ID}$"))
    app.add_handler(CallbackQueryHandler(delete_yes, pattern=rf"^d:delyes:{ID}$"))
    app.add_handler(CallbackQueryHandler(delete_no, pattern=r"^d:delno$"))
