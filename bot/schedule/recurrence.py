"""Repeating posts: RFC 5545 RRULEs built from the bot's choices, read back in words.

Occurrences are computed in the WALL-CLOCK time of the user's zone (dateutil on
naive local datetimes) and only then turned into UTC, so "every day at 09:00"
stays at 09:00 local across DST changes. Where a wall time does not exist
(daily 02:30 on the spring-forward day) the occurrence is the instant right
after the gap (03:00 local); where it happens twice (fall back) it is the
first. RFC 5545 (3.3.5) would read a skipped 02:30 with the offset from before
the gap (03:30 local); we choose the earliest real instant instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from itertools import islice, pairwise

from dateutil.rrule import rrule, rrulestr

from bot.schedule.parse import Resolution, resolve_local, zone

#: Posts repeat at most this often; a rule that fires faster is refused.
MIN_SPACING = timedelta(hours=1)
#: The most occurrences a rule may ask for with COUNT.
MAX_COUNT = 1000

_WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_FREQUENCIES = ("HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_KEYS = frozenset(
    {
        "FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYHOUR",
        "BYMINUTE", "BYSECOND", "BYSETPOS", "BYYEARDAY", "BYWEEKNO", "WKST",
    }
)  # fmt: skip
_UNTIL = re.compile(r"^(\d{8})(?:T(\d{6})(Z?))?$")
#: Where spacing and "does it ever happen" are checked from (any ordinary start will do).
_PROBE_START = datetime(2026, 1, 5, 9, 0)  # noqa: DTZ001 - a wall time, naive on purpose


class RecurrenceError(ValueError):
    """The repeat cannot be used; the message says why, for the user."""


class Repeat(StrEnum):
    NONE = "none"
    DAILY = "daily"
    WEEKDAYS = "weekdays"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    CUSTOM = "custom"


def build_rule(
    repeat: Repeat,
    *,
    at: time | None = None,
    weekdays: Iterable[int] = (),
    day_of_month: int | None = None,
    custom: str | None = None,
    count: int | None = None,
    until: date | None = None,
) -> str | None:
    """The RRULE for a choice in the bot ("FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=18;BYMINUTE=30").

    `at` pins the wall time into the rule so it reads back in words; without it the
    time comes from the series' start. `weekdays` are 0 (Monday) to 6; `day_of_month`
    is 1..31, or -1 for the last day. `until` is inclusive, a date in the user's zone.
    """
    if repeat is Repeat.NONE:
        return None
    if count is not None and until is not None:
        raise RecurrenceError("Stop after a number of times or on a date, not both.")
    parts: dict[str, str]
    if repeat is Repeat.CUSTOM:
        parts = _parts(validate_rule(custom or ""))
        if (count or until) and ("COUNT" in parts or "UNTIL" in parts):
            raise RecurrenceError("That rule already says when it ends.")
    elif repeat is Repeat.DAILY:
        parts = {"FREQ": "DAILY"}
    elif repeat is Repeat.WEEKDAYS:
        parts = {"FREQ": "WEEKLY", "BYDAY": "MO,TU,WE,TH,FR"}
    elif repeat is Repeat.WEEKLY:
        days = sorted(set(weekdays))
        if not days or not all(0 <= day <= 6 for day in days):
            raise RecurrenceError("Pick at least one day of the week.")
        parts = {"FREQ": "WEEKLY", "BYDAY": ",".join(_WEEKDAY_CODES[day] for day in days)}
    else:
        if day_of_month is None or not (1 <= day_of_month <= 31 or day_of_month == -1):
            raise RecurrenceError("Pick a day of the month, 1 to 31, or the last day.")
        # RFC 5545 3.3.10: a day a month lacks (the 31st in April) is skipped, not moved;
        # -1 (the last day) is the choice for "end of every month".
        parts = {"FREQ": "MONTHLY", "BYMONTHDAY": str(day_of_month)}
    if at is not None and repeat is not Repeat.CUSTOM:
        parts |= {"BYHOUR": str(at.hour), "BYMINUTE": str(at.minute)}
    if count is not None:
        parts["COUNT"] = str(count)
    if until is not None:
        # Floating local time, like the start: the whole last day is included.
        parts["UNTIL"] = f"{until:%Y%m%d}T235959"
    return validate_rule(_join(parts))


def validate_rule(text: str) -> str:
    """The rule, normalised ("FREQ=..." first, upper case); raises RecurrenceError."""
    parts = _parts(text)
    frequency = parts.get("FREQ")
    if frequency in ("SECONDLY", "MINUTELY"):
        raise RecurrenceError("Posts can repeat at most once an hour.")
    if frequency not in _FREQUENCIES:
        raise RecurrenceError("The rule needs FREQ=HOURLY, DAILY, WEEKLY, MONTHLY or YEARLY.")
    if "COUNT" in parts and "UNTIL" in parts:
        raise RecurrenceError("A rule ends after COUNT times or on UNTIL, not both.")
    if "COUNT" in parts and not (
        parts["COUNT"].isdigit() and 1 <= int(parts["COUNT"]) <= MAX_COUNT
    ):
        raise RecurrenceError(f"COUNT must be a number from 1 to {MAX_COUNT}.")
    if "INTERVAL" in parts and not (parts["INTERVAL"].isdigit() and int(parts["INTERVAL"]) >= 1):
        raise RecurrenceError("INTERVAL must be a whole number, 1 or more.")
    if "UNTIL" in parts and not _UNTIL.match(parts["UNTIL"]):
        raise RecurrenceError("UNTIL must look like 20271231 or 20271231T235959Z.")
    if parts.get("BYSECOND", "0") != "0":
        raise RecurrenceError("Posts repeat on whole minutes: leave out BYSECOND.")
    endless = {key: value for key, value in parts.items() if key not in ("COUNT", "UNTIL")}
    try:
        probe = rrulestr(_join(endless), dtstart=_PROBE_START)
    except (ValueError, TypeError) as exc:
        raise RecurrenceError(f"That is not a rule I can read: {exc}.") from exc
    assert isinstance(probe, rrule)
    # Bounded, so a rule that never fires (the 30th of February) ends instead of spinning.
    bounded = probe.replace(until=_PROBE_START + timedelta(days=5 * 366))
    first = list(islice(bounded, 200))
    if not first:
        raise RecurrenceError("That rule never happens.")
    if any(later - earlier < MIN_SPACING for earlier, later in pairwise(first)):
        raise RecurrenceError("Posts can repeat at most once an hour.")
    return _join(parts)


def next_occurrence(
    rule: str, tz: str, dtstart_local: datetime, after_utc: datetime
) -> datetime | None:
    """The first occurrence strictly after `after_utc`, in UTC, or None when the series is over.

    `dtstart_local` is the naive wall time of the series' start in `tz` (COUNT counts
    from it); the rule's BYHOUR/BYMINUTE, when present, set the time of day.
    """
    series = _series(rule, tz, dtstart_local)
    local_after = after_utc.astimezone(zone(tz)).replace(tzinfo=None)
    # A day early: around a fold the wall clock of an instant runs behind it.
    start = max(local_after - timedelta(days=1), dtstart_local.replace(tzinfo=None))
    for naive in series.xafter(start, inc=True):
        instant = occurrence_instant(naive, tz)
        if instant > after_utc:
            return instant
    return None


def upcoming(
    rule: str, tz: str, dtstart_local: datetime, after_utc: datetime, limit: int = 3
) -> list[datetime]:
    """The next `limit` occurrences after `after_utc`, in UTC (for a preview)."""
    found: list[datetime] = []
    moment = after_utc
    while len(found) < limit:
        following = next_occurrence(rule, tz, dtstart_local, moment)
        if following is None:
            break
        found.append(following)
        moment = following
    return found


def clock_change_note(
    rule: str,
    tz: str,
    dtstart_local: datetime,
    after_utc: datetime,
    horizon: timedelta = timedelta(days=366),
) -> str | None:
    """Where the coming year of the series meets a clock change, in words: the first
    occurrence whose wall time the clocks skip or repeat, and when it really goes out.
    None when there is none (the shift is never silent)."""
    series = _series(rule, tz, dtstart_local)
    local_after = after_utc.astimezone(zone(tz)).replace(tzinfo=None)
    start = max(local_after, dtstart_local.replace(tzinfo=None))
    for naive in islice(series.xafter(start, inc=True), 9000):  # a year of hourly posts
        if naive > local_after + horizon:
            break
        shift = clock_shift(naive, tz)
        if shift is None:
            continue
        kind, went = shift
        day, asked = naive.strftime("%a %d %b %Y"), naive.strftime("%H:%M")
        if kind is Resolution.GAP:
            return (
                f"On {day} the clocks in {tz} skip {asked}: that post goes out at {went}, "
                "right after the change."
            )
        return (
            f"On {day} {asked} happens twice in {tz} (the clocks go back): that post goes "
            f"out at the first, {went}."
        )
    return None


def clock_shift(naive_local: datetime, tz: str) -> tuple[Resolution, str] | None:
    """How a clock change moves a series' wall time: skipped (GAP) or repeated (FOLD), and
    when it really happens ("03:00 CEST", as `occurrence_instant` picks); None when the wall
    time happens once, as it is."""
    resolution = resolve_local(naive_local, tz)
    if resolution.kind is Resolution.EXACT:
        return None
    return resolution.kind, resolution.choices[0].short


def occurrence_instant(naive_local: datetime, tz: str) -> datetime:
    """The UTC instant of one occurrence: after the gap if skipped, the first if repeated."""
    resolution = resolve_local(naive_local, tz)
    if resolution.kind is Resolution.EXACT:
        assert resolution.instant is not None
        return resolution.instant
    return resolution.choices[0].instant  # GAP: right after it; FOLD: the first one


def describe_rule(
    rule: str, tz: str, locale: str = "en", *, dtstart_local: datetime | None = None
) -> str:
    """The rule in words: "every Monday and Thursday at 18:30, 10 times".

    Only English is written so far; other locales get English. `dtstart_local`
    supplies the time (and day) where the rule does not pin them.
    """
    del locale  # one language for now; the signature is ready for more
    parts = _parts(validate_rule(rule))
    unknown = set(parts) - {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY"}
    unknown -= {"BYHOUR", "BYMINUTE", "BYSECOND", "WKST"}
    if parts["FREQ"] == "YEARLY":
        unknown.discard("BYMONTH")
    if unknown:
        return f"custom repeat ({_join(parts)})"
    words = _cadence(parts, dtstart_local)
    times = _times(parts, dtstart_local)
    if times:
        words += f" at {_listed(times)}"
    if "COUNT" in parts:
        count = int(parts["COUNT"])
        words += ", once" if count == 1 else f", {count} times"
    if "UNTIL" in parts:
        last = _until_local(parts["UNTIL"], tz).date()
        words += f" until {last.day} {last:%b %Y}"
    return words


def _cadence(parts: dict[str, str], start: datetime | None) -> str:
    frequency, every = parts["FREQ"], int(parts.get("INTERVAL", "1"))
    days = [code for code in parts.get("BYDAY", "").split(",") if code]
    if frequency == "HOURLY":
        return "every hour" if every == 1 else f"every {every} hours"
    if frequency in ("DAILY", "WEEKLY") and days and all(code in _WEEKDAY_CODES for code in days):
        chosen = sorted({_WEEKDAY_CODES.index(code) for code in days})
        if len(chosen) == 7:
            return "every day"
        if chosen == [0, 1, 2, 3, 4] and every == 1:
            return "every weekday"
        names = _listed([_WEEKDAY_NAMES[day] for day in chosen])
        return f"every {names}" if every == 1 else f"every {every} weeks on {names}"
    if frequency == "DAILY":
        return "every day" if every == 1 else f"every {every} days"
    if frequency == "WEEKLY":
        if start is None:
            return "every week" if every == 1 else f"every {every} weeks"
        name = _WEEKDAY_NAMES[start.weekday()]
        return f"every {name}" if every == 1 else f"every {every} weeks on {name}"
    period = "month" if frequency == "MONTHLY" else "year"
    of_every = f"of every {period}" if every == 1 else f"of every {every} {period}s"
    if frequency == "YEARLY":
        return _yearly(parts, start, every)
    if "BYMONTHDAY" in parts:
        numbers = [int(day) for day in parts["BYMONTHDAY"].split(",")]
        if numbers == [-1]:
            return f"on the last day {of_every}"
        label = "day" if len(numbers) == 1 else "days"
        return f"on {label} {_listed([_day_number(day) for day in numbers])} {of_every}"
    if days:
        return f"on the {_listed([_nth_weekday(code) for code in days])} {of_every}"
    if start is not None:
        return f"on day {start.day} {of_every}"
    return "every month" if every == 1 else f"every {every} months"


def _yearly(parts: dict[str, str], start: datetime | None, every: int) -> str:
    each = "every year" if every == 1 else f"every {every} years"
    months = parts.get("BYMONTH", str(start.month) if start else "")
    day = parts.get("BYMONTHDAY", str(start.day) if start else "")
    if months.isdigit() and day.lstrip("-").isdigit() and int(day) > 0:
        return f"{each} on {int(day)} {date(2000, int(months), 1):%b}"
    return each


def _times(parts: dict[str, str], start: datetime | None) -> list[str]:
    if parts["FREQ"] == "HOURLY":
        return []
    hours = [int(hour) for hour in parts.get("BYHOUR", "").split(",") if hour]
    minutes = [int(minute) for minute in parts.get("BYMINUTE", "").split(",") if minute]
    if not hours:
        if start is None:
            return []
        hours = [start.hour]
    if not minutes:
        minutes = [start.minute if start is not None else 0]
    return [f"{hour:02d}:{minute:02d}" for hour in sorted(hours) for minute in sorted(minutes)]


def _day_number(day: int) -> str:
    return str(day) if day > 0 else ("the last" if day == -1 else f"{-day} from the end")


def _nth_weekday(code: str) -> str:
    match = re.fullmatch(r"([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)", code)
    if not match:
        return code
    name = _WEEKDAY_NAMES[_WEEKDAY_CODES.index(match.group(2))]
    nth = int(match.group(1) or 0)
    ordinal = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}
    return f"{ordinal.get(nth, str(nth))} {name}" if nth else f"every {name}"


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _until_local(value: str, tz: str) -> datetime:
    """UNTIL as a naive wall time in `tz`: UTC ("...Z") converted, a bare date inclusive."""
    match = _UNTIL.match(value)
    assert match
    day = datetime.strptime(match.group(1), "%Y%m%d")  # noqa: DTZ007 - a wall date
    if match.group(2) is None:
        return day.replace(hour=23, minute=59, second=59)
    moment = datetime.strptime(match.group(1) + match.group(2), "%Y%m%d%H%M%S")  # noqa: DTZ007
    if match.group(3):
        return moment.replace(tzinfo=UTC).astimezone(zone(tz)).replace(tzinfo=None)
    return moment


def _series(rule: str, tz: str, dtstart_local: datetime) -> rrule:
    parts = _parts(validate_rule(rule))
    if "UNTIL" in parts:
        # dateutil wants a naive UNTIL with a naive start: state it on the same wall clock.
        parts["UNTIL"] = f"{_until_local(parts['UNTIL'], tz):%Y%m%dT%H%M%S}"
    series = rrulestr(_join(parts), dtstart=dtstart_local.replace(tzinfo=None))
    assert isinstance(series, rrule)
    return series


def _parts(text: str) -> dict[str, str]:
    cleaned = text.strip()
    if cleaned.upper().startswith("RRULE:"):
        cleaned = cleaned[len("RRULE:") :]
    if not cleaned or "\n" in cleaned or ":" in cleaned:
        raise RecurrenceError("Send one rule, like FREQ=WEEKLY;BYDAY=MO,TH.")
    parts: dict[str, str] = {}
    for piece in cleaned.strip(";").split(";"):
        key, sep, value = piece.strip().upper().partition("=")
        if not sep or not value or key not in _KEYS:
            raise RecurrenceError(f"I don't know “{piece.strip()[:30]}” in a rule.")
        if key in parts:
            raise RecurrenceError(f"{key} is in the rule twice.")
        parts[key] = value.strip()
    return parts


def _join(parts: dict[str, str]) -> str:
    ordered = {"FREQ": parts["FREQ"], **parts} if "FREQ" in parts else parts
    return ";".join(f"{key}={value}" for key, value in ordered.items())
