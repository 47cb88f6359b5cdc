"""Connecting and disconnecting accounts (the service side of /connect and /accounts)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.accounts import options as account_options
from bot.engine.content import account_ref
from bot.engine.webhooks import events
from bot.services import Services
from providers.base import AccountRef, VerifiedAccount
from providers.errors import ProviderError
from providers.oauth import token_of
from storage import accounts
from storage.models import Account, AccountStatus, TargetStatus

#: Config key of the name the platform gave the account when it was connected.
CONNECTED_AS = "connected_as"


@dataclass(frozen=True, kw_only=True)
class Connected:
    account: Account
    #: False when the same destination was already connected and was refreshed instead.
    new: bool
    #: Shown to the user once (from the adapter), e.g. a generated signing secret.
    notice: str | None = None


async def connect(
    services: Services,
    user_id: int,
    platform: str,
    config: Mapping[str, Any],
    credentials: Mapping[str, Any] | None = None,
) -> Connected:
    """Verify against the platform, then save (or refresh) the account.

    Raises the provider's error, whose message is meant for the user.
    """
    provider = services.registry[platform]
    probe = AccountRef(
        id=0,
        platform=platform,
        label=provider.display_name,
        config=dict(config),
        credentials=dict(credentials or {}),
    )
    verified = await provider.verify(probe)
    return await save(services, user_id, platform, verified, credentials)


async def save(
    services: Services,
    user_id: int,
    platform: str,
    verified: VerifiedAccount,
    credentials: Mapping[str, Any] | None = None,
) -> Connected:
    """Save (or refresh) the account the platform vouched for; `credentials` are kept when
    the platform gave none of its own."""
    # The adapter may replace what the user typed (a session, a generated signing secret).
    to_store = verified.credentials if verified.credentials is not None else credentials
    sealed = services.secrets.seal(to_store) if to_store else None
    expires = token_expiry(to_store)

    # What the platform calls the account, kept beside a label the user may rename.
    config_to_store = {**verified.config, CONNECTED_AS: verified.label}

    async def work(session: AsyncSession) -> Connected:
        existing = await accounts.find_external(session, user_id, platform, verified.external_id)
        if existing is not None:
            if not renamed(existing):
                existing.label = verified.label
            # The options the user set in /accounts are theirs, not the platform's: keep them.
            declared = services.registry[platform].account_options
            kept = {o.key: existing.config[o.key] for o in declared if o.key in existing.config}
            existing.config = {
                **account_options.kept_on_reconnect(existing),
                **config_to_store,
                **kept,
            }
            existing.credentials = sealed or existing.credentials
            if sealed:
                existing.token_expires_at = expires
            existing.status = AccountStatus.ACTIVE
            existing.status_reason = None
            return Connected(account=existing, new=False, notice=verified.notice)
        account = await accounts.add(
            session,
            user_id=user_id,
            platform=platform,
            label=verified.label,
            external_id=verified.external_id,
            config=config_to_store,
            credentials=sealed,
        )
        account.token_expires_at = expires
        return Connected(account=account, new=True, notice=verified.notice)

    connected = await services.db.run(work)
    # Targets held while the account needed reconnecting can go now.
    services.wake_engine(services.now())
    return connected


def token_expiry(credentials: Mapping[str, Any] | None) -> datetime | None:
    """When a signed-in account's access token runs out (what the refresh job looks at)."""
    value = (credentials or {}).get("expires_at")
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def handle(account: Account) -> str:
    """The account's name on its platform (its label until the user renames it)."""
    value = (account.config or {}).get(CONNECTED_AS)
    return value if isinstance(value, str) and value else account.label


def renamed(account: Account) -> bool:
    return handle(account) != account.label


async def disconnect(services: Services, user_id: int, account_id: int) -> int | None:
    """Disconnect the account; its queued posts are cancelled (webhook events say so)."""

    async def work(session: AsyncSession) -> int | None:
        queued = await accounts.queued_target_ids(session, user_id, account_id)
        count = await accounts.disconnect(session, user_id, account_id)
        if count:
            await events.emit_for_targets(
                session, user_id, queued, TargetStatus.CANCELLED, services.now()
            )
        return count

    count = await services.db.run(work)
    if count and services.webhooks is not None:
        services.webhooks.wake()
    return count


async def get(services: Services, user_id: int, account_id: int) -> Account | None:
    return await services.db.run(lambda s: accounts.get(s, user_id, account_id))


async def test(services: Services, user_id: int, account_id: int) -> tuple[Account, str | None]:
    """Check the stored credentials against the platform; returns the account and the
    problem in plain words, or None when it works (a working account is active again)."""
    account = await get(services, user_id, account_id)
    if account is None:
        raise LookupError(account_id)
    provider = services.registry.get(account.platform)
    if provider is None:
        return account, "This platform is not supported any more."
    try:
        await provider.verify(account_ref(account, services.secrets))
    except ProviderError as exc:
        return account, exc.message
    if account.status == AccountStatus.NEEDS_REAUTH:
        await services.db.run(
            lambda s: accounts.set_status(s, user_id, account_id, AccountStatus.ACTIVE)
        )
        services.wake_engine(services.now())
    return account, None


async def rename(services: Services, user_id: int, account_id: int, label: str) -> bool:
    async def work(session: AsyncSession) -> bool:
        account = await accounts.get(session, user_id, account_id)
        if account is None:
            return False
        account.label = label
        return True

    return await services.db.run(work)


#: Platforms where one sign-in reaches several destinations, one of which an account is.
MOVABLE = frozenset({"linkedin", "pinterest", "youtube", "facebook"})


async def destinations(
    services: Services, user_id: int, account_id: int
) -> tuple[Account, list[VerifiedAccount]]:
    """Where the account's sign-in could publish instead (its own platform only)."""
    account = await get(services, user_id, account_id)
    if account is None:
        raise LookupError(account_id)
    provider = services.registry[account.platform]
    ref = account_ref(account, services.secrets)
    found = await provider.accounts_for(token_of(ref.credentials))
    return account, [d for d in found if (d.platform or account.platform) == account.platform]


async def move(
    services: Services, user_id: int, account_id: int, to: VerifiedAccount
) -> Account | None:
    """Point the account at another destination of the same sign-in (the user's options and
    name are kept; its scheduled posts go there)."""

    async def work(session: AsyncSession) -> Account | None:
        account = await accounts.get(session, user_id, account_id)
        if account is None:
            return None
        if not renamed(account):
            account.label = to.label
        account.external_id = to.external_id
        account.config = {
            **account_options.kept_on_reconnect(account),
            **to.config,
            CONNECTED_AS: to.label,
        }
        if to.credentials:
            account.credentials = services.secrets.seal(to.credentials)
        return account

    return await services.db.run(work)
