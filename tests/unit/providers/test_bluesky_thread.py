"""Bluesky threads against the in-memory PDS: the exact records of a three-part thread
(reply root and parent as strong refs, record keys from the idempotency key), each part's
own link card, and a retry after a failure midway that writes nothing twice."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from providers.base import AccountRef, MediaFile, MediaKind, PostContent
from providers.bluesky import BlueskyProvider
from providers.bluesky_records import tid_for_key
from providers.errors import PermanentError, TransientError
from tests.contract.harness import TINY_JPEG
from tests.fakes.bluesky import FakeBluesky

HANDLE = "alice.test"
DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
PDS = "https://pds.example"
NOW = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
KEY = "target-9-occurrence-0"
CREATE_RECORD = "com.atproto.repo.createRecord"


@pytest.fixture
def fake() -> FakeBluesky:
    fake = FakeBluesky(pds_url=PDS, resolver_url=PDS, plc_url=PDS)
    fake.add_account(HANDLE, DID, APP_PASSWORD)
    return fake


@pytest.fixture
async def bluesky(fake: FakeBluesky) -> AsyncIterator[BlueskyProvider]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as client:
        yield BlueskyProvider(
            client, resolver_url=PDS, plc_url=PDS, link_previews=False, clock=lambda: NOW
        )


def account() -> AccountRef:
    return AccountRef(
        id=7,
        platform="bluesky",
        label=f"@{HANDLE}",
        config={"pds_url": PDS, "did": DID, "handle": HANDLE},
        credentials={"app_password": APP_PASSWORD},
    )


def sent_records(fake: FakeBluesky) -> list[dict[str, Any]]:
    return [json.loads(r.content) for r in fake.calls(CREATE_RECORD)]


def ref(fake: FakeBluesky, key: str) -> dict[str, str]:
    stored = fake.records[(DID, "app.bsky.feed.post", tid_for_key(key))]
    return {"uri": stored["uri"], "cid": stored["cid"]}


async def test_a_three_part_thread_is_three_records_replying_in_order(
    fake: FakeBluesky, bluesky: BlueskyProvider, tmp_path: Any
) -> None:
    photo = tmp_path / "cat.jpg"
    photo.write_bytes(TINY_JPEG)
    image = MediaFile(
        kind=MediaKind.PHOTO, mime="image/jpeg", size=len(TINY_JPEG), path=photo, alt_text="A cat"
    )
    post = PostContent(
        text="One 1/3",
        media=(image,),
        thread=("Two, see https://example.com/two 2/3", "Three 3/3"),
    )

    result = await bluesky.publish(post, account(), KEY)

    bodies = sent_records(fake)
    assert [b["rkey"] for b in bodies] == [
        tid_for_key(KEY),
        tid_for_key(f"{KEY}:2"),
        tid_for_key(f"{KEY}:3"),
    ]
    assert [b["repo"] for b in bodies] == [DID] * 3
    first, second, third = (b["record"] for b in bodies)
    root = ref(fake, KEY)
    assert "reply" not in first
    assert first["embed"]["$type"] == "app.bsky.embed.images"  # the media go with part 1
    assert second["reply"] == {"root": root, "parent": root}
    assert third["reply"] == {"root": root, "parent": ref(fake, f"{KEY}:2")}
    assert [r["text"] for r in (first, second, third)] == [
        "One 1/3",
        "Two, see https://example.com/two 2/3",
        "Three 3/3",
    ]
    # Part 2 links its own URL (facet and card); part 3 has neither.
    assert second["facets"][0]["features"][0]["uri"] == "https://example.com/two"
    assert second["embed"]["external"]["uri"] == "https://example.com/two"
    assert "embed" not in third
    # A millisecond apart, in order.
    assert [r["createdAt"] for r in (first, second, third)] == [
        "2025-03-01T12:00:00.123Z",
        "2025-03-01T12:00:00.124Z",
        "2025-03-01T12:00:00.125Z",
    ]
    assert result.platform_id == root["uri"]
    assert result.url == f"https://bsky.app/profile/{HANDLE}/post/{tid_for_key(KEY)}"


async def test_a_retry_after_a_failure_midway_writes_only_what_is_missing(
    fake: FakeBluesky,
) -> None:
    creates = 0

    def flaky(request: httpx.Request) -> httpx.Response:
        """The PDS, except that the first try's third create never reaches it."""
        nonlocal creates
        if request.url.path == f"/xrpc/{CREATE_RECORD}":
            creates += 1
            if creates == 3:
                raise httpx.ConnectError("refused")
        return fake(request)

    post = PostContent(text="One 1/3", thread=("Two 2/3", "Three 3/3"))
    async with httpx.AsyncClient(transport=httpx.MockTransport(flaky)) as client:
        bluesky = BlueskyProvider(
            client, resolver_url=PDS, plc_url=PDS, link_previews=False, clock=lambda: NOW
        )
        with pytest.raises(TransientError):
            await bluesky.publish(post, account(), KEY)
        assert [p["text"] for p in fake.posts(DID)] == ["One 1/3", "Two 2/3"]
        result = await bluesky.publish(post, account(), KEY)  # the engine's retry

    texts = [p["text"] for p in fake.posts(DID)]
    assert texts == ["One 1/3", "Two 2/3", "Three 3/3"]
    third = fake.records[(DID, "app.bsky.feed.post", tid_for_key(f"{KEY}:3"))]["value"]
    assert third["reply"] == {"root": ref(fake, KEY), "parent": ref(fake, f"{KEY}:2")}
    assert result.platform_id == ref(fake, KEY)["uri"]


async def test_a_refused_later_part_says_the_first_ones_are_out(
    fake: FakeBluesky, bluesky: BlueskyProvider
) -> None:
    post = PostContent(text="One 1/2", thread=("x" * 301,))  # the PDS refuses part 2
    with pytest.raises(PermanentError) as refused:
        await bluesky.publish(post, account(), KEY)
    assert "first 1 of 2 posts of the thread are out" in str(refused.value)
    assert "Bluesky refused part 2" in str(refused.value)


def test_validate_checks_every_part_in_graphemes_and_bytes(bluesky: BlueskyProvider) -> None:
    family = "👨‍👩‍👧‍👦"  # one grapheme, 25 bytes
    ok = PostContent(text="a" * 300, thread=(family * 119 + "abc",))
    assert bluesky.validate(ok, account()) == []
    long = PostContent(text="a" * 300, thread=("b" * 301, family * 121))
    assert [(p.code, p.message.split(";")[0]) for p in bluesky.validate(long, account())] == [
        ("text_too_long", "Part 2 of 3 is 301 characters"),
        ("text_too_many_bytes", "Part 3 of 3 is 3,025 bytes"),
    ]
