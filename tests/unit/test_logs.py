"""Logging: structured events and library records through one formatter, JSON or console,
with secrets redacted from everything and payload-logging libraries kept quiet at DEBUG."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.ops import logs

TOKEN = "123456:AAE-secret-bot-token"
KEYS = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE=,b2xkLWtleS1vbGQta2V5LW9sZC1rZXktb2xkLWtleQ=="


@pytest.fixture
def restore_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(logs, "_active", logs._active)  # configure() replaces it
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    floors = {name: logging.getLogger(name).level for name in logs.FLOORS}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, floor in floors.items():
        logging.getLogger(name).setLevel(floor)
    logging.captureWarnings(False)


def configured(fmt: str, level: str = "DEBUG", secrets: tuple[str, ...] = (TOKEN,)) -> io.StringIO:
    stream = io.StringIO()
    logs.configure(level, secrets, fmt, stream=stream)  # type: ignore[arg-type]
    return stream


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line]


@pytest.mark.usefixtures("restore_logging")
def test_structured_events_are_one_json_object_per_line_with_their_ids() -> None:
    stream = configured("json")
    logs.get_logger("bot.engine").info("post.published", post_id=12, target_id=40, user_id=7)
    [event] = lines(stream)
    assert event["event"] == "post.published"
    assert (event["post_id"], event["target_id"], event["user_id"]) == (12, 40, 7)
    assert event["level"] == "info"
    assert event["logger"] == "bot.engine"
    assert str(event["timestamp"]).endswith("Z")


@pytest.mark.usefixtures("restore_logging")
def test_library_records_and_fields_that_clash_with_logging_are_kept() -> None:
    stream = configured("json")
    logging.getLogger("telegram.ext.Application").warning("Slow %s", "thing")
    logs.get_logger("bot.x").info("odd", name="a field named like a LogRecord attribute")
    first, second = lines(stream)
    assert first["event"] == "Slow thing"
    assert first["logger"] == "telegram.ext.Application"
    assert second["name_"] == "a field named like a LogRecord attribute"


@pytest.mark.parametrize("fmt", ["json", "console"])
@pytest.mark.usefixtures("restore_logging")
def test_the_bot_token_is_redacted_from_every_kind_of_record(fmt: str) -> None:
    stream = configured(fmt)
    # A library formatting the token into its message, as httpx does with Bot API URLs.
    logging.getLogger("bot.notifier").warning("GET https://api.telegram.org/bot%s/getMe", TOKEN)
    # A structured field, and a traceback whose message holds it.
    log = logs.get_logger("bot.app")
    log.info("config.loaded", token=TOKEN, nested={"url": f"https://x/bot{TOKEN}/"})
    try:
        raise RuntimeError(f"Telegram refused bot{TOKEN}")
    except RuntimeError:
        log.exception("crashed", user_id=5)
    output = stream.getvalue()
    assert TOKEN not in output
    assert output.count("[redacted]") >= 4
    assert "RuntimeError" in output  # the traceback itself is kept


@pytest.mark.usefixtures("restore_logging")
def test_every_rotated_encryption_key_and_the_webhook_secret_are_secrets() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token=SecretStr(TOKEN),
        crier_encryption_key=SecretStr(KEYS),
        webhook_secret=SecretStr("hook-secret-123"),
        database_url="postgresql+asyncpg://crier:db-password-9@localhost/crier",
    )
    secrets = logs.known_secrets(settings)
    assert set(secrets) == {TOKEN, *KEYS.split(","), "hook-secret-123", "db-password-9"}
    stream = configured("console", secrets=tuple(secrets))
    for secret in secrets:
        logs.get_logger("bot.x").warning("leak", value=f"<{secret}>")
    assert not any(secret in stream.getvalue() for secret in secrets)
    assert logs.redact(f"key {KEYS.split(',')[1]}") == "key [redacted]"


@pytest.mark.usefixtures("restore_logging")
def test_debug_keeps_payload_loggers_quiet() -> None:
    stream = configured("json", level="DEBUG")
    logging.getLogger("bot.compose").debug("our own debug line")
    # PTB logs raw updates and Bot API results at DEBUG; httpx logs request URLs at INFO.
    logging.getLogger("telegram.ext.Application").debug("Processing update %s", "PAYLOAD")
    logging.getLogger("telegram._bot").debug("Call to getUpdates returned %s", "PAYLOAD")
    logging.getLogger("httpx").info("HTTP Request: POST %s", "PAYLOAD")
    logging.getLogger("aiosqlite").debug("executing %s", "PAYLOAD")
    output = stream.getvalue()
    assert "our own debug line" in output
    assert "PAYLOAD" not in output
    # Warnings from the same libraries still get through.
    logging.getLogger("telegram.ext.Application").warning("a real problem")
    assert "a real problem" in stream.getvalue()


@pytest.mark.usefixtures("restore_logging")
def test_console_lines_are_readable() -> None:
    stream = configured("console", level="INFO")
    logs.get_logger("bot.engine").info("post.published", post_id=3)
    logs.get_logger("bot.engine").debug("hidden at INFO")
    [line] = stream.getvalue().splitlines()
    assert "post.published" in line
    assert "post_id=3" in line
    assert "[bot.engine]" in line


def test_short_strings_are_not_treated_as_secrets() -> None:
    redactor = logs.RedactSecrets(["abc", "", "long-enough-secret"])
    assert redactor.redact("abc long-enough-secret") == "abc [redacted]"


@pytest.mark.parametrize("fmt", ["json", "console"])
@pytest.mark.usefixtures("restore_logging")
def test_personal_api_tokens_are_redacted_though_no_setting_names_them(fmt: str) -> None:
    personal = "crier_" + "Ab3-_x" * 7 + "Z"
    stream = configured(fmt, secrets=())
    logging.getLogger("uvicorn.error").warning("Authorization: Bearer %s", personal)
    logs.get_logger("bot.api").info("api.call", header=f"Bearer {personal}")
    output = stream.getvalue()
    assert personal not in output
    assert output.count("crier_[redacted]") == 2
