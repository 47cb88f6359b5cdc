"""Turns among several processes on one database, on SQLite and PostgreSQL: one front-end
at a time handles a user's update, one process at a time sends the broadcasts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import turns
from storage.db import Database

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
HOLD = timedelta(seconds=30)


async def test_one_process_at_a_time_has_a_role_until_it_gives_it_back_or_dies(
    db: Database,
) -> None:
    async def take(owner: str, now: datetime = NOW) -> bool:
        return await db.run(
            lambda s: turns.take_lease(s, name="broadcasts", owner=owner, now=now, hold=HOLD)
        )

    assert await take("a")
    assert await take("a"), "the holder renews"
    assert not await take("b"), "another process took a role that is held"
    await db.run(lambda s: turns.give_back_lease(s, name="broadcasts", owner="a"))
    assert await take("b")
    # b dies: a takes over once b's lease has run out, not before.
    assert not await take("a", NOW + HOLD - timedelta(seconds=1))
    assert await take("a", NOW + HOLD + timedelta(seconds=1))


async def test_one_front_end_at_a_time_handles_a_users_update(db: Database) -> None:
    async def take(owner: str, user_id: int = 42) -> bool:
        return await db.run(
            lambda s: turns.take(s, user_id=user_id, owner=owner, now=NOW, hold=HOLD)
        )

    assert await take("front-a")
    assert not await take("front-b")
    assert await take("front-b", user_id=43), "other users are not held up"
    await db.run(lambda s: turns.give_back(s, user_id=42, owner="front-a"))
    assert await take("front-b")
