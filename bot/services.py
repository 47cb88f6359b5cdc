"""Everything handlers and jobs need, built once at start-up and closed at shutdown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
from telegram.ext import CallbackContext, ExtBot

from bot.config import Settings
from providers.registry import Registry
from storage.db import Database
from storage.secrets import SecretBox

if TYPE_CHECKING:
    from bot.engine.notifier import Notifier
    from bot.engine.runner import Engine
    from bot.ops.outbound import TelegramPace


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
    pace: TelegramPace | None = None
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
