"""Queue slots: /slots by buttons and typed, and "➕ Add to queue" putting a post in the next
free slot of each chosen account (different times per account; a taken slot is skipped)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from sqlalchemy import select

from bot.app import Crier
from bot.config import Settings
from storage.models import Slot
from tests.acceptance.conftest import JSON, Person, buttons
from tests.acceptance.seeding import seed_account
from tests.acceptance.timekeeping import Clock, crier_at, set_timezone, targets_of, utc
from tests.fakes.telegram_api import FakeTelegram

# Sunday 22 Nov 2026, 10:00 in Berlin (CET).
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


async def with_channel(crier: Crier, person: Person) -> int:
    """A Berlin user with the Dry run account and a Telegram channel."""
    await set_timezone(person, "Europe/Berlin")
    # The channel exists on Telegram, with the bot an admin (the preview asks it live).
    person.tg.add_channel(-100777, "News", "news")
    return await seed_account(
        crier, person.id, "telegram", "@news", config={"chat_id": -100777, "username": "news"}
    )


async def slots_of(crier: Crier, account_id: int) -> list[tuple[int, int]]:
    async with crier.db.session() as session:
        found = await session.scalars(
            select(Slot).where(Slot.account_id == account_id).order_by(Slot.weekday, Slot.minute)
        )
        return [(slot.weekday, slot.minute) for slot in found]


async def queue_post(person: Person, text: str) -> JSON:
    """Compose `text` for every account and tap ➕ Add to queue; returns the preview."""
    status = await person.says(text, "New post")
    picker = await person.presses(status, "✅ Done", "Where should it go")
    picker = await person.presses(
        picker, "All", lambda m: "✅ @news · Telegram channel" in buttons(m)
    )
    ask = await person.presses(picker, "Next ➡", "When?")
    return await person.presses(ask, "➕ Add to queue", "Preview")


async def test_slots_by_buttons_and_typed(crier: Crier, alice: Person) -> None:
    channel = await with_channel(crier, alice)
    overview = await alice.says("/slots", "Queue slots")
    assert "Europe/Berlin, CET" in overview["text"]
    assert "Dry run: no slots yet" in overview["text"]
    assert buttons(overview) == ["Dry run · 0 slots", "@news · 0 slots"]

    account = await alice.presses(overview, "Dry run · 0 slots", "Queue slots of Dry run")
    days = await alice.presses(account, "➕ Add a slot", "which days")
    hours = await alice.presses(days, "Mon–Fri", "which hour")
    minutes = await alice.presses(hours, "09", "which minute")
    account = await alice.presses(minutes, "09:00", "Added 5 slots")
    assert "Mon–Fri 09:00" in account["text"]
    assert "🗑 Mon 09:00" in buttons(account)

    ask = await alice.presses(account, "✏️ Type slots", "Send the slots for Dry run")
    assert ask["message_id"] != account["message_id"]
    account = await alice.says("Sat 10:00, 12:00", "Added 2 slots")
    assert "Mon–Fri 09:00; Sat 10:00, 12:00" in account["text"]
    account = await alice.presses(account, "🗑 Sat 12:00", lambda m: "12:00" not in m["text"])
    dry_run = account["reply_markup"]["inline_keyboard"][-1]  # ⬅ All accounts
    assert dry_run[0]["callback_data"] == "sl:list"

    # Typed with several accounts: the bot asks which one.
    question = await alice.says("/slots Mon, Wed 18:00", "to which account")
    assert "Mon 18:00; Wed 18:00" in question["text"]
    await alice.presses(question, "@news", "Added 2 slots")
    assert await slots_of(crier, channel) == [(0, 1080), (2, 1080)]
    unreadable = await alice.says("/slots 18:00", "which days")
    assert "Mon-Fri 09:00 17:00" in unreadable["text"]


async def test_add_to_queue_takes_each_accounts_next_free_slot(crier: Crier, alice: Person) -> None:
    channel = await with_channel(crier, alice)
    await alice.says("/slots Mon-Fri 09:00", "to which account")
    await alice.presses(alice.last(), "Dry run", "Added 5 slots")
    await alice.says("/slots Mon, Wed 18:00", "to which account")
    await alice.presses(alice.last(), "@news", "Added 2 slots")

    preview = await queue_post(alice, "First in line")
    assert "Dry run: Mon 23 Nov 09:00 CET — in 23 h" in preview["text"]
    assert "@news (Telegram channel): Mon 23 Nov 18:00 CET — in 1 day" in preview["text"]
    scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #1")
    assert "in the queue" in scheduled["text"]
    assert {"✏️ Edit", "💾 Save as template"} <= set(buttons(scheduled))
    [dry, news] = await targets_of(crier, 1)
    assert dry.publish_at == utc(2026, 11, 23, 8, 0)
    assert news.publish_at == utc(2026, 11, 23, 17, 0)
    assert news.account_id == channel

    # The next post skips the slots the first one holds, per account.
    preview = await queue_post(alice, "Second in line")
    assert "Dry run: Tue 24 Nov 09:00 CET" in preview["text"]
    assert "@news (Telegram channel): Wed 25 Nov 18:00 CET" in preview["text"]
    await alice.presses(preview, "✅ Confirm", "Scheduled #2")
    [dry, news] = await targets_of(crier, 2)
    assert (dry.publish_at, news.publish_at) == (utc(2026, 11, 24, 8, 0), utc(2026, 11, 25, 17, 0))

    listing = await alice.says("/list", "Your posts")
    assert "@news (Telegram channel) — queued · 25 Nov 18:00 CET" in listing["text"]


async def test_an_account_without_slots_is_named_and_slots_offered(
    crier: Crier, alice: Person
) -> None:
    await with_channel(crier, alice)
    await alice.says("/slots Mon-Fri 09:00", "to which account")
    await alice.presses(alice.last(), "Dry run", "Added 5 slots")

    status = await alice.says("Nowhere to go", "New post")
    picker = await alice.presses(status, "✅ Done", "Where should it go")
    picker = await alice.presses(
        picker, "All", lambda m: "✅ @news · Telegram channel" in buttons(m)
    )
    ask = await alice.presses(picker, "Next ➡", "When?")
    refused = await alice.presses(ask, "➕ Add to queue", "no free queue slot")
    assert "@news has no free queue slot" in refused["text"]
    assert "/slots" in refused["text"]
    assert "When?" in refused["text"]
    # A plain time still works from there.
    await alice.says("tomorrow 9am", "Preview")


async def test_slots_of_another_user_cannot_be_touched(
    crier: Crier, alice: Person, bob: Person
) -> None:
    await with_channel(crier, alice)
    await alice.says("/slots Mon-Fri 09:00", "to which account")
    await alice.presses(alice.last(), "Dry run", "Added 5 slots")
    async with crier.db.session() as session:
        slot = await session.scalar(select(Slot).limit(1))
        assert slot is not None
        slot_id, account_id = slot.id, slot.account_id

    await bob.says("/start", "Crier")
    mine = await bob.says("/slots", "Queue slots")
    gone = await bob.forges(mine, f"sl:del:{slot_id}")
    assert "already gone" in gone["text"]
    refused = await bob.forges(mine, f"sl:m:{account_id}:31:9:0")
    assert "isn't one of yours" in refused["text"]
    refused = await bob.forges(mine, f"sl:acc:{account_id}")
    assert "isn't one of yours" in refused["text"]
    await bob.forges(mine, f"sl:wipe:{account_id}")
    assert len(await slots_of(crier, account_id)) == 5
