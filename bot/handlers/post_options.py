"""Compose, from the preview: the post's 🔗 URL buttons and its ⚙️ Telegram options.

Offered when a Telegram channel is among the accounts. Buttons are typed in the syntax
channel admins know from the posting bots, one line per row, " | " between buttons; a bad
line is named with why, and nothing is stored until every line is good. The options
keyboard sets silent, protect content, spoiler, link preview, pin and delete-after (a
duration, or a typed time) for this post, over the account's defaults (/accounts → ⚙️);
pin and delete-after are checked at once against the bot's rights in the channel. The
states sit in the compose conversation (bot/handlers/conversation.py) and come back to the
preview (bot/handlers/compose/preview.py); the same steps on a scheduled post being edited
(/edit, callback data "e:…") change only the staged edit and come back to the edit menu
(bot/handlers/edit/menu.py), stored with 💾 Save.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any

from telegram import Update

from bot.compose import editing
from bot.compose.options import draft as post_options
from bot.compose.posting import ComposeError
from bot.engine.options import values
from bot.handlers.compose.common import (
    BUTTONS,
    CANCEL_ROW,
    EDIT_BUTTONS,
    EDIT_OPTIONS,
    EDITING,
    OPTIONS,
    PREVIEW,
    user_timezone,
)
from bot.handlers.compose.preview import show_preview
from bot.handlers.edit import menu as edit_menu
from bot.schedule.localtime import format_when
from bot.schedule.parse import TimeParseError, parse_when
from bot.services import CustomContext
from bot.ui.chat import edit, reply, user_id
from providers.telegram_buttons import ParsedButtons, format_buttons

#: Callback data of an option's choice: c:o:<key>:<value> (e:o:… while editing).
_KEYS = "(silent|protect_content|spoiler|link_preview|pin|delete_after)"
OPTION_PATTERN = rf"^c:o:{_KEYS}:[a-z0-9]{{1,8}}$"
EDIT_OPTION_PATTERN = rf"^e:o:{_KEYS}:[a-z0-9]{{1,8}}$"


class GoneError(Exception):
    """The edit being made is gone (a restart dropped it)."""


class Mode:
    """The compose draft (stored at once), or a scheduled post's staged edit (stored with
    💾 Save): where the steps read and write, and where they go back to."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.editing = prefix == "e"
        self.buttons_state = EDIT_BUTTONS if self.editing else BUTTONS
        self.options_state = EDIT_OPTIONS if self.editing else OPTIONS
        self.home_state = EDITING if self.editing else PREVIEW
        label = "⬅ Back to the post" if self.editing else "⬅ Back to the preview"
        self.back_row = [(label, f"{prefix}:opt:back")]

    def _draft(self, context: CustomContext, uid: int) -> editing.EditDraft:
        draft = editing.current(context.services, uid)
        if draft is None:
            raise GoneError
        return draft

    async def read(self, context: CustomContext, uid: int) -> post_options.DraftOptions:
        if self.editing:
            return await post_options.read_edit(context.services, uid, self._draft(context, uid))
        return await post_options.read(context.services, uid)

    async def set_buttons(self, context: CustomContext, uid: int, text: str) -> ParsedButtons:
        if self.editing:
            return post_options.edit_buttons(self._draft(context, uid), text)
        return await post_options.set_buttons(context.services, uid, text)

    async def clear_buttons(self, context: CustomContext, uid: int) -> None:
        if self.editing:
            post_options.edit_clear_buttons(self._draft(context, uid))
        else:
            await post_options.clear_buttons(context.services, uid)

    async def set_option(self, context: CustomContext, uid: int, key: str, value: Any) -> None:
        if self.editing:
            post_options.edit_option(self._draft(context, uid), key, value)
        else:
            await post_options.set_option(context.services, uid, key, value)

    async def set_delete_at(self, context: CustomContext, uid: int, when: datetime) -> None:
        if self.editing:
            post_options.edit_delete_at(self._draft(context, uid), when)
        else:
            await post_options.set_delete_at(context.services, uid, when)

    async def home(self, update: Update, context: CustomContext, *, fresh: bool = False) -> int:
        if self.editing:
            return await edit_menu.show(update, context, fresh=fresh)
        return await show_preview(update, context, fresh=fresh)


COMPOSE = Mode("c")
EDIT = Mode("e")


def _mode(update: Update) -> Mode:
    data = update.callback_query.data if update.callback_query else None
    return EDIT if (data or "").startswith("e:") else COMPOSE


BUTTONS_HELP = (
    "🔗 <b>Buttons under the post.</b> Send one line per row of buttons, each button as its "
    "text, a dash and its link, and <code> | </code> between buttons on one row:\n\n"
    "<code>Our site - https://example.com | Shop - https://shop.example.com\n"
    "Join the chat - tg://resolve?domain=examplechat</code>\n\n"
    "Links can be https://, http:// or tg://. Telegram shows up to 8 buttons in a row."
)


# -- buttons --------------------------------------------------------------------------------


async def _failed(update: Update, mode: Mode, exc: Exception) -> int:
    """The draft or the edit went away (or a refusal): say so, and go where it makes sense."""
    if isinstance(exc, GoneError):
        return await edit_menu.gone(update)
    await reply(update, f"⚠️ {escape(str(exc))}", [mode.back_row])
    return mode.home_state


async def ask_buttons(update: Update, context: CustomContext) -> int:
    """Ask for the post's buttons, showing the ones it has."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    mode = _mode(update)
    try:
        shown = await mode.read(context, user_id(update))
    except (ComposeError, GoneError) as exc:
        return await _failed(update, mode, exc)
    text = BUTTONS_HELP
    rows: list[list[tuple[str, str]]] = []
    if shown.buttons:
        text += (
            "\n\nThe post has these now (send new ones to replace them):\n"
            f"<code>{escape(format_buttons(shown.buttons))}</code>"
        )
        rows.append([("🗑 Remove the buttons", f"{mode.prefix}:btn:rm")])
    rows.append(mode.back_row)
    await edit(query, text, rows)
    return mode.buttons_state


async def _typed(update: Update, context: CustomContext, mode: Mode) -> int:
    message = update.effective_message
    assert message is not None
    try:
        parsed = await mode.set_buttons(context, user_id(update), message.text or "")
    except GoneError as exc:
        return await _failed(update, mode, exc)
    except ComposeError as exc:
        await reply(update, f"⚠️ {escape(str(exc))}", [mode.back_row])
        return mode.buttons_state
    if not parsed.ok:
        errors = "\n".join(f"• {escape(error.message)}" for error in parsed.errors)
        await reply(
            update,
            f"⚠️ I can't use these buttons, so nothing was saved:\n{errors}\n\n"
            "Send all the lines again, fixed.",
            [mode.back_row],
        )
        return mode.buttons_state
    return await mode.home(update, context, fresh=True)


async def buttons_typed(update: Update, context: CustomContext) -> int:
    """Store the typed buttons, or name each bad line and store nothing."""
    return await _typed(update, context, COMPOSE)


async def edit_buttons_typed(update: Update, context: CustomContext) -> int:
    """Stage the typed buttons on the post being edited, or name each bad line."""
    return await _typed(update, context, EDIT)


async def remove_buttons(update: Update, context: CustomContext) -> int:
    """The post goes without buttons."""
    assert update.callback_query is not None
    mode = _mode(update)
    try:
        await mode.clear_buttons(context, user_id(update))
    except (ComposeError, GoneError) as exc:
        await update.callback_query.answer()
        return await _failed(update, mode, exc)
    await update.callback_query.answer("Buttons removed")
    return await mode.home(update, context)


async def album_choice(update: Update, context: CustomContext) -> int:
    """An album's buttons: a message right under it, or dropped."""
    query = update.callback_query
    assert query is not None
    mode = _mode(update)
    choice = (query.data or "").rsplit(":", 1)[-1]
    try:
        await mode.set_option(context, user_id(update), values.ALBUM_BUTTONS, choice)
    except (ComposeError, GoneError) as exc:
        await query.answer()
        return await _failed(update, mode, exc)
    await query.answer()
    return await mode.home(update, context)


# -- options --------------------------------------------------------------------------------


def _mark(on: bool, label: str) -> str:
    return ("✅ " if on else "▫️ ") + label


def _choices(
    prefix: str, key: str, current: Any, choices: dict[str, str] | list[tuple[str, str]]
) -> list[tuple[str, str]]:
    items = choices.items() if isinstance(choices, dict) else choices
    return [
        (("✓ " if value == current else "") + label, f"{prefix}:o:{key}:{value}")
        for value, label in items
    ]


def options_screen(
    mode: Mode,
    shown: post_options.DraftOptions,
    tz: str,
    now: datetime,
    problems: Sequence[str] = (),
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
    preview = values.LINK_PREVIEWS.get(chosen.get(values.LINK_PREVIEW, "auto"), "Auto")
    lines = [
        f"⚙️ <b>Telegram options</b> for this post on {names}",
        "",
        "🔕 <b>Silent</b>: members get it without a sound.",
        "🛡 <b>Protect content</b>: it can't be forwarded or saved.",
        "🫥 <b>Spoiler</b>: photos and videos blurred until tapped.",
        f"🔗 <b>Link preview</b> of a text post: {preview}.",
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
    p = mode.prefix
    rows = [
        [
            (_mark(bool(chosen.get(values.SILENT)), "Silent"), _flip(p, values.SILENT, chosen)),
            (_mark(bool(chosen.get(values.PROTECT)), "Protect"), _flip(p, values.PROTECT, chosen)),
            (_mark(bool(chosen.get(values.SPOILER)), "Spoiler"), _flip(p, values.SPOILER, chosen)),
        ],
        _choices(p, values.LINK_PREVIEW, chosen.get(values.LINK_PREVIEW), values.LINK_PREVIEWS),
        _choices(
            p,
            values.PIN,
            chosen.get(values.PIN),
            [("off", "📌 No pin"), ("silent", "Pin silently"), ("notify", "Pin + notify")],
        ),
        _choices(p, values.DELETE_AFTER, delete_value, durations[:4]),
        _choices(p, values.DELETE_AFTER, delete_value, durations[4:]),
        mode.back_row,
    ]
    return "\n".join(lines), rows


def _flip(prefix: str, key: str, chosen: dict[str, Any]) -> str:
    return f"{prefix}:o:{key}:{0 if chosen.get(key) else 1}"


async def _show(update: Update, context: CustomContext, mode: Mode, *, fresh: bool) -> int:
    """The options keyboard, with what the bot's rights won't allow of it."""
    services = context.services
    uid = user_id(update)
    try:
        shown = await mode.read(context, uid)
    except (ComposeError, GoneError) as exc:
        return await _failed(update, mode, exc)
    if not shown.channels:
        await reply(update, "These options are for Telegram channels; none is picked.")
        return await mode.home(update, context, fresh=True)
    tz, _ = await user_timezone(services, uid)
    chosen = shown.values
    wants_rights = chosen.get(values.PIN) != "off" or values.delete_after(
        chosen, shown.post.publish_at
    )
    problems = await post_options.rights_problems(services, shown) if wants_rights else []
    text, rows = options_screen(mode, shown, tz, services.now(), problems)
    if update.callback_query and not fresh:
        await edit(update.callback_query, text, rows)
    else:
        await reply(update, text, rows)
    return mode.options_state


async def open_options(update: Update, context: CustomContext) -> int:
    """The options keyboard in place of the preview (or the edit menu)."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    return await _show(update, context, _mode(update), fresh=False)


async def option_button(update: Update, context: CustomContext) -> int:
    """Set the option tapped and redraw the keyboard (rights checked where they matter)."""
    query = update.callback_query
    assert query is not None
    mode = _mode(update)
    _, _, key, raw = (query.data or "").split(":", 3)
    value: Any = raw == "1" if key in (values.SILENT, values.PROTECT, values.SPOILER) else raw
    try:
        await mode.set_option(context, user_id(update), key, value)
    except GoneError as exc:
        await query.answer()
        return await _failed(update, mode, exc)
    except ComposeError as exc:
        await query.answer(str(exc), show_alert=True)
        return mode.options_state
    await query.answer()
    return await _show(update, context, mode, fresh=False)


async def _delete_time(update: Update, context: CustomContext, mode: Mode) -> int:
    services = context.services
    uid = user_id(update)
    message = update.effective_message
    assert message is not None
    tz, language = await user_timezone(services, uid)
    now = services.now()
    try:
        when = parse_when(message.text or "", tz, now, language)
        shown = await mode.read(context, uid)
    except GoneError as exc:
        return await _failed(update, mode, exc)
    except (TimeParseError, ComposeError) as exc:
        await reply(update, f"⚠️ {escape(str(exc))}", [mode.back_row])
        return mode.options_state
    start = shown.post.publish_at or now
    after = when - start
    if after < values.MIN_DELETE_AFTER or after > values.MAX_DELETE_AFTER:
        await reply(
            update,
            "⚠️ Pick a time between 1 hour and 30 days after the post goes out "
            f"({escape(format_when(start, tz, now))}).",
            [mode.back_row],
        )
        return mode.options_state
    await mode.set_delete_at(context, uid, when)
    return await _show(update, context, mode, fresh=True)


async def delete_time_typed(update: Update, context: CustomContext) -> int:
    """A typed time to delete the post at: after it goes out, within 30 days of that."""
    return await _delete_time(update, context, COMPOSE)


async def edit_delete_time_typed(update: Update, context: CustomContext) -> int:
    """The same, on the post being edited."""
    return await _delete_time(update, context, EDIT)


async def back(update: Update, context: CustomContext) -> int:
    """Back to the preview (or the edit menu)."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    return await _mode(update).home(update, context)


async def nudge(update: Update, context: CustomContext) -> int | None:
    await reply(
        update, "Use the buttons above, or go back to the preview.", [COMPOSE.back_row, CANCEL_ROW]
    )
    return None
