"""Series arithmetic without a database: the next occurrence after downtime, the first one of a
new series, and the repeat menu's reading of rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.compose.series_draft import Choice, build, preview_line, read_choice
from bot.engine.series import (
    MISSED_GRACE,
    Next,
    Plan,
    first_occurrence,
    plan_next,
    summary_line,
    wall,
)
from bot.schedule.recurrence import RecurrenceError, Repeat
from storage.models import Post

BERLIN = "Europe/Berlin"
#: A daily series at 09:00 Berlin time, from Saturday 27 March 2027.
START = datetime(2027, 3, 27, 9, 0)  # noqa: DTZ001 - a wall time
SATURDAY = datetime(2027, 3, 27, 8, 0, tzinfo=UTC)
SUNDAY = datetime(2027, 3, 28, 7, 0, tzinfo=UTC)  # 09:00 CEST
MONDAY = datetime(2027, 3, 29, 7, 0, tzinfo=UTC)
TUESDAY = datetime(2027, 3, 30, 7, 0, tzinfo=UTC)


def test_the_next_occurrence_when_on_time() -> None:
    assert plan_next("FREQ=DAILY", BERLIN, START, SATURDAY, SATURDAY) == Plan(at=SUNDAY)


def test_after_downtime_the_next_one_is_in_the_future_and_the_missed_are_counted() -> None:
    # Settled on Monday 12:00: Sunday's and Monday's are missed (Monday's is 3 hours late).
    plan = plan_next("FREQ=DAILY", BERLIN, START, SATURDAY, MONDAY + timedelta(hours=3))
    assert plan == Plan(at=TUESDAY, skipped=2, first_skipped=SUNDAY)


def test_the_latest_missed_one_goes_out_if_less_than_an_hour_late() -> None:
    now = MONDAY + MISSED_GRACE - timedelta(minutes=1)
    assert plan_next("FREQ=DAILY", BERLIN, START, SATURDAY, now) == Plan(
        at=MONDAY, skipped=1, first_skipped=SUNDAY
    )
    exactly_an_hour = plan_next("FREQ=DAILY", BERLIN, START, SATURDAY, MONDAY + MISSED_GRACE)
    assert exactly_an_hour.at == TUESDAY


def test_a_long_outage_counts_a_bounded_number_and_says_there_were_more() -> None:
    plan = plan_next("FREQ=HOURLY", BERLIN, START, SATURDAY, SATURDAY + timedelta(days=30))
    assert plan.skipped == 5
    assert plan.more
    assert plan.at is not None
    assert plan.at > SATURDAY + timedelta(days=30) - MISSED_GRACE


def test_a_series_that_ended_during_downtime_has_no_next() -> None:
    plan = plan_next("FREQ=DAILY;COUNT=3", BERLIN, START, SATURDAY, TUESDAY)
    assert plan == Plan(at=None, skipped=2, first_skipped=SUNDAY)


def test_the_first_occurrence_is_the_rules_first_at_or_after_the_picked_time() -> None:
    # Picked Saturday 09:00 for "every Monday and Thursday": the first is Monday's.
    assert first_occurrence("FREQ=WEEKLY;BYDAY=MO,TH", BERLIN, SATURDAY) == (START, MONDAY)
    assert first_occurrence("FREQ=DAILY", BERLIN, SATURDAY) == (START, SATURDAY)
    # Seconds are dropped: the series runs on whole minutes.
    picked = SATURDAY + timedelta(seconds=42)
    assert first_occurrence("FREQ=DAILY", BERLIN, picked) == (START, SATURDAY)
    with pytest.raises(RecurrenceError, match="ends before its first post"):
        first_occurrence("FREQ=DAILY;UNTIL=20270301", BERLIN, SATURDAY)


def test_wall_time_in_the_zone() -> None:
    assert wall(SUNDAY, BERLIN) == datetime(2027, 3, 28, 9, 0)  # noqa: DTZ001


@pytest.mark.parametrize(
    ("rule", "choice"),
    [
        (None, Choice()),
        ("FREQ=DAILY", Choice(kind=Repeat.DAILY)),
        ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=10", Choice(kind=Repeat.WEEKDAYS, count=10)),
        ("FREQ=WEEKLY;BYDAY=MO,TH", Choice(kind=Repeat.WEEKLY, weekdays=(0, 3))),
        (
            "FREQ=MONTHLY;BYMONTHDAY=-1;UNTIL=20271231T235959",
            Choice(kind=Repeat.MONTHLY, day_of_month=-1, until=date(2027, 12, 31)),
        ),
        (
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=SA;COUNT=3",
            Choice(kind=Repeat.CUSTOM, custom="FREQ=WEEKLY;INTERVAL=2;BYDAY=SA", count=3),
        ),
    ],
)
def test_the_menu_reads_rules_back_and_rebuilds_them(rule: str | None, choice: Choice) -> None:
    assert read_choice(rule) == choice
    assert build(choice) == rule


def test_a_preview_line_names_the_first_post_when_it_is_not_the_picked_time() -> None:
    now = SATURDAY - timedelta(days=1)
    post = Post(text="x", rrule="FREQ=WEEKLY;BYDAY=MO,TH", publish_at=SATURDAY)
    assert preview_line(post, BERLIN, now) == (
        "every Monday and Thursday at 09:00 — first Mon 29 Mar 09:00 CEST"
    )
    post.rrule = "FREQ=DAILY;COUNT=3"
    assert preview_line(post, BERLIN, now) == "every day at 09:00, 3 times"
    post.rrule = None
    assert preview_line(post, BERLIN, now) is None


def test_the_summary_dm_says_when_the_series_posts_next() -> None:
    assert summary_line(None, SATURDAY) == ""
    assert summary_line(Next(tz=BERLIN, at=SUNDAY), SATURDAY) == (
        "\n\n🔁 Next: Sun 28 Mar 09:00 CEST — in 23 h"
    )
    assert "last one" in summary_line(Next(tz=BERLIN, at=None), SATURDAY)
