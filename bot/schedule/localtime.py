"""Wall times in IANA zones: labels ("CET", "UTC+04:00"), what a local time means across a
DST change (`resolve_local` never shifts a skipped or repeated time silently), and times
shown back to people. bot/schedule/parse.py re-exports all of it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

#: How a time is labelled: the IANA name (what older screens show), the abbreviation
#: ("CET", or "UTC+04:00" where the zone has none), or both.
TimeStyle = Literal["zone", "abbr", "full"]


@dataclass(frozen=True, kw_only=True)
class Choice:
    """One way to read a wall time that a clock change made skipped or repeated."""

    #: The instant, in UTC.
    instant: datetime
    #: For a button: "03:00 CEST".
    short: str
    #: For a message: "03:00 CEST — right after the clocks skip 02:00–03:00".
    label: str


class Resolution(enum.Enum):
    EXACT = "exact"  #: the wall time happens exactly once
    GAP = "gap"  #: the clocks skip it (spring forward)
    FOLD = "fold"  #: it happens twice (fall back)


@dataclass(frozen=True, kw_only=True)
class LocalResolution:
    """What a naive wall time in a zone means: one instant, or a choice to offer."""

    #: The wall time asked for (naive).
    local: datetime
    #: The IANA zone it was read in.
    tz: str
    kind: Resolution
    #: The one UTC instant when `kind` is EXACT, else None.
    instant: datetime | None = None
    #: GAP: [just after the gap, the time shifted by the gap]; FOLD: [first, second].
    choices: tuple[Choice, ...] = ()
    #: For the user, when there is a choice: what the clocks do that day.
    message: str = ""


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def find_timezone(text: str) -> str | None:
    """The IANA name the user meant, matched case-insensitively, or None."""
    wanted = text.strip().replace(" ", "_")
    if not wanted or ("/" not in wanted and wanted.upper() not in ("UTC", "GMT")):
        return None
    return zone_names().get(wanted.lower())


@cache
def zone_names() -> dict[str, str]:
    """Every IANA name by its lower case. `available_timezones()` walks the tz database on
    disk at each call; every command ("/list" has a slash) was checked against it."""
    return {name.lower(): name for name in available_timezones()}


# --- zone labels -------------------------------------------------------------------------


def abbreviation(local: datetime) -> str | None:
    """'CET' for an aware time, or None where tzdata has only a number ("+04")."""
    name = local.tzname()
    return name if name and name[0].isalpha() else None


def utc_offset(local: datetime) -> str:
    """'UTC+01:00', 'UTC-03:30'."""
    offset = local.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def zone_label(local: datetime) -> str:
    """The abbreviation, or the UTC offset where the zone has no abbreviation."""
    return abbreviation(local) or utc_offset(local)


# --- DST-safe wall times -----------------------------------------------------------------


def resolve_local(naive_local: datetime, tz: str) -> LocalResolution:
    """What `naive_local` on the clocks of `tz` means: one instant, or a gap/fold choice."""
    info = zone(tz)
    naive = naive_local.replace(tzinfo=None)
    # PEP 495: in a gap fold=0 uses the offset from before the change, in a fold the first.
    first = naive.replace(tzinfo=info, fold=0)
    second = naive.replace(tzinfo=info, fold=1)
    before, after = first.utcoffset() or timedelta(0), second.utcoffset() or timedelta(0)
    if before == after:
        return LocalResolution(
            local=naive, tz=tz, kind=Resolution.EXACT, instant=first.astimezone(UTC)
        )
    first_utc, second_utc = first.astimezone(UTC), second.astimezone(UTC)
    change = _transition(min(first_utc, second_utc), max(first_utc, second_utc), info)
    old_wall = (change + before).replace(tzinfo=None)
    new_wall = (change + after).replace(tzinfo=None)
    day = naive.strftime("%a %d %b %Y")
    asked = naive.strftime("%H:%M")
    if first_utc.astimezone(info).replace(tzinfo=None) != naive:
        # A gap: the clocks jump from old_wall to new_wall and `naive` never shows.
        skipped = f"{old_wall:%H:%M}–{new_wall:%H:%M}"
        jump = new_wall - old_wall
        shifted = _choice(first_utc, info, f"{asked} moved on by the skipped {_span(jump)}")
        after_gap = _choice(change, info, f"right after the clocks skip {skipped}")
        gap_choices = (after_gap,) if shifted.instant == change else (after_gap, shifted)
        message = (
            f"On {day} the clocks in {tz} jump from {old_wall:%H:%M} to {new_wall:%H:%M}, "
            f"so {asked} does not exist there. Which time do you mean?"
        )
        return LocalResolution(
            local=naive, tz=tz, kind=Resolution.GAP, choices=gap_choices, message=message
        )
    message = (
        f"On {day} the clocks in {tz} go back from {old_wall:%H:%M} to {new_wall:%H:%M}, "
        f"so {asked} happens twice. Which one do you mean?"
    )
    choices = (
        _choice(first_utc, info, "the first one, before the clocks go back", offset=True),
        _choice(second_utc, info, "the second one, after the clocks go back", offset=True),
    )
    return LocalResolution(
        local=naive, tz=tz, kind=Resolution.FOLD, choices=choices, message=message
    )


def _transition(low: datetime, high: datetime, info: ZoneInfo) -> datetime:
    """The first UTC instant in (low, high] on the offset `high` has (tzdb changes on seconds)."""
    target = high.astimezone(info).utcoffset()
    start, end = int(low.timestamp()), int(high.timestamp())
    while end - start > 1:
        middle = (start + end) // 2
        if datetime.fromtimestamp(middle, info).utcoffset() == target:
            end = middle
        else:
            start = middle
    return datetime.fromtimestamp(end, UTC)


def _choice(instant: datetime, info: ZoneInfo, why: str, *, offset: bool = False) -> Choice:
    local = instant.astimezone(info)
    short = f"{local:%H:%M} {zone_label(local)}"
    if offset and abbreviation(local):
        short += f" ({utc_offset(local)})"
    return Choice(instant=instant.astimezone(UTC), short=short, label=f"{short} — {why}")


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds()) // 60
    if minutes == 60:
        return "hour"
    return f"{minutes // 60} h {minutes % 60} min" if minutes > 60 else f"{minutes} minutes"


# --- showing times -----------------------------------------------------------------------


def format_when(
    instant: datetime,
    tz_name: str,
    now: datetime | None = None,
    *,
    with_distance: bool = True,
    style: TimeStyle = "zone",
) -> str:
    """'Thu 24 Dec 18:00 Europe/Berlin — in 32 days' (the year only when it is not this one).

    style="abbr" -> 'Thu 24 Dec 18:00 CET — in 32 days';
    style="full" -> 'Thu 24 Dec 18:00 CET (Europe/Berlin) — in 32 days'.
    """
    tz = zone(tz_name)
    local = instant.astimezone(tz)
    reference = (now or datetime.now(UTC)).astimezone(tz)
    pattern = "%a %d %b %H:%M" if local.year == reference.year else "%a %d %b %Y %H:%M"
    label = {
        "zone": tz_name,
        "abbr": zone_label(local),
        "full": f"{zone_label(local)} ({tz_name})",
    }[style]
    shown = f"{local.strftime(pattern)} {label}"
    if with_distance and now is not None:
        shown += f" — {distance(instant - now)}"
    return shown


def format_short(instant: datetime, tz_name: str, now: datetime, *, with_zone: bool = False) -> str:
    """'24 Dec 18:00' in the user's zone (the year only when it is not this one).

    with_zone=True adds the abbreviation: '24 Dec 18:00 CET'.
    """
    tz = zone(tz_name)
    local = instant.astimezone(tz)
    pattern = "%d %b %H:%M" if local.year == now.astimezone(tz).year else "%d %b %Y %H:%M"
    shown = local.strftime(pattern)
    return f"{shown} {zone_label(local)}" if with_zone else shown


def distance(delta: timedelta) -> str:
    """'in 32 days', 'in 1 h 5 min', 'now', '3 min ago'."""
    seconds = delta.total_seconds()
    future = seconds >= 0
    seconds = abs(seconds)
    if seconds < 30:
        return "now"
    minutes = round(seconds / 60)
    if minutes < 60:
        span = f"{max(minutes, 1)} min"
    elif minutes < 24 * 60:
        hours, rest = divmod(minutes, 60)
        span = f"{hours} h {rest} min" if rest else f"{hours} h"
    else:
        days = round(seconds / 86400)
        span = f"{days} day" if days == 1 else f"{days} days"
    return f"in {span}" if future else f"{span} ago"


def tomorrow_at(now: datetime, tz_name: str, hour: int, minute: int = 0) -> datetime:
    """The next day's hour:minute in the user's zone, as UTC."""
    tz = zone(tz_name)
    local = now.astimezone(tz) + timedelta(days=1)
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0).astimezone(UTC)
