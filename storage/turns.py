"""Turns of front-ends at one user's updates: several front-ends on one database handle a
user's updates one at a time, as one process does (bot/handlers/persistence.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FrontTurn


async def take(
    session: AsyncSession, *, user_id: int, owner: str, now: datetime, hold: timedelta
) -> bool:
    """Take the user's turn for `owner` until `now + hold`; False while another has it."""
    taken = await session.execute(
        update(FrontTurn)
        .where(
            FrontTurn.user_id == user_id,
            or_(FrontTurn.owner.is_(None), FrontTurn.owner == owner, FrontTurn.until < now),
        )
        .values(owner=owner, until=now + hold)
    )
    if taken.rowcount:  # type: ignore[attr-defined]
        return True
    if await session.scalar(select(FrontTurn.user_id).where(FrontTurn.user_id == user_id)):
        return False
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    added = await session.execute(
        insert(FrontTurn)
        .values(user_id=user_id, owner=owner, until=now + hold)
        .on_conflict_do_nothing(index_elements=[FrontTurn.user_id])
    )
    return bool(added.rowcount)  # type: ignore[attr-defined]


async def give_back(session: AsyncSession, *, user_id: int, owner: str) -> None:
    await session.execute(
        update(FrontTurn)
        .where(FrontTurn.user_id == user_id, FrontTurn.owner == owner)
        .values(owner=None, until=None)
    )
