"""Bluesky after publishing, against the in-memory PDS: the ref a thread leaves, deleting
every record of it, no edit, and settling an unknown outcome by reading the derived key."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from providers.base import AccountRef, NotPublished, PostContent, PublishResult
from providers.bluesky import BlueskyProvider
from providers.bluesky_records import tid_for_key
from providers.errors import PermanentError, TransientError
from tests.fakes.bluesky import FakeBluesky

HANDLE = "alice.test"
DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
PDS = "https://pds.example"
NOW = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
KEY = "target-9-occurrence-0"
POST = "app.bsky.feed.post"
THREAD = PostContent(text="One", thread=("Two", "Three"))


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


def uri(key: str) -> str:
    return f"at://{DID}/{POST}/{tid_for_key(key)}"


async def test_a_thread_leaves_every_record_uri_in_its_ref(
    fake: FakeBluesky, bluesky: BlueskyProvider
) -> None:
    result = await bluesky.publish(THREAD, account(), KEY)
    assert result.ref == {
        "did": DID,
        "uris": [uri(KEY), uri(f"{KEY}:2"), uri(f"{KEY}:3")],
        "parts": 3,
    }
    assert json.loads(json.dumps(result.ref)) == result.ref


async def test_deleting_a_thread_deletes_every_record_replies_first(
    fake: FakeBluesky, bluesky: BlueskyProvider
) -> None:
    result = await bluesky.publish(THREAD, account(), KEY)
    fake.requests.clear()
    await bluesky.delete(result, account())
    deletes = fake.calls("com.atproto.repo.deleteRecord")
    assert [(r.method, r.headers["authorization"]) for r in deletes] == [
        ("POST", "Bearer access-1")
    ] * 3
    assert [json.loads(r.content) for r in deletes] == [
        {"repo": DID, "collection": POST, "rkey": tid_for_key(f"{KEY}:3")},
        {"repo": DID, "collection": POST, "rkey": tid_for_key(f"{KEY}:2")},
        {"repo": DID, "collection": POST, "rkey": tid_for_key(KEY)},
    ]
    assert fake.posts(DID) == []
    await bluesky.delete(result, account())  # already gone: the PDS makes it a no-op


async def test_a_result_stored_before_refs_deletes_its_first_record(
    fake: FakeBluesky, bluesky: BlueskyProvider
) -> None:
    result = await bluesky.publish(PostContent(text="Old"), account(), KEY)
    await bluesky.delete(PublishResult(platform_id=result.platform_id), account())
    assert fake.posts(DID) == []


async def test_another_accounts_post_is_not_deleted(
    fake: FakeBluesky, bluesky: BlueskyProvider
) -> None:
    theirs = PublishResult(platform_id=f"at://did:plc:someone/{POST}/{tid_for_key('x')}")
    with pytest.raises(PermanentError, match="another Bluesky account"):
        await bluesky.delete(theirs, account())
    assert fake.calls("com.atproto.repo.deleteRecord") == []


async def test_a_lost_answer_to_a_delete_says_deleting_again_is_safe(
    fake: FakeBluesky, bluesky: BlueskyProvider
) -> None:
    result = await bluesky.publish(PostContent(text="Gone?"), account(), KEY)
    fake.lose_answer("com.atproto.repo.deleteRecord")
    with pytest.raises(TransientError) as raised:
        await bluesky.delete(result, account())
    assert str(raised.value) == "Bluesky did not answer in time; deleting again is safe."
    assert raised.value.ambiguous is False
    await bluesky.delete(result, account())
    assert fake.posts(DID) == []


async def test_there_is_no_edit_the_bot_offers_delete_and_post_again(
    fake: FakeBluesky, bluesky: BlueskyProvider
) -> None:
    result = await bluesky.publish(PostContent(text="Typo"), account(), KEY)
    calls = len(fake.requests)
    said = "Bluesky can't edit a post that is out; delete it and post it again instead."
    with pytest.raises(PermanentError) as raised:
        await bluesky.edit(result, PostContent(text="Fixed"), account())
    assert str(raised.value) == said
    assert len(fake.requests) == calls
    [problem] = bluesky.validate_edit(result, PostContent(text="Fixed"), account())
    assert (problem.code, problem.message) == ("no_edit", said)
    declared = bluesky.after_publish
    assert (declared.can_delete, declared.can_lookup, declared.can_edit) == (True, True, False)


async def test_lookup_finds_a_post_whose_answer_was_lost(
    fake: FakeBluesky, bluesky: BlueskyProvider
) -> None:
    # The record is written and its answer lost, and the check for it fails too: the
    # attempt's outcome is unknown.
    fake.lose_answer("com.atproto.repo.createRecord")
    fake.fail_next(
        "com.atproto.repo.getRecord",
        httpx.Response(502, json={"error": "UpstreamFailure", "message": "Upstream Failure"}),
    )
    with pytest.raises(TransientError):
        await bluesky.publish(PostContent(text="Out?"), account(), "key-gone")
    fake.requests.clear()
    found = await bluesky.lookup(PostContent(text="Out?"), account(), KEY)
    assert isinstance(found, NotPublished)  # nothing at this target's key
    found = await bluesky.lookup(PostContent(text="Out?"), account(), "key-gone")
    assert found == PublishResult(
        platform_id=uri("key-gone"),
        url=f"https://bsky.app/profile/{HANDLE}/post/{tid_for_key('key-gone')}",
        ref={"did": DID, "uris": [uri("key-gone")], "parts": 1},
    )
    reads = fake.calls("com.atproto.repo.getRecord")
    assert [(r.method, dict(r.url.params), r.headers.get("authorization")) for r in reads] == [
        ("GET", {"repo": DID, "collection": POST, "rkey": tid_for_key(KEY)}, None),
        ("GET", {"repo": DID, "collection": POST, "rkey": tid_for_key("key-gone")}, None),
    ]
    assert len(fake.posts(DID)) == 1  # looking wrote nothing


async def test_lookup_of_a_thread_cut_short_says_publishing_again_finishes_it(
    fake: FakeBluesky, bluesky: BlueskyProvider
) -> None:
    fake.lose_answer("com.atproto.repo.createRecord")  # part 1 written (and found again)
    fake.fail_next(  # part 2 refused by a failing server
        "com.atproto.repo.createRecord",
        httpx.Response(500, json={"error": "InternalServerError", "message": "boom"}),
    )
    with pytest.raises(TransientError):
        await bluesky.publish(THREAD, account(), KEY)
    assert await bluesky.lookup(THREAD, account(), KEY) == NotPublished(
        reason="1 of 3 parts of the thread are out; publishing again adds the rest."
    )
    result = await bluesky.publish(THREAD, account(), KEY)
    assert await bluesky.lookup(THREAD, account(), KEY) == result
    assert len(fake.posts(DID)) == 3


async def test_lookup_raises_when_the_pds_cannot_say(
    fake: FakeBluesky, bluesky: BlueskyProvider
) -> None:
    fake.fail_next(
        "com.atproto.repo.getRecord",
        httpx.Response(502, json={"error": "UpstreamFailure", "message": "Upstream Failure"}),
    )
    with pytest.raises(TransientError):
        await bluesky.lookup(PostContent(text="?"), account(), KEY)
