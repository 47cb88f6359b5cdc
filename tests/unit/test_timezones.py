"""Finding the zone a person means: names, namesakes, abbreviations, offsets, locations."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import available_timezones

import pytest

from bot.schedule import timezones
from bot.schedule.timezones import MAX_CANDIDATES, describe, match_timezone, timezone_at

WINTER = datetime(2026, 11, 22, 13, 5, tzinfo=UTC)
SUMMER = datetime(2027, 7, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("berlin", "Europe/Berlin"),
        ("Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("Europe/Berlin", "Europe/Berlin"),
        ("Berlin, Germany", "Europe/Berlin"),
        ("berlin germany", "Europe/Berlin"),
        ("München", "Europe/Berlin"),
        ("munich", "Europe/Berlin"),
        ("Dresden, Germany", "Europe/Berlin"),  # unknown town, known country
        ("Deutschland", "Europe/Berlin"),
        ("new york", "America/New_York"),
        ("New York City", "America/New_York"),
        ("NYC", "America/New_York"),
        ("America/New York", "America/New_York"),
        ("Washington, D.C.", "America/New_York"),
        ("kyiv", "Europe/Kyiv"),
        ("kiev", "Europe/Kyiv"),
        ("Київ", "Europe/Kyiv"),
        ("Киев", "Europe/Kyiv"),
        ("Europe/Kiev", "Europe/Kyiv"),  # renamed zones answer with today's name
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("US/Eastern", "America/New_York"),
        ("Odesa", "Europe/Kyiv"),
        ("odessa", "Europe/Kyiv"),
        ("Ukraine", "Europe/Kyiv"),
        ("Москва", "Europe/Moscow"),
        ("St. Petersburg", "Europe/Moscow"),
        ("São Paulo", "America/Sao_Paulo"),
        ("sao paulo", "America/Sao_Paulo"),
        ("Zürich", "Europe/Zurich"),
        ("Portland, Oregon", "America/Los_Angeles"),
        ("portland oregon", "America/Los_Angeles"),
        ("Portland, ME", "America/New_York"),
        ("Springfield, Illinois", "America/Chicago"),
        ("san francisco", "America/Los_Angeles"),
        ("Tel Aviv", "Asia/Jerusalem"),
        ("Singapore", "Asia/Singapore"),
        ("poland", "Europe/Warsaw"),
        ("UTC", "UTC"),
        ("utc+0", "UTC"),
        ("GMT+00:00", "UTC"),
    ],
)
def test_exact_matches(typed: str, zone: str) -> None:
    match = match_timezone(typed, WINTER)
    assert match.exact == zone
    assert match.candidates == []


@pytest.mark.parametrize(
    ("typed", "candidates", "labels"),
    [
        (
            "portland",
            ["America/Los_Angeles", "America/New_York"],
            {
                "America/Los_Angeles": "Portland (Oregon)",
                "America/New_York": "Portland (Maine)",
            },
        ),
        (
            "springfield",
            ["America/New_York", "America/Chicago", "America/Los_Angeles"],
            {
                "America/New_York": "Springfield (Massachusetts)",
                "America/Chicago": "Springfield (Missouri)",
                "America/Los_Angeles": "Springfield (Oregon)",
            },
        ),
        (
            "Birmingham",
            ["Europe/London", "America/Chicago"],
            {"Europe/London": "Birmingham (England)", "America/Chicago": "Birmingham (Alabama)"},
        ),
    ],
)
def test_namesakes_are_offered_as_candidates(
    typed: str, candidates: list[str], labels: dict[str, str]
) -> None:
    match = match_timezone(typed, WINTER)
    assert match.exact is None
    assert match.candidates == candidates
    assert match.labels == labels
    assert "Several places" in match.hint


def test_a_country_with_several_zones_is_a_choice() -> None:
    match = match_timezone("USA", WINTER)
    assert match.exact is None
    assert match.candidates[:3] == ["America/New_York", "America/Chicago", "America/Los_Angeles"]
    assert len(match.candidates) == MAX_CANDIDATES
    assert "several timezones" in match.hint


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("CET", ["Europe/Berlin", "Europe/Paris", "Europe/Rome"]),
        ("cet", ["Europe/Berlin", "Europe/Paris", "Europe/Rome"]),
        ("PST", ["America/Los_Angeles", "America/Vancouver"]),
        ("EST", ["America/New_York", "America/Toronto"]),
        ("IST", ["Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem"]),
        ("GMT", ["Europe/London", "UTC"]),
        ("WAT", ["Africa/Lagos"]),  # from tzdata itself, no curated entry
    ],
)
def test_abbreviations_are_candidates_never_exact(typed: str, first: list[str]) -> None:
    match = match_timezone(typed, WINTER)
    assert match.exact is None
    assert match.candidates[: len(first)] == first
    assert len(match.candidates) <= MAX_CANDIDATES
    assert "several places" in match.hint


def test_an_offset_is_explained_and_answered_with_zones_at_it_now() -> None:
    winter = match_timezone("UTC+2", WINTER)
    assert winter.exact is None
    assert "offset, not a timezone" in winter.hint
    assert "UTC+02:00" in winter.hint
    assert "Europe/Kyiv" in winter.candidates
    assert "Europe/Berlin" not in winter.candidates  # Berlin is at +1 in November
    summer = match_timezone("utc+2", SUMMER)
    assert summer.candidates[:2] == ["Europe/Berlin", "Europe/Paris"]  # CEST in July
    assert len(winter.candidates) <= MAX_CANDIDATES
    assert set(winter.candidates + summer.candidates) <= available_timezones()


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("GMT-5", "America/New_York"),
        ("UTC+5:30", "Asia/Kolkata"),
        ("+0530", "Asia/Kolkata"),
        ("UTC −3", "America/Sao_Paulo"),
    ],
)
def test_offsets_rank_the_most_populous_zone_first(typed: str, first: str) -> None:
    assert match_timezone(typed, WINTER).candidates[0] == first


def test_an_offset_no_place_uses() -> None:
    match = match_timezone("UTC+15", WINTER)
    assert match.exact is None
    assert match.candidates == []
    assert "No place" in match.hint


@pytest.mark.parametrize(("typed", "meant"), [("berln", "Europe/Berlin"), ("kiyv", "Europe/Kyiv")])
def test_typos_are_suggested_not_taken(typed: str, meant: str) -> None:
    match = match_timezone(typed, WINTER)
    assert match.exact is None
    assert match.candidates[0] == meant
    assert "Is it one of these" in match.hint


def test_a_start_of_a_name_is_suggested() -> None:
    match = match_timezone("san fran", WINTER)
    assert match.exact is None
    assert match.candidates == ["America/Los_Angeles"]
    assert match.labels == {"America/Los_Angeles": "San Francisco"}


@pytest.mark.parametrize("typed", ["xyzzy", "", "   "])
def test_unknown_text_says_what_to_send(typed: str) -> None:
    match = match_timezone(typed, WINTER)
    assert match.exact is None
    assert match.candidates == []
    assert match.hint


@pytest.mark.parametrize(
    ("latitude", "longitude", "zone"),
    [
        (52.52, 13.405, "Europe/Berlin"),
        (40.71, -74.0, "America/New_York"),
        (50.45, 30.52, "Europe/Kyiv"),
        (45.52, -122.68, "America/Los_Angeles"),  # Portland, Oregon
        (-33.87, 151.21, "Australia/Sydney"),
        (0.0, -30.0, None),  # the Atlantic: nautical offsets only
        (95.0, 0.0, None),
        (0.0, 200.0, None),
    ],
)
def test_timezone_at_a_shared_location(latitude: float, longitude: float, zone: str | None) -> None:
    assert timezone_at(latitude, longitude) == zone


def test_describe() -> None:
    assert describe("Europe/Berlin", WINTER) == "Europe/Berlin (CET, UTC+01:00, 14:05 now)"
    assert describe("America/New_York", SUMMER) == "America/New_York (EDT, UTC-04:00, 08:00 now)"
    assert describe("Asia/Dubai", WINTER) == "Asia/Dubai (UTC+04:00, 17:05 now)"
    assert describe("UTC", WINTER) == "UTC (UTC+00:00, 13:05 now)"


def test_every_zone_in_the_tables_exists() -> None:
    known = available_timezones()
    places = [place for found in timezones._places().values() for place in found]
    assert {place.zone for place in places} <= known
    abbreviations = timezones._curated_abbreviations()
    assert {name for zones in abbreviations.values() for name in zones} <= known | {"UTC"}
    curated = [city for _, cities in timezones._entries(timezones._CITIES) for city in cities]
    assert len(curated) >= 300
