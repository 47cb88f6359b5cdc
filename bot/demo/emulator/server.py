"""The Telegram Bot API emulator: a stateful HTTP server that answers like api.telegram.org.

The real bot runs unmodified with its base URL pointed at ``emulator.base_url``. The test
suite's fake Telegram is this emulator, and so is ``crier demo``'s. Tests (and the demo's web
chat) act as users (``send_text``, ``send_photo``, ``press`` ...) and assert on what the bot sent
(``sent``, ``wait_for``, ``calls``)::

    async with TelegramEmulator() as tg:
        alice = tg.add_user(1001, "Alice")
        async with Bot(tg.token, base_url=tg.base_url, base_file_url=tg.file_base_url) as bot:
            tg.send_text(alice, "/start")
            ...
            reply = await tg.wait_for(alice.id, "Welcome")
            tg.press(alice, reply, "Schedule")

It speaks the wire protocol of https://api.telegram.org: form-urlencoded, multipart (files
as parts, nested objects as JSON strings, ``attach://<name>`` references) and JSON bodies,
and answers with Telegram's exact result and error shapes. Methods live in
``methods.py``, text formatting in ``text.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import inspect
import socket
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.demo.emulator.core import DEFAULT_ALLOWED_UPDATES
from bot.demo.emulator.text import utf16_len
from bot.demo.emulator.users import UserActions, describe_message
from bot.demo.emulator.wire import read_params
from bot.demo.emulator.world import (
    JSON,
    ApiError,
    FakeChat,
    FakeUser,
    StoredFile,
    Upload,
)

__all__ = [
    "ApiError",
    "FakeChat",
    "FakeTelegram",
    "FakeUser",
    "StoredFile",
    "TelegramEmulator",
    "Upload",
]


class QuietServer(uvicorn.Server):
    """uvicorn server that leaves the test runner's signal handlers alone (serve() would
    install SIGINT/SIGTERM handlers and restore them in an order that breaks when two
    fakes overlap, and Ctrl-C would stop the fake instead of the test run)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class TelegramEmulator(UserActions):
    """In-process fake of api.telegram.org; use as ``async with TelegramEmulator() as tg``."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_id: int = 123456,
        bot_username: str = "crier_test_bot",
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_first_name = "Crier"
        self.users = {}
        self.chats = {}
        self.blocked = set()
        self.files = {}
        self.calls = []
        self.commands = {}
        self.descriptions = {}
        self.short_descriptions = {}
        self.names = {}
        self.callback_answers = []
        self.webhook = {"url": ""}
        self.enforce_rate_limits = False
        self.rate_limited_count = 0
        self.clock = time.monotonic
        self.errors: list[tuple[str, JSON]] = []  # (method, error body) of failed calls
        self.server_errors: list[BaseException] = []  # bugs in the fake itself
        self.downloads: list[str] = []  # file paths fetched from the file endpoint
        self._messages = {}
        self._next_message_id = {}
        self._deleted = {}
        self._reply_keyboards = {}
        self._files_by_path = {}
        self._issued_paths = set()
        self._photo_sets = {}
        self._file_counter = 0
        self._media_group_counter = 0
        self._updates = []
        self._next_update_id = 100_000_001
        self._allowed_updates = DEFAULT_ALLOWED_UPDATES
        self._update_wakers = set()
        self._message_wakers = set()
        self._active_poll = None
        self._closing = False
        self._seq = 0
        self.chat_actions = {}
        self._callback_queries = {}
        self._callback_counter = 0
        self._chat_buckets = {}
        self._global_bucket = None
        self._failures: dict[str, list[ApiError]] = {}
        self._port: int | None = None
        self._server: QuietServer | None = None
        self._server_task: asyncio.Task[None] | None = None
        self._methods: dict[str, tuple[str, Callable[[JSON, dict[str, Upload]], Any]]] = {
            name[4:].lower(): (name[4:], getattr(self, name))
            for name in dir(self)
            if name.startswith("api_")
        }
        self._app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._handle_api, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._handle_file, methods=["GET"]),
            ]
        )

    # --------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> TelegramEmulator:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            log_level="warning",
            log_config=None,
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=2,
        )
        self._server = QuietServer(config)
        self._server_task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._server_task.done():
                sock.close()
                await self._server_task  # re-raises the startup failure
                raise RuntimeError("fake Telegram server exited during startup")
            await asyncio.sleep(0.005)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing = True
        self._wake(self._update_wakers)  # release long polls so the server can stop
        self._wake(self._message_wakers)
        if self._server is not None and self._server_task is not None:
            self._server.should_exit = True
            await self._server_task
        if self.server_errors and exc_type is None:
            raise AssertionError(
                "the Telegram Bot API emulator crashed handling a request: "
                f"{self.server_errors[0]!r}"
            ) from self.server_errors[0]

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(
                "TelegramEmulator is not running; use `async with TelegramEmulator()`"
            )
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # -------------------------------------------------------------------- HTTP

    def _error(self, method: str, error: ApiError) -> JSONResponse:
        body = error.body()
        self.errors.append((method, body))
        return JSONResponse(body, status_code=error.status)

    async def _handle_api(self, request: Request) -> Response:
        raw_method = request.path_params["method"]
        name, handler = self._methods.get(raw_method.lower(), (raw_method, None))
        try:
            params, files = await read_params(request)
        except ApiError as error:
            self.calls.append((name, {}))
            return self._error(name, error)
        self.calls.append((name, params))
        if request.path_params["token"] != self.token:
            return self._error(name, ApiError(401, "Unauthorized"))
        if handler is None:
            return self._error(name, ApiError(404, "Not Found"))
        pending = self._failures.get(name.lower())
        if pending:
            return self._error(name, pending.pop(0))
        try:
            result = handler(params, files)
            if inspect.isawaitable(result):
                result = await result
        except ApiError as error:
            return self._error(name, error)
        except Exception as exc:  # a bug in the fake: surface it at __aexit__
            self.server_errors.append(exc)
            body = {
                "ok": False,
                "error_code": 500,
                "description": f"Internal Server Error: {exc!r}",
            }
            return JSONResponse(body, status_code=500)
        return JSONResponse({"ok": True, "result": result})

    async def _handle_file(self, request: Request) -> Response:
        not_found = JSONResponse(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status_code=404
        )
        if request.path_params["token"] != self.token:
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401
            )
        path = request.path_params["path"]
        stored = self._files_by_path.get(path)
        if stored is None or stored.data is None or path not in self._issued_paths:
            return not_found
        self.downloads.append(path)
        return Response(stored.data, media_type=stored.mime_type or "application/octet-stream")

    # -------------------------------------------------------------- inspection

    def sent(self, chat_id: FakeChat | FakeUser | int | str) -> list[JSON]:
        """Messages the bot sent to the chat, in their current state, oldest first."""
        cid = self._chat_id(chat_id)
        messages = self._messages.get(cid, {})
        return [
            copy.deepcopy(messages[mid].msg)
            for mid in sorted(messages)
            if messages[mid].from_bot and not messages[mid].deleted
        ]

    def messages(self, chat_id: FakeChat | FakeUser | int | str) -> list[JSON]:
        """Every live message of the chat (the user's and the bot's), oldest first."""
        cid = self._chat_id(chat_id)
        messages = self._messages.get(cid, {})
        return [copy.deepcopy(messages[m].msg) for m in sorted(messages) if not messages[m].deleted]

    def deleted(self, chat_id: FakeChat | FakeUser | int | str) -> list[int]:
        return list(self._deleted.get(self._chat_id(chat_id), []))

    def reply_keyboard(self, chat_id: FakeChat | FakeUser | int | str) -> JSON | None:
        """The ReplyKeyboardMarkup currently shown in the chat (None if removed/never set)."""
        return copy.deepcopy(self._reply_keyboards.get(self._chat_id(chat_id)))

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by the bot via getUpdates(offset=...)."""
        return copy.deepcopy(self._updates)

    def calls_to(self, method: str) -> list[JSON]:
        """Parameters of every call to ``method`` (case-insensitive), in order."""
        return [params for name, params in self.calls if name.lower() == method.lower()]

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str,
        retry_after: int | None = None,
        count: int = 1,
    ) -> None:
        """Make the next ``count`` calls of ``method`` fail with this Telegram error."""
        error = ApiError(status, description, retry_after=retry_after)
        self._failures.setdefault(method.lower(), []).extend([error] * count)

    def backdate(
        self, chat_id: FakeChat | FakeUser | int | str, message_id: int, seconds: float
    ) -> None:
        """Make a message look ``seconds`` older (deleteMessage's 48-hour rule reads its date)."""
        stored = self._messages[self._chat_id(chat_id)][message_id]
        stored.msg["date"] = int(stored.msg["date"] - seconds)

    def pinned(self, chat_id: FakeChat | FakeUser | int | str) -> list[int]:
        """Pinned message ids of a channel or group, most recent last."""
        cid = self._chat_id(chat_id)
        return list(self.chats[cid].pinned) if cid in self.chats else []

    def clear_failures(self) -> None:
        """Forget every failure injected with fail_next."""
        self._failures.clear()

    async def wait_for(
        self,
        chat_id: FakeChat | FakeUser | int | str,
        predicate: Callable[[JSON], bool] | str = lambda m: True,
        *,
        timeout: float = 5.0,
        after: int = 0,
    ) -> JSON:
        """Wait for a bot message in the chat matching ``predicate`` (a callable, or a
        substring of text/caption) that was sent or edited after this call started, or
        whose message_id is greater than ``after``. Returns its current state."""
        cid = self._chat_id(chat_id)
        start = self._seq
        matches: Callable[[JSON], bool]
        if isinstance(predicate, str):
            needle = predicate

            def contains(msg: JSON) -> bool:
                return needle in (msg.get("text") or msg.get("caption") or "")

            matches, description = contains, f"containing {needle!r}"
        else:
            matches, description = predicate, "matching the predicate"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            messages = self._messages.get(cid, {})
            for mid in sorted(messages):
                stored = messages[mid]
                if not stored.from_bot or stored.deleted:
                    continue
                fresh = stored.touched > start or (after > 0 and mid > after)
                if fresh and matches(copy.deepcopy(stored.msg)):
                    return copy.deepcopy(stored.msg)
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                break
            waker: asyncio.Future[None] = loop.create_future()
            self._message_wakers.add(waker)
            try:
                await asyncio.wait({waker}, timeout=remaining)
            finally:
                self._message_wakers.discard(waker)
                waker.cancel()
        recent = self.sent(cid)[-5:]
        lines = [f"  {describe_message(m)}" for m in recent] or [
            "  (the bot sent nothing to this chat)"
        ]
        errors = [f"  {m}: {body['description']}" for m, body in self.errors[-3:]]
        message = (
            f"timed out after {timeout}s waiting for a bot message in chat {chat_id!r} "
            f"{description}" + (f" with message_id > {after}" if after else "") + ".\n"
            "Last bot messages in this chat:\n" + "\n".join(lines)
        )
        if errors:
            message += "\nLast failed API calls:\n" + "\n".join(errors)
        raise AssertionError(message)

    @property
    def closing(self) -> bool:
        """The emulator is shutting down (long polls and watchers should end)."""
        return self._closing

    @property
    def version(self) -> int:
        """Grows with every change a watcher of the chats would see."""
        return self._seq

    async def changed(self, seen: int, timeout: float) -> int:
        """Wait until the world changed since ``version`` was ``seen`` (or ``timeout``
        seconds passed, or the emulator is closing); returns the version now."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._seq == seen and not self._closing:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            waker: asyncio.Future[None] = loop.create_future()
            self._message_wakers.add(waker)
            try:
                await asyncio.wait({waker}, timeout=remaining)
            finally:
                self._message_wakers.discard(waker)
                waker.cancel()
        return self._seq

    @staticmethod
    def text_length(text: str) -> int:
        """Length as Telegram counts it (UTF-16 code units)."""
        return utf16_len(text)


#: The name the test suite knows it by.
FakeTelegram = TelegramEmulator
