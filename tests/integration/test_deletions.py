"""Delete-after rows: taken once however many look, due again after the hold, on SQLite and
PostgreSQL with the same code."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update

from storage import deletions
from storage.db import Database
from storage.models import Target, TargetStatus
from tests.integration.test_queue import NOW, _schedule, _user

HOLD = timedelta(minutes=5)


async def _published(db: Database, delete_at: object) -> int:
    account = await _user(db)
    [target_id] = await _schedule(db, 1, [account], NOW - timedelta(hours=2))

    async def work(s):  # type: ignore[no-untyped-def]
        await s.execute(
            update(Target)
            .where(Target.id == target_id)
            .values(status=TargetStatus.PUBLISHED, published_at=NOW, delete_at=delete_at)
        )

    await db.run(work)
    return target_id


async def test_a_due_deletion_is_taken_once(db: Database) -> None:
    target_id = await _published(db, NOW - timedelta(seconds=1))
    first, second = await asyncio.gather(
        db.run(lambda s: deletions.take_due(s, NOW, HOLD)),
        db.run(lambda s: deletions.take_due(s, NOW, HOLD)),
    )
    assert sorted(len(found) for found in (first, second)) == [0, 1]
    [taken] = first or second
    assert taken.id == target_id
    assert taken.post.user.chat_id == 1
    # Held: not due again until the hold is over (a worker that died mid-way).
    assert await db.run(deletions.next_due) == NOW + HOLD
    assert (
        await db.run(lambda s: deletions.take_due(s, NOW + HOLD - timedelta(seconds=1), HOLD)) == []
    )
    again = await db.run(lambda s: deletions.take_due(s, NOW + HOLD, HOLD))
    assert [t.id for t in again] == [target_id]


async def test_done_and_given_up_are_never_taken_again(db: Database) -> None:
    target_id = await _published(db, NOW)
    await db.run(lambda s: deletions.deleted(s, target_id, NOW))
    assert await db.run(lambda s: deletions.take_due(s, NOW + timedelta(days=1), HOLD)) == []
    assert await db.run(deletions.next_due) is None


async def test_not_yet_due_is_left_and_named_as_next(db: Database) -> None:
    later = NOW + timedelta(hours=1)
    target_id = await _published(db, later)
    assert await db.run(lambda s: deletions.take_due(s, NOW, HOLD)) == []
    assert await db.run(deletions.next_due) == later
    await db.run(lambda s: deletions.given_up(s, target_id))
    assert await db.run(deletions.next_due) is None
