"""Keeping signed-in accounts signed in: a job refreshes every token that runs out within
half an hour (providers/oauth.py REFRESH_MARGIN), whichever process gets to it first.

A refresh answer without a new refresh token keeps the old one (the adapter's `refresh`
merges). A refresh the platform refuses marks the account `needs_reauth` and tells the
user once, with a 🔁 Reconnect button; its queued posts wait (the engine claims nothing for
an account that isn't active) until it is reconnected. A refresh that fails for now (the
platform or the network is down) is tried again at the next run.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from html import escape

from sqlalchemy.ext.asyncio import AsyncSession

from bot.accounts.connecting import token_expiry
from bot.engine.content import account_ref
from bot.services import Services
from providers.errors import AuthError, ProviderError
from providers.oauth import REFRESH_MARGIN
from storage import accounts, logins, notices, users
from storage.models import Account, AccountStatus

log = logging.getLogger(__name__)

#: While one process refreshes an account, others leave it alone this long.
CLAIM = timedelta(minutes=2)


async def refresh_due(services: Services) -> int:
    """Refresh every token that runs out soon; returns how many were refreshed. Also
    forgets sign-ins that ended a day ago."""
    now = services.now()
    await services.db.run(lambda s: logins.purge(s, now - timedelta(days=1)))
    due = await services.db.run(lambda s: accounts.expiring(s, now + REFRESH_MARGIN))
    refreshed = 0
    for account in due:
        refreshed += await _refresh(services, account, now)
    return refreshed


async def _refresh(services: Services, account: Account, now: datetime) -> int:
    provider = services.registry.get(account.platform)
    seen = account.token_expires_at
    if provider is None or provider.oauth is None or seen is None:
        return 0
    if not await services.db.run(
        lambda s: accounts.claim_refresh(s, account.id, seen, now + CLAIM)
    ):
        return 0  # another process has it
    try:
        renewed = await provider.refresh(account_ref(account, services.secrets))
    except AuthError as exc:
        await _needs_reconnect(services, account, exc.message)
        return 0
    except ProviderError as exc:
        log.warning("token.refresh_later", extra={"account_id": account.id, "reason": exc.message})
        return 0
    sealed = services.secrets.seal(renewed)
    expires = token_expiry(renewed)
    await services.db.run(lambda s: accounts.store_token(s, account.id, sealed, expires))
    log.info("token.refreshed", extra={"account_id": account.id, "platform": account.platform})
    return 1


async def _needs_reconnect(services: Services, account: Account, reason: str) -> None:
    provider = services.registry[account.platform]
    now = services.now()

    async def work(session: AsyncSession) -> bool:
        newly = await accounts.set_status(
            session,
            account.user_id,
            account.id,
            AccountStatus.NEEDS_REAUTH,
            reason,
            only_from=AccountStatus.ACTIVE,
        )
        user = await users.get(session, account.user_id)
        if newly and user is not None:
            await notices.enqueue(
                session,
                user_id=account.user_id,
                chat_id=user.chat_id,
                text=(
                    f"🔑 <b>{escape(account.label)}</b> ({escape(provider.display_name)}) "
                    f"needs you to sign in again: {escape(reason)}\n\nPosts to it wait, "
                    "they aren't lost: they go out once you reconnect."
                ),
                buttons=[[{"text": "🔁 Reconnect", "data": f"rc:{account.platform}"}]],
                now=now,
            )
        return newly

    if await services.db.run(work):
        services.notifier.wake()
    log.warning(
        "token.refresh_refused", extra={"account_id": account.id, "platform": account.platform}
    )
