"""What a Pin is made of, from a Crier post: Pinterest's limits as data, the title and
description rule, the link, the problems the preview shows, and the body of `POST /v5/pins`.

Pinterest API v5 (reference 5.23.0, https://developers.pinterest.com/docs/api/v5/pins-create
and the OpenAPI description at github.com/pinterest/api-description, `PinCreate` and
`PinMediaSource*`). Pure: no I/O, so `validate` and the preview share it with `publish`.

How the text becomes a Pin:

- A post of **more than one line**: the first line is the Pin's **title** (at most 100
  characters), everything after it the **description** (at most 500).
- A post of **one line**: no title, the whole text is the description. (A title-only Pin
  would cap a one-line post at 100 characters; the description is what Pinterest shows and
  searches under the image.)
- The first `http(s)://` link anywhere in the text is the Pin's **link** (where a click on
  the Pin goes; at most 2,048 characters). The text keeps it too.
- Alt text: Pinterest takes one per Pin (`alt_text`, at most 500 characters): the first
  media item's that has one.

Pinterest's API schema accepts descriptions of up to 800 characters, but its own editors and
help centre say 500, which is what Crier keeps to.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from providers.base import (
    Limits,
    MediaFile,
    MediaKind,
    PostContent,
    Problem,
    Severity,
    TextCounting,
)

MAX_TITLE = 100
MAX_DESCRIPTION = 500
MAX_ALT_TEXT = 500
MAX_LINK = 2048
#: A carousel Pin (`multiple_image_base64`) holds 2 to 5 images.
MAX_CAROUSEL = 5
#: Video Pins: 4 seconds to 15 minutes, MP4/MOV/M4V, H.264 or H.265, up to 2 GB.
MIN_VIDEO_SECONDS = 4.0
MAX_VIDEO_SECONDS = 15 * 60.0
MAX_VIDEO_BYTES = 2_000_000_000
MAX_IMAGE_BYTES = 20_000_000
#: Images go as base64, whose `content_type` Pinterest accepts only as JPEG or PNG (the
#: bot converts other photos to JPEG before they get here).
IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime", "video/x-m4v"})
#: The cover of a video Pin: the frame this many seconds in (`cover_image_key_frame_time`;
#: past the end, Pinterest takes the last frame). One second in skips a fade from black.
COVER_FRAME_SECOND = 1

LIMITS = Limits(
    max_text=MAX_DESCRIPTION,
    counting=TextCounting.CHARS,
    max_media=MAX_CAROUSEL,
    max_images=MAX_CAROUSEL,
    max_videos=1,
    mixed_media=False,
    mime_types={
        MediaKind.PHOTO: IMAGE_TYPES,
        MediaKind.VIDEO: VIDEO_TYPES,
        # Telegram's animations are silent MP4s: Pinterest takes them as videos.
        MediaKind.ANIMATION: frozenset({"video/mp4"}),
    },
    max_bytes={
        MediaKind.PHOTO: MAX_IMAGE_BYTES,
        MediaKind.VIDEO: MAX_VIDEO_BYTES,
        MediaKind.ANIMATION: MAX_VIDEO_BYTES,
    },
    video_codecs=frozenset({"h264", "hevc"}),
    max_video_duration=MAX_VIDEO_SECONDS,
    media_required=True,
    alt_text=True,
    threads=False,
    # Pinterest has no idempotency key: an ambiguous create is never retried blindly.
    idempotent_publish=False,
    # Pinterest transcodes a video before it can be pinned; long ones take minutes.
    processing_timeout=3600.0,
)

_LINK = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_LINK_TRAILING = ".,:;!?'\")]}"


@dataclass(frozen=True, kw_only=True)
class PinText:
    """The text fields of one Pin, by the rule in the module docstring."""

    title: str | None
    description: str
    #: The first link in the text, if any.
    link: str | None


def pin_text(text: str) -> PinText:
    stripped = text.strip()
    first, newline, rest = stripped.partition("\n")
    if newline and rest.strip():
        title: str | None = first.strip()
        description = rest.strip()
    else:
        title, description = None, stripped
    # A link fits in a Pin's link field: longer than 2,048 characters it could not be in a
    # text Pinterest takes (a 100-character title, a 500-character description).
    return PinText(title=title, description=description, link=_first_link(stripped))


def _first_link(text: str) -> str | None:
    match = _LINK.search(text)
    if match is None:
        return None
    link = match.group(0)
    while link and link[-1] in _LINK_TRAILING:
        # "(see https://example.com/a_(b))": keep a closing bracket the link opened.
        if link[-1] == ")" and link.count("(") >= link.count(")"):
            break
        link = link[:-1]
    return link if "://" in link and not link.endswith("://") else None


def alt_text_of(media: Sequence[MediaFile]) -> str | None:
    """The Pin's one alt text: the first item's that has one."""
    return next((m.alt_text.strip() for m in media if m.alt_text and m.alt_text.strip()), None)


def pin_problems(post: PostContent, board_id: object) -> list[Problem]:
    """What Pinterest refuses beyond the shared limits, in the words the preview shows."""
    problems: list[Problem] = []
    if not board_id:
        problems.append(
            Problem(
                code="no_board",
                message="This Pinterest account has no board to pin to; connect it again.",
            )
        )
    text = pin_text(post.text)
    if text.title is not None and len(text.title) > MAX_TITLE:
        problems.append(
            Problem(
                code="title_too_long",
                message=(
                    f"The first line becomes the Pin's title and is {len(text.title):,} "
                    f"characters; Pinterest allows {MAX_TITLE} in a title. Shorten the first "
                    "line, or write the post as one paragraph to send it all as the description."
                ),
            )
        )
    if len(text.description) > MAX_DESCRIPTION:
        what = (
            "The description (the text after the first line)" if text.title is not None else "Text"
        )
        problems.append(
            Problem(
                code="text_too_long",
                message=(
                    f"{what} is {len(text.description):,} characters; Pinterest allows "
                    f"{MAX_DESCRIPTION} in a Pin's description."
                ),
            )
        )
    problems.extend(_media_problems(post.media))
    return problems


def _media_problems(media: Sequence[MediaFile]) -> list[Problem]:
    problems: list[Problem] = []
    alts = [m.alt_text.strip() for m in media if m.alt_text and m.alt_text.strip()]
    if alts and len(alts[0]) > MAX_ALT_TEXT:
        problems.append(
            Problem(
                code="alt_text_too_long",
                message=(
                    f"The alt text is {len(alts[0]):,} characters; Pinterest allows "
                    f"{MAX_ALT_TEXT} for a Pin."
                ),
            )
        )
    if len(set(alts)) > 1:
        problems.append(
            Problem(
                code="one_alt_text",
                message=(
                    "Pinterest takes one alt text for the whole Pin: it gets the first one "
                    "you wrote, the others are left out."
                ),
                severity=Severity.WARNING,
            )
        )
    for index, item in enumerate(media, start=1):
        if (
            item.kind in (MediaKind.VIDEO, MediaKind.ANIMATION)
            and item.duration is not None
            and item.duration < MIN_VIDEO_SECONDS
        ):
            problems.append(
                Problem(
                    code="video_too_short",
                    message=(
                        f"Item {index} is {item.duration:.1f} seconds long; Pinterest takes "
                        f"videos of {MIN_VIDEO_SECONDS:.0f} seconds or more."
                    ),
                )
            )
    return problems


def is_video(item: MediaFile) -> bool:
    return item.kind in (MediaKind.VIDEO, MediaKind.ANIMATION)


def image_source(images: Sequence[tuple[str, bytes]]) -> dict[str, Any]:
    """`media_source` for one image (`image_base64`) or a carousel of 2-5
    (`multiple_image_base64`); each image is (content type, bytes)."""
    if len(images) == 1:
        mime, data = images[0]
        return {"source_type": "image_base64", "content_type": mime, "data": _b64(data)}
    return {
        "source_type": "multiple_image_base64",
        "items": [{"content_type": mime, "data": _b64(data)} for mime, data in images],
    }


def video_source(media_id: str) -> dict[str, Any]:
    """`media_source` for an uploaded and processed video, its cover a frame of it."""
    return {
        "source_type": "video_id",
        "media_id": media_id,
        "cover_image_key_frame_time": COVER_FRAME_SECOND,
    }


def pin_body(post: PostContent, board_id: str, media_source: dict[str, Any]) -> dict[str, Any]:
    """The JSON of `POST /v5/pins` (PinCreate): only the fields this post has."""
    text = pin_text(post.text)
    body: dict[str, Any] = {"board_id": board_id}
    if text.title:
        body["title"] = text.title
    if text.description:
        body["description"] = text.description
    if text.link:
        body["link"] = text.link
    alt = alt_text_of(post.media)
    if alt:
        body["alt_text"] = alt
    body["media_source"] = media_source
    return body


def pin_update_body(post: PostContent) -> dict[str, Any]:
    """The JSON of `PATCH /v5/pins/{id}` (PinUpdate) for an edit: title, description and
    link by the same rule as a new Pin, a field the new text lacks set to null (cleared);
    the alt text only when the post carries its media (otherwise it stays as it is)."""
    text = pin_text(post.text)
    body: dict[str, Any] = {
        "title": text.title or None,
        "description": text.description or None,
        "link": text.link,
    }
    if post.media:
        body["alt_text"] = alt_text_of(post.media)
    return body


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
