"""Nothing lives only in memory: restarts lose no post, no draft step and no notice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from bot.app import Crier
from bot.config import Settings
from storage.models import Notice, NoticeStatus, Target
from tests.acceptance.conftest import Person, buttons, eventually, schedule_text
from tests.fakes.telegram_api import FakeTelegram


async def test_a_post_that_fell_due_while_down_is_published_at_once_after_restart(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    # No periodic sweep: only start-up's look at the database can find the overdue post.
    settings = make_settings(engine_sweep_seconds=3600)
    async with Crier(settings) as crier:
        await alice.says("/start", "Crier")
        scheduled = await schedule_text(alice, "Written before the outage", "in 10 minutes")
        # The process is down while the time passes.
        past = datetime.now(UTC) - timedelta(minutes=5)
        async with crier.db.session() as session:
            await session.execute(update(Target).values(publish_at=past, next_attempt_at=past))

    async with Crier(settings):
        summary = await tg.wait_for(
            alice.user, "Post #1 is out", after=scheduled["message_id"], timeout=30
        )
    assert "Written before the outage" in summary["text"]


async def test_compose_resumes_where_it_was_after_a_restart(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    settings = make_settings()
    async with Crier(settings):
        await alice.says("/start", "Crier")
        status = await alice.says("Survives restarts", "New post")
        picker = await alice.presses(status, "✅ Done", "Where should it go")

    async with Crier(settings):
        ask_time = await alice.presses(picker, "Next ➡", "When?")
        preview = await alice.says("in 1 hour", "Preview")
        assert "Survives restarts" in preview["text"]
        assert "✅ Confirm" in buttons(preview)
        await alice.presses(preview, "✅ Confirm", "Scheduled #1")
        assert ask_time


async def test_a_notice_telegram_refused_is_delivered_after_a_restart(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    settings = make_settings()
    async with Crier(settings) as crier:
        await alice.says("/start", "Crier")
        scheduled = await schedule_text(alice, "Tell me how it went", "in 10 minutes")
        # Telegram is down for DMs: the summary notice must wait, not vanish.
        tg.fail_next("sendMessage", status=502, description="Bad Gateway", count=1000)
        tg.press(alice.user, scheduled, "⚡ Post now")
        for _ in range(100):
            async with crier.db.session() as session:
                notice = await session.get(Notice, 1)
            if notice is not None and notice.attempts >= 1:
                break
            await asyncio.sleep(0.05)
        assert notice is not None
        assert notice.status in (NoticeStatus.PENDING, NoticeStatus.SENDING)

    tg.clear_failures()  # Telegram is back.
    async with Crier(settings) as crier:
        summary = await tg.wait_for(alice.user, "Post #1 is out", timeout=5)
        assert "Tell me how it went" in summary["text"]

        async def sent() -> bool:
            async with crier.db.session() as session:
                notice = await session.get(Notice, 1)
            return notice is not None and notice.status == NoticeStatus.SENT

        await eventually(sent)
