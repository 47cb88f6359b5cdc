"""The generic webhook after publishing: `crier.deleted` and `crier.edited`, signed like
`crier.post`, with ids that stay the same across retries, against a receiver written from
the docs."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from providers.base import AccountRef, MediaFile, MediaKind, PostContent, PublishResult
from providers.errors import AuthError, TransientError
from providers.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookProvider, sign
from tests.fakes.webhook_receiver import WebhookReceiver

NOW = 1_790_000_000
NOW_ISO = "2026-09-21T14:13:20Z"
URL = "https://hooks.example.com/in/tok_3a9c1f77e0b24d5e8f61"
SECRET = "5e" * 32
KEY = "6f1d0c0e-8a8e-4d55-9f0e-3b1f2f9c1a77"


def account() -> AccountRef:
    return AccountRef(
        id=5,
        platform="webhook",
        label="Webhook (hooks.example.com)",
        config={"host": "hooks.example.com", "media_mode": "inline"},
        credentials={"url": URL, "signing_secret": SECRET},
    )


@pytest.fixture
def receiver() -> WebhookReceiver:
    return WebhookReceiver(secret=SECRET, clock=lambda: NOW)


@pytest.fixture
async def webhook(receiver: WebhookReceiver) -> AsyncIterator[WebhookProvider]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver.handle)) as http:
        yield WebhookProvider(http, clock=lambda: NOW)


def sent(request: httpx.Request) -> dict[str, Any]:
    """The event, after checking it is signed as docs/WEBHOOK.md says."""
    timestamp = request.headers[TIMESTAMP_HEADER]
    assert timestamp == str(NOW)
    assert request.headers[SIGNATURE_HEADER] == sign(SECRET, NOW, request.content)
    event: dict[str, Any] = json.loads(request.content)
    assert request.headers["idempotency-key"] == event["id"]
    return event


async def test_the_post_ref_names_the_delivery_and_the_receivers_id(
    receiver: WebhookReceiver, webhook: WebhookProvider
) -> None:
    result = await webhook.publish(PostContent(text="Hi", post_id=31), account(), KEY)
    assert result == PublishResult(
        platform_id="post-1",
        url="https://blog.example.org/posts/1",
        ref={"delivery_id": KEY, "post_id": 31, "receiver_id": "post-1", "parts": 1},
    )


async def test_delete_sends_a_signed_deleted_event(
    receiver: WebhookReceiver, webhook: WebhookProvider
) -> None:
    result = await webhook.publish(PostContent(text="Hi", post_id=31), account(), KEY)
    await webhook.delete(result, account())
    assert sent(receiver.requests[-1]) == {
        "type": "crier.deleted",
        "id": f"{KEY}:deleted",
        "post_id": 31,
        "original_id": KEY,
        "receiver_id": "post-1",
        "deleted_at": NOW_ISO,
    }
    assert receiver.posts == {}
    await webhook.delete(result, account())  # a retry: same id, the receiver dedupes
    assert receiver.requests[-1].headers["idempotency-key"] == f"{KEY}:deleted"
    assert len(receiver.events) == 2


async def test_a_receiver_with_nothing_to_delete_counts_as_deleted(
    receiver: WebhookReceiver, webhook: WebhookProvider
) -> None:
    gone = PublishResult(platform_id="post-9", ref={"delivery_id": "k", "receiver_id": "post-9"})
    await webhook.delete(gone, account())  # the receiver answers 404
    assert receiver.requests[-1].method == "POST"


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (httpx.Response(410, text="Gone"), None),
        (httpx.Response(503, text="busy"), TransientError),
        (httpx.Response(401, json={"error": "bad signature"}), AuthError),
    ],
)
async def test_delete_answers_map_like_publish_answers(
    answer: httpx.Response, error: type[Exception] | None
) -> None:
    with respx.mock() as router:
        router.post(URL).mock(return_value=answer)
        async with httpx.AsyncClient() as http:
            webhook = WebhookProvider(http, clock=lambda: NOW)
            result = PublishResult(platform_id=KEY, ref={"delivery_id": KEY})
            if error is None:
                await webhook.delete(result, account())
            else:
                with pytest.raises(error):
                    await webhook.delete(result, account())


async def test_edit_sends_a_signed_edited_event_with_the_new_text(
    receiver: WebhookReceiver, webhook: WebhookProvider
) -> None:
    result = await webhook.publish(PostContent(text="Frist", post_id=31), account(), KEY)
    edited = await webhook.edit(result, PostContent(text="First", post_id=31), account())
    event = sent(receiver.requests[-1])
    assert event.pop("id").startswith(f"{KEY}:edited:")
    assert event == {
        "type": "crier.edited",
        "post_id": 31,
        "original_id": KEY,
        "receiver_id": "post-1",
        "edited_at": NOW_ISO,
        "text": "First",
    }
    assert receiver.posts["post-1"]["text"] == "First"
    assert edited == result

    again = receiver.requests[-1].headers["idempotency-key"]
    await webhook.edit(result, PostContent(text="First", post_id=31), account())
    assert receiver.requests[-1].headers["idempotency-key"] == again  # a retry: same id
    await webhook.edit(result, PostContent(text="Third", post_id=31), account())
    assert receiver.requests[-1].headers["idempotency-key"] != again  # another edit
    assert receiver.posts["post-1"]["text"] == "Third"


async def test_edit_with_new_media_carries_them(
    receiver: WebhookReceiver, webhook: WebhookProvider, tmp_path: Path
) -> None:
    result = await webhook.publish(PostContent(text="Pic"), account(), KEY)
    path = tmp_path / "new.png"
    path.write_bytes(b"\x89PNG-new")
    image = MediaFile(kind=MediaKind.PHOTO, mime="image/png", size=9, path=path, alt_text="New")
    await webhook.edit(
        result, PostContent(text="Pic", media=(image,)), account(), media_changed=True
    )
    event = sent(receiver.requests[-1])
    [media] = event["media"]
    assert (media["alt_text"], base64.b64decode(media["data_base64"])) == ("New", b"\x89PNG-new")
    assert receiver.posts["post-1"]["media"] == event["media"]


async def test_a_result_stored_before_refs_names_the_receivers_id(
    receiver: WebhookReceiver, webhook: WebhookProvider
) -> None:
    await webhook.publish(PostContent(text="Old"), account(), KEY)
    await webhook.delete(PublishResult(platform_id="post-1"), account())
    event = sent(receiver.requests[-1])
    assert (event["id"], event["original_id"], event["receiver_id"]) == (
        "post-1:deleted",
        None,
        "post-1",
    )
    assert receiver.posts == {}


async def test_lookup_cannot_tell(receiver: WebhookReceiver, webhook: WebhookProvider) -> None:
    assert await webhook.lookup(PostContent(text="?"), account(), KEY) is None
    assert receiver.requests == []
