"""What the fake TikTok (tests/fakes/tiktok.py) keeps: creators, publishes under way, the
posts they became, per-minute rate windows, and TikTok's answer shapes."""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx

PUBLIC = "PUBLIC_TO_EVERYONE"
PRIVATE = "SELF_ONLY"


@dataclass
class FakeCreator:
    open_id: str
    username: str
    display_name: str
    union_id: str = "union-0001"
    #: The TikTok account itself is private (followers only).
    private_account: bool = False
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_video_post_duration_sec: int = 600
    banned: bool = False

    def privacy_options(self, audited: bool) -> list[str]:
        if not audited:
            return [PRIVATE]
        if self.private_account:
            return ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", PRIVATE]
        return [PUBLIC, "MUTUAL_FOLLOW_FRIENDS", PRIVATE]


@dataclass
class FakePublish:
    """One init: an upload under way, or media TikTok is fetching, until it is a post."""

    id: str
    creator: FakeCreator
    kind: str  # "video" | "photo"
    source: str  # "FILE_UPLOAD" | "PULL_FROM_URL"
    post_info: dict[str, Any]
    created_at: float
    size: int = 0
    chunk_size: int = 0
    chunk_count: int = 0
    received: bytearray = field(default_factory=bytearray)
    chunks_in: int = 0
    upload_id: str = ""
    upload_token: str = ""
    urls: list[str] = field(default_factory=list)
    mime: str = ""
    #: Status reads left before processing ends.
    polls_left: int = 1
    #: Status reads left, once published, before a public post's id is given.
    moderation_left: int = 0
    #: How processing ends: None publishes, a fail_reason fails.
    outcome: str | None = None
    status: str = "PROCESSING_UPLOAD"
    post_id: int | None = None

    @property
    def uploaded(self) -> bool:
        return self.source != "FILE_UPLOAD" or self.chunks_in == self.chunk_count


@dataclass
class FakePost:
    id: int
    open_id: str
    kind: str
    privacy_level: str
    post_info: dict[str, Any]
    publish_id: str
    video: bytes = b""
    photos: list[str] = field(default_factory=list)
    created_at: float = 0.0


class RateWindows:
    """Requests per token per endpoint family in the current minute (TikTok's limits are
    per user access token and per minute)."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str, int], int] = defaultdict(int)

    def take(self, token: str, bucket: str, limit: int, now: float) -> bool:
        key = (token, bucket, int(now // 60))
        if self._counts[key] >= limit:
            return False
        self._counts[key] += 1
        return True


def log_id() -> str:
    return "20261207120000" + secrets.token_hex(8).upper()


def ok(data: dict[str, Any], status: int = 200) -> httpx.Response:
    return httpx.Response(
        status, json={"data": data, "error": {"code": "ok", "message": "", "log_id": log_id()}}
    )


def api_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    """TikTok's error envelope."""
    body = {"data": {}, "error": {"code": code, "message": message, "log_id": log_id()}}
    return httpx.Response(status, json=body, headers=headers)


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
