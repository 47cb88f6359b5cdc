"""Leases: a claimed target is this worker's until its outcome is written. A heartbeat
renews the leases of publishes in flight (a third of the lease, so two renewals can be
late); a lease that expires means its worker died mid-publish, and recovery decides:
retry where the platform's publish is idempotent, else `unknown` and the user is asked.
Never a silent second publish. Posts held for an account that needs reconnecting are
leased here too when they are a day late, to fail with the reason."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import partial

from bot.engine.after.manage import can_lookup
from bot.engine.outcomes import Outcome, OutcomeWriter, Record
from bot.engine.retry import Action, Decision
from providers.errors import AuthError, TransientError
from providers.registry import Registry
from storage import queue
from storage.db import Database

log = logging.getLogger(__name__)

#: How long posts wait for an account to be reconnected before they fail.
HELD_FOR = timedelta(days=1)


class Leases:
    def __init__(
        self,
        *,
        db: Database,
        registry: Registry,
        writer: OutcomeWriter,
        clock: Callable[[], datetime],
        lease: timedelta,
        owner: str,
        leased: Mapping[int, int],
    ) -> None:
        self._db = db
        self._registry = registry
        self._writer = writer
        self._clock = clock
        self._lease = lease
        self._owner = owner
        #: The engine's targets in flight (target id -> account id), shared, read only here.
        self._leased = leased

    async def recover(self) -> bool:
        """Settle the targets whose worker died mid-publish; True when a notice was written."""
        now = self._clock()
        expired = await self._db.run(lambda s: queue.expired_leases(s, now))
        notified = False
        for target in expired:
            if target.id in self._leased:
                continue  # ours and still running (the heartbeat was late)
            provider = self._registry.get(target.account.platform)
            # A two-phase publish under way is carried on by polling its handle: never a
            # second upload, so retrying is safe whatever the platform.
            idempotent = bool(provider and provider.limits.idempotent_publish) or (
                target.handle is not None
            )
            action = Action.RETRY if idempotent else Action.UNKNOWN
            reason = (
                "The worker publishing this stopped midway; trying again is safe here."
                if idempotent
                else "The worker publishing this stopped midway, so we can't tell whether "
                "it was published."
            )
            # Lookups settle what can't simply be sent again; an idempotent platform can.
            if not idempotent and can_lookup(provider, target):
                # Ask the platform first (bot/engine/after/settle.py): the next turn looks.
                action = Action.CHECK
                reason = (
                    "The worker publishing this stopped midway; checking with "
                    f"{provider.display_name if provider else 'the platform'} whether it is out."
                )
            log.warning("recovering target %s from %s: %s", target.id, target.lease_owner, action)
            written = await self._writer.record(
                Record(
                    target=target,
                    outcome=Outcome(error=TransientError(reason, ambiguous=True)),
                    decision=_decision(action, reason, now),
                    started=target.lease_expires_at or now,
                    duration_ms=0,
                    label="abandoned",
                    owner=None,
                )
            )
            notified = notified or written.notified
        return notified

    async def expire_held(self) -> bool:
        """Posts held for an account that needs reconnecting wait a day past their time, then
        fail with the reason (they are not published a day late without the user knowing);
        True when a notice was written."""
        now = self._clock()
        held = await self._db.run(
            lambda s: queue.lease_held_too_long(
                s, before=now - HELD_FOR, owner=self._owner, until=now + self._lease
            )
        )
        notified = False
        for target in held:
            reason = (
                f"{target.account.label} still needed reconnecting a day after this was due, "
                "so it was not published. Reconnect the account, then press Retry."
            )
            written = await self._writer.record(
                Record(
                    target=target,
                    outcome=Outcome(error=AuthError(reason)),
                    decision=Decision(action=Action.FAIL, outcome="auth", reason=reason),
                    started=now,
                    duration_ms=0,
                    label="auth",
                    owner=self._owner,
                )
            )
            notified = notified or written.notified
        return notified

    async def renew_forever(self) -> None:
        # A third of the lease leaves two renewals' slack; the floor only stops a busy loop.
        interval = max(0.05, self._lease.total_seconds() / 3)
        while True:
            await asyncio.sleep(interval)
            ids = list(self._leased)
            if not ids:
                continue
            until = self._clock() + self._lease
            try:
                await self._db.run(
                    partial(queue.renew_leases, target_ids=ids, owner=self._owner, until=until)
                )
            except Exception:
                log.exception("could not renew leases; retrying at the next beat")


def _decision(action: Action, reason: str, now: datetime) -> Decision:
    return Decision(
        action=action,
        when=now if action in (Action.RETRY, Action.CHECK) else None,
        count_attempt=False,
        outcome="abandoned",
        reason=reason,
    )
