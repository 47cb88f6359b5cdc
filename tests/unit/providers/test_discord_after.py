"""Discord after publishing: the exact Delete and Edit Webhook Message requests (respx), then
editing and deleting on the stateful fake, and why an unknown outcome can't be looked up."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from providers.base import AccountRef, MediaFile, MediaKind, PostContent, PublishResult
from providers.discord import DiscordProvider
from providers.errors import AuthError, PermanentError
from tests.fakes.discord import FakeDiscord, FakeWebhook, parse_multipart

WEBHOOK_ID = "1234567890123456789"
TOKEN = "s3cr3t-" + "Zx9Yw8Vu" * 8
URL = f"https://discord.com/api/webhooks/{WEBHOOK_ID}/{TOKEN}"
MESSAGE_ID = "1300000000000000042"
MESSAGE_URL = f"{URL}/messages/{MESSAGE_ID}"
NO_MENTIONS: dict[str, list[str]] = {"parse": []}
PUBLISHED = PublishResult(
    platform_id=MESSAGE_ID,
    url=f"https://discord.com/channels/1/2/{MESSAGE_ID}",
    ref={"webhook_id": WEBHOOK_ID, "message_id": MESSAGE_ID, "parts": 1},
)


def account(url: str = URL) -> AccountRef:
    return AccountRef(
        id=9,
        platform="discord",
        label="Announcements",
        config={"channel_id": "2", "guild_id": "1", "name": "Announcements"},
        credentials={"webhook_url": url},
    )


def photo(tmp_path: Path, name: str, alt: str | None = None) -> MediaFile:
    path = tmp_path / f"{name}.jpg"
    path.write_bytes(f"{name}-bytes".encode())
    return MediaFile(
        kind=MediaKind.PHOTO,
        mime="image/jpeg",
        size=path.stat().st_size,
        path=path,
        alt_text=alt,
        file_name=f"{name}.jpg",
    )


def message(**fields: Any) -> dict[str, Any]:
    return {"id": MESSAGE_ID, "channel_id": "2", "webhook_id": WEBHOOK_ID, "content": ""} | fields


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=True) as mock:
        yield mock


async def test_delete_is_delete_webhook_message(
    http: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    route = router.delete(MESSAGE_URL).mock(return_value=httpx.Response(204))
    await DiscordProvider(http).delete(PUBLISHED, account())
    request = route.calls.last.request
    assert (request.method, str(request.url), request.content) == ("DELETE", MESSAGE_URL, b"")


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (httpx.Response(404, json={"message": "Unknown Message", "code": 10008}), None),
        (httpx.Response(404, json={"message": "Unknown Webhook", "code": 10015}), AuthError),
        (httpx.Response(403, json={"message": "Missing Access", "code": 50001}), AuthError),
    ],
)
async def test_a_message_already_gone_is_deleted_a_webhook_gone_needs_reconnecting(
    http: httpx.AsyncClient,
    router: respx.MockRouter,
    answer: httpx.Response,
    error: type[Exception] | None,
) -> None:
    router.delete(MESSAGE_URL).mock(return_value=answer)
    if error is None:
        await DiscordProvider(http).delete(PUBLISHED, account())
        return
    with pytest.raises(error) as raised:
        await DiscordProvider(http).delete(PUBLISHED, account())
    assert TOKEN not in str(raised.value)


async def test_edit_patches_the_content_and_keeps_mentions_silent(
    http: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    route = router.patch(MESSAGE_URL).mock(
        return_value=httpx.Response(200, json=message(content="Fixed @everyone"))
    )
    edited = await DiscordProvider(http).edit(
        PUBLISHED, PostContent(text="Fixed @everyone"), account()
    )
    request = route.calls.last.request
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {
        "content": "Fixed @everyone",
        "allowed_mentions": NO_MENTIONS,
    }
    assert edited == PUBLISHED


async def test_edit_with_new_media_sends_them_as_multipart(
    http: httpx.AsyncClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    route = router.patch(MESSAGE_URL).mock(return_value=httpx.Response(200, json=message()))
    post = PostContent(text="New pic", media=(photo(tmp_path, "dog", alt="A dog"),))
    await DiscordProvider(http).edit(PUBLISHED, post, account(), media_changed=True)
    parts = {part.name: part for part in parse_multipart(route.calls.last.request)}
    assert json.loads(parts["payload_json"].data) == {
        "content": "New pic",
        "allowed_mentions": NO_MENTIONS,
        "attachments": [{"id": 0, "filename": "dog.jpg", "description": "A dog"}],
    }
    assert (parts["files[0]"].filename, parts["files[0]"].data) == ("dog.jpg", b"dog-bytes")


async def test_a_post_from_a_replaced_webhook_or_without_an_id_is_refused_without_a_request(
    http: httpx.AsyncClient,
) -> None:
    with respx.mock(assert_all_called=False) as router:
        replaced = PublishResult(
            platform_id=MESSAGE_ID, ref={"webhook_id": "999", "message_id": MESSAGE_ID}
        )
        with pytest.raises(PermanentError, match="no longer uses"):
            await DiscordProvider(http).delete(replaced, account())
        unnamed = PublishResult(platform_id="idempotency-key")
        with pytest.raises(PermanentError, match="didn't say which message"):
            await DiscordProvider(http).edit(unnamed, PostContent(text="x"), account())
        assert router.calls.call_count == 0


# -- on the stateful fake ----------------------------------------------------------------------


@pytest.fixture
def fake() -> FakeDiscord:
    return FakeDiscord()


@pytest.fixture
def hook(fake: FakeDiscord) -> FakeWebhook:
    return fake.add_webhook(name="Announcements")


@pytest.fixture
async def discord(fake: FakeDiscord) -> AsyncIterator[DiscordProvider]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handle)) as client:
        yield DiscordProvider(client)


async def test_edit_keeps_the_attachments_unless_the_media_changed(
    fake: FakeDiscord, hook: FakeWebhook, discord: DiscordProvider, tmp_path: Path
) -> None:
    cat = photo(tmp_path, "cat", alt="A cat")
    result = await discord.publish(PostContent(text="Pet", media=(cat,)), account(hook.url), "k")
    assert result.ref == {
        "webhook_id": hook.id,
        "message_id": fake.messages[0].id,
        "parts": 1,
    }
    [original] = fake.messages[0].attachments
    await discord.edit(result, PostContent(text="Pet!", media=(cat,)), account(hook.url))
    [edited] = fake.messages
    assert (edited.content, edited.attachments) == ("Pet!", [original])
    assert edited.edited_timestamp is not None

    dog = photo(tmp_path, "dog", alt="A dog")
    await discord.edit(
        result, PostContent(text="Pet!", media=(dog,)), account(hook.url), media_changed=True
    )
    [replaced] = fake.messages[0].attachments
    assert (replaced.filename, replaced.description, replaced.data) == (
        "dog.jpg",
        "A dog",
        b"dog-bytes",
    )


async def test_delete_removes_the_message_once(
    fake: FakeDiscord, hook: FakeWebhook, discord: DiscordProvider
) -> None:
    result = await discord.publish(PostContent(text="Oops"), account(hook.url), "k")
    await discord.delete(result, account(hook.url))
    assert fake.messages == []
    assert [m.content for m in fake.deleted] == ["Oops"]
    await discord.delete(result, account(hook.url))  # Unknown Message: already done


async def test_an_edit_discord_would_refuse_is_refused_before_any_request(
    fake: FakeDiscord, hook: FakeWebhook, discord: DiscordProvider
) -> None:
    result = await discord.publish(PostContent(text="Short"), account(hook.url), "k")
    fake.requests.clear()
    with pytest.raises(PermanentError, match="Text is 2,001 characters; Discord allows 2,000"):
        await discord.edit(result, PostContent(text="x" * 2001), account(hook.url))
    assert fake.requests == []


async def test_lookup_cannot_tell_a_webhook_lists_no_messages(
    fake: FakeDiscord, hook: FakeWebhook, discord: DiscordProvider
) -> None:
    assert await discord.lookup(PostContent(text="?"), account(hook.url), "k") is None
    assert fake.requests == []
    declared = discord.after_publish
    assert (declared.can_delete, declared.can_edit_text, declared.can_edit_media) == (True,) * 3
    assert (declared.can_edit_buttons, declared.can_lookup) == (False, False)
