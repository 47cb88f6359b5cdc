"""Typed times, read in the user's timezone, and how times are shown back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.schedule.parse import (
    NeedsChoice,
    Resolution,
    TimeParseError,
    distance,
    find_timezone,
    format_short,
    format_when,
    parse_when,
    resolve_local,
    tomorrow_at,
)

# Sunday 22 Nov 2026, 10:00 in Berlin (CET, UTC+1).
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
BERLIN = "Europe/Berlin"


@pytest.mark.parametrize(
    ("typed", "expected_utc"),
    [
        ("in 2 minutes", datetime(2026, 11, 22, 9, 2, tzinfo=UTC)),
        ("in 90 min", datetime(2026, 11, 22, 10, 30, tzinfo=UTC)),
        ("in 2h", datetime(2026, 11, 22, 11, 0, tzinfo=UTC)),
        ("tomorrow 9am", datetime(2026, 11, 23, 8, 0, tzinfo=UTC)),
        ("fri 18:30", datetime(2026, 11, 27, 17, 30, tzinfo=UTC)),
        ("2026-12-24 18:00", datetime(2026, 12, 24, 17, 0, tzinfo=UTC)),
        ("2026-12-24T18:00", datetime(2026, 12, 24, 17, 0, tzinfo=UTC)),
        ("dec 24 6pm", datetime(2026, 12, 24, 17, 0, tzinfo=UTC)),
        ("next monday 9", datetime(2026, 11, 23, 8, 0, tzinfo=UTC)),
        ("18:30", datetime(2026, 11, 22, 17, 30, tzinfo=UTC)),
        # 9am has passed in Berlin today, so it means tomorrow.
        ("9am", datetime(2026, 11, 23, 8, 0, tzinfo=UTC)),
        ("now", NOW),
    ],
)
def test_typed_times_are_read_in_the_users_timezone(typed: str, expected_utc: datetime) -> None:
    assert parse_when(typed, BERLIN, NOW) == expected_utc


def test_the_same_words_mean_different_instants_in_different_zones() -> None:
    berlin = parse_when("tomorrow 9am", BERLIN, NOW)
    new_york = parse_when("tomorrow 9am", "America/New_York", NOW)
    assert new_york - berlin == timedelta(hours=6)


def test_summer_dates_use_summer_time() -> None:
    assert parse_when("2027-07-01 09:00", BERLIN, NOW) == datetime(2027, 7, 1, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("yesterday", "in the past"),
        ("2020-01-01 10:00", "in the past"),
        ("banana", "couldn't read"),
        ("", "Send a time"),
        ("5", "ambiguous"),
        ("2031-01-01 10:00", "3 years"),
    ],
)
def test_unusable_times_are_refused_with_a_reason(typed: str, says: str) -> None:
    with pytest.raises(TimeParseError, match=says):
        parse_when(typed, BERLIN, NOW)


@pytest.mark.parametrize(
    "typed",
    [
        "in -5 minutes",
        "in −5 min",  # U+2212, the minus sign
        "in –5 min",  # an en dash, as phones turn "--" into
        "in - 5 minutes",
        "in -1 day",
        "in 2 days -3 hours",
        "in -5",
        "через -5 минут",
        "dans -2 heures",
        "dentro de -2 horas",
    ],
)
def test_a_negative_relative_time_is_refused_not_read_as_positive(typed: str) -> None:
    with pytest.raises(TimeParseError, match="counts backwards"):
        parse_when(typed, BERLIN, NOW)


@pytest.mark.parametrize(
    "typed", ["in 0 hours", "in 0 minutes", "in 0h", "in 0 days", "через 0 минут", "in 0.0 hours"]
)
def test_a_zero_relative_time_is_refused(typed: str) -> None:
    with pytest.raises(TimeParseError, match="no time from now"):
        parse_when(typed, BERLIN, NOW)


def test_a_dash_inside_a_duration_is_no_minus() -> None:
    assert parse_when("in 1h-30", BERLIN, NOW) == NOW + timedelta(hours=1, minutes=30)


def test_format_when_shows_zone_and_distance() -> None:
    when = datetime(2026, 12, 24, 17, 0, tzinfo=UTC)
    assert format_when(when, BERLIN, NOW) == "Thu 24 Dec 18:00 Europe/Berlin — in 32 days"
    next_year = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)
    assert format_when(next_year, BERLIN, NOW, with_distance=False) == (
        "Tue 05 Jan 2027 09:00 Europe/Berlin"
    )


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=10), "now"),
        (timedelta(minutes=2), "in 2 min"),
        (timedelta(hours=1, minutes=5), "in 1 h 5 min"),
        (timedelta(hours=3), "in 3 h"),
        (timedelta(days=1), "in 1 day"),
        (timedelta(days=32, hours=1), "in 32 days"),
        (-timedelta(minutes=3), "3 min ago"),
    ],
)
def test_distance(delta: timedelta, text: str) -> None:
    assert distance(delta) == text


def test_tomorrow_at_is_local_wall_time_across_dst() -> None:
    # 28 Mar 2027 is the spring-forward day in Berlin: 09:00 is UTC+2 then.
    before = datetime(2027, 3, 27, 12, 0, tzinfo=UTC)
    assert tomorrow_at(before, BERLIN, 9) == datetime(2027, 3, 28, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("America/New York", "America/New_York"),
        ("UTC", "UTC"),
        ("Berlin", None),
        ("hello world", None),
    ],
)
def test_find_timezone(typed: str, zone: str | None) -> None:
    assert find_timezone(typed) == zone


# --- typed times in the languages people write in -------------------------------------
# NOW is Sunday 22 Nov 2026, 10:00 in Berlin; every expectation below is Berlin wall time.


def _berlin(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ZoneInfo(BERLIN)).astimezone(UTC)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        # English
        ("tonight", _berlin(22, 20)),
        ("tonight at 8", _berlin(22, 20)),
        ("tonight at 1", _berlin(23, 1)),
        ("this evening", _berlin(22, 20)),
        ("tomorrow morning", _berlin(23, 9)),
        ("tomorrow evening 7", _berlin(23, 19)),
        ("noon", _berlin(22, 12)),
        ("tomorrow noon", _berlin(23, 12)),
        ("midnight", _berlin(23, 0)),
        ("tomorrow at midnight", _berlin(24, 0)),
        ("9pm", _berlin(22, 21)),
        ("9 p.m.", _berlin(22, 21)),
        ("tomorrow 9:30 pm", _berlin(23, 21, 30)),
        ("12am", _berlin(23, 0)),
        ("12pm", _berlin(22, 12)),
        ("21:00", _berlin(22, 21)),
        ("9 in the evening", _berlin(22, 21)),
        ("next monday 9", _berlin(23, 9)),
        ("sun 11:00", _berlin(22, 11)),
        ("sunday 9", _berlin(29, 9)),
        ("in 90 min", _berlin(22, 11, 30)),
        ("in 1h30", _berlin(22, 11, 30)),
        ("in 1.5 hours", _berlin(22, 11, 30)),
        ("in half an hour", _berlin(22, 10, 30)),
        ("in an hour", _berlin(22, 11)),
        ("in 2 days 3 hours", _berlin(24, 13)),
        ("in 2 weeks", _berlin(6, 10, month=12)),
        # German
        ("morgen 9 uhr", _berlin(23, 9)),
        ("morgen um 9", _berlin(23, 9)),
        ("morgen früh", _berlin(23, 9)),
        ("morgen abend um 8", _berlin(23, 20)),
        ("heute abend", _berlin(22, 20)),
        ("übermorgen 10 Uhr", _berlin(24, 10)),
        ("nächsten Montag um 9 Uhr", _berlin(23, 9)),
        ("am Montag um 18:30", _berlin(23, 18, 30)),
        ("9.30 Uhr", _berlin(23, 9, 30)),
        ("in 2 Stunden", _berlin(22, 12)),
        ("in einer halben Stunde", _berlin(22, 10, 30)),
        ("24. Dezember 18 Uhr", _berlin(24, 18, month=12)),
        ("am 24.12. um 18 Uhr", _berlin(24, 18, month=12)),
        # French
        ("demain 9h", _berlin(23, 9)),
        ("demain à 9h30", _berlin(23, 9, 30)),
        ("ce soir", _berlin(22, 20)),
        ("ce soir à 8h", _berlin(22, 20)),
        ("lundi prochain 9h", _berlin(23, 9)),
        ("demain midi", _berlin(23, 12)),
        ("dans 2 heures", _berlin(22, 12)),
        ("dans une heure", _berlin(22, 11)),
        ("24 décembre 9h", _berlin(24, 9, month=12)),
        # Spanish
        ("mañana a las 9", _berlin(23, 9)),
        ("mañana por la mañana", _berlin(23, 9)),
        ("pasado mañana a las 10", _berlin(24, 10)),
        ("esta noche", _berlin(22, 20)),
        ("a las 8 de la tarde", _berlin(22, 20)),
        ("el próximo lunes a las 9", _berlin(23, 9)),
        ("el lunes que viene a las 10", _berlin(23, 10)),
        ("mañana al mediodía", _berlin(23, 12)),
        ("en 2 horas", _berlin(22, 12)),
        ("dentro de 90 minutos", _berlin(22, 11, 30)),
        # Italian
        ("domani alle 9", _berlin(23, 9)),
        ("stasera alle 21", _berlin(22, 21)),
        ("lunedì prossimo alle 9", _berlin(23, 9)),
        ("dopodomani alle 10", _berlin(24, 10)),
        ("tra 2 ore", _berlin(22, 12)),
        ("tra un'ora", _berlin(22, 11)),
        # Portuguese
        ("amanhã às 9", _berlin(23, 9)),
        ("amanhã às 9h", _berlin(23, 9)),
        ("hoje à noite", _berlin(22, 20)),
        ("segunda-feira às 9", _berlin(23, 9)),
        ("na próxima segunda às 9", _berlin(23, 9)),
        ("em 2 horas", _berlin(22, 12)),
        ("daqui a 90 minutos", _berlin(22, 11, 30)),
        # Russian
        ("завтра в 9", _berlin(23, 9)),
        ("завтра в 9:30", _berlin(23, 9, 30)),
        ("сегодня вечером", _berlin(22, 20)),
        ("в 8 вечера", _berlin(22, 20)),
        ("в 9 утра", _berlin(23, 9)),
        ("в понедельник в 9", _berlin(23, 9)),
        ("в следующий понедельник в 9", _berlin(23, 9)),
        ("через 2 часа", _berlin(22, 12)),
        ("через час", _berlin(22, 11)),
        ("через полчаса", _berlin(22, 10, 30)),
        ("24 декабря 18:00", _berlin(24, 18, month=12)),
        # Ukrainian
        ("завтра о 9", _berlin(23, 9)),
        ("сьогодні ввечері", _berlin(22, 20)),
        ("у понеділок о 9", _berlin(23, 9)),
        ("наступного понеділка о 9", _berlin(23, 9)),
        ("п'ятниця о 18:30", _berlin(27, 18, 30)),
        ("через 2 години", _berlin(22, 12)),
        ("за годину", _berlin(22, 11)),
        ("jetzt", NOW),
        ("сейчас", NOW),
    ],
)
def test_typed_times_in_several_languages(typed: str, expected: datetime) -> None:
    assert parse_when(typed, BERLIN, NOW) == expected


def test_a_language_hint_is_accepted() -> None:
    assert parse_when("demain 9h", BERLIN, NOW, language="fr") == _berlin(23, 9)


def test_a_dotted_date_is_a_day_not_a_time() -> None:
    # dateparser alone reads "12.11." as 12:11 today; 12 Nov has passed, so next year's.
    assert parse_when("12.11. 18:00", BERLIN, NOW) == datetime(2027, 11, 12, 17, 0, tzinfo=UTC)


def test_a_time_with_its_own_zone_keeps_it() -> None:
    assert parse_when("dec 24 6pm UTC", BERLIN, NOW) == datetime(2026, 12, 24, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize("typed", ["13pm", "25:00", "9:75"])
def test_impossible_clock_times_are_refused(typed: str) -> None:
    with pytest.raises(TimeParseError):
        parse_when(typed, BERLIN, NOW)


def test_hours_ahead_are_real_hours_across_a_dst_change() -> None:
    # 01:30 CET on the spring-forward day: two real hours later the clocks say 04:30.
    before = datetime(2027, 3, 28, 0, 30, tzinfo=UTC)
    assert parse_when("in 2 hours", BERLIN, before) == datetime(2027, 3, 28, 2, 30, tzinfo=UTC)


def test_days_ahead_keep_the_wall_time_across_a_dst_change() -> None:
    friday_9 = datetime(2027, 3, 26, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert parse_when("in 3 days", BERLIN, friday_9) == datetime(2027, 3, 29, 7, 0, tzinfo=UTC)


# --- DST: a skipped or repeated wall time is never shifted silently ---------------------


def _wall(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A naive wall-clock time, as typed or picked (no zone yet)."""
    return datetime(year, month, day, hour, minute)  # noqa: DTZ001


SPRING = datetime(2027, 3, 27, 12, 0, tzinfo=UTC)  # Saturday; Berlin skips 02:00-03:00 Sunday
AUTUMN = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)  # Saturday; Berlin repeats 02:00-03:00 Sunday


def test_resolve_local_one_instant() -> None:
    resolution = resolve_local(_wall(2027, 3, 28, 3, 30), BERLIN)
    assert resolution.kind is Resolution.EXACT
    assert resolution.instant == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert resolution.choices == ()


def test_resolve_local_in_a_gap_offers_after_the_gap_and_the_shifted_time() -> None:
    resolution = resolve_local(_wall(2027, 3, 28, 2, 30), BERLIN)
    assert resolution.kind is Resolution.GAP
    assert resolution.instant is None
    after_gap, shifted = resolution.choices
    assert after_gap.instant == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)  # 03:00 CEST
    assert shifted.instant == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)  # 03:30 CEST
    assert after_gap.short == "03:00 CEST"
    assert after_gap.label == "03:00 CEST — right after the clocks skip 02:00–03:00"
    assert shifted.label == "03:30 CEST — 02:30 moved on by the skipped hour"
    assert "jump from 02:00 to 03:00" in resolution.message
    assert "02:30 does not exist" in resolution.message


def test_resolve_local_at_the_start_of_a_gap_has_one_choice() -> None:
    resolution = resolve_local(_wall(2027, 3, 28, 2, 0), BERLIN)
    assert [choice.short for choice in resolution.choices] == ["03:00 CEST"]


def test_resolve_local_in_a_fold_offers_both_occurrences() -> None:
    resolution = resolve_local(_wall(2026, 10, 25, 2, 30), BERLIN)
    assert resolution.kind is Resolution.FOLD
    first, second = resolution.choices
    assert first.instant == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert second.instant == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert first.short == "02:30 CEST (UTC+02:00)"
    assert second.short == "02:30 CET (UTC+01:00)"
    assert "happens twice" in resolution.message


def test_resolve_local_in_new_york_and_a_half_hour_gap() -> None:
    new_york = resolve_local(_wall(2027, 3, 14, 2, 30), "America/New_York")
    assert [choice.short for choice in new_york.choices] == ["03:00 EDT", "03:30 EDT"]
    lord_howe = resolve_local(_wall(2026, 10, 4, 2, 15), "Australia/Lord_Howe")
    assert lord_howe.kind is Resolution.GAP
    assert "30 minutes" in lord_howe.choices[1].label


@pytest.mark.parametrize("typed", ["tomorrow 2:30", "2027-03-28 02:30", "morgen 2:30 uhr"])
def test_a_nonexistent_typed_time_asks_for_a_choice(typed: str) -> None:
    with pytest.raises(NeedsChoice) as raised:
        parse_when(typed, BERLIN, SPRING)
    assert [choice.short for choice in raised.value.choices] == ["03:00 CEST", "03:30 CEST"]
    assert "does not exist" in str(raised.value)
    assert isinstance(raised.value, TimeParseError)  # old callers still catch it


def test_an_ambiguous_typed_time_asks_for_a_choice() -> None:
    with pytest.raises(NeedsChoice) as raised:
        parse_when("tomorrow 2:30", BERLIN, AUTUMN)
    assert [choice.instant for choice in raised.value.choices] == [
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
    ]


def test_when_the_first_of_two_is_past_the_second_is_meant() -> None:
    during = datetime(2026, 10, 25, 0, 45, tzinfo=UTC)  # 02:45 CEST, the first pass
    assert parse_when("2:30", BERLIN, during) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def test_times_around_the_change_are_not_questioned() -> None:
    assert parse_when("tomorrow 1:59", BERLIN, SPRING) == datetime(2027, 3, 28, 0, 59, tzinfo=UTC)
    assert parse_when("tomorrow 3:00", BERLIN, SPRING) == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)
    assert parse_when("tomorrow 3:00", BERLIN, AUTUMN) == datetime(2026, 10, 25, 2, 0, tzinfo=UTC)


# --- zone abbreviations on every shown time --------------------------------------------


def test_format_when_with_the_abbreviation() -> None:
    winter = datetime(2026, 12, 24, 17, 0, tzinfo=UTC)
    summer = datetime(2027, 7, 1, 7, 0, tzinfo=UTC)
    assert format_when(winter, BERLIN, NOW, style="abbr") == "Thu 24 Dec 18:00 CET — in 32 days"
    assert format_when(summer, BERLIN, NOW, with_distance=False, style="abbr") == (
        "Thu 01 Jul 2027 09:00 CEST"
    )
    assert format_when(winter, BERLIN, NOW, with_distance=False, style="full") == (
        "Thu 24 Dec 18:00 CET (Europe/Berlin)"
    )
    # Zones whose tzdata abbreviation is only a number show the offset instead.
    assert format_when(winter, "Asia/Dubai", NOW, with_distance=False, style="abbr") == (
        "Thu 24 Dec 21:00 UTC+04:00"
    )


def test_format_short_with_zone() -> None:
    when = datetime(2026, 12, 24, 17, 0, tzinfo=UTC)
    assert format_short(when, BERLIN, NOW) == "24 Dec 18:00"
    assert format_short(when, BERLIN, NOW, with_zone=True) == "24 Dec 18:00 CET"
    assert format_short(when, "America/New_York", NOW, with_zone=True) == "24 Dec 12:00 EST"


def test_the_past_error_names_the_zone_abbreviation() -> None:
    with pytest.raises(TimeParseError, match="Sat 21 Nov 10:00 CET is in the past"):
        parse_when("yesterday", BERLIN, NOW)
