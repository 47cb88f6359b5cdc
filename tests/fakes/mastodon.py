"""A stateful fake Mastodon server (the client API a publisher uses) as a Starlette app.

It keeps accounts' uploads and statuses, enforces the server's limits with Mastodon's own
error shapes ({"error": "..."} with 401/404/422/429), processes media asynchronously
(``processing_polls``; a video over the frame size or frame rate limit fails processing, as
Mastodon's transcoder does), deduplicates statuses on ``Idempotency-Key`` for an hour, and
throttles uploads and statuses like Mastodon's rate limits. Use the ASGI app directly
(``httpx.ASGITransport(app=fake.app)``) or serve it on 127.0.0.1::

    async with FakeMastodon(max_characters=5000) as server:
        account = {"instance_url": server.base_url}, {"access_token": server.token}
        ...
        assert server.statuses[0].media[0].description == "A cat"

Counting follows Mastodon's StatusLengthValidator: grapheme clusters of content warning and
text, each URL as ``characters_reserved_per_url``, @name@server as @name.

After publishing it deletes (``DELETE /api/v1/statuses/:id``, answering with the status and
its source text, throttled like Mastodon: 30 deletions per 30 minutes) and edits
(``PUT /api/v1/statuses/:id``: text, content warning, media and their descriptions, each
edit kept in ``status.edits``), and lists an account's statuses
(``GET /api/v1/accounts/:id/statuses``, newest first, ``max_id`` paging) and a thread
(``GET /api/v1/statuses/:id/context``). Reads with a token that lacks ``read:statuses``
(``read_statuses=False``) are refused with 403, as ``authorize_if_got_token!`` does; without
a token they see public and unlisted statuses only. Status ``content`` is HTML as Mastodon
renders plain text: paragraphs, ``<br />``, links with their invisible ``https://`` span,
mentions and hashtags as links.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import io
import json
import re
import socket
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import av
import regex
import uvicorn
from PIL import Image
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DEFAULT_TOKEN = "fake-mastodon-token"
#: Mastodon keeps idempotency keys for an hour.
IDEMPOTENCY_TTL = 3600.0
_MB = 1024 * 1024
_MAX_FORM_PART = 200 * _MB
_SUPPORTED_MIME_TYPES = (
    "image/jpeg", "image/png", "image/gif", "image/heic", "image/heif", "image/webp",
    "image/avif", "video/webm", "video/mp4", "video/quicktime", "video/ogg",
    "audio/wave", "audio/wav", "audio/x-wav", "audio/ogg", "audio/mpeg", "audio/mp3",
    "audio/webm", "audio/flac", "audio/aac", "audio/m4a", "audio/x-m4a", "audio/mp4",
)  # fmt: skip
_VISIBILITIES = ("public", "unlisted", "private", "direct")

# Independent of the adapter's counter on purpose: the fake checks the adapter, not itself.
_URL = re.compile(r"https?://[^\s/$.?#][^\s]*?(?=[.,;:!?)\]'\"]*(?:\s|$))", re.IGNORECASE)
_MENTION = re.compile(r"(?<![=/\w])@(\w+)@[\w.-]+\w", re.IGNORECASE)
_GRAPHEME = regex.compile(r"\X")


def mastodon_length(text: str, spoiler_text: str, url_length: int) -> int:
    countable = _MENTION.sub(r"@\1", _URL.sub("x" * url_length, text))
    return len(_GRAPHEME.findall(spoiler_text + countable))


@dataclass
class RecordedRequest:
    method: str
    path: str
    #: Lower-case names.
    headers: dict[str, str]
    json: Any = None
    #: Form fields that are not files (``media_ids[]`` keeps every value).
    form: dict[str, Any] = field(default_factory=dict)
    #: Uploaded files: field name -> (file name, content type, bytes).
    files: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)


@dataclass
class FakeMedia:
    id: str
    account_id: str
    file_name: str
    mime: str
    data: bytes
    description: str | None
    #: GET /api/v1/media/:id answers 206 this many more times before the file is ready.
    polls_left: int
    status_id: str | None = None
    #: Processing failed (a video over the frame limits): GET /api/v1/media/:id answers 422.
    failed: bool = False

    @property
    def ready(self) -> bool:
        return self.polls_left <= 0

    @property
    def type(self) -> str:
        if self.mime == "image/gif":
            return "gifv"
        return self.mime.split("/", 1)[0] if self.mime.startswith(("video/", "audio/")) else "image"

    def to_json(self, domain: str) -> dict[str, Any]:
        base = f"https://files.{domain}/media_attachments/files/{self.id}"
        extension = self.mime.rsplit("/", 1)[-1]
        return {
            "id": self.id,
            "type": self.type,
            "url": f"{base}/original/{self.id}.{extension}" if self.ready else None,
            "preview_url": f"{base}/small/{self.id}.jpeg",
            "remote_url": None,
            "text_url": None,
            "meta": {},
            "description": self.description,
            "blurhash": None,
        }


@dataclass
class FakeStatus:
    id: str
    account_id: str
    text: str
    spoiler_text: str
    visibility: str
    sensitive: bool
    language: str | None
    media: list[FakeMedia]
    in_reply_to_id: str | None
    idempotency_key: str | None
    created_at: float
    #: Every earlier version, oldest first: (text, spoiler_text, media ids), and when edited.
    edits: list[tuple[str, str, list[str]]] = field(default_factory=list)
    edited_at: float | None = None


@dataclass
class _Failure:
    method: str | None
    status: int
    body: Any
    headers: dict[str, str]


class FakeMastodon:
    """One Mastodon server with one account (``username``) reachable by ``valid_tokens``."""

    def __init__(
        self,
        *,
        domain: str = "mastodon.example",
        username: str = "crier",
        account_id: str = "109000000000000001",
        valid_tokens: Iterable[str] = (DEFAULT_TOKEN,),
        max_characters: int = 500,
        max_media_attachments: int = 4,
        characters_reserved_per_url: int = 23,
        image_size_limit: int = 16 * _MB,
        video_size_limit: int = 99 * _MB,
        description_limit: int = 1500,
        supported_mime_types: Iterable[str] = _SUPPORTED_MIME_TYPES,
        image_matrix_limit: int = 33_177_600,
        video_matrix_limit: int = 8_294_400,
        video_frame_rate_limit: int = 120,
        processing_polls: int = 0,
        instance_v2: bool = True,
        media_rate_limit: tuple[int, float] = (30, 1800.0),
        status_rate_limit: tuple[int, float] = (300, 3 * 3600.0),
        delete_rate_limit: tuple[int, float] = (30, 1800.0),
        read_statuses: bool = True,
    ) -> None:
        self.domain = domain
        self.username = username
        self.account_id = account_id
        #: Tokens the server accepts; remove one to revoke it.
        self.valid_tokens: set[str] = set(valid_tokens)
        self.max_characters = max_characters
        self.max_media_attachments = max_media_attachments
        self.characters_reserved_per_url = characters_reserved_per_url
        self.image_size_limit = image_size_limit
        self.video_size_limit = video_size_limit
        self.description_limit = description_limit
        self.supported_mime_types = list(supported_mime_types)
        #: Pixels (width × height) of an image, of a video frame; a video's frames a second.
        self.image_matrix_limit = image_matrix_limit
        self.video_matrix_limit = video_matrix_limit
        self.video_frame_rate_limit = video_frame_rate_limit
        #: How many polls of each new upload answer 206 before it is ready (0: 200 at once).
        self.processing_polls = processing_polls
        #: False: a server older than 4.0, without /api/v2/instance.
        self.instance_v2 = instance_v2
        #: (requests, seconds) per account, like Mastodon's throttles.
        self.media_rate_limit = media_rate_limit
        self.status_rate_limit = status_rate_limit
        self.delete_rate_limit = delete_rate_limit
        #: Whether the tokens carry the read:statuses scope.
        self.read_statuses = read_statuses
        #: Statuses deleted, in order.
        self.deleted: list[FakeStatus] = []

        self.statuses: list[FakeStatus] = []
        #: When set, a created status's answer waits until the event is set (a slow or dying
        #: client: the status exists, the answer is still in flight).
        self.answer_gate: asyncio.Event | None = None
        #: Set as soon as a status is created while `answer_gate` holds its answer.
        self.status_created = asyncio.Event()
        self.media: list[FakeMedia] = []
        self.requests: list[RecordedRequest] = []
        self.server_errors: list[BaseException] = []
        self._idempotency: dict[tuple[str, str], tuple[str, float]] = {}
        self._hits: dict[str, deque[float]] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._next_id = 113_000_000_000_000_000
        self._clock_offset = 0.0
        self._port: int | None = None
        self._server: uvicorn.Server | None = None
        self._server_task: asyncio.Task[None] | None = None
        self.app = Starlette(
            routes=[
                Route("/api/v1/accounts/verify_credentials", self._verify_credentials),
                Route("/api/v2/instance", self._instance_v2),
                Route("/api/v1/instance", self._instance_v1),
                Route("/api/v2/media", self._create_media, methods=["POST"]),
                Route("/api/v1/media/{id}", self._show_media),
                Route("/api/v1/statuses", self._create_status, methods=["POST"]),
                Route("/api/v1/statuses/{id}", self._show_status, methods=["GET"]),
                Route("/api/v1/statuses/{id}", self._delete_status, methods=["DELETE"]),
                Route("/api/v1/statuses/{id}", self._update_status, methods=["PUT"]),
                Route("/api/v1/statuses/{id}/context", self._context),
                Route("/api/v1/accounts/{id}/statuses", self._account_statuses),
            ]
        )

    # -- knobs and inspection ---------------------------------------------------------------

    @property
    def token(self) -> str:
        return next(iter(sorted(self.valid_tokens)))

    def fail_next(
        self,
        path: str,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        *,
        method: str | None = None,
    ) -> None:
        """Answer the next request to `path` (and `method`, if given) with this response.

        `body` is JSON (dict/list), raw text, or None for Mastodon's {"error": ...} shape."""
        if body is None:
            body = {"error": _DEFAULT_ERRORS.get(status, "Something went wrong")}
        self._failures.setdefault(path, []).append(
            _Failure(method and method.upper(), status, body, dict(headers or {}))
        )

    def advance(self, seconds: float) -> None:
        """Move the server's clock (idempotency expiry, rate-limit windows) forward."""
        self._clock_offset += seconds

    def now(self) -> float:
        return time.time() + self._clock_offset

    def status_url(self, status_id: str) -> str:
        return f"https://{self.domain}/@{self.username}/{status_id}"

    # -- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> FakeMastodon:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            log_config=None,
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._server_task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._server_task.done():
                sock.close()
                await self._server_task
                raise RuntimeError("the fake Mastodon server exited during startup")
            await asyncio.sleep(0.005)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None and self._server_task is not None:
            self._server.should_exit = True
            await self._server_task
        if self.server_errors and exc_type is None:
            raise AssertionError(
                f"the fake Mastodon server crashed handling a request: {self.server_errors[0]!r}"
            ) from self.server_errors[0]

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeMastodon is not running; use `async with FakeMastodon()`")
        return f"http://127.0.0.1:{self._port}"

    # -- plumbing ---------------------------------------------------------------------------

    async def _prelude(self, request: Request) -> tuple[RecordedRequest, Response | None]:
        """Record the request; answer a queued failure or a refused token right away."""
        recorded = RecordedRequest(
            method=request.method,
            path=request.url.path,
            headers={k.lower(): v for k, v in request.headers.items()},
        )
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            body = await request.body()
            recorded.json = json.loads(body) if body.strip() else None
        elif content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            form = await request.form(max_part_size=_MAX_FORM_PART)
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    data = await value.read()
                    recorded.files[key] = (
                        value.filename or "",
                        value.content_type or "",
                        data,
                    )
                elif key.endswith("[]"):
                    recorded.form.setdefault(key, []).append(value)
                else:
                    recorded.form[key] = value
            await form.close()
        self.requests.append(recorded)
        queued = self._failures.get(recorded.path, [])
        for index, failure in enumerate(queued):
            if failure.method in (None, recorded.method):
                del queued[index]
                return recorded, _respond(failure.status, failure.body, failure.headers)
        authorization = recorded.headers.get("authorization", "")
        token = authorization[7:] if authorization.lower().startswith("bearer ") else ""
        if token not in self.valid_tokens:
            return recorded, _error(401, "The access token is invalid")
        return recorded, None

    def _throttle(self, bucket: str, limit: tuple[int, float]) -> Response | None:
        count, period = limit
        now = self.now()
        hits = self._hits.setdefault(bucket, deque())
        while hits and hits[0] <= now - period:
            hits.popleft()
        if len(hits) >= count:
            reset = datetime.fromtimestamp(hits[0] + period, UTC)
            return _error(
                429,
                "Too many requests",
                {
                    "X-RateLimit-Limit": str(count),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": reset.isoformat(timespec="microseconds").replace(
                        "+00:00", "Z"
                    ),
                },
            )
        hits.append(now)
        return None

    def _new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    async def _guarded(self, request: Request, handler: Any) -> Response:
        try:
            recorded, early = await self._prelude(request)
            if early is not None:
                return early
            response: Response = await handler(request, recorded)
            return response
        except ClientDisconnect:  # the client went away mid-request (a worker was killed)
            return _error(400, "Client disconnected.")
        except Exception as exc:  # a bug in the fake must fail the test, not hang it
            self.server_errors.append(exc)
            return _error(500, "We're sorry, but something went wrong on our end.")

    # -- endpoints --------------------------------------------------------------------------

    async def _verify_credentials(self, request: Request) -> Response:
        async def handle(_: Request, __: RecordedRequest) -> Response:
            return JSONResponse(self._account_json(source=True))

        return await self._guarded(request, handle)

    async def _instance_v2(self, request: Request) -> Response:
        async def handle(_: Request, __: RecordedRequest) -> Response:
            if not self.instance_v2:
                return _error(404, "Record not found")
            return JSONResponse(
                {
                    "domain": self.domain,
                    "title": "Fake Mastodon",
                    "version": "4.3.0",
                    "configuration": self._configuration(),
                }
            )

        return await self._public(request, handle)

    async def _instance_v1(self, request: Request) -> Response:
        async def handle(_: Request, __: RecordedRequest) -> Response:
            return JSONResponse(
                {
                    "uri": self.domain,
                    "title": "Fake Mastodon",
                    "version": "3.5.3",
                    "configuration": self._configuration(),
                }
            )

        return await self._public(request, handle)

    async def _public(self, request: Request, handler: Any) -> Response:
        """Instance endpoints need no token (but accept one)."""
        try:
            recorded, early = await self._prelude(request)
            if early is not None and early.status_code != 401:
                return early
            response: Response = await handler(request, recorded)
            return response
        except ClientDisconnect:  # the client went away mid-request (a worker was killed)
            return _error(400, "Client disconnected.")
        except Exception as exc:
            self.server_errors.append(exc)
            return _error(500, "We're sorry, but something went wrong on our end.")

    async def _create_media(self, request: Request) -> Response:
        async def handle(_: Request, recorded: RecordedRequest) -> Response:
            limited = self._throttle(f"media:{self.account_id}", self.media_rate_limit)
            if limited is not None:
                return limited
            upload = recorded.files.get("file")
            if upload is None:
                return _error(422, "Validation failed: File can't be blank")
            file_name, mime, data = upload
            if mime not in self.supported_mime_types:
                return _error(
                    422, "Validation failed: File content type is invalid, File is invalid"
                )
            limit = self.image_size_limit if mime.startswith("image/") else self.video_size_limit
            if len(data) > limit:
                return _error(
                    422,
                    f"Validation failed: File file size must be less than {limit // _MB} MB",
                )
            description = recorded.form.get("description") or None
            if description and len(_GRAPHEME.findall(description)) > self.description_limit:
                return _error(
                    422,
                    "Validation failed: Description is too long "
                    f"(maximum is {self.description_limit} characters)",
                )
            failed = False
            if mime.startswith("image/") and mime != "image/gif":
                size = _image_size(data)
                if size is not None and size[0] * size[1] > self.image_matrix_limit:
                    return _error(422, f"{size[0]}x{size[1]} images are not supported")
            elif mime.startswith("video/"):
                # Videos are processed later; over a limit, processing fails.
                facts = _video_facts(data)
                if facts is not None:
                    width, height, fps = facts
                    failed = (
                        width * height > self.video_matrix_limit
                        or fps > self.video_frame_rate_limit
                    )
            media = FakeMedia(
                id=self._new_id(),
                account_id=self.account_id,
                file_name=file_name,
                mime=mime,
                data=data,
                description=description,
                polls_left=max(self.processing_polls, 1) if failed else self.processing_polls,
                failed=failed,
            )
            self.media.append(media)
            return JSONResponse(media.to_json(self.domain), status_code=200 if media.ready else 202)

        return await self._guarded(request, handle)

    async def _show_media(self, request: Request) -> Response:
        async def handle(req: Request, _: RecordedRequest) -> Response:
            media = self._find_media(req.path_params["id"])
            if media is None or media.status_id is not None:
                return _error(404, "Record not found")
            if media.failed:
                return _error(422, "Error processing thumbnail for uploaded media")
            if not media.ready:
                media.polls_left -= 1
                return JSONResponse(media.to_json(self.domain), status_code=206)
            return JSONResponse(media.to_json(self.domain))

        return await self._guarded(request, handle)

    async def _create_status(self, request: Request) -> Response:
        async def handle(_: Request, recorded: RecordedRequest) -> Response:
            params = recorded.json if isinstance(recorded.json, dict) else recorded.form
            key = recorded.headers.get("idempotency-key")
            if key:
                seen = self._idempotency.get((self.account_id, key))
                if seen is not None and self.now() - seen[1] < IDEMPOTENCY_TTL:
                    return JSONResponse(self._status_json(self._find_status(seen[0])))
            limited = self._throttle(f"statuses:{self.account_id}", self.status_rate_limit)
            if limited is not None:
                return limited
            text = str(params.get("status") or "")
            spoiler = str(params.get("spoiler_text") or "")
            media_ids = [
                str(m) for m in (params.get("media_ids") or params.get("media_ids[]") or [])
            ]
            problem = self._media_problem(media_ids)
            if problem:
                return _error(422, problem)
            if not text.strip() and not media_ids:
                return _error(422, "Validation failed: Text can't be blank")
            length = mastodon_length(text, spoiler, self.characters_reserved_per_url)
            if length > self.max_characters:
                return _error(
                    422,
                    f"Validation failed: Text character limit of {self.max_characters} exceeded",
                )
            visibility = str(params.get("visibility") or "public")
            if visibility not in _VISIBILITIES:
                return _error(422, "Validation failed: Visibility is not included in the list")
            status = FakeStatus(
                id=self._new_id(),
                account_id=self.account_id,
                text=text,
                spoiler_text=spoiler,
                visibility=visibility,
                sensitive=_truthy(params.get("sensitive")) or bool(spoiler),
                language=params.get("language") or None,
                media=[m for m in (self._find_media(i) for i in media_ids) if m is not None],
                in_reply_to_id=params.get("in_reply_to_id") or None,
                idempotency_key=key,
                created_at=self.now(),
            )
            for media in status.media:
                media.status_id = status.id
            self.statuses.append(status)
            if key:
                self._idempotency[(self.account_id, key)] = (status.id, self.now())
            self.status_created.set()
            if self.answer_gate is not None:
                await self.answer_gate.wait()
            return JSONResponse(self._status_json(status))

        return await self._guarded(request, handle)

    async def _show_status(self, request: Request) -> Response:
        async def handle(req: Request, _: RecordedRequest) -> Response:
            status = self._find_status(req.path_params["id"])
            if status is None:
                return _error(404, "Record not found")
            return JSONResponse(self._status_json(status))

        return await self._guarded(request, handle)

    async def _delete_status(self, request: Request) -> Response:
        async def handle(req: Request, _: RecordedRequest) -> Response:
            status = self._find_status(req.path_params["id"])
            if status is None or status.account_id != self.account_id:
                return _error(404, "Record not found")
            limited = self._throttle(f"deletes:{self.account_id}", self.delete_rate_limit)
            if limited is not None:
                return limited
            self.statuses.remove(status)
            self.deleted.append(status)
            answer = self._status_json(status)
            # The deleted status comes back with its source, for "delete and redraft".
            answer["text"] = status.text
            return JSONResponse(answer)

        return await self._guarded(request, handle)

    async def _update_status(self, request: Request) -> Response:
        async def handle(req: Request, recorded: RecordedRequest) -> Response:
            status = self._find_status(req.path_params["id"])
            if status is None or status.account_id != self.account_id:
                return _error(404, "Record not found")
            params = recorded.json if isinstance(recorded.json, dict) else recorded.form
            text = str(params.get("status") or "")
            spoiler = str(params.get("spoiler_text") or "")
            has_media = "media_ids" in params or "media_ids[]" in params
            media_ids = (
                [str(m) for m in (params.get("media_ids") or params.get("media_ids[]") or [])]
                if has_media
                else [m.id for m in status.media]
            )
            problem = self._media_problem(media_ids, status.id)
            if problem:
                return _error(422, problem)
            if not text.strip() and not media_ids:
                return _error(422, "Validation failed: Text can't be blank")
            length = mastodon_length(text, spoiler, self.characters_reserved_per_url)
            if length > self.max_characters:
                return _error(
                    422,
                    f"Validation failed: Text character limit of {self.max_characters} exceeded",
                )
            media = [m for m in (self._find_media(i) for i in media_ids) if m is not None]
            for attributes in params.get("media_attributes") or ():
                attached = next((m for m in media if m.id == str(attributes.get("id"))), None)
                if attached is None:
                    return _error(422, "Validation failed: Media attributes are invalid")
                if "description" in attributes:
                    attached.description = attributes["description"] or None
            status.edits.append((status.text, status.spoiler_text, [m.id for m in status.media]))
            for old in status.media:
                if old not in media:
                    old.status_id = None
            for new in media:
                new.status_id = status.id
            status.text, status.spoiler_text, status.media = text, spoiler, media
            if "sensitive" in params:
                status.sensitive = _truthy(params.get("sensitive")) or bool(spoiler)
            if params.get("language"):
                status.language = params["language"]
            status.edited_at = self.now()
            return JSONResponse(self._status_json(status))

        return await self._guarded(request, handle)

    async def _context(self, request: Request) -> Response:
        async def handle(req: Request, recorded: RecordedRequest) -> Response:
            status = self._find_status(req.path_params["id"])
            seen = self._visible(recorded)
            if status is None or not seen(status):
                return _error(404, "Record not found")
            ancestors: list[FakeStatus] = []
            parent = self._find_status(status.in_reply_to_id or "")
            while parent is not None:
                ancestors.insert(0, parent)
                parent = self._find_status(parent.in_reply_to_id or "")
            descendants: list[FakeStatus] = []
            frontier = [status.id]
            while frontier:
                children = [s for s in self.statuses if s.in_reply_to_id in frontier]
                descendants.extend(children)
                frontier = [c.id for c in children]
            return JSONResponse(
                {
                    "ancestors": [self._status_json(s) for s in ancestors if seen(s)],
                    "descendants": [self._status_json(s) for s in descendants if seen(s)],
                }
            )

        return await self._reading(request, handle)

    async def _account_statuses(self, request: Request) -> Response:
        async def handle(req: Request, recorded: RecordedRequest) -> Response:
            if req.path_params["id"] != self.account_id:
                return _error(404, "Record not found")
            query = req.query_params
            limit = min(int(query.get("limit") or 20), 40)
            max_id = query.get("max_id")
            seen = self._visible(recorded)
            statuses = sorted(
                (s for s in self.statuses if seen(s)), key=lambda s: int(s.id), reverse=True
            )
            if max_id:
                statuses = [s for s in statuses if int(s.id) < int(max_id)]
            if _truthy(query.get("exclude_replies")):
                statuses = [s for s in statuses if s.in_reply_to_id is None]
            page = statuses[:limit]
            headers = {}
            if len(page) == limit:
                base = f"{req.url.scheme}://{req.url.netloc}{req.url.path}"
                headers["Link"] = f'<{base}?limit={limit}&max_id={page[-1].id}>; rel="next"'
            return JSONResponse([self._status_json(s) for s in page], headers=headers)

        return await self._reading(request, handle)

    async def _reading(self, request: Request, handler: Any) -> Response:
        """Status reads: public without a token; with one, it must carry read:statuses."""
        try:
            recorded, early = await self._prelude(request)
            if early is not None and not (early.status_code == 401 and not _token(recorded)):
                return early
            if _token(recorded) and not self.read_statuses:
                return _error(403, "This action is outside the authorized scopes")
            response: Response = await handler(request, recorded)
            return response
        except ClientDisconnect:  # the client went away mid-request (a worker was killed)
            return _error(400, "Client disconnected.")
        except Exception as exc:
            self.server_errors.append(exc)
            return _error(500, "We're sorry, but something went wrong on our end.")

    def _visible(self, recorded: RecordedRequest) -> Any:
        """Which statuses the request may see: the owner's token sees all of them."""
        if _token(recorded) in self.valid_tokens:
            return lambda status: True
        return lambda status: status.visibility in ("public", "unlisted")

    # -- state helpers ----------------------------------------------------------------------

    def _media_problem(self, media_ids: list[str], status_id: str | None = None) -> str | None:
        if not media_ids:
            return None
        if len(media_ids) > self.max_media_attachments:
            return f"Cannot attach more than {self.max_media_attachments} files"
        found = [self._find_media(i) for i in media_ids]
        missing = [
            i
            for i, m in zip(media_ids, found, strict=True)
            if m is None or m.status_id not in (None, status_id)
        ]
        if missing:
            return f"Media {', '.join(missing)} not found or already attached to another post"
        attached = [m for m in found if m is not None]
        if len(attached) > 1 and any(m.type in ("video", "audio") for m in attached):
            return "Cannot attach a video to a post that already contains images"
        if any(not m.ready for m in attached):
            return "Cannot attach files that have not finished processing. Try again in a moment!"
        return None

    def _find_media(self, media_id: str) -> FakeMedia | None:
        return next(
            (m for m in self.media if m.id == media_id and m.account_id == self.account_id), None
        )

    def _find_status(self, status_id: str) -> FakeStatus | None:
        return next((s for s in self.statuses if s.id == status_id), None)

    def _configuration(self) -> dict[str, Any]:
        return {
            "statuses": {
                "max_characters": self.max_characters,
                "max_media_attachments": self.max_media_attachments,
                "characters_reserved_per_url": self.characters_reserved_per_url,
            },
            "media_attachments": {
                "supported_mime_types": self.supported_mime_types,
                "description_limit": self.description_limit,
                "image_size_limit": self.image_size_limit,
                "image_matrix_limit": self.image_matrix_limit,
                "video_size_limit": self.video_size_limit,
                "video_frame_rate_limit": self.video_frame_rate_limit,
                "video_matrix_limit": self.video_matrix_limit,
            },
        }

    def _account_json(self, *, source: bool = False) -> dict[str, Any]:
        account: dict[str, Any] = {
            "id": self.account_id,
            "username": self.username,
            "acct": self.username,
            "display_name": self.username.title(),
            "locked": False,
            "bot": True,
            "created_at": "2024-01-01T00:00:00.000Z",
            "note": "",
            "url": f"https://{self.domain}/@{self.username}",
            "avatar": f"https://{self.domain}/avatars/original/missing.png",
            "followers_count": 0,
            "following_count": 0,
            "statuses_count": len(self.statuses),
            "emojis": [],
            "fields": [],
        }
        if source:
            account["source"] = {"privacy": "public", "sensitive": False, "language": None}
        return account

    def _status_json(self, status: FakeStatus | None) -> dict[str, Any]:
        assert status is not None
        return {
            "id": status.id,
            "created_at": datetime.fromtimestamp(status.created_at, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "in_reply_to_id": status.in_reply_to_id,
            "in_reply_to_account_id": None,
            "sensitive": status.sensitive,
            "spoiler_text": status.spoiler_text,
            "visibility": status.visibility,
            "language": status.language,
            "uri": f"https://{self.domain}/users/{self.username}/statuses/{status.id}",
            "url": self.status_url(status.id),
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "content": self._content(status.text),
            "edited_at": _iso(status.edited_at),
            "reblog": None,
            "application": {"name": "Crier", "website": None},
            "account": self._account_json(),
            "media_attachments": [m.to_json(self.domain) for m in status.media],
            "mentions": [],
            "tags": [],
            "emojis": [],
            "card": None,
            "poll": None,
        }

    def _content(self, text: str) -> str:
        """Plain text as Mastodon's TextFormatter renders it."""
        paragraphs = [p for p in re.split(r"\n\n+", text) if p]
        return "".join(
            f"<p>{'<br />'.join(self._linkify(line) for line in p.split(chr(10)))}</p>"
            for p in paragraphs
        )

    def _linkify(self, line: str) -> str:
        out: list[str] = []
        position = 0
        for match in _RENDERED.finditer(line):
            out.append(html.escape(line[position : match.start()], quote=False))
            url, user, server, tag = match["url"], match["user"], match["server"], match["tag"]
            if url:
                scheme, _, rest = url.partition("://")
                shown, hidden = rest[:30], rest[30:]
                cls = "ellipsis" if hidden else ""
                out.append(
                    f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener" '
                    f'translate="no"><span class="invisible">{scheme}://</span>'
                    f'<span class="{cls}">{html.escape(shown)}</span>'
                    f'<span class="invisible">{html.escape(hidden)}</span></a>'
                )
            elif user:
                host = server or self.domain
                out.append(
                    f'<span class="h-card" translate="no"><a href="https://{host}/@{user}" '
                    f'class="u-url mention">@<span>{user}</span></a></span>'
                )
            else:
                out.append(
                    f'<a href="https://{self.domain}/tags/{tag.lower()}" class="mention hashtag" '
                    f'rel="tag">#<span>{tag}</span></a>'
                )
            position = match.end()
        out.append(html.escape(line[position:], quote=False))
        return "".join(out)


_RENDERED = re.compile(
    r"(?P<url>https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'])"
    r"|(?<![=/\w])@(?P<user>\w+)(?:@(?P<server>[\w.-]+\w))?"
    r"|(?<![=/\w&])#(?P<tag>\w+)",
)


def _token(recorded: RecordedRequest) -> str:
    authorization = recorded.headers.get("authorization", "")
    return authorization[7:] if authorization.lower().startswith("bearer ") else ""


def _iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return (
        datetime.fromtimestamp(moment, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


_DEFAULT_ERRORS = {
    400: "Bad request",
    401: "The access token is invalid",
    403: "This action is outside the authorized scopes",
    404: "Record not found",
    422: "Validation failed",
    429: "Too many requests",
    500: "We're sorry, but something went wrong on our end.",
    502: "Bad gateway",
    503: "There was a temporary problem serving your request, please try again",
}


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _respond(status: int, body: Any, headers: dict[str, str]) -> Response:
    if isinstance(body, dict | list):
        return JSONResponse(body, status_code=status, headers=headers)
    return Response(str(body), status_code=status, headers=headers, media_type="text/html")


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from the header, as Mastodon's FastImage reads them."""
    with contextlib.suppress(Exception), Image.open(io.BytesIO(data)) as image:
        return image.size
    return None


def _video_facts(data: bytes) -> tuple[int, int, float] | None:
    """Width, height and frame rate of the first video stream, as ffprobe would say."""
    with contextlib.suppress(Exception), av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        return stream.width, stream.height, float(rate) if rate else 0.0
    return None


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


__all__ = ["DEFAULT_TOKEN", "FakeMastodon", "FakeMedia", "FakeStatus", "RecordedRequest"]
