"""Shared pieces of the compose conversation: its states, filters, the ways out, and the
time question several steps go back to (the accounts' Next, the preview's Change time, the
queue when it has no slot, a resumed draft)."""

from __future__ import annotations

from html import escape

from telegram import Update
from telegram.ext import (
    ConversationHandler,
    filters,
)

from bot.accounts import users
from bot.compose import posting
from bot.schedule.timezones import describe
from bot.services import CustomContext, Services
from bot.ui.chat import Rows, edit, reply, user_id

(
    COMPOSING,
    PICK_ACCOUNTS,
    PICK_TIME,
    PREVIEW,
    EDIT_TEXT,
    ALT_TEXT,
    REPEAT,  # repeat.py: the menu, then a typed rule, count or end day
    REPEAT_RULE,
    REPEAT_COUNT,
    REPEAT_UNTIL,
    TEMPLATE_NAME,  # handlers/posts/templates.py: the name of a template being saved
    OVERRIDE_TEXT,  # preview.py: one account's own text ("Customize for X")
    EDITING,  # handlers/edit/menu.py: editing a scheduled post, its menu and preview
    EDIT_POST_TEXT,  # ... its new text
    EDIT_MEDIA,  # ... new photos and videos
    EDIT_TIME,  # ... a new time
    EDIT_ACCOUNTS,  # ... its accounts
    EDIT_OVERRIDE,  # ... one account's own text
    BUTTONS,  # handlers/post_options.py: the draft's URL buttons, typed
    OPTIONS,  # ... its Telegram options keyboard (and a typed time to delete it)
    EDIT_BUTTONS,  # ... the same two, on a scheduled post being edited
    EDIT_OPTIONS,
) = range(22)

#: How long to wait for the rest of an album before showing the draft's status.
ALBUM_SETTLE_SECONDS = 1.0

#: The ways out of the compose flow: keep the post in /drafts, or drop it.
CANCEL_ROW = [("💾 Keep as draft", "c:keep"), ("✖ Cancel", "c:cancel")]
ALT_BUTTON = "🖼 Add alt text"

CONTENT = (
    (filters.TEXT | filters.PHOTO | filters.VIDEO | filters.ANIMATION | filters.Document.ALL)
    & ~filters.COMMAND
    & filters.ChatType.PRIVATE
)
#: Forwarded content: starts a new post rather than answering the step's question.
FORWARDED = CONTENT & filters.FORWARDED


async def nudge(update: Update, context: CustomContext) -> int | None:
    """A message that doesn't fit the current step: say what the step expects."""
    await reply(
        update,
        "Finish this post first with the buttons above, or /abort to drop it.",
    )
    return None


async def abort(update: Update, context: CustomContext) -> int:
    """Leave the compose flow without saving anything."""
    await posting.discard_draft(context.services, user_id(update))
    message = "✖ Cancelled. Nothing was scheduled."
    if update.callback_query:
        await update.callback_query.answer()
        await edit(update.callback_query, message)
    else:
        await reply(update, message)
    return ConversationHandler.END


# -- the time question (asked from the accounts, the preview, the queue, a resumed draft) ----

TIME_ROWS: Rows = [
    [("⚡ Now", "c:t:now"), ("In 1 hour", "c:t:1h"), ("Tomorrow 09:00", "c:t:tom9")],
    [("📅 Pick a date", "c:t:cal"), ("➕ Add to queue", "c:t:q")],
    [("⬅ Accounts", "c:chacc"), *CANCEL_ROW],
]


async def user_timezone(services: Services, uid: int) -> tuple[str, str | None]:
    """The user's zone and language (for reading typed times)."""
    user = await users.get_user(services, uid)
    if user is None:
        return services.settings.default_timezone, None
    return user.timezone, user.language


async def ask_time(update: Update, context: CustomContext, problem: str | None = None) -> None:
    services = context.services
    tz, _ = await user_timezone(services, user_id(update))
    text = (
        "🕒 <b>When?</b> Tap a button, or type a time like <i>in 2 hours</i>, "
        "<i>tomorrow 9am</i>, <i>fri 18:30</i> or <i>2026-12-24 18:00</i>.\n"
        f"Times are in {escape(describe(tz, services.now()))}; /timezone changes it."
    )
    if problem:
        text = f"⚠️ {escape(problem)}\n\n{text}"
    if update.callback_query and not problem:
        await edit(update.callback_query, text, TIME_ROWS)
    else:
        await reply(update, text, TIME_ROWS)
