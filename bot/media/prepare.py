"""A post's media for one account: checked while composing, adapted when publishing.

`check_media` runs while composing (preview and confirm): it applies each account's media
profile to what probing stored, without reading or encoding a file, so anything that could
not be sent shows up as a problem for that account only. `adapt_rows` runs at publish
time: it adapts every file to the provider's profile (converted, shrunk, turned upright,
location stripped), in threads, through the on-disk cache under MEDIA_DIR/derived.
The post around the files (its text per platform, the account) is bot/engine/content.py's:
its `check` and `prepare_for` call these.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from bot.media import shape
from bot.media.adapt import Adapted, adapt, expect
from bot.media.probe import MediaInfo, MediaRejected, probe
from bot.media.profile import MediaProfile, NotAdaptable, profile_for
from providers.base import AccountRef, MediaFile, MediaKind, Problem, Provider, Severity
from providers.errors import PermanentError, TransientError
from storage.models import Media

log = logging.getLogger(__name__)

#: Adapted files live here, under MEDIA_DIR.
DERIVED_DIR = "derived"
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


def media_file(media: Media, media_dir: Path) -> MediaFile:
    """The stored file as it was received; `adapt_rows` adapts it per platform."""
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


def check_media(
    rows: Sequence[Media], profile: MediaProfile, media_dir: Path
) -> tuple[list[Problem], list[MediaFile]]:
    """While composing: each stored file projected to what `adapt` will make of it for
    `profile` (a photo too large for the platform counts at its shrunk size), and a problem
    for each one nothing can fix (those are left out of the items)."""
    problems: list[Problem] = []
    items: list[MediaFile] = []
    for index, row in enumerate(rows, start=1):
        if not row.storage_key:
            problems.append(
                Problem(
                    code="media_missing",
                    message=f"{item_label(MediaKind(row.kind), index, len(rows))}: its file "
                    "was cleaned up. Remove it by starting the post again.",
                )
            )
            continue
        try:
            expected = expect(media_info(row), profile)
        except NotAdaptable as exc:
            label = item_label(MediaKind(row.kind), index, len(rows))
            problems.append(Problem(code=exc.code, message=f"{label}: {exc}"))
            continue
        fitted = shape.describe(row.width or 0, row.height or 0, profile)
        if fitted:
            label = item_label(MediaKind(row.kind), index, len(rows))
            problems.append(
                Problem(
                    code="aspect_fit",
                    severity=Severity.WARNING,
                    message=f"{label} ({row.width}×{row.height}) will be {fitted} for "
                    f"{profile.name}, as this account is set (/accounts → ⚙️).",
                )
            )
        items.append(_projected(media_file(row, media_dir), expected))
    return problems, items


def _projected(item: MediaFile, info: MediaInfo) -> MediaFile:
    return dataclasses.replace(
        item, mime=info.mime, size=info.size, width=info.width, height=info.height
    )


# -- publish time ---------------------------------------------------------------------------


async def adapt_rows(
    rows: Sequence[Media], profile: MediaProfile, media_dir: Path
) -> list[MediaFile]:
    """When publishing: every stored file adapted to `profile` (converted, shrunk, turned
    upright, location stripped), in threads, through the cache under MEDIA_DIR/derived.

    Raises `PermanentError` when a file can't be sent, `TransientError` when the disk failed.
    """
    cache = media_dir / DERIVED_DIR
    return list(await asyncio.gather(*(_adapt_row(row, profile, media_dir, cache) for row in rows)))


async def adapt_files(
    items: Sequence[MediaFile], profile: MediaProfile, media_dir: Path
) -> list[MediaFile]:
    """`adapt_rows` for a post given as provider content: files, not rows."""
    cache = media_dir / DERIVED_DIR
    return list(await asyncio.gather(*(_adapt_file(item, profile, cache) for item in items)))


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
