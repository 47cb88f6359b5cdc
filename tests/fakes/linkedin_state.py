"""What the fake LinkedIn (tests/fakes/linkedin.py) keeps: members, their sign-ins, pages and
roles, uploaded images and videos, posts; and how it reads little text.

Little text is read the way LinkedIn does, independently of the adapter's escaping: a
backslash makes the next reserved character plain, `#word` is a hashtag, and an unescaped
reserved character anywhere else cuts the post short there (what LinkedIn silently does).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import regex

RESERVED = frozenset("\\|{}@[]()<>#*_~")
_HASHTAG = regex.compile(r"#[\p{L}\p{N}]+")

#: Rest.li error bodies, as LinkedIn sends them.
INVALID_TOKEN = {
    "status": 401,
    "serviceErrorCode": 65600,
    "code": "INVALID_ACCESS_TOKEN",
    "message": "Invalid access token",
}


def access_denied(resource: str) -> dict[str, Any]:
    return {
        "status": 403,
        "serviceErrorCode": 100,
        "code": "ACCESS_DENIED",
        "message": f"Not enough permissions to access: {resource}",
    }


def input_error(status: int, message: str, field_path: str, code: str) -> dict[str, Any]:
    """A validation error with one input error (Rest.li's BadRequest shape)."""
    return {
        "errorDetailType": "com.linkedin.common.error.BadRequest",
        "message": message,
        "errorDetails": {
            "inputErrors": [
                {
                    "description": message,
                    "input": {"inputPath": {"fieldPath": field_path}},
                    "code": code,
                }
            ]
        },
        "status": status,
    }


def error(status: int, message: str, code: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"status": status, "message": message}
    if code:
        body["code"] = code
    return httpx.Response(status, json=body)


def read_little(raw: str) -> tuple[str, list[str]]:
    """(the text LinkedIn shows, its hashtags) for little-text commentary."""
    out: list[str] = []
    hashtags: list[str] = []
    index = 0
    while index < len(raw):
        char = raw[index]
        if char == "\\" and index + 1 < len(raw) and raw[index + 1] in RESERVED:
            out.append(raw[index + 1])
            index += 2
            continue
        if char == "#":
            tag = _HASHTAG.match(raw, index)
            if tag is not None:
                hashtags.append(tag.group(0))
                out.append(tag.group(0))
                index = tag.end()
                continue
        if char in RESERVED:
            break  # LinkedIn cuts the post at an unescaped reserved character
        out.append(char)
        index += 1
    return "".join(out), hashtags


@dataclass
class Member:
    id: str
    first_name: str
    last_name: str
    vanity_name: str

    @property
    def urn(self) -> str:
        return f"urn:li:person:{self.id}"

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass
class Grant:
    """One access token: whose, with which scopes, until when (fake clock seconds)."""

    member_id: str
    scopes: frozenset[str]
    expires_at: float


@dataclass
class RefreshGrant:
    member_id: str
    scopes: frozenset[str]
    #: The refresh token's own expiry; refreshing does not extend it.
    expires_at: float


@dataclass
class Organization:
    id: str
    name: str
    vanity_name: str

    @property
    def urn(self) -> str:
        return f"urn:li:organization:{self.id}"


@dataclass
class FakeImage:
    urn: str
    owner: str
    data: bytes | None = None
    #: The Authorization header the upload carried (the docs' upload sends the bearer token).
    upload_authorization: str | None = None

    @property
    def status(self) -> str:
        if self.data is None:
            return "WAITING_UPLOAD"
        known = self.data.startswith((b"\xff\xd8", b"\x89PNG", b"GIF8"))
        return "AVAILABLE" if known else "PROCESSING_FAILED"


@dataclass
class FakeVideo:
    urn: str
    owner: str
    size: int
    #: Inclusive byte ranges LinkedIn asked for, in order.
    ranges: list[tuple[int, int]]
    upload_token: str
    parts: dict[int, bytes] = field(default_factory=dict)
    etags: dict[int, str] = field(default_factory=dict)
    finalized: bool = False
    #: GET /rest/videos/{urn} answers PROCESSING this many more times after finalizing.
    polls_left: int = 0
    #: Processing ends in PROCESSING_FAILED instead of AVAILABLE.
    fails: bool = False
    #: How many times each part was PUT (a re-upload would show here).
    puts: int = 0

    @property
    def data(self) -> bytes:
        return b"".join(self.parts[i] for i in sorted(self.parts))

    def status(self) -> str:
        if not self.finalized:
            return "WAITING_UPLOAD"
        if self.polls_left > 0:
            return "PROCESSING"
        return "PROCESSING_FAILED" if self.fails else "AVAILABLE"


@dataclass
class FakePost:
    urn: str
    author: str
    #: The commentary as sent (little text) and as LinkedIn shows it.
    commentary: str
    text: str
    hashtags: list[str]
    visibility: str
    content: dict[str, Any] | None
    created_at: float


@dataclass
class RecordedRequest:
    method: str
    url: str
    #: The path as sent (percent-encoded URNs stay encoded).
    raw_path: str
    params: dict[str, str]
    #: Lower-case names.
    headers: dict[str, str]
    content: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.content) if self.content else None


@dataclass
class Failure:
    method: str | None
    status: int
    body: Any
    headers: dict[str, str]
