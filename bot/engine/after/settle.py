"""Settling an unknown outcome by asking first. When the answer to a publish was lost (a
time-out after sending, a worker that died mid-publish) on a platform whose adapter can look
(`AfterPublish.can_lookup`), the engine marks the target CHECKING and its next turn is a
`lookup` instead of a publish:

- the post is out: published, with its link, and nobody is asked;
- it is not: published again under the same idempotency key, which is then safe;
- the platform can't tell: published again at once where publishing is idempotent (the
  same key can't add a second post), else *unknown*, and the user is asked;
- the platform can't be asked now: asked again later (backoff), and after the last attempt
  the user is asked.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from bot.engine.content import post_content
from bot.engine.outcomes import Outcome
from bot.engine.retry import CHECKING, Action, Decision, RetryPolicy, decide
from providers.base import AccountRef, NotPublished, Provider, PublishResult
from providers.errors import ProviderError, TransientError
from storage.models import Target

FOUND = "found"
NOT_OUT = "not_out"
CANT_TELL = "cant_tell"
CHECK_FAILED = "check_failed"


def checking(target: Target) -> bool:
    """The target's next step is a lookup (a two-phase publish's handle always wins)."""
    return target.stage == CHECKING and target.handle is None


async def look(
    provider: Provider, target: Target, ref: AccountRef, media_dir: Path, seconds: float
) -> Outcome:
    """Ask the platform whether the target's post is out; never publishes."""
    content = post_content(target.post, target.account_id, media_dir, ref.platform)
    name = provider.display_name
    try:
        found = await asyncio.wait_for(
            provider.lookup(content, ref, target.idempotency_key), seconds
        )
    except TimeoutError:
        return Outcome(
            error=TransientError(f"{name} didn't say in time whether the post is out."),
            looked=CHECK_FAILED,
        )
    except ProviderError as exc:
        return Outcome(error=exc, looked=CHECK_FAILED)
    if isinstance(found, PublishResult):
        return Outcome(result=found, looked=FOUND)
    if isinstance(found, NotPublished):
        said = f"{name} says the post is not out ({found.reason}); publishing it again."
        return Outcome(error=TransientError(said), looked=NOT_OUT)
    earlier = target.last_error or f"{name} didn't answer; the post may or may not be out."
    return Outcome(error=TransientError(earlier, ambiguous=True), looked=CANT_TELL)


def decision(
    outcome: Outcome,
    *,
    attempts: int,
    idempotent: bool,
    policy: RetryPolicy,
    now: datetime,
    name: str,
) -> Decision | None:
    """What follows a lookup (None: the post is out)."""
    error = outcome.error
    if outcome.looked == FOUND or error is None:
        return None
    if outcome.looked == NOT_OUT:
        if attempts >= policy.max_attempts:
            return Decision(
                action=Action.FAIL,
                outcome=NOT_OUT,
                reason=f"{error.message} (gave up after {attempts} attempts)",
            )
        return Decision(action=Action.RETRY, when=now, outcome=NOT_OUT, reason=error.message)
    if outcome.looked == CANT_TELL:
        if idempotent and attempts < policy.max_attempts:
            # Publishing again under the same key can't add a second post: no backoff (it
            # left posts recovered from a dead worker waiting minutes for nothing).
            return Decision(action=Action.RETRY, when=now, outcome=CANT_TELL, reason=error.message)
        said = decide(error, attempts=attempts, idempotent=idempotent, policy=policy, now=now)
        return Decision(
            action=said.action,
            when=said.when,
            count_attempt=said.count_attempt,
            outcome=CANT_TELL,
            reason=said.reason,
        )
    # The platform couldn't be asked: an expired token is reconnected like for a publish;
    # anything else is asked again later, and in the end the user is.
    said = decide(error, attempts=attempts, idempotent=True, policy=policy, now=now)
    if said.action == Action.RETRY:
        return Decision(
            action=Action.CHECK,
            when=said.when or now + timedelta(seconds=policy.base_seconds),
            count_attempt=said.count_attempt,
            outcome=CHECK_FAILED,
            reason=f"Couldn't ask {name} whether the post is out ({error.message}); "
            "asking again later.",
        )
    if said.action == Action.FAIL:
        return Decision(
            action=Action.UNKNOWN,
            outcome=CHECK_FAILED,
            reason=f"{name} couldn't say whether the post is out ({error.message}).",
        )
    return Decision(
        action=said.action,
        when=said.when,
        count_attempt=said.count_attempt,
        outcome=CHECK_FAILED,
        reason=said.reason,
    )
