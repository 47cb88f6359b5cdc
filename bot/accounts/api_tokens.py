"""Personal tokens for the REST API and the MCP server: created from /api, shown once,
stored only as their sha256, compared in constant time, revoked at once.

A token is `crier_` and 43 URL-safe characters (32 random bytes). The prefix lets secret
scanners and people recognise one; the hash is what the database keeps, so a copy of the
database gives no working token. Nothing here logs a token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import Services
from storage import api as api_store
from storage.models import ApiToken, User, UserStatus

PREFIX = "crier_"
READ = "read"
WRITE = "write"
SCOPES = (READ, WRITE)
#: Live tokens one person may hold.
MAX_TOKENS = 20
MAX_NAME = 64


class TokenError(ValueError):
    """The token can't be made or changed; the message says why, for the user."""


@dataclass(frozen=True, kw_only=True)
class Caller:
    """Who a request's token speaks for."""

    token_id: int
    user_id: int
    scope: str
    #: The owner's timezone (times typed as words are read there) and language.
    timezone: str
    language: str | None
    #: Why the owner may not use the API now (banned, or turned off by an admin), or None.
    refused: str | None = None

    @property
    def can_write(self) -> bool:
        return self.scope == WRITE


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


async def create(services: Services, user_id: int, name: str, scope: str) -> tuple[ApiToken, str]:
    """A new token for the user: its row and the token itself (shown once, never again)."""
    name = " ".join(name.split())[:MAX_NAME]
    if not name:
        raise TokenError("Give the token a name, such as “n8n” or “my script”.")
    if scope not in SCOPES:
        raise TokenError("A token is read-only or read and write.")
    token = new_token()

    async def work(session: AsyncSession) -> ApiToken:
        if await api_store.count_tokens(session, user_id) >= MAX_TOKENS:
            raise TokenError(
                f"You have {MAX_TOKENS} tokens, the most one person can have. Revoke one first."
            )
        return await api_store.add_token(session, user_id, name, scope, digest(token))

    return await services.db.run(work), token


async def list_tokens(services: Services, user_id: int) -> list[ApiToken]:
    return await services.db.run(lambda s: api_store.tokens_of(s, user_id))


async def revoke(services: Services, user_id: int, token_id: int) -> bool:
    """Revoke one of the user's tokens; False if it isn't theirs or is revoked already.
    Every request authenticates against the database, so it takes effect at once."""
    now = services.now()
    return await services.db.run(lambda s: api_store.revoke(s, user_id, token_id, now))


async def authenticate(services: Services, token: str) -> Caller | None:
    """The caller a presented token speaks for, or None (unknown, revoked, malformed). A
    caller whose owner is banned or had API access turned off by an admin has `refused`."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    wanted = digest(token)
    now = services.now()

    async def work(session: AsyncSession) -> tuple[ApiToken, User] | None:
        found = await api_store.by_hash(session, wanted)
        if found is None or not hmac.compare_digest(found[0].token_hash, wanted):
            return None
        await api_store.touch(session, found[0].id, now)
        return found

    found = await services.db.run(work)
    if found is None:
        return None
    row, user = found
    refused = None
    if user.status == UserStatus.BANNED:
        refused = "Your access to Crier is suspended."
    elif not user.api_enabled:
        refused = "An admin turned off API access for your account."
    return Caller(
        refused=refused,
        token_id=row.id,
        user_id=user.id,
        scope=row.scope,
        timezone=user.timezone,
        language=user.language,
    )
