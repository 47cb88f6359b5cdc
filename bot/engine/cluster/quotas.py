"""Per-account posting quotas (Instagram's 24 hours, X's daily cap), across every worker.

A post over its account's quota waits for the window to free up; it does not fail. What
counts is in the database, not in one process: posts published in the window, and posts of
the account being published right now by any worker (`publishing` under a live lease). The
targets just claimed are publishing too, so two workers claiming for one account at once
each see the other's claim: at worst both wait, never both go over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from providers.registry import Registry
from storage import queue
from storage.db import Database
from storage.models import Target


@dataclass(frozen=True, kw_only=True)
class Waiting:
    target: Target
    #: When the account's window has room again.
    until: datetime
    reason: str


class Quotas:
    def __init__(self, db: Database, registry: Registry, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._registry = registry
        self._clock = clock

    async def split(self, targets: list[Target]) -> tuple[list[Target], list[Waiting]]:
        """The claimed targets that may go now, and those that must wait for their quota."""
        now = self._clock()
        batch = [t.id for t in targets]
        allowed: dict[int, int] = {}
        frees_at: dict[int, datetime] = {}
        keep: list[Target] = []
        waiting: list[Waiting] = []
        for target in targets:
            provider = self._registry.get(target.account.platform)
            quota = provider.limits.quota if provider else None
            if quota is None:
                keep.append(target)
                continue
            limit, window = quota
            account_id = target.account_id
            if account_id not in allowed:
                since = now - timedelta(seconds=window)
                done, running = await self._db.run(
                    partial(_counts, account_id=account_id, since=since, now=now, batch=batch)
                )
                allowed[account_id] = limit - len(done) - running
                oldest = done[0] if done else now
                frees_at[account_id] = max(
                    now + timedelta(seconds=1), oldest + timedelta(seconds=window)
                )
            if allowed[account_id] > 0:
                allowed[account_id] -= 1
                keep.append(target)
            else:
                name = provider.display_name if provider else target.account.platform
                reason = f"Waiting for {name}'s limit of {limit} posts per {span(window)}."
                waiting.append(Waiting(target=target, until=frees_at[account_id], reason=reason))
        return keep, waiting


async def _counts(
    session: AsyncSession, *, account_id: int, since: datetime, now: datetime, batch: list[int]
) -> tuple[list[datetime], int]:
    done = await queue.published_since(session, account_id=account_id, since=since)
    running = await queue.publishing_for(session, account_id=account_id, now=now, exclude=batch)
    return done, running


def span(seconds: float) -> str:
    if seconds % 86400 == 0:
        days = int(seconds // 86400)
        return "24 hours" if days == 1 else f"{days} days"
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)} hours"
    return f"{seconds:g} seconds"
