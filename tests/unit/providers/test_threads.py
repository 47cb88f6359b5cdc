"""Threads: what `validate` checks (a table, like apprise's), and publishing a text post, a
photo and a carousel against the fake Threads API, with the exact requests sent."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from providers.base import (
    AccountRef,
    MediaFile,
    MediaKind,
    PostContent,
    Processing,
    PublishResult,
    Severity,
)
from providers.errors import PermanentError
from providers.threads import ThreadsProvider
from tests.unit.providers.threads_support import (
    KEY,
    form,
    photo,
    query,
    routes,
    video,
    world,
)

ACCOUNT = AccountRef(id=1, platform="threads", label="@crier_test", credentials={})


def media(kind: MediaKind, mime: str, size: int = 1000, **fields: int) -> MediaFile:
    return MediaFile(kind=kind, mime=mime, size=size, url="https://crier.example/m", **fields)


PHOTO = media(MediaKind.PHOTO, "image/jpeg")
VIDEO = media(MediaKind.VIDEO, "video/mp4", width=1080, height=1920)


@pytest.mark.parametrize(
    ("post", "codes"),
    [
        (PostContent(text="a" * 500), []),
        (PostContent(text="a" * 501), ["text_too_long"]),
        # An emoji counts its UTF-8 bytes: 👍 is 4, so 125 of them fill a post.
        (PostContent(text="👍" * 125), []),
        (PostContent(text="👍" * 126), ["text_too_long"]),
        (PostContent(text="é" * 500), []),
        (PostContent(text=" ".join(f"https://e{n}.example" for n in range(5))), []),
        (PostContent(text=" ".join(f"https://e{n}.example" for n in range(6))), ["too_many_links"]),
        (PostContent(text="hi", media=(PHOTO,) * 20), []),
        (PostContent(text="hi", media=(PHOTO,) * 21), ["too_many_media", "too_many_images"]),
        (PostContent(text="", media=(PHOTO, VIDEO)), []),
        (PostContent(text="hi", media=(media(MediaKind.PHOTO, "image/gif"),)), ["media_type"]),
        (PostContent(text="hi", media=(media(MediaKind.PHOTO, "image/webp"),)), ["media_type"]),
        (PostContent(text="hi", media=(media(MediaKind.PHOTO, "image/png", 8_000_000),)), []),
        (
            PostContent(text="hi", media=(media(MediaKind.PHOTO, "image/png", 8_000_001),)),
            ["media_too_large"],
        ),
        (
            PostContent(text="hi", media=(media(MediaKind.VIDEO, "video/quicktime", 10**9),)),
            [],
        ),
        (
            PostContent(text="hi", media=(media(MediaKind.VIDEO, "video/mp4", 10**9 + 1),)),
            ["media_too_large"],
        ),
        (PostContent(text="hi", media=(media(MediaKind.ANIMATION, "video/mp4"),)), []),
        (
            PostContent(text="hi", media=(media(MediaKind.DOCUMENT, "application/pdf"),)),
            ["media_type"],
        ),
        (PostContent(text="one", thread=("two", "three")), []),
        (PostContent(text="one", thread=("two", "😀" * 126)), ["text_too_long"]),
        (PostContent(text="one", thread=("  ",)), ["empty_part"]),
        (PostContent(text="   "), ["empty"]),
        (PostContent(text="bye soon", delete_after=timedelta(hours=1)), []),
    ],
)
def test_validate(post: PostContent, codes: list[str]) -> None:
    assert [p.code for p in _provider().validate(post, ACCOUNT)] == codes


def test_the_messages_say_how_threads_counts() -> None:
    provider = _provider()
    [too_long] = provider.validate(PostContent(text="👍" * 126), ACCOUNT)
    assert too_long.message.startswith("Text is 504 characters as Threads counts them")
    [part] = provider.validate(PostContent(text="1", thread=("2", "a" * 501)), ACCOUNT)
    assert part.message.startswith("Part 3 of 3 is 501 characters")
    assert provider.text_length("👨‍👩‍👧 ok", ACCOUNT) == 18 + 3


def test_a_video_wider_than_threads_takes_is_a_warning() -> None:
    wide = media(MediaKind.VIDEO, "video/mp4", width=3840, height=2160)
    [problem] = _provider().validate(PostContent(text="4K", media=(wide,)), ACCOUNT)
    assert (problem.code, problem.severity) == ("video_too_wide", Severity.WARNING)


def test_limits_are_data() -> None:
    limits = _provider().limits
    assert (limits.max_text, limits.max_media, limits.threads, limits.alt_text) == (
        500,
        20,
        True,
        True,
    )
    assert limits.pulls_media
    assert limits.quota == (250, 86400.0)
    assert limits.max_video_duration == 300.0
    assert limits.idempotent_publish is False


def _provider() -> ThreadsProvider:
    return ThreadsProvider(httpx.AsyncClient())


# -- publishing ----------------------------------------------------------------------------------


async def test_a_text_post_goes_out_in_one_call_with_the_documented_requests() -> None:
    async with world() as w:
        post = PostContent(text="Hello from Crier, see https://crier.example/about.")
        result = await w.provider.publish(post, w.account, KEY)
        assert isinstance(result, PublishResult)
        [out] = w.fake.live_posts()
        assert (out.text, out.media_type, out.link_attachment) == (
            post.text,
            "TEXT",
            "https://crier.example/about",
        )
        assert result.platform_id == out.id
        assert result.url == w.fake.permalink(out)
        assert result.ref == {"media_ids": [out.id], "parts": 1}
        token = w.account.credentials["access_token"]
        create, status, publish, permalink = w.fake.requests
        container = next(iter(w.fake.containers))
        assert routes(w.fake) == [
            "POST /v1.0/me/threads",
            f"GET /v1.0/{container}",
            "POST /v1.0/me/threads_publish",
            f"GET /v1.0/{out.id}",
        ]
        assert form(create) == {
            "media_type": "TEXT",
            "text": post.text,
            "link_attachment": "https://crier.example/about",
            "access_token": token,
        }
        assert create.headers["content-type"] == "application/x-www-form-urlencoded"
        assert query(status) == {"fields": "status,error_message", "access_token": token}
        assert form(publish) == {"creation_id": container, "access_token": token}
        assert query(permalink) == {"fields": "permalink", "access_token": token}


async def test_a_photo_with_alt_text_waits_for_its_container(tmp_path: Path) -> None:
    async with world() as w:
        item = photo(tmp_path, alt="A lighthouse at dusk")
        post = PostContent(text="Tonight", media=(item,))
        first = await w.provider.publish(post, w.account, KEY)
        assert isinstance(first, Processing)
        assert (first.retry_after, first.stage) == (30.0, "processing the photo")
        assert routes(w.fake) == ["POST /v1.0/me/threads"]  # not checked in the same call
        assert form(w.fake.requests[0]) == {
            "media_type": "IMAGE",
            "image_url": item.url,
            "alt_text": "A lighthouse at dusk",
            "text": "Tonight",
            "access_token": w.account.credentials["access_token"],
        }
        w.clock.advance(30)
        result = await w.provider.poll(first.handle, post, w.account, KEY)
        assert isinstance(result, PublishResult)
        [out] = w.fake.live_posts()
        assert (out.media_type, out.alt_text, out.link_attachment) == (
            "IMAGE",
            "A lighthouse at dusk",
            None,
        )
        assert len(w.fake.calls("POST /threads")) == 1


async def test_several_photos_and_a_video_make_a_carousel(tmp_path: Path) -> None:
    async with world() as w:
        items = (
            photo(tmp_path, "a.jpg", alt="First"),
            photo(tmp_path, "b.jpg"),
            video(tmp_path, alt="A clip"),
        )
        post = PostContent(text="Three things", media=items)
        step = await w.provider.publish(post, w.account, KEY)
        assert isinstance(step, Processing)
        assert (step.retry_after, step.stage) == (60.0, "processing the video")
        item_forms = [form(r) for r in w.fake.calls("POST /threads")]
        assert [
            (f["media_type"], f["is_carousel_item"], f.get("alt_text")) for f in item_forms
        ] == [
            ("IMAGE", "true", "First"),
            ("IMAGE", "true", None),
            ("VIDEO", "true", "A clip"),
        ]
        assert [f.get("image_url") or f.get("video_url") for f in item_forms] == [
            i.url for i in items
        ]
        assert all("text" not in f for f in item_forms)
        polls = 0
        while isinstance(step, Processing):
            w.clock.advance(step.retry_after)
            step = await w.provider.poll(step.handle, post, w.account, KEY)
            polls += 1
        [out] = w.fake.live_posts()
        assert out.media_type == "CAROUSEL"
        assert [c.fields["is_carousel_item"] for c in out.children] == ["true"] * 3
        carousel = form(w.fake.calls("POST /threads")[-1])
        assert carousel["media_type"] == "CAROUSEL"
        assert carousel["children"] == ",".join(c.id for c in out.children)
        assert carousel["text"] == "Three things"
        assert len(w.fake.calls("POST /threads")) == 4  # three items and the carousel, once each
        assert step.platform_id == out.id
        assert polls == 3


async def test_media_without_a_public_url_fails_before_anything_is_made(tmp_path: Path) -> None:
    async with world() as w:
        item = MediaFile(kind=MediaKind.PHOTO, mime="image/jpeg", size=10, path=tmp_path / "x")
        with pytest.raises(PermanentError, match="PUBLIC_URL"):
            await w.provider.publish(PostContent(text="hi", media=(item,)), w.account, KEY)
        assert w.fake.requests == []
