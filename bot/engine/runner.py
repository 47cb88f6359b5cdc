"""The publish engine: claims due targets, runs providers within the concurrency limits and
circuit breakers, retries, recovers abandoned leases, and hands every outcome to the writer.

Nothing here is the source of truth: pending work is rows, and the timer only wakes the
engine at the earliest `next_attempt_at`. A publish that finishes frees its slot at once
and, if due work was left waiting for a slot, kicks the next claim in-process: a burst
goes out back to back at the limits' pace, never at the sweep's. A periodic sweep catches
work queued by other processes and leases left by dead ones; a heartbeat renews the
leases of long publishes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from bot.config import Settings
from bot.engine import series
from bot.engine.breaker import Breakers
from bot.engine.caller import Caller, next_step
from bot.engine.cluster.listen import DueListener
from bot.engine.cluster.quotas import Quotas
from bot.engine.concurrency import Slots, account_key, platform_key
from bot.engine.content import account_ref
from bot.engine.hooks import Observer, Observers, Timer
from bot.engine.leases import Leases
from bot.engine.notifier import Notifier
from bot.engine.options.deleter import Deleter
from bot.engine.outcomes import WRITE_BATCH, Outcome, OutcomeWriter, Record
from bot.engine.retry import Decision, RetryPolicy
from bot.media.links import MediaLinks
from providers.base import Provider
from providers.errors import ProviderError, TransientError
from providers.registry import Registry
from storage import queue, turns
from storage.db import Database
from storage.models import Target
from storage.secrets import SecretBox

log = logging.getLogger(__name__)

#: A wake-up may fire a few milliseconds early; work due that soon counts as due.
EARLY = timedelta(milliseconds=2)


@dataclass(frozen=True, kw_only=True)
class EngineConfig:
    concurrency: int = 32
    #: Most publishes at once across every worker on the database (None: no such cap).
    cluster_concurrency: int | None = None
    lease: timedelta = timedelta(minutes=5)
    publish_timeout: float = 120.0
    sweep_seconds: float = 5.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker_threshold: int = 5
    breaker_cooldown: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> EngineConfig:
        return cls(
            breaker_threshold=settings.engine_breaker_threshold,
            breaker_cooldown=settings.engine_breaker_cooldown_seconds,
            concurrency=settings.engine_concurrency,
            cluster_concurrency=settings.engine_cluster_concurrency or None,
            lease=timedelta(seconds=settings.engine_lease_seconds),
            publish_timeout=settings.engine_publish_timeout,
            sweep_seconds=settings.engine_sweep_seconds,
            retry=RetryPolicy(
                max_attempts=settings.engine_max_attempts,
                base_seconds=settings.engine_retry_base_seconds,
                max_seconds=settings.engine_retry_max_seconds,
            ),
        )


class Engine:
    def __init__(
        self,
        *,
        db: Database,
        registry: Registry,
        secrets: SecretBox,
        notifier: Notifier | None,
        media_dir: Path,
        config: EngineConfig | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        owner: str | None = None,
        on_breaker_open: Callable[[str, float], Awaitable[None]] | None = None,
        observers: Iterable[Observer] = (),
        links: MediaLinks | None = None,
    ) -> None:
        self._db = db
        self._registry = registry
        self._secrets = secrets
        self._notifier = notifier
        self._media_dir = media_dir
        self.config = config or EngineConfig()
        self._clock = clock
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.breakers = Breakers(
            threshold=self.config.breaker_threshold, cooldown=self.config.breaker_cooldown
        )
        self.slots = Slots(
            registry, self.breakers, self.config.concurrency, self.config.cluster_concurrency
        )
        self.writer = OutcomeWriter(db, registry, clock, Observers(observers))
        self.quotas = Quotas(db, registry, clock)
        self._on_breaker_open = on_breaker_open
        self._tasks: set[asyncio.Task[None]] = set()
        #: Targets under this worker's lease until their outcome is written: target id ->
        #: account id. The heartbeat renews these leases; quotas count these posts.
        self._leased: dict[int, int] = {}
        self.caller = Caller(
            db=db,
            secrets=secrets,
            media_dir=media_dir,
            timeout=self.config.publish_timeout,
            links=links,
        )
        self.leases = Leases(
            db=db,
            registry=registry,
            writer=self.writer,
            clock=clock,
            lease=self.config.lease,
            owner=self.owner,
            leased=self._leased,
        )
        self.deleter = Deleter(db, registry, secrets, clock, notifier)  # delete-after
        self._claim_lock = asyncio.Lock()
        self._wakeup: Timer | None = None
        self._stopping = False
        #: The last claim left due work behind for want of a free slot (all busy, or its
        #: platform or account full): a slot freeing up must claim again at once.
        self._waiting = False
        #: The in-process claimer a freed slot starts (no timer, no sweep in between).
        self._pump: asyncio.Task[None] | None = None
        self._kicked = False
        #: A claim under this hold found nothing due outside it before this time. A claim
        #: under a hold that covers it would walk the held accounts' backlog for nothing, so
        #: it is skipped until new work is announced (wake_at), or a timer or sweep runs.
        self._quiet: tuple[queue.Hold, datetime] | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        #: PostgreSQL: the LISTEN that other processes' new work wakes (None on SQLite).
        self.listener: DueListener | None = None
        #: When the last run finished (health checks read it).
        self.last_run_at: datetime | None = None

    # -- wiring -----------------------------------------------------------------------------

    def attach(self, wakeup: Timer) -> None:
        self._wakeup = wakeup
        wakeup.every(self.config.sweep_seconds)
        wakeup.soon()
        self._heartbeat = asyncio.create_task(self.leases.renew_forever(), name="engine:heartbeat")

    def listen(self, dsn: str) -> None:
        """Also wake on other processes' new work (PostgreSQL NOTIFY, bot/engine/cluster/);
        each (re)connect is followed by a sweep."""
        self.listener = DueListener(dsn, on_due=self.wake_at, on_connect=self.run_due)
        self.listener.start()

    def wake_at(self, when: datetime) -> None:
        """A target was added or moved: make sure the engine looks at `when` at the latest."""
        if self._quiet is not None and when < self._quiet[1]:
            self._quiet = None
        if self._wakeup is not None and not self._stopping:
            self._wakeup.at(when)

    async def stop(self, grace: float = 30.0) -> None:
        """Stop claiming; let in-flight publishes finish for up to `grace` seconds. Anything
        cut off keeps its lease, so recovery decides after it expires (retry if idempotent,
        else unknown) — never a silent second publish."""
        self._stopping = True
        if self.listener is not None:
            await self.listener.stop()
        if self._pump is not None:
            await asyncio.gather(self._pump, return_exceptions=True)
        async with self._claim_lock:
            pass  # a claim under way starts its targets first, so they are waited for below
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        await self.writer.flush()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.gather(self._heartbeat, return_exceptions=True)

    @property
    def sweeps(self) -> int:
        """How many periodic sweeps have run (a burst should need none)."""
        return self._wakeup.sweeps if self._wakeup is not None else 0

    @property
    def inflight(self) -> int:
        return len(self._tasks)

    async def wait_idle(self) -> None:
        while self._tasks:
            await asyncio.gather(*set(self._tasks), return_exceptions=True)

    # -- the loop ---------------------------------------------------------------------------

    async def run_due(self) -> int:
        """Recover abandoned leases, skip missed repeats, claim and start everything due now
        within the limits, and re-arm the timer for the next due target. The timer's and the
        sweep's entry point."""
        if self._stopping:
            return 0
        async with self._claim_lock:
            self._quiet = None  # time passed, or other workers queued work: look afresh
            recovered = await self.leases.recover()
            expired = await self.leases.expire_held()
            if (recovered or expired) and self._notifier is not None:
                self._notifier.wake()
            # Repeats missed while nothing ran are skipped, not published late (engine/series.py).
            await self._db.run(lambda s: series.skip_missed(s, self._clock()))
            started = await self._claim_all()
        self._arm(await self.deleter.run_due())  # outside the lock: claims need not wait
        self.last_run_at = self._clock()
        return started

    async def _claim_all(self) -> int:
        """Claim and start what fits until nothing due fits (call under the claim lock)."""
        started = 0
        while not self._stopping:
            free = min(self.slots.free, self._unwritten_room())
            if free <= 0:
                self._waiting = True  # a finishing publish kicks the next claim
                break
            room = self.slots.room(free)
            now = self._clock()
            if self._is_quiet(room.hold, now):
                self._waiting = True  # what is due is all on full accounts or platforms
                break
            claimed = await self._db.run(
                partial(
                    queue.claim_fitting,
                    owner=self.owner,
                    now=now + EARLY,
                    lease=self.config.lease,
                    room=room,
                )
            )
            started += await self._start(claimed.targets)
            if claimed.more and claimed.targets:
                continue  # the look ended on due work; the accounts just filled are now held
            # The look saw everything due outside the hold. What it left, and what is due on
            # held accounts and platforms, waits for a slot: a freed slot kicks us.
            self._waiting = claimed.left_behind or bool(room.hold.platforms or room.hold.accounts)
            if not claimed.targets:
                self._quiet = (room.hold, claimed.next_at or now + self.config.lease)
            self._arm(claimed.next_at)
            break
        return started

    def _is_quiet(self, hold: queue.Hold, now: datetime) -> bool:
        if self._quiet is None:
            return False
        quiet, until = self._quiet
        covers = quiet.platforms <= hold.platforms and quiet.accounts <= hold.accounts
        return covers and now + EARLY < until

    def _unwritten_room(self) -> int:
        # Outcomes waiting for the writer hold their lease but no slot. Bounding them keeps a
        # slow database from piling up claimed work: claims wait for the writer instead.
        # Two writer batches' worth beyond the slots, so a batch gathering doesn't stall.
        most = self.slots.total + max(self.slots.total, 2 * WRITE_BATCH)
        return most - len(self._leased)

    def _kick(self) -> None:
        """Claim again now, in this process (one claimer; kicks while it runs coalesce)."""
        if self._stopping:
            return
        self._kicked = True
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._run_pump(), name="engine:claim")

    async def _run_pump(self) -> None:
        while self._kicked and not self._stopping:
            self._kicked = False
            try:
                async with self._claim_lock:
                    await self._claim_all()
                    self.last_run_at = self._clock()
            except Exception:
                # The sweep and the timer still come; a broken database must not kill them.
                log.exception("claiming after a freed slot failed; the sweep will retry")

    def _freed(self) -> None:
        """A slot or a writer's place freed up: claim again if work was left waiting, or a
        claim is under way (it may have sized its room before this slot was free)."""
        if self._waiting or self._claim_lock.locked():
            self._kick()

    def _arm(self, nxt: datetime | None) -> None:
        if self._wakeup is None or self._stopping:
            return
        reopen = self.slots.next_reopen()
        if reopen is not None:
            self._wakeup.at(self._clock() + timedelta(seconds=reopen))
        if nxt is not None:
            self._wakeup.at(nxt)

    async def _start(self, targets: list[Target]) -> int:
        """Start what fits; give back what doesn't (its account or platform is full)."""
        targets = await self._defer_over_quota(targets)
        started, give_back = 0, []
        for target in targets:
            if not self.slots.try_take(target.id, target.account.platform, target.account_id):
                give_back.append(target.id)
                continue
            self._leased[target.id] = target.account_id
            task = asyncio.create_task(self._publish(target), name=f"publish:{target.id}")
            self._tasks.add(task)
            task.add_done_callback(partial(self._finished, target_id=target.id))
            started += 1
        if give_back:
            self._quiet = None  # they are claimable again
            await self._db.run(lambda s: queue.release(s, target_ids=give_back, owner=self.owner))
        return started

    async def _defer_over_quota(self, targets: list[Target]) -> list[Target]:
        """A post over its account's quota waits for the window to free up; it does not
        fail (bot/engine/cluster/quotas.py). Returns the targets that may go now."""
        keep, waiting = await self.quotas.split(targets)
        for wait in waiting:
            await self._db.run(
                partial(
                    queue.retry_at,
                    target_id=wait.target.id,
                    owner=self.owner,
                    when=wait.until,
                    error=wait.reason,
                    count_attempt=False,
                )
            )
            self.wake_at(wait.until)
        return keep

    def _finished(self, task: asyncio.Task[None], target_id: int) -> None:
        self._tasks.discard(task)
        self._leased.pop(target_id, None)
        self.slots.done(target_id)  # already freed unless the task was cut short
        if not task.cancelled() and task.exception() is not None:
            log.error("publish task crashed", exc_info=task.exception())
        self._freed()

    # -- one target -------------------------------------------------------------------------

    async def _publish(self, target: Target) -> None:
        account = target.account
        provider = self._registry.get(account.platform)
        started = self._clock()
        t0 = time.monotonic()
        secrets: tuple[str, ...] = ()
        if provider is None:
            outcome = Outcome(error=ProviderError(f"{account.platform} is not supported any more."))
        else:
            try:
                ref = account_ref(account, self._secrets)
                secrets = tuple(
                    v for v in ref.credentials.values() if isinstance(v, str) and len(v) >= 6
                )
                outcome = await self.caller.call(provider, target, ref)
            except asyncio.CancelledError:
                raise  # shutting down mid-publish: the lease expires and recovery decides
            except Exception:
                log.exception("unexpected error publishing target %s", target.id)
                outcome = Outcome(
                    error=TransientError(
                        "An internal error interrupted publishing; the post may or may not be out.",
                        ambiguous=True,
                    )
                )
        decision = self._decide(target, provider, outcome, started)
        await self._trip_breakers(account.platform, account.id, outcome.error)
        # The platform has answered: its slot is free for the next post while this outcome
        # is written down (the lease stays ours until then).
        if self.slots.done(target.id):
            self._freed()
        written = await self.writer.record(
            Record(
                target=target,
                outcome=outcome,
                decision=decision,
                started=started,
                duration_ms=int((time.monotonic() - t0) * 1000),
                label=(outcome.looked or "published") if decision is None else decision.outcome,
                secrets=secrets,
                owner=self.owner,
            )
        )
        if written.notified and self._notifier is not None:
            self._notifier.wake()
        if decision is not None and decision.when is not None:
            self.wake_at(decision.when)

    def _decide(
        self, target: Target, provider: Provider | None, outcome: Outcome, started: datetime
    ) -> Decision | None:
        """What becomes of the target (None: published)."""
        return next_step(
            target, provider, outcome, started=started, policy=self.config.retry, now=self._clock()
        )

    async def _trip_breakers(
        self, platform: str, account_id: int, error: ProviderError | None
    ) -> None:
        keys = (platform_key(platform), account_key(account_id))
        for key, cooldown in self.breakers.observe(keys, error):
            log.warning("circuit breaker %s open for %.0f s", key, cooldown)
            # Every worker's claims leave it alone for the cool-down, not only this one's.
            until = self._clock() + timedelta(seconds=cooldown)
            await self._db.run(partial(turns.open_breaker, key=key, owner=self.owner, until=until))
            if self._on_breaker_open is not None and key.startswith("platform:"):
                await self._on_breaker_open(platform, cooldown)
