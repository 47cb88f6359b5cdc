"""Discord webhooks: the exact requests sent, the answers understood, the limits enforced.

Request and response shapes follow discord.com/developers/docs (resources/webhook,
reference#uploading-files, topics/rate-limits, topics/opcodes-and-status-codes).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from providers.base import AccountRef, MediaFile, MediaKind, PostContent, Severity
from providers.discord import DiscordProvider
from providers.errors import (
    AuthError,
    PermanentError,
    ProviderError,
    RateLimited,
    TransientError,
)
from tests.fakes.discord import FakeDiscord, FakeWebhook, parse_multipart

MIB = 1024 * 1024
WEBHOOK_ID = "1234567890123456789"
TOKEN = "s3cr3t-" + "Zx9Yw8Vu" * 8
URL = f"https://discord.com/api/webhooks/{WEBHOOK_ID}/{TOKEN}"
GUILD_ID = "197038439483310086"
CHANNEL_ID = "197038439483310087"
MESSAGE_ID = "1300000000000000042"
NO_MENTIONS: dict[str, list[str]] = {"parse": []}


def account(url: str = URL, **config: Any) -> AccountRef:
    return AccountRef(
        id=9,
        platform="discord",
        label="Announcements",
        config={"channel_id": CHANNEL_ID, "guild_id": GUILD_ID, "name": "Announcements"} | config,
        credentials={"webhook_url": url},
    )


def message(**fields: Any) -> dict[str, Any]:
    """A message object as Execute Webhook with wait=true returns it."""
    return {
        "id": MESSAGE_ID,
        "type": 0,
        "channel_id": CHANNEL_ID,
        "webhook_id": WEBHOOK_ID,
        "content": "",
        "attachments": [],
    } | fields


def photo(
    tmp_path: Path, name: str, alt: str | None = None, data: bytes = b"\xff\xd8jpeg"
) -> MediaFile:
    path = tmp_path / f"{name}.bin"
    path.write_bytes(data)
    return MediaFile(
        kind=MediaKind.PHOTO,
        mime="image/jpeg",
        size=len(data),
        path=path,
        alt_text=alt,
        file_name=f"{name}.jpg",
    )


def sized(kind: MediaKind, size: int, mime: str = "image/jpeg") -> MediaFile:
    return MediaFile(kind=kind, mime=mime, size=size)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


# -- publish: the exact request ------------------------------------------------------------


async def test_text_goes_as_json_with_wait_and_no_mentions(
    http: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    route = router.post(URL, params={"wait": "true"}).mock(
        return_value=httpx.Response(200, json=message(content="Hi @everyone"))
    )
    result = await DiscordProvider(http).publish(PostContent(text="Hi @everyone"), account(), "k")
    request = route.calls.last.request
    assert request.method == "POST"
    assert request.url == httpx.URL(URL + "?wait=true")
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {
        "content": "Hi @everyone",
        "allowed_mentions": NO_MENTIONS,
    }
    assert result.platform_id == MESSAGE_ID
    assert result.url == f"https://discord.com/channels/{GUILD_ID}/{CHANNEL_ID}/{MESSAGE_ID}"


async def test_media_go_as_multipart_with_descriptions(
    http: httpx.AsyncClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    first = photo(tmp_path, "sunrise", alt="Sun over the bay", data=b"first-bytes")
    second = photo(tmp_path, "boats", data=b"second-bytes")
    clip = MediaFile(
        kind=MediaKind.VIDEO,
        mime="video/mp4",
        size=9,
        path=tmp_path / "clip",
        alt_text="A short clip",
    )
    clip.path.write_bytes(b"mp4-bytes")  # type: ignore[union-attr]
    route = router.post(URL, params={"wait": "true"}).mock(
        return_value=httpx.Response(200, json=message())
    )
    post = PostContent(text="Morning", media=(first, second, clip))
    await DiscordProvider(http).publish(post, account(), "k")

    request = route.calls.last.request
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    parts = parse_multipart(request)
    assert [(p.name, p.filename, p.content_type) for p in parts] == [
        ("payload_json", None, None),
        ("files[0]", "sunrise.jpg", "image/jpeg"),
        ("files[1]", "boats.jpg", "image/jpeg"),
        ("files[2]", "file2.mp4", "video/mp4"),
    ]
    assert json.loads(parts[0].data) == {
        "allowed_mentions": NO_MENTIONS,
        "content": "Morning",
        "attachments": [
            {"id": 0, "filename": "sunrise.jpg", "description": "Sun over the bay"},
            {"id": 1, "filename": "boats.jpg"},
            {"id": 2, "filename": "file2.mp4", "description": "A short clip"},
        ],
    }
    assert [p.data for p in parts[1:]] == [b"first-bytes", b"second-bytes", b"mp4-bytes"]


async def test_media_without_text_sends_no_content(
    http: httpx.AsyncClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    route = router.post(URL, params={"wait": "true"}).mock(
        return_value=httpx.Response(200, json=message())
    )
    await DiscordProvider(http).publish(
        PostContent(text="", media=(photo(tmp_path, "a"),)), account(), "k"
    )
    payload = json.loads(parse_multipart(route.calls.last.request)[0].data)
    assert "content" not in payload


async def test_a_thread_id_in_the_webhook_url_is_kept(
    http: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    route = router.post(url__startswith=URL).mock(return_value=httpx.Response(200, json=message()))
    await DiscordProvider(http).publish(
        PostContent(text="hi"), account(URL + "?thread_id=555"), "k"
    )
    assert dict(route.calls.last.request.url.params) == {"thread_id": "555", "wait": "true"}


async def test_a_missing_media_file_is_permanent(
    http: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    post = PostContent(
        text="hi", media=(MediaFile(kind=MediaKind.PHOTO, mime="image/jpeg", size=1),)
    )
    with pytest.raises(PermanentError):
        await DiscordProvider(http).publish(post, account(), "k")
    assert not router.calls


@pytest.mark.parametrize(
    ("answer", "config", "expected"),
    [
        # The message's own guild_id wins; webhook messages usually omit it.
        (message(guild_id="42"), {}, f"https://discord.com/channels/42/{CHANNEL_ID}/{MESSAGE_ID}"),
        (message(), {}, f"https://discord.com/channels/{GUILD_ID}/{CHANNEL_ID}/{MESSAGE_ID}"),
        (message(channel_id="77"), {}, f"https://discord.com/channels/{GUILD_ID}/77/{MESSAGE_ID}"),
        (message(), {"guild_id": None}, None),
    ],
    ids=["guild-from-message", "guild-from-config", "thread-channel", "no-guild"],
)
async def test_the_link_is_built_from_guild_channel_and_message_ids(
    http: httpx.AsyncClient,
    router: respx.MockRouter,
    answer: dict[str, Any],
    config: dict[str, Any],
    expected: str | None,
) -> None:
    router.post(URL, params={"wait": "true"}).mock(return_value=httpx.Response(200, json=answer))
    result = await DiscordProvider(http).publish(PostContent(text="hi"), account(**config), "k")
    assert (result.platform_id, result.url) == (MESSAGE_ID, expected)


# -- errors ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorCase:
    response: httpx.Response
    error: type[ProviderError]
    says: str
    retry_after: float | None = None


ERRORS: dict[str, ErrorCase] = {
    "rate-limited: retry_after from the body": ErrorCase(
        httpx.Response(
            429,
            headers={"Retry-After": "2", "X-RateLimit-Scope": "user"},
            json={"message": "You are being rate limited.", "retry_after": 1.234, "global": False},
        ),
        RateLimited,
        "You are being rate limited.",
        retry_after=1.234,
    ),
    "rate-limited by Cloudflare: Retry-After header": ErrorCase(
        httpx.Response(429, headers={"Retry-After": "30"}, text="<html>Error 1015</html>"),
        RateLimited,
        "rate limit",
        retry_after=30,
    ),
    "webhook deleted": ErrorCase(
        httpx.Response(404, json={"message": "Unknown Webhook", "code": 10015}),
        AuthError,
        "the webhook was deleted: create a new one and reconnect",
    ),
    "token regenerated": ErrorCase(
        httpx.Response(401, json={"message": "Invalid Webhook Token", "code": 50027}),
        AuthError,
        "Invalid Webhook Token",
    ),
    "forbidden": ErrorCase(
        httpx.Response(403, json={"message": "Missing Access", "code": 50001}),
        AuthError,
        "reconnect",
    ),
    "invalid form body: the field's message": ErrorCase(
        httpx.Response(
            400,
            json={
                "message": "Invalid Form Body",
                "code": 50035,
                "errors": {
                    "content": {
                        "_errors": [
                            {
                                "code": "BASE_TYPE_MAX_LENGTH",
                                "message": "Must be 2000 or fewer in length.",
                            }
                        ]
                    }
                },
            },
        ),
        PermanentError,
        "Invalid Form Body (content: Must be 2000 or fewer in length.)",
    ),
    "forum channel needs a thread name": ErrorCase(
        httpx.Response(
            400,
            json={
                "message": "Webhooks posted to forum channels must have a thread_name or thread_id",
                "code": 220001,
            },
        ),
        PermanentError,
        "must have a thread_name",
    ),
    "too large": ErrorCase(
        httpx.Response(413, json={"message": "Request entity too large", "code": 40005}),
        PermanentError,
        "Request entity too large",
    ),
    "server error": ErrorCase(
        httpx.Response(502, text="<html><title>502 Bad Gateway</title></html>"),
        TransientError,
        "server error (502)",
    ),
    "an error echoing the webhook URL": ErrorCase(
        httpx.Response(400, json={"message": f"Bad request to {URL}", "code": 0}),
        PermanentError,
        "Bad request to [redacted]",
    ),
}


@pytest.mark.parametrize("case", ERRORS.values(), ids=ERRORS.keys())
async def test_errors_map_and_never_show_the_webhook(
    http: httpx.AsyncClient, router: respx.MockRouter, case: ErrorCase
) -> None:
    router.post(URL, params={"wait": "true"}).mock(return_value=case.response)
    with pytest.raises(case.error) as raised:
        await DiscordProvider(http).publish(PostContent(text="hi"), account(), "k")
    said = str(raised.value)
    assert case.says in said
    assert TOKEN not in said
    assert URL not in said
    if case.retry_after is not None:
        assert raised.value.retry_after == pytest.approx(case.retry_after)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("failure", "ambiguous"),
    [(httpx.ConnectError(f"failed {URL}"), False), (httpx.ReadTimeout(f"slow {URL}"), True)],
)
async def test_network_failures_are_transient_and_quiet_about_the_url(
    http: httpx.AsyncClient, router: respx.MockRouter, failure: Exception, ambiguous: bool
) -> None:
    router.post(URL, params={"wait": "true"}).mock(side_effect=failure)
    with pytest.raises(TransientError) as raised:
        await DiscordProvider(http).publish(PostContent(text="hi"), account(), "k")
    assert raised.value.ambiguous is ambiguous
    assert TOKEN not in str(raised.value)


# -- validate ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("post", "codes"),
    [
        (PostContent(text="a" * 2000), []),
        (PostContent(text="a" * 2001), ["text_too_long"]),
        (PostContent(text="hi", media=(sized(MediaKind.PHOTO, MIB),) * 10), []),
        (
            PostContent(text="hi", media=(sized(MediaKind.PHOTO, MIB),) * 11),
            ["too_many_media", "too_many_images"],
        ),
        (PostContent(text="hi", media=(sized(MediaKind.VIDEO, 20 * MIB),)), []),
        (
            PostContent(text="hi", media=(sized(MediaKind.VIDEO, 20 * MIB + 1),)),
            ["media_too_large"],
        ),
        # Each file fits, together they don't.
        (
            PostContent(text="hi", media=(sized(MediaKind.PHOTO, 9 * MIB),) * 3),
            ["media_total_too_large"],
        ),
        # Any file type is an attachment.
        (
            PostContent(text="", media=(sized(MediaKind.DOCUMENT, 1000, mime="application/x-7z"),)),
            [],
        ),
        (PostContent(text=" "), ["empty"]),
    ],
    ids=[
        "2000-chars",
        "2001-chars",
        "10-files",
        "11-files",
        "20-MiB-file",
        "file-over-20-MiB",
        "27-MiB-in-total",
        "any-mime",
        "empty",
    ],
)
def test_validate(http: httpx.AsyncClient, post: PostContent, codes: list[str]) -> None:
    problems = DiscordProvider(http).validate(post, account())
    assert [p.code for p in problems] == codes


def test_long_alt_text_is_a_warning_and_is_cut_to_discords_limit(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    item = photo(tmp_path, "a", alt="x" * 1500)
    problems = DiscordProvider(http).validate(PostContent(text="hi", media=(item,)), account())
    assert [(p.code, p.severity) for p in problems] == [("alt_text_too_long", Severity.WARNING)]


def test_boosted_servers_can_raise_the_caps(http: httpx.AsyncClient) -> None:
    provider = DiscordProvider(http, max_file_bytes=50 * MIB, max_total_bytes=50 * MIB)
    post = PostContent(text="hi", media=(sized(MediaKind.VIDEO, 40 * MIB),))
    assert provider.validate(post, account()) == []


# -- verify and connecting ---------------------------------------------------------------------

WEBHOOK_OBJECT = {
    "id": WEBHOOK_ID,
    "type": 1,
    "guild_id": GUILD_ID,
    "channel_id": CHANNEL_ID,
    "name": "Crier",
    "avatar": None,
    "application_id": None,
    "token": TOKEN,
}


@pytest.mark.parametrize(
    ("answer", "label"),
    [(WEBHOOK_OBJECT, "Crier"), (WEBHOOK_OBJECT | {"name": None}, "Discord webhook")],
    ids=["named", "unnamed"],
)
async def test_verify_gets_the_webhook_and_keeps_no_secret(
    http: httpx.AsyncClient, router: respx.MockRouter, answer: dict[str, Any], label: str
) -> None:
    route = router.get(URL).mock(return_value=httpx.Response(200, json=answer))
    verified = await DiscordProvider(http).verify(account())
    assert route.calls.last.request.url == httpx.URL(URL)
    assert verified.label == label
    assert verified.external_id == WEBHOOK_ID
    assert verified.config == {
        "channel_id": CHANNEL_ID,
        "guild_id": GUILD_ID,
        "name": answer["name"],
    }
    assert verified.credentials is None  # keep the URL the user gave, encrypted
    assert TOKEN not in repr(verified) + json.dumps(dict(verified.config))


async def test_verify_a_deleted_webhook(http: httpx.AsyncClient, router: respx.MockRouter) -> None:
    router.get(URL).mock(
        return_value=httpx.Response(404, json={"message": "Unknown Webhook", "code": 10015})
    )
    with pytest.raises(AuthError, match="deleted") as raised:
        await DiscordProvider(http).verify(account())
    assert TOKEN not in str(raised.value)


@pytest.mark.parametrize(
    "url",
    [
        f"http://discord.com/api/webhooks/{WEBHOOK_ID}/{TOKEN}",
        f"https://evil.example/api/webhooks/{WEBHOOK_ID}/{TOKEN}",
        f"https://discord.com.evil.example/api/webhooks/{WEBHOOK_ID}/{TOKEN}",
        f"https://discord.com/api/channels/{WEBHOOK_ID}/{TOKEN}",
        "not a url at all",
        "",
    ],
)
async def test_urls_that_are_not_discord_webhooks_are_refused_without_a_request(
    http: httpx.AsyncClient, router: respx.MockRouter, url: str
) -> None:
    with pytest.raises(PermanentError) as raised:
        await DiscordProvider(http).verify(account(url))
    assert not router.calls
    assert TOKEN not in str(raised.value)


async def test_allowed_hosts_points_the_adapter_elsewhere(
    http: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    test_url = f"https://discord.test/api/v10/webhooks/{WEBHOOK_ID}/{TOKEN}"
    router.get(test_url).mock(return_value=httpx.Response(200, json=WEBHOOK_OBJECT))
    provider = DiscordProvider(
        http, allowed_hosts={"discord.test"}, web_base_url="https://discord.test"
    )
    assert (await provider.verify(account(test_url))).external_id == WEBHOOK_ID
    with pytest.raises(PermanentError):
        await provider.verify(account(URL))


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        (URL, True),
        (f"https://discordapp.com/api/webhooks/{WEBHOOK_ID}/{TOKEN}", True),
        (f"https://ptb.discord.com/api/webhooks/{WEBHOOK_ID}/{TOKEN}", True),
        (f"https://canary.discord.com/api/webhooks/{WEBHOOK_ID}/{TOKEN}", True),
        (f"https://discord.com/api/v10/webhooks/{WEBHOOK_ID}/{TOKEN}", True),
        (f"http://discord.com/api/webhooks/{WEBHOOK_ID}/{TOKEN}", False),
        (f"https://discord.gg/api/webhooks/{WEBHOOK_ID}/{TOKEN}", False),
        (f"https://discord.com/api/webhooks/{WEBHOOK_ID}", False),
        (f"https://discord.com/api/webhooks/{WEBHOOK_ID}/short", False),
    ],
)
def test_the_connect_pattern(url: str, ok: bool) -> None:
    (field_,) = DiscordProvider.connect_fields
    assert field_.key == "webhook_url"
    assert field_.secret
    assert bool(re.fullmatch(field_.pattern or "", url)) is ok


# -- against the fake Discord ------------------------------------------------------------------


@pytest.fixture
def fake() -> FakeDiscord:
    return FakeDiscord(clock=lambda: 0.0)


@pytest.fixture
async def fake_http(fake: FakeDiscord) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handle)) as client:
        yield client


async def _connect(provider: DiscordProvider, hook: FakeWebhook) -> AccountRef:
    probe = AccountRef(
        id=0, platform="discord", label="Discord", credentials={"webhook_url": hook.url}
    )
    verified = await provider.verify(probe)
    return AccountRef(
        id=1,
        platform="discord",
        label=verified.label,
        config=verified.config,
        credentials={"webhook_url": hook.url},
    )


async def test_connect_then_publish_photos_to_the_fake(
    fake: FakeDiscord, fake_http: httpx.AsyncClient, tmp_path: Path
) -> None:
    hook = fake.add_webhook(name="News")
    provider = DiscordProvider(fake_http)
    connected = await _connect(provider, hook)
    assert connected.label == "News"
    post = PostContent(
        text="Two photos", media=(photo(tmp_path, "a", alt="First"), photo(tmp_path, "b"))
    )
    result = await provider.publish(post, connected, "k")

    (posted,) = fake.messages
    assert posted.content == "Two photos"
    assert posted.allowed_mentions == NO_MENTIONS
    assert [(a.filename, a.description) for a in posted.attachments] == [
        ("a.jpg", "First"),
        ("b.jpg", None),
    ]
    assert result.url == (
        f"https://discord.com/channels/{hook.guild_id}/{hook.channel_id}/{posted.id}"
    )


async def test_the_fakes_rate_limit_comes_back_as_its_retry_after(
    fake: FakeDiscord, fake_http: httpx.AsyncClient
) -> None:
    hook = fake.add_webhook()
    provider = DiscordProvider(fake_http)
    connected = await _connect(provider, hook)  # one request of the bucket of 5
    for _ in range(4):
        await provider.publish(PostContent(text="hi"), connected, "k")
    with pytest.raises(RateLimited) as raised:
        await provider.publish(PostContent(text="one too many"), connected, "k")
    assert raised.value.retry_after == pytest.approx(2.0)
    assert len(fake.messages) == 4


async def test_a_webhook_deleted_after_connecting(
    fake: FakeDiscord, fake_http: httpx.AsyncClient
) -> None:
    hook = fake.add_webhook()
    provider = DiscordProvider(fake_http)
    connected = await _connect(provider, hook)
    fake.delete_webhook(hook)
    with pytest.raises(AuthError) as raised:
        await provider.publish(PostContent(text="hi"), connected, "k")
    assert hook.token not in str(raised.value)


async def test_an_over_long_message_is_refused_by_the_fake_with_discords_reason(
    fake: FakeDiscord, fake_http: httpx.AsyncClient
) -> None:
    hook = fake.add_webhook()
    provider = DiscordProvider(fake_http)
    connected = await _connect(provider, hook)
    with pytest.raises(PermanentError, match="Must be 2000 or fewer in length"):
        await provider.publish(PostContent(text="a" * 2001), connected, "k")
    assert fake.messages == []


@pytest.mark.parametrize(
    ("count", "fake_limit", "says"),
    [(11, 20 * MIB, "Must be 10 or fewer in length"), (1, 4, "Request entity too large")],
    ids=["11-attachments", "file-over-the-servers-cap"],
)
async def test_what_validate_would_catch_is_also_refused_by_the_fake(
    fake_http: httpx.AsyncClient,
    fake: FakeDiscord,
    tmp_path: Path,
    count: int,
    fake_limit: int,
    says: str,
) -> None:
    fake.max_file_bytes = fake_limit
    hook = fake.add_webhook()
    provider = DiscordProvider(fake_http)
    connected = await _connect(provider, hook)
    media = tuple(photo(tmp_path, f"p{i}") for i in range(count))
    with pytest.raises(PermanentError, match=says):
        await provider.publish(PostContent(text="hi", media=media), connected, "k")
    assert fake.messages == []
