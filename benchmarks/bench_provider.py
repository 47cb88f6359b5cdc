"""The platform the benchmarks publish to: a dry run that takes as long as a real API call
and declares its limits explicitly, so a benchmark says which limit it measures."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from providers.base import AccountRef, Limits, PostContent, Provider, PublishResult, TextCounting


class BenchProvider(Provider):
    platform: ClassVar[str] = "bench"
    display_name: ClassVar[str] = "Bench"

    def __init__(
        self, *, latency: float = 0.0, concurrency: int = 2, platform_concurrency: int = 10_000
    ) -> None:
        #: Seconds one publish takes (0: answers at once, the engine's own cost alone).
        self.latency = latency
        self.limits = Limits(
            max_text=100_000,
            counting=TextCounting.CHARS,
            idempotent_publish=True,
            concurrency=concurrency,
            platform_concurrency=platform_concurrency,
        )
        #: Publishes by idempotency key (a repeat would be a double publish).
        self.published: dict[str, int] = {}
        self.in_flight: dict[int, int] = {}
        #: Most publishes seen running at once on one account.
        self.max_per_account = 0

    async def publish(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> PublishResult:
        running = self.in_flight[account.id] = self.in_flight.get(account.id, 0) + 1
        self.max_per_account = max(self.max_per_account, running)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            self.published[idempotency_key] = self.published.get(idempotency_key, 0) + 1
            return PublishResult(platform_id=idempotency_key[:16], url=None)
        finally:
            self.in_flight[account.id] -= 1
