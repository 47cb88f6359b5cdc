"""What follows asking a platform whether a post whose answer was lost is out (pure
decisions, bot/engine/after/settle.py), and when the engine asks at all (retry.decide)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.engine.after.settle import CANT_TELL, CHECK_FAILED, FOUND, NOT_OUT, decision
from bot.engine.outcomes import Outcome
from bot.engine.retry import Action, Decision, RetryPolicy, decide
from providers.base import PublishResult
from providers.errors import AuthError, TransientError

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=5)
LOST = TransientError("X took too long; the post may or may not be out.", ambiguous=True)


def _after(outcome: Outcome, *, attempts: int = 1, idempotent: bool = False) -> Decision:
    said = decision(
        outcome, attempts=attempts, idempotent=idempotent, policy=POLICY, now=NOW, name="X"
    )
    assert said is not None
    return said


def test_a_lost_answer_is_checked_first_where_the_platform_can_be_asked() -> None:
    said = decide(LOST, attempts=1, idempotent=False, policy=POLICY, now=NOW, can_lookup=True)
    assert (said.action, said.when, said.count_attempt) == (Action.CHECK, NOW, False)
    # Where publishing is idempotent, sending it again under the same key is the check.
    said = decide(LOST, attempts=1, idempotent=True, policy=POLICY, now=NOW, can_lookup=True)
    assert said.action == Action.RETRY
    assert decide(LOST, attempts=1, idempotent=False, policy=POLICY, now=NOW).action == (
        Action.UNKNOWN
    )


def test_found_is_published() -> None:
    found = Outcome(result=PublishResult(platform_id="1"), looked=FOUND)
    assert decision(found, attempts=1, idempotent=False, policy=POLICY, now=NOW, name="X") is None


def test_not_out_publishes_again_now_until_the_last_attempt() -> None:
    outcome = Outcome(error=TransientError("not out"), looked=NOT_OUT)
    again = _after(outcome)
    assert again.action == Action.RETRY
    assert again.when == NOW
    assert _after(outcome, attempts=5).action == Action.FAIL


@pytest.mark.parametrize(("idempotent", "action"), [(False, Action.UNKNOWN), (True, Action.RETRY)])
def test_cant_tell_is_what_it_was_before_looking(idempotent: bool, action: Action) -> None:
    said = _after(Outcome(error=LOST, looked=CANT_TELL), idempotent=idempotent)
    if idempotent:  # at once: the same idempotency key can't make a second post
        assert said.when == NOW
    assert said.action == action
    assert said.outcome == CANT_TELL


def test_a_platform_that_cant_be_asked_is_asked_later_then_the_user_is() -> None:
    down = Outcome(error=TransientError("503"), looked=CHECK_FAILED)
    later = _after(down)
    assert later.action == Action.CHECK
    assert later.when is not None
    assert later.when > NOW
    assert _after(down, attempts=5).action == Action.UNKNOWN
    expired = Outcome(error=AuthError("token expired"), looked=CHECK_FAILED)
    assert _after(expired).action == Action.REAUTH
