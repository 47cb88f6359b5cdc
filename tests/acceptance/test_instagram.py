"""Instagram end to end, through the fake Telegram and the fake Meta Graph API: /connect →
one Meta sign-in → the Page and its Instagram account offered as buttons → Instagram picked
→ a photo composed (the preview says Instagram needs media, before anything is sent) →
published through a container (the engine's two-phase path) from a signed link Crier
serves → the DM with the post's real permalink. The link opens the file, a forged or
expired one doesn't."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
from cryptography.fernet import Fernet
from PIL import Image
from sqlalchemy import select

from bot.app import Crier
from bot.config import Settings
from storage.models import Target, TargetStatus
from tests.acceptance.conftest import (
    Person,
    buttons,
    dm,
    eventually,
    jpeg,
    make_due,
    schedule_draft,
    to_preview,
)
from tests.fakes.meta_graph import HOSTS, FakeMeta
from tests.fakes.telegram_api import FakeTelegram
from tests.media_samples import mp4
from tests.ports import free_port

KEY = Fernet.generate_key().decode()
PUBLIC = "https://crier.example"


@pytest.fixture
def meta() -> Iterator[FakeMeta]:
    fake = FakeMeta()
    with respx.mock(assert_all_called=False) as router:
        router.route(host="127.0.0.1").pass_through()
        for host in HOSTS:
            router.route(host=host).mock(side_effect=fake)
        yield fake


@pytest.fixture
async def crier(make_settings: Callable[..., Settings], meta: FakeMeta) -> AsyncIterator[Crier]:
    port = free_port()
    settings = make_settings(
        web_port=port,
        # Meta reaches Crier at its public https address; the test's browser comes back to
        # the same paths on 127.0.0.1.
        public_url=PUBLIC,
        meta_app_id=meta.world.app_id,
        meta_app_secret=meta.world.app_secret,
        crier_encryption_key=KEY,
    )
    async with Crier(settings) as app:
        yield app


def local(crier: Crier, url: str) -> str:
    """`url` under PUBLIC_URL, as the local web server answers it."""
    return url.replace(PUBLIC, f"http://127.0.0.1:{crier.settings.web_port}")


async def test_connect_instagram_post_a_photo_and_get_the_real_link(
    tg: FakeTelegram, crier: Crier, meta: FakeMeta, alice: Person
) -> None:
    person = meta.add_user("Alice")
    page = meta.add_page("Crier Café", person)
    ig = meta.world.link_instagram(page, "criercafe")
    await alice.says("/start", "Crier")

    menu = await alice.says("/connect", "Connect an account")
    step = await alice.presses(menu, "📘 Facebook & Instagram (Meta)", "Tap the button")
    link = next(b["url"] for row in step["reply_markup"]["inline_keyboard"] for b in row)
    code = meta.authorize(link, person)
    state = parse_qs(urlsplit(link).query)["state"][0]
    async with httpx.AsyncClient() as browser:
        page_shown = await browser.get(
            local(crier, f"{PUBLIC}/oauth/facebook/callback"), params={"code": code, "state": state}
        )
    assert page_shown.status_code == 200
    assert "go back to Telegram" in page_shown.text
    offer = await dm(tg, alice, "Where should I publish?")
    assert "➕ Crier Café" in buttons(offer)
    assert "➕ @criercafe" in buttons(offer)
    await alice.presses(offer, "➕ @criercafe", "Connected Instagram")

    # Instagram needs a photo or video: the preview says so before anything is sent.
    text_only = await alice.says("Just words", "New post")
    preview = (await to_preview(alice, text_only, accounts="@criercafe")).preview
    assert "Instagram" in preview["text"]
    assert "✅ Confirm" not in buttons(preview)
    await alice.says("/abort", "Cancelled")

    alice.tg.send_photo(alice.user, jpeg(1080, 1080), caption="Fresh bread today")
    status = await tg.wait_for(alice.user, "New post")
    await schedule_draft(alice, status, accounts="@criercafe")
    await make_due(crier)
    summary = await dm(tg, alice, "is out")

    [published] = [m for m in meta.instagram.media.values() if m.ig_id == ig.id]
    assert published.caption == "Fresh bread today"
    assert published.permalink in str(summary)
    image_url = meta.instagram.containers[published.container_id].url
    assert image_url.startswith(f"{PUBLIC}/media/")
    async with httpx.AsyncClient() as fetcher:
        served = await fetcher.get(local(crier, image_url))
        forged = await fetcher.get(local(crier, image_url[:-4] + "beef"))
        unsigned = await fetcher.get(local(crier, image_url.split("?")[0]))
    assert served.status_code == 200
    assert served.content[:3] == b"\xff\xd8\xff", "the JPEG Instagram fetched"
    assert forged.status_code == 404
    assert unsigned.status_code == 404


async def test_a_photo_of_another_shape_is_refused_until_the_account_is_set_to_pad_it(
    tg: FakeTelegram, crier: Crier, meta: FakeMeta, alice: Person
) -> None:
    person = meta.add_user("Alice")
    page = meta.add_page("Crier Café", person)
    ig = meta.world.link_instagram(page, "criercafe")
    await alice.says("/start", "Crier")
    menu = await alice.says("/connect", "Connect an account")
    step = await alice.presses(menu, "📘 Facebook & Instagram (Meta)", "Tap the button")
    link = next(b["url"] for row in step["reply_markup"]["inline_keyboard"] for b in row)
    code = meta.authorize(link, person)
    state = parse_qs(urlsplit(link).query)["state"][0]
    async with httpx.AsyncClient() as browser:
        await browser.get(
            local(crier, f"{PUBLIC}/oauth/facebook/callback"), params={"code": code, "state": state}
        )
    offer = await dm(tg, alice, "Where should I publish?")
    await alice.presses(offer, "➕ @criercafe", "Connected Instagram")

    # 3:1 is wider than Instagram's feed takes: refused, and the preview says what to do.
    alice.tg.send_photo(alice.user, jpeg(1500, 500), caption="The whole counter")
    status = await tg.wait_for(alice.user, "New post")
    preview = (await to_preview(alice, status, accounts="@criercafe")).preview
    assert "let Crier pad or crop photos for this account" in preview["text"]
    assert "✅ Confirm" not in buttons(preview)
    await alice.says("/abort", "Cancelled")

    # The user agrees once, in /accounts → ⚙️: now the photo is padded, and the preview says so.
    listing = await alice.says("/accounts", "Your accounts")
    options = await alice.presses(listing, "⚙️", "Feed photos not 4:5 to 1.91:1")
    assert "✅ Refuse them: I'll crop" in buttons(options)
    await alice.presses(
        options, "Pad with white bars", lambda m: "✅ Pad with white bars" in buttons(m)
    )
    alice.tg.send_photo(alice.user, jpeg(1500, 500), caption="The whole counter")
    status = await tg.wait_for(alice.user, "New post")
    preview = (await to_preview(alice, status, accounts="@criercafe")).preview
    assert "will be padded with white to 1.91:1 for Instagram" in preview["text"]
    assert "✅ Confirm" in buttons(preview)
    await alice.presses(preview, "✅ Confirm", "Scheduled #")
    await make_due(crier)
    await dm(tg, alice, "is out")

    [published] = [m for m in meta.instagram.media.values() if m.ig_id == ig.id]
    image_url = meta.instagram.containers[published.container_id].url
    async with httpx.AsyncClient() as fetcher:
        served = await fetcher.get(local(crier, image_url))
    with Image.open(io.BytesIO(served.content)) as sent:
        assert sent.size == (1500, 786), "padded to 1.91:1, the photo's width kept"


async def test_a_video_goes_out_as_a_reel_through_the_two_phase_path(
    tg: FakeTelegram, crier: Crier, meta: FakeMeta, alice: Person, tmp_path: Path
) -> None:
    person = meta.add_user("Alice")
    page = meta.add_page("Crier Café", person)
    ig = meta.world.link_instagram(page, "criercafe")
    await alice.says("/start", "Crier")
    menu = await alice.says("/connect", "Connect an account")
    step = await alice.presses(menu, "📘 Facebook & Instagram (Meta)", "Tap the button")
    link = next(b["url"] for row in step["reply_markup"]["inline_keyboard"] for b in row)
    code = meta.authorize(link, person)
    state = parse_qs(urlsplit(link).query)["state"][0]
    async with httpx.AsyncClient() as browser:
        await browser.get(
            local(crier, f"{PUBLIC}/oauth/facebook/callback"), params={"code": code, "state": state}
        )
    offer = await dm(tg, alice, "Where should I publish?")
    await alice.presses(offer, "➕ @criercafe", "Connected Instagram")

    clip = mp4(tmp_path / "clip.mp4", seconds=4.0, size=(720, 1280))
    tg.send_video(
        alice.user, clip.read_bytes(), caption="Morning bake", width=720, height=1280, duration=4
    )
    status = await tg.wait_for(alice.user, "New post", timeout=15)
    preview = (await to_preview(alice, status, accounts="@criercafe")).preview
    assert "goes out as a reel" in preview["text"], "what Instagram will make of it, said now"
    await alice.presses(preview, "✅ Confirm", "Scheduled #")
    await make_due(crier)

    # Meta is still making the reel: the container is kept and looked at again later.
    async def waiting_on_meta() -> bool:
        async with crier.db.session() as session:
            row = (await session.execute(select(Target))).scalar_one()
        return row.status == TargetStatus.QUEUED and row.handle is not None

    await eventually(waiting_on_meta, timeout=10)
    assert [c.status_code for c in meta.instagram.containers.values()] == ["IN_PROGRESS"]
    assert not meta.instagram.media

    # Each look is due 20 s later, as Meta advises for videos: time moves on until it's out.
    async def published_after_a_look() -> bool:
        await make_due(crier)
        return bool(meta.instagram.media)

    await eventually(published_after_a_look, timeout=10)
    summary = await dm(tg, alice, "is out")
    [published] = [m for m in meta.instagram.media.values() if m.ig_id == ig.id]
    assert published.caption == "Morning bake"
    assert "/reel/" in published.permalink
    assert published.permalink in str(summary)
    assert len(meta.instagram.containers) == 1, "one container, made once"
