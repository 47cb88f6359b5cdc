"""Drafts: kept across restarts, listed in /drafts, resumed, deleted; Keep as draft vs Cancel;
/new and new content mid-compose ask before leaving a post."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from bot.app import Crier
from bot.config import Settings
from storage.models import Post, PostStatus
from tests.acceptance.conftest import Person, buttons
from tests.fakes.telegram_api import FakeTelegram


async def posts_by_status(crier: Crier) -> dict[str, list[str]]:
    async with crier.db.session() as session:
        rows = (await session.execute(select(Post.status, Post.text).order_by(Post.id))).all()
    found: dict[str, list[str]] = {}
    for status, text in rows:
        found.setdefault(status.value, []).append(text)
    return found


async def test_a_draft_is_resumed_after_a_restart_and_scheduled(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    settings = make_settings()
    async with Crier(settings):
        await alice.says("/start", "Crier")
        status = await alice.says("Half-written idea", "New post")
        assert "💾 Keep as draft" in buttons(status)
        kept = await alice.presses(status, "💾 Keep as draft", "Kept as a draft")
        assert "Half-written idea" in kept["text"]
        assert not buttons(kept)
        # A second post is left mid-compose when the bot goes down.
        await alice.says("Still typing this one", "New post")

    async with Crier(settings) as crier:
        listing = await alice.says("/drafts", "Your drafts")
        assert "(2)" in listing["text"]
        first, second = listing["text"].index("Still typing"), listing["text"].index("Half-")
        assert first < second, "newest first"
        assert "just now" in listing["text"]
        assert buttons(listing) == ["▶ Resume 1", "🗑 1", "▶ Resume 2", "🗑 2"]

        back = await alice.presses(listing, "▶ Resume 2", "Back to your draft")
        assert "The post you were on is kept in /drafts" in back["text"]
        status = await tg.wait_for(alice.user, "New post", after=back["message_id"])
        assert "text (17 characters)" in status["text"]
        status = await alice.says("More words.", "text (30 characters)")
        picker = await alice.presses(status, "✅ Done", "Where should it go")
        ask_time = await alice.presses(picker, "Next ➡", "When?")
        preview = await alice.presses(ask_time, "Tomorrow 09:00", "Preview")
        await alice.presses(preview, "✅ Confirm", "Scheduled #1")

        found = await posts_by_status(crier)
        assert found["scheduled"] == ["Half-written idea\n\nMore words."]
        assert found["draft"] == ["Still typing this one"]
        listing = await alice.says("/drafts", "Your drafts")
        assert "(1)" in listing["text"]
        assert "Half-written" not in listing["text"]


async def test_keep_as_draft_keeps_it_and_cancel_drops_it(crier: Crier, alice: Person) -> None:
    await alice.says("/start", "Crier")
    status = await alice.says("Keep me", "New post")
    picker = await alice.presses(status, "✅ Done", "Where should it go")
    # The way out is offered at every step.
    assert buttons(picker)[-2:] == ["💾 Keep as draft", "✖ Cancel"]
    await alice.presses(picker, "💾 Keep as draft", "Kept as a draft")

    status = await alice.says("Drop me", "New post")
    cancelled = await alice.presses(status, "✖ Cancel", "Cancelled")
    assert "Nothing was scheduled" in cancelled["text"]
    status = await alice.says("Drop me too", "New post")
    await alice.says("/abort", "Cancelled")

    assert await posts_by_status(crier) == {"draft": ["Keep me"]}
    listing = await alice.says("/drafts", "Your drafts")
    assert "Keep me" in listing["text"]
    assert "Drop me" not in listing["text"]


async def test_keeping_an_empty_post_keeps_nothing(crier: Crier, alice: Person) -> None:
    await alice.says("/start", "Crier")
    started = await alice.says("/new", "New post")
    await alice.presses(started, "💾 Keep as draft", "Nothing to keep")
    assert "no drafts" in (await alice.says("/drafts"))["text"]


async def test_new_mid_compose_asks_to_continue_or_start_another(
    crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    status = await alice.says("Unfinished thought", "New post")
    picker = await alice.presses(status, "✅ Done", "Where should it go")

    question = await alice.says("/new", "Continue your draft")
    assert "Unfinished thought" in question["text"]
    assert "stays in /drafts" in question["text"]
    # Continue: back to the step it was on.
    back = await alice.presses(question, "▶ Continue", "Where should it go")
    assert back["message_id"] == question["message_id"]
    assert picker

    question = await alice.says("/new", "Continue your draft")
    fresh = await alice.presses(question, "📝 Start a new one", "New post")
    assert "kept in /drafts" in fresh["text"]
    await alice.says("A second post", "New post")
    assert await posts_by_status(crier) == {"draft": ["Unfinished thought", "A second post"]}


async def test_content_sent_at_the_preview_is_added_or_starts_a_new_post(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    status = await alice.says("Main text", "New post")
    picker = await alice.presses(status, "✅ Done", "Where should it go")
    ask_time = await alice.presses(picker, "Next ➡", "When?")
    preview = await alice.presses(ask_time, "Tomorrow 09:00", "Preview")

    question = await alice.says("P.S. one more line", "middle of a post")
    preview = await alice.presses(question, "➕ Add to this post", "Preview")
    assert "Main text P.S. one more line" in preview["text"]
    assert "✅ Confirm" in buttons(preview)

    question = await alice.says("Something else entirely", "middle of a post")
    status = await alice.presses(question, "📝 New post with it", "text (23 characters)")
    assert await posts_by_status(crier) == {
        "draft": ["Main text\n\nP.S. one more line", "Something else entirely"]
    }
    assert status


async def test_deleting_a_draft_asks_and_touches_only_ones_own(
    tg: FakeTelegram, crier: Crier, alice: Person, bob: Person
) -> None:
    await alice.says("/start", "Crier")
    await bob.says("/start", "Crier")
    status = await bob.says("Bob's secret draft", "New post")
    await bob.presses(status, "💾 Keep as draft", "Kept as a draft")
    status = await alice.says("Alice's draft", "New post")
    await alice.presses(status, "💾 Keep as draft", "Kept as a draft")
    async with crier.db.session() as session:
        bobs = await session.scalar(select(Post.id).where(Post.user_id == bob.id))

    listing = await alice.says("/drafts", "Your drafts")
    assert "Bob" not in listing["text"]
    # Forged buttons for Bob's draft change nothing.
    await alice.forges(listing, f"d:delyes:{bobs}")
    await alice.forges(listing, f"d:resume:{bobs}")
    assert (await posts_by_status(crier))["draft"] == ["Bob's secret draft", "Alice's draft"]
    assert "gone" in alice.last()["text"]

    listing = await alice.says("/drafts", "Your drafts")
    question = await alice.presses(listing, "🗑 1", "Delete this draft?")
    kept = await alice.presses(question, "Keep it", "Kept")
    assert not buttons(kept)
    question = await alice.presses(listing, "🗑 1", "Delete this draft?")
    await alice.presses(question, "🗑 Yes, delete it", "Draft deleted")
    assert (await posts_by_status(crier))["draft"] == ["Bob's secret draft"]
    assert "no drafts" in (await alice.says("/drafts"))["text"]


async def test_a_scheduled_post_is_not_a_draft(crier: Crier, alice: Person) -> None:
    await alice.says("/start", "Crier")
    status = await alice.says("Going out", "New post")
    picker = await alice.presses(status, "✅ Done", "Where should it go")
    ask_time = await alice.presses(picker, "Next ➡", "When?")
    preview = await alice.presses(ask_time, "Tomorrow 09:00", "Preview")
    await alice.presses(preview, "✅ Confirm", "Scheduled #1")
    assert "no drafts" in (await alice.says("/drafts"))["text"]
    async with crier.db.session() as session:
        assert await session.scalar(select(Post.status)) == PostStatus.SCHEDULED
