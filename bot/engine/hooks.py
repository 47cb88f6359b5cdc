"""What the wiring plugs into the engine: the timer that wakes it, and the observers that hear
about every attempt it records.

The engine owns these interfaces, so it imports nothing that reports on it or schedules it:
bot/app.py gives it a `Timer` (bot/ops/wakeup.py, over PTB's JobQueue) and its `Observers`
(bot/ops/metrics.py counts them for Prometheus).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol


class Timer(Protocol):
    """Calls the engine (or the notifier) back; only a wake-up, never the source of truth."""

    def at(self, when: datetime) -> None:
        """Call back at `when` or sooner."""

    def soon(self) -> None:
        """Call back as soon as possible."""

    def every(self, seconds: float) -> None:
        """Also call back periodically (the sweep for work other processes queued)."""

    @property
    def sweeps(self) -> int:
        """How many periodic call-backs have run (a burst should need none)."""


class Observer(Protocol):
    """Hears about each recorded publish attempt (a module with these functions will do)."""

    def observe_attempt(self, platform: str, outcome: str, duration_seconds: float) -> None:
        """One publish attempt finished (every try, retries included)."""

    def observe_published(self, platform: str, delay_seconds: float) -> None:
        """A target was published `delay_seconds` after its scheduled time."""

    def observe_failed(self, platform: str, status: str) -> None:
        """A target ended without being published (status: failed or unknown)."""


class Observers:
    """The engine's observers, told in the order they were given."""

    def __init__(self, observers: Iterable[Observer] = ()) -> None:
        self._observers = tuple(observers)

    def observe_attempt(self, platform: str, outcome: str, duration_seconds: float) -> None:
        for observer in self._observers:
            observer.observe_attempt(platform, outcome, duration_seconds)

    def observe_published(self, platform: str, delay_seconds: float) -> None:
        for observer in self._observers:
            observer.observe_published(platform, delay_seconds)

    def observe_failed(self, platform: str, status: str) -> None:
        for observer in self._observers:
            observer.observe_failed(platform, status)
