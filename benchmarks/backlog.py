"""Backlog: a million queued targets spread over a year. Does anything grow with it?

    .venv/bin/python -m benchmarks.backlog [--targets 1000000] [--no-pg]

Seeds 1,000 users (user 1 has 10,000 posts, the rest share the others), each post with one
target, due from an hour from now to a year from now, plus 96 due now; bulk inserts through
the driver (benchmarks/seeding.py). Then measures, on that database:

- one claim of 32 due targets among the million, and a claim when nothing is due (the look
  along the due index that also finds the next due time);
- `next_due()`, the query that arms the engine's timer;
- /list for the user with 10,000 posts: the first page and the last;
- start-up of a `crier worker` (migrations checked, engine and notifier armed) and its
  resident memory, in a fresh process, against the same start-up on an empty database.

Prints a table; writes benchmarks/results/backlog.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from pydantic import SecretStr

from benchmarks import report
from benchmarks.bench_provider import BenchProvider
from benchmarks.databases import DEFAULT_PG, fresh_database
from benchmarks.fake_telegram_server import FakeBotApi, fake_bot_api
from benchmarks.seeding import (
    indexes_built_after,
    seed_accounts,
    seed_posts,
    seed_users,
    spread,
)
from storage import posts, queue
from storage.db import Database
from storage.migrate import upgrade
from storage.room import Room

T = TypeVar("T")
USERS = 1000
#: Posts of the user whose /list is timed.
HEAVY_USER_POSTS = 10_000
#: Targets due now: three claims' worth.
DUE_NOW = 96
PAGE = 10


async def timed(db: Database, work: Callable[[Any], Awaitable[T]], times: int = 1) -> float:
    """Milliseconds one run of `work` takes in its own transaction (best of `times`)."""
    best = float("inf")
    for _ in range(times):
        began = time.perf_counter()
        await db.run(work)
        best = min(best, time.perf_counter() - began)
    return best * 1000


async def seed(url: str, targets: int) -> dict[str, float]:
    db = Database(url)
    try:
        began = time.perf_counter()
        await upgrade(db)
        users = await seed_users(db, USERS)
        accounts = await seed_accounts(db, users, USERS, BenchProvider.platform)
        owners = list(zip(users, accounts, strict=True))
        start = datetime.now(UTC) + timedelta(hours=1)
        year = timedelta(days=365)
        heavy = min(HEAVY_USER_POSTS, targets)
        rest = max(0, targets - heavy - DUE_NOW)
        async with indexes_built_after(db, ("posts", "targets")):
            await seed_posts(db, owners=owners[:1], times=spread(start, year, heavy))
            await seed_posts(
                db, owners=owners[1:], times=spread(start, year, rest), first_id=heavy + 1
            )
            now = datetime.now(UTC) - timedelta(seconds=1)
            await seed_posts(
                db, owners=owners[1:], times=[now] * DUE_NOW, first_id=heavy + rest + 1
            )
        seeded = time.perf_counter() - began
        if not db.is_sqlite:
            # What autovacuum does soon after a bulk load. SQLite is left as the app leaves
            # it (no ANALYZE): its planner's defaults are what users get.
            async with db.engine.begin() as conn:
                await conn.exec_driver_sql("ANALYZE")
        return {"seed_s": seeded, "targets": float(heavy + rest + DUE_NOW)}
    finally:
        await db.dispose()


async def queries(url: str) -> dict[str, float]:
    db = Database(url)
    lease = timedelta(minutes=5)
    room = Room(total=32, account_cap={BenchProvider.platform: 2})
    try:
        claims = [
            await timed(
                db,
                lambda s: queue.claim_fitting(
                    s, owner="bench", now=datetime.now(UTC), lease=lease, room=room
                ),
            )
            for _ in range(DUE_NOW // 32)
        ]
        idle = await timed(
            db,
            lambda s: queue.claim_fitting(
                s, owner="bench", now=datetime.now(UTC), lease=lease, room=room
            ),
            times=5,
        )
        nxt = await timed(db, queue.next_due, times=5)
        first = await timed(db, lambda s: posts.page(s, 1, offset=0, limit=PAGE), times=5)
        last_offset = HEAVY_USER_POSTS - PAGE
        last = await timed(db, lambda s: posts.page(s, 1, offset=last_offset, limit=PAGE), times=5)
        return {
            "claim_32_due_ms": min(claims),
            "claim_nothing_due_ms": idle,
            "next_due_ms": nxt,
            "list_first_page_ms": first,
            "list_last_page_ms": last,
        }
    finally:
        await db.dispose()


async def start_up(url: str, api: FakeBotApi, tmp: Path) -> dict[str, float]:
    """Start a worker in a fresh process; its start-up time and resident memory."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.backlog",
        "--measure-start",
        json.dumps([url, api.token, api.base_url, api.file_base_url, str(tmp / "media")]),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    figures: dict[str, float] = json.loads(out.decode().strip().splitlines()[-1])
    return figures


async def measure_start(url: str, token: str, base_url: str, file_url: str, media: str) -> None:
    from bot.app import Crier
    from bot.config import Settings

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token=SecretStr(token),
        telegram_api_base_url=base_url,
        telegram_file_base_url=file_url,
        database_url=url,
        media_dir=Path(media),
        web_port=0,  # no web server: a busy port on the machine must not skew start-up
    )
    began = time.perf_counter()
    async with Crier(settings, mode="worker", providers=[BenchProvider()]):
        started = time.perf_counter() - began
        await asyncio.sleep(1.0)  # the first claims and timers settle
        rss = _rss_mb()
    print(json.dumps({"start_up_ms": started * 1000, "rss_mb": rss}), flush=True)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def run(kind: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        async with fake_bot_api(USERS) as api:
            for targets in (0, args.targets):
                async with fresh_database(kind, Path(tmp), args.pg) as url:
                    row: dict[str, Any] = {"db": kind, "queued": targets}
                    if targets:
                        row.update(await seed(url, targets))
                        row.update(await queries(url))
                    else:
                        db = Database(url)
                        await upgrade(db)
                        await db.dispose()
                    row.update(await start_up(url, api, Path(tmp)))
                    rows.append(row)
                    print(report.table([row], COLUMNS).splitlines()[-1], flush=True)
    return rows


COLUMNS = [
    ("db", "db"),
    ("queued", "targets"),
    ("seed_s", "seed s"),
    ("start_up_ms", "start-up ms"),
    ("rss_mb", "RSS MB"),
    ("claim_32_due_ms", "claim 32 ms"),
    ("claim_nothing_due_ms", "claim, none due ms"),
    ("next_due_ms", "next_due ms"),
    ("list_first_page_ms", "/list first ms"),
    ("list_last_page_ms", "/list last ms"),
]


async def main(args: argparse.Namespace) -> None:
    rows = []
    for kind in ("sqlite", "postgres"):
        if kind == "postgres" and args.no_pg:
            continue
        rows += await run(kind, args)
    print()
    print(report.table(rows, COLUMNS))
    print(f"\nwritten to {report.save('backlog', rows, args.json)}")


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--targets", type=int, default=1_000_000)
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--measure-start", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    parsed = parse()
    if parsed.measure_start:
        asyncio.run(measure_start(*json.loads(parsed.measure_start)))
    else:
        asyncio.run(main(parsed))
