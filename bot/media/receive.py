"""Media the user sends: downloaded from Telegram, probed, stored content-addressed.

A file is downloaded into MEDIA_DIR/.incoming, probed there (the bytes decide what it is,
never its name), and only moved to its content-addressed place (MEDIA_DIR/ab/cd/<sha256>)
once its row is being written, so a refused file leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from telegram import Bot
from telegram.error import BadRequest

from bot.media.probe import MediaInfo, MediaRejected, probe
from bot.media.sniff import HEAD_BYTES, Family, sniff
from providers.base import MediaKind

__all__ = [
    "INCOMING_DIR",
    "Incoming",
    "MediaRejected",
    "Received",
    "check_download_size",
    "receive",
    "storage_key",
    "too_large_message",
]

#: Where downloads wait while they are probed (same filesystem, so the move is atomic).
INCOMING_DIR = ".incoming"
# What Telegram sends as a compressed photo is always a JPEG.
_TELEGRAM_PHOTO_MIME = "image/jpeg"
# The probe facts kept in `media.probe`, beyond the row's own columns.
_PROBE_EXTRAS = (
    "fps",
    "video_codec",
    "audio_codec",
    "container",
    "has_alpha",
    "orientation",
    "animated",
    "has_location",
)


@dataclass(frozen=True, kw_only=True)
class Incoming:
    """What a Telegram message tells us about one file."""

    kind: str  # photo, video, animation, document
    file_id: str
    file_unique_id: str
    size: int | None
    mime: str | None
    file_name: str | None = None
    width: int | None = None
    height: int | None = None
    duration: float | None = None


@dataclass(frozen=True, kw_only=True)
class Received:
    """A downloaded and probed file, waiting in MEDIA_DIR/.incoming to be kept or dropped."""

    incoming: Incoming
    info: MediaInfo
    #: What the post will treat it as: the probe's verdict (a JPEG sent as a file is a photo).
    kind: MediaKind
    temp: Path

    @property
    def storage_key(self) -> str:
        return storage_key(self.info.sha256)

    @property
    def telegram_file_id(self) -> str | None:
        """Telegram's file id, only when Telegram holds the file as the same kind: a document's
        id can't be sent with sendPhoto, so such items are uploaded instead."""
        return self.incoming.file_id if self.incoming.kind == self.kind.value else None

    def probe_extras(self) -> dict[str, Any]:
        facts = asdict(self.info)
        return {key: facts[key] for key in _PROBE_EXTRAS if facts[key] not in (None, False)}

    def keep(self, media_dir: Path) -> None:
        """Move the file to its content-addressed place; idempotent."""
        final = media_dir / self.storage_key
        if final.exists() and final.stat().st_size == self.info.size:
            # Same content already stored: refresh its time so a clean-up running right now
            # treats it as new.
            os.utime(final)
            self.discard()
            return
        if not self.temp.exists():
            raise MediaRejected("That file was lost while it was being saved. Send it again.")
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.temp, final)

    def discard(self) -> None:
        self.temp.unlink(missing_ok=True)


def storage_key(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def too_large_message(size: int, limit: int) -> str:
    mib = size / 1_048_576
    shown = f"{mib / 1024:.1f} GB" if mib >= 1024 else f"{mib:.1f} MB"
    return (
        f"This file is {shown}, and Telegram lets bots download at most "
        f"{limit / 1_048_576:.0f} MB. Send a smaller or compressed version (for a video, "
        "Telegram's own compression when you send it as a video usually does it)."
    )


def check_download_size(incoming: Incoming, max_bytes: int | None) -> None:
    """Refuse a file Telegram won't let the bot download (`max_bytes`; None: no limit, a
    local Bot API server). Checked first: no other reason to refuse it would help."""
    if max_bytes is not None and incoming.size is not None and incoming.size > max_bytes:
        raise MediaRejected(too_large_message(incoming.size, max_bytes))


async def receive(
    bot: Bot, incoming: Incoming, media_dir: Path, *, max_bytes: int | None
) -> Received:
    """Fetch the file with getFile and probe it; raise `MediaRejected` saying why it can't
    be used. The caller keeps or discards what is returned."""
    check_download_size(incoming, max_bytes)
    try:
        tg_file = await bot.get_file(incoming.file_id)
    except BadRequest as exc:
        if "too big" in exc.message.lower():
            raise MediaRejected(too_large_message(incoming.size or 0, max_bytes or 0)) from exc
        raise
    temp = _temp_path(media_dir)
    try:
        await tg_file.download_to_drive(temp)
        info = await asyncio.to_thread(
            probe, temp, claimed_mime=_claimed_mime(incoming), claimed_name=incoming.file_name
        )
        if info.kind is MediaKind.DOCUMENT:
            _refuse_programs(temp)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return Received(incoming=incoming, info=info, kind=_kind(incoming, info), temp=temp)


def _temp_path(media_dir: Path) -> Path:
    folder = media_dir / INCOMING_DIR
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=folder, prefix="download-")
    os.close(fd)
    return Path(name)


def _claimed_mime(incoming: Incoming) -> str | None:
    return _TELEGRAM_PHOTO_MIME if incoming.kind == "photo" else incoming.mime


def _kind(incoming: Incoming, info: MediaInfo) -> MediaKind:
    """The probe decides; only Telegram's silent MP4 "animations" stay animations (the bytes
    of one are an ordinary video)."""
    if info.kind is MediaKind.VIDEO and incoming.kind == MediaKind.ANIMATION.value:
        return MediaKind.ANIMATION
    return info.kind


def _refuse_programs(path: Path) -> None:
    with path.open("rb") as handle:
        sniffed = sniff(handle.read(HEAD_BYTES), path)
    if sniffed.family is Family.EXECUTABLE:
        raise MediaRejected(
            f"That file is {sniffed.label}. Crier only posts photos, videos and documents, "
            "never programs."
        )
