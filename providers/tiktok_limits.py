"""What TikTok takes in one post, the per-account options Crier sends with it, and the
checks `validate` makes without asking TikTok (providers/tiktok.py asks in `validate_live`).

A post is one video (MP4, WebM or MOV, up to 4 GB and the creator's longest duration, 10
minutes when TikTok hasn't said) or 1 to 35 photos (JPEG or WebP), never both. Text:

- a video's caption (`title`) is the whole text, up to 2,200 UTF-16 code units;
- a photo post has a `title` of up to 90 and a `description` of up to 4,000: a text of more
  than one line whose first line fits 90 is split there (title, then the rest), any other
  text is all description, with no title.

Options live in the account's config (the bot lets the user set them, per TikTok's
content-sharing guidelines, which want each chosen by the user and none preset):

    privacy_level            PUBLIC_TO_EVERYONE | MUTUAL_FOLLOW_FRIENDS | FOLLOWER_OF_CREATOR
                             | SELF_ONLY; unset: SELF_ONLY, and the preview says so (Crier
                             never makes a post more visible than the user chose)
    disable_comment          true unless the user turns comments on (likewise duets and
    disable_duet             stitches: the guidelines forbid having them on by default);
    disable_stitch           turned off anyway where the creator has turned them off
    brand_content_toggle     a paid partnership promoting another brand (never private)
    brand_organic_toggle     promoting the creator's own business
    is_aigc                  the video is AI-generated content
    video_cover_timestamp_ms the frame shown as the video's cover
    auto_add_music           photo posts: let TikTok add music
    pull_from_url            videos: TikTok downloads MediaFile.url instead of Crier
                             uploading the file (the operator must have verified PUBLIC_URL's
                             domain with TikTok)
    unaudited                the app hasn't passed TikTok's audit: everything goes out private
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from providers.base import (
    AccountRef,
    Limits,
    MediaFile,
    MediaKind,
    PostContent,
    Problem,
    Severity,
    check_limits,
)
from providers.text import TextCounting, utf16_length

NAME: Final = "TikTok"
PUBLIC: Final = "PUBLIC_TO_EVERYONE"
PRIVATE: Final = "SELF_ONLY"
PRIVACY_LEVELS: Final = (PUBLIC, "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", PRIVATE)
#: What the preview calls each audience.
AUDIENCES: Final = {
    PUBLIC: "everyone",
    "MUTUAL_FOLLOW_FRIENDS": "friends (followers you follow back)",
    "FOLLOWER_OF_CREATOR": "followers",
    PRIVATE: "only you",
}
VIDEO_TEXT_MAX: Final = 2200
PHOTO_TITLE_MAX: Final = 90
PHOTO_TEXT_MAX: Final = 4000
MAX_PHOTOS: Final = 35
#: The longest video when TikTok hasn't said (creator_info's max_video_post_duration_sec).
DEFAULT_MAX_DURATION: Final = 600
MIN_VIDEO_SIDE: Final = 360
MAX_VIDEO_SIDE: Final = 4096
VIDEO_TYPES: Final = frozenset({"video/mp4", "video/webm", "video/quicktime"})
PHOTO_TYPES: Final = frozenset({"image/jpeg", "image/webp"})

LIMITS: Final = Limits(
    max_text=VIDEO_TEXT_MAX,
    counting=TextCounting.UTF16,
    max_media=MAX_PHOTOS,
    max_images=MAX_PHOTOS,
    max_videos=1,
    mixed_media=False,
    mime_types={
        MediaKind.VIDEO: VIDEO_TYPES,
        MediaKind.ANIMATION: frozenset({"video/mp4"}),
        MediaKind.PHOTO: PHOTO_TYPES,
    },
    max_bytes={
        MediaKind.VIDEO: 4 * 1024**3,
        MediaKind.ANIMATION: 4 * 1024**3,
        MediaKind.PHOTO: 20 * 1024 * 1024,
    },
    # Photos at most 1080p: larger ones are shrunk to this many pixels.
    max_image_pixels=1080 * 1920,
    video_codecs=frozenset({"h264", "hevc", "vp8", "vp9"}),
    max_video_duration=float(DEFAULT_MAX_DURATION),
    max_video_fps=60.0,
    media_required=True,
    alt_text=False,
    threads=False,
    idempotent_publish=False,
    # Six inits a minute per user token: one post at a time per account.
    concurrency=1,
    # About 15 posts a day per creator through the API (TikTok's spam_risk_too_many_posts).
    quota=(15, 86400.0),
    # An upload of up to 4 GB, TikTok's processing, and up to half an hour of moderation.
    processing_timeout=2 * 3600.0,
    # Photos are always fetched by TikTok (PULL_FROM_URL); videos only with pull_from_url.
    pulls_media=True,
)


@dataclass(frozen=True, kw_only=True)
class CreatorInfo:
    """What TikTok says this creator may post now (creator_info/query), for the preview."""

    #: The account's handle, without "@".
    username: str
    #: Its display name.
    nickname: str
    #: Who a post may be shown to, as TikTok lets this creator choose (`PRIVACY_LEVELS`).
    privacy_level_options: tuple[str, ...]
    #: The creator has turned these off in TikTok: a post can't have them.
    comment_disabled: bool
    duet_disabled: bool
    stitch_disabled: bool
    #: Longest video this creator may post, seconds.
    max_video_post_duration_sec: int

    @property
    def only_private(self) -> bool:
        """TikTok offers nothing but "only you" (an app that hasn't passed the audit)."""
        return self.privacy_level_options == (PRIVATE,)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> CreatorInfo:
        options = data.get("privacy_level_options")
        duration = data.get("max_video_post_duration_sec")
        return cls(
            username=str(data.get("creator_username") or ""),
            nickname=str(data.get("creator_nickname") or ""),
            privacy_level_options=tuple(
                str(o) for o in (options if isinstance(options, list) else [])
            ),
            comment_disabled=bool(data.get("comment_disabled")),
            duet_disabled=bool(data.get("duet_disabled")),
            stitch_disabled=bool(data.get("stitch_disabled")),
            max_video_post_duration_sec=(
                int(duration)
                if isinstance(duration, int | float) and duration > 0
                else DEFAULT_MAX_DURATION
            ),
        )


@dataclass(frozen=True, kw_only=True)
class TikTokOptions:
    """The account's per-post options (see the module docstring)."""

    privacy_level: str | None = None
    disable_comment: bool = True
    disable_duet: bool = True
    disable_stitch: bool = True
    brand_content_toggle: bool = False
    brand_organic_toggle: bool = False
    is_aigc: bool = False
    video_cover_timestamp_ms: int | None = None
    auto_add_music: bool | None = None
    pull_from_url: bool = False
    unaudited: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TikTokOptions:
        privacy = config.get("privacy_level")
        cover = config.get("video_cover_timestamp_ms")
        music = config.get("auto_add_music")
        return cls(
            privacy_level=str(privacy).strip().upper() if privacy else None,
            disable_comment=_flag(config, "disable_comment", True),
            disable_duet=_flag(config, "disable_duet", True),
            disable_stitch=_flag(config, "disable_stitch", True),
            brand_content_toggle=_flag(config, "brand_content_toggle", False),
            brand_organic_toggle=_flag(config, "brand_organic_toggle", False),
            is_aigc=_flag(config, "is_aigc", False),
            video_cover_timestamp_ms=(
                int(cover) if isinstance(cover, int) and not isinstance(cover, bool) else None
            ),
            auto_add_music=music if isinstance(music, bool) else None,
            pull_from_url=_flag(config, "pull_from_url", False),
            unaudited=_flag(config, "unaudited", False),
        )

    @property
    def audience(self) -> str:
        """The privacy level sent: the chosen one, else "only you"."""
        return self.privacy_level or PRIVATE


def _flag(config: Mapping[str, Any], key: str, default: bool) -> bool:
    value = config.get(key)
    return value if isinstance(value, bool) else default


def limits_for(account: AccountRef) -> Limits:
    """The limits, with the creator's longest video as TikTok said at connect."""
    seconds = account.config.get("max_video_post_duration_sec")
    if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds <= 0:
        return LIMITS
    return replace(LIMITS, max_video_duration=float(seconds))


def photos_of(post: PostContent) -> list[MediaFile]:
    return [m for m in post.media if m.kind == MediaKind.PHOTO]


def video_of(post: PostContent) -> MediaFile | None:
    videos = [m for m in post.media if m.kind in (MediaKind.VIDEO, MediaKind.ANIMATION)]
    return videos[0] if len(videos) == 1 and len(post.media) == 1 else None


def photo_text(text: str) -> tuple[str | None, str]:
    """A photo post's (title, description) from the post's text."""
    first, newline, rest = text.strip().partition("\n")
    first = first.strip()
    if newline and first and rest.strip() and utf16_length(first) <= PHOTO_TITLE_MAX:
        return first, rest.strip()
    return None, text.strip()


def post_problems(post: PostContent, account: AccountRef) -> list[Problem]:
    """Everything TikTok would refuse about the post, and what goes out other than asked."""
    limits = limits_for(account)
    photos = bool(post.media) and all(m.kind == MediaKind.PHOTO for m in post.media)
    problems = [
        p
        for p in check_limits(limits, post, NAME)
        # A photo post's text has its own limit (below).
        if not (photos and p.code == "text_too_long")
    ]
    if any(p.code == "empty" for p in problems):
        return problems
    if photos:
        length = utf16_length(photo_text(post.text)[1])
        if length > PHOTO_TEXT_MAX:
            problems.append(
                Problem(
                    code="text_too_long",
                    message=(
                        f"Text is {length:,} characters; TikTok allows {PHOTO_TEXT_MAX:,} in "
                        "a photo post's description."
                    ),
                )
            )
    video = video_of(post)
    if video is not None:
        problems.extend(_video_problems(video, limits))
    problems.extend(option_problems(TikTokOptions.from_config(account.config), video))
    return problems


def _video_problems(video: MediaFile, limits: Limits) -> list[Problem]:
    problems: list[Problem] = []
    longest = limits.max_video_duration or DEFAULT_MAX_DURATION
    if video.duration is not None and video.duration > longest:
        problems.append(too_long(video.duration, int(longest)))
    sides = [s for s in (video.width, video.height) if s]
    if sides and (min(sides) < MIN_VIDEO_SIDE or max(sides) > MAX_VIDEO_SIDE):
        problems.append(
            Problem(
                code="video_size",
                message=(
                    f"The video is {video.width}×{video.height}; TikTok takes {MIN_VIDEO_SIDE} "
                    f"to {MAX_VIDEO_SIDE} pixels a side."
                ),
            )
        )
    return problems


def too_long(duration: float, longest: int) -> Problem:
    return Problem(
        code="video_too_long",
        message=(
            f"The video is {_clock(duration)} long; this TikTok account may post videos of up "
            f"to {_clock(longest)}."
        ),
    )


def option_problems(options: TikTokOptions, video: MediaFile | None) -> list[Problem]:
    problems: list[Problem] = []
    if options.privacy_level is not None and options.privacy_level not in PRIVACY_LEVELS:
        problems.append(
            Problem(
                code="privacy_level",
                message=(
                    f"Unknown TikTok audience {options.privacy_level!r}; choose everyone, "
                    "friends, followers or only you."
                ),
            )
        )
    elif options.privacy_level is None and not options.unaudited:
        problems.append(
            Problem(
                code="audience_not_chosen",
                message=(
                    "No audience is chosen for this TikTok account, so the post will be "
                    "private (only you); choose who can see its posts in the account's "
                    "settings."
                ),
                severity=Severity.WARNING,
            )
        )
    if options.brand_content_toggle and options.audience == PRIVATE:
        problems.append(
            Problem(
                code="branded_content_private",
                message=(
                    "TikTok doesn't allow a paid partnership (branded content) to be private; "
                    "choose a wider audience or turn branded content off."
                ),
            )
        )
    cover = options.video_cover_timestamp_ms
    if (
        video is not None
        and cover is not None
        and video.duration is not None
        and not 0 <= cover <= video.duration * 1000
    ):
        problems.append(
            Problem(
                code="video_cover",
                message=f"The cover frame ({cover / 1000:.1f} s) is outside the video.",
            )
        )
    return problems


def unaudited_warning() -> Problem:
    return Problem(
        code="private_until_audited",
        message=(
            "This post will be private (only you can see it): this Crier's TikTok app hasn't "
            "passed TikTok's audit yet, and until it does TikTok keeps every post private."
        ),
        severity=Severity.WARNING,
    )


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"
