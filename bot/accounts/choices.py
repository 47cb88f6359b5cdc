"""The per-account settings an adapter declares (`Provider.account_options`: TikTok's
audience and interactions, Instagram's format, YouTube's privacy, Facebook's videos), read
and set for /accounts. They live in the account's config under the keys the adapter reads,
so publishing needs nothing else, and a reconnect keeps them (connecting.save)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import Services
from providers.base import AccountOption
from storage import accounts
from storage.models import Account


def declared(services: Services, account: Account) -> tuple[AccountOption, ...]:
    provider = services.registry.get(account.platform)
    return provider.account_options if provider is not None else ()


def current(account: Account, option: AccountOption) -> str | bool:
    value = (account.config or {}).get(option.key)
    if option.choices:
        return str(value) if value is not None else str(option.default)
    return bool(value) if value is not None else bool(option.default)


def offered(account: Account, option: AccountOption) -> tuple[tuple[str, str], ...]:
    """The choices this account may take (a platform may offer an account fewer)."""
    if option.offered_by is None:
        return option.choices
    allowed = (account.config or {}).get(option.offered_by)
    if not isinstance(allowed, list):
        return option.choices
    return tuple(c for c in option.choices if c[0] in allowed)


class OptionError(ValueError):
    """The option can't be set so; the message says why, for the user."""


async def set_choice(
    services: Services, user_id: int, account_id: int, index: int, value: str | None
) -> Account:
    """Set option number `index` of the account's platform: a choice to `value`, a flag
    flipped (`value` None). Owner-checked; only declared options and offered choices."""

    async def work(session: AsyncSession) -> Account:
        account = await accounts.get(session, user_id, account_id)
        if account is None:
            raise OptionError("I can't find that account among yours.")
        options = declared(services, account)
        if not 0 <= index < len(options):
            raise OptionError("That option isn't there any more.")
        option = options[index]
        if option.choices:
            if value not in {v for v, _ in offered(account, option)}:
                raise OptionError("That choice isn't offered for this account.")
            new: str | bool = str(value)
        else:
            new = not current(account, option)
        account.config = {**(account.config or {}), option.key: new}
        return account

    return await services.db.run(work)


def summary(services: Services, account: Account) -> list[str]:
    """The declared options that differ from their defaults, in words."""
    parts = []
    for option in declared(services, account):
        value = current(account, option)
        if value == option.default:
            continue
        if option.choices:
            shown = dict(option.choices).get(str(value), str(value))
            parts.append(f"{option.label.lower()} {shown.lower()}")
        elif value:
            parts.append(option.label.lower())
    return parts
