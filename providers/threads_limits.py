"""What Threads accepts in one post (Threads API v1.0, graph.threads.net), as data and checks.

Sources (developers.facebook.com/docs/threads): "Threads Posts" (text posts are limited to
500 characters, and emojis count as their number of UTF-8 bytes; carousels of up to 20
images and videos; the media specifications: JPEG or PNG images up to 8 MB and an aspect
ratio of at most 10:1, MOV or MP4 videos with H.264 or HEVC, 23 to 60 frames per second, at
most 1920 pixels wide, up to 5 minutes and 1 GB), "Text Attachments" (since 22 December 2025
a post with more than 5 links fails with THREADS_API__LINK_LIMIT_EXCEEDED), "Overview" (250
API-published posts per profile in a moving 24 hours, a carousel counting as one) and
"Retrieve and Manage Replies" (1,000 replies per 24 hours).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import regex

from providers.base import Limits, MediaFile, MediaKind, PostContent, Problem, Severity
from providers.text import TextCounting, url_spans

MAX_TEXT: Final = 500
#: "Carousels are limited to 20 images, videos, or a mix of the two" (at least 2).
MAX_CAROUSEL: Final = 20
MAX_IMAGE_BYTES: Final = 8_000_000
MAX_VIDEO_BYTES: Final = 1_000_000_000
MAX_VIDEO_SECONDS: Final = 300.0
MAX_VIDEO_FPS: Final = 60.0
MIN_VIDEO_FPS: Final = 23.0
MAX_VIDEO_WIDTH: Final = 1920
#: Unique links in a post's text (Threads refuses the container beyond this).
MAX_LINKS: Final = 5
#: Posts per profile in a moving 24 hours (carousels count as one).
POSTS_PER_DAY: Final = 250
#: Replies per profile in a moving 24 hours (each part of a thread after the first).
REPLIES_PER_DAY: Final = 1000
DAY: Final = 24 * 3600.0

IMAGE_TYPES: Final = frozenset({"image/jpeg", "image/png"})
VIDEO_TYPES: Final = frozenset({"video/mp4", "video/quicktime"})

#: How long a publish may stay `Processing`: each part of a thread waits for its container
#: (about half a minute; Threads advises checking a video once a minute for up to five), and
#: a container Threads does not publish within 24 hours expires anyway.
PROCESSING_TIMEOUT: Final = 2 * 3600.0

LIMITS: Final = Limits(
    max_text=MAX_TEXT,
    # Code points, except that an emoji counts its UTF-8 bytes: `threads_length`, which the
    # adapter's `text_length` and `validate` use instead of this plain count.
    counting=TextCounting.CHARS,
    max_media=MAX_CAROUSEL,
    max_images=MAX_CAROUSEL,
    max_videos=MAX_CAROUSEL,
    mixed_media=True,
    mime_types={
        MediaKind.PHOTO: IMAGE_TYPES,
        MediaKind.VIDEO: VIDEO_TYPES,
        # A Telegram GIF is an MP4 without sound: Threads takes it as a video.
        MediaKind.ANIMATION: frozenset({"video/mp4"}),
    },
    max_bytes={
        MediaKind.PHOTO: MAX_IMAGE_BYTES,
        MediaKind.VIDEO: MAX_VIDEO_BYTES,
        MediaKind.ANIMATION: MAX_VIDEO_BYTES,
    },
    image_aspect_ratio=(0.1, 10.0),
    video_codecs=frozenset({"h264", "hevc"}),
    max_video_duration=MAX_VIDEO_SECONDS,
    max_video_fps=MAX_VIDEO_FPS,
    alt_text=True,
    threads=True,
    quota=(POSTS_PER_DAY, DAY),
    processing_timeout=PROCESSING_TIMEOUT,
    pulls_media=True,
)

_GRAPHEME = regex.compile(r"\X")
_EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3]")
_HTTP_URL = regex.compile(r"https?://[^\s<>\"]+", regex.IGNORECASE)
_URL_TRAILING = ".,:;!?'\"*)]}"


def threads_length(text: str) -> int:
    """How long Threads considers `text`: one per character, but an emoji (a whole sequence:
    skin tone, ZWJ family, flag, keycap) as many as its UTF-8 bytes (👍 4, 👍🏽 8)."""
    total = 0
    for grapheme in _GRAPHEME.findall(text):
        total += len(grapheme.encode()) if _EMOJI.search(grapheme) else len(grapheme)
    return total


def link_count(text: str) -> int:
    """Unique links in `text` as Threads counts them (with or without http(s)://)."""
    return len({text[start:end].lower() for start, end in url_spans(text)})


def first_link(text: str) -> str | None:
    """The first http(s) URL in `text`, trailing punctuation left out: what Threads previews,
    sent as the text post's `link_attachment`."""
    match = _HTTP_URL.search(text)
    if match is None:
        return None
    url = match.group(0)
    while url and url[-1] in _URL_TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break  # "(…)" belongs to the link: a Wikipedia article
        url = url[:-1]
    return url or None


def threads_problems(post: PostContent) -> Iterator[Problem]:
    """Threads' own rules beyond the shared `Limits` checks: the length of every part as
    Threads counts it, links per part, and the video shape."""
    total = len(post.parts)
    for number, part in enumerate(post.parts, start=1):
        what = f"Part {number} of {total}" if post.thread else "Text"
        length = threads_length(part)
        if length > MAX_TEXT and (number == 1 or part.strip()):
            yield Problem(
                code="text_too_long",
                message=(
                    f"{what} is {length:,} characters as Threads counts them (an emoji counts "
                    f"as 2 to 4 or more); Threads allows {MAX_TEXT:,}."
                ),
            )
        links = link_count(part)
        if links > MAX_LINKS:
            yield Problem(
                code="too_many_links",
                message=f"{what} has {links} links; Threads takes at most {MAX_LINKS} a post.",
            )
    for index, item in enumerate(post.media, start=1):
        yield from _video_problems(index, item)


def _video_problems(index: int, item: MediaFile) -> Iterator[Problem]:
    if item.kind not in (MediaKind.VIDEO, MediaKind.ANIMATION):
        return
    if item.width is not None and item.width > MAX_VIDEO_WIDTH:
        yield Problem(
            code="video_too_wide",
            message=(
                f"Video {index} is {item.width} pixels wide; Threads' video specification "
                f"says at most {MAX_VIDEO_WIDTH}, so Threads may refuse it."
            ),
            severity=Severity.WARNING,
        )
