"""The emulator's answers on the wire, for each Bot API method Crier calls, held to the Bot
API documentation (https://core.telegram.org/bots/api), quoted where it says something.

"The response contains a JSON object, which always has a Boolean field 'ok' and may have an
optional String field 'description' with a human-readable description of the result. If 'ok'
equals True, the request was successful and the result of the query can be found in the
'result' field. In case of an unsuccessful request, 'ok' equals false and the error is
explained in the 'description'. An Integer 'error_code' field is also returned [...] Some
errors may also have an optional field 'parameters' of the type ResponseParameters."

The documentation states limits but not the error texts; the descriptions asserted here are
the ones api.telegram.org answers (and PTB, which Crier uses, maps them to its exceptions).
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from PIL import Image

from bot.demo.emulator.server import TelegramEmulator

JSON = dict[str, Any]
ALICE = 1001
NEWS = -1001000000001  # a channel; the bot is an admin that may post
LURKER = -1001000000002  # a channel where the bot is a plain member


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "orange").save(buffer, "PNG")
    return buffer.getvalue()


PNG_1PX = _png(1, 1)


@pytest.fixture
async def tg() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator() as emulator:
        emulator.add_user(ALICE, "Alice")
        emulator.add_channel(NEWS, "News", "news", admins={ALICE: "creator"})
        emulator.add_channel(
            LURKER, "Lurker", "lurker", admins={ALICE: "creator"}, bot_status="member"
        )
        yield emulator


async def call(
    tg: TelegramEmulator, method: str, files: dict[str, tuple[str, bytes]] | None = None, **params
) -> tuple[int, JSON]:
    """One Bot API call as PTB makes it (JSON-encoded fields in a form, files as parts)."""
    url = f"{tg.base_url}{tg.token}/{method}"
    async with httpx.AsyncClient(timeout=10) as client:
        if files:
            data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
            response = await client.post(url, data=data, files=files)
        else:
            response = await client.post(url, json=params)
    return response.status_code, response.json()


def error(status: int, description: str, **parameters: int) -> JSON:
    body: JSON = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


# ------------------------------------------------------------------------- successes


@dataclass
class Ok:
    method: str
    params: JSON
    check: Any  #: a callable on `result`
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


def message_to(chat: int, **fields: Any) -> Any:
    def check(result: JSON) -> bool:
        return result["chat"]["id"] == chat and all(result.get(k) == v for k, v in fields.items())

    return check


SUCCESSES = {
    # getMe: "Returns basic information about the bot in form of a User object."
    "getMe": Ok("getMe", {}, lambda r: r["is_bot"] and r["username"] == "crier_test_bot"),
    # sendMessage: "Text of the message to be sent, 1-4096 characters after entities parsing"
    "sendMessage 4096": Ok(
        "sendMessage", {"chat_id": ALICE, "text": "x" * 4096}, message_to(ALICE, text="x" * 4096)
    ),
    "sendMessage HTML": Ok(
        "sendMessage",
        {"chat_id": ALICE, "text": "<b>hi</b>", "parse_mode": "HTML"},
        message_to(ALICE, text="hi", entities=[{"offset": 0, "length": 2, "type": "bold"}]),
    ),
    "sendMessage to @channel": Ok(
        "sendMessage", {"chat_id": "@news", "text": "out"}, message_to(NEWS, text="out")
    ),
    # sendPhoto: "On success, the sent Message is returned"; a photo is an array of PhotoSize.
    "sendPhoto upload": Ok(
        "sendPhoto",
        {"chat_id": NEWS, "caption": "y" * 1024},
        lambda r: r["photo"][-1]["width"] == 1 and r["caption"] == "y" * 1024,
        {"photo": ("p.png", PNG_1PX)},
    ),
    "sendDocument upload": Ok(
        "sendDocument",
        {"chat_id": ALICE},
        lambda r: r["document"]["file_name"] == "notes.txt",
        {"document": ("notes.txt", b"hello")},
    ),
    "sendVideo upload": Ok(
        "sendVideo", {"chat_id": ALICE}, lambda r: "video" in r, {"video": ("v.mp4", b"\0" * 64)}
    ),
    "sendAnimation upload": Ok(
        "sendAnimation",
        {"chat_id": ALICE},
        lambda r: "animation" in r and "document" in r,
        {"animation": ("a.mp4", b"\0" * 64)},
    ),
    # sendMediaGroup: "On success, an array of Messages that were sent is returned."
    "sendMediaGroup": Ok(
        "sendMediaGroup",
        {
            "chat_id": NEWS,
            "media": [
                {"type": "photo", "media": "attach://one", "caption": "album"},
                {"type": "photo", "media": "attach://two"},
            ],
        },
        lambda r: len(r) == 2 and r[0]["media_group_id"] == r[1]["media_group_id"],
        {"one": ("1.png", PNG_1PX), "two": ("2.png", PNG_1PX)},
    ),
    # sendChatAction: "Returns True on success."
    "sendChatAction": Ok("sendChatAction", {"chat_id": ALICE, "action": "typing"}, lambda r: r),
    "setMyCommands": Ok(
        "setMyCommands", {"commands": [{"command": "new", "description": "Start"}]}, lambda r: r
    ),
    "getChat channel": Ok(
        "getChat", {"chat_id": "@news"}, lambda r: r["id"] == NEWS and r["type"] == "channel"
    ),
    # getChatMember: "Returns a ChatMember object on success."
    "getChatMember bot in its channel": Ok(
        "getChatMember",
        {"chat_id": NEWS, "user_id": 123456},
        lambda r: r["status"] == "administrator" and r["can_post_messages"],
    ),
    "getChatMember bot not an admin": Ok(
        "getChatMember", {"chat_id": LURKER, "user_id": 123456}, lambda r: r["status"] == "member"
    ),
    "deleteWebhook": Ok("deleteWebhook", {}, lambda r: r is True),
    "getUpdates empty": Ok("getUpdates", {"timeout": 0}, lambda r: r == []),
}


@pytest.mark.parametrize("case", SUCCESSES.values(), ids=SUCCESSES.keys())
async def test_each_method_answers_ok_with_its_documented_result(
    tg: TelegramEmulator, case: Ok
) -> None:
    status, body = await call(tg, case.method, case.files or None, **case.params)
    assert status == 200, body
    assert set(body) == {"ok", "result"}
    assert body["ok"] is True
    assert case.check(body["result"]), body["result"]


async def test_method_names_are_case_insensitive(tg: TelegramEmulator) -> None:
    """ "All methods in the Bot API are case-insensitive." """
    status, body = await call(tg, "SENDMESSAGE", chat_id=ALICE, text="hi")
    assert (status, body["ok"]) == (200, True)


async def test_edits_deletes_pins_and_callback_answers(tg: TelegramEmulator) -> None:
    _, sent = await call(tg, "sendMessage", chat_id=NEWS, text="first")
    mid = sent["result"]["message_id"]
    keyboard = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    # editMessageText: "On success, if the edited message is not an inline message, the
    # edited Message is returned"
    _, edited = await call(
        tg, "editMessageText", chat_id=NEWS, message_id=mid, text="second", reply_markup=keyboard
    )
    assert edited["result"]["text"] == "second"
    assert edited["result"]["edit_date"]
    _, same = await call(
        tg, "editMessageText", chat_id=NEWS, message_id=mid, text="second", reply_markup=keyboard
    )
    assert same["description"].startswith("Bad Request: message is not modified")
    _, markup = await call(tg, "editMessageReplyMarkup", chat_id=NEWS, message_id=mid)
    assert "reply_markup" not in markup["result"]
    _, photo = await call(tg, "sendPhoto", {"photo": ("p.png", PNG_1PX)}, chat_id=NEWS)
    _, caption = await call(
        tg,
        "editMessageCaption",
        chat_id=NEWS,
        message_id=photo["result"]["message_id"],
        caption="now captioned",
    )
    assert caption["result"]["caption"] == "now captioned"
    # pinChatMessage / deleteMessage / deleteMessages: "Returns True on success."
    assert (await call(tg, "pinChatMessage", chat_id=NEWS, message_id=mid))[1]["result"] is True
    assert tg.pinned(NEWS) == [mid]
    assert (await call(tg, "deleteMessage", chat_id=NEWS, message_id=mid))[1]["result"] is True
    assert await call(tg, "deleteMessage", chat_id=NEWS, message_id=mid) == (
        400,
        error(400, "Bad Request: message to delete not found"),
    )
    pid = photo["result"]["message_id"]
    assert (await call(tg, "deleteMessages", chat_id=NEWS, message_ids=[pid]))[1]["result"]

    _, dm = await call(tg, "sendMessage", chat_id=ALICE, text="pick", reply_markup=keyboard)
    query = tg.press(ALICE, dm["result"], "Go")["callback_query"]["id"]
    # answerCallbackQuery: "Text of the notification [...] 0-200 characters"
    assert await call(tg, "answerCallbackQuery", callback_query_id=query, text="x" * 201) == (
        400,
        error(400, "Bad Request: MESSAGE_TOO_LONG"),
    )
    ok = await call(tg, "answerCallbackQuery", callback_query_id=query, text="Done")
    assert ok == (200, {"ok": True, "result": True})
    assert await call(tg, "answerCallbackQuery", callback_query_id=query) == (
        400,
        error(
            400,
            "Bad Request: query is too old and response timeout expired or query ID is invalid",
        ),
    )


# ---------------------------------------------------------------------------- errors

PARTS = {"photo": ("p.png", PNG_1PX)}

ERRORS = {
    # "Text of the message to be sent, 1-4096 characters after entities parsing"
    "message too long": (
        "sendMessage",
        {"chat_id": ALICE, "text": "x" * 4097},
        None,
        error(400, "Bad Request: message is too long"),
    ),
    "too long after parsing counts UTF-16": (
        "sendMessage",
        {"chat_id": ALICE, "text": "😀" * 2049},
        None,
        error(400, "Bad Request: message is too long"),
    ),
    "empty message": (
        "sendMessage",
        {"chat_id": ALICE, "text": "<b></b>", "parse_mode": "HTML"},
        None,
        error(400, "Bad Request: message text is empty"),
    ),
    # "Photo caption [...] 0-1024 characters after entities parsing"
    "caption too long": (
        "sendPhoto",
        {"chat_id": ALICE, "caption": "y" * 1025},
        PARTS,
        error(400, "Bad Request: message caption is too long"),
    ),
    "chat not found": (
        "sendMessage",
        {"chat_id": -100999, "text": "hi"},
        None,
        error(400, "Bad Request: chat not found"),
    ),
    "channel by unknown username": (
        "sendMessage",
        {"chat_id": "@nobody_here", "text": "hi"},
        None,
        error(400, "Bad Request: chat not found"),
    ),
    "bot not an admin of the channel": (
        "sendMessage",
        {"chat_id": LURKER, "text": "hi"},
        None,
        error(400, "Bad Request: need administrator rights in the channel chat"),
    ),
    # sendMediaGroup: "an array describing messages to be sent, must include 2-10 items"
    "album of eleven": (
        "sendMediaGroup",
        {"chat_id": NEWS, "media": [{"type": "photo", "media": "attach://photo"}] * 11},
        PARTS,
        error(400, "Bad Request: too many messages to send as an album"),
    ),
    # InlineKeyboardButton.callback_data: "Data to be sent in a callback query [...] 1-64 bytes"
    "callback data over 64 bytes": (
        "sendMessage",
        {
            "chat_id": ALICE,
            "text": "hi",
            "reply_markup": {"inline_keyboard": [[{"text": "x", "callback_data": "é" * 33}]]},
        },
        None,
        error(400, "Bad Request: BUTTON_DATA_INVALID"),
    ),
    "chat action unknown": (
        "sendChatAction",
        {"chat_id": ALICE, "action": "dancing"},
        None,
        error(400, "Bad Request: wrong parameter action in request"),
    ),
    "unknown file id": (
        "getFile",
        {"file_id": "nope"},
        None,
        error(400, "Bad Request: invalid file_id"),
    ),
    "edit of a message that isn't there": (
        "editMessageText",
        {"chat_id": ALICE, "message_id": 999, "text": "x"},
        None,
        error(400, "Bad Request: message to edit not found"),
    ),
}


@pytest.mark.parametrize(("method", "params", "files", "expected"), ERRORS.values(), ids=ERRORS)
async def test_refusals_have_telegrams_status_and_description(
    tg: TelegramEmulator, method: str, params: JSON, files: Any, expected: JSON
) -> None:
    assert await call(tg, method, files, **params) == (expected["error_code"], expected)


async def test_a_file_over_20_mb_cannot_be_downloaded(tg: TelegramEmulator) -> None:
    """getFile: "For the moment, bots can download files of up to 20MB in size." """
    file_id, _ = tg.add_file(b"big", file_size=20 * 1024 * 1024 + 1, file_name="big.mp4")
    assert await call(tg, "getFile", file_id=file_id) == (
        400,
        error(400, "Bad Request: file is too big"),
    )
    small, _ = tg.add_file(b"small", file_name="small.txt")
    status, body = await call(tg, "getFile", file_id=small)
    assert status == 200
    assert body["result"]["file_path"]
    async with httpx.AsyncClient() as client:
        download = await client.get(f"{tg.file_base_url}{tg.token}/{body['result']['file_path']}")
    assert download.content == b"small"


async def test_an_upload_over_50_mb_is_refused(tg: TelegramEmulator) -> None:
    """Multipart uploads: "10 MB max size for photos, 50 MB for other files." """
    big = {"document": ("big.bin", b"\0" * (50 * 1024 * 1024 + 1))}
    assert await call(tg, "sendDocument", big, chat_id=ALICE) == (
        413,
        error(413, "Request Entity Too Large"),
    )


async def test_flood_control_answers_429_with_retry_after(tg: TelegramEmulator) -> None:
    """ResponseParameters.retry_after: "In case of exceeding flood control, the number of
    seconds left to wait before the request can be repeated"."""
    now = [1000.0]
    tg.clock = lambda: now[0]
    tg.enforce_rate_limits = True
    for _ in range(3):  # a short burst in one private chat goes through
        assert (await call(tg, "sendMessage", chat_id=ALICE, text="hi"))[0] == 200
    assert await call(tg, "sendMessage", chat_id=ALICE, text="hi") == (
        429,
        error(429, "Too Many Requests: retry after 1", retry_after=1),
    )
    now[0] += 1.0  # waiting as long as it said is enough
    assert (await call(tg, "sendMessage", chat_id=ALICE, text="hi"))[0] == 200


async def test_blocked_user_wrong_token_unknown_method(tg: TelegramEmulator) -> None:
    tg.block_bot(ALICE)
    assert await call(tg, "sendMessage", chat_id=ALICE, text="hi") == (
        403,
        error(403, "Forbidden: bot was blocked by the user"),
    )
    tg.add_channel(-1001000000003, "Gone", "gone", bot_status="left")
    assert await call(tg, "sendMessage", chat_id="@gone", text="hi") == (
        403,
        error(403, "Forbidden: bot is not a member of the channel chat"),
    )
    async with httpx.AsyncClient() as client:
        wrong = await client.post(f"{tg.base_url}123:WRONG/getMe")
        unknown = await client.post(f"{tg.base_url}{tg.token}/sendTelepathy")
    assert (wrong.status_code, wrong.json()) == (401, error(401, "Unauthorized"))
    assert (unknown.status_code, unknown.json()) == (404, error(404, "Not Found"))
