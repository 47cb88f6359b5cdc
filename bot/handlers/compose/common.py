"""Shared pieces of the compose conversation: its states, filters, and the ways out."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    ConversationHandler,
    filters,
)

from bot.compose import posting
from bot.services import CustomContext
from bot.ui.chat import edit, reply, user_id

(
    COMPOSING,
    PICK_ACCOUNTS,
    PICK_TIME,
    PREVIEW,
    EDIT_TEXT,
    ALT_TEXT,
    REPEAT,  # compose_repeat.py: the menu, then a typed rule, count or end day
    REPEAT_RULE,
    REPEAT_COUNT,
    REPEAT_UNTIL,
    TEMPLATE_NAME,  # handlers/templates.py: the name of a template being saved
    OVERRIDE_TEXT,  # compose_preview.py: one account's own text ("Customize for X")
    EDITING,  # handlers/edit.py: editing a scheduled post, its menu and preview
    EDIT_POST_TEXT,  # ... its new text
    EDIT_MEDIA,  # ... new photos and videos
    EDIT_TIME,  # ... a new time
    EDIT_ACCOUNTS,  # ... its accounts
    EDIT_OVERRIDE,  # ... one account's own text
) = range(18)

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
