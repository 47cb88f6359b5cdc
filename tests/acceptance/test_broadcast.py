"""/broadcast end to end, against the fake Bot API with Telegram's flood limits enforced:
the pace, restarts, blocked users, 429s, cancelling, segments, buttons and albums."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from bot.admin.broadcast_message import parse_buttons
from bot.admin.pacer import Pacer
from bot.app import Crier
from bot.config import Settings
from bot.handlers.admin.broadcast import runner
from storage import accounts
from storage.models import (
    Audit,
    Broadcast,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    Role,
    User,
    UserStatus,
)
from tests.acceptance.conftest import JSON, TELEGRAM_PACE, Person, buttons, eventually, jpeg
from tests.fakes.telegram_api import FakeTelegram

TEXT = "📣 Crier 2.0 is out"


async def seed_users(
    crier: Crier, tg: FakeTelegram | None, ids: Iterable[int], *, seen_days_ago: float = 0
) -> None:
    """Users who used the bot (known to the fake too, unless `tg` is None)."""
    seen = datetime.now(UTC) - timedelta(days=seen_days_ago)
    rows = []
    for uid in ids:
        if tg is not None:
            tg.add_user(uid, f"User {uid}")
        rows.append(
            {
                "id": uid,
                "chat_id": uid,
                "first_name": f"User {uid}",
                "username": f"user{uid}",
                "language": "en",
                "timezone": "UTC",
                "timezone_set": True,
                "role": Role.USER,
                "status": UserStatus.ACTIVE,
                "created_at": seen,
                "last_seen_at": seen,
            }
        )
    async with crier.db.session() as session:
        await session.execute(insert(User), rows)


def texts_to(tg: FakeTelegram, uid: int) -> list[str]:
    return [m.get("text") or m.get("caption") or "" for m in tg.sent(uid)]


async def compose(admin: Person, text: str = TEXT) -> JSON:
    """/broadcast and the message; returns the message with the segment and Send buttons."""
    await admin.says("/broadcast", "New broadcast")
    return await admin.says(text, "Recipients:")


def send_label(choices: JSON) -> str:
    return next(b for b in buttons(choices) if b.startswith("✅ Send to"))


async def confirm(admin: Person, choices: JSON) -> JSON:
    return await admin.presses(choices, send_label(choices), "sending to")


async def broadcast_row(crier: Crier, broadcast_id: int = 1) -> Broadcast:
    async with crier.db.session() as session:
        found = await session.get(Broadcast, broadcast_id)
        assert found is not None
        return found


async def delivery_counts(crier: Crier) -> dict[DeliveryStatus, int]:
    async with crier.db.session() as session:
        rows = await session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        )
        return {DeliveryStatus(s): n for s, n in rows}


def admin_settings(make_settings: Callable[..., Settings], admin: Person, **extra: Any) -> Settings:
    # Telegram's own pace, as Crier keeps it by default: broadcasts share it with replies.
    return make_settings(admin_ids=[admin.id], **{**TELEGRAM_PACE, **extra})


@pytest.mark.slow
async def test_500_users_get_it_once_at_telegrams_pace_with_live_progress(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    tg.enforce_rate_limits = True
    ids = range(10_001, 10_501)
    async with Crier(admin_settings(make_settings, alice)) as crier:
        await seed_users(crier, tg, ids)
        choices = await compose(alice)
        assert "501" in send_label(choices)  # 500 users and the admin
        progress = await confirm(alice, choices)
        summary = await tg.wait_for(
            alice.user, lambda m: "is done" in (m.get("text") or ""), timeout=60
        )
        final = await broadcast_row(crier)

    assert tg.rate_limited_count == 0, "Telegram answered 429"
    for uid in ids:
        assert texts_to(tg, uid) == [TEXT], uid
    assert final.status == BroadcastStatus.DONE
    assert (final.total, final.sent, final.blocked, final.failed) == (501, 501, 0, 0)
    assert final.started_at is not None
    assert final.finished_at is not None
    assert (final.finished_at - final.started_at).total_seconds() >= 500 / 30 - 1

    edits = [
        c for c in tg.calls_to("editMessageText") if c.get("message_id") == progress["message_id"]
    ]
    live = [c["text"] for c in edits if "▓" in c["text"] or "░" in c["text"]]
    assert len(live) >= 4, live
    assert any("/s" in t and "ETA" in t and "/501" in t for t in live)
    shown = next(m for m in tg.sent(alice.user) if m["message_id"] == progress["message_id"])
    assert "is done" in shown["text"]
    assert "Sent: 501 · blocked: 0 · failed: 0" in summary["text"]


async def test_a_restart_mid_broadcast_resumes_without_duplicates(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    tg.enforce_rate_limits = True
    ids = range(20_001, 20_151)
    settings = admin_settings(make_settings, alice)
    first = Crier(settings)
    await first.start()
    try:
        await seed_users(first, tg, ids)
        progress = await confirm(alice, await compose(alice))

        async def sent_enough() -> bool:
            return (await delivery_counts(first)).get(DeliveryStatus.SENT, 0) >= 100

        await eventually(sent_enough, timeout=20)
    finally:
        await first.stop()
    paused = await tg.wait_for(alice.user, "is paused", after=progress["message_id"] - 1)
    assert paused["message_id"] == progress["message_id"]
    sent_before = sum(len(texts_to(tg, uid)) for uid in ids)
    assert 100 <= sent_before < 150

    async with Crier(settings) as second:
        summary = await tg.wait_for(
            alice.user, lambda m: "is done" in (m.get("text") or ""), timeout=30
        )
        final = await broadcast_row(second)
    assert tg.rate_limited_count == 0
    for uid in ids:
        assert texts_to(tg, uid) == [TEXT], uid
    assert (final.status, final.sent) == (BroadcastStatus.DONE, 151)
    assert "Sent: 151" in summary["text"]
    resumed = [
        c for c in tg.calls_to("editMessageText") if c.get("message_id") == progress["message_id"]
    ]
    assert "is done" in resumed[-1]["text"], "the same progress message carries on"


async def test_blocked_and_unknown_chats_are_skipped_and_counted(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with Crier(admin_settings(make_settings, alice)) as crier:
        await seed_users(crier, tg, range(30_001, 30_011))
        await seed_users(crier, None, [30_099])  # in our database, unknown to Telegram
        tg.blocked.add(30_005)  # blocked the bot while we weren't looking
        choices = await compose(alice)
        tg.fail_next("sendMessage", status=500, description="Internal Server Error")
        await confirm(alice, choices)
        summary = await tg.wait_for(alice.user, lambda m: "is done" in (m.get("text") or ""))
        async with crier.db.session() as session:
            blocked_user = await session.get(User, 30_005)
            rows = {d.user_id: d for d in await session.scalars(select(Delivery))}
    assert "Sent: 10 · blocked: 1 · failed: 1" in summary["text"]
    assert blocked_user is not None
    assert blocked_user.status == UserStatus.BLOCKED
    assert rows[30_005].status == DeliveryStatus.BLOCKED
    assert rows[30_099].status == DeliveryStatus.FAILED
    assert "chat not found" in (rows[30_099].error or "").lower()
    assert texts_to(tg, 30_004) == [TEXT]
    retried = [d for d in rows.values() if d.attempts == 2]
    assert [d.status for d in retried] == [DeliveryStatus.SENT], "a 500 is tried again"


async def test_a_429_pauses_the_whole_broadcast_and_is_not_counted_as_a_try(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with Crier(admin_settings(make_settings, alice)) as crier:
        await seed_users(crier, tg, range(40_001, 40_006))
        choices = await compose(alice)
        tg.fail_next(
            "sendMessage", status=429, description="Too Many Requests: retry after 1", retry_after=1
        )
        await confirm(alice, choices)
        await tg.wait_for(alice.user, lambda m: "is done" in (m.get("text") or ""), timeout=15)
        final = await broadcast_row(crier)
        assert crier.services is not None
        found = runner(crier.services)
        assert found is not None
        assert found.rate_limited == 1
        async with crier.db.session() as session:
            tries = sorted(await session.scalars(select(Delivery.attempts)))
    for uid in range(40_001, 40_006):
        assert texts_to(tg, uid) == [TEXT]
    assert (final.sent, final.failed) == (6, 0)
    assert final.started_at is not None
    assert final.finished_at is not None
    # Six messages take 0.2 s at 30/s: the whole broadcast waited out the second.
    assert (final.finished_at - final.started_at).total_seconds() >= 1
    assert tries == [1] * 6, "a 429 is not the delivery's fault: not counted as a try"


async def test_stop_leaves_the_rest_unsent_and_says_so(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    ids = range(50_001, 50_041)
    async with Crier(admin_settings(make_settings, alice, broadcast_rate=10)) as crier:
        await seed_users(crier, tg, ids)
        progress = await confirm(alice, await compose(alice))

        async def some_sent() -> bool:
            return (await delivery_counts(crier)).get(DeliveryStatus.SENT, 0) >= 5

        await eventually(some_sent)
        await alice.says("/broadcast_cancel", "Stopping broadcast #1")
        summary = await tg.wait_for(
            alice.user, lambda m: "was cancelled" in (m.get("text") or ""), timeout=10
        )
        await asyncio.sleep(0.5)  # nothing more goes out after the summary
        counts = await delivery_counts(crier)
        final = await broadcast_row(crier)
        async with crier.db.session() as session:
            sent_ids = set(
                await session.scalars(
                    select(Delivery.user_id).where(Delivery.status == DeliveryStatus.SENT)
                )
            )
    assert final.status == BroadcastStatus.CANCELLED
    assert counts[DeliveryStatus.PENDING] == 41 - final.sent
    assert 5 <= final.sent < 41
    got = {uid for uid in ids if texts_to(tg, uid)}
    assert got == sent_ids - {alice.id}, "exactly the recorded deliveries went out"
    assert f"not sent: {counts[DeliveryStatus.PENDING]}" in summary["text"]
    shown = next(m for m in tg.sent(alice.user) if m["message_id"] == progress["message_id"])
    assert "was cancelled" in shown["text"]
    assert not buttons(shown), "the Stop button is gone"


async def test_segments_buttons_and_preview(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with Crier(admin_settings(make_settings, alice)) as crier:
        await seed_users(crier, tg, [60_001, 60_002])
        await seed_users(crier, tg, [60_003], seen_days_ago=20)
        await seed_users(crier, tg, [60_004], seen_days_ago=90)
        async with crier.db.session() as session:
            await accounts.add(session, user_id=60_003, platform="mastodon", label="@u@x.social")
            await accounts.add(session, user_id=60_004, platform="dryrun", label="Dry run")
        text = "Release notes\nDocs - https://example.com/docs | Blog - https://example.com/blog"
        choices = await compose(alice, text)
        preview = tg.sent(alice.user)[-2]
        assert preview["text"] == "Release notes"
        markup = preview["reply_markup"]["inline_keyboard"]
        assert [[b["text"] for b in row] for row in markup] == [["Docs", "Blog"]]
        assert markup[0][0]["url"] == "https://example.com/docs"
        assert "Send to 5 people" in send_label(choices)

        expectations = {
            "Users with a connected platform": "Send to 1 person",
            "Active in the last 7 days": "Send to 3 people",  # 60_001, 60_002, the admin
            "Active in the last 30 days": "Send to 4 people",
        }
        for label, count in expectations.items():

            def shows(message: JSON, count: str = count) -> bool:
                return any(count in b for b in buttons(message))

            choices = await alice.presses(choices, label, shows)
            assert f"✅ {label}" in buttons(choices)
        await confirm(alice, choices)
        await tg.wait_for(alice.user, lambda m: "is done" in (m.get("text") or ""))
    assert [m["text"] for m in tg.sent(60_003)] == ["Release notes"]
    assert tg.sent(60_003)[0]["reply_markup"]["inline_keyboard"][0][1]["text"] == "Blog"
    assert tg.sent(60_004) == [], "dormant for 90 days"


async def test_an_album_is_broadcast_as_an_album(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with Crier(admin_settings(make_settings, alice)) as crier:
        await seed_users(crier, tg, [70_001, 70_002])
        await alice.says("/broadcast", "New broadcast")
        waiting = tg.wait_for(alice.user, "Recipients:")
        tg.send_album(alice.user, [jpeg(color="red"), jpeg(color="blue")], caption="Two photos")
        choices = await waiting
        await confirm(alice, choices)
        await tg.wait_for(alice.user, lambda m: "is done" in (m.get("text") or ""))
        async with crier.db.session() as session:
            drafts = await session.scalar(select(func.count()).select_from(Broadcast))
    got = tg.sent(70_001)
    assert [("photo" in m, m.get("caption")) for m in got] == [(True, "Two photos"), (True, None)]
    assert got[0]["media_group_id"] == got[1]["media_group_id"]
    assert drafts == 1
    assert tg.sent(alice.user)[0].get("text", "").startswith("📣 New broadcast"), (
        "the album was not taken as a new post"
    )


async def test_bad_broadcast_input_is_refused_and_changes_nothing(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with Crier(admin_settings(make_settings, alice)) as crier:
        await alice.says("/broadcast", "New broadcast")
        waiting = tg.wait_for(alice.user, "can't carry buttons")
        tg.send_album(alice.user, [jpeg(), jpeg()], caption="Album\nMore - https://example.com")
        await waiting
        tg.send_document(alice.user, b"%PDF-1.4", file_name="a.pdf", mime_type="application/pdf")
        await tg.wait_for(alice.user, "I can broadcast text")
        choices = await alice.says("Plain text after all", "Recipients:")
        assert "Send to 1 person" in send_label(choices)
        async with crier.db.session() as session:
            assert await session.scalar(select(func.count()).select_from(Delivery)) == 0


async def test_abort_drops_a_waiting_draft_and_messages_are_posts_again(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with Crier(admin_settings(make_settings, alice)) as crier:
        await alice.says("/broadcast", "New broadcast")
        await alice.says("/abort", "draft dropped")
        await alice.says("Just a post", "New post")
        await alice.says("/abort", "Cancelled. Nothing was scheduled")
        await alice.says("/broadcast", "New broadcast")
        await alice.says("/broadcast_cancel", "draft dropped")
        await alice.says("/broadcast_cancel", "No broadcast is running")
        async with crier.db.session() as session:
            left = await session.scalar(
                select(func.count()).where(Broadcast.status != BroadcastStatus.CANCELLED)
            )
    assert left == 0


async def test_a_second_broadcast_waits_for_the_first_and_can_be_cancelled_while_queued(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with Crier(admin_settings(make_settings, alice, broadcast_rate=10)) as crier:
        await seed_users(crier, tg, range(80_001, 80_061))
        await confirm(alice, await compose(alice, "First"))
        choices = await compose(alice, "Second")
        second = await alice.presses(
            choices, send_label(choices), "starts when broadcast #1 is done"
        )
        await alice.says("/broadcast_cancel 2", "Broadcast #2 was cancelled")
        shown = next(m for m in tg.sent(alice.user) if m["message_id"] == second["message_id"])
        assert "was cancelled" in shown["text"]
        await tg.wait_for(alice.user, lambda m: "#1 is done" in (m.get("text") or ""), timeout=15)
        second_row = await broadcast_row(crier, 2)
    assert second_row.status == BroadcastStatus.CANCELLED
    assert second_row.sent == 0
    assert all(texts_to(tg, uid) == ["First"] for uid in range(80_001, 80_061))


async def test_forged_and_foreign_broadcast_buttons_are_refused(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person, bob: Person
) -> None:
    carol = Person(tg, tg.add_user(3003, "Carol", "carol"))
    settings = make_settings(admin_ids=[alice.id, carol.id])
    async with Crier(settings) as crier:
        await bob.says("/start", "Crier")
        choices = await compose(alice)
        own = await bob.says("/help", "/list")
        for data in ("bc:go:1", "bc:stop:1", "bc:seg:1:all", "bc:drop:1", "au:0:"):
            answer = await bob.forges(own, data)
            assert "admins only" in answer.get("text", ""), data
        # Another admin can't confirm or drop alice's draft, and unknown ids are gone.
        carols = await carol.says("/help", "/list")
        for data in ("bc:go:1", "bc:drop:1", "bc:go:999", "bc:seg:999:7d"):
            answer = await carol.forges(carols, data)
            assert "draft is gone" in answer.get("text", ""), data
        answer = await carol.forges(carols, "bc:stop:999")
        assert "no running broadcast #999" in answer.get("text", "")
        await bob.says("/broadcast", "admins only")
        async with crier.db.session() as session:
            status = await session.scalar(select(Broadcast.status).where(Broadcast.id == 1))
            denied = [
                subject or ""
                for subject in await session.scalars(
                    select(Audit.subject).where(Audit.actor_id == bob.id, Audit.action == "denied")
                )
            ]
            deliveries = await session.scalar(select(func.count()).select_from(Delivery))
    assert status == BroadcastStatus.DRAFT
    assert deliveries == 0
    assert sorted(denied) == sorted(
        [
            "broadcast.confirm",
            "broadcast.cancel",
            "broadcast.segment",
            "broadcast.drop",
            "users",
            "broadcast",
        ]
    )
    assert all(TEXT not in t for t in texts_to(tg, bob.id))
    assert send_label(choices)


# -- pieces ---------------------------------------------------------------------------------------


def test_button_lines_are_split_off_the_end_only() -> None:
    text, rows = parse_buttons(
        "Hello - world\nSee - https://a.example\nA - tg://resolve?x | B - http://b.c"
    )
    assert text == "Hello - world"
    assert rows == [
        [{"text": "See", "url": "https://a.example"}],
        [{"text": "A", "url": "tg://resolve?x"}, {"text": "B", "url": "http://b.c"}],
    ]
    assert parse_buttons("Just text - https://x.y is inline") == (
        "Just text - https://x.y is inline",
        [],
    )


async def test_the_pacer_spaces_sends_and_pauses() -> None:
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    pacer = Pacer(10, chat_gap=1.0, clock=lambda: now[0], sleep=sleep)
    for chat in range(5):
        assert await pacer.wait(chat)
    assert now[0] == pytest.approx(0.4), "five slots 0.1 s apart, no burst"
    assert pacer.chat_delay(4) == pytest.approx(1.0)
    assert pacer.chat_delay(1234) == 0
    pacer.pause(3)
    assert pacer.paused_for() == pytest.approx(3)
    assert await pacer.wait(99)
    assert now[0] == pytest.approx(3.4)
    assert await pacer.wait(99)
    assert now[0] == pytest.approx(4.4), "one second between two sends to one chat"
    stop = asyncio.Event()
    stop.set()
    busy = Pacer(1)
    assert await busy.wait(1)
    assert not await busy.wait(2, stop), "a stop interrupts the wait for a slot"
