"""LinkedIn publishing: the exact requests (Posts and Images APIs, version headers), what the
fake LinkedIn shows, every documented error mapped to its class, and every limit in validate.

Shapes follow learn.microsoft.com/linkedin/marketing/community-management/shares/posts-api,
images-api and little-text-format, and shared/api-guide/concepts/error-handling and
rate-limits (view li-lms-2026-05)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from providers.base import AccountRef, MediaFile, MediaKind, PostContent, PublishResult
from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from providers.linkedin import LinkedInProvider
from tests.contract.harness import TINY_JPEG
from tests.unit.providers.linkedin_world import World, photo, world

DISTRIBUTION = {
    "feedDistribution": "MAIN_FEED",
    "targetEntities": [],
    "thirdPartyDistributionChannels": [],
}


@pytest.fixture
async def w() -> AsyncIterator[World]:
    async with world() as it:
        yield it


def post_body(author: str, commentary: str, content: dict[str, Any] | None = None) -> dict:
    body: dict[str, Any] = {
        "author": author,
        "commentary": commentary,
        "visibility": "PUBLIC",
        "distribution": DISTRIBUTION,
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }
    if content is not None:
        body["content"] = content
    return body


# -- the requests -----------------------------------------------------------------------------


async def test_a_text_post_is_one_versioned_post_request(w: World) -> None:
    account = w.member_account()
    result = await w.provider().publish(PostContent(text="Hello LinkedIn"), account, "k")
    [sent] = w.fake.requests_to("/rest/posts")
    assert sent.method == "POST"
    assert sent.url == "https://api.linkedin.com/rest/posts"
    assert sent.headers["authorization"] == f"Bearer {account.credentials['access_token']}"
    assert sent.headers["linkedin-version"] == "202605"
    assert sent.headers["x-restli-protocol-version"] == "2.0.0"
    assert sent.headers["content-type"] == "application/json"
    assert sent.json == post_body(w.alice.urn, "Hello LinkedIn")
    [post] = w.fake.posts
    assert result == PublishResult(
        platform_id=post.urn,
        url=f"https://www.linkedin.com/feed/update/{post.urn}/",
        ref={"urn": post.urn, "link": None, "parts": 1},
    )


@pytest.mark.parametrize(
    ("typed", "hashtags"),
    [
        ("Launch (beta) today: 50% off [ends Friday] {promo} <3", []),
        ("Ping @alice, a_b * c ~ d | e \\ f", []),
        # A hashtag is letters and digits: "_lang" is escaped text after "#Rust".
        ("#Python and #Rust_lang, but not a#b or 5 # 3 or C#", ["#Python", "#Rust"]),
        ("Read https://en.wikipedia.org/wiki/Python_(programming_language) now", []),
    ],
    ids=["brackets", "mentions-and-marks", "hashtags", "link-with-reserved"],
)
async def test_text_comes_out_as_typed_and_hashtags_stay_hashtags(
    w: World, typed: str, hashtags: list[str]
) -> None:
    await w.provider().publish(PostContent(text=typed), w.member_account(), "k")
    [post] = w.fake.posts
    assert post.text == typed
    assert post.hashtags == hashtags


async def test_a_text_post_with_a_link_carries_an_article_card(w: World) -> None:
    text = "Our new release notes\nhttps://example.com/releases/2.0. Enjoy!"
    await w.provider().publish(PostContent(text=text), w.member_account(), "k")
    [post] = w.fake.posts
    assert post.content == {
        "article": {"source": "https://example.com/releases/2.0", "title": "Our new release notes"}
    }
    assert post.text == text


async def test_one_image_goes_as_media_with_its_alt_text(w: World, tmp_path: Path) -> None:
    account = w.member_account()
    item = photo(tmp_path, "cat", alt="A cat (asleep)")
    await w.provider().publish(PostContent(text="Cat", media=(item,)), account, "k")
    [init] = w.fake.requests_to("/rest/images", "POST")
    assert init.params == {"action": "initializeUpload"}
    assert init.headers["linkedin-version"] == "202605"
    assert init.json == {"initializeUploadRequest": {"owner": w.alice.urn}}
    [image] = w.fake.images.values()
    assert image.data == TINY_JPEG
    assert image.upload_authorization == f"Bearer {account.credentials['access_token']}"
    assert w.fake.requests_to("/rest/posts")[0].json == post_body(
        w.alice.urn, "Cat", {"media": {"id": image.urn, "altText": "A cat (asleep)"}}
    )


async def test_several_images_go_as_a_multi_image_in_order(w: World, tmp_path: Path) -> None:
    items = (
        photo(tmp_path, "one", alt="First"),
        photo(tmp_path, "two", data=TINY_JPEG + b"2"),
        photo(tmp_path, "three", alt="Third", data=TINY_JPEG + b"3"),
    )
    await w.provider().publish(PostContent(text="Three", media=items), w.member_account(), "k")
    urns = [image.urn for image in w.fake.images.values()]
    [post] = w.fake.posts
    assert post.content == {
        "multiImage": {
            "images": [
                {"id": urns[0], "altText": "First"},
                {"id": urns[1]},
                {"id": urns[2], "altText": "Third"},
            ]
        }
    }


async def test_a_page_posts_as_the_organization(w: World, tmp_path: Path) -> None:
    result = await w.provider(organizations=True).publish(
        PostContent(text="From the page", media=(photo(tmp_path, "logo"),)), w.page_account(), "k"
    )
    [post] = w.fake.posts
    assert post.author == w.acme.urn == next(iter(w.fake.images.values())).owner
    assert isinstance(result, PublishResult)
    assert result.platform_id == post.urn


# -- errors -----------------------------------------------------------------------------------


async def test_posting_as_a_page_you_no_longer_administer_names_the_permission(w: World) -> None:
    account = w.page_account()
    w.fake.acls.clear()
    with pytest.raises(AuthError, match="w_organization_social") as raised:
        await w.provider(organizations=True).publish(PostContent(text="Hi"), account, "k")
    assert raised.value.http_status == 403
    assert "Not enough permissions" in raised.value.message


async def test_a_member_token_without_the_posting_scope_names_it(w: World) -> None:
    account = w.member_account(scopes="openid profile")
    with pytest.raises(AuthError, match="w_member_social"):
        await w.provider().publish(PostContent(text="Hi"), account, "k")


async def test_an_expired_token_is_auth_and_never_leaks(w: World) -> None:
    account = w.member_account()
    w.fake.advance(61 * 24 * 3600)
    with pytest.raises(AuthError, match="expired or was revoked") as raised:
        await w.provider().publish(PostContent(text="Hi"), account, "k")
    assert account.credentials["access_token"] not in str(raised.value)


async def test_a_duplicate_post_is_refused_with_linkedin_s_reason(w: World) -> None:
    account = w.member_account()
    first = await w.provider().publish(PostContent(text="Same again"), account, "k1")
    with pytest.raises(PermanentError, match="duplicate") as raised:
        await w.provider().publish(PostContent(text="Same again"), account, "k2")
    assert isinstance(first, PublishResult)
    assert first.platform_id in raised.value.message
    assert raised.value.http_status == 422


async def test_the_daily_limit_waits_until_midnight_utc(w: World) -> None:
    account = w.member_account()
    w.fake.posts_per_day = 1
    await w.provider().publish(PostContent(text="One"), account, "k1")
    with pytest.raises(RateLimited) as raised:
        await w.provider().publish(PostContent(text="Two"), account, "k2")
    # NOW is 18:30 UTC: 5.5 hours to midnight, plus a minute's margin.
    assert raised.value.retry_after == 5.5 * 3600 + 60


ERRORS: list[tuple[int, dict[str, Any] | str, dict[str, str], type[Exception], str]] = [
    # (status, body, headers, error class, in the message)
    (
        401,
        {"status": 401, "serviceErrorCode": 65601, "code": "REVOKED_ACCESS_TOKEN",
         "message": "The token used in the request has been revoked by the user"},
        {},
        AuthError,
        "revoked by the user",
    ),
    (
        403,
        {"status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED",
         "message": "Not enough permissions to access: partnerApiPostsExternal.CREATE.20260501"},
        {},
        AuthError,
        "w_member_social",
    ),
    (
        422,
        {"errorDetailType": "com.linkedin.common.error.BadRequest",
         "message": "Invalid request",
         "errorDetails": {"inputErrors": [{"description": "Commentary is too long",
                                           "input": {"inputPath": {"fieldPath": "/commentary"}},
                                           "code": "MAX_LENGTH_EXCEEDED"}]},
         "status": 422},
        {},
        PermanentError,
        "Commentary is too long at /commentary",
    ),
    (
        400,
        {"status": 400, "code": "INVALID_CONTENT_TYPE", "message": "Unsupported content"},
        {},
        PermanentError,
        "Unsupported content",
    ),
    (
        426,
        {"status": 426, "code": "NONEXISTENT_VERSION",
         "message": "Requested version 202605 is not active"},
        {},
        PermanentError,
        "no longer accepts API version 202605",
    ),
    (
        429,
        {"status": 429, "serviceErrorCode": 101, "code": "TOO_MANY_REQUESTS",
         "message": "Too many requests"},
        {},
        RateLimited,
        "rate limit",
    ),
    (429, {"status": 429, "message": "Too many requests"}, {"Retry-After": "42"}, RateLimited, ""),
    (500, {"status": 500, "message": "Internal Server Error"}, {}, TransientError, "500"),
    (503, "<html>Service Unavailable</html>", {}, TransientError, "503"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("status", "body", "headers", "error", "said"),
    ERRORS,
    ids=["401", "403", "422-input", "400", "426", "429-infra", "429-retry-after", "500", "503"],
)
async def test_documented_errors_map_to_their_class(
    w: World, status: int, body: Any, headers: dict[str, str], error: type[Exception], said: str
) -> None:
    account = w.member_account()
    w.fake.fail_next("/rest/posts", status, body, headers)
    with pytest.raises(error) as raised:
        await w.provider().publish(PostContent(text="Hello"), account, "k")
    assert said in str(raised.value)
    assert account.credentials["access_token"] not in str(raised.value)
    if status == 429:
        assert raised.value.retry_after == (42.0 if headers else 300.0)  # type: ignore[attr-defined]
    assert not w.fake.posts


async def test_a_timeout_creating_the_post_is_ambiguous_but_not_one_uploading(
    w: World, tmp_path: Path
) -> None:
    account = w.member_account()
    real = w.fake.handle

    def slow_posts(request: httpx.Request) -> httpx.Response:
        if request.url.path in ("/rest/posts", "/rest/images"):
            raise httpx.ReadTimeout("slow", request=request)
        return real(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(slow_posts)) as http:
        provider = w.provider(http=http)
        with pytest.raises(TransientError) as raised:
            await provider.publish(PostContent(text="Hi"), account, "k")
        assert raised.value.ambiguous
        with pytest.raises(TransientError) as raised:
            await provider.publish(
                PostContent(text="Hi", media=(photo(tmp_path, "x"),)), account, "k"
            )
        assert not raised.value.ambiguous
        assert "nothing was published" in raised.value.message


async def test_a_created_post_without_its_id_is_ambiguous(w: World) -> None:
    w.fake.fail_next("/rest/posts", 201, "")
    with pytest.raises(TransientError) as raised:
        await w.provider().publish(PostContent(text="Hi"), w.member_account(), "k")
    assert raised.value.ambiguous


# -- validate ---------------------------------------------------------------------------------


def media(kind: MediaKind, mime: str, size: int = 500_000, **fields: Any) -> MediaFile:
    return MediaFile(kind=kind, mime=mime, size=size, **fields)


JPEG = media(MediaKind.PHOTO, "image/jpeg")
MP4 = media(MediaKind.VIDEO, "video/mp4", duration=30.0)

LIMIT_CASES: list[tuple[str, PostContent, list[str]]] = [
    ("fits", PostContent(text="x" * 3000), []),
    ("text", PostContent(text="x" * 3001), ["text_too_long"]),
    ("empty", PostContent(text=" "), ["empty"]),
    ("20 images", PostContent(text="x", media=(JPEG,) * 20), []),
    ("21 images", PostContent(text="x", media=(JPEG,) * 21), ["too_many_media", "too_many_images"]),
    ("png and gif", PostContent(text="x", media=(replace(JPEG, mime="image/png"),
                                                 replace(JPEG, mime="image/gif"))), []),
    ("webp", PostContent(text="x", media=(replace(JPEG, mime="image/webp"),)), ["media_type"]),
    ("huge image", PostContent(text="x", media=(replace(JPEG, width=8000, height=5000),)), []),
    ("two videos", PostContent(text="x", media=(MP4, MP4)), ["too_many_videos"]),
    ("video and image", PostContent(text="x", media=(MP4, JPEG)), ["mixed_media"]),
    ("mov", PostContent(text="x", media=(replace(MP4, mime="video/quicktime"),)), ["media_type"]),
    ("big video", PostContent(text="x", media=(replace(MP4, size=500_000_001),)),
     ["media_too_large"]),
    ("tiny video", PostContent(text="x", media=(replace(MP4, size=74_999),)), ["video_too_small"]),
    ("short video", PostContent(text="x", media=(replace(MP4, duration=2.5),)),
     ["video_too_short"]),
    ("document", PostContent(text="x", media=(media(MediaKind.DOCUMENT, "application/pdf"),)),
     ["media_type"]),
    ("alt text", PostContent(text="x", media=(replace(JPEG, alt_text="a" * 4087),)),
     ["alt_text_too_long"]),
    ("thread", PostContent(text="x", thread=("y",)), ["no_threads"]),
]  # fmt: skip


ACCOUNT = AccountRef(
    id=1,
    platform="linkedin",
    label="Alice Smith",
    config={"author": "urn:li:person:m1Xy9", "kind": "member"},
    credentials={"access_token": "AQ-token"},
)


@pytest.mark.parametrize(("case", "post", "codes"), LIMIT_CASES, ids=[c[0] for c in LIMIT_CASES])
def test_validate(case: str, post: PostContent, codes: list[str]) -> None:
    del case
    provider = LinkedInProvider(httpx.AsyncClient())
    assert [p.code for p in provider.validate(post, ACCOUNT)] == codes


def test_the_limits_the_preview_uses_are_declared() -> None:
    limits = LinkedInProvider(httpx.AsyncClient()).limits
    assert limits.max_image_pixels == 36_152_319
    assert limits.max_video_duration == 1800
    assert limits.alt_text
    assert not limits.threads
    assert not limits.idempotent_publish
