"""Queue slots: reading typed slots, showing them, and finding the next free one across DST."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.schedule.slots import SlotError, clock_change_notes, next_free, parse_slots, summarise

BERLIN = "Europe/Berlin"
MON_FRI_9_17 = sorted([(day, 9 * 60) for day in range(5)] + [(day, 17 * 60) for day in range(5)])


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Mon-Fri 09:00 17:00", MON_FRI_9_17),
        ("mon–fri 9:00, 17:00", MON_FRI_9_17),
        ("weekdays 9am 5pm", MON_FRI_9_17),
        ("Sat 10:00", [(5, 600)]),
        ("daily 12:30", [(day, 750) for day in range(7)]),
        ("every day 8h", [(day, 480) for day in range(7)]),
        ("Mon, Wed 8am; Sat 10:00", [(0, 480), (2, 480), (5, 600)]),
        ("Fri-Mon 18:00", [(0, 1080), (4, 1080), (5, 1080), (6, 1080)]),
        ("Montag 9 uhr", None),  # "uhr" is not a time here: refused, not guessed
        ("Montag 9:15", [(0, 555)]),
        ("weekends 11 am", [(5, 660), (6, 660)]),
    ],
)
def test_typed_slots(typed: str, expected: list[tuple[int, int]] | None) -> None:
    if expected is None:
        with pytest.raises(SlotError):
            parse_slots(typed)
    else:
        assert parse_slots(typed) == expected


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("09:00", "which days"),
        ("Mon-Fri", "Add a time"),
        ("Mon 25:00", "can't read"),
        ("Mon 13pm", "can't read"),
        ("", "Send days and times"),
        ("purple 9:00", "can't read"),
    ],
)
def test_unreadable_slots_say_why(typed: str, says: str) -> None:
    with pytest.raises(SlotError, match=says):
        parse_slots(typed)


def test_summaries_group_days_that_share_times() -> None:
    assert summarise(MON_FRI_9_17) == "Mon–Fri 09:00, 17:00"
    assert summarise([(0, 540), (1, 540), (5, 600)]) == "Mon, Tue 09:00; Sat 10:00"
    assert summarise([(0, 540), (2, 540)]) == "Mon 09:00; Wed 09:00"
    assert summarise([(day, 0) for day in range(7)]) == "Mon–Sun 00:00"


def test_next_free_is_the_first_slot_ahead_in_local_time() -> None:
    # Sunday 22 Nov 2026, 10:00 in Berlin (CET): the next Mon-Fri 09:00 is Monday 08:00 UTC.
    now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    assert next_free(MON_FRI_9_17, BERLIN, now, set()) == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_next_free_skips_taken_and_past_slots() -> None:
    # Monday 23 Nov, 12:00 Berlin: 09:00 has passed, 17:00 is taken, so Tuesday 09:00.
    now = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    taken = {datetime(2026, 11, 23, 16, 0, tzinfo=UTC)}
    assert next_free(MON_FRI_9_17, BERLIN, now, taken) == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def test_a_slot_keeps_its_wall_time_across_dst() -> None:
    # Monday 09:00 in Berlin is 08:00 UTC in winter (CET) and 07:00 UTC from 29 Mar (CEST).
    before = next_free([(0, 540)], BERLIN, datetime(2026, 3, 20, 12, 0, tzinfo=UTC), set())
    after = next_free([(0, 540)], BERLIN, datetime(2026, 3, 27, 12, 0, tzinfo=UTC), set())
    assert before == datetime(2026, 3, 23, 8, 0, tzinfo=UTC)
    assert after == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def test_a_slot_the_clocks_skip_is_right_after_the_gap() -> None:
    # Sunday 29 Mar 2026: Berlin jumps from 02:00 to 03:00; a Sunday 02:30 slot is 03:00 CEST.
    saturday = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    when = next_free([(6, 150)], BERLIN, saturday, set())
    assert when == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    # The next week it is 02:30 CEST again.
    following = next_free([(6, 150)], BERLIN, saturday, {when})
    assert following == datetime(2026, 4, 5, 0, 30, tzinfo=UTC)


def test_a_repeated_slot_is_the_first_one() -> None:
    # Sunday 25 Oct 2026: Berlin goes back from 03:00 to 02:00; 02:30 CEST comes first.
    saturday = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    assert next_free([(6, 150)], BERLIN, saturday, set()) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )


def test_no_slots_means_no_time() -> None:
    assert next_free([], BERLIN, datetime(2026, 11, 22, tzinfo=UTC), set()) is None


def test_a_slot_a_clock_change_moves_is_named_with_where_it_goes() -> None:
    now = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    sunday_0230, monday_0900 = (6, 150), (0, 540)
    notes = clock_change_notes([sunday_0230, monday_0900], BERLIN, now)
    assert notes == ["On Sun 28 Mar 2027 the clocks skip 02:30: that slot is 03:00 CEST."]
    autumn = datetime(2027, 4, 1, 12, 0, tzinfo=UTC)
    [fold] = clock_change_notes([sunday_0230], BERLIN, autumn)
    assert fold.startswith("On Sun 31 Oct 2027 02:30 happens twice: that slot is the first")
    assert clock_change_notes([sunday_0230], "UTC", now) == []
