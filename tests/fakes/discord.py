"""A stateful fake of Discord's webhook endpoints, for tests over httpx.

It keeps webhooks and the messages posted through them, enforces Discord's limits (2,000
characters, 10 attachments, the per-file upload cap, 1,024-character descriptions, the
per-webhook rate limit) and answers with Discord's documented shapes::

    fake = FakeDiscord()
    hook = fake.add_webhook(name="Announcements")
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handle)) as http:
        await DiscordProvider(http).publish(post, account_for(hook), "key")
    assert fake.messages[0].content == "Hello"

`fake.handle` also works as a respx side effect.

A webhook's own messages can be read, edited and deleted through it
(`/webhooks/{id}/{token}/messages/{message_id}`: GET, PATCH, DELETE), as Discord allows;
there is no way to list them. Edits keep the attachments the request names by id, add the
new files, and drop the rest; `edited_timestamp` is set.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import httpx

MIB = 1024 * 1024
_PATH = re.compile(
    r"^/api(?:/v\d+)?/webhooks/(?P<id>\d+)/(?P<token>[^/]+)"
    r"(?:/messages/(?P<message>[^/]+))?/?$"
)


@dataclass(frozen=True)
class Part:
    """One part of a multipart/form-data body."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes


def parse_multipart(request: httpx.Request) -> list[Part]:
    """The parts of a multipart/form-data request, in order."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.content)
    parts = []
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        parts.append(
            Part(
                name=str(part.get_param("name", header="content-disposition")),
                filename=part.get_filename(),
                content_type=part.get_content_type() if part.get("content-type") else None,
                data=payload if isinstance(payload, bytes) else b"",
            )
        )
    return parts


@dataclass
class FakeWebhook:
    id: str
    token: str
    name: str | None
    channel_id: str
    guild_id: str
    base_url: str

    @property
    def url(self) -> str:
        return f"{self.base_url}/api/webhooks/{self.id}/{self.token}"

    def as_json(self) -> dict[str, Any]:
        # "Get Webhook with Token": no user; the token is included for incoming webhooks.
        return {
            "id": self.id,
            "type": 1,
            "guild_id": self.guild_id,
            "channel_id": self.channel_id,
            "name": self.name,
            "avatar": None,
            "application_id": None,
            "token": self.token,
        }


@dataclass
class FakeAttachment:
    id: str
    filename: str
    description: str | None
    content_type: str | None
    data: bytes


@dataclass
class FakeMessage:
    id: str
    webhook_id: str
    channel_id: str
    content: str
    attachments: list[FakeAttachment]
    allowed_mentions: Any
    timestamp: str
    edited_timestamp: str | None = None

    def as_json(self) -> dict[str, Any]:
        # Webhook messages come back without guild_id; clients build links from their config.
        return {
            "id": self.id,
            "type": 0,
            "content": self.content,
            "channel_id": self.channel_id,
            "author": {"id": self.webhook_id, "username": "webhook", "bot": True},
            "attachments": [
                {
                    "id": a.id,
                    "filename": a.filename,
                    "description": a.description,
                    "content_type": a.content_type,
                    "size": len(a.data),
                    "url": f"https://cdn.discordapp.com/attachments/{self.channel_id}/{a.id}/"
                    f"{a.filename}",
                }
                for a in self.attachments
            ],
            "embeds": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "timestamp": self.timestamp,
            "edited_timestamp": self.edited_timestamp,
            "flags": 0,
            "components": [],
            "webhook_id": self.webhook_id,
        }


@dataclass
class FakeDiscord:
    base_url: str = "https://discord.com"
    #: Default upload cap per file for servers without boosts, and per request.
    max_file_bytes: int = 20 * MIB
    max_request_bytes: int = 25 * MIB
    #: Per-webhook bucket: this many requests per `rate_window` seconds.
    rate_limit: int = 5
    rate_window: float = 2.0
    clock: Callable[[], float] = time.monotonic
    webhooks: dict[str, FakeWebhook] = field(default_factory=dict)
    messages: list[FakeMessage] = field(default_factory=list)
    #: Messages deleted through their webhook, in order.
    deleted: list[FakeMessage] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _hits: dict[str, list[float]] = field(default_factory=dict)

    def _snowflake(self) -> str:
        return str(1_200_000_000_000_000_000 + next(self._ids))

    def add_webhook(self, name: str | None = "Crier") -> FakeWebhook:
        hook = FakeWebhook(
            id=self._snowflake(),
            token="T" * 20 + self._snowflake() + "x" * 29,  # 68 characters, like Discord's
            name=name,
            channel_id=self._snowflake(),
            guild_id=self._snowflake(),
            base_url=self.base_url,
        )
        self.webhooks[hook.id] = hook
        return hook

    def delete_webhook(self, hook: FakeWebhook) -> None:
        self.webhooks.pop(hook.id, None)

    # -- the HTTP side ------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        match = _PATH.match(request.url.path)
        if match is None:
            return _error(404, 0, "404: Not Found")
        hook = self.webhooks.get(match["id"])
        if hook is None:
            return _error(404, 10015, "Unknown Webhook")
        if match["token"] != hook.token:
            return _error(401, 50027, "Invalid Webhook Token")
        limited = self._rate_limited(hook)
        if limited is not None:
            return limited
        if match["message"] is not None:
            return self._message(hook, match["message"], request)
        if request.method == "GET":
            return httpx.Response(200, json=hook.as_json())
        if request.method == "POST":
            return self._execute(hook, request)
        return _error(405, 0, "405: Method Not Allowed")

    def _message(
        self, hook: FakeWebhook, message_id: str, request: httpx.Request
    ) -> httpx.Response:
        """Get, Edit and Delete Webhook Message: only messages this webhook sent."""
        message = next(
            (m for m in self.messages if m.id == message_id and m.webhook_id == hook.id), None
        )
        if message is None:
            return _error(404, 10008, "Unknown Message")
        if request.method == "GET":
            return httpx.Response(200, json=message.as_json())
        if request.method == "DELETE":
            self.messages.remove(message)
            self.deleted.append(message)
            return httpx.Response(204)
        if request.method == "PATCH":
            return self._edit(message, request)
        return _error(405, 0, "405: Method Not Allowed")

    def _edit(self, message: FakeMessage, request: httpx.Request) -> httpx.Response:
        payload, files = _payload(request)
        if "content" in payload:
            content = payload.get("content") or ""
            if len(content) > 2000:
                return _form_error(
                    "content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length."
                )
            message.content = content
        if "attachments" in payload:
            kept: list[FakeAttachment] = []
            for index, entry in enumerate(payload.get("attachments") or []):
                existing = next(
                    (a for a in message.attachments if a.id == str(entry.get("id"))), None
                )
                if existing is not None:
                    kept.append(existing)
                    continue
                upload = files.get(f"files[{entry.get('id')}]")
                if upload is None:
                    return _form_error(
                        f"attachments.{index}.id", "ATTACHMENT_NOT_FOUND", "Unknown attachment."
                    )
                kept.append(
                    FakeAttachment(
                        id=self._snowflake(),
                        filename=entry.get("filename") or upload.filename or "file",
                        description=entry.get("description"),
                        content_type=upload.content_type,
                        data=upload.data,
                    )
                )
            message.attachments = kept
        if "allowed_mentions" in payload:
            message.allowed_mentions = payload["allowed_mentions"]
        if not message.content and not message.attachments:
            return _error(400, 50006, "Cannot send an empty message")
        message.edited_timestamp = datetime.now(UTC).isoformat()
        return httpx.Response(200, json=message.as_json())

    def _rate_limited(self, hook: FakeWebhook) -> httpx.Response | None:
        now = self.clock()
        hits = [t for t in self._hits.get(hook.id, []) if now - t < self.rate_window]
        if len(hits) >= self.rate_limit:
            wait = round(self.rate_window - (now - hits[0]), 3)
            return httpx.Response(
                429,
                headers={
                    "Retry-After": str(max(1, int(wait + 0.999))),
                    "X-RateLimit-Limit": str(self.rate_limit),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset-After": str(wait),
                    "X-RateLimit-Scope": "user",
                },
                json={
                    "message": "You are being rate limited.",
                    "retry_after": wait,
                    "global": False,
                },
            )
        self._hits[hook.id] = [*hits, now]
        return None

    def _execute(self, hook: FakeWebhook, request: httpx.Request) -> httpx.Response:
        payload, files = _payload(request)
        content = payload.get("content") or ""
        described = payload.get("attachments") or []
        if len(content) > 2000:
            return _form_error(
                "content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length."
            )
        if len(files) > 10:
            return _form_error(
                "attachments", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length."
            )
        too_big = any(len(part.data) > self.max_file_bytes for part in files.values())
        if too_big or len(request.content) > self.max_request_bytes:
            return httpx.Response(413, json={"message": "Request entity too large", "code": 40005})
        attachments = []
        for index, entry in enumerate(described):
            upload = files.get(f"files[{entry.get('id')}]")
            if upload is None:
                return _form_error(
                    f"attachments.{index}.id", "ATTACHMENT_NOT_FOUND", "Unknown attachment."
                )
            description = entry.get("description")
            if description is not None and len(description) > 1024:
                return _form_error(
                    f"attachments.{index}.description",
                    "BASE_TYPE_MAX_LENGTH",
                    "Must be 1024 or fewer in length.",
                )
            attachments.append(
                FakeAttachment(
                    id=self._snowflake(),
                    filename=entry.get("filename") or upload.filename or "file",
                    description=description,
                    content_type=upload.content_type,
                    data=upload.data,
                )
            )
        if not content and not attachments:
            return _error(400, 50006, "Cannot send an empty message")
        message = FakeMessage(
            id=self._snowflake(),
            webhook_id=hook.id,
            channel_id=hook.channel_id,
            content=content,
            attachments=attachments,
            allowed_mentions=payload.get("allowed_mentions"),
            timestamp=datetime.now(UTC).isoformat(),
        )
        self.messages.append(message)
        if request.url.params.get("wait", "false").lower() == "true":
            return httpx.Response(200, json=message.as_json())
        return httpx.Response(204)


def _payload(request: httpx.Request) -> tuple[dict[str, Any], dict[str, Part]]:
    """The JSON payload of a request (its payload_json part, if multipart) and its files."""
    files: dict[str, Part] = {}
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        payload: dict[str, Any] = {}
        for part in parse_multipart(request):
            if part.name == "payload_json":
                payload = json.loads(part.data)
            elif part.filename is not None:
                files[part.name] = part
        return payload, files
    return json.loads(request.content or b"{}"), files


def _error(status: int, code: int, message: str) -> httpx.Response:
    return httpx.Response(status, json={"message": message, "code": code})


def _form_error(path: str, code: str, message: str) -> httpx.Response:
    errors: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for key in reversed(path.split(".")):
        errors = {key: errors}
    return httpx.Response(
        400, json={"message": "Invalid Form Body", "code": 50035, "errors": errors}
    )
