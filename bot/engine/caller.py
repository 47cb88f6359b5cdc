"""One call to a platform for one target: the post prepared for the account's platform
(text and media adapted, `content.prepare_for`), `publish` within the time limit, and on an
auth error one refresh of the credentials and one more try. A target with a handle is a
two-phase publish under way: it is carried on with `poll` (never published again). A target
whose last answer was lost is first looked up (after/settle.py), never published blindly.
`next_step` says what becomes of the target after the call."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.engine.after import settle
from bot.engine.after.manage import can_lookup
from bot.engine.content import prepare_for
from bot.engine.outcomes import Outcome
from bot.engine.retry import Decision, RetryPolicy, decide, processing
from bot.media.links import MediaLinks
from providers.base import AccountRef, PostContent, Processing, Provider, PublishResult
from providers.errors import AuthError, PermanentError, ProviderError, TransientError
from storage import accounts
from storage.db import Database
from storage.models import Target
from storage.secrets import SecretBox


class Caller:
    def __init__(
        self,
        *,
        db: Database,
        secrets: SecretBox,
        media_dir: Path,
        timeout: float,
        links: MediaLinks | None = None,
    ) -> None:
        self._db = db
        self._secrets = secrets
        self._media_dir = media_dir
        self.timeout = timeout
        #: Signed links for platforms that fetch media (None: PUBLIC_URL is not set).
        self._links = links

    async def call(self, provider: Provider, target: Target, ref: AccountRef) -> Outcome:
        """Publish; on an auth error refresh the credentials once and try again."""
        if settle.checking(target):  # the last answer was lost: look, don't publish
            return await settle.look(provider, target, ref, self._media_dir, self.timeout)
        try:
            # Adapted to this platform (resized, converted, location removed), cached.
            content = await prepare_for(target.post, ref, provider, self._media_dir)
            content = self._linked(provider, ref, content)
            return _outcome(await self._timed(provider, content, ref, target))
        except AuthError as refused:
            try:
                fresh = await provider.refresh(ref)
            except ProviderError:
                return Outcome(error=refused)
            await self._store_credentials(target, fresh)
            ref = dataclasses.replace(ref, credentials=dict(fresh))
            try:
                return _outcome(await self._timed(provider, content, ref, target))
            except ProviderError as exc:
                return Outcome(error=exc)
        except ProviderError as exc:
            return Outcome(error=exc)

    def _linked(self, provider: Provider, ref: AccountRef, content: PostContent) -> PostContent:
        """Give each file a signed link where the platform fetches media itself."""
        if not content.media or not provider.limits_for(ref).pulls_media:
            return content
        if self._links is None:
            raise PermanentError(
                f"{provider.display_name} fetches photos and videos from Crier's web address, "
                "and this Crier has none: its operator needs to set PUBLIC_URL."
            )
        links = self._links
        media = tuple(
            dataclasses.replace(item, url=links.url(item.path)) if item.path else item
            for item in content.media
        )
        return dataclasses.replace(content, media=media)

    async def _timed(
        self, provider: Provider, content: PostContent, ref: AccountRef, target: Target
    ) -> PublishResult | Processing:
        key = target.idempotency_key
        call = (
            provider.poll(target.handle, content, ref, key)
            if target.handle is not None
            else provider.publish(content, ref, key)
        )
        try:
            return await asyncio.wait_for(call, timeout=self.timeout)
        except TimeoutError as exc:
            raise TransientError(
                f"{provider.display_name} took longer than {self.timeout:.0f} s; the post may "
                "or may not be out.",
                ambiguous=True,
            ) from exc

    async def _store_credentials(self, target: Target, fresh: Mapping[str, Any]) -> None:
        sealed = self._secrets.seal(fresh)
        account = target.account
        await self._db.run(
            lambda s: accounts.update_credentials(s, account.user_id, account.id, sealed)
        )


def _outcome(answer: PublishResult | Processing) -> Outcome:
    if isinstance(answer, Processing):
        return Outcome(processing=answer)
    return Outcome(result=answer)


def next_step(
    target: Target,
    provider: Provider | None,
    outcome: Outcome,
    *,
    started: datetime,
    policy: RetryPolicy,
    now: datetime,
) -> Decision | None:
    """What becomes of the target after the call (None: published)."""
    if outcome.processing is not None:
        assert provider is not None
        return processing(
            outcome.processing.retry_after,
            now=now,
            since=target.processing_since or started,
            timeout=provider.limits.processing_timeout,
            platform=provider.display_name,
        )
    if outcome.error is None:
        return None
    # Carrying on a two-phase publish never uploads or posts again: polling after a
    # lost answer is safe, whatever a first publish would be.
    idempotent = bool(provider and provider.limits.idempotent_publish) or (
        target.handle is not None
    )
    if outcome.looked is not None:
        assert provider is not None
        return settle.decision(
            outcome,
            attempts=target.attempts,
            idempotent=idempotent,
            policy=policy,
            now=now,
            name=provider.display_name,
        )
    return decide(
        outcome.error,
        attempts=target.attempts,
        idempotent=idempotent,
        policy=policy,
        now=now,
        due_at=target.publish_at,
        # A lost answer is settled by asking the platform first, where it can be asked.
        can_lookup=target.handle is None and can_lookup(provider, target),
    )
