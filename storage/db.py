"""The async engine and sessions, SQLite or PostgreSQL by URL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

#: How long SQLite waits for another writer before giving up, milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 10_000


class Database:
    """Owns the engine; hands out sessions that commit on success and roll back on error."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            _ensure_parent_dir(self.url.database)
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time and its busy handler waits by sleeping in growing
        # steps, so in-process contention turned 1 ms transactions into 100 ms ones. Queue
        # this process's transactions fairly instead; busy_timeout still covers other
        # processes sharing the file.
        self._turn: asyncio.Lock | None = asyncio.Lock() if self.is_sqlite else None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """One transaction: committed when the block ends, rolled back if it raises.
        Don't open one inside another on SQLite: they take turns."""
        if self._turn is None:
            async with self._sessions() as session, session.begin():
                yield session
            return
        async with self._turn, self._sessions() as session, session.begin():
            yield session

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]], *, tries: int = 5) -> T:
        """Run `work` in a transaction, retrying briefly when the database is busy or away."""
        delay = 0.05
        for attempt in range(1, tries + 1):
            try:
                async with self.session() as session:
                    return await work(session)
            except (OperationalError, DBAPIError) as exc:
                if attempt == tries or not _is_retryable(exc):
                    raise
                log.warning("database busy, retrying (%s/%s): %s", attempt, tries, exc.orig)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")

    async def dispose(self) -> None:
        await self.engine.dispose()


def _ensure_parent_dir(database: str | None) -> None:
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy own transaction boundaries (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
        # writes fails with SQLITE_BUSY at once instead of waiting out busy_timeout.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _is_retryable(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    if "locked" in text or "busy" in text:
        return True
    # PostgreSQL serialization failures, deadlocks and dropped connections.
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return exc.connection_invalidated or code in {"40001", "40P01", "57P01", "08006", "08003"}
