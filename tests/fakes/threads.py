"""An in-memory Threads API (graph.threads.net, v1.0): the Threads app's OAuth, long-lived
tokens, the profile, media containers, publishing, replies, permalinks, the publishing quota
and deleting.

It keeps state (users, codes, tokens, containers, posts) and answers as Threads documents it:
Graph API error objects (tests/fakes/threads_wire.py), the token as an `access_token`
parameter, and the rules of the reference: short-lived tokens (an hour) swapped for
long-lived ones (60 days) with the app secret, renewed only once at least 24 hours old and
not expired; scopes (`threads_content_publish` to post, `threads_manage_replies` to reply,
`threads_delete` to delete); containers that are IN_PROGRESS until processed (times per
media type, on the fake's clock), then FINISHED, ERROR (with an `error_message`) or, after
24 hours unpublished, EXPIRED; 500 characters (an emoji counting its UTF-8 bytes), 5 links,
carousels of 2 to 20 finished items, alt text only on images and videos, `link_attachment`
only on text; 250 posts and 1,000 replies per 24 hours, 100 deletes a day. Use it as
`httpx.MockTransport(fake)` or as a respx side effect.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.fakes.threads_accounts import DAY, FakeUser, Grant, ThreadsAccounts
from tests.fakes.threads_wire import (
    does_not_exist,
    graph_error,
    invalid_parameter,
    limit_reached,
    link_count,
    media_not_found,
    no_permission,
    params,
    pick,
    threads_length,
)

VERSION = "v1.0"
CONTAINER_LIFETIME = DAY
POSTS_PER_DAY, REPLIES_PER_DAY, DELETES_PER_DAY = 250, 1000, 100
#: Seconds a container of each type stays IN_PROGRESS.
PROCESSING = {"TEXT": 0.0, "IMAGE": 0.0, "VIDEO": 0.0, "CAROUSEL": 0.0}

Answer = httpx.Response | Exception


@dataclass
class Container:
    id: str
    owner: str
    media_type: str
    fields: dict[str, str]
    created_at: float
    ready_at: float
    failure: str | None = None
    published_as: str | None = None


@dataclass
class FakePost:
    id: str
    owner: str
    media_type: str
    text: str
    shortcode: str
    timestamp: float
    reply_to: str | None = None
    children: list[Container] = field(default_factory=list)
    alt_text: str | None = None
    link_attachment: str | None = None
    deleted: bool = False


class FakeThreads(ThreadsAccounts):
    def __init__(
        self,
        *,
        app_id: str = "crier-threads-app",
        app_secret: str = "crier-threads-secret",
        clock: Callable[[], float] = time.time,
        processing: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__(app_id=app_id, app_secret=app_secret, clock=clock)
        self.processing = {**PROCESSING, **(processing or {})}
        self.containers: dict[str, Container] = {}
        self.posts: dict[str, FakePost] = {}
        self.requests: list[httpx.Request] = []
        self._failures: dict[str, list[tuple[Answer, bool, int]]] = {}
        self._fail_processing: list[str] = []
        self._deletes: dict[str, list[float]] = {}

    # -- setting up and looking in ------------------------------------------------------------

    def fail_next(self, route: str, answer: Answer, *, skip: int = 0) -> None:
        """Answer a coming `route` ("POST /threads_publish", "GET /{id}", "POST /threads",
        "DELETE /{id}", "GET /refresh_access_token", ...) with `answer` without doing it;
        `skip` calls of it go through first."""
        self._failures.setdefault(route, []).append((answer, False, skip))

    def lose_answer(self, route: str, *, skip: int = 0) -> None:
        """Do a coming `route`, then time out as if the answer was lost on the way back."""
        self._failures.setdefault(route, []).append((httpx.ReadTimeout("lost"), True, skip))

    def fail_processing(self, message: str = "FAILED_PROCESSING_VIDEO") -> None:
        """The next image or video container ends in ERROR with this `error_message`."""
        self._fail_processing.append(message)

    def calls(self, route: str) -> list[httpx.Request]:
        return [r for r in self.requests if _route(r)[0] == route]

    def live_posts(self, user: FakeUser | None = None) -> list[FakePost]:
        return [
            p for p in self.posts.values() if not p.deleted and (user is None or p.owner == user.id)
        ]

    def permalink(self, post: FakePost) -> str:
        return f"https://www.threads.net/@{self.users[post.owner].username}/post/{post.shortcode}"

    # -- the API --------------------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route, target = _route(request)
        queued = self._failures.get(route)
        if queued:
            answer, do_first, skip = queued[0]
            if skip > 0:
                queued[0] = (answer, do_first, skip - 1)
            else:
                queued.pop(0)
                if do_first:
                    self._handle(route, target, request)
                if isinstance(answer, Exception):
                    raise answer
                return answer
        return self._handle(route, target, request)

    def _handle(self, route: str, target: str, request: httpx.Request) -> httpx.Response:
        given = params(request)
        answer = self.token_endpoint(route, given)
        if answer is not None:
            return answer
        grant = self.grant(given.get("access_token", ""))
        if isinstance(grant, httpx.Response):
            return grant
        user = self.users[grant.user_id]
        if target not in ("", "me", user.id) and not route.endswith("/{id}"):
            return does_not_exist(target, request.method.lower())
        handler = _ROUTES.get(route)
        if handler is None:
            return graph_error(400, "Unknown path components", 2500)
        return handler(self, given, user, grant, target)

    # -- the profile and the quota ----------------------------------------------------------------

    def _limits(
        self, given: dict[str, str], user: FakeUser, grant: Grant, _: str
    ) -> httpx.Response:
        wanted = (given.get("fields") or "quota_usage").split(",")
        if any(f.startswith("reply_") for f in wanted) and (
            "threads_manage_replies" not in grant.scopes
        ):
            return no_permission()
        posts, replies = self._usage(user)
        values = {
            "quota_usage": posts,
            "config": {"quota_total": POSTS_PER_DAY, "quota_duration": int(DAY)},
            "reply_quota_usage": replies,
            "reply_config": {"quota_total": REPLIES_PER_DAY, "quota_duration": int(DAY)},
            "delete_quota_usage": len(self._recent_deletes(user)),
            "delete_config": {"quota_total": DELETES_PER_DAY, "quota_duration": int(DAY)},
        }
        return httpx.Response(200, json={"data": [{k: values[k] for k in wanted if k in values}]})

    def _usage(self, user: FakeUser) -> tuple[int, int]:
        since = self.clock() - DAY
        recent = [p for p in self.posts.values() if p.owner == user.id and p.timestamp > since]
        replies = sum(1 for p in recent if p.reply_to)
        return len(recent) - replies, replies

    def _recent_deletes(self, user: FakeUser) -> list[float]:
        since = self.clock() - DAY
        return [t for t in self._deletes.get(user.id, []) if t > since]

    # -- containers -------------------------------------------------------------------------------

    def _create(
        self, given: dict[str, str], user: FakeUser, grant: Grant, _: str
    ) -> httpx.Response:
        if "threads_content_publish" not in grant.scopes:
            return no_permission()
        kind = given.get("media_type", "")
        refused = self._refuse(given, user, grant, kind)
        if refused is not None:
            return refused
        fields = {
            k: v for k, v in given.items() if k not in ("access_token", "media_type") and v != ""
        }
        now = self.clock()
        container = Container(
            str(next(self._ids)), user.id, kind, fields, now, now + self.processing[kind]
        )
        if kind in ("IMAGE", "VIDEO") and self._fail_processing:
            container.failure = self._fail_processing.pop(0)
        self.containers[container.id] = container
        return httpx.Response(200, json={"id": container.id})

    def _refuse(
        self, given: dict[str, str], user: FakeUser, grant: Grant, kind: str
    ) -> httpx.Response | None:
        text = given.get("text", "")
        carousel_item = given.get("is_carousel_item") == "true"
        if kind not in ("TEXT", "IMAGE", "VIDEO", "CAROUSEL"):
            return invalid_parameter("media_type must be TEXT, IMAGE, VIDEO or CAROUSEL.")
        if kind == "TEXT" and not text:
            return invalid_parameter("A text post needs text.")
        for needed, url_field in (("IMAGE", "image_url"), ("VIDEO", "video_url")):
            if kind == needed and not given.get(url_field, "").startswith(("https://", "http://")):
                return invalid_parameter(f"{url_field} must be a public URL.")
        if carousel_item and (kind not in ("IMAGE", "VIDEO") or text or given.get("reply_to_id")):
            return invalid_parameter("A carousel item is an image or a video, without text.")
        if threads_length(text) > 500:
            return invalid_parameter("The post's text is too long.", title="Text too long")
        if link_count(text) > 5:
            return invalid_parameter(
                "Posts can have at most 5 links.", title="THREADS_API__LINK_LIMIT_EXCEEDED"
            )
        if given.get("alt_text") and kind not in ("IMAGE", "VIDEO"):
            return invalid_parameter("alt_text is for images and videos.")
        if given.get("link_attachment") and kind != "TEXT":
            return invalid_parameter("link_attachment is for text posts only.")
        if kind == "CAROUSEL":
            children = [c for c in given.get("children", "").split(",") if c]
            found = [self.containers.get(c) for c in children]
            if not 2 <= len(children) <= 20 or any(
                c is None
                or c.owner != user.id
                or c.fields.get("is_carousel_item") != "true"
                or self._status(c) != "FINISHED"
                for c in found
            ):  # assumed: every child must be a finished item of this user
                return invalid_parameter("A carousel takes 2 to 20 finished carousel items.")
        reply_to = given.get("reply_to_id")
        if reply_to:
            if "threads_manage_replies" not in grant.scopes:
                return no_permission()
            parent = self.posts.get(reply_to)
            if parent is None or parent.deleted:
                return does_not_exist(reply_to, "post")
        return None

    def _status(self, container: Container) -> str:
        now = self.clock()
        if container.published_as:
            return "PUBLISHED"
        if now >= container.created_at + CONTAINER_LIFETIME:
            return "EXPIRED"
        if now < container.ready_at:
            return "IN_PROGRESS"
        return "ERROR" if container.failure else "FINISHED"

    def _object(
        self, given: dict[str, str], user: FakeUser, _: Grant, target: str
    ) -> httpx.Response:
        """`GET /{id}`: a container's status, or a post's fields."""
        wanted = given.get("fields") or "id"
        container = self.containers.get(target)
        if container is not None and container.owner == user.id:
            values: dict[str, Any] = {"id": container.id, "status": self._status(container)}
            if values["status"] == "ERROR":
                values["error_message"] = container.failure
            return httpx.Response(200, json=pick(values, wanted))
        post = self.posts.get(target)
        if post is None or post.deleted or post.owner != user.id:
            return does_not_exist(target)
        return httpx.Response(200, json=pick(self._post_json(post), wanted))

    def _post_json(self, post: FakePost) -> dict[str, Any]:
        return {
            "id": post.id,
            "media_product_type": "THREADS",
            "media_type": _MEDIA_TYPES[post.media_type],
            "permalink": self.permalink(post),
            "shortcode": post.shortcode,
            "text": post.text,
            "timestamp": datetime.fromtimestamp(post.timestamp, UTC).strftime(
                "%Y-%m-%dT%H:%M:%S+0000"
            ),
            "username": self.users[post.owner].username,
            "is_reply": post.reply_to is not None,
            "alt_text": post.alt_text,
        }

    # -- publishing -------------------------------------------------------------------------------

    def _publish(
        self, given: dict[str, str], user: FakeUser, grant: Grant, _: str
    ) -> httpx.Response:
        if "threads_content_publish" not in grant.scopes:
            return no_permission()
        creation_id = given.get("creation_id", "")
        container = self.containers.get(creation_id)
        if container is None or container.owner != user.id:
            return media_not_found(creation_id)
        status = self._status(container)
        if status in ("IN_PROGRESS", "EXPIRED") or container.fields.get("is_carousel_item"):
            return media_not_found(creation_id)
        if status == "ERROR":
            return invalid_parameter("The media could not be processed.")  # assumed
        if status == "PUBLISHED":
            return invalid_parameter("This container has already been published.")  # assumed
        posts, replies = self._usage(user)
        reply_to = container.fields.get("reply_to_id")
        if reply_to and replies >= REPLIES_PER_DAY:
            return limit_reached("replies")
        if not reply_to and posts >= POSTS_PER_DAY:
            return limit_reached("posts")
        if reply_to and (reply_to not in self.posts or self.posts[reply_to].deleted):
            return does_not_exist(reply_to, "post")
        fields = container.fields
        post = FakePost(
            id=str(next(self._ids)),
            owner=user.id,
            media_type=container.media_type,
            text=fields.get("text", ""),
            shortcode=f"C{next(self._ids) % 10**9:09d}x",
            timestamp=self.clock(),
            reply_to=reply_to,
            children=[self.containers[c] for c in fields.get("children", "").split(",") if c],
            alt_text=fields.get("alt_text"),
            link_attachment=fields.get("link_attachment"),
        )
        self.posts[post.id] = post
        container.published_as = post.id
        return httpx.Response(200, json={"id": post.id})

    def _list(self, given: dict[str, str], user: FakeUser, *_: Any) -> httpx.Response:
        """The user's own threads (not replies), newest first."""
        wanted = given.get("fields") or "id"
        limit = int(given.get("limit") or 25)
        mine = sorted(
            (p for p in self.live_posts(user) if p.reply_to is None),
            key=lambda p: p.timestamp,
            reverse=True,
        )[:limit]
        data = [pick(self._post_json(p), wanted) for p in mine]
        return httpx.Response(200, json={"data": data, "paging": {"cursors": {}}})

    def _delete(
        self, given: dict[str, str], user: FakeUser, grant: Grant, target: str
    ) -> httpx.Response:
        if "threads_delete" not in grant.scopes:
            return no_permission()
        post = self.posts.get(target)
        if post is None or post.deleted or post.owner != user.id:
            return does_not_exist(target, "delete")  # assumed for a post already gone
        if len(self._recent_deletes(user)) >= DELETES_PER_DAY:
            return limit_reached("deletes")
        post.deleted = True
        self._deletes.setdefault(user.id, []).append(self.clock())
        return httpx.Response(200, json={"success": True, "deleted_id": post.id})


#: How a post's `media_type` reads back (a container's type, as a media object's).
_MEDIA_TYPES = {
    "TEXT": "TEXT_POST",
    "IMAGE": "IMAGE",
    "VIDEO": "VIDEO",
    "CAROUSEL": "CAROUSEL_ALBUM",
}

_Handler = Callable[[FakeThreads, dict[str, str], FakeUser, Grant, str], httpx.Response]
_ROUTES: dict[str, _Handler] = {
    "GET /me": ThreadsAccounts.profile,
    "GET /threads_publishing_limit": FakeThreads._limits,
    "POST /threads": FakeThreads._create,
    "GET /threads": FakeThreads._list,
    "POST /threads_publish": FakeThreads._publish,
    "GET /{id}": FakeThreads._object,
    "DELETE /{id}": FakeThreads._delete,
}


def _route(request: httpx.Request) -> tuple[str, str]:
    """("GET /{id}", "1789...") or ("POST /threads", "me"): the route and the node it names."""
    path = request.url.path
    if not path.startswith(f"/{VERSION}/"):
        return f"{request.method} {path}", ""
    parts = path[len(VERSION) + 2 :].strip("/").split("/")
    if len(parts) == 1:
        if parts[0] == "me":
            return f"{request.method} /me", "me"
        return f"{request.method} /{{id}}", parts[0]
    return f"{request.method} /{parts[1]}", parts[0]
