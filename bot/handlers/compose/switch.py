"""Mid-compose, the user starts something new: /new, or content sent after the content step.

Nothing is thrown away: Crier asks whether to continue the post in progress or start a new
one, and the one left stays in /drafts. Content sent meanwhile waits in memory for the
answer (a restart forgets it, and the user is asked to send it again).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Message, Update

from bot.compose import drafts, posting
from bot.compose.posting import ComposeError
from bot.handlers.compose import content, preview, targets
from bot.handlers.compose.common import (
    CANCEL_ROW,
    COMPOSING,
    PICK_ACCOUNTS,
    PICK_TIME,
    PREVIEW,
    ask_time,
)
from bot.services import CustomContext
from bot.ui.chat import callback_int, edit, reply, user_id
from bot.ui.render import draft_line

Step = Callable[[Update, CustomContext], Coroutine[Any, Any, int | None]]

#: Messages kept waiting for the answer, at most (an album has up to 10).
MAX_WAITING = 10
FORGOTTEN = "I no longer have what you sent (I restarted meanwhile): please send it again."


def _key(uid: int) -> str:
    return f"compose-waiting:{uid}"


def _waiting(context: CustomContext, uid: int) -> list[Message]:
    found = context.services.scratch.get(_key(uid))
    if not isinstance(found, list):
        found = []
        context.services.scratch[_key(uid)] = found
    return found


def _take(context: CustomContext, uid: int) -> list[Message]:
    found = context.services.scratch.pop(_key(uid), None)
    return found if isinstance(found, list) else []


def ask_new(state: int) -> Step:
    """/new while in `state`: ask before leaving the post in progress."""

    async def step(update: Update, context: CustomContext) -> int | None:
        uid = user_id(update)
        post = await drafts.in_progress(context.services, uid)
        if post is None:
            return await content.new(update, context)
        _take(context, uid)
        await reply(
            update,
            f"📝 Continue your draft ({draft_line(post, context.services.now())}) or start a "
            "new one? The current one stays in /drafts.",
            [[("▶ Continue", f"c:cont:{state}"), ("📝 Start a new one", "c:fresh:0")]],
        )
        return None

    return step


def interrupt(state: int) -> Step:
    """Content sent in `state` (past the content step): add it, or start a new post with it?"""

    async def step(update: Update, context: CustomContext) -> int | None:
        message = update.effective_message
        assert message is not None
        uid = user_id(update)
        waiting = _waiting(context, uid)
        group = message.media_group_id
        follows = bool(group) and any(m.media_group_id == group for m in waiting)
        if len(waiting) < MAX_WAITING:
            waiting.append(message)
        if follows:
            return None  # the rest of an album: one question for all of it
        post = await drafts.in_progress(context.services, uid)
        where = f" ({draft_line(post, context.services.now())})" if post else ""
        await reply(
            update,
            f"📝 You're in the middle of a post{where}. Add what you just sent to it, or "
            "start a new post with it? The current one stays in /drafts.",
            [[("➕ Add to this post", f"c:add:{state}"), ("📝 New post with it", "c:fresh:1")]],
        )
        return None

    return step


async def continue_draft(update: Update, context: CustomContext) -> int:
    """Go back to the step the user was on."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    _take(context, user_id(update))
    return await show_step(update, context, callback_int(query) or COMPOSING)


async def add_waiting(update: Update, context: CustomContext) -> int:
    """Add the content that waited to the post in progress, then show the step again."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    uid = user_id(update)
    waiting = _take(context, uid)
    if not waiting:
        await reply(update, FORGOTTEN)
    for message in waiting:
        await content.add_message(context, uid, message)
    return await show_step(update, context, callback_int(query) or COMPOSING)


async def fresh(update: Update, context: CustomContext) -> int | None:
    """Start a new post (with the content that waited, if any); the other stays a draft."""
    query = update.callback_query
    assert query is not None
    uid = user_id(update)
    waiting = _take(context, uid)
    try:
        await posting.start_draft(context.services, uid)
    except ComposeError as exc:
        await query.answer(str(exc), show_alert=True)
        return None
    await query.answer()
    if not waiting:
        await edit(
            query,
            "📝 <b>New post.</b> Send me its text, photos, videos or files — or forward me a "
            "message. The other one is kept in /drafts.",
            [CANCEL_ROW],
        )
        if callback_int(query) == 1:  # it was asked about content that is gone now
            await reply(update, FORGOTTEN)
        return COMPOSING
    await edit(query, "📝 <b>New post</b> with what you sent. The other one is kept in /drafts.")
    for message in waiting:
        await content.add_message(context, uid, message)
    assert update.effective_chat is not None
    await content.show_status(context, update.effective_chat.id, uid)
    return COMPOSING


async def show_step(update: Update, context: CustomContext, state: int) -> int:
    """Show `state`'s question again (in place of the message whose button was tapped)."""
    if state == PICK_ACCOUNTS:
        await targets.show_accounts(update, context)
        return PICK_ACCOUNTS
    if state == PICK_TIME:
        await ask_time(update, context)
        return PICK_TIME
    if state == PREVIEW:
        return await preview.show_preview(update, context)
    if update.callback_query is not None:
        await edit(update.callback_query, "▶ Carry on with your post.")
    assert update.effective_chat is not None
    await content.show_status(context, update.effective_chat.id, user_id(update))
    return COMPOSING
