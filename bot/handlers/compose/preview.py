"""Compose step 4: the preview, confirming, and going back to change things."""

from __future__ import annotations

from html import escape

from telegram import Update
from telegram.ext import (
    ConversationHandler,
)

from bot.accounts import users
from bot.compose import posting, series_draft
from bot.compose import versions as draft_versions
from bot.compose.editing import EditError
from bot.compose.options import draft as post_options
from bot.compose.posting import ComposeError
from bot.engine.text import formatting, overrides
from bot.handlers.compose import queue, targets, versions
from bot.handlers.compose.common import (
    ALT_BUTTON,
    CANCEL_ROW,
    EDIT_TEXT,
    OVERRIDE_TEXT,
    PICK_ACCOUNTS,
    PICK_TIME,
    PREVIEW,
    ask_time,
)
from bot.schedule.parse import format_when
from bot.services import CustomContext
from bot.ui import render, undo
from bot.ui.chat import callback_int, drop_buttons, edit, reply, user_id


async def show_preview(update: Update, context: CustomContext, *, fresh: bool = False) -> int:
    services = context.services
    uid = user_id(update)
    try:
        checked = await posting.check(services, uid)
    except ComposeError as exc:
        await reply(update, f"⚠️ {escape(str(exc))}")
        return ConversationHandler.END
    now = services.now()
    post = checked.post
    window = checked.user.undo_seconds if not post.rrule else 0
    when_text = (
        "Now, as soon as you confirm"
        if post.publish_at is None
        else format_when(post.publish_at, checked.user.timezone, now, style="abbr")
    )
    if post.publish_at is None and window:  # /settings' Undo window
        when_text = f"Now: {window} s after you confirm, with ↩ Undo until then"
    chosen = [account for account, _ in checked.checks]  # issue 6: "Add to queue" times
    queued = queue.when_text(services, post, chosen, checked.user.timezone, now)
    when_text = queued or when_text
    repeat = series_draft.preview_line(post, checked.user.timezone, now)  # issue 6: repeats
    notes = versions.notes(services, post, checked.checks)  # issue 6: own texts, threads
    text = render.preview(
        post, checked.checks, services.platform_names, when_text, repeat, notes=notes
    )
    extras = post_options.of(post, chosen)  # issue 17: URL buttons, Telegram options
    text += extras_lines(extras)
    confirm_data = queue.CONFIRM if queued else "c:confirm"  # issue 6: queue slots
    first_row = [("✏️ Edit text", "c:edit")] if checked.blocking else [("✅ Confirm", confirm_data)]
    if not checked.blocking:
        first_row.append(("✏️ Edit text", "c:edit"))
    rows = [
        first_row,
        [("🕒 Change time", "c:chtime"), ("👥 Change accounts", "c:chacc")],
        [("🔁 Repeat", "c:rep")],  # issue 6: repeats (repeat.py)
        [("💾 Save as template", "c:tsave")],  # issue 6: templates (handlers/templates.py)
        [(ALT_BUTTON, "c:alt:p")] if render.photos(post) else [],
        *versions.rows("c", services, post, checked.checks),  # Customize for X, threads
        *extras_rows(extras),  # issue 17: 🔗 Buttons, ⚙️ Options, an album's buttons
        CANCEL_ROW,
    ]
    # The post's URL buttons on top, as they will look under it in the channel.
    links = [[(b.text, b.url) for b in row] for row in extras.buttons] if extras.channels else []
    if update.callback_query and not fresh:
        await edit(update.callback_query, text, rows, links)
    else:
        await reply(update, text, rows, links)
    return PREVIEW


# -- issue 17: URL buttons and Telegram options ---------------------------------------------


def _is_album(extras: post_options.DraftOptions) -> bool:
    return len(extras.post.media_links) > 1


def extras_lines(extras: post_options.DraftOptions) -> str:
    """The preview's lines about the post's buttons and Telegram options."""
    if not extras.channels:
        return ""
    lines = []
    if extras.buttons:
        count = sum(len(row) for row in extras.buttons)
        lines.append(
            f"🔗 {count} button{'s' if count != 1 else ''}: the first rows of buttons below, "
            "as they will look under the post."
        )
        if _is_album(extras):
            drop = extras.values.get("album_buttons") == "drop"
            lines.append(
                "📎 The Bot API can't attach buttons to an album. "
                + (
                    "They will be <b>left out</b>."
                    if drop
                    else "They will go as a <b>short message right under the album</b>."
                )
            )
    media = bool(extras.post.media_links)
    said = post_options.summary(extras.values, media, not media)
    if said:
        lines.append("⚙️ Telegram: " + escape(", ".join(said)) + ".")
    return "\n\n" + "\n".join(lines) if lines else ""


def extras_rows(extras: post_options.DraftOptions) -> list[list[tuple[str, str]]]:
    if not extras.channels:
        return []
    rows = [[("🔗 Buttons", "c:btn"), ("⚙️ Options", "c:opt")]]
    if extras.buttons and _is_album(extras):
        drop = extras.values.get("album_buttons") == "drop"
        rows.append(
            [
                (("✓ " if not drop else "") + "Buttons as a message under it", "c:albm:message"),
                (("✓ " if drop else "") + "Drop the buttons", "c:albm:drop"),
            ]
        )
    return rows


async def confirm(update: Update, context: CustomContext) -> int:
    """Schedule the draft: one target per account, in one transaction."""
    query = update.callback_query
    assert query is not None
    services = context.services
    uid = user_id(update)
    hold = await _undo_window(context, uid)
    try:
        result, chosen = await posting.confirm(services, uid, hold=hold)
    except ComposeError as exc:
        await query.answer()
        if "passed" in str(exc):
            await ask_time(update, context, problem=str(exc))
            return PICK_TIME
        await reply(update, f"⚠️ {escape(str(exc))}")
        return PREVIEW
    await query.answer("Scheduled")
    user = await users.get_user(services, uid)
    tz = user.timezone if user else services.settings.default_timezone
    post = result.post
    if hold:  # "Now", with the user's Undo window: the post goes out when it ends
        await edit(query, undo.text(post.id, hold), undo.rows(post.id))
        message = query.message
        if message is not None:
            undo.expire_later(
                context,
                chat_id=message.chat.id,
                message_id=message.message_id,
                post_id=post.id,
                seconds=hold,
            )
        return ConversationHandler.END
    text = render.scheduled_confirmation(post, chosen, tz, services.now(), services.platform_names)
    await edit(
        query,
        text,
        [
            [("⚡ Post now", f"p:now:{post.id}"), ("✖ Cancel", f"p:cancel:{post.id}")],
            [("✏️ Edit", f"p:edit:{post.id}")],  # issue 6: editing (handlers/edit.py)
            [("💾 Save as template", f"t:save:{post.id}")],  # issue 6: templates
        ],
    )
    return ConversationHandler.END


async def _undo_window(context: CustomContext, uid: int) -> int:
    """The user's Undo window, when the draft is for "now" and not a repeat; else 0."""
    services = context.services
    user = await users.get_user(services, uid)
    if user is None or not user.undo_seconds:
        return 0
    draft = await posting.current_draft(services, uid)
    if draft is None or draft.publish_at is not None or draft.rrule:
        return 0
    return user.undo_seconds


async def change_time(update: Update, context: CustomContext) -> int:
    """Back to the time step."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    await ask_time(update, context)
    return PICK_TIME


async def change_accounts(update: Update, context: CustomContext) -> int:
    """Back to the accounts step."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    await targets.show_accounts(update, context)
    return PICK_ACCOUNTS


async def edit_text(update: Update, context: CustomContext) -> int:
    """Ask for text that replaces the draft's text."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await drop_buttons(query)
    await reply(update, "✏️ Send the new text for this post.", [CANCEL_ROW])
    return EDIT_TEXT


async def new_text(update: Update, context: CustomContext) -> int:
    """Replace the text, then show the preview again."""
    try:
        message = update.effective_message
        assert message is not None
        before = await posting.current_draft(context.services, user_id(update))
        await posting.replace_text(
            context.services,
            user_id(update),
            message.text or "",
            formatting.entities_of(message),  # issue 6: the new text's own formatting
        )
    except ComposeError as exc:
        await reply(update, f"⚠️ {escape(str(exc))}", [CANCEL_ROW])
        return EDIT_TEXT
    if before is not None and before.overrides:  # a thread split from the old text goes
        await draft_versions.draft_text_changed(context.services, user_id(update), before.text)
    return await show_preview(update, context)


# -- each account's own version ("Customize for X", threads) -------------------------------

#: services.scratch key: the account whose own text each user is typing (lost on restart).
AWAITING = "override_for"


async def customize(update: Update, context: CustomContext) -> int:
    """Ask for one account's own text."""
    query = update.callback_query
    assert query is not None
    services = context.services
    uid = user_id(update)
    account_id = callback_int(query)
    draft = await posting.current_draft(services, uid)
    owned = {a.id: a for a in await posting.user_accounts(services, uid)}
    if account_id is None or account_id not in owned:
        await query.answer(posting.ACCOUNT_NOT_YOURS, show_alert=True)
        return PREVIEW
    if draft is not None and account_id not in draft.draft_account_ids:
        await query.answer(draft_versions.NOT_PICKED, show_alert=True)
        return PREVIEW
    await query.answer()
    if draft is None:
        return await show_preview(update, context)  # it says the draft is gone
    services.scratch.setdefault(AWAITING, {})[uid] = account_id
    own = overrides.parts(draft.overrides, account_id)
    rows = [
        [("↩ Use the post's text", f"c:ovr_clear:{account_id}")] if own else [],
        [("⬅ Back", "c:ovr_back")],
    ]
    await edit(query, versions.prompt(owned[account_id], services, draft.text, own), rows)
    return OVERRIDE_TEXT


async def override_typed(update: Update, context: CustomContext) -> int:
    """Store the typed text as the account's own, then show the preview again."""
    services = context.services
    uid = user_id(update)
    account_id = services.scratch.get(AWAITING, {}).get(uid)
    if account_id is None:
        await reply(update, "I lost track of which account that was for; tap 🎨 Customize again.")
        return await show_preview(update, context, fresh=True)
    text = update.effective_message.text or ""  # type: ignore[union-attr]
    try:
        await draft_versions.set_draft_override(services, uid, account_id, text)
    except EditError as exc:
        await reply(update, f"⚠️ {escape(str(exc))}", [[("⬅ Back", "c:ovr_back")]])
        return OVERRIDE_TEXT
    services.scratch[AWAITING].pop(uid, None)
    return await show_preview(update, context, fresh=True)


async def override_clear(update: Update, context: CustomContext) -> int:
    """The account gets the post's text again."""
    query = update.callback_query
    assert query is not None
    uid = user_id(update)
    account_id = callback_int(query)
    owned = {a.id for a in await posting.user_accounts(context.services, uid)}
    if account_id is None or account_id not in owned:
        # Forged: the question about the account's own text stays open.
        await query.answer(posting.ACCOUNT_NOT_YOURS, show_alert=True)
        return OVERRIDE_TEXT
    context.services.scratch.get(AWAITING, {}).pop(uid, None)
    try:
        await draft_versions.set_draft_override(context.services, uid, account_id, None)
    except EditError as exc:
        await query.answer(str(exc), show_alert=True)
        return await show_preview(update, context)
    await query.answer("Back to the post's text")
    return await show_preview(update, context)


async def override_back(update: Update, context: CustomContext) -> int:
    """Back to the preview without changing the account's text."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    context.services.scratch.get(AWAITING, {}).pop(user_id(update), None)
    return await show_preview(update, context)


async def split(update: Update, context: CustomContext) -> int:
    """Split the account's text into a numbered thread, as its platform counts."""
    query = update.callback_query
    assert query is not None
    account_id = callback_int(query)
    try:
        if account_id is None:
            raise EditError(posting.ACCOUNT_NOT_YOURS)
        parts = await draft_versions.split_draft(context.services, user_id(update), account_id)
    except EditError as exc:
        await query.answer(str(exc), show_alert=True)
        return PREVIEW
    await query.answer(f"🧵 Split into {len(parts)} posts")
    return await show_preview(update, context)
