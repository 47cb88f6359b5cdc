"""Mastodon threads: the exact requests of a three-part thread (respx), then the chain of
replies on the stateful fake, and a retry after a failure midway that posts nothing twice."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping

import httpx
import pytest
import respx

from providers.base import AccountRef, PostContent
from providers.errors import PermanentError, TransientError
from providers.mastodon import MastodonProvider
from tests.contract.case_mastodon import status_json
from tests.fakes.mastodon import FakeMastodon

SERVER = "https://mastodon.example"
TOKEN = "SECRET-token-abcdefghijklmnop"
KEY = "target-7-occurrence-0"
THREAD = PostContent(text="One 1/3", thread=("Two 2/3", "Three 3/3"))


def account(config: Mapping[str, object] | None = None) -> AccountRef:
    return AccountRef(
        id=1,
        platform="mastodon",
        label="@alice@mastodon.example",
        config={"instance_url": SERVER, "domain": "mastodon.example", **(config or {})},
        credentials={"access_token": TOKEN},
    )


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=SERVER, assert_all_called=True) as mock:
        yield mock


@pytest.fixture
async def provider() -> AsyncIterator[MastodonProvider]:
    async with httpx.AsyncClient() as client:
        yield MastodonProvider(client)


async def test_a_three_part_thread_is_three_statuses_each_replying_to_the_one_before(
    provider: MastodonProvider, router: respx.MockRouter
) -> None:
    route = router.post("/api/v1/statuses").mock(
        side_effect=[
            httpx.Response(200, json=status_json("1001")),
            httpx.Response(200, json=status_json("1002")),
            httpx.Response(200, json=status_json("1003")),
        ]
    )
    config = {"visibility": "unlisted", "content_warning": "Long read"}

    result = await provider.publish(THREAD, account(config), KEY)

    requests = [call.request for call in route.calls]
    assert [json.loads(r.content) for r in requests] == [
        {"status": "One 1/3", "visibility": "unlisted", "spoiler_text": "Long read"},
        {
            "status": "Two 2/3",
            "visibility": "unlisted",
            "in_reply_to_id": "1001",
            "spoiler_text": "Long read",
        },
        {
            "status": "Three 3/3",
            "visibility": "unlisted",
            "in_reply_to_id": "1002",
            "spoiler_text": "Long read",
        },
    ]
    assert [r.headers["idempotency-key"] for r in requests] == [KEY, f"{KEY}:2", f"{KEY}:3"]
    # The result is the thread's first post: that is what the user's link opens.
    assert (result.platform_id, result.url) == ("1001", f"{SERVER}/@alice/1001")


async def test_a_refused_later_part_says_the_first_ones_are_out(
    provider: MastodonProvider, router: respx.MockRouter
) -> None:
    router.post("/api/v1/statuses").mock(
        side_effect=[
            httpx.Response(200, json=status_json("1001")),
            httpx.Response(422, json={"error": "Validation failed: Text can't be blank"}),
        ]
    )
    with pytest.raises(PermanentError) as refused:
        await provider.publish(THREAD, account(), KEY)
    assert "first 1 of 3 posts of the thread are out" in str(refused.value)
    assert "refused part 2" in str(refused.value)


def test_validate_counts_every_part_as_mastodon_does(provider: MastodonProvider) -> None:
    link = "https://example.com/" + "x" * 600  # counts as 23
    ok = PostContent(text="a" * 500, thread=(f"See {link}", "b" * 500))
    assert provider.validate(ok, account()) == []
    long = PostContent(text="a" * 500, thread=("b" * 501,))
    [problem] = provider.validate(long, account())
    assert problem.code == "text_too_long"
    assert problem.message.startswith("Part 2 of 2 is 501 characters")
    assert provider.text_length(f"See {link}", account()) == 27


class FailThird(httpx.AsyncBaseTransport):
    """The fake server, except that the third status request of the first try fails."""

    def __init__(self, fake: FakeMastodon) -> None:
        self._inner = httpx.ASGITransport(app=fake.app)
        self.statuses = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/statuses":
            self.statuses += 1
            if self.statuses == 3:
                return httpx.Response(503, json={"error": "Service Unavailable"})
        return await self._inner.handle_async_request(request)


async def test_the_fake_server_gets_the_chain_and_a_retry_midway_posts_nothing_twice() -> None:
    fake = FakeMastodon(domain="mastodon.example")
    async with httpx.AsyncClient(transport=FailThird(fake)) as client:
        provider = MastodonProvider(client)
        ref = AccountRef(
            id=5,
            platform="mastodon",
            label="@crier@mastodon.example",
            config={"instance_url": "http://127.0.0.1"},
            credentials={"access_token": fake.token},
        )
        with pytest.raises(TransientError):
            await provider.publish(THREAD, ref, KEY)
        assert [s.text for s in fake.statuses] == ["One 1/3", "Two 2/3"]
        result = await provider.publish(THREAD, ref, KEY)  # the engine's retry

    one, two, three = fake.statuses
    assert [s.text for s in fake.statuses] == ["One 1/3", "Two 2/3", "Three 3/3"]
    assert (one.in_reply_to_id, two.in_reply_to_id, three.in_reply_to_id) == (
        None,
        one.id,
        two.id,
    )
    assert [s.idempotency_key for s in fake.statuses] == [KEY, f"{KEY}:2", f"{KEY}:3"]
    assert result.platform_id == one.id
