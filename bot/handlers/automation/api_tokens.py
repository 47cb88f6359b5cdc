"""/api: personal tokens for the REST API and the MCP server.

The screen lists the user's tokens (name, scope, created, last used) with a Revoke button
each, and ➕ New token: a scope button, then the name typed as a one-question conversation
(bot/ui/asking.py). The new token is shown once, in a message whose ✅ I saved it button
replaces it with its name; it is never shown again. 🪝 Webhook opens /webhook's screen
(webhook.py, beside this module).
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

from bot.accounts import api_tokens, users
from bot.handlers.automation import webhook
from bot.schedule.parse import format_short
from bot.services import CustomContext, Services
from bot.ui.asking import ASK_GROUP, leave_otherwise, stop_after
from bot.ui.chat import edit, reply, user_id
from storage.models import ApiToken

NAMING = 0
_SCOPE_KEY = "api_token_scope"
SCOPE_LABELS = {api_tokens.READ: "👁 read", api_tokens.WRITE: "✍️ read and write"}
#: Buttons to the /api screen's neighbours (label, callback data).
EXTRA_BUTTONS: list[tuple[str, str]] = [("🪝 Webhook", webhook.SHOW)]


def docs_url(services: Services) -> str | None:
    """The API's docs page, when the web app has a public address."""
    base = services.settings.public_url
    return f"{str(base).rstrip('/')}/api/v1/docs" if base else None


def _line(token: ApiToken, services: Services, tz: str) -> str:
    now = services.now()
    created = format_short(token.created_at, tz, now)
    used = format_short(token.last_used_at, tz, now) if token.last_used_at else "never"
    scope = SCOPE_LABELS.get(token.scope, token.scope)
    return f"• <b>{escape(token.name)}</b> · {scope} · created {created} · last used {used}"


async def screen(services: Services, uid: int, tz: str) -> tuple[str, list[list[tuple[str, str]]]]:
    tokens = await api_tokens.list_tokens(services, uid)
    head = (
        "🔑 <b>API tokens</b>\n"
        "Scripts, n8n flows and AI assistants use a token to schedule posts for you through "
        "the REST API (<code>/api/v1</code>) and the MCP server."
    )
    docs = docs_url(services)
    if docs:
        head += f"\nDocs: {escape(docs)}"
    if tokens:
        body = "\n".join(_line(t, services, tz) for t in tokens)
    else:
        body = "You have no tokens yet."
    rows: list[list[tuple[str, str]]] = [
        [(f"🗑 Revoke {t.name[:24]}", f"api:revoke:{t.id}")] for t in tokens
    ]
    rows.append([("➕ New token", "api:new")])
    if EXTRA_BUTTONS:
        rows.append(list(EXTRA_BUTTONS))
    return f"{head}\n\n{body}", rows


async def _timezone(context: CustomContext, uid: int) -> str:
    user = await users.get_user(context.services, uid)
    return user.timezone if user else context.services.settings.default_timezone


async def api_command(update: Update, context: CustomContext) -> int:
    """Show the user's tokens."""
    uid = user_id(update)
    text, rows = await screen(context.services, uid, await _timezone(context, uid))
    await reply(update, text, rows)
    return ConversationHandler.END


async def new_button(update: Update, context: CustomContext) -> int:
    """Ask which scope the new token gets."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await edit(
        query,
        "➕ <b>New token</b>\nWhat may it do? Read-only tokens can list accounts and posts; "
        "read and write tokens can also upload media and schedule, change or cancel posts.",
        [
            [("👁 Read only", "api:scope:read"), ("✍️ Read and write", "api:scope:write")],
            [("⬅ Back", "api:back")],
        ],
    )
    return ConversationHandler.END


async def scope_button(update: Update, context: CustomContext) -> int:
    """Remember the scope; ask for the token's name."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    scope = (query.data or "").rsplit(":", 1)[-1]
    if context.user_data is not None:
        context.user_data[_SCOPE_KEY] = scope
    await edit(
        query,
        f"➕ <b>New {SCOPE_LABELS.get(scope, scope)} token</b>\n"
        "Send its name, so you know later where it is used (for example <i>n8n</i>).",
        [[("✖ Cancel", "api:back")]],
    )
    return NAMING


async def name_typed(update: Update, context: CustomContext) -> int:
    """Create the token and show it, once."""
    message = update.effective_message
    assert message is not None
    scope = (context.user_data or {}).pop(_SCOPE_KEY, api_tokens.READ)
    uid = user_id(update)
    try:
        row, token = await api_tokens.create(context.services, uid, message.text or "", scope)
    except api_tokens.TokenError as exc:
        await reply(update, escape(str(exc)))
        return ConversationHandler.END
    await reply(
        update,
        f"🔑 Your token <b>{escape(row.name)}</b> ({SCOPE_LABELS[row.scope]}):\n\n"
        f"<code>{token}</code>\n\n"
        "Copy it now: I show it only this once and keep only a fingerprint of it. Send it "
        "as <code>Authorization: Bearer …</code>. Tap below once it is saved.",
        [[("✅ I saved it", f"api:saved:{row.id}")]],
    )
    return ConversationHandler.END


async def saved_button(update: Update, context: CustomContext) -> None:
    """Take the token out of the chat."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    uid = user_id(update)
    text, rows = await screen(context.services, uid, await _timezone(context, uid))
    await edit(query, "🔑 The token is no longer shown here.\n\n" + text, rows)


async def back_button(update: Update, context: CustomContext) -> int:
    query = update.callback_query
    assert query is not None
    await query.answer()
    if context.user_data is not None:
        context.user_data.pop(_SCOPE_KEY, None)
    uid = user_id(update)
    text, rows = await screen(context.services, uid, await _timezone(context, uid))
    await edit(query, text, rows)
    return ConversationHandler.END


async def revoke_button(update: Update, context: CustomContext) -> None:
    """Revoke a token; requests with it are refused from this moment."""
    query = update.callback_query
    assert query is not None
    raw = (query.data or "").rsplit(":", 1)[-1]
    uid = user_id(update)
    done = raw.isdigit() and await api_tokens.revoke(context.services, uid, int(raw))
    await query.answer("Revoked: it no longer works." if done else "That token is gone already.")
    text, rows = await screen(context.services, uid, await _timezone(context, uid))
    await edit(query, text, rows)


def build() -> ConversationHandler:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    asks: list[BaseHandler[Update, Any, Any]] = [
        CallbackQueryHandler(stop_after(scope_button), pattern=r"^api:scope:(read|write)$")
    ]
    return ConversationHandler(
        entry_points=asks,
        states={
            NAMING: [
                MessageHandler(filters.TEXT & ~filters.COMMAND & private, stop_after(name_typed)),
                CallbackQueryHandler(stop_after(back_button), pattern=r"^api:back$"),
            ]
        },
        fallbacks=[*asks, *leave_otherwise()],
        name="api_token",
    )


def install(app: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    app.add_handler(build(), group=ASK_GROUP)
    app.add_handler(CommandHandler("api", api_command, filters=private))
    app.add_handler(CallbackQueryHandler(new_button, pattern=r"^api:new$"))
    app.add_handler(CallbackQueryHandler(back_button, pattern=r"^api:back$"))
    app.add_handler(CallbackQueryHandler(saved_button, pattern=r"^api:saved:\d{1,10}$"))
    app.add_handler(CallbackQueryHandler(revoke_button, pattern=r"^api:revoke:\d{1,10}$"))
