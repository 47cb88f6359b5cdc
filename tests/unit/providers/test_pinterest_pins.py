"""What a Pin is made of (providers/pinterest_pins.py): the title/description/link rule, and
every limit `validate` checks, as tables."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
import pytest

from providers.base import AccountRef, MediaFile, MediaKind, PostContent, Severity
from providers.pinterest import PinterestProvider
from providers.pinterest_pins import (
    LIMITS,
    MAX_IMAGE_BYTES,
    MAX_VIDEO_BYTES,
    PinText,
    pin_text,
)

ACCOUNT = AccountRef(
    id=1,
    platform="pinterest",
    label="crier / Recipes",
    config={"board_id": "549755885175", "board_name": "Recipes"},
    credentials={"access_token": "pina_x"},
)
PROVIDER = PinterestProvider(httpx.AsyncClient())


def photo(*, mime: str = "image/jpeg", size: int = 1000, alt: str | None = None) -> MediaFile:
    return MediaFile(kind=MediaKind.PHOTO, mime=mime, size=size, alt_text=alt)


def clip(
    *,
    mime: str = "video/mp4",
    size: int = 10_000,
    seconds: float | None = 30.0,
    kind: MediaKind = MediaKind.VIDEO,
) -> MediaFile:
    return MediaFile(kind=kind, mime=mime, size=size, duration=seconds)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Soup", PinText(title=None, description="Soup", link=None)),
        (
            "  Soup\n\nHot and red  \n",
            PinText(title="Soup", description="Hot and red", link=None),
        ),
        ("Soup\n   \n", PinText(title=None, description="Soup", link=None)),
        (
            "See https://a.example/x?y=1, then (https://b.example)",
            PinText(
                title=None,
                description="See https://a.example/x?y=1, then (https://b.example)",
                link="https://a.example/x?y=1",
            ),
        ),
        (
            "Wiki\nhttps://en.wikipedia.org/wiki/Tomato_(disambiguation).",
            PinText(
                title="Wiki",
                description="https://en.wikipedia.org/wiki/Tomato_(disambiguation).",
                link="https://en.wikipedia.org/wiki/Tomato_(disambiguation)",
            ),
        ),
        ("", PinText(title=None, description="", link=None)),
    ],
    ids=["one line", "title and description", "blank after", "links", "bracketed link", "empty"],
)
def test_the_text_becomes_title_description_and_link(text: str, expected: PinText) -> None:
    assert pin_text(text) == expected


@dataclass
class Check:
    id: str
    post: PostContent
    codes: list[str]
    account: AccountRef = ACCOUNT
    warnings: list[str] = field(default_factory=list)


def post(text: str = "Hello", *media: MediaFile, thread: tuple[str, ...] = ()) -> PostContent:
    return PostContent(text=text, media=media or (photo(),), thread=thread)


CHECKS = [
    Check("a photo pin", post(), []),
    Check("empty", PostContent(text="  "), ["empty"]),
    Check("text alone", PostContent(text="Hello"), ["media_required"]),
    Check("title at the limit", post("t" * 100 + "\n" + "d" * 500), []),
    Check("title over", post("t" * 101 + "\nBody"), ["title_too_long"]),
    Check("description over", post("Title\n" + "d" * 501), ["text_too_long"]),
    Check("one line at the limit", post("d" * 500), []),
    Check("one line over", post("d" * 501), ["text_too_long"]),
    Check("alt text at the limit", post("x", photo(alt="a" * 500)), []),
    Check("alt text over", post("x", photo(alt="a" * 501)), ["alt_text_too_long"]),
    Check(
        "alt texts that differ",
        post("x", photo(alt="One"), photo(alt="Two")),
        ["one_alt_text"],
        warnings=["one_alt_text"],
    ),
    Check("same alt text twice", post("x", photo(alt="One"), photo(alt="One")), []),
    Check("a carousel of five", post("x", *[photo() for _ in range(5)]), []),
    Check(
        "six photos",
        post("x", *[photo() for _ in range(6)]),
        ["too_many_media", "too_many_images"],
    ),
    Check("png", post("x", photo(mime="image/png")), []),
    Check("webp", post("x", photo(mime="image/webp")), ["media_type"]),
    Check("photo too large", post("x", photo(size=MAX_IMAGE_BYTES + 1)), ["media_too_large"]),
    Check("a video", post("x", clip()), []),
    Check("a mov", post("x", clip(mime="video/quicktime")), []),
    Check("webm", post("x", clip(mime="video/webm")), ["media_type"]),
    Check("video too large", post("x", clip(size=MAX_VIDEO_BYTES + 1)), ["media_too_large"]),
    Check("video too short", post("x", clip(seconds=3.5)), ["video_too_short"]),
    Check("video of unknown length", post("x", clip(seconds=None)), []),
    Check(
        "short animation",
        post("x", clip(kind=MediaKind.ANIMATION, seconds=2.0)),
        ["video_too_short"],
    ),
    Check("two videos", post("x", clip(), clip()), ["too_many_videos"]),
    Check("photo and video", post("x", photo(), clip()), ["mixed_media"]),
    Check("a thread", post("x", thread=("more",)), ["no_threads"]),
    Check(
        "no board",
        post(),
        ["no_board"],
        account=AccountRef(id=2, platform="pinterest", label="?", config={}),
    ),
]


@pytest.mark.parametrize("check", CHECKS, ids=[c.id for c in CHECKS])
def test_validate(check: Check) -> None:
    problems = PROVIDER.validate(check.post, check.account)
    assert [p.code for p in problems] == check.codes
    assert [p.code for p in problems if p.severity == Severity.WARNING] == check.warnings
    assert all(p.message.endswith(".") for p in problems)


def test_the_messages_explain_the_title_rule() -> None:
    (title,) = PROVIDER.validate(post("t" * 120 + "\nBody"), ACCOUNT)
    assert "first line becomes the Pin's title" in title.message
    assert "120 characters" in title.message
    (description,) = PROVIDER.validate(post("Title\n" + "d" * 501), ACCOUNT)
    assert "text after the first line" in description.message


def test_the_counted_length_is_the_descriptions() -> None:
    assert PROVIDER.text_length("Title\n" + "d" * 42, ACCOUNT) == 42
    assert PROVIDER.text_length("d" * 42, ACCOUNT) == 42


def test_the_limits_as_data() -> None:
    assert (LIMITS.max_text, LIMITS.max_media, LIMITS.max_images, LIMITS.max_videos) == (
        500,
        5,
        5,
        1,
    )
    assert LIMITS.media_required
    assert LIMITS.alt_text
    assert not LIMITS.threads
    assert not LIMITS.mixed_media
    assert not LIMITS.idempotent_publish
    assert LIMITS.max_video_duration == 900
    assert LIMITS.mime_types[MediaKind.PHOTO] == {"image/jpeg", "image/png"}
