"""A receiver of Crier's outgoing webhooks, written from the Standard Webhooks specification
(standardwebhooks.com) alone, the way a user's server would check them.

It verifies every request by hand: the HMAC-SHA256 of ``{webhook-id}.{webhook-timestamp}.{body}``
keyed with the base64-decoded part of the secret after ``whsec_``, compared in constant time
with each ``v1,`` signature of ``webhook-signature``, and refuses stale timestamps (401). It
answers as scripted (`answers`: statuses for the first requests, then 200), and keeps every
request it got::

    receiver = WebhookReceiver(answers=[500, 500])
    async with receiving(receiver) as url:
        ...
    assert [r.event_id for r in receiver.received] == [same, same, same]
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.serve import serve
from tests.ports import free_port

TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    #: The signature and timestamp checked out.
    verified: bool
    #: The status the receiver answered.
    answered: int

    @property
    def event_id(self) -> str:
        return self.headers.get("webhook-id", "")

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


def signature(secret: str, event_id: str, timestamp: str, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{event_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    event_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (event_id and timestamp and signatures):
        return False
    try:
        if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
            return False
    except ValueError:
        return False
    expected = signature(secret, event_id, timestamp, body).encode()
    return any(hmac.compare_digest(expected, given.encode()) for given in signatures.split(" "))


@dataclass
class WebhookReceiver:
    #: None until the user copied it from the chat: every request is refused meanwhile.
    secret: str | None = None
    #: Statuses for the first requests (then 200).
    answers: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        verified = self.secret is not None and verify(self.secret, headers, body)
        status = 401 if not verified else (self.answers.pop(0) if self.answers else 200)
        self.received.append(Received(headers, body, verified, status))
        if status >= 300:
            return JSONResponse({"error": "try again later"}, status_code=status)
        return Response(status_code=status)

    def accepted(self) -> list[Received]:
        return [r for r in self.received if r.verified and r.answered < 300]


@asynccontextmanager
async def receiving(receiver: WebhookReceiver) -> AsyncIterator[str]:
    """Serve the receiver on 127.0.0.1; yields its URL."""
    app = Starlette(routes=[Route("/hooks/crier", receiver.handle, methods=["POST"])])
    async with serve(app, port=free_port()) as base:
        yield f"{base}/hooks/crier"
