"""A stateful fake of the WhatsApp Business Platform Cloud API (Graph API v26.0), for tests
over httpx.

It keeps business phone numbers, the tokens that may use them, message templates per
WhatsApp Business Account, uploaded media and every message sent, and enforces what the
Cloud API documents: the 24-hour customer service window per person (free-form messages only
to people who wrote in the last 24 hours, else 131047), templates (approved, in that language,
the right number of parameters, no line breaks in them), the media types and sizes, 4,096
characters of text and 1,024 of caption, the number's throughput (80 messages a second,
130429) and the pair rate limit (one message every 6 seconds to the same person, bursts of up
to 45 borrowing ahead, 131056). Errors have Graph's shape::

    {"error": {"message": "(#131047) Re-engagement message", "type": "OAuthException",
               "code": 131047, "error_data": {"messaging_product": "whatsapp",
               "details": "..."}, "fbtrace_id": "..."}}

Meta says send errors come back in the answer, by webhook, or both; this fake gives them in
the answer. Usage::

    fake = FakeWhatsApp()
    number = fake.add_number(token="EAAG...")
    fake.user_writes(number.id, "+14155550123")       # opens that person's window
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handle)) as http:
        await WhatsAppProvider(http).publish(post, account, "key")
    assert fake.sent_to("+14155550123")[0].payload["text"]["body"] == "Hello"

`fail(...)` scripts answers (a Graph error, a bare response, a network exception, or a
timeout after the message went out) for the next matching requests.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.fakes.whatsapp_templates import FakeTemplate, check_template
from tests.fakes.whatsapp_wire import (
    MAX_BODY,
    MAX_CAPTION,
    MEDIA_TYPES,
    digits,
    graph_error,
    missing_object,
    multipart,
)

WINDOW = 24 * 3600.0
_PATH = re.compile(r"^/(?P<version>v\d+\.\d+)/(?P<id>[^/]+)(?:/(?P<edge>[a-z_]+))?/?$")


@dataclass
class FakeNumber:
    id: str
    display_phone_number: str
    verified_name: str
    waba_id: str
    quality_rating: str = "GREEN"
    messaging_limit_tier: str = "TIER_250"
    throughput_level: str = "STANDARD"
    #: A test number sends only to the numbers listed here (131030 otherwise).
    allowed: set[str] | None = None


@dataclass
class FakeMedia:
    id: str
    phone_number_id: str
    mime: str
    filename: str | None
    data: bytes


@dataclass
class FakeMessage:
    id: str
    phone_number_id: str
    to: str
    type: str
    payload: dict[str, Any]
    at: float


@dataclass
class _Script:
    edge: str
    skip: int
    count: int
    answer: httpx.Response | Exception
    applied: bool


@dataclass
class FakeWhatsApp:
    base_url: str = "https://graph.facebook.com"
    version: str = "v26.0"
    clock: Callable[[], float] = time.monotonic
    #: Messages a second a number may send (130429 beyond).
    throughput: int = 80
    #: Messages to one person at once, and the seconds each one borrows (131056 beyond).
    pair_burst: int = 45
    pair_interval: float = 6.0
    numbers: dict[str, FakeNumber] = field(default_factory=dict)
    #: token -> the ids (numbers, business accounts) it may use.
    tokens: dict[str, set[str]] = field(default_factory=dict)
    templates: dict[str, list[FakeTemplate]] = field(default_factory=dict)
    media: dict[str, FakeMedia] = field(default_factory=dict)
    messages: list[FakeMessage] = field(default_factory=list)
    #: (number id, person) -> when the person last wrote to the number.
    last_inbound: dict[tuple[str, str], float] = field(default_factory=dict)
    #: People WhatsApp can't deliver to (not on WhatsApp): 131026.
    unreachable: set[str] = field(default_factory=set)
    requests: list[httpx.Request] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _sent_at: dict[str, list[float]] = field(default_factory=dict)
    _pair_free: dict[tuple[str, str], float] = field(default_factory=dict)
    _scripts: list[_Script] = field(default_factory=list)

    # -- the world --------------------------------------------------------------------------

    def add_number(
        self,
        *,
        token: str,
        display_phone_number: str = "+1 555-010-0000",
        verified_name: str = "Acme News",
        **fields: Any,
    ) -> FakeNumber:
        number = FakeNumber(
            id=str(106_540_000_000_000 + next(self._ids)),
            display_phone_number=display_phone_number,
            verified_name=verified_name,
            waba_id=str(102_290_000_000_000 + next(self._ids)),
            **fields,
        )
        self.numbers[number.id] = number
        self.tokens.setdefault(token, set()).update({number.id, number.waba_id})
        return number

    def add_template(
        self,
        waba_id: str,
        name: str,
        body: str,
        *,
        language: str = "en_US",
        status: str = "APPROVED",
        category: str = "MARKETING",
        header: str | None = None,
        named: bool = False,
    ) -> FakeTemplate:
        components: list[dict[str, Any]] = []
        if header is not None:
            components.append({"type": "HEADER", "format": header})
        components.append({"type": "BODY", "text": body})
        template = FakeTemplate(
            id=str(900_000 + next(self._ids)),
            name=name,
            language=language,
            status=status,
            category=category,
            components=components,
            parameter_format="NAMED" if named else "POSITIONAL",
        )
        self.templates.setdefault(waba_id, []).append(template)
        return template

    def user_writes(self, phone_number_id: str, person: str, at: float | None = None) -> None:
        """The person messages the business number: their 24-hour window opens."""
        when = self.clock() if at is None else at
        self.last_inbound[(phone_number_id, digits(person))] = when

    def revoke(self, token: str) -> None:
        self.tokens.pop(token, None)

    def fail(
        self,
        edge: str,
        answer: httpx.Response | Exception,
        *,
        after: int = 0,
        count: int = 1,
        applied: bool = False,
    ) -> None:
        """The `count` requests to `edge` ("messages", "media", "message_templates", or ""
        for a node) after the next `after` get `answer`; with `applied`, a message is recorded
        before the exception is raised (a timeout after WhatsApp took it)."""
        self._scripts.append(_Script(edge, after, count, answer, applied))

    def sent_to(self, person: str) -> list[FakeMessage]:
        return [m for m in self.messages if digits(m.to) == digits(person)]

    # -- the HTTP side ------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        match = _PATH.match(request.url.path)
        if match is None or match["version"] != self.version:
            return graph_error(100, message="Unknown path components", status=400)
        edge = match["edge"] or ""
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not token:
            return graph_error(104)
        allowed = self.tokens.get(token)
        if allowed is None:
            return graph_error(190)
        object_id = match["id"]
        if object_id not in allowed:
            return missing_object(object_id, request.method)
        script = self._script(edge)
        if script is not None and not (script.applied and isinstance(script.answer, Exception)):
            if isinstance(script.answer, Exception):
                raise script.answer
            return script.answer
        response = self._route(request, object_id, edge)
        if script is not None:
            assert isinstance(script.answer, Exception)
            raise script.answer  # the message went out; its answer is lost
        return response

    def _script(self, edge: str) -> _Script | None:
        for script in self._scripts:
            if script.edge != edge or script.count <= 0:
                continue
            if script.skip > 0:
                script.skip -= 1
                return None
            script.count -= 1
            return script
        return None

    def _route(self, request: httpx.Request, object_id: str, edge: str) -> httpx.Response:
        if request.method == "GET" and edge == "" and object_id in self.numbers:
            return self._number(self.numbers[object_id], request)
        if request.method == "GET" and edge == "message_templates":
            return self._templates(object_id, request)
        if request.method == "POST" and edge == "media" and object_id in self.numbers:
            return self._upload(self.numbers[object_id], request)
        if request.method == "POST" and edge == "messages" and object_id in self.numbers:
            return self._send(self.numbers[object_id], request)
        return missing_object(object_id, request.method)

    def _number(self, number: FakeNumber, request: httpx.Request) -> httpx.Response:
        fields = [f for f in request.url.params.get("fields", "").split(",") if f]
        full: dict[str, Any] = {
            "display_phone_number": number.display_phone_number,
            "verified_name": number.verified_name,
            "quality_rating": number.quality_rating,
            # Deprecated, still answered; its replacement carries the portfolio's limit.
            "messaging_limit_tier": number.messaging_limit_tier,
            "whatsapp_business_manager_messaging_limit": number.messaging_limit_tier,
            "throughput": {"level": number.throughput_level},
        }
        unknown = [f for f in fields if f not in full and f != "id"]
        if unknown:
            return graph_error(
                100,
                message=f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type "
                "(WhatsAppBusinessPhoneNumber)",
            )
        body = {k: v for k, v in full.items() if k in fields}
        return httpx.Response(200, json={**body, "id": number.id})

    def _templates(self, waba_id: str, request: httpx.Request) -> httpx.Response:
        if not any(n.waba_id == waba_id for n in self.numbers.values()):
            return missing_object(waba_id, "GET")
        fields = request.url.params.get("fields", "name,language,status,id").split(",")
        limit = int(request.url.params.get("limit", "25"))
        start = int(request.url.params.get("after", "0") or 0)
        everything = self.templates.get(waba_id, [])
        page = everything[start : start + limit]
        body: dict[str, Any] = {"data": [t.as_json(fields) for t in page]}
        if page:
            cursors = {"before": str(start), "after": str(start + len(page))}
            body["paging"] = {"cursors": cursors}
            if start + len(page) < len(everything):
                after = request.url.copy_set_param("after", str(start + len(page)))
                body["paging"]["next"] = str(after)
        return httpx.Response(200, json=body)

    def _upload(self, number: FakeNumber, request: httpx.Request) -> httpx.Response:
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return graph_error(100, "The request must be multipart/form-data.")
        fields = multipart(request)
        if fields.get("messaging_product", (None, "", b""))[2] != b"whatsapp":
            return graph_error(100, "The parameter messaging_product is required.")
        if "file" not in fields:
            return graph_error(100, "The parameter file is required.")
        name, content_type, data = fields["file"]
        mime = fields.get("type", (None, "", content_type.encode()))[2].decode()
        largest = next((t[mime] for t in MEDIA_TYPES.values() if mime in t), None)
        if largest is None:
            return graph_error(
                131053, f"Param file must be a file with one of the supported types; {mime} is not."
            )
        if len(data) > largest:
            return graph_error(131053, f"File is too big: {len(data)} bytes, at most {largest}.")
        media = FakeMedia(str(1_000_000 + next(self._ids)), number.id, mime, name, data)
        self.media[media.id] = media
        return httpx.Response(200, json={"id": media.id})

    def _send(self, number: FakeNumber, request: httpx.Request) -> httpx.Response:
        try:
            payload = json.loads(request.content or b"{}")
        except ValueError:
            return graph_error(100, "The request body is not JSON.")
        if payload.get("messaging_product") != "whatsapp":
            return graph_error(100, "The parameter messaging_product is required.")
        to = str(payload.get("to") or "")
        if not 7 <= len(digits(to)) <= 15:
            return graph_error(100, "The parameter to is required and must be a phone number.")
        now = self.clock()
        recent = [t for t in self._sent_at.get(number.id, []) if now - t < 1.0]
        if len(recent) >= self.throughput:
            return graph_error(130429)
        kind = payload.get("type", "text")
        problem = self._check(number, kind, payload)
        if problem is not None:
            return problem
        person = digits(to)
        if number.allowed is not None and person not in {digits(a) for a in number.allowed}:
            return graph_error(131030)
        if kind != "template":
            opened = self.last_inbound.get((number.id, person))
            if opened is None or now - opened > WINDOW:
                return graph_error(131047)
        if person in {digits(u) for u in self.unreachable}:
            return graph_error(131026)
        free = max(self._pair_free.get((number.id, person), now), now)
        if free - now > (self.pair_burst - 1) * self.pair_interval:  # no token left
            return graph_error(131056)
        self._pair_free[(number.id, person)] = free + self.pair_interval
        self._sent_at[number.id] = [*recent, now]
        message = FakeMessage(
            f"wamid.HBgL{next(self._ids):012d}FQIAERgS", number.id, to, kind, payload, now
        )
        self.messages.append(message)
        answer: dict[str, Any] = {"id": message.id}
        if kind == "template":
            answer["message_status"] = "accepted"
        return httpx.Response(
            200,
            json={
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": person}],
                "messages": [answer],
            },
        )

    def _check(
        self, number: FakeNumber, kind: str, payload: dict[str, Any]
    ) -> httpx.Response | None:
        """What the Cloud API refuses in the message itself, whoever it is for."""
        body = payload.get(kind)
        if not isinstance(body, dict):
            return graph_error(100, f"The parameter {kind} is required.")
        if kind == "text":
            text = str(body.get("body") or "")
            if not text:
                return graph_error(100, "The parameter text['body'] is required.")
            if len(text) > MAX_BODY:
                return graph_error(
                    100, f"Param text['body'] must be at most {MAX_BODY} characters long."
                )
            return None
        if kind in ("image", "video", "document"):
            return self._check_media(number, kind, body)
        if kind == "template":
            checked = check_template(self.templates.get(number.waba_id, []), body)
            if isinstance(checked, tuple):
                return self._check_media(number, *checked)
            return checked
        return graph_error(131051)

    def _check_media(
        self, number: FakeNumber, kind: str, body: dict[str, Any]
    ) -> httpx.Response | None:
        media = self.media.get(str(body.get("id")))
        if media is None or media.phone_number_id != number.id:
            return graph_error(100, f"Param {kind}['id'] is not a valid media id.")
        if media.mime not in MEDIA_TYPES[kind]:
            return graph_error(131053, f"Media of type {media.mime} can't be sent as {kind}.")
        if len(str(body.get("caption") or "")) > MAX_CAPTION:
            return graph_error(
                100, f"Param {kind}['caption'] must be at most {MAX_CAPTION} characters long."
            )
        return None
