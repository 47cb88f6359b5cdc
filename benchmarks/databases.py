"""A fresh, empty database per benchmark run: a temporary SQLite file, or a PostgreSQL
database dropped and created again on the server the URL names."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

#: The PostgreSQL the benchmarks use unless told otherwise (trust auth on this machine).
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/crier_bench"


@asynccontextmanager
async def fresh_database(kind: str, tmp: Path, pg_url: str = DEFAULT_PG) -> AsyncIterator[str]:
    """Yield the URL of an empty database of `kind` ("sqlite" or "postgres")."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp / f'bench-{uuid.uuid4().hex[:8]}.db'}"
        return
    url = make_url(pg_url)
    name = url.database
    admin = create_async_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    yield url.render_as_string(hide_password=False)
