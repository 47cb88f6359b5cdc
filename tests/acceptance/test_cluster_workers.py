"""Three `crier worker` processes on one PostgreSQL database: every target published exactly
once, even with one of them killed mid-way, and a platform's limit of publishes at once held
across all three."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from bot.app import Crier
from bot.config import Settings
from storage.models import Attempt, Target, TargetStatus
from tests.acceptance.cluster import InFlight, Worker, pg_url, worker_env
from tests.acceptance.conftest import Person, eventually
from tests.acceptance.seeding import seed_account, seed_many, seed_post, seed_user
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.telegram_api import FakeTelegram

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
__all__ = ["pg_url"]  # the fixture, used by name

KEY = Fernet.generate_key().decode()
STATUSES = "/api/v1/statuses"


async def seed_accounts(front: Crier, user_id: int, mastodon: FakeMastodon, n: int) -> list[int]:
    """`n` Mastodon accounts of one user, all on the fake server."""
    await seed_user(front, user_id)
    return [
        await seed_account(
            front,
            user_id,
            "mastodon",
            f"@crier{i}@mastodon.example",
            config={"instance_url": mastodon.base_url},
            credentials={"access_token": mastodon.token},
        )
        for i in range(n)
    ]


async def by_status(front: Crier) -> Counter[str]:
    async with front.db.session() as session:
        rows = await session.execute(select(Target.status, func.count()).group_by(Target.status))
        return Counter({str(status): int(count) for status, count in rows})


async def left_behind(front: Crier) -> list[tuple[object, ...]]:
    """What a failure shows: each target not published, and where it stands."""
    async with front.db.session() as session:
        rows = await session.scalars(select(Target).where(Target.status != TargetStatus.PUBLISHED))
        return [
            (t.id, t.status, t.stage, t.attempts, t.next_attempt_at, t.last_error) for t in rows
        ]


async def test_three_workers_publish_5000_targets_exactly_once_one_killed_mid_way(
    tg: FakeTelegram,
    make_settings: Callable[..., Settings],
    alice: Person,
    tmp_path: Path,
    pg_url: str,
) -> None:
    settings = make_settings(database_url=pg_url, crier_encryption_key=KEY, run_engine=False)
    env = worker_env(
        tg,
        settings,
        KEY,
        ENGINE_LEASE_SECONDS="5",
        ENGINE_SWEEP_SECONDS="1",
        ENGINE_CONCURRENCY="16",
        ENGINE_PLATFORM_CONCURRENCY=json.dumps({"mastodon": 48}),
        TELEGRAM_RATE="1000",
    )
    mastodon = FakeMastodon(status_rate_limit=(1_000_000, 3600.0))
    async with mastodon, Crier(settings) as front:
        assert front.engine is None  # the front-end publishes nothing; the workers do
        accounts = await seed_accounts(front, alice.id, mastodon, 20)
        # 250 posts, each to all 20 accounts, due one after another (all overdue now): one
        # summary DM per post, as a user who posts everywhere at once gets.
        start = datetime.now(UTC) - timedelta(seconds=10)
        ids: list[int] = []
        for n in range(250):
            when = start + timedelta(milliseconds=20 * n)
            ids += (await seed_post(front, alice.id, accounts, f"post {n}", when))[1]
        assert len(ids) == 5000

        workers = [await Worker(env, tmp_path).start() for _ in range(3)]
        try:
            await eventually(lambda: len(mastodon.statuses) >= 1000, timeout=90)
            victim = workers[0]
            victim.kill()
            assert victim.process is not None
            await victim.process.wait()
            pid = victim.process.pid
            async with front.db.session() as session:
                held = set(
                    await session.scalars(
                        select(Target.id).where(
                            Target.status == TargetStatus.PUBLISHING,
                            Target.lease_owner.like(f"%:{pid}:%"),
                        )
                    )
                )

            async def all_published() -> bool:
                return (await by_status(front))[TargetStatus.PUBLISHED] == 5000

            try:
                await eventually(all_published, timeout=180)
            except AssertionError:
                raise AssertionError(f"left behind: {await left_behind(front)}") from None
        finally:
            codes = [await worker.stop() for worker in workers[1:]]
            for worker in workers[:1]:
                await worker.stop()
        counts = await by_status(front)
        async with front.db.session() as session:
            published_attempts = Counter(
                await session.scalars(
                    select(Attempt.target_id).where(Attempt.outcome == "published")
                )
            )

    assert codes == [0, 0], [w.logged() for w in workers[1:]]
    assert counts == Counter({TargetStatus.PUBLISHED: 5000}), "a target was left behind"
    # At the platform: one status per target, whatever was retried.
    keys = Counter(status.idempotency_key for status in mastodon.statuses)
    assert len(mastodon.statuses) == 5000
    assert len(keys) == 5000
    assert max(keys.values()) == 1, "a post was published twice"
    # Only what the killed worker held was sent again, under the same key, and recorded once.
    sent = Counter(
        r.headers.get("idempotency-key") for r in mastodon.requests if r.path == STATUSES
    )
    again = {key for key, n in sent.items() if n > 1}
    assert len(again) <= len(held)
    assert set(published_attempts) == set(ids)
    assert max(published_attempts.values()) == 1


async def test_a_platform_limit_of_two_holds_across_three_workers(
    tg: FakeTelegram,
    make_settings: Callable[..., Settings],
    alice: Person,
    tmp_path: Path,
    pg_url: str,
) -> None:
    settings = make_settings(database_url=pg_url, crier_encryption_key=KEY, run_engine=False)
    env = worker_env(
        tg,
        settings,
        KEY,
        ENGINE_SWEEP_SECONDS="1",
        ENGINE_PLATFORM_CONCURRENCY=json.dumps({"mastodon": 2}),
    )
    mastodon = FakeMastodon(status_rate_limit=(1_000_000, 3600.0))
    # Each status takes a while, so three workers free to take eight would overlap.
    inflight = mastodon.app = InFlight(mastodon.app, STATUSES, delay=0.05)  # type: ignore[assignment]
    async with mastodon, Crier(settings) as front:
        accounts = await seed_accounts(front, alice.id, mastodon, 6)
        now = datetime.now(UTC)
        for account in accounts:
            await seed_many(front, alice.id, account, [now] * 10)
        workers = [await Worker(env, tmp_path).start() for _ in range(3)]
        try:

            async def all_published() -> bool:
                return (await by_status(front))[TargetStatus.PUBLISHED] == 60

            await eventually(all_published, timeout=60)
        finally:
            codes = [await worker.stop() for worker in workers]

    assert codes == [0, 0, 0], [w.logged() for w in workers]
    assert len(mastodon.statuses) == 60
    assert inflight.most == 2, f"the platform saw {inflight.most} publishes at once"
