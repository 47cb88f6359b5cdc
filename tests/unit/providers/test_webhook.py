"""The generic webhook: the signed request, the answers understood, the errors mapped.

The reference `verify_signature` below is the recipe of docs/WEBHOOK.md, written out the
way a receiver would; every signed request the adapter sends must pass it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from providers.base import AccountRef, MediaFile, MediaKind, PostContent
from providers.errors import (
    AuthError,
    PermanentError,
    ProviderError,
    RateLimited,
    TransientError,
)
from providers.webhook import WebhookProvider, sign
from tests.fakes.webhook_receiver import WebhookReceiver

NOW = 1_790_000_000  # a fixed clock, unix seconds
URL_TOKEN = "tok_3a9c1f77e0b24d5e8f61"
URL = f"https://hooks.example.com/in/{URL_TOKEN}"
SECRET = "5e" * 32


def verify_signature(
    secret: str, timestamp: str, body: bytes, header: str, *, now: float, tolerance: int = 300
) -> bool:
    """What a receiver does: recompute the HMAC over "<timestamp>.<body>", refuse stale ones."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    signed = timestamp.encode() + b"." + body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


def account(url: str = URL, secret: str = SECRET, **config: Any) -> AccountRef:
    return AccountRef(
        id=5,
        platform="webhook",
        label="Webhook (hooks.example.com)",
        config={"host": "hooks.example.com", "media_mode": "inline"} | config,
        credentials={"url": url, "signing_secret": secret},
    )


def provider(http: httpx.AsyncClient, **settings: Any) -> WebhookProvider:
    return WebhookProvider(http, clock=lambda: NOW, **settings)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def image(tmp_path: Path) -> MediaFile:
    path = tmp_path / "0b1c2d3e"
    path.write_bytes(b"\x89PNG-bytes")
    return MediaFile(
        kind=MediaKind.PHOTO,
        mime="image/png",
        size=10,
        path=path,
        width=640,
        height=480,
        alt_text="A lighthouse",
        file_name="lighthouse.png",
    )


# -- the signature -----------------------------------------------------------------------------


def test_sign_matches_the_documented_test_vector() -> None:
    # The vector printed in docs/WEBHOOK.md (checked there with openssl and Node too).
    body = b'{"type":"crier.ping","id":"ping-1"}'
    assert sign("whsec_test", 1700000000, body) == (
        "sha256=785748d52000803c2f61d46cb84664bc67bdb192af8c8ee8c9e04c47e1ec2ff3"
    )
    assert verify_signature(
        "whsec_test", "1700000000", body, sign("whsec_test", 1700000000, body), now=1700000100
    )


async def test_requests_are_signed_the_documented_way(
    http: httpx.AsyncClient, router: respx.MockRouter, image: MediaFile
) -> None:
    route = router.post(URL).mock(return_value=httpx.Response(204))
    await provider(http).publish(PostContent(text="Hi", media=(image,)), account(), "key-1")
    request = route.calls.last.request
    timestamp = request.headers["x-crier-timestamp"]
    header = request.headers["x-crier-signature"]
    body = request.content

    assert timestamp == str(NOW)
    assert re.fullmatch(r"sha256=[0-9a-f]{64}", header)
    assert verify_signature(SECRET, timestamp, body, header, now=NOW + 60)
    # A tampered body, another secret, a replay six minutes later or a moved timestamp fail.
    assert not verify_signature(SECRET, timestamp, body.replace(b"Hi", b"Ha"), header, now=NOW)
    assert not verify_signature("0" * 64, timestamp, body, header, now=NOW)
    assert not verify_signature(SECRET, timestamp, body, header, now=NOW + 360)
    assert not verify_signature(SECRET, str(NOW + 1), body, header, now=NOW)


# -- publish: the exact request -----------------------------------------------------------------


async def test_publish_posts_the_documented_event(
    http: httpx.AsyncClient, router: respx.MockRouter, image: MediaFile
) -> None:
    route = router.post(URL).mock(return_value=httpx.Response(204))
    post = PostContent(
        text="Ünïcode text",
        media=(image,),
        post_id=31,
        scheduled_at=datetime(2026, 5, 1, 9, 30, tzinfo=UTC),
    )
    await provider(http).publish(post, account(), "key-31")

    request = route.calls.last.request
    assert request.method == "POST"
    assert request.url == httpx.URL(URL)
    assert {k: request.headers[k] for k in ("content-type", "user-agent", "idempotency-key")} == {
        "content-type": "application/json",
        "user-agent": "Crier-Webhook/1",
        "idempotency-key": "key-31",
    }
    assert json.loads(request.content) == {
        "type": "crier.post",
        "id": "key-31",
        "post_id": 31,
        "scheduled_at": "2026-05-01T09:30:00Z",
        "text": "Ünïcode text",
        "media": [
            {
                "kind": "photo",
                "mime": "image/png",
                "size": 10,
                "width": 640,
                "height": 480,
                "duration": None,
                "alt_text": "A lighthouse",
                "file_name": "lighthouse.png",
                "data_base64": base64.b64encode(b"\x89PNG-bytes").decode(),
            }
        ],
    }
    # UTF-8 on the wire, not \\u escapes: the signed bytes are the bytes receivers read.
    assert "Ünïcode".encode() in request.content


async def test_a_zoneless_schedule_is_utc(
    http: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    route = router.post(URL).mock(return_value=httpx.Response(204))
    post = PostContent(text="hi", scheduled_at=datetime(2026, 5, 1, 9, 30))  # noqa: DTZ001
    await provider(http).publish(post, account(), "k")
    assert json.loads(route.calls.last.request.content)["scheduled_at"] == "2026-05-01T09:30:00Z"


@pytest.mark.parametrize(
    ("config", "settings", "expected"),
    [
        ({"media_mode": "urls", "media_base_url": "https://media.example/m/"}, {}, "url"),
        ({"media_mode": "urls"}, {"media_base_url": "https://media.example/m"}, "url"),
        # No public media server: "urls" falls back to inline.
        ({"media_mode": "urls"}, {}, "data_base64"),
        ({"media_mode": "inline", "media_base_url": "https://media.example/m"}, {}, "data_base64"),
    ],
    ids=["account-base", "operator-base", "no-base", "inline"],
)
async def test_media_modes(
    http: httpx.AsyncClient,
    router: respx.MockRouter,
    image: MediaFile,
    config: dict[str, Any],
    settings: dict[str, Any],
    expected: str,
) -> None:
    route = router.post(URL).mock(return_value=httpx.Response(204))
    adapter = provider(http, **settings)
    await adapter.publish(PostContent(text="hi", media=(image,)), account(**config), "k")
    (item,) = json.loads(route.calls.last.request.content)["media"]
    assert expected in item
    if expected == "url":
        assert item["url"] == "https://media.example/m/0b1c2d3e"
        assert "data_base64" not in item
        assert adapter.limits_for(account(**config)).max_bytes == {}  # no inline cap
    else:
        assert adapter.limits_for(account(**config)).max_bytes[MediaKind.PHOTO] == 20_000_000


@pytest.mark.parametrize(
    ("answer", "platform_id", "url"),
    [
        (
            httpx.Response(201, json={"id": "p-9", "url": "https://blog.example/p/9"}),
            "p-9",
            "https://blog.example/p/9",
        ),
        (httpx.Response(200, json={"id": 9}), "9", None),
        (
            httpx.Response(200, json={"url": "http://intranet.example/9"}),
            "key-9",
            "http://intranet.example/9",
        ),
        (httpx.Response(200, json={"id": "p-9", "url": "javascript:alert(1)"}), "p-9", None),
        (httpx.Response(200, json={"id": True, "url": ["x"]}), "key-9", None),
        (httpx.Response(200, json=["p-9"]), "key-9", None),
        (httpx.Response(200, text="OK"), "key-9", None),
        (httpx.Response(202, text=""), "key-9", None),
        (httpx.Response(204), "key-9", None),
    ],
    ids=[
        "id-and-url",
        "numeric-id",
        "url-only",
        "not-a-web-url",
        "odd-types",
        "json-list",
        "plain-text",
        "empty-202",
        "no-content",
    ],
)
async def test_any_2xx_is_success_and_id_and_url_come_from_json(
    http: httpx.AsyncClient,
    router: respx.MockRouter,
    answer: httpx.Response,
    platform_id: str,
    url: str | None,
) -> None:
    router.post(URL).mock(return_value=answer)
    result = await provider(http).publish(PostContent(text="hi"), account(), "key-9")
    assert (result.platform_id, result.url) == (platform_id, url)


# -- errors ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorCase:
    response: httpx.Response
    error: type[ProviderError]
    says: str
    retry_after: float | None = None


ERRORS: dict[str, ErrorCase] = {
    "401": ErrorCase(
        httpx.Response(401, json={"error": "bad signature"}), AuthError, "signing secret"
    ),
    "403": ErrorCase(httpx.Response(403, text="Forbidden"), AuthError, "HTTP 403"),
    "429 with Retry-After": ErrorCase(
        httpx.Response(429, headers={"Retry-After": "30"}, text="slow down"),
        RateLimited,
        "slow down",
        retry_after=30,
    ),
    "500": ErrorCase(httpx.Response(500, text="boom"), TransientError, "server error (500)"),
    "503 html": ErrorCase(
        httpx.Response(503, text="<html><body><h1>Service Unavailable</h1></body></html>"),
        TransientError,
        "Service Unavailable",
    ),
    "404": ErrorCase(httpx.Response(404, text="no such hook"), PermanentError, "no such hook"),
    "422 json message": ErrorCase(
        httpx.Response(422, json={"message": "text is required", "trace": "x" * 500}),
        PermanentError,
        "hooks.example.com rejected the post: text is required",
    ),
    "400 echoing the URL and secret": ErrorCase(
        httpx.Response(400, text=f"bad call {URL} signed with {SECRET}"),
        PermanentError,
        "bad call [redacted] signed with [redacted]",
    ),
    "301 redirect": ErrorCase(
        httpx.Response(301, headers={"Location": "https://elsewhere.example/"}),
        PermanentError,
        "redirect",
    ),
}


@pytest.mark.parametrize("case", ERRORS.values(), ids=ERRORS.keys())
async def test_errors_map_and_hide_secrets(
    http: httpx.AsyncClient, router: respx.MockRouter, case: ErrorCase
) -> None:
    router.post(URL).mock(return_value=case.response)
    with pytest.raises(case.error) as raised:
        await provider(http).publish(PostContent(text="hi"), account(), "k")
    said = str(raised.value)
    assert case.says in said
    for secret in (URL, URL_TOKEN, SECRET):
        assert secret not in said
    if case.retry_after is not None:
        assert raised.value.retry_after == case.retry_after  # type: ignore[attr-defined]


async def test_a_long_error_body_is_cut_short(
    http: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    router.post(URL).mock(return_value=httpx.Response(400, text="why " * 500))
    with pytest.raises(PermanentError) as raised:
        await provider(http).publish(PostContent(text="hi"), account(), "k")
    assert len(str(raised.value)) < 260
    assert str(raised.value).endswith("…")


@pytest.mark.parametrize(
    ("failure", "ambiguous"),
    [(httpx.ConnectError("refused"), False), (httpx.ReadTimeout("slow"), True)],
)
async def test_network_failures(
    http: httpx.AsyncClient, router: respx.MockRouter, failure: Exception, ambiguous: bool
) -> None:
    router.post(URL).mock(side_effect=failure)
    with pytest.raises(TransientError) as raised:
        await provider(http).publish(PostContent(text="hi"), account(), "k")
    assert raised.value.ambiguous is ambiguous
    assert URL_TOKEN not in str(raised.value)


async def test_no_stored_secret_means_reconnect(
    http: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    with pytest.raises(AuthError, match="reconnect"):
        await provider(http).publish(PostContent(text="hi"), account(secret=""), "k")
    assert not router.calls


# -- verify ------------------------------------------------------------------------------------


async def test_verify_pings_and_hands_back_a_new_secret(
    http: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    route = router.post(URL).mock(return_value=httpx.Response(200, text="pong"))
    probe = AccountRef(
        id=0, platform="webhook", label="Webhook", config={}, credentials={"url": URL}
    )
    verified = await provider(http).verify(probe)

    secret = verified.credentials["signing_secret"]  # type: ignore[index]
    assert re.fullmatch(r"[0-9a-f]{64}", secret)  # 32 random bytes, hex
    assert verified.credentials == {"url": URL, "signing_secret": secret}
    assert verified.label == "Webhook (hooks.example.com)"
    assert verified.config == {"host": "hooks.example.com", "media_mode": "inline"}
    assert URL_TOKEN not in verified.external_id + verified.label + json.dumps(
        dict(verified.config)
    )

    request = route.calls.last.request
    ping = json.loads(request.content)
    assert ping["type"] == "crier.ping"
    assert ping["id"] == request.headers["idempotency-key"]
    assert ping["sent_at"] == datetime.fromtimestamp(NOW, UTC).isoformat().replace("+00:00", "Z")
    assert verify_signature(
        secret,
        request.headers["x-crier-timestamp"],
        request.content,
        request.headers["x-crier-signature"],
        now=NOW,
    )


async def test_verify_keeps_a_secret_the_user_brings_and_the_media_mode(
    http: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    router.post(URL).mock(return_value=httpx.Response(204))
    probe = AccountRef(
        id=0,
        platform="webhook",
        label="Webhook",
        config={"media_mode": "URLs"},
        credentials={"url": URL, "signing_secret": "my-existing-secret-123"},
    )
    verified = await provider(http).verify(probe)
    assert verified.credentials == {"url": URL, "signing_secret": "my-existing-secret-123"}
    assert verified.config["media_mode"] == "urls"


@pytest.mark.parametrize(
    ("answer", "error", "says"),
    [
        (
            httpx.Response(404),
            PermanentError,
            "answered HTTP 404 to Crier's test event. Is the URL",
        ),
        (httpx.Response(401), PermanentError, "crier.ping"),
        (httpx.Response(500), PermanentError, "HTTP 500"),
        (httpx.ConnectError("nope"), TransientError, "Could not reach hooks.example.com: is the"),
    ],
    ids=["404", "401", "500", "unreachable"],
)
async def test_verify_explains_failures(
    http: httpx.AsyncClient,
    router: respx.MockRouter,
    answer: httpx.Response | Exception,
    error: type[ProviderError],
    says: str,
) -> None:
    route = router.post(URL)
    if isinstance(answer, Exception):
        route.mock(side_effect=answer)
    else:
        route.mock(return_value=answer)
    probe = AccountRef(id=0, platform="webhook", label="Webhook", credentials={"url": URL})
    with pytest.raises(error) as raised:
        await provider(http).verify(probe)
    assert says in str(raised.value)
    assert URL_TOKEN not in str(raised.value)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://hooks.example.com/in", True),
        ("http://localhost:8080/hook", True),
        ("http://127.0.0.1:8080/hook", True),
        ("http://[::1]:8080/hook", True),
        ("http://crier.localhost/hook", True),
        ("http://hooks.example.com/in", False),
        ("ftp://hooks.example.com/in", False),
        ("hooks.example.com/in", False),
        ("", False),
    ],
)
async def test_https_only_except_on_this_machine(
    http: httpx.AsyncClient, router: respx.MockRouter, url: str, allowed: bool
) -> None:
    router.post(url__regex=".*").mock(return_value=httpx.Response(204))
    probe = AccountRef(id=0, platform="webhook", label="Webhook", credentials={"url": url})
    if allowed:
        await provider(http).verify(probe)
    else:
        with pytest.raises(PermanentError, match="https://"):
            await provider(http).verify(probe)
        assert not router.calls


async def test_a_bad_media_mode_is_refused(
    http: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    probe = AccountRef(
        id=0,
        platform="webhook",
        label="Webhook",
        config={"media_mode": "links"},
        credentials={"url": URL},
    )
    with pytest.raises(PermanentError, match="inline"):
        await provider(http).verify(probe)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://10.0.0.5/hook", False),
        ("https://169.254.169.254/latest", False),
        ("https://[fd00::1]/hook", False),
        ("http://localhost:8080/hook", False),
        ("https://93.184.215.14/hook", True),
    ],
)
async def test_public_instances_can_refuse_private_addresses(
    http: httpx.AsyncClient, router: respx.MockRouter, url: str, allowed: bool
) -> None:
    router.post(url__regex=".*").mock(return_value=httpx.Response(204))
    adapter = provider(http, block_private_hosts=True)
    if allowed:
        await adapter.publish(PostContent(text="hi"), account(url), "k")
    else:
        with pytest.raises(PermanentError, match="private network"):
            await adapter.publish(PostContent(text="hi"), account(url), "k")
        assert not router.calls


async def test_verify_says_why_a_private_address_is_refused(
    http: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    probe = AccountRef(
        id=0, platform="webhook", label="Webhook", credentials={"url": "https://10.1.2.3/x"}
    )
    with pytest.raises(PermanentError, match="private network"):
        await provider(http, block_private_hosts=True).verify(probe)
    assert not router.calls


# -- limits ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("post", "codes"),
    [
        (PostContent(text="a" * 100_000), []),
        (PostContent(text="a" * 100_001), ["text_too_long"]),
        (
            PostContent(
                text="",
                media=tuple(
                    MediaFile(kind=kind, mime=mime, size=1000)
                    for kind, mime in [
                        (MediaKind.PHOTO, "image/heic"),
                        (MediaKind.VIDEO, "video/x-matroska"),
                        (MediaKind.DOCUMENT, "application/pdf"),
                        (MediaKind.ANIMATION, "image/gif"),
                    ]
                ),
            ),
            [],
        ),
        (
            PostContent(
                text="hi", media=(MediaFile(kind=MediaKind.PHOTO, mime="a/b", size=1),) * 11
            ),
            ["too_many_media", "too_many_images"],
        ),
        (
            PostContent(
                text="hi", media=(MediaFile(kind=MediaKind.VIDEO, mime="v/x", size=20_000_001),)
            ),
            ["media_too_large"],
        ),
    ],
    ids=["100k-chars", "too-long", "any-mime", "11-items", "over-20-MB-inline"],
)
def test_validate(http: httpx.AsyncClient, post: PostContent, codes: list[str]) -> None:
    assert [p.code for p in provider(http).validate(post, account())] == codes


# -- against a receiver written from the docs --------------------------------------------------


async def test_connect_then_publish_to_a_receiver_that_checks_everything(image: MediaFile) -> None:
    receiver = WebhookReceiver(secret=None, clock=lambda: NOW)
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver.handle)) as client:
        adapter = provider(client)
        probe = AccountRef(id=0, platform="webhook", label="Webhook", credentials={"url": URL})
        # First connect: the receiver can't know the secret yet and answers the ping anyway.
        verified = await adapter.verify(probe)
        assert verified.credentials is not None
        receiver.secret = verified.credentials["signing_secret"]
        connected = account(secret=receiver.secret)

        post = PostContent(text="Hello", media=(image,), post_id=3)
        first = await adapter.publish(post, connected, "target-3-key")
        again = await adapter.publish(post, connected, "target-3-key")  # a retry

    assert first == again
    assert first.url == "https://blog.example.org/posts/1"
    (event,) = receiver.events  # deduped on Idempotency-Key
    assert event["text"] == "Hello"
    assert base64.b64decode(event["media"][0]["data_base64"]) == b"\x89PNG-bytes"


async def test_a_receiver_refuses_a_stale_or_unsigned_request() -> None:
    receiver = WebhookReceiver(secret=SECRET, clock=lambda: NOW + 301)
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver.handle)) as client:
        with pytest.raises(AuthError, match="stale timestamp"):
            await provider(client).publish(PostContent(text="hi"), account(), "k")
        receiver.clock = lambda: NOW
        with pytest.raises(AuthError, match="bad signature"):
            await provider(client).publish(PostContent(text="hi"), account(secret="x" * 64), "k")
    assert receiver.events == []
