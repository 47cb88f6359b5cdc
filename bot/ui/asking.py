"""A question that reads the user's next message before the features do.

/timezone and /slots ask for a typed answer ("Berlin", "Mon-Fri 09:00"). Their small
conversations run in a handler group before group 0, so the answer isn't taken for a new
post by the compose flow's catch-all; each step stops the update there. Anything else (a
command, a photo, another button) ends the question and still reaches its own handler, so a
question the user walked away from never swallows a later message.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.services import CustomContext

#: Before the features (group 0), after the gate (-10).
ASK_GROUP = -1

Step = Callable[[Update, CustomContext], Coroutine[Any, Any, int]]


def stop_after(step: Step) -> Step:
    """Run a step of the question and keep the update from the features behind it."""

    async def run(update: Update, context: CustomContext) -> int:
        raise ApplicationHandlerStop(await step(update, context))

    run.__doc__ = step.__doc__
    run.__name__ = step.__name__
    return run


async def leave(update: Update, context: CustomContext) -> int:
    """Not an answer: end the question; the update goes on to its own handler."""
    return ConversationHandler.END


def leave_otherwise() -> list[BaseHandler[Update, Any, Any]]:
    """The fallbacks: whatever the question's steps don't take ends it."""
    return [MessageHandler(filters.ALL, leave), CallbackQueryHandler(leave)]
