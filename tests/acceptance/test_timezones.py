"""Setting the timezone: a city typed loosely, an ambiguous name, an offset, a shared
location; and every time the bot shows then carries the zone's abbreviation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from sqlalchemy import func, select

from bot.app import Crier
from bot.config import Settings
from storage.models import Post
from tests.acceptance.conftest import Person, buttons, jpeg, schedule_text
from tests.acceptance.timekeeping import (
    Clock,
    crier_at,
    set_timezone,
    share_location,
    timezone_of,
    utc,
)
from tests.fakes.telegram_api import FakeTelegram

# Sunday 22 Nov 2026, 09:00 UTC: winter in Europe (CET), PST in Portland.
WINTER = utc(2026, 11, 22, 9, 0)


@pytest.fixture(autouse=True)
def no_failed_api_calls(tg: FakeTelegram) -> Iterator[None]:
    """Every call the bot made was one Telegram accepts (polling's 409 at shutdown aside)."""
    yield
    assert [method for method, _ in tg.errors if method != "getUpdates"] == []


@pytest.fixture
async def crier(make_settings: Callable[..., Settings]) -> AsyncIterator[Crier]:
    async with crier_at(make_settings, Clock(WINTER)) as app:
        yield app


async def count_posts(crier: Crier) -> int:
    async with crier.db.session() as session:
        return await session.scalar(select(func.count()).select_from(Post)) or 0


async def test_a_city_typed_loosely_sets_its_zone(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    asked = await alice.says("/timezone", "Your timezone")
    assert "UTC" in asked["text"]
    keyboard = tg.reply_keyboard(alice.user)
    assert keyboard is not None
    location_button = keyboard["keyboard"][0][0]
    assert location_button["request_location"] is True

    done = await alice.says("berlin", "Timezone set")
    assert "Europe/Berlin (CET, UTC+01:00, 10:00 now)" in done["text"]
    assert await timezone_of(crier, alice) == "Europe/Berlin"
    assert tg.reply_keyboard(alice.user) is None, "the location keyboard goes away"
    assert await count_posts(crier) == 0, "the city was not taken for a new post"

    # The question is over: text is a post again.
    await alice.says("Paris in spring", "New post")


async def test_an_ambiguous_name_offers_labelled_buttons(crier: Crier, alice: Person) -> None:
    await alice.says("/start", "Crier")
    await alice.says("/timezone", "Your timezone")
    offered = await alice.says("portland", "Which one")
    assert buttons(offered)[:2] == ["Portland (Oregon)", "Portland (Maine)"]

    done = await alice.presses(offered, "Portland (Oregon)", "Timezone set")
    assert "America/Los_Angeles (PST, UTC-08:00, 01:00 now)" in done["text"]
    assert await timezone_of(crier, alice) == "America/Los_Angeles"


async def test_an_offset_explains_itself_and_offers_zones(crier: Crier, alice: Person) -> None:
    await alice.says("/start", "Crier")
    offered = await alice.says("/timezone UTC+2", "not a timezone")
    assert "UTC+02:00 is an offset" in offered["text"]
    zones = buttons(offered)[:-1]
    assert "Africa/Cairo" in zones or "Europe/Kyiv" in zones
    assert buttons(offered)[-1] == "✖ Keep my timezone"

    done = await alice.presses(offered, zones[0], "Timezone set")
    assert await timezone_of(crier, alice) == zones[0].replace(" ", "_")
    assert "UTC+02:00" in done["text"]


async def test_a_shared_location_sets_the_zone_offline(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await alice.says("/timezone", "Your timezone")

    waiting = tg.wait_for(alice.user, "Timezone set")
    share_location(tg, alice, 50.45, 30.52)  # Kyiv
    done = await waiting
    assert "Europe/Kyiv (EET, UTC+02:00, 11:00 now)" in done["text"]
    assert await timezone_of(crier, alice) == "Europe/Kyiv"


async def test_a_location_at_sea_asks_for_a_city(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await alice.says("/timezone", "Your timezone")

    waiting = tg.wait_for(alice.user, "out at sea")
    share_location(tg, alice, 0.0, -30.0)
    await waiting
    assert await timezone_of(crier, alice) == "UTC"
    # Still asking: a city now works.
    await alice.says("Tokyo", "Asia/Tokyo")


async def test_unknown_places_keep_asking_and_commands_leave(crier: Crier, alice: Person) -> None:
    await alice.says("/start", "Crier")
    await alice.says("/timezone", "Your timezone")
    unknown = await alice.says("Xqzzyville", "don't know")
    assert "Xqzzyville" in unknown["text"]
    await alice.says("/help", "/list")  # a command leaves the question and still works
    await alice.says("Berlin wall", "New post")
    assert await timezone_of(crier, alice) == "UTC"


async def test_a_question_walked_away_from_lets_go(crier: Crier, alice: Person) -> None:
    await alice.says("/start", "Crier")
    await alice.says("/timezone", "Your timezone")
    await alice.sends_photo(jpeg())  # not an answer: a new post
    picker = await alice.presses(alice.last(), "✅ Done", "Where should it go")
    await alice.presses(picker, "Next ➡", "When?")
    await alice.says("tomorrow 9am", "Preview")  # a time, not a place
    assert await timezone_of(crier, alice) == "UTC"


async def test_the_welcome_button_asks_for_a_city(crier: Crier, alice: Person) -> None:
    welcome = await alice.says("/start", "Crier")
    await alice.presses(welcome, "🌍 Change timezone", "Your timezone")
    await alice.says("new york", "America/New_York (EST")
    assert await timezone_of(crier, alice) == "America/New_York"


async def test_a_forged_zone_button_changes_nothing(crier: Crier, alice: Person) -> None:
    await alice.says("/start", "Crier")
    offered = await alice.says("/timezone portland", "Which one")
    answer = await alice.forges(offered, "tz:set:Mars/Olympus")
    assert "not valid" in answer["text"]
    assert await timezone_of(crier, alice) == "UTC"


async def test_times_show_the_zone_abbreviation(crier: Crier, alice: Person) -> None:
    await set_timezone(alice, "Europe/Berlin")

    scheduled = await schedule_text(alice, "Winter post", "Tomorrow 09:00")
    assert "Mon 23 Nov 09:00 CET — in 23 h" in scheduled["text"]
    listing = await alice.says("/list", "Your posts")
    assert "23 Nov 09:00 CET" in listing["text"]
