"""The broadcast's own pace: `Pacer` hands out send slots (an even pace overall, a gap per
chat, a pause for everyone on a 429); the limits of Telegram itself are kept by
bot/ops/outbound.py underneath. (How fast one user may send updates to the bot is
bot/handlers/inbound.py's `FloodGuard`.)

Ours rather than aiolimiter: slots evenly spaced with no burst, a gap per chat, one pause
for everyone on a 429 and a wait that ⏹ Stop interrupts; an AsyncLimiter lets a bucketful
through at once and has no pause."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable


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
