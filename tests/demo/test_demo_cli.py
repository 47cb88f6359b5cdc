"""The `crier demo` command itself: where it keeps data, what it ignores, how it fails."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from pathlib import Path

import httpx

from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    return {**env, **extra}


async def _crier(cwd: Path, *args: str, **env: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        cwd=cwd,
        env=_env(PYTHONUNBUFFERED="1", **env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def test_run_without_a_token_also_offers_the_demo(tmp_path: Path) -> None:
    process = await _crier(tmp_path, "run", DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/c.db")
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in stderr.decode()
    assert "crier demo" in stderr.decode()


async def test_a_taken_port_is_said_at_once(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()
        port = taken.getsockname()[1]
        process = await _crier(tmp_path, "demo", "--port", str(port))
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 1
    assert f"127.0.0.1:{port}" in stderr.decode()
    assert "crier demo --port 8081" in stderr.decode()
    assert "Traceback" not in stderr.decode()


async def test_a_throwaway_folder_and_no_real_telegram_whatever_the_environment(
    tmp_path: Path,
) -> None:
    """A real token, a real API address and a database in the environment (or in .env) are
    not the demo's: it runs on its own emulator and a temporary folder it deletes."""
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=999:FROM-DOTENV\n")
    port = free_port()
    process = await _crier(
        tmp_path, "demo", "--port", str(port),
        TELEGRAM_BOT_TOKEN="123:REAL-TOKEN",
        TELEGRAM_API_BASE_URL="http://127.0.0.1:9/bot",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/real.db",
        TELEGRAM_MODE="webhook",
    )  # fmt: skip
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
    folder = Path(re.search(r"data in (.+?);", line).group(1))  # type: ignore[union-attr]
    assert folder.is_dir()  # noqa: ASYNC240
    assert (folder / "crier.db").exists()
    async with httpx.AsyncClient() as client:
        state = (await client.get(f"http://127.0.0.1:{port}/state")).json()
    # The bot reached the emulator: it set its command menu there.
    assert any(command["command"] == "new" for command in state["commands"])
    assert not (tmp_path / "real.db").exists()

    process.send_signal(signal.SIGINT)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()
    assert not folder.exists(), "the throwaway folder was left behind"  # noqa: ASYNC240
