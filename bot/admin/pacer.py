"""Rate control both ways: `Pacer` hands out send slots for a broadcast (an even pace
overall, a gap per chat, a pause on 429; the limits of Telegram itself are kept by
bot/outbound.py underneath); `FloodGuard` is the per-user token bucket that limits how
fast one user may send updates to the bot (bot/inbound.py counts it)."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


class Pacer:
    """Hands out send slots: evenly spaced at `rate` per second overall, at least `chat_gap`
    seconds apart for one chat, none while paused after a 429."""

    def __init__(
        self,
        rate: float,
        *,
        chat_gap: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = 1.0 / rate
        self.chat_gap = chat_gap
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")
        self._paused_until = float("-inf")
        self._last: OrderedDict[int, float] = OrderedDict()  # chat -> last slot, oldest first
        self._lock = asyncio.Lock()

    def set_rate(self, rate: float) -> None:
        self.interval = 1.0 / rate

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def paused_for(self) -> float:
        return max(0.0, self._paused_until - self._clock())

    def note(self, chat_id: int) -> None:
        """A message just went to this chat by another way (the app's own replies)."""
        self._last[chat_id] = self._clock()
        self._last.move_to_end(chat_id)

    def chat_delay(self, chat_id: int) -> float:
        """Seconds until this chat may get another message (0 when it may now)."""
        last = self._last.get(chat_id)
        return 0.0 if last is None else max(0.0, last + self.chat_gap - self._clock())

    async def wait(self, chat_id: int | None, interrupt: asyncio.Event | None = None) -> bool:
        """Wait for a slot (for `chat_id`, or any chat when None); False if `interrupt` was
        set first."""
        async with self._lock:
            while True:
                now = self._clock()
                while self._last and next(iter(self._last.values())) <= now - self.chat_gap:
                    self._last.popitem(last=False)
                chat_ready = (
                    self._last.get(chat_id, float("-inf")) + self.chat_gap
                    if chat_id is not None
                    else float("-inf")
                )
                start = max(self._next, self._paused_until, chat_ready)
                if start <= now:
                    break
                if interrupt is None:
                    await self._sleep(start - now)
                else:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(interrupt.wait(), start - now)
                    if interrupt.is_set():
                        return False
            # A slot taken a little late (sleep overshoot) keeps the schedule, so the
            # average holds at `rate`; after idling or a pause the schedule restarts from
            # now, so there is never a burst.
            late = now - self._next
            self._next = (self._next if late < self.interval else now) + self.interval
            if chat_id is not None:
                self._last[chat_id] = now
                self._last.move_to_end(chat_id)
            return True


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
