"""What X accepts in one post (X API v2, docs.x.com, OpenAPI 2.167), as data and as checks.

Sources: "Media upload best practices" (x-api/media/quickstart/best-practices), the media
introduction (5 MB images, 15 MB GIFs, 512 MB videos), the OpenAPI schema of
`POST /2/media/metadata` (alt text at most 1,000 characters), the manage-Posts integration
guide (at most one cashtag per Post for self-serve customers) and the rate-limit table
(`POST /2/tweets`: 100 per 15 minutes per user).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

import regex

from providers.base import (
    Limits,
    MediaFile,
    MediaKind,
    PostContent,
    Problem,
    Severity,
    TextCounting,
)
from providers.text import X_MAX_WEIGHTED

#: X Premium subscribers (any tier but "None") may post up to 25,000 weighted characters
#: through the API (changelog: long-form Posts, 2024); `subscription_type` is read from
#: `GET /2/users/me` at connect time and stored in the account config.
MAX_PREMIUM_TEXT: Final = 25_000

MB: Final = 1024 * 1024
MAX_IMAGE_BYTES: Final = 5 * MB
MAX_GIF_BYTES: Final = 15 * MB
MAX_VIDEO_BYTES: Final = 512 * MB
#: "Duration must be between 0.5 seconds and 140 seconds".
MIN_VIDEO_SECONDS: Final = 0.5
MAX_VIDEO_SECONDS: Final = 140.0
MAX_VIDEO_FPS: Final = 60.0
#: "Aspect ratio must be between 1:3 and 3:1".
VIDEO_ASPECT: Final = (1 / 3, 3.0)
#: `metadata.alt_text.text` maxLength in the OpenAPI schema of POST /2/media/metadata.
MAX_ALT_TEXT: Final = 1000
#: Self-serve (pay-per-use) Posts may carry at most one cashtag.
MAX_CASHTAGS: Final = 1

IMAGE_TYPES: Final = frozenset({"image/jpeg", "image/png", "image/webp"})
GIF: Final = "image/gif"
VIDEO_TYPES: Final = frozenset({"video/mp4", "video/quicktime"})

#: `POST /2/tweets` per user, by the app's X API plan: the rate-limit table today (pay-per-use,
#: the same as the former Pro tier) and the former Basic and Free tiers' per-user 24-hour caps.
PLAN_QUOTAS: Final[dict[str, tuple[int, float]]] = {
    "pay_per_use": (100, 15 * 60.0),
    "pro": (100, 15 * 60.0),
    "basic": (100, 24 * 3600.0),
    "free": (17, 24 * 3600.0),
}

#: How long a publish may stay `Processing` before it fails: a 140-second video is processed
#: in minutes, and a thread held up by the 15-minute rate-limit window (X keeps an upload for
#: `expires_after_secs`, a day) goes on within the hour.
PROCESSING_TIMEOUT: Final = 60 * 60.0

_CASHTAG = regex.compile(
    r"(?<![\p{L}\p{N}_$])\$[A-Za-z]{1,6}(?:[._][A-Za-z]{1,2})?(?![\p{L}\p{N}_])"
)


def x_limits(plan: str = "pay_per_use", *, premium: bool = False) -> Limits:
    if plan not in PLAN_QUOTAS:
        raise ValueError(f"unknown X API plan {plan!r}; one of {', '.join(PLAN_QUOTAS)}")
    return Limits(
        max_text=MAX_PREMIUM_TEXT if premium else X_MAX_WEIGHTED,
        counting=TextCounting.WEIGHTED,
        # "You may attach up to 4 photos, 1 animated GIF or 1 video in a Post."
        max_media=4,
        max_images=4,
        max_videos=1,
        mixed_media=False,
        mime_types={
            MediaKind.PHOTO: IMAGE_TYPES,
            MediaKind.VIDEO: VIDEO_TYPES,
            # A GIF file, or Telegram's silent MP4 (uploaded as a video).
            MediaKind.ANIMATION: VIDEO_TYPES | {GIF},
        },
        max_bytes={
            MediaKind.PHOTO: MAX_IMAGE_BYTES,
            MediaKind.VIDEO: MAX_VIDEO_BYTES,
            MediaKind.ANIMATION: MAX_VIDEO_BYTES,  # GIF files: 15 MB, checked below
        },
        max_video_duration=MAX_VIDEO_SECONDS,
        max_video_fps=MAX_VIDEO_FPS,
        alt_text=True,
        threads=True,
        idempotent_publish=False,
        quota=PLAN_QUOTAS[plan],
        processing_timeout=PROCESSING_TIMEOUT,
    )


def is_premium(config: Mapping[str, Any]) -> bool:
    """Whether the account's stored `subscription_type` allows long posts."""
    kind = str(config.get("subscription_type") or "None")
    return kind not in ("", "None")


def category(item: MediaFile) -> str:
    """The upload's `media_category`: what X checks the file against and how it processes it."""
    if item.mime == GIF:
        return "tweet_gif"
    if item.mime.startswith("video/"):
        return "tweet_video"
    return "tweet_image"


def x_problems(post: PostContent) -> Iterator[Problem]:
    """X's rules beyond the shared `check_limits`."""
    media = post.media
    if any(m.mime == GIF for m in media) and len(media) > 1:
        yield Problem(
            code="gif_not_alone",
            message="X takes an animated GIF only on its own: remove the other media.",
        )
    for index, item in enumerate(media, start=1):
        yield from _item_problems(index, item)
    for number, part in enumerate(post.parts, start=1):
        if len(_CASHTAG.findall(part)) > MAX_CASHTAGS:
            where = f"Part {number} of {len(post.parts)}" if post.thread else "The post"
            yield Problem(
                code="too_many_cashtags",
                message=f"{where} has more than one $cashtag; X allows one per post from apps.",
            )


def _item_problems(index: int, item: MediaFile) -> Iterator[Problem]:
    if item.mime == GIF and item.size > MAX_GIF_BYTES:
        yield Problem(
            code="media_too_large",
            message=f"Item {index} is a {item.size / MB:.1f} MB GIF; X allows 15 MB per GIF.",
        )
    if item.alt_text and len(item.alt_text) > MAX_ALT_TEXT:
        yield Problem(
            code="alt_text_too_long",
            message=(
                f"The description of item {index} is {len(item.alt_text):,} characters; "
                f"X allows {MAX_ALT_TEXT:,}."
            ),
        )
    if not item.mime.startswith("video/"):
        return
    if item.alt_text:
        yield Problem(
            code="alt_text_dropped",
            message=f"X takes descriptions for photos and GIFs only; item {index}'s is left out.",
            severity=Severity.WARNING,
        )
    if item.duration is not None and item.duration < MIN_VIDEO_SECONDS:
        yield Problem(
            code="video_too_short",
            message=f"Item {index} lasts {item.duration:.1f} s; X needs at least half a second.",
        )
    if item.width and item.height:
        ratio = item.width / item.height
        low, high = VIDEO_ASPECT
        if not low <= ratio <= high:
            yield Problem(
                code="video_aspect_ratio",
                message=(
                    f"Item {index} is {item.width}×{item.height}; X takes videos between 1:3 "
                    "and 3:1."
                ),
            )
