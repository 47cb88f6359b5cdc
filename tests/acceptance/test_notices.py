"""The notice outbox: rate limits are waited out, a user who blocked the bot stops notices,
Telegram being away delays a notice but never loses it, and a notice Telegram can't parse
still arrives, as plain text."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import select, update

from bot.app import Crier
from storage.models import Notice, NoticeStatus, TargetStatus, User, UserStatus
from tests.acceptance.conftest import JSON, Person, eventually, make_due, schedule_text
from tests.acceptance.test_schedules import statuses
from tests.fakes.telegram_api import FakeTelegram


async def test_a_rate_limited_notice_waits_what_telegram_said(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    scheduled = await schedule_text(alice, "Patience", "in 10 minutes")
    tg.fail_next(
        "sendMessage", status=429, description="Too Many Requests: retry after 2", retry_after=2
    )
    started = time.monotonic()
    await make_due(crier)
    summary = await tg.wait_for(
        alice.user, "Post #1 is out", after=scheduled["message_id"], timeout=8
    )
    assert time.monotonic() - started >= 2, "the DM went out before retry_after"
    assert summary

    async def sent() -> bool:
        async with crier.db.session() as session:
            return await session.scalar(select(Notice.status)) == NoticeStatus.SENT

    await eventually(sent)


async def test_a_user_who_blocked_the_bot_is_marked_and_their_notices_dropped(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await schedule_text(alice, "Into the void", "in 10 minutes")
    tg.block_bot(alice.id)
    await make_due(crier)

    async def dropped() -> bool:
        async with crier.db.session() as session:
            return await session.scalar(select(Notice.status)) == NoticeStatus.DROPPED

    await eventually(dropped)
    async with crier.db.session() as session:
        user = await session.get(User, alice.id)
    assert user is not None
    assert user.status == UserStatus.BLOCKED
    # The post itself is unaffected.
    assert await statuses(crier, 1) == [TargetStatus.PUBLISHED]

    # Writing to the bot again unblocks them.
    tg.unblock_bot(alice.id)
    await alice.says("/help", "/list")
    async with crier.db.session() as session:
        user = await session.get(User, alice.id)
    assert user is not None
    assert user.status == UserStatus.ACTIVE


def dms(tg: FakeTelegram, person: Person) -> list[JSON]:
    return [c for c in tg.calls_to("sendMessage") if str(c["chat_id"]) == str(person.id)]


async def notice_status(crier: Crier) -> NoticeStatus | None:
    async with crier.db.session() as session:
        return await session.scalar(select(Notice.status).order_by(Notice.id.desc()))


async def test_no_notice_is_even_tried_for_a_user_who_blocked_the_bot(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await schedule_text(alice, "Into the void", "in 10 minutes")
    tg.block_bot(alice.id)  # Telegram tells the bot at once (my_chat_member)

    async def blocked() -> bool:
        async with crier.db.session() as session:
            user = await session.get(User, alice.id, populate_existing=True)
            return user is not None and user.status == UserStatus.BLOCKED

    await eventually(blocked)
    tried = len(dms(tg, alice))
    await make_due(crier)
    await eventually(lambda: _is(crier, NoticeStatus.DROPPED))
    assert await statuses(crier, 1) == [TargetStatus.PUBLISHED]
    assert len(dms(tg, alice)) == tried, "a DM was sent to a user who blocked the bot"


async def _is(crier: Crier, status: NoticeStatus) -> bool:
    return await notice_status(crier) == status


async def test_telegram_away_for_a_while_delays_the_notice_but_never_drops_it(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    scheduled = await schedule_text(alice, "Through the storm", "in 10 minutes")
    # More failures in a row than the outbox used to allow before dropping a notice.
    tg.fail_next("sendMessage", status=502, description="Bad Gateway", count=15)
    await make_due(crier)

    async def failed_once() -> bool:
        # Written PENDING, tried, and back to PENDING with the reason, waiting to retry.
        async with crier.db.session() as session:
            notice = await session.scalar(select(Notice))
        return (
            notice is not None
            and notice.status == NoticeStatus.PENDING
            and "Bad Gateway" in (notice.last_error or "")
        )

    await eventually(failed_once)

    # Each failure is retried later: fast-forward the waits until Telegram is back.
    assert crier.services is not None
    for _ in range(40):
        async with crier.db.session() as session:
            await session.execute(
                update(Notice)
                .where(Notice.status == NoticeStatus.PENDING)
                .values(next_attempt_at=datetime.now(UTC))
            )
        await crier.services.notifier.run_due()
        if await _is(crier, NoticeStatus.SENT):
            break
    assert await _is(crier, NoticeStatus.SENT)
    await tg.wait_for(alice.user, "Post #1 is out", after=scheduled["message_id"])


async def test_a_notice_telegram_cannot_parse_arrives_as_plain_text(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    scheduled = await schedule_text(alice, "Odd markup", "in 10 minutes")
    tg.fail_next(
        "sendMessage",
        status=400,
        description="Bad Request: can't parse entities: unsupported start tag",
    )
    await make_due(crier)
    summary = await tg.wait_for(alice.user, "Post #1 is out", after=scheduled["message_id"])
    assert "<" not in summary["text"]
    # Detected ones only (the fake marks "#1" a hashtag): no markup was parsed.
    assert {e["type"] for e in summary.get("entities") or []} <= {"hashtag", "url"}
    [retry_call] = [c for c in dms(tg, alice) if "Post #1 is out" in str(c.get("text"))][-1:]
    assert "parse_mode" not in retry_call
    await eventually(lambda: _is(crier, NoticeStatus.SENT))
