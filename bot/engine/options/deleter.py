"""Delete-after: removes a published post from its platform when its time comes.

`targets.delete_at` is set when the post is published (bot/engine/outcomes.py, from the
post's options over the account's defaults). The engine's timer and sweep call `run_due`,
which takes what is due (storage/deletions.py: a conditional UPDATE, so a deletion runs
once however many workers look, and after a restart it is still a row), asks the provider
to `delete`, and records `deleted_at`. A refusal for good (no right to delete, the post too
old for Telegram) is DMed to the user with the reason, through the notice outbox; a
temporary failure is tried again after `hold`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from html import escape

from sqlalchemy.ext.asyncio import AsyncSession

from bot.engine.content import account_ref
from bot.engine.notifier import Notifier
from providers.base import PublishResult
from providers.errors import ProviderError, RateLimited, TransientError
from providers.http import sanitize
from providers.registry import Registry
from storage import deletions, notices
from storage.db import Database
from storage.models import Target
from storage.secrets import SecretBox

log = logging.getLogger(__name__)

#: Deletions taken per look.
BATCH = 20


class Deleter:
    def __init__(
        self,
        db: Database,
        registry: Registry,
        secrets: SecretBox,
        clock: Callable[[], datetime],
        notices: Notifier | None = None,
        *,
        hold: timedelta = timedelta(minutes=5),
        timeout: float = 60.0,
    ) -> None:
        self._db = db
        self._registry = registry
        self._secrets = secrets
        self._clock = clock
        #: Woken when a notice was queued.
        self._notifier = notices
        #: How long a taken deletion is held before it is due again (a crash, a retry).
        self.hold = hold
        self._timeout = timeout

    async def run_due(self) -> datetime | None:
        """Delete every post that is due; returns when the next deletion is due (None: none,
        or the database failed, when the next sweep looks again). Never raises: publishing
        must not stop for a deletion."""
        try:
            return await self._run_due()
        except Exception:
            log.exception("delete-after: the look for due deletions failed; the sweep retries")
            return None

    async def _run_due(self) -> datetime | None:
        while True:
            taken = await self._db.run(
                partial(deletions.take_due, now=self._clock(), hold=self.hold)
            )
            for target in taken:
                await self._delete(target)
            if len(taken) < BATCH:
                break
        return await self._db.run(deletions.next_due)

    async def _delete(self, target: Target) -> None:
        account = target.account
        provider = self._registry.get(account.platform)
        if provider is None:
            await self._give_up(target, f"{account.platform} is not supported any more.")
            return
        published = PublishResult(
            platform_id=target.platform_post_id or "", url=target.url, ref=target.ref or {}
        )
        ref = account_ref(account, self._secrets)
        secrets = tuple(v for v in ref.credentials.values() if isinstance(v, str) and len(v) >= 6)
        try:
            await asyncio.wait_for(provider.delete(published, ref), self._timeout)
        except (TransientError, RateLimited, TimeoutError) as exc:
            # Due again after `hold` (the take moved delete_at on): deleting twice is safe.
            log.warning("delete-after of target %s: %s; trying again later", target.id, exc)
            return
        except ProviderError as exc:
            await self._give_up(target, sanitize(exc.message, secrets))
            return
        except Exception:
            log.exception("delete-after of target %s failed unexpectedly", target.id)
            return
        now = self._clock()
        await self._db.run(lambda s: deletions.deleted(s, target.id, now))
        log.info("delete-after: target %s deleted", target.id)

    async def _give_up(self, target: Target, reason: str) -> None:
        now = self._clock()
        where = escape(target.account.label)
        text = (
            f"🗑 I couldn't delete post #{target.post_id} from {where} as you asked: "
            f"{escape(reason)}"
        )

        async def work(session: AsyncSession) -> None:
            await deletions.given_up(session, target.id)
            await notices.enqueue(
                session,
                user_id=target.user_id,
                chat_id=target.post.user.chat_id,
                text=text,
                now=now,
            )

        await self._db.run(work)
        if self._notifier is not None:
            self._notifier.wake()
