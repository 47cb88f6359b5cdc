"""TikTok's Login Kit for Web, in memory: the consent page
(`https://www.tiktok.com/v2/auth/authorize/`), the token endpoint
(`POST https://open.tiktokapis.com/v2/oauth/token/`) and the bearer tokens the API checks.

It follows "Get a User Access Token" and "Refresh a User Access Token" (API v2):

- the consent page takes `client_key` (not client_id), comma-separated `scope`,
  `response_type=code`, `redirect_uri`, `state`, and a PKCE `code_challenge` with
  `code_challenge_method=S256`, the challenge being the SHA-256 of the verifier in hex
  (TikTok's Login Kit, not RFC 7636's base64url); the user may untick scopes;
- the token endpoint takes a form (`client_key`, `client_secret`, `grant_type`, and `code`,
  `redirect_uri`, `code_verifier`, or `refresh_token`); a code works once;
- its answer: `access_token`, `expires_in` (2 hours), `open_id`, `refresh_token`,
  `refresh_expires_in` (180 days), `scope` (comma-separated), `token_type` "Bearer";
- refresh tokens are rotated: a refresh answers a new one and the one sent stops working;
- a refusal is `{"error": "invalid_grant" | "invalid_client" | "invalid_request",
  "error_description": ..., "log_id": ...}`, with HTTP 400 (`error_status` makes it 200, as
  TikTok has been seen to answer).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

SCOPES = ("user.info.basic", "user.info.profile", "video.publish", "video.upload")
ACCESS_TTL = 2 * 3600
REFRESH_TTL = 180 * 24 * 3600


@dataclass
class Grant:
    """What a TikTok user allowed the app."""

    open_id: str
    scopes: frozenset[str]


@dataclass
class _Code:
    grant: Grant
    redirect_uri: str
    challenge: str | None


@dataclass
class _Token:
    grant: Grant
    expires_at: float


class FakeTikTokOAuth:
    def __init__(
        self,
        *,
        clock: Callable[[], float],
        client_key: str = "crier-client-key",
        client_secret: str = "crier-client-secret",
        error_status: int = 400,
    ) -> None:
        self.client_key = client_key
        self.client_secret = client_secret
        self.error_status = error_status
        self._clock = clock
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, _Token] = {}
        self._refresh: dict[str, _Token] = {}
        self.requests: list[dict[str, str]] = []

    # -- knobs ------------------------------------------------------------------------------

    def issue(
        self, open_id: str, scopes: Iterable[str] = ("user.info.basic", "video.publish")
    ) -> str:
        """An access token, as if `open_id` had signed in."""
        token = "act." + secrets.token_urlsafe(24)
        self._access[token] = _Token(Grant(open_id, frozenset(scopes)), self._clock() + ACCESS_TTL)
        return token

    def authorize(self, url: str, open_id: str, *, untick: Iterable[str] = ()) -> str:
        """`open_id` consents on the page `url`: the code TikTok sends to the redirect URI."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        assert query.get("client_key") == self.client_key, query
        assert "client_id" not in query, query
        assert query.get("response_type") == "code", query
        assert query.get("redirect_uri", "").startswith("https://"), query
        assert query.get("state"), query
        scopes = set(query.get("scope", "").split(","))
        assert scopes <= set(SCOPES), scopes
        challenge = query.get("code_challenge")
        if challenge is not None:
            assert query.get("code_challenge_method") == "S256", query
            assert len(challenge) == 64
            assert all(c in "0123456789abcdef" for c in challenge)
        code = secrets.token_urlsafe(16)
        grant = Grant(open_id, frozenset(scopes - set(untick)))
        self._codes[code] = _Code(grant, query["redirect_uri"], challenge)
        return code

    def expire_access_tokens(self) -> None:
        for token in self._access.values():
            token.expires_at = 0.0

    def revoke(self, open_id: str) -> None:
        """The user removes the app in TikTok: every token of theirs stops working."""
        for tokens in (self._access, self._refresh):
            for key in [k for k, t in tokens.items() if t.grant.open_id == open_id]:
                del tokens[key]

    # -- what the API checks ----------------------------------------------------------------

    def grant_of(self, request: httpx.Request) -> Grant | None:
        header = request.headers.get("authorization", "")
        token = self._access.get(header[7:]) if header.startswith("Bearer ") else None
        if token is None or token.expires_at <= self._clock():
            return None
        return token.grant

    # -- the token endpoint -----------------------------------------------------------------

    def token_endpoint(self, request: httpx.Request) -> httpx.Response:
        if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            return self._error("invalid_request", "Content-Type must be form-urlencoded.")
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.requests.append(form)
        if "client_id" in form:
            return self._error("invalid_request", "Unknown parameter client_id.")
        if form.get("client_key") != self.client_key:
            return self._error("invalid_client", "Client key or secret is incorrect.")
        if form.get("client_secret") != self.client_secret:
            return self._error("invalid_client", "Client key or secret is incorrect.")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange(form)
        if grant_type == "refresh_token":
            token = self._refresh.pop(form.get("refresh_token", ""), None)
            if token is None or token.expires_at <= self._clock():
                return self._error("invalid_grant", "Refresh token is invalid or expired.")
            return self._tokens(token.grant)
        return self._error("invalid_request", f"Unsupported grant_type {grant_type!r}.")

    def _exchange(self, form: dict[str, str]) -> httpx.Response:
        code = self._codes.pop(form.get("code", ""), None)
        if code is None:
            return self._error("invalid_grant", "Authorization code is expired.")
        if form.get("redirect_uri") != code.redirect_uri:
            return self._error("invalid_grant", "Redirect URI mismatch.")
        if code.challenge is not None:
            verifier = form.get("code_verifier", "")
            if hashlib.sha256(verifier.encode()).hexdigest() != code.challenge:
                return self._error("invalid_request", "Code verifier or code challenge is invalid.")
        return self._tokens(code.grant)

    def _tokens(self, grant: Grant) -> httpx.Response:
        access = self.issue(grant.open_id, grant.scopes)
        refresh = "rft." + secrets.token_urlsafe(24)
        self._refresh[refresh] = _Token(grant, self._clock() + REFRESH_TTL)
        body: dict[str, Any] = {
            "access_token": access,
            "expires_in": ACCESS_TTL,
            "open_id": grant.open_id,
            "refresh_expires_in": REFRESH_TTL,
            "refresh_token": refresh,
            "scope": ",".join(sorted(grant.scopes)),
            "token_type": "Bearer",
        }
        return httpx.Response(200, json=body)

    def _error(self, error: str, description: str) -> httpx.Response:
        body = {"error": error, "error_description": description, "log_id": _log_id()}
        return httpx.Response(self.error_status, json=body)


def _log_id() -> str:
    return "20261207120000" + secrets.token_hex(8).upper()


__all__ = ["ACCESS_TTL", "REFRESH_TTL", "SCOPES", "FakeTikTokOAuth", "Grant"]
