"""X after publishing: the exact DELETE and edit requests (respx), then deleting and editing
threads on the stateful fake X (the edit window, the edit count, X Premium), and no lookup."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from providers.base import AccountRef, MediaFile, MediaKind, PostContent, PublishResult
from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from providers.x import XProvider
from providers.x_after import text_hash
from tests.contract.harness import TINY_JPEG
from tests.fakes.x import FakeUser, FakeX

API = "https://api.x.com"
TOKEN = "SECRET-x-token-abcdefghijklmnop"
KEY = "target-5-occurrence-1"
THREAD = PostContent(text="One 1/3", thread=("Two 2/3", "Three 3/3"))


class Clock:
    def __init__(self) -> None:
        self.now = 1_790_000_000.0

    def __call__(self) -> float:
        return self.now


def premium(**credentials: str) -> AccountRef:
    return AccountRef(
        id=1,
        platform="x",
        label="@crier_test",
        config={"user_id": "7", "username": "crier_test", "subscription_type": "Premium"},
        credentials=credentials or {"access_token": TOKEN},
    )


def published(*ids: str, posted_at: int = 1_790_000_000, **ref: Any) -> PublishResult:
    texts = ["One 1/3", "Two 2/3", "Three 3/3"][: len(ids)]
    return PublishResult(
        platform_id=ids[0],
        url=f"https://x.com/crier_test/status/{ids[0]}",
        ref={
            "post_ids": list(ids),
            "media_ids": [],
            "hashes": [text_hash(t) for t in texts],
            "edits": [0] * len(ids),
            "posted_at": posted_at,
            "parts": len(ids),
            **ref,
        },
    )


def problem(status: int, title: str, detail: str) -> httpx.Response:
    body = {"title": title, "detail": detail, "type": "about:blank", "status": status}
    return httpx.Response(status, json=body)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


# -- the exact requests ------------------------------------------------------------------------


async def test_delete_sends_one_delete_per_post_the_last_reply_first(
    http: httpx.AsyncClient, router: respx.MockRouter, clock: Clock
) -> None:
    route = router.delete(url__regex=rf"^{API}/2/tweets/\d+$").mock(
        return_value=httpx.Response(200, json={"data": {"deleted": True}})
    )
    await XProvider(http, now=clock).delete(published("11", "12", "13"), premium())
    assert [c.request.url.path for c in route.calls] == [
        "/2/tweets/13",
        "/2/tweets/12",
        "/2/tweets/11",
    ]
    for call in route.calls:
        assert call.request.headers["authorization"] == f"Bearer {TOKEN}"
        assert call.request.content == b""


@pytest.mark.parametrize(
    "answer",
    [
        problem(404, "Not Found Error", "Could not find tweet with id: [12]."),
        httpx.Response(200, json={"data": {"deleted": False}}),
    ],
    ids=["404", "deleted-false"],
)
async def test_a_post_already_gone_counts_as_deleted(
    http: httpx.AsyncClient, router: respx.MockRouter, answer: httpx.Response
) -> None:
    router.delete(f"{API}/2/tweets/12").mock(return_value=answer)
    router.delete(f"{API}/2/tweets/11").mock(
        return_value=httpx.Response(200, json={"data": {"deleted": True}})
    )
    await XProvider(http).delete(published("11", "12"), premium())


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (problem(401, "Unauthorized", "Unauthorized"), AuthError),
        (problem(403, "Forbidden", "You are not allowed to delete this Tweet."), PermanentError),
        (
            httpx.Response(
                429,
                json={"title": "Too Many Requests", "detail": "Too Many Requests"},
                headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": "1790000900"},
            ),
            RateLimited,
        ),
        (problem(503, "Service Unavailable", "Service Unavailable"), TransientError),
    ],
    ids=["401", "403", "429", "503"],
)
async def test_delete_errors_map_to_their_class(
    http: httpx.AsyncClient,
    router: respx.MockRouter,
    clock: Clock,
    answer: httpx.Response,
    error: type[Exception],
) -> None:
    router.delete(f"{API}/2/tweets/11").mock(return_value=answer)
    with pytest.raises(error) as raised:
        await XProvider(http, now=clock).delete(published("11"), premium())
    assert TOKEN not in str(raised.value)
    if isinstance(raised.value, RateLimited):
        assert raised.value.retry_after == 900.0


async def test_a_lost_delete_answer_is_safe_to_repeat(
    http: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    router.delete(f"{API}/2/tweets/11").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(TransientError, match="deleting again is safe") as raised:
        await XProvider(http).delete(published("11"), premium())
    assert raised.value.ambiguous is False


async def test_a_result_from_before_refs_deletes_its_platform_id(
    http: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    route = router.delete(f"{API}/2/tweets/99").mock(
        return_value=httpx.Response(200, json={"data": {"deleted": True}})
    )
    await XProvider(http).delete(PublishResult(platform_id="99"), premium())
    assert route.called


async def test_an_edit_is_create_with_edit_options_and_keeps_the_media(
    http: httpx.AsyncClient, router: respx.MockRouter, clock: Clock
) -> None:
    route = router.post(f"{API}/2/tweets").mock(
        return_value=httpx.Response(
            201,
            json={
                "data": {
                    "id": "21",
                    "text": "One, fixed",
                    "edit_history_tweet_ids": ["11", "21"],
                }
            },
        )
    )
    before = published("11", media_ids=["3_555"])
    clock.now += 600
    edited = await XProvider(http, now=clock).edit(
        before, PostContent(text="One, fixed"), premium()
    )
    [call] = route.calls
    assert json.loads(call.request.content) == {
        "text": "One, fixed",
        "edit_options": {"previous_post_id": "11"},
        "media": {"media_ids": ["3_555"]},
    }
    assert edited.platform_id == "11"
    assert edited.url == "https://x.com/crier_test/status/21"
    assert edited.ref["post_ids"] == ["21"]
    assert edited.ref["edits"] == [1]
    assert edited.ref["hashes"] == [text_hash("One, fixed")]
    assert edited.ref["posted_at"] == before.ref["posted_at"]
    assert edited.ref["parts"] == 1


async def test_a_lost_edit_answer_is_safe_to_repeat(
    http: httpx.AsyncClient, router: respx.MockRouter, clock: Clock
) -> None:
    router.post(f"{API}/2/tweets").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(TransientError, match="editing again is safe"):
        await XProvider(http, now=clock).edit(published("11"), PostContent(text="New"), premium())


# -- on the fake X -----------------------------------------------------------------------------


@pytest.fixture
def fake(clock: Clock) -> FakeX:
    return FakeX(clock=clock)


@pytest.fixture
def user(fake: FakeX) -> FakeUser:
    return fake.add_user("crier_test", subscription_type="Premium")


@pytest.fixture
async def on_fake(fake: FakeX) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as client:
        yield client


@pytest.fixture
def provider(on_fake: httpx.AsyncClient, clock: Clock) -> XProvider:
    return XProvider(on_fake, now=clock)


def account_of(fake: FakeX, user: FakeUser) -> AccountRef:
    return AccountRef(
        id=2,
        platform="x",
        label=f"@{user.username}",
        config={
            "user_id": user.id,
            "username": user.username,
            "subscription_type": user.subscription_type,
        },
        credentials={"access_token": fake.issue_token(user)},
    )


def photo(tmp_path: Path) -> MediaFile:
    path = tmp_path / "cat.jpg"
    path.write_bytes(TINY_JPEG)
    return MediaFile(kind=MediaKind.PHOTO, mime="image/jpeg", size=len(TINY_JPEG), path=path)


async def _publish(provider: XProvider, post: PostContent, account: AccountRef) -> PublishResult:
    result = await provider.publish(post, account, KEY)
    assert isinstance(result, PublishResult)
    return result


async def test_the_published_ref_holds_what_delete_and_edit_need(
    provider: XProvider, fake: FakeX, user: FakeUser, tmp_path: Path
) -> None:
    post = PostContent(text="One 1/2", media=(photo(tmp_path),), thread=("Two 2/2",))
    result = await _publish(provider, post, account_of(fake, user))
    first, second = fake.posts
    assert result.ref == {
        "post_ids": [first.id, second.id],
        "media_ids": first.media_ids,
        "hashes": [text_hash("One 1/2"), text_hash("Two 2/2")],
        "edits": [0, 0],
        "posted_at": 1_790_000_000,
        "parts": 2,
    }


async def test_deleting_a_thread_removes_every_post_and_again_is_fine(
    provider: XProvider, fake: FakeX, user: FakeUser
) -> None:
    account = account_of(fake, user)
    result = await _publish(provider, THREAD, account)
    assert len(fake.posts) == 3
    await provider.delete(result, account)
    assert fake.posts == []
    deletes = [r.url.path for r in fake.calls("DELETE /2/tweets/{id}")]
    assert deletes == [f"/2/tweets/{i}" for i in reversed(result.ref["post_ids"])]
    await provider.delete(result, account)  # every post answers 404 now: still deleted


async def test_editing_a_thread_edits_only_the_parts_that_changed(
    provider: XProvider, fake: FakeX, user: FakeUser, clock: Clock
) -> None:
    account = account_of(fake, user)
    result = await _publish(provider, THREAD, account)
    one, two, three = fake.posts
    clock.now += 300
    new = PostContent(text="One 1/3", thread=("Two, fixed 2/3", "Three 3/3"))
    edited = await provider.edit(result, new, account)
    assert len(fake.calls("POST /2/tweets")) == 4  # three posts, one edit
    assert [p.text for p in fake.posts] == ["One 1/3", "Two, fixed 2/3", "Three 3/3"]
    latest = fake.posts[1]
    assert latest.history == [two.id, latest.id]
    assert edited.platform_id == one.id
    assert edited.ref["post_ids"] == [one.id, latest.id, three.id]
    assert edited.ref["edits"] == [0, 1, 0]
    # A second edit edits the latest version, and deleting removes the edited chain too.
    again = await provider.edit(
        edited, PostContent(text="One 1/3", thread=("Two, again 2/3", "Three 3/3")), account
    )
    assert fake.posts[1].history[:2] == [two.id, latest.id]
    assert again.ref["edits"] == [0, 2, 0]
    await provider.delete(again, account)
    assert fake.posts == []


async def test_an_edit_keeps_the_photo(
    provider: XProvider, fake: FakeX, user: FakeUser, tmp_path: Path
) -> None:
    account = account_of(fake, user)
    result = await _publish(provider, PostContent(text="Cat", media=(photo(tmp_path),)), account)
    media = fake.posts[0].media_ids
    await provider.edit(result, PostContent(text="A cat", media=(photo(tmp_path),)), account)
    assert fake.posts[0].text == "A cat"
    assert fake.posts[0].media_ids == media


async def test_after_30_minutes_the_edit_is_refused_before_asking_x(
    provider: XProvider, fake: FakeX, user: FakeUser, clock: Clock
) -> None:
    account = account_of(fake, user)
    result = await _publish(provider, PostContent(text="Hello"), account)
    clock.now += 29 * 60 + 30
    problems = provider.validate_edit(result, PostContent(text="Hi"), account)
    assert [p.code for p in problems] == ["edit_window"]
    assert "first 30 minutes" in problems[0].message
    before = len(fake.requests)
    with pytest.raises(PermanentError, match="Delete it and post it again"):
        await provider.edit(result, PostContent(text="Hi"), account)
    assert len(fake.requests) == before


async def test_a_sixth_edit_is_refused_before_asking_x(
    provider: XProvider, fake: FakeX, user: FakeUser
) -> None:
    account = account_of(fake, user)
    result = await _publish(provider, PostContent(text="Edit 0"), account)
    for number in range(1, 6):
        result = await provider.edit(result, PostContent(text=f"Edit {number}"), account)
    assert fake.posts[0].text == "Edit 5"
    assert [p.code for p in provider.validate_edit(result, PostContent(text="6"), account)] == [
        "edit_limit"
    ]
    # The same text changes nothing, so it is no edit and nothing to refuse.
    assert provider.validate_edit(result, PostContent(text="Edit 5"), account) == []


async def test_only_premium_accounts_can_edit(
    provider: XProvider, fake: FakeX, clock: Clock
) -> None:
    user = fake.add_user("plain", subscription_type="None")
    account = account_of(fake, user)
    declared = provider.after_publish_for(account)
    assert declared.can_delete
    assert not declared.can_edit
    assert provider.after_publish_for(premium()).can_edit_text
    result = await _publish(provider, PostContent(text="Hello"), account)
    before = len(fake.requests)
    with pytest.raises(PermanentError, match="X Premium"):
        await provider.edit(result, PostContent(text="Hi"), account)
    assert len(fake.requests) == before
    # X itself refuses too, should a stale account config say Premium.
    stale = AccountRef(
        **{**account.__dict__, "config": {**account.config, "subscription_type": "Premium"}}
    )
    with pytest.raises(PermanentError, match="X refused"):
        await provider.edit(result, PostContent(text="Hi"), stale)


async def test_media_can_t_be_changed(provider: XProvider, fake: FakeX, user: FakeUser) -> None:
    account = account_of(fake, user)
    result = await _publish(provider, PostContent(text="Hello"), account)
    codes = {
        p.code
        for p in provider.validate_edit(result, PostContent(text="Hi"), account, media_changed=True)
    }
    assert "media_not_editable" in codes


async def test_there_is_no_lookup(provider: XProvider, fake: FakeX, user: FakeUser) -> None:
    account = account_of(fake, user)
    assert not provider.after_publish_for(account).can_lookup
    assert await provider.lookup(PostContent(text="Hello"), account, KEY) is None
    assert fake.requests == []
