"""The people who use Crier: registering a user on first contact (with the Dry run account
every flow works with), their status when they block or unblock the bot, and their timezone.

Roles, bans and the allow-list are admin/access.py's.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import Services
from storage import accounts, users
from storage.models import User, UserStatus


async def ensure_user(
    services: Services,
    *,
    user_id: int,
    chat_id: int,
    first_name: str,
    username: str | None,
    language: str | None,
) -> tuple[User, bool]:
    """Register the user on first contact, with a dry-run account so every flow works."""
    settings = services.settings

    async def work(session: AsyncSession) -> tuple[User, bool]:
        user, created = await users.upsert(
            session,
            user_id=user_id,
            chat_id=chat_id,
            first_name=first_name,
            username=username,
            language=language,
            default_timezone=settings.default_timezone,
            admin=user_id in settings.admin_ids,
        )
        if created:
            await accounts.add(session, user_id=user_id, platform="dryrun", label="Dry run")
        return user, created

    return await services.db.run(work)


async def get_user(services: Services, user_id: int) -> User | None:
    return await services.db.run(lambda s: users.get(s, user_id))


async def set_user_status(services: Services, user_id: int, status: UserStatus) -> None:
    """Blocked or active again; a ban is only lifted by an admin."""

    async def work(session: AsyncSession) -> None:
        user = await users.get(session, user_id)
        if user is not None and user.status != UserStatus.BANNED:
            user.status = status

    await services.db.run(work)


async def set_timezone(services: Services, user_id: int, tz: str) -> None:
    await services.db.run(lambda s: users.set_timezone(s, user_id, tz))


#: The Undo windows /settings offers after "Post now", in seconds (0: off).
UNDO_CHOICES = (0, 10, 30, 60)


async def set_undo_seconds(services: Services, user_id: int, seconds: int) -> None:
    if seconds not in UNDO_CHOICES:
        raise ValueError(f"not an Undo window: {seconds}")
    await services.db.run(lambda s: users.set_undo_seconds(s, user_id, seconds))
