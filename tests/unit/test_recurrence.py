"""Repeats: the RRULEs we build, refuse and read back, and wall-clock occurrences across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.schedule.recurrence import (
    RecurrenceError,
    Repeat,
    build_rule,
    clock_change_note,
    describe_rule,
    next_occurrence,
    upcoming,
    validate_rule,
)

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


def _wall(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A naive wall-clock time in the series' zone."""
    return datetime(year, month, day, hour, minute)  # noqa: DTZ001


def _local(instants: list[datetime], tz: str) -> list[str]:
    """'2027-03-28 09:00 CEST' for each instant, to read DST behaviour at a glance."""
    return [instant.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M %Z") for instant in instants]


# --- building rules -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("built", "rule"),
    [
        (build_rule(Repeat.NONE), None),
        (build_rule(Repeat.DAILY, at=time(9, 0)), "FREQ=DAILY;BYHOUR=9;BYMINUTE=0"),
        (
            build_rule(Repeat.WEEKDAYS, at=time(9, 0)),
            "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9;BYMINUTE=0",
        ),
        (
            build_rule(Repeat.WEEKLY, at=time(18, 30), weekdays=[3, 0, 3], count=10),
            "FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=18;BYMINUTE=30;COUNT=10",
        ),
        (
            build_rule(Repeat.MONTHLY, at=time(9, 0), day_of_month=1, until=date(2027, 12, 31)),
            "FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=0;UNTIL=20271231T235959",
        ),
        (build_rule(Repeat.MONTHLY, day_of_month=-1), "FREQ=MONTHLY;BYMONTHDAY=-1"),
        (build_rule(Repeat.DAILY), "FREQ=DAILY"),
        (
            build_rule(Repeat.CUSTOM, custom="rrule:freq=weekly;interval=2;byday=sa", count=3),
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=SA;COUNT=3",
        ),
    ],
)
def test_build_rule(built: str | None, rule: str | None) -> None:
    assert built == rule


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"repeat": Repeat.WEEKLY, "weekdays": []}, "at least one day"),
        ({"repeat": Repeat.WEEKLY, "weekdays": [7]}, "at least one day"),
        ({"repeat": Repeat.MONTHLY, "day_of_month": 32}, "day of the month"),
        ({"repeat": Repeat.MONTHLY}, "day of the month"),
        ({"repeat": Repeat.DAILY, "count": 3, "until": date(2027, 1, 1)}, "not both"),
        ({"repeat": Repeat.DAILY, "count": 0}, "COUNT"),
        ({"repeat": Repeat.CUSTOM, "custom": "FREQ=DAILY;COUNT=2", "count": 5}, "already"),
    ],
)
def test_build_rule_refuses_with_a_reason(kwargs: dict[str, object], says: str) -> None:
    with pytest.raises(RecurrenceError, match=says):
        build_rule(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("FREQ=SECONDLY", "once an hour"),
        ("FREQ=MINUTELY;INTERVAL=90", "once an hour"),
        ("FREQ=DAILY;BYMINUTE=0,30", "once an hour"),
        ("FREQ=HOURLY;BYMINUTE=0,10", "once an hour"),
        ("FREQ=DAILY;BYSECOND=5", "BYSECOND"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "never happens"),
        ("FREQ=DAILY;COUNT=5;UNTIL=20270101", "not both"),
        ("FREQ=DAILY;COUNT=5000", "COUNT"),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL"),
        ("FREQ=DAILY;UNTIL=tomorrow", "UNTIL"),
        ("FREQ=DAILY;FOO=1", "FOO"),
        ("FREQ=DAILY;FREQ=WEEKLY", "twice"),
        ("FREQ=DAILY;BYDAY=XX", "not a rule"),
        ("BYDAY=MO", "FREQ"),
        ("DTSTART:20260101T000000\nRRULE:FREQ=DAILY", "one rule"),
        ("", "one rule"),
        ("every day", "every day"),
    ],
)
def test_absurd_or_broken_custom_rules_are_refused(text: str, says: str) -> None:
    with pytest.raises(RecurrenceError, match=says):
        validate_rule(text)


def test_custom_rules_are_normalised() -> None:
    assert validate_rule(" rrule:byday=mo,th;freq=weekly ") == "FREQ=WEEKLY;BYDAY=MO,TH"
    assert validate_rule("FREQ=HOURLY;INTERVAL=4") == "FREQ=HOURLY;INTERVAL=4"


# --- reading rules back ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9;BYMINUTE=0", "every weekday at 09:00"),
        (
            "FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=18;BYMINUTE=30;COUNT=10",
            "every Monday and Thursday at 18:30, 10 times",
        ),
        (
            "FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=0;UNTIL=20271231T235959",
            "on day 1 of every month at 09:00 until 31 Dec 2027",
        ),
        ("FREQ=DAILY;BYHOUR=9;BYMINUTE=0", "every day at 09:00"),
        ("FREQ=DAILY;INTERVAL=3;BYHOUR=7;BYMINUTE=5;COUNT=1", "every 3 days at 07:05, once"),
        (
            "FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=20;BYMINUTE=0",
            "on the last day of every month at 20:00",
        ),
        (
            "FREQ=MONTHLY;BYDAY=1MO;BYHOUR=10;BYMINUTE=0",
            "on the first Monday of every month at 10:00",
        ),
        (
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR;BYHOUR=9,17;BYMINUTE=0",
            "every 2 weeks on Monday, Wednesday and Friday at 09:00 and 17:00",
        ),
        (
            "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24;BYHOUR=18;BYMINUTE=0",
            "every year on 24 Dec at 18:00",
        ),
        ("FREQ=HOURLY;INTERVAL=3", "every 3 hours"),
        ("FREQ=WEEKLY;BYDAY=SA,SU;BYHOUR=11;BYMINUTE=0", "every Saturday and Sunday at 11:00"),
        # UNTIL in UTC is shown as the day it is in the user's zone.
        (
            "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;UNTIL=20271231T230000Z",
            "every day at 09:00 until 1 Jan 2028",
        ),
        (
            "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR",
            "custom repeat (FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR)",
        ),
    ],
)
def test_describe_rule(rule: str, words: str) -> None:
    assert describe_rule(rule, BERLIN) == words


def test_describe_rule_takes_the_time_from_the_start_when_the_rule_has_none() -> None:
    start = _wall(2027, 1, 7, 7, 15)  # a Thursday
    assert describe_rule("FREQ=DAILY", BERLIN, dtstart_local=start) == "every day at 07:15"
    assert describe_rule("FREQ=WEEKLY", BERLIN, dtstart_local=start) == "every Thursday at 07:15"
    assert describe_rule("FREQ=MONTHLY", BERLIN, dtstart_local=start) == (
        "on day 7 of every month at 07:15"
    )
    assert describe_rule("FREQ=DAILY", BERLIN, "de") == "every day"  # English for now


# --- occurrences in wall-clock time across DST --------------------------------------------


def test_every_day_at_nine_stays_at_nine_across_spring_forward_in_berlin() -> None:
    rule = build_rule(Repeat.DAILY, at=time(9, 0))
    assert rule is not None
    found = upcoming(rule, BERLIN, _wall(2027, 3, 26, 9), datetime(2027, 3, 26, tzinfo=UTC), 4)
    assert _local(found, BERLIN) == [
        "2027-03-26 09:00 CET",
        "2027-03-27 09:00 CET",
        "2027-03-28 09:00 CEST",
        "2027-03-29 09:00 CEST",
    ]
    assert found[1] - found[0] == found[3] - found[2]  # 24 h apart on either side
    assert (found[2] - found[1]).total_seconds() == 23 * 3600  # the short day


def test_a_weekly_repeat_stays_at_nine_across_both_changes_in_berlin() -> None:
    rule = build_rule(Repeat.WEEKLY, at=time(9, 0), weekdays=[0])
    assert rule is not None
    start = _wall(2027, 3, 22, 9)
    spring = upcoming(rule, BERLIN, start, datetime(2027, 3, 21, tzinfo=UTC), 2)
    assert _local(spring, BERLIN) == ["2027-03-22 09:00 CET", "2027-03-29 09:00 CEST"]
    # Clocks go back on Sunday 31 Oct 2027, between these two Mondays.
    autumn = upcoming(rule, BERLIN, start, datetime(2027, 10, 24, tzinfo=UTC), 2)
    assert _local(autumn, BERLIN) == ["2027-10-25 09:00 CEST", "2027-11-01 09:00 CET"]


def test_every_day_at_nine_across_fall_back_in_berlin() -> None:
    found = upcoming(
        "FREQ=DAILY;BYHOUR=9;BYMINUTE=0",
        BERLIN,
        _wall(2026, 10, 1, 9),
        datetime(2026, 10, 24, tzinfo=UTC),
        3,
    )
    assert _local(found, BERLIN) == [
        "2026-10-24 09:00 CEST",
        "2026-10-25 09:00 CET",
        "2026-10-26 09:00 CET",
    ]
    assert (found[1] - found[0]).total_seconds() == 25 * 3600  # the long day


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        # US dates: second Sunday of March, first Sunday of November.
        (datetime(2027, 3, 13, tzinfo=UTC), ["2027-03-13 09:00 EST", "2027-03-14 09:00 EDT"]),
        (datetime(2026, 10, 31, tzinfo=UTC), ["2026-10-31 09:00 EDT", "2026-11-01 09:00 EST"]),
    ],
)
def test_every_day_at_nine_in_new_york(after: datetime, expected: list[str]) -> None:
    found = upcoming("FREQ=DAILY;BYHOUR=9;BYMINUTE=0", NEW_YORK, _wall(2026, 1, 1, 9), after, 2)
    assert _local(found, NEW_YORK) == expected


def test_a_skipped_wall_time_in_a_series_happens_right_after_the_gap() -> None:
    found = upcoming(
        "FREQ=DAILY", BERLIN, _wall(2027, 3, 27, 2, 30), datetime(2027, 3, 27, tzinfo=UTC), 3
    )
    assert _local(found, BERLIN) == [
        "2027-03-27 02:30 CET",
        "2027-03-28 03:00 CEST",  # 02:30 does not exist that night
        "2027-03-29 02:30 CEST",
    ]


def test_a_repeated_wall_time_in_a_series_happens_once_the_first_time() -> None:
    start = _wall(2026, 10, 24, 2, 30)
    found = upcoming("FREQ=DAILY", BERLIN, start, datetime(2026, 10, 24, tzinfo=UTC), 3)
    assert _local(found, BERLIN) == [
        "2026-10-24 02:30 CEST",
        "2026-10-25 02:30 CEST",
        "2026-10-26 02:30 CET",
    ]
    # Asked between the two 02:30s, the next one is the next day's: no second post.
    between = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)
    following = next_occurrence("FREQ=DAILY", BERLIN, start, between)
    assert _local([following], BERLIN) == ["2026-10-26 02:30 CET"]  # type: ignore[list-item]


def test_the_31st_follows_rfc_5545_and_skips_short_months() -> None:
    rule = build_rule(Repeat.MONTHLY, at=time(9, 0), day_of_month=31)
    assert rule is not None
    found = upcoming(rule, BERLIN, _wall(2027, 1, 31, 9), datetime(2027, 1, 1, tzinfo=UTC), 4)
    assert [instant.date() for instant in found] == [
        date(2027, 1, 31),
        date(2027, 3, 31),
        date(2027, 5, 31),
        date(2027, 7, 31),
    ]
    last_day = build_rule(Repeat.MONTHLY, at=time(9, 0), day_of_month=-1)
    assert last_day is not None
    ends = upcoming(last_day, BERLIN, _wall(2027, 1, 31, 9), datetime(2027, 1, 1, tzinfo=UTC), 3)
    assert [instant.date() for instant in ends] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
    ]


def test_a_series_ends_after_count() -> None:
    start = _wall(2027, 1, 4, 9)
    rule = "FREQ=DAILY;COUNT=3"
    found = upcoming(rule, BERLIN, start, datetime(2027, 1, 1, tzinfo=UTC), 10)
    assert len(found) == 3
    assert next_occurrence(rule, BERLIN, start, found[-1]) is None
    # COUNT counts from the start, however late the question is asked.
    assert next_occurrence(rule, BERLIN, start, found[0]) == found[1]


def test_until_is_inclusive_of_its_day() -> None:
    rule = build_rule(Repeat.DAILY, at=time(21, 0), until=date(2027, 1, 6))
    assert rule is not None
    found = upcoming(rule, BERLIN, _wall(2027, 1, 4, 21), datetime(2027, 1, 1, tzinfo=UTC), 10)
    assert _local(found, BERLIN)[-1] == "2027-01-06 21:00 CET"
    assert len(found) == 3


def test_until_in_utc_is_compared_as_an_instant() -> None:
    rule = "FREQ=DAILY;UNTIL=20270105T080000Z"  # 09:00 in Berlin
    found = upcoming(rule, BERLIN, _wall(2027, 1, 4, 9), datetime(2027, 1, 1, tzinfo=UTC), 10)
    assert _local(found, BERLIN) == ["2027-01-04 09:00 CET", "2027-01-05 09:00 CET"]


def test_next_occurrence_is_strictly_after() -> None:
    start = _wall(2027, 1, 4, 9)
    at_nine = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
    following = next_occurrence("FREQ=DAILY", BERLIN, start, at_nine)
    assert following == datetime(2027, 1, 5, 8, 0, tzinfo=UTC)


def test_a_series_meeting_a_clock_change_says_so_and_when_that_post_goes_out() -> None:
    after = datetime(2027, 3, 1, tzinfo=UTC)
    gap = clock_change_note("FREQ=DAILY", BERLIN, _wall(2027, 3, 1, 2, 30), after)
    assert gap == (
        f"On Sun 28 Mar 2027 the clocks in {BERLIN} skip 02:30: that post goes out at "
        "03:00 CEST, right after the change."
    )
    sundays, spring = "FREQ=WEEKLY;BYDAY=SU", datetime(2027, 4, 1, tzinfo=UTC)
    fold = clock_change_note(sundays, BERLIN, _wall(2026, 10, 4, 2, 30), spring)
    assert fold is not None
    assert fold.startswith(f"On Sun 31 Oct 2027 02:30 happens twice in {BERLIN}")
    assert fold.endswith("goes out at the first, 02:30 CEST (UTC+02:00).")


def test_a_series_clear_of_clock_changes_has_no_note() -> None:
    after = datetime(2027, 3, 1, tzinfo=UTC)
    assert clock_change_note("FREQ=DAILY", BERLIN, _wall(2027, 3, 1, 9, 0), after) is None
    assert clock_change_note("FREQ=DAILY", "UTC", _wall(2027, 3, 1, 2, 30), after) is None
    # Tuesdays never fall on Berlin's Sunday-night changes.
    tuesdays = "FREQ=WEEKLY;BYDAY=TU"
    assert clock_change_note(tuesdays, BERLIN, _wall(2027, 3, 2, 2, 30), after) is None
