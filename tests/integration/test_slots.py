"""Queue slots in the database, on SQLite and PostgreSQL: scoped to their owner, and the next
free slot per account skips the instants other posts already hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from bot.compose.slots import times_for
from bot.schedule.slots import NoSlots
from storage import accounts, posts, users
from storage import slots as slots_repo
from storage.db import Database
from storage.models import Account, Target, TargetStatus

# Sunday 22 Nov 2026, 10:00 in Berlin.
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
MONDAY_9 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 09:00 CET


async def _user(db: Database, user_id: int, *labels: str) -> list[int]:
    async def work(s):  # type: ignore[no-untyped-def]
        await users.upsert(
            s,
            user_id=user_id,
            chat_id=user_id,
            first_name="A",
            username=None,
            language="en",
            default_timezone="Europe/Berlin",
            admin=False,
        )
        made = [
            await accounts.add(s, user_id=user_id, platform="dryrun", label=label)
            for label in labels
        ]
        return [account.id for account in made]

    return await db.run(work)


async def _schedule(db: Database, user_id: int, account_id: int, at: datetime) -> int:
    async def work(s):  # type: ignore[no-untyped-def]
        post = await posts.new_draft(s, user_id)
        post.text = "queued"
        chosen = await accounts.get_many(s, user_id, [account_id])
        result = await posts.schedule(s, post, chosen, at, "Europe/Berlin")
        return result.targets[0].id

    return await db.run(work)


async def test_slots_belong_to_their_owner(db: Database) -> None:
    [mine] = await _user(db, 1, "Mine")
    [theirs] = await _user(db, 2, "Theirs")

    assert await db.run(lambda s: slots_repo.add(s, 1, mine, [(0, 540), (1, 540)])) == 2
    assert await db.run(lambda s: slots_repo.add(s, 1, theirs, [(0, 540)])) is None
    assert await db.run(lambda s: slots_repo.add(s, 2, theirs, [(6, 60)])) == 1

    own = await db.run(lambda s: slots_repo.list_for(s, 1))
    assert [(slot.account_id, slot.weekday, slot.minute) for slot in own] == [
        (mine, 0, 540),
        (mine, 1, 540),
    ]
    # Another user can neither remove nor clear them.
    assert await db.run(lambda s: slots_repo.remove(s, 2, own[0].id)) is None
    assert await db.run(lambda s: slots_repo.clear(s, 2, mine)) == 0
    assert await db.run(lambda s: slots_repo.count(s, 1, mine)) == 2

    assert await db.run(lambda s: slots_repo.remove(s, 1, own[0].id)) == mine
    assert await db.run(lambda s: slots_repo.clear(s, 1, mine)) == 1
    assert await db.run(lambda s: slots_repo.list_for(s, 1)) == []
    assert len(await db.run(lambda s: slots_repo.list_for(s, 2))) == 1


async def test_adding_a_slot_twice_keeps_one(db: Database) -> None:
    [account] = await _user(db, 1, "Mine")
    assert await db.run(lambda s: slots_repo.add(s, 1, account, [(0, 540)])) == 1
    assert await db.run(lambda s: slots_repo.add(s, 1, account, [(0, 540), (0, 600)])) == 1
    assert await db.run(lambda s: slots_repo.count(s, 1, account)) == 2


async def test_taken_counts_queued_and_published_targets_of_that_account_only(
    db: Database,
) -> None:
    first, second = await _user(db, 1, "First", "Second")
    queued = await _schedule(db, 1, first, MONDAY_9)
    published = await _schedule(db, 1, first, MONDAY_9 + timedelta(hours=8))
    cancelled = await _schedule(db, 1, first, MONDAY_9 + timedelta(days=1))
    await _schedule(db, 1, second, MONDAY_9 + timedelta(days=2))
    await _schedule(db, 1, first, NOW - timedelta(days=1))  # before `since`

    async def mark(target_id: int, status: TargetStatus) -> None:
        async def work(s):  # type: ignore[no-untyped-def]
            await s.execute(update(Target).where(Target.id == target_id).values(status=status))

        await db.run(work)

    await mark(published, TargetStatus.PUBLISHED)
    await mark(cancelled, TargetStatus.CANCELLED)
    del queued

    taken = await db.run(lambda s: slots_repo.taken(s, 1, first, NOW))
    assert taken == {MONDAY_9, MONDAY_9 + timedelta(hours=8)}
    assert await db.run(lambda s: slots_repo.taken(s, 2, first, NOW)) == set()


async def test_next_free_slot_per_account(db: Database) -> None:
    mornings, evenings, empty = await _user(db, 1, "Mornings", "Evenings", "Empty")
    await db.run(lambda s: slots_repo.add(s, 1, mornings, [(day, 540) for day in range(5)]))
    await db.run(lambda s: slots_repo.add(s, 1, evenings, [(0, 1080), (2, 1080)]))
    await _schedule(db, 1, mornings, MONDAY_9)  # Monday 09:00 is taken for Mornings only

    async def plan(ids: list[int]) -> dict[int, datetime]:
        async def work(s):  # type: ignore[no-untyped-def]
            chosen: list[Account] = await accounts.get_many(s, 1, ids)
            return await times_for(s, 1, "Europe/Berlin", chosen, NOW)

        return await db.run(work)

    times = await plan([mornings, evenings])
    assert times == {
        mornings: MONDAY_9 + timedelta(days=1),  # Tuesday 09:00 CET
        evenings: MONDAY_9 + timedelta(hours=9),  # Monday 18:00 CET
    }
    with pytest.raises(NoSlots) as refused:
        await plan([mornings, empty])
    assert refused.value.labels == ["Empty"]
    assert "/slots" in str(refused.value)
