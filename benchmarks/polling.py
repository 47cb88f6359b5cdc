"""The design Crier is compared with: a periodic poller (cron, Celery beat) that every
`period` seconds selects the due posts and hands them to a pool of workers.

It runs for real against the same tables and the same provider, with the same limits
(`concurrency` publishes at once, the provider's per-account limit), so the difference in
lateness is the design's: a post waits for the next tick, then for a worker.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from benchmarks.bench_provider import BenchProvider
from providers.base import AccountRef, PostContent
from storage.db import Database
from storage.models import Account, Target, TargetStatus


async def poll_and_publish(
    db: Database,
    provider: BenchProvider,
    *,
    posts: int,
    due: datetime,
    period: float,
    phase: float,
    concurrency: int,
) -> list[tuple[datetime, datetime, datetime]]:
    """Tick every `period` s, the first tick `phase` s after `due` (the burst landed that
    long before a tick); publish what each tick finds. Returns (due, started, published)
    per post."""
    pool = asyncio.Semaphore(concurrency)
    per_account: dict[int, asyncio.Semaphore] = defaultdict(
        lambda: asyncio.Semaphore(provider.limits.concurrency)
    )
    timings: list[tuple[datetime, datetime, datetime]] = []
    tick = due + timedelta(seconds=phase)
    while len(timings) < posts:
        await asyncio.sleep(max(0.0, (tick - datetime.now(UTC)).total_seconds()))
        async with db.session() as session:
            rows = (
                await session.execute(
                    select(Target.id, Target.account_id, Target.idempotency_key, Target.publish_at)
                    .join(Account, Account.id == Target.account_id)
                    .where(
                        Target.status == TargetStatus.QUEUED,
                        Target.next_attempt_at <= datetime.now(UTC),
                    )
                    .order_by(Target.next_attempt_at, Target.id)
                )
            ).all()
        published: list[int] = []

        async def work(
            target_id: int,
            account_id: int,
            key: str,
            publish_at: datetime,
            published: list[int] = published,
        ) -> None:
            async with pool, per_account[account_id]:
                started = datetime.now(UTC)
                ref = AccountRef(id=account_id, platform=provider.platform, label="bench")
                await provider.publish(PostContent(text="Benchmark"), ref, key)
                timings.append((publish_at, started, datetime.now(UTC)))
                published.append(target_id)

        await asyncio.gather(*(work(*row) for row in rows))
        async with db.session() as session:
            # What a worker would record; one statement per tick keeps it cheap.
            await session.execute(
                update(Target)
                .where(Target.id.in_(published))
                .values(status=TargetStatus.PUBLISHED, published_at=datetime.now(UTC))
            )
        tick += timedelta(seconds=period)
    return timings
