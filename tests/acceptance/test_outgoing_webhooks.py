"""Outgoing webhooks end to end: the URL set with /webhook in the chat, posts published,
failed, unknown and cancelled by the real engine, and a receiver on 127.0.0.1 that checks
every Standard Webhooks signature by hand (and with the `standardwebhooks` package)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from bot.app import Crier
from bot.config import Settings
from bot.ops.logs import FLOORS
from storage.models import TargetStatus, WebhookDelivery, WebhookStatus
from tests.acceptance.conftest import (
    JSON,
    Person,
    buttons,
    dm,
    eventually,
    make_due,
    schedule_draft,
    schedule_text,
)
from tests.acceptance.seeding import seed_account, seed_post, target
from tests.fakes.scripted_provider import ScriptedProvider
from tests.fakes.standard_webhooks import Received, WebhookReceiver, receiving
from tests.fakes.telegram_api import FakeTelegram

KEY = Fernet.generate_key().decode()
SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")
#: Generous: waits for something that should happen, not limits.
PATIENCE = 15.0


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(
        crier_encryption_key=KEY,
        # The receiver runs on this machine; a public instance refuses such URLs.
        webhook_block_private_hosts=False,
        webhook_retry_base_seconds=0.2,
        webhook_retry_max_seconds=0.5,
        engine_sweep_seconds=0.5,
    )


async def set_in_chat(person: Person, url: str, receiver: WebhookReceiver) -> JSON:
    """/webhook → ✏️ Set URL → the URL: the secret shown once goes to the receiver."""
    screen = await person.says("/webhook", "Webhook")
    assert "No URL set" in screen["text"]
    await person.presses(screen, "✏️ Set URL", "Send the URL")
    done = await person.says(url, "Webhook set")
    [secret] = SECRET.findall(done["text"])
    receiver.secret = secret
    return done


async def deliveries(crier: Crier) -> list[WebhookDelivery]:
    async with crier.db.session() as session:
        return list(await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def independently_verified(secret: str, received: Received) -> Any:
    """The package's own check (raises if the signature or timestamp is wrong)."""
    return Webhook(secret).verify(received.body, received.headers)


async def test_url_set_in_the_chat_gets_a_published_post_once_signed(
    tg: FakeTelegram, settings: Settings, alice: Person
) -> None:
    receiver = WebhookReceiver()
    async with receiving(receiver) as url, Crier(settings) as crier:
        await alice.says("/start", "Crier")
        await set_in_chat(alice, url, receiver)
        assert receiver.secret is not None
        await schedule_text(alice, "Hello hooks")
        await make_due(crier)
        await dm(tg, alice, "Post #1 is out")
        await eventually(receiver.accepted, timeout=PATIENCE)
        await asyncio.sleep(1.5)  # a few sweeps: nothing is sent twice

        [got] = receiver.received
        assert got.verified
        assert got.answered == 200
        event = independently_verified(receiver.secret, got)
        assert got.event_id.startswith("msg_")
        assert event["type"] == "post.published"
        data = event["data"]
        assert data["post_id"] == 1
        assert data["platform"] == "dryrun"
        assert data["status"] == "published"
        assert data["error"] is None
        assert data["occurred_at"].endswith("Z")

        screen = await alice.says("/webhook", "Latest deliveries")
        assert "post.published" in screen["text"]
        assert "#1 — delivered (HTTP 200)" in screen["text"]
        assert url in screen["text"]
        assert receiver.secret not in screen["text"], "the secret is shown once only"


async def test_a_receiver_failing_twice_gets_the_same_event_until_it_answers_2xx(
    tg: FakeTelegram, settings: Settings, alice: Person, caplog: Any
) -> None:
    # Everything at DEBUG, with the floors Crier's logging sets for libraries that print
    # payloads (PTB logs each Bot API call's parameters, the chat's own secret message too).
    for name, floor in FLOORS.items():
        caplog.set_level(floor, logger=name)
    caplog.set_level(logging.DEBUG)  # last: it sets the capturing handler's level too
    receiver = WebhookReceiver(answers=[500, 500])
    async with receiving(receiver) as url, Crier(settings) as crier:
        await alice.says("/start", "Crier")
        done = await alice.says(f"/webhook {url}", "Webhook set")
        [secret] = SECRET.findall(done["text"])
        receiver.secret = secret
        await schedule_text(alice, "Third time lucky")
        await make_due(crier)
        await eventually(receiver.accepted, timeout=PATIENCE)
        await asyncio.sleep(1.5)

        assert [r.answered for r in receiver.received] == [500, 500, 200]
        assert len({r.event_id for r in receiver.received}) == 1, "one event id on every try"
        for got in receiver.received:
            independently_verified(secret, got)
        [row] = await deliveries(crier)
        assert (row.status, row.attempts, row.last_status) == (WebhookStatus.DELIVERED, 3, 200)
        screen = await alice.says("/webhook", "Latest deliveries")
        assert "delivered (HTTP 200, 3 tries)" in screen["text"]

    # The secret (nor its key bytes) is never logged, not even around the failures.
    key_part = secret.removeprefix("whsec_")
    logged = [record.getMessage() for record in caplog.records]
    assert any("webhook" in line and "HTTP 500" in line for line in logged)
    assert not [line for line in logged if key_part in line or secret in line]


async def test_failed_and_unknown_outcomes_are_events_and_marking_one_published_too(
    tg: FakeTelegram, settings: Settings, alice: Person
) -> None:
    receiver = WebhookReceiver()
    provider = ScriptedProvider(["400"], idempotent=False)
    async with receiving(receiver) as url, Crier(settings, providers=[provider]) as crier:
        await alice.says("/start", "Crier")
        await set_in_chat(alice, url, receiver)
        account = await seed_account(
            crier, alice.id, "scripted", "@alice", credentials={"token": "t"}
        )
        _, [failed] = await seed_post(crier, alice.id, [account], "Spicy")
        await eventually(receiver.accepted, timeout=PATIENCE)
        provider.script = ["timeout"]
        _, [unknown] = await seed_post(crier, alice.id, [account], "Did it go?")
        asked = await dm(tg, alice, "can't tell whether this reached")
        await eventually(lambda: len(receiver.accepted()) == 2, timeout=PATIENCE)
        await alice.presses(asked, "✔ Mark as published", "Marked post #2 as published")
        await eventually(lambda: len(receiver.accepted()) == 3, timeout=PATIENCE)

        first, second, third = (r.event for r in receiver.accepted())
        assert first["type"] == "post.failed"
        assert first["data"]["target_id"] == failed
        assert first["data"]["account"] == "@alice"
        assert first["data"]["platform"] == "scripted"
        assert first["data"]["error"]
        assert second["type"] == "post.unknown"
        assert second["data"]["target_id"] == unknown
        assert third["type"] == "post.published"
        assert third["data"]["target_id"] == unknown
        assert (await target(crier, unknown)).status == TargetStatus.PUBLISHED
        assert len({r.event_id for r in receiver.accepted()}) == 3


async def test_cancelling_a_post_is_an_event(
    tg: FakeTelegram, settings: Settings, alice: Person
) -> None:
    receiver = WebhookReceiver()
    async with receiving(receiver) as url, Crier(settings):
        await alice.says("/start", "Crier")
        await set_in_chat(alice, url, receiver)
        await schedule_text(alice, "Never mind")
        question = await alice.says("/cancel 1", "Cancel post #1?")
        await alice.presses(question, "🗑 Yes, cancel it", "Cancelled post #1")
        [got] = await eventually(receiver.accepted, timeout=PATIENCE)

        assert got.event["type"] == "post.cancelled"
        assert got.event["data"]["status"] == "cancelled"
        assert got.event["data"]["post_id"] == 1


async def test_only_the_owner_sees_their_webhook_and_others_get_no_events(
    tg: FakeTelegram, settings: Settings, alice: Person, bob: Person
) -> None:
    receiver = WebhookReceiver()
    async with receiving(receiver) as url, Crier(settings) as crier:
        await alice.says("/start", "Crier")
        await bob.says("/start", "Crier")
        await set_in_chat(alice, url, receiver)
        await schedule_text(bob, "Bob's own post")
        await make_due(crier)
        await dm(tg, bob, "Post #1 is out")

        screen = await bob.says("/webhook", "Webhook")
        assert "No URL set" in screen["text"]
        assert url not in screen["text"]
        await asyncio.sleep(1.0)
        assert receiver.received == []
        assert await deliveries(crier) == []


async def test_rotating_the_secret_signs_with_the_new_one_and_removing_stops_events(
    tg: FakeTelegram, settings: Settings, alice: Person
) -> None:
    receiver = WebhookReceiver()
    async with receiving(receiver) as url, Crier(settings) as crier:
        await alice.says("/start", "Crier")
        old = (await set_in_chat(alice, url, receiver))["text"]
        screen = await alice.says("/webhook", "Webhook")
        rotated = await alice.presses(screen, "🔑 New secret", "New secret made")
        [secret] = SECRET.findall(rotated["text"])
        assert secret not in old
        receiver.secret = secret
        await schedule_text(alice, "Signed anew")
        await make_due(crier)
        [got] = await eventually(receiver.accepted, timeout=PATIENCE)
        independently_verified(secret, got)

        screen = await alice.says("/webhook", "Latest deliveries")
        assert "🗑 Remove" in buttons(screen)
        await alice.presses(screen, "🗑 Remove", "Webhook removed")
        await schedule_text(alice, "Unheard")
        await make_due(crier)
        await dm(tg, alice, "Post #2 is out")
        await asyncio.sleep(1.0)
        assert len(receiver.received) == 1


async def test_urls_crier_wont_call_are_refused_in_plain_words(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    # Default settings: a public instance refuses URLs into its own network.
    async with Crier(make_settings(crier_encryption_key=KEY)):
        await alice.says("/start", "Crier")
        told = await alice.says("/webhook ftp://example.com/x", "🤔")
        assert "https://" in told["text"]
        told = await alice.says("/webhook http://example.com/x", "🤔")
        assert "https://" in told["text"]
        told = await alice.says("/webhook http://127.0.0.1:9/hooks", "🤔")
        assert "private network" in told["text"]
        screen = await alice.says("/webhook", "Webhook")
        assert "No URL set" in screen["text"]


async def test_without_an_encryption_key_the_secret_cant_be_kept(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with Crier(make_settings(webhook_block_private_hosts=False)):
        await alice.says("/start", "Crier")
        told = await alice.says("/webhook https://example.com/hooks", "🤔")
        assert "CRIER_ENCRYPTION_KEY" in told["text"]


async def test_disconnecting_an_account_cancels_its_posts_with_events(
    tg: FakeTelegram, settings: Settings, alice: Person
) -> None:
    receiver = WebhookReceiver()
    provider = ScriptedProvider(["ok"])
    async with receiving(receiver) as url, Crier(settings, providers=[provider]) as crier:
        await alice.says("/start", "Crier")
        await set_in_chat(alice, url, receiver)
        token = {"token": "t"}
        account = await seed_account(crier, alice.id, "scripted", "@alice", credentials=token)
        tomorrow = datetime.now(UTC) + timedelta(days=1)
        _, [queued] = await seed_post(crier, alice.id, [account], "Later", when=tomorrow)

        listing = await alice.says("/accounts", "Your accounts")
        question = await alice.presses(listing, f"acc:off:{account}", "Disconnect")
        await alice.presses(question, "🗑 Yes, disconnect", "Disconnected")
        [got] = await eventually(receiver.accepted, timeout=PATIENCE)

        assert got.event["type"] == "post.cancelled"
        assert got.event["data"]["target_id"] == queued
        assert got.event["data"]["error"] == "account disconnected"
        assert provider.calls == []


async def test_an_account_taken_off_a_post_by_an_edit_is_a_cancelled_event(
    tg: FakeTelegram, settings: Settings, alice: Person
) -> None:
    receiver = WebhookReceiver()
    provider = ScriptedProvider(["ok"])
    async with receiving(receiver) as url, Crier(settings, providers=[provider]) as crier:
        await alice.says("/start", "Crier")
        await set_in_chat(alice, url, receiver)
        token = {"token": "t"}
        await seed_account(crier, alice.id, "scripted", "@loud", credentials=token)
        status = await alice.says("Edit me", "New post")
        await schedule_draft(alice, status, accounts=["Dry run"], when="Tomorrow 09:00")

        listing = await alice.says("/list", "Your posts")
        menu = await alice.presses(listing, "✏️ Edit #1", "Editing post #1")
        picker = await alice.presses(menu, "👥 Accounts", "Where should post")
        picker = await alice.presses(picker, "▫️ @loud", lambda m: "✅ @loud" in buttons(m))
        picker = await alice.presses(picker, "✅ Dry run", lambda m: "▫️ Dry run" in buttons(m))
        menu = await alice.presses(picker, "✅ Done", lambda m: "💾 Save" in buttons(m))
        await alice.presses(menu, "💾 Save", "Saved post")
        [got] = await eventually(receiver.accepted, timeout=PATIENCE)

        assert got.event["type"] == "post.cancelled"
        assert got.event["data"]["platform"] == "dryrun"
        assert got.event["data"]["post_id"] == 1


async def test_an_event_is_given_up_after_its_last_try_and_the_screen_says_so(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    settings = make_settings(
        crier_encryption_key=KEY,
        webhook_block_private_hosts=False,
        webhook_retry_base_seconds=0.1,
        webhook_retry_max_seconds=0.2,
        webhook_max_attempts=2,
    )
    receiver = WebhookReceiver(answers=[503] * 10)
    async with receiving(receiver) as url, Crier(settings) as crier:
        await alice.says("/start", "Crier")
        await set_in_chat(alice, url, receiver)
        await schedule_text(alice, "Nobody home")
        await make_due(crier)

        async def given_up() -> bool:
            rows = await deliveries(crier)
            return bool(rows) and rows[0].status == WebhookStatus.FAILED

        await eventually(given_up, timeout=PATIENCE)
        assert [r.answered for r in receiver.received] == [503, 503]
        screen = await alice.says("/webhook", "Latest deliveries")
        assert "gave up: HTTP 503" in screen["text"]
        assert "(gave up after 2 tries)" in screen["text"]
