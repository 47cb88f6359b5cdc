"""Connecting by signing in at the platform, end to end: /connect → the sign-in link → the
platform's consent (the fake X's) → the browser back at Crier's web server → the account in
/accounts → a post published to it → the DM with the post's real link. And every way a
sign-in can go wrong is refused with a clear page and stores nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from bot.accounts import tokens
from bot.app import Crier
from bot.config import Settings
from storage.models import Account, AccountStatus, Target, TargetStatus
from tests.acceptance.conftest import Person, buttons, dm, make_due, schedule_draft
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.x import FakeX
from tests.ports import free_port

JSON = dict[str, Any]
KEY = Fernet.generate_key().decode()


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    """X's API answered by the fake; the fake Bot API and Crier's own web server (both on
    127.0.0.1) are reached for real."""
    fake = FakeX()
    with respx.mock(assert_all_called=False) as router:
        router.route(host="127.0.0.1").pass_through()
        router.route(host="api.x.com").mock(side_effect=fake)
        yield fake


@pytest.fixture
async def crier(make_settings: Callable[..., Settings], fake_x: FakeX) -> AsyncIterator[Crier]:
    port = free_port()
    settings = make_settings(
        web_port=port,
        public_url=f"http://127.0.0.1:{port}",
        x_client_id=fake_x.client_id,
        x_client_secret=fake_x.client_secret,
        crier_encryption_key=KEY,
    )
    async with Crier(settings) as app:
        yield app


def link_of(message: JSON) -> str:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return next(b["url"] for row in rows for b in row if "url" in b)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def sign_in_link(person: Person) -> dict[str, str]:
    """/connect, tap X: the parameters of the sign-in link the bot sent."""
    menu = await person.says("/connect", "Connect an account")
    assert "𝕏 X" in buttons(menu)
    step = await person.presses(menu, "𝕏 X", "Tap the button")
    link = link_of(step)
    assert link.startswith("https://x.com/i/oauth2/authorize?")
    return query_of(link)


async def browser_back(crier: Crier, **params: str) -> httpx.Response:
    """The browser, sent back to Crier by the platform."""
    settings = crier.settings
    async with httpx.AsyncClient() as browser:
        return await browser.get(f"{settings.public_url}/oauth/x/callback", params=params)


async def accounts_on_x(crier: Crier) -> int:
    async with crier.db.session() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(Account).where(Account.platform == "x")
            )
            or 0
        )


async def test_sign_in_to_x_connect_and_publish_with_the_real_link(
    tg: FakeTelegram, crier: Crier, fake_x: FakeX, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    link = await sign_in_link(alice)
    assert link["code_challenge_method"] == "S256"
    assert link["scope"] == "tweet.read tweet.write users.read media.write offline.access"
    user = fake_x.add_user("alice_x", name="Alice")
    code = fake_x.consent(
        user, link["code_challenge"], link["redirect_uri"], tuple(link["scope"].split())
    )
    page = await browser_back(crier, code=code, state=link["state"])
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert "Connected — go back to Telegram" in page.text
    assert page.headers["cache-control"] == "no-store"
    told = await dm(tg, alice, "Connected X")
    assert "@alice_x" in told["text"]

    listing = await alice.says("/accounts", "accounts")
    assert "@alice_x" in listing["text"]

    status = await alice.says("Hello from Crier to X", "New post")
    await schedule_draft(alice, status, accounts="@alice_x")
    await make_due(crier)
    summary = await dm(tg, alice, "is out")
    assert [p.text for p in fake_x.posts] == ["Hello from Crier to X"]
    assert fake_x.post_url(fake_x.posts[0]) in str(summary)


async def test_a_state_that_is_not_ours_or_used_twice_or_late_connects_nothing(
    tg: FakeTelegram, crier: Crier, fake_x: FakeX, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    user = fake_x.add_user("alice_x")
    link = await sign_in_link(alice)
    code = fake_x.consent(
        user, link["code_challenge"], link["redirect_uri"], tuple(link["scope"].split())
    )

    forged = await browser_back(crier, code=code, state="made-up-state")
    assert forged.status_code == 400
    assert "didn't start this sign-in" in forged.text
    incomplete = await browser_back(crier, code=code)
    assert incomplete.status_code == 400

    first = await browser_back(crier, code=code, state=link["state"])
    assert first.status_code == 200
    replayed = await browser_back(crier, code=code, state=link["state"])
    assert replayed.status_code == 400
    assert "already used" in replayed.text
    assert await accounts_on_x(crier) == 1

    # A link opened after its ten minutes.
    late = await sign_in_link(alice)
    assert crier.services is not None
    crier.services.clock = lambda: datetime.now(UTC) + timedelta(minutes=11)
    code = fake_x.consent(
        user, late["code_challenge"], late["redirect_uri"], tuple(late["scope"].split())
    )
    expired = await browser_back(crier, code=code, state=late["state"])
    assert expired.status_code == 400
    assert "took too long" in expired.text
    assert await accounts_on_x(crier) == 1


async def test_cancelling_at_the_consent_screen_connects_nothing_and_says_so(
    tg: FakeTelegram, crier: Crier, fake_x: FakeX, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    link = await sign_in_link(alice)
    page = await browser_back(
        crier, error="access_denied", error_description="denied", state=link["state"]
    )
    assert page.status_code == 200
    assert "Nothing was connected" in page.text
    told = await dm(tg, alice, "Nothing was connected")
    assert "you cancelled it" in told["text"]
    assert await accounts_on_x(crier) == 0
    assert not fake_x.calls("POST /2/oauth2/token"), "no code was exchanged"


async def test_a_platform_without_its_keys_says_which_setting_enables_it(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with Crier(make_settings(crier_encryption_key=KEY)):
        menu = await alice.says("/connect", "Connect an account")
    assert "𝕏 X" not in buttons(menu)
    assert "X: set X_CLIENT_ID and X_CLIENT_SECRET and PUBLIC_URL" in menu["text"]
    assert "YouTube: set GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET" in menu["text"]


async def connect_x(tg: FakeTelegram, crier: Crier, fake_x: FakeX, person: Person) -> None:
    await person.says("/start", "Crier")
    link = await sign_in_link(person)
    user = fake_x.add_user("alice_x")
    code = fake_x.consent(
        user, link["code_challenge"], link["redirect_uri"], tuple(link["scope"].split())
    )
    assert (await browser_back(crier, code=code, state=link["state"])).status_code == 200
    await dm(tg, person, "Connected X")


async def x_account(crier: Crier) -> Account:
    async with crier.db.session() as session:
        account = await session.scalar(select(Account).where(Account.platform == "x"))
    assert account is not None
    return account


async def expires_soon(crier: Crier) -> None:
    async with crier.db.session() as session:
        account = await session.scalar(select(Account).where(Account.platform == "x"))
        assert account is not None
        account.token_expires_at = datetime.now(UTC) + timedelta(minutes=10)


async def test_tokens_are_refreshed_before_they_run_out_and_a_refused_refresh_asks_once(
    tg: FakeTelegram, crier: Crier, fake_x: FakeX, alice: Person
) -> None:
    await connect_x(tg, crier, fake_x, alice)
    assert crier.services is not None
    before = await x_account(crier)
    assert await tokens.refresh_due(crier.services) == 0, "not due yet"

    await expires_soon(crier)
    assert await tokens.refresh_due(crier.services) == 1
    after = await x_account(crier)
    old = crier.services.secrets.open(before.credentials)
    new = crier.services.secrets.open(after.credentials)
    assert new["access_token"] != old["access_token"]
    assert new["refresh_token"] != old["refresh_token"], "X rotates refresh tokens"
    assert after.token_expires_at is not None
    assert after.token_expires_at > datetime.now(UTC) + timedelta(hours=1)

    # The platform refuses the refresh (revoked): reconnect, asked once; posts wait.
    status = await alice.says("Waits for the reconnect", "New post")
    await schedule_draft(alice, status, accounts="@alice_x")
    refused = httpx.Response(400, json={"error": "invalid_request", "error_description": "x"})
    fake_x.fail_next("POST /2/oauth2/token", refused)
    await expires_soon(crier)
    assert await tokens.refresh_due(crier.services) == 0
    told = await dm(tg, alice, "needs you to sign in again")
    assert "🔁 Reconnect" in buttons(told)
    assert (await x_account(crier)).status == AccountStatus.NEEDS_REAUTH
    await tokens.refresh_due(crier.services)
    await make_due(crier)
    assert crier.services.engine is not None
    await crier.services.engine.run_due()  # type: ignore[attr-defined]
    asked = [m for m in tg.sent(alice.user) if "sign in again" in (m.get("text") or "")]
    assert len(asked) == 1
    assert not fake_x.posts, "held, not published and not failed"
    async with crier.db.session() as session:
        waiting = await session.scalar(select(Target.status))
    assert waiting == TargetStatus.QUEUED

    # A day past its time the held post fails with the reason, and the user is told.
    async with crier.db.session() as session:
        held = await session.scalar(select(Target))
        assert held is not None
        held.publish_at = datetime.now(UTC) - timedelta(hours=25)
    await crier.services.engine.run_due()  # type: ignore[attr-defined]
    gave_up = await dm(tg, alice, "still needed reconnecting a day after")
    assert "Retry" in str(gave_up)
    async with crier.db.session() as session:
        assert await session.scalar(select(Target.status)) == TargetStatus.FAILED
    assert not fake_x.posts

    again = await alice.presses(told, "🔁 Reconnect", "Tap the button")
    assert link_of(again).startswith("https://x.com/i/oauth2/authorize?")
