"""Users: registration, timezone, role and status."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Role, User, UserStatus, utcnow


async def get(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def upsert(
    session: AsyncSession,
    *,
    user_id: int,
    chat_id: int,
    first_name: str,
    username: str | None,
    language: str | None,
    default_timezone: str,
    admin: bool,
) -> tuple[User, bool]:
    """Register or refresh a user; returns (user, created)."""
    user = await session.get(User, user_id, with_for_update=True)
    created = user is None
    if user is None:
        user = User(id=user_id, chat_id=chat_id, timezone=default_timezone)
        session.add(user)
    user.chat_id = chat_id
    user.first_name = first_name[:128]
    user.username = username
    user.language = language
    user.last_seen_at = utcnow()
    if admin:
        user.role = Role.ADMIN
    if user.status == UserStatus.BLOCKED:
        # They wrote to us, so they unblocked the bot.
        user.status = UserStatus.ACTIVE
    await session.flush()
    return user, created


async def set_timezone(session: AsyncSession, user_id: int, timezone: str) -> None:
    await session.execute(
        update(User).where(User.id == user_id).values(timezone=timezone, timezone_set=True)
    )


async def set_status(session: AsyncSession, user_id: int, status: UserStatus) -> None:
    await session.execute(update(User).where(User.id == user_id).values(status=status))


async def active_since(session: AsyncSession, since: datetime) -> list[User]:
    result = await session.scalars(
        select(User).where(User.status == UserStatus.ACTIVE, User.last_seen_at >= since)
    )
    return list(result)


async def set_undo_seconds(session: AsyncSession, user_id: int, seconds: int) -> None:
    await session.execute(update(User).where(User.id == user_id).values(undo_seconds=seconds))
