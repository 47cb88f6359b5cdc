"""Every error TikTok documents, mapped to the right class (respx, table-style): the API's
error codes in their envelope, bare statuses from a proxy, network failures (ambiguous only
where the request may have published), the chunk upload's answers, and the fail reasons of a
FAILED status."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import respx

from providers.base import AccountRef, PostContent, Processing
from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from providers.tiktok import TikTokProvider
from providers.tiktok_api import failure_error
from providers.tiktok_posting import CANT_CONTINUE, EXPIRED
from tests.contract.case_tiktok import CREATOR
from tests.unit.providers.tiktok_support import API, KEY, clip, envelope, photo, post_of, refusal

TOKEN = "act.SECRET-token"
UPLOAD_URL = "https://open-upload.tiktokapis.com/upload/?upload_id=7001&upload_token=SECRET-up"
INIT = f"{API}/post/publish/video/init/"
STATUS = f"{API}/post/publish/status/fetch/"


def account(**config: object) -> AccountRef:
    return AccountRef(
        id=2,
        platform="tiktok",
        label="@crier.tests",
        config={"username": "crier.tests", "privacy_level": "PUBLIC_TO_EVERYONE", **config},
        credentials={"access_token": TOKEN},
    )


@pytest.fixture
async def provider() -> AsyncIterator[TikTokProvider]:
    async with httpx.AsyncClient() as http:
        yield TikTokProvider(http)


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        mock.post(f"{API}/post/publish/creator_info/query/").mock(return_value=envelope(CREATOR))
        yield mock


@pytest.fixture
def video_post(tmp_path: Path) -> PostContent:
    return post_of(clip(tmp_path))


# -- the API's error codes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "error", "said"),
    [
        (refusal(401, "access_token_invalid"), AuthError, "connect the account again"),
        (refusal(401, "scope_not_authorized"), AuthError, "allow everything Crier asks"),
        (refusal(401, "scope_permission_missed"), AuthError, "allow everything Crier asks"),
        (refusal(429, "rate_limit_exceeded", "6 requests per minute"), RateLimited, "slow down"),
        (refusal(403, "spam_risk_too_many_posts"), RateLimited, "daily limit of posts"),
        (refusal(403, "reached_active_user_cap"), RateLimited, "daily limit of accounts"),
        (refusal(403, "spam_risk_user_banned_from_posting"), PermanentError, "banned"),
        (
            refusal(403, "unaudited_client_can_only_post_to_private_accounts"),
            PermanentError,
            "audit",
        ),
        (refusal(403, "url_ownership_unverified"), PermanentError, "verify Crier's PUBLIC_URL"),
        (refusal(403, "privacy_level_option_mismatch"), PermanentError, "choose who can see"),
        (refusal(400, "invalid_params", "title is too long"), PermanentError, "title is too long"),
        (refusal(400, "invalid_file_upload", "bad chunk"), PermanentError, "bad chunk"),
        (refusal(200, "spam_risk_text"), PermanentError, "text as spam"),
        (refusal(500, "internal_error", "try later"), TransientError, "server error"),
        (httpx.Response(401, text="<html>no</html>"), AuthError, "credentials"),
        (httpx.Response(403, text="<html>no</html>"), AuthError, "credentials"),
        (httpx.Response(400, text="<html>no</html>"), PermanentError, "rejected"),
        (httpx.Response(502, text="<html>bad gateway</html>"), TransientError, "502"),
        (httpx.Response(200, text="not json"), TransientError, "unexpected answer"),
    ],
)
async def test_init_refusals_map_to_the_error_classes(
    provider: TikTokProvider,
    router: respx.MockRouter,
    video_post: PostContent,
    answer: httpx.Response,
    error: type[Exception],
    said: str,
) -> None:
    router.post(INIT).mock(return_value=answer)
    with pytest.raises(error, match=said) as raised:
        await provider.publish(video_post, account(), KEY)
    assert type(raised.value) is error


@pytest.mark.parametrize(
    ("headers", "wait"), [({}, 60.0), ({"Retry-After": "17"}, 17.0)], ids=["minute", "header"]
)
async def test_a_rate_limit_waits_what_tiktok_says_or_a_minute(
    provider: TikTokProvider,
    router: respx.MockRouter,
    video_post: PostContent,
    headers: dict[str, str],
    wait: float,
) -> None:
    router.post(INIT).mock(return_value=refusal(429, "rate_limit_exceeded", headers=headers))
    with pytest.raises(RateLimited) as raised:
        await provider.publish(video_post, account(), KEY)
    assert raised.value.retry_after == wait


async def test_the_daily_caps_look_again_in_an_hour(
    provider: TikTokProvider, router: respx.MockRouter, video_post: PostContent
) -> None:
    router.post(INIT).mock(return_value=refusal(403, "spam_risk_too_many_posts"))
    with pytest.raises(RateLimited) as raised:
        await provider.publish(video_post, account(), KEY)
    assert raised.value.retry_after == 3600.0


async def test_a_secret_echoed_by_tiktok_never_reaches_the_message(
    provider: TikTokProvider, router: respx.MockRouter, video_post: PostContent
) -> None:
    router.post(INIT).mock(return_value=refusal(400, "invalid_params", f"bad token {TOKEN}"))
    with pytest.raises(PermanentError) as raised:
        await provider.publish(video_post, account(), KEY)
    assert TOKEN not in str(raised.value)
    assert "[redacted]" in str(raised.value)


# -- network failures: ambiguous only where the request may have published ------------------


@pytest.mark.parametrize(
    ("failure", "ambiguous"),
    [(httpx.ConnectError("refused"), False), (httpx.ReadTimeout("slow"), False)],
)
async def test_a_lost_upload_init_published_nothing(
    provider: TikTokProvider,
    router: respx.MockRouter,
    video_post: PostContent,
    failure: Exception,
    ambiguous: bool,
) -> None:
    router.post(INIT).mock(side_effect=failure)
    with pytest.raises(TransientError) as raised:
        await provider.publish(video_post, account(), KEY)
    assert raised.value.ambiguous is ambiguous


@pytest.mark.parametrize(
    ("failure", "ambiguous"),
    [(httpx.ConnectError("refused"), False), (httpx.ReadTimeout("slow"), True)],
)
async def test_a_lost_photo_init_may_have_published(
    provider: TikTokProvider,
    router: respx.MockRouter,
    tmp_path: Path,
    failure: Exception,
    ambiguous: bool,
) -> None:
    router.post(f"{API}/post/publish/content/init/").mock(side_effect=failure)
    with pytest.raises(TransientError) as raised:
        await provider.publish(post_of(photo(tmp_path)), account(), KEY)
    assert raised.value.ambiguous is ambiguous


async def test_a_lost_status_read_is_safe_to_poll_again(
    provider: TikTokProvider, router: respx.MockRouter
) -> None:
    router.post(STATUS).mock(side_effect=httpx.ReadTimeout("slow"))
    handle = {"stage": "status", "publish_id": "p-1", "privacy_level": "SELF_ONLY", "looks": 0}
    with pytest.raises(TransientError) as raised:
        await provider.poll(handle, PostContent(text="x"), account(), KEY)
    assert raised.value.ambiguous is False


@pytest.mark.parametrize(
    ("answer", "error", "said"),
    [
        (refusal(401, "access_token_invalid"), AuthError, "connect the account again"),
        (refusal(429, "rate_limit_exceeded"), RateLimited, "slow down"),
        (refusal(400, "invalid_params", "publish_id not found"), PermanentError, "not found"),
    ],
)
async def test_status_refusals_map_like_the_rest(
    provider: TikTokProvider,
    router: respx.MockRouter,
    answer: httpx.Response,
    error: type[Exception],
    said: str,
) -> None:
    router.post(STATUS).mock(return_value=answer)
    handle = {"stage": "status", "publish_id": "p-1", "privacy_level": "SELF_ONLY", "looks": 0}
    with pytest.raises(error, match=said):
        await provider.poll(handle, PostContent(text="x"), account(), KEY)


# -- the chunk upload -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "error", "said"),
    [
        (httpx.Response(404), PermanentError, "upload link expired"),
        (httpx.Response(403), PermanentError, "upload link expired"),
        (httpx.Response(416), TransientError, "from what TikTok has"),
        (httpx.Response(503), TransientError, "HTTP 503"),
        (httpx.Response(429), RateLimited, "slow down"),
        (httpx.Response(400), PermanentError, "refused the video upload"),
        (httpx.ReadError("reset"), TransientError, "broke off during the upload"),
    ],
)
async def test_chunk_answers_map_to_the_error_classes(
    provider: TikTokProvider,
    router: respx.MockRouter,
    tmp_path: Path,
    answer: httpx.Response | Exception,
    error: type[Exception],
    said: str,
) -> None:
    video = clip(tmp_path)
    router.post(INIT).mock(
        return_value=envelope({"publish_id": "v_pub_file~1", "upload_url": UPLOAD_URL})
    )
    router.post(STATUS).mock(
        return_value=envelope({"status": "PROCESSING_UPLOAD", "uploaded_bytes": 0})
    )
    route = router.put(UPLOAD_URL)
    if isinstance(answer, Exception):
        route.mock(side_effect=answer)
    else:
        route.mock(return_value=answer)
    started = await provider.publish(post_of(video), account(), KEY)
    assert isinstance(started, Processing)
    with pytest.raises(error, match=said) as raised:
        await provider.poll(started.handle, post_of(video), account(), KEY)
    assert type(raised.value) is error
    assert "SECRET-up" not in str(raised.value)
    if error is TransientError:
        assert raised.value.ambiguous is False  # type: ignore[attr-defined]
    if "expired" in said:
        assert str(raised.value) == EXPIRED


@pytest.mark.parametrize(
    "handle",
    [
        {},
        {"stage": "upload", "publish_id": "p-1"},
        {
            "stage": "upload",
            "publish_id": "p-1",
            "upload_url": UPLOAD_URL,
            "size": 10,
            "chunk_size": 3,
            "chunks": 9,
            "next": 0,
            "mime": "video/mp4",
        },
        {"stage": "elsewhere", "publish_id": "p-1"},
    ],
)
async def test_a_handle_that_cannot_be_continued_fails_clearly(
    provider: TikTokProvider, handle: dict[str, object], tmp_path: Path
) -> None:
    with pytest.raises(PermanentError) as raised:
        await provider.poll(handle, post_of(clip(tmp_path)), account(), KEY)
    assert str(raised.value) == CANT_CONTINUE


# -- fail reasons ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "error", "said"),
    [
        ("file_format_check_failed", PermanentError, "can't read this file"),
        ("duration_check_failed", PermanentError, "length"),
        ("frame_rate_check_failed", PermanentError, "frames per second"),
        ("picture_size_check_failed", PermanentError, "picture size"),
        ("spam_risk_too_many_posts", PermanentError, "try again tomorrow"),
        ("spam_risk_user_banned_from_posting", PermanentError, "banned"),
        ("spam_risk_text", PermanentError, "spam"),
        ("spam_risk", PermanentError, "spam"),
        ("video_pull_failed", PermanentError, "couldn't download the video"),
        ("photo_pull_failed", PermanentError, "couldn't download the photos"),
        ("publish_cancelled", PermanentError, "cancelled"),
        ("auth_removed", AuthError, "access .* was removed"),
        ("internal", PermanentError, "TikTok's side"),
        ("", PermanentError, "no reason given"),
    ],
)
def test_fail_reasons_map_to_the_error_classes(
    reason: str, error: type[Exception], said: str
) -> None:
    raised = failure_error(reason)
    assert type(raised) is error
    assert re.search(said, str(raised))
