"""/status, /history and /retry: the truth about every attempt, only to its owner."""

from __future__ import annotations

from bot.app import Crier
from storage.models import TargetStatus
from tests.acceptance.conftest import Person, buttons, eventually
from tests.acceptance.test_compose_flow import CHANNEL, connect_channel, targets
from tests.fakes.telegram_api import FakeTelegram


async def post_to_channel(tg: FakeTelegram, alice: Person, text: str) -> dict:  # type: ignore[type-arg]
    status = await alice.says(text, "New post")
    picker = await alice.presses(status, "✅ Done", "Where should it go")
    picker = await alice.presses(
        picker, "▫️ @news · Telegram channel", lambda m: "✅ @news · Telegram channel" in buttons(m)
    )
    ask_time = await alice.presses(picker, "Next ➡", "When?")
    return await alice.presses(ask_time, "⚡ Now", "Preview")


async def test_status_shows_every_attempt_and_history_links_the_result(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await connect_channel(tg, alice)
    preview = await post_to_channel(tg, alice, "Eventually")
    tg.fail_next("sendMessage", status=502, description="Bad Gateway")
    scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #1")
    summary = await tg.wait_for(alice.user, "Post #1 is out", after=scheduled["message_id"])

    details = await alice.presses(summary, "📋 Details", "Post #1")
    assert "failed for now" in details["text"]
    assert "Bad Gateway" in details["text"]
    assert "✅ published" in details["text"]
    assert details["text"].count("•") == 2

    same = await alice.says("/status 1", "Post #1")
    assert same["text"] == details["text"]
    recent = await alice.says("/history", "Recent outcomes")
    assert "#1" in recent["text"]
    links = [e["url"] for e in recent.get("entities", []) if e.get("type") == "text_link"]
    assert links == [f"https://t.me/news/{tg.sent(CHANNEL)[0]['message_id']}"]
    await alice.says("/retry 1", "Nothing of post #1 needs a retry")


async def test_retry_command_requeues_a_failed_post(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await connect_channel(tg, alice)
    preview = await post_to_channel(tg, alice, "Second chance")
    tg.fail_next("sendMessage", status=400, description="Bad Request: not today")
    scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #1")
    failed = await tg.wait_for(alice.user, "was not published", after=scheduled["message_id"])

    await alice.says("/retry 1", "Retrying post #1")
    # The outcome can reach the chat before the "Retrying" acknowledgement does.
    await tg.wait_for(alice.user, "Post #1 is out", after=failed["message_id"])
    [target] = await targets(crier)
    assert target.status == TargetStatus.PUBLISHED


async def test_other_users_cannot_see_or_settle_a_post(
    tg: FakeTelegram, crier: Crier, alice: Person, bob: Person
) -> None:
    await alice.says("/start", "Crier")
    await connect_channel(tg, alice)
    preview = await post_to_channel(tg, alice, "Mine")
    await alice.presses(preview, "✅ Confirm", "Scheduled #1")
    await bob.says("/start", "Crier")

    await bob.says("/status 1", "can't find post #1")
    await bob.says("/retry 1", "can't find post #1")
    own = await bob.says("/help", "/status")
    before = len(tg.sent(bob.user))
    await bob.forges(own, "p:mark:1")
    await bob.forges(own, "p:status:1")

    # Both answers may be in before a wait_for would start: count what was sent.
    def refusals() -> int:
        said = [m.get("text") or "" for m in tg.sent(bob.user)[before:]]
        return sum("can't find post #1" in text for text in said)

    await eventually(lambda: refusals() == 2)
    assert "Mine" not in str(tg.sent(bob.user))
    await bob.says("/status", "Tell me which post")
    empty = await bob.says("/history", "Nothing has been published yet")
    assert empty
