"""The Bluesky adapter against the in-memory PDS: the exact requests, sessions, idempotency."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from providers.base import AccountRef, MediaFile, MediaKind, PostContent, VerifiedAccount
from providers.bluesky import BlueskyProvider
from providers.bluesky_records import tid, tid_for_key
from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from tests.fakes.bluesky import FakeBluesky, blob_cid

HANDLE = "alice.test"
DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
PDS = "https://pds.example"
RESOLVER = "https://resolver.example"
PLC = "https://plc.example"
NOW = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
CREATED = "2025-03-01T12:00:00.123Z"
SECRETS = (APP_PASSWORD, "access-1", "refresh-1", "access-2", "refresh-2")

CREATE_SESSION = "com.atproto.server.createSession"
REFRESH_SESSION = "com.atproto.server.refreshSession"
RESOLVE_HANDLE = "com.atproto.identity.resolveHandle"
UPLOAD_BLOB = "com.atproto.repo.uploadBlob"
CREATE_RECORD = "com.atproto.repo.createRecord"
GET_RECORD = "com.atproto.repo.getRecord"


@pytest.fixture
def fake() -> FakeBluesky:
    fake = FakeBluesky(pds_url=PDS, resolver_url=RESOLVER, plc_url=PLC)
    fake.add_account(HANDLE, DID, APP_PASSWORD)
    fake.add_account("bob.bsky.social", "did:plc:bob")
    return fake


@pytest.fixture
async def http(fake: FakeBluesky) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as client:
        yield client


@pytest.fixture
def bluesky(http: httpx.AsyncClient) -> BlueskyProvider:
    return BlueskyProvider(http, resolver_url=RESOLVER, plc_url=PLC, clock=lambda: NOW)


def account(**config: Any) -> AccountRef:
    return AccountRef(
        id=7,
        platform="bluesky",
        label=f"@{HANDLE}",
        config={"pds_url": PDS, "did": DID, "handle": HANDLE, **config},
        credentials={"app_password": APP_PASSWORD},
    )


def connecting(**config: Any) -> AccountRef:
    """What /connect hands to verify: the user's answers."""
    return AccountRef(
        id=0,
        platform="bluesky",
        label="Bluesky",
        config=config,
        credentials={"app_password": APP_PASSWORD},
    )


def trace(fake: FakeBluesky) -> list[tuple[str, str, str | None]]:
    """(method, URL, Authorization) of every request, in order."""
    return [(r.method, str(r.url), r.headers.get("authorization")) for r in fake.requests]


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def xrpc(nsid: str, base: str = PDS) -> str:
    return f"{base}/xrpc/{nsid}"


def rkey(key: str) -> str:
    return tid_for_key(key)


def assert_no_secret(error: Exception) -> None:
    for secret in SECRETS:
        assert secret not in str(error)


# -- record keys --------------------------------------------------------------------------


def test_tid_encoding_matches_the_reference_vectors() -> None:
    # @atcute/tid: create(1724171495793000, 512) and parse("3l25zusnsfctk").
    assert tid(1724171495793000, 512) == "3l25zusnsfck2"
    assert tid(1724171495793000, 816) == "3l25zusnsfctk"


def test_record_key_is_a_tid_fixed_by_the_idempotency_key() -> None:
    key = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    # Pinned: changing the derivation would make retries after a deploy write a second post.
    assert tid_for_key(key) == "3jwbhadl6f5zc"
    assert tid_for_key(key) == tid_for_key(key)
    assert tid_for_key(key) != tid_for_key(key[:-1] + "6")
    assert re.fullmatch(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}", rkey("x"))


# -- publishing ---------------------------------------------------------------------------


async def test_text_post_sends_facets_and_a_link_card(
    fake: FakeBluesky, bluesky: BlueskyProvider
) -> None:
    text = "🎉 New post https://example.com/a?b=1, by @bob.bsky.social with #Crier!"
    fake.pages["https://example.com/a?b=1"] = httpx.Response(
        200,
        headers={"content-type": "text/html; charset=utf-8"},
        text=(
            '<html><head><title>Fallback</title><meta property="og:title" content="Example A">'
            '<meta property="og:description" content="All about &amp; A"></head></html>'
        ),
    )
    result = await bluesky.publish(PostContent(text=text), account(), "key-1")

    assert trace(fake) == [
        ("POST", xrpc(CREATE_SESSION), None),
        ("GET", xrpc(RESOLVE_HANDLE) + "?handle=bob.bsky.social", None),
        ("GET", "https://example.com/a?b=1", None),
        ("POST", xrpc(CREATE_RECORD), "Bearer access-1"),
    ]
    assert body(fake.calls(CREATE_SESSION)[0]) == {"identifier": DID, "password": APP_PASSWORD}
    assert body(fake.calls(CREATE_RECORD)[0]) == {
        "repo": DID,
        "collection": "app.bsky.feed.post",
        "rkey": rkey("key-1"),
        "record": {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": CREATED,
            "facets": [
                {
                    "index": {"byteStart": 14, "byteEnd": 39},
                    "features": [
                        {
                            "$type": "app.bsky.richtext.facet#link",
                            "uri": "https://example.com/a?b=1",
                        }
                    ],
                },
                {
                    "index": {"byteStart": 44, "byteEnd": 60},
                    "features": [
                        {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:bob"}
                    ],
                },
                {
                    "index": {"byteStart": 66, "byteEnd": 72},
                    "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "Crier"}],
                },
            ],
            "embed": {
                "$type": "app.bsky.embed.external",
                "external": {
                    "uri": "https://example.com/a?b=1",
                    "title": "Example A",
                    "description": "All about & A",
                },
            },
        },
    }
    assert result.platform_id == f"at://{DID}/app.bsky.feed.post/{rkey('key-1')}"
    assert result.url == f"https://bsky.app/profile/{HANDLE}/post/{rkey('key-1')}"


async def test_two_images_with_alt_text_and_aspect_ratio(
    fake: FakeBluesky, bluesky: BlueskyProvider, tmp_path: Path
) -> None:
    fox, owl = b"\xff\xd8fox-jpeg-bytes", b"\x89PNGowl-png-bytes"
    (tmp_path / "fox.jpg").write_bytes(fox)
    (tmp_path / "owl.png").write_bytes(owl)
    post = PostContent(
        text="Two friends https://example.com",
        media=(
            MediaFile(
                kind=MediaKind.PHOTO,
                mime="image/jpeg",
                size=len(fox),
                path=tmp_path / "fox.jpg",
                width=1200,
                height=800,
                alt_text="A red fox in snow",
            ),
            MediaFile(
                kind=MediaKind.PHOTO,
                mime="image/png",
                size=len(owl),
                path=tmp_path / "owl.png",
                width=600,
                height=900,
                alt_text="An owl at night",
            ),
        ),
    )
    await bluesky.publish(post, account(), "key-2")

    uploads = fake.calls(UPLOAD_BLOB)
    assert [
        (u.headers["content-type"], u.content, u.headers["authorization"]) for u in uploads
    ] == [
        ("image/jpeg", fox, "Bearer access-1"),
        ("image/png", owl, "Bearer access-1"),
    ]
    assert not [r for r in fake.requests if r.url.host == "example.com"]  # images: no card
    assert body(fake.calls(CREATE_RECORD)[0])["record"] == {
        "$type": "app.bsky.feed.post",
        "text": "Two friends https://example.com",
        "createdAt": CREATED,
        "facets": [
            {
                "index": {"byteStart": 12, "byteEnd": 31},
                "features": [
                    {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com"}
                ],
            }
        ],
        "embed": {
            "$type": "app.bsky.embed.images",
            "images": [
                {
                    "alt": "A red fox in snow",
                    "image": {
                        "$type": "blob",
                        "ref": {"$link": blob_cid(fox)},
                        "mimeType": "image/jpeg",
                        "size": len(fox),
                    },
                    "aspectRatio": {"width": 1200, "height": 800},
                },
                {
                    "alt": "An owl at night",
                    "image": {
                        "$type": "blob",
                        "ref": {"$link": blob_cid(owl)},
                        "mimeType": "image/png",
                        "size": len(owl),
                    },
                    "aspectRatio": {"width": 600, "height": 900},
                },
            ],
        },
    }


async def test_image_without_alt_or_size_sends_empty_alt_and_no_aspect_ratio(
    fake: FakeBluesky, bluesky: BlueskyProvider, tmp_path: Path
) -> None:
    (tmp_path / "a.jpg").write_bytes(b"jpeg")
    media = MediaFile(kind=MediaKind.PHOTO, mime="image/jpeg", size=4, path=tmp_path / "a.jpg")
    await bluesky.publish(PostContent(text="", media=(media,)), account(), "key-3")
    [image] = body(fake.calls(CREATE_RECORD)[0])["record"]["embed"]["images"]
    assert image["alt"] == ""
    assert "aspectRatio" not in image


@pytest.mark.parametrize(
    ("text", "page", "fetched", "external"),
    [
        pytest.param(
            "Down https://down.example/x",
            httpx.ReadTimeout("slow"),
            True,
            {"uri": "https://down.example/x", "title": "down.example", "description": ""},
            id="page-times-out-card-still-sent",
        ),
        pytest.param(
            "See https://www.example.org/pdf",
            httpx.Response(200, headers={"content-type": "application/pdf"}, content=b"%PDF"),
            True,
            {"uri": "https://www.example.org/pdf", "title": "example.org", "description": ""},
            id="not-html",
        ),
        pytest.param(
            "Admin http://127.0.0.1:8080/admin",
            None,
            False,
            {"uri": "http://127.0.0.1:8080/admin", "title": "127.0.0.1", "description": ""},
            id="private-address-never-fetched",
        ),
    ],
)
async def test_link_card_is_best_effort(
    fake: FakeBluesky,
    bluesky: BlueskyProvider,
    text: str,
    page: httpx.Response | Exception | None,
    fetched: bool,
    external: dict[str, str],
) -> None:
    uri = external["uri"]
    if page is not None:
        fake.pages[uri] = page
    await bluesky.publish(PostContent(text=text), account(), "key-card")
    assert any(str(r.url) == uri for r in fake.requests) is fetched
    embed = body(fake.calls(CREATE_RECORD)[0])["record"]["embed"]
    assert embed == {"$type": "app.bsky.embed.external", "external": external}


async def test_link_card_follows_a_redirect(fake: FakeBluesky, bluesky: BlueskyProvider) -> None:
    fake.pages["https://short.example/x"] = httpx.Response(
        301, headers={"location": "https://long.example/article"}
    )
    fake.pages["https://long.example/article"] = httpx.Response(
        200, headers={"content-type": "text/html"}, text="<title> The  article </title>"
    )
    await bluesky.publish(PostContent(text="https://short.example/x"), account(), "k")
    external = body(fake.calls(CREATE_RECORD)[0])["record"]["embed"]["external"]
    assert external == {"uri": "https://short.example/x", "title": "The article", "description": ""}


async def test_url_falls_back_to_the_did_when_the_handle_is_invalid(
    fake: FakeBluesky, bluesky: BlueskyProvider
) -> None:
    fake.accounts[DID].handle = "handle.invalid"  # what the PDS reports for a broken handle
    result = await bluesky.publish(PostContent(text="hi"), account(), "key-h")
    assert result.url == f"https://bsky.app/profile/{DID}/post/{rkey('key-h')}"


async def test_media_without_a_local_file_is_refused(
    fake: FakeBluesky, bluesky: BlueskyProvider
) -> None:
    media = MediaFile(kind=MediaKind.PHOTO, mime="image/jpeg", size=4, telegram_file_id="AgAD")
    with pytest.raises(PermanentError, match="missing"):
        await bluesky.publish(PostContent(text="", media=(media,)), account(), "key-m")
    assert fake.calls(UPLOAD_BLOB) == []


async def test_account_without_a_stored_server_is_resolved_first(
    fake: FakeBluesky, bluesky: BlueskyProvider
) -> None:
    old = AccountRef(
        id=8,
        platform="bluesky",
        label="@alice.test",
        config={"did": DID, "handle": HANDLE},
        credentials={"app_password": APP_PASSWORD},
    )
    await bluesky.publish(PostContent(text="hi"), old, "key-r")
    assert trace(fake)[:3] == [
        ("GET", f"{PLC}/{DID}", None),
        ("POST", xrpc(CREATE_SESSION), None),
        ("POST", xrpc(CREATE_RECORD), "Bearer access-1"),
    ]


# -- sessions -----------------------------------------------------------------------------


async def test_one_session_serves_every_publish(
    fake: FakeBluesky, bluesky: BlueskyProvider
) -> None:
    await bluesky.publish(PostContent(text="one"), account(), "key-a")
    await bluesky.publish(PostContent(text="two"), account(), "key-b")
    await asyncio.gather(
        bluesky.publish(PostContent(text="three"), account(), "key-c"),
        bluesky.publish(PostContent(text="four"), account(), "key-d"),
    )
    assert len(fake.calls(CREATE_SESSION)) == 1
    assert len(fake.posts(DID)) == 4


async def test_concurrent_first_publishes_open_one_session(
    fake: FakeBluesky, bluesky: BlueskyProvider
) -> None:
    await asyncio.gather(
        *(bluesky.publish(PostContent(text=f"n{i}"), account(), f"key-{i}") for i in range(3))
    )
    assert len(fake.calls(CREATE_SESSION)) == 1


async def test_expired_access_token_is_refreshed(
    fake: FakeBluesky, bluesky: BlueskyProvider
) -> None:
    await bluesky.publish(PostContent(text="before"), account(), "key-a")
    fake.expire_access_tokens()
    fake.requests.clear()
    await bluesky.publish(PostContent(text="after"), account(), "key-b")
    assert trace(fake) == [
        ("POST", xrpc(CREATE_RECORD), "Bearer access-1"),  # 400 ExpiredToken
        ("POST", xrpc(REFRESH_SESSION), "Bearer refresh-1"),
        ("POST", xrpc(CREATE_RECORD), "Bearer access-2"),
    ]
    assert fake.calls(REFRESH_SESSION)[0].content == b""
    assert len(fake.posts(DID)) == 2


async def test_refused_refresh_signs_in_again(fake: FakeBluesky, bluesky: BlueskyProvider) -> None:
    await bluesky.publish(PostContent(text="before"), account(), "key-a")
    fake.expire_access_tokens()
    fake.expire_refresh_tokens()
    fake.requests.clear()
    await bluesky.publish(PostContent(text="after"), account(), "key-b")
    assert trace(fake) == [
        ("POST", xrpc(CREATE_RECORD), "Bearer access-1"),
        ("POST", xrpc(REFRESH_SESSION), "Bearer refresh-1"),  # 400 ExpiredToken
        ("POST", xrpc(CREATE_SESSION), None),
        ("POST", xrpc(CREATE_RECORD), "Bearer access-2"),
    ]


async def test_new_app_password_opens_a_new_session(
    fake: FakeBluesky, bluesky: BlueskyProvider
) -> None:
    fake.accounts[DID].app_passwords.add("wxyz-wxyz-wxyz-wxyz")
    await bluesky.publish(PostContent(text="one"), account(), "key-a")
    renewed = AccountRef(
        id=7,
        platform="bluesky",
        label="@alice.test",
        config=account().config,
        credentials={"app_password": "wxyz-wxyz-wxyz-wxyz"},
    )
    await bluesky.publish(PostContent(text="two"), renewed, "key-b")
    assert [body(r)["password"] for r in fake.calls(CREATE_SESSION)] == [
        APP_PASSWORD,
        "wxyz-wxyz-wxyz-wxyz",
    ]


# -- idempotency --------------------------------------------------------------------------


async def test_lost_answer_is_recognised_and_a_retry_adds_nothing(
    fake: FakeBluesky, bluesky: BlueskyProvider
) -> None:
    fake.lose_answer(CREATE_RECORD)  # the PDS writes the post, the answer never arrives
    first = await bluesky.publish(PostContent(text="only once"), account(), "key-x")
    again = await bluesky.publish(PostContent(text="only once"), account(), "key-x")
    assert first == again
    assert first.url == f"https://bsky.app/profile/{HANDLE}/post/{rkey('key-x')}"
    assert fake.posts(DID) == [
        {"$type": "app.bsky.feed.post", "text": "only once", "createdAt": CREATED}
    ]
    assert [r.url.params["rkey"] for r in fake.calls(GET_RECORD)] == [rkey("key-x")] * 2


async def test_timeout_before_the_write_is_ambiguous_then_the_retry_publishes(
    fake: FakeBluesky, bluesky: BlueskyProvider
) -> None:
    fake.fail_next(CREATE_RECORD, httpx.ReadTimeout("slow"))
    with pytest.raises(TransientError) as raised:
        await bluesky.publish(PostContent(text="hello"), account(), "key-y")
    assert raised.value.ambiguous is True
    result = await bluesky.publish(PostContent(text="hello"), account(), "key-y")
    assert result.platform_id.endswith(rkey("key-y"))
    assert len(fake.posts(DID)) == 1


async def test_connect_error_is_not_ambiguous_and_needs_no_lookup(
    fake: FakeBluesky, bluesky: BlueskyProvider
) -> None:
    fake.fail_next(CREATE_RECORD, httpx.ConnectError("refused"))
    with pytest.raises(TransientError) as raised:
        await bluesky.publish(PostContent(text="hello"), account(), "key-z")
    assert raised.value.ambiguous is False
    assert fake.calls(GET_RECORD) == []


# -- errors -------------------------------------------------------------------------------


def xrpc_error(status: int, name: str, message: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"error": name, "message": message}, headers=headers)


@pytest.mark.parametrize(
    ("nsid", "answer", "error", "says"),
    [
        pytest.param(
            CREATE_SESSION,
            xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded", **{"retry-after": "40"}),
            RateLimited,
            "rate limit",
            id="session-rate-limited",
        ),
        pytest.param(
            CREATE_SESSION,
            xrpc_error(401, "AccountTakedown", "Account has been taken down"),
            AuthError,
            "taken down",
            id="takedown",
        ),
        pytest.param(
            UPLOAD_BLOB,
            httpx.ReadTimeout("slow"),
            TransientError,
            "nothing was published",
            id="upload-timeout-is-not-ambiguous",
        ),
        pytest.param(
            RESOLVE_HANDLE,
            xrpc_error(502, "UpstreamFailure", "Upstream Failure"),
            TransientError,
            "server error (502)",
            id="mention-lookup-down",
        ),
        pytest.param(
            CREATE_RECORD,
            xrpc_error(400, "InvalidToken", "Token could not be verified"),
            AuthError,
            "Token could not be verified",
            id="revoked-token",
        ),
    ],
)
async def test_errors_map_to_provider_errors(
    fake: FakeBluesky,
    bluesky: BlueskyProvider,
    tmp_path: Path,
    nsid: str,
    answer: httpx.Response | Exception,
    error: type[Exception],
    says: str,
) -> None:
    fake.fail_next(nsid, answer)
    (tmp_path / "a.jpg").write_bytes(b"jpeg")
    media = (MediaFile(kind=MediaKind.PHOTO, mime="image/jpeg", size=4, path=tmp_path / "a.jpg"),)
    post = PostContent(text="hi @bob.bsky.social", media=media if nsid == UPLOAD_BLOB else ())
    with pytest.raises(error) as raised:
        await bluesky.publish(post, account(), "key-e")
    assert says in str(raised.value)
    if isinstance(raised.value, TransientError):
        assert raised.value.ambiguous is False
    if isinstance(raised.value, RateLimited):
        assert raised.value.retry_after == 40
    assert_no_secret(raised.value)
    assert fake.posts(DID) == []


async def test_the_pds_refusal_reaches_the_user(
    fake: FakeBluesky, bluesky: BlueskyProvider
) -> None:
    # validate() would have caught it; the PDS enforces the same limit with its own words.
    with pytest.raises(PermanentError) as raised:
        await bluesky.publish(PostContent(text="x" * 301), account(), "key-long")
    assert "grapheme too big (maximum 300, got 301) at $.record.text" in str(raised.value)
    assert [r.url.params["rkey"] for r in fake.calls(GET_RECORD)] == [rkey("key-long")]


async def test_fake_limits_sessions_like_bluesky(
    fake: FakeBluesky, http: httpx.AsyncClient
) -> None:
    # What a session per post would run into: 30 sign-ins in 5 minutes, then 429.
    for _ in range(30):
        await BlueskyProvider(http, resolver_url=RESOLVER, plc_url=PLC).verify(
            connecting(handle=HANDLE, pds_url=PDS)
        )
    with pytest.raises(RateLimited) as raised:
        await BlueskyProvider(http, resolver_url=RESOLVER, plc_url=PLC).verify(
            connecting(handle=HANDLE, pds_url=PDS)
        )
    assert 299 <= raised.value.retry_after <= 301  # from ratelimit-reset, epoch seconds


# -- connecting ---------------------------------------------------------------------------


async def test_verify_resolves_the_pds_from_a_handle(
    fake: FakeBluesky, bluesky: BlueskyProvider
) -> None:
    verified = await bluesky.verify(connecting(handle="@Alice.Test"))
    assert trace(fake) == [
        ("GET", xrpc(RESOLVE_HANDLE, RESOLVER) + "?handle=alice.test", None),
        ("GET", f"{PLC}/{DID}", None),
        ("POST", xrpc(CREATE_SESSION), None),
    ]
    assert body(fake.calls(CREATE_SESSION)[0]) == {"identifier": HANDLE, "password": APP_PASSWORD}
    assert verified == VerifiedAccount(
        label="@alice.test",
        external_id=DID,
        config={"pds_url": PDS, "did": DID, "handle": HANDLE},
    )


async def test_verify_resolves_a_did_web(fake: FakeBluesky, bluesky: BlueskyProvider) -> None:
    fake.add_account("carol.example", "did:web:carol.example", APP_PASSWORD)
    verified = await bluesky.verify(connecting(handle="carol.example"))
    assert ("GET", "https://carol.example/.well-known/did.json", None) in trace(fake)
    assert verified.external_id == "did:web:carol.example"
    assert verified.config["pds_url"] == PDS


async def test_verify_through_an_entryway_stores_the_real_pds(
    fake: FakeBluesky, bluesky: BlueskyProvider
) -> None:
    # bsky.social signs in for accounts whose repository lives on another host, and answers
    # with the DID document naming it (a PDS does only when configured to).
    fake.did_doc_with_session = True
    verified = await bluesky.verify(connecting(handle=HANDLE, pds_url=RESOLVER + "/"))
    assert trace(fake) == [("POST", xrpc(CREATE_SESSION, RESOLVER), None)]
    assert verified.config["pds_url"] == PDS


async def test_plain_http_is_allowed_for_localhost_only() -> None:
    fake = FakeBluesky(pds_url="http://localhost:2583")
    fake.add_account(HANDLE, DID, APP_PASSWORD)
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as http:
        bluesky = BlueskyProvider(http, resolver_url=RESOLVER, plc_url=PLC)
        verified = await bluesky.verify(connecting(handle=HANDLE, pds_url="http://localhost:2583"))
        assert verified.config["pds_url"] == "http://localhost:2583"
        with pytest.raises(PermanentError, match="https://") as raised:
            await bluesky.verify(connecting(handle=HANDLE, pds_url="http://pds.example.com"))
        assert "localhost" in str(raised.value)
    assert len(fake.requests) == 1  # the refused address was never contacted


async def test_a_did_document_naming_a_plain_http_pds_is_refused(
    fake: FakeBluesky, bluesky: BlueskyProvider
) -> None:
    fake.pds_url = "http://pds.example"  # what the DID document will say
    with pytest.raises(PermanentError, match="https://"):
        await bluesky.verify(connecting(handle=HANDLE))
    assert fake.calls(CREATE_SESSION) == []


@pytest.mark.parametrize(
    ("handle", "password", "error", "says"),
    [
        ("nobody.test", APP_PASSWORD, PermanentError, "couldn't find the Bluesky handle"),
        (HANDLE, "zzzz-zzzz-zzzz-zzzz", AuthError, "Invalid identifier or password"),
        ("dave.test", "main-password", AuthError, "use an app password"),
    ],
)
async def test_verify_explains_what_went_wrong(
    fake: FakeBluesky,
    bluesky: BlueskyProvider,
    handle: str,
    password: str,
    error: type[Exception],
    says: str,
) -> None:
    fake.add_account("dave.test", "did:plc:dave", email_2fa=True)
    probe = AccountRef(
        id=0,
        platform="bluesky",
        label="Bluesky",
        config={"handle": handle},
        credentials={"app_password": password},
    )
    with pytest.raises(error) as raised:
        await bluesky.verify(probe)
    assert says in str(raised.value)
    assert password not in str(raised.value)


def test_connect_fields() -> None:
    fields = {f.key: f for f in BlueskyProvider.connect_fields}
    assert list(fields) == ["handle", "app_password", "pds_url"]
    assert fields["app_password"].secret
    assert not fields["handle"].secret
    assert fields["pds_url"].optional
    assert not fields["pds_url"].secret
    assert "App passwords" in fields["app_password"].prompt
    for handle in ("alice.bsky.social", "@alice.bsky.social", "me.example.co.uk"):
        assert re.fullmatch(fields["handle"].pattern or "", handle)
    assert not re.fullmatch(fields["handle"].pattern or "", "alice")
    assert re.fullmatch(fields["app_password"].pattern or "", APP_PASSWORD)
    assert not re.fullmatch(fields["app_password"].pattern or "", "my-main-password!")


# -- validate -----------------------------------------------------------------------------

FAMILY = "👨‍👩‍👧‍👦"  # 7 code points, 25 UTF-8 bytes, one grapheme
THUMB = "👍🏽"  # 2 code points, 8 UTF-8 bytes, one grapheme


def photo(size: int = 1000, mime: str = "image/jpeg") -> MediaFile:
    return MediaFile(kind=MediaKind.PHOTO, mime=mime, size=size)


@pytest.mark.parametrize(
    ("post", "codes"),
    [
        pytest.param(PostContent(text=THUMB * 300), [], id="300-graphemes-of-2-code-points"),
        pytest.param(PostContent(text=THUMB * 301), ["text_too_long"], id="301-graphemes"),
        pytest.param(
            # 300 graphemes pass the grapheme limit, but 7,500 bytes exceed the lexicon's
            # 3,000-byte maxLength: Bluesky would refuse it, so validate says so.
            PostContent(text=FAMILY * 300),
            ["text_too_many_bytes"],
            id="300-family-emoji",
        ),
        pytest.param(PostContent(text=FAMILY * 120), [], id="120-family-emoji-fit-both"),
        pytest.param(PostContent(text="é" * 300), [], id="300-accents"),
        pytest.param(PostContent(text="", media=(photo(),) * 4), [], id="four-images"),
        pytest.param(
            PostContent(text="", media=(photo(),) * 5),
            ["too_many_media", "too_many_images"],
            id="five-images",
        ),
        pytest.param(
            PostContent(text="", media=(photo(size=1_000_001),)),
            ["media_too_large"],
            id="image-over-1MB",
        ),
        pytest.param(
            PostContent(
                text="", media=(MediaFile(kind=MediaKind.VIDEO, mime="video/mp4", size=10),)
            ),
            ["too_many_videos", "media_type"],
            id="no-video-yet",
        ),
    ],
)
async def test_validate(bluesky: BlueskyProvider, post: PostContent, codes: list[str]) -> None:
    assert [p.code for p in bluesky.validate(post, account())] == codes


async def test_limits_declare_what_the_adapter_does(bluesky: BlueskyProvider) -> None:
    limits = bluesky.limits
    assert (limits.max_text, limits.counting.value) == (300, "graphemes")
    assert (limits.max_images, limits.max_videos) == (4, 0)
    assert limits.alt_text
    assert limits.idempotent_publish
    assert limits.threads  # replies: root and parent refs
    assert limits.max_bytes[MediaKind.PHOTO] == 1_000_000
    assert MediaKind.VIDEO not in limits.mime_types
