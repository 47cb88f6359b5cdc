"""A destination that accepts everything and publishes nothing, so every flow works
without credentials. What it would have sent is kept in memory and logged.

It can do everything after publishing too (delete, edit, look up), so the bot's buttons for
them can be tried without any account: `PublishResult.ref` holds {"key", "parts"}.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import ClassVar

from providers.base import (
    AccountRef,
    AfterPublish,
    Limits,
    MediaKind,
    NotPublished,
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
            url_buttons=True,
            idempotent_publish=True,
            concurrency=50,
        )
        self.after_publish = AfterPublish(
            can_delete=True,
            can_edit_text=True,
            can_edit_media=True,
            can_edit_buttons=True,
            can_lookup=True,
        )
        #: Every publish, in order; the same key twice is recorded once. Deleting removes the
        #: record; editing replaces its post.
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
        return _result(idempotency_key, post)

    async def delete(self, published: PublishResult, account: AccountRef) -> None:
        record = self._of(published)
        if record is not None:
            self.records.remove(record)
            self._keys.discard(record.idempotency_key)
        log.info("dry run: would delete %s for account %d", published.platform_id, account.id)

    async def edit(
        self,
        published: PublishResult,
        post: PostContent,
        account: AccountRef,
        *,
        media_changed: bool = False,
    ) -> PublishResult:
        self.ensure_editable(published, post, account, media_changed=media_changed)
        record = self._of(published)
        if record is not None:
            index = self.records.index(record)
            self.records[index] = dataclasses.replace(record, post=post)
        log.info("dry run: would edit %s for account %d", published.platform_id, account.id)
        return dataclasses.replace(published, ref={**published.ref, "parts": len(post.parts)})

    async def lookup(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> PublishResult | NotPublished | None:
        record = self._find(idempotency_key) if idempotency_key in self._keys else None
        if record is None:
            return NotPublished(reason="The dry run recorded nothing with this key.")
        return _result(idempotency_key, record.post)

    def _find(self, key: str) -> DryRunRecord | None:
        return next((r for r in self.records if r.idempotency_key == key), None)

    def _of(self, published: PublishResult) -> DryRunRecord | None:
        key = published.ref.get("key")
        if key is not None:
            return self._find(str(key))
        return next(
            (r for r in self.records if _platform_id(r.idempotency_key) == published.platform_id),
            None,
        )


def _platform_id(key: str) -> str:
    return f"dryrun-{key[:12]}"


def _result(key: str, post: PostContent) -> PublishResult:
    return PublishResult(
        platform_id=_platform_id(key), url=None, ref={"key": key, "parts": len(post.parts)}
    )
