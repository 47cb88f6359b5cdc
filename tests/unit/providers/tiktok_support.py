"""What the TikTok adapter's tests share: the fake TikTok behind an httpx client, an account
connected to it, video and photo files, and TikTok's answer shapes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from providers.base import AccountRef, MediaFile, MediaKind, PostContent
from providers.oauth import OAuthApp
from providers.tiktok import TikTokProvider
from tests.fakes.tiktok import FakeTikTok

APP = OAuthApp(client_id="crier-client-key", client_secret="crier-client-secret")
API = "https://open.tiktokapis.com/v2"
REDIRECT = "https://crier.example/oauth/tiktok/callback"
MEDIA = "https://crier.example/media/"
KEY = "target-31"
MIB = 1024 * 1024
CHUNK = 5 * MIB


@asynccontextmanager
async def world(
    fake: FakeTikTok, **kwargs: Any
) -> AsyncIterator[tuple[TikTokProvider, httpx.AsyncClient]]:
    """The adapter talking to `fake` (one "process": a restart is a second `world`)."""
    kwargs.setdefault("chunk_size", CHUNK)
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handle)) as http:
        yield TikTokProvider(http, oauth_app=APP, **kwargs), http


def account(fake: FakeTikTok, **config: Any) -> AccountRef:
    creator = fake.creator
    return AccountRef(
        id=5,
        platform="tiktok",
        label=f"@{creator.username}",
        config={
            "open_id": creator.open_id,
            "username": creator.username,
            "privacy_level": "PUBLIC_TO_EVERYONE",
            **config,
        },
        credentials={"access_token": fake.token(), "refresh_token": "rft.unused"},
    )


def clip(
    tmp_path: Path,
    size: int = 1000,
    *,
    seconds: float = 12.0,
    url: str | None = None,
    width: int = 1080,
    height: int = 1920,
) -> MediaFile:
    path = tmp_path / "clip.mp4"
    path.write_bytes(bytes(i % 251 for i in range(size)) if size < MIB else _big(size))
    return MediaFile(
        kind=MediaKind.VIDEO,
        mime="video/mp4",
        size=size,
        path=path,
        width=width,
        height=height,
        duration=seconds,
        file_name="clip.mp4",
        url=url,
    )


def _big(size: int) -> bytes:
    block = bytes(range(256)) * 4096  # 1 MiB
    return (block * (size // len(block) + 1))[:size]


def photo(tmp_path: Path, number: int = 1, *, url: bool = True) -> MediaFile:
    path = tmp_path / f"photo{number}.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + bytes(100) + b"\xff\xd9")
    return MediaFile(
        kind=MediaKind.PHOTO,
        mime="image/jpeg",
        size=path.stat().st_size,
        path=path,
        width=1080,
        height=1350,
        file_name=path.name,
        url=f"{MEDIA}photo{number}.jpg?sig=s{number}" if url else None,
    )


def post_of(*media: MediaFile, text: str = "Hello from Crier #crier") -> PostContent:
    return PostContent(text=text, media=media)


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def envelope(data: dict[str, Any], status: int = 200) -> httpx.Response:
    return httpx.Response(
        status, json={"data": data, "error": {"code": "ok", "message": "", "log_id": "1"}}
    )


def refusal(
    status: int, code: str, message: str = "", headers: dict[str, str] | None = None
) -> httpx.Response:
    error = {"code": code, "message": message or code, "log_id": "2026"}
    return httpx.Response(status, json={"data": {}, "error": error}, headers=headers)
