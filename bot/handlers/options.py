"""/accounts → ⚙️ Options: an account's publishing settings, edited in place.

For Mastodon: who sees the statuses (visibility) and a content warning. Every button
re-reads the account scoped to the user who pressed it. Typing the warning is a question in
the ask group (see bot/ui/asking.py), so a user who walks away from it never has a later post
taken for a warning.
"""

from __future__ import annotations

import contextlib
from html import escape
from typing import Any

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.accounts import options as account_options
from bot.handlers.accounts import NOT_YOURS, listing
from bot.services import CustomContext
from bot.ui.asking import ASK_GROUP, leave_otherwise, stop_after
from bot.ui.chat import ID, Rows, callback_int, edit, reply, user_id
from bot.ui.render import account_name
from storage.models import Account

WARNING = 0

#: What each visibility means, under the menu.
VISIBILITY_HINTS = {
    "public": "anyone can see them, on public timelines too",
    "unlisted": "anyone can see them, but not on public timelines, trends or hashtags",
    "private": "only your followers see them",
}


def options_menu(account: Account, names: dict[str, str], note: str = "") -> tuple[str, Rows]:
    """The account's options and the buttons that change them."""
    options = account_options.of(account)
    choice = account_options.VISIBILITIES.get(options.visibility, options.visibility)
    hint = VISIBILITY_HINTS.get(options.visibility, "")
    warning = f"<b>{escape(options.content_warning)}</b>" if options.content_warning else "none"
    lines = [note, ""] if note else []
    lines += [
        f"⚙️ <b>Options</b> for {account_name(account, names)}",
        "",
        f"👁 Visibility: <b>{escape(choice)}</b>" + (f" — {hint}" if hint else ""),
        f"⚠️ Content warning: {warning}",
        "",
        "Every post to this account goes out with these.",
    ]
    visibility_row = [
        (("✓ " if value == options.visibility else "") + label, f"acc:vis:{account.id}:{value}")
        for value, label in account_options.VISIBILITIES.items()
    ]
    rows: list[list[tuple[str, str]]] = [
        visibility_row,
        [("⚠️ Set a content warning", f"acc:cw:{account.id}")],
    ]
    if options.content_warning:
        rows.append([("✖ No content warning", f"acc:cwoff:{account.id}")])
    rows.append([("⬅ Back", "acc:list")])
    return "\n".join(lines), rows


async def _redraw(update: Update, context: CustomContext, account: Account | None) -> None:
    """The options menu in place of the tapped message, or why not (not the user's)."""
    if account is None:
        await reply(update, NOT_YOURS)
        return
    assert update.callback_query is not None
    await edit(update.callback_query, *options_menu(account, context.services.platform_names))


async def options_button(update: Update, context: CustomContext) -> None:
    """Open the account's options in place of the message."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    services = context.services
    account = await account_options.get(services, user_id(update), callback_int(query) or 0)
    await _redraw(update, context, account)


async def visibility_button(update: Update, context: CustomContext) -> None:
    """Store the visibility tapped and redraw the menu."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    services = context.services
    visibility = (query.data or "").rsplit(":", 1)[-1]
    account = await account_options.set_visibility(
        services, user_id(update), callback_int(query, 2) or 0, visibility
    )
    await _redraw(update, context, account)


async def no_warning_button(update: Update, context: CustomContext) -> None:
    """Remove the content warning and redraw the menu."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    services = context.services
    account = await account_options.set_content_warning(
        services, user_id(update), callback_int(query) or 0, None
    )
    await _redraw(update, context, account)


async def back_button(update: Update, context: CustomContext) -> None:
    """Back from the options to the list of accounts."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await edit(query, *await listing(context.services, user_id(update)))


async def warning_button(update: Update, context: CustomContext) -> int:
    """Ask for the content warning's text."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    account = await account_options.get(context.services, user_id(update), callback_int(query) or 0)
    if account is None:
        await reply(update, NOT_YOURS)
        return ConversationHandler.END
    await edit(
        query,
        f"⚠️ Send the content warning for <b>{escape(account.label)}</b>: a few words readers "
        "see in place of the post until they open it, like <i>Spoilers</i> or "
        f"<i>Politics</i> (up to {account_options.MAX_WARNING} characters), or /abort.",
        [[("✖ Cancel", f"acc:opt:{account.id}")]],
    )
    pending = _pending(context)
    pending["cw_account"] = account.id
    if query.message is not None:
        pending["cw_prompt"] = (query.message.chat.id, query.message.message_id)
    return WARNING


async def warning_typed(update: Update, context: CustomContext) -> int:
    """Store the typed content warning, or say why it can't be one and keep asking."""
    account_id = _pending(context).get("cw_account")
    if account_id is None:
        return ConversationHandler.END
    text = update.effective_message.text or ""  # type: ignore[union-attr]
    warning, problem = account_options.clean_warning(text)
    if problem is not None:
        await reply(update, f"🤔 {problem} Send it again, or /abort.")
        return WARNING
    services = context.services
    await _close_question(context)
    account = await account_options.set_content_warning(
        services, user_id(update), account_id, warning
    )
    if account is None:
        await reply(update, NOT_YOURS)
        return ConversationHandler.END
    note = "✅ Content warning set."
    await reply(update, *options_menu(account, services.platform_names, note))
    return ConversationHandler.END


async def warning_abort(update: Update, context: CustomContext) -> int:
    """/abort while asked for a warning: leave it as it was, and show the options again."""
    account_id = await _close_question(context)
    services = context.services
    account = await account_options.get(services, user_id(update), account_id or 0)
    note = "👍 Nothing changed."
    if account is None:
        await reply(update, note)
    else:
        await reply(update, *options_menu(account, services.platform_names, note))
    return ConversationHandler.END


async def warning_again(update: Update, context: CustomContext) -> None:
    """The content warning button reached the features: another question was open and the
    tap only closed it."""
    assert update.callback_query is not None
    await update.callback_query.answer("Tap “Set a content warning” once more.")


def _pending(context: CustomContext) -> dict[Any, Any]:
    return context.user_data if context.user_data is not None else {}


async def _close_question(context: CustomContext) -> int | None:
    """Forget the question and take the ✖ Cancel button off it; returns the account's id."""
    pending = _pending(context)
    account_id: int | None = pending.pop("cw_account", None)
    prompt = pending.pop("cw_prompt", None)
    if prompt is not None:
        chat_id, message_id = prompt
        with contextlib.suppress(BadRequest):
            await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
    return account_id


def build_warning_question() -> ConversationHandler:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    asks: list[BaseHandler[Update, Any, Any]] = [
        CallbackQueryHandler(stop_after(warning_button), pattern=rf"^acc:cw:{ID}$")
    ]
    return ConversationHandler(
        entry_points=asks,
        states={
            WARNING: [
                MessageHandler(
                    filters.TEXT & ~filters.COMMAND & private, stop_after(warning_typed)
                ),
                CommandHandler("abort", stop_after(warning_abort), filters=private),
            ],
        },
        fallbacks=[*asks, *leave_otherwise()],  # asking again starts over
        name="content_warning",
    )


def install(app: Application) -> None:  # type: ignore[type-arg]
    """The warning question in the ask group; the menu's buttons in group 0."""
    app.add_handler(build_warning_question(), group=ASK_GROUP)
    app.add_handler(CallbackQueryHandler(options_button, pattern=rf"^acc:opt:{ID}$"))
    visibility = rf"^acc:vis:{ID}:(public|unlisted|private)$"
    app.add_handler(CallbackQueryHandler(visibility_button, pattern=visibility))
    app.add_handler(CallbackQueryHandler(no_warning_button, pattern=rf"^acc:cwoff:{ID}$"))
    app.add_handler(CallbackQueryHandler(warning_again, pattern=rf"^acc:cw:{ID}$"))
    app.add_handler(CallbackQueryHandler(back_button, pattern=r"^acc:list$"))
