"""How much work a worker may take now: what a claim must skip, and how many targets fit
in all, per platform and per account. Plain data the engine fills in and the queue reads,
so a claim takes only what the worker can start (nothing claimed is handed straight back).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


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
