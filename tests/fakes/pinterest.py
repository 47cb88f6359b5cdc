"""An in-memory Pinterest: the API v5 a publisher uses (`/v5/user_account`, `/v5/boards`,
`/v5/pins`, `/v5/media`), its OAuth (`/v5/oauth/token`, tests/fakes/pinterest_oauth.py) and
the S3 bucket videos are uploaded to (tests/fakes/pinterest_storage.py), after the reference
(5.23.0) and its error examples.

It keeps state: tokens, boards, Pins and media uploads. It enforces what the reference does:
scopes per endpoint (403 code 3), bearer tokens (401 code 2), PinCreate's field lengths
(title 100, description 800, alt text 500, link 2048), base64 images only as JPEG or PNG
and really of that type, carousels of 2 to 5 images, a video Pin only from an upload that
succeeded and with a cover, `page_size` 1-250 with `bookmark` paging, and the per-user
write rate limit (429 code 8 with `x-ratelimit-*` headers); an app with Trial access
creates no Pins in production (403 code 29). Updating and deleting Pins is in
tests/fakes/pinterest_pins.py. An upload moves registered ->
processing (`processing_polls` reads of `GET /v5/media/{id}`) -> succeeded, or failed when
the file is not an MP4/MOV container. Use it as `httpx.MockTransport(fake)` or a respx side
effect; every request it saw is in `requests`.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.fakes.pinterest_oauth import ALL_SCOPES, FakePinterestOAuth
from tests.fakes.pinterest_oauth import error as _error
from tests.fakes.pinterest_pins import PinRoutes
from tests.fakes.pinterest_storage import UPLOAD_URL, FakeStorage

API_URL = "https://api.pinterest.com"
_IMAGE_MAGIC = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}
_FIELD_LIMITS = {"title": 100, "description": 800, "alt_text": 500, "link": 2048}
_INVALID_URL = (
    "Whoops! It looks like you entered an invalid URL. Try creating a Pin again with a valid URL."
)
_RATE_LIMITED = (
    "This request exceeded a rate limit. This can happen if the client exceeds one\n"
    "of the published rate limits or if multiple write operations are applied to\n"
    "an object within a short time window."
)

_TRIAL = (
    "Apps with Trial access may not create Pins in production https://api.pinterest.com - "
    "use API Sandbox https://api-sandbox.pinterest.com instead."
)

Answer = httpx.Response | Exception


@dataclass
class FakeBoard:
    id: str
    name: str
    privacy: str = "PUBLIC"
    #: False: a group board the user may no longer pin to (403 code 7).
    can_pin: bool = True


@dataclass
class FakePin:
    id: str
    board_id: str
    title: str | None
    description: str | None
    link: str | None
    alt_text: str | None
    source_type: str
    #: (content type, bytes) of each image.
    images: list[tuple[str, bytes]] = field(default_factory=list)
    media_id: str | None = None
    cover: dict[str, Any] = field(default_factory=dict)


@dataclass
class FakeMedia:
    id: str
    key: str
    #: GET /v5/media/{id} answers "processing" this many more times once uploaded.
    polls_left: int
    failed: bool = False
    pins: int = 0

    def status(self, storage: FakeStorage) -> str:
        upload = storage.uploads[self.key]
        if upload.file is None:
            return "registered"
        if self.polls_left > 0:
            return "processing"
        data = upload.file[2]
        return "failed" if self.failed or data[4:8] != b"ftyp" else "succeeded"


class FakePinterest(PinRoutes):
    def __init__(
        self,
        *,
        client_id: str = "app-id",
        client_secret: str = "app-secret",
        username: str = "crier",
        user_id: str = "2783136121146311751",
        upload_url: str = UPLOAD_URL,
        processing_polls: int = 1,
        continuous_refresh: bool = True,
        write_limit: tuple[int, float] = (100, 60.0),
        trial_access: bool = False,
        pin_updates: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.oauth = FakePinterestOAuth(
            client_id=client_id,
            client_secret=client_secret,
            continuous_refresh=continuous_refresh,
            clock=clock,
        )
        self.username = username
        self.user_id = user_id
        self.storage = FakeStorage(url=upload_url)
        self.processing_polls = processing_polls
        self.write_limit = write_limit
        #: An app with Trial access: it may not create Pins in production (403 code 29).
        self.trial_access = trial_access
        #: The app is in Pinterest's Update Pin beta (PATCH /v5/pins/{id}).
        self.pin_updates = pin_updates
        self.clock = clock
        self.boards: list[FakeBoard] = []
        self.pins: list[FakePin] = []
        self.media: dict[str, FakeMedia] = {}
        self.requests: list[httpx.Request] = []
        self._writes: deque[float] = deque()
        self._failures: dict[tuple[str, str], list[Answer]] = {}
        self._next_id = 1_100_000_000_000_000_000

    # -- setting up -------------------------------------------------------------------------

    def add_board(self, name: str, **kwargs: Any) -> FakeBoard:
        board = FakeBoard(id=str(549_755_885_175 + len(self.boards)), name=name, **kwargs)
        self.boards.append(board)
        return board

    def issue_token(self, scopes: Iterable[str] = ALL_SCOPES, token: str | None = None) -> str:
        """An access token for the user, as if they had signed in (`token`: this one)."""
        return self.oauth.issue_token(scopes, token)

    def authorize(self, url: str) -> str:
        """The user consents on the authorize page `url`: the code for the redirect URI."""
        return self.oauth.authorize(url)

    def fail_next(self, method: str, path: str, answer: Answer) -> None:
        """Answer the next `method path` (e.g. "POST", "/v5/pins"; the bucket's is "POST",
        "/") with `answer`: a response, or an exception raised as the transport's."""
        self._failures.setdefault((method.upper(), path), []).append(answer)

    def expire_access_tokens(self) -> None:
        self.oauth.expire_access_tokens()

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]

    def pin_url(self, pin: FakePin) -> str:
        return f"https://www.pinterest.com/pin/{pin.id}/"

    # -- the transport ----------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        queued = self._failures.get((request.method, request.url.path))
        if queued:
            answer = queued.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        if str(request.url).startswith(self.storage.url):
            return self.storage.handle(request)
        route = (request.method, request.url.path)
        if route == ("POST", "/v5/oauth/token"):
            return self.oauth.token_endpoint(request)
        scopes = self.oauth.scopes_of(request)
        if scopes is None:
            return _error(401, 2, "Authentication failed.")
        if route == ("GET", "/v5/user_account"):
            return self._needs(scopes, "user_accounts:read") or self._user_account()
        if route == ("GET", "/v5/boards"):
            return self._needs(scopes, "boards:read") or self._list_boards(request, scopes)
        if route == ("POST", "/v5/pins"):
            needed = ("boards:read", "boards:write", "pins:read", "pins:write")
            return self._needs(scopes, *needed) or self._throttle() or self._create_pin(request)
        if route == ("POST", "/v5/media"):
            return (
                self._needs(scopes, "pins:read", "pins:write")
                or self._throttle()
                or self._register(request)
            )
        if request.url.path.startswith("/v5/pins/"):
            return self._pin_entity(request, scopes)
        if request.method == "GET" and request.url.path.startswith("/v5/media/"):
            return self._needs(scopes, "pins:read") or self._media(request)
        return _error(404, 404, "Not found.")

    def _needs(self, granted: tuple[str, ...], *scopes: str) -> httpx.Response | None:
        if set(scopes) <= set(granted):
            return None
        return _error(
            403,
            3,
            "Your token does not have sufficient permissions to perform this operation. "
            "Please ensure your token is authorized with the correct set of scopes.",
        )

    def _throttle(self) -> httpx.Response | None:
        count, window = self.write_limit
        now = self.clock()
        while self._writes and self._writes[0] <= now - window:
            self._writes.popleft()
        if len(self._writes) < count:
            self._writes.append(now)
            return None
        reset = max(1, round(self._writes[0] + window - now))
        return _error(
            429,
            8,
            _RATE_LIMITED,
            {
                "x-ratelimit-limit": f"{count}, {count};w={int(window)}",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(reset),
            },
        )

    # -- reading ----------------------------------------------------------------------------

    def _user_account(self) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "account_type": "BUSINESS",
                "id": self.user_id,
                "username": self.username,
                "profile_image": f"https://i.pinimg.com/600x600_R/{self.user_id}.jpg",
                "website_url": "https://crier.example",
                "business_name": self.username.title(),
                "board_count": len(self.boards),
                "pin_count": len(self.pins),
                "follower_count": 0,
                "following_count": 0,
                "monthly_views": 0,
            },
        )

    def _list_boards(self, request: httpx.Request, scopes: tuple[str, ...]) -> httpx.Response:
        params = request.url.params
        size_text = params.get("page_size", "25")
        if not size_text.isdigit() or not 1 <= int(size_text) <= 250:
            return _error(400, 1, f"Parameter 'page_size' was not valid (was {size_text})")
        visible = [
            b for b in self.boards if b.privacy != "SECRET" or "boards:read_secret" in scopes
        ]
        start = int(params.get("bookmark") or 0)
        page = visible[start : start + int(size_text)]
        following = start + len(page)
        return httpx.Response(
            200,
            json={
                "items": [self._board_json(b) for b in page],
                "bookmark": str(following) if following < len(visible) else None,
            },
        )

    def _board_json(self, board: FakeBoard) -> dict[str, Any]:
        return {
            "id": board.id,
            "name": board.name,
            "description": None,
            "privacy": board.privacy,
            "owner": {"username": self.username},
            "pin_count": sum(1 for p in self.pins if p.board_id == board.id),
            "follower_count": 0,
            "collaborator_count": 0,
            "created_at": "2026-01-01T00:00:00",
            "board_pins_modified_at": "2026-01-01T00:00:00",
            "media": {"image_cover_url": None, "pin_thumbnail_urls": []},
        }

    def _media(self, request: httpx.Request) -> httpx.Response:
        media = self.media.get(request.url.path.removeprefix("/v5/media/"))
        if media is None:
            return _error(404, 404, "Media upload not found.")
        status = media.status(self.storage)
        if status == "processing":
            media.polls_left -= 1
        return httpx.Response(
            200, json={"media_id": media.id, "media_type": "video", "status": status}
        )

    # -- writing ----------------------------------------------------------------------------

    def _register(self, request: httpx.Request) -> httpx.Response:
        body = _body(request)
        if body is None or body.get("media_type") != "video":
            return _error(400, 1, "Invalid request: media_type must be 'video'")
        media_id = self._new_id()
        upload = self.storage.register(media_id, self.user_id)
        key = upload.fields["key"]
        self.media[media_id] = FakeMedia(id=media_id, key=key, polls_left=self.processing_polls)
        return httpx.Response(
            201,
            json={
                "media_id": media_id,
                "media_type": "video",
                "upload_url": self.storage.url,
                "upload_parameters": upload.fields,
            },
        )

    def _create_pin(self, request: httpx.Request) -> httpx.Response:
        if self.trial_access:
            return _error(403, 29, _TRIAL)
        body = _body(request)
        if body is None:
            return _error(400, 1, "Invalid request: the body must be a JSON object.")
        board = next((b for b in self.boards if b.id == body.get("board_id")), None)
        if board is None:
            return _error(404, 40, "Board not found.")
        if not board.can_pin:
            return _error(403, 7, "Not authorized to access board or Pin.")
        for name, limit in _FIELD_LIMITS.items():
            value = body.get(name)
            if value is not None and (not isinstance(value, str) or len(value) > limit):
                return _error(400, 1, f"Invalid request: '{name}' is too long (max {limit}).")
        link = body.get("link")
        if link is not None and not str(link).startswith(("http://", "https://")):
            return _error(400, 1, _INVALID_URL)
        source = body.get("media_source")
        if not isinstance(source, dict):
            return _error(400, 1, "Invalid request: 'media_source' is a required property")
        pin = FakePin(
            id=self._new_id(),
            board_id=board.id,
            title=body.get("title"),
            description=body.get("description"),
            link=link,
            alt_text=body.get("alt_text"),
            source_type=str(source.get("source_type")),
        )
        refused = self._attach(pin, source)
        if refused is not None:
            return refused
        self.pins.append(pin)
        return httpx.Response(201, json=self._pin_json(pin))

    def _attach(self, pin: FakePin, source: dict[str, Any]) -> httpx.Response | None:
        kind = source.get("source_type")
        if kind == "image_base64":
            image = _image(source)
            if isinstance(image, httpx.Response):
                return image
            pin.images.append(image)
            return None
        if kind == "multiple_image_base64":
            items = source.get("items")
            if not isinstance(items, list) or not 2 <= len(items) <= 5:
                return _error(400, 1, "Invalid request: a carousel takes 2 to 5 images.")
            for item in items:
                image = _image(item)
                if isinstance(image, httpx.Response):
                    return image
                pin.images.append(image)
            return None
        if kind == "video_id":
            media = self.media.get(str(source.get("media_id")))
            if media is None or media.status(self.storage) != "succeeded":
                return _error(400, 1, "Invalid request: the media upload is not ready.")
            covers = ("cover_image_url", "cover_image_data", "cover_image_key_frame_time")
            cover = {k: source[k] for k in covers if source.get(k) is not None}
            if not cover:
                return _error(400, 1, "Invalid request: a video Pin needs a cover image.")
            frame = cover.get("cover_image_key_frame_time")
            if frame is not None and (not isinstance(frame, int) or frame < 0):
                return _error(400, 1, "Invalid request: cover_image_key_frame_time.")
            pin.media_id, pin.cover = media.id, cover
            media.pins += 1
            return None
        return _error(400, 1, f"Invalid request: source_type {kind!r} is not supported here.")

    def _pin_json(self, pin: FakePin) -> dict[str, Any]:
        creative = {"video_id": "VIDEO", "multiple_image_base64": "CAROUSEL"}
        return {
            "id": pin.id,
            "created_at": "2026-01-01T12:00:00",
            "link": pin.link,
            "title": pin.title,
            "description": pin.description,
            "dominant_color": "#6E7874",
            "alt_text": pin.alt_text,
            "creative_type": creative.get(pin.source_type, "REGULAR"),
            "board_id": pin.board_id,
            "board_section_id": None,
            "board_owner": {"username": self.username},
            "is_owner": True,
            "is_standard": True,
            "has_been_promoted": False,
            "parent_pin_id": None,
            "pin_metrics": None,
            "media": {"media_type": "video" if pin.media_id else "image"},
        }

    def _new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)


def _body(request: httpx.Request) -> dict[str, Any] | None:
    if not request.headers.get("content-type", "").startswith("application/json"):
        return None
    try:
        body = json.loads(request.content or b"null")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _image(source: Any) -> tuple[str, bytes] | httpx.Response:
    """A base64 image as Pinterest checks it: JPEG or PNG, and really that."""
    if not isinstance(source, dict):
        return _error(400, 1, "Invalid request: an image must be an object.")
    mime = source.get("content_type")
    if mime not in _IMAGE_MAGIC:
        return _error(400, 1, f"Invalid request: content_type {mime!r} is not one of jpeg, png")
    try:
        data = base64.b64decode(str(source.get("data") or ""), validate=True)
    except (binascii.Error, ValueError):
        return _error(400, 1, "Invalid request: 'data' is not base64.")
    if not data.startswith(_IMAGE_MAGIC[mime]):
        return _error(400, 1, "Sorry! We couldn't process that image. Try another one.")
    return mime, data


__all__ = ["ALL_SCOPES", "API_URL", "FakeBoard", "FakeMedia", "FakePin", "FakePinterest"]
