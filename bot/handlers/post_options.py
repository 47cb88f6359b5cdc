"""Compose, from the preview: the post's 🔗 URL buttons and its ⚙️ Telegram options.

Offered when a Telegram channel is among the accounts. Buttons are typed in the syntax
channel admins know from the posting bots, one line per row, " | " between buttons; a bad
line is named with why, and nothing is stored until every line is good. The options
keyboard sets silent, protect content, spoiler, link preview, pin and delete-after (a
duration, or a typed time) for this post, over the account's defaults (/accounts → ⚙️);
pin and delete-after are checked at once against the bot's rights in the channel. Both
states sit in the compose conversation (bot/handlers/conversation.py) and come back to the
preview (bot/handlers/compose/preview.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any

from telegram import Update

from bot.compose.options import draft as post_options
from bot.compose.posting import ComposeError
from bot.engine.options import values
from bot.handlers.compose.common import BUTTONS, CANCEL_ROW, OPTIONS, PREVIEW, user_timezone
from bot.handlers.compose.preview import show_preview
from bot.schedule.localtime import format_when
from bot.schedule.parse import TimeParseError, parse_when
from bot.services import CustomContext
from bot.ui.chat import edit, reply, user_id
from providers.telegram_buttons import format_buttons

#: Callback data of an option's choice: c:o:<key>:<value>.
OPTION_PATTERN = (
    r"^c:o:(silent|protect_content|spoiler|link_preview|pin|delete_after):[a-z0-9]{1,8}$"
)
BACK = [("⬅ Back to the preview", "c:opt:back")]

BUTTONS_HELP = (
    "🔗 <b>Buttons under the post.</b> Send one line per row of buttons, each button as its "
    "text, a dash and its link, and <code> | </code> between buttons on one row:\n\n"
    "<code>Our site - https://example.com | Shop - https://shop.example.com\n"
    "Join the chat - tg://resolve?domain=examplechat</code>\n\n"
    "Links can be https://, http:// or tg://. Telegram shows up to 8 buttons in a row."
)


# -- buttons --------------------------------------------------------------------------------


async def ask_buttons(update: Update, context: CustomContext) -> int:
    """Ask for the post's buttons, showing the ones it has."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    try:
        shown = await post_options.read(context.services, user_id(update))
    except ComposeError as exc:
        await reply(update, f"⚠️ {escape(str(exc))}")
        return PREVIEW
    text = BUTTONS_HELP
    rows: list[list[tuple[str, str]]] = []
    if shown.buttons:
        text += (
            "\n\nThe post has these now (send new ones to replace them):\n"
            f"<code>{escape(format_buttons(shown.buttons))}</code>"
        )
        rows.append([("🗑 Remove the buttons", "c:btn:rm")])
    rows.append(BACK)
    await edit(query, text, rows)
    return BUTTONS


async def buttons_typed(update: Update, context: CustomContext) -> int:
    """Store the typed buttons, or name each bad line and store nothing."""
    message = update.effective_message
    assert message is not None
    try:
        parsed = await post_options.set_buttons(
            context.services, user_id(update), message.text or ""
        )
    except ComposeError as exc:
        await reply(update, f"⚠️ {escape(str(exc))}", [BACK])
        return BUTTONS
    if not parsed.ok:
        errors = "\n".join(f"• {escape(error.message)}" for error in parsed.errors)
        await reply(
            update,
            f"⚠️ I can't use these buttons, so nothing was saved:\n{errors}\n\n"
            "Send all the lines again, fixed.",
            [BACK],
        )
        return BUTTONS
    return await show_preview(update, context, fresh=True)


async def remove_buttons(update: Update, context: CustomContext) -> int:
    """The post goes without buttons."""
    assert update.callback_query is not None
    await update.callback_query.answer("Buttons removed")
    await post_options.clear_buttons(context.services, user_id(update))
    return await show_preview(update, context)


async def album_choice(update: Update, context: CustomContext) -> int:
    """An album's buttons: a message right under it, or dropped."""
    query = update.callback_query
    assert query is not None
    choice = (query.data or "").rsplit(":", 1)[-1]
    try:
        await post_options.set_option(
            context.services, user_id(update), values.ALBUM_BUTTONS, choice
        )
    except ComposeError as exc:
        await query.answer(str(exc), show_alert=True)
        return PREVIEW
    await query.answer()
    return await show_preview(update, context)


# -- options --------------------------------------------------------------------------------


def _mark(on: bool, label: str) -> str:
    return ("✅ " if on else "▫️ ") + label


def _choices(
    key: str, current: Any, choices: dict[str, str] | list[tuple[str, str]]
) -> list[tuple[str, str]]:
    items = choices.items() if isinstance(choices, dict) else choices
    return [
        (("✓ " if value == current else "") + label, f"c:o:{key}:{value}") for value, label in items
    ]


def options_screen(
    shown: post_options.DraftOptions, tz: str, now: datetime, problems: Sequence[str] = ()
) -> tuple[str, list[list[tuple[str, str]]]]:
    """The options as this post will go out, and the keyboard that changes them."""
    chosen = shown.values
    names = ", ".join(escape(a.label) for a in shown.channels)
    at = values.fixed_time(chosen.get(values.DELETE_AT))
    if at is not None:
        deleting = f"at {escape(format_when(at, tz, now))}"
    else:
        deleting = post_options.duration_words(chosen.get(values.DELETE_AFTER))
        deleting = "never" if deleting == "never" else f"{deleting} after it is out"
    lines = [
        f"⚙️ <b>Telegram options</b> for this post on {names}",
        "",
        "🔕 <b>Silent</b>: members get it without a sound.",
        "🛡 <b>Protect content</b>: it can't be forwarded or saved.",
        "🫥 <b>Spoiler</b>: photos and videos blurred until tapped.",
        "🔗 <b>Link preview</b> of a text post: "
        f"{values.LINK_PREVIEWS.get(chosen.get(values.LINK_PREVIEW, 'auto'), 'Auto')}.",
        f"📌 <b>Pin</b> after publishing: {values.PINS.get(chosen.get(values.PIN, 'off'), 'No')}.",
        f"🗑 <b>Delete</b>: {deleting}. Or type a time to delete it at, like "
        "<i>tomorrow 18:00</i> or <i>in 3 days</i>.",
        "",
        "Your defaults for new posts are in /accounts → ⚙️.",
    ]
    if problems:
        lines += ["", *(f"⚠️ {escape(p)}" for p in problems)]
    delete_value = "" if at is not None else str(chosen.get(values.DELETE_AFTER, "off"))
    durations = [("off", "Never"), *((k, k) for k in values.DURATIONS)]
    rows = [
        [
            (_mark(bool(chosen.get(values.SILENT)), "Silent"), _flip(values.SILENT, chosen)),
            (_mark(bool(chosen.get(values.PROTECT)), "Protect"), _flip(values.PROTECT, chosen)),
            (_mark(bool(chosen.get(values.SPOILER)), "Spoiler"), _flip(values.SPOILER, chosen)),
        ],
        _choices(values.LINK_PREVIEW, chosen.get(values.LINK_PREVIEW), values.LINK_PREVIEWS),
        _choices(
            values.PIN,
            chosen.get(values.PIN),
            [("off", "📌 No pin"), ("silent", "Pin silently"), ("notify", "Pin + notify")],
        ),
        _choices(values.DELETE_AFTER, delete_value, durations[:4]),
        _choices(values.DELETE_AFTER, delete_value, durations[4:]),
        BACK,
    ]
    return "\n".join(lines), rows


def _flip(key: str, chosen: dict[str, Any]) -> str:
    return f"c:o:{key}:{0 if chosen.get(key) else 1}"


async def _show(
    update: Update, context: CustomContext, shown: post_options.DraftOptions, fresh: bool
) -> int:
    services = context.services
    uid = user_id(update)
    tz, _ = await user_timezone(services, uid)
    chosen = shown.values
    wants_rights = chosen.get(values.PIN) != "off" or values.delete_after(
        chosen, shown.post.publish_at
    )
    problems = await post_options.rights_problems(services, uid) if wants_rights else []
    text, rows = options_screen(shown, tz, services.now(), problems)
    if update.callback_query and not fresh:
        await edit(update.callback_query, text, rows)
    else:
        await reply(update, text, rows)
    return OPTIONS


async def open_options(update: Update, context: CustomContext) -> int:
    """The options keyboard in place of the preview."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    try:
        shown = await post_options.read(context.services, user_id(update))
    except ComposeError as exc:
        await reply(update, f"⚠️ {escape(str(exc))}")
        return PREVIEW
    if not shown.channels:
        await reply(update, "These options are for Telegram channels; none is picked.")
        return await show_preview(update, context, fresh=True)
    return await _show(update, context, shown, fresh=False)


async def option_button(update: Update, context: CustomContext) -> int:
    """Set the option tapped and redraw the keyboard (rights checked where they matter)."""
    query = update.callback_query
    assert query is not None
    _, _, key, raw = (query.data or "").split(":", 3)
    value: Any = raw == "1" if key in (values.SILENT, values.PROTECT, values.SPOILER) else raw
    try:
        shown = await post_options.set_option(context.services, user_id(update), key, value)
    except ComposeError as exc:
        await query.answer(str(exc), show_alert=True)
        return OPTIONS
    await query.answer()
    return await _show(update, context, shown, fresh=False)


async def delete_time_typed(update: Update, context: CustomContext) -> int:
    """A typed time to delete the post at: after it goes out, within 30 days of that."""
    services = context.services
    uid = user_id(update)
    message = update.effective_message
    assert message is not None
    tz, language = await user_timezone(services, uid)
    now = services.now()
    try:
        when = parse_when(message.text or "", tz, now, language)
        shown = await post_options.read(services, uid)
    except (TimeParseError, ComposeError) as exc:
        await reply(update, f"⚠️ {escape(str(exc))}", [BACK])
        return OPTIONS
    start = shown.post.publish_at or now
    after = when - start
    if after < values.MIN_DELETE_AFTER or after > values.MAX_DELETE_AFTER:
        await reply(
            update,
            "⚠️ Pick a time between 1 hour and 30 days after the post goes out "
            f"({escape(format_when(start, tz, now))}).",
            [BACK],
        )
        return OPTIONS
    shown = await post_options.set_delete_at(services, uid, when)
    return await _show(update, context, shown, fresh=True)


async def back(update: Update, context: CustomContext) -> int:
    """Back to the preview."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    return await show_preview(update, context)


async def nudge(update: Update, context: CustomContext) -> int | None:
    await reply(update, "Use the buttons above, or go back to the preview.", [BACK, CANCEL_ROW])
    return None
