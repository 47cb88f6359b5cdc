"""Editing against the engine's claim, on SQLite and PostgreSQL: an edit only ever changes
targets still queued, and a claim never takes a target an edit is changing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from storage import accounts, post_edits, posts, queue, users
from storage.db import Database
from storage.models import Post, Target, TargetStatus

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=3)
LEASE = timedelta(minutes=5)


async def _setup(db: Database) -> tuple[int, list[int], list[int]]:
    """A user with two accounts and a post due now on both: (post, accounts, targets)."""

    async def work(s):  # type: ignore[no-untyped-def]
        await users.upsert(
            s,
            user_id=1,
            chat_id=1,
            first_name="A",
            username=None,
            language="en",
            default_timezone="UTC",
            admin=False,
        )
        first = await accounts.add(s, user_id=1, platform="dryrun", label="One")
        second = await accounts.add(s, user_id=1, platform="dryrun", label="Two")
        post = await posts.new_draft(s, 1)
        post.text = "hello"
        result = await posts.schedule(s, post, [first, second], NOW, "UTC")
        return post.id, [first.id, second.id], [t.id for t in result.targets]

    return await db.run(work)


async def _targets(db: Database) -> dict[int, Target]:
    async with db.session() as s:
        rows = await s.scalars(select(Target).execution_options(populate_existing=True))
        return {t.id: t for t in rows}


async def test_an_edit_changes_only_what_is_still_queued(db: Database) -> None:
    post_id, _, (claimed_id, waiting_id) = await _setup(db)
    [claimed] = await db.run(lambda s: queue.claim(s, owner="w", now=NOW, lease=LEASE, limit=1))
    assert claimed.id == claimed_id

    async def edit(s):  # type: ignore[no-untyped-def]
        locked = await post_edits.lock_queued(s, 1, post_id)
        ids = [claimed_id, waiting_id]
        return (
            [t.id for t in locked],
            await post_edits.retime(s, 1, ids, LATER),
            await post_edits.cancel_targets(s, 1, [claimed_id]),
        )

    locked, moved, cancelled = await db.run(edit)
    assert (locked, moved, cancelled) == ([waiting_id], 1, 0)
    rows = await _targets(db)
    assert rows[claimed_id].status == TargetStatus.PUBLISHING
    assert rows[claimed_id].publish_at == NOW
    assert rows[waiting_id].publish_at == LATER
    assert rows[waiting_id].next_attempt_at == LATER


async def test_another_users_targets_are_never_touched(db: Database) -> None:
    post_id, _, target_ids = await _setup(db)

    async def edit(s):  # type: ignore[no-untyped-def]
        return (
            await post_edits.lock_queued(s, 2, post_id),
            await post_edits.retime(s, 2, target_ids, LATER),
            await post_edits.cancel_targets(s, 2, target_ids),
            await post_edits.move_targets(s, 2, target_ids, post_id),
            await post_edits.media_rows(s, 2, [1, 2]),
        )

    assert await db.run(edit) == ([], 0, 0, 0, [])
    assert {t.status for t in (await _targets(db)).values()} == {TargetStatus.QUEUED}


async def test_a_fork_takes_over_the_waiting_targets_and_adding_back_gets_a_fresh_key(
    db: Database,
) -> None:
    post_id, (one, two), (first, second) = await _setup(db)

    async def edit(s):  # type: ignore[no-untyped-def]
        post = await posts.get(s, 1, post_id)
        assert post is not None
        copy = await post_edits.fork(
            s,
            post,
            text="edited",
            entities=[],
            overrides={},
            media=[],
            publish_at=LATER,
            account_ids=[two],
        )
        await post_edits.move_targets(s, 1, [second], copy.id, LATER)
        await post_edits.cancel_targets(s, 1, [first])
        [again] = await post_edits.add_targets(s, post, [one], LATER, 0)
        return copy.id, again.id, again.idempotency_key

    copy_id, again_id, key = await db.run(edit)
    rows = await _targets(db)
    assert (rows[second].post_id, rows[second].publish_at) == (copy_id, LATER)
    assert rows[first].status == TargetStatus.CANCELLED
    assert rows[again_id].status == TargetStatus.QUEUED
    assert key not in (rows[first].idempotency_key, rows[second].idempotency_key)
    async with db.session() as s:
        copy = await s.get(Post, copy_id)
        assert copy is not None
        assert copy.text == "edited"


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_claim_skips_targets_an_edit_is_changing(db: Database) -> None:
    """PostgreSQL: while an edit's transaction holds the queued targets, a worker's claim
    passes them by (SKIP LOCKED); once it commits, the claim sees the new time."""
    post_id, _, target_ids = await _setup(db)
    locked = asyncio.Event()
    release = asyncio.Event()

    async def edit(s):  # type: ignore[no-untyped-def]
        held = await post_edits.lock_queued(s, 1, post_id)
        await post_edits.retime(s, 1, [t.id for t in held], LATER)
        locked.set()
        await release.wait()

    editing = asyncio.create_task(db.run(edit))
    await locked.wait()
    during = await db.run(lambda s: queue.claim(s, owner="w", now=LATER, lease=LEASE, limit=9))
    release.set()
    await editing
    after_now = await db.run(lambda s: queue.claim(s, owner="w", now=NOW, lease=LEASE, limit=9))
    after = await db.run(lambda s: queue.claim(s, owner="w", now=LATER, lease=LEASE, limit=9))
    assert during == []
    assert after_now == []
    assert sorted(t.id for t in after) == sorted(target_ids)
