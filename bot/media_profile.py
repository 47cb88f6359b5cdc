"""What one platform accepts for a media file, and the checks nothing can fix.

A `MediaProfile` is the media half of a provider's `Limits`, in the terms `adapt` works in.
The checks here are for what Crier never changes (videos, animations, documents, aspect
ratios): they raise `NotAdaptable` with a reason for the preview.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from typing import Any

from bot.media_probe import MediaInfo
from providers.base import Limits, MediaKind

# Part of every profile fingerprint: bump it when `adapt` produces different files, so the
# cache is not served stale.
ADAPT_VERSION = 1

#: `Limits` fields `profile_for` reads when a provider declares them (they are proposed, not
#: yet in `providers.base.Limits`), with the `MediaProfile` field each one fills.
EXTRA_LIMITS_FIELDS = {
    "max_image_width": "max_width",
    "max_image_height": "max_height",
    "max_image_pixels": "max_pixels",
    "image_aspect_ratio": "aspect_ratio",
    "video_codecs": "video_codecs",
    "max_video_duration": "max_video_duration",
    "max_video_fps": "max_video_fps",
}

_SHORT_NAMES = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WebP",
    "image/gif": "GIF",
    "image/heic": "HEIC",
    "image/heif": "HEIF",
    "image/avif": "AVIF",
    "image/tiff": "TIFF",
    "image/bmp": "BMP",
    "video/mp4": "MP4",
    "video/quicktime": "MOV",
    "video/webm": "WebM",
    "video/x-matroska": "MKV",
    "video/x-msvideo": "AVI",
    "video/3gpp": "3GP",
}
_CODEC_NAMES = {
    "h264": "H.264",
    "hevc": "HEVC (H.265)",
    "vp8": "VP8",
    "vp9": "VP9",
    "av1": "AV1",
    "mpeg4": "MPEG-4 Part 2",
    "prores": "ProRes",
}


class NotAdaptable(ValueError):
    """The platform won't take this file and Crier can't change it so it would."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        #: Stable problem code for the preview (`providers.base.Problem.code`).
        self.code = code


@dataclass(frozen=True, kw_only=True)
class MediaProfile:
    """What one platform accepts for one media file.

    For the MIME type sets, None means any type and an empty set means none at all.
    """

    #: Platform name for messages: "Bluesky".
    name: str
    #: Image types sent as they are; others are converted to JPEG (or PNG).
    image_mimes: frozenset[str] | None = None
    #: Largest image file, bytes.
    max_image_bytes: int | None = None
    #: Largest width and height, and width × height, in pixels.
    max_width: int | None = None
    max_height: int | None = None
    max_pixels: int | None = None
    #: Accepted width / height of photos, (min, max): (0.8, 1.91) is 4:5 to 1.91:1.
    aspect_ratio: tuple[float, float] | None = None
    video_mimes: frozenset[str] | None = None
    #: FFmpeg names of accepted picture codecs: "h264", "hevc", "vp9", "av1".
    video_codecs: frozenset[str] | None = None
    max_video_bytes: int | None = None
    #: Longest video, seconds.
    max_video_duration: float | None = None
    max_video_fps: float | None = None
    #: Whether animations (GIFs, Telegram's silent MP4s) are accepted at all.
    animation: bool = True
    animation_mimes: frozenset[str] | None = None
    max_animation_bytes: int | None = None
    document_mimes: frozenset[str] | None = None
    max_document_bytes: int | None = None

    def accepts_image(self, mime: str) -> bool:
        return self.image_mimes is None or mime in self.image_mimes

    def fingerprint(self) -> str:
        """Identifies what `adapt` would produce; the name is left out so platforms with the
        same rules share cached files."""
        fields: dict[str, Any] = asdict(self)
        fields.pop("name")
        canonical = {
            key: sorted(value) if isinstance(value, frozenset) else value
            for key, value in fields.items()
        }
        canonical["version"] = ADAPT_VERSION
        blob = json.dumps(canonical, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def profile_for(limits: Limits, name: str) -> MediaProfile:
    """The media profile for a provider's `Limits`.

    Today's `Limits` give accepted types and sizes per kind; the other constraints are read
    from the fields in `EXTRA_LIMITS_FIELDS` once `Limits` has them, and default to "no
    limit" so nothing is refused or shrunk on a guess.
    """

    def mimes(kind: MediaKind, allowed: bool = True) -> frozenset[str] | None:
        if not allowed or kind not in limits.mime_types:
            return frozenset()  # a kind absent from Limits is not accepted
        return limits.mime_types[kind] or None  # an empty set in Limits means any type

    has_media = limits.max_media > 0
    extras = {
        field: getattr(limits, source)
        for source, field in EXTRA_LIMITS_FIELDS.items()
        if getattr(limits, source, None) is not None
    }
    return MediaProfile(
        name=name,
        image_mimes=mimes(MediaKind.PHOTO, has_media),
        max_image_bytes=limits.max_bytes.get(MediaKind.PHOTO),
        video_mimes=mimes(MediaKind.VIDEO, has_media and limits.max_videos > 0),
        max_video_bytes=limits.max_bytes.get(MediaKind.VIDEO),
        animation=has_media and MediaKind.ANIMATION in limits.mime_types,
        animation_mimes=mimes(MediaKind.ANIMATION, has_media),
        max_animation_bytes=limits.max_bytes.get(MediaKind.ANIMATION),
        document_mimes=mimes(MediaKind.DOCUMENT, has_media),
        max_document_bytes=limits.max_bytes.get(MediaKind.DOCUMENT),
        **extras,
    )


# -- checks for what is sent unchanged ------------------------------------------------------


def check_aspect_ratio(info: MediaInfo, profile: MediaProfile) -> None:
    """Refuse a photo whose shape the platform won't take; cropping is the user's call."""
    ratio = info.aspect_ratio
    if profile.aspect_ratio is None or ratio is None:
        return
    low, high = profile.aspect_ratio
    if low - 0.005 <= ratio <= high + 0.005:  # 1080×1350 is 4:5 even if rounded
        return
    raise NotAdaptable(
        f"This photo is {info.width}×{info.height}, an aspect ratio of {ratio:.2f}:1; "
        f"{profile.name} takes {low:.2f}:1 to {high:.2f}:1. Crop it to fit and send it again.",
        code="aspect_ratio",
    )


def check_video(info: MediaInfo, profile: MediaProfile) -> None:
    """Videos are never transcoded: say what is wrong with one, if anything."""
    name = profile.name
    if profile.video_mimes is not None and not profile.video_mimes:
        raise NotAdaptable(f"{name} doesn't take videos here.", code="no_video")
    if profile.video_mimes and info.mime not in profile.video_mimes:
        raise NotAdaptable(
            f"This video is {short_name(info.mime)}; {name} takes {names(profile.video_mimes)}. "
            "Export it as MP4 (H.264) and send it again.",
            code="video_type",
        )
    _check_codec(info, profile)
    longest = profile.max_video_duration
    if longest and info.duration is not None and info.duration > longest:
        length, limit = clock_pair(info.duration, longest)
        raise NotAdaptable(
            f"This video is {length} long; {name} takes videos up to {limit}. "
            "Trim it and send it again.",
            code="video_too_long",
        )
    if profile.max_video_fps and info.fps and info.fps > profile.max_video_fps + 0.01:
        raise NotAdaptable(
            f"This video runs at {info.fps:g} frames per second; {name} takes up to "
            f"{profile.max_video_fps:g}. Export it at a lower frame rate.",
            code="video_fps",
        )
    check_bytes(info.size, profile.max_video_bytes, f"{name} allows", "video", "video_too_large")


def check_animation(info: MediaInfo, profile: MediaProfile) -> None:
    """GIFs and silent MP4s are sent as they are."""
    if not profile.animation:
        raise NotAdaptable(
            f"{profile.name} doesn't take animations (GIFs). Send a photo or video instead.",
            code="no_animation",
        )
    if profile.animation_mimes and info.mime not in profile.animation_mimes:
        raise NotAdaptable(
            f"This animation is {short_name(info.mime)}; {profile.name} takes "
            f"{names(profile.animation_mimes)}.",
            code="animation_type",
        )
    if info.video_codec:
        _check_codec(info, profile)
    check_bytes(
        info.size,
        profile.max_animation_bytes,
        f"{profile.name} allows",
        "animation",
        "animation_too_large",
    )


def check_document(info: MediaInfo, profile: MediaProfile) -> None:
    if profile.document_mimes is not None and not profile.document_mimes:
        raise NotAdaptable(f"{profile.name} doesn't take files here.", code="no_document")
    if profile.document_mimes and info.mime not in profile.document_mimes:
        raise NotAdaptable(
            f"{profile.name} doesn't take files of this type ({info.mime}).",
            code="document_type",
        )
    check_bytes(
        info.size, profile.max_document_bytes, f"{profile.name} allows", "file", "file_too_large"
    )


def _check_codec(info: MediaInfo, profile: MediaProfile) -> None:
    if profile.video_codecs and info.video_codec not in profile.video_codecs:
        used = _CODEC_NAMES.get(info.video_codec or "", info.video_codec or "an unknown codec")
        takes = ", ".join(sorted(_CODEC_NAMES.get(c, c) for c in profile.video_codecs))
        raise NotAdaptable(
            f"This video uses {used}; {profile.name} takes {takes}. "
            "Export it as MP4 (H.264) and send it again.",
            code="video_codec",
        )


def check_bytes(size: int, limit: int | None, allows: str, noun: str, code: str) -> None:
    if limit is not None and size > limit:
        raise NotAdaptable(
            f"This {noun} is {human_bytes(size)}; {allows} {human_bytes(limit)}. "
            f"Send a smaller {noun}.",
            code=code,
        )


# -- words ----------------------------------------------------------------------------------


def human_bytes(size: int) -> str:
    """Decimal units, as platforms state their limits: "3.1 MB", "780 KB"."""
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB"
    return f"{max(1, round(size / 1000))} KB"


def clock(seconds: float, *, decimals: int = 0) -> str:
    """ "2:20", "1:02:03"; with decimals, "0:02.4"."""
    total = round(seconds, decimals)
    whole = math.floor(total)
    fraction = f"{total - whole:.{decimals}f}"[1:] if decimals else ""
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}{fraction}"
    return f"{minutes}:{secs:02d}{fraction}"


def clock_pair(length: float, limit: float) -> tuple[str, str]:
    """Both durations, with as many decimals as it takes (up to 2) to tell them apart."""
    for decimals in (0, 1):
        words = clock(length, decimals=decimals), clock(limit, decimals=decimals)
        if words[0] != words[1]:
            return words
    return clock(length, decimals=2), clock(limit, decimals=2)


def short_name(mime: str) -> str:
    """ "JPEG" for image/jpeg: how a type is named in notes and messages."""
    return _SHORT_NAMES.get(mime, mime.split("/")[-1].upper())


def names(mimes: frozenset[str]) -> str:
    """ "JPEG, PNG or WebP"."""
    words = sorted({short_name(m) for m in mimes})
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
