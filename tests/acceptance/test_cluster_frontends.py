"""Two front-end processes (`crier run`, webhook mode, RUN_ENGINE=false) on one PostgreSQL
database, behind a load balancer that sends each update to the other one: a compose whose
steps alternate between them comes out right."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.app import Crier
from bot.config import Settings
from bot.ops.web import SECRET_HEADER
from storage.models import Post, Target, TargetStatus
from tests.acceptance.cluster import Worker, pg_url, worker_env
from tests.acceptance.conftest import Person, dm, eventually, schedule_draft
from tests.fakes.telegram_api import FakeTelegram

pytestmark = pytest.mark.postgres
__all__ = ["pg_url"]  # the fixture, used by name

KEY = Fernet.generate_key().decode()
SECRET = "webhook-secret_0123456789abcdef"


class RoundRobin:
    """Plays Telegram and a load balancer: POSTs each update the fake holds, in order, to
    the next front-end's /telegram in turn."""

    def __init__(self, tg: FakeTelegram, urls: list[str]) -> None:
        self.tg, self.urls = tg, urls
        #: Which front-end (index) each update went to, and its answer.
        self.sent: list[tuple[int, int]] = []
        self._last = 0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> RoundRobin:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        async with httpx.AsyncClient(trust_env=False, timeout=30) as client:
            while True:
                for update in self.tg.pending_updates:
                    if update["update_id"] <= self._last:
                        continue
                    self._last = update["update_id"]
                    which = len(self.sent) % len(self.urls)
                    response = await client.post(
                        self.urls[which], json=update, headers={SECRET_HEADER: SECRET}
                    )
                    self.sent.append((which, response.status_code))
                await asyncio.sleep(0.01)


async def test_two_front_ends_answer_alternate_steps_of_one_compose(
    tg: FakeTelegram,
    make_settings: Callable[..., Settings],
    alice: Person,
    tmp_path: Path,
    pg_url: str,
) -> None:
    settings = make_settings(
        database_url=pg_url, crier_encryption_key=KEY, web_port=0, engine_sweep_seconds=60
    )
    env = worker_env(
        tg,
        settings,
        KEY,
        RUN_ENGINE="false",
        TELEGRAM_MODE="webhook",
        WEBHOOK_URL="https://crier.example.com/telegram",
        WEBHOOK_SECRET=SECRET,
        TELEGRAM_CHAT_RATE="1000",
        TELEGRAM_CHAT_BURST="1000",
    )
    # The publishing worker (in this process) migrates the database before the front-ends.
    async with Crier(settings, mode="worker") as worker:
        fronts = [await Worker(env, tmp_path, command="run").start() for _ in range(2)]
        try:
            for front in fronts:
                await eventually(front.healthy, timeout=60)
            urls = [f"http://127.0.0.1:{front.port}/telegram" for front in fronts]
            async with RoundRobin(tg, urls) as balancer:
                await alice.says("/start", "Crier")
                status = await alice.says("Written across two front-ends", "New post")
                steps = await schedule_draft(alice, status, when="⚡ Now", expect="Scheduled #1")
                await dm(tg, alice, "is out")
        finally:
            codes = [await front.stop() for front in fronts]
        async with worker.db.session() as session:
            [post] = await session.scalars(select(Post))
            [target] = await session.scalars(select(Target))

    assert codes == [0, 0], [front.logged() for front in fronts]
    assert all(code == 200 for _, code in balancer.sent)
    assert {which for which, _ in balancer.sent} == {0, 1}
    assert len(balancer.sent) >= 6  # /start, the text, Done, the account, Next, Now, Confirm
    assert post.text == "Written across two front-ends"
    assert target.status == TargetStatus.PUBLISHED
    assert "Dry run" in steps.preview["text"]
