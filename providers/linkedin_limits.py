"""What LinkedIn accepts in one post, as data (`LIMITS`) and the per-file checks beyond it.

From the Posts API (commentary up to 3,000 characters; `content.media` is one image or one
video, `content.multiImage` 2 to 20 images, each with alt text), the Images API (JPG, PNG
and GIF, fewer than 36,152,320 pixels) and the Videos API (MP4, 3 seconds to 30 minutes,
75 KB to 500 MB). LinkedIn publishes no per-image file size and no posting quota (its rate
limits are per day and per app, shown only in the developer portal), so none is declared.
"""

from __future__ import annotations

from providers.base import Limits, MediaFile, MediaKind, Problem, TextCounting

_MB = 1_000_000
#: Videos: MP4, 3 seconds to 30 minutes, 75 KB to 500 MB (Videos API, video specifications).
MIN_VIDEO_SECONDS = 3.0
MIN_VIDEO_BYTES = 75_000
#: Longest alt text of an image (Posts API, MediaContent.altText).
MAX_ALT_TEXT = 4086
#: Seconds between two looks at a video LinkedIn is processing (it advises none).
VIDEO_POLL_INTERVAL = 15.0


LIMITS = Limits(
    max_text=3000,
    counting=TextCounting.CHARS,
    max_media=20,
    max_images=20,
    max_videos=1,
    mixed_media=False,
    mime_types={
        MediaKind.PHOTO: frozenset({"image/jpeg", "image/png", "image/gif"}),
        MediaKind.VIDEO: frozenset({"video/mp4"}),
        MediaKind.ANIMATION: frozenset({"video/mp4"}),
    },
    max_bytes={MediaKind.VIDEO: 500 * _MB, MediaKind.ANIMATION: 500 * _MB},
    # "Images must have fewer than 36,152,320 pixels."
    max_image_pixels=36_152_319,
    max_video_duration=1800.0,
    alt_text=True,
    threads=False,
    idempotent_publish=False,
    # Long videos can take LinkedIn many minutes to process.
    processing_timeout=3600.0,
)


def item_problems(index: int, item: MediaFile) -> list[Problem]:
    """What LinkedIn checks per file beyond the kind-level limits."""
    problems: list[Problem] = []
    if item.kind in (MediaKind.VIDEO, MediaKind.ANIMATION):
        if item.duration is not None and item.duration < MIN_VIDEO_SECONDS:
            problems.append(
                Problem(
                    code="video_too_short",
                    message=(
                        f"Item {index} is a {item.duration:.1f}-second video; LinkedIn needs "
                        f"at least {MIN_VIDEO_SECONDS:.0f} seconds."
                    ),
                )
            )
        if 0 < item.size < MIN_VIDEO_BYTES:
            problems.append(
                Problem(
                    code="video_too_small",
                    message=(
                        f"Item {index} is {item.size / 1000:.0f} KB; LinkedIn takes videos "
                        f"of {MIN_VIDEO_BYTES // 1000} KB or more."
                    ),
                )
            )
    if item.alt_text and len(item.alt_text) > MAX_ALT_TEXT:
        problems.append(
            Problem(
                code="alt_text_too_long",
                message=(
                    f"The description of item {index} is {len(item.alt_text):,} characters; "
                    f"LinkedIn allows {MAX_ALT_TEXT:,}."
                ),
            )
        )
    return problems
