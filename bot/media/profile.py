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

from bot.media.probe import MediaInfo
from providers.base import Limits, MediaKind

# Part of every profile fingerprint: bump it when `adapt` produces different files, so the
# cache is not served stale.
ADAPT_VERSION = 1

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

#: Usual export sizes, largest first: a video over a platform's frame size limit is told the
#: largest one that fits.
_VIDEO_SIZES = ((3840, 2160), (2560, 1440), (1920, 1080), (1280, 720), (854, 480), (640, 360))


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
    #: Largest width + height, in pixels (Telegram's 10,000).
    max_side_sum: int | None = None
    #: Accepted width / height of photos, (min, max): (0.8, 1.91) is 4:5 to 1.91:1.
    aspect_ratio: tuple[float, float] | None = None
    #: A photo outside `aspect_ratio`: None or "ask" refuses it ("ask": the account can be
    #: set to fit), "pad" or "crop" fits it (`bot.media.shape`), as the user chose.
    aspect_fit: str | None = None
    video_mimes: frozenset[str] | None = None
    #: FFmpeg names of accepted picture codecs: "h264", "hevc", "vp9", "av1".
    video_codecs: frozenset[str] | None = None
    max_video_bytes: int | None = None
    #: Longest video, seconds.
    max_video_duration: float | None = None
    #: Largest frame, width × height in pixels.
    max_video_pixels: int | None = None
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
    """The media profile for a provider's `Limits`; a limit left out is no limit, so
    nothing is refused or shrunk on a guess."""

    def mimes(kind: MediaKind, allowed: bool = True) -> frozenset[str] | None:
        if not allowed or kind not in limits.mime_types:
            return frozenset()  # a kind absent from Limits is not accepted
        return limits.mime_types[kind] or None  # an empty set in Limits means any type

    has_media = limits.max_media > 0
    return MediaProfile(
        name=name,
        image_mimes=mimes(MediaKind.PHOTO, has_media),
        max_image_bytes=limits.max_bytes.get(MediaKind.PHOTO),
        max_width=limits.max_image_width,
        max_height=limits.max_image_height,
        max_pixels=limits.max_image_pixels,
        max_side_sum=limits.max_image_side_sum,
        aspect_ratio=limits.image_aspect_ratio,
        aspect_fit=limits.image_aspect_fit,
        video_mimes=mimes(MediaKind.VIDEO, has_media and limits.max_videos > 0),
        video_codecs=limits.video_codecs,
        max_video_bytes=limits.max_bytes.get(MediaKind.VIDEO),
        max_video_duration=limits.max_video_duration,
        max_video_pixels=limits.max_video_pixels,
        max_video_fps=limits.max_video_fps,
        animation=has_media and MediaKind.ANIMATION in limits.mime_types,
        animation_mimes=mimes(MediaKind.ANIMATION, has_media),
        max_animation_bytes=limits.max_bytes.get(MediaKind.ANIMATION),
        document_mimes=mimes(MediaKind.DOCUMENT, has_media),
        max_document_bytes=limits.max_bytes.get(MediaKind.DOCUMENT),
    )


# -- checks for what is sent unchanged ------------------------------------------------------


def check_aspect_ratio(info: MediaInfo, profile: MediaProfile) -> None:
    """Refuse a photo whose shape the platform won't take: shrinking keeps the shape, and
    cropping is the user's call."""
    ratio = info.aspect_ratio
    if profile.aspect_ratio is None or ratio is None or profile.aspect_fit in ("pad", "crop"):
        return
    low, high = profile.aspect_ratio
    if low - _slack(low) <= ratio <= high + _slack(high):
        return
    remedy = "Crop it to fit and send it again."
    if profile.aspect_fit == "ask":
        remedy = (
            "Crop it and send it again, or let Crier pad or crop photos for this account: "
            "/accounts → ⚙️."
        )
    raise NotAdaptable(
        f"This photo is {info.width}×{info.height}, an aspect ratio of {_ratio(ratio)}; "
        f"{profile.name} takes {_bound(low)} to {_bound(high)}. {remedy}",
        code="aspect_ratio",
    )


def _slack(bound: float) -> float:
    """Half a hundredth of a bound written long side to short (1.91:1, or 1:1.25 for 4:5):
    1080×1350 is 4:5 even if rounded, and a tall bound stays tight (1:20 is not 1:22)."""
    return 0.005 * min(1.0, bound * bound)


def _ratio(ratio: float) -> str:
    """ "3.00:1", or "1:21.00" for a tall photo."""
    return f"{ratio:.2f}:1" if ratio >= 1 else f"1:{1 / ratio:.2f}"


def _bound(bound: float) -> str:
    """ "20:1", "1:20", "1.91:1"."""
    if bound >= 1 and abs(bound - round(bound)) < 1e-6:
        return f"{round(bound)}:1"
    if 0 < bound < 1 and abs(1 / bound - round(1 / bound)) < 1e-6:
        return f"1:{round(1 / bound)}"
    return f"{bound:.2f}:1"


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
    _check_frames(info, profile)
    check_bytes(info.size, profile.max_video_bytes, f"{name} allows", "video", "video_too_large")


def _check_frames(info: MediaInfo, profile: MediaProfile) -> None:
    """Frame rate and frame size, which only re-encoding could change."""
    name = profile.name
    if profile.max_video_fps and info.fps and info.fps > profile.max_video_fps + 0.01:
        raise NotAdaptable(
            f"This video runs at {info.fps:g} frames per second; {name} takes up to "
            f"{profile.max_video_fps:g}. Export it at a lower frame rate.",
            code="video_fps",
        )
    limit = profile.max_video_pixels
    if limit and info.width and info.height and info.width * info.height > limit:
        example = _video_size_within(limit, portrait=info.height > info.width)
        such_as = f", such as {example[0]}×{example[1]}" if example else ""
        raise NotAdaptable(
            f"This video is {info.width}×{info.height} ({megapixels(info.width * info.height)} "
            f"megapixels); {name} takes up to {megapixels(limit)} megapixels{such_as}. "
            "Export it at a lower resolution and send it again.",
            code="video_resolution",
        )


def _video_size_within(limit: int, *, portrait: bool) -> tuple[int, int] | None:
    """The largest usual export size within `limit` pixels, turned like the video."""
    for width, height in _VIDEO_SIZES:
        if width * height <= limit:
            return (height, width) if portrait else (width, height)
    return None


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
    if info.video_codec:  # a silent MP4, which platforms treat as a video
        _check_codec(info, profile)
        _check_frames(info, profile)
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


def megapixels(pixels: int) -> str:
    """ "8.3", "0.92": width × height in millions."""
    return f"{pixels / 1e6:.1f}" if pixels >= 1_000_000 else f"{pixels / 1e6:.2f}"


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
