"""A stateful fake of Google's OAuth 2.0 token endpoint (https://oauth2.googleapis.com/token)
and of the access tokens it hands out, for the fakes of Google APIs (tests/fakes/youtube.py).

It follows Google's "Using OAuth 2.0 for Web Server Applications": the app authenticates
with client_secret_post; an authorization code is used once and checked against its PKCE
challenge (S256) and redirect URI; the answer carries `access_token`, `expires_in` (3599),
`scope`, `token_type` and, for a code, a `refresh_token`; a refresh answers without a new
refresh token (Google keeps the one it gave); a revoked or unknown refresh token is
`400 {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}`.
Access tokens expire on the fake's clock (`advance`).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import httpx

ACCESS_TTL = 3599


@dataclass
class Grant:
    """What a user allowed the app: scopes, for one Google user (whose channels they are)."""

    user: str
    scopes: frozenset[str]
    code_challenge: str | None = None
    redirect_uri: str | None = None


@dataclass
class Access:
    grant: Grant
    expires_at: float


class FakeGoogleOAuth:
    def __init__(
        self,
        *,
        client_id: str = "crier-test.apps.googleusercontent.com",
        client_secret: str = "fake-google-client-secret",
        now: Callable[[], float] = time.time,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self._now = now
        self.codes: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, Grant] = {}
        self.access_tokens: dict[str, Access] = {}
        self.requests: list[dict[str, str]] = []
        self._serial = itertools.count(1)

    # -- knobs ------------------------------------------------------------------------------

    def authorize(
        self,
        scopes: Iterable[str],
        *,
        user: str = "user",
        code_challenge: str | None = None,
        redirect_uri: str | None = None,
    ) -> str:
        """What Google's consent screen does: an authorization code for these scopes."""
        code = f"4/0Ad-fake-code-{next(self._serial)}"
        self.codes[code] = Grant(
            user=user,
            scopes=frozenset(scopes),
            code_challenge=code_challenge,
            redirect_uri=redirect_uri,
        )
        return code

    def issue(self, scopes: Iterable[str], *, user: str = "user", token: str | None = None) -> str:
        """An access token without a sign-in (tests that start connected)."""
        token = token or f"ya29.fake-access-{next(self._serial)}"
        grant = Grant(user=user, scopes=frozenset(scopes))
        self.access_tokens[token] = Access(grant=grant, expires_at=self._now() + ACCESS_TTL)
        return token

    def revoke(self, token: str) -> None:
        """The user removed the app's access (myaccount.google.com → Security)."""
        self.access_tokens.pop(token, None)
        self.refresh_tokens.pop(token, None)

    def grant_of(self, authorization: str | None) -> Grant | None:
        """The grant behind `Authorization: Bearer …`, if the token is valid now."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        access = self.access_tokens.get(authorization[7:].strip())
        if access is None or access.expires_at <= self._now():
            return None
        return access.grant

    # -- the token endpoint -----------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        """POST /token."""
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.requests.append(form)
        if request.method != "POST":
            return _error(405, "invalid_request", "Method not allowed.")
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return _error(401, "invalid_client", "The OAuth client was not found.")
        grant_type = form.get("grant_type", "")
        if grant_type == "authorization_code":
            return self._code(form)
        if grant_type == "refresh_token":
            return self._refresh(form)
        return _error(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")

    def _code(self, form: dict[str, str]) -> httpx.Response:
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None:
            return _error(400, "invalid_grant", "Malformed auth code.")
        if grant.redirect_uri and form.get("redirect_uri") != grant.redirect_uri:
            return _error(400, "redirect_uri_mismatch", "Bad Request")
        if grant.code_challenge and _s256(form.get("code_verifier", "")) != grant.code_challenge:
            return _error(400, "invalid_grant", "Invalid code verifier.")
        refresh = f"1//fake-refresh-{next(self._serial)}"
        self.refresh_tokens[refresh] = grant
        return httpx.Response(200, json={**self._access(grant), "refresh_token": refresh})

    def _refresh(self, form: dict[str, str]) -> httpx.Response:
        grant = self.refresh_tokens.get(form.get("refresh_token", ""))
        if grant is None:
            return _error(400, "invalid_grant", "Token has been expired or revoked.")
        return httpx.Response(200, json=self._access(grant))

    def _access(self, grant: Grant) -> dict[str, Any]:
        token = f"ya29.fake-access-{next(self._serial)}"
        self.access_tokens[token] = Access(grant=grant, expires_at=self._now() + ACCESS_TTL)
        return {
            "access_token": token,
            "expires_in": ACCESS_TTL,
            "scope": " ".join(sorted(grant.scopes)),
            "token_type": "Bearer",
        }


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _error(status: int, error: str, description: str) -> httpx.Response:
    return httpx.Response(status, json={"error": error, "error_description": description})
