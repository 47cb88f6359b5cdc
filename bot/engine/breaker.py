"""Circuit breakers: stop calling a platform (or one account) that keeps failing.

After `threshold` consecutive transient failures a breaker opens: nothing is sent for the
cool-down, and the posts stay queued. Then it half-opens and lets exactly one call probe;
success closes it, failure opens it again for twice as long (up to `max_cooldown`).
Rate limits, auth and permanent errors don't count: the platform answered.

Ours rather than purgatory or aiobreaker: the engine asks before it claims (is it open,
when does it reopen?) so posts stay queued and the timer is armed, and a failed probe
doubles the cool-down; both libraries wrap the call and raise, with a fixed cool-down.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from providers.errors import ProviderError, RateLimited, TransientError


class State(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class _Circuit:
    failures: int = 0
    state: State = State.CLOSED
    open_until: float = 0.0
    cooldown: float = 0.0
    probing: bool = False


class Breakers:
    def __init__(
        self,
        *,
        threshold: int = 5,
        cooldown: float = 60.0,
        max_cooldown: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.base_cooldown = cooldown
        self.max_cooldown = max_cooldown
        self._clock = clock
        self._circuits: dict[str, _Circuit] = {}

    def state(self, key: str) -> State:
        circuit = self._circuits.get(key)
        if circuit is None:
            return State.CLOSED
        if circuit.state == State.OPEN and self._clock() >= circuit.open_until:
            circuit.state = State.HALF_OPEN
            circuit.probing = False
        return circuit.state

    def allows(self, key: str) -> bool:
        """Whether a call may start now (half-open: only the one probe)."""
        state = self.state(key)
        if state == State.CLOSED:
            return True
        if state == State.HALF_OPEN:
            return not self._circuits[key].probing
        return False

    def started(self, key: str) -> None:
        if self.state(key) == State.HALF_OPEN:
            self._circuits[key].probing = True

    def succeeded(self, key: str) -> None:
        self._circuits.pop(key, None)

    def failed(self, key: str) -> bool:
        """Count a transient failure; returns True when this opened the breaker."""
        circuit = self._circuits.setdefault(key, _Circuit())
        state = self.state(key)
        circuit.failures += 1
        if state == State.HALF_OPEN:
            circuit.cooldown = min(self.max_cooldown, circuit.cooldown * 2)
            self._open(circuit)
            return True
        if state == State.CLOSED and circuit.failures >= self.threshold:
            circuit.cooldown = self.base_cooldown
            self._open(circuit)
            return True
        return False

    def observe(self, keys: Sequence[str], error: ProviderError | None) -> list[tuple[str, float]]:
        """A call under these breakers ended with `error` (None: it worked); returns the
        breakers this opened, with their cool-downs. A refusal or a rate limit is an answer:
        the platform is up."""
        if error is None or not isinstance(error, TransientError) or isinstance(error, RateLimited):
            for key in keys:
                self.succeeded(key)
            return []
        return [(key, self.reopens_in(key) or 0.0) for key in keys if self.failed(key)]

    def reopens_in(self, key: str) -> float | None:
        """Seconds until an open breaker lets a probe through."""
        circuit = self._circuits.get(key)
        if circuit is None or self.state(key) != State.OPEN:
            return None
        return max(0.0, circuit.open_until - self._clock())

    def open_keys(self) -> list[str]:
        return [key for key in list(self._circuits) if not self.allows(key)]

    def probe_keys(self) -> list[str]:
        """Half-open breakers still waiting for their one probe."""
        return [
            key
            for key in list(self._circuits)
            if self.state(key) == State.HALF_OPEN and self.allows(key)
        ]

    def _open(self, circuit: _Circuit) -> None:
        circuit.state = State.OPEN
        circuit.open_until = self._clock() + circuit.cooldown
        circuit.probing = False
