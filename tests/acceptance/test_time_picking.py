"""The time step: typed times in English and German echoed back in the user's zone, a DST gap
or fold answered with a choice (never a silent shift), and the calendar picker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from bot.app import Crier
from bot.config import Settings
from tests.acceptance.conftest import JSON, Person, buttons
from tests.acceptance.timekeeping import (
    Clock,
    crier_at,
    draft_time,
    set_timezone,
    targets_of,
    utc,
)
from tests.fakes.telegram_api import FakeTelegram

# Sunday 22 Nov 2026, 10:00 in Berlin (CET).
WINTER = utc(2026, 11, 22, 9, 0)
# Friday 20 Mar 2026, 13:00 in Berlin: the clocks go forward on Sunday 29 Mar.
BEFORE_SPRING = utc(2026, 3, 20, 12, 0)
# Tuesday 20 Oct 2026: the clocks go back on Sunday 25 Oct.
BEFORE_AUTUMN = utc(2026, 10, 20, 12, 0)


@pytest.fixture(autouse=True)
def no_failed_api_calls(tg: FakeTelegram) -> Iterator[None]:
    """Every call the bot made was one Telegram accepts (polling's 409 at shutdown aside)."""
    yield
    assert [method for method, _ in tg.errors if method != "getUpdates"] == []


@pytest.fixture
def clock() -> Clock:
    return Clock(WINTER)


@pytest.fixture
async def crier(make_settings: Callable[..., Settings], clock: Clock) -> AsyncIterator[Crier]:
    async with crier_at(make_settings, clock) as app:
        yield app


@pytest.fixture
def hans(tg: FakeTelegram) -> Person:
    return Person(tg, tg.add_user(3003, "Hans", "hans", language_code="de"))


async def at_time_step(person: Person, text: str = "Hello") -> JSON:
    status = await person.says(text, "New post")
    picker = await person.presses(status, "✅ Done", "Where should it go")
    return await person.presses(picker, "Next ➡", "When?")


async def typed(person: Person, preview: JSON, text: str) -> JSON:
    """From the preview: change the time to a typed one; returns the new preview."""
    await person.presses(preview, "🕒 Change time", "When?")
    return await person.says(text, "Preview")


async def test_english_times_are_echoed_in_the_users_zone(crier: Crier, alice: Person) -> None:
    await set_timezone(alice, "Europe/Berlin")
    ask = await at_time_step(alice)
    assert "Europe/Berlin (CET, UTC+01:00, 10:00 now)" in ask["text"]
    assert buttons(ask)[:5] == [
        "⚡ Now",
        "In 1 hour",
        "Tomorrow 09:00",
        "📅 Pick a date",
        "➕ Add to queue",
    ]

    preview = await alice.says("tomorrow 9am", "Preview")
    assert "Mon 23 Nov 09:00 CET — in 23 h" in preview["text"]
    preview = await typed(alice, preview, "fri 18:30")
    assert "Fri 27 Nov 18:30 CET — in 5 days" in preview["text"]
    preview = await typed(alice, preview, "in 90 min")
    assert "Sun 22 Nov 11:30 CET — in 1 h 30 min" in preview["text"]
    preview = await typed(alice, preview, "2026-12-24 18:00")
    assert "Thu 24 Dec 18:00 CET — in 32 days" in preview["text"]

    scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #1")
    assert "Thu 24 Dec 18:00 CET" in scheduled["text"]
    [target] = await targets_of(crier, 1)
    assert target.publish_at == utc(2026, 12, 24, 17, 0)


async def test_german_times_are_read_in_german(crier: Crier, hans: Person) -> None:
    await set_timezone(hans, "Europe/Berlin")
    await at_time_step(hans, "Hallo")

    preview = await hans.says("morgen 9 uhr", "Preview")
    assert "Mon 23 Nov 09:00 CET — in 23 h" in preview["text"]
    preview = await typed(hans, preview, "heute abend")
    assert "Sun 22 Nov 20:00 CET — in 10 h" in preview["text"]
    preview = await typed(hans, preview, "24. Dezember 18 Uhr")
    assert "Thu 24 Dec 18:00 CET — in 32 days" in preview["text"]
    assert await draft_time(crier, hans) == utc(2026, 12, 24, 17, 0)


async def test_a_skipped_time_asks_which_one_and_stores_the_choice(
    crier: Crier, clock: Clock, alice: Person
) -> None:
    clock.now = BEFORE_SPRING
    await set_timezone(alice, "Europe/Berlin")
    await at_time_step(alice)

    question = await alice.says("2026-03-29 02:30", "does not exist")
    assert "jump from 02:00 to 03:00" in question["text"]
    assert buttons(question)[:2] == ["03:00 CEST", "03:30 CEST"]
    assert await draft_time(crier, alice) is None, "nothing was picked for the user"

    # A reading that isn't one of the choices is refused.
    forged = await alice.forges(question, "c:dst:202603290230:7")
    assert "out of date" in forged["text"]
    forged = await alice.forges(question, "c:dst:202603290330:0")  # 03:30 is no gap
    assert "out of date" in forged["text"]

    preview = await alice.presses(question, "03:30 CEST", "Preview")
    assert "Sun 29 Mar 03:30 CEST" in preview["text"]
    assert await draft_time(crier, alice) == utc(2026, 3, 29, 1, 30)
    await alice.presses(preview, "✅ Confirm", "Scheduled #1")
    [target] = await targets_of(crier, 1)
    assert target.publish_at == utc(2026, 3, 29, 1, 30)


async def test_a_repeated_time_asks_which_one(crier: Crier, clock: Clock, alice: Person) -> None:
    clock.now = BEFORE_AUTUMN
    await set_timezone(alice, "Europe/Berlin")
    await at_time_step(alice)

    question = await alice.says("25.10. 2:30", "happens twice")
    assert buttons(question)[:2] == ["02:30 CEST (UTC+02:00)", "02:30 CET (UTC+01:00)"]
    preview = await alice.presses(question, "02:30 CET (UTC+01:00)", "Preview")
    assert "Sun 25 Oct 02:30 CET" in preview["text"]
    assert await draft_time(crier, alice) == utc(2026, 10, 25, 1, 30)


async def test_the_calendar_picks_a_day_an_hour_and_a_minute(crier: Crier, alice: Person) -> None:
    await set_timezone(alice, "Europe/Berlin")
    ask = await at_time_step(alice)

    month = await alice.presses(ask, "📅 Pick a date", "Pick a day")
    assert "November 2026" in buttons(month)
    assert "·" in buttons(month), "days gone by are shown but can't be picked"
    refused = await alice.forges(month, "cal:day:2026-11-01")
    assert "can't be picked" in refused["text"]
    refused = await alice.forges(month, "cal:nav:2026-13")
    assert "can't be picked" in refused["text"]

    month = await alice.presses(month, "▶", lambda m: "December 2026" in buttons(m))
    hours = await alice.presses(month, "24", "Thu 24 Dec 2026")
    assert buttons(hours)[:2] == ["00", "01"]
    minutes = await alice.presses(hours, "18", "18:__")
    assert buttons(minutes)[:3] == ["18:00", "18:05", "18:10"]
    refused = await alice.forges(minutes, "cal:min:2026-12-24:18:07")
    assert "can't be picked" in refused["text"]

    preview = await alice.presses(minutes, "18:30", "Preview")
    assert preview["message_id"] == ask["message_id"], "the picker edits one message in place"
    assert "Thu 24 Dec 18:30 CET — in 32 days" in preview["text"]
    await alice.presses(preview, "✅ Confirm", "Scheduled #1")
    [target] = await targets_of(crier, 1)
    assert target.publish_at == utc(2026, 12, 24, 17, 30)

    # The picker's old buttons are over with the step.
    stale = await alice.forges(minutes, "cal:min:2026-12-24:19:00")
    assert "expired" in stale["text"]


async def test_the_calendar_refuses_a_time_that_has_passed_today(
    crier: Crier, alice: Person
) -> None:
    await set_timezone(alice, "Europe/Berlin")
    ask = await at_time_step(alice)
    month = await alice.presses(ask, "📅 Pick a date", "Pick a day")
    hours = await alice.presses(month, "22", "Sun 22 Nov 2026")
    assert buttons(hours)[:10] == ["·"] * 10, "00 to 09 are over at 10:00"
    refused = await alice.forges(hours, "cal:min:2026-11-22:08:00")
    assert "has passed" in refused["text"]
    assert await draft_time(crier, alice) is None
    minutes = await alice.presses(hours, "10", "10:__")
    preview = await alice.presses(minutes, "10:30", "Preview")
    assert "Sun 22 Nov 10:30 CET — in 30 min" in preview["text"]


async def test_the_calendar_asks_about_a_skipped_time_too(
    crier: Crier, clock: Clock, alice: Person
) -> None:
    clock.now = BEFORE_SPRING
    await set_timezone(alice, "Europe/Berlin")
    ask = await at_time_step(alice)
    month = await alice.presses(ask, "📅 Pick a date", "Pick a day")
    hours = await alice.presses(month, "29", "Sun 29 Mar 2026")
    minutes = await alice.presses(hours, "02", "02:__")
    question = await alice.presses(minutes, "02:30", "does not exist")
    preview = await alice.presses(question, "03:00 CEST", "Preview")
    assert "Sun 29 Mar 03:00 CEST" in preview["text"]
    assert await draft_time(crier, alice) == utc(2026, 3, 29, 1, 0)
