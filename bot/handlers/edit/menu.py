"""Editing a scheduled post: ✏️ Edit #n in /list, or /edit n.

The edit menu is the post's preview as each account would get it, with buttons for the
text, media, time, accounts and each account's own version; nothing is stored until
💾 Save (bot/compose/edit_save.py), which validates again and changes only the copies still
waiting. These are states of the compose conversation (handlers/conversation.py), so a typed text or
time reaches the edit and not a new post.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from telegram import Update
from telegram.ext import ConversationHandler

from bot.accounts import users
from bot.compose import editing
from bot.compose.edit_save import Saved, save
from bot.compose.editing import EditDraft, EditError
from bot.compose.options import draft as post_options
from bot.engine import series
from bot.engine.text import formatting
from bot.handlers.compose import preview, versions
from bot.handlers.compose.common import (
    EDIT_POST_TEXT,
    EDITING,
)
from bot.schedule.parse import format_when
from bot.services import CustomContext
from bot.ui import render
from bot.ui.chat import Rows, callback_id, command_id, edit, reply, user_id
from storage.models import TargetStatus

BACK_ROW = [("⬅ Back", "e:back")]
DONE = ("✅ Done", "e:back")
GONE = (
    "This edit was interrupted (the bot restarted), so nothing was changed. "
    "Open /list and tap ✏️ Edit again."
)
LOCKED_WORDS = {
    TargetStatus.PUBLISHING: "publishing right now",
    TargetStatus.PUBLISHED: "already published",
    TargetStatus.FAILED: "failed (Retry it from /list)",
    TargetStatus.UNKNOWN: "may or may not have gone out",
}


# -- in and out -----------------------------------------------------------------------------


async def start(update: Update, context: CustomContext) -> int | None:
    """Open the edit menu of one of the user's posts (button or /edit <n>)."""
    query = update.callback_query
    if query is not None:
        await query.answer()
        named = callback_id(query)
    else:
        found = command_id(context.args)
        if found is None:
            await reply(
                update,
                "Tell me which post: <code>/edit 12</code>. /list shows your posts and their "
                "numbers.",
            )
            return None
        named = found
    if named.value is None:
        await reply(update, f"⚠️ {editing.NOT_FOUND.format(id=named.shown)}")
        return None
    try:
        await editing.begin(context.services, user_id(update), named.value)
    except EditError as exc:
        await reply(update, f"⚠️ {escape(str(exc))}")
        return ConversationHandler.END
    return await show(update, context, fresh=True)


async def discard(update: Update, context: CustomContext) -> int:
    """Leave the edit; the post stays as it was."""
    draft = editing.current(context.services, user_id(update))
    editing.drop(context.services, user_id(update))
    which = f"Post #{draft.post_id}" if draft else "The post"
    message = f"✖ Edit discarded. {which} is unchanged."
    if update.callback_query:
        await update.callback_query.answer()
        await edit(update.callback_query, message)
    else:
        await reply(update, message)
    return ConversationHandler.END


async def save_button(update: Update, context: CustomContext) -> int:
    """Validate again and apply the changes to the copies still waiting."""
    query = update.callback_query
    assert query is not None
    services = context.services
    uid = user_id(update)
    draft = editing.current(services, uid)
    if draft is None:
        return await gone(update)
    if not draft.changed:
        await query.answer()
        editing.drop(services, uid)
        await edit(query, f"👍 Nothing to save: post #{draft.post_id} is as it was.")
        return ConversationHandler.END
    try:
        saved = await save(services, uid, draft)
    except EditError as exc:
        await query.answer()
        return await show(update, context, fresh=True, note=f"⚠️ {escape(str(exc))}")
    await query.answer("Saved")
    editing.drop(services, uid)
    user = await users.get_user(services, uid)
    tz = user.timezone if user else services.settings.default_timezone
    rows: Rows = []
    if saved.when is not None:
        pid = saved.post_id
        rows = [
            [("⚡ Post now", f"p:now:{pid}"), ("✏️ Edit again", f"p:edit:{pid}")],
            [("✖ Cancel", f"p:cancel:{pid}")],
        ]
    await edit(query, saved_text(saved, draft, tz, services.now(), services.platform_names), rows)
    return ConversationHandler.END


def saved_text(
    saved: Saved, draft: EditDraft, tz: str, now: datetime, names: dict[str, str]
) -> str:
    def who(accounts: list) -> str:  # type: ignore[type-arg]
        return ", ".join(render.account_name(a, names) for a in accounts)

    lines = []
    going = [*saved.updated, *saved.added]
    if going:
        lines.append(f"💾 <b>Saved post #{saved.post_id}.</b>")
        if saved.when is not None:
            lines.append(f"🕒 {escape(format_when(saved.when, tz, now, style='abbr'))}")
        lines.append(f"→ {who(going)}")
    else:
        lines.append(f"⚠️ <b>Nothing of post #{draft.post_id} was changed.</b>")
    if saved.forked_from is not None:
        lines.append(
            f"Post #{saved.forked_from} stays as it was for "
            f"{who([*saved.untouched, *saved.started])}; the edited version is post "
            f"#{saved.post_id}, for the accounts still waiting."
        )
    if saved.added:
        lines.append(f"➕ Added: {who(saved.added)}")
    if saved.removed:
        lines.append(f"➖ Taken off (cancelled there): {who(saved.removed)}")
    if saved.started:
        lines.append(
            f"⚠️ Publishing to {who(saved.started)} had already started, so it goes out "
            "as it was, without these changes."
        )
    if saved.untouched and saved.forked_from is None:
        lines.append(f"🔒 Left as they were: {who(saved.untouched)}")
    return "\n".join(lines)


async def gone(update: Update) -> int:
    if update.callback_query:
        await update.callback_query.answer()
    await reply(update, GONE)
    return ConversationHandler.END


def staged(context: CustomContext, update: Update) -> EditDraft | None:
    return editing.current(context.services, user_id(update))


async def stray(update: Update, context: CustomContext) -> None:
    """A button of the compose flow pressed mid-edit."""
    query = update.callback_query
    assert query is not None
    draft = staged(context, update)
    which = f"post #{draft.post_id}" if draft else "a post"
    await query.answer(f"You're editing {which}: 💾 Save or ✖ Discard first.", show_alert=True)


async def nudge(update: Update, context: CustomContext) -> None:
    draft = staged(context, update)
    which = f"post #{draft.post_id}" if draft else "a post"
    await reply(update, f"You're editing {which}: use the buttons above, or ✖ Discard to leave it.")


# -- the menu -------------------------------------------------------------------------------


async def show(
    update: Update, context: CustomContext, *, fresh: bool = False, note: str | None = None
) -> int:
    """The edit menu: the edited post as each account would get it, and what can change."""
    services = context.services
    uid = user_id(update)
    draft = editing.current(services, uid)
    if draft is None:
        return await gone(update)
    try:
        checked = await editing.check(services, uid, draft)
    except EditError as exc:
        editing.drop(services, uid)
        await reply(update, f"⚠️ {escape(str(exc))}")
        return ConversationHandler.END
    now = services.now()
    tz = checked.user.timezone
    when = format_when(draft.publish_at, tz, now, style="abbr")
    if draft.asap:
        when = "Now, as soon as you save"
    if draft.repeats:
        when = f"Repeats {series.words(checked.post, tz)}; next: {when}"
    title = f"✏️ <b>Editing post #{draft.post_id}</b> — nothing changes until you tap 💾 Save."
    if note:
        title = f"{note}\n\n{title}"
    text = render.preview(
        checked.post,
        checked.checks,
        services.platform_names,
        when,
        title=title,
        notes=versions.notes(services, checked.post, checked.checks),
    )
    for account, status in checked.locked:
        name = render.account_name(account, services.platform_names)
        text += f"\n🔒 {name} — {LOCKED_WORDS.get(status, status.value)}: stays as it is"
    first = [("✖ Discard", "e:discard")]
    if not checked.blocking:
        first.insert(0, ("💾 Save", "e:save"))
    rows: list[list[tuple[str, str]]] = [
        first,
        [("✏️ Text", "e:text"), ("📎 Media", "e:media")],
        [("🕒 Time", "e:time"), ("👥 Accounts", "e:acc")],
        *[list(row) for row in versions.rows("e", services, checked.post, checked.checks)],
    ]
    # Issue 17: a Telegram channel's URL buttons (shown on top as they will look) and options.
    extras = post_options.of(checked.post, [a for a, _ in checked.checks])
    text += preview.extras_lines(extras)
    rows += [
        [(label, "e" + data[1:]) for label, data in row] for row in preview.extras_rows(extras)
    ]
    links = [[(b.text, b.url) for b in row] for row in extras.buttons] if extras.channels else []
    if update.callback_query and not fresh:
        await edit(update.callback_query, text, rows, links)
    else:
        await reply(update, text, rows, links)
    return EDITING


async def back(update: Update, context: CustomContext) -> int:
    """Back to the menu from a step."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    draft = staged(context, update)
    if draft is not None:
        draft.awaiting = None
    return await show(update, context)


# -- text -----------------------------------------------------------------------------------


async def ask_text(update: Update, context: CustomContext) -> int:
    query = update.callback_query
    assert query is not None
    await query.answer()
    draft = staged(context, update)
    if draft is None:
        return await gone(update)
    await edit(
        query,
        f"✏️ Send the new text for post #{draft.post_id}. Now it says:\n"
        f"<blockquote>{escape(render.snippet(draft.text, 700))}</blockquote>",
        [BACK_ROW],
    )
    return EDIT_POST_TEXT


async def new_text(update: Update, context: CustomContext) -> int:
    """Take the typed text (and its formatting) as the post's text."""
    message = update.effective_message
    assert message is not None
    draft = staged(context, update)
    if draft is None:
        return await gone(update)
    try:
        editing.set_text(
            context.services, draft, message.text or "", formatting.entities_of(message)
        )
    except EditError as exc:
        await reply(update, f"⚠️ {escape(str(exc))}", [BACK_ROW])
        return EDIT_POST_TEXT
    return await show(update, context, fresh=True)
