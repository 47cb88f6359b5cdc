"""Repeating posts in the database: each occurrence its own targets, the next one queued when
one settles, missed ones skipped rather than published late, and cancelling one or all;
on SQLite and PostgreSQL with the same code."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.engine import series
from storage import accounts, posts, users
from storage import series as store
from storage.db import Database
from storage.models import AccountStatus, Post, PostStatus, Target, TargetStatus

BERLIN = "Europe/Berlin"
#: Saturday 27 March 2027, 09:00 in Berlin (CET); clocks go forward the next night.
SATURDAY = datetime(2027, 3, 27, 8, 0, tzinfo=UTC)


async def _user(db: Database, user_id: int = 1) -> int:
    async def work(s: AsyncSession) -> int:
        await users.upsert(
            s,
            user_id=user_id,
            chat_id=user_id,
            first_name="A",
            username=None,
            language="en",
            default_timezone=BERLIN,
            admin=False,
        )
        account = await accounts.add(s, user_id=user_id, platform="dryrun", label="Dry run")
        return account.id

    return await db.run(work)


async def _series(
    db: Database, rule: str, account_ids: list[int], start: datetime = SATURDAY, user_id: int = 1
) -> int:
    """A scheduled series starting at `start` (its first occurrence), as confirm makes it."""

    async def work(s: AsyncSession) -> int:
        post = await posts.new_draft(s, user_id)
        post.text = "hello"
        post.rrule = rule
        chosen = await accounts.get_many(s, user_id, account_ids)
        dtstart, first = series.first_occurrence(rule, BERLIN, start)
        await posts.schedule(s, post, chosen, first, BERLIN, dtstart_local=dtstart)
        return post.id

    return await db.run(work)


async def _targets(db: Database, post_id: int) -> list[Target]:
    async def work(s: AsyncSession) -> list[Target]:
        rows = await s.scalars(
            select(Target).where(Target.post_id == post_id).order_by(Target.occurrence, Target.id)
        )
        return list(rows)

    return await db.run(work)


async def _settle(
    db: Database, post_id: int, occurrence: int, now: datetime, status: TargetStatus
) -> series.Next | None:
    """The occurrence's targets end with `status`; the series moves on, as the writer does."""

    async def work(s: AsyncSession) -> series.Next | None:
        await s.execute(
            update(Target)
            .where(Target.post_id == post_id, Target.occurrence == occurrence)
            .values(status=status, published_at=now)
        )
        settled = await store.occurrence_targets(s, post_id, occurrence)
        return await series.advance(s, post_id, settled, now)

    return await db.run(work)


async def test_schedule_stores_the_rule_zone_and_wall_clock_start(db: Database) -> None:
    account = await _user(db)
    post_id = await _series(db, "FREQ=DAILY", [account])

    async def read(s: AsyncSession) -> Post | None:
        return await s.get(Post, post_id)

    post = await db.run(read)
    assert post is not None
    assert (post.rrule, post.timezone, post.dtstart_local) == (
        "FREQ=DAILY",
        BERLIN,
        "2027-03-27T09:00:00",
    )
    [first] = await _targets(db, post_id)
    assert (first.occurrence, first.publish_at) == (0, SATURDAY)


async def test_a_settled_occurrence_queues_the_next_at_the_same_wall_time(db: Database) -> None:
    account = await _user(db)
    post_id = await _series(db, "FREQ=DAILY", [account])

    following = await _settle(db, post_id, 0, SATURDAY, TargetStatus.PUBLISHED)

    # Sunday 09:00 is CEST: 07:00 UTC, 23 hours after Saturday's, not 24.
    sunday = datetime(2027, 3, 28, 7, 0, tzinfo=UTC)
    assert following == series.Next(tz=BERLIN, at=sunday)
    [first, second] = await _targets(db, post_id)
    assert (second.occurrence, second.status, second.publish_at) == (1, "queued", sunday)
    assert second.next_attempt_at == sunday
    assert second.idempotency_key == posts.idempotency_key(post_id, account, 1)
    assert second.idempotency_key != first.idempotency_key


async def test_a_failed_occurrence_moves_the_series_on_too(db: Database) -> None:
    account = await _user(db)
    post_id = await _series(db, "FREQ=DAILY", [account])
    following = await _settle(db, post_id, 0, SATURDAY, TargetStatus.FAILED)
    assert following is not None
    assert following.at is not None
    assert [t.occurrence for t in await _targets(db, post_id)] == [0, 1]


async def test_settling_the_same_occurrence_again_creates_nothing(db: Database) -> None:
    account = await _user(db)
    post_id = await _series(db, "FREQ=DAILY", [account])
    await _settle(db, post_id, 0, SATURDAY, TargetStatus.FAILED)

    # The user retries occurrence 0 and it settles again: the series has moved on already.
    again = await _settle(db, post_id, 0, SATURDAY, TargetStatus.PUBLISHED)

    assert again is None
    assert [t.occurrence for t in await _targets(db, post_id)] == [0, 1]


async def test_concurrent_settlers_of_one_occurrence_queue_one_next(
    database_url: str, db: Database
) -> None:
    account = await _user(db)
    post_id = await _series(db, "FREQ=DAILY", [account])
    await db.run(
        lambda s: s.execute(
            update(Target).where(Target.post_id == post_id).values(status=TargetStatus.PUBLISHED)
        )
    )
    # Separate engines, as separate worker processes would have.
    engines = [Database(database_url) for _ in range(4)]

    async def settle(database: Database) -> series.Next | None:
        async def work(s: AsyncSession) -> series.Next | None:
            settled = await store.occurrence_targets(s, post_id, 0)
            return await series.advance(s, post_id, settled, SATURDAY)

        return await database.run(work, tries=50)

    try:
        results = await asyncio.gather(*(settle(engine) for engine in engines))
    finally:
        for engine in engines:
            await engine.dispose()

    assert sum(result is not None for result in results) == 1
    assert [t.occurrence for t in await _targets(db, post_id)] == [0, 1]


async def test_the_series_ends_with_its_rule(db: Database) -> None:
    account = await _user(db)
    post_id = await _series(db, "FREQ=DAILY;COUNT=2", [account])

    first = await _settle(db, post_id, 0, SATURDAY, TargetStatus.PUBLISHED)
    assert first is not None
    assert first.at is not None
    last = await _settle(db, post_id, 1, first.at, TargetStatus.PUBLISHED)

    assert last == series.Next(tz=BERLIN, at=None)
    assert [t.occurrence for t in await _targets(db, post_id)] == [0, 1]


async def test_a_stopped_series_and_disconnected_accounts_get_no_new_occurrence(
    db: Database,
) -> None:
    account = await _user(db)
    other = await db.run(lambda s: accounts.add(s, user_id=1, platform="dryrun", label="Two"))
    post_id = await _series(db, "FREQ=DAILY", [account, other.id])
    await db.run(lambda s: accounts.set_status(s, 1, other.id, AccountStatus.DISABLED))

    following = await _settle(db, post_id, 0, SATURDAY, TargetStatus.PUBLISHED)
    assert following is not None
    [_, _, only] = await _targets(db, post_id)
    assert (only.occurrence, only.account_id) == (1, account), "the disabled account is left out"

    assert await db.run(lambda s: posts.cancel(s, 1, post_id)) == 1
    assert await _settle(db, post_id, 1, SATURDAY, TargetStatus.CANCELLED) is None
    assert len(await _targets(db, post_id)) == 3


async def test_a_late_settle_skips_to_the_present_instead_of_a_burst(db: Database) -> None:
    account = await _user(db)
    post_id = await _series(db, "FREQ=DAILY", [account])

    # Occurrence 0 (Saturday 09:00) only settles on Tuesday at 09:30, after downtime.
    tuesday = datetime(2027, 3, 30, 7, 30, tzinfo=UTC)
    following = await _settle(db, post_id, 0, tuesday, TargetStatus.PUBLISHED)

    rows = await _targets(db, post_id)
    assert [(t.occurrence, t.status) for t in rows] == [
        (0, TargetStatus.PUBLISHED),
        (1, TargetStatus.CANCELLED),  # Sunday and Monday, skipped, with a note
        (2, TargetStatus.QUEUED),  # Tuesday 09:00: 30 minutes late, so it goes out now
    ]
    assert rows[1].last_error is not None
    assert rows[1].last_error.startswith("Skipped 2 repeats, the first due 28 Mar 09:00 CEST")
    assert rows[1].notified_at is not None, "a skipped repeat sends no summary"
    assert rows[2].publish_at == datetime(2027, 3, 30, 7, 0, tzinfo=UTC)
    assert rows[2].next_attempt_at == tuesday
    assert following == series.Next(tz=BERLIN, at=rows[2].publish_at)

    # Settled two hours after Tuesday's: nothing is less than an hour late, so Wednesday.
    later = datetime(2027, 3, 30, 9, 0, tzinfo=UTC)
    following = await _settle(db, post_id, 2, later, TargetStatus.PUBLISHED)
    rows = await _targets(db, post_id)
    assert [(t.occurrence, t.status) for t in rows][3:] == [(3, TargetStatus.QUEUED)]
    assert rows[3].publish_at == datetime(2027, 3, 31, 7, 0, tzinfo=UTC)
    assert rows[3].next_attempt_at == rows[3].publish_at


async def test_skip_missed_skips_never_tried_occurrences_over_an_hour_late(db: Database) -> None:
    account = await _user(db)
    stale = await _series(db, "FREQ=DAILY", [account])
    retried = await _series(db, "FREQ=DAILY", [account])
    one_off = await db.run(lambda s: posts.new_draft(s, 1))

    async def one_off_schedule(s: AsyncSession) -> None:
        post = await s.get(Post, one_off.id)
        assert post is not None
        post.text = "once"
        [chosen] = await accounts.get_many(s, 1, [account])
        await posts.schedule(s, post, [chosen], SATURDAY, BERLIN)

    await db.run(one_off_schedule)
    # A retry in progress is not "missed": its next attempt is not its planned time.
    await db.run(
        lambda s: s.execute(
            update(Target)
            .where(Target.post_id == retried)
            .values(attempts=1, next_attempt_at=SATURDAY + timedelta(minutes=5))
        )
    )

    # Still within the hour: nothing is skipped.
    assert await db.run(lambda s: series.skip_missed(s, SATURDAY + timedelta(minutes=59))) == 0
    # Monday 08:30 (CEST): Saturday's and Sunday's were missed; Monday's is ahead.
    monday = datetime(2027, 3, 29, 6, 30, tzinfo=UTC)
    assert await db.run(lambda s: series.skip_missed(s, monday)) == 1

    rows = await _targets(db, stale)
    assert [(t.occurrence, t.status) for t in rows] == [
        (0, TargetStatus.CANCELLED),
        (1, TargetStatus.QUEUED),
    ]
    assert rows[0].last_error is not None
    assert rows[0].last_error.startswith("Skipped 2 repeats, the first due 27 Mar 09:00 CET")
    assert rows[1].publish_at == datetime(2027, 3, 29, 7, 0, tzinfo=UTC)
    assert [t.status for t in await _targets(db, retried)] == [TargetStatus.QUEUED]
    assert [t.status for t in await _targets(db, one_off.id)] == [TargetStatus.QUEUED]
    assert await db.run(lambda s: series.skip_missed(s, monday)) == 0


async def test_cancel_one_occurrence_or_the_whole_series_only_for_the_owner(
    db: Database,
) -> None:
    account = await _user(db)
    await _user(db, 2)
    post_id = await _series(db, "FREQ=DAILY", [account])

    assert await db.run(lambda s: posts.cancel_occurrence(s, 2, post_id, 0)) is None
    assert await db.run(lambda s: posts.cancel(s, 2, post_id)) is None
    assert await db.run(lambda s: store.lock(s, post_id, user_id=2)) is None

    done = await db.run(lambda s: posts.cancel_occurrence(s, 1, post_id, 0))
    assert done is not None
    count, rows = done
    assert count == 1
    assert [t.status for t in rows] == [TargetStatus.CANCELLED]

    async def status(s: AsyncSession) -> PostStatus | None:
        post = await s.get(Post, post_id)
        return post.status if post else None

    assert await db.run(status) == PostStatus.SCHEDULED, "the series goes on"
    assert await db.run(lambda s: posts.cancel(s, 1, post_id)) == 0
    assert await db.run(status) == PostStatus.CANCELLED, "the whole series stops"
