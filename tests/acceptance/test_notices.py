"""The notice outbox: rate limits are waited out, a user who blocked the bot stops notices."""

from __future__ import annotations

import time

from sqlalchemy import select

from bot.app import Crier
from storage.models import Notice, NoticeStatus, TargetStatus, User, UserStatus
from tests.acceptance.conftest import Person, eventually, make_due, schedule_text
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
