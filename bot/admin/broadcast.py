"""Admin broadcasts: sending the message, the pace, and the durable runner.

Every recipient is a `deliveries` row, created when the admin confirms. The runner sends
pending deliveries in id order and settles each one (sent, blocked, failed) in its own
transaction right after Telegram answered, so a restart resumes where the last one left
off. What a crash can repeat: a message whose send was in flight (or answered but not yet
recorded) when the process died. At most `max_in_flight` sends run at once (8 at 30/s:
enough to hold the pace with round trips up to ~250 ms), so a hard crash (kill -9, power
loss) may repeat at most that many messages; a normal stop lets the sends in flight finish
and records them, so it repeats nothing. A send that got no answer at all (read timeout,
dropped connection) may have arrived, so it is recorded as failed, never sent again.

Pace: one `Pacer` spaces sends evenly at BROADCAST_RATE (no bursts), keeps a second
between two messages to the same chat, and on a 429 pauses the whole broadcast for
Telegram's retry_after. On top of it, every send takes a background slot of the process's
`TelegramPace` (bot/ops/outbound.py), the one replies and notices take theirs from: together
they stay under Telegram's overall limit, and replies to users go first. The runner sends
with its own `telegram.Bot`, outside the application's rate limiter, which would retry a
429 inside the call where the broadcast could neither pause nor count it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import heapq
import itertools
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import httpx
from telegram import Bot, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

from bot.admin.broadcast_message import progress_text, send_content, stop_button, summary_text
from bot.admin.ownership import Ownership
from bot.admin.pacer import Pacer
from bot.config import Settings
from bot.ops.outbound import TelegramPace, retry_after_seconds
from bot.services import Pace, utc_now
from storage import broadcasts as repo
from storage.broadcasts import PendingDelivery
from storage.db import Database
from storage.models import Broadcast, BroadcastStatus, DeliveryStatus

log = logging.getLogger(__name__)

#: Tries for a delivery that fails transiently (Telegram answered 5xx, connection refused).
MAX_TRIES = 3
#: Seconds before the 2nd and 3rd try.
BACKOFF = (2.0, 10.0)
#: Deliveries read from the database at a time.
BATCH = 500
#: Seconds between progress edits.
PROGRESS_SECONDS = 2.0
#: Seconds of recent sends the shown rate is averaged over.
RATE_WINDOW = 10.0


# -- the runner ---------------------------------------------------------------------------------


@dataclass(order=True)
class _Job:
    ready_at: float
    seq: int
    delivery: PendingDelivery = field(compare=False)
    tries: int = field(default=0, compare=False)


@dataclass
class _Run:
    """One broadcast being sent by this process."""

    broadcast: Broadcast
    tally: dict[DeliveryStatus, int]
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    in_flight: set[asyncio.Task[None]] = field(default_factory=set)
    retries: list[_Job] = field(default_factory=list)  # a heap by ready_at
    finished_times: deque[float] = field(default_factory=deque)
    started: float = field(default_factory=time.monotonic)
    cancelled: bool = False

    def rate(self, now: float) -> float:
        while self.finished_times and self.finished_times[0] < now - RATE_WINDOW:
            self.finished_times.popleft()
        span = min(RATE_WINDOW, max(now - self.started, 1e-3))
        return len(self.finished_times) / span


class BroadcastRunner:
    """Sends running broadcasts one at a time, oldest first; one process at a time of all
    those sharing the database (front-ends and workers), under the `Ownership` lease."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utc_now,
        bot: Bot | None = None,
        pace: Pace | None = None,
    ) -> None:
        self._db = db
        #: Shared with the application's replies (a broadcast alone has one of its own).
        self.pace: Pace = pace or TelegramPace()
        self._settings = settings
        self._clock = clock
        self._bot = bot
        self._own_bot = bot is None
        self.rate = settings.broadcast_rate
        self.max_in_flight = max(1, math.ceil(self.rate / 4))
        self.pacer = Pacer(self.rate)
        #: 429 answers seen (each paused the broadcast).
        self.rate_limited = 0
        self._slots = asyncio.Semaphore(self.max_in_flight)
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._run: _Run | None = None
        self.ownership = Ownership(db, "broadcasts", clock=clock)

    @property
    def current(self) -> int | None:
        return self._run.broadcast.id if self._run else None

    async def start(self) -> None:
        if self._bot is None:
            s = self._settings
            self._bot = Bot(
                s.token,
                base_url=s.telegram_api_base_url,
                base_file_url=s.telegram_file_base_url,
                local_mode=s.telegram_local_mode,
                request=HTTPXRequest(connection_pool_size=self.max_in_flight + 4),
            )
            await self._bot.initialize()
        self._task = asyncio.create_task(self._loop(), name="broadcast-runner")

    def wake(self) -> None:
        self._wake.set()

    def cancel(self, broadcast_id: int) -> bool:
        """Stop sending this broadcast now (its status is already cancelled in the database);
        False if this process isn't sending it."""
        run = self._run
        if run is None or run.broadcast.id != broadcast_id:
            return False
        run.cancelled = True
        run.stop.set()
        return True

    async def stop(self, grace: float = 30.0) -> None:
        """Finish the sends in flight, record them, and stop; running broadcasts resume at
        the next start."""
        self._stopping.set()
        self._wake.set()
        if self._run is not None:
            self._run.stop.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), grace)
            except TimeoutError:
                log.warning("broadcast runner did not stop within %.0f s", grace)
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        with contextlib.suppress(Exception):  # so another process takes over at once
            await self.ownership.give_back()
        if self._own_bot and self._bot is not None:
            await self._bot.shutdown()
            self._bot = None

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                waiting = await self._db.run(repo.running)
                # One process sends (bot/admin/ownership.py); the others wait to take over.
                if waiting and await self.ownership.take():
                    await self._send_all(waiting[0])
                    continue
                if not waiting:
                    await self.ownership.give_back()
            except Exception:
                log.exception("broadcast runner error; retrying in 5 s")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), 5.0)
                continue
            with contextlib.suppress(TimeoutError):
                # Another process may confirm a broadcast, or stop sending one: look again.
                await asyncio.wait_for(self._wake.wait(), self.ownership.retry_seconds)

    async def _send_all(self, broadcast: Broadcast) -> None:
        bid = broadcast.id
        await self._db.run(lambda s: repo.mark_started(s, bid, self._clock()))
        tally = await self._db.run(lambda s: repo.counts(s, bid))
        run = self._run = _Run(broadcast=broadcast, tally=tally)
        # The rate the broadcast was confirmed with, unless BROADCAST_RATE is lower now.
        self.pacer.set_rate(min(broadcast.rate or self.rate, self.rate))
        if broadcast.progress_chat_id is not None:
            # The admin's chat just got the preview and buttons from the app's bot.
            self.pacer.note(broadcast.progress_chat_id)
        if self._stopping.is_set():
            run.stop.set()
        log.info(
            "broadcast %s: sending, %s of %s still pending",
            bid,
            tally[DeliveryStatus.PENDING],
            broadcast.total,
        )
        progress = asyncio.create_task(self._progress(run), name=f"broadcast-{bid}-progress")
        try:
            await self._dispatch(run)
        finally:
            if run.in_flight:
                await asyncio.gather(*run.in_flight, return_exceptions=True)
            progress.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await progress
            self._run = None
        if self._stopping.is_set() and not run.cancelled:
            await self._db.run(lambda s: repo.save_counts(s, bid, run.tally))
            final = await self._db.run(lambda s: repo.get(s, bid))
            if final is not None:
                await self._edit(final, summary_text(final, interrupted=True))
            return
        final = await self._db.run(lambda s: repo.finish(s, bid, self._clock()))
        if final is None:
            return
        log.info(
            "broadcast %s: %s (sent %s, blocked %s, failed %s)",
            bid,
            final.status.value,
            final.sent,
            final.blocked,
            final.failed,
        )
        text = summary_text(final)
        await self._edit(final, text)
        if final.progress_chat_id is not None and await self.pacer.wait(final.progress_chat_id):
            await self.pace.slot(final.progress_chat_id, background=True)
            with contextlib.suppress(TelegramError):
                assert self._bot is not None
                await self._bot.send_message(
                    final.progress_chat_id, text, parse_mode=ParseMode.HTML
                )

    async def _dispatch(self, run: _Run) -> None:
        bid = run.broadcast.id
        cursor = 0
        batch: deque[_Job] = deque()
        exhausted = False
        while not run.stop.is_set():
            now = time.monotonic()
            job = (
                heapq.heappop(run.retries)
                if run.retries and run.retries[0].ready_at <= now
                else None
            )
            if job is None and not batch and not exhausted:
                rows = await self._db.run(
                    functools.partial(repo.pending, broadcast_id=bid, after_id=cursor, limit=BATCH)
                )
                if rows:
                    cursor = rows[-1].id
                    batch.extend(_Job(0.0, next(self._seq), row) for row in rows)
                else:
                    exhausted = True
            if job is None and batch:
                job = batch.popleft()
            if job is None:
                if not run.retries and not run.in_flight:
                    return  # everything is settled
                # Wait for the next retry, a send to finish (it may bring a retry) or a stop.
                stopped = asyncio.ensure_future(run.stop.wait())
                await asyncio.wait(
                    {stopped, *run.in_flight},
                    timeout=run.retries[0].ready_at - now if run.retries else None,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                stopped.cancel()
                continue
            wait = self.pacer.chat_delay(job.delivery.chat_id)
            if wait > 0:  # this chat had a message a moment ago: others go first
                self._again(run, job, wait)
                continue
            await self._slots.acquire()
            if not await self.pacer.wait(job.delivery.chat_id, run.stop):
                self._slots.release()
                return
            media = run.broadcast.content.get("media") or []
            await self.pace.slot(
                job.delivery.chat_id,
                count=max(1, len(media)),
                background=True,
                overall=not self._settings.broadcast_paid,
            )
            task = asyncio.create_task(self._deliver(run, job))
            run.in_flight.add(task)
            task.add_done_callback(run.in_flight.discard)

    async def _deliver(self, run: _Run, job: _Job) -> None:
        try:
            await self._attempt(run, job)
        except Exception:
            # The delivery stays pending; it is not retried in this pass.
            log.exception("broadcast %s: delivery %s", run.broadcast.id, job.delivery.id)
        finally:
            self._slots.release()

    async def _attempt(self, run: _Run, job: _Job) -> None:
        d = job.delivery
        job.tries += 1
        assert self._bot is not None
        try:
            await send_content(
                self._bot, d.chat_id, run.broadcast.content, paid=self._settings.broadcast_paid
            )
        except RetryAfter as exc:
            # Not the delivery's fault: pause everyone, try it again after the pause.
            self.rate_limited += 1
            self.pacer.pause(retry_after_seconds(exc))
            self.pace.hold(d.chat_id, retry_after_seconds(exc))
            job.tries -= 1
            self._again(run, job, 0.0)
            return
        except Forbidden as exc:
            error = exc.message
            await self._db.run(
                lambda s: repo.settle_blocked(s, d.id, d.user_id, attempts=job.tries, error=error)
            )
            self._count(run, DeliveryStatus.BLOCKED)
            return
        except BadRequest as exc:  # chat not found, bad file id: trying again won't help
            await self._settle(run, job, DeliveryStatus.FAILED, exc.message)
            return
        except NetworkError as exc:  # TimedOut included
            if _may_have_arrived(exc):
                await self._settle(
                    run,
                    job,
                    DeliveryStatus.FAILED,
                    "no answer from Telegram; it may have arrived, so it is not sent again",
                )
            elif job.tries < MAX_TRIES:
                self._again(run, job, BACKOFF[job.tries - 1])
            else:
                await self._settle(run, job, DeliveryStatus.FAILED, str(exc)[:500])
            return
        except TelegramError as exc:
            await self._settle(run, job, DeliveryStatus.FAILED, str(exc)[:500])
            return
        # Telegram has the message; a crash before this commit would send it again.
        await self._settle(run, job, DeliveryStatus.SENT, None)

    def _again(self, run: _Run, job: _Job, delay: float) -> None:
        job.ready_at = time.monotonic() + delay
        heapq.heappush(run.retries, job)

    async def _settle(
        self, run: _Run, job: _Job, status: DeliveryStatus, error: str | None
    ) -> None:
        now = self._clock() if status == DeliveryStatus.SENT else None
        delivery_id, tries = job.delivery.id, job.tries
        await self._db.run(
            lambda s: repo.settle(s, delivery_id, status, attempts=tries, now=now, error=error)
        )
        self._count(run, status)

    def _count(self, run: _Run, status: DeliveryStatus) -> None:
        run.tally[status] += 1
        run.tally[DeliveryStatus.PENDING] -= 1
        run.finished_times.append(time.monotonic())

    async def _progress(self, run: _Run) -> None:
        """Every couple of seconds: notice a cancel from elsewhere, save the counts, edit
        the admin's progress message."""
        bid = run.broadcast.id
        while True:
            await asyncio.sleep(PROGRESS_SECONDS)
            try:
                if (
                    await self._db.run(lambda s: repo.status_of(s, bid))
                    == BroadcastStatus.CANCELLED
                ):
                    self.cancel(bid)
                    return
                await self._db.run(lambda s: repo.save_counts(s, bid, run.tally))
                if not await self.ownership.take():  # stalled past the lease: another sends
                    run.stop.set()
                    return
                if self.pacer.paused_for() > 0:
                    continue  # Telegram asked for quiet: not even an edit
                text = progress_text(run.broadcast, run.tally, run.rate(time.monotonic()))
                await self._edit(run.broadcast, text, stop_button(bid))
            except Exception:
                log.exception("broadcast %s: progress update failed", bid)

    async def _edit(
        self, broadcast: Broadcast, text: str, markup: InlineKeyboardMarkup | None = None
    ) -> None:
        chat_id, message_id = broadcast.progress_chat_id, broadcast.progress_message_id
        if chat_id is None or message_id is None or self._bot is None:
            return
        # An edit takes a slot of the overall pace too.
        await self.pacer.wait(None)
        await self.pace.slot(None, background=True)
        try:
            await self._bot.edit_message_text(
                text, chat_id, int(message_id), parse_mode=ParseMode.HTML, reply_markup=markup
            )
        except RetryAfter as exc:  # the next edit will do; the pause holds for sends too
            self.pacer.pause(retry_after_seconds(exc))
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                log.warning("broadcast %s: progress message: %s", broadcast.id, exc.message)
        except TelegramError as exc:
            log.warning("broadcast %s: progress message: %s", broadcast.id, exc)


def _may_have_arrived(exc: NetworkError) -> bool:
    """True when the request may have reached Telegram but no answer came back (resending
    could duplicate); False when it surely didn't (never connected) or Telegram answered."""
    cause = exc.__cause__
    if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return False
    return isinstance(cause, httpx.TransportError)
