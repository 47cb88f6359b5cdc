"""What YouTube accepts (validate, one table) and how a post's text becomes a video's title and
description."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from providers.base import AccountRef, MediaFile, MediaKind, PostContent, Severity
from providers.youtube import YouTubeProvider
from providers.youtube_limits import metadata_of, schedule, video_url

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def video(
    *,
    width: int = 1920,
    height: int = 1080,
    seconds: float = 60.0,
    mime: str = "video/mp4",
    size: int = 10_000_000,
    kind: MediaKind = MediaKind.VIDEO,
    name: str = "Holiday.mp4",
) -> MediaFile:
    return MediaFile(
        kind=kind,
        mime=mime,
        size=size,
        width=width,
        height=height,
        duration=seconds,
        file_name=name,
    )


PHOTO = MediaFile(kind=MediaKind.PHOTO, mime="image/jpeg", size=1000, width=10, height=10)


@dataclass
class Case:
    id: str
    text: str = "A title\nA description"
    media: tuple[MediaFile, ...] = (video(),)
    config: dict[str, Any] = field(default_factory=dict)
    thread: tuple[str, ...] = ()
    #: code -> severity of every problem expected.
    expected: dict[str, Severity] = field(default_factory=dict)
    says: str = ""


E, W = Severity.ERROR, Severity.WARNING
CASES = [
    Case("a landscape video with a title"),
    Case("text only", media=(), expected={"media_required": E}, says="needs a photo or video"),
    Case("a photo", media=(PHOTO,), expected={"media_type": E}, says="no photos"),
    Case(
        "a video and a photo",
        media=(video(), PHOTO),
        expected={"too_many_media": E, "mixed_media": E, "media_type": E},
    ),
    Case(
        "two videos", media=(video(), video()), expected={"too_many_media": E, "too_many_videos": E}
    ),
    Case("an MKV", media=(video(mime="video/x-matroska"),), expected={"media_type": E}, says="MP4"),
    Case("a video sent as a file", media=(video(kind=MediaKind.DOCUMENT),)),
    Case("a Telegram animation", media=(video(kind=MediaKind.ANIMATION),)),
    Case(
        "over 256 GB",
        media=(video(size=274_877_906_945),),
        expected={"media_too_large": E},
    ),
    Case("a 100-character title", text="t" * 100 + "\nrest"),
    Case("a 101-character title", text="t" * 101, expected={"text_too_long": E}, says="title"),
    Case("5,000 bytes of description", text="T\n" + "é" * 2500),
    Case(
        "5,002 bytes of description",
        text="T\n" + "é" * 2501,
        expected={"description_too_long": E},
        says="5,002 bytes",
    ),
    Case("< and > are replaced", text="1 < 2\n<b>", expected={"angle_brackets": W}, says="‹"),
    Case("no text: the file name", text="", expected={"no_title": W}, says="“Holiday”"),
    Case("a thread", thread=("more",), expected={"no_threads": E}),
    Case("20 minutes, long uploads allowed", media=(video(seconds=1200),)),
    Case(
        "20 minutes, channel eligible",
        media=(video(seconds=1200),),
        config={"long_uploads_status": "eligible"},
        expected={"video_too_long": E},
        says="youtube.com/verify",
    ),
    Case(
        "20 minutes, channel disallowed",
        media=(video(seconds=1200),),
        config={"long_uploads_status": "disallowed"},
        expected={"video_too_long": E},
        says="up to 15 minutes",
    ),
    Case(
        "20 minutes, YouTube didn't say",
        media=(video(seconds=1200),),
        config={"long_uploads_status": "longUploadsUnspecified"},
        expected={"video_too_long": W},
    ),
    Case(
        "15 minutes on any channel",
        media=(video(seconds=900),),
        config={"long_uploads_status": "disallowed"},
    ),
    Case(
        "a vertical minute: a Short",
        media=(video(width=1080, height=1920),),
        expected={"short": W},
        says="Short",
    ),
    Case(
        "a square minute: a Short", media=(video(width=1080, height=1080),), expected={"short": W}
    ),
    Case("a vertical 4 minutes: not a Short", media=(video(width=1080, height=1920, seconds=240),)),
    Case("unlisted", config={"privacy": "unlisted"}),
    Case("an unknown privacy", config={"privacy": "friends"}, expected={"privacy": E}),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_validate(case: Case) -> None:
    provider = YouTubeProvider(httpx.AsyncClient())
    account = AccountRef(
        id=1,
        platform="youtube",
        label="x",
        config={"channel_id": "UC1", "long_uploads_status": "allowed", **case.config},
    )
    post = PostContent(text=case.text, media=case.media, thread=case.thread)
    problems = provider.validate(post, account)
    assert {p.code: p.severity for p in problems} == case.expected
    if case.says:
        assert any(case.says in p.message for p in problems), problems


def test_an_empty_post_is_only_empty() -> None:
    provider = YouTubeProvider(httpx.AsyncClient())
    account = AccountRef(id=1, platform="youtube", label="x")
    assert [p.code for p in provider.validate(PostContent(text=" \n "), account)] == ["empty"]


def test_the_title_is_what_text_length_counts() -> None:
    provider = YouTubeProvider(httpx.AsyncClient())
    account = AccountRef(id=1, platform="youtube", label="x")
    assert provider.text_length("\n  Twelve chars  \nand a long description", account) == 12


@pytest.mark.parametrize(
    ("text", "title", "description"),
    [
        ("Title\nLine 1\nLine 2", "Title", "Line 1\nLine 2"),
        ("\n\n  Title  \r\n\r\nBody\r\n", "Title", "Body"),
        ("Only a title", "Only a title", ""),
        ("a <tag> & more\n> quoted", "a ‹tag› & more", "› quoted"),
    ],
)
def test_the_first_line_is_the_title(text: str, title: str, description: str) -> None:
    meta = metadata_of(PostContent(text=text, media=(video(),)))
    assert (meta.title, meta.description) == (title, description)


@pytest.mark.parametrize(
    ("privacy", "due", "expected"),
    [
        ("public", None, ("public", None)),
        ("public", NOW + timedelta(seconds=30), ("public", None)),
        ("public", NOW + timedelta(days=1), ("private", "2026-01-16T12:00:00Z")),
        ("unlisted", NOW + timedelta(days=1), ("unlisted", None)),
        ("private", NOW + timedelta(days=1), ("private", None)),
        ("public", datetime(2026, 1, 16, 12, 0), ("private", "2026-01-16T12:00:00Z")),  # noqa: DTZ001
    ],
    ids=["now", "a few seconds ahead", "tomorrow", "unlisted", "private", "naive UTC"],
)
def test_a_public_video_due_later_is_scheduled_with_publish_at(
    privacy: str, due: datetime | None, expected: tuple[str, str | None]
) -> None:
    assert schedule(privacy, due, NOW) == expected


def test_links() -> None:
    assert video_url("abc", short=False) == "https://www.youtube.com/watch?v=abc"
    assert video_url("abc", short=True) == "https://youtube.com/shorts/abc"
