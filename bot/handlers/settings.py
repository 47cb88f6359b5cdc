"""/settings (the timezone and the ↩ Undo window after "Post now"), and /timezone: set it
by typing a city, zone, abbreviation or offset (matched fuzzily), or by sharing a location
(looked up offline, nothing leaves the machine).

While /timezone waits for an answer, the next text is read as a place, not as a new post
(see bot/ui/asking.py).
"""

from __future__ import annotations

from html import escape
from typing import Any

from telegram import KeyboardButton, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.constants import ParseMode
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
from bot.schedule.localtime import zone_names
from bot.schedule.parse import find_timezone
from bot.schedule.timezones import describe, match_timezone, timezone_at
from bot.services import CustomContext
from bot.ui.asking import ASK_GROUP, leave_otherwise, stop_after
from bot.ui.chat import NO_PREVIEW, Rows, drop_buttons, edit, reply, user_id

ASKING = 0
LOCATION_BUTTON = "📍 Share my location"
KEEP_BUTTON = "✖ Keep my timezone"
CANCEL_ROW = [(KEEP_BUTTON, "tz:cancel")]
#: IANA names fit in callback data ("tz:set:America/Argentina/Buenos_Aires" is 37 bytes).
SET_PATTERN = r"^tz:set:[A-Za-z0-9_+\-/]{1,56}$"


class _TimezoneName(filters.MessageFilter):
    """Text that is exactly an IANA timezone name, like Europe/Berlin."""

    def filter(self, message: Message) -> bool:
        return bool(message.text) and find_timezone(message.text or "") is not None


TIMEZONE_NAME = _TimezoneName()


def location_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(LOCATION_BUTTON, request_location=True)], [KeyboardButton(KEEP_BUTTON)]],
        resize_keyboard=True,
        one_time_keyboard=True,
        input_field_placeholder="A city, like Berlin",
    )


async def _send(
    update: Update, text: str, markup: ReplyKeyboardMarkup | ReplyKeyboardRemove
) -> None:
    assert update.effective_chat is not None
    await update.effective_chat.send_message(
        text, parse_mode=ParseMode.HTML, reply_markup=markup, link_preview_options=NO_PREVIEW
    )


async def current(context: CustomContext, uid: int) -> str:
    user = await users.get_user(context.services, uid)
    return user.timezone if user else context.services.settings.default_timezone


async def ask(update: Update, context: CustomContext) -> int:
    """Ask for a place or a location (also what /start's 🌍 button does)."""
    tz = await current(context, user_id(update))
    text = (
        f"🕒 Your timezone is <b>{escape(describe(tz, context.services.now()))}</b>.\n\n"
        "To change it, send your city (<i>Berlin</i>, <i>New York</i>, <i>Kyiv</i>), a zone "
        f"like <code>Europe/Berlin</code>, or tap <b>{LOCATION_BUTTON}</b> below: the "
        "location is looked up on this server and not kept."
    )
    await _send(update, text, location_keyboard())
    return ASKING


async def timezone_command(update: Update, context: CustomContext) -> int:
    """Show the timezone and ask for a new one, or set it from `/timezone berlin`."""
    if context.args:
        return await answer(update, context, " ".join(context.args))
    return await ask(update, context)


async def ask_button(update: Update, context: CustomContext) -> int:
    """🌍 on the welcome: ask for a place."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await drop_buttons(query)
    return await ask(update, context)


async def typed(update: Update, context: CustomContext) -> int:
    """Read the answer to "which timezone?"."""
    text = (update.effective_message.text or "").strip()  # type: ignore[union-attr]
    if text == KEEP_BUTTON:
        return await keep_typed(update, context)
    return await answer(update, context, text)


async def keep_typed(update: Update, context: CustomContext) -> int:
    """The keyboard's ✖ Keep (also after the question is over): change nothing."""
    tz = await current(context, user_id(update))
    await _send(update, f"🕒 Kept <b>{escape(tz)}</b>.", ReplyKeyboardRemove())
    return ConversationHandler.END


async def answer(update: Update, context: CustomContext, text: str) -> int:
    """Set the zone `text` names, or offer the likely ones as buttons and keep asking."""
    found = match_timezone(text, context.services.now())
    if found.exact:
        await set_timezone(update, context, found.exact)
        return ConversationHandler.END
    if not found.candidates:
        await reply(update, f"🤔 {escape(found.hint)}", [CANCEL_ROW])
        return ASKING
    rows: Rows = [
        [(found.labels.get(name, name.replace("_", " ")), f"tz:set:{name}")]
        for name in found.candidates
    ]
    await reply(update, f"🌍 {escape(found.hint)}", [*rows, CANCEL_ROW])
    return ASKING


async def located(update: Update, context: CustomContext) -> int:
    """A shared location: its zone, found offline."""
    location = update.effective_message.location  # type: ignore[union-attr]
    assert location is not None
    tz = timezone_at(location.latitude, location.longitude)
    if tz is None:
        await reply(
            update,
            "🌊 I can't find a timezone at that spot (out at sea?). Send your city instead.",
            [CANCEL_ROW],
        )
        return ASKING
    await set_timezone(update, context, tz)
    return ConversationHandler.END


async def picked(update: Update, context: CustomContext) -> int:
    """One of the offered zones was tapped."""
    query = update.callback_query
    assert query is not None
    tz = (query.data or "").removeprefix("tz:set:")
    if zone_names().get(tz.lower()) != tz:
        await query.answer("That button is not valid any more. Send /timezone.")
        return ConversationHandler.END
    await query.answer()
    await drop_buttons(query)
    await set_timezone(update, context, tz)
    return ConversationHandler.END


async def cancelled(update: Update, context: CustomContext) -> int:
    """✖ under a question: leave the timezone as it is."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    tz = await current(context, user_id(update))
    await edit(query, f"🕒 Kept <b>{escape(tz)}</b>.")
    await _send(update, "Send me something to post, or /help.", ReplyKeyboardRemove())
    return ConversationHandler.END


async def keep_or_default(update: Update, context: CustomContext) -> None:
    """The welcome's buttons: keep the current zone, or take the instance's default."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    uid = user_id(update)
    if query.data == "tz:default":
        tz = context.services.settings.default_timezone
    else:
        tz = await current(context, uid)
    await users.set_timezone(context.services, uid, tz)
    await edit(query, done_text(tz, context))


async def name_typed(update: Update, context: CustomContext) -> None:
    """A message that is exactly a zone name sets it, wherever the user is."""
    tz = find_timezone(update.effective_message.text or "")  # type: ignore[union-attr]
    assert tz is not None
    await set_timezone(update, context, tz)


async def set_timezone(update: Update, context: CustomContext, tz: str) -> None:
    await users.set_timezone(context.services, user_id(update), tz)
    await _send(update, done_text(tz, context), ReplyKeyboardRemove())


def done_text(tz: str, context: CustomContext) -> str:
    return (
        f"🕒 Timezone set to <b>{escape(describe(tz, context.services.now()))}</b>.\n"
        "Times you type are read there, and every time I show is in it.\n\n"
        "Send me a text, photo, video or album to start a post, or /help."
    )


# -- /settings ------------------------------------------------------------------------------------


def _settings_screen(tz: str, undo_seconds: int, context: CustomContext) -> tuple[str, Rows]:
    undo = f"{undo_seconds} s" if undo_seconds else "off"
    text = (
        "⚙️ <b>Settings</b>\n\n"
        f"🕒 Timezone: <b>{escape(describe(tz, context.services.now()))}</b> (/timezone)\n"
        f"↩ Undo after ⚡ Post now: <b>{undo}</b>\n"
        "<i>With Undo on, a post for now waits that long first, with an ↩ Undo button that "
        "puts it back as a draft with nothing sent.</i>"
    )
    choices = [
        (
            ("✅ " if seconds == undo_seconds else "") + (f"{seconds} s" if seconds else "Off"),
            f"set:undo:{seconds}",
        )
        for seconds in users.UNDO_CHOICES
    ]
    return text, [choices]


async def settings_command(update: Update, context: CustomContext) -> None:
    """Show the user's settings: timezone and the Undo window."""
    user = await users.get_user(context.services, user_id(update))
    tz = user.timezone if user else context.services.settings.default_timezone
    text, rows = _settings_screen(tz, user.undo_seconds if user else 0, context)
    await reply(update, text, rows)


async def undo_picked(update: Update, context: CustomContext) -> None:
    """One of the Undo windows was tapped."""
    query = update.callback_query
    assert query is not None
    raw = (query.data or "").removeprefix("set:undo:")
    uid = user_id(update)
    if raw.isdigit() and int(raw) in users.UNDO_CHOICES:
        seconds = int(raw)
        await users.set_undo_seconds(context.services, uid, seconds)
        await query.answer(f"Undo: {seconds} s" if seconds else "Undo off")
    else:
        await query.answer()
    user = await users.get_user(context.services, uid)
    tz = user.timezone if user else context.services.settings.default_timezone
    text, rows = _settings_screen(tz, user.undo_seconds if user else 0, context)
    await edit(query, text, rows)


def build() -> ConversationHandler:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    asks: list[BaseHandler[Update, Any, Any]] = [
        CommandHandler("timezone", stop_after(timezone_command), filters=private),
        CallbackQueryHandler(stop_after(ask_button), pattern=r"^tz:ask$"),
    ]
    return ConversationHandler(
        entry_points=asks,
        states={
            ASKING: [
                MessageHandler(filters.TEXT & ~filters.COMMAND & private, stop_after(typed)),
                MessageHandler(filters.LOCATION & private, stop_after(located)),
                CallbackQueryHandler(stop_after(picked), pattern=SET_PATTERN),
                CallbackQueryHandler(stop_after(cancelled), pattern=r"^tz:cancel$"),
            ],
        },
        fallbacks=[*asks, *leave_otherwise()],  # asking again starts over
        name="timezone",
    )


def install(app: Application) -> None:  # type: ignore[type-arg]
    """The question in its own group; the stateless buttons and messages in group 0 (before
    the compose flow, whose catch-all would take a zone name for a post)."""
    private = filters.ChatType.PRIVATE
    app.add_handler(build(), group=ASK_GROUP)
    app.add_handler(CommandHandler("settings", settings_command, filters=private))
    app.add_handler(CallbackQueryHandler(undo_picked, pattern=r"^set:undo:\d{1,3}$"))
    app.add_handler(CallbackQueryHandler(keep_or_default, pattern=r"^tz:(keep|default)$"))
    app.add_handler(CallbackQueryHandler(picked, pattern=SET_PATTERN))
    app.add_handler(CallbackQueryHandler(cancelled, pattern=r"^tz:cancel$"))
    app.add_handler(MessageHandler(filters.LOCATION & private, located))
    app.add_handler(MessageHandler(filters.Text([KEEP_BUTTON]) & private, keep_typed))
    app.add_handler(MessageHandler(private & TIMEZONE_NAME, name_typed))
