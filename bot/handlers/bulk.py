"""/bulk: schedule many posts from one CSV file.

/bulk explains the format and sends an example file; the next document the user sends is
read as a bulk file (so is any *.csv whose header names text, time and accounts, whenever
it comes). The file is checked in the background (media links can take a while) and the
user gets a summary with Confirm / Cancel. The checked plan is kept in this process's
memory only: after a restart the buttons say to send the file again.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any

from telegram import Document, InputFile, Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.accounts import users
from bot.compose import bulk, bulk_plan, posting
from bot.compose.bulk_plan import BulkError, Plan
from bot.schedule.parse import format_short
from bot.services import CustomContext, Services
from bot.ui.chat import drop_buttons, edit, keyboard, reply, user_id
from bot.ui.render import snippet

#: After the broadcast capture (-5), before the features (0): a bulk file never starts a
#: compose, and any other document goes on to it.
BULK_GROUP = -4
#: How long /bulk waits for a file, and a summary for Confirm (under the media clean-up's
#: one-hour grace for fresh downloads), seconds.
MODE_SECONDS = 30 * 60
PENDING_SECONDS = 30 * 60
#: Rows listed in the summary, each way; more rejected rows come as a CSV file.
LISTED = 10
#: Keeps the summary under Telegram's 4,096 characters.
MAX_SUMMARY = 3800
#: How often a running check looks whether the application is stopping, seconds.
STOP_POLL_SECONDS = 0.5
#: Confirmed or cancelled tokens remembered (to answer a second press kindly).
MAX_DONE = 10_000
_KEY = "bulk"
_RESTART = "Nothing is stored until you confirm; if I restart before then, send the file again."


@dataclass
class _Waiting:
    token: str
    plan: Plan
    since: float


@dataclass
class _State:
    """This process's memory of bulk files (never the only copy of anything stored)."""

    #: User -> when their /bulk stops waiting for a file (monotonic seconds).
    modes: dict[int, float] = field(default_factory=dict)
    #: User -> the checked file waiting for Confirm.
    waiting: dict[int, _Waiting] = field(default_factory=dict)
    #: Users whose file is being checked right now.
    busy: set[int] = field(default_factory=set)
    #: Tokens already confirmed or cancelled (a second press changes nothing).
    done: set[str] = field(default_factory=set)

    def in_mode(self, uid: int) -> bool:
        return self.modes.get(uid, 0.0) > time.monotonic()

    def drop(self, uid: int) -> None:
        """Forget the user's waiting file and delete what was fetched for it."""
        old = self.waiting.pop(uid, None)
        if old is not None:
            old.plan.discard()
            self.finished(old.token)

    def finished(self, token: str) -> None:
        if len(self.done) >= MAX_DONE:
            self.done.clear()  # only a courtesy for a double press; old ones don't matter
        self.done.add(token)


def _state(services: Services) -> _State:
    found = services.scratch.get(_KEY)
    if not isinstance(found, _State):
        found = services.scratch[_KEY] = _State()
    now = time.monotonic()
    for uid in [u for u, w in found.waiting.items() if now - w.since > PENDING_SECONDS]:
        found.drop(uid)
    return found


FORMAT = (
    "📋 <b>Schedule many posts at once</b> from a spreadsheet saved as CSV.\n\n"
    "Columns (the first row names them):\n"
    "• <b>text</b> — the post (line breaks are fine inside quotes)\n"
    "• <b>time</b> — in your timezone ({tz}); best as <code>2026-12-24 18:00</code>, "
    "or <i>tomorrow 9am</i>, <i>fri 18:30</i>…\n"
    "• <b>accounts</b> — account names or ids separated by <code>;</code>, or "
    "<code>all</code> (yours: {accounts})\n"
    "• <b>media_url</b> — optional: an https:// link to a photo or video\n"
    "• <b>alt_text</b> — optional: the photo's description for screen readers\n\n"
    "Commas or semicolons both work; save as “CSV UTF-8”. Edit the example below and send "
    "it back to me as a file. You'll see what is ready and what isn't before anything is "
    "scheduled."
)


async def bulk_command(update: Update, context: CustomContext) -> None:
    """Explain the format, send an example file and wait for the user's."""
    services = context.services
    uid = user_id(update)
    user = await users.get_user(services, uid)
    assert user is not None
    owned = await posting.user_accounts(services, uid)
    _state(services).modes[uid] = time.monotonic() + MODE_SECONDS
    names = ", ".join(escape(a.label) for a in owned[:6]) or "none yet: /connect"
    await reply(
        update,
        FORMAT.format(tz=escape(user.timezone), accounts=names),
        [[("✖ Cancel", "bk:leave")]],
    )
    assert update.effective_chat is not None
    await update.effective_chat.send_document(
        InputFile(bulk.example(owned, user.timezone, services.now()), filename="crier-bulk.csv"),
        caption="An example to start from.",
    )


async def leave(update: Update, context: CustomContext) -> None:
    """Stop waiting for a bulk file."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    _state(context.services).modes.pop(user_id(update), None)
    await edit(query, "✖ OK, no bulk file. Send /bulk when you have one.")


async def document(update: Update, context: CustomContext) -> None:
    """A document after /bulk, or a CSV shaped like a bulk file: check it in the background.
    Any other document is left for the compose flow."""
    message = update.effective_message
    assert message is not None
    assert message.document is not None
    services = context.services
    uid = user_id(update)
    state = _state(services)
    waited = state.in_mode(uid)
    doc = message.document
    if not waited and not _named_csv(doc):
        return
    size = doc.file_size or 0
    if size > bulk.MAX_FILE_BYTES:
        if not waited:
            return
        state.modes.pop(uid, None)
        await reply(
            update,
            f"⚠️ That file is {size / 1_000_000:.1f} MB; a bulk file can be at most "
            f"{bulk.MAX_FILE_BYTES / 1_000_000:g} MB. Split it into smaller files.",
        )
        raise ApplicationHandlerStop
    data = bytes(await (await doc.get_file()).download_as_bytearray())
    if not waited and not bulk.looks_like_bulk(data):
        return
    state.modes.pop(uid, None)
    if uid in state.busy:
        await reply(update, "⏳ I'm still checking your previous file; send this one after.")
        raise ApplicationHandlerStop
    try:
        sheet = bulk.read(data, max_rows=services.settings.bulk_max_rows)
    except bulk.BulkFileError as exc:
        await reply(update, f"⚠️ {escape(str(exc))}\n\nNothing was scheduled.")
        raise ApplicationHandlerStop from None
    links = len({row.media_url for row in sheet.rows if row.media_url})
    progress = await reply(
        update,
        f"⏳ Checking {_count(len(sheet.rows), 'row')}"
        + (f" and fetching {_count(links, 'media link')}" if links else "")
        + "…",
    )
    state.busy.add(uid)
    context.application.create_task(
        _check(context, uid, progress, sheet, doc.file_name or "the file"),
        update=update,
        name=f"bulk-check:{uid}",
    )
    raise ApplicationHandlerStop


class _Stopping(Exception):
    """The application is stopping: the check was called off."""


async def _unless_stopping(context: CustomContext, work: Coroutine[Any, Any, Plan]) -> Plan:
    """Run the check, calling it off when the application starts stopping: fetching every
    link could take minutes, and a stop waits for tasks like this one."""
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=STOP_POLL_SECONDS)
            if done:
                return task.result()
            if not context.application.running:
                raise _Stopping
    finally:
        if not task.done():
            task.cancel()  # the check deletes what it fetched
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _named_csv(doc: Document) -> bool:
    name = (doc.file_name or "").lower()
    return name.endswith(".csv") or (doc.mime_type or "").lower() in ("text/csv", "text/x-csv")


async def _check(
    context: CustomContext, uid: int, progress: Message, sheet: bulk.Sheet, name: str
) -> None:
    """Check the rows, then show the summary with Confirm / Cancel."""
    services = context.services
    state = _state(services)
    chat_id = progress.chat_id
    try:
        plan = await _unless_stopping(context, bulk_plan.check(services, uid, sheet))
    except BulkError as exc:
        await context.bot.send_message(chat_id, f"⚠️ {escape(str(exc))}")
        return
    except _Stopping:
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(
                chat_id,
                "🔄 I'm restarting, so I stopped checking your file. Nothing was "
                "scheduled: send it again in a minute.",
            )
        return
    finally:
        state.busy.discard(uid)
    with contextlib.suppress(TelegramError):  # cosmetic: the summary follows
        await progress.edit_text(f"🔎 Checked {_count(len(sheet.rows), 'row')}.")
    state.drop(uid)  # an earlier file still waiting is replaced by this one
    token = secrets.token_hex(4)
    rows = []
    if plan.ready and not plan.blocker:
        rows = [
            [(f"✅ Confirm {len(plan.ready)}", f"bk:go:{token}"), ("✖ Cancel", f"bk:no:{token}")]
        ]
        state.waiting[uid] = _Waiting(token=token, plan=plan, since=time.monotonic())
    else:
        plan.discard()
    await context.bot.send_message(
        chat_id, summary(plan, services.now(), name), parse_mode="HTML", reply_markup=keyboard(rows)
    )
    if len(plan.rejected) > LISTED:
        data = bulk.rejected(((r.row, r.reasons) for r in plan.rejected), plan.header)
        await context.bot.send_document(
            chat_id,
            InputFile(data, filename="rejected-rows.csv"),
            caption=(
                f"The {len(plan.rejected)} rejected rows with a reason column: fix them and "
                "send this file back as it is."
            ),
        )


def summary(plan: Plan, now: datetime, name: str) -> str:
    """ "N ready to schedule, M rejected", the rows of each, and what happens next."""
    head = f"📋 <b>{len(plan.ready)} ready to schedule, {len(plan.rejected)} rejected</b> "
    lines: list[_Line] = [(head, f"({name})")]
    if plan.ready:
        lines.append(("\n<b>Ready:</b>", ""))
        for ready in plan.ready[:LISTED]:
            when = (
                "as soon as you confirm"
                if ready.asap
                else format_short(ready.when, plan.timezone, now, with_zone=True)
            )
            what = snippet(ready.row.text, 40) if ready.row.text else "(no text)"
            media = f" · {ready.media.kind.value}" if ready.media else ""
            accounts = ", ".join(ready.account_labels)
            lines.append(("", f"• Row {ready.row.number} · {when} · {accounts}{media} · {what}"))
        if len(plan.ready) > LISTED:
            lines.append((f"…and {len(plan.ready) - LISTED} more.", ""))
    if plan.rejected:
        lines.append(("\n<b>Rejected:</b>", ""))
        for rejected in plan.rejected[:LISTED]:
            lines.append(("", f"• Row {rejected.row.number}: " + "; ".join(rejected.reasons)))
        if len(plan.rejected) > LISTED:
            more = len(plan.rejected) - LISTED
            lines.append(
                (f"…and {more} more: every rejected row is in the file below, with its reason.", "")
            )
    if plan.blocker:
        lines.append(("\n⚠️ ", f"{plan.blocker}\nNothing was scheduled."))
    elif plan.ready:
        lines.append((f"\n{_RESTART}", ""))
    else:
        lines.append(("\nNothing to schedule: fix the rows and send the file again.", ""))
    return _fit(lines)


#: A line of the summary: HTML that is never cut, then plain text that may be shortened.
_Line = tuple[str, str]


def _fit(lines: list[_Line]) -> str:
    """Join the lines, shortening the longest plain parts (before they are escaped, so no
    tag or entity is ever cut) until the message fits."""

    def render() -> str:
        return "\n".join(html + escape(plain) for html, plain in lines)

    text = render()
    while len(text) > MAX_SUMMARY:
        longest = max(range(len(lines)), key=lambda i: len(lines[i][1]))
        html, plain = lines[longest]
        if len(plain) <= 41:
            break  # can't happen with the rows listed, but never loop for ever
        keep = max(40, len(plain) - (len(text) - MAX_SUMMARY) - 1)
        lines[longest] = (html, plain[:keep].rstrip() + "…")
        text = render()
    return text


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


async def confirm(update: Update, context: CustomContext) -> None:
    """Store every ready row in one transaction."""
    query = update.callback_query
    assert query is not None
    services = context.services
    uid = user_id(update)
    token = (query.data or "").rsplit(":", 1)[-1]
    state = _state(services)
    waiting = state.waiting.get(uid)
    if waiting is None or waiting.token != token:
        await _gone(update, state, token)
        return
    del state.waiting[uid]
    state.finished(token)
    await query.answer()
    try:
        stored = await bulk_plan.store(services, waiting.plan)
    except BulkError as exc:
        await edit(query, f"⚠️ {escape(str(exc))}\n\nNothing was scheduled.")
        return
    finally:
        waiting.plan.discard()
    first, last = stored.post_ids[0], stored.post_ids[-1]
    ids = f"#{first}" if first == last else f"#{first}–#{last}"
    text = f"✅ <b>Scheduled {_count(len(stored.post_ids), 'post')}</b> ({ids}). See them in /list."
    if stored.late:
        skipped = ", ".join(str(r.row.number) for r in stored.late)
        text += f"\n\n⚠️ Not scheduled: row {skipped}: its time passed before you confirmed."
    await edit(query, text)


async def cancel(update: Update, context: CustomContext) -> None:
    """Drop the checked file: nothing is stored."""
    query = update.callback_query
    assert query is not None
    uid = user_id(update)
    token = (query.data or "").rsplit(":", 1)[-1]
    state = _state(context.services)
    waiting = state.waiting.get(uid)
    if waiting is None or waiting.token != token:
        await _gone(update, state, token)
        return
    state.drop(uid)
    await query.answer()
    await edit(query, "✖ Cancelled. Nothing was scheduled.")


async def _gone(update: Update, state: _State, token: str) -> None:
    query = update.callback_query
    assert query is not None
    if token in state.done:
        await query.answer("That file was already dealt with.")
        return
    await query.answer()
    try:
        await edit(
            query,
            "⌛ This file is no longer waiting: I restarted, it waited more than "
            f"{PENDING_SECONDS // 60} minutes, or you sent another one since. Nothing was "
            "scheduled from it: send the file again.",
        )
    except TelegramError:
        await drop_buttons(query)


def install(app: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    app.add_handler(MessageHandler(private & filters.Document.ALL, document), group=BULK_GROUP)
    app.add_handler(CommandHandler("bulk", bulk_command, filters=private))
    app.add_handler(CallbackQueryHandler(confirm, pattern=r"^bk:go:[0-9a-f]{8}$"))
    app.add_handler(CallbackQueryHandler(cancel, pattern=r"^bk:no:[0-9a-f]{8}$"))
    app.add_handler(CallbackQueryHandler(leave, pattern=r"^bk:leave$"))
