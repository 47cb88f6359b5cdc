"""The real `crier` command in a subprocess: missing token, clean stop on signals."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.acceptance.conftest import Person
from tests.fakes.telegram_api import FakeTelegram


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'crier.db'}",
        MEDIA_DIR=str(tmp_path / "media"),
        WEB_PORT="0",
        **extra,
    )
    return env


async def _crier(tmp_path: Path, *args: str, **env: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=tmp_path,
        env=_env(tmp_path, **env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_run_without_a_token_says_what_to_set(tmp_path: Path) -> None:
    process = await _crier(tmp_path, "run")
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    text = (stdout + stderr).decode()
    assert process.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in text
    assert "@BotFather" in text
    assert "Traceback" not in text


async def test_invalid_settings_are_explained(tmp_path: Path) -> None:
    process = await _crier(tmp_path, "run", TELEGRAM_BOT_TOKEN="1:x", DEFAULT_TIMEZONE="Mars/Base")
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    text = (stdout + stderr).decode()
    assert process.returncode == 2
    assert "DEFAULT_TIMEZONE" in text
    assert "Mars/Base" in text
    assert "Traceback" not in text


async def test_migrate_creates_the_database(tmp_path: Path) -> None:
    process = await _crier(tmp_path, "migrate")
    stdout, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0
    assert b"up to date" in stdout
    assert (tmp_path / "crier.db").exists()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_run_serves_users_and_stops_cleanly_on_a_signal(
    tmp_path: Path, tg: FakeTelegram, alice: Person, sig: signal.Signals
) -> None:
    process = await _crier(
        tmp_path,
        "run",
        TELEGRAM_BOT_TOKEN=tg.token,
        TELEGRAM_API_BASE_URL=tg.base_url,
        TELEGRAM_FILE_BASE_URL=tg.file_base_url,
        TELEGRAM_POLL_TIMEOUT="1",
    )
    try:
        reply = await alice.says("/start", "Crier", timeout=30)
        assert "Dry run" in reply["text"]
    finally:
        process.send_signal(sig)
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    log = (stdout + stderr).decode()
    assert process.returncode == 0, log
    assert "Traceback" not in log
    assert tg.token not in log, "the bot token leaked into the log"
    assert "stopped" in log
