"""What the engine does after each kind of failure."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bot.engine.retry import Action, Decision, RetryPolicy, decide
from providers.errors import AuthError, PermanentError, RateLimited, TransientError

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=5, base_seconds=60, max_seconds=900)


def test_transient_errors_back_off_exponentially_within_the_cap() -> None:
    rng = random.Random(1)
    ceilings = [60, 120, 240, 480]
    for attempt, ceiling in enumerate(ceilings, start=1):
        decision = decide(
            TransientError("502"),
            attempts=attempt,
            idempotent=False,
            policy=POLICY,
            now=NOW,
            rng=rng,
        )
        assert decision.action == Action.RETRY
        assert decision.when is not None
        assert timedelta(seconds=ceiling / 10) <= decision.when - NOW <= timedelta(seconds=ceiling)
    capped = POLICY.backoff(20, rng)
    assert capped <= 900


def test_transient_errors_give_up_after_max_attempts() -> None:
    decision = decide(TransientError("502"), attempts=5, idempotent=True, policy=POLICY, now=NOW)
    assert decision.action == Action.FAIL
    assert "gave up after 5 attempts" in decision.reason


def test_rate_limits_wait_exactly_what_the_platform_said_without_counting() -> None:
    decision = decide(RateLimited(42), attempts=5, idempotent=False, policy=POLICY, now=NOW)
    assert decision.action == Action.RETRY
    assert decision.when == NOW + timedelta(seconds=42)
    assert decision.count_attempt is False


def test_rate_limits_stop_being_free_once_the_post_is_a_day_late() -> None:
    def after(attempts: int, due: datetime) -> Decision:
        return decide(
            RateLimited(600), attempts=attempts, idempotent=True, policy=POLICY, now=NOW, due_at=due
        )

    on_time = after(3, NOW - timedelta(hours=2))
    assert on_time.action == Action.RETRY
    assert on_time.count_attempt is False
    a_day_late = NOW - timedelta(hours=24)
    counted = after(3, a_day_late)
    assert counted.action == Action.RETRY
    assert counted.when == NOW + timedelta(seconds=600)  # still what the platform asked
    assert counted.count_attempt is True
    given_up = after(5, a_day_late)
    assert given_up.action == Action.FAIL
    assert "still rate-limited after 5 attempts" in given_up.reason


def test_an_absurd_rate_limit_wait_counts_as_a_transient_failure() -> None:
    decision = decide(RateLimited(10 * 86400), attempts=1, idempotent=False, policy=POLICY, now=NOW)
    assert decision.action == Action.RETRY
    assert decision.count_attempt is True


@pytest.mark.parametrize(("idempotent", "action"), [(True, Action.RETRY), (False, Action.UNKNOWN)])
def test_ambiguous_failures_are_retried_only_when_idempotent(
    idempotent: bool, action: Action
) -> None:
    error = TransientError("timed out", ambiguous=True)
    decision = decide(error, attempts=1, idempotent=idempotent, policy=POLICY, now=NOW)
    assert decision.action == action


def test_auth_errors_hold_for_reconnection_and_permanent_errors_fail() -> None:
    assert decide(AuthError(), attempts=1, idempotent=True, policy=POLICY, now=NOW).action == (
        Action.REAUTH
    )
    permanent = decide(
        PermanentError("too long"), attempts=1, idempotent=True, policy=POLICY, now=NOW
    )
    assert (permanent.action, permanent.reason) == (Action.FAIL, "too long")
