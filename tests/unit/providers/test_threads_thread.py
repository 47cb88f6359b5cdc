"""A thread on Threads: each part is its own container, published as a reply to the part
before (`reply_to_id`), one part after the other through both phases. A restart in the middle
goes on from the stored handle: each part is published exactly once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from providers.base import PostContent, Processing, PublishResult
from providers.errors import PermanentError
from providers.threads import ThreadsProvider
from tests.fakes.threads_wire import graph_error
from tests.unit.providers.threads_support import KEY, World, form, photo, world

THREAD = PostContent(text="1/3 The first part", thread=("2/3 The second", "3/3 The last"))


def stored(handle: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(handle))
    return loaded


async def drive(w: World, step: PublishResult | Processing, post: PostContent) -> PublishResult:
    """What the engine does: wait as told, poll with the stored handle, until it answers."""
    for _ in range(20):
        if isinstance(step, PublishResult):
            return step
        w.clock.advance(step.retry_after)
        step = await w.provider.poll(stored(step.handle), post, w.account, KEY)
    raise AssertionError("still processing")


async def test_three_parts_through_two_phases_with_a_restart_in_the_middle() -> None:
    # Text containers take 20 seconds here, so every part goes through both phases.
    async with world(processing={"TEXT": 20.0}) as w:
        first = await w.provider.publish(THREAD, w.account, KEY)
        assert isinstance(first, Processing)
        assert first.stage == "posting"
        assert len(w.fake.calls("POST /threads")) == 1

        w.clock.advance(first.retry_after)
        second = await w.provider.poll(stored(first.handle), THREAD, w.account, KEY)
        assert isinstance(second, Processing)
        assert second.stage == "posting the thread (1 of 3 out)"
        [one] = w.fake.live_posts()
        assert second.handle["parts"][0]["media_id"] == one.id
        assert second.handle["parts"][1]["container"]

        # The process restarts: a new client and adapter, only the stored handle.
        w.clock.advance(second.retry_after)
        async with httpx.AsyncClient(transport=httpx.MockTransport(w.fake)) as http:
            restarted = ThreadsProvider(http, now=w.clock.datetime)
            third = await restarted.poll(stored(second.handle), THREAD, w.account, KEY)
        assert isinstance(third, Processing)
        assert third.stage == "posting the thread (2 of 3 out)"

        result = await drive(w, third, THREAD)
        posts = sorted(w.fake.live_posts(), key=lambda p: p.timestamp)
        assert [p.text for p in posts] == list(THREAD.parts)
        assert [p.reply_to for p in posts] == [None, posts[0].id, posts[1].id]
        assert result.platform_id == posts[0].id
        assert result.url == w.fake.permalink(posts[0])
        assert result.ref == {"media_ids": [p.id for p in posts], "parts": 3}
        creates = [form(r) for r in w.fake.calls("POST /threads")]
        assert [c.get("reply_to_id") for c in creates] == [None, posts[0].id, posts[1].id]
        assert [c["media_type"] for c in creates] == ["TEXT"] * 3
        assert len(w.fake.calls("POST /threads_publish")) == 3  # each part exactly once


async def test_when_threads_is_quick_a_text_thread_goes_out_in_one_call() -> None:
    async with world() as w:
        result = await w.provider.publish(THREAD, w.account, KEY)
        assert isinstance(result, PublishResult)
        assert result.ref["parts"] == 3
        assert len(w.fake.live_posts()) == 3


async def test_only_the_first_part_carries_the_media(tmp_path: Path) -> None:
    async with world() as w:
        post = PostContent(text="Look", media=(photo(tmp_path),), thread=("And more",))
        result = await drive(w, await w.provider.publish(post, w.account, KEY), post)
        first, reply = sorted(w.fake.live_posts(), key=lambda p: p.timestamp)
        assert (first.media_type, reply.media_type) == ("IMAGE", "TEXT")
        assert reply.reply_to == first.id
        assert result.ref["media_ids"] == [first.id, reply.id]


async def test_a_stale_handle_never_publishes_a_part_twice() -> None:
    """The engine lost the handle `poll` returned after the first part went out and polls an
    older one: the first container says PUBLISHED, the post is found, nothing is repeated."""
    async with world(processing={"TEXT": 20.0}) as w:
        first = await w.provider.publish(THREAD, w.account, KEY)
        assert isinstance(first, Processing)
        w.clock.advance(30)
        newer = await w.provider.poll(stored(first.handle), THREAD, w.account, KEY)
        assert isinstance(newer, Processing)
        result = await drive(w, first, THREAD)  # from the older handle
        assert result.ref["parts"] == 3
        assert len(w.fake.live_posts()) == 3
        # One more container for part two (the older handle didn't know the first one).
        assert len(w.fake.calls("POST /threads_publish")) == 3


async def test_a_lost_answer_to_a_reply_stops_the_thread_without_a_duplicate() -> None:
    async with world() as w:
        w.fake.lose_answer("POST /threads_publish", skip=1)  # the second part's
        step = await w.provider.publish(THREAD, w.account, KEY)
        assert isinstance(step, Processing)  # progress kept: the first part is out
        with pytest.raises(PermanentError) as raised:
            await w.provider.poll(stored(step.handle), THREAD, w.account, KEY)
        assert "Part 2 of 3 is out on Threads" in str(raised.value)
        assert len(w.fake.live_posts()) == 2
        assert len(w.fake.calls("POST /threads_publish")) == 2


async def test_a_refused_later_part_says_what_is_out() -> None:
    async with world() as w:
        refused = graph_error(400, "Invalid parameter", 100, user_msg="This reply can't be posted.")
        w.fake.fail_next("POST /threads", refused, skip=1)
        with pytest.raises(PermanentError) as raised:
            await w.provider.publish(THREAD, w.account, KEY)
        assert str(raised.value) == (
            "The first 1 of 3 posts of the thread are out, but Threads refused part 2: "
            "Threads rejected the post: This reply can't be posted."
        )
        assert len(w.fake.live_posts()) == 1


async def test_a_rate_limit_midway_keeps_the_parts_that_are_out() -> None:
    async with world() as w:
        limited = graph_error(400, "(#4) Application request limit reached", 4)
        limited.headers["Retry-After"] = "120"
        w.fake.fail_next("POST /threads", limited, skip=2)
        step = await w.provider.publish(THREAD, w.account, KEY)
        assert isinstance(step, Processing)
        assert step.retry_after == 120.0
        assert step.stage == "posting the thread (2 of 3 out)"
        result = await drive(w, step, THREAD)
        assert result.ref["parts"] == 3
        assert len(w.fake.calls("POST /threads_publish")) == 3
