"""Recording publish outcomes: the attempt row, the target's new state, the account's state,
and the one summary DM per settled occurrence, all in one transaction.

Outcomes that finish together are written together (group commit). A successful publish is
retried until it is recorded: losing the platform's id would mean a duplicate later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from html import escape

from sqlalchemy.ext.asyncio import AsyncSession

from bot.engine import reports, series
from bot.engine.after.manage import offers
from bot.engine.hooks import Observers
from bot.engine.options import values as post_options
from bot.engine.retry import CHECKING, Action, Decision
from bot.engine.webhooks import events
from providers.base import Processing, PublishResult
from providers.errors import ProviderError
from providers.http import sanitize
from providers.registry import Registry
from storage import accounts, notices, queue
from storage import after as after_store
from storage import series as series_store
from storage.db import Database
from storage.models import AccountStatus, Post, Target, TargetStatus
from storage.webhooks import NewEvent

log = logging.getLogger(__name__)

#: Most outcomes recorded in one transaction.
WRITE_BATCH = 50
#: A batch of fewer than GATHER_BELOW outcomes waits GATHER_SECONDS for more. A publish's
#: slot is free before its outcome is written, so this delays no publish; it lets the next
#: claims go first, and writes outcomes in fewer transactions (measured on one account
#: with a 0 ms platform, where a claim and a write took turns per pair of posts: 69 -> 134
#: publishes/s; with larger batches waiting gained nothing, so they don't).
GATHER_BELOW = 8
GATHER_SECONDS = 0.02


@dataclass(frozen=True, kw_only=True)
class Outcome:
    result: PublishResult | None = None
    #: A two-phase publish that goes on (what to keep, when to ask again).
    processing: Processing | None = None
    error: ProviderError | None = None
    #: What asking the platform found, when this outcome is a lookup's (after/settle.py):
    #: "found", "not_out", "cant_tell" or "check_failed"; None for a publish.
    looked: str | None = None


@dataclass(frozen=True, kw_only=True)
class Record:
    """One attempt's outcome, waiting to be written."""

    target: Target
    outcome: Outcome
    decision: Decision | None
    started: datetime
    duration_ms: int
    #: "published", or the decision's outcome; "abandoned" for a recovered lease.
    label: str
    #: Values that must not appear in a stored error (the account's credentials).
    secrets: tuple[str, ...] = field(default=(), repr=False)
    #: Whose lease the target is under; None for a recovered (expired) lease.
    owner: str | None = None


@dataclass(frozen=True, kw_only=True)
class Written:
    #: The target's state was changed (False: its lease had been taken back meanwhile).
    held: bool
    #: A summary notice was queued.
    notified: bool
    #: Webhook events were queued in the same transaction (the sender is woken after it).
    events: bool = False


class OutcomeWriter:
    def __init__(
        self,
        db: Database,
        registry: Registry,
        clock: Callable[[], datetime],
        observers: Observers | None = None,
    ) -> None:
        self._db = db
        self._registry = registry
        self._clock = clock
        self._observers = observers or Observers()
        self._queue: list[tuple[Record, asyncio.Future[Written]]] = []
        self._task: asyncio.Task[None] | None = None
        self._on_events: Callable[[], None] | None = None

    def on_events(self, wake: Callable[[], None]) -> None:
        """Call `wake` after a write that queued webhook events (the sender's wake-up)."""
        self._on_events = wake

    async def record(self, record: Record) -> Written:
        future: asyncio.Future[Written] = asyncio.get_running_loop().create_future()
        self._queue.append((record, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="outcomes:writer")
        # Shielded: a shutdown cancelling the publish task must not cancel the recording.
        return await asyncio.shield(future)

    async def flush(self) -> None:
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def _drain(self) -> None:
        while self._queue:
            if len(self._queue) < GATHER_BELOW:
                await asyncio.sleep(GATHER_SECONDS)
            batch, self._queue = self._queue[:WRITE_BATCH], self._queue[WRITE_BATCH:]
            records = [record for record, _ in batch]
            results: list[Written | BaseException]
            try:
                results = list(await self._db.run(partial(self.write, batch=records)))
            except Exception:
                log.exception("recording %d outcomes together failed; one by one", len(batch))
                results = [await self._write_alone(record) for record in records]
            if self._on_events is not None and any(
                isinstance(r, Written) and r.events for r in results
            ):
                self._on_events()
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)

    async def _write_alone(self, record: Record) -> Written | BaseException:
        delay = 0.5
        while True:
            try:
                [written] = await self._db.run(lambda s: self.write(s, [record]))
                return written
            except Exception as exc:
                if record.outcome.result is None:
                    return exc  # the lease expires and recovery takes the target back
                log.exception("could not record published target %s; retrying", record.target.id)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def write(self, session: AsyncSession, batch: Sequence[Record]) -> list[Written]:
        now = self._clock()
        attempts: list[dict[str, object]] = []
        finals: dict[queue.Occurrence, Post] = {}
        held_flags: list[bool] = []
        settled_events: list[NewEvent] = []
        # Published targets are settled together: a statement per kind, not per target
        # (building and running one UPDATE each was most of a burst's writing time).
        published = await self._complete(session, batch, now)
        for record in batch:
            target, outcome, decision = record.target, record.outcome, record.decision
            error = outcome.error
            if error is not None:
                reason: str | None = sanitize(error.message, record.secrets)
            else:  # processing that took too long fails with the decision's own reason
                reason = decision.reason if decision is not None and decision.reason else None
            attempts.append(
                {
                    "target_id": target.id,
                    "started_at": record.started,
                    "duration_ms": record.duration_ms,
                    "outcome": record.label,
                    "http_status": error.http_status if error else None,
                    "error": reason,
                    "worker": record.owner or target.lease_owner,
                }
            )
            if outcome.result is not None:
                held = target.id in published
                final = True
            else:
                assert decision is not None
                held = await self._apply(session, record, decision, reason or "")
                final = decision.action in (Action.FAIL, Action.UNKNOWN)
            if not held:
                log.warning("target %s was taken back before its outcome was recorded", target.id)
            elif final:
                finals[(target.post_id, target.occurrence)] = target.post
                settled_events.append(_event(record, reason, now))
            held_flags.append(held)
        await queue.record_attempts(session, attempts)
        queued_events = await events.emit(session, settled_events, now)
        settled = await queue.settle_occurrences(session, finals, now)
        # A settled occurrence of a repeating post queues the next one, in this transaction.
        repeating = await series_store.repeating(session, (post_id for post_id, _ in settled))
        following = {
            k: await series.advance(session, k[0], t, now) if k[0] in repeating else None
            for k, t in settled.items()
        }
        names = {name: provider.display_name for name, provider in self._registry.items()}
        summaries = []
        for key, targets in settled.items():
            post = finals[key]
            if not post.notify:  # made through the API with notify: false
                continue
            out = [t for t in targets if t.status == TargetStatus.PUBLISHED]
            text, buttons = reports.summary(post, targets, names, offers(self._registry, out))
            text += series.summary_line(following[key], now)
            summaries.append(
                {
                    "user_id": post.user_id,
                    "chat_id": post.user.chat_id,
                    "text": text,
                    "buttons": buttons,
                    "kind": notices.SUMMARY,
                }
            )
        await notices.enqueue_many(session, summaries, now)
        self._observe(batch, held_flags, now)
        return [
            Written(
                held=held,
                notified=(r.target.post_id, r.target.occurrence) in settled,
                events=queued_events > 0,
            )
            for r, held in zip(batch, held_flags, strict=True)
        ]

    async def _complete(
        self, session: AsyncSession, batch: Sequence[Record], now: datetime
    ) -> set[int]:
        """Mark the batch's published targets published; returns those still ours."""
        by_owner: dict[str, list[queue.Done]] = {}
        for record in batch:
            result = record.outcome.result
            if result is not None:
                by_owner.setdefault(record.owner or "", []).append(
                    queue.Done(
                        target_id=record.target.id,
                        platform_post_id=result.platform_id,
                        url=result.url,
                        ref=dict(result.ref) or None,
                        notes=list(result.notes) or None,
                        delete_at=post_options.delete_at_for(
                            record.target.post.options,
                            record.target.account.config,
                            record.target.account.platform,
                            now,
                        ),
                    )
                )
        held: set[int] = set()
        for owner, done in by_owner.items():
            held |= await queue.complete_many(session, done=done, owner=owner, now=now)
        return held

    def _observe(self, batch: Sequence[Record], held: list[bool], now: datetime) -> None:
        """Tell the observers (Prometheus counters: per process, once per attempt)."""
        for record, was_held in zip(batch, held, strict=True):
            platform = record.target.account.platform
            self._observers.observe_attempt(platform, record.label, record.duration_ms / 1000)
            if not was_held:
                continue
            if record.outcome.result is not None:
                delay = (record.started - record.target.publish_at).total_seconds()
                self._observers.observe_published(platform, max(0.0, delay))
            elif record.decision is not None and record.decision.action in (
                Action.FAIL,
                Action.UNKNOWN,
            ):
                status = "unknown" if record.decision.action == Action.UNKNOWN else "failed"
                self._observers.observe_failed(platform, status)

    async def _apply(
        self, session: AsyncSession, record: Record, decision: Decision, reason: str
    ) -> bool:
        target = record.target
        if record.owner is None:
            # A recovered lease: only if it is still the abandoned one.
            again = decision.action in (Action.RETRY, Action.CHECK)
            status = TargetStatus.QUEUED if again else TargetStatus.UNKNOWN
            released = await queue.release_expired(
                session,
                target_id=target.id,
                lease_owner=target.lease_owner,
                now=self._clock(),
                status=status,
                error=reason,
            )
            return await self._checking(session, record, decision, released)
        held = await self._transition(session, record, decision, reason)
        return await self._checking(session, record, decision, held)

    async def _checking(
        self, session: AsyncSession, record: Record, decision: Decision, held: bool
    ) -> bool:
        """A CHECK makes the target's next step a lookup; what follows one makes it a publish
        again (or ends it)."""
        if decision.action == Action.REAUTH:
            return held  # held for reconnecting: its next step stays what it was
        checking = decision.action == Action.CHECK
        if held and (checking or record.target.stage == CHECKING):
            stage = CHECKING if checking else None
            await after_store.set_checking(session, record.target.id, stage)
        return held

    async def _transition(
        self, session: AsyncSession, record: Record, decision: Decision, reason: str
    ) -> bool:
        target = record.target
        assert record.owner is not None
        if decision.action in (Action.RETRY, Action.CHECK):
            assert decision.when is not None
            return await queue.retry_at(
                session,
                target_id=target.id,
                owner=record.owner,
                when=decision.when,
                error=reason,
                count_attempt=decision.count_attempt,
            )
        if decision.action == Action.PROCESSING:
            processing = record.outcome.processing
            assert processing is not None
            assert decision.when is not None
            return await queue.processing(
                session,
                target_id=target.id,
                owner=record.owner,
                handle=dict(processing.handle),
                stage=processing.stage,
                when=decision.when,
                since=record.started,
            )
        if decision.action == Action.REAUTH:
            return await self._hold_for_reauth(session, record, reason)
        status = TargetStatus.UNKNOWN if decision.action == Action.UNKNOWN else TargetStatus.FAILED
        return await queue.fail(
            session, target_id=target.id, owner=record.owner, error=reason, status=status
        )

    async def _hold_for_reauth(self, session: AsyncSession, record: Record, reason: str) -> bool:
        """The account needs reconnecting: hold its posts (queued, not claimable while the
        account isn't active) and tell the user once."""
        target, account = record.target, record.target.account
        newly = await accounts.set_status(
            session,
            account.user_id,
            account.id,
            AccountStatus.NEEDS_REAUTH,
            reason,
            only_from=AccountStatus.ACTIVE,
        )
        held = await queue.retry_at(
            session,
            target_id=target.id,
            owner=record.owner or "",
            when=self._clock(),
            error=reason,
            count_attempt=False,
        )
        if held and newly:
            await notices.enqueue(
                session,
                user_id=account.user_id,
                chat_id=target.post.user.chat_id,
                text=(
                    f"🔑 <b>{escape(account.label)}</b> needs reconnecting: {escape(reason)}\n\n"
                    "Your posts to it are on hold, not lost: they go out once you reconnect "
                    "it with /connect."
                ),
                now=self._clock(),
            )
        return held


def _event(record: Record, reason: str | None, now: datetime) -> NewEvent:
    """The webhook event of a target that reached a final state with this record."""
    result = record.outcome.result
    if result is not None:
        return events.for_target(
            record.target, TargetStatus.PUBLISHED, url=result.url, error=None, now=now
        )
    # A recovered lease that won't be retried is unknown, never failed (see _apply).
    unknown = record.owner is None or (
        record.decision is not None and record.decision.action == Action.UNKNOWN
    )
    status = TargetStatus.UNKNOWN if unknown else TargetStatus.FAILED
    return events.for_target(record.target, status, url=None, error=reason, now=now)
