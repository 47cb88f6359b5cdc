"""A broadcast on PostgreSQL with a front-end and two `crier worker` processes: one process
at a time sends it (one pace: Telegram never answers 429), and when the front-end that was
sending stops mid-way, a worker resumes it; every user gets it once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from bot.app import Crier
from bot.config import Settings
from storage.db import Database
from storage.models import Broadcast, BroadcastStatus, Delivery, DeliveryStatus
from tests.acceptance.cluster import Worker, pg_url, worker_env
from tests.acceptance.conftest import TELEGRAM_PACE, Person, eventually
from tests.acceptance.test_broadcast import TEXT, compose, confirm, seed_users, texts_to
from tests.fakes.telegram_api import FakeTelegram

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
__all__ = ["pg_url"]  # the fixture, used by name

KEY = Fernet.generate_key().decode()


async def sent(db: Database) -> int:
    async with db.session() as session:
        query = select(func.count()).where(Delivery.status == DeliveryStatus.SENT)
        return int(await session.scalar(query) or 0)


async def test_a_worker_resumes_a_broadcast_its_sender_stopped_at_one_pace(
    tg: FakeTelegram,
    make_settings: Callable[..., Settings],
    alice: Person,
    tmp_path: Path,
    pg_url: str,
) -> None:
    tg.enforce_rate_limits = True
    ids = range(30_001, 30_081)
    settings = make_settings(
        database_url=pg_url,
        crier_encryption_key=KEY,
        run_engine=False,
        admin_ids=[alice.id],
        **TELEGRAM_PACE,
    )
    db = Database(pg_url)
    front = Crier(settings)
    await front.start()
    workers: list[Worker] = []
    try:
        await seed_users(front, tg, ids)
        env = worker_env(tg, settings, KEY)
        workers = [await Worker(env, tmp_path).start() for _ in range(2)]
        for worker in workers:
            await eventually(worker.healthy, timeout=60)
        await confirm(alice, await compose(alice))
        await eventually(lambda: _at_least(db, 20), timeout=30)
        await front.stop()  # mid-way: it gives its turn back, a worker carries on
        final = await eventually(lambda: _done(db), timeout=60)
    finally:
        await front.stop()
        codes = [await worker.stop() for worker in workers]
        await db.dispose()

    assert codes == [0, 0], [w.logged() for w in workers]
    assert tg.rate_limited_count == 0, "two processes sent at once: Telegram answered 429"
    for uid in ids:
        assert texts_to(tg, uid) == [TEXT], uid
    assert final is not None
    assert final.status == BroadcastStatus.DONE
    assert final.sent == len(ids) + 1  # and the admin


async def _at_least(db: Database, count: int) -> bool:
    return await sent(db) >= count


async def _done(db: Database) -> Broadcast | None:
    async with db.session() as session:
        found = await session.get(Broadcast, 1)
    return found if found is not None and found.status == BroadcastStatus.DONE else None
