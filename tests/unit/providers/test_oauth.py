"""OAuth 2.0 (providers/oauth.py): the authorize URL, the code exchange with PKCE, refresh
with and without a rotated refresh token, and errors mapped to AuthError/TransientError.
Requests and answers follow RFC 6749 (sections 4.1, 5.1, 5.2, 6) and RFC 7636."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from providers.errors import AuthError, TransientError
from providers.oauth import (
    OAuthApp,
    OAuthClient,
    OAuthSpec,
    Token,
    as_credentials,
    pkce_pair,
    token_of,
)

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
TOKEN_URL = "https://api.example.com/oauth2/token"
SPEC = OAuthSpec(
    authorize_url="https://example.com/i/oauth2/authorize",
    token_url=TOKEN_URL,
    scopes=("post.write", "users.read", "offline.access"),
    pkce=True,
    token_auth="client_secret_basic",
)
APP = OAuthApp(client_id="app-id", client_secret="app-secret")
REDIRECT = "https://crier.example/oauth/x/callback"


@pytest.fixture
async def client() -> AsyncIterator[OAuthClient]:
    async with httpx.AsyncClient() as http:
        yield OAuthClient(SPEC, APP, http, platform="X", clock=lambda: NOW)


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def test_the_pkce_challenge_is_the_s256_of_the_verifier() -> None:
    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128
    digest = hashlib.sha256(verifier.encode()).digest()
    assert challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def test_the_authorize_url_carries_state_scopes_and_the_challenge(
    client: OAuthClient,
) -> None:
    url = await client.authorize_url(REDIRECT, "st4te", "ch4llenge")
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == SPEC.authorize_url
    assert query == {
        "response_type": "code",
        "client_id": "app-id",
        "redirect_uri": REDIRECT,
        "state": "st4te",
        "scope": "post.write users.read offline.access",
        "code_challenge": "ch4llenge",
        "code_challenge_method": "S256",
    }


async def test_a_platform_with_its_own_client_id_name_and_comma_scopes() -> None:
    spec = OAuthSpec(
        authorize_url="https://www.tiktok.com/v2/auth/authorize/",
        token_url=TOKEN_URL,
        scopes=("user.info.basic", "video.publish"),
        scope_separator=",",
        client_id_param="client_key",
    )
    async with httpx.AsyncClient() as http:
        url = await OAuthClient(spec, APP, http, platform="TikTok").authorize_url(REDIRECT, "s")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["client_key"] == "app-id"
    assert "client_id" not in query
    assert query["scope"] == "user.info.basic,video.publish"


TIKTOK = OAuthSpec(
    authorize_url="https://www.tiktok.com/v2/auth/authorize/",
    token_url="https://open.tiktokapis.com/v2/oauth/token/",
    scopes=("user.info.basic", "video.publish"),
    pkce=True,
    scope_separator=",",
    client_id_param="client_key",
    pkce_encoding="hex",
)


async def test_a_hex_pkce_platform_gets_the_hex_digest_of_the_verifier() -> None:
    verifier, challenge = pkce_pair()
    async with httpx.AsyncClient() as http:
        url = await OAuthClient(TIKTOK, APP, http, platform="TikTok").authorize_url(
            REDIRECT, "s", challenge
        )
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["code_challenge"] == hashlib.sha256(verifier.encode()).hexdigest()
    assert query["code_challenge_method"] == "S256"


@respx.mock
async def test_the_token_requests_name_the_client_as_the_platform_does() -> None:
    route = respx.post(TIKTOK.token_url).respond(
        200, json={"access_token": "act.1", "refresh_token": "rft.1", "open_id": "o-1"}
    )
    async with httpx.AsyncClient() as http:
        client = OAuthClient(TIKTOK, APP, http, platform="TikTok", clock=lambda: NOW)
        token = await client.exchange("the-code", REDIRECT, "the-verifier")
        assert form(route.calls.last.request) == {
            "client_key": "app-id",
            "client_secret": "app-secret",
            "code": "the-code",
            "grant_type": "authorization_code",
            "redirect_uri": REDIRECT,
            "code_verifier": "the-verifier",
        }
        assert "authorization" not in route.calls.last.request.headers
        assert token.extra == {"open_id": "o-1"}
        await client.refresh("rft.1")
    assert form(route.calls.last.request) == {
        "client_key": "app-id",
        "client_secret": "app-secret",
        "grant_type": "refresh_token",
        "refresh_token": "rft.1",
    }


@respx.mock
async def test_a_grant_refused_with_200_and_an_error_body_means_reconnect() -> None:
    respx.post(TIKTOK.token_url).respond(
        200,
        json={
            "error": "invalid_grant",
            "error_description": "Refresh token is invalid or expired.",
            "log_id": "2026120712000001",
        },
    )
    async with httpx.AsyncClient() as http:
        client = OAuthClient(TIKTOK, APP, http, platform="TikTok")
        with pytest.raises(AuthError, match=r"refresh \(Refresh token is invalid"):
            await client.refresh("rft.old")


@respx.mock
async def test_the_code_exchange_sends_the_verifier_and_basic_auth(client: OAuthClient) -> None:
    route = respx.post(TOKEN_URL).respond(
        200,
        json={
            "token_type": "bearer",
            "access_token": "at-1",
            "refresh_token": "rt-1",
            "expires_in": 7200,
            "scope": "post.write users.read offline.access",
        },
    )
    token = await client.exchange("the-code", REDIRECT, "the-verifier")
    sent = route.calls.last.request
    assert form(sent) == {
        "grant_type": "authorization_code",
        "code": "the-code",
        "redirect_uri": REDIRECT,
        "code_verifier": "the-verifier",
    }
    assert (
        sent.headers["authorization"] == "Basic " + base64.b64encode(b"app-id:app-secret").decode()
    )
    assert token.access_token == "at-1"
    assert token.refresh_token == "rt-1"
    assert token.expires_at == NOW + timedelta(seconds=7200)
    assert token_of(as_credentials(token)) == Token(
        access_token="at-1",
        refresh_token="rt-1",
        expires_at=NOW + timedelta(seconds=7200),
        scope="post.write users.read offline.access",
    )


@respx.mock
async def test_a_refresh_without_a_new_refresh_token_keeps_the_old_one(
    client: OAuthClient,
) -> None:
    route = respx.post(TOKEN_URL).respond(200, json={"access_token": "at-2", "expires_in": 60})
    token = await client.refresh("rt-old")
    assert form(route.calls.last.request) == {
        "grant_type": "refresh_token",
        "refresh_token": "rt-old",
    }
    assert (token.access_token, token.refresh_token) == ("at-2", "rt-old")


@respx.mock
async def test_a_refresh_with_a_rotated_refresh_token_takes_the_new_one(
    client: OAuthClient,
) -> None:
    respx.post(TOKEN_URL).respond(200, json={"access_token": "at-3", "refresh_token": "rt-new"})
    token = await client.refresh("rt-old")
    assert (token.access_token, token.refresh_token) == ("at-3", "rt-new")
    assert token.expires_at is None


@respx.mock
async def test_a_refused_refresh_means_reconnect_and_a_server_error_means_later(
    client: OAuthClient,
) -> None:
    respx.post(TOKEN_URL).respond(
        400, json={"error": "invalid_grant", "error_description": "Value passed was invalid"}
    )
    with pytest.raises(AuthError, match="invalid"):
        await client.refresh("rt-revoked")
    respx.post(TOKEN_URL).respond(503, text="upstream timeout")
    with pytest.raises(TransientError):
        await client.refresh("rt")


def test_a_token_is_refreshed_half_an_hour_before_it_expires() -> None:
    token = Token(access_token="a", expires_at=NOW + timedelta(minutes=31))
    assert not token.needs_refresh(NOW)
    assert token.needs_refresh(NOW + timedelta(minutes=2))
    assert not Token(access_token="a").needs_refresh(NOW)
