"""After a post is out, from the chat: ✏️ Edit changes it in place and 🗑 Delete removes it
(asking first), per account, with the exact request each platform's fake received; Bluesky
can't edit and offers delete-and-post-again; another user's post can't be touched with
forged callback data (the same "not found" as an unknown id, and no platform is called)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
import respx
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.app import Crier
from bot.config import Settings
from storage.models import Account
from tests.acceptance.conftest import (
    Person,
    buttons,
    dm,
    eventually,
    jpeg,
    make_due,
    schedule_draft,
)
from tests.acceptance.seeding import seed_account, seed_post, seed_user
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.discord import FakeDiscord, FakeWebhook
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.scripted_provider import ScriptedProvider
from tests.fakes.serve import from_handler, serve
from tests.fakes.telegram_api import FakeTelegram

CHANNEL = -1001234567890


async def connect_channel(tg: FakeTelegram, person: Person) -> None:
    tg.add_channel(CHANNEL, "News", "news", admins={person.id: "creator"})
    menu = await person.says("/connect", "Connect an account")
    await person.presses(menu, "📣 Telegram channel or group", "Post messages")
    await person.says("@news", "Connected")


async def publish_to_channel(tg: FakeTelegram, crier: Crier, person: Person, text: str) -> dict:  # type: ignore[type-arg]
    """Compose `text` for the channel only, let it go out; the success DM."""
    await person.says("/start", "Crier")
    await connect_channel(tg, person)
    status = await person.says(text, "New post")
    await schedule_draft(person, status, accounts="@news")
    await make_due(crier)
    return await dm(tg, person, "is out")


async def test_a_channel_post_is_edited_then_deleted_from_the_success_dm(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    summary = await publish_to_channel(tg, crier, alice, "Doors open at 9")
    [channel_post] = tg.sent(CHANNEL)
    message_id = channel_post["message_id"]
    assert buttons(summary)[-3:-1] == ["🗑 Delete", "✏️ Edit"]

    asked = await alice.presses(summary, "✏️ Edit", "Send the new text")
    assert "@news (Telegram channel)" in asked["text"]
    told = await alice.says("Doors open at 10", "edited")
    assert "✅ @news (Telegram channel) — edited" in told["text"]
    [edited] = [c for c in tg.calls_to("editMessageText") if c["chat_id"] == CHANNEL]
    assert edited == {"chat_id": CHANNEL, "message_id": message_id, "text": "Doors open at 10"}
    assert tg.sent(CHANNEL)[0]["text"] == "Doors open at 10"

    # /list offers the same on the post; Keep it changes nothing, then delete from there.
    listed = await alice.says("/list", "Your posts")
    assert buttons(listed)[-3:] == ["🗑 Delete #1", "✏️ Edit #1", "📄 Duplicate #1"]
    ask = await alice.presses(listed, "🗑 Delete #1", "Delete post #1")
    kept = await alice.presses(ask, "Keep it", "stays as it is")
    assert buttons(kept) == []
    assert tg.deleted(CHANNEL) == []
    ask = await alice.presses(summary, "🗑 Delete", "Delete post #")
    assert buttons(ask) == ["🗑 Yes, delete it", "Keep it"]
    done = await alice.presses(ask, "🗑 Yes, delete it", "deleted")
    assert "✅ @news (Telegram channel) — deleted" in done["text"]
    deletes = [c for c in tg.calls_to("deleteMessage") if c["chat_id"] == CHANNEL]
    assert deletes == [{"chat_id": CHANNEL, "message_id": message_id}]
    assert tg.deleted(CHANNEL) == [message_id]
    listed = await alice.says("/list", "Your posts")
    assert "🗑 @news (Telegram channel) — deleted" in listed["text"]
    assert not any(b.startswith("🗑 Delete") for b in buttons(listed))


async def test_another_users_post_cant_be_deleted_or_edited(
    tg: FakeTelegram, crier: Crier, alice: Person, bob: Person
) -> None:
    summary = await publish_to_channel(tg, crier, alice, "Alice's news")
    post_id = summary["text"].split("#", 1)[1].split(" ", 1)[0]
    await bob.says("/start", "Crier")
    hello = await bob.says("/help", lambda m: True)
    before = len(tg.calls)
    for data in (f"a:del:{post_id}", f"a:del_yes:{post_id}", f"a:edit:{post_id}"):
        await bob.forges(hello, data)
        said = await dm(tg, bob, f"I can't find post #{post_id}")
        assert "among your posts" in said["text"]
    unknown = await bob.forges(hello, "a:del_yes:999999")  # an unknown id: the same words
    assert unknown is not None
    await dm(tg, bob, "I can't find post #999999")
    await bob.says("Alice's news is mine now", "New post")  # no edit question was open
    made = [name for name, params in tg.calls[before:] if params.get("chat_id") == CHANNEL]
    assert made == []
    assert len(tg.sent(CHANNEL)) == 1
    assert tg.sent(CHANNEL)[0]["text"] == "Alice's news"


# -- Bluesky, Mastodon and Discord, against their fakes -----------------------------------------

KEY = Fernet.generate_key().decode()
HANDLE = "alice.test"
DID = "did:plc:alicealicealicealice"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"


@pytest.fixture
async def bsky() -> AsyncIterator[FakeBluesky]:
    fake = FakeBluesky()
    async with serve(from_handler(fake)) as url:
        fake.pds_url = fake.resolver_url = fake.plc_url = url
        fake.add_account(HANDLE, DID, APP_PASSWORD)
        yield fake


@pytest.fixture
def discord() -> Iterator[FakeDiscord]:
    fake = FakeDiscord()
    with respx.mock(assert_all_called=False) as router:
        router.route(host="127.0.0.1").pass_through()
        router.route(host="discord.com").mock(side_effect=fake.handle)
        yield fake


async def connect_three(
    crier: Crier, person: Person, bsky: FakeBluesky, server: FakeMastodon, hook: FakeWebhook
) -> list[int]:
    """A Bluesky, a Mastodon and a Discord account, as /connect leaves them."""
    await seed_user(crier, person.id)
    return [
        await seed_account(
            crier,
            person.id,
            "bluesky",
            f"@{HANDLE}",
            config={"did": DID, "handle": HANDLE, "pds_url": bsky.pds_url},
            credentials={"app_password": APP_PASSWORD},
        ),
        await seed_account(
            crier,
            person.id,
            "mastodon",
            "@crier@mastodon.example",
            config={"instance_url": server.base_url, "domain": "mastodon.example"},
            credentials={"access_token": server.token},
        ),
        await seed_account(
            crier,
            person.id,
            "discord",
            "#announcements",
            config={"guild_id": hook.guild_id, "channel_id": hook.channel_id},
            credentials={"webhook_url": hook.url},
        ),
    ]


def _records(bsky: FakeBluesky) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(r.content) for r in bsky.calls("com.atproto.repo.deleteRecord")]


async def test_bluesky_mastodon_and_discord_posts_are_edited_and_deleted(
    tg: FakeTelegram,
    make_settings: Callable[..., Settings],
    alice: Person,
    bsky: FakeBluesky,
    discord: FakeDiscord,
) -> None:
    hook = discord.add_webhook("Announcements")
    async with FakeMastodon() as server, Crier(make_settings(crier_encryption_key=KEY)) as crier:
        accounts = await connect_three(crier, alice, bsky, server, hook)
        await seed_post(crier, alice.id, accounts, "Launch at noon")
        summary = await dm(tg, alice, "is out")
        assert buttons(summary)[-3:-1] == ["🗑 Delete", "✏️ Edit"]
        [(_, _, rkey)] = list(bsky.records)
        [status] = server.statuses
        [message] = discord.messages

        # ✏️ Edit: Mastodon and Discord in place; Bluesky says it can't, and offers to post again.
        await alice.presses(summary, "✏️ Edit", "Send the new text")
        told = await alice.says("Launch at one", "Post #")
        assert "✅ @crier@mastodon.example (Mastodon) — edited" in told["text"]
        assert "✅ #announcements (Discord) — edited" in told["text"]
        assert (
            f"⚠️ @{HANDLE} (Bluesky) — Bluesky can't edit a post that is out; delete it and "
            "post it again instead." in told["text"]
        )
        [put] = [r for r in server.requests if r.method == "PUT"]
        assert put.path == f"/api/v1/statuses/{status.id}"
        assert (put.json or put.form)["status"] == "Launch at one"
        assert status.text == "Launch at one"
        [patch] = [r for r in discord.requests if r.method == "PATCH"]
        assert patch.url.path == f"/api/webhooks/{hook.id}/{hook.token}/messages/{message.id}"
        assert json.loads(patch.content)["content"] == "Launch at one"
        assert message.content == "Launch at one"
        assert [p["text"] for p in bsky.posts(DID)] == ["Launch at noon"]
        assert buttons(told) == ["🗑 Delete and post again (1)"]

        # Delete and post again on Bluesky: the old record goes, the new text goes out.
        again = await alice.presses(told, "🗑 Delete and post again (1)", "Posting it there again")
        assert f"✅ @{HANDLE} (Bluesky) — deleted" in again["text"]
        [deleted] = _records(bsky)
        assert deleted == {"repo": DID, "collection": "app.bsky.feed.post", "rkey": rkey}
        await eventually(lambda: [p["text"] for p in bsky.posts(DID)] == ["Launch at one"])

        # 🗑 Delete: asks first, then removes it from each account.
        ask = await alice.presses(summary, "🗑 Delete", "Delete post #")
        done = await alice.presses(ask, "🗑 Yes, delete it", "deleted")
        for name in (f"@{HANDLE} (Bluesky)", "@crier@mastodon.example (Mastodon)"):
            assert f"✅ {name} — deleted" in done["text"]
        assert "✅ #announcements (Discord) — deleted" in done["text"]
        [delete] = [r for r in server.requests if r.method == "DELETE"]
        assert delete.path == f"/api/v1/statuses/{status.id}"
        assert server.deleted == [status]
        [gone] = [r for r in discord.requests if r.method == "DELETE"]
        assert gone.url.path == f"/api/webhooks/{hook.id}/{hook.token}/messages/{message.id}"
        assert discord.deleted == [message]
        assert len(_records(bsky)) == 2
        assert bsky.posts(DID) == []


async def test_buttons_only_where_a_platform_allows_and_a_refusal_says_why(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    platform = ScriptedProvider(["ok"])  # declares nothing after publishing
    async with Crier(make_settings(), providers=[platform]) as crier:
        await seed_user(crier, alice.id)
        studio = await seed_account(crier, alice.id, "scripted", "Studio")
        await seed_post(crier, alice.id, [studio], "Only there")
        alone = await dm(tg, alice, "Post #1 is out")
        assert not {"🗑 Delete", "✏️ Edit"} & set(buttons(alone))

        dry_run = await seed_account(crier, alice.id, "dryrun", "Dry run")
        await seed_post(crier, alice.id, [dry_run, studio], "Both")
        both = await dm(tg, alice, "Post #2 is out")
        ask = await alice.presses(both, "🗑 Delete", "Delete post #2")
        done = await alice.presses(ask, "🗑 Yes, delete it", "deleted")
        assert "✅ Dry run — deleted" in done["text"]
        assert "⚠️ Studio (Scripted) — Crier can't delete a post on Scripted" in done["text"]


async def test_a_photo_posts_caption_is_edited_in_place(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await connect_channel(tg, alice)
    status = await alice.sends_photo(jpeg(), caption="Sunset at 8")
    await schedule_draft(alice, status, accounts="@news")
    await make_due(crier)
    summary = await dm(tg, alice, "is out")
    [channel_post] = tg.sent(CHANNEL)
    await alice.presses(summary, "✏️ Edit", "Send the new text")
    await alice.says("Sunset at 9", "edited")
    [edited] = [c for c in tg.calls_to("editMessageCaption") if c["chat_id"] == CHANNEL]
    assert edited == {
        "chat_id": CHANNEL,
        "message_id": channel_post["message_id"],
        "caption": "Sunset at 9",
    }
    assert tg.sent(CHANNEL)[0]["caption"] == "Sunset at 9"
    # Too long for a caption (1,024): refused for the channel, as when composing; no call.
    await alice.presses(summary, "✏️ Edit", "Send the new text")
    refused = await alice.says("x" * 1100, "Post #")
    assert "⚠️ @news (Telegram channel) —" in refused["text"]
    assert "1,024" in refused["text"]
    assert len([c for c in tg.calls_to("editMessageCaption") if c["chat_id"] == CHANNEL]) == 1


async def test_a_photo_sent_as_the_edit_replaces_the_media_where_the_platform_allows(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with FakeMastodon() as server, Crier(make_settings(crier_encryption_key=KEY)) as crier:
        await alice.says("/start", "Crier")
        await connect_channel(tg, alice)
        toots = await seed_account(
            crier,
            alice.id,
            "mastodon",
            "@crier@mastodon.example",
            config={"instance_url": server.base_url, "domain": "mastodon.example"},
            credentials={"access_token": server.token},
        )
        async with crier.db.session() as session:
            channel = await session.scalar(
                select(Account.id).where(Account.label == "@news", Account.user_id == alice.id)
            )
        assert channel is not None
        await seed_post(crier, alice.id, [channel, toots], "Menu of the day")
        summary = await dm(tg, alice, "is out")
        [status] = server.statuses
        [channel_post] = tg.sent(CHANNEL)

        await alice.presses(summary, "✏️ Edit", "send one photo or video")
        waiting = tg.wait_for(alice.user, "Post #")
        tg.send_photo(alice.user, jpeg(color="green"), caption="Menu with a photo")
        told = await waiting
        assert "✅ @crier@mastodon.example (Mastodon) — edited" in told["text"]
        assert (
            "⚠️ @news (Telegram channel) — Telegram channel can't change the photos or videos "
            "of a post that is out" in told["text"]
        )
        assert buttons(told) == ["🗑 Delete and post again (1)"]
        [put] = [r for r in server.requests if r.method == "PUT"]
        body = put.json or put.form
        assert body["status"] == "Menu with a photo"
        [media_id] = body.get("media_ids") or body.get("media_ids[]")
        assert [m.id for m in status.media] == [str(media_id)]
        assert tg.sent(CHANNEL)[0]["text"] == "Menu of the day"  # unchanged there

        again = await alice.presses(told, "🗑 Delete and post again (1)", "Posting it there again")
        assert "✅ @news (Telegram channel) — deleted" in again["text"]
        assert tg.deleted(CHANNEL) == [channel_post["message_id"]]

        def reposted() -> dict | None:  # type: ignore[type-arg]
            return next((m for m in tg.sent(CHANNEL) if m.get("photo")), None)

        photo = await eventually(reposted)
        assert photo["caption"] == "Menu with a photo"
