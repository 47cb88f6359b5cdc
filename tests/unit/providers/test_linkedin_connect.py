"""LinkedIn sign-in: the OAuth spec, the code exchange and refresh against LinkedIn's token
endpoint (through OAuthClient), accounts_for listing the member and their pages, verify and
refresh. Shapes follow learn.microsoft.com/linkedin/shared/authentication/authorization-code-
flow, programmatic-refresh-tokens, sign-in-with-linkedin-v2 (userinfo) and
marketing/community-management/organizations/organization-access-control-by-role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from providers.errors import AuthError
from providers.linkedin import LinkedInProvider
from providers.oauth import OAuthClient, Token
from tests.unit.providers.linkedin_world import (
    APP,
    MEMBER_SCOPES,
    NOW,
    PAGE_SCOPES,
    REDIRECT,
    World,
    world,
)

SIXTY_DAYS = timedelta(days=60)


@pytest.fixture
async def w() -> AsyncIterator[World]:
    async with world() as it:
        yield it


def client(provider: LinkedInProvider, w: World) -> OAuthClient:
    return OAuthClient(provider.oauth, APP, w.http, platform="LinkedIn", clock=lambda: NOW)


# -- the OAuth spec and the token endpoint --------------------------------------------------


@pytest.mark.parametrize(
    ("organizations", "scopes"),
    [(False, MEMBER_SCOPES), (True, PAGE_SCOPES)],
    ids=["member-app", "community-management-app"],
)
async def test_the_authorize_url_asks_for_the_app_kind_s_scopes_without_pkce(
    w: World, organizations: bool, scopes: str
) -> None:
    provider = w.provider(organizations=organizations)
    url = await client(provider, w).authorize_url(REDIRECT, "st4te", "ignored-challenge")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://www.linkedin.com/oauth/v2/authorization"
    )
    assert {k: v[0] for k, v in parse_qs(parts.query).items()} == {
        "response_type": "code",
        "client_id": "crier-client",
        "redirect_uri": REDIRECT,
        "state": "st4te",
        "scope": scopes,
    }
    assert provider.oauth.token_url == "https://www.linkedin.com/oauth/v2/accessToken"


async def test_the_code_exchange_posts_the_client_secret_in_the_body(w: World) -> None:
    provider = w.provider()
    code = w.fake.authorize(w.alice, MEMBER_SCOPES, REDIRECT)
    token = await client(provider, w).exchange(code, REDIRECT)
    sent = w.fake.requests_to("/oauth/v2/accessToken")[-1]
    assert "authorization" not in sent.headers
    assert {k: v[0] for k, v in parse_qs(sent.content.decode()).items()} == {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": "crier-client",
        "client_secret": "crier-secret",
    }
    assert token.access_token in w.fake.tokens
    assert token.expires_at == NOW + SIXTY_DAYS
    assert token.refresh_token is None  # an app LinkedIn did not approve for refresh tokens
    assert token.scope == "openid,profile,w_member_social"


async def test_a_wrong_redirect_or_used_code_is_refused_as_auth(w: World) -> None:
    code = w.fake.authorize(w.alice, MEMBER_SCOPES, REDIRECT)
    with pytest.raises(AuthError, match="authorization code"):
        await client(w.provider(), w).exchange(code, "https://elsewhere.example/cb")


@pytest.mark.parametrize(
    ("answer", "kept"),
    [("same", True), ("omit", True), ("rotate", False)],
    ids=["linkedin-returns-the-same", "no-refresh-token-in-answer", "rotated"],
)
async def test_refresh_through_the_token_endpoint(answer: str, kept: bool) -> None:
    async with world(refresh_tokens=True, refresh_answer=answer) as w:
        provider = w.provider()
        code = w.fake.authorize(w.alice, MEMBER_SCOPES, REDIRECT)
        first = await client(provider, w).exchange(code, REDIRECT)
        assert first.refresh_token
        renewed = await client(provider, w).refresh(first.refresh_token)
        sent = w.fake.requests_to("/oauth/v2/accessToken")[-1]
        assert {k: v[0] for k, v in parse_qs(sent.content.decode()).items()} == {
            "grant_type": "refresh_token",
            "refresh_token": first.refresh_token,
            "client_id": "crier-client",
            "client_secret": "crier-secret",
        }
        assert renewed.access_token != first.access_token
        assert (renewed.refresh_token == first.refresh_token) is kept
        assert renewed.refresh_token in w.fake.refresh


async def test_a_revoked_refresh_token_means_reconnect(w: World) -> None:
    with pytest.raises(AuthError, match="refresh token is invalid"):
        await client(w.provider(), w).refresh("AQ-never-issued")


# -- accounts_for -----------------------------------------------------------------------------


async def test_a_member_app_lists_the_member_from_userinfo(w: World) -> None:
    provider = w.provider()
    code = w.fake.authorize(w.alice, MEMBER_SCOPES, REDIRECT)
    token = await client(provider, w).exchange(code, REDIRECT)
    accounts = await provider.accounts_for(token)
    assert [(a.label, a.external_id, dict(a.config)) for a in accounts] == [
        (
            "Alice Smith",
            "urn:li:person:m1Xy9",
            {"author": "urn:li:person:m1Xy9", "kind": "member", "name": "Alice Smith"},
        )
    ]
    assert accounts[0].credentials == {
        "access_token": token.access_token,
        "expires_at": (NOW + SIXTY_DAYS).isoformat(),
        "scope": "openid,profile,w_member_social",
    }
    userinfo = w.fake.requests_to("/v2/userinfo")[-1]
    assert userinfo.method == "GET"
    assert userinfo.headers["authorization"] == f"Bearer {token.access_token}"
    assert not w.fake.requests_to("/rest/organizationAcls")


async def test_a_community_management_app_lists_the_member_and_every_page_they_administer(
    w: World,
) -> None:
    beta = w.fake.add_organization("Beta Labs", admins=[w.alice])
    w.fake.add_organization("Not Mine", admins=[w.fake.add_member("Bob", "Jones")])
    w.fake.add_organization("Only Analyst", admins=[w.alice], role="ANALYST")
    provider = w.provider(organizations=True)
    code = w.fake.authorize(w.alice, PAGE_SCOPES, REDIRECT)
    token = await client(provider, w).exchange(code, REDIRECT)
    accounts = await provider.accounts_for(token)
    assert [(a.label, a.external_id, a.config["kind"]) for a in accounts] == [
        ("Alice Smith", "urn:li:person:m1Xy9", "member"),
        ("Acme Corp", w.acme.urn, "organization"),
        ("Beta Labs", beta.urn, "organization"),
    ]
    assert dict(accounts[1].config) == {
        "author": w.acme.urn,
        "kind": "organization",
        "name": "Acme Corp",
        "member": "urn:li:person:m1Xy9",
    }
    assert all(a.credentials == accounts[0].credentials for a in accounts)
    # Who: /v2/me (a Community Management app can't have OpenID Connect).
    assert w.fake.requests_to("/v2/me")
    assert not w.fake.requests_to("/v2/userinfo")
    acls = w.fake.requests_to("/rest/organizationAcls")[-1]
    assert acls.params == {
        "q": "roleAssignee",
        "role": "ADMINISTRATOR",
        "state": "APPROVED",
        "start": "0",
        "count": "100",
    }
    assert acls.headers["linkedin-version"] == "202605"
    assert acls.headers["x-restli-protocol-version"] == "2.0.0"
    lookup = w.fake.requests_to("/rest/organizations")[-1]
    assert lookup.params == {"ids": f"List({w.acme.id},{beta.id})"}
    assert lookup.url.endswith(f"/rest/organizations?ids=List({w.acme.id},{beta.id})")


async def test_every_page_of_roles_is_read(w: World) -> None:
    for number in range(120):
        w.fake.add_organization(f"Page {number}", admins=[w.alice])
    provider = w.provider(organizations=True)
    token = Token(access_token=w.fake.grant(w.alice, PAGE_SCOPES), scope=PAGE_SCOPES)
    accounts = await provider.accounts_for(token)
    assert len(accounts) == 1 + 121
    starts = [r.params["start"] for r in w.fake.requests_to("/rest/organizationAcls")]
    assert starts == ["0", "100"]


async def test_declining_the_page_permissions_leaves_the_member_alone(w: World) -> None:
    provider = w.provider(organizations=True)
    token = Token(
        access_token=w.fake.grant(w.alice, "r_basicprofile w_member_social"),
        scope="r_basicprofile,w_member_social",
    )
    accounts = await provider.accounts_for(token)
    assert [a.external_id for a in accounts] == [w.alice.urn]
    assert not w.fake.requests_to("/rest/organizationAcls")


async def test_pages_linkedin_will_not_list_leave_the_member_with_a_notice(w: World) -> None:
    provider = w.provider(organizations=True)
    token = Token(access_token=w.fake.grant(w.alice, PAGE_SCOPES), scope=None)
    w.fake.fail_next(
        "/rest/organizationAcls",
        403,
        {"status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED",
         "message": "Not enough permissions to access: organizationAcls.FINDER-roleAssignee"},
    )  # fmt: skip
    [member] = await provider.accounts_for(token)
    assert member.external_id == w.alice.urn
    assert member.notice is not None
    assert "rw_organization_admin" in member.notice


async def test_a_refused_token_at_sign_in_is_auth(w: World) -> None:
    with pytest.raises(AuthError, match="expired or was revoked"):
        await w.provider().accounts_for(Token(access_token="AQ-bogus", scope="openid"))


# -- verify and refresh -------------------------------------------------------------------------


async def test_verify_asks_who_the_token_is(w: World) -> None:
    account = w.member_account()
    verified = await w.provider().verify(account)
    assert (verified.label, verified.external_id) == ("Alice Smith", w.alice.urn)
    page = w.page_account()
    verified = await w.provider(organizations=True).verify(page)
    assert (verified.label, verified.external_id) == ("Acme Corp", w.acme.urn)
    assert w.fake.requests_to("/v2/me")


async def test_verify_refuses_a_revoked_token_and_someone_else_s(w: World) -> None:
    account = w.member_account()
    w.fake.revoke(account.credentials["access_token"])
    with pytest.raises(AuthError):
        await w.provider().verify(account)
    bob = w.fake.add_member("Bob", "Jones")
    theirs = w.member_account()
    theirs = type(theirs)(
        id=3,
        platform="linkedin",
        label="Bob",
        config={"author": bob.urn, "kind": "member"},
        credentials=theirs.credentials,
    )
    with pytest.raises(AuthError, match="someone else"):
        await w.provider().verify(theirs)


async def test_refresh_without_a_refresh_token_says_reconnect_before_sixty_days(
    w: World,
) -> None:
    with pytest.raises(AuthError, match="60 days"):
        await w.provider().refresh(w.member_account())


async def test_refresh_stores_the_new_token_and_keeps_the_refresh_token() -> None:
    async with world(refresh_tokens=True) as w:
        provider = w.provider()
        code = w.fake.authorize(w.alice, MEMBER_SCOPES, REDIRECT)
        token = await client(provider, w).exchange(code, REDIRECT)
        [member] = await provider.accounts_for(token)
        assert member.credentials is not None
        assert (
            member.credentials["refresh_token_expires_at"]
            == (NOW + timedelta(days=365)).isoformat()
        )
        account = w.member_account()
        account = type(account)(
            id=1,
            platform="linkedin",
            label=account.label,
            config=account.config,
            credentials=member.credentials,
        )
        renewed = await provider.refresh(account)
        assert renewed["access_token"] != token.access_token
        assert renewed["access_token"] in w.fake.tokens
        assert renewed["refresh_token"] == token.refresh_token
        assert renewed["expires_at"] == (NOW + SIXTY_DAYS).isoformat()
        assert renewed["scope"] == "openid,profile,w_member_social"
