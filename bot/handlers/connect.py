"""/connect: pick a platform, answer its questions, verified against the platform, saved.

Telegram channels are named or forwarded; every other platform's questions come from its
adapter's `connect_fields`. Answers live in memory only until the account is saved
(encrypted): a secret never touches the database in clear, and a message that carries one
is deleted from the chat as soon as it is read.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from html import escape

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageOriginChannel,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.accounts import connecting, oauth
from bot.services import CustomContext, Services
from bot.ui.chat import edit, parse_id, reply, user_id
from providers.base import ConnectField, Provider
from providers.errors import ProviderError
from storage.secrets import SecretsUnavailable

CHOOSE_PLATFORM, TELEGRAM_CHAT, FIELD = range(3)

CANCEL_ROW = [("✖ Cancel", "cn:cancel")]
#: Platforms offered, in this order, when their adapter is registered.
ORDER = (
    "telegram", "bluesky", "mastodon", "discord", "webhook", "x", "linkedin", "pinterest",
    "youtube", "facebook", "threads", "tiktok", "whatsapp",
)  # fmt: skip
ICONS = {
    "telegram": "📣", "bluesky": "🦋", "mastodon": "🐘", "discord": "🎮", "webhook": "🔗",
    "x": "𝕏", "linkedin": "💼", "pinterest": "📌", "youtube": "▶️", "facebook": "📘",
    "threads": "🧵", "tiktok": "🎵", "whatsapp": "💬",
}  # fmt: skip

_CHAT_LINK = re.compile(r"^(?:https?://)?(?:t\.me|telegram\.me)/([A-Za-z0-9_]{4,})/?$")
_USERNAME = re.compile(r"^@?([A-Za-z][A-Za-z0-9_]{3,31})$")
CHAT_REFERENCE = filters.Regex(
    r"^\s*(@[A-Za-z][A-Za-z0-9_]{3,31}|(https?://)?(t|telegram)\.me/[A-Za-z0-9_]{4,}/?"
    r"|-100\d{5,})\s*$"
)


@dataclass
class Wizard:
    """One user's answers so far (memory only)."""

    platform: str
    index: int = 0
    config: dict[str, str] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict, repr=False)


def _wizards(services: Services) -> dict[int, Wizard]:
    return services.scratch.setdefault("connect", {})  # type: ignore[no-any-return]


async def connect_command(update: Update, context: CustomContext) -> int:
    """Offer the platforms that can be connected; say what enables the others."""
    services = context.services
    registry = services.registry
    rows: list[list[tuple[str, str]]] = []
    waiting: list[str] = []
    for name in ORDER:
        provider = registry.get(name)
        if provider is None:
            continue
        if oauth.signs_in(provider):
            needs = oauth.missing(provider, services.settings, services.secrets.available)
            if needs:
                waiting.append(f"• {escape(provider.display_name)}: set {escape(needs)}")
                continue
        rows.append([(f"{ICONS.get(name, '•')} {_title(provider)}", f"cn:{name}")])
    text = "🔌 <b>Connect an account.</b> Where should I publish?"
    if waiting:
        text += (
            "\n\n<i>Not set up on this Crier yet (its operator can enable them):</i>\n"
            + "\n".join(waiting)
        )
    await reply(update, text, [*rows, CANCEL_ROW])
    return CHOOSE_PLATFORM


def _title(provider: Provider) -> str:
    if provider.platform == "telegram":
        return "Telegram channel or group"
    # One sign-in for several platforms (Meta: Facebook Pages and Instagram) says so.
    return str(getattr(provider, "sign_in_label", provider.display_name))


async def choose(update: Update, context: CustomContext) -> int:
    """Start the chosen platform's questions."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    platform = (query.data or "").removeprefix("cn:")
    services = context.services
    if platform == "telegram":
        me = context.bot.username
        await edit(
            query,
            f"📣 <b>Telegram channel</b>\n\n1. Add me (@{escape(me)}) to your channel as an "
            "admin with the <b>Post messages</b> right (for a group, just add me).\n"
            "2. Send me the channel's @username or t.me link — or forward me any post from it "
            "(that works for private channels too).",
            [CANCEL_ROW],
        )
        return TELEGRAM_CHAT
    provider = services.registry.get(platform)
    if provider is not None and oauth.signs_in(provider):
        await send_sign_in(query, services, user_id(update), provider)
        return ConversationHandler.END
    if provider is None or not provider.connect_fields:
        await edit(query, "That platform can't be connected here.")
        return ConversationHandler.END
    if any(f.secret for f in provider.connect_fields) and not services.secrets.available:
        await edit(
            query,
            f"🔒 This Crier can't store {escape(provider.display_name)} credentials safely yet: "
            "its operator needs to set CRIER_ENCRYPTION_KEY (<code>crier keygen</code> prints "
            "one). Telegram channels work without it.",
        )
        return ConversationHandler.END
    _wizards(services)[user_id(update)] = Wizard(platform=platform)
    await edit(query, _question(provider, 0), _question_rows(provider.connect_fields[0]))
    return FIELD


async def send_sign_in(
    query: CallbackQuery, services: Services, uid: int, provider: Provider
) -> None:
    """Replace the message with the platform's sign-in link (a button)."""
    name = escape(provider.display_name)
    try:
        link = await oauth.start(services, uid, provider.platform)
    except oauth.SignInError as exc:
        await edit(query, f"⚠️ {escape(str(exc))}")
        return
    minutes = oauth.LOGIN_TTL.seconds // 60
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(f"🔑 Sign in to {provider.display_name}", url=link)]]
    )
    await query.edit_message_text(
        f"{ICONS.get(provider.platform, '•')} <b>{name}</b>\n\nTap the button, sign in to "
        f"{name} and allow Crier to post for you. You'll come back here when it's done.\n\n"
        f"<i>The link is yours alone and works once, for {minutes} minutes.</i>",
        parse_mode="HTML",
        reply_markup=markup,
    )


async def picked(update: Update, context: CustomContext) -> None:
    """One of the destinations a sign-in offered was tapped: connect it."""
    query = update.callback_query
    assert query is not None
    parts = (query.data or "").split(":")
    login_id, index = parse_id(parts[1]), parse_id(parts[2], smallest=0, largest=99)
    if login_id is None or index is None:
        await query.answer("That choice isn't there any more.", show_alert=True)
        return
    services = context.services
    try:
        connected = await oauth.pick(services, user_id(update), login_id, index)
    except oauth.SignInError as exc:
        await query.answer(str(exc), show_alert=True)
        return
    except ProviderError as exc:
        await query.answer(exc.message[:200], show_alert=True)
        return
    await query.answer(f"Connected {connected.account.label}"[:200])
    provider = services.registry[connected.account.platform]
    await reply(update, oauth.connected_text(provider, connected))


async def reconnect(update: Update, context: CustomContext) -> None:
    """🔁 Reconnect on a notice about an expired sign-in: a fresh sign-in link."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    provider = context.services.registry.get((query.data or "").removeprefix("rc:"))
    if provider is None or not oauth.signs_in(provider):
        await query.answer("That platform can't be reconnected here.", show_alert=True)
        return
    await send_sign_in(query, context.services, user_id(update), provider)


def _question(provider: Provider, index: int) -> str:
    fields = provider.connect_fields
    asked = fields[index]
    text = (
        f"{ICONS.get(provider.platform, '•')} <b>{escape(provider.display_name)}</b> — "
        f"step {index + 1} of {len(fields)}\n\n{asked.prompt}"
    )
    if asked.secret:
        text += "\n\n🔒 I'll delete your message from this chat as soon as I've read it."
    return text


def _question_rows(asked: ConnectField) -> list[list[tuple[str, str]]]:
    rows: list[list[tuple[str, str]]] = []
    if asked.optional:
        rows.append([("Skip ➡", "cn:skip")])
    rows.append(CANCEL_ROW)
    return rows


async def answer(update: Update, context: CustomContext) -> int:
    """Take the answer to the current question; verify once all are in."""
    message = update.effective_message
    assert message is not None
    services = context.services
    wizard = _wizards(services).get(user_id(update))
    if wizard is None:
        # What was asked is gone with the restart: the answer may be a token, so it goes.
        await _delete(context, message)
        await reply(
            update,
            "That connection was interrupted (I restarted). I deleted your message in case "
            "it held a secret. Send /connect to start again.",
        )
        return ConversationHandler.END
    provider = services.registry[wizard.platform]
    asked = provider.connect_fields[wizard.index]
    value = (message.text or "").strip()
    if asked.secret:
        await _delete(context, message)
        await reply(update, "🔒 Got it — I deleted that message so the secret isn't left here.")
    if asked.pattern and not re.fullmatch(asked.pattern, value):
        hint = asked.hint or "That doesn't look right."
        await reply(update, f"⚠️ {escape(hint)}", _question_rows(asked))
        return FIELD
    (wizard.credentials if asked.secret else wizard.config)[asked.key] = value
    return await _next(update, context, wizard, provider)


async def skip(update: Update, context: CustomContext) -> int:
    query = update.callback_query
    assert query is not None
    services = context.services
    wizard = _wizards(services).get(user_id(update))
    if wizard is None:
        await query.answer()
        await edit(query, "That connection was interrupted. Send /connect again.")
        return ConversationHandler.END
    provider = services.registry[wizard.platform]
    if not provider.connect_fields[wizard.index].optional:
        await query.answer("This one is needed.", show_alert=True)
        return FIELD
    await query.answer()
    return await _next(update, context, wizard, provider)


async def _next(update: Update, context: CustomContext, wizard: Wizard, provider: Provider) -> int:
    wizard.index += 1
    if wizard.index < len(provider.connect_fields):
        asked = provider.connect_fields[wizard.index]
        await reply(update, _question(provider, wizard.index), _question_rows(asked))
        return FIELD
    await reply(update, f"⏳ Checking with {escape(provider.display_name)}…")
    services = context.services
    uid = user_id(update)
    try:
        result = await connecting.connect(
            services, uid, wizard.platform, wizard.config, wizard.credentials
        )
    except (ProviderError, SecretsUnavailable) as exc:
        text = exc.message if isinstance(exc, ProviderError) else str(exc)
        _wizards(services)[uid] = Wizard(platform=wizard.platform)
        await reply(
            update,
            f"⚠️ {escape(text)}\n\nLet's try again from the start.\n\n" + _question(provider, 0),
            _question_rows(provider.connect_fields[0]),
        )
        return FIELD
    _wizards(services).pop(uid, None)
    await _connected(update, result)
    return ConversationHandler.END


async def _connected(update: Update, result: connecting.Connected) -> None:
    label = escape(result.account.label)
    if result.new:
        text = f"✅ Connected <b>{label}</b>. Pick it when you schedule your next post."
    else:
        text = f"✅ <b>{label}</b> was already connected; I refreshed it."
    if result.notice:
        text += f"\n\n{result.notice}"
    await reply(update, text)


async def _delete(context: CustomContext, message: Message) -> None:
    # Bots may delete users' messages in a private chat for 48 hours; nothing else to do if not.
    with contextlib.suppress(TelegramError):
        await context.bot.delete_message(message.chat_id, message.message_id)


# -- Telegram channels ----------------------------------------------------------------------


async def telegram_chat(update: Update, context: CustomContext) -> int:
    """Verify the channel the user named or forwarded from, then save it."""
    message = update.effective_message
    assert message is not None
    chat_ref = _chat_reference(message)
    if chat_ref is None:  # a forward from a user or group, not a channel
        await reply(
            update,
            "That forward isn't from a channel. Send the channel's @username (like "
            "<code>@mychannel</code>) or its t.me link, or forward me a post from the channel.",
            [CANCEL_ROW],
        )
        return TELEGRAM_CHAT
    uid = user_id(update)
    try:
        result = await connecting.connect(
            context.services, uid, "telegram", {"chat": chat_ref, "user_id": uid}
        )
    except ProviderError as exc:
        await reply(update, f"⚠️ {escape(exc.message)}\n\nTry again, or /abort.", [CANCEL_ROW])
        return TELEGRAM_CHAT
    await _connected(update, result)
    return ConversationHandler.END


def _chat_reference(message: Message) -> str | int | None:
    origin = message.forward_origin
    if isinstance(origin, MessageOriginChannel):
        return origin.chat.id
    text = (message.text or "").strip()
    link = _CHAT_LINK.match(text)
    if link:
        return f"@{link.group(1)}"
    name = _USERNAME.match(text)
    if name:
        return f"@{name.group(1)}"
    if re.fullmatch(r"-100\d{5,}", text):
        return int(text)
    return None


async def cancel(update: Update, context: CustomContext) -> int:
    _wizards(context.services).pop(user_id(update), None)
    message = "✖ Cancelled. Nothing was connected."
    if update.callback_query:
        await update.callback_query.answer()
        await edit(update.callback_query, message)
    else:
        await reply(update, message)
    return ConversationHandler.END


def build() -> ConversationHandler:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    return ConversationHandler(
        entry_points=[CommandHandler("connect", connect_command, filters=private)],
        states={
            CHOOSE_PLATFORM: [
                CallbackQueryHandler(choose, pattern=r"^cn:(?!cancel$|skip$)[a-z_]+$")
            ],
            TELEGRAM_CHAT: [
                # Only what looks like a chat reference: other text falls through to compose.
                MessageHandler(private & (CHAT_REFERENCE | filters.FORWARDED), telegram_chat),
            ],
            FIELD: [
                MessageHandler(private & filters.TEXT & ~filters.COMMAND, answer),
                CallbackQueryHandler(skip, pattern=r"^cn:skip$"),
            ],
        },
        fallbacks=[
            CommandHandler("abort", cancel),
            CallbackQueryHandler(cancel, pattern=r"^cn:cancel$"),
        ],
        name="connect",
        persistent=True,
        allow_reentry=True,
    )


def install(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(build())
    # Buttons on notices, which may come long after /connect: outside the conversation.
    app.add_handler(CallbackQueryHandler(picked, pattern=r"^oa:[^:]+:[^:]+$"))
    app.add_handler(CallbackQueryHandler(reconnect, pattern=r"^rc:[a-z_]+$"))
