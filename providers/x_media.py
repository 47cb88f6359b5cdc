"""Uploading media to X (API v2 media endpoints, docs.x.com/x-api/media, OpenAPI 2.167).

Photos take the simple upload, one multipart request (`POST /2/media/upload` with `media` and
`media_category=tweet_image`). Videos and GIFs take the chunked upload on the dedicated
endpoints that replaced the `command=` form in 2025: `POST /2/media/upload/initialize` (JSON),
`POST /2/media/upload/{id}/append` (multipart `media` + `segment_index`, once per chunk),
`POST /2/media/upload/{id}/finalize`. With `media_category` `tweet_video`/`tweet_gif` X then
processes the file asynchronously: `processing_info` says `pending` or `in_progress` with
`check_after_secs`, and `GET /2/media/upload?command=STATUS&media_id=...` says when it has
`succeeded` or `failed`. Alt text goes to `POST /2/media/metadata` (photos and GIFs).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from providers.base import MediaFile
from providers.errors import PermanentError, TransientError
from providers.http import sanitize
from providers.x_api import XApi
from providers.x_limits import category

#: Each APPEND carries at most this much (X takes up to 5 MB a chunk, 1,000 chunks).
CHUNK_SIZE: Final = 4 * 1024 * 1024
#: When X says a file is processing without saying when to look again.
DEFAULT_CHECK_AFTER: Final = 5.0
_WAITING: Final = ("pending", "in_progress")


@dataclass
class Upload:
    """One file X has, as the publish handle remembers it."""

    #: X's media id (a string of digits).
    id: str
    #: The `media_category` it was uploaded with: tweet_image, tweet_gif, tweet_video.
    category: str
    #: X has finished processing it (always, for photos).
    ready: bool
    #: Seconds X advised waiting before asking again.
    check_after: float = DEFAULT_CHECK_AFTER
    #: Its alt text has been sent.
    alt_set: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "category": self.category,
            "ready": self.ready,
            "check_after": self.check_after,
            "alt_set": self.alt_set,
        }

    @classmethod
    def from_json(cls, data: Any) -> Upload:
        if not isinstance(data, Mapping) or not str(data.get("id") or "").isdigit():
            raise PermanentError("The stored state of this X upload is unreadable; publish again.")
        return cls(
            id=str(data["id"]),
            category=str(data.get("category") or "tweet_image"),
            ready=bool(data.get("ready")),
            check_after=float(data.get("check_after") or DEFAULT_CHECK_AFTER),
            alt_set=bool(data.get("alt_set")),
        )


async def upload(api: XApi, item: MediaFile, number: int, chunk_size: int = CHUNK_SIZE) -> Upload:
    """Upload item `number` (1-based); processing may still be under way when this returns."""
    if item.path is None:
        raise PermanentError(f"Media item {number} of this post is missing.")
    kind = category(item)
    if kind == "tweet_image":
        content = await asyncio.to_thread(item.path.read_bytes)
        answer = await api.call(
            "POST",
            "/2/media/upload",
            data={"media_category": kind},
            files={"media": (item.file_name or item.path.name, content, item.mime)},
        )
    else:
        answer = await _chunked(api, item.path, item.mime, kind, chunk_size)
    data = _data(answer)
    return _apply(Upload(id=_media_id(data), category=kind, ready=False), data, number)


async def _chunked(
    api: XApi, path: Path, mime: str, kind: str, chunk_size: int
) -> Mapping[str, Any]:
    total = (await asyncio.to_thread(path.stat)).st_size
    started = await api.call(
        "POST",
        "/2/media/upload/initialize",
        json={"media_type": mime, "total_bytes": total, "media_category": kind},
    )
    media_id = _media_id(_data(started))
    offset, segment = 0, 0
    while offset < total:
        chunk = await asyncio.to_thread(_read, path, offset, chunk_size)
        if not chunk:
            raise TransientError("The media file got shorter while it was being uploaded to X.")
        await api.call(
            "POST",
            f"/2/media/upload/{media_id}/append",
            data={"segment_index": str(segment)},
            files={"media": (f"segment-{segment}", chunk, "application/octet-stream")},
        )
        offset += len(chunk)
        segment += 1
    return await api.call("POST", f"/2/media/upload/{media_id}/finalize")


async def check(api: XApi, upload: Upload, number: int) -> Upload:
    """Ask X how processing of a file is going (STATUS)."""
    answer = await api.call(
        "GET", "/2/media/upload", params={"command": "STATUS", "media_id": upload.id}
    )
    return _apply(upload, _data(answer), number)


async def set_alt_text(api: XApi, upload: Upload, text: str) -> None:
    await api.call(
        "POST",
        "/2/media/metadata",
        json={"id": upload.id, "metadata": {"alt_text": {"text": text}}},
    )
    upload.alt_set = True


def _apply(upload: Upload, data: Mapping[str, Any], number: int) -> Upload:
    """Read `processing_info`: none (ready), pending/in_progress, succeeded or failed."""
    info = data.get("processing_info")
    if not isinstance(info, Mapping):
        upload.ready = True
        return upload
    state = str(info.get("state") or "")
    if state == "failed":
        error = info.get("error")
        said = ""
        if isinstance(error, Mapping):
            said = str(error.get("message") or error.get("name") or "")
        reason = f": {sanitize(said)}" if said else ""
        raise PermanentError(f"X could not process media item {number}{reason}.")
    upload.ready = state not in _WAITING
    try:
        upload.check_after = max(1.0, float(info.get("check_after_secs") or DEFAULT_CHECK_AFTER))
    except (TypeError, ValueError):
        upload.check_after = DEFAULT_CHECK_AFTER
    return upload


def _data(answer: Mapping[str, Any]) -> Mapping[str, Any]:
    data = answer.get("data")
    if not isinstance(data, Mapping):
        raise TransientError("X answered a media upload without saying which file it has.")
    return data


def _media_id(data: Mapping[str, Any]) -> str:
    media_id = str(data.get("id") or "")
    if not media_id.isdigit():
        raise TransientError("X answered a media upload without saying which file it has.")
    return media_id


def _read(path: Path, offset: int, size: int) -> bytes:
    with path.open("rb") as file:
        file.seek(offset)
        return file.read(size)
