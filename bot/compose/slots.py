"""Queue slots as the user keeps them: each account's weekly posting times (/slots), and
where "Add to queue" puts a post: each chosen account's next free slot, in the caller's
transaction, so the slot it shows is the slot it gets.

The slot arithmetic (reading "Mon-Fri 09:00", the next free instant, DST) is pure and lives
in bot/schedule/slots.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.schedule.slots import NoSlots, SlotError, next_free
from bot.services import Services
from storage import accounts, users
from storage import slots as slots_repo
from storage.models import Account, Slot

#: The most slots one account may have (seven days of a busy schedule).
MAX_SLOTS_PER_ACCOUNT = 70


async def times_for(
    session: AsyncSession, user_id: int, tz: str, chosen: Sequence[Account], now: datetime
) -> dict[int, datetime]:
    """Each account's next free slot, in the caller's transaction; raises NoSlots naming
    the accounts that have none."""
    slots = await slots_repo.list_for(session, user_id, [a.id for a in chosen])
    times: dict[int, datetime] = {}
    missing: list[str] = []
    for account in chosen:
        pairs = [(s.weekday, s.minute) for s in slots if s.account_id == account.id]
        taken = await slots_repo.taken(session, user_id, account.id, now)
        when = next_free(pairs, tz, now, taken)
        if when is None:
            missing.append(account.label)
        else:
            times[account.id] = when
    if missing:
        raise NoSlots(missing)
    return times


@dataclass(frozen=True, kw_only=True)
class AccountSlots:
    account: Account
    slots: list[Slot]
    #: The owner's timezone, which the slots are in.
    tz: str

    @property
    def pairs(self) -> list[tuple[int, int]]:
        return [(slot.weekday, slot.minute) for slot in self.slots]


async def _timezone(session: AsyncSession, user_id: int, services: Services) -> str:
    user = await users.get(session, user_id)
    return user.timezone if user else services.settings.default_timezone


async def overview(services: Services, user_id: int) -> list[AccountSlots]:
    """Every account of the user with its slots."""

    async def work(session: AsyncSession) -> list[AccountSlots]:
        tz = await _timezone(session, user_id, services)
        owned = await accounts.list_for(session, user_id)
        slots = await slots_repo.list_for(session, user_id)
        return [
            AccountSlots(account=a, slots=[s for s in slots if s.account_id == a.id], tz=tz)
            for a in owned
        ]

    return await services.db.run(work)


async def account_slots(services: Services, user_id: int, account_id: int) -> AccountSlots:
    """One of the user's accounts with its slots; raises SlotError if it isn't theirs."""

    async def work(session: AsyncSession) -> AccountSlots:
        account = await accounts.get(session, user_id, account_id)
        if account is None:
            raise SlotError("That account isn't one of yours.")
        slots = await slots_repo.list_for(session, user_id, [account.id])
        tz = await _timezone(session, user_id, services)
        return AccountSlots(account=account, slots=slots, tz=tz)

    return await services.db.run(work)


async def add(
    services: Services, user_id: int, account_id: int, pairs: Sequence[tuple[int, int]]
) -> int:
    """Add slots to one of the user's accounts; returns how many are new."""
    for weekday, minute in pairs:
        if not (0 <= weekday <= 6 and 0 <= minute < 24 * 60):
            raise SlotError("That is not a time of the week.")

    async def work(session: AsyncSession) -> int:
        have = await slots_repo.count(session, user_id, account_id)
        added = await slots_repo.add(session, user_id, account_id, pairs)
        if added is None:
            raise SlotError("That account isn't one of yours.")
        if have + added > MAX_SLOTS_PER_ACCOUNT:
            raise SlotError(  # rolls back: nothing was added
                f"An account can have at most {MAX_SLOTS_PER_ACCOUNT} slots a week; "
                f"this one has {have}. Remove some first."
            )
        return added

    return await services.db.run(work)


async def remove(services: Services, user_id: int, slot_id: int) -> int | None:
    """Delete one slot; returns its account id, or None when it was already gone."""
    return await services.db.run(lambda s: slots_repo.remove(s, user_id, slot_id))


async def clear(services: Services, user_id: int, account_id: int) -> int:
    return await services.db.run(lambda s: slots_repo.clear(s, user_id, account_id))


async def plan(services: Services, user_id: int, account_ids: Sequence[int]) -> dict[int, datetime]:
    """Where "Add to queue" would put a post now, per account; raises NoSlots."""
    now = services.now()

    async def work(session: AsyncSession) -> dict[int, datetime]:
        tz = await _timezone(session, user_id, services)
        chosen = await accounts.get_many(session, user_id, list(account_ids))
        return await times_for(session, user_id, tz, chosen, now)

    return await services.db.run(work)
