"""Compose step 3: picking when the post goes out.

A quick button, a typed time (in any language bot/schedule/parse.py reads, in the user's
timezone), the calendar (calendar.py) or the queue (queue.py). A wall time
the clocks skip or repeat on a DST change is never shifted silently: the user picks one of
its readings, and the choice's button carries the wall time and which reading, so it is
checked again when tapped.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from html import escape

from telegram import Update

from bot.compose import posting
from bot.compose import slots as queue_slots
from bot.handlers.compose import preview, queue
from bot.handlers.compose.common import (
    CANCEL_ROW,
    PICK_TIME,
    ask_time,
    user_timezone,
)
from bot.schedule.parse import (
    MAX_AHEAD,
    NOW_GRACE,
    LocalResolution,
    NeedsChoice,
    Resolution,
    TimeParseError,
    format_when,
    parse_when,
    resolve_local,
    tomorrow_at,
)
from bot.schedule.slots import SlotError
from bot.services import CustomContext
from bot.ui.chat import Rows, edit, reply, user_id

#: A DST choice: the wall time asked for, and which reading of it ("c:dst:202603290230:0").
DST_PATTERN = r"^c:dst:\d{12}:\d$"
_DST = re.compile(r"^c:dst:(\d{12}):(\d)$")


async def back(update: Update, context: CustomContext) -> int:
    """⬅ from the calendar: the time buttons again."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    await ask_time(update, context)
    return PICK_TIME


async def use_time(update: Update, context: CustomContext, when: datetime | None) -> int:
    """Store the chosen time (None: as soon as confirmed) and show the preview."""
    uid = user_id(update)
    queue.forget(context.services, uid)
    await posting.set_time(context.services, uid, when)
    return await preview.show_preview(update, context)


async def time_button(update: Update, context: CustomContext) -> int:
    """Take one of the quick time choices."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    services = context.services
    now = services.now()
    tz, _ = await user_timezone(services, user_id(update))
    choice = (query.data or "").removeprefix("c:t:")
    when = None
    if choice == "1h":
        when = (now + timedelta(hours=1)).replace(second=0, microsecond=0)
    elif choice == "tom9":
        when = tomorrow_at(now, tz, 9)
    return await use_time(update, context, when)


async def typed_time(update: Update, context: CustomContext) -> int:
    """Read a typed time in the user's timezone and language; ask again if it can't be used."""
    services = context.services
    tz, language = await user_timezone(services, user_id(update))
    text = update.effective_message.text or ""  # type: ignore[union-attr]
    try:
        when = parse_when(text, tz, services.now(), language)
    except NeedsChoice as exc:
        await ask_choice(update, context, exc.resolution)
        return PICK_TIME
    except TimeParseError as exc:
        await ask_time(update, context, problem=str(exc))
        return PICK_TIME
    return await use_time(update, context, when)


async def use_local(update: Update, context: CustomContext, local: datetime) -> int:
    """A wall time picked on the calendar: use it, or ask which reading if DST makes two."""
    services = context.services
    now = services.now()
    tz, _ = await user_timezone(services, user_id(update))
    resolution = resolve_local(local, tz)
    future = [c for c in resolution.choices if c.instant >= now - NOW_GRACE]
    if resolution.instant is not None:
        when = resolution.instant
    elif len(future) == 1 and resolution.kind is Resolution.FOLD:
        when = future[0].instant  # the first of the two has passed: one is left to mean
    elif future:
        await ask_choice(update, context, replace(resolution, choices=tuple(future)))
        return PICK_TIME
    else:
        when = resolution.choices[-1].instant
    return await _checked(update, context, when)


async def _checked(update: Update, context: CustomContext, when: datetime) -> int:
    """Use a picked instant unless it has passed or is too far ahead (forged or old taps)."""
    query = update.callback_query
    services = context.services
    now = services.now()
    problem = None
    if when < now - NOW_GRACE:
        tz, _ = await user_timezone(services, user_id(update))
        shown = format_when(when, tz, now, with_distance=False, style="abbr")
        problem = f"{shown} has passed. Pick a later time."
    elif when - now > MAX_AHEAD:
        problem = "That is more than 3 years away. Pick a nearer time."
    if problem:
        if query is not None:
            await query.answer(problem, show_alert=True)
        return PICK_TIME
    if query is not None:
        await query.answer()
    return await use_time(update, context, max(when, now))


async def ask_choice(update: Update, context: CustomContext, resolution: LocalResolution) -> None:
    """Offer each reading of a skipped or repeated wall time (those in `resolution.choices`:
    the ones still ahead) as a button."""
    full = resolve_local(resolution.local, resolution.tz)
    offered = {choice.instant for choice in resolution.choices}
    stamp = f"{resolution.local:%Y%m%d%H%M}"
    choices = [(i, choice) for i, choice in enumerate(full.choices) if choice.instant in offered]
    lines = [f"⏰ {escape(full.message)}", ""]
    lines += [f"• {escape(choice.label)}" for _, choice in choices]
    lines += ["", "Tap one, or type another time."]
    rows: Rows = [
        [(choice.short, f"c:dst:{stamp}:{index}") for index, choice in choices],
        [("📅 Pick a date", "c:t:cal"), *CANCEL_ROW],
    ]
    if update.callback_query is not None:
        await update.callback_query.answer()
        await edit(update.callback_query, "\n".join(lines), rows)
    else:
        await reply(update, "\n".join(lines), rows)


async def dst_choice(update: Update, context: CustomContext) -> int:
    """One reading of a skipped or repeated time was tapped: check it again, then use it."""
    query = update.callback_query
    assert query is not None
    match = _DST.match(query.data or "")
    tz, _ = await user_timezone(context.services, user_id(update))
    try:
        local = datetime.strptime(match.group(1), "%Y%m%d%H%M") if match else None  # noqa: DTZ007
    except ValueError:
        local = None
    resolution = resolve_local(local, tz) if local else None
    index = int(match.group(2)) if match else -1
    if resolution is None or not 0 <= index < len(resolution.choices):
        # Forged, or the timezone changed since: that reading doesn't exist any more.
        await query.answer("That choice is out of date. Type the time again.", show_alert=True)
        return PICK_TIME
    return await _checked(update, context, resolution.choices[index].instant)


# -- ➕ Add to queue (bot/handlers/compose/queue.py remembers the slots the preview shows) --


async def add_to_queue(update: Update, context: CustomContext) -> int:
    """➕ Add to queue: find each account's next free slot, then preview."""
    query = update.callback_query
    assert query is not None
    services = context.services
    uid = user_id(update)
    draft = await posting.current_draft(services, uid)
    if draft is None or not draft.draft_account_ids:
        await query.answer("Pick at least one account first.", show_alert=True)
        return PICK_TIME
    if draft.rrule:
        await query.answer(
            "A repeating post can't go in the queue: pick its first time instead.",
            show_alert=True,
        )
        return PICK_TIME
    try:
        times = await queue_slots.plan(services, uid, list(draft.draft_account_ids))
    except SlotError as exc:
        await query.answer()
        await ask_time(update, context, problem=str(exc))
        return PICK_TIME
    await query.answer()
    await posting.set_time(services, uid, min(times.values()))
    queue.remember(services, uid, draft.id, times)
    return await preview.show_preview(update, context)
