"""What to do with a target after one publish attempt: pure decisions, no I/O."""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from providers.errors import AuthError, PermanentError, ProviderError, RateLimited, TransientError


class Action(enum.StrEnum):
    RETRY = "retry"  # queue again at `when`
    FAIL = "fail"  # final: the platform will not take it
    UNKNOWN = "unknown"  # final until the user says: it may or may not have gone out
    REAUTH = "reauth"  # hold until the account is reconnected
    PROCESSING = "processing"  # the platform is still at it: ask again at `when`
    CHECK = "check"  # the outcome is unclear: ask the platform at `when` whether it is out


#: The stage of a target whose next step is asking the platform whether it went out
#: (`Provider.lookup`), not publishing it: set with Action.CHECK, cleared by what follows.
CHECKING = "checking whether it went out"


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    max_attempts: int = 5
    base_seconds: float = 120.0
    max_seconds: float = 900.0
    #: Longest platform-requested wait we honour without counting an attempt.
    max_rate_limit_seconds: float = 6 * 3600.0
    #: Rate limits stop being free once the post would go out this late: a platform that
    #: answers 429 for ever must end in a failure the user hears of, not an endless queue.
    max_rate_limited_lateness: timedelta = timedelta(hours=24)

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Exponential backoff for the `attempt`-th failure (1-based), jittered between a
        tenth of the ceiling and the ceiling (so retries of many posts don't line up)."""
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** max(0, attempt - 1))
        return (rng or random).uniform(ceiling / 10, ceiling)


@dataclass(frozen=True, kw_only=True)
class Decision:
    action: Action
    #: For RETRY: when to try again.
    when: datetime | None = None
    #: For RETRY: whether this attempt counts towards max_attempts.
    count_attempt: bool = True
    #: Outcome recorded on the attempt row.
    outcome: str
    reason: str


def decide(
    error: ProviderError,
    *,
    attempts: int,
    idempotent: bool,
    policy: RetryPolicy,
    now: datetime,
    due_at: datetime | None = None,
    rng: random.Random | None = None,
    can_lookup: bool = False,
) -> Decision:
    """The next step after `error` on the `attempts`-th attempt of a target that was due at
    `due_at` (its scheduled time). With `can_lookup`, an attempt that may or may not have
    reached a platform where publishing again could duplicate it is settled by asking it
    first (Action.CHECK); where publishing is idempotent it is simply sent again."""
    if isinstance(error, RateLimited):
        wait = error.retry_after
        until = now + timedelta(seconds=wait)
        if wait <= policy.max_rate_limit_seconds:
            # Free while the post is not too late; after that each wait counts, so a
            # platform that never lets up ends in a failure the user is told about.
            late = due_at is not None and until - due_at > policy.max_rate_limited_lateness
            if late and attempts >= policy.max_attempts:
                return Decision(
                    action=Action.FAIL,
                    outcome="rate_limited",
                    reason=f"{error.message} (still rate-limited after {attempts} attempts)",
                )
            return Decision(
                action=Action.RETRY,
                when=until,
                count_attempt=late,
                outcome="rate_limited",
                reason=error.message,
            )
        error = TransientError(error.message, http_status=error.http_status)
    if isinstance(error, TransientError):
        if error.ambiguous and can_lookup and not idempotent:
            return Decision(
                action=Action.CHECK,
                when=now,
                count_attempt=False,
                outcome="ambiguous",
                reason=error.message,
            )
        if error.ambiguous and not idempotent:
            return Decision(action=Action.UNKNOWN, outcome="ambiguous", reason=error.message)
        if attempts >= policy.max_attempts:
            return Decision(
                action=Action.FAIL,
                outcome="transient",
                reason=f"{error.message} (gave up after {attempts} attempts)",
            )
        delay = policy.backoff(attempts, rng)
        return Decision(
            action=Action.RETRY,
            when=now + timedelta(seconds=delay),
            outcome="ambiguous" if error.ambiguous else "transient",
            reason=error.message,
        )
    if isinstance(error, AuthError):
        return Decision(action=Action.REAUTH, outcome="auth", reason=error.message)
    if isinstance(error, PermanentError):
        return Decision(action=Action.FAIL, outcome="permanent", reason=error.message)
    return Decision(action=Action.FAIL, outcome="permanent", reason=error.message)


def processing(
    retry_after: float, *, now: datetime, since: datetime, timeout: float, platform: str
) -> Decision:
    """The platform answered "still processing": ask again after its advised wait, unless it
    has been at it longer than the platform's time-out (then the post failed, and says why)."""
    if (now - since).total_seconds() > timeout:
        hours = timeout / 3600
        span = f"{hours:g} hours" if hours >= 1 else f"{timeout / 60:g} minutes"
        return Decision(
            action=Action.FAIL,
            outcome="permanent",
            reason=(
                f"{platform} was still processing the post after {span}, so Crier gave up "
                "on it. Check the account on the platform: it may have been published late, "
                "or stopped there."
            ),
        )
    return Decision(
        action=Action.PROCESSING,
        when=now + timedelta(seconds=max(0.0, retry_after)),
        count_attempt=False,
        outcome="processing",
        reason="",
    )
