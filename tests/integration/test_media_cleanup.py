"""The media clean-up removes only what nothing needs, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.media.cleanup import clean_up
from bot.media.receive import storage_key
from storage import accounts, media, posts, users
from storage.db import Database
from storage.models import Media, Post, PostStatus, Target, TargetStatus

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
RETENTION = timedelta(days=7)
LONG_AGO = NOW - timedelta(days=30)
RECENTLY = NOW - timedelta(days=1)


class Store:
    """Files under a media dir, written with a chosen modification time."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, name: str, *, at: datetime = LONG_AGO) -> tuple[str, Path]:
        data = name.encode() * 100
        sha = hashlib.sha256(data).hexdigest()
        path = self.root / storage_key(sha)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, (at.timestamp(), at.timestamp()))
        return sha, path

    def derived(self, sha: str, *, at: datetime = LONG_AGO) -> list[Path]:
        folder = self.root / "derived" / sha[:2]
        folder.mkdir(parents=True, exist_ok=True)
        paths = [folder / f"{sha}-0123456789abcdef.{ext}" for ext in ("jpg", "json")]
        for path in paths:
            path.write_bytes(b"x")
            os.utime(path, (at.timestamp(), at.timestamp()))
        return paths


async def _user(session: AsyncSession, user_id: int) -> int:
    await users.upsert(
        session,
        user_id=user_id,
        chat_id=user_id,
        first_name="A",
        username=None,
        language="en",
        default_timezone="UTC",
        admin=False,
    )
    account = await accounts.add(session, user_id=user_id, platform="dryrun", label="Dry run")
    return account.id


async def _row(
    session: AsyncSession, user_id: int, sha: str, *, created: datetime = LONG_AGO
) -> Media:
    row = Media(
        user_id=user_id,
        sha256=sha,
        storage_key=storage_key(sha),
        kind="photo",
        mime="image/jpeg",
        size=1000,
        created_at=created,
    )
    return await media.add(session, row)


async def _post(
    session: AsyncSession,
    user_id: int,
    account_id: int,
    row: Media,
    *,
    status: TargetStatus | None,
    finished: datetime = LONG_AGO,
    rrule: str | None = None,
) -> Post:
    """A post with `row`: a draft when `status` is None, else scheduled with one target."""
    post = await posts.new_draft(session, user_id)
    await posts.attach_media(session, post, row)
    if status is not None:
        [account] = await accounts.get_many(session, user_id, [account_id])
        result = await posts.schedule(session, post, [account], LONG_AGO, "UTC")
        post.rrule = rrule
        for target in result.targets:
            target.status = status
            target.updated_at = finished
    post.updated_at = finished
    await session.flush()
    return post


async def test_clean_up_removes_only_orphaned_files(db: Database, tmp_path: Path) -> None:
    store = Store(tmp_path / "media")
    in_draft = store.put("in a draft")
    queued = store.put("queued to publish")
    recurring = store.put("recurring series, next one queued")
    series_ended = store.put("series that ended a month ago")
    published_long_ago = store.put("published a month ago")
    published_recently = store.put("published yesterday")
    shared = store.put("published, and in another user's draft")
    dropped_draft = store.put("draft dropped a month ago")
    dropped_recently = store.put("draft dropped an hour ago")
    no_row_old = store.put("no row, old")
    no_row_new = store.put("no row, written just now", at=NOW - timedelta(minutes=5))
    stale_derived = store.derived(published_long_ago[0])
    used_derived = store.derived(queued[0], at=RECENTLY)
    unused_derived = store.derived(in_draft[0])
    leftover = tmp_path / "media" / ".incoming" / "1700000000-abc"
    leftover.parent.mkdir()
    leftover.write_bytes(b"a download cut short by a crash")
    os.utime(leftover, (LONG_AGO.timestamp(), LONG_AGO.timestamp()))
    unrelated = tmp_path / "media" / "README.txt"
    unrelated.write_text("not a stored file")
    os.utime(unrelated, (LONG_AGO.timestamp(), LONG_AGO.timestamp()))

    async def seed(s: AsyncSession) -> None:
        alice, bob = await _user(s, 1), await _user(s, 2)
        await _post(s, 1, alice, await _row(s, 1, in_draft[0]), status=None)
        await _post(s, 1, alice, await _row(s, 1, queued[0]), status=TargetStatus.QUEUED)
        await _post(
            s,
            1,
            alice,
            await _row(s, 1, recurring[0]),
            status=TargetStatus.QUEUED,
            rrule="FREQ=WEEKLY",
        )
        # Its last occurrence went out: the rule alone doesn't keep the file.
        await _post(
            s,
            1,
            alice,
            await _row(s, 1, series_ended[0]),
            status=TargetStatus.PUBLISHED,
            rrule="FREQ=WEEKLY;COUNT=4",
        )
        await _post(
            s, 1, alice, await _row(s, 1, published_long_ago[0]), status=TargetStatus.PUBLISHED
        )
        await _post(
            s,
            1,
            alice,
            await _row(s, 1, published_recently[0]),
            status=TargetStatus.FAILED,
            finished=RECENTLY,
        )
        await _post(s, 1, alice, await _row(s, 1, shared[0]), status=TargetStatus.CANCELLED)
        await _post(s, 2, bob, await _row(s, 2, shared[0]), status=None)
        await _row(s, 1, dropped_draft[0])
        await _row(s, 1, dropped_recently[0], created=NOW - timedelta(hours=1))

    await db.run(seed)

    report = await clean_up(db, tmp_path / "media", retention=RETENTION, now=NOW)

    kept = [
        in_draft,
        queued,
        recurring,
        published_recently,
        shared,
        dropped_recently,
        no_row_new,
    ]
    gone = [published_long_ago, series_ended, dropped_draft, no_row_old]
    assert [path.exists() for _, path in kept] == [True] * len(kept)
    assert [path.exists() for _, path in gone] == [False] * len(gone)
    assert not any(path.exists() for path in stale_derived)
    assert all(path.exists() for path in used_derived)
    assert not any(path.exists() for path in unused_derived)  # original kept, cache unused
    assert unrelated.exists()
    assert not leftover.exists()
    assert report.files_deleted == 4
    assert report.derived_deleted == 4
    assert (report.rows_deleted, report.rows_released) == (1, 3)

    async def rows(s: AsyncSession) -> dict[tuple[str, int], str]:
        found = await s.scalars(select(Media).order_by(Media.id))
        return {(m.sha256, m.user_id): m.storage_key for m in found}

    after = await db.run(rows)
    # The finished posts keep their media rows as history, without a file.
    assert after[(published_long_ago[0], 1)] == ""
    assert after[(series_ended[0], 1)] == ""
    assert after[(shared[0], 1)] == ""
    assert after[(shared[0], 2)] == storage_key(shared[0])
    assert (dropped_draft[0], 1) not in after
    assert after[(in_draft[0], 1)] == storage_key(in_draft[0])
    # What still counts for alice: her posts' files (not the dropped draft's, kept a while).
    assert await db.run(lambda s: media.usage(s, 1)) == 1000 * 4

    # Nothing else is left to do: a second run changes nothing.
    again = await clean_up(db, tmp_path / "media", retention=RETENTION, now=NOW)
    assert again == type(report)()


async def test_a_cancelled_post_keeps_its_files_for_the_retention_period(
    db: Database, tmp_path: Path
) -> None:
    store = Store(tmp_path / "media")
    sha, path = store.put("cancelled today")

    async def seed(s: AsyncSession) -> None:
        account = await _user(s, 1)
        post = await _post(s, 1, account, await _row(s, 1, sha), status=TargetStatus.CANCELLED)
        post.status = PostStatus.CANCELLED
        post.updated_at = NOW - timedelta(hours=2)

    await db.run(seed)
    await clean_up(db, tmp_path / "media", retention=RETENTION, now=NOW)
    assert path.exists()
    await clean_up(db, tmp_path / "media", retention=RETENTION, now=NOW + RETENTION)
    assert not path.exists()


async def test_usage_counts_each_distinct_file_of_the_users_posts_once(db: Database) -> None:
    async def seed(s: AsyncSession) -> tuple[int, bool, bool, bool]:
        await _user(s, 1)
        await _user(s, 2)
        post = await posts.new_draft(s, 1)
        for sha in ("a" * 64, "a" * 64, "b" * 64):
            await posts.attach_media(s, post, await _row(s, 1, sha))
        await _row(s, 1, "d" * 64)  # a dropped draft's file: no longer counted
        other = await posts.new_draft(s, 2)
        await posts.attach_media(s, other, await _row(s, 2, "c" * 64))
        return (
            await media.usage(s, 1),
            await media.holds(s, 1, "a" * 64),
            await media.holds(s, 1, "c" * 64),
            await media.holds(s, 1, "d" * 64),
        )

    assert await db.run(seed) == (2000, True, False, False)


async def test_targets_table_is_untouched(db: Database, tmp_path: Path) -> None:
    """The clean-up only ever changes media rows and files."""
    store = Store(tmp_path / "media")
    sha, _ = store.put("old")

    async def seed(s: AsyncSession) -> None:
        account = await _user(s, 1)
        await _post(s, 1, account, await _row(s, 1, sha), status=TargetStatus.PUBLISHED)

    await db.run(seed)
    await clean_up(db, tmp_path / "media", retention=RETENTION, now=NOW)

    async def states(s: AsyncSession) -> list[TargetStatus]:
        return list(await s.scalars(select(Target.status)))

    assert await db.run(states) == [TargetStatus.PUBLISHED]
