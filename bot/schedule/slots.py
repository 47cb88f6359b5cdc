"""Queue slots (Buffer's "Add to queue"): each account has weekly posting times in the
user's timezone, and a queued post goes to the next one no other post of that account
already holds.

Slots are wall times ("Mon 09:00 local"), so they stay at 09:00 across DST changes. A slot
the clocks skip (02:30 on the spring-forward night) is the instant right after the gap, and
one they repeat is the first, exactly like a repeating post (bot/schedule/recurrence.py).

Pure functions: reading and writing slots as text, and the next free one. The slots a user
keeps, and "Add to queue" over them, are bot/compose/slots.py's. (The engine's publish
concurrency, bot/engine/concurrency.py, is something else.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, time, timedelta

from bot.schedule.parse import MAX_AHEAD, Resolution, zone
from bot.schedule.recurrence import clock_shift, occurrence_instant
from bot.schedule.words import PHRASES, WEEKDAYS

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: Named sets of days people type ("Mon-Fri", "weekdays", "daily").
DAY_SETS: Mapping[str, tuple[int, ...]] = {
    "daily": tuple(range(7)),
    "everyday": tuple(range(7)),
    "every day": tuple(range(7)),
    "all": tuple(range(7)),
    "weekdays": tuple(range(5)),
    "workdays": tuple(range(5)),
    "weekends": (5, 6),
    "weekend": (5, 6),
}
EXAMPLE = "Mon-Fri 09:00 17:00"

#: "every day" before "day": longest first.
_SETS = re.compile(r"\b(" + "|".join(sorted(DAY_SETS, key=len, reverse=True)) + r")\b")
_RANGE = re.compile(r"^([^\W\d_]+)\s*[-–—]\s*([^\W\d_]+)$")
_CLOCK = re.compile(r"^(\d{1,2})(?:[:.h](\d{2})|h)?(am|pm)?$")


class SlotError(ValueError):
    """Slots that can't be used; the message says why, for the user."""


class NoSlots(SlotError):
    """Some chosen accounts have no queue slots (or no free one ahead)."""

    def __init__(self, labels: Sequence[str]) -> None:
        names = ", ".join(labels)
        super().__init__(
            f"{names} {'has' if len(labels) == 1 else 'have'} no free queue slot. "
            "Set weekly slots with /slots, or pick a time."
        )
        self.labels = list(labels)


# -- reading and showing slots ------------------------------------------------------------


def parse_slots(text: str) -> list[tuple[int, int]]:
    """(weekday, minute after midnight) pairs from "Mon-Fri 09:00 17:00; Sat 10:00".

    Days come first (names in the languages times are read in, ranges, "weekdays",
    "daily"), then their times (09:00, 9:30, 9am, 17h); another day starts a new group.
    """
    cleaned = re.sub(r"\s*[-–—]\s*", "-", text.lower().strip())
    cleaned = re.sub(r"(\d)\s+(am|pm)\b", r"\1\2", cleaned)
    cleaned = _SETS.sub(lambda m: m.group(1).replace(" ", ""), cleaned)
    found: set[tuple[int, int]] = set()
    days: list[int] = []
    times_seen = False
    for token in re.split(r"[\s,;/]+", cleaned):
        if not token or token in ("at", "and", "um", "à", "a", "и"):
            continue
        token_days = _days(token)
        if token_days is not None:
            if times_seen:
                days, times_seen = [], False  # "... 17:00 Sat 10:00": a new group
            days.extend(token_days)
            continue
        minute = _minute(token)
        if minute is None:
            raise SlotError(f"I can't read “{token[:20]}” in slots. Try “{EXAMPLE}”.")
        if not days:
            raise SlotError(f"Say which days first, like “{EXAMPLE}” or “daily 12:00”.")
        found.update((day, minute) for day in days)
        times_seen = True
    if days and not times_seen:
        raise SlotError(f"Add a time after the days, like “{EXAMPLE}”.")
    if not found:
        raise SlotError(f"Send days and times, like “{EXAMPLE}”.")
    return sorted(found)


def _days(token: str) -> list[int] | None:
    if token in DAY_SETS:
        return list(DAY_SETS[token])
    day = _day(token)
    if day is not None:
        return [day]
    match = _RANGE.match(token)
    if match:
        first, last = _day(match.group(1)), _day(match.group(2))
        if first is not None and last is not None:
            # "Fri-Mon" wraps over the weekend.
            return [(first + step) % 7 for step in range((last - first) % 7 + 1)]
    return None


def _day(word: str) -> int | None:
    return WEEKDAYS.get(PHRASES.get(word.rstrip("."), ""))


def _minute(token: str) -> int | None:
    match = _CLOCK.match(token)
    if not match:
        return None
    hour, minute, meridiem = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return hour * 60 + minute


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def slot_label(weekday: int, minute: int) -> str:
    """'Mon 09:00'."""
    return f"{DAY_NAMES[weekday]} {clock(minute)}"


def days_label(days: Sequence[int]) -> str:
    """'Mon–Fri', 'Sat, Sun', 'Wed' for consecutive days (else 'Mon, Wed, Fri')."""
    ordered = sorted(set(days))
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{DAY_NAMES[ordered[0]]}–{DAY_NAMES[ordered[-1]]}"
    return ", ".join(DAY_NAMES[day] for day in ordered)


def summarise(pairs: Iterable[tuple[int, int]]) -> str:
    """'Mon–Fri 09:00, 17:00; Sat 10:00': consecutive days that share their times go together."""
    by_day: dict[int, list[int]] = {}
    for weekday, minute in sorted(pairs):
        by_day.setdefault(weekday, []).append(minute)
    groups: list[tuple[list[int], tuple[int, ...]]] = []
    for weekday, minutes in sorted(by_day.items()):
        if groups and groups[-1][1] == tuple(minutes) and groups[-1][0][-1] == weekday - 1:
            groups[-1][0].append(weekday)
        else:
            groups.append(([weekday], tuple(minutes)))
    return "; ".join(
        f"{days_label(days)} {', '.join(clock(m) for m in minutes)}" for days, minutes in groups
    )


def clock_change_notes(
    pairs: Iterable[tuple[int, int]], tz: str, now: datetime, days: int = 366
) -> list[str]:
    """For each slot that a clock change in the coming year moves, when and to what time,
    so the shift is never silent."""
    notes: list[str] = []
    today = now.astimezone(zone(tz)).date()
    for weekday, minute in sorted(set(pairs)):
        for offset in range(days):
            day = today + timedelta(days=offset)
            if day.weekday() != weekday:
                continue
            shift = clock_shift(datetime.combine(day, time(minute // 60, minute % 60)), tz)
            if shift is None:
                continue
            kind, went = shift
            on = day.strftime("%a %d %b %Y")
            if kind is Resolution.GAP:
                notes.append(f"On {on} the clocks skip {clock(minute)}: that slot is {went}.")
            else:
                notes.append(
                    f"On {on} {clock(minute)} happens twice: that slot is the first, {went}."
                )
            break
    return notes


# -- the next free slot -------------------------------------------------------------------


def next_free(
    pairs: Iterable[tuple[int, int]], tz: str, after: datetime, taken: set[datetime]
) -> datetime | None:
    """The first slot instant (UTC) later than `after` that `taken` doesn't hold, or None
    when there is none within how far ahead a post may be scheduled."""
    by_day: dict[int, list[int]] = {}
    for weekday, minute in pairs:
        by_day.setdefault(weekday, []).append(minute)
    if not by_day:
        return None
    today = after.astimezone(zone(tz)).date()
    for offset in range(MAX_AHEAD.days + 1):
        day = today + timedelta(days=offset)
        for minute in sorted(by_day.get(day.weekday(), ())):
            naive = datetime.combine(day, time(minute // 60, minute % 60))
            instant = occurrence_instant(naive, tz)
            if instant > after and instant not in taken:
                return instant
    return None
