"""Threads through the bot: a text too long for Bluesky and a Mastodon server is split, from
the preview, into a numbered thread for each, and published to the fake Mastodon server and
the fake Bluesky PDS as replies, in order."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from cryptography.fernet import Fernet

from bot.app import Crier
from bot.config import Settings
from providers.mastodon_limits import ServerLimits
from storage import accounts
from tests.acceptance.conftest import JSON, Person, buttons
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.serve import from_handler, serve
from tests.fakes.telegram_api import FakeTelegram

KEY = Fernet.generate_key().decode()
HANDLE = "alice.test"
DID = "did:plc:alicealicealicealice"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
MASTODON = "@crier@mastodon.example"
#: 14 sentences, 755 characters: three posts of 300 on either platform.
TEXT = " ".join(f"Sentence number {n:02d} goes on long enough to be counted." for n in range(1, 15))


@pytest.fixture
async def bsky() -> AsyncIterator[FakeBluesky]:
    fake = FakeBluesky()
    async with serve(from_handler(fake)) as url:
        fake.pds_url = fake.resolver_url = fake.plc_url = url
        fake.add_account(HANDLE, DID, APP_PASSWORD)
        yield fake


async def connected(crier: Crier, person: Person, bsky: FakeBluesky, server: FakeMastodon) -> None:
    """A Bluesky account and a Mastodon account (a 300-character server), as /connect
    leaves them."""
    assert crier.services is not None
    secrets = crier.services.secrets
    async with crier.db.session() as session:
        await accounts.add(
            session,
            user_id=person.id,
            platform="bluesky",
            label=f"@{HANDLE}",
            external_id=DID,
            config={"did": DID, "handle": HANDLE, "pds_url": bsky.pds_url},
            credentials=secrets.seal({"app_password": APP_PASSWORD}),
        )
        await accounts.add(
            session,
            user_id=person.id,
            platform="mastodon",
            label=MASTODON,
            external_id="mastodon.example:1",
            config={
                "instance_url": server.base_url,
                "domain": "mastodon.example",
                "limits": ServerLimits(max_characters=300).to_config(),
            },
            credentials=secrets.seal({"access_token": server.token}),
        )


def threads_shown(count: int) -> Callable[[JSON], bool]:
    return lambda m: (m.get("text") or "").count("🧵 Thread of 3") == count


def picked(label: str) -> Callable[[JSON], bool]:
    return lambda m: f"✅ {label}" in buttons(m)


def strip_number(part: str) -> str:
    return part.rsplit(" ", 1)[0]


async def test_a_long_post_goes_out_as_a_thread_of_replies_on_mastodon_and_bluesky(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person, bsky: FakeBluesky
) -> None:
    settings = make_settings(
        crier_encryption_key=KEY,
        bluesky_resolver_url=bsky.pds_url,
        bluesky_plc_url=bsky.pds_url,
    )
    async with FakeMastodon(max_characters=300) as server, Crier(settings) as crier:
        await alice.says("/start", "Crier")
        await connected(crier, alice, bsky, server)
        status = await alice.says(TEXT, "New post")
        picker = await alice.presses(status, "✅ Done", "Where should it go")
        for label in (f"@{HANDLE} · Bluesky", f"{MASTODON} · Mastodon"):
            picker = await alice.presses(picker, f"▫️ {label}", picked(label))
        ask_time = await alice.presses(picker, "Next ➡", "When?")
        preview = await alice.presses(ask_time, "⚡ Now", "Preview")
        # Too long for both, as each counts it; both can take a thread.
        assert f"❌ @{HANDLE} (Bluesky)" in preview["text"]
        assert "Text is 755 characters; Bluesky allows 300" in preview["text"]
        assert "755 characters as Mastodon counts them" in preview["text"]
        assert "✅ Confirm" not in buttons(preview)

        preview = await alice.presses(
            preview, f"🧵 Split into a thread for @{HANDLE}", threads_shown(1)
        )
        preview = await alice.presses(
            preview, f"🧵 Split into a thread for {MASTODON}", threads_shown(2)
        )
        assert "of 300 each" in preview["text"]
        assert "❌" not in preview["text"]
        scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #1")
        await tg.wait_for(alice.user, "Post #1 is out", after=scheduled["message_id"], timeout=15)

    # Mastodon: three statuses, each replying to the one before.
    one, two, three = server.statuses
    assert (one.in_reply_to_id, two.in_reply_to_id, three.in_reply_to_id) == (
        None,
        one.id,
        two.id,
    )
    toots = [s.text for s in server.statuses]
    assert [t.rsplit(" ", 1)[1] for t in toots] == ["1/3", "2/3", "3/3"]
    assert " ".join(strip_number(t) for t in toots) == TEXT
    assert all(len(t) <= 300 for t in toots)

    # Bluesky: the same three parts; each reply's root is the first, its parent the one before.
    first, second, third = sorted(bsky.posts(DID), key=lambda r: r["createdAt"])
    assert [r["text"] for r in (first, second, third)] == toots
    uri = {r["text"]: stored["uri"] for stored in bsky.records.values() for r in [stored["value"]]}
    assert "reply" not in first
    assert second["reply"]["root"]["uri"] == uri[first["text"]]
    assert second["reply"]["parent"]["uri"] == uri[first["text"]]
    assert third["reply"]["root"]["uri"] == uri[first["text"]]
    assert third["reply"]["parent"]["uri"] == uri[second["text"]]


async def test_a_formatted_text_split_into_a_thread_keeps_its_links_written_out(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person, bsky: FakeBluesky
) -> None:
    # A link hidden behind words ("the announcement") in the middle of the long text: the
    # parts are cut from the text as Mastodon gets it, with the address written out.
    words = "the announcement"
    text = f"{TEXT[:400]} Read {words} today. {TEXT[400:]}"
    link = {"type": "text_link", "offset": text.index(words), "length": len(words)}
    link["url"] = "https://example.com/launch"
    settings = make_settings(crier_encryption_key=KEY)
    async with FakeMastodon(max_characters=300) as server, Crier(settings) as crier:
        await alice.says("/start", "Crier")
        await connected(crier, alice, bsky, server)
        waiting = tg.wait_for(alice.user, "New post")
        tg.send_message(alice.user, {"text": text, "entities": [link]})
        status = await waiting
        picker = await alice.presses(status, "✅ Done", "Where should it go")
        label = f"{MASTODON} · Mastodon"
        picker = await alice.presses(picker, f"▫️ {label}", picked(label))
        ask_time = await alice.presses(picker, "Next ➡", "When?")
        preview = await alice.presses(ask_time, "⚡ Now", "Preview")
        preview = await alice.presses(
            preview, f"🧵 Split into a thread for {MASTODON}", lambda m: "🧵 Thread of" in m["text"]
        )
        scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #1")
        await tg.wait_for(alice.user, "Post #1 is out", after=scheduled["message_id"], timeout=15)

    toots = [s.text for s in server.statuses]
    assert len(toots) >= 3
    assert all(len(t) <= 300 for t in toots)
    written_out = text.replace(words, f"{words} (https://example.com/launch)")
    assert " ".join(strip_number(t) for t in toots) == written_out
