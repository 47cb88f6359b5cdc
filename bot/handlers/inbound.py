"""How updates are let in: each user's in the order they came, different users' at once, and
a per-user budget counted when an update arrives.

`FairUpdates` is python-telegram-bot's update processor for Crier. PTB hands it every update
as soon as it is fetched; the update waits in its user's lane (a FIFO lock), so one user's
slow step or 429 back-off never delays another user. Only updates being handled take one of
`active` slots; updates waiting in a lane take none, so a flood holds back only its sender.

The budget is counted here, at arrival: counted when a backlog is handled, it would refill
as fast as the backlog drains and never trip. What happens to an update over the budget is
decided when its turn comes (`Arrival.over`), by the gate, which knows where the update
would go: content for the post being composed is still added, anything else is dropped.
A lane holds at most `backlog` updates; past that they are dropped at once. The budget is
made of `FloodGuard`s, per-user token buckets: ours rather than aiolimiter's, because a
budget answers at once instead of waiting, says "slow down" once per window, tells when the
user may send again and forgets idle users; an AsyncLimiter only waits.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

if TYPE_CHECKING:
    from bot.handlers.persistence import SharedConversations

log = logging.getLogger(__name__)

#: PTB's own semaphore is taken before an update reaches its lane; make it never bind.
_UNBOUNDED = 1 << 30


@dataclass(frozen=True)
class Arrival:
    """What the budget said when the update arrived."""

    #: Over the user's budget: handle only if it is content for the draft.
    over: bool = False
    #: Seconds until the user's budget has room again (meaningful when `over`).
    resume_in: float = 0.0


@dataclass
class _Lane:
    lock: asyncio.Lock
    waiting: int = 0


class Flood(enum.Enum):
    OK = "ok"
    #: Over the limit: say "slow down" (once per window).
    WARN = "warn"
    #: Over the limit and already told: drop silently.
    QUIET = "quiet"


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned_at: float = float("-inf")


class FloodGuard:
    """Per-user token bucket: `limit` updates at once, refilled at `limit` per `window`
    seconds. In memory: a restart forgives everyone, which is fine for a flood limit."""

    #: Buckets kept before idle (full) ones are forgotten.
    MAX_TRACKED = 10_000

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._rate = limit / window
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}

    def hit(self, key: int) -> Flood:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.MAX_TRACKED:
                self._forget_idle(now)
            bucket = self._buckets[key] = _Bucket(tokens=self.limit, updated=now)
        bucket.tokens = min(self.limit, bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return Flood.OK
        if now - bucket.warned_at >= self.window:
            bucket.warned_at = now
            return Flood.WARN
        return Flood.QUIET

    def refill_time(self, key: int) -> float:
        """Seconds until `key` may send again."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return 0.0
        now = self._clock()
        tokens = min(self.limit, bucket.tokens + (now - bucket.updated) * self._rate)
        return max(0.0, (1 - tokens) / self._rate)

    def _forget_idle(self, now: float) -> None:
        for key, bucket in list(self._buckets.items()):
            if now - bucket.updated >= self.window:
                del self._buckets[key]


class Budget:
    """Per-user token buckets: one for messages, a larger one for button presses (they only
    edit in place, and picking accounts or turning pages is naturally quick)."""

    BUTTON_BUDGET = 3

    def __init__(self, limit: int, window: float) -> None:
        self.messages = FloodGuard(limit, window)
        self.buttons = FloodGuard(limit * self.BUTTON_BUDGET, window)

    def arrive(self, user_id: int, update: Update) -> Arrival:
        guard = self.buttons if update.callback_query is not None else self.messages
        if guard.hit(user_id) is Flood.OK:
            return Arrival()
        return Arrival(over=True, resume_in=guard.refill_time(user_id))


class FairUpdates(BaseUpdateProcessor):
    def __init__(
        self,
        budget: Budget,
        *,
        active: int = 64,
        backlog: int = 1000,
        on_overflow: Callable[[Update], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(_UNBOUNDED)
        self.budget = budget
        self.backlog = backlog
        self._active_limit = active
        self._active: asyncio.Semaphore | None = None
        self._lanes: dict[int, _Lane] = {}
        self._arrivals: dict[int, Arrival] = {}
        self._on_overflow = on_overflow
        #: Updates dropped because their lane was full.
        self.overflowed = 0
        #: Several front-ends on one database: conversation states read before and written
        #: after each update (bot/handlers/persistence.py); None with one front-end.
        self.shared: SharedConversations | None = None

    async def initialize(self) -> None:
        self._active = asyncio.Semaphore(self._active_limit)

    async def shutdown(self) -> None:
        pass

    def arrival(self, update: object) -> Arrival:
        """The budget's verdict for an update being handled (within the limit if unknown)."""
        if isinstance(update, Update):
            return self._arrivals.get(update.update_id, Arrival())
        return Arrival()

    def waiting(self, user_id: int) -> int:
        lane = self._lanes.get(user_id)
        return lane.waiting if lane else 0

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self._active is None:
            self._active = asyncio.Semaphore(self._active_limit)
        user = update.effective_user if isinstance(update, Update) else None
        if user is None or not isinstance(update, Update):
            async with self._active:
                await coroutine
            return
        lane = self._lanes.get(user.id)
        if lane is None:
            lane = self._lanes[user.id] = _Lane(asyncio.Lock())
        if lane.waiting >= self.backlog:
            _close(coroutine)
            self.overflowed += 1
            if self._on_overflow is not None:
                await self._on_overflow(update)
            return
        arrival = self.budget.arrive(user.id, update)
        lane.waiting += 1
        try:
            async with lane.lock:
                if arrival.over:
                    self._arrivals[update.update_id] = arrival
                async with self._active:
                    if self.shared is None:
                        await coroutine
                    else:
                        await self._shared(update, coroutine, self.shared)
        finally:
            self._arrivals.pop(update.update_id, None)
            lane.waiting -= 1
            if lane.waiting == 0 and self._lanes.get(user.id) is lane:
                del self._lanes[user.id]

    async def _shared(
        self, update: Update, coroutine: Awaitable[Any], shared: SharedConversations
    ) -> None:
        try:
            await shared.before(update)
        except Exception:
            _close(coroutine)
            raise
        try:
            await coroutine
        finally:
            await shared.after(update)


def _close(coroutine: Awaitable[Any]) -> None:
    """Drop an update's handling without running it (and without a 'never awaited' warning)."""
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()
