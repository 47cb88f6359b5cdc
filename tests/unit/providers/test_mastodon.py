"""The Mastodon adapter: exact requests against documented answers (respx), then the whole
flow against the stateful fake server (tests/fakes/mastodon.py)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import default as email_policy
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from providers.base import AccountRef, MediaFile, MediaKind, PostContent
from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from providers.mastodon import MastodonProvider
from providers.mastodon_limits import (
    INSTANCE_URL_PATTERN,
    ServerLimits,
    normalize_instance_url,
    status_length,
)
from tests.contract.case_mastodon import media_json, status_json
from tests.contract.harness import TINY_JPEG
from tests.fakes.mastodon import FakeMastodon

SERVER = "https://mastodon.example"
TOKEN = "SECRET-token-abcdefghijklmnop"
NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
KEY = "target-7-occurrence-1"


class Sleeps(list[float]):
    """Records the pauses the adapter asked for instead of sleeping."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def account(config: dict[str, Any] | None = None, token: str = TOKEN) -> AccountRef:
    return AccountRef(
        id=1,
        platform="mastodon",
        label="@alice@mastodon.example",
        config={"instance_url": SERVER, "domain": "mastodon.example", **(config or {})},
        credentials={"access_token": token},
    )


def photo(tmp_path: Path, alt: str | None = None, name: str = "cat.jpg") -> MediaFile:
    path = tmp_path / name
    path.write_bytes(TINY_JPEG)
    return MediaFile(
        kind=MediaKind.PHOTO,
        mime="image/jpeg",
        size=len(TINY_JPEG),
        path=path,
        alt_text=alt,
        file_name=name,
    )


def sent(router: respx.MockRouter) -> list[str]:
    return [f"{c.request.method} {c.request.url.path}" for c in router.calls]


def multipart(request: httpx.Request) -> dict[str, tuple[str | None, str, bytes]]:
    """Field name -> (file name, content type, bytes) of a multipart/form-data body."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=email_policy).parsebytes(head + request.content)
    fields: dict[str, tuple[str | None, str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        fields[str(name)] = (part.get_filename(), part.get_content_type(), payload)
    return fields


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=SERVER, assert_all_called=True) as mock:
        yield mock


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def provider(http: httpx.AsyncClient, sleeps: Sleeps) -> MastodonProvider:
    return MastodonProvider(http, sleep=sleeps, now=lambda: NOW, max_processing_wait=10.0)


# -- publish: exact requests ---------------------------------------------------------------


@dataclass
class StatusCase:
    id: str
    config: dict[str, Any]
    expected_body: dict[str, Any]


STATUS_CASES = [
    StatusCase("defaults", {}, {"status": "Hello", "visibility": "public"}),
    StatusCase(
        "account settings",
        {"visibility": "unlisted", "content_warning": "Spoilers", "language": "de"},
        {"status": "Hello", "visibility": "unlisted", "spoiler_text": "Spoilers", "language": "de"},
    ),
]


@pytest.mark.parametrize("case", STATUS_CASES, ids=[c.id for c in STATUS_CASES])
async def test_text_post_sends_one_status_with_the_idempotency_key(
    provider: MastodonProvider, router: respx.MockRouter, case: StatusCase
) -> None:
    route = router.post("/api/v1/statuses").respond(200, json=status_json("1001"))
    result = await provider.publish(PostContent(text="Hello"), account(case.config), KEY)
    assert sent(router) == ["POST /api/v1/statuses"]
    request = route.calls.last.request
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["idempotency-key"] == KEY
    assert request.headers["content-type"] == "application/json"
    assert httpx.Response(200, content=request.content).json() == case.expected_body
    assert (result.platform_id, result.url) == ("1001", f"{SERVER}/@alice/1001")


async def test_image_is_uploaded_with_its_alt_text_as_description(
    provider: MastodonProvider, router: respx.MockRouter, tmp_path: Path
) -> None:
    upload = router.post("/api/v2/media").respond(200, json=media_json("501"))
    create = router.post("/api/v1/statuses").respond(200, json=status_json())
    post = PostContent(text="A cat", media=(photo(tmp_path, alt="A grey cat asleep"),))
    await provider.publish(post, account(), KEY)
    assert sent(router) == ["POST /api/v2/media", "POST /api/v1/statuses"]
    fields = multipart(upload.calls.last.request)
    assert fields == {
        "description": (None, "text/plain", b"A grey cat asleep"),
        "file": ("cat.jpg", "image/jpeg", TINY_JPEG),
    }
    assert upload.calls.last.request.headers["authorization"] == f"Bearer {TOKEN}"
    body = httpx.Response(200, content=create.calls.last.request.content).json()
    assert body["media_ids"] == ["501"]


async def test_no_description_field_without_alt_text(
    provider: MastodonProvider, router: respx.MockRouter, tmp_path: Path
) -> None:
    upload = router.post("/api/v2/media").respond(200, json=media_json("501"))
    router.post("/api/v1/statuses").respond(200, json=status_json())
    await provider.publish(PostContent(text="", media=(photo(tmp_path),)), account(), KEY)
    assert set(multipart(upload.calls.last.request)) == {"file"}


async def test_media_202_is_polled_until_ready(
    provider: MastodonProvider, router: respx.MockRouter, sleeps: Sleeps, tmp_path: Path
) -> None:
    router.post("/api/v2/media").respond(202, json=media_json("77", ready=False))
    router.get("/api/v1/media/77").mock(
        side_effect=[
            httpx.Response(206, json=media_json("77", ready=False)),
            httpx.Response(206, json=media_json("77", ready=False)),
            httpx.Response(200, json=media_json("77")),
        ]
    )
    create = router.post("/api/v1/statuses").respond(200, json=status_json())
    await provider.publish(PostContent(text="clip", media=(photo(tmp_path),)), account(), KEY)
    assert sent(router) == [
        "POST /api/v2/media",
        "GET /api/v1/media/77",
        "GET /api/v1/media/77",
        "GET /api/v1/media/77",
        "POST /api/v1/statuses",
    ]
    assert sleeps == [0.5, 1.0, 2.0]  # short, growing pauses
    body = httpx.Response(200, content=create.calls.last.request.content).json()
    assert body["media_ids"] == ["77"]


async def test_media_that_never_finishes_is_a_transient_error(
    provider: MastodonProvider, router: respx.MockRouter, sleeps: Sleeps, tmp_path: Path
) -> None:
    router.post("/api/v2/media").respond(202, json=media_json("77", ready=False))
    router.get("/api/v1/media/77").respond(206, json=media_json("77", ready=False))
    with pytest.raises(TransientError) as raised:
        await provider.publish(PostContent(text="x", media=(photo(tmp_path),)), account(), KEY)
    assert sum(sleeps) == pytest.approx(10.0)  # the cap, then give up
    assert max(sleeps) <= 5.0
    assert "POST /api/v1/statuses" not in sent(router)
    assert not raised.value.ambiguous  # nothing was published


async def test_servers_without_v2_media_get_v1(
    provider: MastodonProvider, router: respx.MockRouter, tmp_path: Path
) -> None:
    router.post("/api/v2/media").respond(404, json={"error": "Record not found"})
    router.post("/api/v1/media").respond(200, json=media_json("9"))
    router.post("/api/v1/statuses").respond(200, json=status_json())
    await provider.publish(PostContent(text="x", media=(photo(tmp_path),)), account(), KEY)
    assert sent(router) == ["POST /api/v2/media", "POST /api/v1/media", "POST /api/v1/statuses"]


# -- errors --------------------------------------------------------------------------------


@dataclass
class ErrorCase:
    id: str
    response: httpx.Response
    error: type[Exception]
    says: str = ""
    retry_after: float | None = None


ERROR_CASES = [
    ErrorCase(
        "401 revoked token",
        httpx.Response(401, json={"error": "The access token is invalid"}),
        AuthError,
        "The access token is invalid",
    ),
    ErrorCase(
        "403 missing scope",
        httpx.Response(403, json={"error": "This action is outside the authorized scopes"}),
        AuthError,
        "outside the authorized scopes",
    ),
    ErrorCase(
        "422 validation",
        httpx.Response(
            422, json={"error": "Validation failed: Text character limit of 500 exceeded"}
        ),
        PermanentError,
        "Validation failed: Text character limit of 500 exceeded",
    ),
    ErrorCase(
        "429 ISO 8601 reset",
        httpx.Response(
            429,
            json={"error": "Too many requests"},
            headers={
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": "2025-01-01T12:00:42.000000Z",
            },
        ),
        RateLimited,
        "Too many requests",
        retry_after=42.0,
    ),
    ErrorCase(
        "429 Retry-After wins",
        httpx.Response(
            429,
            json={"error": "Too many requests"},
            headers={"Retry-After": "30", "X-RateLimit-Reset": "2025-01-01T12:05:00Z"},
        ),
        RateLimited,
        retry_after=30.0,
    ),
    ErrorCase(
        "429 epoch reset (compatible servers)",
        httpx.Response(
            429,
            json={"error": "Throttled"},
            headers={"X-RateLimit-Reset": str(NOW.timestamp() + 90)},
        ),
        RateLimited,
        retry_after=90.0,
    ),
    ErrorCase(
        "429 without headers",
        httpx.Response(429, json={"error": "Too many requests"}),
        RateLimited,
        retry_after=300.0,
    ),
    ErrorCase(
        "500",
        httpx.Response(500, json={"error": "We're sorry, but something went wrong"}),
        TransientError,
        "something went wrong",
    ),
    ErrorCase(
        "503 with Retry-After",
        httpx.Response(503, json={"error": "Service unavailable"}, headers={"Retry-After": "120"}),
        RateLimited,
        "Service unavailable",
        retry_after=120.0,
    ),
    ErrorCase(
        "502 from the proxy, HTML",
        httpx.Response(502, text="<html><h1>502 Bad Gateway</h1></html>"),
        TransientError,
        "502",
    ),
]


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c.id for c in ERROR_CASES])
async def test_status_errors_map_to_provider_errors(
    provider: MastodonProvider, router: respx.MockRouter, case: ErrorCase
) -> None:
    router.post("/api/v1/statuses").mock(return_value=case.response)
    with pytest.raises(case.error) as raised:
        await provider.publish(PostContent(text="Hello"), account(), KEY)
    error = raised.value
    assert case.says in str(error)
    assert TOKEN not in str(error)
    if case.retry_after is not None:
        assert isinstance(error, RateLimited)
        assert error.retry_after == pytest.approx(case.retry_after)
    else:
        assert not isinstance(error, RateLimited)


@pytest.mark.parametrize(
    ("path", "ambiguous"),
    [("/api/v2/media", False), ("/api/v1/statuses", True)],
    ids=["upload lost: nothing published", "status lost: may be published"],
)
async def test_only_a_lost_status_request_is_ambiguous(
    http: httpx.AsyncClient, tmp_path: Path, path: str, ambiguous: bool
) -> None:
    provider = MastodonProvider(http)
    with respx.mock(base_url=SERVER, assert_all_called=False) as mock:
        mock.post("/api/v2/media").respond(200, json=media_json())
        mock.post("/api/v1/statuses").respond(200, json=status_json())
        mock.post(path).mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(TransientError) as raised:
            await provider.publish(PostContent(text="x", media=(photo(tmp_path),)), account(), KEY)
    assert raised.value.ambiguous is ambiguous


async def test_missing_token_is_an_auth_error_without_a_request(
    provider: MastodonProvider,
) -> None:
    with respx.mock(assert_all_mocked=True) as mock, pytest.raises(AuthError):
        await provider.publish(PostContent(text="x"), account(token=""), KEY)
    assert not mock.calls


# -- verify --------------------------------------------------------------------------------

ME = {"id": "109876", "username": "alice", "acct": "alice", "url": f"{SERVER}/@alice"}


def instance_v2(domain: str = "mastodon.example", **statuses: int) -> dict[str, Any]:
    return {
        "domain": domain,
        "configuration": {
            "statuses": {
                "max_characters": 500,
                "max_media_attachments": 4,
                "characters_reserved_per_url": 23,
                **statuses,
            },
            "media_attachments": {
                "supported_mime_types": ["image/jpeg", "image/png", "video/mp4"],
                "description_limit": 1500,
                "image_size_limit": 10485760,
                "image_matrix_limit": 16777216,
                "video_size_limit": 41943040,
                "video_frame_rate_limit": 60,
                "video_matrix_limit": 2073600,
            },
        },
    }


async def test_verify_reads_the_account_and_stores_the_servers_limits(
    provider: MastodonProvider, router: respx.MockRouter
) -> None:
    me = router.get("/api/v1/accounts/verify_credentials").respond(200, json=ME)
    router.get("/api/v2/instance").respond(
        200, json=instance_v2(max_characters=5000, max_media_attachments=8)
    )
    connect = AccountRef(
        id=0,
        platform="mastodon",
        label="",
        config={"instance_url": "Mastodon.Example/"},
        credentials={"access_token": f" {TOKEN} "},
    )
    verified = await provider.verify(connect)
    assert sent(router) == ["GET /api/v1/accounts/verify_credentials", "GET /api/v2/instance"]
    assert me.calls.last.request.headers["authorization"] == f"Bearer {TOKEN}"
    assert verified.label == "@alice@mastodon.example"
    assert verified.external_id == "mastodon.example:109876"
    assert verified.credentials == {"access_token": TOKEN}
    assert verified.config["instance_url"] == SERVER
    assert verified.config["limits"] == {
        "max_characters": 5000,
        "max_media_attachments": 8,
        "characters_reserved_per_url": 23,
        "image_size_limit": 10485760,
        "video_size_limit": 41943040,
        "description_limit": 1500,
        "supported_mime_types": ["image/jpeg", "image/png", "video/mp4"],
        "image_matrix_limit": 16777216,
        "video_matrix_limit": 2073600,
        "video_frame_rate_limit": 60,
    }
    limits = provider.limits_for(account(dict(verified.config)))
    assert (limits.max_text, limits.max_media, limits.alt_text) == (5000, 8, True)
    assert limits.max_bytes[MediaKind.PHOTO] == 10485760
    assert (limits.max_image_pixels, limits.max_video_pixels, limits.max_video_fps) == (
        16777216,
        2073600,
        60.0,
    )


def test_frame_limits_default_to_mastodons_when_not_published() -> None:
    """Mastodon 3.4+ publishes them; for other servers, and accounts connected before
    Crier stored them, Mastodon's own limits apply, as for every other limit."""
    pleroma = ServerLimits.from_instance({"uri": "pleroma.example", "upload_limit": 16_000_000})
    stored_earlier = ServerLimits.from_config({"max_characters": 500})
    for limits in (pleroma.to_limits(), stored_earlier.to_limits()):
        assert limits.max_image_pixels == 7680 * 4320
        assert limits.max_video_pixels == 3840 * 2160
        assert limits.max_video_fps == 120.0


@dataclass
class InstanceCase:
    id: str
    routes: dict[str, httpx.Response]
    max_characters: int
    label: str = "@alice@mastodon.example"
    calls: list[str] = field(default_factory=list)


INSTANCE_CASES = [
    InstanceCase(
        "v1 when v2 is missing (Mastodon < 4.0)",
        {
            "/api/v2/instance": httpx.Response(404, json={"error": "Record not found"}),
            "/api/v1/instance": httpx.Response(
                200, json={"uri": "mastodon.example", **instance_v2(max_characters=1000)}
            ),
        },
        1000,
    ),
    InstanceCase(
        "Pleroma's max_toot_chars",
        {
            "/api/v2/instance": httpx.Response(404, json={"error": "Not found"}),
            "/api/v1/instance": httpx.Response(
                200, json={"uri": "https://pleroma.example", "max_toot_chars": 5000}
            ),
        },
        5000,
        label="@alice@pleroma.example",
    ),
    InstanceCase(
        "defaults when neither answers",
        {
            "/api/v2/instance": httpx.Response(404, json={"error": "Not found"}),
            "/api/v1/instance": httpx.Response(404, text="not here"),
        },
        500,
    ),
    InstanceCase(
        "handle domain differs from the API host",
        {"/api/v2/instance": httpx.Response(200, json=instance_v2(domain="example.com"))},
        500,
        label="@alice@example.com",
    ),
]


@pytest.mark.parametrize("case", INSTANCE_CASES, ids=[c.id for c in INSTANCE_CASES])
async def test_verify_falls_back_for_older_and_other_servers(
    provider: MastodonProvider, router: respx.MockRouter, case: InstanceCase
) -> None:
    router.get("/api/v1/accounts/verify_credentials").respond(200, json=ME)
    for path, response in case.routes.items():
        router.get(path).mock(return_value=response)
    verified = await provider.verify(account())
    assert verified.config["limits"]["max_characters"] == case.max_characters
    assert verified.label == case.label
    assert verified.external_id == "mastodon.example:109876"  # the server we talk to


async def test_verify_with_a_revoked_token_is_an_auth_error(
    provider: MastodonProvider, router: respx.MockRouter
) -> None:
    router.get("/api/v1/accounts/verify_credentials").respond(
        401, json={"error": "The access token is invalid"}
    )
    with pytest.raises(AuthError) as raised:
        await provider.verify(account())
    assert "The access token is invalid" in str(raised.value)
    assert TOKEN not in str(raised.value)


async def test_verify_refuses_plain_http_to_another_host(provider: MastodonProvider) -> None:
    with respx.mock(assert_all_mocked=True) as mock, pytest.raises(PermanentError) as raised:
        await provider.verify(account({"instance_url": "http://mastodon.example"}))
    assert "https://" in str(raised.value)
    assert not mock.calls  # the token never travelled in the clear


@pytest.mark.parametrize(
    ("typed", "url"),
    [
        ("mastodon.social", "https://mastodon.social"),
        ("https://Mastodon.Social/", "https://mastodon.social"),
        ("https://mastodon.social/@alice", "https://mastodon.social"),
        ("https://social.example:8443", "https://social.example:8443"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
    ],
)
def test_instance_url_is_normalized(typed: str, url: str) -> None:
    assert normalize_instance_url(typed) == url


@pytest.mark.parametrize(
    "typed", ["http://mastodon.social", "http://10.0.0.5", "ftp://mastodon.social", "", "https://"]
)
def test_instance_url_refuses_unsafe_or_broken_addresses(typed: str) -> None:
    with pytest.raises(PermanentError):
        normalize_instance_url(typed)


@pytest.mark.parametrize(
    ("typed", "matches"),
    [
        ("https://mastodon.social", True),
        ("mastodon.social", True),
        ("fosstodon.org/", True),
        ("http://localhost:3000", True),
        ("http://mastodon.social", False),
        ("@alice@mastodon.social", False),
        ("https://mastodon.social/@alice", False),
    ],
)
def test_connect_field_pattern(typed: str, matches: bool) -> None:
    assert bool(re.fullmatch(INSTANCE_URL_PATTERN, typed)) is matches
    field_ = MastodonProvider.connect_fields[0]
    assert (field_.key, field_.pattern) == ("instance_url", INSTANCE_URL_PATTERN)
    token = MastodonProvider.connect_fields[1]
    assert (token.key, token.secret) == ("access_token", True)
    for needed in ("read:accounts", "write:statuses", "write:media", "Your access token"):
        assert needed in token.prompt


# -- counting and validate -----------------------------------------------------------------

LONG_URL = "https://example.com/" + "a" * 80  # 100 characters, counted as 23


@pytest.mark.parametrize(
    ("text", "spoiler", "length"),
    [
        ("hello", "", 5),
        (LONG_URL, "", 23),
        (f"see {LONG_URL}.", "", 4 + 23 + 1),
        ("https://a.co", "", 23),  # short links count 23 as well
        ("(https://en.wikipedia.org/wiki/Mastodon_(software))", "", 25),
        ("hi @alice@a-very-long-server-name.example", "", len("hi @alice")),
        ("hi @bob", "", 7),
        ("mail a@b.example", "", 16),  # not a mention
        ("👨‍👩‍👧 ok", "", 4),  # one grapheme
        ("body", "CW", 6),  # the content warning counts too
    ],
)
def test_status_length_counts_like_mastodon(text: str, spoiler: str, length: int) -> None:
    assert status_length(text, spoiler) == length


def test_a_url_counts_as_23(provider: MastodonProvider) -> None:
    fits = "a" * 476 + " " + LONG_URL  # 577 characters, 500 as Mastodon counts
    assert not provider.validate(PostContent(text=fits), account())
    problems = provider.validate(PostContent(text="a" + fits), account())
    assert [p.code for p in problems] == ["text_too_long"]
    assert "Text is 501 characters" in problems[0].message
    assert "each link counts as 23" in problems[0].message


def test_limits_come_from_the_account_config(provider: MastodonProvider) -> None:
    text = PostContent(text="a" * 1000)
    big = account({"limits": ServerLimits(max_characters=5000).to_config()})
    assert not provider.validate(text, big)
    assert [p.code for p in provider.validate(text, account())] == ["text_too_long"]


def test_content_warning_counts_against_the_limit(provider: MastodonProvider) -> None:
    post = PostContent(text="a" * 495)
    assert not provider.validate(post, account())
    problems = provider.validate(post, account({"content_warning": "Politics"}))
    assert [p.code for p in problems] == ["text_too_long"]
    assert "content warning" in problems[0].message


def _item(kind: MediaKind, mime: str, size: int = 1000, alt: str | None = None) -> MediaFile:
    return MediaFile(kind=kind, mime=mime, size=size, alt_text=alt)


@pytest.mark.parametrize(
    ("media", "codes"),
    [
        ((_item(MediaKind.PHOTO, "image/jpeg"),) * 4, set()),
        ((_item(MediaKind.PHOTO, "image/jpeg"),) * 5, {"too_many_media", "too_many_images"}),
        (
            (_item(MediaKind.PHOTO, "image/jpeg"), _item(MediaKind.VIDEO, "video/mp4")),
            {"mixed_media"},
        ),
        ((_item(MediaKind.VIDEO, "video/mp4"),) * 2, {"too_many_videos"}),
        ((_item(MediaKind.DOCUMENT, "application/pdf"),), {"media_type"}),
        ((_item(MediaKind.PHOTO, "image/jpeg", size=17 * 1024 * 1024),), {"media_too_large"}),
        ((_item(MediaKind.DOCUMENT, "image/png", size=17 * 1024 * 1024),), {"media_too_large"}),
        ((_item(MediaKind.PHOTO, "image/jpeg", alt="x" * 1501),), {"alt_text_too_long"}),
    ],
    ids=[
        "four photos",
        "five photos",
        "photo and video",
        "two videos",
        "pdf",
        "huge photo",
        "huge image document",
        "long alt text",
    ],
)
def test_validate_media(
    provider: MastodonProvider, media: tuple[MediaFile, ...], codes: set[str]
) -> None:
    problems = provider.validate(PostContent(text="hi", media=media), account())
    assert {p.code for p in problems} == codes


# -- against the stateful fake ------------------------------------------------------------


@pytest.fixture
async def fake_http() -> AsyncIterator[tuple[FakeMastodon, httpx.AsyncClient]]:
    fake = FakeMastodon(domain="mastodon.example")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)) as client:
        yield fake, client


async def _connect(provider: MastodonProvider, fake: FakeMastodon) -> AccountRef:
    verified = await provider.verify(
        AccountRef(
            id=0,
            platform="mastodon",
            label="",
            config={"instance_url": SERVER},
            credentials={"access_token": fake.token},
        )
    )
    return AccountRef(
        id=5,
        platform="mastodon",
        label=verified.label,
        config=verified.config,
        credentials=verified.credentials or {},
    )


async def test_fake_image_post_with_processing_and_alt_text(
    fake_http: tuple[FakeMastodon, httpx.AsyncClient], sleeps: Sleeps, tmp_path: Path
) -> None:
    fake, client = fake_http
    fake.processing_polls = 2
    provider = MastodonProvider(client, sleep=sleeps)
    connected = await _connect(provider, fake)
    assert connected.label == "@crier@mastodon.example"
    post = PostContent(text="A cat", media=(photo(tmp_path, alt="A grey cat"),))
    result = await provider.publish(post, connected, KEY)
    [status] = fake.statuses
    assert result.platform_id == status.id
    assert result.url == fake.status_url(status.id)
    assert [(m.description, m.data, m.mime) for m in status.media] == [
        ("A grey cat", TINY_JPEG, "image/jpeg")
    ]
    assert status.idempotency_key == KEY
    poll = f"/api/v1/media/{status.media[0].id}"
    assert [r.path for r in fake.requests][-5:] == [
        "/api/v2/media",
        poll,  # 206
        poll,  # 206
        poll,  # 200
        "/api/v1/statuses",
    ]
    assert sleeps == [0.5, 1.0, 2.0]


async def test_fake_deduplicates_a_repeated_publish(
    fake_http: tuple[FakeMastodon, httpx.AsyncClient],
) -> None:
    fake, client = fake_http
    provider = MastodonProvider(client)
    connected = await _connect(provider, fake)
    assert provider.limits_for(connected).idempotent_publish
    first = await provider.publish(PostContent(text="Once"), connected, KEY)
    again = await provider.publish(PostContent(text="Once"), connected, KEY)
    assert again == first
    assert len(fake.statuses) == 1
    other = await provider.publish(PostContent(text="Once"), connected, "another-key")
    assert other.platform_id != first.platform_id
    # Mastodon forgets keys after an hour.
    fake.advance(3601)
    later = await provider.publish(PostContent(text="Once"), connected, KEY)
    assert later.platform_id != first.platform_id
    assert len(fake.statuses) == 3


@pytest.mark.parametrize(("max_characters", "accepted"), [(5000, True), (500, False)])
async def test_fake_server_limits_decide_what_validates_and_publishes(
    max_characters: int, accepted: bool
) -> None:
    fake = FakeMastodon(max_characters=max_characters)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)) as client:
        provider = MastodonProvider(client)
        connected = await _connect(provider, fake)
        post = PostContent(text="word " * 200)  # 1000 characters
        assert (not provider.validate(post, connected)) is accepted
        if accepted:
            await provider.publish(post, connected, KEY)
            assert len(fake.statuses) == 1
        else:
            with pytest.raises(PermanentError) as raised:
                await provider.publish(post, connected, KEY)
            assert "character limit of 500 exceeded" in str(raised.value)
            assert not fake.statuses


async def test_fake_agrees_on_url_counting(
    fake_http: tuple[FakeMastodon, httpx.AsyncClient],
) -> None:
    fake, client = fake_http
    provider = MastodonProvider(client)
    connected = await _connect(provider, fake)
    post = PostContent(text="a" * 476 + " " + LONG_URL)
    assert not provider.validate(post, connected)
    await provider.publish(post, connected, KEY)
    assert fake.statuses[0].text == post.text


async def test_fake_revoked_token_and_throttling(
    fake_http: tuple[FakeMastodon, httpx.AsyncClient], tmp_path: Path
) -> None:
    fake, client = fake_http
    fake.media_rate_limit = (1, 1800.0)
    provider = MastodonProvider(client)
    connected = await _connect(provider, fake)
    post = PostContent(text="x", media=(photo(tmp_path),))
    await provider.publish(post, connected, "k1")
    with pytest.raises(RateLimited) as raised:
        await provider.publish(post, connected, "k2")
    assert raised.value.retry_after == pytest.approx(1800, abs=5)
    fake.valid_tokens.clear()
    with pytest.raises(AuthError):
        await provider.publish(PostContent(text="x"), connected, "k3")


async def test_fake_fail_next_answers_once(
    fake_http: tuple[FakeMastodon, httpx.AsyncClient],
) -> None:
    fake, client = fake_http
    provider = MastodonProvider(client)
    connected = await _connect(provider, fake)
    fake.fail_next("/api/v1/statuses", 503, headers={"Retry-After": "60"})
    with pytest.raises(RateLimited) as raised:
        await provider.publish(PostContent(text="x"), connected, KEY)
    assert raised.value.retry_after == 60
    await provider.publish(PostContent(text="x"), connected, KEY)
    assert len(fake.statuses) == 1


async def test_fake_served_over_real_http(tmp_path: Path) -> None:
    async with FakeMastodon(processing_polls=1) as fake, httpx.AsyncClient() as client:
        provider = MastodonProvider(client, poll_first_delay=0.01)
        verified = await provider.verify(
            AccountRef(
                id=0,
                platform="mastodon",
                label="",
                config={"instance_url": fake.base_url},
                credentials={"access_token": fake.token},
            )
        )
        connected = AccountRef(
            id=1,
            platform="mastodon",
            label="",
            config=verified.config,
            credentials={"access_token": fake.token},
        )
        post = PostContent(text="Over the wire", media=(photo(tmp_path, alt="alt"),))
        result = await provider.publish(post, connected, KEY)
    assert verified.external_id == f"127.0.0.1:{fake.base_url.rsplit(':', 1)[1]}:{fake.account_id}"
    assert result.url == fake.status_url(fake.statuses[0].id)
    assert fake.media[0].description == "alt"


async def test_fake_refuses_media_still_processing_and_too_many_files(
    fake_http: tuple[FakeMastodon, httpx.AsyncClient],
) -> None:
    """Why the adapter polls: Mastodon will not attach a file it has not finished."""
    fake, client = fake_http
    fake.processing_polls = 1
    auth = {"Authorization": f"Bearer {fake.token}"}
    upload = await client.post(
        f"{SERVER}/api/v2/media",
        headers=auth,
        files={"file": ("a.jpg", TINY_JPEG, "image/jpeg")},
        data={"description": "A"},
    )
    assert (upload.status_code, upload.json()["url"]) == (202, None)
    media_id = upload.json()["id"]
    early = await client.post(
        f"{SERVER}/api/v1/statuses", headers=auth, data={"status": "x", "media_ids[]": media_id}
    )
    assert early.status_code == 422
    assert early.json() == {
        "error": "Cannot attach files that have not finished processing. Try again in a moment!"
    }
    too_many = await client.post(
        f"{SERVER}/api/v1/statuses", headers=auth, json={"status": "x", "media_ids": ["1"] * 5}
    )
    assert too_many.json() == {"error": "Cannot attach more than 4 files"}
    assert not fake.statuses
