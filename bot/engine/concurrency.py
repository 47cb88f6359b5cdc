"""How many publishes may run at once: overall, per platform and per account, and which
platforms or accounts the circuit breakers keep out, as this worker knows them; the claim
(storage/claims.py) takes off what other workers are publishing, so the per-platform and
per-account limits hold across processes.

A slot is held while the platform's API is being called, not while the outcome is written
down: the limits are about calls to the platform, and the next post of an account should
not wait for the database to record the previous one."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bot.engine.breaker import Breakers, State
from providers.base import Limits
from providers.registry import Registry
from storage.room import Hold, Room


@dataclass(frozen=True)
class Running:
    platform: str
    account_id: int


def platform_key(platform: str) -> str:
    return f"platform:{platform}"


def account_key(account_id: int) -> str:
    return f"account:{account_id}"


class Slots:
    def __init__(
        self, registry: Registry, breakers: Breakers, total: int, cluster_cap: int | None = None
    ) -> None:
        self._registry = registry
        self.breakers = breakers
        self.total = total
        self.cluster_cap = cluster_cap
        self._running: dict[int, Running] = {}  # target id -> where it publishes
        # Kept in step with _running: a burst asks these on every claim and start.
        self._per_platform: Counter[str] = Counter()
        self._per_account: Counter[int] = Counter()
        self._account_platform: dict[int, str] = {}

    @property
    def free(self) -> int:
        return self.total - len(self._running)

    @property
    def running(self) -> int:
        return len(self._running)

    def running_ids(self) -> list[int]:
        return list(self._running)

    def running_for(self, account_id: int) -> int:
        return self._per_account[account_id]

    def is_running(self, target_id: int) -> bool:
        return target_id in self._running

    def _limits(self, platform: str) -> Limits | None:
        provider = self._registry.get(platform)
        return provider.limits if provider else None

    def hold(self) -> Hold:
        """What a claim must skip now: full or broken platforms and accounts."""
        return self.room(self.free).hold

    def room(self, total: int) -> Room:
        """What a claim of at most `total` targets may take now."""
        held_platforms: set[str] = set()
        platform_room: dict[str, int] = {}
        account_cap: dict[str, int] = {}
        for platform in self._registry:
            limits = self._limits(platform)
            if limits is None:
                continue
            left = limits.platform_concurrency - self._per_platform[platform]
            key = platform_key(platform)
            if not self.breakers.allows(key):
                left = 0
            elif self.breakers.state(key) == State.HALF_OPEN:
                left = min(left, 1)  # the breaker lets one probe through
            platform_room[platform] = left
            account_cap[platform] = limits.concurrency
            if left <= 0:
                held_platforms.add(platform)
        held_accounts: set[int] = set()
        account_room: dict[int, int] = {}
        for account_id, count in self._per_account.items():
            cap = account_cap.get(self._account_platform[account_id])
            if cap is not None:
                account_room[account_id] = cap - count
                if cap - count <= 0:
                    held_accounts.add(account_id)
        for key in self.breakers.open_keys():
            if key.startswith("account:"):
                held_accounts.add(int(key.split(":", 1)[1]))
        for key in self.breakers.probe_keys():
            if key.startswith("account:"):
                account_id = int(key.split(":", 1)[1])
                account_room[account_id] = min(account_room.get(account_id, 1), 1)
        return Room(
            total=total,
            hold=Hold(platforms=frozenset(held_platforms), accounts=frozenset(held_accounts)),
            platforms=platform_room,
            account_cap=account_cap,
            accounts=account_room,
            cluster_cap=self.cluster_cap,
        )

    def try_take(self, target_id: int, platform: str, account_id: int) -> bool:
        """Start a claimed target if its platform and account have room and its breakers
        let it through (a claim already took only what fitted; this is the last word)."""
        limits = self._limits(platform)
        if limits is not None and (
            self._per_platform[platform] >= limits.platform_concurrency
            or self._per_account[account_id] >= limits.concurrency
        ):
            return False
        for key in (platform_key(platform), account_key(account_id)):
            if not self.breakers.allows(key):
                return False
        for key in (platform_key(platform), account_key(account_id)):
            self.breakers.started(key)
        self._running[target_id] = Running(platform, account_id)
        self._per_platform[platform] += 1
        self._per_account[account_id] += 1
        self._account_platform[account_id] = platform
        return True

    def done(self, target_id: int) -> bool:
        """Free the target's slot; False if it held none (already freed)."""
        running = self._running.pop(target_id, None)
        if running is None:
            return False
        self._per_platform[running.platform] -= 1
        self._per_account[running.account_id] -= 1
        if not self._per_account[running.account_id]:
            del self._per_account[running.account_id]
            del self._account_platform[running.account_id]
        return True

    def next_reopen(self) -> float | None:
        """Seconds until the first open breaker lets a probe through."""
        times = [
            t
            for key in self.breakers.open_keys()
            if (t := self.breakers.reopens_in(key)) is not None
        ]
        return min(times) if times else None
