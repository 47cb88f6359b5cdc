"""A post as each account gets it: rows to the plain dataclasses providers take, the text
per platform (formatting kept, Markdown, or plain; or the account's own version), checked
while composing (`check`) and with every file adapted when publishing (`prepare_for`).

The files themselves are bot/media/prepare.py's: this module adds the text and the account.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.engine.options import values as post_options
from bot.engine.text import formatting, overrides
from bot.media.prepare import adapt_files, adapt_rows, check_media, media_file, profile_of
from bot.media.receive import Received
from providers.base import AccountRef, PostContent, Problem, Provider
from providers.registry import Registry
from storage.models import Account, Media, Post
from storage.secrets import SecretBox

log = logging.getLogger(__name__)


def override_parts(post: Post, account_id: int | None) -> list[str] | None:
    """The account's own version of the text, as posts (its own text, or a thread's parts;
    `bot.engine.text.overrides` has the stored shape). None: it gets the post's text."""
    return None if account_id is None else overrides.parts(post.overrides, account_id)


def post_text(post: Post, account_id: int | None) -> str:
    """The post's text, or the account's own version of it (a thread's first part)."""
    parts = override_parts(post, account_id)
    return parts[0] if parts else post.text


def post_thread(post: Post, account_id: int | None) -> tuple[str, ...]:
    """The parts after the first of the account's thread; () when it is one post."""
    parts = override_parts(post, account_id)
    return tuple(parts[1:]) if parts else ()


def post_body(
    post: Post, account_id: int | None, platform: str
) -> tuple[str, tuple[dict[str, Any], ...]]:
    """The text as `platform` gets it, with its Telegram entities for Telegram: formatting
    kept there, written as Markdown for Discord, links written out for the rest. An
    account's own version of the text is plain text."""
    own = override_parts(post, account_id)
    if own:
        return formatting.for_platform(platform, own[0], ())
    return formatting.for_platform(platform, post.text, post.entities or ())


def post_content(
    post: Post, account_id: int | None, media_dir: Path, platform: str = "dryrun"
) -> PostContent:
    """The post with its files as received, unadapted (`prepare_for`
    gives each platform its own version)."""
    text, entities = post_body(post, account_id, platform)
    return PostContent(
        text=text,
        entities=entities,
        media=tuple(media_file(link.media, media_dir) for link in post.media_links),
        post_id=post.id,
        scheduled_at=post.publish_at,
        thread=post_thread(post, account_id),
    )


def extras(post: Post, config: Mapping[str, Any] | None, platform: str) -> dict[str, Any]:
    """The post's URL buttons and Telegram options for an account (bot/engine/options/values.py),
    as `PostContent` fields."""
    return post_options.content_fields(
        getattr(post, "buttons", None),
        getattr(post, "options", None),
        config,
        platform,
        post.publish_at,
    )


def account_ref(account: Account, secrets: SecretBox | None = None) -> AccountRef:
    credentials = secrets.open(account.credentials) if secrets and account.credentials else {}
    return AccountRef(
        id=account.id,
        platform=account.platform,
        label=account.label,
        config=dict(account.config or {}),
        credentials=credentials,
    )


# -- checked while composing, adapted when publishing --------------------------------------

# Problems `check_limits` raises about items the profile checks already reported better.
_ABOUT_ITEMS = frozenset({"media_type", "media_too_large", "empty"})


def check(post: Post, account: Account, provider: Provider, media_dir: Path) -> list[Problem]:
    """Everything the account's platform would refuse about the draft, media included.

    Each item is projected to what `adapt` will make of it (a photo too large for the
    platform counts at its shrunk size); an item nothing can fix is a problem of its own,
    and the provider's own checks see only the items that can go.
    """
    ref = account_ref(account)
    profile = profile_of(provider, ref)
    rows = [link.media for link in post.media_links]
    problems, items = check_media(rows, profile, media_dir)
    text, entities = post_body(post, account.id, account.platform)
    content = PostContent(
        text=text,
        entities=entities,
        media=tuple(items),
        post_id=post.id,
        scheduled_at=post.publish_at,
        thread=post_thread(post, account.id),
        **extras(post, ref.config, account.platform),
    )
    found = provider.validate(content, ref)
    if problems:
        found = [p for p in found if p.code not in _ABOUT_ITEMS]
    return problems + found


#: The longest the preview waits for a platform's own live checks (creator settings, the
#: bot's rights in a channel); a platform that takes longer has nothing to add then.
LIVE_CHECK_SECONDS = 5.0


async def check_live(
    post: Post, account: Account, registry: Registry, secrets: SecretBox
) -> list[Problem]:
    """What the platform says only when asked (TikTok's privacy options for this creator,
    the WhatsApp 24-hour rule, whether the bot may still pin in a channel). Never raises:
    a live check never blocks the preview."""
    provider = registry.get(account.platform)
    if provider is None:
        return []
    try:
        ref = account_ref(account, secrets)
        text, entities = post_body(post, account.id, account.platform)
        draft = PostContent(
            text=text,
            entities=entities,
            post_id=post.id,
            **extras(post, ref.config, account.platform),
        )
        return await asyncio.wait_for(provider.validate_live(draft, ref), LIVE_CHECK_SECONDS)
    except Exception:
        log.warning("compose.live_check_failed", extra={"platform": account.platform})
        return []


async def prepare_for(
    post: Post | PostContent,
    account: Account | AccountRef,
    provider: Provider,
    media_dir: Path,
) -> PostContent:
    """The post as `provider` gets it for `account`, every file adapted to its platform.

    Raises `PermanentError` when a file can't be sent (which the compose-time `check`
    already reported, unless limits changed since), `TransientError` when the disk failed.
    """
    ref = account if isinstance(account, AccountRef) else account_ref(account)
    profile = profile_of(provider, ref)
    if isinstance(post, PostContent):
        media = await adapt_files(post.media, profile, media_dir)
        return dataclasses.replace(post, media=tuple(media))
    rows = [link.media for link in post.media_links]
    media = await adapt_rows(rows, profile, media_dir)
    text, entities = post_body(post, ref.id, ref.platform)
    return PostContent(
        text=text,
        entities=entities,
        media=tuple(media),
        post_id=post.id,
        scheduled_at=post.publish_at,
        thread=post_thread(post, ref.id),
        **extras(post, ref.config, ref.platform),
    )


def media_row(user_id: int, received: Received) -> Media:
    """The row that stores a file received in the chat (compose, /edit, an edit after
    publishing)."""
    info = received.info
    return Media(
        user_id=user_id,
        sha256=info.sha256,
        storage_key=received.storage_key,
        kind=received.kind.value,
        mime=info.mime,
        size=info.size,
        width=info.width,
        height=info.height,
        duration=info.duration,
        file_name=received.incoming.file_name,
        telegram_file_id=received.telegram_file_id,
        telegram_file_unique_id=received.incoming.file_unique_id,
        probe=received.probe_extras(),
    )
