"""How many publishes may run at once: overall, per platform and per account, and which
platforms or accounts the circuit breakers keep out. Per worker process."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bot.engine.breaker import Breakers
from providers.base import Limits
from providers.registry import Registry
from storage.queue import Hold


@dataclass(frozen=True)
class Running:
    platform: str
    account_id: int


def platform_key(platform: str) -> str:
    return f"platform:{platform}"


def account_key(account_id: int) -> str:
    return f"account:{account_id}"


class Slots:
    def __init__(self, registry: Registry, breakers: Breakers, total: int) -> None:
        self._registry = registry
        self.breakers = breakers
        self.total = total
        self._running: dict[int, Running] = {}  # target id -> where it publishes

    @property
    def free(self) -> int:
        return self.total - len(self._running)

    def running_ids(self) -> list[int]:
        return list(self._running)

    def running_for(self, account_id: int) -> int:
        return sum(r.account_id == account_id for r in self._running.values())

    def is_running(self, target_id: int) -> bool:
        return target_id in self._running

    def _limits(self, platform: str) -> Limits | None:
        provider = self._registry.get(platform)
        return provider.limits if provider else None

    def hold(self) -> Hold:
        """What a claim must skip now: full or broken platforms and accounts."""
        per_platform = Counter(r.platform for r in self._running.values())
        per_account = Counter(r.account_id for r in self._running.values())
        platforms = set()
        for platform in self._registry:
            limits = self._limits(platform)
            full = limits is not None and per_platform[platform] >= limits.platform_concurrency
            if full or not self.breakers.allows(platform_key(platform)):
                platforms.add(platform)
        accounts = set()
        for running in self._running.values():
            limits = self._limits(running.platform)
            if limits is not None and per_account[running.account_id] >= limits.concurrency:
                accounts.add(running.account_id)
        for key in self.breakers.open_keys():
            if key.startswith("account:"):
                accounts.add(int(key.split(":", 1)[1]))
        return Hold(platforms=frozenset(platforms), accounts=frozenset(accounts))

    def try_take(self, target_id: int, platform: str, account_id: int) -> bool:
        """Start a claimed target if its platform and account have room (claims come in
        batches, so several in one batch may share an account)."""
        limits = self._limits(platform)
        if limits is not None:
            same_platform = sum(r.platform == platform for r in self._running.values())
            same_account = sum(r.account_id == account_id for r in self._running.values())
            if same_platform >= limits.platform_concurrency or same_account >= limits.concurrency:
                return False
        for key in (platform_key(platform), account_key(account_id)):
            if not self.breakers.allows(key):
                return False
        for key in (platform_key(platform), account_key(account_id)):
            self.breakers.started(key)
        self._running[target_id] = Running(platform, account_id)
        return True

    def done(self, target_id: int) -> None:
        self._running.pop(target_id, None)

    def next_reopen(self) -> float | None:
        """Seconds until the first open breaker lets a probe through."""
        times = [
            t
            for key in self.breakers.open_keys()
            if (t := self.breakers.reopens_in(key)) is not None
        ]
        return min(times) if times else None
