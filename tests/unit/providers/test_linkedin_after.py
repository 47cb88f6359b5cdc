"""LinkedIn after publishing, on the stateful fake: the exact DELETE and PARTIAL_UPDATE
requests, deleting twice, a member's and a page's post, LinkedIn's errors mapped to their
class, what an edit can't change (media, the link card), and no lookup."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from providers.base import PostContent, PublishResult, Severity
from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from tests.unit.providers.linkedin_world import World, photo, world

KEY = "target-3-occurrence-1"


@pytest.fixture
async def w() -> AsyncIterator[World]:
    async with world() as it:
        yield it


def encoded(urn: str) -> str:
    return urn.replace(":", "%3A")


async def _publish(w: World, post: PostContent, *, page: bool = False) -> PublishResult:
    account = w.page_account() if page else w.member_account()
    result = await w.provider().publish(post, account, KEY)
    assert isinstance(result, PublishResult)
    return result


async def test_delete_is_one_documented_delete_and_again_is_fine(w: World) -> None:
    account = w.member_account()
    result = await w.provider().publish(PostContent(text="Hello LinkedIn"), account, KEY)
    assert isinstance(result, PublishResult)
    urn = result.ref["urn"]
    await w.provider().delete(result, account)
    assert w.fake.posts == []
    [sent] = w.fake.requests_to(f"/rest/posts/{urn}")
    assert sent.method == "DELETE"
    assert sent.raw_path == f"/rest/posts/{encoded(urn)}"
    assert sent.headers["authorization"] == f"Bearer {account.credentials['access_token']}"
    assert sent.headers["x-restli-method"] == "DELETE"
    assert sent.headers["linkedin-version"] == "202605"
    assert sent.headers["x-restli-protocol-version"] == "2.0.0"
    assert sent.content == b""
    await w.provider().delete(result, account)  # 204 again: deletes are idempotent


async def test_a_post_linkedin_never_had_counts_as_deleted(w: World) -> None:
    never = PublishResult(platform_id="urn:li:share:1", ref={"urn": "urn:li:share:1", "parts": 1})
    await w.provider().delete(never, w.member_account())
    [sent] = w.fake.requests_to("/rest/posts/urn:li:share:1")
    assert sent.method == "DELETE"


async def test_a_pages_post_is_deleted_with_the_page_permission(w: World) -> None:
    result = await _publish(w, PostContent(text="News from Acme"), page=True)
    await w.provider().delete(result, w.page_account())
    assert w.fake.posts == []


async def test_a_member_can_t_delete_a_pages_post_without_the_page_permission(w: World) -> None:
    result = await _publish(w, PostContent(text="News from Acme"), page=True)
    account = w.page_account(scopes="openid profile w_member_social")
    with pytest.raises(AuthError, match="w_organization_social"):
        await w.provider().delete(result, account)
    assert len(w.fake.posts) == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, AuthError), (429, RateLimited), (500, TransientError), (400, PermanentError)],
)
async def test_delete_errors_map_to_their_class(
    w: World, status: int, error: type[Exception]
) -> None:
    account = w.member_account()
    result = await _publish(w, PostContent(text="Hello"))
    w.fake.fail_next(f"/rest/posts/{result.ref['urn']}", status, method="DELETE")
    with pytest.raises(error) as raised:
        await w.provider().delete(result, account)
    assert str(account.credentials["access_token"]) not in str(raised.value)


async def test_a_lost_answer_to_a_delete_or_edit_is_safe_to_repeat(tmp_path: Path) -> None:
    def lost(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("lost", request=request)

    async with world() as w:
        result = await _publish(w, PostContent(text="Hello"))
        provider = w.provider(http=httpx.AsyncClient(transport=httpx.MockTransport(lost)))
        with pytest.raises(TransientError, match="deleting again is safe") as raised:
            await provider.delete(result, w.member_account())
        assert not raised.value.ambiguous
        with pytest.raises(TransientError, match="editing again is safe"):
            await provider.edit(result, PostContent(text="Hi"), w.member_account())


async def test_edit_is_a_partial_update_of_the_commentary(w: World) -> None:
    account = w.member_account()
    result = await _publish(w, PostContent(text="Hello LinkedIn"))
    urn = result.ref["urn"]
    edited = await w.provider().edit(result, PostContent(text="Hello (again) #news"), account)
    [sent] = w.fake.requests_to(f"/rest/posts/{urn}")
    assert sent.method == "POST"
    assert sent.raw_path == f"/rest/posts/{encoded(urn)}"
    assert sent.headers["x-restli-method"] == "PARTIAL_UPDATE"
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["linkedin-version"] == "202605"
    assert sent.json == {"patch": {"$set": {"commentary": "Hello \\(again\\) #news"}}}
    [post] = w.fake.posts
    assert post.text == "Hello (again) #news"
    assert post.hashtags == ["#news"]
    assert edited == result  # same post, link and ref: only the commentary changed


async def test_a_pages_post_is_edited_too(w: World) -> None:
    result = await _publish(w, PostContent(text="News from Acme"), page=True)
    await w.provider().edit(result, PostContent(text="More news from Acme"), w.page_account())
    assert w.fake.posts[0].text == "More news from Acme"


async def test_an_edit_over_the_limit_is_refused_before_asking(w: World) -> None:
    result = await _publish(w, PostContent(text="Hello"))
    before = len(w.fake.requests)
    with pytest.raises(PermanentError, match="3,000"):
        await w.provider().edit(result, PostContent(text="a" * 3001), w.member_account())
    assert len(w.fake.requests) == before


async def test_photos_stay_and_can_t_be_replaced(w: World, tmp_path: Path) -> None:
    account = w.member_account()
    post = PostContent(text="A cat", media=(photo(tmp_path, "cat", alt="A cat"),))
    result = await _publish(w, post)
    content = w.fake.posts[0].content
    edited = PostContent(text="A grey cat", media=post.media)
    await w.provider().edit(result, edited, account)
    assert w.fake.posts[0].text == "A grey cat"
    assert w.fake.posts[0].content == content
    with pytest.raises(PermanentError, match="can't change the photos"):
        await w.provider().edit(result, edited, account, media_changed=True)


async def test_the_link_card_stays_as_it_went_out(w: World) -> None:
    account = w.member_account()
    result = await _publish(w, PostContent(text="Read this https://example.com/a"))
    assert result.ref["link"] == "https://example.com/a"
    same = w.provider().validate_edit(
        result, PostContent(text="Do read https://example.com/a"), account
    )
    assert same == []
    [changed] = w.provider().validate_edit(
        result, PostContent(text="Read https://example.com/b"), account
    )
    assert changed.code == "link_card_kept"
    assert changed.severity == Severity.WARNING
    assert "https://example.com/a" in changed.message
    plain = await _publish(w, PostContent(text="No link here"))
    [added] = w.provider().validate_edit(
        plain, PostContent(text="Now https://example.com/c"), account
    )
    assert "can't add a link preview" in added.message


async def test_declared_capabilities_and_no_lookup(w: World) -> None:
    provider = w.provider()
    declared = provider.after_publish_for(w.member_account())
    assert (declared.can_delete, declared.can_edit_text, declared.can_edit_media) == (
        True,
        True,
        False,
    )
    assert not declared.can_lookup
    before = len(w.fake.requests)
    assert await provider.lookup(PostContent(text="Hello"), w.member_account(), KEY) is None
    assert len(w.fake.requests) == before
