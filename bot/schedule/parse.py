"""Reading the times people type (showing them back is in bot/schedule/localtime.py).

A typed time goes through three readers, first match wins:

1. ISO (`2026-12-24 18:00`);
2. our own small grammar for what people actually type to a bot, in English,
   German, French, Spanish, Italian, Portuguese, Russian and Ukrainian:
   a day (`tomorrow`, `morgen`, `next monday`, `lundi prochain`), a part of the
   day (`tonight`, `heute abend`, `8 вечера`) and a clock time (`9`, `9:30`,
   `9 uhr`, `9h30`, `9pm`), in any order; or a duration (`in 90 min`,
   `dans 2 heures`, `через час`); its words are in bot/schedule/words.py. dateparser
   reads several of these wrongly ("morgen 9 uhr" as 10:00, "demain 9h" as
   19:00), so they never reach it;
3. dateparser, for everything else (`dec 24 6pm`, `24. Dezember 18 Uhr`).

Wall times are resolved with `resolve_local`, which never shifts a time that
falls into a DST gap or fold silently: `parse_when` raises `NeedsChoice`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dateparser
from dateutil.relativedelta import relativedelta

# Zones, labels, DST resolution and display live in bot/schedule/localtime.py; re-exported here,
# where callers have always found them.
from bot.schedule.localtime import (
    Choice,
    LocalResolution,
    Resolution,
    TimeStyle,
    abbreviation,
    distance,
    find_timezone,
    format_short,
    format_when,
    resolve_local,
    tomorrow_at,
    utc_offset,
    zone,
    zone_label,
)
from bot.schedule.words import FILLER_WORDS as _FILLER_WORDS
from bot.schedule.words import IN_WORDS as _IN_WORDS
from bot.schedule.words import PARTS as _PARTS
from bot.schedule.words import PHRASE_PATTERN as _PHRASE_PATTERN
from bot.schedule.words import PHRASES as _PHRASES
from bot.schedule.words import REL_PATTERN as _REL_PATTERN
from bot.schedule.words import REL_REWRITES as _REL_REWRITES
from bot.schedule.words import UNIT_OF as _UNIT_OF
from bot.schedule.words import WEEKDAYS as _WEEKDAYS

__all__ = [
    "LANGUAGES",
    "MAX_AHEAD",
    "NOW_GRACE",
    "Choice",
    "LocalResolution",
    "NeedsChoice",
    "Resolution",
    "TimeParseError",
    "TimeStyle",
    "abbreviation",
    "distance",
    "find_timezone",
    "format_short",
    "format_when",
    "parse_when",
    "resolve_local",
    "tomorrow_at",
    "utc_offset",
    "zone",
    "zone_label",
]

#: A typed time this far in the past still means "now" (the user took a moment to type).
NOW_GRACE = timedelta(seconds=60)
#: Furthest ahead a post can be scheduled.
MAX_AHEAD = timedelta(days=3 * 365)

LANGUAGES = ["en", "de", "fr", "es", "it", "pt", "ru", "uk", "nl", "pl"]

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{1,2}:\d{2}(:\d{2})?)?$")


class TimeParseError(ValueError):
    """The text is not a time we can schedule at; the message says why, for the user."""


class NeedsChoice(TimeParseError):
    """That local time is skipped or repeated by a clock change: the user must pick one."""

    def __init__(self, resolution: LocalResolution) -> None:
        super().__init__(resolution.message)
        self.resolution = resolution
        self.choices = resolution.choices


# --- reading typed times -----------------------------------------------------------------


@dataclass(frozen=True)
class _Reading:
    """What a reader understood: an instant, or a wall time that may move on if past."""

    instant: datetime | None = None
    local: datetime | None = None
    #: Days to move `local` on by when it has passed: 1 for "9am", 7 for "friday 18:00".
    roll_days: int = 0


def parse_when(text: str, tz_name: str, now: datetime, language: str | None = None) -> datetime:
    """The UTC instant `text` means for someone in `tz_name` at `now`.

    Raises TimeParseError, or NeedsChoice when the wall time is skipped or
    repeated by a DST change (its `.choices` are what to offer).
    """
    tz = zone(tz_name)
    local_now = now.astimezone(tz)
    cleaned = " ".join(text.strip().split())
    if not cleaned:
        raise TimeParseError("Send a time, like “in 2 hours”, “tomorrow 9am” or “fri 18:30”.")
    if cleaned.isdigit() and len(cleaned) <= 2:
        raise TimeParseError(f"“{cleaned}” is ambiguous: did you mean {cleaned}:00? Send a time.")
    reading = (
        _parse_iso(cleaned)
        or _parse_relative(cleaned, now, tz_name)
        or _parse_phrase(cleaned, local_now)
        or _parse_dateparser(cleaned, local_now, language)
    )
    if reading is None:
        raise TimeParseError(
            f"I couldn't read “{text.strip()[:60]}” as a time. "
            "Try “in 30 minutes”, “tomorrow 9am”, “fri 18:30” or “2026-12-24 18:00”."
        )
    result = reading.instant
    if reading.local is not None:
        local = reading.local
        if reading.roll_days and _latest_utc(local, tz) < now - NOW_GRACE:
            local += timedelta(days=reading.roll_days)  # "9am" typed at 10am means tomorrow
        result = _one_instant(resolve_local(local, tz_name), now)
    assert result is not None
    if result < now - NOW_GRACE:
        shown = format_when(result, tz_name, now, with_distance=False, style="abbr")
        raise TimeParseError(f"{shown} is in the past. Send a time in the future.")
    if result - now > MAX_AHEAD:
        raise TimeParseError("That is more than 3 years away. Pick a nearer time.")
    return max(result.astimezone(UTC), now.astimezone(UTC))


def _latest_utc(local: datetime, tz: ZoneInfo) -> datetime:
    # In a fold the second 02:30 may still be ahead when the first has passed.
    return max(local.replace(tzinfo=tz, fold=fold).astimezone(UTC) for fold in (0, 1))


def _one_instant(resolution: LocalResolution, now: datetime) -> datetime:
    if resolution.instant is not None:
        return resolution.instant
    future = tuple(c for c in resolution.choices if c.instant >= now - NOW_GRACE)
    if resolution.kind is Resolution.FOLD and len(future) == 1:
        return future[0].instant  # the first 02:30 has passed: only one is left to mean
    if not future:
        return resolution.choices[-1].instant  # all past: the caller says so
    raise NeedsChoice(replace(resolution, choices=future))


def _parse_iso(text: str) -> _Reading | None:
    if not _ISO.match(text):
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is not None:
        return _Reading(instant=value.astimezone(UTC))
    return _Reading(local=value)


def _normalise(text: str) -> str:
    text = text.lower().replace("’", "'").replace("ʼ", "'").replace("`", "'")
    return " ".join(re.sub(r"[,;!?]+", " ", text).split()).rstrip(".")


# "in 90 min", "dans 2 heures", "через час", "in 1h30", "tra un'ora".
_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?$")
# A minus before an amount ("in -5 minutes", "in −5 min" with U+2212, "через - 5 минут"):
# the tokens below skip the sign, so it is looked for first. "1h-30" is not one.
_MINUS = re.compile(r"(?:^|\s)[-\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d]\s*\d")
_REL_TOKEN = re.compile(r"\d+(?:[.,]\d+)?|[^\W\d_]+(?:'[^\W\d_]+)?")


def _parse_relative(text: str, now: datetime, tz_name: str) -> _Reading | None:
    lowered = _normalise(text)
    match = _IN_WORDS.match(lowered)
    if not match:
        return None
    rest = _REL_PATTERN.sub(lambda m: f" {_REL_REWRITES[m.group(0)]} ", lowered[match.end() :])
    if _MINUS.search(rest):
        raise TimeParseError(
            f"“{text[:60]}” counts backwards, and a post can only go out in the future. "
            "Send a time like “in 5 minutes”."
        )
    amounts = _durations(_REL_TOKEN.findall(rest))
    if amounts is None:
        return None
    if not any(amounts):
        raise TimeParseError(
            f"“{text[:60]}” is no time from now. Send a time in the future, like "
            "“in 5 minutes”, or tap ⚡ Now."
        )
    months, days, hours, minutes = amounts
    moved = now
    if months or days:
        # Days and months are calendar steps: "in 2 days" keeps the wall time across DST.
        local = now.astimezone(zone(tz_name)).replace(tzinfo=None)
        local += relativedelta(months=int(months), days=int(days))
        moved = _one_instant(resolve_local(local, tz_name), now)
    return _Reading(instant=moved + timedelta(hours=hours, minutes=minutes))


def _durations(tokens: list[str]) -> tuple[float, float, float, float] | None:
    """(months, days, hours, minutes) from ["1", "h", "30"], or None if anything is unknown."""
    totals = {"month": 0.0, "day": 0.0, "hour": 0.0, "minute": 0.0}
    amount: float | None = None
    last_unit = ""
    for token in tokens:
        kind = _UNIT_OF.get(token, "")
        if kind == "+":
            continue  # "1 hour and 30 minutes"
        if _NUMBER.match(token) or (kind.isdigit() and amount is None):
            if amount is not None:
                return None
            amount = float(kind if kind.isdigit() else token.replace(",", "."))
        elif kind in totals or kind == "week":
            value = 1.0 if amount is None else amount  # "через час": an hour
            if kind == "week":
                kind, value = "day", value * 7
            if kind in ("month", "day") and value != int(value):
                return None
            totals[kind] += value
            amount, last_unit = None, kind
        else:
            return None
    if amount is not None:
        if last_unit != "hour":  # "1h30": a bare number after the hours is minutes
            return None
        totals["minute"] += amount
    return totals["month"], totals["day"], totals["hour"], totals["minute"]


_TIME_TOKEN = re.compile(r"^(\d{1,2})[:.](\d{2})$")
_TOKEN = re.compile(r"@\w+|\d{1,2}[:.]\d{2}(?!\d)|\d+|[^\W\d_]+(?:['-][^\W\d_]+)*|\S")
_PART_HOURS = {"morning": 9, "noon": 12, "afternoon": 15, "evening": 20, "night": 22}


@dataclass
class _Phrase:
    """The pieces of "next monday 9 in the evening", each at most once."""

    day_offset: int | None = None
    weekday: int | None = None
    next_week: bool = False
    part: str | None = None
    hour: int | None = None
    minute: int = 0
    meridiem: str | None = None
    words: list[str] = field(default_factory=list)


def _parse_phrase(text: str, local_now: datetime) -> _Reading | None:
    tokens = _TOKEN.findall(_PHRASE_PATTERN.sub(_canonical, _normalise(text)))
    if tokens == ["@now"]:
        return _Reading(instant=local_now.astimezone(UTC))
    phrase = _read_tokens(tokens)
    if phrase is None:
        return None
    return _phrase_to_reading(phrase, local_now)


def _canonical(match: re.Match[str]) -> str:
    return f" {_PHRASES[match.group(0)]} "


def _read_tokens(tokens: list[str]) -> _Phrase | None:
    phrase = _Phrase()
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if token in ("@am", "@pm") and phrase.hour is not None and phrase.meridiem is None:
            phrase.meridiem = token[1:]
        elif token in _FILLER_WORDS or token in ("@am", "@oclock"):
            continue  # "am Montag", "à", "um", "в"
        elif token in ("@today", "@tomorrow", "@overmorrow"):
            if phrase.day_offset is not None:
                return None
            phrase.day_offset = {"@today": 0, "@tomorrow": 1, "@overmorrow": 2}[token]
        elif token in _WEEKDAYS:
            if phrase.weekday is not None:
                return None
            phrase.weekday = _WEEKDAYS[token]
        elif token == "@next":
            phrase.next_week = True
        elif token == "@this":
            continue
        elif token in _PARTS:
            if phrase.part is not None:
                return None
            phrase.part = _PARTS[token]
            if token == "@tonight":
                if phrase.day_offset not in (None, 0):
                    return None
                phrase.day_offset = 0
        elif (clock := _clock(token, tokens, index)) is not None:
            if phrase.hour is not None:
                return None
            phrase.hour, phrase.minute, index = clock
        else:
            return None
    if phrase.day_offset is not None and phrase.weekday is not None:
        return None
    if phrase.next_week and phrase.weekday is None:
        return None  # "next week": dateparser knows it
    return phrase


def _clock(token: str, tokens: list[str], index: int) -> tuple[int, int, int] | None:
    """(hour, minute, next index) for "9:30", "9", "9 uhr 30", "9h30", else None."""
    if match := _TIME_TOKEN.match(token):
        hour, minute = int(match.group(1)), int(match.group(2))
        following = tokens[index] if index < len(tokens) else ""
        if "." in token and following not in ("@oclock", "@am", "@pm"):
            return None  # "12.11" alone is a date; "9.30 Uhr" is a time
    elif token.isdigit() and len(token) <= 2:
        hour, minute = int(token), 0
        if index < len(tokens) and tokens[index] == "@oclock":
            index += 1
            following = tokens[index] if index < len(tokens) else ""
            if following.isdigit() and len(following) == 2:
                minute, index = int(following), index + 1
    else:
        return None
    if hour > 23 or minute > 59:
        return None
    return hour, minute, index


def _phrase_to_reading(phrase: _Phrase, local_now: datetime) -> _Reading | None:
    today = local_now.date()
    explicit_day = phrase.day_offset is not None or phrase.weekday is not None
    clock = _wall_clock(phrase, explicit_day)
    if clock is None:
        if not explicit_day:
            return None
        clock = (local_now.hour, local_now.minute, 0)  # "tomorrow": this time tomorrow
    hour, minute, extra_days = clock
    roll_days = 0
    if phrase.day_offset is not None:
        day = today + timedelta(days=phrase.day_offset)
    elif phrase.weekday is not None:
        ahead = (phrase.weekday - today.weekday()) % 7
        if phrase.next_week and ahead == 0:
            ahead = 7
        day = today + timedelta(days=ahead)
        roll_days = 7 if ahead == 0 else 0  # "fri 18:00" on a Friday evening: next week
    else:
        day = today
        roll_days = 1
    local = datetime.combine(day + timedelta(days=extra_days), time(hour, minute))
    return _Reading(local=local, roll_days=roll_days)


def _wall_clock(phrase: _Phrase, explicit_day: bool) -> tuple[int, int, int] | None:
    """(hour, minute, days to add) from the clock time, am/pm and the part of the day."""
    part, hour, minute = phrase.part, phrase.hour, phrase.minute
    if hour is None:
        if part is None:
            return None
        if part == "midnight":
            return 0, 0, 1  # midnight ends the day it is said of
        return _PART_HOURS[part], 0, 0
    if phrase.meridiem:
        if not 1 <= hour <= 12 or part in ("noon", "midnight"):
            return None
        return hour % 12 + (12 if phrase.meridiem == "pm" else 0), minute, 0
    if part in ("noon", "midnight"):
        if hour != 12 and not (part == "midnight" and hour == 0):
            return None
        return (12, minute, 0) if part == "noon" else (0, minute, 1)
    if hour <= 12 and part in ("afternoon", "evening", "night"):
        if hour == 12:
            return (12, minute, 0) if part == "afternoon" else (0, minute, 1)
        if hour < 5 and part != "afternoon":
            # "heute nacht um 2", "завтра в 2 ночи": the small hours after that day.
            return hour, minute, 1 if explicit_day else 0
        return hour + 12, minute, 0
    return hour, minute, 0


_HOUR_MARK = re.compile(r"(?<![\w:.])(\d{1,2})\s?(?:uhr|h)(?:\s?(\d{2}))?(?!\w)", re.IGNORECASE)
_LEADING_AM = re.compile(r"^am\s+(?=\d)", re.IGNORECASE)
_DOTTED_DATE = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(?!\d)")


def _parse_dateparser(text: str, local_now: datetime, language: str | None) -> _Reading | None:
    languages = list(LANGUAGES)
    if language:
        languages = [language, *(code for code in LANGUAGES if code != language)]
    settings: dict[str, object] = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": local_now.replace(tzinfo=None),
    }
    # dateparser reads "18 Uhr" and "9h" poorly; "18:00" it reads in every language.
    prepared = _HOUR_MARK.sub(lambda m: f"{m.group(1)}:{m.group(2) or '00'}", text)
    prepared = _LEADING_AM.sub("", prepared)  # German "am 24.12." is "on", not a.m.
    if _DOTTED_DATE.search(prepared):
        # "12.11." is a day and a month wherever dots are used (dateparser took it for 12:11).
        settings["DATE_ORDER"] = "DMY"
        prepared = _DOTTED_DATE.sub(lambda m: _with_year(m, local_now.date()), prepared)
    for candidate in dict.fromkeys([prepared, text]):
        value = dateparser.parse(candidate, settings=settings, languages=languages)  # type: ignore[arg-type]
        if value is None:
            continue
        if value.tzinfo is not None:  # "18:00 UTC": the text named its own zone
            return _Reading(instant=value.astimezone(UTC))
        return _Reading(local=value)
    return None


def _with_year(match: re.Match[str], today: date) -> str:
    day, month = int(match.group(1)), int(match.group(2))
    year = today.year + ((month, day) < (today.month, today.day))  # the next one to come
    return f"{day}.{month}.{year}"
