"""Everything handlers and jobs need, built once at start-up and closed at shutdown.

A top file (docs/ARCHITECTURE.md): compose, accounts, ops, ui, admin and handlers import it;
the engine, schedule and media never do. It imports no room itself: what it holds of the
engine, the notifier and the Telegram pace is typed by the small Protocols below, which
those objects satisfy, so the engine never sits in an import cycle with what it serves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
from telegram.ext import CallbackContext, ExtBot

from bot.config import Settings
from providers.registry import Registry
from storage.db import Database
from storage.secrets import SecretBox


class Engine(Protocol):
    """What handlers may ask of the publish engine (bot/engine/runner.py's `Engine`)."""

    def wake_at(self, when: datetime) -> None:
        """A target was added or moved: look at `when` at the latest."""


class Notifier(Protocol):
    """What handlers may ask of the notice outbox (bot/engine/notifier.py's `Notifier`)."""

    def wake(self) -> None:
        """A notice was queued: deliver it soon."""


class Webhooks(Protocol):
    """What handlers may ask of the webhook outbox (bot/engine/webhooks/sender.py)."""

    def wake(self) -> None:
        """Events were queued: deliver them soon."""


class Pace(Protocol):
    """The pace of everything sent to Telegram (bot/ops/outbound.py's `TelegramPace`)."""

    async def slot(
        self,
        chat_id: int | None,
        *,
        count: int = 1,
        background: bool = False,
        overall: bool = True,
    ) -> None:
        """Wait for, then take, a slot for `count` messages to `chat_id` (None: overall)."""

    def hold(self, chat_id: int | None, seconds: float) -> None:
        """Telegram asked for `seconds` of quiet (a 429) for this chat."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    settings: Settings
    db: Database
    registry: Registry
    secrets: SecretBox
    http: httpx.AsyncClient
    notifier: Notifier
    #: None when publishing is left to `crier worker` processes.
    engine: Engine | None = None
    clock: Callable[[], datetime] = utc_now
    #: The pace of everything sent to Telegram (None in tools that send nothing).
    pace: Pace | None = None
    #: The outbox of users' webhook events (None in tools that deliver none).
    webhooks: Webhooks | None = None
    #: Per-feature in-memory state that must never be persisted (connect wizards' secrets).
    scratch: dict[str, Any] = field(default_factory=dict)

    def now(self) -> datetime:
        return self.clock()

    @property
    def platform_names(self) -> dict[str, str]:
        return {name: provider.display_name for name, provider in self.registry.items()}

    def wake_engine(self, when: datetime) -> None:
        if self.engine is not None:
            self.engine.wake_at(when)


class BotData:
    """The application's bot_data: typed access to the services."""

    services: Services | None = None


class CustomContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    @property
    def services(self) -> Services:
        services = self.bot_data.services
        if services is None:
            raise RuntimeError("services are not initialised yet")
        return services
