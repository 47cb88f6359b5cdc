"""Value types shared by the Telegram Bot API emulator (see ``server.py``).

Everything here is plain data: users, chats, stored files, API errors with Telegram's
exact JSON shape, uploaded multipart parts and the token buckets used for flood control.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


class ApiError(Exception):
    """An error answer of the Bot API: ``{"ok": false, "error_code": N, "description": ...}``."""

    def __init__(
        self,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        parameters: JSON = {}
        if self.retry_after is not None:
            parameters["retry_after"] = self.retry_after
        if self.migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = self.migrate_to_chat_id
        if parameters:
            body["parameters"] = parameters
        return body


def bad_request(message: str) -> ApiError:
    """400 with Telegram's ``Bad Request: `` prefix."""
    return ApiError(400, f"Bad Request: {message}")


def forbidden(message: str) -> ApiError:
    """403 with Telegram's ``Forbidden: `` prefix."""
    return ApiError(403, f"Forbidden: {message}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request (what ``InputFile`` becomes on the wire)."""

    field: str
    filename: str
    content_type: str
    data: bytes

    def __repr__(self) -> str:
        return (
            f"Upload(field={self.field!r}, filename={self.filename!r}, "
            f"content_type={self.content_type!r}, size={len(self.data)})"
        )


@dataclass
class FakeUser:
    id: int
    first_name: str = "Alice"
    username: str | None = None
    language_code: str | None = "en"
    last_name: str | None = None
    is_bot: bool = False

    def as_dict(self) -> JSON:
        user: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code and not self.is_bot:
            user["language_code"] = self.language_code
        return user

    def chat_dict(self) -> JSON:
        """The private chat with this user, as it appears in ``Message.chat``."""
        chat: JSON = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat


@dataclass
class FakeChat:
    """A channel, supergroup or basic group."""

    id: int
    title: str
    username: str | None = None
    type: str = "channel"
    admins: dict[int, str] = field(default_factory=dict)
    members: set[int] = field(default_factory=set)
    bot_status: str = "administrator"
    bot_can_post: bool = True
    #: Overrides of the bot's administrator rights as getChatMember reports them and the
    #: methods enforce them: {"can_pin_messages": False, "can_delete_messages": False, ...}.
    bot_rights: dict[str, bool] = field(default_factory=dict)
    #: Pinned message ids, most recent last.
    pinned: list[int] = field(default_factory=list)

    def as_dict(self) -> JSON:
        chat: JSON = {"id": self.id, "title": self.title}
        if self.username:
            chat["username"] = self.username
        chat["type"] = self.type
        return chat


@dataclass
class StoredFile:
    """A file Telegram knows; ``data`` is None for files sent by URL (not downloadable)."""

    file_id: str
    file_unique_id: str
    kind: str  # photo | video | document | animation | audio
    file_path: str
    data: bytes | None = None
    size: int | None = None
    url: str | None = None
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    duration: int | None = None

    def photo_size(self) -> JSON:
        size: JSON = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": self.width or 0,
            "height": self.height or 0,
        }
        if self.size is not None:
            size["file_size"] = self.size
        return size

    def as_media(self, kind: str | None = None) -> JSON:
        """The Video/Document/Animation/Audio object describing this file."""
        kind = kind or self.kind
        media: JSON = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        if kind in ("video", "animation"):
            media["width"] = self.width or 0
            media["height"] = self.height or 0
            media["duration"] = self.duration or 0
        if kind == "audio":
            media["duration"] = self.duration or 0
        if self.file_name:
            media["file_name"] = self.file_name
        if self.mime_type:
            media["mime_type"] = self.mime_type
        if self.size is not None:
            media["file_size"] = self.size
        return media


class TokenBucket:
    """Classic token bucket: ``capacity`` burst, refilled at ``rate`` tokens per second."""

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self.updated = now

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_time(self, now: float, n: float = 1) -> float:
        """Seconds until ``n`` tokens are available (0 when they already are)."""
        self._refill(now)
        n = min(n, self.capacity)
        if self.tokens >= n:
            return 0.0
        return (n - self.tokens) / self.rate

    def take(self, n: float = 1) -> None:
        self.tokens -= min(n, self.capacity)


def retry_after_seconds(wait: float) -> int:
    return max(1, math.ceil(wait))
