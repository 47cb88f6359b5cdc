"""The fake PDS answers as `@atproto/pds` 0.5.x does (packages/pds and packages/lex in
bluesky-social/atproto): upload cap, TID record keys, lexicon messages, error names,
`didDoc` only when configured, refresh tokens with a grace period, deleteRecord."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from providers.bluesky_records import tid_for_key
from tests.fakes.bluesky import MAX_UPLOAD_BYTES, REFRESH_GRACE, FakeBluesky

PDS = "https://pds.example"
DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
HANDLE = "alice.test"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
POST = "app.bsky.feed.post"
CREATED = "2025-03-01T12:00:00.000Z"
TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 60


class Clock:
    def __init__(self) -> None:
        self.now = 1_740_830_400.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> FakeBluesky:
    fake = FakeBluesky(pds_url=PDS, resolver_url=PDS, plc_url=PDS, clock=clock)
    fake.add_account(HANDLE, DID, APP_PASSWORD)
    return fake


@pytest.fixture
async def http(fake: FakeBluesky) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake), base_url=PDS) as client:
        yield client


async def session(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.post(
        "/xrpc/com.atproto.server.createSession",
        json={"identifier": HANDLE, "password": APP_PASSWORD},
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def upload(http: httpx.AsyncClient, data: bytes, mime: str, token: str) -> httpx.Response:
    return await http.post(
        "/xrpc/com.atproto.repo.uploadBlob",
        content=data,
        headers={"Content-Type": mime, "Authorization": f"Bearer {token}"},
    )


async def create(
    http: httpx.AsyncClient, token: str, record: dict[str, Any], rkey: str | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"repo": DID, "collection": POST, "record": record}
    if rkey is not None:
        body["rkey"] = rkey
    return await http.post(
        "/xrpc/com.atproto.repo.createRecord",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    )


def post(text: str = "hi", **fields: Any) -> dict[str, Any]:
    return {"$type": POST, "text": text, "createdAt": CREATED, **fields}


def images(*blobs: dict[str, Any]) -> dict[str, Any]:
    return {
        "embed": {
            "$type": "app.bsky.embed.images",
            "images": [{"alt": "", "image": blob} for blob in blobs],
        }
    }


def xrpc_error(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["error"], body["message"]


async def test_uploads_are_capped_at_5_mib(http: httpx.AsyncClient) -> None:
    token = (await session(http))["accessJwt"]
    assert MAX_UPLOAD_BYTES == 5 * 1024 * 1024
    fits = await upload(http, JPEG + b"\x00" * (MAX_UPLOAD_BYTES - len(JPEG)), "image/jpeg", token)
    assert fits.status_code == 200
    too_big = await upload(
        http, JPEG + b"\x00" * (MAX_UPLOAD_BYTES + 1 - len(JPEG)), "image/jpeg", token
    )
    assert xrpc_error(too_big) == (413, "PayloadTooLarge", "request entity too large")


async def test_a_post_needs_a_tid_record_key(http: httpx.AsyncClient, fake: FakeBluesky) -> None:
    token = (await session(http))["accessJwt"]
    refused = await create(http, token, post(), rkey="my-post-1")
    assert xrpc_error(refused) == (
        400,
        "InvalidRequest",
        'Invalid record key for app.bsky.feed.post: Invalid TID string (got "my-post-1") at $',
    )
    assert fake.records == {}
    made_up = await create(http, token, post())  # no key: the PDS makes a TID
    assert made_up.status_code == 200
    assert TID.fullmatch(made_up.json()["uri"].rsplit("/", 1)[-1])
    assert (await create(http, token, post(), rkey=tid_for_key("k"))).status_code == 200


def test_crier_derives_valid_tids_from_any_key() -> None:
    keys = [f"target-{n}-occurrence-{n % 7}" for n in range(2000)] + ["", "é", "x" * 500]
    assert all(TID.fullmatch(tid_for_key(key)) for key in keys)
    assert len({tid_for_key(key) for key in keys}) == len(keys)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        pytest.param(
            post("x" * 301),
            "grapheme too big (maximum 300, got 301) at $.record.text",
            id="graphemes",
        ),
        pytest.param(
            post("👨‍👩‍👧‍👦" * 121),
            "string too big (maximum 3000, got 3025) at $.record.text",
            id="bytes-first",
        ),
        pytest.param(
            {"$type": POST, "createdAt": CREATED},
            'Missing required key "text" at $.record',
            id="no-text",
        ),
        pytest.param(
            post(createdAt="yesterday"),
            'Invalid datetime (got "yesterday") at $.record.createdAt',
            id="bad-date",
        ),
        pytest.param(
            post(embed={"$type": "app.bsky.embed.external", "external": {"uri": "https://x.y"}}),
            'Missing required key "title" at $.record.embed.external',
            id="card-without-title",
        ),
    ],
)
async def test_lexicon_errors_are_worded_like_atproto_lex(
    http: httpx.AsyncClient, record: dict[str, Any], message: str
) -> None:
    token = (await session(http))["accessJwt"]
    refused = await create(http, token, record, rkey=tid_for_key("k"))
    assert xrpc_error(refused) == (400, "InvalidRequest", f"Invalid {POST} record: {message}")


async def test_an_image_embed_takes_only_image_blobs_that_were_uploaded(
    http: httpx.AsyncClient,
) -> None:
    token = (await session(http))["accessJwt"]
    video = (await upload(http, MP4, "video/mp4", token)).json()["blob"]
    assert video["mimeType"] == "video/mp4"
    refused = await create(http, token, post(**images(video)), rkey=tid_for_key("a"))
    assert xrpc_error(refused) == (
        400,
        "InvalidRequest",
        f'Invalid {POST} record: Expected "image/*" (got "video/mp4") at '
        "$.record.embed.images[0].image.mimeType",
    )
    ghost = {"$type": "blob", "ref": {"$link": "bafkreighost"}, "mimeType": "image/png", "size": 9}
    missing = await create(http, token, post(**images(ghost)), rkey=tid_for_key("b"))
    assert xrpc_error(missing) == (400, "BlobNotFound", "Could not find blob: bafkreighost")
    photo = (await upload(http, JPEG, "image/png", token)).json()["blob"]
    assert photo["mimeType"] == "image/jpeg"  # sniffed from the bytes, not the header
    lying = {**photo, "mimeType": "image/png"}
    mismatch = await create(http, token, post(**images(lying)), rkey=tid_for_key("c"))
    assert xrpc_error(mismatch) == (
        400,
        "InvalidMimeType",
        "Referenced Mimetype does not match stored blob. Expected: image/jpeg, Got: image/png",
    )
    big = {**photo, "size": 1_000_001}
    too_big = await create(http, token, post(**images(big)), rkey=tid_for_key("d"))
    assert xrpc_error(too_big) == (
        400,
        "InvalidRequest",
        f"Invalid {POST} record: blob too big (maximum 1000000, got 1000001) at "
        "$.record.embed.images[0].image",
    )
    assert (
        await create(http, token, post(**images(photo)), rkey=tid_for_key("e"))
    ).status_code == 200


async def test_error_names(http: httpx.AsyncClient) -> None:
    unknown = await http.get(
        "/xrpc/com.atproto.identity.resolveHandle", params={"handle": "nobody.test"}
    )
    assert xrpc_error(unknown) == (400, "HandleNotFound", "Unable to resolve handle")
    anonymous = await http.post("/xrpc/com.atproto.repo.createRecord", json={})
    assert xrpc_error(anonymous) == (401, "AuthMissing", "Authentication Required")
    no_refresh = await http.post("/xrpc/com.atproto.server.refreshSession")
    assert xrpc_error(no_refresh) == (401, "AuthMissing", "Authentication Required")


async def test_sessions_carry_the_did_document_only_when_configured(
    http: httpx.AsyncClient, fake: FakeBluesky
) -> None:
    plain = await session(http)
    assert "didDoc" not in plain
    refreshed = await http.post(
        "/xrpc/com.atproto.server.refreshSession",
        headers={"Authorization": f"Bearer {plain['refreshJwt']}"},
    )
    assert "didDoc" not in refreshed.json()
    fake.did_doc_with_session = True
    with_doc = await session(http)
    assert with_doc["didDoc"]["id"] == DID
    assert with_doc["didDoc"]["service"][0]["serviceEndpoint"] == PDS


async def test_a_refresh_token_works_again_within_the_grace_period(
    http: httpx.AsyncClient, clock: Clock
) -> None:
    first = await session(http)

    async def refresh(token: str) -> httpx.Response:
        return await http.post(
            "/xrpc/com.atproto.server.refreshSession",
            headers={"Authorization": f"Bearer {token}"},
        )

    once = (await refresh(first["refreshJwt"])).json()
    clock.now += REFRESH_GRACE - 1
    again = (await refresh(first["refreshJwt"])).json()  # the first answer got lost
    assert again["refreshJwt"] == once["refreshJwt"]
    assert again["accessJwt"] != once["accessJwt"]
    clock.now += 2
    late = await refresh(first["refreshJwt"])
    assert xrpc_error(late) == (400, "ExpiredToken", "Token has been revoked")
    assert (await refresh(once["refreshJwt"])).status_code == 200


async def test_delete_record_removes_it_and_is_a_no_op_when_gone(
    http: httpx.AsyncClient, fake: FakeBluesky
) -> None:
    token = (await session(http))["accessJwt"]
    rkey = tid_for_key("k")
    assert (await create(http, token, post(), rkey=rkey)).status_code == 200

    async def delete() -> httpx.Response:
        return await http.post(
            "/xrpc/com.atproto.repo.deleteRecord",
            content=json.dumps({"repo": DID, "collection": POST, "rkey": rkey}),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )

    removed = await delete()
    assert removed.status_code == 200
    assert set(removed.json()) == {"commit"}
    assert fake.records == {}
    assert (await delete()).json() == {}  # already gone: no commit, no error
