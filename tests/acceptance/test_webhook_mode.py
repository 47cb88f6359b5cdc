"""Webhook mode: Telegram POSTs updates to /telegram with the secret header; the bot
answers through the (fake) Bot API. Also: no secret or pasted token reaches a log, even at
DEBUG, in either mode; and `crier run` in webhook mode refuses to start without a secret and
stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from bot.app import ALLOWED_UPDATES, Crier
from bot.config import Settings
from bot.ops import logs
from bot.ops.web import SECRET_HEADER
from tests.acceptance.conftest import Person, buttons, eventually
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.telegram_api import FakeTelegram
from tests.ports import free_port

SECRET = "webhook-secret_0123456789abcdef"
URL = "https://crier.example.com/telegram"


def webhook_settings(make_settings: Callable[..., Settings], **extra: Any) -> Settings:
    values = {
        "telegram_mode": "webhook",
        "webhook_url": URL,
        "webhook_secret": SECRET,
        "web_port": free_port(),
        **extra,
    }
    return make_settings(**values)


def endpoint(crier: Crier) -> str:
    assert crier.web is not None
    return f"http://127.0.0.1:{crier.web.port}/telegram"


class TelegramDelivery:
    """Plays Telegram's part in webhook mode: POSTs every update the fake holds, once and in
    order, to the bot's /telegram with the secret header, so `Person` works unchanged."""

    def __init__(self, tg: FakeTelegram, url: str, secret: str = SECRET) -> None:
        self.tg, self.url, self.secret = tg, url, secret
        self.statuses: list[int] = []
        self._last = 0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> TelegramDelivery:
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
        async with httpx.AsyncClient(trust_env=False) as client:
            while True:
                [*_, webhook] = self.tg.calls_to("setWebhook")
                allowed = webhook.get("allowed_updates") or []
                for update in self.tg.pending_updates:
                    if update["update_id"] <= self._last:
                        continue
                    self._last = update["update_id"]
                    kind = next(key for key in update if key != "update_id")
                    if allowed and kind not in allowed:
                        continue
                    response = await client.post(
                        self.url, json=update, headers={SECRET_HEADER: self.secret}
                    )
                    self.statuses.append(response.status_code)
                await asyncio.sleep(0.01)


# -- logs at DEBUG, as `crier run` sets them up ---------------------------------------------


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        return "\n".join(f"{r.getMessage()} {r.__dict__}" for r in self.records)


@pytest.fixture
def debug_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[io.StringIO, Recorder]]:
    """LOG_LEVEL=DEBUG as `crier run` sets it up (JSON), plus a handler seeing every record
    before formatting."""
    monkeypatch.setattr(logs, "_active", logs._active)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    floors = {name: logging.getLogger(name).level for name in logs.FLOORS}
    stream, recorder = io.StringIO(), Recorder()
    logs.configure("DEBUG", [FakeTelegram().token, SECRET], "json", stream=stream)
    root.addHandler(recorder)
    yield stream, recorder
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, floor in floors.items():
        logging.getLogger(name).setLevel(floor)
    logging.captureWarnings(False)


async def test_webhook_mode_sets_the_webhook_and_answers_updates_with_the_secret(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with Crier(webhook_settings(make_settings)) as crier:
        [call] = tg.calls_to("setWebhook")
        assert call["url"] == URL
        assert call["secret_token"] == SECRET
        assert call["allowed_updates"] == ALLOWED_UPDATES
        assert tg.webhook["url"] == URL

        update = tg.send_text(alice.user, "/start")
        async with httpx.AsyncClient(trust_env=False) as client:
            response = await client.post(
                endpoint(crier), json=update, headers={SECRET_HEADER: SECRET}
            )
        assert response.status_code == 200
        reply = await tg.wait_for(alice.user, "Crier")
        assert "Dry run" in reply["text"]
    assert tg.calls_to("getUpdates") == [], "webhook mode must not poll"
    assert tg.calls_to("deleteWebhook") == [], "the webhook stays set across restarts"


async def test_updates_without_the_right_secret_are_refused_and_not_processed(
    tg: FakeTelegram,
    make_settings: Callable[..., Settings],
    alice: Person,
    debug_logs: tuple[io.StringIO, Recorder],
) -> None:
    stream, recorder = debug_logs
    async with (
        Crier(webhook_settings(make_settings)) as crier,
        httpx.AsyncClient(trust_env=False) as client,
    ):
        url = endpoint(crier)
        forged = tg.send_text(alice.user, "/start")
        statuses = [
            (await client.post(url, json=forged)).status_code,
            (
                await client.post(url, json=forged, headers={SECRET_HEADER: "nope-guess"})
            ).status_code,
            (await client.post(url, json=forged, headers={SECRET_HEADER: SECRET[:-1]})).status_code,
            (
                await client.post(url, content=b"not json", headers={SECRET_HEADER: SECRET})
            ).status_code,
            (
                await client.post(url, json={"no": "update"}, headers={SECRET_HEADER: SECRET})
            ).status_code,
        ]
        assert statuses == [403, 403, 403, 400, 400]

        # Updates are processed in order, so once a later one is answered, the refused one
        # would have been answered before it if it had been let in.
        real = tg.send_text(alice.user, "/abort")
        assert (
            await client.post(url, json=real, headers={SECRET_HEADER: SECRET})
        ).status_code == 200
        await tg.wait_for(alice.user, "Nothing to cancel")
        await asyncio.sleep(0.3)
        assert len(tg.sent(alice.user)) == 1, "a refused update was processed"

        metrics_text = (await client.get(url.replace("/telegram", "/metrics"))).text
    assert 'crier_webhook_updates_total{result="forbidden"}' in metrics_text
    refused = [r for r in recorder.records if r.getMessage() == "webhook.refused"]
    assert [r.reason for r in refused].count("wrong secret") == 2  # type: ignore[attr-defined]
    assert [r.reason for r in refused].count("missing secret") == 1  # type: ignore[attr-defined]
    every_record = recorder.text() + stream.getvalue()
    assert SECRET not in every_record
    assert SECRET[:-1] not in every_record
    assert "nope-guess" not in every_record


async def test_webhook_mode_needs_a_secret(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ValidationError, match="WEBHOOK_SECRET"):
        make_settings(telegram_mode="webhook", webhook_url=URL, web_port=free_port())
    with pytest.raises(ValidationError, match="https://"):
        make_settings(
            telegram_mode="webhook", webhook_url="http://x/telegram", webhook_secret=SECRET
        )
    with pytest.raises(ValidationError, match="webhook_secret"):
        make_settings(webhook_secret="spaces are not allowed")


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_pasted_token_reaches_no_log_record_at_debug(
    tg: FakeTelegram,
    make_settings: Callable[..., Settings],
    alice: Person,
    debug_logs: tuple[io.StringIO, Recorder],
    mode: str,
) -> None:
    stream, recorder = debug_logs
    key = Fernet.generate_key().decode()
    settings = (
        webhook_settings(make_settings, crier_encryption_key=key)
        if mode == "webhook"
        else make_settings(crier_encryption_key=key, web_port=free_port())
    )
    async with FakeMastodon() as server, Crier(settings) as crier:
        deliver = TelegramDelivery(tg, endpoint(crier)) if mode == "webhook" else None
        async with deliver or _nothing():
            await alice.says("/start", "Crier")
            menu = await alice.says("/connect", "Connect an account")
            await alice.presses(menu, "🐘 Mastodon", "step 1 of 2")
            await alice.says(server.base_url, "step 2 of 2")
            connected = await alice.says(server.token, "onnected")
            assert "✖ Cancel" not in buttons(connected)
        if deliver is not None:
            assert deliver.statuses
            assert set(deliver.statuses) == {200}

    assert logging.getLogger("bot").isEnabledFor(logging.DEBUG)
    assert recorder.records, "nothing was logged at all"
    assert server.token not in recorder.text(), "the pasted token reached a log record"
    output = stream.getvalue()
    assert output.strip(), "nothing was written"
    for line in output.splitlines():
        json.loads(line)
    for secret in (server.token, tg.token, SECRET, key):
        assert secret not in output


class _nothing:
    """Like contextlib.nullcontext, for `async with`."""

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


# -- the real command ------------------------------------------------------------------------


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "DATABASE_", "WEBHOOK_", "WEB_", "LOG_"))
    }
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'crier.db'}",
        MEDIA_DIR=str(tmp_path / "media"),
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


async def test_crier_run_refuses_webhook_mode_without_a_secret(tmp_path: Path) -> None:
    process = await _crier(
        tmp_path, "run", TELEGRAM_BOT_TOKEN="1:x", TELEGRAM_MODE="webhook", WEBHOOK_URL=URL
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    text = (stdout + stderr).decode()
    assert process.returncode == 2, text
    assert "WEBHOOK_SECRET" in text
    assert "Traceback" not in text


async def test_crier_run_in_webhook_mode_serves_and_stops_cleanly_on_sigterm(
    tmp_path: Path, tg: FakeTelegram, alice: Person
) -> None:
    port = free_port()
    process = await _crier(
        tmp_path,
        "run",
        TELEGRAM_BOT_TOKEN=tg.token,
        TELEGRAM_API_BASE_URL=tg.base_url,
        TELEGRAM_FILE_BASE_URL=tg.file_base_url,
        TELEGRAM_MODE="webhook",
        WEBHOOK_URL=URL,
        WEBHOOK_SECRET=SECRET,
        WEB_PORT=str(port),
        LOG_FORMAT="json",
    )
    try:

        async def webhook_set() -> bool:
            return bool(tg.calls_to("setWebhook"))

        await eventually(webhook_set, timeout=30)
        async with TelegramDelivery(tg, f"http://127.0.0.1:{port}/telegram"):
            reply = await alice.says("/start", "Crier", timeout=30)
        assert "Dry run" in reply["text"]
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    log = stderr.decode()
    assert process.returncode == 0, log
    assert "Traceback" not in log
    events = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert any(e["event"] == "web.listening" and e["port"] == port for e in events)
    assert any("stopped" in e["event"] for e in events)
    assert tg.token not in log
    assert SECRET not in log
    assert stdout == b""
