"""What YouTube accepts in one upload, and how a Crier post becomes a YouTube video.

A post is one video. Its text becomes the video's metadata: the first non-blank line is the
title (at most 100 characters), the rest is the description (at most 5,000 bytes of UTF-8);
neither may contain `<` or `>` (YouTube Data API v3, `videos` resource, `snippet.title` and
`snippet.description`), so those are sent as `‹` and `›` and the preview says so.

A square or vertical video of up to three minutes becomes a Short on its own; its link is
`https://youtube.com/shorts/<id>`, any other video's `https://www.youtube.com/watch?v=<id>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from providers.base import (
    AccountRef,
    Limits,
    MediaFile,
    MediaKind,
    PostContent,
    Problem,
    Severity,
    TextCounting,
    check_limits,
)

NAME = "YouTube"
#: snippet.title: characters.
MAX_TITLE = 100
#: snippet.description: bytes of UTF-8.
MAX_DESCRIPTION_BYTES = 5000
#: videos.insert mediaUpload.maxSize (256 GB).
MAX_VIDEO_BYTES = 274_877_906_944
#: 12 hours for a channel allowed long uploads, 15 minutes for any other.
MAX_DURATION = 12 * 3600.0
MAX_DURATION_UNVERIFIED = 15 * 60.0
#: A square or vertical video up to this long is a Short.
MAX_SHORT_DURATION = 180.0
#: The formats YouTube's help lists as supported ("Supported YouTube file formats").
VIDEO_MIME_TYPES = frozenset(
    {
        "video/mp4",
        "video/quicktime",
        "video/mpeg",
        "video/x-msvideo",
        "video/avi",
        "video/x-ms-wmv",
        "video/x-flv",
        "video/3gpp",
        "video/webm",
    }
)
PRIVACY_STATUSES = ("public", "unlisted", "private")
#: channels.status.longUploadsStatus values.
LONG_UPLOADS_ALLOWED = "allowed"
LONG_UPLOADS_REFUSED = frozenset({"eligible", "disallowed"})
#: A post scheduled at least this far ahead is uploaded private with `publishAt`.
SCHEDULE_AHEAD = timedelta(minutes=2)

_ANGLES = str.maketrans({"<": "‹", ">": "›"})

LIMITS = Limits(
    # The title: the first line of the text (`text_length` counts it).
    max_text=MAX_TITLE,
    counting=TextCounting.CHARS,
    max_media=1,
    max_images=0,
    max_videos=1,
    mixed_media=False,
    # Telegram's animations are silent MP4s, and a video sent as a file is still a video.
    mime_types={
        MediaKind.VIDEO: VIDEO_MIME_TYPES,
        MediaKind.ANIMATION: VIDEO_MIME_TYPES,
        MediaKind.DOCUMENT: VIDEO_MIME_TYPES,
    },
    max_bytes={
        MediaKind.VIDEO: MAX_VIDEO_BYTES,
        MediaKind.ANIMATION: MAX_VIDEO_BYTES,
        MediaKind.DOCUMENT: MAX_VIDEO_BYTES,
    },
    # The 15-minute limit of channels without long uploads is checked in `post_problems`,
    # which knows the channel and can say how to lift it.
    max_video_duration=MAX_DURATION,
    media_required=True,
    alt_text=False,
    threads=False,
    # `publish` only opens an upload session (nothing appears on YouTube); the bytes go in
    # `poll`, which asks the session how much arrived, so a repeat never makes a second video.
    idempotent_publish=True,
    concurrency=1,
    platform_concurrency=4,
    # Uploading a long video and YouTube's processing of it can take hours.
    processing_timeout=6 * 3600.0,
)


@dataclass(frozen=True, kw_only=True)
class Metadata:
    """The video resource's snippet as YouTube gets it."""

    title: str
    description: str
    #: `<` or `>` were replaced.
    replaced_angles: bool
    #: The title came from the file name: the text had no line for it.
    title_from_file: bool


def metadata_of(post: PostContent) -> Metadata:
    """Title from the first non-blank line, description from the rest."""
    first, _, rest = post.text.strip().partition("\n")
    title, description = first.strip(), rest.strip()
    from_file = not title
    if from_file:
        video = video_of(post)
        name = (video.file_name or "") if video else ""
        title = name.rsplit(".", 1)[0].strip() or "Video"
    replaced = any(c in "<>" for c in title + description)
    return Metadata(
        title=title.translate(_ANGLES),
        description=description.translate(_ANGLES),
        replaced_angles=replaced,
        title_from_file=from_file,
    )


def title_length(text: str) -> int:
    """How long the title taken from `text` is."""
    return len(text.strip().partition("\n")[0].strip())


def video_of(post: PostContent) -> MediaFile | None:
    """The post's video, where it has exactly one item and that is a video."""
    if len(post.media) != 1:
        return None
    item = post.media[0]
    return item if _is_video(item) else None


def is_short(item: MediaFile) -> bool:
    """Whether YouTube will make this video a Short: square or vertical, up to 3 minutes."""
    if not item.width or not item.height or item.duration is None:
        return False
    return item.height >= item.width and item.duration <= MAX_SHORT_DURATION


def video_url(video_id: str, *, short: bool) -> str:
    if short:
        return f"https://youtube.com/shorts/{video_id}"
    return f"https://www.youtube.com/watch?v={video_id}"


def privacy_of(config: Mapping[str, Any]) -> str | None:
    """The account's chosen privacy ("public" when unset); None when it is not one of them."""
    value = config.get("privacy") or "public"
    return value if value in PRIVACY_STATUSES else None


def schedule(privacy: str, scheduled_at: datetime | None, now: datetime) -> tuple[str, str | None]:
    """(privacyStatus, publishAt). A public video due later than it is uploaded goes up
    private with `publishAt` (YouTube accepts `publishAt` only on private videos) and YouTube
    makes it public at that time; unlisted and private videos go up as they are."""
    if privacy != "public" or scheduled_at is None:
        return privacy, None
    when = scheduled_at if scheduled_at.tzinfo else scheduled_at.replace(tzinfo=UTC)
    if when - now < SCHEDULE_AHEAD:
        return privacy, None
    return "private", when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def limits_for(account: AccountRef) -> Limits:
    return LIMITS


def post_problems(post: PostContent, account: AccountRef) -> list[Problem]:
    """Everything YouTube would refuse (errors) or change (warnings) about this post."""
    problems = [
        p
        for p in check_limits(LIMITS, post, NAME)
        # Text is checked as a title and a description below; media types with YouTube's words.
        if p.code not in ("text_too_long", "media_type")
    ]
    if any(p.code == "empty" for p in problems):
        return problems
    problems.extend(_media_problems(post))
    meta = metadata_of(post)
    if len(meta.title) > MAX_TITLE:
        problems.insert(
            0,
            Problem(
                code="text_too_long",
                message=(
                    f"The title (the first line) is {len(meta.title):,} characters; YouTube "
                    f"allows {MAX_TITLE}. Put a shorter first line; the rest of the text is "
                    "the description."
                ),
            ),
        )
    size = len(meta.description.encode("utf-8"))
    if size > MAX_DESCRIPTION_BYTES:
        problems.append(
            Problem(
                code="description_too_long",
                message=(
                    f"The description (the text after the first line) is {size:,} bytes; "
                    f"YouTube allows {MAX_DESCRIPTION_BYTES:,} (letters with accents take 2 "
                    "bytes, emoji 4)."
                ),
            )
        )
    if meta.title_from_file and video_of(post) is not None:
        problems.append(
            Problem(
                code="no_title",
                message=(
                    f"YouTube needs a title; the video will be called “{meta.title}”. Start "
                    "the text with a line for the title."
                ),
                severity=Severity.WARNING,
            )
        )
    if meta.replaced_angles:
        problems.append(
            Problem(
                code="angle_brackets",
                message="YouTube doesn't allow < or > in a title or description; they go out "
                "as ‹ and ›.",
                severity=Severity.WARNING,
            )
        )
    problems.extend(_channel_problems(post, account))
    return problems


def _media_problems(post: PostContent) -> list[Problem]:
    problems: list[Problem] = []
    for index, item in enumerate(post.media, start=1):
        if item.kind == MediaKind.PHOTO or item.mime.startswith("image/"):
            problems.append(
                Problem(
                    code="media_type",
                    message=f"Item {index} is a photo; YouTube takes one video and no photos.",
                )
            )
        elif item.mime not in VIDEO_MIME_TYPES:
            problems.append(
                Problem(
                    code="media_type",
                    message=(
                        f"Item {index} ({item.mime}) is not a format YouTube accepts; send an "
                        "MP4, MOV, WebM, AVI, WMV, FLV, MPEG or 3GPP video."
                    ),
                )
            )
    return problems


def _channel_problems(post: PostContent, account: AccountRef) -> list[Problem]:
    """The video's length against the channel's limit, whether it will be a Short, and the
    account's privacy setting."""
    problems: list[Problem] = []
    if privacy_of(account.config) is None:
        problems.append(
            Problem(
                code="privacy",
                message=(
                    f"Unknown YouTube privacy {account.config.get('privacy')!r}; use public, "
                    "unlisted or private."
                ),
            )
        )
    video = video_of(post)
    if video is None or video.duration is None:
        return problems
    status = str(account.config.get("long_uploads_status") or "")
    if MAX_DURATION_UNVERIFIED < video.duration <= MAX_DURATION and status != LONG_UPLOADS_ALLOWED:
        minutes = video.duration / 60
        if status in LONG_UPLOADS_REFUSED:
            how = (
                "verify the channel at https://www.youtube.com/verify, then reconnect it"
                if status == "eligible"
                else "YouTube doesn't allow this channel longer videos yet"
            )
            problems.append(
                Problem(
                    code="video_too_long",
                    message=(
                        f"The video is {minutes:.0f} minutes long; this channel can upload "
                        f"videos up to 15 minutes ({how})."
                    ),
                )
            )
        else:
            problems.append(
                Problem(
                    code="video_too_long",
                    message=(
                        f"The video is {minutes:.0f} minutes long; YouTube refuses videos over "
                        "15 minutes unless the channel is verified (https://www.youtube.com/verify)."
                    ),
                    severity=Severity.WARNING,
                )
            )
    if is_short(video):
        problems.append(
            Problem(
                code="short",
                message=(
                    "This square or vertical video of up to 3 minutes will be a YouTube Short "
                    "(shown in the Shorts feed; link youtube.com/shorts/…)."
                ),
                severity=Severity.WARNING,
            )
        )
    return problems


def _is_video(item: MediaFile) -> bool:
    if item.kind in (MediaKind.VIDEO, MediaKind.ANIMATION):
        return not item.mime.startswith("image/")
    return item.kind == MediaKind.DOCUMENT and item.mime.startswith("video/")
