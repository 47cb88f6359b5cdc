"""The X adapter: every limit in validate, the exact requests of a text, image and thread post,
and every documented error mapped to its class (respx answering as X documents)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from providers.base import AccountRef, MediaFile, MediaKind, PostContent, Severity
from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from providers.x import SCOPES, XProvider
from providers.x_limits import PLAN_QUOTAS
from tests.contract.harness import TINY_JPEG
from tests.fakes.x_wire import multipart

API = "https://api.x.com"
TOKEN = "SECRET-x-token-abcdefghijklmnop"
NOW = 1_790_000_000.0
KEY = "target-9-occurrence-1"


def account(config: dict[str, Any] | None = None, **credentials: str) -> AccountRef:
    return AccountRef(
        id=1,
        platform="x",
        label="@crier_test",
        config={"user_id": "2244994945", "username": "crier_test", **(config or {})},
        credentials=credentials or {"access_token": TOKEN, "scope": " ".join(SCOPES)},
    )


def item(
    kind: MediaKind = MediaKind.PHOTO,
    mime: str = "image/jpeg",
    size: int = 1000,
    **kwargs: Any,
) -> MediaFile:
    return MediaFile(kind=kind, mime=mime, size=size, **kwargs)


def photo(tmp_path: Path, name: str = "cat.jpg", alt: str | None = None) -> MediaFile:
    path = tmp_path / name
    path.write_bytes(TINY_JPEG)
    return item(size=len(TINY_JPEG), path=path, file_name=name, alt_text=alt)


def created(post_id: str, text: str = "") -> httpx.Response:
    body = {"data": {"id": post_id, "text": text, "edit_history_tweet_ids": [post_id]}}
    return httpx.Response(201, json=body)


def uploaded(media_id: str) -> httpx.Response:
    data = {
        "id": media_id,
        "media_key": f"3_{media_id}",
        "size": len(TINY_JPEG),
        "expires_after_secs": 86400,
        "image": {"image_type": "image/jpeg", "w": 1, "h": 1},
    }
    return httpx.Response(200, json={"data": data})


def sent(router: respx.MockRouter) -> list[str]:
    return [f"{c.request.method} {c.request.url.path}" for c in router.calls]


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=API, assert_all_called=True) as mock:
        yield mock


@pytest.fixture
def provider(http: httpx.AsyncClient) -> XProvider:
    return XProvider(http, now=lambda: NOW)


# -- validate: one row per limit -------------------------------------------------------------


@dataclass
class Case:
    id: str
    post: PostContent
    codes: list[str]
    config: dict[str, Any] = field(default_factory=dict)


GIF = item(MediaKind.ANIMATION, "image/gif")
VIDEO = item(MediaKind.VIDEO, "video/mp4", width=1280, height=720, duration=30.0)
CASES = [
    Case("280 weighted", PostContent(text="a" * 280), []),
    Case("281 weighted", PostContent(text="a" * 281), ["text_too_long"]),
    Case("CJK counts 2", PostContent(text="字" * 141), ["text_too_long"]),
    Case("a link counts 23", PostContent(text="a" * 256 + " https://example.com/" + "x" * 99), []),
    Case("premium: 25,000", PostContent(text="a" * 25_000), [], {"subscription_type": "Premium"}),
    Case(
        "premium: not more",
        PostContent(text="a" * 25_001),
        ["text_too_long"],
        {"subscription_type": "PremiumPlus"},
    ),
    Case("four photos", PostContent(text="x", media=(item(),) * 4), []),
    Case(
        "five photos",
        PostContent(text="x", media=(item(),) * 5),
        ["too_many_media", "too_many_images"],
    ),
    Case("two videos", PostContent(text="x", media=(VIDEO, VIDEO)), ["too_many_videos"]),
    Case("photo and video", PostContent(text="x", media=(item(), VIDEO)), ["mixed_media"]),
    Case(
        "GIF with a photo",
        PostContent(text="x", media=(item(), GIF)),
        ["mixed_media", "gif_not_alone"],
    ),
    Case("photo 5 MB", PostContent(text="x", media=(item(size=5 * 1024 * 1024),)), []),
    Case(
        "photo over 5 MB",
        PostContent(text="x", media=(item(size=5 * 1024 * 1024 + 1),)),
        ["media_too_large"],
    ),
    Case(
        "GIF over 15 MB",
        PostContent(text="x", media=(item(MediaKind.ANIMATION, "image/gif", 16 * 1024 * 1024),)),
        ["media_too_large"],
    ),
    Case(
        "MP4 animation 100 MB",
        PostContent(text="x", media=(item(MediaKind.ANIMATION, "video/mp4", 100 * 1024 * 1024),)),
        [],
    ),
    Case(
        "video over 512 MB",
        PostContent(text="x", media=(item(MediaKind.VIDEO, "video/mp4", 513 * 1024 * 1024),)),
        ["media_too_large"],
    ),
    Case(
        "video under 0.5 s",
        PostContent(text="x", media=(item(MediaKind.VIDEO, "video/mp4", duration=0.4),)),
        ["video_too_short"],
    ),
    Case(
        "video 4:1",
        PostContent(text="x", media=(item(MediaKind.VIDEO, "video/mp4", width=1200, height=300),)),
        ["video_aspect_ratio"],
    ),
    Case(
        "a PDF",
        PostContent(text="x", media=(item(MediaKind.DOCUMENT, "application/pdf"),)),
        ["media_type"],
    ),
    Case("a BMP photo", PostContent(text="x", media=(item(mime="image/bmp"),)), ["media_type"]),
    Case("alt text 1,000", PostContent(text="x", media=(item(alt_text="a" * 1000),)), []),
    Case(
        "alt text 1,001",
        PostContent(text="x", media=(item(alt_text="a" * 1001),)),
        ["alt_text_too_long"],
    ),
    Case("two cashtags", PostContent(text="$TSLA and $AAPL"), ["too_many_cashtags"]),
    Case("one cashtag, prices", PostContent(text="$TSLA at $250"), []),
    Case("media without text", PostContent(text="", media=(item(),)), []),
    Case("empty", PostContent(text="  "), ["empty"]),
    Case("thread part too long", PostContent(text="one", thread=("b" * 281,)), ["text_too_long"]),
    Case("thread part empty", PostContent(text="one", thread=(" ",)), ["empty_part"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_validate(provider: XProvider, case: Case) -> None:
    problems = provider.validate(case.post, account(case.config))
    errors = [p.code for p in problems if p.severity == Severity.ERROR]
    assert errors == case.codes, [p.message for p in problems]


def test_alt_text_on_a_video_is_a_warning(provider: XProvider) -> None:
    post = PostContent(text="x", media=(item(MediaKind.VIDEO, "video/mp4", alt_text="A clip"),))
    [problem] = provider.validate(post, account())
    assert (problem.code, problem.severity) == ("alt_text_dropped", Severity.WARNING)


def test_limits_as_data(provider: XProvider, http: httpx.AsyncClient) -> None:
    limits = provider.limits
    assert (limits.max_text, limits.counting) == (280, "weighted")
    assert (limits.max_media, limits.max_images, limits.max_videos) == (4, 4, 1)
    assert (limits.alt_text, limits.threads, limits.idempotent_publish) == (True, True, False)
    assert limits.quota == (100, 900.0)
    assert limits.processing_timeout == 3600.0
    assert limits.max_video_duration == 140.0
    assert XProvider(http, plan="free").limits.quota == PLAN_QUOTAS["free"] == (17, 86400.0)
    with pytest.raises(ValueError, match="unknown X API plan"):
        XProvider(http, plan="enterprise-gold")


def test_text_length_is_x_weighted(provider: XProvider) -> None:
    assert provider.text_length("héllo 👋🏽 字 https://example.com/a/long/path", account()) == (
        6 + 2 + 1 + 2 + 1 + 23
    )


# -- publish: exact requests -----------------------------------------------------------------


async def test_a_text_post(provider: XProvider, router: respx.MockRouter) -> None:
    route = router.post("/2/tweets").mock(return_value=created("1445880548472328192", "Hello"))
    result = await provider.publish(PostContent(text="Hello"), account(), KEY)
    assert sent(router) == ["POST /2/tweets"]
    request = route.calls.last.request
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert body(request) == {"text": "Hello"}
    assert result.platform_id == "1445880548472328192"  # type: ignore[union-attr]
    assert result.url == "https://x.com/crier_test/status/1445880548472328192"  # type: ignore[union-attr]


async def test_an_image_post_with_alt_text(
    provider: XProvider, router: respx.MockRouter, tmp_path: Path
) -> None:
    upload = router.post("/2/media/upload").mock(
        side_effect=[uploaded("710511363345354753"), uploaded("710511363345354754")]
    )
    metadata = router.post("/2/media/metadata").respond(
        200, json={"data": {"id": "710511363345354753", "associated_metadata": {}}}
    )
    tweet = router.post("/2/tweets").mock(return_value=created("1500000000000000001"))
    post = PostContent(
        text="Two cats",
        media=(photo(tmp_path, "a.jpg", alt="A grey cat"), photo(tmp_path, "b.jpg")),
    )
    result = await provider.publish(post, account(), KEY)
    assert sent(router) == [
        "POST /2/media/upload",
        "POST /2/media/upload",
        "POST /2/media/metadata",
        "POST /2/tweets",
    ]
    fields = multipart(upload.calls[0].request)
    assert fields == {
        "media_category": (None, "text/plain", b"tweet_image"),
        "media": ("a.jpg", "image/jpeg", TINY_JPEG),
    }
    assert upload.calls[0].request.headers["authorization"] == f"Bearer {TOKEN}"
    assert body(metadata.calls.last.request) == {
        "id": "710511363345354753",
        "metadata": {"alt_text": {"text": "A grey cat"}},
    }
    assert body(tweet.calls.last.request) == {
        "text": "Two cats",
        "media": {"media_ids": ["710511363345354753", "710511363345354754"]},
    }
    assert result.platform_id == "1500000000000000001"  # type: ignore[union-attr]


async def test_a_thread_replies_to_each_part_before(
    provider: XProvider, router: respx.MockRouter
) -> None:
    tweet = router.post("/2/tweets").mock(side_effect=[created("11"), created("12"), created("13")])
    post = PostContent(text="One", thread=("Two", "Three"))
    result = await provider.publish(post, account(), KEY)
    assert [body(c.request) for c in tweet.calls] == [
        {"text": "One"},
        {"text": "Two", "reply": {"in_reply_to_tweet_id": "11"}},
        {"text": "Three", "reply": {"in_reply_to_tweet_id": "12"}},
    ]
    assert (result.platform_id, result.url) == ("11", "https://x.com/crier_test/status/11")  # type: ignore[union-attr]


async def test_a_link_without_the_username(provider: XProvider, router: respx.MockRouter) -> None:
    router.post("/2/tweets").mock(return_value=created("77"))
    bare = AccountRef(id=1, platform="x", label="", credentials={"access_token": TOKEN})
    result = await provider.publish(PostContent(text="Hi"), bare, KEY)
    assert result.url == "https://x.com/i/web/status/77"  # type: ignore[union-attr]


async def test_media_without_the_media_scope_means_reconnect(
    provider: XProvider, tmp_path: Path
) -> None:
    old = account(access_token=TOKEN, scope="tweet.read tweet.write users.read offline.access")
    with pytest.raises(AuthError, match="reconnect"):
        await provider.publish(PostContent(text="x", media=(photo(tmp_path),)), old, KEY)


async def test_no_token_means_reconnect(provider: XProvider) -> None:
    with pytest.raises(AuthError):
        await provider.publish(PostContent(text="x"), account(refresh_token="rt"), KEY)


# -- errors: one row per documented answer ---------------------------------------------------


def problem(status: int, title: str, detail: str, kind: str = "about:blank") -> dict[str, Any]:
    return {"title": title, "detail": detail, "type": kind, "status": status}


@dataclass
class ErrorCase:
    id: str
    answer: httpx.Response | Exception
    error: type[Exception]
    says: str = ""
    retry_after: float | None = None
    ambiguous: bool | None = None


ERRORS = [
    ErrorCase(
        "401 unauthorized",
        httpx.Response(401, json=problem(401, "Unauthorized", "Unauthorized")),
        AuthError,
        "Unauthorized",
    ),
    ErrorCase(
        "403 duplicate",
        httpx.Response(
            403,
            json=problem(
                403, "Forbidden", "You are not allowed to create a Tweet with duplicate content."
            ),
        ),
        PermanentError,
        "duplicate",
    ),
    ErrorCase(
        "403 not permitted",
        httpx.Response(
            403, json=problem(403, "Forbidden", "You are not permitted to perform this action.")
        ),
        PermanentError,
        "You are not permitted to perform this action.",
    ),
    ErrorCase(
        "403 client forbidden",
        httpx.Response(
            403,
            json={
                "client_id": "26924600",
                "detail": "When authenticating requests to the Twitter API v2 endpoints, you "
                "must use keys and tokens from a Twitter developer App that is attached to a "
                "Project.",
                "title": "Client Forbidden",
                "reason": "client-not-enrolled",
                "type": "https://api.twitter.com/2/problems/client-forbidden",
            },
        ),
        PermanentError,
        "attached to a Project",
    ),
    ErrorCase(
        "403 unsupported authentication",
        httpx.Response(
            403,
            json=problem(
                403,
                "Unsupported Authentication",
                "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.",
                "https://api.twitter.com/2/problems/unsupported-authentication",
            ),
        ),
        AuthError,
    ),
    ErrorCase(
        "402 out of credits",
        httpx.Response(
            402,
            json={
                "account_id": 1243608864848629761,
                "title": "CreditsDepleted",
                "detail": "Your enrolled account [1243608864848629761] does not have any credits "
                "to fulfill this request.",
                "type": "https://api.twitter.com/2/problems/credits",
            },
        ),
        PermanentError,
        "out of API credits",
    ),
    ErrorCase(
        "400 invalid request",
        httpx.Response(
            400,
            json={
                "errors": [
                    {
                        "parameters": {"media.media_ids": ["1"]},
                        "message": "Your media IDs are invalid.",
                    }
                ],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request",
            },
        ),
        PermanentError,
        "Your media IDs are invalid.",
    ),
    ErrorCase(
        "429 the 15-minute window",
        httpx.Response(
            429,
            json=problem(429, "Too Many Requests", "Too Many Requests"),
            headers={
                "x-rate-limit-limit": "100",
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(int(NOW) + 600),
            },
        ),
        RateLimited,
        retry_after=600,
    ),
    ErrorCase(
        "429 the user's day",
        httpx.Response(
            429,
            json=problem(429, "Too Many Requests", "Too Many Requests"),
            headers={
                "x-rate-limit-remaining": "97",
                "x-rate-limit-reset": str(int(NOW) + 600),
                "x-user-limit-24hour-limit": "100",
                "x-user-limit-24hour-remaining": "0",
                "x-user-limit-24hour-reset": str(int(NOW) + 50_000),
            },
        ),
        RateLimited,
        retry_after=50_000,
    ),
    ErrorCase(
        "429 v1.1 body, no headers",
        httpx.Response(429, json={"errors": [{"code": 88, "message": "Rate limit exceeded"}]}),
        RateLimited,
        "Rate limit exceeded",
        retry_after=900,
    ),
    ErrorCase(
        "500", httpx.Response(500, json=problem(500, "Internal Error", "Oops")), TransientError
    ),
    ErrorCase("503 html", httpx.Response(503, text="<html>upstream</html>"), TransientError),
    ErrorCase("connect error", httpx.ConnectError("refused"), TransientError, ambiguous=False),
    ErrorCase("read timeout", httpx.ReadTimeout("slow"), TransientError, ambiguous=True),
    ErrorCase("201 without data", httpx.Response(201, json={}), TransientError, ambiguous=True),
    ErrorCase(
        "201 with only errors",
        httpx.Response(201, json={"errors": [{"message": "Something refused"}]}),
        PermanentError,
        "Something refused",
    ),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c.id for c in ERRORS])
async def test_errors_map_to_their_class(
    provider: XProvider, router: respx.MockRouter, case: ErrorCase
) -> None:
    route = router.post("/2/tweets")
    if isinstance(case.answer, Exception):
        route.mock(side_effect=case.answer)
    else:
        route.mock(return_value=case.answer)
    with pytest.raises(case.error) as raised:
        await provider.publish(PostContent(text="Hello"), account(), KEY)
    error = raised.value
    assert type(error) is case.error
    assert case.says in str(error)
    assert TOKEN not in str(error)
    if case.retry_after is not None:
        assert isinstance(error, RateLimited)
        assert error.retry_after == pytest.approx(case.retry_after)
    if case.ambiguous is not None:
        assert isinstance(error, TransientError)
        assert error.ambiguous is case.ambiguous


async def test_a_lost_upload_answer_is_not_ambiguous(
    provider: XProvider, router: respx.MockRouter, tmp_path: Path
) -> None:
    router.post("/2/media/upload").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(TransientError) as raised:
        await provider.publish(PostContent(text="x", media=(photo(tmp_path),)), account(), KEY)
    assert raised.value.ambiguous is False
    assert "nothing was published" in str(raised.value)


async def test_a_thread_refused_midway_says_what_is_out(
    provider: XProvider, router: respx.MockRouter
) -> None:
    refused = httpx.Response(
        403, json=problem(403, "Forbidden", "You are not permitted to perform this action.")
    )
    router.post("/2/tweets").mock(side_effect=[created("21"), refused])
    with pytest.raises(PermanentError) as raised:
        await provider.publish(PostContent(text="One", thread=("Two", "Three")), account(), KEY)
    assert "The first 1 of 3 posts of the thread are out" in str(raised.value)
    assert "not permitted" in str(raised.value)
