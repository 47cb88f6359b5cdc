"""The fake LinkedIn's posts after they are out (tests/fakes/linkedin.py): the Posts API's
DELETE and PARTIAL_UPDATE of `/rest/posts/{encoded urn}`, as a mixin over the server's state.

As LinkedIn documents them: deleting answers 204, again 204 for a post already deleted
("post deletions are idempotent"), 404 for a post it never had; a partial update takes a
Rest.li patch (`{"patch": {"$set": {...}}}`) with `X-RestLi-Method: PARTIAL_UPDATE` and sets
only the fields the Posts API lets change (commentary, contentCallToActionLabel,
contentLandingPage, lifecycleState, adContext), the commentary read as little text and
counted like a new post's; 204. Only whoever may post as the author may do either (403).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from tests.fakes.linkedin_state import (
    FakePost,
    Grant,
    access_denied,
    error,
    input_error,
    read_little,
)

MAX_COMMENTARY = 3000
#: What a PARTIAL_UPDATE of a post may set (Posts API, "Update Posts").
UPDATABLE = frozenset(
    {"commentary", "contentCallToActionLabel", "contentLandingPage", "lifecycleState", "adContext"}
)


class PostRoutes:
    """Needs `posts`, `deleted_posts` and `may_post_as()` from the server it is mixed into."""

    posts: list[FakePost]
    #: URNs of posts deleted so far.
    deleted_posts: set[str]
    may_post_as: Callable[[Grant, str], bool]

    def _post_entity(self, request: httpx.Request, grant: Grant, urn: str) -> httpx.Response:
        """DELETE or PARTIAL_UPDATE one post."""
        method = request.headers.get("x-restli-method", "").upper()
        if request.method == "DELETE":
            return self._delete_post(grant, urn)
        if request.method == "POST" and method == "PARTIAL_UPDATE":
            return self._update_post(request, grant, urn)
        return error(400, f"Method {request.method} {method or '(none)'} is not supported here")

    def _delete_post(self, grant: Grant, urn: str) -> httpx.Response:
        post = next((p for p in self.posts if p.urn == urn), None)
        if post is None:
            if urn in self.deleted_posts:
                return httpx.Response(204)
            return error(404, f"Post {urn} does not exist", "NOT_FOUND")
        if not self.may_post_as(grant, post.author):
            return httpx.Response(
                403, json=access_denied("partnerApiPostsExternal.DELETE.20260501")
            )
        self.posts.remove(post)
        self.deleted_posts.add(urn)
        return httpx.Response(204)

    def _update_post(self, request: httpx.Request, grant: Grant, urn: str) -> httpx.Response:
        post = next((p for p in self.posts if p.urn == urn), None)
        if post is None:
            return error(404, f"Post {urn} does not exist", "NOT_FOUND")
        if not self.may_post_as(grant, post.author):
            return httpx.Response(
                403, json=access_denied("partnerApiPostsExternal.PARTIAL_UPDATE.20260501")
            )
        try:
            body = json.loads(request.content or b"null")
        except ValueError:
            body = None
        patch = body.get("patch") if isinstance(body, dict) else None
        fields = patch.get("$set") if isinstance(patch, dict) else None
        if not isinstance(fields, dict) or not fields:
            return httpx.Response(
                400, json=input_error(400, "A patch with $set is required", "/patch", "INVALID")
            )
        for name in fields:
            if name not in UPDATABLE:
                return httpx.Response(
                    422,
                    json=input_error(
                        422, f"Field /{name} can't be updated", f"/{name}", "UNSUPPORTED_FIELD"
                    ),
                )
        if "commentary" in fields:
            text, hashtags = read_little(str(fields["commentary"]))
            if len(text) > MAX_COMMENTARY:
                return httpx.Response(
                    422,
                    json=input_error(
                        422,
                        f"Commentary is {len(text)} characters long; the maximum is "
                        f"{MAX_COMMENTARY}",
                        "/commentary",
                        "MAX_LENGTH_EXCEEDED",
                    ),
                )
            post.commentary, post.text, post.hashtags = str(fields["commentary"]), text, hashtags
        return httpx.Response(204)
