"""The demo's web chat: a page that shows the emulated Telegram chat with the bot and the demo
channel, live, and turns what a person types, sends and taps there into Telegram updates.

The page (``static/``) gets the whole visible state on every change over Server-Sent Events
(``GET /events``): the chat's and the channel's messages as Bot API ``Message`` objects, the
command menu the bot set with setMyCommands, the reply keyboard, the chat action. What the
person does comes back as small POSTs under ``/api/`` and becomes, through the emulator's
``UserActions``, exactly the updates a Telegram client would cause.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import mimetypes
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.demo.emulator.server import QuietServer, TelegramEmulator
from bot.demo.emulator.text import detect_entities
from bot.demo.emulator.world import JSON, FakeChat, FakeUser

STATIC = Path(__file__).parent / "static"
#: Telegram clients show a chat action "for 5 seconds or less" (sendChatAction).
ACTION_SECONDS = 5.0
#: Telegram groups at most 10 files into one album.
ALBUM_MAX = 10
#: Largest file the page may send (Telegram clients send up to 2 GB; the bot can download
#: only 20 MB of it through the Bot API, and says so).
UPLOAD_MAX = 100 * 1024 * 1024
#: How long /api/press waits for the bot's answerCallbackQuery (a toast or an alert).
ANSWER_WAIT = 3.0
#: Entities a person's formatting keeps; detected ones (commands, URLs) are not added inside.
_FORMATTING = frozenset({"text_link", "code", "pre"})


@dataclass(frozen=True)
class DemoWorld:
    """Who is in the demo: the person at the page, and the channel posts go to."""

    user: FakeUser  #: the person using the page
    channel: FakeChat  #: the demo channel, the bot an admin of it


def merge_entities(text: str, given: list[JSON]) -> list[JSON]:
    """The person's formatting plus what Telegram's servers detect (commands, URLs,
    mentions, hashtags), except inside a link or code the person made."""
    spans = [(e["offset"], e["offset"] + e["length"]) for e in given if e["type"] in _FORMATTING]
    detected = [
        e
        for e in detect_entities(text)
        if not any(start < e["offset"] + e["length"] and e["offset"] < end for start, end in spans)
    ]
    return sorted([*given, *detected], key=lambda e: (e["offset"], -e["length"]))


def _clean_entities(raw: Any) -> list[JSON]:
    if isinstance(raw, str):
        raw = json.loads(raw or "[]")
    if not isinstance(raw, list):
        return []
    allowed = {"bold", "italic", "underline", "strikethrough", "spoiler", "code", "pre"}
    entities = []
    for item in raw:
        if not isinstance(item, dict) or item.get("length", 0) <= 0:
            continue
        kind = item.get("type")
        entity = {"type": kind, "offset": int(item["offset"]), "length": int(item["length"])}
        if kind == "text_link" and str(item.get("url", "")).startswith(("http://", "https://")):
            entities.append({**entity, "url": item["url"]})
        elif kind in allowed:
            entities.append(entity)
    return entities


class DemoChat:
    """The web chat over one emulator and one demo world."""

    def __init__(self, tg: TelegramEmulator, world: DemoWorld) -> None:
        self.tg = tg
        self.world = world
        self.app = Starlette(
            routes=[
                Route("/", self.page),
                Route("/events", self.events),
                Route("/state", self.state_json),
                Route("/file/{file_id}", self.file),
                Route("/api/text", self.text, methods=["POST"]),
                Route("/api/files", self.files, methods=["POST"]),
                Route("/api/press", self.press, methods=["POST"]),
                Route("/api/location", self.location, methods=["POST"]),
                Mount("/static", StaticFiles(directory=STATIC), name="static"),
            ]
        )

    # ---------------------------------------------------------------- what is shown

    def commands(self) -> list[JSON]:
        """The menu a Telegram client shows this person: the most specific scope the bot
        set (this chat, private chats, default), in the person's language if set."""
        uid, language = self.world.user.id, self.world.user.language_code
        for scope in (f"chat:{uid}", "all_private_chats", "default"):
            for key in (f"{scope}/{language}", scope):
                if self.tg.commands.get(key):
                    return self.tg.commands[key]
        return []

    def action(self) -> tuple[str | None, float]:
        """The bot's chat action in the person's chat, and how long it still shows."""
        action, since = self.tg.chat_actions.get(self.world.user.id, (None, 0.0))
        left = since + ACTION_SECONDS - time.time()
        return (action, left) if action and left > 0 else (None, 0.0)

    def state(self) -> JSON:
        channel = self.world.channel
        return {
            "version": self.tg.version,
            "bot": {"name": self.tg.bot_first_name, "username": self.tg.bot_username},
            "user": self.world.user.as_dict(),
            "chat": self.tg.messages(self.world.user),
            "channel": {
                "title": channel.title,
                "username": channel.username,
                "messages": self.tg.messages(channel.id),
                "pinned": self.tg.pinned(channel.id),
            },
            "commands": self.commands(),
            "keyboard": self.tg.reply_keyboard(self.world.user),
            "action": self.action()[0],
        }

    # ------------------------------------------------------------------------ routes

    async def page(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def state_json(self, request: Request) -> Response:
        return JSONResponse(self.state())

    async def events(self, request: Request) -> Response:
        """Server-Sent Events: the state now, then again after every change."""

        async def stream() -> AsyncIterator[str]:
            seen = -1
            while not await request.is_disconnected():
                if self.tg.version != seen:
                    seen = self.tg.version
                    yield f"data: {json.dumps(self.state())}\n\n"
                    continue
                action, left = self.action()
                wait = min(15.0, left + 0.05) if action else 15.0
                now = await self.tg.changed(seen, wait)
                if now == seen:
                    if self.tg.closing:
                        return
                    if action:  # the action ran out: show the chat without it
                        yield f"data: {json.dumps(self.state())}\n\n"
                    else:
                        yield ": still here\n\n"

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )

    async def file(self, request: Request) -> Response:
        file_id = request.path_params["file_id"]
        stored = self.tg.files.get(file_id)
        if stored is None or stored.data is None:
            return Response("no such file here", status_code=404)
        media_type = stored.mime_type or (
            "image/jpeg" if stored.kind == "photo" else "application/octet-stream"
        )
        return Response(stored.data, media_type=media_type)

    async def text(self, request: Request) -> Response:
        body = await request.json()
        text = str(body.get("text") or "")
        if not text.strip():
            return JSONResponse({"ok": False, "error": "empty message"}, status_code=400)
        entities = merge_entities(text, _clean_entities(body.get("entities")))
        self.tg.send_message(self.world.user, {"text": text, "entities": entities or None})
        return JSONResponse({"ok": True})

    async def files(self, request: Request) -> Response:
        """Photos, videos and files from the picker or a drop: one message, or albums of up
        to 10 sharing a media_group_id; the caption goes on the first, as clients do."""
        async with request.form(max_files=100, max_part_size=UPLOAD_MAX) as form:
            as_files = form.get("as") == "file"
            caption = str(form.get("caption") or "")
            entities = merge_entities(caption, _clean_entities(form.get("entities")))
            uploads = [
                (item.filename or "file", item.content_type or "", await item.read())
                for item in form.getlist("file")
                if isinstance(item, UploadFile)
            ]
        if not uploads:
            return JSONResponse({"ok": False, "error": "no file"}, status_code=400)
        for start in range(0, len(uploads), ALBUM_MAX):
            group = uploads[start : start + ALBUM_MAX]
            group_id = self.tg.new_media_group_id() if len(group) > 1 else None
            for index, (name, content_type, data) in enumerate(group):
                first = start == 0 and index == 0
                self._send_file(
                    name,
                    content_type,
                    data,
                    as_file=as_files,
                    group_id=group_id,
                    caption=(caption, entities) if first and caption else None,
                )
        return JSONResponse({"ok": True})

    def _send_file(
        self,
        name: str,
        content_type: str,
        data: bytes,
        *,
        as_file: bool,
        group_id: str | None,
        caption: tuple[str, list[JSON]] | None,
    ) -> None:
        user = self.world.user
        mime = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        text, entities = caption or (None, None)
        common: dict[str, Any] = {
            "media_group_id": group_id,
            "caption": text,
            "caption_entities": entities,
        }
        if as_file or not mime.startswith(("image/", "video/")) or mime == "image/gif":
            self.tg.send_document(user, data, file_name=name, mime_type=mime, **common)
        elif mime.startswith("image/"):
            self.tg.send_photo(user, data, **common)
        else:
            self.tg.send_video(user, data, mime_type=mime, file_name=name, **common)

    async def press(self, request: Request) -> Response:
        """Tap an inline button; answers with the bot's answerCallbackQuery (text, alert)."""
        body = await request.json()
        message = {"chat": {"id": int(body["chat_id"])}, "message_id": int(body["message_id"])}
        try:
            update = self.tg.press_data(self.world.user, message, str(body["data"]))
        except AssertionError as exc:  # the message is gone meanwhile
            return JSONResponse({"ok": False, "error": str(exc)}, status_code=409)
        query_id = update["callback_query"]["id"]
        deadline = asyncio.get_running_loop().time() + ANSWER_WAIT
        seen = self.tg.version
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            for answer in self.tg.callback_answers:
                if str(answer.get("callback_query_id")) == query_id:
                    return JSONResponse(
                        {
                            "ok": True,
                            "text": answer.get("text"),
                            "show_alert": bool(answer.get("show_alert")),
                        }
                    )
            seen = await self.tg.changed(seen, left)
        return JSONResponse({"ok": True, "text": None})

    async def location(self, request: Request) -> Response:
        body = await request.json()
        self.tg.send_location(self.world.user, float(body["latitude"]), float(body["longitude"]))
        return JSONResponse({"ok": True})


def listen(host: str, port: int) -> socket.socket:
    """The web chat's socket, bound (0: any free port); raises OSError when it is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


@contextlib.asynccontextmanager
async def serve(chat: DemoChat, sock: socket.socket) -> AsyncIterator[int]:
    """Serve the web chat on a socket from `listen`; yields its port."""
    config = uvicorn.Config(
        chat.app,
        log_level="warning",
        log_config=None,
        access_log=False,
        lifespan="off",
        ws="none",
        timeout_graceful_shutdown=1,
    )
    server = QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            await task
            raise RuntimeError("the demo's web server stopped while starting")
        await asyncio.sleep(0.01)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await task
