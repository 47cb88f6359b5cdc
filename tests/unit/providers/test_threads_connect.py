"""Connecting Threads: the sign-in through `OAuthClient` with the adapter's spec (the exact
requests to Threads' token endpoint), the swap for a long-lived token in `accounts_for`,
`verify`, and `refresh` (`th_refresh_token`, not an OAuth refresh grant: Threads has no
refresh token, the long-lived token renews itself), first against canned answers (respx),
then end to end against the fake Threads API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from providers.base import AccountRef
from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from providers.oauth import OAuthApp, OAuthClient, Token, token_of
from providers.threads import SCOPES, ThreadsProvider
from tests.fakes.threads import FakeThreads
from tests.fakes.threads_wire import graph_error
from tests.unit.providers.threads_support import Clock, form

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
APP = OAuthApp(client_id="990602627938098", client_secret="threads-app-secret")
REDIRECT = "https://crier.example/oauth/threads/callback"
TOKEN_URL = "https://graph.threads.net/oauth/access_token"
EXCHANGE_URL = "https://graph.threads.net/access_token"
REFRESH_URL = "https://graph.threads.net/refresh_access_token"
ME_URL = "https://graph.threads.net/v1.0/me"
ME = {
    "id": "17841400000000123",
    "username": "crier_test",
    "name": "Crier Test",
    "threads_profile_picture_url": "https://scontent.cdninstagram.com/v/t51.2885-19/1.jpg",
}


def account(**credentials: str) -> AccountRef:
    return AccountRef(
        id=3,
        platform="threads",
        label="@crier_test",
        config={"user_id": ME["id"], "username": "crier_test"},
        credentials=credentials
        or {"access_token": "THLL-1", "expires_at": "2026-09-01T12:20:00+00:00"},
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
def provider(http: httpx.AsyncClient) -> ThreadsProvider:
    return ThreadsProvider(http, oauth_app=APP, now=lambda: NOW)


def oauth(provider: ThreadsProvider, http: httpx.AsyncClient) -> OAuthClient:
    assert provider.oauth is not None
    return OAuthClient(provider.oauth, APP, http, platform="Threads", clock=lambda: NOW)


# -- the spec and the sign-in ---------------------------------------------------------------


def test_the_spec_is_threads_own_oauth_with_the_scopes_crier_needs(
    provider: ThreadsProvider,
) -> None:
    spec = provider.oauth
    assert spec is not None
    assert spec.authorize_url == "https://threads.com/oauth/authorize"
    assert spec.token_url == TOKEN_URL
    assert (
        spec.scopes
        == SCOPES
        == (
            "threads_basic",
            "threads_content_publish",
            "threads_manage_replies",
            "threads_delete",
        )
    )
    assert (spec.pkce, spec.token_auth, spec.scope_separator) == (
        False,
        "client_secret_post",
        ",",
    )
    assert provider.oauth_app == APP
    assert (provider.platform, provider.display_name) == ("threads", "Threads")


def test_the_hosts_are_configurable(http: httpx.AsyncClient) -> None:
    spec = ThreadsProvider(
        http, api_base_url="http://127.0.0.1:9/", auth_base_url="http://127.0.0.1:8"
    ).oauth
    assert spec is not None
    assert spec.authorize_url == "http://127.0.0.1:8/oauth/authorize"
    assert spec.token_url == "http://127.0.0.1:9/oauth/access_token"


async def test_the_authorize_url(provider: ThreadsProvider, http: httpx.AsyncClient) -> None:
    url = await oauth(provider, http).authorize_url(REDIRECT, "st4te")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://threads.com/oauth/authorize"
    assert {k: v[0] for k, v in parse_qs(parts.query).items()} == {
        "response_type": "code",
        "client_id": "990602627938098",
        "redirect_uri": REDIRECT,
        "state": "st4te",
        "scope": "threads_basic,threads_content_publish,threads_manage_replies,threads_delete",
    }


async def test_the_code_exchange_gives_a_short_lived_token_and_the_user_id(
    provider: ThreadsProvider, http: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    route = router.post(TOKEN_URL).respond(
        200, json={"access_token": "THSL-1", "user_id": 17841400000000123}
    )
    token = await oauth(provider, http).exchange("the-code", REDIRECT)
    sent = route.calls.last.request
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "authorization" not in sent.headers
    assert form(sent) == {
        "client_id": "990602627938098",
        "client_secret": "threads-app-secret",
        "code": "the-code",
        "grant_type": "authorization_code",
        "redirect_uri": REDIRECT,
    }
    assert (token.access_token, token.refresh_token, token.expires_at) == ("THSL-1", None, None)
    assert token.extra == {"user_id": 17841400000000123}


async def test_a_refused_code_exchange_means_signing_in_again(
    provider: ThreadsProvider, http: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    router.post(TOKEN_URL).mock(
        return_value=graph_error(400, "This authorization code has been used.", 100)
    )
    with pytest.raises(AuthError):
        await oauth(provider, http).exchange("used-code", REDIRECT)


# -- who signed in ---------------------------------------------------------------------------


async def test_accounts_for_swaps_the_token_for_a_long_lived_one_and_reads_the_profile(
    provider: ThreadsProvider, router: respx.MockRouter
) -> None:
    exchange = router.get(EXCHANGE_URL).respond(
        200, json={"access_token": "THLL-1", "token_type": "bearer", "expires_in": 5183944}
    )
    me = router.get(ME_URL).respond(200, json=ME)
    [found] = await provider.accounts_for(Token(access_token="THSL-1"))
    assert dict(exchange.calls.last.request.url.params) == {
        "grant_type": "th_exchange_token",
        "client_secret": "threads-app-secret",
        "access_token": "THSL-1",
    }
    assert dict(me.calls.last.request.url.params) == {
        "fields": "id,username,name,threads_profile_picture_url",
        "access_token": "THLL-1",
    }
    assert (found.label, found.external_id, found.platform) == (
        "@crier_test",
        "17841400000000123",
        None,
    )
    assert found.config == {
        "user_id": "17841400000000123",
        "username": "crier_test",
        "name": "Crier Test",
    }
    assert found.credentials == {
        "access_token": "THLL-1",
        "expires_at": (NOW + timedelta(seconds=5183944)).isoformat(),
    }


async def test_accounts_for_needs_the_app_secret(http: httpx.AsyncClient) -> None:
    with pytest.raises(PermanentError, match="THREADS_APP_SECRET"):
        await ThreadsProvider(http).accounts_for(Token(access_token="THSL-1"))


async def test_a_refused_swap_means_signing_in_again(
    provider: ThreadsProvider, router: respx.MockRouter
) -> None:
    router.get(EXCHANGE_URL).mock(
        return_value=graph_error(400, "Error validating client secret.", 1)
    )
    with pytest.raises(AuthError) as raised:
        await provider.accounts_for(Token(access_token="THSL-1"))
    assert "threads-app-secret" not in str(raised.value)
    assert "THSL-1" not in str(raised.value)


async def test_verify_reads_the_profile_and_keeps_the_credentials(
    provider: ThreadsProvider, router: respx.MockRouter
) -> None:
    router.get(ME_URL).respond(200, json=ME)
    verified = await provider.verify(account())
    assert (verified.label, verified.external_id, verified.credentials) == (
        "@crier_test",
        ME["id"],
        None,
    )


@pytest.mark.parametrize("subcode", [None, 460, 463])
async def test_verify_with_a_refused_token(
    provider: ThreadsProvider, router: respx.MockRouter, subcode: int | None
) -> None:
    router.get(ME_URL).mock(
        return_value=graph_error(400, "Error validating access token", 190, subcode=subcode)
    )
    with pytest.raises(AuthError):
        await provider.verify(account())


# -- renewing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        {"access_token": "THLL-2", "token_type": "bearer", "expires_in": 5184000},
        {"access_token": "THLL-1", "token_type": "bearer", "expires_in": 5184000},
        {"access_token": "THLL-2", "token_type": "bearer"},
    ],
    ids=["new token", "same token, new expiry", "no expiry said: 60 days"],
)
async def test_refresh_renews_the_long_lived_token_for_60_days(
    provider: ThreadsProvider, router: respx.MockRouter, answer: dict[str, object]
) -> None:
    route = router.get(REFRESH_URL).respond(200, json=answer)
    stored = account(
        access_token="THLL-1", expires_at="2026-09-01T12:20:00+00:00", scope="threads_basic"
    )
    credentials = await provider.refresh(stored)
    assert dict(route.calls.last.request.url.params) == {
        "grant_type": "th_refresh_token",
        "access_token": "THLL-1",
    }
    assert credentials == {
        "access_token": answer["access_token"],
        "expires_at": (NOW + timedelta(days=60)).isoformat(),
        "scope": "threads_basic",
    }
    assert token_of(credentials).needs_refresh(NOW) is False


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (graph_error(400, "Error validating access token: Session has expired.", 190), AuthError),
        (
            graph_error(
                400, "Invalid parameter", 100, user_msg="The token is not old enough to refresh."
            ),
            AuthError,
        ),
        (graph_error(500, "An unexpected error has occurred.", 2, transient=True), TransientError),
        (httpx.Response(503, text="<html>busy</html>"), TransientError),
        (graph_error(400, "(#4) Application request limit reached", 4), RateLimited),
    ],
    ids=["expired", "too young", "down", "bare 503", "rate limited"],
)
async def test_a_refused_refresh(
    provider: ThreadsProvider,
    router: respx.MockRouter,
    answer: httpx.Response,
    error: type[Exception],
) -> None:
    router.get(REFRESH_URL).mock(return_value=answer)
    with pytest.raises(error) as raised:
        await provider.refresh(account())
    assert "THLL-1" not in str(raised.value)


async def test_refresh_without_a_token_means_reconnect(provider: ThreadsProvider) -> None:
    with pytest.raises(AuthError, match="reconnect"):
        await provider.refresh(account(expires_at="2026-09-01T12:20:00+00:00"))


# -- end to end against the fake -------------------------------------------------------------


async def test_sign_in_connect_and_renew_against_the_fake() -> None:
    clock = Clock()
    fake = FakeThreads(app_id=APP.client_id, app_secret=APP.client_secret, clock=clock)
    user = fake.add_user("crier_test")
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as http:
        provider = ThreadsProvider(http, oauth_app=APP, now=clock.datetime)
        client = oauth(provider, http)
        code = fake.consent(user, REDIRECT)
        with pytest.raises(AuthError):  # the redirect URI must be the one signed in with
            await client.exchange(code, "https://elsewhere.example/callback")
        token = await client.exchange(fake.consent(user, REDIRECT), REDIRECT)
        short = fake.grant_of(token.access_token)
        assert short is not None
        assert not short.long_lived
        [connected] = await provider.accounts_for(token)
        credentials = dict(connected.credentials or {})
        long_lived = fake.grant_of(credentials["access_token"])
        assert long_lived is not None
        assert long_lived.long_lived
        assert token_of(credentials).expires_at == datetime.fromtimestamp(
            long_lived.expires_at, UTC
        )
        assert (connected.label, connected.external_id) == ("@crier_test", user.id)
        stored = AccountRef(
            id=1,
            platform="threads",
            label=connected.label,
            config=connected.config,
            credentials=credentials,
        )
        # Threads renews a long-lived token only once it is a day old.
        with pytest.raises(AuthError, match="24 hours"):
            await provider.refresh(stored)
        clock.advance(59 * 86400)
        renewed = await provider.refresh(stored)
        assert renewed["access_token"] != credentials["access_token"]
        assert token_of(renewed).expires_at == clock.datetime() + timedelta(days=60)
        again = AccountRef(id=1, platform="threads", label="", credentials=renewed)
        assert (await provider.verify(again)).external_id == user.id
        # Too late: an expired token can't be renewed, only signed in again.
        clock.advance(61 * 86400)
        with pytest.raises(AuthError):
            await provider.refresh(again)
