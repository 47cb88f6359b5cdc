"""Pinterest's OAuth, in memory: the consent page (`www.pinterest.com/oauth/`), the token
endpoint (`POST /v5/oauth/token`) and the bearer tokens the API checks.

Per the reference (5.23.0, `oauth/token`): the app authenticates with HTTP Basic; an
authorization code is exchanged once, for its redirect URI; access tokens last 30 days;
refresh tokens are continuous (60 days, each refresh answers a new one and retires the old)
unless `continuous_refresh` is off (a legacy token: refreshes answer no new one). Scopes come
and go comma-separated. A refused grant is 401 `{"code": 283, "message": "The authorization
grant is invalid"}`, a refused app or token 401 `{"code": 2, "message": "Authentication
failed."}`.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

ALL_SCOPES = ("boards:read", "boards:write", "pins:read", "pins:write", "user_accounts:read")
#: Scopes a consent page offers beyond those Crier asks for.
OTHER_SCOPES = ("boards:read_secret", "boards:write_secret", "pins:read_secret")
ACCESS_TTL = 30 * 24 * 3600
REFRESH_TTL = 60 * 24 * 3600


@dataclass
class _Access:
    scopes: tuple[str, ...]
    expires_at: float


class FakePinterestOAuth:
    def __init__(
        self,
        *,
        client_id: str = "app-id",
        client_secret: str = "app-secret",
        continuous_refresh: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.continuous_refresh = continuous_refresh
        self.clock = clock
        self._access: dict[str, _Access] = {}
        self._refresh: dict[str, tuple[str, ...]] = {}
        self._codes: dict[str, tuple[str, tuple[str, ...]]] = {}

    def issue_token(self, scopes: Iterable[str] = ALL_SCOPES, token: str | None = None) -> str:
        """An access token for the user, as if they had signed in (`token`: this one)."""
        token = token or "pina_" + secrets.token_urlsafe(32)
        self._access[token] = _Access(tuple(scopes), self.clock() + ACCESS_TTL)
        return token

    def authorize(self, url: str) -> str:
        """The user consents on the page `url` (the OAuth authorize URL): the code Pinterest
        sends back to the redirect URI."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        assert query.get("client_id") == self.client_id, query
        assert query.get("response_type") == "code", query
        assert query.get("redirect_uri"), query
        assert query.get("state"), query
        scopes = tuple(query.get("scope", "").split(","))
        assert set(scopes) <= {*ALL_SCOPES, *OTHER_SCOPES}, scopes
        code = secrets.token_urlsafe(16)
        self._codes[code] = (query["redirect_uri"], scopes)
        return code

    def expire_access_tokens(self) -> None:
        for access in self._access.values():
            access.expires_at = 0.0

    def scopes_of(self, request: httpx.Request) -> tuple[str, ...] | None:
        """The scopes of the request's bearer token; None when it is unknown or expired."""
        header = request.headers.get("authorization", "")
        access = self._access.get(header[7:]) if header.lower().startswith("bearer ") else None
        if access is None or access.expires_at <= self.clock():
            return None
        return access.scopes

    def token_endpoint(self, request: httpx.Request) -> httpx.Response:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return error(401, 2, "Authentication failed.")
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        grant = form.get("grant_type")
        if grant == "authorization_code":
            issued = self._codes.pop(form.get("code", ""), None)
            if issued is None or issued[0] != form.get("redirect_uri"):
                return error(401, 283, "The authorization grant is invalid")
            return self._tokens(issued[1], "authorization_code", with_refresh=True)
        if grant == "refresh_token":
            scopes = self._refresh.get(form.get("refresh_token", ""))
            if scopes is None:
                return error(401, 283, "The authorization grant is invalid")
            if self.continuous_refresh:
                del self._refresh[form["refresh_token"]]
            return self._tokens(scopes, "refresh_token", with_refresh=self.continuous_refresh)
        return error(400, 1, f"Invalid request: grant_type {grant!r} is not supported")

    def _tokens(self, scopes: tuple[str, ...], kind: str, *, with_refresh: bool) -> httpx.Response:
        body: dict[str, Any] = {
            "access_token": self.issue_token(scopes),
            "token_type": "bearer",
            "expires_in": ACCESS_TTL,
            "scope": ",".join(scopes),
            "response_type": kind,
        }
        if with_refresh:
            refresh = "pinr_" + secrets.token_urlsafe(32)
            self._refresh[refresh] = scopes
            body["refresh_token"] = refresh
            body["refresh_token_expires_in"] = REFRESH_TTL
            body["refresh_token_expires_at"] = int(self.clock()) + REFRESH_TTL
        return httpx.Response(200, json=body)


def error(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    """Pinterest's error shape."""
    return httpx.Response(status, json={"code": code, "message": message}, headers=headers)


__all__ = ["ACCESS_TTL", "ALL_SCOPES", "REFRESH_TTL", "FakePinterestOAuth", "error"]
