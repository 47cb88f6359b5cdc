"""Each account's own version in a preview (compose and edit alike): its own text or thread
under its line, and the buttons "🎨 Customize for X" and "🧵 Split into a thread for X"."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bot.compose.threads import TEXT_LIMIT_CODES
from bot.engine.content import account_ref
from bot.engine.text import overrides
from bot.services import Services
from bot.ui import render
from bot.ui.chat import Rows
from providers.base import Problem
from providers.registry import UnknownPlatform
from storage.models import Account, Post

#: More accounts than this get no per-account buttons (the keyboard would drown).
MAX_ACCOUNT_ROWS = 8

Checks = Sequence[tuple[Account, Sequence[Problem]]]


def short_name(account: Account, services: Services) -> str:
    """What a button calls the account: "@alice.bsky.social", or the platform's name."""
    if account.platform == "dryrun":
        return services.platform_names.get("dryrun", "Dry run")
    return account.label


def notes(services: Services, post: Post, checks: Checks) -> dict[int, list[str]]:
    """The lines shown under each account that has its own version of the text."""
    found: dict[int, list[str]] = {}
    for account, _ in checks:
        parts = overrides.parts(post.overrides, account.id)
        if not parts:
            continue
        try:
            provider = services.registry[account.platform]
        except UnknownPlatform:
            continue
        ref = account_ref(account)
        lengths = [provider.text_length(part, ref) for part in parts]
        found[account.id] = render.version_lines(parts, lengths, provider.limits_for(ref).max_text)
    return found


def rows(prefix: str, services: Services, post: Post, checks: Checks) -> Rows:
    """A row per account: split its text into a thread where it is too long and its platform
    has threads; customize its text where the post goes to several accounts (or it has its
    own text already)."""
    if len(checks) > MAX_ACCOUNT_ROWS:
        return []
    found: list[list[tuple[str, str]]] = []
    for account, problems in checks:
        name = short_name(account, services)
        row: list[tuple[str, str]] = []
        if any(p.code in TEXT_LIMIT_CODES for p in problems) and _has_threads(services, account):
            row.append((f"🧵 Split into a thread for {name}", f"{prefix}:split:{account.id}"))
        if len(checks) > 1 or overrides.parts(post.overrides, account.id):
            row.append((f"🎨 Customize for {name}", f"{prefix}:ovr:{account.id}"))
        if row:
            found.append(row)
    return found


def _has_threads(services: Services, account: Account) -> bool:
    try:
        provider = services.registry[account.platform]
    except UnknownPlatform:
        return False
    return provider.limits_for(account_ref(account)).threads


def prompt(account: Account, services: Services, text: str, own: list[str] | None) -> str:
    """Asking for one account's own text, with what it gets now."""
    name = escape(short_name(account, services))
    now = "\n\n".join(own) if own else text
    where = "its own text" if own else "the post's text"
    return (
        f"🎨 Send the text for <b>{name}</b> only; the other accounts keep the post's text.\n\n"
        f"It gets {where} now:\n<blockquote>{escape(render.snippet(now, 500))}</blockquote>"
    )
