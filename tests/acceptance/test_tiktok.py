"""TikTok end to end, through the fake Telegram and the fake TikTok: /connect → Login Kit
with PKCE → the account in /accounts → a video composed; the preview shows what TikTok
offers this creator (an unaudited app posts privately, said in the preview rather than
failing at publish) → the video uploaded in chunks and published through the engine's
two-phase path → the DM with the post's link."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
from cryptography.fernet import Fernet

from bot.app import Crier
from bot.config import Settings
from tests.acceptance.conftest import Person, buttons, dm, eventually, make_due, to_preview
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.tiktok import API, UPLOAD, FakeTikTok
from tests.fakes.tiktok_state import FakeCreator
from tests.media_samples import mp4
from tests.ports import free_port

KEY = Fernet.generate_key().decode()
PUBLIC = "https://crier.example"


@pytest.fixture
def tiktok() -> Iterator[FakeTikTok]:
    # An app TikTok hasn't audited yet may post only privately, to a private account.
    creator = FakeCreator("open-id-0001", "crier.tests", "Crier Tests", private_account=True)
    fake = FakeTikTok(audited=False, creators=[creator])
    with respx.mock(assert_all_called=False) as router:
        router.route(host="127.0.0.1").pass_through()
        for base in (API, UPLOAD):
            router.route(host=httpx.URL(base).host).mock(side_effect=fake.handle)
        yield fake


@pytest.fixture
async def crier(make_settings: Callable[..., Settings], tiktok: FakeTikTok) -> AsyncIterator[Crier]:
    port = free_port()
    settings = make_settings(
        web_port=port,
        # TikTok only redirects to https: the test's browser comes back to the same path
        # on 127.0.0.1.
        public_url=PUBLIC,
        tiktok_client_key=tiktok.oauth.client_key,
        tiktok_client_secret=tiktok.oauth.client_secret,
        crier_encryption_key=KEY,
    )
    async with Crier(settings) as app:
        yield app


async def test_connect_tiktok_see_its_options_and_publish_a_video(
    tg: FakeTelegram, crier: Crier, tiktok: FakeTikTok, alice: Person, tmp_path: Path
) -> None:
    await alice.says("/start", "Crier")
    menu = await alice.says("/connect", "Connect an account")
    step = await alice.presses(menu, "🎵 TikTok", "Tap the button")
    link = next(b["url"] for row in step["reply_markup"]["inline_keyboard"] for b in row)
    query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    assert query["code_challenge_method"] == "S256"
    code = tiktok.oauth.authorize(link, tiktok.creator.open_id)
    back = query["redirect_uri"].replace(PUBLIC, f"http://127.0.0.1:{crier.settings.web_port}")
    async with httpx.AsyncClient() as browser:
        page = await browser.get(back, params={"code": code, "state": query["state"]})
    assert page.status_code == 200
    assert "Connected — go back to Telegram" in page.text
    handle = f"@{tiktok.creator.username}"
    await dm(tg, alice, "Connected TikTok")
    assert handle in (await alice.says("/accounts", "accounts"))["text"]

    # /accounts → ⚙️: the audiences TikTok offers this creator (an unaudited app: only
    # "Only me"), and the interactions, off until the user turns them on.
    listing = await alice.says("/accounts", "Your accounts")
    options = await alice.presses(listing, "⚙️", "Who can see")
    assert "✅ Only me" in buttons(options)
    assert "Everyone" not in str(buttons(options)), "TikTok doesn't offer it to this app"
    options = await alice.presses(
        options, "✅ Comments off", lambda m: "▫️ Comments off" in buttons(m)
    )

    clip = mp4(tmp_path / "clip.mp4", seconds=3.0, size=(720, 1280))
    tg.send_video(
        alice.user,
        clip.read_bytes(),
        caption="Behind the scenes",
        width=720,
        height=1280,
        duration=3,
    )
    status = await tg.wait_for(alice.user, "New post", timeout=15)
    preview = (await to_preview(alice, status, accounts=handle)).preview
    assert "private" in preview["text"].lower(), "an unaudited app's posts are private: said now"
    assert "✅ Confirm" in buttons(preview), "a warning, not a refusal"
    scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #")
    assert scheduled

    async def out() -> dict[str, object] | None:
        # Time passes: TikTok advises 10 s between status checks; ask again now.
        await make_due(crier)
        return next((m for m in tg.sent(alice.user) if "is out" in (m.get("text") or "")), None)

    summary = await eventually(out, timeout=30)
    [post] = tiktok.posts
    assert post.post_info["title"] == "Behind the scenes"
    assert post.privacy_level == "SELF_ONLY"
    assert post.post_info["disable_comment"] is False, "comments on, as the user chose"
    assert len([p for p in tiktok.publishes.values()]) == 1, "one upload, one publish"
    assert "tiktok" in str(summary).lower()
