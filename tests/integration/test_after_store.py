"""storage/after.py on SQLite and PostgreSQL: Undo takes back only a post whose targets are
all still queued (a claim in between makes it too late, and nothing changes), and only the
owner's; published targets are read, marked deleted and queued again only for their owner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from storage import accounts, after, posts, queue, users
from storage.db import Database
from storage.models import Post, PostStatus, Target, TargetStatus

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


async def _user(db: Database, user_id: int) -> int:
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
        return (await accounts.add(s, user_id=user_id, platform="dryrun", label="Dry run")).id

    return await db.run(work)


async def _post(db: Database, user_id: int, account: int, at: datetime) -> int:
    async def work(s):  # type: ignore[no-untyped-def]
        post = await posts.new_draft(s, user_id)
        post.text = "hello"
        chosen = await accounts.get_many(s, user_id, [account])
        await posts.schedule(s, post, chosen, at, "UTC")
        return post.id

    return await db.run(work)


async def test_undo_restores_the_draft_for_its_owner_only(db: Database) -> None:
    alice, bob = await _user(db, 1), await _user(db, 2)
    post_id = await _post(db, 1, alice, NOW + timedelta(seconds=30))
    assert await db.run(lambda s: after.undo(s, 2, post_id)) is None  # not Bob's
    assert bob
    assert await db.run(lambda s: after.undo(s, 1, post_id)) is True
    async with db.session() as s:
        post = await s.scalar(select(Post).where(Post.id == post_id))
        assert post is not None
        assert post.status == PostStatus.DRAFT
        assert list(await s.scalars(select(Target))) == []


async def test_undo_is_too_late_once_a_target_is_claimed(db: Database) -> None:
    account = await _user(db, 1)
    post_id = await _post(db, 1, account, NOW)
    [claimed] = await db.run(
        lambda s: queue.claim(s, owner="w1", now=NOW, lease=timedelta(minutes=5), limit=10)
    )
    assert await db.run(lambda s: after.undo(s, 1, post_id)) is False
    async with db.session() as s:
        row = await s.get(Target, claimed.id)
        assert row is not None
        assert row.status == TargetStatus.PUBLISHING


async def test_published_targets_are_the_owners_to_delete_and_post_again(db: Database) -> None:
    account = await _user(db, 1)
    await _user(db, 2)
    post_id = await _post(db, 1, account, NOW)
    [target] = await db.run(
        lambda s: queue.claim(s, owner="w1", now=NOW, lease=timedelta(minutes=5), limit=10)
    )
    done = queue.Done(target_id=target.id, platform_post_id="p1", url=None, ref={"parts": 1})
    await db.run(lambda s: queue.complete_many(s, done=[done], owner="w1", now=NOW))
    assert await db.run(lambda s: after.post_with_targets(s, 2, post_id)) is None
    post = await db.run(lambda s: after.post_with_targets(s, 1, post_id))
    assert post is not None
    assert [t.id for t in after.live(post)] == [target.id]
    await db.run(lambda s: after.mark_deleted(s, 2, [target.id], NOW))  # Bob's hand: nothing
    post = await db.run(lambda s: after.post_with_targets(s, 1, post_id))
    assert post is not None
    assert len(after.live(post)) == 1
    await db.run(lambda s: after.mark_deleted(s, 1, [target.id], NOW))
    post = await db.run(lambda s: after.post_with_targets(s, 1, post_id))
    assert post is not None
    assert after.live(post) == []
    key = target.idempotency_key
    assert await db.run(lambda s: after.post_again(s, 2, [target.id], NOW)) == 0
    assert await db.run(lambda s: after.post_again(s, 1, [target.id], NOW)) == 1
    async with db.session() as s:
        row = await s.get(Target, target.id)
        assert row is not None
        assert row.status == TargetStatus.QUEUED
        assert row.deleted_at is None
        assert row.platform_post_id is None
        assert row.idempotency_key != key


@pytest.mark.parametrize("seconds", [0, 30])
async def test_the_undo_window_is_stored(db: Database, seconds: int) -> None:
    await _user(db, 1)
    await db.run(lambda s: users.set_undo_seconds(s, 1, seconds))
    async with db.session() as s:
        user = await users.get(s, 1)
        assert user is not None
        assert user.undo_seconds == seconds
