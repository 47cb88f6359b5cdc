"""Webhooks in "urls" media mode: the receiver gets a link under PUBLIC_MEDIA_URL and fetches
the very file from Crier's web server; names that aren't stored files get 404."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from cryptography.fernet import Fernet

from bot.app import Crier
from bot.config import Settings
from tests.acceptance.conftest import Person, buttons, jpeg
from tests.acceptance.seeding import seed_account
from tests.fakes.serve import from_handler, serve
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.ports import free_port

KEY = Fernet.generate_key().decode()
SECRET = "s3cret-for-the-receiver"


async def test_a_webhook_in_urls_mode_gets_a_link_that_serves_the_photo(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    receiver = WebhookReceiver(secret=SECRET)
    port = free_port()
    media_url = f"http://127.0.0.1:{port}/media"
    settings = make_settings(
        crier_encryption_key=KEY,
        webhook_block_private_hosts=False,
        web_port=port,
        public_media_url=media_url,
    )
    photo = jpeg(800, 600, "teal")
    async with serve(from_handler(receiver.handle)) as base, Crier(settings) as crier:
        await alice.says("/start", "Crier")
        await seed_account(
            crier,
            alice.id,
            "webhook",
            "Webhook (127.0.0.1)",
            config={"host": "127.0.0.1", "media_mode": "urls"},
            credentials={"url": f"{base}/hook", "signing_secret": SECRET},
        )
        status = await alice.sends_photo(photo, caption="Linked, not inlined")
        picker = await alice.presses(status, "✅ Done", "Where should it go")
        label = next(b for b in buttons(picker) if "Webhook" in b)
        picker = await alice.presses(picker, label, lambda m: f"✅ {label[3:]}" in buttons(m))
        ask_time = await alice.presses(picker, "Next ➡", "When?")
        preview = await alice.presses(ask_time, "⚡ Now", "Preview")
        scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #1")
        await tg.wait_for(alice.user, "Post #1 is out", after=scheduled["message_id"], timeout=10)

        [event] = [e for e in receiver.events if e["type"] == "crier.post"]
        [item] = event["media"]
        assert "data_base64" not in item
        assert item["url"].startswith(f"{media_url}/")
        async with httpx.AsyncClient() as http:
            fetched = await http.get(item["url"])
            assert fetched.status_code == 200
            assert fetched.headers["content-type"] == "image/jpeg"
            assert fetched.content == photo
            for name in ("0" * 64, "..%2F..%2Fcrier.db", "not-a-file", item["url"][-64:] + "x"):
                missing = await http.get(f"{media_url}/{name}")
                assert missing.status_code == 404, name
