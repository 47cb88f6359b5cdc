"""A destination that accepts everything and publishes nothing, so every flow works
without credentials. What it would have sent is kept in memory and logged."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar

from providers.base import (
    AccountRef,
    Limits,
    MediaKind,
    PostContent,
    Provider,
    PublishResult,
    TextCounting,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class DryRunRecord:
    account_id: int
    idempotency_key: str
    post: PostContent


class DryRunProvider(Provider):
    platform: ClassVar[str] = "dryrun"
    display_name: ClassVar[str] = "Dry run"

    def __init__(self) -> None:
        self.limits = Limits(
            max_text=100_000,
            counting=TextCounting.CHARS,
            max_media=20,
            max_images=20,
            max_videos=20,
            mixed_media=True,
            mime_types={kind: frozenset() for kind in MediaKind},  # empty: any type
            alt_text=True,
            threads=True,
            idempotent_publish=True,
            concurrency=50,
        )
        #: Every publish, in order; the same key twice is recorded once.
        self.records: list[DryRunRecord] = []
        # The keys of `records`: a scan of the list per publish made a burst quadratic.
        self._keys: set[str] = set()

    async def publish(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> PublishResult:
        if idempotency_key not in self._keys:
            self._keys.add(idempotency_key)
            self.records.append(
                DryRunRecord(account_id=account.id, idempotency_key=idempotency_key, post=post)
            )
        log.info(
            "dry run: would publish %d characters and %d media item(s) for account %d",
            len(post.text),
            len(post.media),
            account.id,
        )
        return PublishResult(platform_id=f"dryrun-{idempotency_key[:12]}", url=None)
