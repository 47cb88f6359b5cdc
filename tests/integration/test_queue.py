"""The durable queue's guarantees, on SQLite and PostgreSQL with the same code."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from storage import accounts, posts, queue, users
from storage.db import Database
from storage.models import AccountStatus, Target, TargetStatus, UserStatus

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


async def _user(db: Database, user_id: int = 1) -> int:
    async def work(s):  # type: ignore[no-untyped-def]
        await users.upsert(
            s,
            user_id=user_id,
            chat_id=user_id,
            first_name="A",
            username=None,
            language="en",
            default_timezone="UTC",
            admin=False,
        )
        account = await accounts.add(s, user_id=user_id, platform="dryrun", label="Dry run")
        return account.id

    return await db.run(work)


async def _schedule(
    db: Database, user_id: int, account_ids: list[int], at: datetime, n: int = 1
) -> list[int]:
    async def work(s):  # type: ignore[no-untyped-def]
        ids = []
        for _ in range(n):
            post = await posts.new_draft(s, user_id)
            post.text = "hello"
            chosen = await accounts.get_many(s, user_id, account_ids)
            result = await posts.schedule(s, post, chosen, at, "UTC")
            ids.extend(t.id for t in result.targets)
        return ids

    return await db.run(work)


async def test_claim_takes_only_due_targets_earliest_first(db: Database) -> None:
    account = await _user(db)
    late = await _schedule(db, 1, [account], NOW + timedelta(minutes=1))
    early = await _schedule(db, 1, [account], NOW - timedelta(minutes=5))
    due = await _schedule(db, 1, [account], NOW)

    claimed = await db.run(lambda s: queue.claim(s, owner="w1", now=NOW, lease=LEASE, limit=10))

    assert [t.id for t in claimed] == early + due
    assert all(t.status == TargetStatus.PUBLISHING and t.lease_owner == "w1" for t in claimed)
    assert all(t.attempts == 1 for t in claimed)
    assert claimed[0].post.text == "hello"
    assert claimed[0].account.platform == "dryrun"
    assert await db.run(queue.next_due) == NOW + timedelta(minutes=1)
    assert late


async def test_claim_holds_targets_of_accounts_needing_reauth_and_banned_users(
    db: Database,
) -> None:
    account = await _user(db, 1)
    other = await _user(db, 2)
    await _schedule(db, 1, [account], NOW)
    await _schedule(db, 2, [other], NOW)
    await db.run(lambda s: accounts.set_status(s, 1, account, AccountStatus.NEEDS_REAUTH))
    await db.run(lambda s: users.set_status(s, 2, UserStatus.BANNED))

    claimed = await db.run(lambda s: queue.claim(s, owner="w", now=NOW, lease=LEASE, limit=10))

    assert claimed == []
    assert await db.run(queue.next_due) is None


async def test_concurrent_claimers_never_share_a_target(database_url: str, db: Database) -> None:
    account = await _user(db)
    ids = await _schedule(db, 1, [account], NOW, n=200)
    # Separate engines, as separate worker processes would have.
    engines = [Database(database_url) for _ in range(4)]

    async def worker(name: str, database: Database) -> list[int]:
        mine: list[int] = []
        while True:
            batch = await database.run(
                lambda s: queue.claim(s, owner=name, now=NOW, lease=LEASE, limit=7), tries=50
            )
            if not batch:
                return mine
            assert len(batch) <= 7, f"claimed {len(batch)} with limit 7"
            mine.extend(t.id for t in batch)

    try:
        results = await asyncio.gather(*(worker(f"w{i}", engines[i % 4]) for i in range(8)))
    finally:
        for engine in engines:
            await engine.dispose()

    claimed = [target for result in results for target in result]
    assert len(claimed) == len(set(claimed)), "a target was claimed twice"
    assert sorted(claimed) == sorted(ids)


async def test_only_the_lease_holder_settles_a_target(db: Database) -> None:
    account = await _user(db)
    [target_id] = await _schedule(db, 1, [account], NOW)
    await db.run(lambda s: queue.claim(s, owner="w1", now=NOW, lease=LEASE, limit=1))

    stolen = await db.run(
        lambda s: queue.complete(
            s, target_id=target_id, owner="w2", platform_post_id="x", url=None, now=NOW
        )
    )
    done = await db.run(
        lambda s: queue.complete(
            s, target_id=target_id, owner="w1", platform_post_id="42", url="u", now=NOW
        )
    )

    assert (stolen, done) == (False, True)
    [row] = await db.run(lambda s: queue.by_ids(s, [target_id]))
    assert (row.status, row.platform_post_id, row.url) == (TargetStatus.PUBLISHED, "42", "u")


async def test_retry_at_requeues_and_rate_limits_do_not_count(db: Database) -> None:
    account = await _user(db)
    [target_id] = await _schedule(db, 1, [account], NOW)
    await db.run(lambda s: queue.claim(s, owner="w", now=NOW, lease=LEASE, limit=1))
    later = NOW + timedelta(seconds=30)

    await db.run(
        lambda s: queue.retry_at(
            s, target_id=target_id, owner="w", when=later, error="429", count_attempt=False
        )
    )

    [row] = await db.run(lambda s: queue.by_ids(s, [target_id]))
    assert (row.status, row.attempts, row.next_attempt_at) == (TargetStatus.QUEUED, 0, later)
    assert await db.run(lambda s: queue.claim(s, owner="w", now=NOW, lease=LEASE, limit=1)) == []


async def test_one_summary_per_occurrence_when_targets_finish_together(
    database_url: str, db: Database
) -> None:
    first = await _user(db)
    second = await db.run(lambda s: accounts.add(s, user_id=1, platform="dryrun", label="B"))
    ids = await _schedule(db, 1, [first, second.id], NOW)
    claimed = await db.run(lambda s: queue.claim(s, owner="w", now=NOW, lease=LEASE, limit=2))
    post_id = claimed[0].post_id
    engines = [Database(database_url) for _ in ids]

    async def finish(target_id: int, database: Database) -> bool:
        async def work(s):  # type: ignore[no-untyped-def]
            await queue.complete(
                s, target_id=target_id, owner="w", platform_post_id="p", url=None, now=NOW
            )
            return await queue.settle_occurrence(s, post_id=post_id, occurrence=0, now=NOW)

        return await database.run(work, tries=50) is not None

    try:
        summaries = await asyncio.gather(*(finish(t, e) for t, e in zip(ids, engines, strict=True)))
    finally:
        for engine in engines:
            await engine.dispose()

    assert sorted(summaries) == [False, True]


async def test_expired_leases_are_found_and_released_once(db: Database) -> None:
    account = await _user(db)
    [target_id] = await _schedule(db, 1, [account], NOW)
    await db.run(lambda s: queue.claim(s, owner="dead", now=NOW, lease=LEASE, limit=1))
    later = NOW + LEASE + timedelta(seconds=1)

    expired = await db.run(lambda s: queue.expired_leases(s, later))
    first = await db.run(
        lambda s: queue.release_expired(
            s,
            target_id=target_id,
            lease_owner="dead",
            now=later,
            status=TargetStatus.UNKNOWN,
            error="worker died",
        )
    )
    second = await db.run(
        lambda s: queue.release_expired(
            s,
            target_id=target_id,
            lease_owner="dead",
            now=later,
            status=TargetStatus.QUEUED,
            error="worker died",
        )
    )

    assert [t.id for t in expired] == [target_id]
    assert (first, second) == (True, False)
    status = await db.run(lambda s: s.scalar(select(Target.status).where(Target.id == target_id)))
    assert status == TargetStatus.UNKNOWN


async def test_claim_takes_no_more_than_the_limit(db: Database) -> None:
    account = await _user(db)
    await _schedule(db, 1, [account], NOW, n=60)

    claimed = await db.run(lambda s: queue.claim(s, owner="w", now=NOW, lease=LEASE, limit=25))

    assert len(claimed) == 25


async def test_platform_and_account_limits_count_other_workers_leases(db: Database) -> None:
    first = await _user(db)
    second = await _user(db, user_id=2)
    await _schedule(db, 1, [first], NOW, n=3)
    await _schedule(db, 2, [second], NOW, n=3)
    # Each worker alone would have room for two dry runs, two per account.
    room = queue.Room(total=10, platforms={"dryrun": 2}, account_cap={"dryrun": 2})

    a = await db.run(lambda s: queue.claim(s, owner="a", now=NOW, lease=LEASE, room=room))
    b = await db.run(lambda s: queue.claim(s, owner="b", now=NOW, lease=LEASE, room=room))
    assert len(a) == 2
    assert b == [], "worker b took slots worker a holds"

    # a's leases expired (a died): their slots are free again for b.
    later = NOW + LEASE + timedelta(seconds=1)
    b = await db.run(lambda s: queue.claim(s, owner="b", now=later, lease=LEASE, room=room))
    assert len(b) == 2


async def test_a_cluster_cap_counts_every_workers_publishes(db: Database) -> None:
    account = await _user(db)
    await _schedule(db, 1, [account], NOW, n=5)
    room = queue.Room(total=10, cluster_cap=3)

    a = await db.run(lambda s: queue.claim(s, owner="a", now=NOW, lease=LEASE, room=room))
    b = await db.run(lambda s: queue.claim(s, owner="b", now=NOW, lease=LEASE, room=room))
    assert (len(a), len(b)) == (3, 0)


async def test_a_breaker_one_worker_opened_holds_every_workers_claims(db: Database) -> None:
    from storage import turns

    account = await _user(db)
    await _schedule(db, 1, [account], NOW, n=2)
    until = NOW + timedelta(seconds=60)
    await db.run(lambda s: turns.open_breaker(s, key="platform:dryrun", owner="a", until=until))

    held = await db.run(lambda s: queue.claim(s, owner="b", now=NOW, lease=LEASE, limit=10))
    later = until + timedelta(seconds=1)
    after = await db.run(lambda s: queue.claim(s, owner="b", now=later, lease=LEASE, limit=10))
    assert held == []
    assert len(after) == 2
