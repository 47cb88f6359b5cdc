"""The YouTube adapter's second phase (respx): the bytes through the resumable session, resumed
from what Google says it has, then processing until the video plays; and every documented
error mapped to the right class."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from providers.base import Processing, PublishResult
from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from providers.youtube import YouTubeProvider
from providers.youtube_api import quota_reset_wait
from tests.contract.case_youtube import google_error, video_json
from tests.unit.providers.youtube_support import (
    APP,
    KEY,
    KIB,
    NOW,
    SESSION,
    TOKEN,
    UPLOAD,
    VIDEOS,
    Session,
    account,
    clip,
    open_session,
    post_of,
    sent,
)

CHUNK = 256 * KIB


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def provider(http: httpx.AsyncClient) -> YouTubeProvider:
    return YouTubeProvider(http, oauth_app=APP, now=lambda: NOW, chunk_size=CHUNK)


def uploading(size: int, *, short: bool = False) -> dict[str, Any]:
    """The handle publish stores."""
    return {
        "stage": "upload",
        "session_uri": SESSION,
        "size": size,
        "mime": "video/mp4",
        "short": short,
    }


def processing(video_id: str = "vid1", *, short: bool = False, looks: int = 0) -> dict[str, Any]:
    return {"stage": "processing", "video_id": video_id, "short": short, "looks": looks}


def listed(upload_status: str, video_id: str = "vid1", **extra: Any) -> httpx.Response:
    video = video_json(upload_status, video_id=video_id)
    status = dict(video["status"])  # type: ignore[call-overload]
    status.update(extra.pop("status", {}))
    return httpx.Response(200, json={"items": [{**video, "status": status, **extra}]})


# -- the two-phase path ---------------------------------------------------------------------


async def test_publish_then_polls_upload_process_and_answer_the_watch_url(
    provider: YouTubeProvider, router: respx.MockRouter, tmp_path: Path
) -> None:
    video = clip(tmp_path, 600 * KIB)
    post = post_of(video)
    open_session(router)
    session = Session(video.size)
    router.put(SESSION).mock(side_effect=session)
    progress = {"processingStatus": "processing", "processingProgress": {"timeLeftMs": "60000"}}
    videos = router.get(VIDEOS).mock(
        side_effect=[listed("uploaded", processingDetails=progress), listed("processed")]
    )

    first = await provider.publish(post, account(), KEY)
    assert isinstance(first, Processing)
    second = await provider.poll(first.handle, post, account(), KEY)
    assert second == Processing(handle=processing(), retry_after=30.0, stage="processing the video")
    third = await provider.poll(second.handle, post, account(), KEY)
    assert third == Processing(
        handle=processing(looks=1), retry_after=60.0, stage="processing the video"
    )
    done = await provider.poll(third.handle, post, account(), KEY)
    assert done == PublishResult(
        platform_id="vid1",
        url="https://www.youtube.com/watch?v=vid1",
        ref={"video_id": "vid1", "parts": 1},
    )

    size = video.size
    assert sent(router) == [
        "POST /upload/youtube/v3/videos",
        f"PUT /upload/youtube/v3/videos bytes */{size}",
        f"PUT /upload/youtube/v3/videos bytes 0-{CHUNK - 1}/{size}",
        f"PUT /upload/youtube/v3/videos bytes {CHUNK}-{2 * CHUNK - 1}/{size}",
        f"PUT /upload/youtube/v3/videos bytes {2 * CHUNK}-{size - 1}/{size}",
        "GET /youtube/v3/videos",
        "GET /youtube/v3/videos",
    ]
    assert b"".join(session.bodies) == video.path.read_bytes()  # type: ignore[union-attr]
    put = router.calls[2].request
    assert put.headers["authorization"] == f"Bearer {TOKEN}"
    assert put.headers["content-type"] == "video/mp4"
    assert put.headers["content-length"] == str(CHUNK)
    assert dict(videos.calls.last.request.url.params) == {
        "part": "status,processingDetails",
        "id": "vid1",
    }


async def test_a_vertical_clip_of_up_to_three_minutes_gets_the_shorts_link(
    provider: YouTubeProvider, router: respx.MockRouter, tmp_path: Path
) -> None:
    video = clip(tmp_path, width=1080, height=1920, seconds=59)
    open_session(router)
    result = await provider.publish(post_of(video), account(), KEY)
    assert isinstance(result, Processing)
    assert result.handle["short"] is True
    router.get(VIDEOS).mock(return_value=listed("processed", "shorty"))
    done = await provider.poll(processing("shorty", short=True), post_of(video), account(), KEY)
    assert done == PublishResult(
        platform_id="shorty",
        url="https://youtube.com/shorts/shorty",
        ref={"video_id": "shorty", "parts": 1},
    )


async def test_a_restart_mid_upload_resumes_from_what_youtube_has(
    provider: YouTubeProvider, router: respx.MockRouter, tmp_path: Path
) -> None:
    """A new process polls with the stored handle alone: Google has the first chunk, so only
    the rest is sent, and no second session is opened."""
    video = clip(tmp_path, 2 * CHUNK + 10)
    session = Session(video.size, received=CHUNK)
    router.put(SESSION).mock(side_effect=session)
    result = await provider.poll(uploading(video.size), post_of(video), account(), KEY)
    assert result == Processing(handle=processing(), retry_after=30.0, stage="processing the video")
    assert sent(router) == [
        f"PUT /upload/youtube/v3/videos bytes */{video.size}",
        f"PUT /upload/youtube/v3/videos bytes {CHUNK}-{2 * CHUNK - 1}/{video.size}",
        f"PUT /upload/youtube/v3/videos bytes {2 * CHUNK}-{video.size - 1}/{video.size}",
    ]
    assert b"".join(session.bodies) == video.path.read_bytes()[CHUNK:]  # type: ignore[union-attr]


async def test_a_restart_after_the_last_answer_was_lost_sends_nothing_again(
    provider: YouTubeProvider, router: respx.MockRouter, tmp_path: Path
) -> None:
    video = clip(tmp_path)
    router.put(SESSION).mock(return_value=httpx.Response(200, json=video_json(video_id="vid7")))
    result = await provider.poll(uploading(video.size), post_of(video), account(), KEY)
    assert isinstance(result, Processing)
    assert result.handle == processing("vid7")  # the session URI is gone from the handle
    assert sent(router) == [f"PUT /upload/youtube/v3/videos bytes */{video.size}"]


async def test_a_long_upload_hands_back_between_chunks(
    http: httpx.AsyncClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    ticks = iter(range(0, 10_000, 100))
    provider = YouTubeProvider(
        http, now=lambda: NOW, chunk_size=CHUNK, upload_budget=150, monotonic=lambda: next(ticks)
    )
    video = clip(tmp_path, 4 * CHUNK)
    router.put(SESSION).mock(side_effect=Session(video.size))
    result = await provider.poll(uploading(video.size), post_of(video), account(), KEY)
    assert result == Processing(
        handle=uploading(video.size), retry_after=0.0, stage="uploading the video (50%)"
    )
    assert len(router.calls) == 3  # the query, then two chunks within the budget


async def test_an_expired_session_starts_a_new_one(
    provider: YouTubeProvider, router: respx.MockRouter, tmp_path: Path
) -> None:
    video = clip(tmp_path)
    router.put(SESSION).mock(return_value=google_error(404, "notFound", "Not Found"))
    fresh = f"{UPLOAD}?uploadType=resumable&part=snippet%2Cstatus&upload_id=fresh"
    open_session(router, fresh)
    result = await provider.poll(uploading(video.size), post_of(video), account(), KEY)
    assert result == Processing(
        handle={**uploading(video.size), "session_uri": fresh},
        retry_after=0.0,
        stage="uploading the video",
    )


@pytest.mark.parametrize(
    ("failure", "ambiguous"),
    [
        (httpx.Response(503, text="<html>Service Unavailable</html>"), False),
        (httpx.ReadTimeout("slow"), True),
    ],
    ids=["5xx: resume later", "the last chunk's answer lost: maybe made, resume later"],
)
async def test_a_failed_chunk_keeps_the_handle_for_the_next_poll(
    provider: YouTubeProvider,
    router: respx.MockRouter,
    tmp_path: Path,
    failure: httpx.Response | Exception,
    ambiguous: bool,
) -> None:
    video = clip(tmp_path)
    answers: list[httpx.Response | Exception] = [httpx.Response(308), failure]
    router.put(SESSION).mock(side_effect=answers)
    handle = uploading(video.size)
    with pytest.raises(TransientError) as raised:
        await provider.poll(handle, post_of(video), account(), KEY)
    assert raised.value.ambiguous is ambiguous
    assert "SECRET" not in str(raised.value)
    # The next poll asks the same session; YouTube had it all: no byte is sent again.
    router.put(SESSION).mock(return_value=httpx.Response(201, json=video_json(video_id="v2")))
    result = await provider.poll(handle, post_of(video), account(), KEY)
    assert isinstance(result, Processing)
    assert result.handle["video_id"] == "v2"


async def test_a_missing_video_file_is_permanent(
    provider: YouTubeProvider, router: respx.MockRouter, tmp_path: Path
) -> None:
    video = clip(tmp_path)
    router.put(SESSION).mock(return_value=httpx.Response(308))
    video.path.unlink()  # type: ignore[union-attr]
    with pytest.raises(PermanentError, match="gone"):
        await provider.poll(uploading(video.size), post_of(video), account(), KEY)


@pytest.mark.parametrize(
    ("looks", "time_left_ms", "wait"),
    [
        (0, None, 30.0),  # the first look: 15 s × 2
        (0, "90000", 90.0),  # YouTube's estimate, when later
        (0, "1000", 30.0),  # never sooner than the floor
        (3, "1000", 240.0),  # the floor doubles with every look
        (9, None, 300.0),  # up to five minutes
        (0, "86400000", 300.0),
    ],
)
async def test_processing_is_looked_at_less_and_less_often(
    provider: YouTubeProvider,
    router: respx.MockRouter,
    tmp_path: Path,
    looks: int,
    time_left_ms: str | None,
    wait: float,
) -> None:
    details: dict[str, Any] = {"processingStatus": "processing"}
    if time_left_ms:
        details["processingProgress"] = {"timeLeftMs": time_left_ms}
    router.get(VIDEOS).mock(return_value=listed("uploaded", processingDetails=details))
    handle = processing(looks=looks)
    result = await provider.poll(handle, post_of(clip(tmp_path)), account(), KEY)
    assert result == Processing(
        handle=processing(looks=looks + 1), retry_after=wait, stage="processing the video"
    )


# -- processing ends badly ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (listed("failed", status={"failureReason": "codec"}), "codec"),
        (listed("failed", status={"failureReason": "invalidFile"}), "read the file"),
        (listed("rejected", status={"rejectionReason": "duplicate"}), "duplicates a video"),
        (listed("rejected", status={"rejectionReason": "length"}), "longer than"),
        (listed("deleted"), "deleted"),
        (httpx.Response(200, json={"items": []}), "deleted"),
        (
            listed(
                "uploaded",
                processingDetails={
                    "processingStatus": "terminated",
                    "processingFailureReason": "transcodeFailed",
                },
            ),
            "transcodeFailed",
        ),
    ],
    ids=["codec", "invalid file", "duplicate", "too long", "deleted", "gone", "terminated"],
)
async def test_processing_that_fails_is_a_permanent_error_with_the_reason(
    provider: YouTubeProvider,
    router: respx.MockRouter,
    tmp_path: Path,
    answer: httpx.Response,
    says: str,
) -> None:
    router.get(VIDEOS).mock(return_value=answer)
    with pytest.raises(PermanentError, match=says):
        await provider.poll(processing(), post_of(clip(tmp_path)), account(), KEY)


# -- errors ---------------------------------------------------------------------------------


@dataclass
class ErrorCase:
    id: str
    response: httpx.Response
    error: type[Exception]
    says: str = ""
    retry_after: float | None = None


ERROR_CASES = [
    ErrorCase(
        "401 invalid credentials",
        google_error(401, "authError", "Request had invalid authentication credentials."),
        AuthError,
        "invalid authentication",
    ),
    ErrorCase(
        "401 no channel",
        google_error(401, "youtubeSignupRequired", "Unauthorized"),
        AuthError,
        "create_channel",
    ),
    ErrorCase("403 forbidden", google_error(403, "forbidden", "Forbidden"), AuthError, "Forbidden"),
    ErrorCase(
        "403 insufficient scopes",
        google_error(403, "insufficientPermissions", "Insufficient Permission"),
        AuthError,
        "allow everything",
    ),
    ErrorCase(
        "403 quota used up: wait for midnight Pacific",
        google_error(403, "quotaExceeded", 'You have exceeded your <a href="/q">quota</a>.'),
        RateLimited,
        "midnight Pacific",
        retry_after=quota_reset_wait(NOW),
    ),
    ErrorCase(
        "403 rate limit, no Retry-After",
        google_error(403, "rateLimitExceeded", "Rate Limit Exceeded"),
        RateLimited,
        "Rate Limit Exceeded",
        retry_after=60.0,
    ),
    ErrorCase(
        "429 with Retry-After",
        google_error(429, "rateLimitExceeded", "Too many", **{"Retry-After": "30"}),
        RateLimited,
        retry_after=30.0,
    ),
    ErrorCase(
        "400 invalid title",
        google_error(400, "invalidTitle", "The request metadata specifies an invalid title."),
        PermanentError,
        "invalid title (invalidTitle)",
    ),
    ErrorCase(
        "400 daily upload limit",
        google_error(400, "uploadLimitExceeded", "The user has exceeded the number of videos."),
        PermanentError,
        "daily upload limit",
    ),
    ErrorCase(
        "403 privacy setting refused",
        google_error(403, "forbiddenPrivacySetting", "The privacy setting is invalid."),
        PermanentError,
        "forbiddenPrivacySetting",
    ),
    ErrorCase(
        "500 backend error",
        google_error(500, "backendError", "Backend Error"),
        TransientError,
        "Backend Error",
    ),
    ErrorCase("502 from a proxy", httpx.Response(502, text="<h1>Bad Gateway</h1>"), TransientError),
]


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c.id for c in ERROR_CASES])
async def test_google_errors_map_to_provider_errors(
    provider: YouTubeProvider, router: respx.MockRouter, tmp_path: Path, case: ErrorCase
) -> None:
    router.post(UPLOAD).mock(return_value=case.response)
    with pytest.raises(case.error) as raised:
        await provider.publish(post_of(clip(tmp_path)), account(), KEY)
    error = raised.value
    assert case.says in str(error)
    assert TOKEN not in str(error)
    assert "<a" not in str(error)
    if case.retry_after is not None:
        assert isinstance(error, RateLimited)
        assert error.retry_after == pytest.approx(case.retry_after)
    else:
        assert not isinstance(error, RateLimited)


@pytest.mark.parametrize(
    ("now", "wait"),
    [
        # 04:00 PST (UTC-8) → 20 hours to midnight.
        (datetime(2026, 1, 15, 12, 0, tzinfo=UTC), 20 * 3600),
        # 23:00 PDT (UTC-7) → one hour.
        (datetime(2026, 7, 1, 6, 0, tzinfo=UTC), 3600),
        # 23:30 PST on the night before DST starts: midnight is still PST.
        (datetime(2026, 3, 8, 7, 30, tzinfo=UTC), 1800),
    ],
    ids=["winter", "summer", "night before DST"],
)
def test_the_quota_resets_at_midnight_pacific(now: datetime, wait: float) -> None:
    assert quota_reset_wait(now) == pytest.approx(wait + 60)


async def test_a_video_file_that_changed_since_publish_is_permanent(
    provider: YouTubeProvider, router: respx.MockRouter, tmp_path: Path
) -> None:
    video = clip(tmp_path, 1000)
    with pytest.raises(PermanentError, match="changed"):
        await provider.poll(uploading(999), post_of(video), account(), KEY)
    assert not router.calls
