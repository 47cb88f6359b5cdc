"""A photo's shape fitted to a platform that only takes some (Instagram's feed: 4:5 to
1.91:1): padded with white bars or cropped to the middle, and only where the user chose
that for the account (`Limits.image_aspect_fit`). Left alone otherwise: refusing is the
default, because cropping someone's photo is their call.
"""

from __future__ import annotations

from PIL import Image

from bot.media.profile import MediaProfile

#: What the account's setting may say: "ask" refuses and says where to choose.
FITS = ("pad", "crop")
_WHITE = {"RGB": (255, 255, 255), "RGBA": (255, 255, 255, 0), "L": 255}


def target_ratio(width: int, height: int, profile: MediaProfile) -> float | None:
    """The ratio a photo is brought to, or None when it is fine as it is (or not ours to
    change)."""
    if profile.aspect_fit not in FITS or profile.aspect_ratio is None or not width or not height:
        return None
    low, high = profile.aspect_ratio
    ratio = width / height
    if low <= ratio <= high:
        return None
    return low if ratio < low else high


def fitted_size(width: int, height: int, profile: MediaProfile) -> tuple[int, int]:
    """The photo's size once padded or cropped to the nearest allowed shape, before any
    shrinking; the same size when its shape is allowed."""
    ratio = target_ratio(width, height, profile)
    if ratio is None:
        return width, height
    too_wide = width / height > ratio
    if profile.aspect_fit == "crop":
        # Rounded towards the allowed side, so the result is never just outside the range.
        return (int(height * ratio), height) if too_wide else (width, int(width / ratio))
    return (width, _ceil(width / ratio)) if too_wide else (_ceil(height * ratio), height)


def apply(image: Image.Image, profile: MediaProfile) -> Image.Image:
    """`image` padded or cropped as `fitted_size` says (a no-op for an allowed shape)."""
    width, height = image.size
    new_width, new_height = fitted_size(width, height, profile)
    if (new_width, new_height) == (width, height):
        return image
    if profile.aspect_fit == "crop":
        left, top = (width - new_width) // 2, (height - new_height) // 2
        return image.crop((left, top, left + new_width, top + new_height))
    canvas = Image.new(image.mode, (new_width, new_height), _WHITE.get(image.mode, 0))
    canvas.paste(image, ((new_width - width) // 2, (new_height - height) // 2))
    return canvas


def describe(width: int, height: int, profile: MediaProfile) -> str:
    """ "padded to 1.91:1" / "cropped to 4:5" for the preview, or "" when unchanged."""
    ratio = target_ratio(width, height, profile)
    if ratio is None:
        return ""
    verb = "cropped" if profile.aspect_fit == "crop" else "padded with white"
    return f"{verb} to {_name(ratio)}"


def _name(ratio: float) -> str:
    known = {0.8: "4:5", 1.91: "1.91:1", 1.0: "1:1", 0.5625: "9:16", 1.7778: "16:9"}
    for value, name in known.items():
        if abs(ratio - value) < 0.001:
            return name
    return f"{ratio:.2f}:1"


def _ceil(value: float) -> int:
    whole = int(value)
    return whole if whole == value else whole + 1
