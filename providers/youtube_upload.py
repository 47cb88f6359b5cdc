"""YouTube's resumable upload protocol (YouTube Data API v3, "Resumable Uploads" guide).

1. `open`: POST `<upload base>/videos?uploadType=resumable&part=snippet,status` with the video
   resource as JSON and `X-Upload-Content-Length` / `X-Upload-Content-Type`: 200, and the
   session URI in `Location`.
2. `send`: PUT the bytes to the session URI in chunks (multiples of 256 KiB but the last),
   each with `Content-Range: bytes <first>-<last>/<size>`: 308 Resume Incomplete with
   `Range: bytes=0-<last byte received>` while more is due; 200 or 201 with the video
   resource once the last byte is in.
3. `received`: after a broken connection, a 5xx or a restart, PUT with no body and
   `Content-Range: bytes */<size>`: 308 with the range received so far (no `Range`: nothing
   yet), or 200/201 with the video if every byte had arrived. Sending goes on from there.

A session that answers 404 or 410 has expired (`SessionGone`); nothing of it became a video.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from providers.errors import PermanentError, TransientError
from providers.youtube_api import GoogleApi, json_of

#: Chunks but the last must be a multiple of this.
CHUNK_ALIGN = 256 * 1024
DEFAULT_CHUNK = 64 * CHUNK_ALIGN  # 16 MiB


class SessionGone(Exception):
    """The upload session expired (404/410): start a new one."""


@dataclass(frozen=True, kw_only=True)
class Uploaded:
    """Every byte arrived: the video resource YouTube made of them."""

    video: Mapping[str, Any]


class ResumableUpload:
    def __init__(
        self,
        api: GoogleApi,
        *,
        upload_base_url: str,
        chunk_size: int = DEFAULT_CHUNK,
        budget: float = 240.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if chunk_size <= 0 or chunk_size % CHUNK_ALIGN:
            raise ValueError(f"chunk_size must be a positive multiple of {CHUNK_ALIGN}")
        self._api = api
        self._base = upload_base_url.rstrip("/")
        self._chunk = chunk_size
        #: Seconds of sending per `send`; then it hands back how far it got.
        self._budget = budget
        self._monotonic = monotonic

    async def open(self, token: str, metadata: Mapping[str, Any], size: int, mime: str) -> str:
        """Start a session for a `size`-byte video; its URI."""
        response = await self._api.send(
            "POST",
            f"{self._base}/videos",
            token,
            params={"uploadType": "resumable", "part": "snippet,status"},
            content=json.dumps(metadata, ensure_ascii=False).encode("utf-8"),
            headers={
                "Content-Type": "application/json; charset=UTF-8",
                "X-Upload-Content-Length": str(size),
                "X-Upload-Content-Type": mime,
            },
        )
        if response.status_code != 200:
            self._api.fail(response, [token])
        location = response.headers.get("location") or ""
        if not self._ours(location):
            raise TransientError("YouTube didn't say where to upload the video.")
        return location

    async def received(self, session: str, token: str, size: int) -> Uploaded | int:
        """How much of the video the session has: the video if all of it."""
        response = await self._api.send(
            "PUT",
            session,
            token,
            content=b"",
            headers={"Content-Range": f"bytes */{size}"},
        )
        return self._answer(response, session, token, final=False)

    async def send(
        self, session: str, token: str, path: Path, size: int, mime: str, offset: int
    ) -> Uploaded | int:
        """Send from `offset` until done or the time budget is spent; how far it got."""
        started = self._monotonic()
        while True:
            end = min(offset + self._chunk, size)
            data = await asyncio.to_thread(_read, path, offset, end - offset)
            response = await self._api.send(
                "PUT",
                session,
                token,
                creates=end == size,
                content=data,
                headers={"Content-Type": mime, "Content-Range": f"bytes {offset}-{end - 1}/{size}"},
            )
            answer = self._answer(response, session, token, final=end == size)
            if isinstance(answer, Uploaded):
                return answer
            if answer <= offset:
                raise TransientError("YouTube took none of the video's last part; trying again.")
            offset = answer
            if offset >= size or self._monotonic() - started >= self._budget:
                return offset

    def _answer(
        self, response: httpx.Response, session: str, token: str, *, final: bool
    ) -> Uploaded | int:
        status = response.status_code
        if status in (200, 201):
            return Uploaded(video=json_of(response, creates=final))
        if status == 308:
            return _range_end(response.headers.get("range"))
        if status in (404, 410):
            raise SessionGone
        self._api.fail(response, [token, session])

    def _ours(self, location: str) -> bool:
        """A session URI on Google's upload host (or the one configured), never elsewhere:
        the account's token goes with every PUT to it."""
        try:
            url, base = urlsplit(location), urlsplit(self._base)
        except ValueError:
            return False
        if not url.hostname:
            return False
        if (url.scheme, url.netloc) == (base.scheme, base.netloc):
            return True
        return url.scheme == "https" and url.hostname.endswith(".googleapis.com")


def _range_end(value: str | None) -> int:
    """Bytes received from a 308's `Range: bytes=0-<last>` (none: 0)."""
    if not value:
        return 0
    try:
        return int(value.rsplit("-", 1)[1]) + 1
    except (IndexError, ValueError):
        raise TransientError("YouTube answered the upload with a range it can't be read.") from None


def _read(path: Path, offset: int, length: int) -> bytes:
    try:
        with path.open("rb") as file:
            file.seek(offset)
            data = file.read(length)
    except FileNotFoundError:
        raise PermanentError("The video file of this post is gone; send it again.") from None
    except OSError as exc:
        raise TransientError(f"The video file could not be read: {exc.strerror}.") from None
    if len(data) != length:
        raise PermanentError("The video file changed after it was scheduled; send it again.")
    return data
