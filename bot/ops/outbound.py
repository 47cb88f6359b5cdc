"""The pace of everything Crier sends to Telegram, kept before sending, not learnt from 429s.

`TelegramPace` holds one token bucket per chat (a private chat: a short burst, then about a
message a second; a group or channel: 20 a minute) and one overall (30 a second), the
limits Telegram documents. Replies, notices and broadcasts all take their slots from the
same `TelegramPace`, so together they stay under the overall limit; a broadcast asks as
`background` and leaves a few slots a second to replies. A 429 holds back only the chat it
names. `PacedLimiter` plugs it into python-telegram-bot as the application's rate limiter.

Ours rather than aiolimiter or PTB's AIORateLimiter: those have no per-chat hold (a 429
there pauses every request for every user) and no background priority.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]


@dataclass
class _Bucket:
    capacity: float
    #: Tokens added per second.
    rate: float
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait(self, now: float, need: float) -> float:
        """Seconds until `need` tokens are there (0 when they are now)."""
        self.refill(now)
        need = min(need, self.capacity)
        return 0.0 if self.tokens >= need else (need - self.tokens) / self.rate

    def full(self, now: float) -> bool:
        self.refill(now)
        return self.tokens >= self.capacity


@dataclass(frozen=True, kw_only=True)
class PaceLimits:
    """Telegram's documented limits, with a margin: the clock that counts on Telegram's side
    starts when a request arrives, which is a little after we took the slot."""

    #: Messages a second to all chats together.
    overall_per_second: float = 28.0
    overall_burst: float = 28.0
    #: A private chat: this many at once, then one every `1 / private_per_second` s.
    private_burst: float = 3.0
    private_per_second: float = 0.9
    #: A group or channel: 20 a minute.
    group_burst: float = 18.0
    group_per_minute: float = 18.0
    #: Overall slots a second that background senders (broadcasts) leave to replies.
    reserve: float = 4.0


class TelegramPace:
    """Hands out send slots per chat and overall; see the module docstring."""

    #: Idle chats' buckets are forgotten past this many.
    MAX_TRACKED = 10_000

    def __init__(
        self,
        limits: PaceLimits | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limits = limits = limits or PaceLimits()
        self._clock = clock
        self._sleep = sleep
        self._overall = _Bucket(
            limits.overall_burst, limits.overall_per_second, limits.overall_burst, clock()
        )
        self._chats: dict[int, _Bucket] = {}
        self._held: dict[int, float] = {}
        #: 429 answers seen, per chat (None: a request without a chat).
        self.rate_limited = 0

    def _bucket(self, chat_id: int, now: float) -> _Bucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if len(self._chats) >= self.MAX_TRACKED:
                self._forget_idle(now)
            limits = self.limits
            if chat_id > 0:  # users' ids are positive, groups' and channels' negative
                burst, rate = limits.private_burst, limits.private_per_second
            else:
                burst, rate = limits.group_burst, limits.group_per_minute / 60
            bucket = self._chats[chat_id] = _Bucket(burst, rate, burst, now)
        return bucket

    def _forget_idle(self, now: float) -> None:
        for chat_id, bucket in list(self._chats.items()):
            if bucket.full(now) and self._held.get(chat_id, 0.0) <= now:
                del self._chats[chat_id]
                self._held.pop(chat_id, None)

    def hold(self, chat_id: int | None, seconds: float) -> None:
        """Telegram answered 429 for this chat: nothing more goes to it for `seconds`."""
        self.rate_limited += 1
        if chat_id is None:
            return
        now = self._clock()
        self._held[chat_id] = max(self._held.get(chat_id, 0.0), now + seconds)
        self._bucket(chat_id, now).tokens = 0.0  # after the hold, start from an empty burst

    def delay(
        self,
        chat_id: int | None,
        *,
        count: int = 1,
        background: bool = False,
        overall: bool = True,
    ) -> float:
        """Seconds until a slot for `count` messages to `chat_id` is free (0: now)."""
        now = self._clock()
        reserve = self.limits.reserve if background else 0.0
        wait = self._overall.wait(now, count + reserve) if overall else 0.0
        if chat_id is not None:
            held = self._held.get(chat_id, 0.0) - now
            # An album is one burst in a private chat, `count` messages in a group.
            per_chat = 1 if chat_id > 0 else count
            wait = max(wait, held, self._bucket(chat_id, now).wait(now, per_chat))
        return max(0.0, wait)

    async def slot(
        self,
        chat_id: int | None,
        *,
        count: int = 1,
        background: bool = False,
        overall: bool = True,
    ) -> None:
        """Wait for, then take, a slot for `count` messages to `chat_id` (None: a request
        that only counts overall). `overall=False`: paid broadcasts, outside the 30/s."""
        while (
            wait := self.delay(chat_id, count=count, background=background, overall=overall)
        ) > 0:
            await self._sleep(wait)
        now = self._clock()
        if overall:
            self._overall.tokens -= min(count, self._overall.capacity)
        if chat_id is not None:
            bucket = self._bucket(chat_id, now)
            bucket.tokens -= min(1 if chat_id > 0 else count, bucket.capacity)

    async def released(self, chat_id: int) -> None:
        """Wait out a 429 hold on the chat (for requests that take no slot)."""
        while (wait := self._held.get(chat_id, 0.0) - self._clock()) > 0:
            await self._sleep(wait)


def retry_after_seconds(exc: RetryAfter) -> float:
    value: Any = exc.retry_after  # int, or timedelta once PTB_TIMEDELTA is on
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


#: Methods that put a new message in a chat: these take a slot of the chat and overall.
_SENDING = ("send", "copy", "forward")
_NOT_A_MESSAGE = frozenset({"sendChatAction"})
#: Methods that change a message: these take an overall slot only (Telegram doesn't hold
#: edits of a private chat to a message a second; the draft status paces its own).
_EDITING = ("edit", "stopPoll")


def takes_slot(endpoint: str) -> bool:
    return endpoint.startswith(_SENDING) and endpoint not in _NOT_A_MESSAGE


def takes_overall_slot(endpoint: str) -> bool:
    return endpoint.startswith(_EDITING)


def _chat_of(data: JSONDict) -> int | None:
    value = data.get("chat_id")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None  # "@channelname" or no chat: counts overall only


class PacedLimiter(BaseRateLimiter[dict[str, Any]]):
    """The application's rate limiter over a `TelegramPace`: every message waits for its
    slot before it is sent; a 429 (rare) holds back that chat only and the call is tried
    again after Telegram's retry_after, up to `max_retries` times."""

    def __init__(self, pace: TelegramPace, *, max_retries: int = 3) -> None:
        self.pace = pace
        self.max_retries = max_retries

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | JSONDict | list[JSONDict]:
        chat_id = _chat_of(data)
        background = bool((rate_limit_args or {}).get("background"))
        media = data.get("media")
        count = len(media) if endpoint == "sendMediaGroup" and isinstance(media, list) else 1
        for attempt in range(self.max_retries + 1):
            if takes_slot(endpoint):
                await self.pace.slot(chat_id, count=count, background=background)
            else:
                if chat_id is not None:
                    await self.pace.released(chat_id)
                if takes_overall_slot(endpoint):
                    await self.pace.slot(None, background=background)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = retry_after_seconds(exc)
                self.pace.hold(chat_id, wait)
                log.warning(
                    "telegram.rate_limited",
                    extra={"method": endpoint, "chat_id": chat_id, "retry_after": wait},
                )
                if attempt >= self.max_retries:
                    raise
                if chat_id is None:
                    await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover


def ceil_seconds(seconds: float) -> int:
    return max(1, math.ceil(seconds))
