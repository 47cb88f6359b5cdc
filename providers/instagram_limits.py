"""What an Instagram post may be, as data, and the rules `validate` adds (Instagram Platform
"Content Publishing" and the IG User Media reference, Graph API v27.0).

Every post needs media: Instagram has no text posts. The account's config
`instagram_format` says what a post becomes:

- "feed" (the default): one photo is a photo post, one video a reel shown in the feed too
  (since July 2023 every single feed video published through the API is a reel), 2 to 10
  photos and videos a carousel;
- "reel": one video, a reel;
- "story": one photo or video, a story (business accounts only; a story has no caption, so
  the text is left out).

Limits: caption 2,200 characters, 20 @mentions, and 5 hashtags (Instagram lowered it from
30 to 5 on 18 December 2025; the API reference still says 30, the apps and Meta's own
announcement say 5, so Crier keeps to 5). Photos are JPEGs (the API takes no other type:
others are converted before they go) up to 8 MB; feed photos are 4:5 to 1.91:1 (width /
height 0.8 to 1.91). Videos are MP4 or MOV, H.264 or HEVC: a reel 3 seconds to 15 minutes
and up to 1 GB, a story video at most 60 seconds and 100 MB, a carousel video up to 100 MB.
An account publishes at most 100 posts per 24 hours through the API (a carousel counts as
one; `content_publishing_limit`), which `Limits.quota` tells the engine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from providers.base import Limits, MediaFile, MediaKind, PostContent, Problem, Severity

NAME = "Instagram"
FORMATS = ("feed", "reel", "story")
MAX_CAPTION = 2_200
MAX_HASHTAGS = 5
MAX_MENTIONS = 20
MAX_CAROUSEL = 10
PHOTO_BYTES = 8_000_000
REEL_BYTES = 1_000_000_000
SMALL_VIDEO_BYTES = 100_000_000
REEL_SECONDS = (3.0, 900.0)
STORY_SECONDS = 60.0
#: Feed photos: width / height.
FEED_ASPECT = (0.8, 1.91)
#: Rounding of sizes that are 4:5 or 1.91:1 "on paper" (1080×1350, 1080×566).
_ASPECT_SLACK = 0.01
#: Posts an account may publish through the API per 24 hours.
DAILY_POSTS = 100

LIMITS = Limits(
    max_text=MAX_CAPTION,
    max_media=MAX_CAROUSEL,
    max_images=MAX_CAROUSEL,
    max_videos=MAX_CAROUSEL,
    mixed_media=True,
    mime_types={
        MediaKind.PHOTO: frozenset({"image/jpeg"}),
        MediaKind.VIDEO: frozenset({"video/mp4", "video/quicktime"}),
        MediaKind.ANIMATION: frozenset({"video/mp4"}),
    },
    max_bytes={
        MediaKind.PHOTO: PHOTO_BYTES,
        MediaKind.VIDEO: REEL_BYTES,
        MediaKind.ANIMATION: REEL_BYTES,
    },
    image_aspect_ratio=FEED_ASPECT,
    video_codecs=frozenset({"h264", "hevc"}),
    max_video_duration=REEL_SECONDS[1],
    media_required=True,
    alt_text=True,
    threads=False,
    idempotent_publish=False,
    quota=(DAILY_POSTS, 24 * 3600.0),
    # Meta advises looking once a minute for up to five minutes; a long reel takes longer.
    processing_timeout=1800.0,
    pulls_media=True,
)

_HASHTAG = re.compile(r"(?<![\w&])#\w+")
_MENTION = re.compile(r"(?<![\w.])@[A-Za-z0-9._]+")


def format_of(config: Mapping[str, Any]) -> str:
    return str(config.get("instagram_format") or "feed")


def fit_of(config: Mapping[str, Any]) -> str:
    """What the account does with a feed photo of another shape: "ask" (refuse, and say
    it can be set), "pad" or "crop" (bot/media/shape.py)."""
    chosen = str(config.get("instagram_fit") or "ask")
    return chosen if chosen in ("pad", "crop") else "ask"


def limits_for(config: Mapping[str, Any]) -> Limits:
    """Stories and reels are one item; only feed photos have an aspect ratio rule."""
    chosen = format_of(config)
    if chosen == "feed":
        return replace(LIMITS, image_aspect_fit=fit_of(config))
    return replace(LIMITS, max_media=1, image_aspect_ratio=None)


def is_video(item: MediaFile) -> bool:
    return item.kind in (MediaKind.VIDEO, MediaKind.ANIMATION)


def hashtags(text: str) -> list[str]:
    return _HASHTAG.findall(text)


def mentions(text: str) -> list[str]:
    return _MENTION.findall(text)


def instagram_problems(post: PostContent, config: Mapping[str, Any]) -> list[Problem]:
    """Instagram's rules beyond the shared `Limits` checks."""
    chosen = format_of(config)
    if chosen not in FORMATS:
        return [
            Problem(
                code="instagram_format",
                message=f"Unknown Instagram format {chosen!r}; use feed, reel or story.",
            )
        ]
    problems = _caption_problems(post.text, story=chosen == "story")
    if chosen == "reel" and (len(post.media) != 1 or not is_video(post.media[0])):
        problems.append(Problem(code="reel_needs_video", message="An Instagram reel is one video."))
    carousel = chosen == "feed" and len(post.media) > 1
    if chosen == "feed" and len(post.media) == 1 and is_video(post.media[0]):
        problems.append(
            Problem(
                code="video_as_reel",
                message=(
                    "The video goes out as a reel, shown in the feed too: Instagram publishes "
                    "every single video that way (a story instead: /accounts → ⚙️)."
                ),
                severity=Severity.WARNING,
            )
        )
    for index, item in enumerate(post.media, start=1):
        problems.extend(_item_problems(index, item, chosen, carousel=carousel, fit=fit_of(config)))
    return problems


def _caption_problems(text: str, *, story: bool) -> list[Problem]:
    if story:
        if text.strip():
            return [
                Problem(
                    code="story_caption",
                    message="Instagram stories have no caption; the text will be left out.",
                    severity=Severity.WARNING,
                )
            ]
        return []
    problems: list[Problem] = []
    tags = hashtags(text)
    if len(tags) > MAX_HASHTAGS:
        problems.append(
            Problem(
                code="too_many_hashtags",
                message=f"{len(tags)} hashtags; Instagram allows {MAX_HASHTAGS} per post.",
            )
        )
    named = mentions(text)
    if len(named) > MAX_MENTIONS:
        problems.append(
            Problem(
                code="too_many_mentions",
                message=f"{len(named)} @mentions; Instagram allows {MAX_MENTIONS} per post.",
            )
        )
    return problems


def _item_problems(
    index: int, item: MediaFile, chosen: str, *, carousel: bool, fit: str = "ask"
) -> list[Problem]:
    problems: list[Problem] = []
    # Padded or cropped when sent, as the user set the account (bot/media/shape.py).
    fitted = fit != "ask"
    if item.kind == MediaKind.PHOTO and chosen == "feed" and item.width and item.height:
        ratio = item.width / item.height
        low, high = FEED_ASPECT
        if not fitted and not low - _ASPECT_SLACK <= ratio <= high + _ASPECT_SLACK:
            problems.append(
                Problem(
                    code="aspect_ratio",
                    message=(
                        f"Photo {index} is {item.width}×{item.height}; Instagram's feed takes "
                        "4:5 (portrait) to 1.91:1 (landscape). Crop it to fit, or let Crier "
                        "pad or crop photos for this account: /accounts → ⚙️."
                    ),
                )
            )
    if not is_video(item):
        return problems
    if (carousel or chosen == "story") and item.size > SMALL_VIDEO_BYTES:
        where = "in a story" if chosen == "story" else "in a carousel"
        problems.append(
            Problem(
                code="media_too_large",
                message=(
                    f"Video {index} is {item.size / 1_000_000:.0f} MB; Instagram takes 100 MB "
                    f"{where}."
                ),
            )
        )
    if item.duration is None:
        return problems
    if chosen == "story" and item.duration > STORY_SECONDS:
        problems.append(
            Problem(
                code="video_too_long",
                message=f"Video {index} is {item.duration:.0f} seconds; a story takes 60.",
            )
        )
    elif not carousel and chosen != "story" and item.duration < REEL_SECONDS[0]:
        problems.append(
            Problem(
                code="video_too_short",
                message=f"Video {index} is under 3 seconds; an Instagram reel is 3 s or more.",
            )
        )
    return problems
