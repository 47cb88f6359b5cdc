"""How late does Crier publish? Schedules posts a few seconds ahead and measures the delay
between each target's publish_at and the start of its publish attempt.

    .venv/bin/python -m benchmarks.publish_delay [--posts 300] [--backlog 10000] [--db URL]

`--backlog` adds that many far-future queued targets first, to show that start-up and
wake-ups don't slow down with the number of pending posts.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from bot.app import Crier
from bot.config import Settings
from providers.base import AccountRef, PostContent, PublishResult
from providers.dryrun import DryRunProvider
from storage import accounts, users
from storage.models import Attempt, Post, PostStatus, Target, TargetStatus
from storage.posts import idempotency_key


class LatencyProvider(DryRunProvider):
    """Dry run that takes as long as a real platform's API call."""

    platform = "bench"
    display_name = "Bench"

    def __init__(self, latency: float) -> None:
        super().__init__()
        self.latency = latency

    async def publish(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> PublishResult:
        await asyncio.sleep(self.latency)
        return await super().publish(post, account, idempotency_key)


async def seed(crier: Crier, times: list[datetime]) -> None:
    """One queued post per time, for the benchmark user's account."""

    async def work(session):  # type: ignore[no-untyped-def]
        await users.upsert(
            session,
            user_id=1,
            chat_id=1,
            first_name="Bench",
            username=None,
            language="en",
            default_timezone="UTC",
            admin=False,
        )
        account = await accounts.find_external(session, 1, "bench", "bench")
        if account is None:
            account = await accounts.add(
                session, user_id=1, platform="bench", label="Bench", external_id="bench"
            )
        rows = list(enumerate(times))
        if not rows:
            return
        post_ids = (
            await session.scalars(
                insert(Post).returning(Post.id),
                [
                    {
                        "user_id": 1,
                        "status": PostStatus.SCHEDULED,
                        "text": f"post {n}",
                        "overrides": {},
                        "draft_account_ids": [],
                        "publish_at": when,
                    }
                    for n, when in rows
                ],
            )
        ).all()
        await session.execute(
            insert(Target),
            [
                {
                    "post_id": pid,
                    "account_id": account.id,
                    "user_id": 1,
                    "occurrence": 0,
                    "publish_at": when,
                    "next_attempt_at": when,
                    "status": TargetStatus.QUEUED,
                    "attempts": 0,
                    "idempotency_key": idempotency_key(pid, account.id, 0),
                }
                for pid, (_, when) in zip(post_ids, rows, strict=True)
            ],
        )

    await crier.db.run(work)


async def main(
    posts: int,
    backlog: int,
    db_url: str | None,
    spacing_ms: float,
    latency_ms: float,
    concurrency: int,
) -> None:
    fake = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks.fake_telegram_server", stdout=asyncio.subprocess.PIPE
    )
    assert fake.stdout is not None
    token, base_url, file_base_url = (await fake.stdout.readline()).decode().split()
    try:
        await run(
            posts,
            backlog,
            db_url,
            token,
            base_url,
            file_base_url,
            spacing_ms,
            latency_ms,
            concurrency,
        )
    finally:
        fake.terminate()
        await fake.wait()


async def run(
    posts: int,
    backlog: int,
    db_url: str | None,
    token: str,
    base_url: str,
    file_base_url: str,
    spacing_ms: float,
    latency_ms: float,
    concurrency: int,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if True:
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                telegram_bot_token=token,
                telegram_api_base_url=base_url,
                telegram_file_base_url=file_base_url,
                database_url=db_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
                media_dir=Path(tmp) / "media",
                engine_concurrency=concurrency,
            )
            seeder = Crier(settings, mode="worker")
            from storage.migrate import upgrade

            await upgrade(seeder.db)
            far = datetime.now(UTC) + timedelta(days=365)
            await seed(seeder, [far] * backlog)
            # The measured posts start 3 s after seeding, once the engine is up.
            start = datetime.now(UTC) + timedelta(seconds=3)
            await seed(
                seeder, [start + timedelta(milliseconds=spacing_ms * n) for n in range(posts)]
            )
            await seeder.db.dispose()

            boot = time.perf_counter()
            async with Crier(
                settings, mode="worker", providers=[LatencyProvider(latency_ms / 1000)]
            ) as crier:
                boot_s = time.perf_counter() - boot
                deadline = (
                    start + timedelta(milliseconds=spacing_ms * posts) + timedelta(seconds=30)
                )
                while datetime.now(UTC) < deadline:
                    async with crier.db.session() as session:
                        done = len(
                            (
                                await session.scalars(
                                    select(Target.id).where(Target.status == TargetStatus.PUBLISHED)
                                )
                            ).all()
                        )
                    if done >= posts:
                        break
                    await asyncio.sleep(0.2)
                async with crier.db.session() as session:
                    rows = (
                        await session.execute(
                            select(Target.publish_at, Attempt.started_at)
                            .join(Attempt, Attempt.target_id == Target.id)
                            .where(Target.status == TargetStatus.PUBLISHED)
                        )
                    ).all()
    delays = sorted((started - due).total_seconds() * 1000 for due, started in rows)
    print(
        f"posts={posts} spacing={spacing_ms} ms latency={latency_ms} ms "
        f"concurrency={concurrency} backlog={backlog} "
        f"db={'postgres' if db_url else 'sqlite'}"
    )
    print(f"start-up: {boot_s * 1000:.0f} ms")
    print(f"published: {len(delays)}/{posts}")
    if delays:
        p95 = delays[int(len(delays) * 0.95) - 1]
        print(
            f"delay ms: min {delays[0]:.1f}  p50 {statistics.median(delays):.1f}  "
            f"p95 {p95:.1f}  max {delays[-1]:.1f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--backlog", type=int, default=0)
    parser.add_argument("--db", default=None)
    parser.add_argument("--spacing-ms", type=float, default=20.0, help="0: all due at once")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="simulated API call")
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    asyncio.run(
        main(
            args.posts,
            args.backlog,
            args.db,
            args.spacing_ms,
            args.latency_ms,
            args.concurrency,
        )
    )
