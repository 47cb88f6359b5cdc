"""Sending a video to TikTok in chunks (source FILE_UPLOAD), as the Content Posting API's
media transfer guide says.

The init declares `video_size`, `chunk_size` and `total_chunk_count` (`plan`): chunks of
5 MB to 64 MB, `total_chunk_count` = `video_size` // `chunk_size`, the last chunk taking the
remainder (so up to 128 MB); a video under 5 MB goes whole, one over 64 MB in two chunks at
least, and never more than 1,000. The chunks then go up in order, each

    PUT <upload_url>
    Content-Type: <the video's MIME type>
    Content-Length: <bytes in this chunk>
    Content-Range: bytes <first byte>-<last byte>/<video_size>

answered 206 Partial Content while more is due and 201 Created once the last one is in. The
upload URL is good for an hour: after that it answers 403 or 404 (`UploadExpired`). The URL
alone authorizes the upload, so the account's token never goes to it; it is treated as half
a secret (kept out of every message).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx

from providers.errors import PermanentError, RateLimited, TransientError
from providers.http import retry_after_seconds, translate_network_errors

MB: Final = 1024 * 1024
#: Smallest chunk but the last (5 MB: 5 MiB satisfies either reading of "MB").
MIN_CHUNK: Final = 5 * MB
#: Largest chunk but the last (64 MB: 64,000,000 satisfies either reading).
MAX_CHUNK: Final = 64_000_000
MAX_CHUNKS: Final = 1000
DEFAULT_CHUNK: Final = 16 * MB


class UploadExpired(Exception):
    """TikTok no longer takes bytes at this upload URL (it lasts an hour)."""


@dataclass(frozen=True, kw_only=True)
class ChunkPlan:
    #: The whole video, bytes.
    size: int
    #: Every chunk's size but the last one's (which adds the remainder).
    chunk_size: int
    #: How many chunks.
    count: int

    @property
    def sound(self) -> bool:
        """Whether the numbers fit together (a handle read back may have been tampered)."""
        return (
            0 < self.chunk_size <= self.size
            and 1 <= self.count <= MAX_CHUNKS
            and self.count == max(1, self.size // self.chunk_size)
        )

    def span(self, index: int) -> tuple[int, int]:
        """Chunk `index`'s first byte and the byte after its last."""
        first = index * self.chunk_size
        return first, self.size if index == self.count - 1 else first + self.chunk_size

    def chunks_in(self, received: int) -> int:
        """How many whole chunks `received` bytes are."""
        if received >= self.size:
            return self.count
        return min(received // self.chunk_size, self.count - 1)


def plan(size: int, preferred: int = DEFAULT_CHUNK) -> ChunkPlan:
    """How to cut a `size`-byte video into chunks TikTok takes."""
    chunk = max(MIN_CHUNK, min(preferred, MAX_CHUNK))
    if size < MIN_CHUNK or (size <= MAX_CHUNK and size // chunk < 2):
        return ChunkPlan(size=size, chunk_size=size, count=1)  # whole
    if size > MAX_CHUNK and size // chunk < 2:
        chunk = size // 2  # over 64 MB: at least two chunks
    chunk = max(chunk, -(-size // MAX_CHUNKS))
    return ChunkPlan(size=size, chunk_size=chunk, count=size // chunk)


class ChunkedUpload:
    """Sends chunks to an upload URL for at most `budget` seconds a call."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        budget: float = 240.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._budget = budget
        self._monotonic = monotonic

    async def send(
        self, upload_url: str, path: Path, chunks: ChunkPlan, mime: str, index: int
    ) -> int:
        """Send chunks from `index` on, until the last is in or the time budget is spent;
        the index of the next chunk to send (`chunks.count`: all of them are in)."""
        started = self._monotonic()
        while index < chunks.count:
            first, end = chunks.span(index)
            data = await asyncio.to_thread(_read, path, first, end - first)
            headers = {
                "Content-Type": mime,
                "Content-Range": f"bytes {first}-{end - 1}/{chunks.size}",
            }
            try:
                with translate_network_errors("TikTok"):
                    response = await self._http.put(upload_url, content=data, headers=headers)
            except TransientError as exc:
                # Asking TikTok how much arrived settles it: sending on is always safe.
                raise TransientError(
                    "The connection to TikTok broke off during the upload; Crier will go on "
                    "from what TikTok has."
                ) from exc
            self._check(response)
            index += 1
            if response.status_code == 201:
                return chunks.count
            if self._monotonic() - started >= self._budget:
                break
        return index

    @staticmethod
    def _check(response: httpx.Response) -> None:
        status = response.status_code
        if status in (201, 206):
            return
        if status in (403, 404, 410):
            raise UploadExpired
        if status == 429:
            raise RateLimited(retry_after_seconds(response, 60.0), "TikTok asked to slow down.")
        if status == 416 or status >= 500 or status == 408:
            raise TransientError(
                f"TikTok didn't take a part of the video (HTTP {status}); Crier will go on "
                "from what TikTok has.",
                http_status=status,
            )
        raise PermanentError(
            f"TikTok refused the video upload (HTTP {status}).", http_status=status
        )


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
