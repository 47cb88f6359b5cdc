"""What runs around every update: registration, private-chat only, stale buttons, errors."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ConversationHandler,
    TypeHandler,
)

from bot.accounts import users
from bot.admin import access, alerts
from bot.handlers.compose.content import add_content, first_content
from bot.handlers.inbound import FairUpdates
from bot.ops import metrics
from bot.services import CustomContext
from bot.ui.chat import reply
from storage.models import UserStatus

log = logging.getLogger(__name__)

#: Handler groups: the gate first, features in 0, persistence last.
GATE_GROUP = -10
PERSIST_GROUP = 100
#: The compose steps that take a message as content for the draft.
DRAFT_CONTENT = (add_content, first_content)


async def gate(update: Update, context: CustomContext) -> None:
    """Register the sender; ignore anything that isn't a private chat with a person."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type != "private" or user.is_bot:
        raise ApplicationHandlerStop
    processor = context.application.update_processor
    if isinstance(processor, FairUpdates):
        arrival = processor.arrival(update)
        # Over the budget: a batch of texts or forwards for the post is still added (the
        # status message is edited, not repeated); anything else would be a reply each.
        if arrival.over and not is_draft_content(context.application, update):
            reporter = alerts.of(context.application)
            await access.over_budget(context.services, user.id, update, arrival.resume_in, reporter)
            raise ApplicationHandlerStop
    verdict = await access.screen(context.services, user.id, update)  # issue 7: allow-list
    if not verdict.allowed:
        await access.tell(update, verdict.message)
        raise ApplicationHandlerStop
    record, _created = await users.ensure_user(
        context.services,
        user_id=user.id,
        chat_id=chat.id,
        first_name=user.first_name,
        username=user.username,
        language=user.language_code,
    )
    if record.status == UserStatus.BANNED:
        if update.callback_query:
            await update.callback_query.answer("Your access to this bot is suspended.")
        elif update.message and (notice := await access.ban_notice(context.services, record.id)):
            await reply(update, notice)  # issue 7: told once per ban
        raise ApplicationHandlerStop


def is_draft_content(app: Application, update: Update) -> bool:  # type: ignore[type-arg]
    """Would the handler PTB picks for this update add it to the draft being composed?"""
    for handler in app.handlers.get(0, ()):
        check = handler.check_update(update)
        if check is None or check is False:
            continue
        if isinstance(handler, ConversationHandler) and isinstance(check, tuple):
            step = check[2]
            return getattr(step, "callback", None) in DRAFT_CONTENT
        return False
    return False


async def membership(update: Update, context: CustomContext) -> None:
    """The user blocked or unblocked the bot: notices stop or resume."""
    change = update.my_chat_member
    assert change is not None
    blocked = change.new_chat_member.status in ("kicked", "left")
    await users.set_user_status(
        context.services,
        change.from_user.id,
        UserStatus.BLOCKED if blocked else UserStatus.ACTIVE,
    )


async def stale_button(update: Update, context: CustomContext) -> None:
    """A button whose conversation step is over (or forged data): say so, change nothing."""
    query = update.callback_query
    assert query is not None
    await query.answer("This button has expired. Send /new to start a post.", show_alert=False)


async def abort_outside(update: Update, context: CustomContext) -> None:
    await reply(update, "Nothing to cancel right now. Send /new to start a post.")


async def persist(update: Update, context: CustomContext) -> None:
    """Write conversation states now rather than at the next persistence interval."""
    await context.application.update_persistence()


async def on_error(update: object, context: CustomContext) -> None:
    """Log the error with its context (ids, never payloads), report unexpected ones to the
    admins (rate-limited per kind), and tell the user something went wrong."""
    error = context.error
    if error is None:
        return
    handler, where = alerts.error_origin(error)
    fields: dict[str, object] = {"handler": handler, "where": where, "error": type(error).__name__}
    if isinstance(update, Update):
        fields["update_id"] = update.update_id
        if update.effective_user is not None:
            fields["user_id"] = update.effective_user.id
    elif context.job is not None:
        fields["job"] = context.job.name
    if isinstance(error, EXPECTED_ERRORS):
        # Telegram unreachable or the user blocked the bot mid-reply: nothing to fix.
        log.warning("update.telegram_error", extra={"reason": str(error), **fields})
    else:
        log.error("update.failed", exc_info=error, extra=fields)
        metrics.HANDLER_ERRORS.labels(type(error).__name__).inc()
        reporter = alerts.of(context.application)
        if reporter is not None:
            ids = ", ".join(f"{k} {v}" for k, v in fields.items() if k.endswith("_id"))
            await reporter.report_error(
                error, where=where, detail=f"Handler: {handler}" + (f" ({ids})" if ids else "")
            )
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            if update.callback_query:
                await update.callback_query.answer()
            await update.effective_chat.send_message(
                "😕 Something went wrong on my side. Nothing you scheduled is lost; "
                "please try that again in a moment."
            )
        except Exception:  # the error handler must never raise
            log.warning("update.error_reply_failed", extra=fields)


#: Errors that are Telegram's weather, not Crier's bugs: logged, not reported to admins.
EXPECTED_ERRORS = (NetworkError, RetryAfter, Forbidden)


def install_gate(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(TypeHandler(Update, gate), group=GATE_GROUP)
    app.add_handler(ChatMemberHandler(membership, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(TypeHandler(Update, persist), group=PERSIST_GROUP)
    app.add_error_handler(on_error)


def install_fallbacks(app: Application) -> None:  # type: ignore[type-arg]
    """Last in group 0: they run only when no feature handler took the update."""
    app.add_handler(CommandHandler("abort", abort_outside))
    app.add_handler(CallbackQueryHandler(stale_button))
