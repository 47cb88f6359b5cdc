"""Several `crier worker` processes on one PostgreSQL database: throughput with 1, 2 and 4
workers, the platform answering in 0 ms and in 200 ms, and the cross-process wake-up delay
(a post written by another process -> its publish starts) over 200 posts.

    .venv/bin/python -m benchmarks.cluster [--targets 2000] [--workers 1,2,4]
        [--latency-ms 0,200] [--posts 200] [--pg URL]

Each worker is a real process running the unmodified app (`Crier(mode="worker")`) with the
benchmark platform (bench_provider.py) added: `python -m benchmarks.cluster --serve`.
Throughput is targets / (last attempt's end - first attempt's start), from the attempts the
workers recorded. The wake-up rows use one worker with the sweep at 60 s, so only NOTIFY
can wake it: each post is inserted due now, one every 50 ms, and its delay is the attempt's
start - the insert's commit.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from benchmarks.bench_provider import BenchProvider
from benchmarks.databases import DEFAULT_PG, fresh_database
from benchmarks.fake_telegram_server import fake_bot_api
from benchmarks.report import save, spread, table
from benchmarks.seeding import seed_accounts, seed_posts, seed_users
from bot.app import Crier
from bot.config import Settings
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Attempt

ACCOUNTS = 200
BASE_PORT = 18600


def _settings() -> Settings:
    return Settings()


async def serve(latency_ms: float) -> None:
    """One worker process: the app with the benchmark platform, until SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    provider = BenchProvider(latency=latency_ms / 1000, concurrency=2)
    async with Crier(_settings(), mode="worker", providers=[provider]):
        await stop.wait()


async def start_workers(
    n: int, env: dict[str, str], latency_ms: float
) -> list[tuple[asyncio.subprocess.Process, int]]:
    workers = []
    for i in range(n):
        port = BASE_PORT + i
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.cluster",
            "--serve",
            "--latency-ms",
            str(latency_ms),
            env={**env, "WEB_PORT": str(port)},
            stdout=asyncio.subprocess.DEVNULL,
        )
        workers.append((process, port))
    async with httpx.AsyncClient(timeout=2) as http:
        for _, port in workers:
            while True:
                try:
                    if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
    return workers


async def stop_workers(workers: list[tuple[asyncio.subprocess.Process, int]]) -> None:
    for process, _ in workers:
        process.send_signal(signal.SIGTERM)
    for process, _ in workers:
        await process.wait()


async def attempts(db: Database) -> list[tuple[datetime, int, int]]:
    async with db.session() as session:
        rows = await session.execute(
            select(Attempt.started_at, Attempt.duration_ms, Attempt.target_id).where(
                Attempt.outcome == "published"
            )
        )
        return [(r[0], int(r[1]), int(r[2])) for r in rows]


async def published(db: Database) -> int:
    async with db.session() as session:
        query = select(func.count()).where(Attempt.outcome == "published")
        return int(await session.scalar(query) or 0)


async def until_published(db: Database, count: int, seconds: float) -> None:
    """Poll the attempts (the workers are other processes: nothing to wait on here)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await published(db) >= count:
            return
        await asyncio.sleep(0.25)


def worker_env(api: Any, url: str, tmp: Path, **extra: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))},
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "TELEGRAM_FILE_BASE_URL": api.file_base_url,
        "DATABASE_URL": url,
        "MEDIA_DIR": str(tmp / "media"),
        "LOG_LEVEL": "ERROR",
        "TELEGRAM_RATE": "1000",
        "WEB_HOST": "127.0.0.1",
        **extra,
    }


async def prepared(url: str) -> tuple[Database, list[tuple[int, int]]]:
    db = Database(url)
    await upgrade(db)
    users = await seed_users(db, ACCOUNTS)
    accounts = await seed_accounts(db, users, ACCOUNTS, "bench")
    return db, list(zip(users, accounts, strict=True))


async def throughput(
    args: argparse.Namespace, workers: int, latency_ms: float, tmp: Path
) -> dict[str, Any]:
    async with (
        fresh_database("postgres", tmp, args.pg) as url,
        fake_bot_api(ACCOUNTS) as api,
    ):
        db, owners = await prepared(url)
        env = worker_env(api, url, tmp)
        procs = await start_workers(workers, env, latency_ms)
        try:
            now = datetime.now(UTC)
            await seed_posts(db, owners=owners, times=[now] * args.targets)
            await until_published(db, args.targets, args.timeout)
            rows = await attempts(db)
        finally:
            await stop_workers(procs)
            await db.dispose()
    first = min(r[0] for r in rows)
    last = max(r[0].timestamp() + r[1] / 1000 for r in rows)
    span = last - first.timestamp()
    return {
        "workers": workers,
        "latency_ms": latency_ms,
        "targets": args.targets,
        "published": len({r[2] for r in rows}),
        "seconds": round(span, 2),
        "per_second": round(len(rows) / span, 1) if span else None,
    }


async def wakeups(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    async with (
        fresh_database("postgres", tmp, args.pg) as url,
        fake_bot_api(ACCOUNTS) as api,
    ):
        db, owners = await prepared(url)
        procs = await start_workers(1, worker_env(api, url, tmp, ENGINE_SWEEP_SECONDS="60"), 0)
        committed: dict[int, float] = {}
        try:
            for n in range(args.posts):
                # One post per transaction, due now: its trigger's NOTIFY goes out on commit.
                await seed_posts(
                    db, owners=[owners[n % len(owners)]], times=[datetime.now(UTC)], first_id=n + 1
                )
                committed[n + 1] = time.time()
                await asyncio.sleep(0.05)
            await until_published(db, args.posts, args.timeout)
            rows = await attempts(db)
        finally:
            await stop_workers(procs)
            await db.dispose()
    delays = sorted((r[0].timestamp() - committed[r[2]]) * 1000 for r in rows)
    figures = spread(delays)
    return {"posts": len(delays), **{f"{k}_ms": round(v, 1) for k, v in figures.items()}}


async def main(args: argparse.Namespace) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        for latency in [float(x) for x in args.latency_ms.split(",")]:
            for workers in [int(x) for x in args.workers.split(",")]:
                row = await throughput(args, workers, latency, tmp)
                print(row, flush=True)
                rows.append(row)
        wake = await wakeups(args, tmp)
        print(wake, flush=True)
    print(table(rows, [(k, k) for k in rows[0]]))
    print(table([wake], [(k, k) for k in wake]))
    save("cluster", [*rows, {"wakeup": wake}])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", action="store_true", help="(internal) run one worker")
    parser.add_argument("--latency-ms", default="0,200")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--targets", type=int, default=2000)
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--pg", default=DEFAULT_PG)
    parsed = parser.parse_args()
    if parsed.serve:
        asyncio.run(serve(float(parsed.latency_ms)))
    else:
        asyncio.run(main(parsed))
