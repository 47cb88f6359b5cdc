"""The Meta sign-in against the fake Graph API: the login dialog URL and the code exchange
through `OAuthClient` with the Facebook adapter's spec, the long-lived exchange, every Page
and linked Instagram account as a destination, refresh with and without a new token, and
identity checks. Requests are checked as Meta documents them."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import respx

from providers.errors import AuthError, PermanentError
from providers.facebook import FacebookProvider
from providers.instagram import InstagramProvider
from providers.meta_auth import SCOPES
from providers.oauth import OAuthClient, Token
from tests.fakes.meta_world import LONG_TTL, SHORT_TTL
from tests.unit.providers.meta_support import APP, REDIRECT, World, form, open_world, router, world

__all__ = ["router", "world"]


def client(w: World) -> OAuthClient:
    assert w.facebook.oauth is not None
    return OAuthClient(w.facebook.oauth, APP, w.http, platform="Facebook", clock=w.clock.datetime)


async def signed_in(w: World) -> Token:
    url = await client(w).authorize_url(REDIRECT, "state-1")
    code = w.fake.authorize(url, w.user)
    return await client(w).exchange(code, REDIRECT)


async def test_the_login_dialog_asks_for_the_pages_and_instagram_permissions(w: World) -> None:
    url = await client(w).authorize_url(REDIRECT, "state-1")
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "www.facebook.com",
        "/v27.0/dialog/oauth",
    )
    assert query == {
        "response_type": "code",
        "client_id": APP.client_id,
        "redirect_uri": REDIRECT,
        "state": "state-1",
        "scope": ",".join(SCOPES),
    }
    assert "instagram_content_publish" in SCOPES
    assert "pages_manage_posts" in SCOPES


async def test_a_login_for_business_configuration_is_passed_along(w: World) -> None:
    provider = FacebookProvider(w.http, oauth_app=APP, config_id="cfg-42")
    assert provider.oauth is not None
    url = await OAuthClient(provider.oauth, APP, w.http, platform="Facebook").authorize_url(
        REDIRECT, "s"
    )
    assert parse_qs(urlsplit(url).query)["config_id"] == ["cfg-42"]


async def test_the_code_exchange_posts_the_app_and_the_code(w: World) -> None:
    token = await signed_in(w)
    request = w.router.calls.last.request
    assert (request.method, str(request.url)) == (
        "POST",
        "https://graph.facebook.com/v27.0/oauth/access_token",
    )
    body = form(request)
    assert body["client_id"] == APP.client_id
    assert body["client_secret"] == APP.client_secret
    assert body["redirect_uri"] == REDIRECT
    assert body["code"].startswith("AQ")
    assert token.refresh_token is None  # Meta has no refresh tokens
    assert token.expires_at == w.clock.datetime() + timedelta(seconds=SHORT_TTL)


async def test_a_spent_code_or_another_redirect_means_signing_in_again(w: World) -> None:
    url = await client(w).authorize_url(REDIRECT, "s")
    code = w.fake.authorize(url, w.user)
    with pytest.raises(AuthError):
        await client(w).exchange(code, "https://elsewhere.example/callback")
    code = w.fake.authorize(url, w.user)
    await client(w).exchange(code, REDIRECT)
    with pytest.raises(AuthError):
        await client(w).exchange(code, REDIRECT)


async def test_accounts_for_lists_the_page_and_its_instagram_account(w: World) -> None:
    token = await signed_in(w)
    found = await w.facebook.accounts_for(token)
    page, ig = found
    assert (page.label, page.external_id, page.platform) == ("Crier Café", w.page.id, None)
    assert page.config == {"page_id": w.page.id, "name": "Crier Café"}
    assert (ig.label, ig.external_id, ig.platform) == ("@criercafe", w.ig.id, "instagram")
    assert ig.config == {
        "ig_user_id": w.ig.id,
        "username": "criercafe",
        "page_id": w.page.id,
        "page_name": "Crier Café",
    }
    assert page.credentials is not None
    assert ig.credentials == page.credentials
    credentials = page.credentials
    assert set(credentials) == {"page_token", "user_token", "expires_at", "scope"}
    # The user token is the long-lived one (60 days), not the two-hour one of the exchange.
    assert credentials["user_token"] != token.access_token
    assert (
        credentials["expires_at"] == (w.clock.datetime() + timedelta(seconds=LONG_TTL)).isoformat()
    )
    assert w.fake.world.tokens[credentials["page_token"]].expires_at is None
    assert "instagram_content_publish" in credentials["scope"].split(",")
    assert w.sent()[-5:] == [
        "POST graph.facebook.com/oauth/access_token",
        "POST graph.facebook.com/oauth/access_token",
        "GET graph.facebook.com/me/permissions",
        "GET graph.facebook.com/me/accounts",
        f"GET graph.facebook.com/{w.page.id}",
    ]
    exchange = form(w.router.calls[-4].request)
    assert exchange == {
        "grant_type": "fb_exchange_token",
        "client_id": APP.client_id,
        "client_secret": APP.client_secret,
        "fb_exchange_token": token.access_token,
    }
    accounts = w.router.calls[-2].request
    assert accounts.url.params["fields"] == "id,name,access_token,tasks"
    assert accounts.headers["authorization"] == f"OAuth {credentials['user_token']}"
    linked = w.router.calls[-1].request
    assert linked.url.params["fields"] == (
        "instagram_business_account{id,username,name,profile_picture_url}"
    )
    assert linked.headers["authorization"] == f"OAuth {credentials['page_token']}"
    proof = hmac.new(
        APP.client_secret.encode(), credentials["page_token"].encode(), hashlib.sha256
    ).hexdigest()
    assert linked.url.params["appsecret_proof"] == proof
    assert "access_token" not in str(linked.url)  # tokens never go in URLs


async def test_pages_where_the_person_cant_post_or_without_instagram(w: World) -> None:
    w.fake.add_page("Read Only", w.user, tasks=("ANALYZE",))
    plain = w.fake.add_page("No Instagram", w.user)
    found = await w.facebook.accounts_for(await signed_in(w))
    assert [(a.label, a.platform) for a in found] == [
        ("Crier Café", None),
        ("@criercafe", "instagram"),
        ("No Instagram", None),
    ]
    assert found[2].external_id == plain.id


async def test_every_page_is_listed_across_pages_of_results(w: World) -> None:
    for number in range(101):
        w.fake.add_page(f"Branch {number}", w.user)
    found = await w.facebook.accounts_for(await signed_in(w))
    assert len([a for a in found if a.platform is None]) == 102
    assert len(w.fake.calls("GET", "/me/accounts")) == 2


async def test_declining_instagram_connects_the_pages_only(w: World) -> None:
    w.user.grants = frozenset({"pages_show_list", "pages_manage_posts", "pages_read_engagement"})
    found = await w.facebook.accounts_for(await signed_in(w))
    assert [a.platform for a in found] == [None]
    assert not w.fake.calls("GET", f"/{w.page.id}")


async def test_declining_to_post_to_pages_is_refused_by_name(w: World) -> None:
    w.user.grants = frozenset({"pages_show_list", "instagram_basic"})
    with pytest.raises(AuthError, match="pages_manage_posts"):
        await w.facebook.accounts_for(await signed_in(w))


async def test_a_login_without_pages_says_what_to_do(w: World) -> None:
    w.page.roles.clear()
    with pytest.raises(PermanentError, match="Create a Page"):
        await w.facebook.accounts_for(await signed_in(w))


async def test_refresh_gets_a_new_user_token_and_reads_the_page_token_again(w: World) -> None:
    found = await w.facebook.accounts_for(await signed_in(w))
    assert found[0].credentials is not None
    account = replace(w.page_account(), credentials=found[0].credentials)
    w.clock.now += 50 * 24 * 3600
    renewed = await w.facebook.refresh(account)
    assert renewed["user_token"] != account.credentials["user_token"]
    assert renewed["page_token"] != account.credentials["page_token"]
    assert renewed["expires_at"] == (w.clock.datetime() + timedelta(seconds=LONG_TTL)).isoformat()
    assert renewed["scope"] == account.credentials["scope"]
    assert (
        form(w.router.calls[-2].request)["fb_exchange_token"] == account.credentials["user_token"]
    )
    assert w.router.calls[-1].request.url.params["fields"] == "access_token"
    # The Instagram account renews the same way, through its Page.
    again = await w.instagram.refresh(w.ig_account())
    assert again["page_token"]
    assert again["user_token"]


async def test_refresh_keeps_the_token_meta_answers_again(router: respx.MockRouter) -> None:
    async with open_world(router, rotate_long_lived=False) as w:
        w.clock.now += 10 * 24 * 3600
        renewed = await w.facebook.refresh(w.page_account())
        left = LONG_TTL - 10 * 24 * 3600
    assert renewed["user_token"] == w.user_token
    assert renewed["expires_at"] == (w.clock.datetime() + timedelta(seconds=left)).isoformat()
    assert renewed["page_token"] != w.page_token  # read again, with the same user token


async def test_refresh_is_refused_once_the_user_token_has_expired(w: World) -> None:
    w.fake.world.expire_user_tokens()
    with pytest.raises(AuthError, match="sign-in expired"):
        await w.facebook.refresh(w.page_account())
    with pytest.raises(AuthError):
        await w.facebook.refresh(replace(w.page_account(), credentials={}))


async def test_verify_reads_the_page_and_the_instagram_account(w: World) -> None:
    page = await w.facebook.verify(w.page_account())
    assert (page.label, page.external_id) == ("Crier Café", w.page.id)
    ig = await w.instagram.verify(w.ig_account())
    assert (ig.label, ig.external_id) == ("@criercafe", w.ig.id)
    w.fake.world.revoke(w.page_token)
    with pytest.raises(AuthError, match="removed from the Facebook account's apps"):
        await w.facebook.verify(w.page_account())


def test_instagram_signs_in_through_the_facebook_adapter() -> None:
    assert InstagramProvider.oauth is None
    assert InstagramProvider.signs_in_via == "facebook"
    assert FacebookProvider.sign_in_label == "Facebook & Instagram (Meta)"
    assert FacebookProvider.also_connects == ("instagram",)
