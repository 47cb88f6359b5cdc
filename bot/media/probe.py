"""Probe a media file: what it really is, whether it is whole, and what it is like.

`probe` trusts the bytes, never the name: images are decoded fully once (integrity), videos
are opened with PyAV (bundled FFmpeg) and one frame is decoded, so a long video costs no more
than a short one. Everything here is synchronous and CPU-bound; async callers run it with
`asyncio.to_thread(probe, path)`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from PIL import ExifTags, Image, UnidentifiedImageError

from bot.media.sniff import HEAD_BYTES, Family, Sniffed, claimed_media, container_problem, sniff
from providers.base import MediaKind

try:  # HEIC is what iPhones send; without the plugin such photos are refused, not mangled
    import pillow_heif
except ImportError:  # pragma: no cover - pillow-heif is a dependency
    HEIC_SUPPORT = False
else:
    pillow_heif.register_heif_opener()
    HEIC_SUPPORT = True

#: Largest image (or video frame) decoded, in pixels; beyond it a file is refused rather
#: than risk a decompression bomb. 80 MP (as in `bot.media.receive`) covers cameras and phones'
#: usual modes.
MAX_PIXELS = 80_000_000

# Only these Pillow decoders ever see user files: others (EPS runs Ghostscript) stay off.
PIL_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "HEIF", "AVIF", "TIFF", "BMP")
# Demuxers forced per sniffed container, so FFmpeg never guesses (a playlist that fetches
# URLs must not pass for a video).
_DEMUXERS = {
    "mp4": "mov",
    "mov": "mov",
    "3gp": "mov",
    "webm": "matroska",
    "mkv": "matroska",
    "avi": "avi",
}
# A valid stream yields a frame within a few packets (B-frame delay); a hundred is plenty.
_MAX_PACKETS = 100
# Decoding every frame of an animation checks it and sums its duration; past this many
# pixels decoded (a long, large GIF) the rest is left unchecked.
_ANIMATION_PIXEL_BUDGET = 200_000_000
# XMP and IPTC words that carry where a photo was taken.
_XMP_LOCATION = (b"GPS", b"Location", b"City", b"Country", b"State", b"Sublocation")
_CHUNK = 1 << 20


class MediaRejected(ValueError):
    """The file can't be used; the message says why, in plain words, for the user."""


@dataclass(frozen=True, kw_only=True)
class MediaInfo:
    """What a media file really is, from its bytes."""

    #: photo, video, animation or document.
    kind: MediaKind
    #: MIME type sniffed from the bytes, never from the name.
    mime: str
    #: Bytes.
    size: int
    #: Hex SHA-256 of the bytes: the storage key and the adaptation cache key.
    sha256: str
    #: Pixels as shown, i.e. after EXIF orientation (photos) or rotation metadata (videos).
    width: int | None = None
    height: int | None = None
    #: Seconds (videos, animations).
    duration: float | None = None
    #: Frames per second (videos, animations).
    fps: float | None = None
    #: FFmpeg codec names: "h264", "hevc", "vp9", "av1"; "aac", "opus".
    video_codec: str | None = None
    audio_codec: str | None = None
    #: Short format name: "jpeg", "png", "webp", "heif" for images; "mp4", "mov", "webm".
    container: str | None = None
    #: Some pixel is not fully opaque.
    has_alpha: bool = False
    #: EXIF orientation 1-8 of a photo (1 is upright), None when it has none.
    orientation: int | None = None
    #: More than one frame: GIF, animated WebP or PNG.
    animated: bool = False
    #: EXIF GPS, or XMP/IPTC fields, that may say where the photo was taken.
    has_location: bool = False

    @property
    def aspect_ratio(self) -> float | None:
        """Width over height as shown."""
        if not self.width or not self.height:
            return None
        return self.width / self.height


def probe(
    path: Path,
    *,
    claimed_mime: str | None = None,
    claimed_name: str | None = None,
    max_pixels: int = MAX_PIXELS,
) -> MediaInfo:
    """Identify and check one file; raise `MediaRejected` with a reason a user understands.

    `claimed_mime` and `claimed_name` are what the sender said (Telegram's mime_type and
    file_name); they are only used to catch a file pretending to be a photo or a video.
    """
    size, digest, head = _read(path)
    if size == 0:
        raise MediaRejected("That file is empty (0 bytes). Send it again.")
    sniffed = sniff(head, path)
    claim = claimed_media(claimed_mime, claimed_name)
    if sniffed.family is Family.IMAGE:
        return _probe_image(path, sniffed, size=size, digest=digest, max_pixels=max_pixels)
    if sniffed.family is Family.VIDEO:
        return _probe_video(
            path, sniffed, size=size, digest=digest, max_pixels=max_pixels, claimed=claim
        )
    if claim is not None:
        raise MediaRejected(_mismatch(claim, sniffed))
    return MediaInfo(kind=MediaKind.DOCUMENT, mime=sniffed.mime, size=size, sha256=digest)


def _read(path: Path) -> tuple[int, str, bytes]:
    """Size, SHA-256 and the leading bytes, in one pass over the file."""
    hasher = hashlib.sha256()
    head = b""
    size = 0
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                if not head:
                    head = chunk[:HEAD_BYTES]
                hasher.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise MediaRejected("That file couldn't be read. Send it again.") from exc
    return size, hasher.hexdigest(), head


def _mismatch(claim: str, sniffed: Sniffed) -> str:
    if sniffed.family is Family.UNKNOWN:
        return f"That file says it's {claim} but it isn't one, and Crier can't tell what it is."
    return f"That file says it's {claim} but it isn't one: it's {sniffed.label}."


def _too_big(width: int, height: int, max_pixels: int) -> str:
    return (
        f"This image is {width:,}×{height:,} ({width * height / 1e6:.0f} megapixels); Crier "
        f"handles up to {max_pixels / 1e6:.0f} megapixels. Send a smaller version."
    )


# -- images ---------------------------------------------------------------------------------


def _probe_image(
    path: Path, sniffed: Sniffed, *, size: int, digest: str, max_pixels: int
) -> MediaInfo:
    damaged = (
        f"That file looks like {sniffed.label} but it is damaged or cut off, so it can't be "
        "used. Send the original file again."
    )
    try:
        with Image.open(path, formats=PIL_FORMATS) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise MediaRejected(_too_big(width, height, max_pixels))
            image.load()  # decodes every pixel: a truncated or corrupt file fails here
            orientation, has_location = _exif_facts(image)
            has_alpha = _has_alpha(image)
            # MPO is a JPEG with a depth map or preview appended, not an animation.
            frames = 1 if image.format == "MPO" else getattr(image, "n_frames", 1)
            duration = _animation_duration(image, frames) if frames > 1 else None
            container = "jpeg" if image.format == "MPO" else (image.format or "").lower()
    except MediaRejected:
        raise
    except Image.DecompressionBombError as exc:
        raise MediaRejected(
            f"This image is too large to process; Crier handles up to "
            f"{max_pixels / 1e6:.0f} megapixels. Send a smaller version."
        ) from exc
    except UnidentifiedImageError as exc:
        if sniffed.mime in ("image/heic", "image/heif") and not HEIC_SUPPORT:
            raise MediaRejected(
                "Crier can't read HEIC photos on this server. Send it as a JPEG."
            ) from exc
        raise MediaRejected(damaged) from exc
    except Exception as exc:  # any decoder failure on untrusted bytes means a damaged file
        raise MediaRejected(damaged) from exc
    if orientation in (5, 6, 7, 8):  # stored sideways: shown with width and height swapped
        width, height = height, width
    return MediaInfo(
        kind=MediaKind.ANIMATION if frames > 1 else MediaKind.PHOTO,
        mime=sniffed.mime,
        size=size,
        sha256=digest,
        width=width,
        height=height,
        duration=duration,
        fps=round(frames / duration, 3) if duration else None,
        container=container,
        has_alpha=has_alpha,
        orientation=orientation,
        animated=frames > 1,
        has_location=has_location,
    )


def photo_metadata(path: Path) -> tuple[int, int, int | None, bool]:
    """Shown width and height, EXIF orientation, and whether location metadata is present.

    Read from the header without decoding the pixels, so it is cheap enough to check again
    before every send instead of trusting a stored flag.
    """
    with Image.open(path, formats=PIL_FORMATS) as image:
        width, height = image.size
        orientation, has_location = _exif_facts(image)
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return width, height, orientation, has_location


def _exif_facts(image: Image.Image) -> tuple[int | None, bool]:
    """EXIF orientation, and whether any metadata may say where the photo was taken."""
    try:
        exif = image.getexif()
        raw = exif.get(ExifTags.Base.Orientation)
        orientation = raw if isinstance(raw, int) and 1 <= raw <= 8 else None
        has_gps = bool(exif.get_ifd(ExifTags.IFD.GPSInfo))
    except Exception:  # unreadable EXIF: assume the worst so it gets stripped
        return None, True
    xmp = image.info.get("xmp") or b""
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8", "replace")
    has_xmp_place = any(word in xmp for word in _XMP_LOCATION)
    # IPTC (Photoshop's APP13) has city, state and country fields: treat any as a place.
    has_iptc = any(
        marker == "APP13" and data.startswith(b"Photoshop 3.0")
        for marker, data in getattr(image, "applist", [])
    )
    return orientation, has_gps or has_xmp_place or has_iptc


def _has_alpha(image: Image.Image) -> bool:
    """Whether any pixel is (partly) transparent; an opaque alpha channel does not count."""
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        alpha = image.getchannel("A")
    elif "transparency" in image.info:
        alpha = image.convert("RGBA").getchannel("A")
    else:
        return False
    low, _high = alpha.getextrema()
    return bool(low < 255)  # type: ignore[operator]


def _animation_duration(image: Image.Image, frames: int) -> float | None:
    """Decode the frames (integrity) and sum their durations, within a pixel budget."""
    total_ms = 0.0
    budget = _ANIMATION_PIXEL_BUDGET
    for index in range(frames):
        if budget <= 0:
            return None
        image.seek(index)
        image.load()
        budget -= image.width * image.height
        total_ms += float(image.info.get("duration") or 0)
    image.seek(0)
    return total_ms / 1000 if total_ms else None


# -- videos ---------------------------------------------------------------------------------


def _probe_video(
    path: Path,
    sniffed: Sniffed,
    *,
    size: int,
    digest: str,
    max_pixels: int,
    claimed: str | None,
) -> MediaInfo:
    problem = container_problem(path, sniffed, size)
    if problem:
        raise MediaRejected(f"That video can't be played: {problem}. Send the original file again.")
    damaged = (
        "That video can't be played: it is damaged or uses a format Crier can't read. "
        "Send the original file again."
    )
    demuxer = _DEMUXERS.get(sniffed.container or "")
    try:
        with av.open(str(path), format=demuxer, metadata_errors="ignore") as container:
            if not container.streams.video:
                return _soundtrack(container, sniffed, size=size, digest=digest, claimed=claimed)
            stream = container.streams.video[0]
            context = stream.codec_context
            if context.width * context.height > max_pixels:
                raise MediaRejected(_too_big(context.width, context.height, max_pixels))
            frame = _first_frame(container, stream)
            if frame is None:
                raise MediaRejected(
                    "That video can't be played: none of its pictures could be decoded. "
                    "Send the original file again."
                )
            width, height = frame.width, frame.height
            if round(frame.rotation) % 180 == 90:  # a phone held upright stores it sideways
                width, height = height, width
            rate = stream.average_rate or stream.guessed_rate
            audio = container.streams.audio
            return MediaInfo(
                kind=MediaKind.VIDEO,
                mime=sniffed.mime,
                size=size,
                sha256=digest,
                width=width,
                height=height,
                duration=_duration(container, stream),
                fps=round(float(rate), 3) if rate else None,
                video_codec=context.name,
                audio_codec=audio[0].codec_context.name if audio else None,
                container=sniffed.container,
                has_alpha=(context.pix_fmt or "").startswith(("yuva", "rgba", "argb", "bgra")),
            )
    except MediaRejected:
        raise
    except Exception as exc:  # FFmpeg errors on untrusted bytes mean a damaged file
        raise MediaRejected(damaged) from exc


def _soundtrack(
    container: av.container.InputContainer,
    sniffed: Sniffed,
    *,
    size: int,
    digest: str,
    claimed: str | None,
) -> MediaInfo:
    """A video container without pictures: refused as a video, fine as a sound document."""
    if claimed is not None or not container.streams.audio:
        raise MediaRejected(f"That file looks like {sniffed.label} but has no picture in it.")
    stream = container.streams.audio[0]
    return MediaInfo(
        kind=MediaKind.DOCUMENT,
        mime=sniffed.mime.replace("video/", "audio/"),
        size=size,
        sha256=digest,
        duration=_duration(container, stream),
        audio_codec=stream.codec_context.name,
        container=sniffed.container,
    )


def _first_frame(
    container: av.container.InputContainer, stream: av.VideoStream
) -> av.VideoFrame | None:
    """Decode until one picture comes out; tolerate a few bad packets, not a bad stream."""
    for count, packet in enumerate(container.demux(stream)):
        if count >= _MAX_PACKETS:
            return None
        try:
            frames = packet.decode()
        except av.FFmpegError:
            continue
        for frame in frames:
            if isinstance(frame, av.VideoFrame):
                return frame
    return None


def _duration(container: av.container.InputContainer, stream: av.stream.Stream) -> float | None:
    """Seconds: the stream's own length, else the container's."""
    if stream.duration is not None and stream.time_base is not None:
        return round(float(stream.duration * Fraction(stream.time_base)), 3)
    if container.duration is not None:
        return round(container.duration / av.time_base, 3)
    return None
