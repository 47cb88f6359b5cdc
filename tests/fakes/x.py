"""An in-memory X API v2 (api.x.com): OAuth 2.0 tokens, the signed-in user, media uploads
(simple, and chunked with asynchronous processing) and posts.

It keeps state (users, tokens, uploads, posts) and answers as X documents it: problem bodies
(`{"title", "detail", "type", "status"}`), an `errors` list for invalid requests, OAuth errors
as `{"error", "error_description"}`, and `x-rate-limit-*` headers (resets in epoch seconds).
It enforces what X documents: PKCE (S256) and HTTP Basic client authentication at the token
endpoint, rotating refresh tokens, two-hour access tokens, scopes, 5 MB images, 15 MB GIFs,
512 MB videos, up to 1,000 append segments, alt text of at most 1,000 characters, four
photos or one video or GIF per post, 280 weighted characters (25,000 for X Premium), no
duplicate text, the `POST /2/tweets` rate limit per user (100 per 15 minutes), and media
that must have finished processing before a post may carry it. Posts, their edits and their
deletion are in tests/fakes/x_posts.py.

Shapes that X does not document exactly are marked "assumed" below (the bodies themselves
are built in tests/fakes/x_wire.py). Use it as `httpx.MockTransport(fake)`, as a respx side
effect, or over HTTP with `tests.fakes.serve.serve(from_handler(fake))`.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx

from tests.fakes.x_posts import FakePost, XPosts
from tests.fakes.x_wire import invalid, multipart, oauth_error, problem

MB = 1024 * 1024
SCOPES = ("tweet.read", "tweet.write", "users.read", "media.write", "offline.access")
MEDIA_LIMITS = {"tweet_image": 5 * MB, "tweet_gif": 15 * MB, "tweet_video": 512 * MB}
TOKEN_LIFETIME = 7200
UPLOAD_EXPIRY = 86400

Answer = httpx.Response | Exception


@dataclass
class FakeUser:
    id: str
    username: str
    name: str = "Crier Test"
    #: "None", "Basic", "Premium" or "PremiumPlus".
    subscription_type: str = "None"


@dataclass
class FakeMedia:
    id: str
    owner: str
    category: str
    media_type: str
    total_bytes: int
    segments: dict[int, bytes] = field(default_factory=dict)
    #: pending -> in_progress -> succeeded | failed; "" until finalized.
    state: str = ""
    polls_left: int = 0
    failure: str | None = None
    alt_text: str | None = None

    @property
    def data(self) -> bytes:
        return b"".join(self.segments[i] for i in sorted(self.segments))


@dataclass
class _Failure:
    answer: Answer
    #: Handle the request before answering (a lost answer).
    do_first: bool
    #: Calls that go through before this one.
    skip: int


@dataclass
class _Grant:
    user_id: str
    scopes: tuple[str, ...]
    expires_at: float = 0.0


class FakeX(XPosts):
    def __init__(
        self,
        *,
        client_id: str = "crier-client-id",
        client_secret: str = "crier-client-secret",
        clock: Callable[[], float] = time.time,
        processing_polls: int = 1,
        check_after_secs: int = 2,
        posts_per_window: tuple[int, float] = (100, 900.0),
        rotate_refresh_tokens: bool = True,
    ) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.clock = clock
        #: STATUS answers that still say in_progress before a video or GIF is done.
        self.processing_polls = processing_polls
        self.check_after_secs = check_after_secs
        self.posts_per_window = posts_per_window
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.users: dict[str, FakeUser] = {}
        self.media: dict[str, FakeMedia] = {}
        self.posts: list[FakePost] = []
        self.versions: dict[str, FakePost] = {}
        self.requests: list[httpx.Request] = []
        self._access: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}
        self._codes: dict[str, tuple[_Grant, str, str]] = {}
        self._hits: dict[str, deque[float]] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._fail_processing: list[str] = []
        self._ids = itertools.count(1_880_000_000_000_000_001)

    # -- setting up and looking in ----------------------------------------------------------

    def add_user(self, username: str = "crier_test", **kwargs: Any) -> FakeUser:
        user = FakeUser(id=str(next(self._ids)), username=username, **kwargs)
        self.users[user.id] = user
        return user

    def issue_token(
        self, user: FakeUser, scopes: tuple[str, ...] = SCOPES, token: str | None = None
    ) -> str:
        """An access token as a finished sign-in would have it."""
        token = token or f"at-{next(self._ids)}"
        self._access[token] = _Grant(user.id, scopes, self.clock() + TOKEN_LIFETIME)
        return token

    def consent(
        self, user: FakeUser, code_challenge: str, redirect_uri: str, scopes: tuple[str, ...]
    ) -> str:
        """The user approves the app on x.com; returns the `code` X redirects back with."""
        code = f"code-{next(self._ids)}"
        self._codes[code] = (_Grant(user.id, scopes), code_challenge, redirect_uri)
        return code

    def fail_next(self, route: str, answer: Answer, *, skip: int = 0) -> None:
        """Answer a coming `route` ("POST /2/tweets", "POST /2/media/upload/{id}/append")
        with `answer` (a response, or an exception raised) without doing anything; `skip`
        calls of it go through first."""
        self._failures.setdefault(route, []).append(_Failure(answer, False, skip))

    def lose_answer(self, route: str, *, skip: int = 0) -> None:
        """Do a coming `route` (after `skip` that go through), then time out as if the
        answer was lost on the way back."""
        self._failures.setdefault(route, []).append(_Failure(httpx.ReadTimeout("lost"), True, skip))

    def fail_processing(self, message: str = "Unsupported video format") -> None:
        """The next video or GIF finalized fails processing with this message."""
        self._fail_processing.append(message)

    def expire_access_tokens(self) -> None:
        for grant in self._access.values():
            grant.expires_at = 0.0

    def calls(self, route: str) -> list[httpx.Request]:
        return [r for r in self.requests if _route(r)[0] == route]

    def _new_id(self) -> str:
        return str(next(self._ids))

    def post_url(self, post: FakePost) -> str:
        return f"https://x.com/{self.users[post.author_id].username}/status/{post.id}"

    # -- the API ------------------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route, params = _route(request)
        queued = self._failures.get(route)
        if queued and queued[0].skip > 0:
            queued[0].skip -= 1
        elif queued:
            failure = queued.pop(0)
            if failure.do_first:
                self._handle(route, params, request)
            if isinstance(failure.answer, Exception):
                raise failure.answer
            return failure.answer
        return self._handle(route, params, request)

    def _handle(self, route: str, params: dict[str, str], request: httpx.Request) -> httpx.Response:
        if route == "POST /2/oauth2/token":
            return self._token(request)
        handler, scope = _ROUTES.get(route, (None, ""))
        if handler is None:
            return problem(404, "Not Found Error", "Sorry, that page does not exist.")
        grant = self._grant(request)
        if grant is None:
            return problem(401, "Unauthorized", "Unauthorized")
        if scope not in grant.scopes:
            return problem(403, "Forbidden", "Forbidden")  # assumed: the generic problem
        answer: httpx.Response = handler(self, request, self.users[grant.user_id], params)
        return answer

    def _grant(self, request: httpx.Request) -> _Grant | None:
        authorization = request.headers.get("authorization", "")
        token = authorization[7:] if authorization.startswith("Bearer ") else ""
        grant = self._access.get(token)
        return grant if grant is not None and grant.expires_at > self.clock() else None

    def _token(self, request: httpx.Request) -> httpx.Response:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return oauth_error(401, "unauthorized_client", "Missing valid authorization header")
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if form.get("grant_type") == "authorization_code":
            found = self._codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if found is None or found[1] != challenge or found[2] != form.get("redirect_uri"):
                return oauth_error(
                    400, "invalid_request", "Value passed for the authorization code was invalid."
                )
            return self._issue(found[0], refresh=True)
        if form.get("grant_type") == "refresh_token":
            grant = self._refresh.get(form.get("refresh_token", ""))
            if grant is None:
                return oauth_error(
                    400, "invalid_request", "Value passed for the token was invalid."
                )
            if self.rotate_refresh_tokens:
                del self._refresh[form["refresh_token"]]
            return self._issue(grant, refresh=self.rotate_refresh_tokens)
        return oauth_error(400, "unsupported_grant_type", "Unsupported grant type.")

    def _issue(self, grant: _Grant, *, refresh: bool) -> httpx.Response:
        access = f"at-{next(self._ids)}"
        self._access[access] = _Grant(grant.user_id, grant.scopes, self.clock() + TOKEN_LIFETIME)
        body: dict[str, Any] = {
            "token_type": "bearer",
            "expires_in": TOKEN_LIFETIME,
            "access_token": access,
            "scope": " ".join(grant.scopes),
        }
        if refresh and "offline.access" in grant.scopes:
            body["refresh_token"] = f"rt-{next(self._ids)}"
            self._refresh[body["refresh_token"]] = _Grant(grant.user_id, grant.scopes)
        return httpx.Response(200, json=body)

    def _me(self, request: httpx.Request, user: FakeUser, _: dict[str, str]) -> httpx.Response:
        data = {"id": user.id, "name": user.name, "username": user.username}
        if "subscription_type" in request.url.params.get("user.fields", "").split(","):
            data["subscription_type"] = user.subscription_type
        return httpx.Response(200, json={"data": data})

    def _simple_upload(
        self, request: httpx.Request, user: FakeUser, _: dict[str, str]
    ) -> httpx.Response:
        fields = multipart(request)
        category = fields.get("media_category", (None, "", b""))[2].decode()
        if "media" not in fields or category not in ("tweet_image", "tweet_gif"):
            return invalid("media_category must be tweet_image or tweet_gif for a simple upload.")
        _, mime, content = fields["media"]
        if len(content) > MEDIA_LIMITS[category]:
            return invalid("File size exceeds the limit for this media category.")  # assumed
        media = FakeMedia(str(next(self._ids)), user.id, category, mime, len(content))
        media.segments[0], media.state = content, "succeeded"
        self.media[media.id] = media
        data = {**self._media_json(media), "image": {"image_type": mime, "w": 1, "h": 1}}
        data.pop("processing_info", None)
        return httpx.Response(200, json={"data": data})

    def _initialize(
        self, request: httpx.Request, user: FakeUser, _: dict[str, str]
    ) -> httpx.Response:
        body = json.loads(request.content)
        category, total = body.get("media_category"), body.get("total_bytes")
        if category not in MEDIA_LIMITS or not isinstance(total, int) or not body.get("media_type"):
            return invalid("media_type, total_bytes and media_category are required.")
        if total > MEDIA_LIMITS[category]:
            return invalid("File size exceeds the limit for this media category.")  # assumed
        media = FakeMedia(str(next(self._ids)), user.id, category, body["media_type"], total)
        self.media[media.id] = media
        data = {"id": media.id, "media_key": _key(media), "expires_after_secs": UPLOAD_EXPIRY}
        return httpx.Response(200, json={"data": data})

    def _append(
        self, request: httpx.Request, user: FakeUser, params: dict[str, str]
    ) -> httpx.Response:
        media = self.media.get(params["id"])
        if media is None or media.owner != user.id or media.state:
            return invalid("The media id is not an open upload of this user.")
        fields = multipart(request)
        index = int(fields.get("segment_index", (None, "", b"-1"))[2] or -1)
        if "media" not in fields or not 0 <= index <= 999:
            return invalid("media and a segment_index between 0 and 999 are required.")
        media.segments[index] = fields["media"][2]
        return httpx.Response(200, json={"data": {"expires_at": int(self.clock()) + UPLOAD_EXPIRY}})

    def _finalize(
        self, request: httpx.Request, user: FakeUser, params: dict[str, str]
    ) -> httpx.Response:
        media = self.media.get(params["id"])
        if media is None or media.owner != user.id or media.state:
            return invalid("The media id is not an open upload of this user.")
        if len(media.data) != media.total_bytes:
            return invalid("File size does not match total_bytes of the upload.")  # assumed
        media.state = "pending"
        media.polls_left = self.processing_polls
        media.failure = self._fail_processing.pop(0) if self._fail_processing else None
        return httpx.Response(200, json={"data": self._media_json(media)})

    def _status(self, request: httpx.Request, user: FakeUser, _: dict[str, str]) -> httpx.Response:
        media = self.media.get(request.url.params.get("media_id", ""))
        if request.url.params.get("command") != "STATUS" or media is None or media.owner != user.id:
            return problem(
                404, "Not Found Error", "Could not find the media.", "resource-not-found"
            )
        if media.state in ("pending", "in_progress"):
            if media.polls_left > 0:
                media.polls_left -= 1
                media.state = "in_progress"
            else:
                media.state = "failed" if media.failure else "succeeded"
        return httpx.Response(200, json={"data": self._media_json(media)})

    def _metadata(
        self, request: httpx.Request, user: FakeUser, _: dict[str, str]
    ) -> httpx.Response:
        body = json.loads(request.content)
        media = self.media.get(str(body.get("id")))
        text = (body.get("metadata") or {}).get("alt_text", {}).get("text")
        if media is None or media.owner != user.id:
            return invalid("The media id is not an upload of this user.")
        if not isinstance(text, str) or len(text) > 1000:
            return invalid("alt_text.text must be at most 1000 characters.")
        media.alt_text = text
        return httpx.Response(
            200, json={"data": {"id": media.id, "associated_metadata": body["metadata"]}}
        )

    def _media_json(self, media: FakeMedia) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": media.id,
            "media_key": _key(media),
            "size": media.total_bytes,
            "expires_after_secs": UPLOAD_EXPIRY,
            "processing_info": {"state": media.state},
        }
        info = data["processing_info"]
        if media.state in ("pending", "in_progress"):
            info["check_after_secs"] = self.check_after_secs
        if media.state == "in_progress":
            info["progress_percent"] = 50
        if media.state == "failed":  # assumed: v1.1's error object
            info["error"] = {"code": 1, "name": "InvalidMedia", "message": media.failure}
        if media.state == "succeeded":
            info["progress_percent"] = 100
        return data


_ROUTES: dict[str, tuple[Callable[..., httpx.Response], str]] = {
    "GET /2/users/me": (FakeX._me, "users.read"),
    "POST /2/media/upload": (FakeX._simple_upload, "media.write"),
    "GET /2/media/upload": (FakeX._status, "media.write"),
    "POST /2/media/upload/initialize": (FakeX._initialize, "media.write"),
    "POST /2/media/upload/{id}/append": (FakeX._append, "media.write"),
    "POST /2/media/upload/{id}/finalize": (FakeX._finalize, "media.write"),
    "POST /2/media/metadata": (FakeX._metadata, "media.write"),
    "POST /2/tweets": (FakeX._create_post, "tweet.write"),
    "DELETE /2/tweets/{id}": (FakeX._delete_post, "tweet.write"),
}
_MEDIA_PATH = re.compile(r"/2/media/upload/(\d+)/(append|finalize)")
_POST_PATH = re.compile(r"/2/tweets/(\d+)")


def _route(request: httpx.Request) -> tuple[str, dict[str, str]]:
    match = _MEDIA_PATH.fullmatch(request.url.path)
    if match:
        return f"{request.method} /2/media/upload/{{id}}/{match[2]}", {"id": match[1]}
    match = _POST_PATH.fullmatch(request.url.path)
    if match:
        return f"{request.method} /2/tweets/{{id}}", {"id": match[1]}
    return f"{request.method} {request.url.path}", {}


def _key(media: FakeMedia) -> str:
    prefix = {"tweet_image": "3", "tweet_gif": "16", "tweet_video": "7"}[media.category]
    return f"{prefix}_{media.id}"
