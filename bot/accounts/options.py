"""Per-account publishing options the user sets in /accounts (the service side).

For Mastodon: who sees the statuses (visibility) and a content warning shown in place of
the text until the reader opens it. They live in the account's config under the keys the
adapter reads (`providers/mastodon.py`: `visibility`, and `content_warning`, falling back
to `spoiler_text`), so publishing needs nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import Services
from providers.text import grapheme_length
from storage import accounts
from storage.models import Account, AccountStatus

#: Platforms whose accounts have options.
PLATFORMS = frozenset({"mastodon"})

VISIBILITY = "visibility"
CONTENT_WARNING = "content_warning"
#: An older name the adapter also reads; cleared whenever the warning is set or removed, so
#: what the menu shows is what is sent.
SPOILER_TEXT = "spoiler_text"
#: Config keys the user owns: a reconnect keeps them (the platform's answer replaces the rest).
USER_KEYS = (VISIBILITY, CONTENT_WARNING, SPOILER_TEXT)

DEFAULT_VISIBILITY = "public"
#: Mastodon API value -> what the button says ("private" is followers-only on Mastodon).
VISIBILITIES = {"public": "Public", "unlisted": "Unlisted", "private": "Followers only"}

#: Mastodon has no separate limit for a content warning: it counts towards the status's
#: characters (500 on most servers). A warning is a few words; 100 leaves room for the post.
MAX_WARNING = 100


@dataclass(frozen=True, kw_only=True)
class Options:
    #: The Mastodon API value the statuses go out with.
    visibility: str
    #: The content warning (spoiler text); "" for none.
    content_warning: str


def has_options(account: Account) -> bool:
    return account.platform in PLATFORMS


def of(account: Account) -> Options:
    """The options as the adapter will apply them."""
    config = account.config or {}
    warning = config.get(CONTENT_WARNING) or config.get(SPOILER_TEXT) or ""
    return Options(
        visibility=str(config.get(VISIBILITY) or DEFAULT_VISIBILITY),
        content_warning=str(warning),
    )


def summary(account: Account) -> list[str]:
    """The options that differ from the defaults, in words (plain text, not escaped)."""
    if not has_options(account):
        return []
    options = of(account)
    parts = []
    if options.visibility != DEFAULT_VISIBILITY:
        parts.append(VISIBILITIES.get(options.visibility, options.visibility).lower())
    if options.content_warning:
        parts.append(f"CW: {options.content_warning}")
    return parts


def clean_warning(text: str) -> tuple[str, str | None]:
    """The warning as it will be stored (whitespace collapsed) and, if it can't be, why."""
    warning = " ".join(text.split())
    if not warning:
        return warning, "Send the warning as a few words, like <i>Spoilers</i> or <i>Politics</i>."
    length = grapheme_length(warning)
    if length > MAX_WARNING:
        return warning, (
            f"That's {length} characters; keep a content warning to {MAX_WARNING} or fewer "
            "(it counts towards the post's length on Mastodon)."
        )
    return warning, None


def kept_on_reconnect(account: Account) -> dict[str, Any]:
    """The user's options to carry over when the platform's config replaces the account's."""
    if not has_options(account):
        return {}
    config = account.config or {}
    return {key: config[key] for key in USER_KEYS if key in config}


def _with_options(account: Account | None) -> Account | None:
    """The account if it is connected and has options, else None."""
    if account is None or account.status == AccountStatus.DISABLED or not has_options(account):
        return None
    return account


async def get(services: Services, user_id: int, account_id: int) -> Account | None:
    """The user's connected account with options, or None (not theirs, gone, no options)."""
    return _with_options(await services.db.run(lambda s: accounts.get(s, user_id, account_id)))


async def set_visibility(
    services: Services, user_id: int, account_id: int, visibility: str
) -> Account | None:
    if visibility not in VISIBILITIES:
        raise ValueError(visibility)
    return await _update(services, user_id, account_id, {VISIBILITY: visibility})


async def set_content_warning(
    services: Services, user_id: int, account_id: int, warning: str | None
) -> Account | None:
    """Set the warning (already cleaned), or remove it with None."""
    return await _update(
        services, user_id, account_id, {CONTENT_WARNING: warning or None, SPOILER_TEXT: None}
    )


async def _update(
    services: Services, user_id: int, account_id: int, changes: Mapping[str, Any]
) -> Account | None:
    """Merge `changes` into the account's config (None removes a key)."""

    async def work(session: AsyncSession) -> Account | None:
        account = _with_options(await accounts.get(session, user_id, account_id))
        if account is not None:
            config = {**(account.config or {}), **changes}
            # A new dict: SQLAlchemy sees a JSON column change only when it is reassigned.
            account.config = {key: value for key, value in config.items() if value is not None}
        return account

    return await services.db.run(work)
