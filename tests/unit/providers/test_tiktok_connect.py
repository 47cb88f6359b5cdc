"""Connecting TikTok: Login Kit for Web through `OAuthClient` with the adapter's spec (the
exact token requests, hex PKCE, refresh with and without a rotated refresh token), then
`accounts_for`, `verify` and `refresh`, against canned answers (respx) and end to end against
the fake TikTok (tests/fakes/tiktok.py)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from providers.base import AccountRef
from providers.errors import AuthError
from providers.oauth import OAuthClient, Token, pkce_pair, token_of
from providers.tiktok import SCOPES, USER_FIELDS, TikTokProvider
from tests.fakes.tiktok import FakeTikTok
from tests.unit.providers.tiktok_support import API, APP, REDIRECT, envelope, world

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
TOKEN_URL = f"{API}/oauth/token/"
OPEN_ID = "-000OpenIdOfCrierTests"
CREATOR = {
    "creator_username": "crier.tests",
    "creator_nickname": "Crier Tests",
    "privacy_level_options": ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
    "comment_disabled": False,
    "duet_disabled": False,
    "stitch_disabled": False,
    "max_video_post_duration_sec": 300,
}
USER = {"user": {"open_id": OPEN_ID, "union_id": "u-1", "display_name": "Crier Tests"}}


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=True) as mock:
        yield mock


@pytest.fixture
def provider(http: httpx.AsyncClient) -> TikTokProvider:
    return TikTokProvider(http, oauth_app=APP, now=lambda: NOW)


def client(provider: TikTokProvider, http: httpx.AsyncClient) -> OAuthClient:
    return OAuthClient(provider.oauth, APP, http, platform="TikTok", clock=lambda: NOW)


def account(**credentials: str) -> AccountRef:
    return AccountRef(
        id=7,
        platform="tiktok",
        label="@crier.tests",
        config={"open_id": OPEN_ID, "username": "crier.tests", "privacy_level": "SELF_ONLY"},
        credentials=credentials or {"access_token": "act.1", "refresh_token": "rft.1"},
    )


# -- the spec and the sign-in ---------------------------------------------------------------


async def test_the_spec_is_login_kit_for_web_with_client_key_and_hex_pkce(
    provider: TikTokProvider, http: httpx.AsyncClient
) -> None:
    spec = provider.oauth
    assert spec.authorize_url == "https://www.tiktok.com/v2/auth/authorize/"
    assert spec.token_url == TOKEN_URL
    assert SCOPES == ("user.info.basic", "video.publish")
    verifier, challenge = pkce_pair()
    url = await client(provider, http).authorize_url(REDIRECT, "st4te", challenge)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == spec.authorize_url
    assert {k: v[0] for k, v in parse_qs(parts.query).items()} == {
        "client_key": "crier-client-key",
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "state": "st4te",
        "scope": "user.info.basic,video.publish",
        "code_challenge": hashlib.sha256(verifier.encode()).hexdigest(),
        "code_challenge_method": "S256",
    }


async def test_the_code_exchange_sends_the_form_tiktok_documents(
    provider: TikTokProvider, http: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    route = router.post(TOKEN_URL).respond(
        200,
        json={
            "access_token": "act.1",
            "expires_in": 7200,
            "open_id": OPEN_ID,
            "refresh_expires_in": 15552000,
            "refresh_token": "rft.1",
            "scope": "user.info.basic,video.publish",
            "token_type": "Bearer",
        },
    )
    token = await client(provider, http).exchange("the-code", REDIRECT, "the-verifier")
    sent = route.calls.last.request
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert form(sent) == {
        "client_key": "crier-client-key",
        "client_secret": "crier-client-secret",
        "code": "the-code",
        "grant_type": "authorization_code",
        "redirect_uri": REDIRECT,
        "code_verifier": "the-verifier",
    }
    assert token.expires_at == NOW + timedelta(hours=2)
    assert token.scope == "user.info.basic,video.publish"
    assert token.extra["open_id"] == OPEN_ID
    assert token_of({"access_token": "act.1", "refresh_token": "rft.1"}).refresh_token == "rft.1"


@pytest.mark.parametrize(
    ("answer", "kept"),
    [
        ({"access_token": "act.2", "refresh_token": "rft.2", "expires_in": 7200}, "rft.2"),
        ({"access_token": "act.2", "expires_in": 7200}, "rft.1"),
    ],
    ids=["rotated", "not-rotated"],
)
async def test_refresh_stores_the_refresh_token_tiktok_answers_or_keeps_the_old_one(
    provider: TikTokProvider, router: respx.MockRouter, answer: dict[str, object], kept: str
) -> None:
    route = router.post(TOKEN_URL).respond(200, json={**answer, "open_id": OPEN_ID})
    credentials = await provider.refresh(account())
    assert form(route.calls.last.request) == {
        "client_key": "crier-client-key",
        "client_secret": "crier-client-secret",
        "grant_type": "refresh_token",
        "refresh_token": "rft.1",
    }
    assert credentials == {
        "access_token": "act.2",
        "refresh_token": kept,
        "expires_at": (NOW + timedelta(hours=2)).isoformat(),
    }


@pytest.mark.parametrize("status", [200, 400])
async def test_a_refused_refresh_means_reconnect(
    provider: TikTokProvider, router: respx.MockRouter, status: int
) -> None:
    router.post(TOKEN_URL).respond(
        status,
        json={
            "error": "invalid_grant",
            "error_description": "Refresh token is invalid or expired.",
            "log_id": "2026120712",
        },
    )
    with pytest.raises(AuthError, match="Refresh token is invalid"):
        await provider.refresh(account())


async def test_refresh_without_an_app_or_a_refresh_token_means_reconnect(
    http: httpx.AsyncClient,
) -> None:
    with pytest.raises(AuthError):
        await TikTokProvider(http).refresh(account())
    with pytest.raises(AuthError):
        await TikTokProvider(http, oauth_app=APP).refresh(account(access_token="act.1"))


# -- accounts_for and verify ------------------------------------------------------------------


async def test_accounts_for_is_the_one_account_with_its_handle_from_creator_info(
    provider: TikTokProvider, router: respx.MockRouter
) -> None:
    user = router.get(f"{API}/user/info/").mock(return_value=envelope(USER))
    creator = router.post(f"{API}/post/publish/creator_info/query/").mock(
        return_value=envelope(CREATOR)
    )
    token = Token(
        access_token="act.1",
        refresh_token="rft.1",
        scope="user.info.basic,video.publish",
        extra={"open_id": OPEN_ID},
    )
    [found] = await provider.accounts_for(token)
    assert dict(user.calls.last.request.url.params) == {"fields": USER_FIELDS}
    assert user.calls.last.request.headers["authorization"] == "Bearer act.1"
    assert creator.calls.last.request.headers["content-type"] == "application/json; charset=UTF-8"
    assert found.label == "@crier.tests"
    assert found.external_id == OPEN_ID
    assert found.config == {
        "open_id": OPEN_ID,
        "username": "crier.tests",
        "display_name": "Crier Tests",
        "privacy_level_options": ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
        "max_video_post_duration_sec": 300,
    }
    assert found.credentials == {
        "access_token": "act.1",
        "refresh_token": "rft.1",
        "scope": "user.info.basic,video.publish",
    }


async def test_a_sign_in_without_the_posting_scope_is_refused(provider: TikTokProvider) -> None:
    with pytest.raises(AuthError, match="allow posting"):
        await provider.accounts_for(Token(access_token="act.1", scope="user.info.basic"))


async def test_verify_refreshes_the_identity_and_keeps_the_users_options(
    provider: TikTokProvider, router: respx.MockRouter
) -> None:
    router.get(f"{API}/user/info/").mock(return_value=envelope(USER))
    router.post(f"{API}/post/publish/creator_info/query/").mock(return_value=envelope(CREATOR))
    verified = await provider.verify(account())
    assert verified.label == "@crier.tests"
    assert verified.config["privacy_level"] == "SELF_ONLY"
    assert verified.config["max_video_post_duration_sec"] == 300


async def test_verify_with_a_refused_token_means_reconnect(
    provider: TikTokProvider, router: respx.MockRouter
) -> None:
    router.get(f"{API}/user/info/").respond(
        401,
        json={
            "data": {},
            "error": {
                "code": "access_token_invalid",
                "message": "The access token is invalid or not found in the request.",
                "log_id": "1",
            },
        },
    )
    with pytest.raises(AuthError, match="connect the account again"):
        await provider.verify(account())


# -- end to end against the fake ------------------------------------------------------------


async def test_signing_in_against_the_fake_then_refreshing_rotates_the_refresh_token() -> None:
    fake = FakeTikTok()
    async with world(fake, now=lambda: NOW) as (provider, http):
        oauth = client(provider, http)
        verifier, challenge = pkce_pair()
        url = await oauth.authorize_url(REDIRECT, "state-1", challenge)
        code = fake.oauth.authorize(url, fake.creator.open_id)
        token = await oauth.exchange(code, REDIRECT, verifier)
        [found] = await provider.accounts_for(token)
        assert (found.label, found.external_id) == ("@crier.tests", fake.creator.open_id)
        assert found.credentials is not None
        connected = AccountRef(
            id=1,
            platform="tiktok",
            label=found.label,
            config=found.config,
            credentials=found.credentials,
        )
        assert (await provider.verify(connected)).external_id == fake.creator.open_id
        renewed = await provider.refresh(connected)
        assert renewed["refresh_token"] != found.credentials["refresh_token"]
        # The refresh token sent is retired: using it again is refused.
        with pytest.raises(AuthError):
            await provider.refresh(connected)
        fake.oauth.expire_access_tokens()
        with pytest.raises(AuthError):
            await provider.verify(connected)


async def test_a_wrong_pkce_verifier_is_refused_by_the_fake() -> None:
    fake = FakeTikTok()
    async with world(fake) as (provider, http):
        oauth = client(provider, http)
        _, challenge = pkce_pair()
        code = fake.oauth.authorize(
            await oauth.authorize_url(REDIRECT, "s", challenge), fake.creator.open_id
        )
        with pytest.raises(AuthError, match="Code verifier"):
            await oauth.exchange(code, REDIRECT, pkce_pair()[0])
