"""Two-phase publishing on X against the fake X API: a video or GIF is uploaded in chunks,
`publish` answers `Processing`, `poll` asks X until processing is done and then creates the
post. A poll from the stored handle alone (as after a restart) never uploads again, and a
thread cut off midway carries on from where it stopped, posting nothing twice."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from providers.base import AccountRef, MediaFile, MediaKind, PostContent, Processing, PublishResult
from providers.errors import AuthError, PermanentError, TransientError
from providers.x import XProvider
from tests.fakes.serve import from_handler, serve
from tests.fakes.x import FakeUser, FakeX
from tests.fakes.x_wire import multipart

KEY = "target-4-occurrence-1"
VIDEO_BYTES = bytes(range(256)) * 10  # 2,560 bytes: three chunks of 1,024
UPLOAD_ROUTES = (
    "POST /2/media/upload",
    "POST /2/media/upload/initialize",
    "POST /2/media/upload/{id}/append",
    "POST /2/media/upload/{id}/finalize",
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_790_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> FakeX:
    return FakeX(clock=clock, processing_polls=1, check_after_secs=3)


@pytest.fixture
def user(fake: FakeX) -> FakeUser:
    return fake.add_user("crier_test")


@pytest.fixture
async def http(fake: FakeX) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as client:
        yield client


@pytest.fixture
def provider(http: httpx.AsyncClient, clock: Clock) -> XProvider:
    return XProvider(http, chunk_size=1024, now=clock)


@pytest.fixture
def account(fake: FakeX, user: FakeUser) -> AccountRef:
    return AccountRef(
        id=2,
        platform="x",
        label="@crier_test",
        config={"user_id": user.id, "username": user.username, "subscription_type": "None"},
        credentials={"access_token": fake.issue_token(user)},
    )


def video(tmp_path: Path, *, mime: str = "video/mp4", alt: str | None = None) -> MediaFile:
    name = "clip.gif" if mime == "image/gif" else "clip.mp4"
    path = tmp_path / name
    path.write_bytes(VIDEO_BYTES)
    kind = MediaKind.ANIMATION if mime == "image/gif" else MediaKind.VIDEO
    return MediaFile(
        kind=kind, mime=mime, size=len(VIDEO_BYTES), path=path, file_name=name, alt_text=alt
    )


def stored(handle: Mapping[str, Any]) -> dict[str, Any]:
    """The handle as the engine keeps it: JSON in the database."""
    loaded: dict[str, Any] = json.loads(json.dumps(handle))
    return loaded


def uploads(fake: FakeX) -> int:
    return sum(len(fake.calls(route)) for route in UPLOAD_ROUTES)


async def test_a_video_post_in_two_phases(
    provider: XProvider, fake: FakeX, account: AccountRef, tmp_path: Path
) -> None:
    post = PostContent(text="A clip", media=(video(tmp_path, alt="X takes no alt text here"),))
    first = await provider.publish(post, account, KEY)
    assert isinstance(first, Processing)
    assert (first.retry_after, first.stage) == (3, "processing the video")
    [media] = fake.media.values()
    assert [f"{r.method} {r.url.path}" for r in fake.requests] == [
        "POST /2/media/upload/initialize",
        f"POST /2/media/upload/{media.id}/append",
        f"POST /2/media/upload/{media.id}/append",
        f"POST /2/media/upload/{media.id}/append",
        f"POST /2/media/upload/{media.id}/finalize",
    ]
    assert json.loads(fake.requests[0].content) == {
        "media_type": "video/mp4",
        "total_bytes": len(VIDEO_BYTES),
        "media_category": "tweet_video",
    }
    appends = [multipart(r) for r in fake.calls("POST /2/media/upload/{id}/append")]
    assert [a["segment_index"][2] for a in appends] == [b"0", b"1", b"2"]
    assert b"".join(a["media"][2] for a in appends) == VIDEO_BYTES == media.data
    assert not fake.requests[-1].content  # FINALIZE has no body
    handle = stored(first.handle)
    assert handle == {
        "version": 1,
        "media": [
            {
                "id": media.id,
                "category": "tweet_video",
                "ready": False,
                "check_after": 3.0,
                "alt_set": False,
            }
        ],
        "posted": [],
    }
    assert account.credentials["access_token"] not in json.dumps(handle)
    assert not fake.posts

    second = await provider.poll(handle, post, account, KEY)
    assert isinstance(second, Processing)
    assert (second.retry_after, second.stage) == (3, "processing the video")
    status = fake.calls("GET /2/media/upload")[-1]
    assert dict(status.url.params) == {"command": "STATUS", "media_id": media.id}

    done = await provider.poll(stored(second.handle), post, account, KEY)
    assert isinstance(done, PublishResult)
    [created] = fake.posts
    assert (created.text, created.media_ids) == ("A clip", [media.id])
    assert (done.platform_id, done.url) == (created.id, fake.post_url(created))
    assert uploads(fake) == 5
    assert not fake.calls("POST /2/media/metadata")  # X describes photos and GIFs only


async def test_a_poll_from_the_stored_handle_alone_uploads_nothing_again(
    fake: FakeX, account: AccountRef, clock: Clock, tmp_path: Path
) -> None:
    post = PostContent(text="After a restart", media=(video(tmp_path),))
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as before:
        first = await XProvider(before, chunk_size=1024, now=clock).publish(post, account, KEY)
    assert isinstance(first, Processing)
    row = json.dumps(first.handle)  # what the engine stored on the target
    uploaded = uploads(fake)

    # A new process: a new client and adapter, only the stored handle to go on.
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as after:
        provider = XProvider(after, chunk_size=1024, now=clock)
        answer = await provider.poll(json.loads(row), post, account, KEY)
        while isinstance(answer, Processing):
            answer = await provider.poll(stored(answer.handle), post, account, KEY)
    assert isinstance(answer, PublishResult)
    assert uploads(fake) == uploaded
    assert len(fake.posts) == 1
    assert len(fake.calls("GET /2/media/upload")) == 2


async def test_processing_failure_is_permanent(
    provider: XProvider, fake: FakeX, account: AccountRef, tmp_path: Path
) -> None:
    fake.fail_processing("Unsupported video format")
    post = PostContent(text="Broken", media=(video(tmp_path),))
    first = await provider.publish(post, account, KEY)
    assert isinstance(first, Processing)
    second = await provider.poll(stored(first.handle), post, account, KEY)
    assert isinstance(second, Processing)
    with pytest.raises(PermanentError, match="Unsupported video format"):
        await provider.poll(stored(second.handle), post, account, KEY)
    assert not fake.posts


async def test_a_gif_is_processed_then_described(
    provider: XProvider, fake: FakeX, account: AccountRef, tmp_path: Path
) -> None:
    fake.processing_polls = 0
    post = PostContent(text="", media=(video(tmp_path, mime="image/gif", alt="A dancing cat"),))
    first = await provider.publish(post, account, KEY)
    assert isinstance(first, Processing)
    assert first.stage == "processing the GIF"
    assert not fake.calls("POST /2/media/metadata")  # not before X has processed it
    done = await provider.poll(stored(first.handle), post, account, KEY)
    assert isinstance(done, PublishResult)
    [media] = fake.media.values()
    assert (media.category, media.alt_text) == ("tweet_gif", "A dancing cat")
    assert (
        json.loads(fake.calls("POST /2/media/upload/initialize")[0].content)["media_category"]
        == "tweet_gif"
    )
    assert [fake.requests[-2].url.path, fake.requests[-1].url.path] == [
        "/2/media/metadata",
        "/2/tweets",
    ]


async def test_a_video_thread_held_up_by_the_rate_limit_carries_on(
    provider: XProvider, fake: FakeX, account: AccountRef, clock: Clock, tmp_path: Path
) -> None:
    fake.processing_polls = 0
    fake.posts_per_window = (2, 900.0)
    post = PostContent(text="One", media=(video(tmp_path),), thread=("Two", "Three"))
    first = await provider.publish(post, account, KEY)
    assert isinstance(first, Processing)
    held = await provider.poll(stored(first.handle), post, account, KEY)
    assert isinstance(held, Processing)
    assert held.retry_after == pytest.approx(900)
    assert held.stage == "posting the thread (2 of 3 out)"
    assert stored(held.handle)["posted"] == [p.id for p in fake.posts]
    clock.now += 900
    done = await provider.poll(stored(held.handle), post, account, KEY)
    assert isinstance(done, PublishResult)
    one, two, three = fake.posts
    assert [p.text for p in fake.posts] == ["One", "Two", "Three"]
    assert (two.in_reply_to, three.in_reply_to) == (one.id, two.id)
    assert done.platform_id == one.id
    assert len(fake.calls("POST /2/tweets")) == 4  # one refused, none twice


async def test_a_thread_part_lost_in_transit_is_never_posted_twice(
    provider: XProvider, fake: FakeX, account: AccountRef
) -> None:
    fake.lose_answer("POST /2/tweets", skip=1)
    post = PostContent(text="First", thread=("Second", "Third"))
    held = await provider.publish(post, account, KEY)
    # Part 1 is out, part 2 went out but its answer was lost: the progress is kept.
    assert isinstance(held, Processing)
    assert len(stored(held.handle)["posted"]) == 1
    with pytest.raises(PermanentError) as raised:
        await provider.poll(stored(held.handle), post, account, KEY)
    assert "The first 1 of 3 posts of the thread are out" in str(raised.value)
    assert "most likely out too" in str(raised.value)
    assert [p.text for p in fake.posts] == ["First", "Second"]


async def test_a_lost_answer_to_the_post_itself_is_ambiguous_and_not_repeated(
    provider: XProvider, fake: FakeX, account: AccountRef, tmp_path: Path
) -> None:
    fake.processing_polls = 0
    post = PostContent(text="Only once", media=(video(tmp_path),))
    first = await provider.publish(post, account, KEY)
    assert isinstance(first, Processing)
    fake.lose_answer("POST /2/tweets")
    with pytest.raises(TransientError) as raised:
        await provider.poll(stored(first.handle), post, account, KEY)
    assert raised.value.ambiguous
    # The engine polls the same handle again: X refuses the duplicate; nothing is re-uploaded.
    with pytest.raises(PermanentError, match="duplicate"):
        await provider.poll(stored(first.handle), post, account, KEY)
    assert len(fake.posts) == 1
    assert len(fake.calls("POST /2/media/upload/initialize")) == 1


async def test_a_refused_token_while_processing_keeps_the_handle(
    provider: XProvider, fake: FakeX, user: FakeUser, account: AccountRef, tmp_path: Path
) -> None:
    post = PostContent(text="Reconnected", media=(video(tmp_path),))
    first = await provider.publish(post, account, KEY)
    assert isinstance(first, Processing)
    fake.expire_access_tokens()
    with pytest.raises(AuthError):
        await provider.poll(stored(first.handle), post, account, KEY)
    renewed = AccountRef(
        id=account.id,
        platform="x",
        label=account.label,
        config=account.config,
        credentials={"access_token": fake.issue_token(user)},
    )
    answer = await provider.poll(stored(first.handle), post, renewed, KEY)
    while isinstance(answer, Processing):
        answer = await provider.poll(stored(answer.handle), post, renewed, KEY)
    assert len(fake.posts) == 1
    assert len(fake.calls("POST /2/media/upload/initialize")) == 1


async def test_a_handle_that_does_not_fit_the_post(
    provider: XProvider, account: AccountRef, tmp_path: Path
) -> None:
    post = PostContent(text="x", media=(video(tmp_path),))
    with pytest.raises(PermanentError, match="unreadable"):
        await provider.poll({"version": 99}, post, account, KEY)
    two = {"version": 1, "media": [{"id": "1"}, {"id": "2"}], "posted": []}
    with pytest.raises(PermanentError, match="changed"):
        await provider.poll(two, post, account, KEY)


async def test_over_real_http(fake: FakeX, account: AccountRef, tmp_path: Path) -> None:
    fake.processing_polls = 0
    post = PostContent(text="Over the wire", media=(video(tmp_path),))
    async with serve(from_handler(fake)) as base_url, httpx.AsyncClient() as http:
        provider = XProvider(http, api_base_url=base_url, chunk_size=1024)
        first = await provider.publish(post, account, KEY)
        assert isinstance(first, Processing)
        done = await provider.poll(stored(first.handle), post, account, KEY)
    assert isinstance(done, PublishResult)
    assert done.url == fake.post_url(fake.posts[0])
