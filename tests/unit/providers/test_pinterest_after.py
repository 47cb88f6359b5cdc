"""Pinterest after publishing, on the stateful fake: the exact DELETE and PATCH requests,
deleting twice, the text rule applied to an edit (title, description, link, alt text), what
an edit can't change, Pinterest's errors (the Update Pin beta among them), and no lookup."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import respx

from providers.base import AccountRef, MediaFile, MediaKind, PostContent, PublishResult
from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from providers.pinterest import PinterestProvider
from tests.contract.harness import TINY_JPEG
from tests.fakes.pinterest import FakePinterest

KEY = "target-6-occurrence-1"
API = "https://api.pinterest.com/v5"


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def fake(router: respx.MockRouter) -> FakePinterest:
    fake = FakePinterest()
    fake.add_board("Recipes")
    router.route(host="api.pinterest.com").mock(side_effect=fake)
    return fake


@pytest.fixture
async def provider(fake: FakePinterest) -> AsyncIterator[PinterestProvider]:
    async with httpx.AsyncClient() as http:
        yield PinterestProvider(http)


@pytest.fixture
def account(fake: FakePinterest) -> AccountRef:
    return AccountRef(
        id=1,
        platform="pinterest",
        label="crier / Recipes",
        config={"board_id": fake.boards[0].id, "board_name": "Recipes", "username": "crier"},
        credentials={"access_token": fake.issue_token()},
    )


def photo(tmp_path: Path, alt: str | None = "A bowl of soup") -> MediaFile:
    path = tmp_path / "soup.jpg"
    path.write_bytes(TINY_JPEG)
    return MediaFile(
        kind=MediaKind.PHOTO, mime="image/jpeg", size=path.stat().st_size, path=path, alt_text=alt
    )


async def _pin(
    provider: PinterestProvider, account: AccountRef, tmp_path: Path, text: str
) -> PublishResult:
    result = await provider.publish(PostContent(text=text, media=(photo(tmp_path),)), account, KEY)
    assert isinstance(result, PublishResult)
    return result


async def test_delete_is_one_delete_and_again_is_fine(
    provider: PinterestProvider,
    fake: FakePinterest,
    account: AccountRef,
    router: respx.MockRouter,
    tmp_path: Path,
) -> None:
    result = await _pin(provider, account, tmp_path, "Soup\nA warm soup")
    pin_id = result.ref["pin_id"]
    await provider.delete(result, account)
    assert fake.pins == []
    [call] = [c for c in router.calls if c.request.method == "DELETE"]
    assert str(call.request.url) == f"{API}/pins/{pin_id}"
    assert call.request.headers["authorization"] == f"Bearer {account.credentials['access_token']}"
    assert call.request.content == b""
    await provider.delete(result, account)  # 404 "Pin not found." counts as deleted


async def test_edit_patches_the_text_fields_by_the_pin_rule(
    provider: PinterestProvider,
    fake: FakePinterest,
    account: AccountRef,
    router: respx.MockRouter,
    tmp_path: Path,
) -> None:
    result = await _pin(provider, account, tmp_path, "Soup\nA warm soup https://example.com/soup")
    new = PostContent(
        text="Tomato soup\nWith basil https://example.com/tomato",
        media=(photo(tmp_path, alt="Red soup"),),
    )
    edited = await provider.edit(result, new, account)
    [call] = [c for c in router.calls if c.request.method == "PATCH"]
    assert str(call.request.url) == f"{API}/pins/{result.platform_id}"
    assert call.request.headers["content-type"] == "application/json"
    assert json.loads(call.request.content) == {
        "title": "Tomato soup",
        "description": "With basil https://example.com/tomato",
        "link": "https://example.com/tomato",
        "alt_text": "Red soup",
    }
    [pin] = fake.pins
    assert (pin.title, pin.description, pin.link, pin.alt_text) == (
        "Tomato soup",
        "With basil https://example.com/tomato",
        "https://example.com/tomato",
        "Red soup",
    )
    assert pin.images  # the image stays
    assert edited == result


async def test_a_one_line_edit_clears_the_title_and_link_and_keeps_the_alt_text(
    provider: PinterestProvider,
    fake: FakePinterest,
    account: AccountRef,
    router: respx.MockRouter,
    tmp_path: Path,
) -> None:
    result = await _pin(provider, account, tmp_path, "Soup\nA warm soup https://example.com/soup")
    await provider.edit(result, PostContent(text="Just soup"), account)
    [call] = [c for c in router.calls if c.request.method == "PATCH"]
    assert json.loads(call.request.content) == {
        "title": None,
        "description": "Just soup",
        "link": None,
    }
    [pin] = fake.pins
    assert (pin.title, pin.description, pin.link) == (None, "Just soup", None)
    assert pin.alt_text == "A bowl of soup"


async def test_edit_checks_the_pin_rule_before_asking(
    provider: PinterestProvider, fake: FakePinterest, account: AccountRef, tmp_path: Path
) -> None:
    result = await _pin(provider, account, tmp_path, "Soup")
    before = len(fake.requests)
    problems = provider.validate_edit(result, PostContent(text="T" * 101 + "\nbody"), account)
    assert [p.code for p in problems] == ["title_too_long"]
    with pytest.raises(PermanentError, match="title"):
        await provider.edit(result, PostContent(text="T" * 101 + "\nbody"), account)
    with pytest.raises(PermanentError, match="can't change the photos"):
        await provider.edit(
            result, PostContent(text="Soup", media=(photo(tmp_path),)), account, media_changed=True
        )
    assert len(fake.requests) == before


async def test_an_app_outside_the_update_beta_is_told_to_delete_and_pin_again(
    provider: PinterestProvider, fake: FakePinterest, account: AccountRef, tmp_path: Path
) -> None:
    result = await _pin(provider, account, tmp_path, "Soup")
    fake.pin_updates = False
    with pytest.raises(PermanentError, match="in beta") as raised:
        await provider.edit(result, PostContent(text="Better soup"), account)
    assert "delete the Pin and post it again" in str(raised.value)
    assert fake.pins[0].description == "Soup"


@pytest.mark.parametrize(
    ("method", "status", "code", "error"),
    [
        ("DELETE", 401, 2, AuthError),
        ("PATCH", 401, 2, AuthError),
        ("PATCH", 403, 3, AuthError),
        ("DELETE", 429, 8, RateLimited),
        ("DELETE", 500, 0, TransientError),
        ("PATCH", 400, 1, PermanentError),
    ],
)
async def test_errors_map_to_their_class(
    provider: PinterestProvider,
    fake: FakePinterest,
    account: AccountRef,
    tmp_path: Path,
    method: str,
    status: int,
    code: int,
    error: type[Exception],
) -> None:
    result = await _pin(provider, account, tmp_path, "Soup")
    answer = httpx.Response(
        status, json={"code": code, "message": "No"}, headers={"x-ratelimit-reset": "30"}
    )
    fake.fail_next(method, f"/v5/pins/{result.platform_id}", answer)
    action = (
        provider.delete(result, account)
        if method == "DELETE"
        else provider.edit(result, PostContent(text="Soup!"), account)
    )
    with pytest.raises(error) as raised:
        await action
    assert str(account.credentials["access_token"]) not in str(raised.value)


async def test_a_lost_answer_is_safe_to_repeat(
    provider: PinterestProvider, fake: FakePinterest, account: AccountRef, tmp_path: Path
) -> None:
    result = await _pin(provider, account, tmp_path, "Soup")
    path = f"/v5/pins/{result.platform_id}"
    fake.fail_next("DELETE", path, httpx.ReadTimeout("lost"))
    fake.fail_next("PATCH", path, httpx.ReadTimeout("lost"))
    with pytest.raises(TransientError, match="deleting again is safe") as raised:
        await provider.delete(result, account)
    assert not raised.value.ambiguous
    with pytest.raises(TransientError, match="editing again is safe"):
        await provider.edit(result, PostContent(text="Soup!"), account)


async def test_declared_capabilities_and_no_lookup(
    provider: PinterestProvider, fake: FakePinterest, account: AccountRef
) -> None:
    declared = provider.after_publish_for(account)
    assert (declared.can_delete, declared.can_edit_text) == (True, True)
    assert not declared.can_edit_media
    assert not declared.can_lookup
    assert await provider.lookup(PostContent(text="Soup"), account, KEY) is None
    assert fake.requests == []
