"""PostgreSQL, a front-end and a worker in separate processes: a post confirmed in the
front-end wakes the worker through NOTIFY, not the sweep, and the worker's LISTEN survives
its connection being killed from the server side."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest
from cryptography.fernet import Fernet

from bot.app import Crier
from bot.config import Settings
from bot.engine.cluster.listen import APPLICATION_NAME
from tests.acceptance.cluster import Worker, pg_url, worker_env
from tests.acceptance.conftest import Person, eventually, schedule_text
from tests.acceptance.seeding import seed_account, seed_user
from tests.conftest import PG_HOST
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.telegram_api import FakeTelegram

pytestmark = pytest.mark.postgres
__all__ = ["pg_url"]  # the fixture, used by name

KEY = Fernet.generate_key().decode()


async def metric(worker: Worker, name: str) -> float:
    return (await worker.metrics()).get(name, -1.0)


async def connects(worker: Worker, count: int) -> bool:
    return await metric(worker, "crier_engine_listen_connects_total") == count


async def published(mastodon: FakeMastodon, text: str) -> bool:
    return any(text in status.text for status in mastodon.statuses)


async def test_a_post_confirmed_in_a_front_end_wakes_a_worker_elsewhere_through_notify(
    tg: FakeTelegram,
    make_settings: Callable[..., Settings],
    alice: Person,
    tmp_path: Path,
    pg_url: str,
) -> None:
    settings = make_settings(database_url=pg_url, crier_encryption_key=KEY, run_engine=False)
    # The sweep would come after a minute: only a NOTIFY can explain a publish before it.
    env = worker_env(tg, settings, KEY, ENGINE_SWEEP_SECONDS="60")
    async with FakeMastodon() as mastodon, Crier(settings) as front:
        assert front.engine is None
        await seed_user(front, alice.id)
        await seed_account(
            front,
            alice.id,
            "mastodon",
            "@crier@mastodon.example",
            config={"instance_url": mastodon.base_url},
            credentials={"access_token": mastodon.token},
        )
        worker = await Worker(env, tmp_path).start()
        try:
            await eventually(lambda: connects(worker, 1), timeout=30)
            await schedule_text(alice, "Hello from the front-end", when="⚡ Now")
            await eventually(lambda: published(mastodon, "Hello from the front-end"), timeout=10)
            figures = await worker.metrics()
            assert figures["crier_engine_sweeps_total"] == 0, "the sweep ran: not a wake-up"
            assert figures["crier_engine_due_notices_total"] >= 1
            assert front.engine is None  # the front-end published nothing itself

            # The server drops the LISTEN connection: the worker opens it again, and a post
            # confirmed after that is still picked up without the sweep.
            admin = await asyncpg.connect(PG_HOST)
            try:
                killed = await admin.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = $1 AND datname = $2",
                    APPLICATION_NAME,
                    pg_url.rsplit("/", 1)[1],
                )
            finally:
                await admin.close()
            assert killed == 1
            await eventually(lambda: connects(worker, 2), timeout=30)
            notices = await metric(worker, "crier_engine_due_notices_total")
            await schedule_text(alice, "After the reconnect", when="⚡ Now")
            await eventually(lambda: published(mastodon, "After the reconnect"), timeout=10)
            figures = await worker.metrics()
            assert figures["crier_engine_sweeps_total"] == 0, "the sweep ran: not a wake-up"
            assert figures["crier_engine_due_notices_total"] > notices
        finally:
            code = await worker.stop()
        log = worker.logged()
    assert code == 0, log
    assert "LISTEN connection to PostgreSQL was lost" in log
    assert len(mastodon.statuses) == 2
