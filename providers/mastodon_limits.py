"""What a Mastodon server accepts: its own limits (read at connect time) and the way it
counts a status's length (every link as 23 characters, @user@server as @user)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import regex

from providers.base import Limits, MediaKind, TextCounting
from providers.errors import PermanentError
from providers.http import sanitize
from providers.text import grapheme_length

#: Hosts that may be reached over plain http (a server on this machine, tests).
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

VISIBILITIES = ("public", "unlisted", "private", "direct")

#: Mastodon's defaults (4.2+), used when a server does not publish its configuration.
DEFAULT_MAX_CHARACTERS = 500
DEFAULT_MAX_MEDIA = 4
DEFAULT_URL_LENGTH = 23
DEFAULT_IMAGE_SIZE = 16 * 1024 * 1024
DEFAULT_VIDEO_SIZE = 99 * 1024 * 1024
DEFAULT_DESCRIPTION_LIMIT = 1500
#: Largest image and video frame in pixels (7680×4320 and 3840×2160), and the highest video
#: frame rate; over them an upload is refused with 422.
DEFAULT_IMAGE_MATRIX_LIMIT = 33_177_600
DEFAULT_VIDEO_MATRIX_LIMIT = 8_294_400
DEFAULT_VIDEO_FRAME_RATE_LIMIT = 120
DEFAULT_MIME_TYPES = (
    "image/jpeg", "image/png", "image/gif", "image/heic", "image/heif", "image/webp",
    "image/avif", "video/webm", "video/mp4", "video/quicktime", "video/ogg",
    "audio/wave", "audio/wav", "audio/x-wav", "audio/x-pn-wave", "audio/vnd.wave",
    "audio/ogg", "audio/vorbis", "audio/mpeg", "audio/mp3", "audio/webm", "audio/flac",
    "audio/aac", "audio/m4a", "audio/x-m4a", "audio/mp4", "audio/3gpp", "video/x-ms-asf",
)  # fmt: skip

#: Mastodon's rate-limit windows are five minutes; wait that long when it does not say.
DEFAULT_RATE_LIMIT_WAIT = 300.0

_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
INSTANCE_URL_PATTERN = (
    rf"(?:https://)?{_HOST}(?::\d{{1,5}})?/?"
    r"|http://(?:localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?/?"
)

# -- counting text the way Mastodon does ----------------------------------------------------
#
# Mastodon's StatusLengthValidator counts grapheme clusters of the content warning plus the
# text, where every http(s) URL counts as `characters_reserved_per_url` characters and a
# mention of a remote account (@name@server) counts as the local part only (@name).

#: An http(s) URL with a dotted host, not glued to a preceding word, @, $ or #.
_URL = regex.compile(
    r"(?<![\p{L}\p{N}@$#])https?://[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+(?::\d+)?"
    r"(?:[/?#][^\s<>\"]*)?",
    regex.IGNORECASE,
)
#: Account::MENTION_RE: @name, optionally @name@server; keeps the name.
_MENTION = regex.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@[\w.-]+\w+)?", regex.IGNORECASE
)
_TRAILING_PUNCTUATION = ".,:;!?'\"*"


def _url_end(url: str) -> str:
    """Drop trailing punctuation and unbalanced closing brackets, as URL extractors do."""
    pairs = {")": "(", "]": "["}
    while url:
        last = url[-1]
        unbalanced = last in pairs and url.count(pairs[last]) < url.count(last)
        if last not in _TRAILING_PUNCTUATION and not unbalanced:
            break
        url = url[:-1]
    return url


def countable_text(text: str, url_length: int = DEFAULT_URL_LENGTH) -> str:
    """`text` with each URL replaced by `url_length` placeholders and @name@server by @name."""
    placeholder = "x" * url_length

    def shorten(match: regex.Match[str]) -> str:
        url = _url_end(match.group(0))
        return placeholder + match.group(0)[len(url) :]

    return _MENTION.sub(r"@\1", _URL.sub(shorten, text))


def status_length(text: str, spoiler_text: str = "", url_length: int = DEFAULT_URL_LENGTH) -> int:
    """How long Mastodon considers a status: graphemes of content warning + countable text."""
    return grapheme_length(spoiler_text + countable_text(text, url_length))


# -- the server's limits, as stored in the account config ------------------------------------


@dataclass(frozen=True, kw_only=True)
class ServerLimits:
    """What one server accepts; `to_config` is what verify stores under config["limits"]."""

    max_characters: int = DEFAULT_MAX_CHARACTERS
    max_media_attachments: int = DEFAULT_MAX_MEDIA
    characters_reserved_per_url: int = DEFAULT_URL_LENGTH
    image_size_limit: int = DEFAULT_IMAGE_SIZE
    video_size_limit: int = DEFAULT_VIDEO_SIZE
    description_limit: int = DEFAULT_DESCRIPTION_LIMIT
    supported_mime_types: tuple[str, ...] = DEFAULT_MIME_TYPES
    image_matrix_limit: int = DEFAULT_IMAGE_MATRIX_LIMIT
    video_matrix_limit: int = DEFAULT_VIDEO_MATRIX_LIMIT
    video_frame_rate_limit: int = DEFAULT_VIDEO_FRAME_RATE_LIMIT

    @classmethod
    def from_config(cls, data: Mapping[str, Any] | None) -> ServerLimits:
        data = data or {}
        default = cls()
        mime_types = data.get("supported_mime_types")
        return cls(
            max_characters=_positive(data.get("max_characters"), default.max_characters),
            max_media_attachments=_positive(
                data.get("max_media_attachments"), default.max_media_attachments
            ),
            characters_reserved_per_url=_positive(
                data.get("characters_reserved_per_url"), default.characters_reserved_per_url
            ),
            image_size_limit=_positive(data.get("image_size_limit"), default.image_size_limit),
            video_size_limit=_positive(data.get("video_size_limit"), default.video_size_limit),
            description_limit=_positive(data.get("description_limit"), default.description_limit),
            supported_mime_types=(
                tuple(str(m).lower() for m in mime_types)
                if isinstance(mime_types, list | tuple) and mime_types
                else default.supported_mime_types
            ),
            image_matrix_limit=_positive(
                data.get("image_matrix_limit"), default.image_matrix_limit
            ),
            video_matrix_limit=_positive(
                data.get("video_matrix_limit"), default.video_matrix_limit
            ),
            video_frame_rate_limit=_positive(
                data.get("video_frame_rate_limit"), default.video_frame_rate_limit
            ),
        )

    @classmethod
    def from_instance(cls, instance: Mapping[str, Any]) -> ServerLimits:
        """Read /api/v2/instance or /api/v1/instance (Mastodon 3.4+, or Pleroma's fields)."""
        configuration = _mapping(instance.get("configuration"))
        statuses = _mapping(configuration.get("statuses"))
        media = _mapping(configuration.get("media_attachments"))
        upload_limit = instance.get("upload_limit")  # Pleroma/Akkoma: one limit for all files
        return cls.from_config(
            {
                "max_characters": statuses.get("max_characters") or instance.get("max_toot_chars"),
                "max_media_attachments": statuses.get("max_media_attachments"),
                "characters_reserved_per_url": statuses.get("characters_reserved_per_url"),
                "image_size_limit": media.get("image_size_limit") or upload_limit,
                "video_size_limit": media.get("video_size_limit") or upload_limit,
                "description_limit": media.get("description_limit"),
                "supported_mime_types": media.get("supported_mime_types"),
                "image_matrix_limit": media.get("image_matrix_limit"),
                "video_matrix_limit": media.get("video_matrix_limit"),
                "video_frame_rate_limit": media.get("video_frame_rate_limit"),
            }
        )

    def to_config(self) -> dict[str, Any]:
        return {
            "max_characters": self.max_characters,
            "max_media_attachments": self.max_media_attachments,
            "characters_reserved_per_url": self.characters_reserved_per_url,
            "image_size_limit": self.image_size_limit,
            "video_size_limit": self.video_size_limit,
            "description_limit": self.description_limit,
            "supported_mime_types": list(self.supported_mime_types),
            "image_matrix_limit": self.image_matrix_limit,
            "video_matrix_limit": self.video_matrix_limit,
            "video_frame_rate_limit": self.video_frame_rate_limit,
        }

    def to_limits(self) -> Limits:
        images = frozenset(m for m in self.supported_mime_types if m.startswith("image/"))
        videos = frozenset(m for m in self.supported_mime_types if m.startswith("video/"))
        return Limits(
            max_text=self.max_characters,
            counting=TextCounting.GRAPHEMES,
            max_media=self.max_media_attachments,
            max_images=self.max_media_attachments,
            # A video (or audio) must be the only attachment of a status.
            max_videos=1,
            mixed_media=False,
            mime_types={
                MediaKind.PHOTO: images,
                MediaKind.VIDEO: videos,
                # Telegram sends animations as silent MP4s; GIF files are accepted as well.
                MediaKind.ANIMATION: videos | (images & {"image/gif"}),
                MediaKind.DOCUMENT: frozenset(self.supported_mime_types),
            },
            max_bytes={
                MediaKind.PHOTO: self.image_size_limit,
                MediaKind.VIDEO: self.video_size_limit,
                MediaKind.ANIMATION: self.video_size_limit,
                MediaKind.DOCUMENT: self.video_size_limit,
            },
            # Larger photos are shrunk to fit; videos over these are a problem (never
            # re-encoded), and so are Telegram's silent MP4 animations.
            max_image_pixels=self.image_matrix_limit,
            max_video_pixels=self.video_matrix_limit,
            max_video_fps=float(self.video_frame_rate_limit),
            alt_text=True,
            threads=True,
            idempotent_publish=True,
            concurrency=2,
        )


def _positive(value: Any, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


# -- the server URL -----------------------------------------------------------------------


def normalize_instance_url(raw: str) -> str:
    """`https://host[:port]` from what the user typed; plain http only for this machine."""
    text = (raw or "").strip()
    if not text:
        raise PermanentError("Send your Mastodon server's address, like https://mastodon.social.")
    if "://" not in text:
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise PermanentError(f"{sanitize(raw)} is not a server address I understand.") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host or parts.username or parts.password:
        raise PermanentError(f"{sanitize(raw)} is not a server address I understand.")
    if scheme == "http" and host not in LOCAL_HOSTS:
        raise PermanentError(
            "Use your server's https:// address; plain http is only allowed for a server on "
            "this machine (localhost)."
        )
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != (443 if scheme == "https" else 80):
        netloc = f"{netloc}:{port}"
    # Mastodon always lives at the root of its host; a pasted profile path is dropped.
    return f"{scheme}://{netloc}"


# -- the adapter ----------------------------------------------------------------------------
