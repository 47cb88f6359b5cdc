"""After a post is out, from the chat: ✏️ Edit changes it in place and 🗑 Delete removes it
(asking first), per account, with the exact request each platform's fake received; Bluesky
can't edit and offers delete-and-post-again; another user's post can't be touched with
forged callback data (the same "not found" as an unknown id, and no platform is called)."""

from __future__ import annotations

from bot.app import Crier
from tests.acceptance.conftest import Person, buttons, dm, make_due, schedule_draft
from tests.fakes.telegram_api import FakeTelegram

CHANNEL = -1001234567890


async def connect_channel(tg: FakeTelegram, person: Person) -> None:
    tg.add_channel(CHANNEL, "News", "news", admins={person.id: "creator"})
    menu = await person.says("/connect", "Connect an account")
    await person.presses(menu, "📣 Telegram channel or group", "Post messages")
    await person.says("@news", "Connected")


async def publish_to_channel(tg: FakeTelegram, crier: Crier, person: Person, text: str) -> dict:  # type: ignore[type-arg]
    """Compose `text` for the channel only, let it go out; the success DM."""
    await person.says("/start", "Crier")
    await connect_channel(tg, person)
    status = await person.says(text, "New post")
    await schedule_draft(person, status, accounts="@news")
    await make_due(crier)
    return await dm(tg, person, "is out")


async def test_a_channel_post_is_edited_then_deleted_from_the_success_dm(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    summary = await publish_to_channel(tg, crier, alice, "Doors open at 9")
    [channel_post] = tg.sent(CHANNEL)
    message_id = channel_post["message_id"]
    assert buttons(summary)[-3:-1] == ["🗑 Delete", "✏️ Edit"]

    asked = await alice.presses(summary, "✏️ Edit", "Send the new text")
    assert "@news (Telegram channel)" in asked["text"]
    told = await alice.says("Doors open at 10", "edited")
    assert "✅ @news (Telegram channel) — edited" in told["text"]
    [edited] = [c for c in tg.calls_to("editMessageText") if c["chat_id"] == CHANNEL]
    assert edited == {"chat_id": CHANNEL, "message_id": message_id, "text": "Doors open at 10"}
    assert tg.sent(CHANNEL)[0]["text"] == "Doors open at 10"

    ask = await alice.presses(summary, "🗑 Delete", "Delete post #")
    assert buttons(ask) == ["🗑 Yes, delete it", "Keep it"]
    done = await alice.presses(ask, "🗑 Yes, delete it", "deleted")
    assert "✅ @news (Telegram channel) — deleted" in done["text"]
    deletes = [c for c in tg.calls_to("deleteMessage") if c["chat_id"] == CHANNEL]
    assert deletes == [{"chat_id": CHANNEL, "message_id": message_id}]
    assert tg.deleted(CHANNEL) == [message_id]
    listed = await alice.says("/list", "Your posts")
    assert "🗑 @news (Telegram channel) — deleted" in listed["text"]
    assert not any(b.startswith("🗑 Delete") for b in buttons(listed))


async def test_another_users_post_cant_be_deleted_or_edited(
    tg: FakeTelegram, crier: Crier, alice: Person, bob: Person
) -> None:
    summary = await publish_to_channel(tg, crier, alice, "Alice's news")
    post_id = summary["text"].split("#", 1)[1].split(" ", 1)[0]
    await bob.says("/start", "Crier")
    hello = await bob.says("/help", lambda m: True)
    before = len(tg.calls)
    for data in (f"a:del:{post_id}", f"a:del_yes:{post_id}", f"a:edit:{post_id}"):
        await bob.forges(hello, data)
        said = await dm(tg, bob, f"I can't find post #{post_id}")
        assert "among your posts" in said["text"]
    unknown = await bob.forges(hello, "a:del_yes:999999")  # an unknown id: the same words
    assert unknown is not None
    await dm(tg, bob, "I can't find post #999999")
    await bob.says("Alice's news is mine now", "New post")  # no edit question was open
    made = [name for name, params in tg.calls[before:] if params.get("chat_id") == CHANNEL]
    assert made == []
    assert len(tg.sent(CHANNEL)) == 1
    assert tg.sent(CHANNEL)[0]["text"] == "Alice's news"
