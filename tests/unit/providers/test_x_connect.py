"""Connecting X: the OAuth 2.0 PKCE sign-in through `OAuthClient` with the adapter's spec
(exact requests to X's token endpoint, refresh with and without a rotated refresh token),
then `accounts_for`, `verify` and `refresh`, first against canned answers (respx), then end
to end against the fake X (tests/fakes/x.py)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from providers.base import AccountRef
from providers.errors import AuthError, TransientError
from providers.oauth import OAuthApp, OAuthClient, Token, as_credentials, pkce_pair, token_of
from providers.x import SCOPES, XProvider
from tests.fakes.x import FakeX

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
APP = OAuthApp(client_id="crier-client-id", client_secret="crier-client-secret")
REDIRECT = "https://crier.example/oauth/x/callback"
TOKEN_URL = "https://api.x.com/2/oauth2/token"
BASIC = "Basic " + base64.b64encode(b"crier-client-id:crier-client-secret").decode()
ME = {"data": {"id": "2244994945", "name": "Crier", "username": "crier_test"}}


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def account(**credentials: str) -> AccountRef:
    return AccountRef(
        id=3,
        platform="x",
        label="@crier_test",
        config={"user_id": "2244994945", "username": "crier_test"},
        credentials=credentials or {"access_token": "at-1", "refresh_token": "rt-1"},
    )


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=True) as mock:
        yield mock


@pytest.fixture
def provider(http: httpx.AsyncClient) -> XProvider:
    return XProvider(http, oauth_app=APP)


def oauth(provider: XProvider, http: httpx.AsyncClient) -> OAuthClient:
    assert provider.oauth is not None
    return OAuthClient(provider.oauth, APP, http, platform="X", clock=lambda: NOW)


# -- the spec and the sign-in ---------------------------------------------------------------


def test_the_spec_is_x_pkce_with_basic_auth_and_the_scopes_crier_needs(
    provider: XProvider,
) -> None:
    spec = provider.oauth
    assert spec is not None
    assert spec.authorize_url == "https://x.com/i/oauth2/authorize"
    assert spec.token_url == TOKEN_URL
    assert spec.scopes == SCOPES
    assert set(SCOPES) == {
        "tweet.read",
        "tweet.write",
        "users.read",
        "media.write",
        "offline.access",
    }
    assert (spec.pkce, spec.token_auth) == (True, "client_secret_basic")
    assert provider.oauth_app == APP


def test_the_hosts_are_configurable(http: httpx.AsyncClient) -> None:
    spec = XProvider(
        http, api_base_url="http://127.0.0.1:9/", auth_base_url="http://127.0.0.1:8"
    ).oauth
    assert spec is not None
    assert spec.authorize_url == "http://127.0.0.1:8/i/oauth2/authorize"
    assert spec.token_url == "http://127.0.0.1:9/2/oauth2/token"


async def test_the_authorize_url(provider: XProvider, http: httpx.AsyncClient) -> None:
    url = await oauth(provider, http).authorize_url(REDIRECT, "st4te", "ch4llenge")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://x.com/i/oauth2/authorize"
    assert {k: v[0] for k, v in parse_qs(parts.query).items()} == {
        "response_type": "code",
        "client_id": "crier-client-id",
        "redirect_uri": REDIRECT,
        "state": "st4te",
        "scope": "tweet.read tweet.write users.read media.write offline.access",
        "code_challenge": "ch4llenge",
        "code_challenge_method": "S256",
    }


async def test_the_code_exchange(
    provider: XProvider, http: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    route = router.post(TOKEN_URL).respond(
        200,
        json={
            "token_type": "bearer",
            "expires_in": 7200,
            "access_token": "at-1",
            "scope": "tweet.read tweet.write users.read media.write offline.access",
            "refresh_token": "rt-1",
        },
    )
    token = await oauth(provider, http).exchange("the-code", REDIRECT, "the-verifier")
    sent = route.calls.last.request
    assert sent.headers["authorization"] == BASIC
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert form(sent) == {
        "grant_type": "authorization_code",
        "code": "the-code",
        "redirect_uri": REDIRECT,
        "code_verifier": "the-verifier",
    }
    assert (token.access_token, token.refresh_token) == ("at-1", "rt-1")
    assert token.expires_at == NOW + timedelta(hours=2)


@pytest.mark.parametrize(
    ("answer", "refresh_token"),
    [
        ({"access_token": "at-2", "expires_in": 7200, "refresh_token": "rt-2"}, "rt-2"),
        ({"access_token": "at-2", "expires_in": 7200}, "rt-1"),
    ],
    ids=["rotated", "kept"],
)
async def test_refresh_takes_a_rotated_refresh_token_and_keeps_the_old_one_otherwise(
    provider: XProvider, router: respx.MockRouter, answer: dict[str, object], refresh_token: str
) -> None:
    route = router.post(TOKEN_URL).respond(200, json=answer)
    credentials = await provider.refresh(account())
    sent = route.calls.last.request
    assert sent.headers["authorization"] == BASIC
    assert form(sent) == {"grant_type": "refresh_token", "refresh_token": "rt-1"}
    assert credentials["access_token"] == "at-2"
    assert credentials["refresh_token"] == refresh_token
    assert "expires_at" in credentials


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (
            400,
            {
                "error": "invalid_request",
                "error_description": "Value passed for the token was invalid.",
            },
            AuthError,
        ),
        (
            401,
            {
                "error": "unauthorized_client",
                "error_description": "Missing valid authorization header",
            },
            AuthError,
        ),
        (503, {"title": "Service Unavailable"}, TransientError),
    ],
    ids=["revoked", "app refused", "down"],
)
async def test_a_refused_refresh(
    provider: XProvider,
    router: respx.MockRouter,
    status: int,
    body: dict[str, str],
    error: type[Exception],
) -> None:
    router.post(TOKEN_URL).respond(status, json=body)
    with pytest.raises(error) as raised:
        await provider.refresh(account())
    assert "rt-1" not in str(raised.value)


async def test_refresh_without_a_refresh_token_or_an_app_means_reconnect(
    provider: XProvider, http: httpx.AsyncClient
) -> None:
    with pytest.raises(AuthError, match="reconnect"):
        await provider.refresh(account(access_token="at-1"))
    with pytest.raises(AuthError, match="not configured"):
        await XProvider(http).refresh(account())


# -- who signed in ---------------------------------------------------------------------------


async def test_accounts_for_lists_the_signed_in_account(
    provider: XProvider, router: respx.MockRouter
) -> None:
    route = router.get("https://api.x.com/2/users/me").respond(
        200, json={"data": {**ME["data"], "subscription_type": "Premium"}}
    )
    token = Token(
        access_token="at-1",
        refresh_token="rt-1",
        expires_at=NOW + timedelta(hours=2),
        scope=" ".join(SCOPES),
    )
    [found] = await provider.accounts_for(token)
    sent = route.calls.last.request
    assert sent.headers["authorization"] == "Bearer at-1"
    assert dict(sent.url.params) == {"user.fields": "subscription_type"}
    assert (found.label, found.external_id) == ("@crier_test", "2244994945")
    assert found.config == {
        "user_id": "2244994945",
        "username": "crier_test",
        "subscription_type": "Premium",
    }
    assert found.credentials == as_credentials(token)


async def test_verify_reads_the_identity_and_keeps_the_credentials(
    provider: XProvider, router: respx.MockRouter
) -> None:
    router.get("https://api.x.com/2/users/me").respond(200, json=ME)
    verified = await provider.verify(account())
    assert verified.label == "@crier_test"
    assert verified.credentials is None
    assert verified.config["subscription_type"] == "None"


@pytest.mark.parametrize("status", [401, 403])
async def test_verify_with_a_refused_token(
    provider: XProvider, router: respx.MockRouter, status: int
) -> None:
    body = {
        401: {
            "title": "Unauthorized",
            "type": "about:blank",
            "status": 401,
            "detail": "Unauthorized",
        },
        403: {
            "title": "Unsupported Authentication",
            "detail": "Authenticating with OAuth 2.0 Application-Only is forbidden for this "
            "endpoint.",
            "type": "https://api.x.com/2/problems/unsupported-authentication",
            "status": 403,
        },
    }[status]
    router.get("https://api.x.com/2/users/me").respond(status, json=body)
    with pytest.raises(AuthError):
        await provider.verify(account())


# -- end to end against the fake -------------------------------------------------------------


async def test_sign_in_connect_and_refresh_against_the_fake() -> None:
    fake = FakeX()
    user = fake.add_user("crier_test", subscription_type="Premium")
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as http:
        provider = XProvider(http, oauth_app=APP)
        client = oauth(provider, http)
        verifier, challenge = pkce_pair()
        code = fake.consent(user, challenge, REDIRECT, SCOPES)
        with pytest.raises(AuthError):  # the wrong verifier
            await client.exchange(code, REDIRECT, "not-the-verifier")
        code = fake.consent(user, challenge, REDIRECT, SCOPES)
        token = await client.exchange(code, REDIRECT, verifier)
        [connected] = await provider.accounts_for(token)
        assert (connected.label, connected.external_id) == ("@crier_test", user.id)
        stored = AccountRef(
            id=1,
            platform="x",
            label=connected.label,
            config=connected.config,
            credentials=connected.credentials or {},
        )
        assert provider.limits_for(stored).max_text == 25_000
        renewed = await provider.refresh(stored)
        assert renewed["refresh_token"] != stored.credentials["refresh_token"]
        # X rotates refresh tokens: the old one no longer works, the new one does.
        with pytest.raises(AuthError):
            await provider.refresh(stored)
        again = AccountRef(id=1, platform="x", label="", credentials=renewed)
        assert (await provider.verify(again)).external_id == user.id
        assert token_of(renewed).expires_at is not None


async def test_refresh_against_a_fake_that_does_not_rotate() -> None:
    fake = FakeX(rotate_refresh_tokens=False)
    user = fake.add_user()
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as http:
        provider = XProvider(http, oauth_app=APP)
        verifier, challenge = pkce_pair()
        code = fake.consent(user, challenge, REDIRECT, SCOPES)
        token = await oauth(provider, http).exchange(code, REDIRECT, verifier)
        stored = AccountRef(id=1, platform="x", label="", credentials=as_credentials(token))
        first = await provider.refresh(stored)
        second = await provider.refresh(stored)
    assert first["refresh_token"] == second["refresh_token"] == token.refresh_token
    assert first["access_token"] != second["access_token"]
