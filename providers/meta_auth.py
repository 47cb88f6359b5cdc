"""One Meta sign-in for Facebook Pages and the Instagram accounts linked to them (Facebook
Login for Business, Graph API v27.0; "Manually Build a Login Flow", "Long-Lived Access
Tokens", Pages API "Getting started", Instagram Platform "Overview").

The flow:

1. The login dialog `https://www.facebook.com/v27.0/dialog/oauth` with `client_id`,
   `redirect_uri`, `state`, `response_type=code` and the scopes comma-separated (or, with a
   Facebook Login for Business configuration, its `config_id`, which then decides them).
2. The code exchange at `https://graph.facebook.com/v27.0/oauth/access_token`. Meta documents
   a GET with `client_id`, `client_secret`, `redirect_uri` and `code` in the query; the Graph
   API takes the same parameters as a POST form, which is what `OAuthClient` sends (and
   httpx-oauth's own Facebook client does), and which keeps the app secret and the code out
   of URLs and logs. The answer is a short-lived user token (about 2 hours).
3. `exchange_long_lived`: `grant_type=fb_exchange_token` on the same endpoint (also POSTed,
   for the same reason): a long-lived user token, good for about 60 days.
4. `GET /me/accounts` with the long-lived token: each Page the person can act on, with its
   tasks and a Page token. A Page token read with a long-lived user token has no expiry: it
   stops working only when the person loses their role on the Page, changes their password,
   or removes the app.
5. `GET /{page-id}?fields=instagram_business_account{id,username,name,profile_picture_url}`
   with the Page token: the Instagram professional account linked to the Page, if any.

What expires: the user token (about 60 days). `refresh` exchanges it again while it is valid
and reads the Page token anew with it; when Meta refuses (expired, revoked, password
changed) only signing in again helps (AuthError). What doesn't: Page tokens, which are what
publishing uses on both platforms. The user token is needed to renew them, to upload a
regular Facebook video (the Resumable Upload API takes only a user token) and to delete
Instagram media (documented with a user token).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from providers.base import AccountRef, VerifiedAccount
from providers.errors import AuthError, PermanentError
from providers.meta_graph import API_BASE_URL, AUTH_BASE_URL, GraphApi
from providers.oauth import OAuthSpec, Token

#: Facebook Pages: list them (pages_show_list), read them (pages_read_engagement), post, edit
#: and delete as them (pages_manage_posts); Pages owned through a business portfolio need
#: business_management.
PAGE_SCOPES = (
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "business_management",
)
#: Instagram with Facebook Login: the account (instagram_basic), publishing
#: (instagram_content_publish), deleting media (instagram_manage_contents, since
#: 3 December 2025).
INSTAGRAM_SCOPES = ("instagram_basic", "instagram_content_publish", "instagram_manage_contents")
SCOPES = PAGE_SCOPES + INSTAGRAM_SCOPES
#: What a Page must allow the person for Crier to post there.
POSTING_TASK = "CREATE_CONTENT"
_IG_FIELDS = "instagram_business_account{id,username,name,profile_picture_url}"


def meta_oauth_spec(
    *,
    auth_base_url: str = AUTH_BASE_URL,
    api_base_url: str = API_BASE_URL,
    config_id: str | None = None,
) -> OAuthSpec:
    """The Meta login: no PKCE (Meta's server-side code flow takes the app secret instead),
    scopes comma-separated as Meta's examples write them."""
    return OAuthSpec(
        authorize_url=f"{auth_base_url.rstrip('/')}/dialog/oauth",
        token_url=f"{api_base_url.rstrip('/')}/oauth/access_token",
        scopes=SCOPES,
        token_auth="client_secret_post",
        scope_separator=",",
        authorize_params={"config_id": config_id} if config_id else {},
    )


class MetaLogin:
    """What follows the code exchange: the long-lived token, the destinations, refresh."""

    def __init__(self, graph: GraphApi, *, now: Callable[[], datetime]) -> None:
        self.graph = graph
        self.now = now

    async def exchange_long_lived(self, user_token: str) -> Token:
        """A long-lived user token for a short-lived one (or a fresh one for a long-lived
        one that is still valid)."""
        app = self.graph.app
        if app is None:
            raise PermanentError(
                "Crier has no Meta app (META_APP_ID and META_APP_SECRET), so it can't keep "
                "the sign-in."
            )
        body = await self._exchange(user_token, app.client_id, app.client_secret)
        access = str(body.get("access_token") or "")
        if not access:
            raise AuthError("Meta answered the sign-in without a token; connect again.")
        expires_in = body.get("expires_in")
        expires_at = (
            self.now() + timedelta(seconds=int(expires_in))
            if isinstance(expires_in, int | float) and expires_in > 0
            else None
        )
        return Token(access_token=access, expires_at=expires_at)

    async def _exchange(
        self, user_token: str, client_id: str, client_secret: str
    ) -> Mapping[str, Any]:
        response = await self.graph.send(
            "POST",
            self.graph.url("/oauth/access_token"),
            "",
            proof=False,
            data={
                "grant_type": "fb_exchange_token",
                "client_id": client_id,
                "client_secret": client_secret,
                "fb_exchange_token": user_token,
            },
        )
        return self.graph.json_of(response, user_token)

    async def granted(self, user_token: str) -> frozenset[str]:
        """The permissions the person granted (`GET /me/permissions`)."""
        body = await self.graph.call("GET", self.graph.url("/me/permissions"), user_token)
        return frozenset(
            str(p.get("permission"))
            for p in body.get("data") or ()
            if isinstance(p, Mapping) and p.get("status") == "granted"
        )

    async def pages(self, user_token: str) -> list[Mapping[str, Any]]:
        """Every Page of `GET /me/accounts`, following the `after` cursor."""
        pages: list[Mapping[str, Any]] = []
        params: dict[str, str] = {"fields": "id,name,access_token,tasks", "limit": "100"}
        for _ in range(50):  # at most 5,000 Pages; a cursor loop can't run forever
            body = await self.graph.call(
                "GET", self.graph.url("/me/accounts"), user_token, params=params
            )
            pages.extend(p for p in body.get("data") or () if isinstance(p, Mapping))
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                break
            params = {**params, "after": str(after)}
        return pages

    async def instagram_of(self, page_id: str, page_token: str) -> Mapping[str, Any] | None:
        """The Instagram professional account linked to the Page, if any."""
        body = await self.graph.call(
            "GET", self.graph.url(f"/{page_id}"), page_token, params={"fields": _IG_FIELDS}
        )
        account = body.get("instagram_business_account")
        return account if isinstance(account, Mapping) and account.get("id") else None

    async def destinations(self, token: Token) -> list[VerifiedAccount]:
        """Every Page the login may post to, and the Instagram account linked to each."""
        user = await self.exchange_long_lived(token.access_token)
        granted = await self.granted(user.access_token)
        missing = [s for s in ("pages_show_list", "pages_manage_posts") if s not in granted]
        if missing:
            raise AuthError(
                "Crier wasn't allowed to " + " and ".join(_WHY[s] for s in missing) + "; "
                "connect again and allow it."
            )
        instagram = {"instagram_basic", "instagram_content_publish"} <= granted
        found: list[VerifiedAccount] = []
        for page in await self.pages(user.access_token):
            page_id, page_token = str(page.get("id") or ""), str(page.get("access_token") or "")
            tasks = page.get("tasks")
            if not page_id or not page_token:
                continue
            if isinstance(tasks, list) and POSTING_TASK not in tasks:
                continue  # the person may not create content on this Page
            credentials = credentials_for(page_token, user, granted)
            name = str(page.get("name") or page_id)
            found.append(
                VerifiedAccount(
                    label=name,
                    external_id=page_id,
                    config={"page_id": page_id, "name": name},
                    credentials=credentials,
                )
            )
            linked = await self.instagram_of(page_id, page_token) if instagram else None
            if linked is not None:
                found.append(_instagram_destination(linked, page_id, name, credentials))
        if not found:
            raise PermanentError(
                "This Facebook login can't post to any Page. Create a Page (or ask for a role "
                "on one that lets you create content), tick it on Meta's consent screen, and "
                "connect again."
            )
        return found

    async def refresh(self, account: AccountRef) -> dict[str, Any]:
        """Exchange the user token again and read the Page token anew with it."""
        user_token = str(account.credentials.get("user_token") or "")
        page_id = str(account.config.get("page_id") or "")
        if not user_token or not page_id:
            raise AuthError("Meta needs you to sign in again to keep this account connected.")
        user = await self.exchange_long_lived(user_token)
        body = await self.graph.call(
            "GET",
            self.graph.url(f"/{page_id}"),
            user.access_token,
            params={"fields": "access_token"},
        )
        page_token = str(body.get("access_token") or "")
        if not page_token:
            raise AuthError(
                "Facebook no longer gives Crier access to the Page; connect it again with an "
                "account that manages it."
            )
        fresh = {
            k: v for k, v in account.credentials.items() if k not in ("expires_at", "user_token")
        }
        fresh.update(credentials_for(page_token, user, None))
        if "scope" in account.credentials:
            fresh["scope"] = account.credentials["scope"]
        return fresh


_WHY = {
    "pages_show_list": "see your Pages (pages_show_list)",
    "pages_manage_posts": "post to your Pages (pages_manage_posts)",
}


def credentials_for(page_token: str, user: Token, granted: frozenset[str] | None) -> dict[str, Any]:
    """What a Page or an Instagram account stores: the Page token it publishes with, the
    long-lived user token and its expiry (for `refresh`), the permissions granted."""
    credentials: dict[str, Any] = {"page_token": page_token, "user_token": user.access_token}
    if user.expires_at is not None:
        credentials["expires_at"] = user.expires_at.astimezone(UTC).isoformat()
    if granted is not None:
        credentials["scope"] = ",".join(sorted(granted))
    return credentials


def _instagram_destination(
    linked: Mapping[str, Any], page_id: str, page_name: str, credentials: Mapping[str, Any]
) -> VerifiedAccount:
    ig_id = str(linked["id"])
    username = str(linked.get("username") or ig_id)
    return VerifiedAccount(
        label=f"@{username}",
        external_id=ig_id,
        config={
            "ig_user_id": ig_id,
            "username": username,
            "page_id": page_id,
            "page_name": page_name,
        },
        credentials=dict(credentials),
        platform="instagram",
    )
