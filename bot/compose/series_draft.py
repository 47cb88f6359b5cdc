"""The repeat of a post being composed: what the 🔁 Repeat menu chose, kept as the draft's
`rrule` (so it survives a restart like the rest of the draft).

The rules carry no time of day: the series' start (the time picked for the post) gives it,
so changing the time after choosing a repeat moves every occurrence with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.engine.series import first_occurrence, upcoming_from, wall
from bot.schedule.parse import TimeParseError, format_when, parse_when
from bot.schedule.recurrence import (
    MAX_COUNT,
    RecurrenceError,
    Repeat,
    build_rule,
    clock_change_note,
    describe_rule,
    validate_rule,
)
from bot.services import Services
from storage import posts, users
from storage.models import Post

_WORKDAYS = "MO,TU,WE,TH,FR"
_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True, kw_only=True)
class Choice:
    """A rule taken apart into what the menu shows."""

    kind: Repeat = Repeat.NONE
    #: 0 (Monday) to 6, for WEEKLY.
    weekdays: tuple[int, ...] = ()
    #: 1..31, or -1 for the last day, for MONTHLY.
    day_of_month: int | None = None
    #: The rule without its end, for CUSTOM.
    custom: str | None = None
    count: int | None = None
    #: The last day, inclusive, in the post's zone.
    until: date | None = None


def read_choice(rule: str | None) -> Choice:
    if not rule:
        return Choice()
    parts = dict(piece.split("=", 1) for piece in rule.split(";") if "=" in piece)
    count = int(parts.pop("COUNT")) if parts.get("COUNT", "").isdigit() else None
    until_text = parts.pop("UNTIL", "")
    until = None
    if len(until_text) >= 8 and until_text[:8].isdigit():
        until = date(int(until_text[:4]), int(until_text[4:6]), int(until_text[6:8]))
    days = parts.get("BYDAY", "")
    if parts == {"FREQ": "DAILY"}:
        return Choice(kind=Repeat.DAILY, count=count, until=until)
    if parts == {"FREQ": "WEEKLY", "BYDAY": _WORKDAYS}:
        return Choice(kind=Repeat.WEEKDAYS, count=count, until=until)
    codes = days.split(",")
    if set(parts) == {"FREQ", "BYDAY"} and parts["FREQ"] == "WEEKLY" and set(codes) <= set(_CODES):
        return Choice(
            kind=Repeat.WEEKLY,
            weekdays=tuple(sorted(map(_CODES.index, codes))),
            count=count,
            until=until,
        )
    day = parts.get("BYMONTHDAY", "")
    number = int(day) if day.lstrip("-").isdigit() else 0
    if set(parts) == {"FREQ", "BYMONTHDAY"} and parts["FREQ"] == "MONTHLY" and number:
        return Choice(kind=Repeat.MONTHLY, day_of_month=number, count=count, until=until)
    custom = ";".join(f"{key}={value}" for key, value in parts.items())
    return Choice(kind=Repeat.CUSTOM, custom=custom, count=count, until=until)


def build(choice: Choice) -> str | None:
    """The rule for a choice; raises RecurrenceError with a reason for the user."""
    return build_rule(
        choice.kind,
        weekdays=choice.weekdays,
        day_of_month=choice.day_of_month,
        custom=choice.custom,
        count=choice.count,
        until=choice.until,
    )


@dataclass(frozen=True, kw_only=True)
class DraftRepeat:
    """What the repeat menu shows."""

    choice: Choice
    rule: str | None
    tz: str
    #: The series' start: the picked time (or now), naive local wall time.
    start: datetime
    #: The rule in words; None when the post doesn't repeat.
    words: str | None
    #: The first few occurrences (UTC), one more than the menu shows.
    upcoming: list[datetime]
    now: datetime
    #: The coming year's first occurrence that a clock change moves, in words.
    clock_change: str | None = None


def _view(post: Post, tz: str, start: datetime, now: datetime) -> DraftRepeat:
    rule = post.rrule
    return DraftRepeat(
        choice=read_choice(rule),
        rule=rule,
        tz=tz,
        start=start,
        words=describe_rule(rule, tz, dtstart_local=start) if rule else None,
        upcoming=upcoming_from(rule, tz, start, limit=4) if rule else [],
        now=now,
        clock_change=clock_change_note(rule, tz, start, now) if rule else None,
    )


#: From the current choice and the series' start to the new rule (None: no repeat).
Change = Callable[[Choice, datetime], str | None]


async def _edit(services: Services, user_id: int, change: Change | None) -> DraftRepeat:
    now = services.now()

    async def work(session: AsyncSession) -> DraftRepeat:
        post = await posts.current_draft(session, user_id)
        if post is None:
            raise RecurrenceError("That draft is gone. Send /new to start a post.")
        user = await users.get(session, user_id)
        tz = user.timezone if user else services.settings.default_timezone
        start = wall(post.publish_at or now, tz)
        if change is not None:
            post.rrule = change(read_choice(post.rrule), start)
        return _view(post, tz, start, now)

    return await services.db.run(work)


async def show(services: Services, user_id: int) -> DraftRepeat:
    return await _edit(services, user_id, None)


async def choose(
    services: Services, user_id: int, kind: Repeat, *, last_day: bool = False
) -> DraftRepeat:
    """Repeat daily, on weekdays, weekly (on the picked day), monthly (on the picked date,
    or the last day), or not at all; an end already chosen stays."""

    def change(choice: Choice, start: datetime) -> str | None:
        if kind is Repeat.NONE:
            return None
        if kind is Repeat.WEEKLY:
            days = choice.weekdays if choice.kind is Repeat.WEEKLY else (start.weekday(),)
            return build(replace(choice, kind=kind, weekdays=days))
        if kind is Repeat.MONTHLY:
            return build(replace(choice, kind=kind, day_of_month=-1 if last_day else start.day))
        return build(replace(choice, kind=kind))

    return await _edit(services, user_id, change)


async def toggle_day(services: Services, user_id: int, day: int) -> DraftRepeat:
    """Add or remove a day of a weekly repeat (at least one stays)."""

    def change(choice: Choice, start: datetime) -> str | None:
        days = set(choice.weekdays if choice.kind is Repeat.WEEKLY else (start.weekday(),))
        days ^= {day}
        if not days:
            raise RecurrenceError("Keep at least one day of the week.")
        return build(replace(choice, kind=Repeat.WEEKLY, weekdays=tuple(sorted(days))))

    return await _edit(services, user_id, change)


async def set_custom(services: Services, user_id: int, text: str) -> DraftRepeat:
    """Take a typed RRULE (validated: at most hourly, and it must ever happen)."""

    rule = validate_rule(text)  # raises before anything is read or written
    return await _edit(services, user_id, lambda _choice, _start: rule)


async def set_count(services: Services, user_id: int, text: str) -> DraftRepeat:
    """End the series after a typed number of posts."""
    cleaned = text.strip().removesuffix("times").strip()
    if not cleaned.isdigit() or not 1 <= int(cleaned) <= MAX_COUNT:
        raise RecurrenceError(f"Send a number from 1 to {MAX_COUNT}, like 10.")

    def change(choice: Choice, start: datetime) -> str | None:
        _needs_repeat(choice)
        return build(replace(choice, count=int(cleaned), until=None))

    return await _edit(services, user_id, change)


async def set_until(services: Services, user_id: int, text: str) -> DraftRepeat:
    """End the series on a typed day (inclusive), in the user's zone."""
    user = await services.db.run(lambda s: users.get(s, user_id))
    tz = user.timezone if user else services.settings.default_timezone
    now = services.now()
    try:
        last = parse_when(text, tz, now, user.language if user else None)
    except TimeParseError as exc:
        raise RecurrenceError(str(exc)) from exc
    day = wall(last, tz).date()

    def change(choice: Choice, start: datetime) -> str | None:
        _needs_repeat(choice)
        if day < start.date():
            raise RecurrenceError(
                f"{day:%d %b %Y} is before the first post ({start:%d %b %Y}). Send a later day."
            )
        return build(replace(choice, until=day, count=None))

    return await _edit(services, user_id, change)


async def clear_end(services: Services, user_id: int) -> DraftRepeat:
    """Repeat with no end."""

    def change(choice: Choice, start: datetime) -> str | None:
        return build(replace(choice, count=None, until=None))

    return await _edit(services, user_id, change)


def _needs_repeat(choice: Choice) -> None:
    if choice.kind is Repeat.NONE:
        raise RecurrenceError("Pick how often it repeats first.")


def preview_line(post: Post, tz: str, now: datetime) -> str | None:
    """The draft's repeat for the preview: "every weekday at 09:00", and the first post when
    it isn't the picked time (the picked day isn't one of the rule's)."""
    if not post.rrule:
        return None
    when = post.publish_at or now
    start = wall(when, tz)
    try:
        said = describe_rule(post.rrule, tz, dtstart_local=start)
        _, first = first_occurrence(post.rrule, tz, when)
    except RecurrenceError as exc:
        return f"{post.rrule} — ⚠️ {exc}"
    if abs((first - when).total_seconds()) >= 60:
        said += f" — first {format_when(first, tz, now, with_distance=False, style='abbr')}"
    if note := clock_change_note(post.rrule, tz, start, now):
        said += f"\n🕰 {note}"
    return said
