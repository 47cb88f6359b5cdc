"""The Meta login in the fake Graph API (tests/fakes/meta_graph.py), after "Manually Build a
Login Flow", "Long-Lived Access Tokens" and the Pages API's "Getting started".

- `authorize`: the person consents on the login dialog (the permissions asked for, less
  those they decline); a code for the redirect URI, good once.
- `/oauth/access_token` (GET or POST, the app's id and secret): a code for a two-hour user
  token; `grant_type=fb_exchange_token` for a 60-day one (a new one, or with
  `rotate_long_lived` off the same one with the time it has left).
- Every other call: a token in `Authorization: OAuth` or `access_token`, and
  `appsecret_proof` (HMAC-SHA256 of the token with the app secret) when `require_proof`.
- `/me/permissions`, and `/me/accounts` (paged with `after`): the Pages the person has a
  role on, with their tasks and a Page token (no expiry when read with a long-lived token).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.fakes.meta_world import (
    ALL_PERMISSIONS,
    LONG_TTL,
    SHORT_TTL,
    FakeToken,
    FakeUser,
    MetaWorld,
    error,
    permission_error,
)

VERSION = "v27.0"
GRAPH = "graph.facebook.com"
RUPLOAD = "rupload.facebook.com"


class FakeLogin:
    def __init__(
        self, world: MetaWorld, *, require_proof: bool = True, rotate_long_lived: bool = True
    ) -> None:
        self.world = world
        self.require_proof = require_proof
        #: False: exchanging a long-lived token answers the same token with the time it has
        #: left (as Meta may), instead of a new one good for 60 days.
        self.rotate_long_lived = rotate_long_lived
        self._codes: dict[str, tuple[str, str, frozenset[str]]] = {}

    def authorize(self, url: str, user: FakeUser) -> str:
        """`user` consents on the login dialog at `url`: the code for the redirect URI."""
        parts = urlsplit(url)
        assert parts.netloc == "www.facebook.com", url
        assert parts.path == f"/{VERSION}/dialog/oauth", parts.path
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        assert query.get("client_id") == self.world.app_id, query
        assert query.get("response_type") == "code", query
        assert query.get("redirect_uri"), query
        assert query.get("state"), query
        asked = frozenset(filter(None, query.get("scope", "").split(",")))
        granted = asked if user.grants is None else asked & user.grants
        code = "AQ" + secrets.token_urlsafe(32)
        self._codes[code] = (query["redirect_uri"], user.id, granted | {"public_profile"})
        return code

    def token_endpoint(self, params: dict[str, str]) -> httpx.Response:
        world = self.world
        if params.get("client_id") != world.app_id:
            return error(400, 101, "Error validating application. Invalid application ID.")
        if params.get("client_secret") != world.app_secret:
            return error(400, 1, "Error validating client secret.")
        if params.get("grant_type") == "fb_exchange_token":
            old = world.check(params.get("fb_exchange_token", ""))
            if isinstance(old, httpx.Response):
                return old
            left = (old.expires_at or 0) - world.clock()
            if not self.rotate_long_lived and left > SHORT_TTL:
                return token_answer(old.value, int(left))
            fresh = world.issue(old.user_id, old.scopes, LONG_TTL)
            return token_answer(fresh.value, LONG_TTL)
        issued = self._codes.pop(params.get("code", ""), None)
        if issued is None:
            return error(400, 100, "This authorization code has been used.", subcode=36009)
        if issued[0] != params.get("redirect_uri"):
            return error(
                400,
                100,
                "Error validating verification code. Please make sure your redirect_uri is "
                "identical to the one you used in the OAuth dialog request",
                subcode=36008,
            )
        token = world.issue(issued[1], issued[2], SHORT_TTL)
        return token_answer(token.value, SHORT_TTL)

    def token_of(
        self, request: httpx.Request, params: dict[str, str]
    ) -> FakeToken | httpx.Response:
        header = request.headers.get("authorization", "")
        value = header[6:] if header.startswith("OAuth ") else params.get("access_token", "")
        if not value:
            return error(400, 2500, "An active access token must be used to query information.")
        token = self.world.check(value)
        if isinstance(token, httpx.Response):
            return token
        proof = params.get("appsecret_proof")
        if self.require_proof and request.url.host != RUPLOAD:
            expected = hmac.new(
                self.world.app_secret.encode(), value.encode(), hashlib.sha256
            ).hexdigest()
            if proof is None:
                return error(
                    400,
                    100,
                    "API calls from the server require an appsecret_proof argument",
                    type="GraphMethodException",
                )
            if not hmac.compare_digest(proof, expected):
                return error(
                    400,
                    100,
                    "Invalid appsecret_proof provided in the API argument",
                    type="GraphMethodException",
                )
        return token

    def permissions(self, token: FakeToken) -> httpx.Response:
        data = [{"permission": p, "status": "granted"} for p in sorted(token.scopes)]
        data += [
            {"permission": p, "status": "declined"}
            for p in ALL_PERMISSIONS
            if p not in token.scopes
        ]
        return httpx.Response(200, json={"data": data})

    def accounts(self, token: FakeToken, params: dict[str, str]) -> httpx.Response:
        if token.kind != "user":
            return error(400, 100, "(#100) Tried accessing nonexisting field (accounts)")
        if "pages_show_list" not in token.scopes:
            return permission_error("pages_show_list")
        pages = [p for p in self.world.pages.values() if token.user_id in p.roles]
        limit = int(params.get("limit") or 25)
        start = int(params.get("after") or 0)
        chunk = pages[start : start + limit]
        data = []
        for page in chunk:
            left = (token.expires_at or 0) - self.world.clock()
            page_token = self.world.page_token(page, token, expires=left <= SHORT_TTL)
            data.append(
                {
                    "access_token": page_token,
                    "category": "Cafe",
                    "category_list": [{"id": "128673187201735", "name": "Cafe"}],
                    "name": page.name,
                    "id": page.id,
                    "tasks": list(page.roles.get(token.user_id, ())),
                }
            )
        body: dict[str, Any] = {"data": data}
        if chunk:
            following = start + len(chunk)
            body["paging"] = {"cursors": {"before": str(start), "after": str(following)}}
            if following < len(pages):
                body["paging"]["next"] = f"https://{GRAPH}/{VERSION}/me/accounts?after={following}"
        return httpx.Response(200, json=body)


def token_answer(value: str, ttl: int) -> httpx.Response:
    return httpx.Response(
        200, json={"access_token": value, "token_type": "bearer", "expires_in": ttl}
    )


__all__ = ["FakeLogin"]
