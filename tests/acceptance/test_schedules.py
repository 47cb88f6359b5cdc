"""/list, cancelling by button and by /cancel, and what another user can't touch."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.app import Crier
from storage.models import Post, PostStatus, Target, TargetStatus
from tests.acceptance.conftest import Person, buttons, schedule_text
from tests.fakes.telegram_api import FakeTelegram


def post_id(scheduled: dict) -> int:  # type: ignore[type-arg]
    match = re.search(r"Scheduled #(\d+)", scheduled["text"])
    assert match, scheduled["text"]
    return int(match.group(1))


async def statuses(crier: Crier, post: int) -> list[TargetStatus]:
    async with crier.db.session() as session:
        return list(await session.scalars(select(Target.status).where(Target.post_id == post)))


async def test_list_shows_posts_newest_first_with_pages(crier: Crier, alice: Person) -> None:
    await alice.says("/start", "Crier")
    for n in range(1, 8):
        await schedule_text(alice, f"Post number {n}")

    first = await alice.says("/list", "Your posts")
    assert "page 1/2" in first["text"]
    ids = [int(i) for i in re.findall(r"#(\d+) ·", first["text"])]
    assert ids == [7, 6, 5, 4, 3]
    assert "⏳ Dry run" in first["text"]
    assert "⚡ Post #7 now" in buttons(first)
    assert buttons(first)[-1] == "▶"

    second = await alice.presses(first, "▶", "page 2/2")
    assert second["message_id"] == first["message_id"], "the page turns in place"
    assert [int(i) for i in re.findall(r"#(\d+) ·", second["text"])] == [2, 1]
    assert buttons(second)[-1] == "◀"


async def test_list_when_empty(crier: Crier, alice: Person) -> None:
    reply = await alice.says("/list", "no posts yet")
    assert not buttons(reply)


async def test_cancel_by_button_asks_then_cancels(crier: Crier, alice: Person) -> None:
    await alice.says("/start", "Crier")
    scheduled = await schedule_text(alice, "Never mind")
    question = await alice.presses(scheduled, "✖ Cancel", "Cancel post #1?")
    kept = await alice.presses(question, "Keep it", "Kept post #1")
    assert not buttons(kept)
    assert await statuses(crier, 1) == [TargetStatus.QUEUED]

    question = await alice.presses(scheduled, "✖ Cancel", "Cancel post #1?")
    done = await alice.presses(question, "🗑 Yes, cancel it", "Cancelled post #1")
    assert "Nothing was published" in done["text"]
    assert await statuses(crier, 1) == [TargetStatus.CANCELLED]
    async with crier.db.session() as session:
        post = await session.get(Post, 1)
        assert post is not None
        assert post.status == PostStatus.CANCELLED

    listing = await alice.says("/list", "Your posts")
    assert "🚫 Dry run — cancelled" in listing["text"]
    assert "✖ Cancel #1" not in buttons(listing)


async def test_cancel_command_asks_then_cancels(crier: Crier, alice: Person) -> None:
    await alice.says("/start", "Crier")
    await schedule_text(alice, "First")
    await schedule_text(alice, "Second")

    question = await alice.says("/cancel 2", "Cancel post #2?")
    await alice.presses(question, "🗑 Yes, cancel it", "Cancelled post #2")

    assert await statuses(crier, 1) == [TargetStatus.QUEUED]
    assert await statuses(crier, 2) == [TargetStatus.CANCELLED]
    again = await alice.says("/cancel 2", "nothing left to cancel")
    assert not buttons(again)


async def test_cancel_command_needs_a_number(crier: Crier, alice: Person) -> None:
    reply = await alice.says("/cancel", "Tell me which post")
    assert "/cancel 12" in reply["text"]
    await alice.says("/cancel abc", "Tell me which post")


async def test_unknown_and_other_users_post_ids_are_refused_and_unchanged(
    tg: FakeTelegram, crier: Crier, alice: Person, bob: Person
) -> None:
    await alice.says("/start", "Crier")
    alices = await schedule_text(alice, "Alice's post")
    await bob.says("/start", "Crier")

    await bob.says("/cancel 999", "can't find post #999")
    await bob.says(f"/cancel {post_id(alices)}", f"can't find post #{post_id(alices)}")

    # Bob forges Alice's buttons on a message of his own.
    own = await bob.says("/help", "/list")
    for data in (
        f"p:cancel_yes:{post_id(alices)}",
        f"p:now:{post_id(alices)}",
        f"p:retry:{post_id(alices)}",
        f"p:cancel:{post_id(alices)}",
        "l:99999",
    ):
        await bob.forges(own, data)
    await bob.forges(own, "p:cancel_yes:not-a-number")
    await bob.forges(own, "nonsense:" + "x" * 40)

    assert await statuses(crier, post_id(alices)) == [TargetStatus.QUEUED]
    bob_texts = " ".join(m.get("text", "") for m in tg.sent(bob.user))
    assert "Alice's post" not in bob_texts
    assert "Cancelled" not in bob_texts
    assert "Publishing" not in bob_texts
