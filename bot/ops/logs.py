"""Logging: Crier's structured events (structlog) and every library's stdlib logger (PTB,
httpx, SQLAlchemy, uvicorn) leave through one handler, as readable lines or one JSON object
per line, with every known secret redacted from the final text of every record.

Crier's own modules log events with ids, not sentences::

    log = get_logger(__name__)
    log.info("post.published", post_id=12, target_id=40, user_id=1001)

structlog hands each event to the stdlib logger of the same name (fields as `extra`), so
levels, pytest's caplog and the redaction apply to both kinds alike.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import TYPE_CHECKING, Any, Literal, TextIO

import structlog
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from bot.config import Settings

#: Floors for loggers that print payloads at DEBUG, whatever LOG_LEVEL says. PTB logs every
#: raw update (and users paste tokens into /connect) and every Bot API call with its
#: parameters; httpx logs request URLs (Bot API URLs hold the bot token); aiosqlite and
#: SQLAlchemy's echo log statements with their parameters.
FLOORS: dict[str, int] = {
    "telegram": logging.INFO,
    "telegram.ext.Updater": logging.WARNING,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "aiosqlite": logging.INFO,
    "sqlalchemy.engine": logging.WARNING,
    "apscheduler": logging.WARNING,
    "multipart": logging.INFO,
    "uvicorn.access": logging.WARNING,
}

#: Attributes every LogRecord has; anything else on a record is an event field.
_RECORD_KEYS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's coloured copy of the message
    "taskName",
}
#: Keyword arguments structlog hands to logging as such, not as fields.
_PASSED_ON = frozenset({"event", *structlog.stdlib.LOG_KWARG_NAMES})
#: Shortest string treated as a secret (shorter ones would redact ordinary words).
MIN_SECRET = 8


class RedactSecrets(logging.Filter):
    """Replace known secrets with [redacted]: as a filter on a record's message, and through
    `redact` on the final text of every record (fields and tracebacks included)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        found: set[str] = set()
        for secret in secrets:
            if secret and len(secret) >= MIN_SECRET:
                found.add(secret)
                found.add(json.dumps(secret)[1:-1])  # as it appears inside a JSON string
        # Longest first, so a secret that contains another is replaced whole.
        self._secrets = sorted(found, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "[redacted]")
        # Personal API tokens are no setting, but are never logged either.
        return PERSONAL_TOKEN.sub("crier_[redacted]", text) if "crier_" in text else text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


#: A personal API token (bot/accounts/api_tokens.py): "crier_" and 43 URL-safe characters.
PERSONAL_TOKEN = re.compile(r"crier_[A-Za-z0-9_-]{20,}")

_active = RedactSecrets(())


def redact(text: str) -> str:
    """Redact the secrets the running process knows (for text leaving by other routes,
    such as an error summary sent to admins)."""
    return _active.redact(text)


def known_secrets(settings: Settings) -> list[str]:
    """Every secret in the settings: the bot token, each encryption key, the webhook secret
    and the database password."""
    found: list[str] = []
    for value in (
        settings.telegram_bot_token,
        settings.crier_encryption_key,
        settings.webhook_secret,
    ):
        if value is not None:
            found.extend(part.strip() for part in value.get_secret_value().split(","))
    password = make_url(settings.database_url).password
    if password:
        found.append(str(password))
    return [s for s in found if s]


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger


def _safe_fields(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
    """Rename fields that would clash with LogRecord attributes (logging raises on them)."""
    for key in [k for k in event if k in _RECORD_KEYS and k not in _PASSED_ON]:
        event[f"{key}_"] = event.pop(key)
    return event


def _record_fields(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
    """Bring a record's extra fields (structlog's keyword arguments) back into the event."""
    record: logging.LogRecord | None = event.get("_record")
    if record is not None:
        for key, value in record.__dict__.items():
            if key not in _RECORD_KEYS:
                event.setdefault(key, value)
    return event


structlog.configure(
    processors=[
        structlog.stdlib.filter_by_level,
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.PositionalArgumentsFormatter(),
        _safe_fields,
        structlog.stdlib.render_to_log_kwargs,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=True,
)


class _Formatter(structlog.stdlib.ProcessorFormatter):
    def __init__(self, redactor: RedactSecrets, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self._redactor.redact(super().format(record))


def formatter(
    fmt: Literal["console", "json"], redactor: RedactSecrets, *, colors: bool = False
) -> logging.Formatter:
    renderer: Any
    final: list[Any] = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if fmt == "json":
        # Plain traceback text: no local variables, which could hold anything.
        final += [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=colors, exception_formatter=structlog.dev.plain_traceback
        )
        final.append(renderer)
    return _Formatter(
        redactor,
        foreign_pre_chain=[
            _record_fields,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=final,
    )


def configure(
    level: str,
    secrets: Iterable[str] = (),
    fmt: Literal["console", "json"] = "console",
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send every record to `stream` (stderr) at `level`, secrets redacted; returns the
    handler."""
    global _active
    _active = RedactSecrets(secrets)
    out = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter(fmt, _active, colors=fmt == "console" and out.isatty()))
    handler.addFilter(_active)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name, floor in FLOORS.items():
        logging.getLogger(name).setLevel(max(floor, root.level))
    # Python warnings (PTB's, deprecations) as records too, so JSON output stays JSON.
    logging.captureWarnings(True)
    return handler
