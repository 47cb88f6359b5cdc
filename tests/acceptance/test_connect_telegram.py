"""Connecting a Telegram channel: by @username or a forwarded post, and every refusal."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.app import Crier
from storage.models import Account
from tests import media_samples as samples
from tests.acceptance.conftest import Person, buttons, jpeg
from tests.fakes.telegram_api import FakeTelegram

CHANNEL = -1001234567890


async def start_connect(person: Person) -> dict:  # type: ignore[type-arg]
    menu = await person.says("/connect", "Connect an account")
    return await person.presses(menu, "📣 Telegram channel or group", "Post messages")


async def channels(crier: Crier, user_id: int) -> list[Account]:
    async with crier.db.session() as session:
        return list(
            await session.scalars(
                select(Account).where(Account.user_id == user_id, Account.platform == "telegram")
            )
        )


async def test_connect_by_forwarding_a_post_from_a_private_channel(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    tg.add_channel(CHANNEL, "Secret club", None, admins={alice.id: "administrator"})
    await alice.says("/start", "Crier")
    await start_connect(alice)
    waiting = tg.wait_for(alice.user, "Connected")
    tg.forward_from_channel(alice.user, CHANNEL, text="hello members")
    connected = await waiting
    assert "Secret club" in connected["text"]
    [account] = await channels(crier, alice.id)
    assert account.config["chat_id"] == CHANNEL
    assert account.credentials is None


async def test_connecting_twice_refreshes_instead_of_duplicating(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    tg.add_channel(CHANNEL, "News", "news", admins={alice.id: "creator"})
    await alice.says("/start", "Crier")
    await start_connect(alice)
    await alice.says("@news", "Connected @news")
    await start_connect(alice)
    again = await alice.says("https://t.me/news", "already connected")
    assert again
    assert len(await channels(crier, alice.id)) == 1


async def test_refusals_say_what_is_missing_and_connect_nothing(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    tg.add_channel(
        -1001, "Not admin", "notadmin", admins={alice.id: "creator"}, bot_status="member"
    )
    tg.add_channel(-1002, "No rights", "norights", admins={alice.id: "creator"}, bot_can_post=False)
    tg.add_channel(-1003, "Someone else's", "others", admins={})
    await alice.says("/start", "Crier")
    await start_connect(alice)

    missing_admin = await alice.says("@notadmin", "can't post in Not admin")
    assert "make me an admin" in missing_admin["text"]
    missing_right = await alice.says("@norights", "can't post in No rights")
    assert "Post messages" in missing_right["text"]
    not_theirs = await alice.says("@others", "Only an admin")
    assert "Someone else" in not_theirs["text"]
    unknown = await alice.says("@doesnotexist", "can't find @doesnotexist")
    assert "✖ Cancel" in buttons(unknown)
    assert await channels(crier, alice.id) == []

    cancelled = await alice.presses(unknown, "✖ Cancel", "Nothing was connected")
    assert cancelled
    # Free text after leaving the wizard is a post again, not a channel name.
    await alice.says("@news is great", "New post")


async def test_video_and_document_reach_the_channel(
    tg: FakeTelegram, crier: Crier, alice: Person, tmp_path: Path
) -> None:
    tg.add_channel(CHANNEL, "News", "news", admins={alice.id: "creator"})
    await alice.says("/start", "Crier")
    await start_connect(alice)
    await alice.says("@news", "Connected")

    clip = samples.mp4(tmp_path / "clip.mp4", seconds=0.5).read_bytes()
    for send, method in (
        (
            # A real MP4: media is probed, and a corrupt one is refused.
            lambda: tg.send_video(alice.user, clip, caption="Clip"),
            "sendVideo",
        ),
        (
            lambda: tg.send_document(
                alice.user,
                b"%PDF-1.4 fake",
                file_name="report.pdf",
                mime_type="application/pdf",
                caption="Report",
            ),
            "sendDocument",
        ),
        (lambda: tg.send_photo(alice.user, jpeg()), "sendPhoto"),
    ):
        waiting = tg.wait_for(alice.user, "New post")
        send()
        status = await waiting
        picker = await alice.presses(status, "✅ Done", "Where should it go")
        picker = await alice.presses(
            picker,
            "▫️ @news · Telegram channel",
            lambda m: "✅ @news · Telegram channel" in buttons(m),
        )
        ask_time = await alice.presses(picker, "Next ➡", "When?")
        preview = await alice.presses(ask_time, "⚡ Now", "Preview")
        scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #")
        await tg.wait_for(alice.user, "is out", after=scheduled["message_id"])
        assert len(tg.calls_to(method)) == 1
