"""Many posts, restarts and several engines: every post published exactly once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet
from sqlalchemy import func, select

from bot.app import Crier
from bot.config import Settings
from storage.models import Attempt, Target, TargetStatus
from tests.acceptance.conftest import Person, eventually
from tests.acceptance.seeding import seed_account, seed_many, seed_user
from tests.fakes.scripted_provider import ScriptedProvider
from tests.fakes.telegram_api import FakeTelegram

KEY = Fernet.generate_key().decode()


async def published(crier: Crier) -> int:
    async with crier.db.session() as session:
        return (
            await session.scalar(
                select(func.count()).where(Target.status == TargetStatus.PUBLISHED)
            )
            or 0
        )


async def test_a_restart_with_1000_queued_some_overdue_publishes_each_exactly_once(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    settings = make_settings(crier_encryption_key=KEY, engine_concurrency=16)
    provider = ScriptedProvider(["ok"], concurrency=50, platform_concurrency=50)
    now = datetime.now(UTC)
    async with Crier(settings, mode="worker", providers=[provider]) as first:
        await seed_user(first, alice.id)
        account = await seed_account(first, alice.id, "scripted", "@a", credentials={"token": "t"})
        overdue = [now - timedelta(minutes=10) + timedelta(milliseconds=n) for n in range(500)]
        soon = [now + timedelta(seconds=1, milliseconds=2 * n) for n in range(500)]
        ids = await seed_many(first, alice.id, account, overdue + soon)
        assert first.services is not None
        first.services.wake_engine(now)
        await eventually(lambda: len(provider.calls) >= 200, timeout=30)
    # Stopped mid-way (graceful: publishes in flight finish, nothing is left claimed).
    stopped_at = len(provider.calls)
    assert stopped_at < 1000

    async with Crier(settings, mode="worker", providers=[provider]) as second:
        await eventually(lambda: published(second), timeout=5)

        async def all_done() -> bool:
            return await published(second) == 1000

        await eventually(all_done, timeout=60)
        async with second.db.session() as session:
            attempts = await session.scalar(select(func.count()).select_from(Attempt))
            leftover = await session.scalar(
                select(func.count()).where(Target.status != TargetStatus.PUBLISHED)
            )

    keys = Counter(call.idempotency_key for call in provider.calls)
    assert len(keys) == 1000
    assert max(keys.values()) == 1, "a post was published twice"
    assert attempts == 1000
    assert leftover == 0
    assert len(ids) == 1000


async def test_two_engines_on_one_sqlite_database_never_publish_twice(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    settings = make_settings(crier_encryption_key=KEY, engine_concurrency=8)
    provider = ScriptedProvider(["ok"], concurrency=50, platform_concurrency=50)
    now = datetime.now(UTC)
    async with (
        Crier(settings, mode="worker", providers=[provider], owner="engine-a") as a,
        Crier(settings, mode="worker", providers=[provider], owner="engine-b") as b,
    ):
        await seed_user(a, alice.id)
        account = await seed_account(a, alice.id, "scripted", "@a", credentials={"token": "t"})
        await seed_many(
            a, alice.id, account, [now + timedelta(milliseconds=5 * n) for n in range(300)]
        )
        for crier in (a, b):
            assert crier.services is not None
            crier.services.wake_engine(now)

        async def all_done() -> bool:
            return await published(a) == 300

        await eventually(all_done, timeout=60)
        async with a.db.session() as session:
            workers = dict(
                (
                    await session.execute(
                        select(Attempt.worker, func.count()).group_by(Attempt.worker)
                    )
                ).all()
            )

    keys = Counter(call.idempotency_key for call in provider.calls)
    assert len(keys) == 300
    assert max(keys.values()) == 1, "two engines published the same post"
    assert sum(workers.values()) == 300
    assert set(workers) <= {"engine-a", "engine-b"}
