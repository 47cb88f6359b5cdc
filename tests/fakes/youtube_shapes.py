"""The data and answer shapes of the fake YouTube Data API (tests/fakes/youtube.py): its
channels, sessions and videos, Google's error body, the video resource checks videos.insert
makes, what processing makes of the bytes, and the channel and video resources as JSON."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field
from typing import Any

import av
import httpx


@dataclass
class FakeChannel:
    id: str
    title: str
    custom_url: str
    #: channels.status.longUploadsStatus: allowed, eligible, disallowed, longUploadsUnspecified.
    long_uploads_status: str = "allowed"
    user: str = "user"


@dataclass
class FakeSession:
    id: str
    channel: FakeChannel
    resource: dict[str, Any]
    size: int
    mime: str
    received: bytearray = field(default_factory=bytearray)
    video_id: str | None = None
    expired: bool = False


@dataclass
class FakeVideo:
    id: str
    channel: FakeChannel
    resource: dict[str, Any]
    data: bytes
    #: uploaded → processed, failed or rejected.
    upload_status: str = "uploaded"
    #: The status and reason processing will end with.
    outcome: tuple[str, str] = ("processed", "")
    polls_left: int = 0
    deleted: bool = False


def google_error(
    status: int,
    reason: str,
    message: str,
    *,
    domain: str = "youtube.video",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    names = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
             404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE"}  # fmt: skip
    body = {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
            "status": names.get(status, "UNKNOWN"),
        }
    }
    return httpx.Response(status, json=body, headers=headers)


def metadata_problem(resource: Any) -> httpx.Response | None:
    snippet = resource.get("snippet") if isinstance(resource, dict) else None
    status = resource.get("status") if isinstance(resource, dict) else None
    if not isinstance(snippet, dict) or not isinstance(status, dict):
        return google_error(400, "invalidVideoMetadata", "The request metadata is invalid.")
    title = snippet.get("title")
    if (
        not isinstance(title, str)
        or not title.strip()
        or len(title) > 100
        or set("<>") & set(title)
    ):
        return google_error(
            400, "invalidTitle", "The request metadata specifies an invalid or empty video title."
        )
    description = snippet.get("description", "")
    if len(description.encode()) > 5000 or set("<>") & set(description):
        return google_error(
            400,
            "invalidDescription",
            "The request metadata specifies an invalid video description.",
        )
    privacy = status.get("privacyStatus", "public")
    if privacy not in ("public", "unlisted", "private"):
        return google_error(400, "invalidVideoMetadata", "The request metadata is invalid.")
    if "publishAt" in status and privacy != "private":
        return google_error(
            400,
            "invalidPublishAt",
            "The request metadata specifies an invalid scheduled publishing time.",
        )
    return None


def processing_outcome(data: bytes, channel: FakeChannel) -> tuple[str, str]:
    """What YouTube's processing would make of these bytes."""
    if not data:
        return "failed", "emptyFile"
    duration = None
    with contextlib.suppress(Exception), av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / 1_000_000
    if duration is None:
        return "failed", "invalidFile"
    if duration > 15 * 60 and channel.long_uploads_status != "allowed":
        return "rejected", "length"
    return "processed", ""


def channel_json(channel: FakeChannel, parts: set[str]) -> dict[str, Any]:
    item: dict[str, Any] = {"kind": "youtube#channel", "etag": "fake-etag", "id": channel.id}
    if "snippet" in parts:
        item["snippet"] = {
            "title": channel.title,
            "description": "",
            "customUrl": channel.custom_url,
            "publishedAt": "2020-01-01T00:00:00Z",
            "thumbnails": {},
            "localized": {"title": channel.title, "description": ""},
        }
    if "status" in parts:
        item["status"] = {
            "privacyStatus": "public",
            "isLinked": True,
            "longUploadsStatus": channel.long_uploads_status,
            "madeForKids": False,
        }
    return item


def video_json(video: FakeVideo, parts: set[str]) -> dict[str, Any]:
    item: dict[str, Any] = {"kind": "youtube#video", "etag": "fake-etag", "id": video.id}
    snippet = video.resource.get("snippet", {})
    wanted = video.resource.get("status", {})
    if "snippet" in parts:
        item["snippet"] = {
            "publishedAt": "2026-01-01T00:00:00Z",
            "channelId": video.channel.id,
            "title": snippet.get("title", ""),
            "description": snippet.get("description", ""),
            "thumbnails": {},
            "channelTitle": video.channel.title,
            "categoryId": snippet.get("categoryId", "22"),
            "liveBroadcastContent": "none",
        }
        for name in ("tags", "defaultLanguage"):
            if name in snippet:
                item["snippet"][name] = snippet[name]
    if "status" in parts:
        status: dict[str, Any] = {
            "uploadStatus": video.upload_status,
            "privacyStatus": wanted.get("privacyStatus", "public"),
            "license": "youtube",
            "embeddable": True,
            "publicStatsViewable": True,
            "selfDeclaredMadeForKids": bool(wanted.get("selfDeclaredMadeForKids")),
        }
        if wanted.get("publishAt"):
            status["publishAt"] = wanted["publishAt"]
        if video.upload_status == "failed":
            status["failureReason"] = video.outcome[1]
        if video.upload_status == "rejected":
            status["rejectionReason"] = video.outcome[1]
        item["status"] = status
    if "processingDetails" in parts:
        processing = {"uploaded": "processing", "failed": "failed"}.get(
            video.upload_status, "succeeded"
        )
        details: dict[str, Any] = {"processingStatus": processing}
        if processing == "processing":
            details["processingProgress"] = {
                "partsTotal": "10",
                "partsProcessed": str(10 - min(10, video.polls_left)),
                "timeLeftMs": str(20_000 * (video.polls_left + 1)),
            }
        if processing == "failed":
            details["processingFailureReason"] = "transcodeFailed"
        item["processingDetails"] = details
    return item
