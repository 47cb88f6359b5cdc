"""Mastodon after publishing: the exact DELETE and PUT requests (respx), then deleting,
editing and looking a post up on the stateful fake."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from providers.base import (
    AccountRef,
    MediaFile,
    MediaKind,
    NotPublished,
    PostContent,
    PublishResult,
)
from providers.errors import PermanentError, RateLimited
from providers.mastodon import MastodonProvider
from tests.contract.case_mastodon import status_json
from tests.contract.harness import TINY_JPEG
from tests.fakes.mastodon import FakeMastodon

SERVER = "https://mastodon.example"
TOKEN = "SECRET-token-abcdefghijklmnop"
KEY = "target-7-occurrence-0"
THREAD = PostContent(text="One 1/3", thread=("Two 2/3", "Three 3/3"))


def account(server: str = SERVER, token: str = TOKEN, **config: Any) -> AccountRef:
    return AccountRef(
        id=1,
        platform="mastodon",
        label="@crier@mastodon.example",
        config={"instance_url": server, "domain": "mastodon.example", **config},
        credentials={"access_token": token},
    )


def photo(tmp_path: Path, name: str = "cat", alt: str | None = "A cat") -> MediaFile:
    path = tmp_path / f"{name}.jpg"
    path.write_bytes(TINY_JPEG)
    return MediaFile(
        kind=MediaKind.PHOTO, mime="image/jpeg", size=len(TINY_JPEG), path=path, alt_text=alt
    )


async def _no_sleep(_: float) -> None:
    return None


# -- the exact requests ------------------------------------------------------------------------


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=SERVER, assert_all_called=True) as mock:
        yield mock


@pytest.fixture
async def provider() -> AsyncIterator[MastodonProvider]:
    async with httpx.AsyncClient() as client:
        yield MastodonProvider(client, sleep=_no_sleep)


PUBLISHED = PublishResult(
    platform_id="1001",
    url=f"{SERVER}/@alice/1001",
    ref={
        "status_ids": ["1001", "1002", "1003"],
        "media_ids": [],
        "hashes": [],
        "parts": 3,
    },
)


async def test_delete_sends_delete_for_every_status_last_reply_first(
    provider: MastodonProvider, router: respx.MockRouter
) -> None:
    route = router.route(method="DELETE", path__regex=r"^/api/v1/statuses/\d+$").mock(
        side_effect=[
            httpx.Response(200, json=status_json("1003")),
            httpx.Response(404, json={"error": "Record not found"}),  # deleted by hand already
            httpx.Response(200, json=status_json("1001")),
        ]
    )
    await provider.delete(PUBLISHED, account())
    requests = [call.request for call in route.calls]
    assert [(r.method, str(r.url)) for r in requests] == [
        ("DELETE", f"{SERVER}/api/v1/statuses/1003?delete_media=true"),
        ("DELETE", f"{SERVER}/api/v1/statuses/1002?delete_media=true"),
        ("DELETE", f"{SERVER}/api/v1/statuses/1001?delete_media=true"),
    ]
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in requests)


async def test_edit_puts_the_text_media_and_descriptions(
    provider: MastodonProvider, router: respx.MockRouter, tmp_path: Path
) -> None:
    published = PublishResult(
        platform_id="1001",
        url=f"{SERVER}/@alice/1001",
        ref={"status_ids": ["1001"], "media_ids": ["m1"], "hashes": ["x"], "parts": 1},
    )
    route = router.put("/api/v1/statuses/1001").mock(
        return_value=httpx.Response(200, json=status_json("1001"))
    )
    post = PostContent(text="Fixed text", media=(photo(tmp_path, alt="A black cat"),))
    config = {"content_warning": "Cats", "language": "en"}
    edited = await provider.edit(published, post, account(**config))
    request = route.calls.last.request
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert json.loads(request.content) == {
        "status": "Fixed text",
        "spoiler_text": "Cats",
        "language": "en",
        "media_ids": ["m1"],
        "media_attributes": [{"id": "m1", "description": "A black cat"}],
    }
    assert edited.platform_id == "1001"
    assert edited.ref["status_ids"] == ["1001"]


# -- on the stateful fake ------------------------------------------------------------------------


@pytest.fixture
async def fake_http() -> AsyncIterator[tuple[FakeMastodon, httpx.AsyncClient]]:
    fake = FakeMastodon(domain="mastodon.example", max_characters=500)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fake.app), base_url="http://mastodon.test"
    ) as client:
        yield fake, client


def on_fake(fake: FakeMastodon, **config: Any) -> AccountRef:
    return account(
        "http://localhost", fake.token, account_id=fake.account_id, username=fake.username, **config
    )


@pytest.fixture
def fake(fake_http: tuple[FakeMastodon, httpx.AsyncClient]) -> FakeMastodon:
    return fake_http[0]


@pytest.fixture
def mastodon(fake_http: tuple[FakeMastodon, httpx.AsyncClient]) -> MastodonProvider:
    return MastodonProvider(fake_http[1], sleep=_no_sleep)


async def test_a_published_thread_is_deleted_whole(
    fake: FakeMastodon, mastodon: MastodonProvider
) -> None:
    result = await mastodon.publish(THREAD, on_fake(fake), KEY)
    ids = [s.id for s in fake.statuses]
    assert result.ref["status_ids"] == ids
    assert result.ref["parts"] == 3
    await mastodon.delete(result, on_fake(fake))
    assert fake.statuses == []
    assert [s.id for s in fake.deleted] == ids[::-1]
    await mastodon.delete(result, on_fake(fake))  # gone already: 404s are fine


async def test_deleting_too_fast_is_rate_limited(
    fake_http: tuple[FakeMastodon, httpx.AsyncClient],
) -> None:
    fake, http = fake_http
    fake.delete_rate_limit = (1, 1800.0)
    mastodon = MastodonProvider(http, sleep=_no_sleep)
    first = await mastodon.publish(PostContent(text="one"), on_fake(fake), "a")
    second = await mastodon.publish(PostContent(text="two"), on_fake(fake), "b")
    await mastodon.delete(first, on_fake(fake))
    with pytest.raises(RateLimited):
        await mastodon.delete(second, on_fake(fake))


async def test_editing_a_thread_puts_only_the_parts_that_changed(
    fake: FakeMastodon, mastodon: MastodonProvider
) -> None:
    result = await mastodon.publish(THREAD, on_fake(fake), KEY)
    fake.requests.clear()
    new = PostContent(text="One 1/3", thread=("Two, fixed 2/3", "Three 3/3"))
    edited = await mastodon.edit(result, new, on_fake(fake))
    puts = [r for r in fake.requests if r.method == "PUT"]
    first, second, third = fake.statuses
    assert [(r.path, r.json) for r in puts] == [
        (f"/api/v1/statuses/{first.id}", {"status": "One 1/3"}),
        (f"/api/v1/statuses/{second.id}", {"status": "Two, fixed 2/3"}),
    ]
    assert [s.text for s in fake.statuses] == ["One 1/3", "Two, fixed 2/3", "Three 3/3"]
    assert second.edits == [("Two 2/3", "", [])]
    assert third.edits == []
    assert edited.ref["status_ids"] == result.ref["status_ids"]
    assert edited.ref["hashes"] != result.ref["hashes"]
    assert await mastodon.edit(edited, new, on_fake(fake)) == edited


async def test_editing_with_new_media_uploads_and_replaces_them(
    fake: FakeMastodon, mastodon: MastodonProvider, tmp_path: Path
) -> None:
    result = await mastodon.publish(
        PostContent(text="Pet", media=(photo(tmp_path, "cat"),)), on_fake(fake), KEY
    )
    [old] = fake.media
    new = PostContent(text="Pet!", media=(photo(tmp_path, "dog", alt="A dog"),))
    edited = await mastodon.edit(result, new, on_fake(fake), media_changed=True)
    [status] = fake.statuses
    [kept] = status.media
    assert kept.id != old.id
    assert (kept.description, status.text) == ("A dog", "Pet!")
    assert old.status_id is None
    assert edited.ref["media_ids"] == [kept.id]


async def test_editing_keeps_the_media_and_updates_their_description(
    fake: FakeMastodon, mastodon: MastodonProvider, tmp_path: Path
) -> None:
    cat = photo(tmp_path, "cat", alt="A cat")
    result = await mastodon.publish(PostContent(text="Pet", media=(cat,)), on_fake(fake), KEY)
    fake.requests.clear()
    relabelled = MediaFile(**{**cat.__dict__, "alt_text": "A sleepy cat"})
    await mastodon.edit(result, PostContent(text="Pet", media=(relabelled,)), on_fake(fake))
    assert [r.path for r in fake.requests] == [f"/api/v1/statuses/{fake.statuses[0].id}"]
    assert fake.statuses[0].media[0].description == "A sleepy cat"


@pytest.mark.parametrize(
    ("new", "says"),
    [
        pytest.param(
            PostContent(text="x" * 501, thread=("Two 2/3", "Three 3/3")),
            "Part 1 of 3 is 501 characters",
            id="too-long-as-at-compose-time",
        ),
        pytest.param(
            PostContent(text="One 1/3", thread=("Two 2/3",)),
            "The post went out as 3 part(s); an edit can change their text but not make them 2.",
            id="thread-shape",
        ),
    ],
)
async def test_an_edit_mastodon_would_refuse_is_refused_before_any_request(
    fake: FakeMastodon, mastodon: MastodonProvider, new: PostContent, says: str
) -> None:
    result = await mastodon.publish(THREAD, on_fake(fake), KEY)
    fake.requests.clear()
    with pytest.raises(PermanentError, match=re.escape(says)):
        await mastodon.edit(result, new, on_fake(fake))
    assert fake.requests == []


# -- lookup --------------------------------------------------------------------------------------


def due(minutes_ago: float = 1) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes_ago)


async def test_lookup_finds_the_status_as_mastodon_rendered_it(
    fake: FakeMastodon, mastodon: MastodonProvider
) -> None:
    text = (
        "Release notes: https://example.com/releases/2025/a-rather-long-path?x=1\n"
        "Thanks @bob@other.example and #OpenSource!\n\nMore soon."
    )
    post = PostContent(text=text, scheduled_at=due())
    result = await mastodon.publish(post, on_fake(fake), KEY)
    assert "<br />" in fake._status_json(fake.statuses[0])["content"]
    fake.requests.clear()
    assert await mastodon.lookup(post, on_fake(fake), KEY) == result
    [read] = fake.requests
    assert (read.method, read.path) == ("GET", f"/api/v1/accounts/{fake.account_id}/statuses")
    assert read.headers["authorization"] == f"Bearer {fake.token}"
    assert len(fake.statuses) == 1  # looking posted nothing


async def test_lookup_finds_a_whole_thread(fake: FakeMastodon, mastodon: MastodonProvider) -> None:
    post = PostContent(text=THREAD.text, thread=THREAD.thread, scheduled_at=due())
    result = await mastodon.publish(post, on_fake(fake), KEY)
    assert await mastodon.lookup(post, on_fake(fake), KEY) == result


async def test_lookup_says_not_published_when_nothing_was_posted_since(
    fake: FakeMastodon, mastodon: MastodonProvider
) -> None:
    await mastodon.publish(PostContent(text="Yesterday's"), on_fake(fake), "old")
    fake.advance(3600)  # an hour later the new post falls due
    post = PostContent(text="Today's", scheduled_at=datetime.now(UTC) + timedelta(minutes=59))
    assert await mastodon.lookup(post, on_fake(fake), KEY) == NotPublished(
        reason="The account has posted nothing since the post was due."
    )


async def test_lookup_cannot_tell_when_other_posts_are_there_or_the_time_is_unknown(
    fake: FakeMastodon, mastodon: MastodonProvider
) -> None:
    await mastodon.publish(PostContent(text="Something else"), on_fake(fake), "other")
    assert (
        await mastodon.lookup(PostContent(text="Mine", scheduled_at=due()), on_fake(fake), KEY)
        is None
    )
    assert await mastodon.lookup(PostContent(text="Mine"), on_fake(fake), KEY) is None


async def test_lookup_of_a_thread_cut_short_cannot_tell(
    fake: FakeMastodon, mastodon: MastodonProvider
) -> None:
    post = PostContent(text=THREAD.text, thread=THREAD.thread, scheduled_at=due())
    await mastodon.publish(post, on_fake(fake), KEY)
    fake.statuses.pop()  # the third part never made it
    assert await mastodon.lookup(post, on_fake(fake), KEY) is None


async def test_lookup_without_read_statuses_reads_public_statuses(
    fake: FakeMastodon, mastodon: MastodonProvider
) -> None:
    fake.read_statuses = False
    post = PostContent(text="Public post", scheduled_at=due())
    result = await mastodon.publish(post, on_fake(fake), KEY)
    assert await mastodon.lookup(post, on_fake(fake), KEY) == result
    reads = [r for r in fake.requests if r.method == "GET"]
    assert ["authorization" in r.headers for r in reads] == [True, False]

    private = PostContent(text="Followers only", scheduled_at=due())
    fake.statuses.clear()
    await mastodon.publish(private, on_fake(fake, visibility="private"), "p")
    assert await mastodon.lookup(private, on_fake(fake, visibility="private"), "p") is None
