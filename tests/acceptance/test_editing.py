"""Editing a scheduled post through the bot: text and time (the engine is woken for the
new time), an edit racing the engine (a copy already publishing is left alone, and the
user is told), accounts added and removed, media replaced, per-account texts published to
that account only, and what another user can't touch."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from bot.app import Crier
from bot.config import Settings
from providers.dryrun import DryRunProvider
from storage.models import Account, Post, PostStatus, Target, TargetStatus
from tests.acceptance.conftest import (
    JSON,
    Person,
    buttons,
    dm,
    eventually,
    jpeg,
    make_due,
    schedule_draft,
    schedule_text,
    to_preview,
)
from tests.acceptance.seeding import seed_account, seed_post, target
from tests.acceptance.test_compose_flow import connect_channel
from tests.fakes.scripted_provider import ScriptedProvider
from tests.fakes.telegram_api import FakeTelegram

KEY = Fernet.generate_key().decode()


def post_id(message: JSON) -> int:
    match = re.search(r"#(\d+)", message["text"])
    assert match, message["text"]
    return int(match.group(1))


async def targets_of(crier: Crier, post: int) -> list[Target]:
    async with crier.db.session() as session:
        rows = await session.scalars(
            select(Target)
            .where(Target.post_id == post)
            .order_by(Target.id)
            .execution_options(populate_existing=True)
        )
        return list(rows)


async def post_row(crier: Crier, post: int) -> Post:
    async with crier.db.session() as session:
        row = await session.get(Post, post, populate_existing=True)
        assert row is not None
        return row


def dry_run(crier: Crier) -> DryRunProvider:
    assert crier.services is not None
    provider = crier.services.registry["dryrun"]
    assert isinstance(provider, DryRunProvider)
    return provider


async def open_edit(person: Person, number: int) -> JSON:
    listing = await person.says("/list", "Your posts")
    return await person.presses(listing, f"✏️ Edit #{number}", f"Editing post #{number}")


def is_menu(message: JSON) -> bool:
    return "Editing post #" in (message.get("text") or "") and "✏️ Text" in buttons(message)


async def test_editing_text_and_time_changes_what_and_when_it_publishes(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    # The sweep is an hour: only the wake-up the edit asks for can publish it in time.
    async with Crier(make_settings(engine_sweep_seconds=3600)) as crier:
        await alice.says("/start", "Crier")
        scheduled = await schedule_text(alice, "Hello wrold", when="Tomorrow 09:00")
        number = post_id(scheduled)
        assert "✏️ Edit" in buttons(scheduled)

        menu = await open_edit(alice, number)
        assert "Hello wrold" in menu["text"]
        asked = await alice.presses(menu, "✏️ Text", "Send the new text")
        menu = await alice.says("Hello world", is_menu)
        assert "Hello world" in menu["text"]
        asked = await alice.presses(menu, "🕒 Time", "When should post")
        year = datetime.now(UTC).year + 1
        menu = await alice.says(f"{year}-01-15 18:30", is_menu)
        assert f"15 Jan {year} 18:30" in menu["text"]
        # Nothing is stored before Save.
        [before] = await targets_of(crier, number)
        assert (await post_row(crier, number)).text == "Hello wrold"

        saved = await alice.presses(menu, "💾 Save", "Saved post")
        assert f"#{number}" in saved["text"]
        [row] = await targets_of(crier, number)
        assert row.id == before.id, "the same copy, edited in place"
        assert row.publish_at == datetime(year, 1, 15, 18, 30, tzinfo=UTC)
        assert row.next_attempt_at == row.publish_at
        assert (await post_row(crier, number)).text == "Hello world"

        # Again, to now: the engine is woken for it, well before its hourly sweep.
        menu = await alice.presses(saved, "✏️ Edit again", is_menu)
        asked = await alice.presses(menu, "🕒 Time", "When should post")
        menu = await alice.presses(asked, "⚡ Now", is_menu)
        await alice.presses(menu, "💾 Save", "Saved post")
        await dm(tg, alice, f"Post #{number} is out")
        [record] = dry_run(crier).records
        assert record.post.text == "Hello world"
        assert (await targets_of(crier, number))[0].status == TargetStatus.PUBLISHED


async def test_an_edit_racing_a_publish_leaves_the_started_copy_alone_and_says_so(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    slow = ScriptedProvider(["block"])
    async with Crier(make_settings(crier_encryption_key=KEY), providers=[slow]) as crier:
        await alice.says("/start", "Crier")
        scripted = await seed_account(crier, alice.id, "scripted", "@slow", credentials={"t": "1"})
        dry_id = await account_id(crier, alice.id, "dryrun")
        tomorrow = datetime.now(UTC) + timedelta(days=1)
        number, _ = await seed_post(
            crier, alice.id, [scripted, dry_id], "Original text", when=tomorrow
        )
        copies = {t.account_id: t.id for t in await targets_of(crier, number)}

        menu = await open_edit(alice, number)
        await alice.presses(menu, "✏️ Text", "Send the new text")
        menu = await alice.says("Edited text", is_menu)

        # Meanwhile the slow account's copy falls due and the engine starts publishing it.
        await make_target_due(crier, copies[scripted])
        await eventually(slow.blocked.is_set)
        assert (await target(crier, copies[scripted])).status == TargetStatus.PUBLISHING

        saved = await alice.presses(menu, "💾 Save", "Saved post")
        assert "Publishing to @slow (Scripted) had already started" in saved["text"]
        assert "goes out as it was" in saved["text"]
        # The started copy is untouched; the waiting one went to an edited copy of the post.
        started = await target(crier, copies[scripted])
        assert (started.status, started.post_id) == (TargetStatus.PUBLISHING, number)
        waiting = await target(crier, copies[dry_id])
        assert waiting.status == TargetStatus.QUEUED
        assert waiting.post_id != number
        assert (
            f"Post #{number} stays as it was for @slow (Scripted); the edited version is post "
            f"#{waiting.post_id}, for the accounts still waiting." in saved["text"]
        )
        assert (await post_row(crier, number)).text == "Original text"
        assert (await post_row(crier, waiting.post_id)).text == "Edited text"

        slow.release()

        async def published() -> bool:
            return (await target(crier, copies[scripted])).status == TargetStatus.PUBLISHED

        await eventually(published)
        assert [c.text for c in slow.calls] == ["Original text"]


async def test_nothing_left_waiting_means_nothing_changes(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    slow = ScriptedProvider(["block"])
    async with Crier(make_settings(crier_encryption_key=KEY), providers=[slow]) as crier:
        await alice.says("/start", "Crier")
        scripted = await seed_account(crier, alice.id, "scripted", "@slow", credentials={"t": "1"})
        tomorrow = datetime.now(UTC) + timedelta(days=1)
        number, [copy] = await seed_post(crier, alice.id, [scripted], "Original", when=tomorrow)
        menu = await open_edit(alice, number)
        await alice.presses(menu, "✏️ Text", "Send the new text")
        menu = await alice.says("Edited", is_menu)
        await make_target_due(crier, copy)
        await eventually(slow.blocked.is_set)

        saved = await alice.presses(menu, "💾 Save", "was changed")
        assert f"Nothing of post #{number} was changed" in saved["text"]
        assert "had already started" in saved["text"]
        assert not buttons(saved)
        assert (await post_row(crier, number)).text == "Original"
        slow.release()
        await eventually(lambda: slow.calls)
        assert [c.text for c in slow.calls] == ["Original"]


async def make_target_due(crier: Crier, target_id: int) -> None:
    now = datetime.now(UTC)
    async with crier.db.session() as session:
        await session.execute(
            update(Target).where(Target.id == target_id).values(publish_at=now, next_attempt_at=now)
        )
    assert crier.services is not None
    crier.services.wake_engine(now)


async def account_id(crier: Crier, user_id: int, platform: str) -> int:
    async with crier.db.session() as session:
        found = await session.scalar(
            select(Account.id).where(Account.user_id == user_id, Account.platform == platform)
        )
    assert found is not None
    return int(found)


async def test_a_text_customized_for_one_account_is_published_to_that_account_only(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    scripted = ScriptedProvider(["ok"])
    async with Crier(make_settings(crier_encryption_key=KEY), providers=[scripted]) as crier:
        await alice.says("/start", "Crier")
        await seed_account(crier, alice.id, "scripted", "@loud", credentials={"t": "1"})
        status = await alice.says("The same for everyone", "New post")
        preview = (await to_preview(alice, status, accounts="All", when="Tomorrow 09:00")).preview
        assert "🎨 Customize for @loud" in buttons(preview)
        assert "🎨 Customize for Dry run" in buttons(preview)

        asked = await alice.presses(preview, "🎨 Customize for @loud", "for @loud only")
        assert "The same for everyone" in asked["text"]
        preview = await alice.says("LOUDER FOR THIS ONE", "Preview")
        assert "🎨 Own text (19/1,000): LOUDER FOR THIS ONE" in preview["text"]
        scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #")
        number = post_id(scheduled)

        await make_due(crier)
        await dm(tg, alice, f"Post #{number} is out")
        assert [c.text for c in scripted.calls] == ["LOUDER FOR THIS ONE"]
        [record] = dry_run(crier).records
        assert record.post.text == "The same for everyone"


async def test_customizing_while_editing_then_back_to_the_posts_text(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    scripted = ScriptedProvider(["ok"])
    async with Crier(make_settings(crier_encryption_key=KEY), providers=[scripted]) as crier:
        await alice.says("/start", "Crier")
        loud = await seed_account(crier, alice.id, "scripted", "@loud", credentials={"t": "1"})
        dry = await account_id(crier, alice.id, "dryrun")
        tomorrow = datetime.now(UTC) + timedelta(days=1)
        number, _ = await seed_post(crier, alice.id, [loud, dry], "Plain", when=tomorrow)

        menu = await open_edit(alice, number)
        await alice.presses(menu, "🎨 Customize for @loud", "for @loud only")
        menu = await alice.says("Own words", is_menu)
        assert "🎨 Own text" in menu["text"]
        menu = await alice.presses(menu, "💾 Save", "Saved post")
        assert (await post_row(crier, number)).overrides == {str(loud): "Own words"}

        menu = await alice.presses(menu, "✏️ Edit again", is_menu)
        asked = await alice.presses(menu, "🎨 Customize for @loud", "It gets its own text now")
        menu = await alice.presses(asked, "↩ Use the post's text", is_menu)
        assert "🎨 Own text" not in menu["text"]
        await alice.presses(menu, "💾 Save", "Saved post")
        assert (await post_row(crier, number)).overrides == {}


async def test_accounts_added_and_removed_and_media_replaced(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    scripted = ScriptedProvider(["ok"])
    async with Crier(make_settings(crier_encryption_key=KEY), providers=[scripted]) as crier:
        await alice.says("/start", "Crier")
        loud = await seed_account(crier, alice.id, "scripted", "@loud", credentials={"t": "1"})
        dry = await account_id(crier, alice.id, "dryrun")
        status = await alice.sends_photo(jpeg(color="red"), caption="A red square")
        steps = await schedule_draft(alice, status, accounts=["Dry run"], when="Tomorrow 09:00")
        number = post_id(steps.scheduled)
        [old_media] = [link.media_id for link in (await post_row_full(crier, number)).media_links]

        menu = await open_edit(alice, number)
        picker = await alice.presses(menu, "👥 Accounts", "Where should post")
        picker = await alice.presses(picker, "▫️ @loud", lambda m: "✅ @loud" in buttons(m))
        picker = await alice.presses(picker, "✅ Dry run", lambda m: "▫️ Dry run" in buttons(m))
        menu = await alice.presses(picker, "✅ Done", is_menu)
        asked = await alice.presses(menu, "📎 Media", "replace")
        assert "It has 1 media item." in asked["text"]
        waiting = tg.wait_for(alice.user, "now has 1 media item")
        tg.send_photo(alice.user, jpeg(color="blue"))
        added = await waiting
        menu = await alice.presses(added, "✅ Done", is_menu)
        saved = await alice.presses(menu, "💾 Save", "Saved post")
        assert "➕ Added: @loud (Scripted)" in saved["text"]
        assert "➖ Taken off (cancelled there): Dry run" in saved["text"]

        by_account = {t.account_id: t for t in await targets_of(crier, number)}
        assert by_account[dry].status == TargetStatus.CANCELLED
        assert by_account[loud].status == TargetStatus.QUEUED
        assert by_account[loud].publish_at == by_account[dry].publish_at
        [new_media] = [link.media_id for link in (await post_row_full(crier, number)).media_links]
        assert new_media != old_media


async def test_posts_that_cannot_be_edited_and_other_users_posts(
    tg: FakeTelegram, crier: Crier, alice: Person, bob: Person
) -> None:
    await alice.says("/start", "Crier")
    number = post_id(await schedule_text(alice, "Alice's words"))
    await bob.says("/start", "Crier")
    await bob.says(f"/edit {number}", f"can't find post #{number}")
    own = await bob.says("/help", "/list")
    await bob.forges(own, f"p:edit:{number}")
    await bob.says("/edit", "Tell me which post")
    assert "Alice's words" not in " ".join(m.get("text", "") for m in tg.sent(bob.user))

    done = await alice.says(f"/cancel {number}", f"Cancel post #{number}?")
    await alice.presses(done, "🗑 Yes, cancel it", "Cancelled")
    await alice.says(f"/edit {number}", "can't be edited any more")
    assert (await post_row(crier, number)).status == PostStatus.CANCELLED


async def test_discarding_an_edit_changes_nothing(crier: Crier, alice: Person) -> None:
    await alice.says("/start", "Crier")
    number = post_id(await schedule_text(alice, "Keep me"))
    menu = await alice.says(f"/edit {number}", is_menu)
    await alice.presses(menu, "✏️ Text", "Send the new text")
    menu = await alice.says("Changed my mind", is_menu)
    # A compose button from an older message is refused, not obeyed, mid-edit.
    await alice.forges(menu, "c:cancel")
    gone = await alice.presses(menu, "✖ Discard", "Edit discarded")
    assert f"Post #{number} is unchanged" in gone["text"]
    assert (await post_row(crier, number)).text == "Keep me"
    # The edit ended: a new message starts a post again.
    await alice.says("A new one", "New post")


async def post_row_full(crier: Crier, post: int) -> Post:
    async with crier.db.session() as session:
        row = await session.scalar(
            select(Post)
            .where(Post.id == post)
            .options(selectinload(Post.media_links))
            .execution_options(populate_existing=True)
        )
        assert row is not None
        return row


async def test_a_post_already_out_on_one_account_is_edited_for_the_others(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    fast = ScriptedProvider(["ok"])
    async with Crier(make_settings(crier_encryption_key=KEY), providers=[fast]) as crier:
        await alice.says("/start", "Crier")
        quick = await seed_account(crier, alice.id, "scripted", "@quick", credentials={"t": "1"})
        dry = await account_id(crier, alice.id, "dryrun")
        tomorrow = datetime.now(UTC) + timedelta(days=1)
        number, _ = await seed_post(crier, alice.id, [quick, dry], "First words", when=tomorrow)
        copies = {t.account_id: t.id for t in await targets_of(crier, number)}
        await make_target_due(crier, copies[quick])

        async def out() -> bool:
            return (await target(crier, copies[quick])).status == TargetStatus.PUBLISHED

        await eventually(out)

        menu = await open_edit(alice, number)
        assert "🔒 @quick (Scripted) — already published: stays as it is" in menu["text"]
        await alice.presses(menu, "✏️ Text", "Send the new text")
        menu = await alice.says("Second words", is_menu)
        saved = await alice.presses(menu, "💾 Save", "Saved post")

        published = await target(crier, copies[quick])
        waiting = await target(crier, copies[dry])
        assert (published.status, published.post_id) == (TargetStatus.PUBLISHED, number)
        assert waiting.status == TargetStatus.QUEUED
        assert waiting.post_id != number
        assert (
            f"Post #{number} stays as it was for @quick (Scripted); the edited version is post "
            f"#{waiting.post_id}" in saved["text"]
        )
        assert (await post_row(crier, number)).text == "First words"
        assert (await post_row(crier, waiting.post_id)).text == "Second words"
        assert [c.text for c in fast.calls] == ["First words"]
        # The edited copy is a post of its own: @quick is not on it (adding it would publish
        # the new version there as well), and the dry run is.
        menu = await alice.presses(saved, "✏️ Edit again", is_menu)
        picker = await alice.presses(menu, "👥 Accounts", "Where should post")
        assert {"▫️ @quick", "✅ Dry run"} <= set(buttons(picker))


async def test_an_edit_that_breaks_a_platforms_limit_is_shown_and_refused_on_save(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await connect_channel(tg, alice)
    status = await alice.says("Fits nicely", "New post")
    steps = await schedule_draft(
        alice, status, accounts="All", when="Tomorrow 09:00", expect="Scheduled #1"
    )
    number = post_id(steps.scheduled)

    menu = await open_edit(alice, number)
    await alice.presses(menu, "✏️ Text", "Send the new text")
    menu = await alice.says("z" * 4100, is_menu)
    assert "Text is 4,100 characters; Telegram channel allows 4,096" in menu["text"]
    assert "💾 Save" not in buttons(menu)
    await alice.forges(menu, "e:save")  # an old Save button, say
    assert not any("Saved post" in (m.get("text") or "") for m in tg.sent(alice.user))
    assert (await post_row(crier, number)).text == "Fits nicely"
    assert [t.status for t in await targets_of(crier, number)] == [TargetStatus.QUEUED] * 2


# -- bad input while editing ----------------------------------------------------------------


async def test_a_new_text_of_only_invisible_characters_is_refused(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await connect_channel(tg, alice)
    status = await alice.says("Before", "New post")
    steps = await schedule_draft(alice, status, accounts="All", when="Tomorrow 09:00")
    number = post_id(steps.scheduled)
    invisible = "\u200b\u200d\u2060\ufeff\u202e\u00ad"

    menu = await open_edit(alice, number)
    await alice.presses(menu, "✏️ Text", "Send the new text")
    refused = await alice.says(invisible, "nothing visible")
    assert "Send the new text, or tap ⬅ Back" in refused["text"]
    menu = await alice.says("\u200bAfter\u200b", is_menu)
    asked = await alice.presses(menu, "🎨 Customize for @news", "Send the text")
    assert asked
    refused = await alice.says(invisible, "nothing visible")
    assert "Send the text for this account" in refused["text"]
    menu = await alice.says("\u2066Channel only\u2069", is_menu)
    await alice.presses(menu, "💾 Save", "Saved post")
    row = await post_row(crier, number)
    assert row.text == "After"
    assert list(row.overrides.values()) == ["Channel only"]


async def test_new_media_too_big_to_download_or_past_the_cap_is_refused_before_downloading(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with Crier(make_settings(max_media_per_post=1, media_quota_bytes=10**6)):
        await alice.says("/start", "Crier")
        number = post_id(await schedule_text(alice, "Words first"))
        menu = await open_edit(alice, number)
        await alice.presses(menu, "📎 Media", "replace")
        downloads = len(tg.calls_to("getFile"))

        # 2 GB: the download limit says why, not the storage quota (1 MB here).
        waiting = tg.wait_for(alice.user, "Telegram lets bots download")
        tg.send_video(alice.user, b"\x00" * 1000, file_size=2 * 1024**3)
        refused = await waiting
        assert (
            "This file is 2.0 GB, and Telegram lets bots download at most 20 MB"
            in (refused["text"])
        )
        assert len(tg.calls_to("getFile")) == downloads

        waiting = tg.wait_for(alice.user, "now has 1 media item")
        tg.send_photo(alice.user, jpeg(color="blue"))
        await waiting
        downloads = len(tg.calls_to("getFile"))
        waiting = tg.wait_for(alice.user, "at most 1 media items")
        tg.send_photo(alice.user, jpeg(color="green"))
        await waiting
        assert len(tg.calls_to("getFile")) == downloads, "the refused photo was downloaded"
        said = " ".join(m.get("text") or "" for m in tg.sent(alice.user))
        assert "storage is full" not in said
