"""Compose step 3, by tapping: a month view (◀ ▶), then the hour, then the minute.

The keyboards come from bot/ui/calendar.py; each button carries the whole choice so
far, and every tap is checked again against today in the user's zone: forged data, a day
that has passed or one too far ahead is refused and changes nothing. Taps on a calendar
from a step that is over reach no handler here (the gate calls them expired).
"""

from __future__ import annotations

from datetime import date, datetime
from html import escape

from telegram import Update

from bot.handlers.compose import time as timing
from bot.handlers.compose.common import CANCEL_ROW, PICK_TIME, user_timezone
from bot.schedule.parse import zone, zone_label
from bot.services import CustomContext
from bot.ui import calendar as cal
from bot.ui.chat import Rows, edit, user_id

BACK_ROW = [("⬅ Back", "c:t:back"), *CANCEL_ROW]


async def _now_local(update: Update, context: CustomContext) -> tuple[datetime, str]:
    tz, _ = await user_timezone(context.services, user_id(update))
    return context.services.now().astimezone(zone(tz)), tz


def _zone(now_local: datetime, tz: str) -> str:
    label = zone_label(now_local)
    return escape(tz if label == tz else f"{tz}, {label}")


async def open_calendar(update: Update, context: CustomContext) -> int:
    """📅 Pick a date: this month."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    now_local, tz = await _now_local(update, context)
    today = now_local.date()
    await _month(update, today.year, today.month, today, _zone(now_local, tz))
    return PICK_TIME


async def _month(update: Update, year: int, month: int, today: date, zone_text: str) -> None:
    assert update.callback_query is not None
    rows: Rows = [*cal.month_view(year, month, today), BACK_ROW]
    await edit(update.callback_query, f"📅 <b>Pick a day</b> ({zone_text})", rows)


async def tap(update: Update, context: CustomContext) -> int:
    """Any calendar button: another month, a day, an hour, or the minute that completes it."""
    query = update.callback_query
    assert query is not None
    now_local, tz = await _now_local(update, context)
    today = now_local.date()
    action = cal.parse_callback(query.data or "", today)
    if action is None:
        await query.answer("That date can't be picked. Choose one on the calendar.")
        return PICK_TIME
    if isinstance(action, cal.Noop):
        await query.answer()
        return PICK_TIME
    if isinstance(action, cal.PickMinute):
        return await timing.use_local(update, context, action.local)
    await query.answer()
    zone_text = _zone(now_local, tz)
    if isinstance(action, cal.Navigate):
        await _month(update, action.year, action.month, today, zone_text)
    elif isinstance(action, cal.PickDay):
        rows: Rows = [*cal.hour_picker(action.day, now_local), BACK_ROW]
        await edit(query, f"🕒 <b>{action.day:%a %d %b %Y}</b>: the hour ({zone_text})", rows)
    else:
        rows = [*cal.minute_picker(action.day, action.hour, now_local), BACK_ROW]
        text = f"🕒 <b>{action.day:%a %d %b %Y}, {action.hour:02d}:__</b>: the minute"
        await edit(query, f"{text} ({zone_text})", rows)
    return PICK_TIME
