"""Several Crier processes on one PostgreSQL database: the database, `crier worker`
subprocesses, and what a test reads from them (their /metrics)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.config import Settings
from tests.conftest import PG_HOST, _pg_available, create_pg_database, drop_pg_database
from tests.fakes.telegram_api import FakeTelegram
from tests.ports import free_port


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database (migrated by the first Crier that starts on it)."""
    if not await _pg_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_HOST}")
        pytest.skip(f"PostgreSQL is not reachable at {PG_HOST}")
    url = await create_pg_database()
    try:
        yield url
    finally:
        await drop_pg_database(url)


def worker_env(tg: FakeTelegram, settings: Settings, key: str, **extra: str) -> dict[str, str]:
    """The environment of a `crier worker` on the same database and fake Telegram."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))},
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_BASE_URL": tg.base_url,
        "TELEGRAM_FILE_BASE_URL": tg.file_base_url,
        "DATABASE_URL": settings.database_url,
        "MEDIA_DIR": str(settings.media_dir),
        "CRIER_ENCRYPTION_KEY": key,
        "LOG_LEVEL": "WARNING",
        **extra,
    }


class Worker:
    """One `crier worker` (or `crier run`) subprocess with its own web port (/metrics)."""

    def __init__(self, env: Mapping[str, str], cwd: Path, command: str = "worker") -> None:
        self.command = command
        self.port = free_port()
        self.env = {**env, "WEB_PORT": str(self.port)}
        self.cwd = cwd
        self.process: asyncio.subprocess.Process | None = None
        #: Its log (a file, so a chatty worker never blocks on a full pipe).
        self.log = cwd / f"worker-{self.port}.log"

    async def start(self) -> Worker:
        with self.log.open("ab") as log:  # the child keeps its own copy of the descriptor
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log,
            )
        return self

    async def metrics(self) -> dict[str, float]:
        """This worker's /metrics, name -> value (unlabelled samples only); {} if not up."""
        try:
            async with httpx.AsyncClient(timeout=5) as http:
                text = (await http.get(f"http://127.0.0.1:{self.port}/metrics")).text
        except httpx.HTTPError:
            return {}
        pattern = re.compile(r"^([a-z_]+) ([0-9.e+-]+|NaN)$", re.MULTILINE)
        return {name: float(value) for name, value in pattern.findall(text)}

    async def healthy(self) -> bool:
        try:
            async with httpx.AsyncClient(timeout=5) as http:
                return (await http.get(f"http://127.0.0.1:{self.port}/healthz")).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> int:
        """SIGTERM, then wait; returns the exit code."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await self.process.wait()

    def logged(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class InFlight:
    """ASGI middleware in front of a fake platform: holds each POST to `path` for `delay`
    seconds and records the most that were ever in flight at once."""

    def __init__(self, app: ASGIApp, path: str, delay: float = 0.0) -> None:
        self.app, self.path, self.delay = app, path, delay
        self.now = 0
        self.most = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await asyncio.sleep(self.delay)
            await self.app(scope, receive, send)
        finally:
            self.now -= 1
