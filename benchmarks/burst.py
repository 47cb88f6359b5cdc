"""Burst lateness: `--posts` posts all due in the same second, on one account or spread over
many, and how late each one starts publishing.

    .venv/bin/python -m benchmarks.burst [--posts 10000] [--latency-ms 0] [--concurrency 32]
        [--account-concurrency 2] [--only engine-sqlite-1000] [--no-pg] [--no-polling]

Each engine row starts a real `crier worker` (engine, outcome writer, notifier, JobQueue
timer) on a fresh database, with the fake Bot API (Telegram's flood limits on) in its own
process; the burst is due a few seconds after start-up, so the engine is asleep on its timer
when it falls due. The polling rows run the cron / Celery-beat design (benchmarks/polling.py)
with the same provider and limits. Lateness is the start of a post's publish minus the time
its user chose. Prints a table; writes benchmarks/results/burst.json.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import func, select

from benchmarks import report
from benchmarks.bench_provider import BenchProvider
from benchmarks.databases import DEFAULT_PG, fresh_database
from benchmarks.fake_telegram_server import fake_bot_api
from benchmarks.polling import poll_and_publish
from benchmarks.seeding import seed_accounts, seed_posts, seed_users
from bot.app import Crier
from bot.config import Settings
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Attempt, Notice, Target, TargetStatus

#: Seconds between seeding and the burst falling due: the worker is up and asleep by then.
LEAD = 4.0


@dataclass(frozen=True)
class Scenario:
    design: str  # "engine" or "polling"
    db: str  # "sqlite" or "postgres"
    accounts: int

    @property
    def name(self) -> str:
        return f"{self.design}-{self.db}-{self.accounts}"


async def prepare(url: str, posts: int, accounts: int) -> datetime:
    """Migrate, seed one user per account and the posts (round robin); returns their time."""
    db = Database(url)
    try:
        await upgrade(db)
        users = await seed_users(db, accounts)
        account_ids = await seed_accounts(db, users, accounts, BenchProvider.platform)
        due = datetime.now(UTC) + timedelta(seconds=LEAD)
        await seed_posts(db, owners=list(zip(users, account_ids, strict=True)), times=[due] * posts)
        if not db.is_sqlite:
            # What autovacuum does within a minute of a bulk load; with no statistics at all
            # PostgreSQL chose a nested loop over every queued target (seconds per claim).
            async with db.engine.begin() as conn:
                await conn.exec_driver_sql("ANALYZE")
        return due
    finally:
        await db.dispose()


async def published_count(db: Database) -> int:
    async with db.session() as session:
        count = await session.scalar(
            select(func.count()).where(Target.status == TargetStatus.PUBLISHED)
        )
    return count or 0


async def engine_timings(db: Database) -> list[tuple[datetime, datetime, datetime]]:
    async with db.session() as session:
        rows = await session.execute(
            select(Target.publish_at, func.min(Attempt.started_at), Target.published_at)
            .join(Attempt, Attempt.target_id == Target.id)
            .where(Target.status == TargetStatus.PUBLISHED)
            .group_by(Target.id)
        )
        return [(due, started, done) for due, started, done in rows]


async def notice_count(db: Database) -> int:
    async with db.session() as session:
        return await session.scalar(select(func.count()).select_from(Notice)) or 0


async def run_engine(scenario: Scenario, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    provider = BenchProvider(latency=args.latency_ms / 1000, concurrency=args.account_concurrency)
    async with (
        fresh_database(scenario.db, tmp, args.pg) as url,
        fake_bot_api(scenario.accounts, rate_limits=True) as api,
    ):
        due = await prepare(url, args.posts, scenario.accounts)
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            telegram_bot_token=SecretStr(api.token),
            telegram_api_base_url=api.base_url,
            telegram_file_base_url=api.file_base_url,
            database_url=url,
            media_dir=tmp / "media",
            engine_concurrency=args.concurrency,
        )
        async with Crier(settings, mode="worker", providers=[provider]) as crier:
            assert crier.services is not None
            assert crier.services.engine is not None
            engine = crier.services.engine
            sweeps_before = engine.sweeps
            deadline = time.monotonic() + LEAD + args.timeout
            while time.monotonic() < deadline:
                # The provider's own count first: a count query every 0.2 s would take
                # turns on the database with the engine it measures.
                if len(provider.published) >= args.posts:
                    await crier.services.engine.writer.flush()
                    if await published_count(crier.db) >= args.posts:
                        break
                await asyncio.sleep(0.2)
            sweeps = engine.sweeps - sweeps_before
            timings = await engine_timings(crier.db)
            notices = await notice_count(crier.db)
    row = summarise(scenario, timings, due, args.posts)
    row.update(
        sweeps=sweeps,
        summary_notices=notices,
        dms=api.counts.get("messages"),
        most_at_once_per_account=provider.max_per_account,
        published_twice=sum(n > 1 for n in provider.published.values()),
    )
    return row


async def run_polling(scenario: Scenario, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    provider = BenchProvider(latency=args.latency_ms / 1000, concurrency=args.account_concurrency)
    async with fresh_database(scenario.db, tmp, args.pg) as url:
        due = await prepare(url, args.posts, scenario.accounts)
        db = Database(url)
        try:
            timings = await poll_and_publish(
                db,
                provider,
                posts=args.posts,
                due=due,
                period=args.poll_period,
                phase=args.poll_period / 2,
                concurrency=args.concurrency,
            )
        finally:
            await db.dispose()
    row = summarise(scenario, timings, due, args.posts)
    row.update(
        most_at_once_per_account=provider.max_per_account,
        published_twice=sum(n > 1 for n in provider.published.values()),
    )
    return row


def summarise(
    scenario: Scenario,
    timings: Sequence[tuple[datetime, datetime, datetime]],
    due: datetime,
    posts: int,
) -> dict[str, Any]:
    late = report.spread([(started - at).total_seconds() * 1000 for at, started, _ in timings])
    last = max((done for *_, done in timings), default=due)
    first = min((started for _, started, _ in timings), default=due)
    span = (last - first).total_seconds()
    return {
        "scenario": scenario.name,
        "design": scenario.design,
        "db": scenario.db,
        "accounts": scenario.accounts,
        "posts": posts,
        "published": len(timings),
        **{f"late_{k}_ms": v for k, v in late.items()},
        "last_published_s": (last - due).total_seconds(),
        "publishes_per_s": len(timings) / span if span > 0 else 0.0,
    }


COLUMNS = [
    ("scenario", "scenario"),
    ("published", "published"),
    ("late_p50_ms", "p50 ms"),
    ("late_p95_ms", "p95 ms"),
    ("late_p99_ms", "p99 ms"),
    ("late_max_ms", "max ms"),
    ("last_published_s", "last out s"),
    ("publishes_per_s", "publishes/s"),
    ("most_at_once_per_account", "most/account"),
    ("published_twice", "twice"),
    ("summary_notices", "notices"),
]


def scenarios(args: argparse.Namespace) -> list[Scenario]:
    found = [
        Scenario(design, db, accounts)
        for design, db in (("engine", "sqlite"), ("engine", "postgres"), ("polling", "sqlite"))
        for accounts in args.accounts
    ]
    if args.no_pg:
        found = [s for s in found if s.db != "postgres"]
    if args.no_polling:
        found = [s for s in found if s.design != "polling"]
    if args.only:
        found = [s for s in found if s.name in args.only]
    return found


async def main(args: argparse.Namespace) -> None:
    rows = []
    for scenario in scenarios(args):
        with tempfile.TemporaryDirectory() as tmp:
            run = run_engine if scenario.design == "engine" else run_polling
            row = await run(scenario, args, Path(tmp))
        row.update(
            latency_ms=args.latency_ms,
            concurrency=args.concurrency,
            account_concurrency=args.account_concurrency,
        )
        rows.append(row)
        print(report.table([row], COLUMNS).splitlines()[-1], flush=True)
    print()
    print(
        f"{args.posts:,} posts due at one instant; provider {args.latency_ms:g} ms; "
        f"ENGINE_CONCURRENCY {args.concurrency}; per account {args.account_concurrency} at once"
    )
    print(report.table(rows, COLUMNS))
    print(f"\nwritten to {report.save('burst', rows, args.json)}")


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument(
        "--accounts", type=int, nargs="+", default=[1, 1000], help="one run per count"
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="each publish's time")
    parser.add_argument("--concurrency", type=int, default=32, help="ENGINE_CONCURRENCY")
    parser.add_argument("--account-concurrency", type=int, default=2, help="per account")
    parser.add_argument("--poll-period", type=float, default=60.0)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per run")
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL server and database")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-polling", action="store_true")
    parser.add_argument("--only", nargs="+", help="scenario names, e.g. engine-sqlite-1000")
    parser.add_argument("--json", type=Path, help="default: benchmarks/results/burst.json")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
