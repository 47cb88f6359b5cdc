"""Sign-ins in progress (`oauth_logins`). A state is found by its hash, taken once, and
only by the platform it was made for; every read by id is scoped to the user."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OAuthLogin


class Refusal(enum.StrEnum):
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


async def create(
    session: AsyncSession,
    *,
    state_hash: str,
    user_id: int,
    platform: str,
    verifier: str | None,
    now: datetime,
    ttl: timedelta,
) -> OAuthLogin:
    login = OAuthLogin(
        state_hash=state_hash,
        user_id=user_id,
        platform=platform,
        verifier=verifier,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(login)
    await session.flush()
    return login


async def take(
    session: AsyncSession, state_hash: str, platform: str, now: datetime
) -> OAuthLogin | Refusal:
    """The pending sign-in with this state, marked used (whatever happens next, a state
    works once); or why there is none."""
    login = await session.scalar(
        select(OAuthLogin)
        .where(OAuthLogin.state_hash == state_hash, OAuthLogin.platform == platform)
        .with_for_update()
    )
    if login is None:
        return Refusal.UNKNOWN
    if login.status != "pending":
        return Refusal.USED
    login.status = "used"
    if login.expires_at <= now:
        return Refusal.EXPIRED
    return login


async def keep_choices(
    session: AsyncSession, login_id: int, token: str, choices: list[dict[str, Any]]
) -> None:
    login = await session.get(OAuthLogin, login_id)
    if login is not None:
        login.token = token
        login.choices = choices


async def get(session: AsyncSession, user_id: int, login_id: int) -> OAuthLogin | None:
    return await session.scalar(
        select(OAuthLogin).where(OAuthLogin.id == login_id, OAuthLogin.user_id == user_id)
    )


async def purge(session: AsyncSession, before: datetime) -> int:
    """Forget sign-ins that expired before `before` (their tokens with them)."""
    result = await session.execute(delete(OAuthLogin).where(OAuthLogin.expires_at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
