"""Drafts and templates in storage, on SQLite and PostgreSQL with the same code."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from storage import media, posts, templates, users
from storage.db import Database
from storage.models import Media, Post, PostStatus, Template


async def _user(db: Database, user_id: int) -> None:
    await db.run(
        lambda s: users.upsert(
            s,
            user_id=user_id,
            chat_id=user_id,
            first_name="A",
            username=None,
            language="en",
            default_timezone="UTC",
            admin=False,
        )
    )


def _media(user_id: int, sha: str = "a" * 64, key: str = "aa/" + "a" * 64) -> Media:
    return Media(
        user_id=user_id,
        sha256=sha,
        storage_key=key,
        kind="photo",
        mime="image/jpeg",
        size=10,
        alt_text="a cat",
    )


async def test_drafts_are_listed_newest_first_without_empty_ones(db: Database) -> None:
    await _user(db, 1)
    await _user(db, 2)

    async def setup(s):  # type: ignore[no-untyped-def]
        old = await posts.new_draft(s, 1)
        old.text = "old"
        with_media = await posts.new_draft(s, 1)
        await posts.attach_media(s, with_media, await media.add(s, _media(1)))
        await posts.new_draft(s, 1)  # empty
        other = await posts.new_draft(s, 2)
        other.text = "someone else's"
        return old.id, with_media.id

    old, with_media = await db.run(setup)
    found, total = await db.run(lambda s: posts.list_drafts(s, 1, offset=0, limit=10))
    assert total == 2
    assert [p.id for p in found] == [with_media, old]
    assert await db.run(lambda s: posts.count_drafts(s, 1)) == 2

    async def resume_old(s):  # type: ignore[no-untyped-def]
        post = await posts.get_draft(s, 1, old)
        await posts.make_current(s, post)

    await db.run(resume_old)
    current = await db.run(lambda s: posts.current_draft(s, 1))
    assert current is not None
    assert current.id == old
    assert await db.run(lambda s: posts.get_draft(s, 2, old)) is None


async def test_pruning_empty_drafts_keeps_the_one_asked_for_and_other_users(db: Database) -> None:
    await _user(db, 1)
    await _user(db, 2)

    async def setup(s):  # type: ignore[no-untyped-def]
        keep = await posts.new_draft(s, 1)
        await posts.new_draft(s, 1)
        full = await posts.new_draft(s, 1)
        full.text = "has text"
        await posts.new_draft(s, 2)
        return keep.id, full.id

    keep, full = await db.run(setup)
    await db.run(lambda s: posts.prune_empty_drafts(s, 1, keep=keep))
    async with db.session() as session:
        left = sorted(
            (p.user_id, p.id) for p in await session.scalars(select(Post).order_by(Post.id))
        )
    assert [i for u, i in left if u == 1] == [keep, full]
    assert len([i for u, i in left if u == 2]) == 1


async def test_copied_media_is_a_new_row_for_the_same_file(db: Database) -> None:
    await _user(db, 1)

    async def work(s):  # type: ignore[no-untyped-def]
        source = await posts.new_draft(s, 1)
        row = await media.add(s, _media(1))
        await posts.attach_media(s, source, row)
        gone = await media.add(s, _media(1, sha="b" * 64, key=media.RELEASED))
        copy = await posts.new_draft(s, 1)
        skipped = await posts.attach_copies(s, copy, [row, gone])
        return row, copy, skipped

    row, copy, skipped = await db.run(work)
    assert skipped == 1
    [link] = copy.media_links
    assert link.media_id != row.id
    assert (link.media.sha256, link.media.storage_key, link.media.alt_text) == (
        row.sha256,
        row.storage_key,
        "a cat",
    )


async def test_template_names_are_unique_per_user_ignoring_case(db: Database) -> None:
    await _user(db, 1)
    await _user(db, 2)
    await db.run(lambda s: templates.add(s, Template(user_id=1, name="Weekly", text="a")))
    await db.run(lambda s: templates.add(s, Template(user_id=2, name="Weekly", text="b")))
    found = await db.run(lambda s: templates.by_name(s, 1, "weekly"))
    assert found is not None
    assert found.text == "a"
    assert await db.run(lambda s: templates.by_name(s, 1, "Monthly")) is None
    with pytest.raises(IntegrityError):
        await db.run(lambda s: templates.add(s, Template(user_id=1, name="Weekly", text="c")))
    assert await db.run(lambda s: templates.count(s, 1)) == 1


async def test_templates_are_scoped_to_their_owner(db: Database) -> None:
    await _user(db, 1)
    await _user(db, 2)

    async def setup(s):  # type: ignore[no-untyped-def]
        mine = await media.add(s, _media(1))
        theirs = await media.add(s, _media(2))
        template = await templates.add(
            s, Template(user_id=1, name="T", media_ids=[theirs.id, mine.id, 999_999])
        )
        return template.id, mine.id, theirs.id

    template_id, mine, theirs = await db.run(setup)
    assert await db.run(lambda s: templates.get(s, 2, template_id)) is None
    assert not await db.run(lambda s: templates.delete_one(s, 2, template_id))
    rows = await db.run(lambda s: templates.media_rows(s, 1, [theirs, mine, 999_999]))
    assert [r.id for r in rows] == [mine], "another user's media and missing ids are left out"
    assert await db.run(templates.media_in_use) == {theirs, mine, 999_999}
    assert [t.name for t in await db.run(lambda s: templates.list_for(s, 1))] == ["T"]
    assert await db.run(lambda s: templates.delete_one(s, 1, template_id))
    assert await db.run(lambda s: templates.list_for(s, 1)) == []


async def test_a_draft_is_not_a_scheduled_post(db: Database) -> None:
    await _user(db, 1)

    async def work(s):  # type: ignore[no-untyped-def]
        post = await posts.new_draft(s, 1)
        post.text = "x"
        post.status = PostStatus.SCHEDULED
        return post.id

    post_id = await db.run(work)
    assert await db.run(lambda s: posts.get_draft(s, 1, post_id)) is None
    assert await db.run(lambda s: posts.count_drafts(s, 1)) == 0
