"""The draft's status message while the user sends content: one message per burst of input,
edited in place at most once every EDIT_EVERY seconds ("📝 New post (12 messages): text
(1,840 characters) + 3 photos"), instead of a new message for each input. Input after a
pause gets a new status below it (the old one loses its buttons). Refusals inside a burst
are counted on the status instead of a message each. It also remembers which message
brought what, so a batch (30 forwards, say) can become one post each (✂️ on the status).

In memory only, like the message ids it edits: after a restart the next input simply sends
a new status.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from html import escape

from telegram.error import TelegramError

from bot.compose import posting
from bot.compose.drafts import Part
from bot.handlers.compose.common import ALT_BUTTON, CANCEL_ROW
from bot.services import CustomContext, Services
from bot.ui import render
from bot.ui.chat import Rows, keyboard
from storage.models import Post

#: Seconds between two edits of one status message (Telegram allows ~1 message/s a chat).
EDIT_EVERY = 1.0
#: Input after this many quiet seconds gets a new status message under it.
PAUSE = 3.0
#: Refusals within this many seconds of the last one told are counted on the status.
REFUSAL_QUIET = 3.0
_KEY = "draft-status"


@dataclass
class _Board:
    """One chat's status message and what the current burst has brought."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    message_id: int | None = None
    shown_text: str = ""
    shown_at: float = float("-inf")
    input_at: float = float("-inf")
    #: The next show sends a new message instead of editing.
    fresh: bool = True
    #: The draft the counts are about, and the messages (an album is one) it was made of,
    #: for "one post each".
    draft_id: int | None = None
    parts: list[Part] = field(default_factory=list)
    last_group: str | None = None
    #: Inputs refused since the last refusal that was told in a message of its own.
    refused: int = 0
    refusal: str | None = None
    refusal_told_at: float = float("-inf")


def _boards(services: Services) -> dict[int, _Board]:
    boards = services.scratch.get(_KEY)
    if not isinstance(boards, dict):
        boards = services.scratch[_KEY] = {}
    return boards


def _board(services: Services, chat_id: int) -> _Board:
    boards = _boards(services)
    board = boards.get(chat_id)
    if board is None:
        board = boards[chat_id] = _Board()
    return board


def forget(services: Services, chat_id: int) -> None:
    """The draft moved on (Done, kept, cancelled): its status stops being updated."""
    _boards(services).pop(chat_id, None)


def note_input(services: Services, chat_id: int) -> None:
    """An input arrived (before it is handled): a pause before it means a new status."""
    board = _board(services, chat_id)
    now = time.monotonic()
    if now - board.input_at > PAUSE:
        board.fresh = True
    board.input_at = now


def _follow(board: _Board, draft_id: int) -> None:
    if board.draft_id != draft_id:
        board.draft_id, board.parts, board.last_group = draft_id, [], None


def note_taken(services: Services, chat_id: int, post: Post, group: str | None) -> None:
    """A message's content went into the draft (`group`: its album, if it is part of one)."""
    board = _board(services, chat_id)
    _follow(board, post.id)
    known = {m for part in board.parts for m in part.media_ids}
    added = tuple(link.media_id for link in post.media_links if link.media_id not in known)
    if group is not None and group == board.last_group and board.parts:
        last = board.parts.pop()
        added = last.media_ids + added
    board.parts.append(Part(end=len(post.text), media_ids=added))
    board.last_group = group


def parts_of(services: Services, chat_id: int, draft: Post) -> list[Part]:
    """The messages the draft was made of, if this board saw all of them (else [])."""
    board = _boards(services).get(chat_id)
    if board is None or board.draft_id != draft.id or len(board.parts) < 2:
        return []
    media = [m for part in board.parts for m in part.media_ids]
    whole = board.parts[-1].end == len(draft.text) and media == [
        link.media_id for link in draft.media_links
    ]
    return list(board.parts) if whole else []


def tell_refusal(services: Services, chat_id: int, reason: str) -> bool:
    """Whether a refusal gets a message of its own (False: it is counted on the status,
    since another was told a moment ago)."""
    board = _board(services, chat_id)
    now = time.monotonic()
    if now - board.refusal_told_at >= REFUSAL_QUIET:
        board.refusal_told_at = now
        board.refused, board.refusal = 0, None
        return True
    board.refusal_told_at = now
    board.refused += 1
    board.refusal = reason
    return False


async def update(context: CustomContext, chat_id: int, uid: int, *, settle: float = 0.0) -> None:
    """Show the status now if the last show was long enough ago, else once it was; `settle`:
    wait at least this long (the rest of an album is on its way)."""
    board = _board(context.services, chat_id)
    wait = max(settle, board.shown_at + EDIT_EVERY - time.monotonic())
    job_queue = context.job_queue
    if wait <= 0 or job_queue is None:
        await show(context, chat_id, uid)
        return
    name = f"draft-status:{chat_id}"
    pending = job_queue.get_jobs_by_name(name)
    if pending and not settle:
        return  # the show already planned will include this input
    for job in pending:
        job.schedule_removal()
    job_queue.run_once(  # PTB leaves the job's context type unbound here
        _planned,  # type: ignore[arg-type]
        wait,
        chat_id=chat_id,
        user_id=uid,
        name=name,
        job_kwargs={"misfire_grace_time": None},
    )


async def _planned(context: CustomContext) -> None:
    job = context.job
    assert job is not None
    assert job.chat_id is not None
    assert job.user_id is not None
    if job.chat_id in _boards(context.services):  # not since moved on (Done, Cancel)
        await show(context, job.chat_id, job.user_id)


async def show(context: CustomContext, chat_id: int, uid: int, *, fresh: bool = False) -> None:
    """Send or edit the draft's status with Done/Cancel (`fresh`: always a new message)."""
    services = context.services
    board = _board(services, chat_id)
    async with board.lock:
        draft = await posting.current_draft(services, uid)
        if draft is None:
            return
        _follow(board, draft.id)
        rows: Rows = [[("✅ Done", "c:done"), *CANCEL_ROW]]
        if render.photos(draft):
            rows = [*rows, [(ALT_BUTTON, "c:alt:s")]]
        if parts := parts_of(services, chat_id, draft):
            rows = [*rows, [(f"✂️ One post each ({len(parts)})", "c:each")]]
        text = render.draft_status(draft, messages=len(board.parts))
        if board.refused:
            text += (
                f"\n⚠️ {board.refused:,} more not added: {escape(board.refusal or '')}"
                if board.refused > 1
                else f"\n⚠️ One more not added: {escape(board.refusal or '')}"
            )
        markup = keyboard(rows)
        previous = board.message_id
        edit = previous is not None and not (fresh or board.fresh)
        if edit and text == board.shown_text:
            return  # nothing new since the last show
        board.shown_at = time.monotonic()
        board.shown_text = text
        if edit:
            assert previous is not None
            try:
                await context.bot.edit_message_text(
                    text, chat_id, previous, parse_mode="HTML", reply_markup=markup
                )
                return
            except TelegramError as exc:
                if "not modified" in str(exc).lower():
                    return
                # Gone (deleted by the user): send a new one below.
        if previous is not None:
            # It may be gone or unchanged already; this is only cosmetic.
            with contextlib.suppress(TelegramError):
                await context.bot.edit_message_reply_markup(chat_id, previous, reply_markup=None)
        sent = await context.bot.send_message(chat_id, text, parse_mode="HTML", reply_markup=markup)
        board.message_id = sent.message_id
        board.fresh = False
        board.shown_at = time.monotonic()
