"""Every adapter does after publishing exactly what its `AfterPublish` declares: a declared
delete deletes the post `publish` returned (and what is already gone counts as deleted), a
declared edit changes it after the compose-time checks, a declared lookup tells found from
not published; whatever is not declared is refused with the documented PermanentError (or,
for lookup, "can't tell"), without a request."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import respx

from providers.base import AfterPublish, NotPublished, PostContent, Provider, PublishResult
from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from tests.contract.cases import CASES
from tests.contract.harness import ContractCase, post_for, publish_to_end

pytestmark = pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])

KEY = "key-123"


@pytest.fixture
def router() -> respx.MockRouter:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


async def _published(case: ContractCase, router: respx.MockRouter) -> PublishResult:
    """What `publish` returns for a text post (with the media the platform requires) on
    `mock_success`'s platform, a two-phase publish carried on to its end."""
    case.mock_success(router)
    post = post_for(case, Path(tempfile.mkdtemp(prefix="crier-contract-")), "Hello from Crier")
    async with httpx.AsyncClient() as http:
        return await publish_to_end(case.provider(http), post, case.account(), KEY)


def _declared(case: ContractCase) -> tuple[Provider, AfterPublish]:
    provider = case.provider(httpx.AsyncClient())
    return provider, provider.after_publish_for(case.account())


def test_capabilities_are_declared_as_data(case: ContractCase) -> None:
    provider, declared = _declared(case)
    assert isinstance(provider.after_publish, AfterPublish)
    assert isinstance(declared, AfterPublish)
    if declared.can_edit_buttons:
        assert provider.limits_for(case.account()).url_buttons  # buttons only where they show


async def test_the_published_ref_is_json_without_secrets(
    case: ContractCase, router: respx.MockRouter
) -> None:
    result = await _published(case, router)
    text = json.dumps(result.ref)
    assert json.loads(text) == result.ref
    assert result.ref["parts"] == 1
    for secret in case.secrets:
        assert secret not in text


async def test_delete_as_declared(case: ContractCase, router: respx.MockRouter) -> None:
    _, declared = _declared(case)
    if declared.can_delete:
        case.mock_delete(router)
    result = await _published(case, router)
    before = router.calls.call_count
    async with httpx.AsyncClient() as http:
        provider = case.provider(http)
        if not declared.can_delete:
            with pytest.raises(PermanentError, match="can't delete"):
                await provider.delete(result, case.account())
            assert router.calls.call_count == before
            return
        await provider.delete(result, case.account())
    assert case.deleted(router)


async def test_deleting_what_is_already_gone_succeeds(
    case: ContractCase, router: respx.MockRouter
) -> None:
    _, declared = _declared(case)
    if not declared.can_delete:
        pytest.skip("this adapter declares no delete")
    case.mock_delete(router, case.gone_response())
    result = await _published(case, router)
    async with httpx.AsyncClient() as http:
        await case.provider(http).delete(result, case.account())


@pytest.mark.parametrize(
    ("kind", "error"),
    [("auth", AuthError), ("rate_limit", RateLimited), ("server", TransientError)],
)
async def test_delete_errors_map_like_publish_errors(
    case: ContractCase, router: respx.MockRouter, kind: str, error: type[Exception]
) -> None:
    _, declared = _declared(case)
    if not declared.can_delete:
        pytest.skip("this adapter declares no delete")
    case.mock_delete(router, case.error_response(kind, retry_after=17))  # type: ignore[arg-type]
    result = await _published(case, router)
    async with httpx.AsyncClient() as http:
        with pytest.raises(error) as raised:
            await case.provider(http).delete(result, case.account())
    for secret in case.secrets:
        assert secret not in str(raised.value)


async def test_a_lost_answer_to_a_delete_is_safe_to_repeat(
    case: ContractCase, router: respx.MockRouter
) -> None:
    _, declared = _declared(case)
    if not declared.can_delete:
        pytest.skip("this adapter declares no delete")
    case.mock_delete(router, httpx.ReadTimeout("slow"))
    result = await _published(case, router)
    async with httpx.AsyncClient() as http:
        with pytest.raises(TransientError) as raised:
            await case.provider(http).delete(result, case.account())
    assert raised.value.ambiguous is False
    assert "again is safe" in str(raised.value)


async def test_edit_as_declared(case: ContractCase, router: respx.MockRouter) -> None:
    _, declared = _declared(case)
    if declared.can_edit_text:
        case.mock_edit(router)
    result = await _published(case, router)
    before = router.calls.call_count
    async with httpx.AsyncClient() as http:
        provider = case.provider(http)
        new = PostContent(text="Hello again from Crier")
        if not declared.can_edit_text:
            with pytest.raises(PermanentError, match="can't edit") as raised:
                await provider.edit(result, new, case.account())
            if declared.can_delete:
                assert "delete it and post it again" in str(raised.value)
            assert router.calls.call_count == before
            return
        edited = await provider.edit(result, new, case.account())
    assert case.edited_to(router, "Hello again from Crier")
    assert edited.platform_id == result.platform_id
    assert json.loads(json.dumps(edited.ref)) == edited.ref


async def test_an_edit_is_checked_as_at_compose_time(
    case: ContractCase, router: respx.MockRouter
) -> None:
    _, declared = _declared(case)
    if not declared.can_edit_text:
        pytest.skip("this adapter declares no edit")
    case.mock_edit(router)
    result = await _published(case, router)
    before = router.calls.call_count
    async with httpx.AsyncClient() as http:
        provider = case.provider(http)
        too_long = PostContent(text="a" * (provider.limits_for(case.account()).max_text + 1))
        assert "text_too_long" in {
            p.code for p in provider.validate_edit(result, too_long, case.account())
        }
        with pytest.raises(PermanentError):
            await provider.edit(result, too_long, case.account())
    assert router.calls.call_count == before


@pytest.mark.parametrize("published", [True, False], ids=["out", "not-out"])
async def test_lookup_as_declared(
    case: ContractCase, router: respx.MockRouter, published: bool
) -> None:
    _, declared = _declared(case)
    post = PostContent(
        text="Hello from Crier", scheduled_at=datetime.now(UTC) - timedelta(minutes=1)
    )
    if declared.can_lookup:
        case.mock_lookup(router, published=published, key=KEY)
    async with httpx.AsyncClient() as http:
        found = await case.provider(http).lookup(post, case.account(), KEY)
    if not declared.can_lookup:
        assert found is None
        assert router.calls.call_count == 0
    elif published:
        assert isinstance(found, PublishResult)
        assert found.platform_id
        assert found.ref["parts"] == 1
    else:
        assert isinstance(found, NotPublished)
