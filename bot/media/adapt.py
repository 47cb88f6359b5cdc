"""Fit a media file to one platform: convert, turn upright, strip location, shrink; cached.

Photos are re-encoded only when they must be (wrong type, too large, sideways, or carrying
location metadata), otherwise the original is sent. Videos, animations and documents are
never changed: `adapt` says why one won't do. Results are cached on disk by (sha256, profile
fingerprint), so the preview and the publish share one piece of work. Synchronous and
CPU-bound: call it with `asyncio.to_thread`.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from PIL import Image, ImageCms, ImageOps

from bot.media import shape
from bot.media.probe import PIL_FORMATS, MediaInfo, photo_metadata
from bot.media.profile import (
    MediaProfile,
    NotAdaptable,
    check_animation,
    check_aspect_ratio,
    check_document,
    check_video,
    human_bytes,
    names,
    profile_for,
    short_name,
)
from providers.base import MediaKind

__all__ = ["Adapted", "MediaProfile", "NotAdaptable", "adapt", "expect", "profile_for"]

JPEG, PNG, WEBP = "image/jpeg", "image/png", "image/webp"
_PIL_NAMES = {JPEG: "JPEG", PNG: "PNG", WEBP: "WEBP"}
_EXTENSIONS = {JPEG: "jpg", PNG: "png", WEBP: "webp"}
# Below ~75 JPEG artefacts show; past that a smaller picture looks better than a worse one.
_QUALITIES = (90, 85, 80, 75)
# A few quality steps close a gap of about this much; a bigger one needs fewer pixels.
_QUALITY_REACH = 1.6
# A photo this small (longest side) is no longer worth sending.
_MIN_SIDE = 256
_ICC_SPACES = {"RGB": "RGB ", "RGBA": "RGB ", "L": "GRAY", "LA": "GRAY"}


@dataclass(frozen=True, kw_only=True)
class Adapted:
    """The file to send to one platform."""

    #: The original when nothing had to change, else a file in the cache.
    path: Path
    info: MediaInfo
    changed: bool
    #: What was done, for the preview: "resized 4000×3000 → 2048×1536, 3.1 MB → 780 KB".
    note: str = ""


def adapt(info: MediaInfo, path: Path, profile: MediaProfile, cache_dir: Path) -> Adapted:
    """The file to send for `profile`, or `NotAdaptable` saying why there is none."""
    if _checked_as_is(info, profile):
        return Adapted(path=path, info=info, changed=False)
    return _adapt_photo(info, path, profile, cache_dir)


def expect(info: MediaInfo, profile: MediaProfile) -> MediaInfo:
    """What `adapt` will send, from stored probe facts and without reading the file: the
    same checks, so what can't be sent is known while composing. Raises `NotAdaptable`.

    The size of a photo that must shrink is given as the limit it will fit under.
    """
    if _checked_as_is(info, profile):
        return info
    _check_photo(info, profile)
    target = _target_mime(info, profile)
    if not info.width or not info.height:
        return replace(info, mime=target)
    width, height = _fit_box(*shape.fitted_size(info.width, info.height, profile), profile)
    limit = profile.max_image_bytes
    size = info.size if limit is None else min(info.size, limit)
    return replace(info, mime=target, width=width, height=height, size=size)


def _checked_as_is(info: MediaInfo, profile: MediaProfile) -> bool:
    """Videos, animations and documents are sent unchanged: check them; False for photos."""
    if info.kind is MediaKind.DOCUMENT:
        check_document(info, profile)
    elif info.kind is MediaKind.VIDEO:
        check_video(info, profile)
    elif info.kind is MediaKind.ANIMATION or info.animated:
        check_animation(info, profile)
    else:
        return False
    return True


def _check_photo(info: MediaInfo, profile: MediaProfile) -> None:
    if profile.image_mimes is not None and not profile.image_mimes:
        raise NotAdaptable(f"{profile.name} doesn't take photos here.", code="no_photo")
    check_aspect_ratio(info, profile)


def _adapt_photo(info: MediaInfo, path: Path, profile: MediaProfile, cache_dir: Path) -> Adapted:
    # Location and orientation are read again from the file: leaking where a photo was
    # taken must not depend on a flag stored (or forgotten) somewhere else.
    width, height, orientation, has_location = photo_metadata(path)
    info = replace(
        info, width=width, height=height, orientation=orientation, has_location=has_location
    )
    _check_photo(info, profile)
    target = _target_mime(info, profile)
    shaped = shape.fitted_size(width, height, profile)
    box = _fit_box(*shaped, profile)
    must_change = (
        target != info.mime
        or shaped != (width, height)
        or box != (width, height)
        or info.orientation not in (None, 1)
        or info.has_location
        or (profile.max_image_bytes is not None and info.size > profile.max_image_bytes)
    )
    if not must_change:
        return Adapted(path=path, info=info, changed=False)
    index = cache_dir / info.sha256[:2] / f"{info.sha256}-{profile.fingerprint()}.json"
    cached = _cache_get(index)
    if cached is not None:
        return cached
    data, result, note = _reencode(info, path, profile, target, box)
    return _cache_put(index, data, result, note)


def _target_mime(info: MediaInfo, profile: MediaProfile) -> str:
    """JPEG and PNG stay what they are; everything else becomes JPEG, or PNG to keep alpha."""
    if info.mime in (JPEG, PNG) and profile.accepts_image(info.mime):
        return info.mime
    if info.has_alpha and profile.accepts_image(PNG):
        return PNG
    for mime in (JPEG, PNG, WEBP):
        if profile.accepts_image(mime):
            return mime
    accepted = names(profile.image_mimes or frozenset())
    raise NotAdaptable(
        f"{profile.name} takes {accepted} photos, and Crier can't convert this "
        f"{short_name(info.mime)} to that.",
        code="photo_type",
    )


def _fit_box(width: int, height: int, profile: MediaProfile) -> tuple[int, int]:
    """The largest size within the profile's dimensions, keeping the aspect ratio."""
    scale = 1.0
    if profile.max_width:
        scale = min(scale, profile.max_width / width)
    if profile.max_height:
        scale = min(scale, profile.max_height / height)
    if profile.max_pixels:
        scale = min(scale, math.sqrt(profile.max_pixels / (width * height)))
    if profile.max_side_sum:
        scale = min(scale, profile.max_side_sum / (width + height))
    if scale >= 1:
        return width, height
    new_width, new_height = _scaled((width, height), scale)
    if profile.aspect_ratio:
        # Rounding must not tip a photo at the very limit (20:1) over it.
        low, high = profile.aspect_ratio
        if new_width > new_height * high:
            new_width = max(1, math.floor(new_height * high))
        elif new_width < new_height * low:
            new_height = max(1, math.floor(new_width / low))
    return new_width, new_height


def _scaled(size: tuple[int, int], scale: float) -> tuple[int, int]:
    # Rounded down, so a maximum is never passed; the ratio stays within a pixel.
    return max(1, math.floor(size[0] * scale)), max(1, math.floor(size[1] * scale))


# -- re-encoding ----------------------------------------------------------------------------


def _reencode(
    info: MediaInfo, path: Path, profile: MediaProfile, target: str, box: tuple[int, int]
) -> tuple[bytes, MediaInfo, str]:
    limit = profile.max_image_bytes
    first = 1.0
    if limit and info.mime == JPEG and info.size > limit:
        # JPEG bytes grow with pixels: start near the size that fits, and let the decoder
        # scale down (DCT scaling, to the next 1/2, 1/4, 1/8 above it): decoding and
        # resampling all 24 MP of a large photo would be most of the work.
        first = min(1.0, math.sqrt(limit / info.size) * max(info.width or 1, 1) / box[0])
    draft = _scaled(box, first)
    sideways = info.orientation in (5, 6, 7, 8)
    with Image.open(path, formats=PIL_FORMATS) as source:
        if source.format in ("JPEG", "MPO") and draft != box:
            source.draft(None, (draft[1], draft[0]) if sideways else draft)
        source.load()
        icc = source.info.get("icc_profile")
        if _can_keep(info, target, box, source):
            kept = _encode_keep(source)
            if kept and (limit is None or len(kept) <= limit):
                return _result(info, target, source, kept, flattened=False, profile=profile)
        image = ImageOps.exif_transpose(source)  # the orientation goes into the pixels
    image, icc = _normalise(image, icc, keep_alpha=info.has_alpha)
    image = shape.apply(image, profile)
    flattened = target == JPEG and image.mode == "RGBA"
    if flattened:
        image = _flatten(image)
    # The largest size to send: the box, or what a draft decode left if that is smaller.
    top = box if image.width >= box[0] else image.size
    first = min(1.0, first * box[0] / top[0])
    data, image, target = _fit(image, top, first, target, profile, icc)
    return _result(info, target, image, data, flattened=flattened, profile=profile)


def _can_keep(info: MediaInfo, target: str, start: tuple[int, int], source: Image.Image) -> bool:
    """Only metadata must go: re-encode with the original JPEG tables, so nothing is lost."""
    return (
        info.mime == JPEG == target
        and info.orientation in (None, 1)
        and start == source.size == (info.width, info.height)
        and source.mode in ("RGB", "L")
        and source.format == "JPEG"  # Pillow keeps tables only for plain JPEG, not MPO
    )


def _normalise(
    image: Image.Image, icc: bytes | None, *, keep_alpha: bool
) -> tuple[Image.Image, bytes | None]:
    """8-bit RGB, RGBA or L, with no metadata left in `info` for an encoder to copy."""
    if image.mode == "CMYK":
        image, icc = _cmyk_to_rgb(image, icc), None
    elif image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        high = image.getextrema()[1]
        factor = 255 / float(high) if float(high) > 255 else 1.0  # type: ignore[arg-type]
        image = image.convert("F").point(lambda value: value * factor).convert("L")
    elif image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        image = image.convert("RGBA") if keep_alpha else _flatten(image)
    elif image.mode == "1":
        image = image.convert("L")
    elif image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.info = {}  # EXIF, XMP and comments are not carried into the new file
    return image, _icc_for(icc, image.mode)


def _cmyk_to_rgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    if icc:
        try:
            converted = ImageCms.profileToProfile(
                image,
                ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                ImageCms.createProfile("sRGB"),
                outputMode="RGB",
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass
        else:
            if converted is not None:
                return converted
    return image.convert("RGB")


def _icc_for(icc: bytes | None, mode: str) -> bytes | None:
    """Keep the colour profile only when it describes the pixels we write."""
    if not icc:
        return None
    try:
        space = ImageCms.ImageCmsProfile(io.BytesIO(icc)).profile.xcolor_space
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None
    return icc if space == _ICC_SPACES.get(mode) else None


def _flatten(image: Image.Image) -> Image.Image:
    """Transparent areas on white, as JPEG has no alpha (and most viewers show white)."""
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _fit(
    image: Image.Image,
    top: tuple[int, int],
    scale: float,
    target: str,
    profile: MediaProfile,
    icc: bytes | None,
) -> tuple[bytes, Image.Image, str]:
    """Encode at `top` × `scale` under the byte limit: a little lower quality, then fewer
    pixels; and once, more pixels when a first guess left much of the limit unused."""
    limit = profile.max_image_bytes
    fallback: tuple[bytes, Image.Image, str] | None = None
    for _ in range(12):
        size = _scaled(top, scale)
        if max(size) < _MIN_SIDE and scale < 1:
            break
        current = image if size == image.size else _resize(image, size)
        data = _encode_best(current, target, limit, icc)
        if limit is None:
            return data, current, target
        if len(data) <= limit:
            if fallback is None and scale < 1 and len(data) < limit * 0.6:
                fallback = (data, current, target)
                scale = min(1.0, scale * math.sqrt(limit / len(data)) * 0.95)
                continue
            return data, current, target
        if fallback is not None:  # growing overshot: the first fit will do
            return fallback
        if target == PNG and image.mode != "RGBA" and profile.accepts_image(JPEG):
            # An opaque PNG that is too large is a photo or a screenshot: JPEG is far smaller.
            target, image, icc = JPEG, image.convert("RGB"), _icc_for(icc, "RGB")
            continue
        scale *= max(0.3, min(0.9, math.sqrt(limit / len(data)) * 0.95))
    raise NotAdaptable(
        f"This photo can't be made smaller than {profile.name}'s {human_bytes(limit or 0)} "
        "limit without ruining it. Send a smaller photo.",
        code="photo_too_large",
    )


def _encode_best(image: Image.Image, target: str, limit: int | None, icc: bytes | None) -> bytes:
    """The best quality that fits, or the last try when none does."""
    data = b""
    for quality in _QUALITIES if target != PNG else (None,):
        data = _encode(image, target, quality, icc)
        if limit is None or len(data) <= limit or len(data) > limit * _QUALITY_REACH:
            break
    return data


def _resize(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    # Always from the decoded image, so the photo is resampled once whatever the tries.
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _encode(image: Image.Image, mime: str, quality: int | None, icc: bytes | None) -> bytes:
    buffer = io.BytesIO()
    options: dict[str, object] = {"icc_profile": icc} if icc else {}
    if mime == JPEG:
        options.update(quality=quality)
    elif mime == WEBP:
        options.update(quality=quality, method=4)
    image.save(buffer, _PIL_NAMES[mime], **options)
    return buffer.getvalue()


def _encode_keep(source: Image.Image) -> bytes:
    """Re-encode a JPEG with its own quantisation tables and subsampling, without metadata."""
    buffer = io.BytesIO()
    icc = source.info.get("icc_profile")
    saved, source.info = source.info, {}
    try:
        options: dict[str, object] = {"icc_profile": icc} if icc else {}
        source.save(buffer, "JPEG", quality="keep", subsampling="keep", optimize=True, **options)
    except (ValueError, OSError):  # tables Pillow can't reuse: the quality ladder will do
        return b""
    finally:
        source.info = saved
    return buffer.getvalue()


def _result(
    info: MediaInfo,
    target: str,
    image: Image.Image,
    data: bytes,
    *,
    flattened: bool,
    profile: MediaProfile,
) -> tuple[bytes, MediaInfo, str]:
    width, height = image.size
    result = MediaInfo(
        kind=MediaKind.PHOTO,
        mime=target,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        width=width,
        height=height,
        container=_PIL_NAMES[target].lower(),
        has_alpha=image.mode == "RGBA",
    )
    notes = []
    if target != info.mime:
        notes.append(f"converted {short_name(info.mime)} → {short_name(target)}")
    if flattened:
        notes.append("transparency filled with white")
    if info.orientation not in (None, 1):
        notes.append("turned upright")
    if info.has_location:
        notes.append("location removed")
    if info.width and info.height:
        fitted = shape.describe(info.width, info.height, profile)
        if fitted:
            notes.append(fitted)
    if (width, height) != (info.width, info.height):
        notes.append(f"resized {info.width}×{info.height} → {width}×{height}")
    notes.append(f"{human_bytes(info.size)} → {human_bytes(len(data))}")
    return data, result, ", ".join(notes)


# -- cache ----------------------------------------------------------------------------------


def _cache_get(index: Path) -> Adapted | None:
    """A previous result for the same file and profile, if it is complete on disk."""
    try:
        record = json.loads(index.read_text(encoding="utf-8"))
        fields = dict(record["info"])
        info = MediaInfo(**{**fields, "kind": MediaKind(fields["kind"])})
        file = index.parent / record["file"]
        # Files are written without fsync: one cut short by a crash is simply redone.
        if file.stat().st_size != info.size:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return Adapted(path=file, info=info, changed=True, note=str(record["note"]))


def _cache_put(index: Path, data: bytes, info: MediaInfo, note: str) -> Adapted:
    file = index.with_suffix("." + _EXTENSIONS[info.mime])
    index.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(file, data)
    record = {"file": file.name, "info": {**asdict(info), "kind": info.kind.value}, "note": note}
    # The index goes last: whoever sees it finds the file complete.
    _write_atomic(index, json.dumps(record, ensure_ascii=False).encode("utf-8"))
    return Adapted(path=file, info=info, changed=True, note=note)


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".adapt-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
