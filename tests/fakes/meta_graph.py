"""An in-memory Meta: the Graph API v27.0 a Page and Instagram publisher uses, after Meta's
docs (Manually Build a Login Flow, Long-Lived Access Tokens, Pages API, Video API with the
Resumable Upload API, Reels Publishing, Instagram Content Publishing).

Hosts: www.facebook.com (the login dialog, through `authorize`), graph.facebook.com,
graph-video.facebook.com (creating Page videos), rupload.facebook.com (reel bytes). It keeps
state (tokens, Pages, posts, photos, videos, Instagram containers and media) and enforces
what the docs say: a Page token to post as the Page, `pages_manage_posts` to post, photos
JPEG/PNG up to 4 MB, `attached_media` only of the Page's unpublished photos, 63,206
characters, edits and deletes of what exists, and the Business Use Case rate limit
(`page_call_limit`: code 80001 with `X-Business-Use-Case-Usage`). The parts: the login and
tokens (tests/fakes/meta_login.py), Page videos and reels (tests/fakes/meta_video.py),
Instagram (tests/fakes/meta_instagram.py), the state and Graph's error shape
(tests/fakes/meta_world.py). `fail_next` and `lose_next_answer` script failures.

Use it as a respx side effect for the four hosts, or `httpx.MockTransport(fake)`; every
request it saw is in `requests`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx

from tests.fakes.discord import parse_multipart
from tests.fakes.meta_instagram import InstagramSide
from tests.fakes.meta_login import FakeLogin
from tests.fakes.meta_video import RUPLOAD, PageVideos
from tests.fakes.meta_world import (
    FakePage,
    FakePhoto,
    FakePost,
    FakeToken,
    FakeUser,
    MetaWorld,
    error,
    gone,
)

VERSION = "v27.0"
GRAPH = "graph.facebook.com"
GRAPH_VIDEO = "graph-video.facebook.com"
HOSTS = (GRAPH, GRAPH_VIDEO, RUPLOAD)
_VERSIONED = re.compile(r"^/v\d+\.\d+(/.*)$")
_PHOTO_MAGIC = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}

Answer = httpx.Response | Exception


class FakeMeta:
    def __init__(
        self,
        *,
        app_id: str = "1234567890",
        app_secret: str = "meta-app-secret",
        processing_polls: int = 1,
        page_call_limit: int | None = None,
        require_proof: bool = True,
        rotate_long_lived: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.world = MetaWorld(app_id=app_id, app_secret=app_secret, clock=clock)
        self.processing_polls = processing_polls
        #: Calls a Page token may make before the Page's BUC limit (code 80001) refuses.
        self.page_call_limit = page_call_limit
        self.login = FakeLogin(
            self.world, require_proof=require_proof, rotate_long_lived=rotate_long_lived
        )
        self.instagram = InstagramSide(self.world, processing_polls=processing_polls)
        self.videos = PageVideos(self.world, processing_polls=processing_polls)
        self.requests: list[httpx.Request] = []
        self._page_calls: dict[str, int] = {}
        self._failures: dict[tuple[str, str], list[Answer]] = {}
        self._lost: list[tuple[str, str]] = []

    # -- setting up -------------------------------------------------------------------------

    def add_user(self, name: str = "Alice", grants: Iterable[str] | None = None) -> FakeUser:
        return self.world.add_user(name, grants)

    def add_page(self, name: str, user: FakeUser, **kwargs: Any) -> FakePage:
        return self.world.add_page(name, user, **kwargs)

    def authorize(self, url: str, user: FakeUser) -> str:
        """`user` consents on the login dialog at `url`: the code for the redirect URI."""
        return self.login.authorize(url, user)

    def fail_next(self, method: str, path: str, answer: Answer) -> None:
        """Answer the next `method path` (the path without the version: "/123/feed") with
        `answer`, a response or an exception raised as the transport's."""
        self._failures.setdefault((method.upper(), path), []).append(answer)

    def lose_next_answer(self, method: str, path: str) -> None:
        """Carry out the next `method path`, then lose its answer (a read timeout)."""
        self._lost.append((method.upper(), path))

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and _path(r) == path]

    def live_posts(self, page: FakePage) -> list[FakePost]:
        return [p for p in self.world.posts.values() if p.page_id == page.id and not p.deleted]

    # -- the transport ----------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        answer = self._answer(request)
        key = (request.method, _path(request))
        if key in self._lost:
            self._lost.remove(key)
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return answer

    def _answer(self, request: httpx.Request) -> httpx.Response:
        path = _path(request)
        queued = self._failures.get((request.method, path))
        if queued:
            answer = queued.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        if request.url.host == RUPLOAD:
            return self.videos.rupload(request)
        params = _params(request)
        if path == "/oauth/access_token":
            return self.login.token_endpoint(params)
        token = self.login.token_of(request, params)
        if isinstance(token, httpx.Response):
            return token
        throttled = self._throttle(token)
        if throttled is not None:
            return throttled
        handled = self.instagram.handle(request.method, path, params, token)
        if handled is not None:
            return handled
        return self._route(request, path, params, token)

    def _route(
        self, request: httpx.Request, path: str, params: dict[str, str], token: FakeToken
    ) -> httpx.Response:
        method, parts = request.method, path.strip("/").split("/")
        if (method, path) == ("GET", "/me/permissions"):
            return self.login.permissions(token)
        if (method, path) == ("GET", "/me/accounts"):
            return self.login.accounts(token, params)
        if method == "POST" and len(parts) == 2 and parts[1] == "uploads":
            return self.videos.open_upload(parts[0], token, params)
        if method == "POST" and parts[0].startswith("upload:"):
            return self.videos.upload(parts[0], token, request)
        if len(parts) == 2 and parts[0] in self.world.pages:
            page = self.world.pages[parts[0]]
            edge = {"feed": self._feed, "photos": self._photos, "video_reels": self.videos.reels}
            if method == "POST" and parts[1] == "videos" and request.url.host == GRAPH_VIDEO:
                return self.videos.create_video(page, token, params)
            if method == "POST" and parts[1] in edge:
                return edge[parts[1]](page, token, params, request)
            if method == "GET" and parts[1] == "posts":
                return self._posts(page, params)
        if len(parts) == 1:
            return self._node(method, parts[0], token, params)
        return error(400, 2500, f"Unknown path components: {path}", type="OAuthException")

    def _throttle(self, token: FakeToken) -> httpx.Response | None:
        if self.page_call_limit is None or token.page_id is None:
            return None
        used = self._page_calls.get(token.page_id, 0) + 1
        self._page_calls[token.page_id] = used
        if used <= self.page_call_limit:
            return None
        usage = {
            token.page_id: [
                {
                    "type": "pages",
                    "call_count": 100,
                    "total_cputime": 12,
                    "total_time": 30,
                    "estimated_time_to_regain_access": 7,
                }
            ]
        }
        return error(
            400,
            80001,
            "There have been too many calls to this Page account. Wait a bit and try again.",
            headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
        )

    # -- reading ----------------------------------------------------------------------------

    def _node(
        self, method: str, node: str, token: FakeToken, params: dict[str, str]
    ) -> httpx.Response:
        world = self.world
        if node in world.pages:
            page = world.pages[node]
            return self._page_node(method, page, token, params)
        if node in world.videos:
            return self.videos.node(method, world.videos[node], token, params)
        if node in world.posts:
            return self._post_node(method, world.posts[node], token, params)
        if method == "DELETE":
            return gone(node)
        return error(
            400,
            100,
            f"Unsupported {method.lower()} request. Object with ID '{node}' does not exist, "
            "cannot be loaded due to missing permissions, or does not support this operation.",
            type="GraphMethodException",
            subcode=33,
        )

    def _page_node(
        self, method: str, page: FakePage, token: FakeToken, params: dict[str, str]
    ) -> httpx.Response:
        if method != "GET":
            return error(400, 100, "(#100) Unsupported operation on a Page")
        fields = _fields(params.get("fields", "id,name"))
        body: dict[str, Any] = {"id": page.id}
        if "name" in fields:
            body["name"] = page.name
        if "access_token" in fields:
            if token.kind != "user" or token.user_id not in page.roles:
                return error(400, 100, "(#100) Tried accessing nonexisting field (access_token)")
            body["access_token"] = self.world.page_token(page, token)
        if "instagram_business_account" in fields and page.instagram is not None:
            account = page.instagram
            sub = fields["instagram_business_account"] or ["id"]
            values = {
                "id": account.id,
                "username": account.username,
                "name": account.name,
                "profile_picture_url": f"https://scontent.cdninstagram.com/{account.id}.jpg",
            }
            body["instagram_business_account"] = {k: values[k] for k in sub if k in values}
        return httpx.Response(200, json=body)

    # -- posts and photos -------------------------------------------------------------------

    def _feed(
        self, page: FakePage, token: FakeToken, params: dict[str, str], _: httpx.Request
    ) -> httpx.Response:
        refused = self.world.as_page(page, token)
        if refused is not None:
            return refused
        message = params.get("message", "")
        if len(message) > 63_206:
            return error(400, 100, "(#100) The message is too long")
        photo_ids: list[str] = []
        for key in sorted(k for k in params if k.startswith("attached_media[")):
            fbid = str(json.loads(params[key]).get("media_fbid"))
            photo = self.world.photos.get(fbid)
            if photo is None or photo.page_id != page.id or photo.published:
                return error(400, 100, f"(#100) Invalid media_fbid {fbid}")
            photo_ids.append(fbid)
        if not message and not photo_ids and not params.get("link"):
            return error(400, 100, "(#100) Posts must have at least a message, link or media")
        post = self.world.new_post(page, message, link=params.get("link"), photo_ids=photo_ids)
        for fbid in photo_ids:
            self.world.photos[fbid].post_id = post.id
        return httpx.Response(200, json={"id": post.id})

    def _photos(
        self, page: FakePage, token: FakeToken, params: dict[str, str], request: httpx.Request
    ) -> httpx.Response:
        refused = self.world.as_page(page, token)
        if refused is not None:
            return refused
        files = [p for p in _multipart(request) if p.filename is not None]
        source = next((p for p in files if p.name == "source"), None)
        if source is None:
            return error(400, 324, "(#324) Requires upload file")
        mime = source.content_type or ""
        if (
            not source.data.startswith(_PHOTO_MAGIC.get(mime, b"\x00\x00"))
            or len(source.data) > 4_000_000
        ):
            return error(
                400,
                100,
                "(#100) Invalid parameter",
                subcode=1366046,
                user_title="Can't Upload Photo",
                user_msg="Photos should be smaller than 4 MB and saved as JPG or PNG files.",
            )
        published = params.get("published", "true") != "false"
        photo = FakePhoto(
            id=self.world.new_id(),
            page_id=page.id,
            published=published,
            mime=mime,
            data=source.data,
            alt_text=params.get("alt_text_custom"),
        )
        self.world.photos[photo.id] = photo
        if not published:
            return httpx.Response(200, json={"id": photo.id})
        post = self.world.new_post(page, params.get("message", ""), photo_ids=[photo.id])
        photo.post_id = post.id
        return httpx.Response(200, json={"id": photo.id, "post_id": post.id})

    def _posts(self, page: FakePage, params: dict[str, str]) -> httpx.Response:
        """`GET /{page-id}/posts`, newest first, from `since` (unix time) on."""
        start = float(params.get("since") or 0)
        posts = [p for p in self.live_posts(page) if p.created_at >= start]
        posts.sort(key=lambda p: p.created_at, reverse=True)
        limit = int(params.get("limit") or 25)
        return httpx.Response(
            200,
            json={
                "data": [
                    {
                        "id": p.id,
                        "message": p.message,
                        "created_time": _stamp(p.created_at),
                    }
                    for p in posts[:limit]
                ]
            },
        )

    def new_post(self, page: FakePage, message: str, **kwargs: Any) -> FakePost:
        """A post on the Page, made now (as Crier or the Page's people make them)."""
        return self.world.new_post(page, message, **kwargs)

    def _post_node(
        self, method: str, post: FakePost, token: FakeToken, params: dict[str, str]
    ) -> httpx.Response:
        if post.deleted:
            return gone(post.id)
        page = self.world.pages[post.page_id]
        if method == "GET":
            return httpx.Response(
                200,
                json={
                    "id": post.id,
                    "message": post.message,
                    "permalink_url": f"https://www.facebook.com/{post.id}",
                },
            )
        refused = self.world.as_page(page, token)
        if refused is not None:
            return refused
        if method == "DELETE":
            post.deleted = True
            return httpx.Response(200, json={"success": True})
        if method == "POST" and "message" in params:
            post.message = params["message"]
            return httpx.Response(200, json={"success": True})
        return error(400, 100, "(#100) Invalid parameter")


def _stamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _path(request: httpx.Request) -> str:
    match = _VERSIONED.match(request.url.path)
    return match.group(1) if match else request.url.path


def _multipart(request: httpx.Request) -> list[Any]:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return []
    return parse_multipart(request)


def _params(request: httpx.Request) -> dict[str, str]:
    """Query, form and multipart text fields, as Graph reads them all alike."""
    params = dict(request.url.params)
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/x-www-form-urlencoded"):
        params.update({k: v[0] for k, v in parse_qs(request.content.decode()).items()})
    elif kind.startswith("multipart/form-data"):
        params.update(
            {p.name: p.data.decode() for p in parse_multipart(request) if p.filename is None}
        )
    return params


def _fields(text: str) -> dict[str, list[str]]:
    """`a,b{c,d}` -> {"a": [], "b": ["c", "d"]}."""
    fields: dict[str, list[str]] = {}
    for match in re.finditer(r"([a-z_]+)(\{([^}]*)\})?", text):
        fields[match.group(1)] = match.group(3).split(",") if match.group(3) else []
    return fields


__all__ = ["GRAPH", "GRAPH_VIDEO", "HOSTS", "RUPLOAD", "VERSION", "FakeMeta"]
