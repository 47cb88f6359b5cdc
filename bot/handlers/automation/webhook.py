"""/webhook: where a user's post events go (signed, Standard Webhooks), the signing secret
shown once, and the latest deliveries with what became of them.

`/webhook https://…` sets the URL at once; `/webhook` shows the screen, whose ✏️ button asks
for the URL (the next text is read as it, see bot/ui/asking.py). The /api screen's
"🪝 Webhook" button reaches the same screen with the callback data `SHOW` (edited in place).
"""

from __future__ import annotations

from html import escape
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.accounts import users
from bot.accounts import webhooks as service
from bot.schedule.localtime import format_short
from bot.services import CustomContext
from bot.ui.asking import ASK_GROUP, leave_otherwise, stop_after
from bot.ui.chat import Rows, edit, reply, user_id
from storage.models import WebhookStatus

ASKING = 0
#: The screen's callback data (for the /api screen's "🪝 Webhook" button) and patterns.
SHOW = "wh:show"
SHOW_PATTERN = r"^wh:show$"
ASK_PATTERN = r"^wh:ask$"
ROTATE_PATTERN = r"^wh:rotate$"
REMOVE_PATTERN = r"^wh:remove$"
CANCEL_PATTERN = r"^wh:cancel$"
#: Deliveries listed on the screen.
SHOWN = 8

_ICONS = {
    WebhookStatus.PENDING: "⏳",
    WebhookStatus.SENDING: "🔄",
    WebhookStatus.DELIVERED: "✅",
    WebhookStatus.FAILED: "❌",
}


async def screen(context: CustomContext, uid: int) -> tuple[str, Rows]:
    """The webhook screen: the URL, the events, the latest deliveries, the buttons."""
    services = context.services
    endpoint = await service.get(services, uid)
    lines = ["🪝 <b>Webhook</b>", ""]
    if endpoint is None:
        lines += [
            "No URL set. Crier can POST an event to your server whenever a post is "
            "published, fails, can't be confirmed or is cancelled: "
            + ", ".join(f"<code>{t}</code>" for t in service.EVENT_TYPES)
            + ".",
            "",
            "Set one with <code>/webhook https://example.com/hooks/crier</code> or the button.",
        ]
        return "\n".join(lines), [[("✏️ Set URL", "wh:ask")]]
    lines.append(f"Events go to <code>{escape(endpoint.url)}</code>, signed as Standard Webhooks.")
    found = await service.deliveries(services, uid, limit=SHOWN)
    user = await users.get_user(services, uid)
    tz = user.timezone if user else services.settings.default_timezone
    lines += ["", "<b>Latest deliveries</b>" if found else "No events sent yet."]
    now = services.now()
    lines += [_delivery_line(d, tz, now) for d in found]
    rows: Rows = [
        [("✏️ Change URL", "wh:ask"), ("🔑 New secret", "wh:rotate")],
        [("🔄 Refresh", SHOW), ("🗑 Remove", "wh:remove")],
    ]
    return "\n".join(lines), rows


def _delivery_line(d: service.DeliveryView, tz: str, now: Any) -> str:
    post = f" #{d.post_id}" if d.post_id is not None else ""
    when = format_short(d.created_at, tz, now)
    line = f"{_ICONS[d.status]} {when} <code>{escape(d.type)}</code>{post}"
    if d.status == WebhookStatus.DELIVERED:
        tries = f", {d.attempts} tries" if d.attempts > 1 else ""
        return f"{line} — delivered (HTTP {d.last_status}{tries})"
    if d.status == WebhookStatus.FAILED:
        return f"{line} — gave up: {escape(d.last_error or 'failed')}"
    if d.last_error:
        return f"{line} — will retry ({escape(d.last_error)})"
    return f"{line} — waiting"


def secret_text(secret: str) -> str:
    return (
        "🔑 Your signing secret (shown once — keep it with your receiver):\n"
        f"<code>{escape(secret)}</code>\n\n"
        "Check each request's <code>webhook-signature</code> with it; docs/API.md shows how."
    )


async def webhook_command(update: Update, context: CustomContext) -> int:
    """Show the screen, or set the URL from `/webhook https://…`."""
    if context.args:
        return await _set(update, context, " ".join(context.args))
    text, rows = await screen(context, user_id(update))
    await reply(update, text, rows)
    return ConversationHandler.END


async def show(update: Update, context: CustomContext) -> int:
    """The screen, in place of the message whose button was pressed (also from /api)."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    text, rows = await screen(context, user_id(update))
    await edit(query, text, rows)
    return ConversationHandler.END


async def ask(update: Update, context: CustomContext) -> int:
    """✏️: ask for the URL."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await edit(
        query,
        "🪝 Send the URL Crier should POST events to (https://…).",
        [[("✖ Cancel", "wh:cancel")]],
    )
    return ASKING


async def typed(update: Update, context: CustomContext) -> int:
    """The answer to "which URL?"."""
    text = (update.effective_message.text or "").strip()  # type: ignore[union-attr]
    return await _set(update, context, text)


async def _set(update: Update, context: CustomContext, raw: str) -> int:
    try:
        saved = await service.set_url(context.services, user_id(update), raw)
    except service.WebhookProblem as exc:
        await reply(update, f"🤔 {escape(exc.message)}", [[("✖ Cancel", "wh:cancel")]])
        return ASKING
    said = f"✅ Webhook set: <code>{escape(saved.url)}</code>"
    if saved.secret is not None:
        said += "\n\n" + secret_text(saved.secret)
    else:
        said += "\nThe signing secret is the one you have."
    await reply(update, said)
    text, rows = await screen(context, user_id(update))
    await reply(update, text, rows)
    return ConversationHandler.END


async def rotate(update: Update, context: CustomContext) -> int:
    """🔑: a new secret, shown once; the old one stops working at once."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    try:
        secret = await service.rotate_secret(context.services, user_id(update))
    except service.WebhookProblem as exc:
        await reply(update, f"🤔 {escape(exc.message)}")
        return ConversationHandler.END
    if secret is None:
        await edit(query, *await screen(context, user_id(update)))
        return ConversationHandler.END
    made = "🔑 New secret made; the old one no longer verifies.\n\n"
    await reply(update, made + secret_text(secret))
    return ConversationHandler.END


async def remove(update: Update, context: CustomContext) -> int:
    """🗑: stop sending events (those still waiting are given up)."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await service.clear(context.services, user_id(update))
    await edit(query, "🗑 Webhook removed: no more events are sent.", [[("🪝 Webhook", SHOW)]])
    return ConversationHandler.END


async def cancelled(update: Update, context: CustomContext) -> int:
    """✖ under the question: keep things as they are."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    text, rows = await screen(context, user_id(update))
    await edit(query, text, rows)
    return ConversationHandler.END


def build() -> ConversationHandler:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    asks: list[BaseHandler[Update, Any, Any]] = [
        CommandHandler("webhook", stop_after(webhook_command), filters=private),
        CallbackQueryHandler(stop_after(ask), pattern=ASK_PATTERN),
    ]
    return ConversationHandler(
        entry_points=asks,
        states={
            ASKING: [
                MessageHandler(filters.TEXT & ~filters.COMMAND & private, stop_after(typed)),
                CallbackQueryHandler(stop_after(cancelled), pattern=CANCEL_PATTERN),
            ],
        },
        fallbacks=[*asks, *leave_otherwise()],
        name="webhook",
    )


def install(app: Application) -> None:  # type: ignore[type-arg]
    """The question in the asking group; the screen's other buttons in group 0."""
    app.add_handler(build(), group=ASK_GROUP)
    app.add_handler(CallbackQueryHandler(show, pattern=SHOW_PATTERN))
    app.add_handler(CallbackQueryHandler(rotate, pattern=ROTATE_PATTERN))
    app.add_handler(CallbackQueryHandler(remove, pattern=REMOVE_PATTERN))
    app.add_handler(CallbackQueryHandler(cancelled, pattern=CANCEL_PATTERN))
