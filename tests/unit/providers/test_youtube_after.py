"""YouTube after publishing, on the stateful fake: videos.delete and videos.update with the
exact requests, the category, tags and language kept through an edit, the scope that
managing videos needs, Google's errors mapped to their class, and no lookup."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from providers.base import AccountRef, MediaFile, MediaKind, PostContent, Processing, PublishResult
from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from providers.youtube import YouTubeProvider
from tests.fakes.youtube import READONLY, UPLOAD, FakeYouTube
from tests.media_samples import mp4

FORCE_SSL = "https://www.googleapis.com/auth/youtube.force-ssl"
ALL = (UPLOAD, READONLY, FORCE_SSL)
KEY = "target-8-occurrence-1"


@pytest.fixture
def fake() -> FakeYouTube:
    return FakeYouTube(processing_polls=0)


@pytest.fixture
async def http(fake: FakeYouTube) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handle)) as client:
        yield client


@pytest.fixture
def provider(http: httpx.AsyncClient) -> YouTubeProvider:
    return YouTubeProvider(http)


def account_of(fake: FakeYouTube, scopes: tuple[str, ...] = ALL) -> AccountRef:
    return AccountRef(
        id=3,
        platform="youtube",
        label="Crier Tests (@criertests)",
        config={"channel_id": fake.channels[0].id, "long_uploads_status": "allowed"},
        credentials={"access_token": fake.token(scopes), "scope": " ".join(scopes)},
    )


def video(tmp_path: Path) -> MediaFile:
    path = tmp_path / "clip.mp4"
    mp4(path, seconds=1.0, size=(64, 48), fps=10)
    return MediaFile(
        kind=MediaKind.VIDEO,
        mime="video/mp4",
        size=path.stat().st_size,
        path=path,
        width=64,
        height=48,
        duration=1.0,
        file_name="clip.mp4",
    )


async def _publish(provider: YouTubeProvider, account: AccountRef, tmp_path: Path) -> PublishResult:
    post = PostContent(text="My title\nThe description.", media=(video(tmp_path),))
    result = await provider.publish(post, account, KEY)
    for _ in range(10):
        if not isinstance(result, Processing):
            break
        result = await provider.poll(result.handle, post, account, KEY)
    assert isinstance(result, PublishResult)
    return result


def calls(fake: FakeYouTube, method: str) -> list[httpx.Request]:
    return [r for r in fake.requests if r.method == method and r.url.path == "/youtube/v3/videos"]


async def test_delete_is_videos_delete_and_again_is_fine(
    provider: YouTubeProvider, fake: FakeYouTube, tmp_path: Path
) -> None:
    account = account_of(fake)
    result = await _publish(provider, account, tmp_path)
    await provider.delete(result, account)
    assert fake.published == []
    [sent] = calls(fake, "DELETE")
    assert str(sent.url) == f"https://www.googleapis.com/youtube/v3/videos?id={result.platform_id}"
    assert sent.headers["authorization"] == f"Bearer {account.credentials['access_token']}"
    assert sent.content == b""
    await provider.delete(result, account)  # 404 videoNotFound: already deleted


async def test_edit_reads_the_snippet_and_keeps_category_tags_and_language(
    provider: YouTubeProvider, fake: FakeYouTube, tmp_path: Path
) -> None:
    account = account_of(fake)
    result = await _publish(provider, account, tmp_path)
    [uploaded] = fake.published
    # What the owner set on YouTube since: a category, tags, a language.
    uploaded.resource["snippet"] = {
        **uploaded.resource["snippet"],
        "categoryId": "27",
        "tags": ["soup", "cooking"],
        "defaultLanguage": "en",
    }
    edited = await provider.edit(
        result, PostContent(text="Better title\nA longer description."), account
    )
    [read] = [r for r in calls(fake, "GET") if r.url.params.get("part") == "snippet"]
    assert read.url.params["id"] == result.platform_id
    [sent] = calls(fake, "PUT")
    assert sent.url.params["part"] == "snippet"
    assert json.loads(sent.content) == {
        "id": result.platform_id,
        "snippet": {
            "categoryId": "27",
            "tags": ["soup", "cooking"],
            "defaultLanguage": "en",
            "title": "Better title",
            "description": "A longer description.",
        },
    }
    assert uploaded.resource["snippet"]["title"] == "Better title"
    assert uploaded.resource["snippet"]["tags"] == ["soup", "cooking"]
    assert edited == result


async def test_an_edit_is_checked_before_asking(
    provider: YouTubeProvider, fake: FakeYouTube, tmp_path: Path
) -> None:
    account = account_of(fake)
    result = await _publish(provider, account, tmp_path)
    before = len(fake.requests)
    with pytest.raises(PermanentError, match="title"):
        await provider.edit(result, PostContent(text="T" * 101), account)
    with pytest.raises(PermanentError, match="can't change the photos or videos"):
        await provider.edit(
            result,
            PostContent(text="Title", media=(video(tmp_path),)),
            account,
            media_changed=True,
        )
    assert len(fake.requests) == before


async def test_a_video_gone_can_t_be_edited(
    provider: YouTubeProvider, fake: FakeYouTube, tmp_path: Path
) -> None:
    account = account_of(fake)
    result = await _publish(provider, account, tmp_path)
    fake.published[0].deleted = True
    with pytest.raises(PermanentError, match="no longer on YouTube"):
        await provider.edit(result, PostContent(text="New title"), account)


async def test_without_the_manage_scope_nothing_is_offered_or_sent(
    provider: YouTubeProvider, fake: FakeYouTube, tmp_path: Path
) -> None:
    account = account_of(fake, (UPLOAD, READONLY))
    declared = provider.after_publish_for(account)
    assert not declared.can_delete
    assert not declared.can_edit
    assert provider.after_publish_for(account_of(fake)).can_delete
    result = await _publish(provider, account, tmp_path)
    before = len(fake.requests)
    with pytest.raises(PermanentError, match="Connect it again"):
        await provider.delete(result, account)
    with pytest.raises(PermanentError, match="Connect it again"):
        await provider.edit(result, PostContent(text="New title"), account)
    assert len(fake.requests) == before


async def test_a_token_without_the_scope_is_refused_by_youtube_too(
    provider: YouTubeProvider, fake: FakeYouTube, tmp_path: Path
) -> None:
    account = account_of(fake)
    result = await _publish(provider, account, tmp_path)
    # The stored scope says yes, but the token YouTube sees can only upload and read.
    narrow = AccountRef(
        id=3,
        platform="youtube",
        label=account.label,
        config=account.config,
        credentials={"access_token": fake.token((UPLOAD, READONLY))},
    )
    with pytest.raises(AuthError, match="permission"):
        await provider.delete(result, narrow)
    assert len(fake.published) == 1


@pytest.mark.parametrize(
    ("status", "reason", "error"),
    [
        (401, "authError", AuthError),
        (403, "quotaExceeded", RateLimited),
        (403, "forbidden", AuthError),
        (503, "backendError", TransientError),
    ],
)
async def test_delete_errors_map_to_their_class(
    provider: YouTubeProvider,
    fake: FakeYouTube,
    tmp_path: Path,
    status: int,
    reason: str,
    error: type[Exception],
) -> None:
    account = account_of(fake)
    result = await _publish(provider, account, tmp_path)
    fake.fail_next("/youtube/v3/videos", status, reason, "No", method="DELETE")
    with pytest.raises(error) as raised:
        await provider.delete(result, account)
    assert str(account.credentials["access_token"]) not in str(raised.value)


async def test_a_lost_answer_is_safe_to_repeat() -> None:
    def lost(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            body = {"items": [{"id": "vid1", "snippet": {"categoryId": "22", "title": "T"}}]}
            return httpx.Response(200, json=body)
        raise httpx.ReadTimeout("lost", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(lost)) as http:
        provider = YouTubeProvider(http)
        published = PublishResult(platform_id="vid1", ref={"video_id": "vid1", "parts": 1})
        account = AccountRef(
            id=3, platform="youtube", label="x", credentials={"access_token": "SECRET"}
        )
        with pytest.raises(TransientError, match="deleting again is safe") as raised:
            await provider.delete(published, account)
        assert not raised.value.ambiguous
        with pytest.raises(TransientError, match="editing again is safe"):
            await provider.edit(published, PostContent(text="New"), account)


async def test_no_lookup(provider: YouTubeProvider, fake: FakeYouTube) -> None:
    account = account_of(fake)
    assert not provider.after_publish_for(account).can_lookup
    assert await provider.lookup(PostContent(text="x"), account, KEY) is None
    assert fake.requests == []
