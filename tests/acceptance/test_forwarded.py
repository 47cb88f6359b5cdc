"""Forwarded messages start a post with their content and formatting: Telegram channels get
the same entities, Discord gets Markdown, other platforms plain text with links written out."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import respx
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.app import Crier
from bot.config import Settings
from providers.dryrun import DryRunProvider
from storage.models import Post
from tests.acceptance.conftest import Person, buttons, jpeg
from tests.acceptance.seeding import seed_account
from tests.acceptance.test_compose_flow import CHANNEL, connect_channel
from tests.fakes.discord import FakeDiscord
from tests.fakes.telegram_api import FakeTelegram

KEY = Fernet.generate_key().decode()
JSON = dict[str, Any]

#: "🚀" is two UTF-16 code units: every offset after it is one more than in Python.
TEXT = "🚀 Launch day: read the announcement now"
ENTITIES = [
    {"type": "bold", "offset": 3, "length": 10},  # "Launch day"
    {"type": "text_link", "offset": 24, "length": 12, "url": "https://example.com/launch"},
    {"type": "url", "offset": 0, "length": 2},  # detected by Telegram, dropped by Crier
]
KEPT = ENTITIES[:2]
PLAIN = "🚀 Launch day: read the announcement (https://example.com/launch) now"
MARKDOWN = "🚀 **Launch day**: read the [announcement](https://example.com/launch) now"


def forward(tg: FakeTelegram, person: Person, content: JSON) -> None:
    """The person forwards a channel post (text or photo, with its formatting) to the bot.
    (The fake's `forward_from_channel` takes plain text only, so the message is built here.)"""
    origin = {
        "type": "channel",
        "chat": {"id": -1009999, "type": "channel", "title": "Elsewhere"},
        "message_id": 5,
        "date": int(time.time()) - 60,
    }
    tg.send_message(person.user, {"forward_origin": origin, **content})


@pytest.fixture
def discord() -> Iterator[FakeDiscord]:
    """Discord's webhook API answered by the fake; everything on 127.0.0.1 (the fake Bot
    API) passes through untouched."""
    fake = FakeDiscord()
    with respx.mock(assert_all_called=False) as router:
        router.route(host="127.0.0.1").pass_through()
        router.route(host="discord.com").mock(side_effect=fake.handle)
        yield fake


async def test_a_forwarded_message_keeps_bold_and_a_link_on_each_platform(
    tg: FakeTelegram,
    make_settings: Callable[..., Settings],
    alice: Person,
    discord: FakeDiscord,
) -> None:
    hook = discord.add_webhook("Announcements")
    async with Crier(make_settings(crier_encryption_key=KEY)) as crier:
        await alice.says("/start", "Crier")
        await connect_channel(tg, alice)
        await seed_account(
            crier,
            alice.id,
            "discord",
            "Announcements",
            config={"channel_id": hook.channel_id, "guild_id": hook.guild_id},
            credentials={"webhook_url": hook.url},
        )

        waiting = tg.wait_for(alice.user, "New post")
        forward(tg, alice, {"text": TEXT, "entities": ENTITIES})
        status = await waiting
        assert "formatted" in status["text"]
        picker = await alice.presses(status, "✅ Done", "Where should it go")
        picker = await alice.presses(picker, "All", lambda m: "✅ Dry run" in buttons(m))
        ask_time = await alice.presses(picker, "Next ➡", "When?")
        preview = await alice.presses(ask_time, "⚡ Now", "Preview")
        assert "Formatting is kept on Telegram and Discord" in preview["text"]
        scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #1")
        await tg.wait_for(alice.user, "Post #1 is out", after=scheduled["message_id"], timeout=10)

        async with crier.db.session() as session:
            post = await session.scalar(select(Post))
        assert post is not None
        assert post.text == TEXT
        assert post.entities == KEPT

        [channel_post] = tg.sent(CHANNEL)
        assert channel_post["text"] == TEXT
        assert channel_post["entities"] == KEPT
        [call] = [c for c in tg.calls_to("sendMessage") if c["chat_id"] == CHANNEL]
        assert call["entities"] == KEPT

        dry_run = crier.services.registry["dryrun"]  # type: ignore[union-attr]
        assert isinstance(dry_run, DryRunProvider)
        [record] = dry_run.records
        assert record.post.text == PLAIN
        assert record.post.entities == ()

        [message] = discord.messages
        assert message.content == MARKDOWN


async def test_a_forwarded_photo_keeps_its_caption_formatting_in_the_channel(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await connect_channel(tg, alice)
    caption = "Team 👋 photo: *literal stars* and spoiler"
    entities = [
        {"type": "italic", "offset": 0, "length": 4},  # "Team"
        {"type": "spoiler", "offset": utf16("Team 👋 photo: *literal stars* and "), "length": 7},
    ]
    sizes = tg._photo_set(jpeg(), width=640, height=480)
    waiting = tg.wait_for(alice.user, "New post")
    forward(tg, alice, {"photo": sizes, "caption": caption, "caption_entities": entities})
    status = await waiting
    assert "1 photo" in status["text"]
    picker = await alice.presses(status, "✅ Done", "Where should it go")
    picker = await alice.presses(
        picker, "▫️ @news · Telegram channel", lambda m: "✅ @news · Telegram channel" in buttons(m)
    )
    ask_time = await alice.presses(picker, "Next ➡", "When?")
    preview = await alice.presses(ask_time, "⚡ Now", "Preview")
    scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #1")
    await tg.wait_for(alice.user, "Post #1 is out", after=scheduled["message_id"], timeout=10)

    [photo] = tg.sent(CHANNEL)
    assert photo["caption"] == caption
    assert photo["caption_entities"] == entities
    [send_photo] = tg.calls_to("sendPhoto")
    assert send_photo["caption_entities"] == entities


async def test_forwarding_at_the_time_step_offers_a_new_post_instead_of_reading_a_time(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    status = await alice.says("First post", "New post")
    picker = await alice.presses(status, "✅ Done", "Where should it go")
    ask_time = await alice.presses(picker, "Next ➡", "When?")

    waiting = tg.wait_for(alice.user, "middle of a post", after=ask_time["message_id"])
    forward(tg, alice, {"text": TEXT, "entities": ENTITIES})
    question = await waiting
    assert "First post" in question["text"]
    assert "can't" not in question["text"].lower()  # not read as a time
    status = await alice.presses(question, "📝 New post with it", "text (")
    assert "formatted" in status["text"]
    async with crier.db.session() as session:
        texts = sorted(await session.scalars(select(Post.text)))
    assert texts == ["First post", TEXT], "the first post is kept as a draft"


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def test_a_forwarded_album_keeps_its_caption_formatting_in_the_channel_album(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await connect_channel(tg, alice)
    waiting = tg.wait_for(alice.user, "2 photos")
    for index, color in enumerate(("red", "blue")):
        content: JSON = {"photo": tg._photo_set(jpeg(color=color)), "media_group_id": "77"}
        if index == 0:
            content |= {"caption": TEXT, "caption_entities": ENTITIES}
        forward(tg, alice, content)
    status = await waiting
    assert "formatted" in status["text"]
    picker = await alice.presses(status, "✅ Done", "Where should it go")
    picker = await alice.presses(
        picker, "▫️ @news · Telegram channel", lambda m: "✅ @news · Telegram channel" in buttons(m)
    )
    ask_time = await alice.presses(picker, "Next ➡", "When?")
    preview = await alice.presses(ask_time, "⚡ Now", "Preview")
    scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #1")
    await tg.wait_for(alice.user, "Post #1 is out", after=scheduled["message_id"], timeout=10)

    [group] = tg.calls_to("sendMediaGroup")
    assert group["media"][0]["caption"] == TEXT
    assert group["media"][0]["caption_entities"] == KEPT
    first = tg.sent(CHANNEL)[0]
    assert first["caption_entities"] == KEPT
