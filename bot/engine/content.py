"""Rows to the plain dataclasses providers take."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.engine import formatting, overrides
from providers.base import AccountRef, MediaFile, MediaKind, PostContent
from storage.models import Account, Media, Post
from storage.secrets import SecretBox


def media_file(media: Media, media_dir: Path) -> MediaFile:
    """The stored file as it was received; `bot.media_prepare` adapts it per platform."""
    # An empty storage key: the clean-up released the file after the post was done.
    path = media_dir / media.storage_key if media.storage_key else None
    return MediaFile(
        kind=MediaKind(media.kind),
        mime=media.mime,
        size=media.size,
        path=path,
        width=media.width,
        height=media.height,
        duration=media.duration,
        file_name=media.file_name,
        alt_text=media.alt_text,
        telegram_file_id=media.telegram_file_id,
    )


def override_parts(post: Post, account_id: int | None) -> list[str] | None:
    """The account's own version of the text, as posts (its own text, or a thread's parts;
    `bot.overrides` has the stored shape). None: it gets the post's text."""
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
    """The post with its files as received, unadapted (`bot.media_prepare.prepare_for`
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


def account_ref(account: Account, secrets: SecretBox | None = None) -> AccountRef:
    credentials = secrets.open(account.credentials) if secrets and account.credentials else {}
    return AccountRef(
        id=account.id,
        platform=account.platform,
        label=account.label,
        config=dict(account.config or {}),
        credentials=credentials,
    )
