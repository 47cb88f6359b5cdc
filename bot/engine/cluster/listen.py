"""Wake-ups across processes on PostgreSQL: `LISTEN crier_due` on a connection of its own.

A trigger (migration 0011) sends `NOTIFY crier_due, '<ISO time>'` in the transaction that
queues a target or moves its time, so a post confirmed by a front-end (or retried by another
worker) wakes every worker when it commits, not at their next sweep. The notice is only a
wake-up: the claim still decides what is due. A lost connection is reopened with backoff,
and every (re)connect is followed by a sweep, for what was notified while nobody listened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy.engine import URL

log = logging.getLogger(__name__)

#: The channel migration 0011's triggers notify.
CHANNEL = "crier_due"
#: The name the connection shows in pg_stat_activity (operators and tests find it by it).
APPLICATION_NAME = "crier-listen"


def listen_dsn(url: URL) -> str:
    """The plain libpq URL asyncpg takes, from the application's SQLAlchemy URL."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class DueListener:
    def __init__(
        self,
        dsn: str,
        *,
        on_due: Callable[[datetime], None],
        on_connect: Callable[[], Awaitable[object]],
        first_delay: float = 0.2,
        max_delay: float = 10.0,
        ping_seconds: float = 10.0,
    ) -> None:
        self._dsn = dsn
        self._on_due = on_due
        self._on_connect = on_connect
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._ping = ping_seconds
        self._task: asyncio.Task[None] | None = None
        #: Set while LISTEN is in place.
        self.listening = asyncio.Event()
        #: How many times LISTEN was established (1 + reconnects) and notices received.
        self.connects = 0
        self.notices = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="engine:listen")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        delay = self._first_delay
        while True:
            try:
                await self._listen_once()
                delay = self._first_delay  # it was up: the next loss starts the backoff afresh
                log.warning("the LISTEN connection to PostgreSQL was lost; reopening it")
                await asyncio.sleep(delay)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "LISTEN %s failed (%s: %s); trying again in %.3g s (the sweep still runs)",
                    CHANNEL,
                    type(exc).__name__,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_delay)

    async def _listen_once(self) -> None:
        """Listen until the connection is lost; returns then (raises if it never came up)."""
        conn = await asyncpg.connect(
            self._dsn, server_settings={"application_name": APPLICATION_NAME}, timeout=10
        )
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        try:
            await conn.add_listener(CHANNEL, self._notified)
            self.connects += 1
            self.listening.set()
            if self.connects > 1:
                log.info("LISTEN %s re-established; sweeping for what was missed", CHANNEL)
            try:
                await self._on_connect()
            except Exception:
                log.exception("the sweep after (re)connecting failed; the periodic one will run")
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), self._ping)
                if not lost.is_set():
                    # A silent network drop sends no termination: a query notices it.
                    try:
                        await asyncio.wait_for(conn.execute("SELECT 1"), self._ping)
                    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                        return
        finally:
            self.listening.clear()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 2)
            if not conn.is_closed():
                conn.terminate()

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self.notices += 1
        try:
            when = datetime.fromisoformat(payload)
        except ValueError:
            log.warning("a %s notice carried no time (%r): looking now", CHANNEL, payload[:60])
            when = datetime.now(UTC)
        self._on_due(when)
