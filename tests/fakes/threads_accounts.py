"""The accounts side of the fake Threads API: the Threads app, its users, the sign-in
(`POST /oauth/access_token` with the app id and secret, a short-lived token and the user id
back), the swap for a long-lived token (`GET /access_token?grant_type=th_exchange_token`,
with the app secret), its renewal (`GET /refresh_access_token?grant_type=th_refresh_token`,
only for a long-lived token at least 24 hours old and not expired; the old token keeps
working until it expires, assumed), every token's scopes and expiry, and `GET /me`."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from tests.fakes.threads_wire import graph_error, invalid_parameter, invalid_token, pick

SCOPES = ("threads_basic", "threads_content_publish", "threads_manage_replies", "threads_delete")
SHORT_LIVED = 3600
LONG_LIVED = 60 * 86400
DAY = 86400.0


@dataclass
class FakeUser:
    id: str
    username: str
    name: str = "Crier Test"


@dataclass
class Grant:
    user_id: str
    scopes: tuple[str, ...]
    long_lived: bool
    issued_at: float
    expires_at: float


class ThreadsAccounts:
    """The app, its users and their tokens."""

    def __init__(
        self,
        *,
        app_id: str = "crier-threads-app",
        app_secret: str = "crier-threads-secret",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app_id, self.app_secret = app_id, app_secret
        self.clock = clock
        self.users: dict[str, FakeUser] = {}
        self._tokens: dict[str, Grant] = {}
        self._codes: dict[str, tuple[str, str, tuple[str, ...]]] = {}
        self._ids = itertools.count(17_841_400_000_000_001)

    def add_user(self, username: str = "crier_test", **kwargs: Any) -> FakeUser:
        user = FakeUser(id=str(next(self._ids)), username=username, **kwargs)
        self.users[user.id] = user
        return user

    def issue_token(
        self,
        user: FakeUser,
        scopes: tuple[str, ...] = SCOPES,
        *,
        token: str | None = None,
        long_lived: bool = True,
        issued_at: float | None = None,
    ) -> str:
        """A token as a finished sign-in would have it (long-lived unless told)."""
        token = token or f"TH{'LL' if long_lived else 'SL'}-{next(self._ids)}"
        issued = self.clock() if issued_at is None else issued_at
        lifetime = LONG_LIVED if long_lived else SHORT_LIVED
        self._tokens[token] = Grant(user.id, scopes, long_lived, issued, issued + lifetime)
        return token

    def consent(self, user: FakeUser, redirect_uri: str, scopes: tuple[str, ...] = SCOPES) -> str:
        """The user approves the app on threads.com; the `code` Threads redirects back with."""
        code = f"code-{next(self._ids)}"
        self._codes[code] = (user.id, redirect_uri, scopes)
        return code

    def grant_of(self, token: str) -> Grant | None:
        return self._tokens.get(token)

    def token_endpoint(self, route: str, given: dict[str, str]) -> httpx.Response | None:
        """The answer of a token endpoint, or None for any other route."""
        if route == "POST /oauth/access_token":
            return self._code_exchange(given)
        if route == "GET /access_token":
            return self._exchange(given)
        if route == "GET /refresh_access_token":
            return self._refresh(given)
        return None

    def grant(self, token: str) -> Grant | httpx.Response:
        grant = self._tokens.get(token)
        if grant is None:
            return invalid_token()
        if grant.expires_at <= self.clock():
            return invalid_token(expired=True)
        return grant

    def _code_exchange(self, given: dict[str, str]) -> httpx.Response:
        if given.get("client_id") != self.app_id or given.get("client_secret") != self.app_secret:
            return graph_error(400, "Error validating client secret.", 1)
        if given.get("grant_type") != "authorization_code":
            return graph_error(400, "Unsupported grant_type", 100)
        found = self._codes.pop(given.get("code", ""), None)
        if found is None:
            return graph_error(
                400, "This authorization code has been used.", 100, subcode=36009
            )  # assumed: Graph's answer for a used or unknown code
        user_id, redirect_uri, scopes = found
        if given.get("redirect_uri") != redirect_uri:
            return graph_error(
                400,
                "Error validating verification code. Please make sure your redirect_uri is "
                "identical to the one you used in the OAuth dialog request",
                100,
                subcode=36008,
            )
        token = self.issue_token(self.users[user_id], scopes, long_lived=False)
        return httpx.Response(200, json={"access_token": token, "user_id": int(user_id)})

    def _exchange(self, given: dict[str, str]) -> httpx.Response:
        if given.get("grant_type") != "th_exchange_token":
            return graph_error(400, "Unsupported grant_type", 100)
        if given.get("client_secret") != self.app_secret:
            return graph_error(400, "Error validating client secret.", 1)
        grant = self.grant(given.get("access_token", ""))
        if isinstance(grant, httpx.Response):
            return grant
        token = self.issue_token(self.users[grant.user_id], grant.scopes)
        return self._token_answer(token)

    def _refresh(self, given: dict[str, str]) -> httpx.Response:
        if given.get("grant_type") != "th_refresh_token":
            return graph_error(400, "Unsupported grant_type", 100)
        grant = self.grant(given.get("access_token", ""))
        if isinstance(grant, httpx.Response):
            return grant
        if not grant.long_lived or self.clock() - grant.issued_at < DAY:
            return invalid_parameter(  # assumed: Threads documents the rule, not the answer
                "Only a long-lived token that is at least 24 hours old can be refreshed."
            )
        token = self.issue_token(self.users[grant.user_id], grant.scopes)
        return self._token_answer(token)

    def _token_answer(self, token: str) -> httpx.Response:
        expires_in = int(self._tokens[token].expires_at - self.clock())
        body = {"access_token": token, "token_type": "bearer", "expires_in": expires_in}
        return httpx.Response(200, json=body)

    def profile(self, given: dict[str, str], user: FakeUser, *_: Any) -> httpx.Response:
        """`GET /me`."""
        values = {
            "id": user.id,
            "username": user.username,
            "name": user.name,
            "threads_profile_picture_url": f"https://scontent.cdninstagram.com/{user.id}.jpg",
        }
        return httpx.Response(200, json=pick(values, given.get("fields") or "id"))
