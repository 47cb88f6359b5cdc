"""A worker killed mid-publish (SIGKILL): after a restart no post is lost, none is published
twice; an idempotent platform gets its post exactly once, the other is marked unknown and
the user is asked."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.app import Crier
from bot.config import Settings
from storage.models import Target, TargetStatus
from tests.acceptance.conftest import Person, dm, eventually
from tests.acceptance.seeding import seed_account, seed_post, seed_user
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.serve import serve
from tests.fakes.telegram_api import FakeTelegram

KEY = Fernet.generate_key().decode()


class BlockingReceiver:
    """A webhook endpoint that takes the post, then never answers until released."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.received = asyncio.Event()
        self.gate = asyncio.Event()
        self.app = Starlette(routes=[Route("/hook", self.hook, methods=["POST"])])

    async def hook(self, request: Request) -> JSONResponse:
        self.bodies.append(await request.body())
        self.received.set()
        await self.gate.wait()
        return JSONResponse({"id": "x"})


async def worker(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "worker",
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def statuses(crier: Crier) -> dict[int, Target]:
    async with crier.db.session() as session:
        rows = await session.scalars(select(Target).execution_options(populate_existing=True))
        return {t.id: t for t in rows}


async def test_a_worker_killed_mid_publish_loses_nothing_and_duplicates_nothing(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person, tmp_path: Path
) -> None:
    settings = make_settings(
        crier_encryption_key=KEY, run_engine=False, webhook_block_private_hosts=False
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))},
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_BASE_URL": tg.base_url,
        "TELEGRAM_FILE_BASE_URL": tg.file_base_url,
        "DATABASE_URL": settings.database_url,
        "MEDIA_DIR": str(settings.media_dir),
        "WEB_PORT": "0",
        "CRIER_ENCRYPTION_KEY": KEY,
        "ENGINE_LEASE_SECONDS": "2",
        "ENGINE_SWEEP_SECONDS": "0.5",
        "WEBHOOK_BLOCK_PRIVATE_HOSTS": "false",
    }
    receiver = BlockingReceiver()
    async with (
        FakeMastodon() as mastodon,
        serve(receiver.app) as hook_base,
        Crier(settings) as crier,  # the bot front-end; publishing is left to workers
    ):
        mastodon.answer_gate = asyncio.Event()
        await seed_user(crier, alice.id)
        toots = await seed_account(
            crier,
            alice.id,
            "mastodon",
            "@crier@mastodon.example",
            config={"instance_url": mastodon.base_url},
            credentials={"access_token": mastodon.token},
        )
        hook = await seed_account(
            crier,
            alice.id,
            "webhook",
            "Webhook (127.0.0.1)",
            config={"media_mode": "inline"},
            credentials={"url": f"{hook_base}/hook", "signing_secret": "s" * 32},
        )
        _, [idempotent] = await seed_post(crier, alice.id, [toots], "To the fediverse")
        _, [plain] = await seed_post(crier, alice.id, [hook], "To my site")

        first = await worker(env, tmp_path)
        try:
            await asyncio.wait_for(mastodon.status_created.wait(), timeout=30)
            await asyncio.wait_for(receiver.received.wait(), timeout=30)
        finally:
            first.send_signal(signal.SIGKILL)
            await first.wait()
        mastodon.answer_gate.set()
        receiver.gate.set()
        rows = await statuses(crier)
        assert rows[idempotent].status == TargetStatus.PUBLISHING
        assert rows[plain].status == TargetStatus.PUBLISHING

        second = await worker(env, tmp_path)
        try:

            async def settled() -> bool:
                rows = await statuses(crier)
                return rows[idempotent].status.is_final and rows[plain].status.is_final

            await eventually(settled, timeout=30)
            asked = await dm(tg, alice, "can't tell whether this reached")
        finally:
            second.send_signal(signal.SIGTERM)
            output, _ = await second.communicate()
        rows = await statuses(crier)

    assert second.returncode == 0, output.decode()
    assert rows[idempotent].status == TargetStatus.PUBLISHED
    assert rows[idempotent].url == mastodon.status_url(mastodon.statuses[0].id)
    assert len(mastodon.statuses) == 1, "the retry after the crash made a second status"
    assert rows[plain].status == TargetStatus.UNKNOWN
    assert len(receiver.bodies) == 1, "the webhook was called again after the crash"
    assert "To my site" in asked["text"]
