"""How much work a worker may take now: what a claim must skip, and how many targets fit
in all, per platform and per account. Plain data the engine fills in and the queue reads,
so a claim takes only what the worker can start (nothing claimed is handed straight back).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace


@dataclass(frozen=True, kw_only=True)
class Hold:
    """Targets the engine must leave alone for now (open circuit breakers, full slots)."""

    platforms: frozenset[str] = frozenset()
    accounts: frozenset[int] = frozenset()


NO_HOLD = Hold()


@dataclass(frozen=True, kw_only=True)
class Room:
    """Free publishing slots of one worker."""

    #: Free slots in all.
    total: int
    #: Platforms and accounts with no room at all; the claim's query skips them.
    hold: Hold = NO_HOLD
    #: Free slots per platform; a platform not named is limited by `total` alone.
    platforms: Mapping[str, int] = field(default_factory=dict)
    #: Most publishes at once to one account, per platform.
    account_cap: Mapping[str, int] = field(default_factory=dict)
    #: Free slots of accounts already partly in use (publishing, or a breaker's one probe).
    accounts: Mapping[int, int] = field(default_factory=dict)
    #: Most publishes at once across every worker on the database (None: no such cap).
    cluster_cap: int | None = None

    def less(self, busy: Iterable[tuple[int, str, int]], running: int) -> Room:
        """This room less what other workers are publishing now: (account id, platform,
        count) under their live leases, and `running`, publishes in every worker. What
        fills up is held, so the claim's look skips it."""
        platforms = dict(self.platforms)
        accounts = dict(self.accounts)
        held_platforms = set(self.hold.platforms)
        held_accounts = set(self.hold.accounts)
        for account_id, platform, count in busy:
            if platform in platforms:
                platforms[platform] -= count
                if platforms[platform] <= 0:
                    held_platforms.add(platform)
            cap = self.account_cap.get(platform)
            if cap is not None:
                accounts[account_id] = accounts.get(account_id, cap) - count
                if accounts[account_id] <= 0:
                    held_accounts.add(account_id)
        total = self.total
        if self.cluster_cap is not None:
            total = min(total, self.cluster_cap - running)
        return replace(
            self,
            total=max(0, total),
            hold=Hold(platforms=frozenset(held_platforms), accounts=frozenset(held_accounts)),
            platforms=platforms,
            accounts=accounts,
        )

    def pick(self, candidates: Iterable[tuple[int, int, str]]) -> list[int]:
        """The ids, in the order given, of the (target id, account id, platform) candidates
        that fit together."""
        left = self.total
        platforms = dict(self.platforms)
        accounts = dict(self.accounts)
        picked: list[int] = []
        for target_id, account_id, platform in candidates:
            if left <= 0:
                break
            account_left = accounts.get(account_id, self.account_cap.get(platform, left))
            platform_left = platforms.get(platform, left)
            if account_left <= 0 or platform_left <= 0:
                continue
            accounts[account_id] = account_left - 1
            platforms[platform] = platform_left - 1
            left -= 1
            picked.append(target_id)
        return picked
