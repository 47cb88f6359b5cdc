"""A webhook receiver written from docs/WEBHOOK.md alone, the way a user would write one.

It checks every request's signature and timestamp (refusing stale or tampered ones with
401), dedupes on Idempotency-Key, keeps what it accepted, and answers with its own id and
link. It keeps the posts it created (`posts`, by its own id): `crier.deleted` removes one
(404 when it has no such post), `crier.edited` changes its text (and its media, when the
event carries them) and answers with the link again::

    receiver = WebhookReceiver(secret="s3cret-...")
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver.handle)) as http:
        ...
    assert receiver.events[0]["type"] == "crier.post"
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

#: Receivers should refuse events signed longer ago than this.
TOLERANCE_SECONDS = 300


@dataclass
class WebhookReceiver:
    #: None: the receiver doesn't know the secret yet and only accepts crier.ping unverified.
    secret: str | None
    clock: Callable[[], float] = time.time
    #: Where created posts can be seen.
    public_base: str = "https://blog.example.org/posts"
    events: list[dict[str, Any]] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    #: The posts it holds, by its own id: the crier.post event, edits applied.
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Idempotency-Key -> the answer already given for it.
    _seen: dict[str, dict[str, Any]] = field(default_factory=dict)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method != "POST":
            return httpx.Response(405, text="Method Not Allowed")
        try:
            event = json.loads(request.content)
        except ValueError:
            return httpx.Response(400, json={"error": "body is not JSON"})
        if self.secret is None:
            if event.get("type") == "crier.ping":
                return httpx.Response(204)
            return httpx.Response(401, json={"error": "no signing secret configured"})
        problem = self._check(request)
        if problem:
            return httpx.Response(401, json={"error": problem})
        key = request.headers.get("idempotency-key") or event.get("id")
        if key in self._seen:
            return httpx.Response(200, json=self._seen[key])  # a retry: no second post
        self.events.append(event)
        kind = event.get("type")
        if kind == "crier.ping":
            return httpx.Response(204)
        if kind in ("crier.deleted", "crier.edited"):
            post_id = str(event.get("receiver_id") or "")
            if post_id not in self.posts:
                return httpx.Response(404, json={"error": "no such post"})
            if kind == "crier.deleted":
                del self.posts[post_id]
                self._seen[key] = {}
                return httpx.Response(200, json={})
            self.posts[post_id]["text"] = event["text"]
            if "media" in event:
                self.posts[post_id]["media"] = event["media"]
            answer = {"id": post_id, "url": f"{self.public_base}/{post_id.removeprefix('post-')}"}
            self._seen[key] = answer
            return httpx.Response(200, json=answer)
        answer = {"id": f"post-{len(self.events)}", "url": f"{self.public_base}/{len(self.events)}"}
        self.posts[answer["id"]] = dict(event)
        self._seen[key] = answer
        return httpx.Response(201, json=answer)

    def _check(self, request: httpx.Request) -> str | None:
        assert self.secret is not None
        timestamp = request.headers.get("x-crier-timestamp", "")
        header = request.headers.get("x-crier-signature", "")
        if not timestamp.isdigit():
            return "missing timestamp"
        if abs(self.clock() - int(timestamp)) > TOLERANCE_SECONDS:
            return "stale timestamp"
        signed = timestamp.encode() + b"." + request.content
        expected = "sha256=" + hmac.new(self.secret.encode(), signed, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, header):
            return "bad signature"
        return None
