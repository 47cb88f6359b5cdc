"""A LinkedIn video is published in two phases: upload in the byte ranges LinkedIn asks for,
finalize with the parts' ETags, answer Processing; poll the video until it is AVAILABLE and
only then create the post. Shapes follow learn.microsoft.com/linkedin/marketing/community-
management/shares/videos-api (view li-lms-2026-05)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from providers.base import PostContent, Processing, PublishResult
from providers.errors import AuthError, PermanentError
from tests.unit.providers.linkedin_world import World, video, world

PART = 100_000  # the fake's part size here; LinkedIn's is 4 MB


@pytest.fixture
async def w() -> AsyncIterator[World]:
    async with world(part_size=PART, processing_polls=1) as it:
        yield it


async def test_publish_uploads_every_range_finalizes_and_answers_processing(
    w: World, tmp_path: Path
) -> None:
    clip = video(tmp_path, size=250_000)
    account = w.member_account()
    answer = await w.provider().publish(PostContent(text="Watch", media=(clip,)), account, "k")
    [uploaded] = w.fake.videos.values()
    assert answer == Processing(
        handle={"video": uploaded.urn}, retry_after=15.0, stage="processing the video"
    )
    [init] = [
        r for r in w.fake.requests_to("/rest/videos") if r.params["action"] == "initializeUpload"
    ]
    assert init.headers["linkedin-version"] == "202605"
    assert init.json == {
        "initializeUploadRequest": {
            "owner": w.alice.urn,
            "fileSizeBytes": 250_000,
            "uploadCaptions": False,
            "uploadThumbnail": False,
        }
    }
    puts = [r for r in w.fake.requests if r.method == "PUT"]
    assert [len(r.content) for r in puts] == [100_000, 100_000, 50_000]
    assert all(r.headers["content-type"] == "application/octet-stream" for r in puts)
    assert all("authorization" not in r.headers for r in puts)  # pre-signed URLs
    assert uploaded.data == clip.path.read_bytes()  # type: ignore[union-attr]
    [final] = [
        r for r in w.fake.requests_to("/rest/videos") if r.params["action"] == "finalizeUpload"
    ]
    assert final.json == {
        "finalizeUploadRequest": {
            "video": uploaded.urn,
            "uploadToken": uploaded.upload_token,
            "uploadedPartIds": [uploaded.etags[0], uploaded.etags[1], uploaded.etags[2]],
        }
    }
    assert not w.fake.posts


async def test_poll_waits_for_available_then_creates_the_post(w: World, tmp_path: Path) -> None:
    post = PostContent(text="Watch (with sound)", media=(video(tmp_path),))
    account = w.member_account()
    provider = w.provider()
    first = await provider.publish(post, account, "k")
    assert isinstance(first, Processing)
    second = await provider.poll(first.handle, post, account, "k")
    assert second == first  # still PROCESSING
    assert not w.fake.posts
    done = await provider.poll(second.handle, post, account, "k")
    [created] = w.fake.posts
    assert done == PublishResult(
        platform_id=created.urn,
        url=f"https://www.linkedin.com/feed/update/{created.urn}/",
        ref={"urn": created.urn, "link": None, "parts": 1},
    )
    assert created.content == {"media": {"id": first.handle["video"]}}
    assert created.text == "Watch (with sound)"
    status = w.fake.requests_to(f"/rest/videos/{first.handle['video']}")[-1]
    assert status.raw_path == "/rest/videos/" + first.handle["video"].replace(":", "%3A")
    assert status.headers["x-restli-protocol-version"] == "2.0.0"


async def test_a_poll_from_the_stored_handle_alone_does_not_upload_again(
    w: World, tmp_path: Path
) -> None:
    post = PostContent(text="After a restart", media=(video(tmp_path),))
    account = w.member_account()
    answer = await w.provider().publish(post, account, "k")
    assert isinstance(answer, Processing)
    stored = json.loads(json.dumps(dict(answer.handle)))  # what the engine keeps on the target
    uploads_before = len(w.fake.requests_to("/rest/videos", "POST"))
    [uploaded] = w.fake.videos.values()
    puts_before = uploaded.puts

    restarted = w.provider()  # a new process: nothing in memory
    result: PublishResult | Processing = Processing(handle=stored)
    for _ in range(5):
        result = await restarted.poll(result.handle, post, account, "k")
        if isinstance(result, PublishResult):
            break
    assert isinstance(result, PublishResult)
    assert len(w.fake.requests_to("/rest/videos", "POST")) == uploads_before
    assert uploaded.puts == puts_before
    assert len(w.fake.videos) == 1
    assert [p.urn for p in w.fake.posts] == [result.platform_id]


async def test_a_page_video_is_owned_and_posted_by_the_page(w: World, tmp_path: Path) -> None:
    post = PostContent(text="Page video", media=(video(tmp_path),))
    account = w.page_account()
    provider = w.provider(organizations=True)
    answer = await provider.publish(post, account, "k")
    while isinstance(answer, Processing):
        answer = await provider.poll(answer.handle, post, account, "k")
    [uploaded] = w.fake.videos.values()
    assert uploaded.owner == w.acme.urn == w.fake.posts[0].author


async def test_processing_failure_is_permanent_with_the_reason(tmp_path: Path) -> None:
    async with world(part_size=PART, processing_polls=0) as w:
        post = PostContent(text="Broken", media=(video(tmp_path),))
        account = w.member_account()
        answer = await w.provider().publish(post, account, "k")
        assert isinstance(answer, Processing)
        next(iter(w.fake.videos.values())).fails = True
        with pytest.raises(PermanentError, match="could not process the video") as raised:
            await w.provider().poll(answer.handle, post, account, "k")
        assert "Unsupported video codec" in raised.value.message
        assert not w.fake.posts


@pytest.mark.parametrize("handle", [{}, {"video": "urn:li:image:nope"}, {"video": 7}])
async def test_a_handle_without_a_video_is_permanent(w: World, handle: dict[str, object]) -> None:
    with pytest.raises(PermanentError, match="publish it again"):
        await w.provider().poll(handle, PostContent(text="x"), w.member_account(), "k")


async def test_a_video_linkedin_does_not_know_is_permanent(w: World) -> None:
    with pytest.raises(PermanentError, match="not found"):
        await w.provider().poll(
            {"video": "urn:li:video:C5505AQgone"}, PostContent(text="x"), w.member_account(), "k"
        )


async def test_a_video_size_linkedin_refuses_is_permanent(w: World, tmp_path: Path) -> None:
    post = PostContent(text="Tiny", media=(video(tmp_path, size=10_000),))
    with pytest.raises(PermanentError, match="between 75 KB and 500 MB"):
        await w.provider().publish(post, w.member_account(), "k")


async def test_a_token_revoked_while_processing_is_auth(w: World, tmp_path: Path) -> None:
    post = PostContent(text="Watch", media=(video(tmp_path),))
    account = w.member_account()
    answer = await w.provider().publish(post, account, "k")
    assert isinstance(answer, Processing)
    w.fake.revoke(account.credentials["access_token"])
    with pytest.raises(AuthError):
        await w.provider().poll(answer.handle, post, account, "k")
