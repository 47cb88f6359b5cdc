"""Connected accounts. Every read is scoped to the owning user."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Account, AccountStatus, Target, TargetStatus


async def list_for(session: AsyncSession, user_id: int) -> list[Account]:
    result = await session.scalars(
        select(Account)
        .where(Account.user_id == user_id, Account.status != AccountStatus.DISABLED)
        .order_by(Account.id)
    )
    return list(result)


async def get(session: AsyncSession, user_id: int, account_id: int) -> Account | None:
    return await session.scalar(
        select(Account).where(Account.id == account_id, Account.user_id == user_id)
    )


async def get_many(session: AsyncSession, user_id: int, ids: list[int]) -> list[Account]:
    if not ids:
        return []
    result = await session.scalars(
        select(Account).where(Account.user_id == user_id, Account.id.in_(ids)).order_by(Account.id)
    )
    return list(result)


async def find_external(
    session: AsyncSession, user_id: int, platform: str, external_id: str
) -> Account | None:
    return await session.scalar(
        select(Account).where(
            Account.user_id == user_id,
            Account.platform == platform,
            Account.external_id == external_id,
        )
    )


async def count_for(session: AsyncSession, user_id: int, platform: str) -> int:
    return (
        await session.scalar(
            select(func.count()).where(Account.user_id == user_id, Account.platform == platform)
        )
        or 0
    )


async def add(
    session: AsyncSession,
    *,
    user_id: int,
    platform: str,
    label: str,
    external_id: str | None = None,
    config: dict[str, Any] | None = None,
    credentials: str | None = None,
) -> Account:
    account = Account(
        user_id=user_id,
        platform=platform,
        label=label,
        external_id=external_id,
        config=config or {},
        credentials=credentials,
        status=AccountStatus.ACTIVE,
    )
    session.add(account)
    await session.flush()
    return account


async def set_status(
    session: AsyncSession,
    user_id: int,
    account_id: int,
    status: AccountStatus,
    reason: str | None = None,
    *,
    only_from: AccountStatus | None = None,
) -> bool:
    """Change the account's status; with `only_from`, only if it currently has that status."""
    query = update(Account).where(Account.id == account_id, Account.user_id == user_id)
    if only_from is not None:
        query = query.where(Account.status == only_from)
    result = await session.execute(query.values(status=status, status_reason=reason))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def disconnect(session: AsyncSession, user_id: int, account_id: int) -> int | None:
    """Disable the account and cancel its pending targets; returns how many were cancelled."""
    account = await get(session, user_id, account_id)
    if account is None:
        return None
    account.status = AccountStatus.DISABLED
    account.credentials = None
    result = await session.execute(
        update(Target)
        .where(Target.account_id == account_id, Target.status == TargetStatus.QUEUED)
        .values(status=TargetStatus.CANCELLED, last_error="account disconnected")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def queued_target_ids(session: AsyncSession, user_id: int, account_id: int) -> list[int]:
    """The user's queued targets on the account (what a disconnect would cancel)."""
    return list(
        await session.scalars(
            select(Target.id)
            .where(
                Target.user_id == user_id,
                Target.account_id == account_id,
                Target.status == TargetStatus.QUEUED,
            )
            .order_by(Target.id)
        )
    )


async def any_credentials(session: AsyncSession) -> str | None:
    """One stored credentials token, to check the encryption key at start-up."""
    return await session.scalar(
        select(Account.credentials).where(Account.credentials.is_not(None)).limit(1)
    )


async def update_credentials(
    session: AsyncSession, user_id: int, account_id: int, sealed: str
) -> None:
    """Store refreshed (already encrypted) credentials."""
    await session.execute(
        update(Account)
        .where(Account.id == account_id, Account.user_id == user_id)
        .values(credentials=sealed)
    )


async def expiring(session: AsyncSession, before: datetime, limit: int = 100) -> list[Account]:
    """Active signed-in accounts whose token runs out before `before`, soonest first (the
    refresh job's work; not a read on any user's behalf)."""
    result = await session.scalars(
        select(Account)
        .where(
            Account.status == AccountStatus.ACTIVE,
            Account.token_expires_at.is_not(None),
            Account.token_expires_at < before,
        )
        .order_by(Account.token_expires_at)
        .limit(limit)
    )
    return list(result)


async def claim_refresh(
    session: AsyncSession, account_id: int, seen: datetime, until: datetime
) -> bool:
    """Take the account's refresh for this process: its expiry moves to `until` only if it
    is still what this process saw, so two processes never refresh (and, with rotating
    refresh tokens, invalidate) the same token at once. A process that dies leaves the
    account to be refreshed again after `until`."""
    result = await session.execute(
        update(Account)
        .where(Account.id == account_id, Account.token_expires_at == seen)
        .values(token_expires_at=until)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def store_token(
    session: AsyncSession, account_id: int, credentials: str, expires_at: datetime | None
) -> None:
    await session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(credentials=credentials, token_expires_at=expires_at)
    )
