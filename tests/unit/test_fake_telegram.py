"""Tests of the fake Telegram Bot API server, driven by PTB's real ``telegram.Bot`` over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import io
from collections.abc import AsyncIterator

import httpx
import pytest
from PIL import Image
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    ChatMemberAdministrator,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    MessageOriginChannel,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

from tests.fakes.telegram_api import FakeTelegram, FakeUser, Upload

MB = 1024 * 1024


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22.2+ warns (an error under filterwarnings=error) when RetryAfter is built with int
    # semantics; opting in to timedelta semantics is what PTB asks for.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(tg.token, base_url=tg.base_url, base_file_url=tg.file_base_url) as client:
        yield client


@pytest.fixture
def alice(tg: FakeTelegram) -> FakeUser:
    return tg.add_user(1001, "Alice", "alice")


def png(width: int = 800, height: int = 600) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def last_description(tg: FakeTelegram) -> str:
    return str(tg.errors[-1][1]["description"])


# --------------------------------------------------------------------------- basics


async def test_get_me(tg: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "crier_test_bot", True)
    assert tg.base_url == f"http://127.0.0.1:{tg.port}/bot"
    assert tg.calls[0][0] == "getMe"  # Bot.initialize() calls getMe


async def test_get_updates_long_poll_returns_when_an_update_arrives(
    tg: FakeTelegram, bot: Bot, alice: FakeUser
) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.3)
    assert not poll.done(), "getUpdates must hold the request while there is nothing to deliver"

    injected = tg.send_text(alice, "/start hello")
    updates = await asyncio.wait_for(poll, timeout=2)

    assert loop.time() - started < 2
    assert [u.update_id for u in updates] == [injected["update_id"]]
    message = updates[0].message
    assert message is not None
    assert message.text == "/start hello"
    assert message.chat.id == alice.id
    assert message.from_user is not None
    assert message.from_user.id == alice.id
    assert message.entities[0].type == "bot_command"
    assert (message.entities[0].offset, message.entities[0].length) == (0, 6)

    # Not confirmed yet: delivered again. An offset above it confirms it.
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [injected["update_id"]]
    second = tg.send_text(alice, "second")
    assert second["update_id"] == injected["update_id"] + 1
    rest = await bot.get_updates(offset=injected["update_id"] + 1, timeout=0)
    assert [u.update_id for u in rest] == [second["update_id"]]
    assert await bot.get_updates(offset=second["update_id"] + 1, timeout=0) == ()
    assert tg.pending_updates == []


async def test_get_updates_times_out_empty_and_newer_poll_wins(tg: FakeTelegram, bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= loop.time() - started < 2

    # A second bot instance polling terminates the first one's request, as on Telegram.
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    async with Bot(tg.token, base_url=tg.base_url) as second_instance:
        assert await second_instance.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, timeout=2)


async def test_bot_command_with_bot_username(tg: FakeTelegram, alice: FakeUser) -> None:
    update = tg.send_text(alice, "/new@crier_test_bot tomorrow 9:00")
    assert update["message"]["entities"] == [{"offset": 0, "length": 19, "type": "bot_command"}]


# ------------------------------------------------------------------ keyboards & edits


async def test_press_inline_button_gives_a_callback_query_ptb_parses(
    tg: FakeTelegram, bot: Bot, alice: FakeUser
) -> None:
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Approve", callback_data="approve:42")],
            [InlineKeyboardButton("Docs", url="https://example.com/docs")],
        ]
    )
    sent = await bot.send_message(alice.id, "Publish this post?", reply_markup=markup)
    assert sent.reply_markup == markup

    update = tg.press(alice, sent.to_dict(), "Approve")
    parsed = Update.de_json(update, bot)
    query = parsed.callback_query
    assert query is not None
    assert query.data == "approve:42"
    assert query.from_user.id == alice.id
    assert query.message is not None
    assert query.message.message_id == sent.message_id
    assert query.chat_instance

    (polled,) = await bot.get_updates(timeout=0)
    assert polled.callback_query is not None
    assert polled.callback_query.id == query.id

    assert await bot.answer_callback_query(query.id, text="Approved")
    assert tg.callback_answers[-1]["text"] == "Approved"
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query.id)
    assert last_description(tg) == (
        "Bad Request: query is too old and response timeout expired or query ID is invalid"
    )
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("not-a-query")

    # by callback_data too; and a helpful error for a missing button
    assert tg.press(alice, sent.to_dict(), "approve:42")["callback_query"]["data"] == "approve:42"
    with pytest.raises(AssertionError, match="Approve"):
        tg.press(alice, sent.to_dict(), "Reject")
    forged = tg.press_data(alice, sent.to_dict(), "delete:999")
    assert forged["callback_query"]["data"] == "delete:999"


async def test_press_uses_the_current_keyboard(tg: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    first = InlineKeyboardMarkup([[InlineKeyboardButton("Step 1", callback_data="s1")]])
    second = InlineKeyboardMarkup([[InlineKeyboardButton("Step 2", callback_data="s2")]])
    sent = await bot.send_message(alice.id, "Wizard", reply_markup=first)
    await bot.edit_message_reply_markup(alice.id, sent.message_id, reply_markup=second)
    with pytest.raises(AssertionError, match="Step 2"):
        tg.press(alice, sent.to_dict(), "Step 1")
    assert tg.press(alice, sent.to_dict(), "Step 2")["callback_query"]["data"] == "s2"


async def test_edit_message_text_changes_sent(tg: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="ok")]])
    sent = await bot.send_message(alice.id, "Draft v1", reply_markup=markup)
    edited = await bot.edit_message_text(
        "Draft <b>v2</b>",
        chat_id=alice.id,
        message_id=sent.message_id,
        parse_mode="HTML",
        reply_markup=markup,
    )
    assert not isinstance(edited, bool)
    assert edited.text == "Draft v2"
    assert edited.edit_date is not None

    (current,) = tg.sent(alice.id)
    assert current["text"] == "Draft v2"
    assert current["entities"] == [{"type": "bold", "offset": 6, "length": 2}]
    assert current["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "ok"
    assert "edit_date" in current

    with pytest.raises(BadRequest, match=r"^Message is not modified: specified new message"):
        await bot.edit_message_text(
            "Draft <b>v2</b>",
            chat_id=alice.id,
            message_id=sent.message_id,
            parse_mode="HTML",
            reply_markup=markup,
        )
    # Like Telegram, an edit without reply_markup removes the inline keyboard.
    await bot.edit_message_text("Draft v3", chat_id=alice.id, message_id=sent.message_id)
    assert "reply_markup" not in tg.sent(alice.id)[0]

    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_text("x", chat_id=alice.id, message_id=999)
    user_message = tg.send_text(alice, "mine")["message"]
    with pytest.raises(BadRequest, match=r"^Message can't be edited$"):
        await bot.edit_message_text("x", chat_id=alice.id, message_id=user_message["message_id"])
    photo = await bot.send_photo(alice.id, png(), caption="old caption")
    with pytest.raises(BadRequest, match=r"^There is no text in the message to edit$"):
        await bot.edit_message_text("x", chat_id=alice.id, message_id=photo.message_id)
    await bot.edit_message_caption(alice.id, photo.message_id, caption="new caption")
    assert tg.sent(alice.id)[-1]["caption"] == "new caption"


async def test_delete_message(tg: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    sent = await bot.send_message(alice.id, "temporary")
    incoming = tg.send_text(alice, "please delete me")["message"]
    assert await bot.delete_message(alice.id, sent.message_id)
    assert await bot.delete_message(alice.id, incoming["message_id"])
    assert tg.sent(alice.id) == []
    assert tg.deleted(alice.id) == [sent.message_id, incoming["message_id"]]
    with pytest.raises(BadRequest, match=r"^Message to delete not found$"):
        await bot.delete_message(alice.id, sent.message_id)
    with pytest.raises(AssertionError, match="was deleted"):
        tg.press(alice, sent.to_dict(), "anything")


async def test_reply_keyboard_is_remembered_not_attached(
    tg: FakeTelegram, bot: Bot, alice: FakeUser
) -> None:
    sent = await bot.send_message(
        alice.id, "Pick one", reply_markup=ReplyKeyboardMarkup([["Today", "Tomorrow"]])
    )
    assert sent.reply_markup is None  # Telegram only echoes inline keyboards
    keyboard = tg.reply_keyboard(alice.id)
    assert keyboard is not None
    assert [b["text"] for b in keyboard["keyboard"][0]] == ["Today", "Tomorrow"]


# --------------------------------------------------------------------------- files


async def test_send_photo_bytes_then_get_file_and_download(
    tg: FakeTelegram, bot: Bot, alice: FakeUser
) -> None:
    data = png(800, 600)
    msg = await bot.send_photo(alice.id, data, caption="Look")
    assert [(p.width, p.height) for p in msg.photo] == [(320, 240), (800, 600)]
    assert msg.caption == "Look"
    (params,) = tg.calls_to("sendPhoto")
    assert isinstance(params["photo"], Upload)  # multipart part, not a string

    file = await bot.get_file(msg.photo[-1].file_id)
    assert file.file_size == len(data)
    assert file.file_path is not None
    assert file.file_path.startswith(tg.file_base_url)
    assert bytes(await file.download_as_bytearray()) == data
    assert tg.file_bytes(msg.photo[-1].file_id) == data

    # Re-sending by file_id reuses the stored file (same sizes, same ids)
    again = await bot.send_photo(alice.id, msg.photo[-1].file_id)
    assert [p.file_id for p in again.photo] == [p.file_id for p in msg.photo]
    with pytest.raises(BadRequest, match=r"^Wrong file identifier/http url specified$"):
        await bot.send_photo(alice.id, "no-such-file-id")


async def test_user_photo_downloaded_by_the_bot(
    tg: FakeTelegram, bot: Bot, alice: FakeUser
) -> None:
    data = png(1280, 960)
    tg.send_photo(alice, data, caption="for tomorrow")
    (update,) = await bot.get_updates(timeout=0)
    assert update.message is not None
    photo = update.message.photo
    assert len(photo) == 2
    assert (photo[-1].width, photo[-1].height) == (1280, 960)
    assert update.message.caption == "for tomorrow"

    full = await bot.get_file(photo[-1].file_id)
    assert bytes(await full.download_as_bytearray()) == data
    thumb = await bot.get_file(photo[0].file_id)
    with Image.open(io.BytesIO(bytes(await thumb.download_as_bytearray()))) as image:
        assert image.size == (320, 240)


async def test_user_media_kinds_and_file_type_checks(
    tg: FakeTelegram, bot: Bot, alice: FakeUser
) -> None:
    tg.send_document(alice, b"%PDF-1.4", file_name="brief.pdf", mime_type="application/pdf")
    tg.send_video(alice, b"\x00\x00\x00\x18ftypmp42", caption="clip")
    tg.send_animation(alice, b"GIF89a")
    album = tg.send_album(alice, [png(), png()], caption="two")
    updates = await bot.get_updates(timeout=0)
    document, video, animation = (u.message for u in updates[:3])
    assert document is not None
    assert document.document is not None
    assert document.document.file_name == "brief.pdf"
    assert video is not None
    assert video.video is not None
    assert video.caption == "clip"
    assert animation is not None
    assert animation.animation is not None
    assert animation.document is not None  # Telegram sets both for animations
    group_ids = {u["message"]["media_group_id"] for u in album}
    assert len(group_ids) == 1
    assert [u["message"].get("caption") for u in album] == ["two", None]

    forwarded = await bot.send_document(alice.id, document.document.file_id)
    assert forwarded.document is not None
    assert forwarded.document.file_id == document.document.file_id
    with pytest.raises(BadRequest) as error:
        await bot.send_photo(alice.id, document.document.file_id)
    assert last_description(tg) == "Bad Request: can't use file of type Document as Photo"
    assert error.value.message == "Can't use file of type document as photo"


async def test_send_media_group_of_three_photos(
    tg: FakeTelegram, bot: Bot, alice: FakeUser
) -> None:
    images = [png(640, 480), png(480, 640), png(100, 100)]
    messages = await bot.send_media_group(
        alice.id, [InputMediaPhoto(image) for image in images], caption="Album"
    )
    assert len(messages) == 3
    assert len({m.media_group_id for m in messages}) == 1
    assert messages[0].media_group_id is not None
    assert [m.caption for m in messages] == ["Album", None, None]
    assert [m.message_id for m in messages] == [1, 2, 3]
    for message, image in zip(messages, images, strict=True):
        assert tg.file_bytes(message.photo[-1].file_id) == image
    assert len(tg.sent(alice.id)) == 3


async def test_media_group_limits(tg: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    with pytest.raises(BadRequest, match=r"^Too many messages to send as an album$"):
        await bot.send_media_group(alice.id, [InputMediaPhoto(png(10, 10)) for _ in range(11)])
    with pytest.raises(BadRequest, match=r"^Document can't be mixed with other media types$"):
        await bot.send_media_group(
            alice.id, [InputMediaPhoto(png(10, 10)), InputMediaDocument(b"doc", filename="a.txt")]
        )
    assert tg.sent(alice.id) == []


# --------------------------------------------------------------------------- limits


async def test_text_limits_count_utf16_after_parsing(
    tg: FakeTelegram, bot: Bot, alice: FakeUser
) -> None:
    with pytest.raises(BadRequest, match=r"^Message text is empty$"):
        await bot.send_message(alice.id, "")
    with pytest.raises(BadRequest, match=r"^Message text is empty$"):
        await bot.send_message(alice.id, " \n ")
    with pytest.raises(BadRequest, match=r"^Message text is empty$"):
        await bot.send_message(alice.id, "<b> </b>", parse_mode="HTML")

    await bot.send_message(alice.id, "a" * 4096)
    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.send_message(alice.id, "a" * 4097)
    assert last_description(tg) == "Bad Request: message is too long"

    await bot.send_message(alice.id, "😀" * 2048)  # 4096 UTF-16 code units
    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.send_message(alice.id, "😀" * 2049)  # 2049 characters, 4098 code units

    # Markup and escapes are not counted; only the resulting text is.
    await bot.send_message(alice.id, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    escaped = await bot.send_message(alice.id, "&lt;" * 4096, parse_mode="HTML")
    assert escaped.text == "<" * 4096
    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.send_message(alice.id, "&amp;" * 4097, parse_mode="HTML")

    await bot.send_photo(alice.id, png(10, 10), caption="c" * 1024)
    with pytest.raises(BadRequest, match=r"^Message caption is too long$"):
        await bot.send_photo(alice.id, png(10, 10), caption="c" * 1025)
    assert last_description(tg) == "Bad Request: message caption is too long"


@pytest.mark.parametrize(
    ("text", "parse_mode", "description"),
    [
        (
            "<b>bold",
            "HTML",
            "Bad Request: can't parse entities: "
            'Can\'t find end tag corresponding to start tag "b"',
        ),
        (
            "Hi <p>there</p>",
            "HTML",
            'Bad Request: can\'t parse entities: Unsupported start tag "p" at byte offset 3',
        ),
        (
            "<b>x</i>",
            "HTML",
            "Bad Request: can't parse entities: Unmatched end tag at byte offset 4, "
            'expected "</b>", found "</i>"',
        ),
        (
            "Price: 5.00",
            "MarkdownV2",
            "Bad Request: can't parse entities: Character '.' is reserved and must be escaped "
            "with the preceding '\\'",
        ),
        (
            "*bold",
            "MarkdownV2",
            "Bad Request: can't parse entities: Can't find end of Bold entity at byte offset 0",
        ),
    ],
)
async def test_malformed_markup_is_rejected(
    tg: FakeTelegram, bot: Bot, alice: FakeUser, text: str, parse_mode: str, description: str
) -> None:
    with pytest.raises(BadRequest, match=r"^Can't parse entities: "):
        await bot.send_message(alice.id, text, parse_mode=parse_mode)
    assert last_description(tg) == description
    assert tg.sent(alice.id) == []


async def test_formatting_becomes_entities(tg: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    html = await bot.send_message(
        alice.id,
        '😀 <a href="https://example.com">link</a> &amp; <code>x</code>',
        parse_mode="HTML",
    )
    assert html.text == "😀 link & x"
    assert [(e.type, e.offset, e.length) for e in html.entities] == [
        ("text_link", 3, 4),
        ("code", 10, 1),
    ]
    md = await bot.send_message(alice.id, "*bold* and _it_ 5\\.00", parse_mode="MarkdownV2")
    assert md.text == "bold and it 5.00"
    assert [(e.type, e.offset, e.length) for e in md.entities] == [("bold", 0, 4), ("italic", 9, 2)]
    # Telegram detects links, hashtags and commands in bot messages too, but not inside code.
    auto = await bot.send_message(
        alice.id,
        "See https://example.com #news /help <code>https://x.org</code>",
        parse_mode="HTML",
    )
    assert [(e.type, e.offset, e.length) for e in auto.entities] == [
        ("url", 4, 19),
        ("hashtag", 24, 5),
        ("bot_command", 30, 5),
        ("code", 36, 13),
    ]


async def test_callback_data_limit_is_64_bytes(tg: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="é" * 32)]])
    await bot.send_message(alice.id, "64 bytes", reply_markup=ok)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("no", callback_data="é" * 33)]])
    with pytest.raises(BadRequest, match=r"^Button_data_invalid$"):
        await bot.send_message(alice.id, "66 bytes", reply_markup=too_long)
    assert last_description(tg) == "Bad Request: BUTTON_DATA_INVALID"


async def test_unknown_chat_and_blocked_user(tg: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.send_message(424242, "hello?")
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.send_message("@nobody_here", "hello?")

    tg.block_bot(alice.id)
    kicked = tg.pending_updates[-1]["my_chat_member"]
    assert kicked["new_chat_member"]["status"] == "kicked"
    with pytest.raises(Forbidden, match=r"^Forbidden: bot was blocked by the user$"):
        await bot.send_message(alice.id, "are you there?")
    with pytest.raises(Forbidden):
        await bot.send_photo(alice.id, png(10, 10))
    tg.send_text(alice, "/start")  # writing to the bot again unblocks it
    await bot.send_message(alice.id, "welcome back")


async def test_channel_rights(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_channel(-1001111111111, "Gone", "gone_channel", bot_status="left")
    tg.add_channel(-1002222222222, "Read only", "readonly_channel", bot_can_post=False)
    with pytest.raises(Forbidden, match=r"^Forbidden: bot is not a member of the channel chat$"):
        await bot.send_message("@gone_channel", "post")
    with pytest.raises(BadRequest, match=r"^Need administrator rights in the channel chat$"):
        await bot.send_message(-1002222222222, "post")
    assert last_description(tg) == "Bad Request: need administrator rights in the channel chat"


async def test_get_file_over_20_mb_is_too_big(tg: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    file_id, unique_id = tg.add_file(b"small really", file_size=25 * MB)
    assert unique_id
    with pytest.raises(BadRequest, match=r"^File is too big$"):
        await bot.get_file(file_id)
    assert last_description(tg) == "Bad Request: file is too big"

    tg.send_document(alice, b"x", file_name="big.mp4", mime_type="video/mp4", file_size=20 * MB + 1)
    (update,) = await bot.get_updates(timeout=0)
    assert update.message is not None
    assert update.message.document is not None
    with pytest.raises(BadRequest, match=r"^File is too big$"):
        await bot.get_file(update.message.document.file_id)
    with pytest.raises(BadRequest, match=r"^Invalid file_id$"):
        await bot.get_file("nope")


async def test_rate_limits(tg: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    now = 1000.0
    tg.clock = lambda: now  # deterministic flood control
    tg.enforce_rate_limits = True
    for n in range(3):  # a short burst is allowed in a private chat...
        await bot.send_message(alice.id, f"burst {n}")
    with pytest.raises(RetryAfter) as error:  # ...then about one message per second
        await bot.send_message(alice.id, "one too many")
    assert error.value.retry_after == dtm.timedelta(seconds=1)
    assert tg.rate_limited_count == 1
    assert tg.errors[-1] == (
        "sendMessage",
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        },
    )
    now += 1.0
    await bot.send_message(alice.id, "after waiting")
    assert [m["text"] for m in tg.sent(alice.id)][-1] == "after waiting"

    channel = tg.add_channel(-1003333333333, "Busy", "busy_channel")
    for n in range(20):
        await bot.send_message(channel.id, f"post {n}")
    with pytest.raises(RetryAfter) as error:
        await bot.send_message(channel.id, "post 21")
    assert error.value.retry_after == dtm.timedelta(seconds=3)  # 20 per minute
    assert tg.rate_limited_count == 2
    assert len(tg.sent(channel.id)) == 20

    # 30 messages per second overall, across chats
    now += 60.0
    others = [tg.add_user(5000 + n) for n in range(31)]
    for user in others[:30]:
        await bot.send_message(user.id, "news")
    with pytest.raises(RetryAfter):
        await bot.send_message(others[30].id, "news")
    assert tg.rate_limited_count == 3


# ------------------------------------------------------------------ channels & members


async def test_channel_post_to_username(tg: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    channel = tg.add_channel(-1001234567890, "Crier News", "crier_news")
    await bot.send_message(alice.id, "private chats count separately")
    first = await bot.send_message("@crier_news", "Hello, channel")
    assert first.chat.id == channel.id
    assert first.chat.type == "channel"
    assert first.chat.username == "crier_news"
    assert first.sender_chat is not None
    assert first.sender_chat.id == channel.id
    assert first.from_user is None
    assert first.message_id == 1  # message ids are per chat
    second = await bot.send_message(channel.id, "Second post")
    assert second.message_id == 2
    assert [m["text"] for m in tg.sent("@crier_news")] == ["Hello, channel", "Second post"]
    assert [m["text"] for m in tg.sent(alice)] == ["private chats count separately"]

    chat = await bot.get_chat("@crier_news")
    assert (chat.id, chat.title, chat.type) == (channel.id, "Crier News", "channel")


async def test_get_chat_member_for_bot_and_admins(
    tg: FakeTelegram, bot: Bot, alice: FakeUser
) -> None:
    channel = tg.add_channel(
        -1004444444444,
        "Team",
        "team_channel",
        admins={2001: "creator", 2002: "administrator"},
        members={alice.id},
    )
    me = await bot.get_chat_member("@team_channel", tg.bot_id)
    assert isinstance(me, ChatMemberAdministrator)
    assert me.can_post_messages is True
    assert isinstance(await bot.get_chat_member(channel.id, 2001), ChatMemberOwner)
    admin = await bot.get_chat_member(channel.id, 2002)
    assert isinstance(admin, ChatMemberAdministrator)
    assert isinstance(await bot.get_chat_member(channel.id, alice.id), ChatMemberMember)
    stranger = tg.add_user(3003, "Stranger")
    assert isinstance(await bot.get_chat_member(channel.id, stranger.id), ChatMemberLeft)
    with pytest.raises(BadRequest, match=r"^User not found$"):
        await bot.get_chat_member(channel.id, 987654321)

    tg.add_channel(-1005555555555, "Muted", bot_can_post=False)
    muted = await bot.get_chat_member(-1005555555555, tg.bot_id)
    assert isinstance(muted, ChatMemberAdministrator)
    assert muted.can_post_messages is False
    tg.add_channel(-1006666666666, "Elsewhere", bot_status="left")
    assert isinstance(await bot.get_chat_member(-1006666666666, tg.bot_id), ChatMemberLeft)


async def test_the_bots_rights_can_be_narrowed_per_right(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_channel(-1007777777777, "Narrow", bot_rights={"can_delete_messages": False})
    me = await bot.get_chat_member(-1007777777777, tg.bot_id)
    assert isinstance(me, ChatMemberAdministrator)
    assert (me.can_post_messages, me.can_edit_messages, me.can_delete_messages) == (
        True,
        True,
        False,
    )
    [admin] = await bot.get_chat_administrators(-1007777777777)
    assert admin.can_delete_messages is False  # type: ignore[attr-defined]


async def test_pinning_needs_edit_rights_in_a_channel_and_pin_rights_in_a_group(
    tg: FakeTelegram, bot: Bot
) -> None:
    channel = tg.add_channel(-1008888888888, "News", "news_pins")
    post = await bot.send_message(channel.id, "pin me")
    assert await bot.pin_chat_message(channel.id, post.message_id, disable_notification=True)
    assert tg.pinned(channel) == [post.message_id]
    service = tg.sent(channel)[-1]
    assert service["pinned_message"]["text"] == "pin me"
    assert service["message_id"] == post.message_id + 1
    with pytest.raises(BadRequest, match=r"^Message to pin not found$"):
        await bot.pin_chat_message(channel.id, 999)
    assert await bot.unpin_chat_message(channel.id, post.message_id)
    assert tg.pinned(channel) == []

    channel.bot_rights["can_edit_messages"] = False
    with pytest.raises(
        BadRequest, match=r"^Not enough rights to manage pinned messages in the chat$"
    ):
        await bot.pin_chat_message(channel.id, post.message_id)

    group = tg.add_channel(-1009999999999, "Team", kind="supergroup")
    said = await bot.send_message(group.id, "agenda")
    assert await bot.pin_chat_message(group.id, said.message_id)
    group.bot_rights["can_pin_messages"] = False
    with pytest.raises(BadRequest, match=r"^Not enough rights to manage pinned messages"):
        await bot.pin_chat_message(group.id, said.message_id)


async def test_protected_content_is_marked_on_the_message(
    tg: FakeTelegram, bot: Bot, alice: FakeUser
) -> None:
    sent = await bot.send_message(alice.id, "secret", protect_content=True)
    assert sent.has_protected_content is True
    album = await bot.send_media_group(
        alice.id, [InputMediaPhoto(png(10, 10)), InputMediaPhoto(png(12, 12))], protect_content=True
    )
    assert [m.has_protected_content for m in album] == [True, True]
    plain = await bot.send_message(alice.id, "open")
    assert plain.has_protected_content is None


async def test_own_channel_posts_can_be_deleted_for_48_hours_then_only_with_the_right(
    tg: FakeTelegram, bot: Bot
) -> None:
    channel = tg.add_channel(-1001212121212, "Old news", bot_rights={"can_delete_messages": False})
    fresh = await bot.send_message(channel.id, "fresh")
    old = await bot.send_message(channel.id, "old")
    tg.backdate(channel, old.message_id, 48 * 3600 + 1)
    assert await bot.delete_message(channel.id, fresh.message_id)
    with pytest.raises(BadRequest, match=r"^Message can't be deleted$"):
        await bot.delete_message(channel.id, old.message_id)
    channel.bot_rights["can_delete_messages"] = True
    assert await bot.delete_message(channel.id, old.message_id)
    assert tg.deleted(channel) == [fresh.message_id, old.message_id]


async def test_forward_from_channel_uses_forward_origin(
    tg: FakeTelegram, bot: Bot, alice: FakeUser
) -> None:
    channel = tg.add_channel(-1007777777777, "Source", "source_channel")
    tg.forward_from_channel(alice, channel, text="Original post", message_id=12)
    (update,) = await bot.get_updates(timeout=0)
    assert update.message is not None
    origin = update.message.forward_origin
    assert isinstance(origin, MessageOriginChannel)
    assert (origin.chat.id, origin.message_id) == (channel.id, 12)
    assert update.message.text == "Original post"


# ---------------------------------------------------------------- test-side helpers


async def test_wait_for(tg: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    earlier = await bot.send_message(alice.id, "Earlier message")
    waiter = asyncio.create_task(tg.wait_for(alice.id, "Scheduled"))
    await asyncio.sleep(0.05)
    await bot.send_message(alice.id, "Something else")
    await bot.send_message(alice.id, "Scheduled for 09:00")
    found = await asyncio.wait_for(waiter, timeout=2)
    assert found["text"] == "Scheduled for 09:00"

    # edits count as news; `after` finds messages already sent
    editing = asyncio.create_task(tg.wait_for(alice.id, lambda m: "edited" in m["text"]))
    await asyncio.sleep(0.05)
    await bot.edit_message_text("Earlier, edited", chat_id=alice.id, message_id=earlier.message_id)
    assert (await asyncio.wait_for(editing, timeout=2))["message_id"] == earlier.message_id
    assert (await tg.wait_for(alice.id, after=earlier.message_id))["text"] == "Something else"


async def test_wait_for_times_out_with_a_helpful_error(
    tg: FakeTelegram, bot: Bot, alice: FakeUser
) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Retry", callback_data="retry")]])
    await bot.send_message(alice.id, "Earlier message", reply_markup=markup)
    with pytest.raises(BadRequest):
        await bot.send_message(alice.id, "<oops>", parse_mode="HTML")
    with pytest.raises(AssertionError) as error:
        await tg.wait_for(alice.id, "Scheduled", timeout=0.2)
    report = str(error.value)
    assert "timed out after 0.2s" in report
    assert "'Scheduled'" in report
    assert "Earlier message" in report
    assert "Retry" in report
    assert 'Unsupported start tag "oops"' in report  # recent API errors are listed


async def test_fail_next(tg: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    tg.fail_next(
        "sendMessage", status=429, description="Too Many Requests: retry after 7", retry_after=7
    )
    with pytest.raises(RetryAfter) as error:
        await bot.send_message(alice.id, "first")
    assert error.value.retry_after == dtm.timedelta(seconds=7)

    tg.fail_next(
        "sendmessage", status=403, description="Forbidden: bot was blocked by the user", count=2
    )
    for _ in range(2):
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(alice.id, "again")
    tg.fail_next("getFile", status=502, description="Bad Gateway")
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.get_file("whatever")
    await bot.send_message(alice.id, "finally")
    assert [m["text"] for m in tg.sent(alice.id)] == ["finally"]
    assert [name for name, _ in tg.calls].count("sendMessage") == 4


async def test_commands_and_descriptions(tg: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("new", "New post")])
    await bot.set_my_commands([BotCommand("start", "Начать")], language_code="ru")
    await bot.set_my_commands([BotCommand("cancel", "Cancel")], scope=BotCommandScopeChat(alice.id))
    assert tg.commands["default"] == [
        {"command": "start", "description": "Start"},
        {"command": "new", "description": "New post"},
    ]
    assert tg.commands["default/ru"] == [{"command": "start", "description": "Начать"}]
    assert tg.commands[f"chat:{alice.id}"] == [{"command": "cancel", "description": "Cancel"}]
    assert [c.command for c in await bot.get_my_commands()] == ["start", "new"]
    with pytest.raises(BadRequest, match=r"^Bot_command_invalid$"):
        await bot.set_my_commands([BotCommand("Bad-Name", "nope")])
    await bot.delete_my_commands()
    assert "default" not in tg.commands
    assert await bot.get_my_commands() == ()

    await bot.set_my_description("Schedules your posts")
    await bot.set_my_short_description("Post scheduler")
    assert tg.descriptions[""] == "Schedules your posts"
    assert tg.short_descriptions[""] == "Post scheduler"


async def test_json_bodies_wrong_token_and_unknown_method(
    tg: FakeTelegram, alice: FakeUser
) -> None:
    api = f"{tg.base_url}{tg.token}"
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{api}/sendMessage",
            json={
                "chat_id": alice.id,
                "text": "<i>hi</i>",
                "parse_mode": "HTML",
                "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
            },
        )
        assert response.status_code == 200
        result = response.json()["result"]
        assert result["text"] == "hi"
        assert result["entities"] == [{"type": "italic", "offset": 0, "length": 2}]
        assert result["reply_markup"]["inline_keyboard"][0][0]["text"] == "A"

        response = await client.post(f"{api}/SENDMESSAGE", json={"chat_id": alice.id})
        assert response.status_code == 400
        assert response.json() == {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: message text is empty",
        }
        response = await client.get(f"{api}/getMe")
        assert response.json()["result"]["username"] == "crier_test_bot"

        response = await client.post(f"{tg.base_url}123:WRONG/getMe")
        assert response.status_code == 401
        assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        response = await client.post(f"{api}/sendTelepathy")
        assert response.status_code == 404
        assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert [name for name, _ in tg.calls] == [
        "sendMessage",
        "sendMessage",
        "getMe",
        "getMe",
        "sendTelepathy",
    ]


async def test_a_ptb_application_runs_against_the_fake(tg: FakeTelegram, alice: FakeUser) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Schedule", callback_data="sch")]])
        await update.effective_message.reply_text("Welcome! Schedule a post?", reply_markup=markup)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("On it")
        await query.edit_message_text(f"Scheduled ({query.data})")

    app = (
        ApplicationBuilder()
        .token(tg.token)
        .base_url(tg.base_url)
        .base_file_url(tg.file_base_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=5)
        tg.send_text(alice, "/start")
        welcome = await tg.wait_for(alice.id, "Welcome")
        tg.press(alice, welcome, "Schedule")
        done = await tg.wait_for(alice.id, "Scheduled")
        await app.updater.stop()
        await app.stop()
    assert done["message_id"] == welcome["message_id"]
    assert "reply_markup" not in done  # edited without a keyboard
    assert tg.callback_answers[-1]["text"] == "On it"
    assert tg.pending_updates == []  # the application confirmed everything it handled
