"""What `validate` says about a TikTok post without asking TikTok: each limit, the photo text
split, the per-account options, and the chunk plan the init declares."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from providers.base import (
    AccountRef,
    AfterPublish,
    LinkButton,
    MediaFile,
    MediaKind,
    PostContent,
    Severity,
)
from providers.tiktok import TikTokProvider
from providers.tiktok_limits import LIMITS, TikTokOptions, photo_text
from providers.tiktok_upload import MAX_CHUNK, MIN_CHUNK, ChunkPlan, plan
from tests.unit.providers.tiktok_support import clip, photo

MB = 1_000_000


def account(**config: object) -> AccountRef:
    return AccountRef(
        id=1,
        platform="tiktok",
        label="@crier.tests",
        config={"username": "crier.tests", "privacy_level": "PUBLIC_TO_EVERYONE", **config},
        credentials={"access_token": "act.1"},
    )


@pytest.fixture
def provider() -> TikTokProvider:
    return TikTokProvider(httpx.AsyncClient())


def codes(provider: TikTokProvider, post: PostContent, **config: object) -> list[str]:
    return [p.code for p in provider.validate(post, account(**config))]


def item(kind: MediaKind, mime: str, size: int = 1000, **kw: object) -> MediaFile:
    return MediaFile(kind=kind, mime=mime, size=size, **kw)  # type: ignore[arg-type]


JPEG = item(MediaKind.PHOTO, "image/jpeg", url="https://crier.example/media/a.jpg")
MP4 = item(MediaKind.VIDEO, "video/mp4", duration=30.0, width=1080, height=1920)


@pytest.mark.parametrize(
    ("post", "expected"),
    [
        (PostContent(text="Just words"), ["media_required"]),
        (PostContent(text="", media=(MP4,)), []),
        (PostContent(text="a" * 2200, media=(MP4,)), []),
        (PostContent(text="a" * 2201, media=(MP4,)), ["text_too_long"]),
        (PostContent(text="😀" * 1101, media=(MP4,)), ["text_too_long"]),  # UTF-16 units
        (PostContent(text="a" * 4000, media=(JPEG,)), []),
        (PostContent(text="a" * 4001, media=(JPEG,)), ["text_too_long"]),
        (PostContent(text="x", media=(JPEG,) * 35), []),
        (PostContent(text="x", media=(JPEG,) * 36), ["too_many_media", "too_many_images"]),
        (PostContent(text="x", media=(MP4, MP4)), ["too_many_videos"]),
        (PostContent(text="x", media=(MP4, JPEG)), ["mixed_media"]),
        (PostContent(text="x", media=(item(MediaKind.PHOTO, "image/png"),)), ["media_type"]),
        (PostContent(text="x", media=(item(MediaKind.VIDEO, "video/x-msvideo"),)), ["media_type"]),
        (
            PostContent(text="x", media=(item(MediaKind.DOCUMENT, "application/pdf"),)),
            ["media_type"],
        ),
        (
            PostContent(text="x", media=(item(MediaKind.VIDEO, "video/webm", 4 * 1024**3 + 1),)),
            ["media_too_large"],
        ),
        (
            PostContent(text="x", media=(item(MediaKind.PHOTO, "image/webp", 21 * 1024**2),)),
            ["media_too_large"],
        ),
        (
            PostContent(text="x", media=(item(MediaKind.VIDEO, "video/mp4", duration=601.0),)),
            ["video_too_long"],
        ),
        (
            PostContent(
                text="x", media=(item(MediaKind.VIDEO, "video/quicktime", width=320, height=568),)
            ),
            ["video_size"],
        ),
        (PostContent(text="x", media=(item(MediaKind.ANIMATION, "video/mp4"),)), []),
        (PostContent(text="x", media=(MP4,), thread=("two",)), ["no_threads"]),
        (PostContent(text="  ", media=()), ["empty"]),
    ],
)
def test_each_limit(provider: TikTokProvider, post: PostContent, expected: list[str]) -> None:
    assert codes(provider, post) == expected


def test_the_creators_longest_video_as_tiktok_said_at_connect(provider: TikTokProvider) -> None:
    long = PostContent(text="x", media=(item(MediaKind.VIDEO, "video/mp4", duration=200.0),))
    assert codes(provider, long) == []
    assert codes(provider, long, max_video_post_duration_sec=180) == ["video_too_long"]
    assert provider.limits_for(account(max_video_post_duration_sec=180)).max_video_duration == 180


def test_buttons_are_left_out_and_a_later_delete_is_impossible(provider: TikTokProvider) -> None:
    post = PostContent(
        text="x",
        media=(MP4,),
        buttons=((LinkButton(text="Shop", url="https://shop.example"),),),
        delete_after=timedelta(days=1),
    )
    problems = provider.validate(post, account())
    assert [(p.code, p.severity) for p in problems] == [
        ("no_buttons", Severity.WARNING),
        ("delete_not_possible", Severity.ERROR),
    ]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"privacy_level": None}, [("audience_not_chosen", Severity.WARNING)]),
        ({"privacy_level": None, "unaudited": True}, []),
        ({"privacy_level": "friends"}, [("privacy_level", Severity.ERROR)]),
        ({"privacy_level": "mutual_follow_friends"}, []),
        (
            {"privacy_level": "SELF_ONLY", "brand_content_toggle": True},
            [("branded_content_private", Severity.ERROR)],
        ),
        ({"brand_content_toggle": True, "brand_organic_toggle": True, "is_aigc": True}, []),
        ({"video_cover_timestamp_ms": 29_000}, []),
        ({"video_cover_timestamp_ms": 31_000}, [("video_cover", Severity.ERROR)]),
    ],
)
def test_the_accounts_options(
    provider: TikTokProvider, config: dict[str, object], expected: list[tuple[str, Severity]]
) -> None:
    problems = provider.validate(PostContent(text="x", media=(MP4,)), account(**config))
    assert [(p.code, p.severity) for p in problems] == expected


def test_options_default_to_private_with_interactions_off() -> None:
    options = TikTokOptions.from_config({})
    assert options.audience == "SELF_ONLY"
    assert (options.disable_comment, options.disable_duet, options.disable_stitch) == (
        True,
        True,
        True,
    )
    assert (options.brand_content_toggle, options.brand_organic_toggle) == (False, False)
    assert options.is_aigc is False
    assert not options.pull_from_url
    assert TikTokOptions.from_config({"disable_comment": "no"}).disable_comment is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Autumn walk\nLeaves everywhere", ("Autumn walk", "Leaves everywhere")),
        ("One line only", (None, "One line only")),
        ("t" * 91 + "\nrest", (None, "t" * 91 + "\nrest")),
        ("Title\n\n", (None, "Title")),
        ("\nrest", (None, "rest")),
    ],
)
def test_a_photo_posts_title_and_description(text: str, expected: tuple[str | None, str]) -> None:
    assert photo_text(text) == expected


def test_a_photo_post_needs_a_url_only_where_tiktok_fetches(
    provider: TikTokProvider, tmp_path: Path
) -> None:
    video = PostContent(text="x", media=(clip(tmp_path),))
    photos = PostContent(text="x", media=(photo(tmp_path),))
    assert LIMITS.pulls_media
    assert provider.pulls_media_for(photos, account())
    assert not provider.pulls_media_for(video, account())
    assert provider.pulls_media_for(video, account(pull_from_url=True))


def test_nothing_can_be_done_after_publishing(provider: TikTokProvider) -> None:
    assert provider.after_publish == AfterPublish()
    assert LIMITS.idempotent_publish is False
    assert LIMITS.quota == (15, 86400.0)


# -- the chunk plan -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "preferred", "expected"),
    [
        (1000, 16 * 2**20, (1000, 1)),  # under 5 MB: whole
        (5 * MB, 16 * 2**20, (5 * MB, 1)),
        (20 * 2**20, 16 * 2**20, (20 * 2**20, 1)),  # one chunk's worth: whole
        (40 * 2**20, 16 * 2**20, (16 * 2**20, 2)),  # the last takes 24 MiB
        (100 * MB, 64 * MB, (50 * MB, 2)),  # over 64 MB: two chunks at least
        (4 * 1024**3, 16 * 2**20, (16 * 2**20, 256)),
        (300 * MB, 1, (MIN_CHUNK, 300 * MB // MIN_CHUNK)),  # never under 5 MB
        (300 * MB, 10**9, (MAX_CHUNK, 4)),  # never over 64 MB
    ],
)
def test_the_chunk_plan_follows_the_media_transfer_guide(
    size: int, preferred: int, expected: tuple[int, int]
) -> None:
    chunks = plan(size, preferred)
    assert (chunks.chunk_size, chunks.count) == expected
    assert chunks.count == max(1, size // chunks.chunk_size)
    last_first, last_end = chunks.span(chunks.count - 1)
    assert last_end == size
    assert last_end - last_first <= 128 * MB
    assert chunks.sound


def test_a_plan_read_back_from_a_handle_is_checked() -> None:
    assert not ChunkPlan(size=10, chunk_size=3, count=9).sound
    assert ChunkPlan(size=10, chunk_size=3, count=3).chunks_in(7) == 2
    assert ChunkPlan(size=10, chunk_size=3, count=3).chunks_in(10) == 3
