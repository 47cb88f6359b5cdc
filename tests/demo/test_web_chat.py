"""The demo's web chat without a browser: what a person's actions become in the emulator,
and what the page is shown."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from PIL import Image

from bot.demo.emulator.server import TelegramEmulator
from bot.demo.web import DemoChat, DemoWorld, merge_entities

ALICE = 1001
CHANNEL = -1001000000001


@pytest.fixture
async def tg() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator() as emulator:
        emulator.add_user(ALICE, "Alice", language_code="de")
        emulator.add_channel(CHANNEL, "Demo channel", "crier_demo", admins={ALICE: "creator"})
        yield emulator


@pytest.fixture
async def page(tg: TelegramEmulator) -> AsyncIterator[httpx.AsyncClient]:
    chat = DemoChat(tg, DemoWorld(user=tg.users[ALICE], channel=tg.chats[CHANNEL]))
    transport = httpx.ASGITransport(app=chat.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
        yield client


def jpeg(color: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buffer, "JPEG")
    return buffer.getvalue()


def test_formatting_is_kept_and_what_telegram_detects_is_added_outside_links() -> None:
    text = "Read /help at https://a.example or here"
    link = {"type": "text_link", "offset": 35, "length": 4, "url": "https://b.example"}
    bold = {"type": "bold", "offset": 0, "length": 4}
    merged = merge_entities(text, [bold, link])
    assert [e["type"] for e in merged] == ["bold", "bot_command", "url", "text_link"]
    inside = merge_entities("see https://x.example", [{"type": "code", "offset": 4, "length": 17}])
    assert [e["type"] for e in inside] == ["code"]


async def test_typed_text_becomes_a_message_update_with_entities(
    tg: TelegramEmulator, page: httpx.AsyncClient
) -> None:
    bold = {"type": "bold", "offset": 0, "length": 3}
    answer = await page.post("/api/text", json={"text": "Big /new", "entities": [bold]})
    assert answer.json() == {"ok": True}
    [update] = tg.pending_updates
    assert update["message"]["text"] == "Big /new"
    assert [e["type"] for e in update["message"]["entities"]] == ["bold", "bot_command"]
    refused = await page.post("/api/text", json={"text": "   "})
    assert refused.status_code == 400


async def test_twelve_photos_are_two_albums_with_the_caption_on_the_first(
    tg: TelegramEmulator, page: httpx.AsyncClient
) -> None:
    files = [("file", (f"{n}.jpg", jpeg("red"), "image/jpeg")) for n in range(12)]
    entities = json.dumps([{"type": "italic", "offset": 0, "length": 4}])
    answer = await page.post(
        "/api/files", data={"as": "media", "caption": "Trip day", "entities": entities}, files=files
    )
    assert answer.json() == {"ok": True}
    messages = [u["message"] for u in tg.pending_updates]
    assert len(messages) == 12
    assert all("photo" in m for m in messages)
    groups = [m["media_group_id"] for m in messages]
    assert len(set(groups[:10])) == 1
    assert len(set(groups[10:])) == 1
    assert groups[0] != groups[10]
    assert messages[0]["caption"] == "Trip day"
    assert messages[0]["caption_entities"] == [{"type": "italic", "offset": 0, "length": 4}]
    assert all("caption" not in m for m in messages[1:])


async def test_files_as_documents_and_a_single_video(
    tg: TelegramEmulator, page: httpx.AsyncClient
) -> None:
    await page.post("/api/files", data={"as": "file"}, files={"file": ("a.jpg", jpeg("blue"))})
    await page.post(
        "/api/files", data={"as": "media"}, files={"file": ("v.mp4", b"\0" * 32, "video/mp4")}
    )
    document, video = (u["message"] for u in tg.pending_updates)
    assert document["document"]["file_name"] == "a.jpg"
    assert "media_group_id" not in document
    assert video["video"]["mime_type"] == "video/mp4"
    served = await page.get(f"/file/{document['document']['file_id']}")
    assert served.content == jpeg("blue")
    assert (await page.get("/file/unknown")).status_code == 404


async def test_the_page_sees_the_menu_for_its_scope_and_a_chat_action_for_five_seconds(
    tg: TelegramEmulator, page: httpx.AsyncClient
) -> None:
    tg.commands = {
        "default": [{"command": "help", "description": "Help"}],
        "all_private_chats/de": [{"command": "neu", "description": "Neuer Beitrag"}],
    }
    tg.chat_actions[ALICE] = ("typing", time.time())
    state = (await page.get("/state")).json()
    assert state["commands"] == [{"command": "neu", "description": "Neuer Beitrag"}]
    assert state["action"] == "typing"
    assert state["channel"]["username"] == "crier_demo"
    tg.chat_actions[ALICE] = ("typing", time.time() - 5.1)
    assert (await page.get("/state")).json()["action"] is None


async def test_a_button_press_returns_the_bots_answer(
    tg: TelegramEmulator, page: httpx.AsyncClient
) -> None:
    keyboard = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    sent = tg.api_sendMessage({"chat_id": ALICE, "text": "Pick", "reply_markup": keyboard}, {})
    press = {"chat_id": ALICE, "message_id": sent["message_id"], "data": "go"}
    pressing = asyncio.create_task(page.post("/api/press", json=press))
    for _ in range(500):  # the bot gets the callback query...
        if tg.pending_updates:
            break
        await asyncio.sleep(0.01)
    query = tg.pending_updates[-1]["callback_query"]
    assert query["data"] == "go"
    tg.api_answerCallbackQuery({"callback_query_id": query["id"], "text": "Done!"}, {})
    # ...and its answer is what the page shows.
    assert (await pressing).json() == {"ok": True, "text": "Done!", "show_alert": False}


async def test_pins_and_deletions_reach_the_page(
    tg: TelegramEmulator, page: httpx.AsyncClient
) -> None:
    post = tg.api_sendMessage({"chat_id": CHANNEL, "text": "Big news"}, {})
    seen = tg.version
    tg.api_pinChatMessage({"chat_id": CHANNEL, "message_id": post["message_id"]}, {})
    assert await tg.changed(seen, 1.0) > seen  # what the event stream waits on
    channel = (await page.get("/state")).json()["channel"]
    assert channel["pinned"] == [post["message_id"]]
    assert [m.get("text") for m in channel["messages"]] == ["Big news", None]  # + "pinned"

    seen = tg.version
    tg.api_deleteMessage({"chat_id": CHANNEL, "message_id": post["message_id"]}, {})
    assert await tg.changed(seen, 1.0) > seen
    channel = (await page.get("/state")).json()["channel"]
    assert post["message_id"] not in [m["message_id"] for m in channel["messages"]]
