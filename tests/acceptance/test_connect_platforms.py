"""Connecting platforms through the bot: Mastodon end to end, webhooks, and secrets at rest."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.app import Crier
from bot.config import Settings
from storage.models import Account, AccountStatus
from storage.secrets import WrongKey
from tests.acceptance.conftest import (
    Person,
    buttons,
    eventually,
    jpeg,
    make_due,
    schedule_draft,
)
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.serve import from_handler, serve
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.webhook_receiver import WebhookReceiver

KEY = Fernet.generate_key().decode()


async def stored_accounts(crier: Crier, platform: str) -> list[Account]:
    async with crier.db.session() as session:
        return list(await session.scalars(select(Account).where(Account.platform == platform)))


async def connect_mastodon(tg: FakeTelegram, person: Person, server: FakeMastodon) -> dict:  # type: ignore[type-arg]
    menu = await person.says("/connect", "Connect an account")
    first = await person.presses(menu, "🐘 Mastodon", "step 1 of 2")
    assert "✖ Cancel" in buttons(first)
    asked = await person.says(server.base_url, "step 2 of 2")
    assert "I'll delete your message" in asked["text"]
    waiting = tg.wait_for(person.user, "onnected")
    token_message = tg.send_text(person.user, server.token)["message"]
    connected = await waiting
    assert token_message["message_id"] in tg.deleted(person.user)
    return connected


async def test_mastodon_connect_then_a_scheduled_image_post_with_alt_text_links_back(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with FakeMastodon() as server, Crier(make_settings(crier_encryption_key=KEY)) as crier:
        await alice.says("/start", "Crier")
        connected = await connect_mastodon(tg, alice, server)
        assert "@" in connected["text"]
        [account] = await stored_accounts(crier, "mastodon")
        assert account.credentials is not None
        assert server.token not in account.credentials, "the token is stored in clear"
        assert account.config["limits"]["max_characters"] == 500

        status = await alice.sends_photo(jpeg(), caption="Hello fediverse")
        asked = await alice.presses(status, "🖼 Add alt text", "Photo 1 of 1")
        done = await alice.says("An orange square", "Alt text on 1 of 1 photo")
        status = await tg.wait_for(alice.user, "New post", after=done["message_id"])
        assert asked
        steps = await schedule_draft(
            alice, status, accounts=["Mastodon"], when="In 1 hour", expect="Scheduled #1"
        )
        scheduled = steps.scheduled
        assert server.statuses == [], "published before its time"
        await make_due(crier)  # an hour passes
        summary = await tg.wait_for(alice.user, "Post #1 is out", after=scheduled["message_id"])

        [posted] = server.statuses
        assert posted.text == "Hello fediverse"
        assert len(posted.media) == 1
        assert posted.media[0].mime == "image/jpeg"
        assert posted.media[0].description == "An orange square"
        assert posted.idempotency_key
        links = [e.get("url") for e in summary.get("entities", []) if e.get("type") == "text_link"]
        assert links == [server.status_url(posted.id)]


async def test_a_revoked_token_holds_posts_and_asks_to_reconnect(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with FakeMastodon() as server, Crier(make_settings(crier_encryption_key=KEY)) as crier:
        await alice.says("/start", "Crier")
        await connect_mastodon(tg, alice, server)
        token = server.token
        server.valid_tokens.clear()  # revoked on the server
        status = await alice.says("Held, not lost", "New post")
        steps = await schedule_draft(
            alice, status, accounts=["Mastodon"], when="⚡ Now", expect="Scheduled #1"
        )
        scheduled = steps.scheduled
        notice = await tg.wait_for(alice.user, "needs reconnecting", after=scheduled["message_id"])
        assert "not lost" in notice["text"]
        [account] = await stored_accounts(crier, "mastodon")
        assert account.status == AccountStatus.NEEDS_REAUTH

        # Reconnecting with a valid token releases the held post.
        server.valid_tokens.add(token)
        await connect_mastodon(tg, alice, server)
        await tg.wait_for(alice.user, "Post #1 is out", timeout=8)
        assert [s.text for s in server.statuses] == ["Held, not lost"]


async def test_webhook_connect_shows_the_signing_secret_once(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    receiver = WebhookReceiver(secret=None)
    settings = make_settings(crier_encryption_key=KEY, webhook_block_private_hosts=False)
    async with serve(from_handler(receiver.handle)) as base, Crier(settings) as crier:
        await alice.says("/start", "Crier")
        menu = await alice.says("/connect", "Connect an account")
        await alice.presses(menu, "🔗 Webhook", "step 1")
        waiting = tg.wait_for(alice.user, "step 2")
        url_message = tg.send_text(alice.user, f"{base}/hook?token=abc123")["message"]
        media_mode = await waiting
        assert "Skip ➡" in buttons(media_mode)
        after_skip = await alice.presses(media_mode, "Skip ➡", "step 3")
        connected = await alice.presses(after_skip, "Skip ➡", "Connected")
        assert url_message["message_id"] in tg.deleted(alice.user)
        assert "signing secret" in connected["text"]
        [account] = await stored_accounts(crier, "webhook")
        assert "abc123" not in (account.credentials or "")
        assert "abc123" not in account.label


async def test_without_an_encryption_key_secret_platforms_are_refused(
    crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    menu = await alice.says("/connect", "Connect an account")
    refused = await alice.presses(menu, "🐘 Mastodon", "CRIER_ENCRYPTION_KEY")
    assert "crier keygen" in refused["text"]
    assert await stored_accounts(crier, "mastodon") == []


async def test_a_wrong_key_at_start_up_is_refused_and_nothing_is_overwritten(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person, tmp_path: Path
) -> None:
    async with FakeMastodon() as server:
        async with Crier(make_settings(crier_encryption_key=KEY)) as crier:
            await alice.says("/start", "Crier")
            await connect_mastodon(tg, alice, server)
            [before] = await stored_accounts(crier, "mastodon")

        other = Fernet.generate_key().decode()
        with pytest.raises(WrongKey):
            async with Crier(make_settings(crier_encryption_key=other)):
                pass

        # Key rotation: the new key first, the old one still listed, reads and keeps working.
        async with Crier(make_settings(crier_encryption_key=f"{other},{KEY}")) as crier:
            [after] = await stored_accounts(crier, "mastodon")
    assert after.credentials == before.credentials


async def test_accounts_test_rename_and_disconnect(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with FakeMastodon() as server, Crier(make_settings(crier_encryption_key=KEY)) as crier:
        await alice.says("/start", "Crier")
        await connect_mastodon(tg, alice, server)
        listing = await alice.says("/accounts", "Your accounts")
        test_label = next(b for b in buttons(listing) if b.startswith("🧪"))
        works = await alice.presses(listing, test_label, "works")
        assert works

        await alice.presses(listing, "✏️ Rename", "Send a new name")
        await alice.says("Work toot", "Renamed to Work toot")
        listing = await alice.says("/accounts", "Work toot")

        question = await alice.presses(listing, "🗑", "Disconnect")
        await alice.presses(question, "🗑 Yes, disconnect", "Disconnected")
        [account] = await stored_accounts(crier, "mastodon")
        assert account.status == AccountStatus.DISABLED
        assert account.credentials is None
        listing = await alice.says("/accounts", "Your accounts")
        assert "Work toot" not in listing["text"]


async def test_a_token_sent_after_a_restart_mid_connect_is_still_deleted(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    settings = make_settings(crier_encryption_key=KEY)
    async with FakeMastodon() as server:
        async with Crier(settings):
            await alice.says("/start", "Crier")
            menu = await alice.says("/connect", "Connect an account")
            await alice.presses(menu, "🐘 Mastodon", "step 1 of 2")
            await alice.says(server.base_url, "step 2 of 2")
        async with Crier(settings) as crier:
            waiting = tg.wait_for(alice.user, "interrupted")
            token_message = tg.send_text(alice.user, server.token)["message"]
            said = await waiting
            assert "deleted your message" in said["text"]
            assert token_message["message_id"] in tg.deleted(alice.user)
            assert await stored_accounts(crier, "mastodon") == []


async def test_a_renamed_account_keeps_its_name_and_shows_its_handle_after_reconnecting(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with FakeMastodon() as server, Crier(make_settings(crier_encryption_key=KEY)) as crier:
        await alice.says("/start", "Crier")
        await connect_mastodon(tg, alice, server)
        [account] = await stored_accounts(crier, "mastodon")
        handle = account.label
        listing = await alice.says("/accounts", "Your accounts")
        await alice.presses(listing, "✏️ Rename", "Send a new name")
        await alice.says("Work", "Renamed to Work")
        listing = await alice.says("/accounts", "Your accounts")
        assert f"Work (Mastodon) · {handle}" in listing["text"]

        await connect_mastodon(tg, alice, server)  # the same account again
        [account] = await stored_accounts(crier, "mastodon")
        assert account.label == "Work"
        listing = await alice.says("/accounts", "Your accounts")
        assert f"Work (Mastodon) · {handle}" in listing["text"]


async def test_another_users_account_buttons_are_refused_and_change_nothing(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person, bob: Person
) -> None:
    async with FakeMastodon() as server, Crier(make_settings(crier_encryption_key=KEY)) as crier:
        await alice.says("/start", "Crier")
        await connect_mastodon(tg, alice, server)
        [account] = await stored_accounts(crier, "mastodon")
        calls = len(server.requests)
        menu = await bob.says("/start", "Crier")

        def refusals() -> int:
            return sum(
                "can't find that account" in (m.get("text") or "") for m in tg.sent(bob.user)
            )

        for count, action in enumerate(("test", "rename", "off", "offyes"), start=1):
            await bob.forges(menu, f"acc:{action}:{account.id}")
            await eventually(lambda count=count: refusals() == count)  # type: ignore[misc]
        [after] = await stored_accounts(crier, "mastodon")
        assert (after.label, after.status) == (account.label, AccountStatus.ACTIVE)
        assert len(server.requests) == calls, "bob's Test button reached alice's server"
