"""The core loop through the real bot: compose, pick accounts and time, confirm, publish, DM."""

from __future__ import annotations

import asyncio
import re
import time

from sqlalchemy import select

from bot.app import Crier
from storage.models import Target, TargetStatus
from tests.acceptance.conftest import Person, buttons, dm, jpeg, schedule_draft, to_preview
from tests.fakes.telegram_api import FakeTelegram

CHANNEL = -1001234567890


async def connect_channel(tg: FakeTelegram, person: Person, username: str = "news") -> None:
    tg.add_channel(CHANNEL, "News", username, admins={person.id: "creator"})
    menu = await person.says("/connect", "Connect an account")
    await person.presses(menu, "📣 Telegram channel or group", "Post messages")
    connected = await person.says(f"@{username}", "Connected")
    assert f"@{username}" in connected["text"]


async def targets(crier: Crier) -> list[Target]:
    async with crier.db.session() as session:
        return list(await session.scalars(select(Target).order_by(Target.id)))


async def test_photo_and_text_to_dry_run_and_a_channel_published_on_time(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await connect_channel(tg, alice)

    status = await alice.sends_photo(jpeg(), caption="Launch day! 🚀 https://example.com")
    assert "1 photo" in status["text"]
    steps = await schedule_draft(
        alice, status, accounts="All", when="in 3 seconds", expect="Scheduled #1"
    )
    assert buttons(steps.picker)[:2] == ["▫️ Dry run", "▫️ @news · Telegram channel"]
    assert "⚡ Now" in buttons(steps.ask_time)
    preview = steps.preview
    assert "UTC — in" in preview["text"] or "UTC — now" in preview["text"]
    assert "Launch day!" in preview["text"]
    assert "✅ Dry run" in preview["text"]
    assert "✅ @news (Telegram channel)" in preview["text"]
    assert buttons(preview)[:3] == ["✅ Confirm", "✏️ Edit text", "🕒 Change time"]

    scheduled = steps.scheduled
    assert buttons(scheduled)[:2] == ["⚡ Post now", "✖ Cancel"]
    [first, second] = await targets(crier)
    due = first.publish_at

    channel_post = await tg.wait_for(CHANNEL, "Launch day!", timeout=10)
    published_at = time.time()
    summary = await tg.wait_for(alice.user, "Post #1 is out", after=scheduled["message_id"])

    assert channel_post["photo"]
    assert channel_post["caption"] == "Launch day! 🚀 https://example.com"
    assert abs(published_at - due.timestamp()) < 1.5, "published more than a second late"
    assert "https://t.me/news/" in str(summary.get("entities")) or "view post" in summary["text"]
    assert "Dry run — done" in summary["text"]
    [first, second] = await targets(crier)
    assert (first.status, second.status) == (TargetStatus.PUBLISHED, TargetStatus.PUBLISHED)
    assert second.url == f"https://t.me/news/{channel_post['message_id']}"
    # The channel got the photo the user sent, by file id, without a re-upload.
    [send_photo] = tg.calls_to("sendPhoto")
    assert isinstance(send_photo["photo"], str)


async def test_post_now_button_publishes_immediately(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    status = await alice.says("Hello world", "New post")
    steps = await schedule_draft(alice, status, when="Tomorrow 09:00", expect="Scheduled #1")
    # With one account, it is already picked.
    assert buttons(steps.picker)[0] == "✅ Dry run"
    scheduled = steps.scheduled
    assert "tomorrow" not in scheduled["text"].lower() or "09:00" in scheduled["text"]

    tg.press(alice.user, scheduled, "⚡ Post now")
    await dm(tg, alice, "Publishing post #1 now")
    summary = await dm(tg, alice, "Post #1 is out")
    assert "Hello world" in summary["text"]


async def test_now_button_and_several_text_messages_make_one_post(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await alice.says("/new", "New post")
    await alice.says("First paragraph.", "New post")
    status = await alice.says("Second paragraph.", "text (35 characters)")
    # A quick second message updates the status in place instead of sending another.
    assert "New post (2 messages): text (35 characters)" in status["text"]
    statuses = [m for m in tg.sent(alice.user) if re.search(r"New post( \(.*\))?:", m["text"])]
    assert [bool(buttons(m)) for m in statuses] == [True]
    steps = await schedule_draft(alice, status, when="⚡ Now", expect="Scheduled #1")
    assert "Now, as soon as you confirm" in steps.preview["text"]
    scheduled = steps.scheduled
    summary = await tg.wait_for(alice.user, "Post #1 is out", after=scheduled["message_id"])
    assert "First paragraph. Second paragraph." in summary["text"]
    dry_run = crier.services.registry["dryrun"]  # type: ignore[union-attr]
    [record] = dry_run.records  # type: ignore[attr-defined]
    assert record.post.text == "First paragraph.\n\nSecond paragraph."


async def test_an_album_becomes_one_post_and_one_channel_album(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await connect_channel(tg, alice)
    waiting = tg.wait_for(alice.user, "3 photos")
    tg.send_album(alice.user, [jpeg(color=c) for c in ("red", "green", "blue")], caption="Trip")
    status = await waiting
    # One status message for the whole album, not one per photo.
    assert sum("New post" in (m.get("text") or "") for m in tg.sent(alice.user)) == 1

    steps = await schedule_draft(
        alice, status, accounts=["@news · Telegram channel"], when="⚡ Now", expect="Scheduled #1"
    )
    assert "3 photos" in steps.preview["text"]
    scheduled = steps.scheduled
    await tg.wait_for(alice.user, "Post #1 is out", after=scheduled["message_id"])

    [group] = tg.calls_to("sendMediaGroup")
    media = group["media"]
    assert [item["type"] for item in media] == ["photo", "photo", "photo"]
    assert media[0]["caption"] == "Trip"
    album = [m for m in tg.sent(CHANNEL) if m.get("media_group_id")]
    assert len(album) == 3
    assert len({m["media_group_id"] for m in album}) == 1
    stored = list((crier.settings.media_dir).rglob("*"))
    assert len([p for p in stored if p.is_file()]) == 3


async def test_a_failed_publish_says_why_and_retry_publishes(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await connect_channel(tg, alice)
    status = await alice.says("Big news", "New post")
    steps = await to_preview(alice, status, accounts=["@news · Telegram channel"], when="⚡ Now")
    preview = steps.preview
    # Confirming sends nothing with sendMessage, so the next one is the channel post.
    tg.fail_next("sendMessage", status=400, description="Bad Request: message must be non-empty")
    scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #1")

    failed = await tg.wait_for(alice.user, "was not published", after=scheduled["message_id"])
    assert "message must be non-empty" in failed["text"]
    assert buttons(failed) == ["🔁 Retry", "📋 Details"]
    [target] = await targets(crier)
    assert target.status == TargetStatus.FAILED

    await alice.presses(failed, "🔁 Retry", "Retrying post #1")
    # The outcome can reach the chat before the "Retrying" acknowledgement does.
    await tg.wait_for(alice.user, "Post #1 is out", after=failed["message_id"])
    assert [m["text"] for m in tg.sent(CHANNEL)] == ["Big news"]


async def test_a_transient_failure_is_retried_and_published_once(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await connect_channel(tg, alice)
    status = await alice.says("Resilient", "New post")
    steps = await to_preview(alice, status, accounts=["@news · Telegram channel"], when="⚡ Now")
    preview = steps.preview
    tg.fail_next("sendMessage", status=502, description="Bad Gateway", count=2)
    scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #1")

    await tg.wait_for(alice.user, "Post #1 is out", timeout=10, after=scheduled["message_id"])
    assert [m["text"] for m in tg.sent(CHANNEL)] == ["Resilient"]
    from storage.models import Attempt

    async with crier.db.session() as session:
        outcomes = list(await session.scalars(select(Attempt.outcome).order_by(Attempt.id)))
    assert outcomes == ["transient", "transient", "published"]
    await asyncio.sleep(0)
