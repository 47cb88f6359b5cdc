"""The ↩ Undo after "Post now": the words and the button, and taking the button away when
the window ends (a JobQueue timer named after the post; Undo cancels it). The window itself
is the target's time: the post is queued for now + the user's window (/settings)."""

from __future__ import annotations

import contextlib

from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.services import CustomContext
from bot.ui.chat import NO_PREVIEW, Rows

BUTTON = "↩ Undo"


def text(post_id: int, seconds: int) -> str:
    return f"⏳ <b>Sending post #{post_id} in {seconds} s</b> — ↩ Undo puts it back as a draft."


def rows(post_id: int) -> Rows:
    return [[(BUTTON, f"u:undo:{post_id}")]]


def _job_name(post_id: int) -> str:
    return f"undo:{post_id}"


def expire_later(
    context: CustomContext, *, chat_id: int, message_id: int, post_id: int, seconds: int
) -> None:
    """Take the Undo button off the message when the window ends."""
    if context.job_queue is None:
        return
    context.job_queue.run_once(
        _expire,
        when=seconds,
        data=(chat_id, message_id, post_id),
        name=_job_name(post_id),
    )


def cancel(context: CustomContext, post_id: int) -> None:
    """Undone: the message was edited already, the timer has nothing left to do."""
    if context.job_queue is None:
        return
    for job in context.job_queue.get_jobs_by_name(_job_name(post_id)):
        job.schedule_removal()


async def _expire(context: ContextTypes.DEFAULT_TYPE) -> None:
    assert context.job is not None
    data: tuple[int, int, int] = context.job.data  # type: ignore[assignment]
    chat_id, message_id, post_id = data
    # The message may be gone or changed by hand meanwhile; there is nothing else to do then.
    with contextlib.suppress(BadRequest, TelegramError):
        await context.bot.edit_message_text(
            f"⚡ <b>Post #{post_id} is going out now.</b> I'll tell you how it went.",
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=ParseMode.HTML,
            link_preview_options=NO_PREVIEW,
            reply_markup=None,
        )
