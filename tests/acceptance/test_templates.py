"""Templates: saved after scheduling or from the preview, listed in /templates, used to start
new posts (text, formatting, media, accounts), unique names, deleting; and 📄 Duplicate."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import Crier
from storage.models import Media, Post, PostMedia, PostStatus, Template
from tests.acceptance.conftest import Person, buttons, jpeg, schedule_text
from tests.acceptance.test_compose_flow import CHANNEL, connect_channel
from tests.acceptance.test_forwarded import ENTITIES, KEPT, TEXT, forward
from tests.fakes.telegram_api import FakeTelegram


async def scheduled_posts(crier: Crier) -> list[Post]:
    async with crier.db.session() as session:
        return list(
            await session.scalars(
                select(Post).where(Post.status != PostStatus.DRAFT).order_by(Post.id)
            )
        )


async def test_a_template_saved_after_scheduling_is_used_for_a_new_post(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await connect_channel(tg, alice)
    # A formatted post with a photo, to the channel only.
    waiting = tg.wait_for(alice.user, "New post")
    forward(tg, alice, {"text": TEXT, "entities": ENTITIES})
    await waiting
    status = await alice.sends_photo(jpeg(), expect="1 photo")
    picker = await alice.presses(status, "✅ Done", "Where should it go")
    picker = await alice.presses(
        picker, "▫️ @news · Telegram channel", lambda m: "✅ @news · Telegram channel" in buttons(m)
    )
    ask_time = await alice.presses(picker, "Next ➡", "When?")
    preview = await alice.presses(ask_time, "Tomorrow 09:00", "Preview")
    scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #1")
    assert "💾 Save as template" in buttons(scheduled)

    asked = await alice.presses(scheduled, "💾 Save as template", "Name the template")
    saved = await alice.says("  Launch   announcement ", "Saved the template")
    assert "Launch announcement" in saved["text"]
    assert asked

    listing = await alice.says("/templates", "Your templates")
    assert "Launch announcement" in listing["text"]
    assert "📎 1 item" in listing["text"]
    status = await alice.presses(listing, "📄 Use 1", "New post")
    assert "formatted" in status["text"]
    assert "1 photo" in status["text"]
    note = next(m for m in tg.sent(alice.user) if "from “Launch announcement”" in m["text"])
    assert "is your new draft" in note["text"]

    picker = await alice.presses(status, "✅ Done", "Where should it go")
    assert "✅ @news · Telegram channel" in buttons(picker), "the template's account is picked"
    assert "▫️ Dry run" in buttons(picker)
    ask_time = await alice.presses(picker, "Next ➡", "When?")
    preview = await alice.presses(ask_time, "⚡ Now", "Preview")
    scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #2")
    await tg.wait_for(alice.user, "Post #2 is out", after=scheduled["message_id"], timeout=10)

    first, second = await scheduled_posts(crier)
    assert (second.text, second.entities) == (TEXT, KEPT)
    [photo] = tg.sent(CHANNEL)
    assert photo["caption"] == TEXT
    assert photo["caption_entities"] == KEPT
    async with crier.db.session() as session:
        links = list(await session.scalars(select(PostMedia).order_by(PostMedia.post_id)))
        sha = [(await session.get(Media, link.media_id)).sha256 for link in links]  # type: ignore[union-attr]
    assert [link.post_id for link in links] == [first.id, second.id]
    assert links[0].media_id != links[1].media_id, "each post has its own media row"
    assert sha[0] == sha[1], "and the same stored file"


async def test_template_names_are_unique_per_user(crier: Crier, alice: Person, bob: Person) -> None:
    await alice.says("/start", "Crier")
    await bob.says("/start", "Crier")
    scheduled = await schedule_text(alice, "Weekly digest #1")
    await alice.presses(scheduled, "💾 Save as template", "Name the template")
    await alice.says("Weekly", "Saved the template")

    scheduled = await schedule_text(alice, "Weekly digest #2")
    await alice.presses(scheduled, "💾 Save as template", "Name the template")
    refused = await alice.says("weekly", "already have a template")
    assert "“weekly”" in refused["text"]
    assert buttons(refused) == ["↩ Don't save"]
    refused = await alice.says("n" * 65, "keep it to 64")
    await alice.presses(refused, "↩ Don't save", "Not saved")

    # Bob may use the same name: names are per user.
    scheduled = await schedule_text(bob, "Bob's weekly")
    await bob.presses(scheduled, "💾 Save as template", "Name the template")
    await bob.says("Weekly", "Saved the template")
    async with crier.db.session() as session:
        rows = (await session.execute(select(Template.user_id, Template.text))).all()
    assert sorted(rows) == [(alice.id, "Weekly digest #1"), (bob.id, "Bob's weekly")]


async def test_save_as_template_from_the_preview_comes_back_to_it(
    crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    status = await alice.says("Monthly report", "New post")
    picker = await alice.presses(status, "✅ Done", "Where should it go")
    ask_time = await alice.presses(picker, "Next ➡", "When?")
    preview = await alice.presses(ask_time, "Tomorrow 09:00", "Preview")
    await alice.presses(preview, "💾 Save as template", "Name the template")
    saved = await alice.says("Monthly", "Saved the template")
    preview = await alice.tg.wait_for(alice.user, "Preview", after=saved["message_id"])
    await alice.presses(preview, "✅ Confirm", "Scheduled #1")
    listing = await alice.says("/templates", "Your templates")
    assert "Monthly" in listing["text"]


async def test_deleting_a_template_asks_and_others_templates_are_out_of_reach(
    crier: Crier, alice: Person, bob: Person
) -> None:
    await alice.says("/start", "Crier")
    await bob.says("/start", "Crier")
    scheduled = await schedule_text(bob, "Bob's own")
    await bob.presses(scheduled, "💾 Save as template", "Name the template")
    await bob.says("Mine", "Saved the template")
    async with crier.db.session() as session:
        bobs = await session.scalar(select(Template.id))

    assert "no templates" in (await alice.says("/templates"))["text"]
    empty = alice.last()
    answer = await alice.forges(empty, f"t:use:{bobs}")
    assert "gone" in answer.get("text", "")
    await alice.forges(empty, f"t:delyes:{bobs}")
    listing = await bob.says("/templates", "Your templates")
    assert "Mine" in listing["text"]

    question = await bob.presses(listing, "🗑 1", "Delete the template")
    await bob.presses(question, "🗑 Yes, delete it", "Template deleted")
    assert "no templates" in (await bob.says("/templates"))["text"]
    assert [p.text for p in await scheduled_posts(crier)] == ["Bob's own"], "posts stay"


async def test_duplicate_from_list_goes_to_the_time_step_with_the_same_content(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await schedule_text(alice, "Evergreen tip")
    listing = await alice.says("/list", "Your posts")
    assert "📄 Duplicate #1" in buttons(listing)

    ask_time = await alice.presses(listing, "📄 Duplicate #1", "When?")
    assert ask_time["message_id"] != listing["message_id"], "the list stays as it was"
    assert "Your posts" in tg.sent(alice.user)[tg.sent(alice.user).index(listing)]["text"]
    note = next(m for m in tg.sent(alice.user) if "A copy of post #1" in m["text"])
    assert "is your new draft" in note["text"]
    preview = await alice.presses(ask_time, "Tomorrow 09:00", "Preview")
    assert "Evergreen tip" in preview["text"]
    await alice.presses(preview, "✅ Confirm", "Scheduled #2")
    first, second = await scheduled_posts(crier)
    assert second.text == first.text
    assert second.draft_account_ids == first.draft_account_ids


async def test_duplicate_of_someone_elses_post_is_refused(
    crier: Crier, alice: Person, bob: Person
) -> None:
    await alice.says("/start", "Crier")
    await bob.says("/start", "Crier")
    await schedule_text(bob, "Bob's post")
    listing = await alice.says("/list", "no posts yet")
    answer = await alice.forges(listing, "p:dup:1")
    assert "can't find post #1" in answer.get("text", "")
    async with crier.db.session() as session:
        assert await session.scalar(select(Post.id).where(Post.user_id == alice.id)) is None


async def test_many_templates_are_listed_page_by_page(crier: Crier, alice: Person) -> None:
    await alice.says("/start", "Crier")
    async with crier.db.session() as session:
        session.add_all(
            Template(user_id=alice.id, name=f"T{n:02}", text=f"Text {n}") for n in range(1, 10)
        )
    first = await alice.says("/templates", "Your templates (9) — page 1/2")
    assert "T08" in first["text"]
    assert "T09" not in first["text"]
    second = await alice.presses(first, "▶", "page 2/2")
    assert second["message_id"] == first["message_id"]
    assert "T09" in second["text"]
    assert buttons(second) == ["📄 Use 9", "🗑 9", "◀"]
