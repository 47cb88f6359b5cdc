"""A post's media for one account: checked while composing, adapted when publishing.

`check` runs while composing (preview and confirm): it applies each account's media
profile to what probing stored, without reading or encoding a file, so anything that could
not be sent shows up as a problem for that account only. `prepare_for` runs at publish
time: it adapts every file to the provider's profile (converted, shrunk, turned upright,
location stripped), in threads, through the on-disk cache under MEDIA_DIR/derived.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
from pathlib import Path

from bot.engine.content import account_ref, media_file, post_body, post_thread
from bot.media.adapt import Adapted, adapt, expect
from bot.media.probe import MediaInfo, MediaRejected, probe
from bot.media.profile import MediaProfile, NotAdaptable, profile_for
from providers.base import AccountRef, MediaFile, MediaKind, PostContent, Problem, Provider
from providers.errors import PermanentError, TransientError
from storage.models import Account, Media, Post

log = logging.getLogger(__name__)

#: Adapted files live here, under MEDIA_DIR.
DERIVED_DIR = "derived"
# Problems `check_limits` raises about items the profile checks already reported better.
_ABOUT_ITEMS = frozenset({"media_type", "media_too_large", "empty"})
_KIND_WORDS = {
    MediaKind.PHOTO: "Photo",
    MediaKind.VIDEO: "Video",
    MediaKind.ANIMATION: "GIF",
    MediaKind.DOCUMENT: "File",
}
_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}


def profile_of(provider: Provider, account: AccountRef) -> MediaProfile:
    return profile_for(provider.limits_for(account), provider.display_name)


def media_info(media: Media) -> MediaInfo:
    """What probing found about a stored file, as `adapt` takes it."""
    extras = dict(media.probe or {})
    fields = {f.name for f in dataclasses.fields(MediaInfo)}
    return MediaInfo(
        kind=MediaKind(media.kind),
        mime=media.mime,
        size=media.size,
        sha256=media.sha256,
        width=media.width,
        height=media.height,
        duration=media.duration,
        **{key: value for key, value in extras.items() if key in fields and key != "kind"},
    )


def item_label(kind: MediaKind, index: int, count: int) -> str:
    """ "Photo 2 of 3", or just "Photo" when it is the only item."""
    word = _KIND_WORDS.get(kind, "Item")
    return word if count == 1 else f"{word} {index} of {count}"


# -- compose time ---------------------------------------------------------------------------


def check(post: Post, account: Account, provider: Provider, media_dir: Path) -> list[Problem]:
    """Everything the account's platform would refuse about the draft, media included.

    Each item is projected to what `adapt` will make of it (a photo too large for the
    platform counts at its shrunk size); an item nothing can fix is a problem of its own,
    and the provider's own checks see only the items that can go.
    """
    ref = account_ref(account)
    profile = profile_of(provider, ref)
    links = post.media_links
    problems: list[Problem] = []
    items: list[MediaFile] = []
    for index, link in enumerate(links, start=1):
        row = link.media
        if not row.storage_key:
            problems.append(
                Problem(
                    code="media_missing",
                    message=f"{item_label(MediaKind(row.kind), index, len(links))}: its file "
                    "was cleaned up. Remove it by starting the post again.",
                )
            )
            continue
        try:
            expected = expect(media_info(row), profile)
        except NotAdaptable as exc:
            label = item_label(MediaKind(row.kind), index, len(links))
            problems.append(Problem(code=exc.code, message=f"{label}: {exc}"))
            continue
        items.append(_projected(media_file(row, media_dir), expected))
    text, entities = post_body(post, account.id, account.platform)
    content = PostContent(
        text=text,
        entities=entities,
        media=tuple(items),
        post_id=post.id,
        scheduled_at=post.publish_at,
        thread=post_thread(post, account.id),
    )
    found = provider.validate(content, ref)
    if problems:
        found = [p for p in found if p.code not in _ABOUT_ITEMS]
    return problems + found


def _projected(item: MediaFile, info: MediaInfo) -> MediaFile:
    return dataclasses.replace(
        item, mime=info.mime, size=info.size, width=info.width, height=info.height
    )


# -- publish time ---------------------------------------------------------------------------


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
    cache = media_dir / DERIVED_DIR
    if isinstance(post, PostContent):
        media = await asyncio.gather(*(_adapt_file(item, profile, cache) for item in post.media))
        return dataclasses.replace(post, media=tuple(media))
    rows = [link.media for link in post.media_links]
    media = await asyncio.gather(*(_adapt_row(row, profile, media_dir, cache) for row in rows))
    text, entities = post_body(post, ref.id, ref.platform)
    return PostContent(
        text=text,
        entities=entities,
        media=tuple(media),
        post_id=post.id,
        scheduled_at=post.publish_at,
        thread=post_thread(post, ref.id),
    )


async def _adapt_row(row: Media, profile: MediaProfile, media_dir: Path, cache: Path) -> MediaFile:
    item = media_file(row, media_dir)
    if item.path is None:
        raise PermanentError(
            "A photo or video of this post was cleaned up after the retention period, so "
            "it can't be published again. Start a new post with it."
        )
    adapted = await _adapt(media_info(row), item.path, profile, cache)
    return _sent(item, adapted)


async def _adapt_file(item: MediaFile, profile: MediaProfile, cache: Path) -> MediaFile:
    if item.path is None:
        return item  # only Telegram holds it: sent by file id, nothing to adapt
    try:
        info = await asyncio.to_thread(probe, item.path)
    except MediaRejected as exc:
        raise PermanentError(str(exc)) from exc
    if info.kind is MediaKind.VIDEO and item.kind is MediaKind.ANIMATION:
        info = dataclasses.replace(info, kind=MediaKind.ANIMATION)
    return _sent(item, await _adapt(info, item.path, profile, cache))


async def _adapt(info: MediaInfo, path: Path, profile: MediaProfile, cache: Path) -> Adapted:
    try:
        adapted = await asyncio.to_thread(adapt, info, path, profile, cache)
    except NotAdaptable as exc:
        raise PermanentError(str(exc)) from exc
    except FileNotFoundError as exc:
        raise PermanentError("A media file of this post is missing from the server.") from exc
    except OSError as exc:
        log.warning("could not read or write media %s: %s", info.sha256, exc)
        raise TransientError("A media file of this post couldn't be read; retrying.") from exc
    if adapted.changed:
        # The clean-up drops derived files unused for the retention period; this one is used.
        _touch(adapted.path)
        _touch(adapted.path.with_suffix(".json"))
    return adapted


def _sent(item: MediaFile, adapted: Adapted) -> MediaFile:
    if not adapted.changed:
        return item
    info = adapted.info
    name = item.file_name
    if name:
        name = str(Path(name).with_suffix(_EXTENSIONS.get(info.mime, Path(name).suffix)))
    return dataclasses.replace(
        item,
        mime=info.mime,
        size=info.size,
        path=adapted.path,
        width=info.width,
        height=info.height,
        file_name=name,
        # Telegram's copy is the unchanged original: the new bytes must be uploaded.
        telegram_file_id=None,
    )


def _touch(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.utime(path)
