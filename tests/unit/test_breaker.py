"""Circuit breakers open after consecutive failures, half-open for one probe, back off."""

from __future__ import annotations

from bot.engine.breaker import Breakers, State


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_threshold_consecutive_failures_only() -> None:
    clock = Clock()
    breakers = Breakers(threshold=3, cooldown=60, clock=clock)
    assert not breakers.failed("p")
    assert not breakers.failed("p")
    breakers.succeeded("p")  # a success in between resets the count
    assert not breakers.failed("p")
    assert not breakers.failed("p")
    assert breakers.failed("p")
    assert breakers.state("p") == State.OPEN
    assert not breakers.allows("p")
    assert breakers.reopens_in("p") == 60
    assert breakers.allows("other")


def test_half_open_lets_exactly_one_probe_and_closes_on_success() -> None:
    clock = Clock()
    breakers = Breakers(threshold=1, cooldown=60, clock=clock)
    breakers.failed("p")
    clock.now += 60
    assert breakers.state("p") == State.HALF_OPEN
    assert breakers.allows("p")
    breakers.started("p")
    assert not breakers.allows("p"), "a second call while the probe is out"
    breakers.succeeded("p")
    assert breakers.state("p") == State.CLOSED
    assert breakers.allows("p")


def test_a_failed_probe_reopens_for_twice_as_long_up_to_the_cap() -> None:
    clock = Clock()
    breakers = Breakers(threshold=1, cooldown=60, max_cooldown=200, clock=clock)
    breakers.failed("p")
    for expected in (120, 200, 200):
        clock.now += 1000
        breakers.started("p")
        assert breakers.failed("p")
        assert breakers.reopens_in("p") == expected
