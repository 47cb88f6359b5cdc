"""Every adapter honours the provider contract (see harness.py)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import respx

from providers.base import MediaFile, MediaKind, PostContent
from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from tests.contract.cases import CASES
from tests.contract.harness import ContractCase, image_post, post_for, publish_to_end

pytestmark = pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])


async def _publish(case: ContractCase, router: respx.MockRouter, post: PostContent) -> object:
    # respx intercepts every httpx client while its router is active.
    async with httpx.AsyncClient() as http:
        provider = case.provider(http)
        return await publish_to_end(provider, post, case.account(), "key-123")


@pytest.fixture
def router() -> respx.MockRouter:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


def test_validate_enforces_the_declared_text_limit(case: ContractCase, tmp_path: Path) -> None:
    provider = case.provider(httpx.AsyncClient())
    limit = provider.limits.max_text
    ok = provider.validate(post_for(case, tmp_path, "a" * limit), case.account())
    too_long = provider.validate(post_for(case, tmp_path, "a" * (limit + 1)), case.account())
    assert not [p for p in ok if p.code == "text_too_long"]
    assert [p.code for p in too_long] == ["text_too_long"]


def test_validate_enforces_the_media_count(case: ContractCase, tmp_path: Path) -> None:
    provider = case.provider(httpx.AsyncClient())
    one = image_post(tmp_path).media[0]
    media = tuple(
        MediaFile(kind=MediaKind.PHOTO, mime=one.mime, size=one.size, path=one.path)
        for _ in range(provider.limits.max_media + 1)
    )
    problems = provider.validate(PostContent(text="hi", media=media), case.account())
    assert {"too_many_media", "too_many_images", "no_media"} & {p.code for p in problems}


def test_validate_refuses_an_empty_post(case: ContractCase) -> None:
    provider = case.provider(httpx.AsyncClient())
    assert [p.code for p in provider.validate(PostContent(text="  "), case.account())] == ["empty"]


def test_a_platform_that_needs_media_refuses_text_alone(case: ContractCase, tmp_path: Path) -> None:
    provider = case.provider(httpx.AsyncClient())
    assert bool(case.required_media(tmp_path)) == provider.limits.media_required
    codes = [p.code for p in provider.validate(PostContent(text="Hello"), case.account())]
    assert ("media_required" in codes) == provider.limits.media_required


async def test_publish_returns_the_post_url(
    case: ContractCase, router: respx.MockRouter, tmp_path: Path
) -> None:
    case.mock_success(router)
    result = await _publish(case, router, post_for(case, tmp_path, "Hello from Crier"))
    assert result.platform_id  # type: ignore[attr-defined]
    assert (result.url or "").startswith("https://")  # type: ignore[attr-defined]


async def test_alt_text_is_sent_where_supported(
    case: ContractCase, router: respx.MockRouter, tmp_path: Path
) -> None:
    case.mock_success(router)
    provider = case.provider(httpx.AsyncClient())
    if MediaKind.PHOTO not in provider.limits.mime_types:
        assert not provider.limits.alt_text  # no photos (YouTube), so no alt text either
        return
    await _publish(case, router, image_post(tmp_path, alt="A tiny test image"))
    assert case.sent_alt_text(router, "A tiny test image") == provider.limits.alt_text


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("auth", AuthError),
        ("rate_limit", RateLimited),
        ("server", TransientError),
        ("rejected", PermanentError),
    ],
)
async def test_http_errors_map_to_the_error_classes(
    case: ContractCase,
    router: respx.MockRouter,
    tmp_path: Path,
    kind: str,
    error: type[Exception],
) -> None:
    case.mock_publish_answer(
        router,
        case.error_response(kind, retry_after=17, message="platform says no"),  # type: ignore[arg-type]
    )
    with pytest.raises(error) as raised:
        await _publish(case, router, post_for(case, tmp_path, "Hello"))
    if kind == "rate_limit":
        assert raised.value.retry_after == pytest.approx(17, abs=1)  # type: ignore[attr-defined]
    if kind == "rejected":
        assert "platform says no" in str(raised.value)
    for secret in case.secrets:
        assert secret not in str(raised.value)


@pytest.mark.parametrize(
    ("failure", "ambiguous"),
    [(httpx.ConnectError("refused"), False), (httpx.ReadTimeout("slow"), True)],
)
async def test_network_failures_are_transient_and_say_if_ambiguous(
    case: ContractCase,
    router: respx.MockRouter,
    tmp_path: Path,
    failure: Exception,
    ambiguous: bool,
) -> None:
    case.mock_publish_answer(router, failure)
    with pytest.raises(TransientError) as raised:
        await _publish(case, router, post_for(case, tmp_path, "Hello"))
    assert raised.value.ambiguous is ambiguous
    for secret in case.secrets:
        assert secret not in str(raised.value)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, AuthError),
        (400, PermanentError),
        (500, TransientError),
        (503, TransientError),
    ],
)
async def test_bare_http_statuses_map_to_the_error_classes(
    case: ContractCase,
    router: respx.MockRouter,
    tmp_path: Path,
    status: int,
    error: type[Exception],
) -> None:
    # Whatever the platform's own error shape, a proxy or load balancer in front of it
    # answers with a bare status: the class follows from the status alone.
    case.mock_publish_answer(router, httpx.Response(status, text="<html>error</html>"))
    with pytest.raises(error):
        await _publish(case, router, post_for(case, tmp_path, "Hello"))
