"""One call to a platform for one target: the post prepared for the account's platform
(text and media adapted, `content.prepare_for`), `publish` within the time limit, and on an
auth error one refresh of the credentials and one more try. A target with a handle is a
two-phase publish under way: it is carried on with `poll` (never published again)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.engine.content import prepare_for
from bot.engine.outcomes import Outcome
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
