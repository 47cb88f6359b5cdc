"""Two-phase publishing on Threads against the fake: a video's container is made by `publish`,
which answers `Processing`; `poll` checks it once a minute and publishes it when FINISHED. A
poll from the stored handle alone (as after a restart) never makes a container again, a
publish whose answer was lost is settled by the container's status, and a container Threads
could not prepare fails with its reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from providers.base import PostContent, Processing, PublishResult
from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from providers.threads import ThreadsProvider
from tests.fakes.threads_wire import graph_error
from tests.unit.providers.threads_support import KEY, form, video, world


def stored(handle: Any) -> dict[str, Any]:
    """The handle as the engine keeps it: JSON in the database."""
    text = json.dumps(handle)
    assert "THLL" not in text  # never a secret
    loaded: dict[str, Any] = json.loads(text)
    return loaded


async def test_a_video_through_both_phases_and_a_restart(tmp_path: Path) -> None:
    async with world() as w:
        post = PostContent(text="Watch this", media=(video(tmp_path, alt="A short clip"),))
        first = await w.provider.publish(post, w.account, KEY)
        assert isinstance(first, Processing)
        assert (first.retry_after, first.stage) == (60.0, "processing the video")
        [container] = w.fake.containers.values()
        assert form(w.fake.requests[0]) == {
            "media_type": "VIDEO",
            "video_url": post.media[0].url,
            "alt_text": "A short clip",
            "text": "Watch this",
            "access_token": w.account.credentials["access_token"],
        }
        assert stored(first.handle) == {
            "version": 1,
            "parts": [{"items": [], "ready": [], "container": container.id, "media_id": None}],
        }

        w.clock.advance(first.retry_after)  # 60 s: the fake takes 90
        second = await w.provider.poll(stored(first.handle), post, w.account, KEY)
        assert isinstance(second, Processing)
        assert second.handle == first.handle

        # A restart: a new process, a new client, only the stored handle.
        w.clock.advance(second.retry_after)
        async with httpx.AsyncClient(transport=httpx.MockTransport(w.fake)) as http:
            restarted = ThreadsProvider(http, now=w.clock.datetime)
            result = await restarted.poll(stored(second.handle), post, w.account, KEY)
        assert isinstance(result, PublishResult)
        [out] = w.fake.live_posts()
        assert (out.media_type, out.text, out.alt_text) == ("VIDEO", "Watch this", "A short clip")
        assert result.url == w.fake.permalink(out)
        assert len(w.fake.calls("POST /threads")) == 1  # never made again
        assert len(w.fake.calls("POST /threads_publish")) == 1


@pytest.mark.parametrize(
    ("message", "hint"),
    [
        ("FAILED_PROCESSING_VIDEO", "could not process the video"),
        ("INVALID_DURATION", "up to 5 minutes"),
        ("FAILED_DOWNLOADING_VIDEO", "could not download the video from Crier's link"),
        ("UNKNOWN", ""),
    ],
)
async def test_a_container_threads_could_not_prepare_fails_with_its_reason(
    tmp_path: Path, message: str, hint: str
) -> None:
    async with world() as w:
        w.fake.fail_processing(message)
        post = PostContent(text="Broken", media=(video(tmp_path),))
        step = await w.provider.publish(post, w.account, KEY)
        assert isinstance(step, Processing)
        w.clock.advance(120)
        with pytest.raises(PermanentError) as raised:
            await w.provider.poll(step.handle, post, w.account, KEY)
        assert f"Threads could not prepare the post ({message})" in str(raised.value)
        assert hint in str(raised.value)
        assert w.fake.calls("POST /threads_publish") == []


async def test_a_lost_publish_answer_is_settled_by_the_container_status(tmp_path: Path) -> None:
    async with world() as w:
        post = PostContent(text="Once only", media=(video(tmp_path),))
        step = await w.provider.publish(post, w.account, KEY)
        assert isinstance(step, Processing)
        w.clock.advance(120)
        w.fake.lose_answer("POST /threads_publish")  # published, but the answer never came
        with pytest.raises(TransientError) as raised:
            await w.provider.poll(step.handle, post, w.account, KEY)
        assert raised.value.ambiguous
        # The engine polls the same handle again: the container says PUBLISHED, and the post
        # is found among the profile's latest.
        result = await w.provider.poll(step.handle, post, w.account, KEY)
        assert isinstance(result, PublishResult)
        [out] = w.fake.live_posts()
        assert result.platform_id == out.id
        assert len(w.fake.calls("POST /threads_publish")) == 1
        [listing] = w.fake.calls("GET /threads")
        assert dict(listing.url.params)["fields"] == "id,text,permalink,timestamp"


async def test_a_publish_that_did_not_happen_is_published_once_next_time(tmp_path: Path) -> None:
    async with world() as w:
        post = PostContent(text="Try again", media=(video(tmp_path),))
        step = await w.provider.publish(post, w.account, KEY)
        assert isinstance(step, Processing)
        w.clock.advance(120)
        w.fake.fail_next("POST /threads_publish", httpx.ReadTimeout("lost before it arrived"))
        with pytest.raises(TransientError):
            await w.provider.poll(step.handle, post, w.account, KEY)
        result = await w.provider.poll(step.handle, post, w.account, KEY)
        assert isinstance(result, PublishResult)
        assert len(w.fake.live_posts()) == 1


async def test_a_container_threads_cant_find_yet_is_waited_for(tmp_path: Path) -> None:
    async with world() as w:
        post = PostContent(text="Soon", media=(video(tmp_path),))
        step = await w.provider.publish(post, w.account, KEY)
        assert isinstance(step, Processing)
        w.clock.advance(120)
        missing = graph_error(400, "The requested resource does not exist", 24, subcode=4279009)
        w.fake.fail_next("POST /threads_publish", missing)
        again = await w.provider.poll(step.handle, post, w.account, KEY)
        assert isinstance(again, Processing)
        assert again.retry_after == 30.0
        assert isinstance(await w.provider.poll(again.handle, post, w.account, KEY), PublishResult)


async def test_an_expired_container_is_made_again(tmp_path: Path) -> None:
    async with world() as w:
        post = PostContent(text="Late", media=(video(tmp_path),))
        step = await w.provider.publish(post, w.account, KEY)
        assert isinstance(step, Processing)
        w.clock.advance(25 * 3600)  # the engine was down for a day
        again = await w.provider.poll(step.handle, post, w.account, KEY)
        assert isinstance(again, Processing)
        assert again.handle != step.handle
        w.clock.advance(120)
        assert isinstance(await w.provider.poll(again.handle, post, w.account, KEY), PublishResult)
        assert len(w.fake.calls("POST /threads")) == 2
        assert len(w.fake.live_posts()) == 1


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (graph_error(400, "Error validating access token", 190, subcode=463), AuthError),
        (graph_error(400, "(#4) Application request limit reached", 4), RateLimited),
        (graph_error(500, "Please retry your request later.", 2, transient=True), TransientError),
        (httpx.ConnectError("refused"), TransientError),
    ],
    ids=["auth", "rate limit", "server", "network"],
)
async def test_a_failure_after_the_container_was_made_keeps_it(
    tmp_path: Path, answer: httpx.Response | Exception, error: type[Exception]
) -> None:
    """publish made the container, then the status check failed: the container is kept in
    the handle (`Processing`), and the same failure again, with nothing new made, raises."""
    async with world(processing={"TEXT": 0.0}) as w:
        post = PostContent(text="Hello")
        w.fake.fail_next("GET /{id}", answer)
        w.fake.fail_next("GET /{id}", answer)
        step = await w.provider.publish(post, w.account, KEY)
        assert isinstance(step, Processing)
        assert step.handle["parts"][0]["container"]
        with pytest.raises(error):
            await w.provider.poll(step.handle, post, w.account, KEY)
        assert isinstance(await w.provider.poll(step.handle, post, w.account, KEY), PublishResult)
        assert len(w.fake.calls("POST /threads")) == 1


async def test_an_unreadable_handle_or_a_changed_post() -> None:
    async with world() as w:
        post = PostContent(text="x")
        with pytest.raises(PermanentError, match="unreadable"):
            await w.provider.poll({"version": 99}, post, w.account, KEY)
        handle = {"version": 1, "parts": [{"container": "1"}, {"container": "2"}]}
        with pytest.raises(PermanentError, match="changed"):
            await w.provider.poll(handle, post, w.account, KEY)
