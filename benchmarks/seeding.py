"""Fast seeding for benchmarks: users, accounts, posts and targets straight into the tables.

Rows go in through the database driver in bulk (SQLite `executemany`, PostgreSQL `COPY`),
already in the form SQLAlchemy would store them, so a million targets take seconds rather
than the minute and a half that ORM inserts took. Only the benchmarks use this; the app
writes through `storage/`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.db import Database

#: Rows sent to the driver at once: large enough to amortise a round trip, small enough to
#: keep memory flat for a million rows.
CHUNK = 50_000
#: SQLite page cache while seeding, KiB (the connection keeps it; only benchmarks seed).
SQLITE_CACHE_KIB = 512 * 1024


@dataclass(frozen=True, kw_only=True)
class Seeded:
    #: Telegram ids of the users created, 1..n.
    users: list[int]
    #: Account ids, in the order the users were created (round robin over users).
    accounts: list[int]
    posts: int


def _value(db: Database, value: object) -> object:
    if isinstance(value, datetime):
        utc = value.astimezone(UTC)
        # SQLite keeps naive UTC in SQLAlchemy's text format; PostgreSQL takes aware times.
        return utc.replace(tzinfo=None).isoformat(" ", "microseconds") if db.is_sqlite else utc
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


async def insert_rows(
    db: Database, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]
) -> int:
    """Insert `rows` (values in `columns` order) in chunks; returns how many."""
    count = 0
    chunk: list[tuple[object, ...]] = []

    async def flush() -> None:
        if not chunk:
            return
        async with db.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection
            if db.is_sqlite:
                # Random idempotency keys land all over their unique index: with SQLite's
                # default 2 MB page cache a million rows became page-cache bound. And no
                # fsync per WAL checkpoint: a benchmark's seed needs no durability.
                await driver.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
                await driver.execute("PRAGMA synchronous = OFF")
                marks = ", ".join("?" for _ in columns)
                await driver.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", chunk
                )
                await driver.commit()
            else:
                await driver.copy_records_to_table(table, records=chunk, columns=list(columns))
        chunk.clear()

    for row in rows:
        chunk.append(tuple(_value(db, v) for v in row))
        count += 1
        if len(chunk) >= CHUNK:
            await flush()
    await flush()
    return count


@asynccontextmanager
async def indexes_built_after(db: Database, tables: Sequence[str]) -> AsyncIterator[None]:
    """SQLite: the secondary indexes of `tables` are dropped for the load and built once
    after it, from their own CREATE INDEX statements: maintaining five indexes row by row
    was most of a million-row seed. (A UNIQUE constraint's index stays: it can't be dropped,
    and the benchmark's keys come in order.) PostgreSQL's COPY needs no help."""
    if not db.is_sqlite:
        yield
        return
    names = ", ".join(f"'{table}'" for table in tables)
    async with db.engine.begin() as conn:
        found = await conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({names})"
        )
        indexes = [(str(name), str(sql)) for name, sql in found.all()]
        for name, _ in indexes:
            await conn.exec_driver_sql(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        async with db.engine.begin() as conn:
            for _, sql in indexes:
                await conn.exec_driver_sql(sql)


async def seed_users(db: Database, users: int, *, blocked: Iterable[int] = ()) -> list[int]:
    now = datetime.now(UTC)
    blocked_set = set(blocked)
    columns = (
        "id",
        "chat_id",
        "first_name",
        "timezone",
        "timezone_set",
        "role",
        "status",
        "created_at",
        "last_seen_at",
    )
    ids = list(range(1, users + 1))
    await insert_rows(
        db,
        "users",
        columns,
        (
            (
                n,
                n,
                f"User {n}",
                "UTC",
                True,
                "user",
                "blocked" if n in blocked_set else "active",
                now,
                now,
            )
            for n in ids
        ),
    )
    return ids


async def seed_accounts(
    db: Database, users: Sequence[int], accounts: int, platform: str
) -> list[int]:
    """`accounts` accounts on `platform`, dealt round robin to `users`; ids are 1..n."""
    now = datetime.now(UTC)
    columns = (
        "id",
        "user_id",
        "platform",
        "label",
        "external_id",
        "config",
        "status",
        "created_at",
        "updated_at",
    )
    ids = list(range(1, accounts + 1))
    await insert_rows(
        db,
        "accounts",
        columns,
        (
            (
                n,
                users[(n - 1) % len(users)],
                platform,
                f"@bench{n}",
                f"bench{n}",
                {},
                "active",
                now,
                now,
            )
            for n in ids
        ),
    )
    return ids


def idempotency_key(post_id: int, account_id: int) -> str:
    """Unique like the app's (storage.posts.idempotency_key) but in post order: the app's
    hashes land all over the unique index, and a million of them made seeding I/O bound
    (282 s); keys in order append to it."""
    suffix = hashlib.sha256(f"crier:{post_id}:{account_id}:0".encode()).hexdigest()
    return f"{post_id:012d}{suffix[:52]}"


async def seed_posts(
    db: Database,
    *,
    owners: Sequence[tuple[int, int]],
    times: Sequence[datetime],
    first_id: int = 1,
) -> int:
    """One scheduled post with one queued target per time; post n goes to
    `owners[n % len(owners)]` = (user id, account id). Returns how many."""
    now = datetime.now(UTC)

    def plan() -> Iterator[tuple[int, int, int, datetime]]:
        # A generator, walked once per table: a million rows never sit in memory at once.
        for n, when in enumerate(times):
            user, account = owners[n % len(owners)]
            yield first_id + n, user, account, when

    post_columns = (
        "id",
        "user_id",
        "status",
        "text",
        "overrides",
        "draft_account_ids",
        "publish_at",
        "timezone",
        "entities",
        "created_at",
        "updated_at",
    )
    await insert_rows(
        db,
        "posts",
        post_columns,
        (
            (
                pid,
                user,
                "scheduled",
                f"Benchmark post {pid}",
                {},
                [account],
                when,
                "UTC",
                [],
                now,
                now,
            )
            for pid, user, account, when in plan()
        ),
    )
    target_columns = (
        "id",
        "post_id",
        "account_id",
        "user_id",
        "occurrence",
        "publish_at",
        "status",
        "next_attempt_at",
        "attempts",
        "idempotency_key",
        "created_at",
        "updated_at",
    )
    await insert_rows(
        db,
        "targets",
        target_columns,
        (
            (
                pid,
                pid,
                account,
                user,
                0,
                when,
                "queued",
                when,
                0,
                idempotency_key(pid, account),
                now,
                now,
            )
            for pid, user, account, when in plan()
        ),
    )
    if not db.is_sqlite:
        # COPY with explicit ids leaves the sequences behind; the app inserts after this.
        async with db.engine.begin() as conn:
            for table in ("posts", "targets", "accounts"):
                await conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
    return len(times)


def spread(start: datetime, span: timedelta, count: int) -> list[datetime]:
    """`count` times evenly over `span` from `start`."""
    step = span / max(count, 1)
    return [start + step * n for n in range(count)]
