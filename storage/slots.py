"""Queue slots: the weekly posting times of each account ("Add to queue" fills the next
free one). Every read and write is scoped to the owning user."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Account, Slot, Target, TargetStatus

#: A target in one of these sits in its slot: the slot is taken.
TAKING_STATUSES = (TargetStatus.QUEUED, TargetStatus.PUBLISHING, TargetStatus.PUBLISHED)


async def list_for(
    session: AsyncSession, user_id: int, account_ids: Sequence[int] | None = None
) -> list[Slot]:
    """The user's slots (of these accounts only, when given), by account, day and time."""
    query = select(Slot).where(Slot.user_id == user_id)
    if account_ids is not None:
        query = query.where(Slot.account_id.in_(list(account_ids)))
    result = await session.scalars(query.order_by(Slot.account_id, Slot.weekday, Slot.minute))
    return list(result)


async def count(session: AsyncSession, user_id: int, account_id: int) -> int:
    return (
        await session.scalar(
            select(func.count()).where(Slot.user_id == user_id, Slot.account_id == account_id)
        )
        or 0
    )


async def add(
    session: AsyncSession, user_id: int, account_id: int, times: Iterable[tuple[int, int]]
) -> int | None:
    """Add (weekday, minute) slots to one of the user's accounts, skipping those it already
    has; returns how many are new, or None when the account is not the user's."""
    owned = await session.scalar(
        select(Account.id).where(Account.id == account_id, Account.user_id == user_id)
    )
    if owned is None:
        return None
    existing = {(slot.weekday, slot.minute) for slot in await list_for(session, user_id, [owned])}
    new = sorted(set(times) - existing)
    session.add_all(
        Slot(user_id=user_id, account_id=owned, weekday=weekday, minute=minute)
        for weekday, minute in new
    )
    await session.flush()
    return len(new)


async def remove(session: AsyncSession, user_id: int, slot_id: int) -> int | None:
    """Delete one of the user's slots; returns its account id, or None if there is none."""
    slot = await session.scalar(select(Slot).where(Slot.id == slot_id, Slot.user_id == user_id))
    if slot is None:
        return None
    await session.delete(slot)
    await session.flush()
    return slot.account_id


async def clear(session: AsyncSession, user_id: int, account_id: int) -> int:
    """Delete every slot of one of the user's accounts; returns how many went."""
    result = await session.execute(
        delete(Slot).where(Slot.user_id == user_id, Slot.account_id == account_id)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def taken(
    session: AsyncSession, user_id: int, account_id: int, since: datetime
) -> set[datetime]:
    """The instants from `since` on where a queued or published post of the account sits."""
    result = await session.scalars(
        select(Target.publish_at).where(
            Target.user_id == user_id,
            Target.account_id == account_id,
            Target.status.in_(TAKING_STATUSES),
            Target.publish_at >= since,
        )
    )
    return set(result)
