"""What the YouTube adapter's tests share: an account, a video file, the documented answers,
and a resumable session that keeps count of the bytes it received, as Google's does."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import respx

from providers.base import AccountRef, MediaFile, MediaKind, PostContent
from providers.oauth import OAuthApp
from tests.contract.case_youtube import video_json

TOKEN = "ya29.SECRET-access"
REFRESH = "1//SECRET-refresh"
CHANNEL = "UCfakeChannel0000000001"
UPLOAD = "https://www.googleapis.com/upload/youtube/v3/videos"
SESSION = f"{UPLOAD}?uploadType=resumable&part=snippet%2Cstatus&upload_id=ADPy-SECRET-1"
VIDEOS = "https://www.googleapis.com/youtube/v3/videos"
CHANNELS = "https://www.googleapis.com/youtube/v3/channels"
TOKEN_URL = "https://oauth2.googleapis.com/token"
APP = OAuthApp(client_id="crier.apps.googleusercontent.com", client_secret="app-secret")
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
KEY = "target-9"
KIB = 1024


def account(config: dict[str, Any] | None = None) -> AccountRef:
    return AccountRef(
        id=3,
        platform="youtube",
        label="Crier Tests (@criertests)",
        config={"channel_id": CHANNEL, "long_uploads_status": "allowed", **(config or {})},
        credentials={"access_token": TOKEN, "refresh_token": REFRESH},
    )


def clip(
    tmp_path: Path, size: int = 1000, *, width: int = 1280, height: int = 720, seconds: float = 42
) -> MediaFile:
    path = tmp_path / "clip.mp4"
    path.write_bytes(bytes(i % 251 for i in range(size)))
    return MediaFile(
        kind=MediaKind.VIDEO,
        mime="video/mp4",
        size=size,
        path=path,
        width=width,
        height=height,
        duration=seconds,
        file_name="clip.mp4",
    )


def post_of(video: MediaFile, text: str = "My title\nThe description.", **kw: Any) -> PostContent:
    return PostContent(text=text, media=(video,), **kw)


def sent(router: respx.MockRouter) -> list[str]:
    out = []
    for call in router.calls:
        request = call.request
        extra = request.headers.get("content-range", "")
        out.append(f"{request.method} {request.url.path} {extra}".strip())
    return out


def open_session(router: respx.MockRouter, location: str = SESSION) -> respx.Route:
    return router.post(UPLOAD).mock(
        return_value=httpx.Response(200, headers={"Location": location})
    )


class Session:
    """A resumable session as Google keeps it: bytes received, 308 until all are in."""

    def __init__(self, size: int, *, received: int = 0, video_id: str = "vid1") -> None:
        self.size, self.received, self.video_id = size, received, video_id
        self.bodies: list[bytes] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        spec = request.headers["content-range"]
        if not spec.startswith("bytes */"):
            start = int(spec.split(" ")[1].split("-")[0])
            assert start == self.received, f"sent from {start}, Google has {self.received}"
            self.bodies.append(request.content)
            self.received += len(request.content)
        if self.received >= self.size:
            return httpx.Response(201, json=video_json(video_id=self.video_id))
        headers = {"Range": f"bytes=0-{self.received - 1}"} if self.received else {}
        return httpx.Response(308, headers=headers)
