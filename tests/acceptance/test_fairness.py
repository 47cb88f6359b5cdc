"""One busy user never stalls everyone: updates of different users are handled at once, a
flood of content becomes one draft with one status message, and the bot keeps Telegram's
pace itself, so the fake Bot API (with Telegram's flood limits on) never answers 429."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from bot.app import Crier
from bot.compose import posting
from bot.config import Settings
from bot.handlers.compose import status as compose_status
from tests.acceptance.conftest import TELEGRAM_PACE, Person, buttons, eventually, jpeg
from tests.fakes.telegram_api import FakeTelegram

JSON = dict[str, Any]
SENDS = ("sendmessage", "editmessagetext", "editmessagereplymarkup", "sendphoto")


def _to_chat(call: tuple[str, JSON], chat_id: int) -> bool:
    name, params = call
    return name.lower() in SENDS and params.get("chat_id") == chat_id


async def _help_every_second(
    tg: FakeTelegram, bob: Person, flooder: Person, until: asyncio.Event
) -> list[int]:
    """Bob asks for /help once a second; for each reply, how many messages and edits went
    to the flooder between Bob's request and the answer."""
    ahead: list[int] = []
    while not until.is_set() or not ahead:
        before = len(tg.calls)
        asked = time.monotonic()
        await bob.says("/help", "/list", timeout=10)
        between = [c for c in tg.calls[before:] if _to_chat(c, flooder.id)]
        ahead.append(len(between))
        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - asked)))
    return ahead


def _status_saying(tg: FakeTelegram, person: Person, text: str) -> JSON | None:
    return next((m for m in tg.sent(person.user) if text in (m.get("text") or "")), None)


@pytest.fixture
async def paced(make_settings: Callable[..., Settings]) -> AsyncIterator[Crier]:
    """Crier keeping Telegram's pace as it does by default."""
    async with Crier(make_settings(**TELEGRAM_PACE)) as app:
        yield app


async def _draft_text(crier: Crier, person: Person) -> str:
    assert crier.services is not None
    draft = await posting.current_draft(crier.services, person.id)
    return draft.text if draft is not None else ""


async def _while_bob_asks(
    tg: FakeTelegram,
    bob: Person,
    flooder: Person,
    send: Callable[[], Awaitable[None]],
    done: Callable[[], Awaitable[bool]],
) -> list[int]:
    """Run `send` (the flood) while Bob asks /help every second, until `done`; returns how
    many flood messages each of Bob's answers waited behind."""
    await bob.says("/start", "Crier")
    flooding = asyncio.Event()
    asking = asyncio.create_task(_help_every_second(tg, bob, flooder, flooding))
    await send()
    await eventually(done, timeout=60)
    flooding.set()
    return await asking


async def test_a_flood_of_300_messages_is_one_draft_and_never_delays_another_user(
    tg: FakeTelegram, paced: Crier, alice: Person, bob: Person
) -> None:
    tg.enforce_rate_limits = True
    texts = [f"Old channel post number {n:03d}." for n in range(1, 301)]

    async def send() -> None:
        for text in texts:  # 300 messages in about two seconds
            tg.send_text(alice.user, text)
            await asyncio.sleep(2 / 300)

    async def complete() -> bool:
        return await _draft_text(paced, alice) == "\n\n".join(texts)

    ahead = await _while_bob_asks(tg, bob, alice, send, complete)
    status = await eventually(lambda: _status_saying(tg, alice, "300 messages"))
    assert max(ahead) <= 3, f"Bob's replies waited behind the flood: {ahead}"
    assert tg.rate_limited_count == 0, "the bot kept the pace itself: Telegram never said 429"
    assert len(tg.sent(alice.user)) <= 3, [m.get("text") for m in tg.sent(alice.user)]
    assert "New post (300 messages)" in status["text"]
    assert "✅ Done" in buttons(status)


async def test_thirty_forwards_become_one_draft_and_never_delay_another_user(
    tg: FakeTelegram, paced: Crier, alice: Person, bob: Person
) -> None:
    tg.enforce_rate_limits = True
    channel = tg.add_channel(-1001234, "Archive", "archive")
    texts = [f"Archived post {n}" for n in range(1, 31)]

    async def send() -> None:
        for n, text in enumerate(texts):
            tg.forward_from_channel(alice.user, channel, text=text, message_id=100 + n)

    async def complete() -> bool:
        return await _draft_text(paced, alice) == "\n\n".join(texts)

    ahead = await _while_bob_asks(tg, bob, alice, send, complete)
    status = await eventually(lambda: _status_saying(tg, alice, "30 messages"))
    assert max(ahead) <= 3, f"Bob's replies waited behind the forwards: {ahead}"
    assert "✅ Done" in buttons(status)
    assert len(tg.sent(alice.user)) <= 2
    assert tg.rate_limited_count == 0


async def test_an_album_of_ten_is_one_draft_and_never_delays_another_user(
    tg: FakeTelegram, paced: Crier, alice: Person, bob: Person
) -> None:
    tg.enforce_rate_limits = True

    async def send() -> None:
        tg.send_album(alice.user, [jpeg(color=c) for c in ["red", "blue"] * 5], caption="Trip")

    async def complete() -> bool:
        return _status_saying(tg, alice, "10 photos") is not None

    ahead = await _while_bob_asks(tg, bob, alice, send, complete)
    assert max(ahead) <= 3, f"Bob's replies waited behind the album: {ahead}"
    assert paced.services is not None
    draft = await posting.current_draft(paced.services, alice.id)
    assert draft is not None
    assert len(draft.media_links) == 10
    assert draft.text == "Trip"
    status = _status_saying(tg, alice, "10 photos")
    assert status is not None
    assert [m["message_id"] for m in tg.sent(alice.user)] == [status["message_id"]]
    assert tg.rate_limited_count == 0


async def test_a_flood_of_commands_is_dropped_with_one_notice_and_one_admin_alert(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person, bob: Person
) -> None:
    tg.enforce_rate_limits = True
    settings = make_settings(admin_ids=[alice.id], user_rate_limit=5, **TELEGRAM_PACE)
    async with Crier(settings):
        await alice.says("/start", "Crier")
        for _ in range(40):
            tg.send_text(bob.user, "/list")
        notice = await tg.wait_for(bob.user, "faster than I can keep up", timeout=15)
        assert "pick up again in" in notice["text"]
        alert = await tg.wait_for(alice.user, "faster than the limit", timeout=15)
        assert "Bob" in alert["text"]
        for _ in range(40):  # a second flood within the hour: no second alert
            tg.send_text(bob.user, "/list")
        await asyncio.sleep(3)
        await alice.says("/help", "/list")
    alerts = [m for m in tg.sent(alice.user) if "faster than the limit" in (m.get("text") or "")]
    assert len(alerts) == 1
    answered = [m for m in tg.sent(bob.user) if "no posts yet" in (m.get("text") or "")]
    assert len(answered) <= 10, "the budget (5, refilled 0.5/s), not 80 answers"
    assert tg.rate_limited_count == 0


async def test_input_after_a_pause_gets_a_new_status_below_it(
    tg: FakeTelegram, crier: Crier, alice: Person, monkeypatch: Any
) -> None:
    first = await alice.says("Hello", "New post")
    monkeypatch.setattr(compose_status, "PAUSE", 0.0)
    second = await alice.says("again", "New post (2 messages)")
    assert second["message_id"] != first["message_id"]
    old = next(m for m in tg.sent(alice.user) if m["message_id"] == first["message_id"])
    assert not old.get("reply_markup"), "only the newest status has the buttons"


async def test_a_burst_of_refused_input_is_counted_on_the_status(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with Crier(make_settings(max_text_length=60, **TELEGRAM_PACE)):
        await alice.says("A short start.", "New post")
        for n in range(10):
            tg.send_text(alice.user, f"This paragraph number {n} is far too long to fit.")
        status = await tg.wait_for(alice.user, "more not added", timeout=15)
        assert "The post would be" in status["text"] or "characters long" in status["text"]
        refusals = [m for m in tg.sent(alice.user) if (m.get("text") or "").startswith("⚠️")]
        assert len(refusals) <= 2, "one refusal told, the rest counted on the status"


async def test_a_batch_can_become_one_post_each(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    channel = tg.add_channel(-1004321, "Archive", "archive")
    tg.forward_from_channel(alice.user, channel, text="First old post", message_id=1)
    tg.send_photo(alice.user, jpeg(), caption="A photo with words")
    tg.send_album(alice.user, [jpeg(color="red"), jpeg(color="blue")], caption="Two photos")
    status = await eventually(lambda: _status_saying(tg, alice, "3 photos"), timeout=10)
    assert "New post (3 messages)" in status["text"]
    assert "✂️ One post each (3)" in buttons(status)
    await alice.presses(status, "✂️ One post each (3)", "3 posts")
    first = await tg.wait_for(alice.user, "New post", timeout=5)
    assert "text (14 characters)" in first["text"]
    assert crier.services is not None
    async with crier.db.session() as session:
        from sqlalchemy import select

        from storage.models import Post, PostStatus

        made = (
            await session.scalars(
                select(Post).where(Post.user_id == alice.id, Post.status == PostStatus.DRAFT)
            )
        ).all()
        contents = sorted((p.text, len(p.media_links)) for p in made)
    assert contents == [("A photo with words", 1), ("First old post", 0), ("Two photos", 2)]
    draft = await posting.current_draft(crier.services, alice.id)
    assert draft is not None
    assert draft.text == "First old post", "the first message is the draft carried on with"
    listing = await alice.says("/drafts", "drafts")
    assert "A photo with words" in listing["text"]
    assert "Two photos" in listing["text"]
