"""Alerts to admins: sent once when something starts, repeated at most hourly with a count,
a "resolved" DM when it clears; deduplicated across processes through the `alerts` table."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from telegram import Bot
from telegram.ext import CommandHandler

from bot.admin.alerts import Alerts
from bot.app import Crier
from bot.config import Settings
from bot.services import CustomContext
from storage import accounts as accounts_repo
from storage import posts as posts_repo
from storage.db import Database
from storage.models import Alert, Notice, NoticeStatus, Role, Target, TargetStatus, User
from tests.acceptance.conftest import Person, eventually, make_due, schedule_text
from tests.fakes.scripted_provider import ScriptedProvider
from tests.fakes.telegram_api import FakeTelegram

JSON = dict[str, Any]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def alerts_to(tg: FakeTelegram, person: Person) -> list[str]:
    return [
        m["text"]
        for m in tg.sent(person.user)
        if m.get("text", "").startswith(("🚨", "✅ Resolved"))
    ]


def quiet_settings(make_settings: Callable[..., Settings], **extra: Any) -> Settings:
    """Alerts checked often; the conditions a test doesn't look at can't fire."""
    values: dict[str, Any] = {
        "web_port": 0,
        "alert_check_seconds": 0.2,
        "alert_disk_free_mb": 0,
        **extra,
    }
    return make_settings(**values)


# -- the policy, on SQLite and PostgreSQL ----------------------------------------------------


async def add_user(db: Database, person: Person, role: Role) -> None:
    async with db.session() as session:
        session.add(User(id=person.id, chat_id=person.id, timezone="UTC", role=role))


async def test_an_alert_is_sent_once_repeated_hourly_with_a_count_and_resolved(
    db: Database,
    tg: FakeTelegram,
    make_settings: Callable[..., Settings],
    alice: Person,
    bob: Person,
) -> None:
    await add_user(db, alice, Role.ADMIN)
    await add_user(db, bob, Role.USER)
    clock = Clock()
    async with Bot(tg.token, base_url=tg.base_url, base_file_url=tg.file_base_url) as bot:
        alerts = Alerts(db, bot, make_settings(), clock=clock)
        assert await alerts.raise_alert("failure_rate:x", "X is failing.")
        assert not await alerts.raise_alert("failure_rate:x", "X is failing.")
        clock.advance(minutes=30)
        assert not await alerts.raise_alert("failure_rate:x", "X is failing.")
        clock.advance(minutes=31)
        assert await alerts.raise_alert("failure_rate:x", "X is still failing.")
        clock.advance(minutes=5)
        assert await alerts.resolve_alert("failure_rate:x", "X is fine.")
        assert not await alerts.resolve_alert("failure_rate:x", "X is fine.")

    started, repeated, resolved = alerts_to(tg, alice)
    assert started == "🚨 X is failing."
    assert repeated.startswith("🚨 Still going on, for 1 h 1 min now: X is still failing.")
    assert "Seen 3 time(s) since the last alert at 2030-01-01 09:00 UTC" in repeated
    assert resolved == "✅ Resolved after 1 h 6 min: X is fine."
    assert tg.sent(bob.user) == [], "only admins get alerts"


async def test_a_flapping_alert_stays_quiet_for_a_while_after_it_was_resolved(
    db: Database, tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    await add_user(db, alice, Role.ADMIN)
    clock = Clock()
    async with Bot(tg.token, base_url=tg.base_url, base_file_url=tg.file_base_url) as bot:
        alerts = Alerts(db, bot, make_settings(), clock=clock)
        assert await alerts.raise_alert("k", "Broken.")
        clock.advance(minutes=1)
        assert await alerts.resolve_alert("k", "Fine.")
        clock.advance(minutes=1)
        assert not await alerts.raise_alert("k", "Broken.")  # back within 10 min: quiet
        clock.advance(minutes=1)
        assert not await alerts.resolve_alert("k", "Fine.")  # admins never heard it was back
        clock.advance(minutes=1)
        assert not await alerts.raise_alert("k", "Broken.")
        clock.advance(minutes=10)
        assert await alerts.raise_alert("k", "Broken again.")  # it lasts: say so
    assert alerts_to(tg, alice) == [
        "🚨 Broken.",
        "✅ Resolved after 1 min: Fine.",
        "🚨 Broken again.\n(Seen 2 times since 2030-01-01 09:04 UTC.)",
    ]


async def test_an_alert_telegram_refused_is_sent_at_the_next_check(
    db: Database, tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    await add_user(db, alice, Role.ADMIN)
    clock = Clock()
    async with Bot(tg.token, base_url=tg.base_url, base_file_url=tg.file_base_url) as bot:
        alerts = Alerts(db, bot, make_settings(), clock=clock)
        tg.fail_next("sendMessage", status=500, description="Internal Server Error")
        assert not await alerts.raise_alert("k", "Broken.")
        clock.advance(seconds=30)
        assert await alerts.raise_alert("k", "Broken.")
    assert alerts_to(tg, alice) == ["🚨 Broken.\n(Seen 2 times since 2030-01-01 09:00 UTC.)"]


async def test_processes_checking_the_same_condition_send_one_alert(
    database_url: str, tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    from storage.migrate import upgrade

    processes = [Database(database_url) for _ in range(4)]
    try:
        await upgrade(processes[0])
        await add_user(processes[0], alice, Role.ADMIN)
        async with Bot(tg.token, base_url=tg.base_url, base_file_url=tg.file_base_url) as bot:
            each = [Alerts(db, bot, make_settings(), clock=Clock()) for db in processes]
            sent = await asyncio.gather(*(a.raise_alert("disk:h", "Disk low.") for a in each))
    finally:
        for db in processes:
            await db.dispose()
    assert sorted(sent) == [False, False, False, True]
    assert alerts_to(tg, alice) == ["🚨 Disk low."]


# -- the conditions, in the running application ----------------------------------------------


async def queue_posts(crier: Crier, user_id: int, account_id: int, count: int) -> None:
    """`count` posts to one account, due now (as if composed earlier)."""
    now = datetime.now(UTC)
    async with crier.db.session() as session:
        account = await accounts_repo.get(session, user_id, account_id)
        assert account is not None
        for n in range(count):
            post = await posts_repo.new_draft(session, user_id)
            post.text = f"Post {n}"
            await posts_repo.schedule(session, post, [account], now, "UTC")
    assert crier.services is not None
    crier.services.wake_engine(now)


async def scripted_account(crier: Crier, user_id: int) -> int:
    async with crier.db.session() as session:
        account = await accounts_repo.add(
            session, user_id=user_id, platform="scripted", label="Scripted"
        )
        return account.id


async def test_a_platform_that_starts_failing_alerts_admins_once_then_resolves(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person, bob: Person
) -> None:
    platform = ScriptedProvider(["400"])  # the platform rejects every post
    settings = quiet_settings(make_settings, admin_ids=[bob.id], alert_failure_min_attempts=3)
    async with Crier(settings, providers=[platform]) as crier:
        await bob.says("/start", "Crier")
        await alice.says("/start", "Crier")
        account_id = await scripted_account(crier, alice.id)
        await queue_posts(crier, alice.id, account_id, 3)

        alert = await tg.wait_for(bob.user, "🚨", timeout=15)
        assert alert["text"] == (
            "🚨 Scripted is failing: 3 of 3 publish attempts failed in the last 1 h."
        )
        await asyncio.sleep(1.5)  # several more checks while it goes on
        assert alerts_to(tg, bob) == [alert["text"]], "the alert was repeated"

        platform.script = ["ok"]  # it recovers: 3 of 7 attempts failed is under 50 %
        await queue_posts(crier, alice.id, account_id, 4)
        resolved = await tg.wait_for(bob.user, "✅ Resolved", timeout=15)
        assert "Scripted publishing is back to normal (3 of 7 attempts failed" in resolved["text"]
        await asyncio.sleep(1)
        assert len(alerts_to(tg, bob)) == 2
    assert alerts_to(tg, alice) == [], "alice is not an admin"


async def test_an_open_circuit_breaker_alerts_and_clears_when_posts_go_out_again(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    settings = quiet_settings(make_settings, admin_ids=[alice.id])
    async with Crier(settings, providers=[ScriptedProvider(["ok"])]) as crier:
        await alice.says("/start", "Crier")
        assert crier.alerts is not None
        await crier.alerts.breaker_opened("scripted", 60)
        await crier.alerts.breaker_opened("scripted", 120)  # reopened after a failed probe
        [opened] = alerts_to(tg, alice)
        assert "Scripted keeps failing, so its circuit breaker opened" in opened
        await queue_posts(crier, alice.id, await scripted_account(crier, alice.id), 1)
        resolved = await tg.wait_for(alice.user, "✅ Resolved", timeout=15)
        assert "Scripted answers again" in resolved["text"]
    assert len(alerts_to(tg, alice)) == 2


async def test_posts_overdue_while_no_engine_runs_alert_that_publishing_stalled(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    settings = quiet_settings(
        make_settings, admin_ids=[alice.id], run_engine=False, alert_overdue_seconds=1
    )
    async with Crier(settings) as crier:
        await alice.says("/start", "Crier")
        await schedule_text(alice, "Nobody publishes this", "in 10 minutes")
        await make_due(crier)
        stalled = await tg.wait_for(alice.user, "🚨", timeout=15)
        assert "Publishing has stalled: 1 post(s) are waiting more than 1 s" in stalled["text"]
        assert "Dry run 1" in stalled["text"]
        # A worker elsewhere catches up.
        async with crier.db.session() as session:
            await session.execute(update(Target).values(status=TargetStatus.PUBLISHED))
        resolved = await tg.wait_for(alice.user, "✅ Resolved", timeout=15)
        assert "Publishing caught up" in resolved["text"]


async def test_a_backed_up_outbox_and_low_disk_space_alert(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person, tmp_path: Path
) -> None:
    settings = quiet_settings(
        make_settings, admin_ids=[alice.id], alert_notice_age_minutes=1, alert_disk_free_mb=10**9
    )
    async with Crier(settings) as crier:
        await alice.says("/start", "Crier")
        # Checked from the start, so it may come before /start is answered.
        [disk] = await eventually(lambda: alerts_to(tg, alice), timeout=15)
        assert disk.startswith("🚨 Disk space is low")
        assert "MB free where media is kept" in disk
        # A notice Telegram kept refusing for an hour, waiting for its next try.
        hour_ago = datetime.now(UTC) - timedelta(hours=1)
        async with crier.db.session() as session:
            session.add(
                Notice(
                    user_id=alice.id,
                    chat_id=alice.id,
                    text="stuck",
                    created_at=hour_ago,
                    next_attempt_at=datetime.now(UTC) + timedelta(hours=1),
                    attempts=9,
                )
            )
        backlog = await tg.wait_for(alice.user, "🚨 DMs are backing up", timeout=15)
        assert "1 notice(s) older than 1 min" in backlog["text"]

        crier.settings.alert_disk_free_mb = 0
        async with crier.db.session() as session:
            await session.execute(update(Notice).values(status=NoticeStatus.SENT))
        await tg.wait_for(alice.user, "✅ Resolved after", timeout=15)
        await eventually(lambda: len(alerts_to(tg, alice)) == 4, timeout=15)
    texts = alerts_to(tg, alice)
    assert any(t.startswith("✅ Resolved") and "DMs are flowing again" in t for t in texts)
    assert any(t.startswith("✅ Resolved") and "Disk space on" in t for t in texts)


# -- the error handler -----------------------------------------------------------------------


async def boom(update: object, context: CustomContext) -> None:
    raise RuntimeError("kaboom")


async def test_unexpected_errors_reach_admins_at_most_once_per_kind_in_ten_minutes(
    tg: FakeTelegram,
    make_settings: Callable[..., Settings],
    alice: Person,
    bob: Person,
    caplog: Any,
) -> None:
    async with Crier(quiet_settings(make_settings, admin_ids=[bob.id])) as crier:
        crier.app.add_handler(CommandHandler("boom", boom), group=-1)
        await bob.says("/start", "Crier")
        for _ in range(3):
            await alice.says("/boom", "Something went wrong on my side")
        [alert] = await eventually(lambda: alerts_to(tg, bob), timeout=15)
        assert alert.startswith("🚨 Unexpected RuntimeError in test_alerts:boom: kaboom.")
        assert f"user_id {alice.id}" in alert
        await asyncio.sleep(0.3)
        assert len(alerts_to(tg, bob)) == 1

        # Ten minutes later the next one is reported, with how often it happened meanwhile.
        async with crier.db.session() as session:
            row = await session.scalar(select(Alert).where(Alert.key.startswith("error:")))
            assert row is not None
            assert row.last_sent_at is not None
            row.first_at -= timedelta(minutes=11)
            row.last_sent_at -= timedelta(minutes=11)
        await alice.says("/boom", "Something went wrong on my side")
        _first, repeat = await eventually(
            lambda: alerts_to(tg, bob)[1:] and alerts_to(tg, bob), timeout=15
        )
        assert repeat.startswith("🚨 Still going on, for 11 min now: Unexpected RuntimeError")
        assert "Seen 3 time(s) since the last alert" in repeat
    failed = [r for r in caplog.records if r.getMessage() == "update.failed"]
    assert len(failed) == 4
    assert failed[0].user_id == alice.id
    assert failed[0].handler == "test_alerts:boom"
    assert isinstance(failed[0].update_id, int)
    assert failed[0].exc_info is not None
