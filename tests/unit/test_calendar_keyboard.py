"""The inline calendar and hour/minute picker: rows of (label, data), and taps read back."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.ui.calendar import (
    MAX_CALLBACK_BYTES,
    NOOP,
    Keyboard,
    Navigate,
    Noop,
    PickDay,
    PickHour,
    PickMinute,
    hour_picker,
    minute_picker,
    month_view,
    parse_callback,
)

TODAY = date(2026, 11, 22)  # a Sunday; November 2026 starts on a Sunday too
NOW = datetime(2026, 11, 22, 10, 57)  # noqa: DTZ001 - the user's wall clock


def _buttons(rows: Keyboard) -> list[tuple[str, str]]:
    return [button for row in rows for button in row]


def _labels(row: list[tuple[str, str]]) -> list[str]:
    return [label for label, _ in row]


def test_month_view_layout() -> None:
    rows = month_view(2026, 11, TODAY)
    title, header, *weeks = rows
    assert title == [(" ", NOOP), ("November 2026", NOOP), ("▶", "cal:nav:2026-12")]
    assert _labels(header) == ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]
    assert all(len(week) == 7 for week in weeks)
    # 1 Nov is a Sunday: six blanks first, and every day up to today has passed.
    assert _labels(weeks[0]) == [" "] * 6 + ["·"]
    assert weeks[3][5] == ("·", NOOP)  # Sat 21: yesterday
    assert weeks[3][6] == ("22", "cal:day:2026-11-22")  # today can still be picked
    assert weeks[4][0] == ("23", "cal:day:2026-11-23")
    assert _labels(weeks[-1]) == ["30", " ", " ", " ", " ", " ", " "]


def test_past_days_are_shown_but_do_nothing() -> None:
    cells = _buttons(month_view(2026, 11, TODAY)[2:])
    past = [cell for cell in cells if cell[0] == "·"]
    assert len(past) == 21  # 1..21 November
    assert {data for _, data in past} == {NOOP}


def test_a_later_month_navigates_both_ways() -> None:
    title, *_ = month_view(2027, 2, TODAY)
    assert title == [("◀", "cal:nav:2027-01"), ("February 2027", NOOP), ("▶", "cal:nav:2027-03")]
    cells = _buttons(month_view(2027, 2, TODAY))
    days = [label for label, data in cells if data.startswith("cal:day:")]
    assert days == [str(day) for day in range(1, 29)]


def test_no_navigation_before_this_month() -> None:
    # Asked for an old month (an old message, a forged tap) it shows this one.
    assert month_view(2026, 6, TODAY) == month_view(2026, 11, TODAY)


def test_no_navigation_beyond_how_far_a_post_may_be_scheduled() -> None:
    title = month_view(2029, 11, TODAY)[0]
    assert title[2] == (" ", NOOP)
    assert title[0] == ("◀", "cal:nav:2029-10")
    assert month_view(2035, 1, TODAY) == month_view(2029, 11, TODAY)


def test_hour_picker() -> None:
    rows = hour_picker(date(2026, 11, 23))
    assert [len(row) for row in rows[:4]] == [6, 6, 6, 6]
    assert [label for row in rows[:4] for label, _ in row] == [f"{h:02d}" for h in range(24)]
    assert rows[0][0] == ("00", "cal:hour:2026-11-23:00")
    assert rows[3][5] == ("23", "cal:hour:2026-11-23:23")
    assert rows[4] == [("◀ Nov 2026", "cal:nav:2026-11")]


def test_hour_picker_today_greys_out_hours_that_are_over() -> None:
    rows = hour_picker(TODAY, NOW)
    labels = [label for row in rows[:4] for label, _ in row]
    # 10:55 has gone at 10:57, so hour 10 has no slot left.
    assert labels[:11] == ["·"] * 11
    assert labels[11:] == [f"{h:02d}" for h in range(11, 24)]


def test_minute_picker() -> None:
    rows = minute_picker(date(2026, 11, 23), 18)
    assert [len(row) for row in rows[:2]] == [6, 6]
    assert [data for row in rows[:2] for _, data in row] == [
        f"cal:min:2026-11-23:18:{m:02d}" for m in range(0, 60, 5)
    ]
    assert rows[0][0][0] == "18:00"
    assert rows[1][5][0] == "18:55"
    assert rows[2] == [("◀ Mon 23 Nov", "cal:day:2026-11-23")]


def test_minute_picker_today_greys_out_minutes_that_are_past() -> None:
    rows = minute_picker(TODAY, 10, NOW)
    labels = [label for row in rows[:2] for label, _ in row]
    assert labels == ["·"] * 12
    later = minute_picker(TODAY, 11, datetime(2026, 11, 22, 11, 7))  # noqa: DTZ001
    assert [label for label, _ in later[0]][:3] == ["·", "·", "11:10"]


def test_every_button_fits_telegram_and_reads_back() -> None:
    keyboards = [
        month_view(2026, 11, TODAY),
        month_view(2028, 12, TODAY),
        hour_picker(date(2029, 12, 31)),
        minute_picker(date(2029, 12, 31), 23),
    ]
    for rows in keyboards:
        for label, data in _buttons(rows):
            assert label  # Telegram refuses an empty button text
            assert data.startswith("cal:")
            assert len(data.encode()) <= MAX_CALLBACK_BYTES
            assert parse_callback(data) is not None


@pytest.mark.parametrize(
    ("data", "action"),
    [
        ("cal:noop", Noop()),
        ("cal:nav:2027-02", Navigate(2027, 2)),
        ("cal:day:2026-11-24", PickDay(date(2026, 11, 24))),
        ("cal:hour:2026-11-24:18", PickHour(date(2026, 11, 24), 18)),
        ("cal:min:2026-11-24:18:30", PickMinute(date(2026, 11, 24), 18, 30)),
    ],
)
def test_parse_callback(data: str, action: object) -> None:
    assert parse_callback(data, TODAY) == action


def test_a_picked_minute_is_a_wall_time() -> None:
    action = parse_callback("cal:min:2026-11-24:18:30")
    assert isinstance(action, PickMinute)
    assert action.local == datetime(2026, 11, 24, 18, 30)  # noqa: DTZ001
    assert action.kind == "pick_minute"


@pytest.mark.parametrize(
    "data",
    [
        "",
        "cal",
        "cal:",
        "cal:nope",
        "noop",
        "xcal:noop",
        "cal:noop:x",
        "cal:nav:2026-13",
        "cal:nav:2026-00",
        "cal:nav:26-11",
        "cal:day:2026-02-30",
        "cal:day:2026-11-24 ",
        "cal:day:2026-11-24\n",
        "cal:day:２０２６-11-24",  # full-width digits match \d, not [0-9]
        "cal:hour:2026-11-24:24",
        "cal:hour:2026-11-24:9",
        "cal:min:2026-11-24:18:60",
        "cal:min:2026-11-24:18:07",  # not a slot we offer
        "cal:min:2026-11-24:18",
        "cal:day:2026-11-24" + "0" * 60,
        "cal:nav:2026-11;rm -rf",
    ],
)
def test_malformed_or_forged_data_is_refused(data: str) -> None:
    assert parse_callback(data, TODAY) is None


@pytest.mark.parametrize(
    "data",
    [
        "cal:nav:2026-10",  # last month
        "cal:day:2026-11-21",  # yesterday
        "cal:hour:2026-11-01:09",
        "cal:min:2020-01-01:09:00",
        "cal:day:2030-01-01",  # beyond how far ahead a post may be
        "cal:nav:2031-01",
    ],
)
def test_the_past_and_the_far_future_are_refused_given_today(data: str) -> None:
    assert parse_callback(data, TODAY) is None
    assert parse_callback(data) is not None  # structurally fine: only the date is wrong
