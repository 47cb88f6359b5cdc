"""What a Facebook Page post may be, as data (`LIMITS`), and the rules `validate` adds.

- Text: up to 63,206 characters; the first http(s) link of a text-only post becomes its link
  (Facebook shows a preview of it).
- Photos: JPEG, PNG, GIF, BMP or TIFF up to 4 MB each (Facebook's error 1366046 names the 4
  MB); one goes to `/photos`, up to 10 become one post of several photos.
- One video per post, never with photos: MP4 (the Resumable Upload API takes no other video
  type), up to 1 GB here (the whole file is read to send it; Facebook itself takes more), up
  to 4 hours.
- Reels: a vertical video (at most 3:4, width / height ≤ 0.75; Meta asks for 9:16) of 3 to
  90 seconds goes out as a reel, anything else as a regular Page video. An account can choose
  with config `facebook_video_format`: "auto" (the default, as above), "reel" (every video;
  one of the wrong length is a problem) or "video" (never a reel). Meta allows 30 reels per
  Page per 24 hours through the API; over it the reel waits (RateLimited).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from providers.base import Limits, MediaFile, MediaKind, PostContent, Problem, Severity

NAME = "Facebook"
MAX_TEXT = 63_206
MAX_PHOTOS = 10
PHOTO_BYTES = 4_000_000
VIDEO_BYTES = 1_000_000_000
MAX_VIDEO_SECONDS = 4 * 3600.0
#: A reel: this long, in seconds (Reels Publishing API, "Video specifications").
REEL_SECONDS = (3.0, 90.0)
#: Width / height at or under which a video counts as vertical.
REEL_MAX_RATIO = 0.75
VIDEO_FORMATS = ("auto", "reel", "video")

LIMITS = Limits(
    max_text=MAX_TEXT,
    max_media=MAX_PHOTOS,
    max_images=MAX_PHOTOS,
    max_videos=1,
    mixed_media=False,
    mime_types={
        MediaKind.PHOTO: frozenset(
            {"image/jpeg", "image/png", "image/gif", "image/bmp", "image/tiff"}
        ),
        MediaKind.VIDEO: frozenset({"video/mp4"}),
        MediaKind.ANIMATION: frozenset({"video/mp4", "image/gif"}),
    },
    max_bytes={
        MediaKind.PHOTO: PHOTO_BYTES,
        MediaKind.VIDEO: VIDEO_BYTES,
        MediaKind.ANIMATION: VIDEO_BYTES,
    },
    video_codecs=frozenset({"h264", "hevc"}),
    max_video_duration=MAX_VIDEO_SECONDS,
    alt_text=True,
    threads=False,
    idempotent_publish=False,
    processing_timeout=3600.0,
)

_LINK = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,:;!?'\")]"


def first_link(text: str) -> str | None:
    """The first http(s) link in the text, without the punctuation that ends a sentence."""
    match = _LINK.search(text)
    if match is None:
        return None
    link = match.group(0)
    while link and link[-1] in _TRAILING and not (link[-1] == ")" and "(" in link):
        link = link[:-1]
    return link or None


def is_video(item: MediaFile) -> bool:
    """A video to Facebook: videos, and animations that aren't GIFs (Telegram's silent MP4s);
    a GIF goes as a photo."""
    if item.kind == MediaKind.VIDEO:
        return True
    return item.kind == MediaKind.ANIMATION and item.mime != "image/gif"


def video_format(config: Mapping[str, Any]) -> str:
    return str(config.get("facebook_video_format") or "auto")


def is_reel(video: MediaFile, config: Mapping[str, Any]) -> bool:
    """Whether the video goes out as a reel (see the module docstring)."""
    chosen = video_format(config)
    if chosen == "reel":
        return True
    if chosen != "auto":
        return False
    if not video.width or not video.height or video.duration is None:
        return False  # unknown shape or length: a regular video is always accepted
    vertical = video.width / video.height <= REEL_MAX_RATIO
    return vertical and REEL_SECONDS[0] <= video.duration <= REEL_SECONDS[1]


def page_problems(post: PostContent, config: Mapping[str, Any]) -> list[Problem]:
    """Facebook's rules beyond the shared `Limits` checks."""
    problems: list[Problem] = []
    chosen = video_format(config)
    if chosen not in VIDEO_FORMATS:
        problems.append(
            Problem(
                code="video_format",
                message=(f"Unknown Facebook video format {chosen!r}; use auto, reel or video."),
            )
        )
    for index, item in enumerate(post.media, start=1):
        gif = item.kind == MediaKind.ANIMATION and item.mime == "image/gif"
        if gif and item.size > PHOTO_BYTES:
            problems.append(
                Problem(
                    code="media_too_large",
                    message=(
                        f"Item {index} is a GIF of {item.size / 1_000_000:.1f} MB; "
                        "Facebook takes 4 MB per photo."
                    ),
                )
            )
    videos = [m for m in post.media if is_video(m)]
    if chosen == "reel" and videos and videos[0].duration is not None:
        low, high = REEL_SECONDS
        if not low <= videos[0].duration <= high:
            problems.append(
                Problem(
                    code="reel_duration",
                    message=(
                        f"The video is {videos[0].duration:.0f} seconds; a Facebook reel is "
                        f"{low:.0f} to {high:.0f} seconds."
                    ),
                )
            )
        video = videos[0]
        if video.width and video.height and video.width / video.height > REEL_MAX_RATIO:
            problems.append(
                Problem(
                    code="reel_shape",
                    message=(
                        "Facebook reels are vertical (9:16); this video is "
                        f"{video.width}×{video.height} and will show with bars."
                    ),
                    severity=Severity.WARNING,
                )
            )
    return problems
