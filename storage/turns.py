"""Turns among several processes on one database: front-ends take one user's updates one at
a time, as one process does (bot/handlers/persistence.py); one process at a time plays a
named role, such as sending the broadcasts (`Lease`, bot/admin/ownership.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FrontTurn, Lease


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
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
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


async def take_lease(
    session: AsyncSession, *, name: str, owner: str, now: datetime, hold: timedelta
) -> bool:
    """Take (or keep) the role `name` for `owner` until `now + hold`; False while another
    live process has it."""
    taken = await session.execute(
        update(Lease)
        .where(
            Lease.name == name, or_(Lease.owner.is_(None), Lease.owner == owner, Lease.until < now)
        )
        .values(owner=owner, until=now + hold)
    )
    if taken.rowcount:  # type: ignore[attr-defined]
        return True
    if await session.scalar(select(Lease.name).where(Lease.name == name)):
        return False
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    added = await session.execute(
        insert(Lease)
        .values(name=name, owner=owner, until=now + hold)
        .on_conflict_do_nothing(index_elements=[Lease.name])
    )
    return bool(added.rowcount)  # type: ignore[attr-defined]


async def give_back_lease(session: AsyncSession, *, name: str, owner: str) -> None:
    await session.execute(
        update(Lease).where(Lease.name == name, Lease.owner == owner).values(owner=None, until=None)
    )


#: Lease names of open circuit breakers: "breaker:platform:<name>", "breaker:account:<id>".
BREAKER = "breaker:"


async def open_breaker(session: AsyncSession, *, key: str, owner: str, until: datetime) -> None:
    """A worker's circuit breaker opened (`key`: "platform:x" or "account:n"): every worker's
    claims leave that platform or account alone until `until` (storage/claims.py)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(Lease).values(name=BREAKER + key, owner=owner, until=until)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[Lease.name], set_={"owner": owner, "until": until}
        )
    )


async def open_breakers(session: AsyncSession, now: datetime) -> list[str]:
    """The keys ("platform:x", "account:n") of breakers some worker opened, still open."""
    rows = await session.scalars(
        select(Lease.name).where(Lease.name.startswith(BREAKER), Lease.until > now)
    )
    return [name.removeprefix(BREAKER) for name in rows]
