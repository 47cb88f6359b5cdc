"""↩ Undo after "Post now", as a user: set in /settings (off, 10, 30 or 60 s); inside the
window Undo puts the post back as a draft and nothing is sent; when the window ends the post
goes out and the Undo button is gone from the message; another user's post can't be undone
with forged callback data."""

from __future__ import annotations

from sqlalchemy import select, update

from bot.app import Crier
from storage.models import Post, PostStatus, Target, User
from tests.acceptance.conftest import Person, buttons, dm, eventually, schedule_draft
from tests.fakes.telegram_api import FakeTelegram


async def set_undo(person: Person, choice: str) -> None:
    shown = await person.says("/settings", "Settings")
    assert "Undo after ⚡ Post now: off" in shown["text"]
    assert buttons(shown) == ["✅ Off", "10 s", "30 s", "60 s"]
    await person.presses(shown, choice, lambda m: f"✅ {choice}" in buttons(m))


async def test_undo_within_the_window_sends_nothing_and_restores_the_draft(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await set_undo(alice, "30 s")
    status = await alice.says("Not yet, please", "New post")
    steps = await schedule_draft(alice, status, when="⚡ Now", expect="Sending post #1 in 30 s")
    assert "Now: 30 s after you confirm, with ↩ Undo until then" in steps.preview["text"]
    assert buttons(steps.scheduled) == ["↩ Undo"]
    undone = await alice.presses(steps.scheduled, "↩ Undo", "Undone")
    assert "nothing was sent" in undone["text"]
    assert buttons(undone) == []
    async with crier.db.session() as session:
        post = await session.scalar(select(Post).where(Post.id == 1))
        assert post is not None
        assert post.status == PostStatus.DRAFT
        assert post.text == "Not yet, please"
        assert list(await session.scalars(select(Target))) == []
    drafts = await alice.says("/drafts", "Not yet, please")
    assert "Not yet, please" in drafts["text"]
    assert crier.services is not None
    crier.services.wake_engine(crier.services.now())
    assert not any("is out" in (m.get("text") or "") for m in tg.sent(alice.user))
    # Undone twice, or once the post is a draft: nothing to take back.
    answer = await alice.forges(undone, "u:undo:1")
    assert answer is not None


async def test_after_the_window_the_post_goes_out_and_undo_is_gone(
    tg: FakeTelegram, crier: Crier, alice: Person, bob: Person
) -> None:
    await alice.says("/start", "Crier")
    # A one-second window (the choices are 10, 30 and 60 s): the same path, without waiting.
    async with crier.db.session() as session:
        await session.execute(update(User).where(User.id == alice.id).values(undo_seconds=1))
    status = await alice.says("Going out", "New post")
    steps = await schedule_draft(alice, status, when="⚡ Now", expect="Sending post #1 in 1 s")
    message_id = steps.scheduled["message_id"]

    def undo_gone() -> dict | None:  # type: ignore[type-arg]
        [shown] = [m for m in tg.sent(alice.user) if m["message_id"] == message_id]
        return shown if "↩ Undo" not in buttons(shown) else None

    shown = await eventually(undo_gone)
    assert "is going out now" in shown["text"]
    await dm(tg, alice, "Post #1 is out")
    # Bob forges Undo on Alice's post: not found, and it stays out.
    await bob.says("/start", "Crier")
    hello = await bob.says("/help", lambda m: True)
    await bob.forges(hello, "u:undo:1")
    await dm(tg, bob, "I can't find post #1")
    async with crier.db.session() as session:
        post = await session.scalar(select(Post).where(Post.id == 1))
        assert post is not None
        assert post.status != PostStatus.DRAFT


async def test_the_post_now_button_waits_for_the_window_too(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await set_undo(alice, "10 s")
    status = await alice.says("Tomorrow's news", "New post")
    steps = await schedule_draft(alice, status, when="Tomorrow 09:00", expect="Scheduled #1")
    waiting = await alice.presses(steps.scheduled, "⚡ Post now", "Sending post #1 in 10 s")
    async with crier.db.session() as session:
        [target] = list(await session.scalars(select(Target)))
        assert (target.publish_at - crier.services.now()).total_seconds() > 5  # type: ignore[union-attr]
    undone = await alice.presses(waiting, "↩ Undo", "Undone")
    assert "back as your draft" in undone["text"]
    async with crier.db.session() as session:
        assert list(await session.scalars(select(Target))) == []
