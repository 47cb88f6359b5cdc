"""One sign-in, several destinations (Pinterest boards): the bot offers each as a button
after the sign-in, the one picked is connected, and /accounts → 🎯 points the account at
another board later without signing in again; the next pin goes to that board."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
from cryptography.fernet import Fernet

from bot.app import Crier
from bot.config import Settings
from tests.acceptance.conftest import Person, buttons, dm, jpeg, make_due, schedule_draft
from tests.fakes.pinterest import API_URL, FakePinterest
from tests.fakes.telegram_api import FakeTelegram
from tests.ports import free_port

KEY = Fernet.generate_key().decode()
PUBLIC = "https://crier.example"


@pytest.fixture
def pinterest() -> Iterator[FakePinterest]:
    fake = FakePinterest()
    with respx.mock(assert_all_called=False) as router:
        router.route(host="127.0.0.1").pass_through()
        router.route(host=httpx.URL(API_URL).host).mock(side_effect=fake)
        router.route(host=httpx.URL(fake.storage.url).host).mock(side_effect=fake)
        yield fake


@pytest.fixture
async def crier(
    make_settings: Callable[..., Settings], pinterest: FakePinterest
) -> AsyncIterator[Crier]:
    port = free_port()
    settings = make_settings(
        web_port=port,
        public_url=PUBLIC,
        pinterest_client_id=pinterest.oauth.client_id,
        pinterest_client_secret=pinterest.oauth.client_secret,
        crier_encryption_key=KEY,
    )
    async with Crier(settings) as app:
        yield app


async def test_pick_a_board_at_sign_in_then_move_the_account_to_another(
    tg: FakeTelegram, crier: Crier, pinterest: FakePinterest, alice: Person
) -> None:
    recipes = pinterest.add_board("Recipes")
    travel = pinterest.add_board("Travel")
    await alice.says("/start", "Crier")
    menu = await alice.says("/connect", "Connect an account")
    step = await alice.presses(menu, "📌 Pinterest", "Tap the button")
    link = next(b["url"] for row in step["reply_markup"]["inline_keyboard"] for b in row)
    code = pinterest.authorize(link)
    state = parse_qs(urlsplit(link).query)["state"][0]
    local = f"http://127.0.0.1:{crier.settings.web_port}/oauth/pinterest/callback"
    async with httpx.AsyncClient() as browser:
        page = await browser.get(local, params={"code": code, "state": state})
    assert "Pick where to publish" in page.text
    offer = await dm(tg, alice, "Where should I publish?")
    assert buttons(offer) == ["➕ crier / Recipes", "➕ crier / Travel"]
    await alice.presses(offer, "➕ crier / Recipes", "Connected Pinterest")

    listing = await alice.says("/accounts", "Your accounts")
    choices = await alice.presses(listing, "🎯", "Where should")
    assert buttons(choices) == ["✅ crier / Recipes", "crier / Travel"]
    moved = await alice.presses(choices, "crier / Travel", "now publishes to")
    assert "crier / Travel" in moved["text"]

    alice.tg.send_photo(alice.user, jpeg(800, 1200), caption="Lisbon\nTiles everywhere")
    status = await tg.wait_for(alice.user, "New post")
    await schedule_draft(alice, status, accounts="Pinterest")
    await make_due(crier)
    summary = await dm(tg, alice, "is out")
    [pin] = pinterest.pins
    assert pin.board_id == travel.id != recipes.id
    assert pin.title == "Lisbon"
    assert pinterest.pin_url(pin) in str(summary)
