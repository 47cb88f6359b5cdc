"""What the Threads tests share: a clock both the fake and the adapter read, the fake Threads
API behind an httpx client, a connected account, and media with Crier's signed URLs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx

from providers.base import AccountRef, MediaFile, MediaKind
from providers.threads import ThreadsProvider
from tests.fakes.threads import FakeThreads, FakeUser

KEY = "target-7-occurrence-1"
MEDIA_BASE = "https://crier.example/media"


class Clock:
    """Seconds since the epoch, moved on by the test."""

    def __init__(self) -> None:
        self.now = 1_790_000_000.0

    def __call__(self) -> float:
        return self.now

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)

    def advance(self, seconds: float) -> None:
        self.now += seconds


class World:
    """One Threads profile on the fake, and the adapter talking to it on the same clock."""

    def __init__(self, *, processing: dict[str, float] | None = None) -> None:
        self.clock = Clock()
        # Like Threads: text at once, a photo in seconds, a video in a minute or two.
        self.fake = FakeThreads(
            clock=self.clock, processing=processing or {"IMAGE": 5.0, "VIDEO": 90.0}
        )
        self.user = self.fake.add_user("crier_test")
        self.http = httpx.AsyncClient(transport=httpx.MockTransport(self.fake))
        self.provider = ThreadsProvider(self.http, now=self.clock.datetime)
        self.account = account_for(self.fake.issue_token(self.user), self.user)

    async def close(self) -> None:
        await self.http.aclose()


@asynccontextmanager
async def world(**kwargs: Any) -> AsyncIterator[World]:
    made = World(**kwargs)
    try:
        yield made
    finally:
        await made.close()


def account_for(token: str, user: FakeUser) -> AccountRef:
    return AccountRef(
        id=5,
        platform="threads",
        label=f"@{user.username}",
        config={"user_id": user.id, "username": user.username},
        credentials={"access_token": token, "expires_at": "2026-10-01T00:00:00+00:00"},
    )


def photo(tmp_path: Path, name: str = "photo.jpg", *, alt: str | None = None) -> MediaFile:
    path = tmp_path / name
    path.write_bytes(b"\xff\xd8\xff\xe0" + bytes(100))
    return MediaFile(
        kind=MediaKind.PHOTO,
        mime="image/jpeg",
        size=path.stat().st_size,
        path=path,
        width=1080,
        height=1350,
        alt_text=alt,
        url=f"{MEDIA_BASE}/{name}?sig=abc",
    )


def video(tmp_path: Path, name: str = "clip.mp4", *, alt: str | None = None) -> MediaFile:
    path = tmp_path / name
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(100))
    return MediaFile(
        kind=MediaKind.VIDEO,
        mime="video/mp4",
        size=path.stat().st_size,
        path=path,
        width=1080,
        height=1920,
        duration=42.0,
        alt_text=alt,
        url=f"{MEDIA_BASE}/{name}?sig=abc",
    )


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def query(request: httpx.Request) -> dict[str, str]:
    return dict(request.url.params)


def routes(fake: FakeThreads) -> list[str]:
    """Every request the fake got, as "METHOD /path"."""
    return [f"{r.method} {r.url.path}" for r in fake.requests]
