"""The Telegram channel adapter against the fake Bot API: per-post options and buttons on
the wire, pinning, the bot's rights, and deleting and editing a post once it is out."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from providers.base import (
    AccountRef,
    AlbumButtons,
    LinkButton,
    LinkPreview,
    MediaFile,
    MediaKind,
    PostContent,
    PublishResult,
    Severity,
    TelegramOptions,
)
from providers.errors import PermanentError
from providers.telegram_channel import TelegramChannelProvider
from providers.telegram_rights import ChatRights
from tests.fakes.telegram_api import FakeChat, FakeTelegram

CHANNEL = -1001234567890
TWO_ROWS = (
    (
        LinkButton(text="Site", url="https://example.com"),
        LinkButton(text="Shop", url="https://shop.example"),
    ),
    (LinkButton(text="Chat", url="tg://resolve?domain=examplechat"),),
)
TWO_ROWS_MARKUP = {
    "inline_keyboard": [
        [
            {"text": "Site", "url": "https://example.com"},
            {"text": "Shop", "url": "https://shop.example"},
        ],
        [{"text": "Chat", "url": "tg://resolve?domain=examplechat"}],
    ]
}


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()
ONE_BUTTON = ((LinkButton(text="Read more", url="https://example.com/more"),),)
ONE_BUTTON_MARKUP = {
    "inline_keyboard": [[{"text": "Read more", "url": "https://example.com/more"}]]
}


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def channel(tg: FakeTelegram) -> FakeChat:
    return tg.add_channel(CHANNEL, "Crier News", "crier_news")


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def telegram(tg: FakeTelegram, http: httpx.AsyncClient, sleeps: Sleeps) -> TelegramChannelProvider:
    return TelegramChannelProvider(http, token=tg.token, api_base_url=tg.base_url, sleep=sleeps)


def account(**config: Any) -> AccountRef:
    return AccountRef(
        id=3,
        platform="telegram",
        label="@crier_news",
        config={"chat_id": CHANNEL, "username": "crier_news", "title": "Crier News", **config},
    )


def rights(**fields: Any) -> dict[str, Any]:
    stored = {
        "status": "administrator",
        "chat_type": "channel",
        "can_post": True,
        "can_pin": True,
        "can_delete_any": True,
    }
    return stored | fields


def photos(tg: FakeTelegram, count: int, kind: str = "photo") -> tuple[MediaFile, ...]:
    items = []
    for n in range(count):
        file_id, _ = tg.add_file(f"bytes {n}".encode(), kind=kind)
        media_kind = MediaKind(kind)
        items.append(
            MediaFile(kind=media_kind, mime="image/jpeg", size=7, telegram_file_id=file_id)
        )
    return tuple(items)


# -- options on the wire ---------------------------------------------------------------------


async def test_a_text_post_carries_every_option_and_is_pinned(
    tg: FakeTelegram, channel: FakeChat, telegram: TelegramChannelProvider
) -> None:
    options = TelegramOptions(
        silent=True,
        protect_content=True,
        link_preview=LinkPreview.LARGE,
        link_preview_above_text=True,
        pin=True,
    )
    post = PostContent(text="Big news https://example.com", buttons=TWO_ROWS, telegram=options)
    result = await telegram.publish(post, account(), "key")

    assert tg.calls_to("sendMessage") == [
        {
            "chat_id": CHANNEL,
            "text": "Big news https://example.com",
            "disable_notification": True,
            "protect_content": True,
            "link_preview_options": {"prefer_large_media": True, "show_above_text": True},
            "reply_markup": TWO_ROWS_MARKUP,
        }
    ]
    assert tg.calls_to("pinChatMessage") == [
        {"chat_id": CHANNEL, "message_id": 1, "disable_notification": True}
    ]
    assert tg.pinned(channel) == [1]
    [message, pinned] = tg.sent(channel)
    assert message["reply_markup"] == TWO_ROWS_MARKUP
    assert message["has_protected_content"] is True
    assert pinned["pinned_message"]["message_id"] == 1
    assert result == PublishResult(
        platform_id="1",
        url="https://t.me/crier_news/1",
        ref={
            "chat_id": CHANNEL,
            "message_ids": [1],
            "kind": "text",
            "buttons_message_id": None,
            "parts": 1,
        },
    )


async def test_a_plain_post_sends_no_option_at_all(
    tg: FakeTelegram, channel: FakeChat, telegram: TelegramChannelProvider
) -> None:
    await telegram.publish(PostContent(text="Hello"), account(), "key")
    assert tg.calls_to("sendMessage") == [{"chat_id": CHANNEL, "text": "Hello"}]
    assert tg.calls_to("pinChatMessage") == []


@pytest.mark.parametrize(
    ("preview", "above", "sent"),
    [
        (LinkPreview.AUTO, False, None),
        (LinkPreview.OFF, False, {"is_disabled": True}),
        (LinkPreview.OFF, True, {"is_disabled": True}),
        (LinkPreview.SMALL, False, {"prefer_small_media": True}),
        (LinkPreview.LARGE, False, {"prefer_large_media": True}),
        (LinkPreview.AUTO, True, {"show_above_text": True}),
        (LinkPreview.SMALL, True, {"prefer_small_media": True, "show_above_text": True}),
    ],
)
async def test_link_preview_options(
    tg: FakeTelegram,
    channel: FakeChat,
    telegram: TelegramChannelProvider,
    preview: LinkPreview,
    above: bool,
    sent: dict[str, bool] | None,
) -> None:
    options = TelegramOptions(link_preview=preview, link_preview_above_text=above)
    await telegram.publish(
        PostContent(text="https://example.com", telegram=options), account(), "k"
    )
    [params] = tg.calls_to("sendMessage")
    assert params.get("link_preview_options") == sent


async def test_a_photo_with_a_spoiler_and_buttons(
    tg: FakeTelegram, channel: FakeChat, telegram: TelegramChannelProvider
) -> None:
    [photo] = photos(tg, 1)
    options = TelegramOptions(spoiler=True, silent=True)
    post = PostContent(text="Guess", media=(photo,), buttons=ONE_BUTTON, telegram=options)
    result = await telegram.publish(post, account(), "k")
    assert tg.calls_to("sendPhoto") == [
        {
            "chat_id": CHANNEL,
            "disable_notification": True,
            "caption": "Guess",
            "has_spoiler": True,
            "reply_markup": ONE_BUTTON_MARKUP,
            "photo": photo.telegram_file_id,
        }
    ]
    [message] = tg.sent(channel)
    assert message["has_media_spoiler"] is True
    assert message["reply_markup"] == ONE_BUTTON_MARKUP
    assert result.ref["kind"] == "media"


async def test_an_uploaded_photo_carries_the_options_as_form_fields(
    tg: FakeTelegram, channel: FakeChat, telegram: TelegramChannelProvider, tmp_path: Path
) -> None:
    path = tmp_path / "cat.png"
    path.write_bytes(PNG)
    photo = MediaFile(kind=MediaKind.PHOTO, mime="image/png", size=len(PNG), path=path)
    options = TelegramOptions(spoiler=True, protect_content=True, silent=True)
    post = PostContent(text="Cat", media=(photo,), buttons=ONE_BUTTON, telegram=options)
    await telegram.publish(post, account(), "k")
    [params] = tg.calls_to("sendPhoto")
    assert params.pop("photo") == "attach://file0"
    assert params.pop("file0").data == PNG
    assert params == {
        "chat_id": CHANNEL,
        "disable_notification": True,
        "protect_content": True,
        "caption": "Cat",
        "has_spoiler": True,
        "reply_markup": ONE_BUTTON_MARKUP,
    }
    [message] = tg.sent(channel)
    assert (message["has_media_spoiler"], message["has_protected_content"]) == (True, True)


async def test_files_are_never_blurred(
    tg: FakeTelegram, channel: FakeChat, telegram: TelegramChannelProvider
) -> None:
    [document] = photos(tg, 1, kind="document")
    post = PostContent(text="", media=(document,), telegram=TelegramOptions(spoiler=True))
    await telegram.publish(post, account(), "k")
    [params] = tg.calls_to("sendDocument")
    assert "has_spoiler" not in params


async def test_an_album_gets_its_buttons_in_a_message_right_under_it(
    tg: FakeTelegram, channel: FakeChat, telegram: TelegramChannelProvider
) -> None:
    media = photos(tg, 3)
    options = TelegramOptions(spoiler=True, protect_content=True, pin=True, pin_notify=True)
    post = PostContent(text="Album", media=media, buttons=ONE_BUTTON, telegram=options)
    result = await telegram.publish(post, account(), "k")

    assert [name for name, _ in tg.calls] == ["sendMediaGroup", "sendMessage", "pinChatMessage"]
    [group] = tg.calls_to("sendMediaGroup")
    assert group["protect_content"] is True
    assert "reply_markup" not in group
    assert group["media"] == [
        {
            "type": "photo",
            "media": media[0].telegram_file_id,
            "caption": "Album",
            "has_spoiler": True,
        },
        {"type": "photo", "media": media[1].telegram_file_id, "has_spoiler": True},
        {"type": "photo", "media": media[2].telegram_file_id, "has_spoiler": True},
    ]
    assert tg.calls_to("sendMessage") == [
        {
            "chat_id": CHANNEL,
            "text": "🔗",
            "reply_markup": ONE_BUTTON_MARKUP,
            "disable_notification": True,
            "protect_content": True,
        }
    ]
    assert tg.calls_to("pinChatMessage") == [
        {"chat_id": CHANNEL, "message_id": 1, "disable_notification": False}
    ]
    sent = tg.sent(channel)
    assert [m["message_id"] for m in sent[:4]] == [1, 2, 3, 4]
    assert sent[3]["text"] == "🔗"
    assert result.ref == {
        "chat_id": CHANNEL,
        "message_ids": [1, 2, 3],
        "kind": "album",
        "buttons_message_id": 4,
        "parts": 1,
    }
    assert result.platform_id == "1"


async def test_an_album_can_drop_its_buttons_and_validate_says_so(
    tg: FakeTelegram, channel: FakeChat, telegram: TelegramChannelProvider
) -> None:
    options = TelegramOptions(album_buttons=AlbumButtons.DROP)
    post = PostContent(text="Album", media=photos(tg, 2), buttons=ONE_BUTTON, telegram=options)
    problems = telegram.validate(post, account())
    assert [(p.code, p.severity) for p in problems] == [("album_buttons_dropped", Severity.WARNING)]
    result = await telegram.publish(post, account(), "k")
    assert tg.calls_to("sendMessage") == []
    assert result.ref["buttons_message_id"] is None


async def test_a_refused_pin_is_a_note_not_a_failure(
    tg: FakeTelegram, telegram: TelegramChannelProvider
) -> None:
    tg.add_channel(CHANNEL, "Crier News", "crier_news", bot_rights={"can_edit_messages": False})
    post = PostContent(text="Hi", telegram=TelegramOptions(pin=True))
    result = await telegram.publish(post, account(), "k")
    assert result.platform_id == "1"
    assert result.notes == (
        "The post is out, but Telegram did not pin it: Telegram: Bad Request: not enough rights "
        "to manage pinned messages in the chat",
    )


async def test_the_buttons_message_waits_out_a_short_flood_control(
    tg: FakeTelegram, channel: FakeChat, telegram: TelegramChannelProvider, sleeps: Sleeps
) -> None:
    tg.fail_next(
        "sendMessage", status=429, description="Too Many Requests: retry after 3", retry_after=3
    )
    post = PostContent(text="Album", media=photos(tg, 2), buttons=ONE_BUTTON)
    result = await telegram.publish(post, account(), "k")
    assert sleeps.waits == [3.0]
    assert result.ref["buttons_message_id"] == 3
    assert result.notes == ()


async def test_a_long_flood_control_leaves_a_note_and_the_album_out(
    tg: FakeTelegram, channel: FakeChat, telegram: TelegramChannelProvider, sleeps: Sleeps
) -> None:
    tg.fail_next(
        "sendMessage", status=429, description="Too Many Requests: retry after 40", retry_after=40
    )
    post = PostContent(text="Album", media=photos(tg, 2), buttons=ONE_BUTTON)
    result = await telegram.publish(post, account(), "k")
    assert sleeps.waits == []
    assert result.ref["buttons_message_id"] is None
    assert result.notes == (
        "The album is out, but its buttons could not be sent: Telegram: Too Many Requests: "
        "retry after 40",
    )


# -- validate and the bot's rights -----------------------------------------------------------


def test_buttons_over_the_limits_are_errors(telegram: TelegramChannelProvider) -> None:
    row = tuple(LinkButton(text=str(n), url=f"https://{n}.example") for n in range(9))
    problems = telegram.validate(PostContent(text="Hi", buttons=(row,)), account())
    assert [(p.code, p.message) for p in problems] == [
        ("buttons", "Row 1 has 9 buttons; Telegram shows at most 8 in a row.")
    ]


@pytest.mark.parametrize(
    ("stored", "post", "codes"),
    [
        pytest.param(
            None, PostContent(text="x", telegram=TelegramOptions(pin=True)), [], id="unknown"
        ),
        pytest.param(
            rights(), PostContent(text="x", telegram=TelegramOptions(pin=True)), [], id="may-pin"
        ),
        pytest.param(
            rights(can_pin=False),
            PostContent(text="x", telegram=TelegramOptions(pin=True)),
            ["pin_not_allowed"],
            id="may-not-pin",
        ),
        pytest.param(
            rights(can_delete_any=False),
            PostContent(text="x", delete_after=timedelta(hours=47)),
            [],
            id="own-post-within-48h",
        ),
        pytest.param(
            rights(can_delete_any=False),
            PostContent(text="x", delete_after=timedelta(hours=48)),
            ["delete_not_allowed"],
            id="own-post-after-48h",
        ),
        pytest.param(
            rights(),
            PostContent(text="x", delete_after=timedelta(days=30)),
            [],
            id="may-delete-any",
        ),
    ],
)
def test_pin_and_delete_after_are_checked_against_the_stored_rights(
    telegram: TelegramChannelProvider,
    stored: dict[str, Any] | None,
    post: PostContent,
    codes: list[str],
) -> None:
    config = {"rights": stored} if stored else {}
    assert [p.code for p in telegram.validate(post, account(**config))] == codes


def test_the_rights_problems_say_which_right_to_give(telegram: TelegramChannelProvider) -> None:
    post = PostContent(text="x", telegram=TelegramOptions(pin=True), delete_after=timedelta(days=3))
    problems = telegram.validate(post, account(rights=rights(can_pin=False, can_delete_any=False)))
    assert [p.message for p in problems] == [
        "I can't pin posts in Crier News: give me the “Edit messages of others” admin right, or "
        "don't pin this one.",
        "I won't be able to delete this post from Crier News when you asked: Telegram lets me "
        "delete my own posts only in the first 48 hours. Give me the “Delete messages of "
        "others” admin right, or pick a time within 48 hours.",
    ]


async def test_rights_read_get_chat_member_for_the_bot(
    tg: FakeTelegram, telegram: TelegramChannelProvider
) -> None:
    tg.add_channel(
        CHANNEL, "Crier News", bot_rights={"can_edit_messages": False, "can_delete_messages": False}
    )
    found = await telegram.rights(account(type="channel"))
    assert found == ChatRights(
        status="administrator",
        chat_type="channel",
        can_post=True,
        can_pin=False,
        can_delete_any=False,
    )
    assert tg.calls_to("getChatMember") == [{"chat_id": CHANNEL, "user_id": tg.bot_id}]
    group = -1009876543210
    tg.add_channel(group, "Team", kind="supergroup", bot_rights={"can_pin_messages": True})
    found = await telegram.rights(account(chat_id=group))  # no stored type: getChat says
    assert (found.chat_type, found.can_pin, found.can_delete_any) == ("supergroup", True, True)


async def test_verify_stores_the_rights_for_validate(
    tg: FakeTelegram, telegram: TelegramChannelProvider
) -> None:
    tg.add_channel(CHANNEL, "Crier News", "crier_news", bot_rights={"can_delete_messages": False})
    verified = await telegram.verify(
        AccountRef(id=0, platform="telegram", label="?", config={"chat": "@crier_news"})
    )
    assert verified.config["rights"] == rights(can_delete_any=False)


async def test_validate_live_reads_the_rights_as_they_are_now(
    tg: FakeTelegram, telegram: TelegramChannelProvider
) -> None:
    chat = tg.add_channel(CHANNEL, "Crier News", "crier_news")
    post = PostContent(text="x", telegram=TelegramOptions(pin=True))
    stale = account(type="channel", rights=rights())
    assert await telegram.validate_live(post, stale) == []
    chat.bot_rights["can_edit_messages"] = False  # an admin took the right away since
    assert [p.code for p in await telegram.validate_live(post, stale)] == ["pin_not_allowed"]
    chat.bot_status = "left"
    assert [p.code for p in await telegram.validate_live(post, stale)] == [
        "cannot_post",
        "pin_not_allowed",
    ]
    tg.fail_next("getChatMember", status=502, description="Bad Gateway")
    assert await telegram.validate_live(post, stale) == []  # Telegram down: nothing to add


# -- deleting --------------------------------------------------------------------------------


async def test_deleting_a_text_post(
    tg: FakeTelegram, channel: FakeChat, telegram: TelegramChannelProvider
) -> None:
    result = await telegram.publish(PostContent(text="Oops"), account(), "k")
    await telegram.delete(result, account())
    assert tg.calls_to("deleteMessage") == [{"chat_id": CHANNEL, "message_id": 1}]
    assert tg.sent(channel) == []
    await telegram.delete(result, account())  # already gone: still fine


async def test_deleting_an_album_deletes_every_message_and_the_buttons(
    tg: FakeTelegram, channel: FakeChat, telegram: TelegramChannelProvider
) -> None:
    post = PostContent(text="Album", media=photos(tg, 3), buttons=ONE_BUTTON)
    result = await telegram.publish(post, account(), "k")
    await telegram.delete(result, account())
    assert tg.calls_to("deleteMessages") == [{"chat_id": CHANNEL, "message_ids": [1, 2, 3, 4]}]
    assert tg.sent(channel) == []
    assert tg.deleted(channel) == [1, 2, 3, 4]


async def test_a_post_older_than_48_hours_needs_the_delete_right(
    tg: FakeTelegram, telegram: TelegramChannelProvider
) -> None:
    chat = tg.add_channel(CHANNEL, "Crier News", bot_rights={"can_delete_messages": False})
    result = await telegram.publish(PostContent(text="Old"), account(), "k")
    tg.backdate(chat, 1, 49 * 3600)
    with pytest.raises(PermanentError) as raised:
        await telegram.delete(result, account())
    assert str(raised.value) == (
        "Telegram: Bad Request: message can't be deleted. Telegram lets a bot delete its own "
        "posts only in the first 48 hours; after that it needs the “Delete messages” admin right."
    )
    chat.bot_rights["can_delete_messages"] = True
    await telegram.delete(result, account())
    assert tg.sent(chat) == []


async def test_a_result_stored_before_refs_deletes_its_first_message(
    tg: FakeTelegram, channel: FakeChat, telegram: TelegramChannelProvider
) -> None:
    await telegram.publish(PostContent(text="Legacy"), account(), "k")
    await telegram.delete(PublishResult(platform_id="1", url=None), account())
    assert tg.calls_to("deleteMessage") == [{"chat_id": CHANNEL, "message_id": 1}]


# -- editing ---------------------------------------------------------------------------------


async def test_editing_a_text_post_changes_text_preview_and_buttons(
    tg: FakeTelegram, channel: FakeChat, telegram: TelegramChannelProvider
) -> None:
    result = await telegram.publish(PostContent(text="Frist", buttons=ONE_BUTTON), account(), "k")
    options = TelegramOptions(link_preview=LinkPreview.OFF)
    new = PostContent(text="First https://example.com", buttons=TWO_ROWS, telegram=options)
    edited = await telegram.edit(result, new, account())
    assert tg.calls_to("editMessageText") == [
        {
            "chat_id": CHANNEL,
            "message_id": 1,
            "text": "First https://example.com",
            "link_preview_options": {"is_disabled": True},
            "reply_markup": TWO_ROWS_MARKUP,
        }
    ]
    [message] = tg.sent(channel)
    assert message["text"] == "First https://example.com"
    assert message["reply_markup"] == TWO_ROWS_MARKUP
    assert edited == result
    assert await telegram.edit(result, new, account()) == result  # "not modified" is fine


async def test_editing_removes_buttons_left_out(
    tg: FakeTelegram, channel: FakeChat, telegram: TelegramChannelProvider
) -> None:
    result = await telegram.publish(PostContent(text="Hi", buttons=ONE_BUTTON), account(), "k")
    await telegram.edit(result, PostContent(text="Hi"), account())
    assert tg.calls_to("editMessageText") == [{"chat_id": CHANNEL, "message_id": 1, "text": "Hi"}]
    assert "reply_markup" not in tg.sent(channel)[0]


async def test_editing_a_photo_edits_its_caption_and_buttons(
    tg: FakeTelegram, channel: FakeChat, telegram: TelegramChannelProvider
) -> None:
    media = photos(tg, 1)
    result = await telegram.publish(PostContent(text="Cat", media=media), account(), "k")
    new = PostContent(text="A cat", media=media, buttons=ONE_BUTTON)
    await telegram.edit(result, new, account())
    assert tg.calls_to("editMessageCaption") == [
        {"chat_id": CHANNEL, "message_id": 1, "caption": "A cat", "reply_markup": ONE_BUTTON_MARKUP}
    ]
    [message] = tg.sent(channel)
    assert (message["caption"], message["reply_markup"]) == ("A cat", ONE_BUTTON_MARKUP)


async def test_editing_an_album_edits_the_caption_and_the_buttons_message(
    tg: FakeTelegram, channel: FakeChat, telegram: TelegramChannelProvider
) -> None:
    media = photos(tg, 2)
    result = await telegram.publish(
        PostContent(text="Two", media=media, buttons=ONE_BUTTON), account(), "k"
    )
    edited = await telegram.edit(
        result, PostContent(text="Two cats", media=media, buttons=TWO_ROWS), account()
    )
    assert tg.calls_to("editMessageCaption") == [
        {"chat_id": CHANNEL, "message_id": 1, "caption": "Two cats"}
    ]
    assert tg.calls_to("editMessageReplyMarkup") == [
        {"chat_id": CHANNEL, "message_id": 3, "reply_markup": TWO_ROWS_MARKUP}
    ]
    assert tg.sent(channel)[2]["reply_markup"] == TWO_ROWS_MARKUP
    assert edited.ref == result.ref

    without = await telegram.edit(edited, PostContent(text="Two cats", media=media), account())
    assert tg.calls_to("deleteMessage") == [{"chat_id": CHANNEL, "message_id": 3}]
    assert without.ref["buttons_message_id"] is None
    assert [m["message_id"] for m in tg.sent(channel)] == [1, 2]


async def test_an_album_without_a_buttons_message_edits_without_buttons(
    tg: FakeTelegram, channel: FakeChat, telegram: TelegramChannelProvider
) -> None:
    media = photos(tg, 2)
    result = await telegram.publish(PostContent(text="Two", media=media), account(), "k")
    new = PostContent(text="Two!", media=media, buttons=ONE_BUTTON)
    assert [(p.code, p.severity) for p in telegram.validate_edit(result, new, account())] == [
        ("album_buttons_missing", Severity.WARNING)
    ]
    edited = await telegram.edit(result, new, account())
    assert tg.calls_to("sendMessage") == []
    assert edited.notes == (
        "The album's buttons were left out: it went out without a buttons message.",
    )


@pytest.mark.parametrize(
    ("new", "media_changed", "says"),
    [
        pytest.param(
            PostContent(text="x" * 4097),
            False,
            "Text is 4,097 characters; Telegram channel allows 4,096 in a post.",
            id="text-too-long-as-at-compose-time",
        ),
        pytest.param(
            PostContent(
                text="Now with a photo",
                media=(
                    MediaFile(
                        kind=MediaKind.PHOTO, mime="image/jpeg", size=1, telegram_file_id="AgAD"
                    ),
                ),
            ),
            False,
            "Telegram can't add, remove or swap the photos and videos of a post that is out; "
            "delete it and post again.",
            id="media-added",
        ),
        pytest.param(
            PostContent(text="Same"),
            True,
            "Telegram channel can't change the photos or videos of a post that is out; delete "
            "it and post again.",
            id="media-changed",
        ),
    ],
)
async def test_an_edit_telegram_would_refuse_is_refused_before_any_request(
    tg: FakeTelegram,
    channel: FakeChat,
    telegram: TelegramChannelProvider,
    new: PostContent,
    media_changed: bool,
    says: str,
) -> None:
    result = await telegram.publish(PostContent(text="Same"), account(), "k")
    calls = len(tg.calls)
    with pytest.raises(PermanentError) as raised:
        await telegram.edit(result, new, account(), media_changed=media_changed)
    assert str(raised.value) == says
    assert len(tg.calls) == calls


async def test_lookup_cannot_tell(
    tg: FakeTelegram, channel: FakeChat, telegram: TelegramChannelProvider
) -> None:
    assert await telegram.lookup(PostContent(text="?"), account(), "k") is None
    assert tg.calls == []
    declared = telegram.after_publish
    assert (declared.can_delete, declared.can_edit_text, declared.can_edit_buttons) == (True,) * 3
    assert (declared.can_edit_media, declared.can_lookup) == (False, False)
