"""The fake TikTok's side of the media transfer guide (tests/fakes/tiktok.py): the chunk
rules a FILE_UPLOAD init must follow, and a chunk PUT to the upload URL.

Chunks are 5 MB to 64 MB (MB read as 1,000,000 bytes), `total_chunk_count` is
`video_size // chunk_size` (1 to 1,000), the last chunk takes the remainder (up to 128 MB),
a video under 5 MB goes whole and one over 64 MB in two chunks at least. Each chunk is a PUT
with `Content-Type` (a video type), `Content-Range: bytes <first>-<last>/<size>`, in order
and once: 206 while more is due, 201 after the last, 416 out of step, 400 for a chunk that
isn't the size the init declared. The URL authorizes the upload; an Authorization header
has no business there.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.fakes.tiktok_state import FakePublish

MB = 1_000_000
MIN_CHUNK, MAX_CHUNK, MAX_FINAL_CHUNK, MAX_CHUNKS = 5 * MB, 64 * MB, 128 * MB, 1000
MAX_VIDEO = 4 * 1024**3
#: Seconds an upload URL works after the init.
UPLOAD_TTL = 3600
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")


def chunk_problem(size: Any, chunk: Any, count: Any) -> str | None:
    """What the chunk rules say of a FILE_UPLOAD init's numbers (None: fine)."""
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (size, chunk, count)):
        return "video_size, chunk_size and total_chunk_count are required."
    if not 0 < size <= MAX_VIDEO:
        return "video_size is out of range."
    if size < MIN_CHUNK:
        return None if (chunk, count) == (size, 1) else "A video under 5 MB is one whole chunk."
    if not MIN_CHUNK <= chunk <= MAX_CHUNK and not (chunk == size and count == 1):
        return "chunk_size must be 5 MB to 64 MB."
    if count != max(1, size // chunk) or not 1 <= count <= MAX_CHUNKS:
        return "total_chunk_count must be video_size // chunk_size, 1 to 1000."
    if size > MAX_CHUNK and count < 2:
        return "A video over 64 MB goes in several chunks."
    if size - chunk * (count - 1) > MAX_FINAL_CHUNK:
        return "The final chunk may be at most 128 MB."
    return None


def receive_chunk(publish: FakePublish, request: httpx.Request) -> httpx.Response:
    """One chunk PUT to a live upload URL."""
    if "authorization" in request.headers:
        return httpx.Response(400, text="the upload URL takes no Authorization")
    if request.headers.get("content-type") not in VIDEO_TYPES:
        return httpx.Response(400, text="unsupported Content-Type")
    unit, _, spans = request.headers.get("content-range", "").partition(" ")
    first_last, _, total = spans.partition("/")
    try:
        first, last = (int(n) for n in first_last.split("-"))
    except ValueError:
        return httpx.Response(400, text="bad Content-Range")
    if unit != "bytes" or total != str(publish.size):
        return httpx.Response(400, text="bad Content-Range")
    if publish.uploaded or first != len(publish.received):
        return httpx.Response(416, text="chunks must be uploaded in order, once")
    index = publish.chunks_in
    expected = (
        publish.size - publish.chunk_size * index
        if index == publish.chunk_count - 1
        else publish.chunk_size
    )
    data = request.content
    if len(data) != last - first + 1 or len(data) != expected:
        return httpx.Response(400, text="chunk size doesn't match the init")
    publish.received += data
    publish.chunks_in += 1
    return httpx.Response(201 if publish.uploaded else 206)
