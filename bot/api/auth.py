"""Who is calling: the bearer token (bot/accounts/api_tokens.py checks it against the
database on every request, so a revoked token is refused at once), its scope, and the
per-token rate limit (a token bucket: `api_rate_per_minute`, bursts of `api_burst`)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bot.accounts.api_tokens import Caller, authenticate
from bot.api.problems import ApiProblem
from bot.services import Services

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="PersonalToken",
    description="A personal token made with /api in the chat: `Authorization: Bearer crier_…`",
)
#: Buckets kept at most (one per token that called lately); the oldest go first.
MAX_BUCKETS = 10_000


@dataclass
class Buckets:
    """One token bucket per token id."""

    per_minute: float
    burst: int
    _levels: dict[int, tuple[float, float]] = field(default_factory=dict)

    def take(self, token_id: int, now: float | None = None) -> float:
        """Take one request; 0 if allowed, else the seconds until one is."""
        now = time.monotonic() if now is None else now
        rate = self.per_minute / 60.0
        level, since = self._levels.get(token_id, (float(self.burst), now))
        level = min(float(self.burst), level + (now - since) * rate)
        if level >= 1.0:
            self._levels[token_id] = (level - 1.0, now)
            if len(self._levels) > MAX_BUCKETS:
                self._levels.pop(next(iter(self._levels)))
            return 0.0
        self._levels[token_id] = (level, now)
        return (1.0 - level) / rate if rate > 0 else 60.0


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """The token's owner; 401 without a valid token, 403 when their API access is off,
    429 past the token's rate."""
    challenge = {"WWW-Authenticate": 'Bearer realm="crier"'}
    if credentials is None:
        raise ApiProblem(
            401,
            "Unauthorized",
            "Send a personal token as `Authorization: Bearer crier_…` (make one with /api in "
            "the chat).",
            kind="unauthorized",
            headers=challenge,
        )
    found = await authenticate(services_of(request), credentials.credentials)
    if found is None:
        raise ApiProblem(
            401,
            "Unauthorized",
            "That token is unknown or was revoked.",
            kind="unauthorized",
            headers=challenge,
        )
    if found.refused:
        raise ApiProblem(403, "Forbidden", found.refused, kind="api-access-off")
    buckets: Buckets = request.app.state.buckets
    wait = buckets.take(found.token_id)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise ApiProblem(
            429,
            "Too many requests",
            f"This token made too many requests; try again in {seconds} s.",
            kind="rate-limited",
            headers={"Retry-After": str(seconds)},
        )
    return found


async def writer(who: Annotated[Caller, Depends(caller)]) -> Caller:
    """A caller whose token may change things."""
    if not who.can_write:
        raise ApiProblem(
            403,
            "Forbidden",
            "This token is read-only. Make a read and write token with /api in the chat.",
            kind="read-only-token",
        )
    return who


#: What routes take: any valid token, or one that may write.
Reader = Annotated[Caller, Depends(caller)]
Writer = Annotated[Caller, Depends(writer)]
