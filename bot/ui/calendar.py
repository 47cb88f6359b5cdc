"""An inline calendar and hour/minute picker, as plain rows of (label, callback data).

Pure functions: the handler turns the rows into InlineKeyboardButtons and feeds
every tap back through `parse_callback`. Each button's data carries everything
the next step needs ("cal:min:2026-12-24:18:30"), so a picker keeps working
after a restart or when an old message is tapped, with no state kept between taps.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar

from bot.schedule.parse import MAX_AHEAD

Button = tuple[str, str]
Keyboard = list[list[Button]]

PREFIX = "cal"
#: Telegram refuses callback data longer than this many bytes.
MAX_CALLBACK_BYTES = 64
#: The minute picker offers 00, 05, ... 55.
MINUTE_STEP = 5
NOOP = f"{PREFIX}:noop"
#: Shown for a day or time that has passed: visible, not selectable.
PAST = "·"
#: Telegram wants text on every button; a blank cell pads the month grid.
BLANK = " "

_WEEKDAY_HEADER = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_DAY = r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
_PATTERNS = {
    "nav": re.compile(rf"{PREFIX}:nav:([0-9]{{4}})-([0-9]{{2}})"),
    "day": re.compile(rf"{PREFIX}:day:{_DAY}"),
    "hour": re.compile(rf"{PREFIX}:hour:{_DAY}:([0-9]{{2}})"),
    "min": re.compile(rf"{PREFIX}:min:{_DAY}:([0-9]{{2}}):([0-9]{{2}})"),
}


@dataclass(frozen=True)
class Navigate:
    """Show another month."""

    kind: ClassVar[str] = "navigate"
    year: int
    month: int


@dataclass(frozen=True)
class PickDay:
    """A day was tapped: show the hours."""

    kind: ClassVar[str] = "pick_day"
    day: date


@dataclass(frozen=True)
class PickHour:
    """An hour was tapped: show the minutes."""

    kind: ClassVar[str] = "pick_hour"
    day: date
    hour: int


@dataclass(frozen=True)
class PickMinute:
    """The minute was tapped: the wall time is complete."""

    kind: ClassVar[str] = "pick_minute"
    day: date
    hour: int
    minute: int

    @property
    def local(self) -> datetime:
        """The chosen naive wall time (resolve it with timeparse.resolve_local)."""
        return datetime(self.day.year, self.day.month, self.day.day, self.hour, self.minute)  # noqa: DTZ001


@dataclass(frozen=True)
class Noop:
    """A header, a blank or a past cell: answer the tap, change nothing."""

    kind: ClassVar[str] = "noop"


CalendarAction = Navigate | PickDay | PickHour | PickMinute | Noop


def month_view(year: int, month: int, today: date) -> Keyboard:
    """◀ title ▶, the weekday header (Monday first), then the weeks of `month`.

    Past days show as "·" and do nothing; ◀ is blank in the current month and ▶
    blank where the next month is beyond how far ahead a post may be scheduled.
    """
    year, month = _clamp_month(year, month, today)
    previous = _shift(year, month, -1)
    following = _shift(year, month, 1)
    back: Button = (
        ("◀", _nav_data(*previous)) if _month_allowed(*previous, today) else (BLANK, NOOP)
    )
    forward: Button = (
        ("▶", _nav_data(*following)) if _month_allowed(*following, today) else (BLANK, NOOP)
    )
    rows: Keyboard = [[back, (f"{calendar.month_name[month]} {year}", NOOP), forward]]
    rows.append([(name, NOOP) for name in _WEEKDAY_HEADER])
    last = _last_day(today)
    for week in calendar.Calendar(firstweekday=calendar.MONDAY).monthdatescalendar(year, month):
        row: list[Button] = []
        for day in week:
            if day.month != month:
                row.append((BLANK, NOOP))
            elif day < today or day > last:
                row.append((PAST if day < today else BLANK, NOOP))
            else:
                row.append((str(day.day), f"{PREFIX}:day:{day.isoformat()}"))
        rows.append(row)
    return rows


def hour_picker(day: date, now_local: datetime | None = None) -> Keyboard:
    """00..23 in rows of 6 (hours already over today show "·"), then a way back."""
    cells: list[Button] = []
    for hour in range(24):
        if now_local is not None and _hour_over(day, hour, now_local):
            cells.append((PAST, NOOP))
        else:
            cells.append((f"{hour:02d}", f"{PREFIX}:hour:{day.isoformat()}:{hour:02d}"))
    rows = [cells[start : start + 6] for start in range(0, 24, 6)]
    rows.append([(f"◀ {day:%b %Y}", _nav_data(day.year, day.month))])
    return rows


def minute_picker(day: date, hour: int, now_local: datetime | None = None) -> Keyboard:
    """00, 05, ... 55 in rows of 6 (minutes already past today show "·"), then a way back."""
    cells: list[Button] = []
    for minute in range(0, 60, MINUTE_STEP):
        moment = datetime(day.year, day.month, day.day, hour, minute)  # noqa: DTZ001
        if now_local is not None and moment < _minute_floor(now_local):
            cells.append((PAST, NOOP))
        else:
            data = f"{PREFIX}:min:{day.isoformat()}:{hour:02d}:{minute:02d}"
            cells.append((f"{hour:02d}:{minute:02d}", data))
    rows = [cells[start : start + 6] for start in range(0, len(cells), 6)]
    rows.append([(f"◀ {day:%a %d %b}", f"{PREFIX}:day:{day.isoformat()}")])
    return rows


def parse_callback(data: str, today: date | None = None) -> CalendarAction | None:
    """The tap behind `data`, or None when it is malformed, forged, or (with `today`)
    a day or month that has already passed."""
    if data == NOOP:
        return Noop()
    if not data.startswith(f"{PREFIX}:") or len(data.encode()) > MAX_CALLBACK_BYTES:
        return None
    if match := _PATTERNS["nav"].fullmatch(data):
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12 or (today and not _month_allowed(year, month, today)):
            return None
        return Navigate(year, month)
    for kind in ("day", "hour", "min"):
        if match := _PATTERNS[kind].fullmatch(data):
            break
    else:
        return None
    numbers = [int(group) for group in match.groups()]
    try:
        day = date(numbers[0], numbers[1], numbers[2])
    except ValueError:
        return None
    if today and not today <= day <= _last_day(today):
        return None
    if kind == "day":
        return PickDay(day)
    hour = numbers[3]
    if hour > 23:
        return None
    if kind == "hour":
        return PickHour(day, hour)
    minute = numbers[4]
    if minute > 59 or minute % MINUTE_STEP:
        return None
    return PickMinute(day, hour, minute)


def _nav_data(year: int, month: int) -> str:
    return f"{PREFIX}:nav:{year:04d}-{month:02d}"


def _shift(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def _last_day(today: date) -> date:
    return today + MAX_AHEAD


def _month_allowed(year: int, month: int, today: date) -> bool:
    last = _last_day(today)
    return (today.year, today.month) <= (year, month) <= (last.year, last.month)


def _clamp_month(year: int, month: int, today: date) -> tuple[int, int]:
    """Never show a month before this one (or past the last that may be scheduled)."""
    last = _last_day(today)
    return max((today.year, today.month), min((year, month), (last.year, last.month)))


def _hour_over(day: date, hour: int, now_local: datetime) -> bool:
    # An hour stays open while one of its minute slots is still to come.
    last_slot = datetime(day.year, day.month, day.day, hour, 60 - MINUTE_STEP)  # noqa: DTZ001
    return last_slot < _minute_floor(now_local)


def _minute_floor(now_local: datetime) -> datetime:
    return now_local.replace(tzinfo=None, second=0, microsecond=0)
