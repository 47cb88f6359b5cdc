"""The fake X's posts (tests/fakes/x.py): creating one, editing one (`POST /2/tweets` with
`edit_options.previous_post_id`, "Create or Edit Post") and deleting one
(`DELETE /2/tweets/:id`), as X documents them (docs.x.com, OpenAPI 2.167).

What X documents and the fake enforces: 280 weighted characters (25,000 for X Premium), no
duplicate text, media that must have finished processing, replies only to posts that are
there, `POST /2/tweets` at most 100 times and `DELETE /2/tweets/:id` 50 times per user per
15 minutes; an edit makes a new version with a new id within 30 minutes of the original and
up to 5 times (docs.x.com/x-api/fundamentals/edit-posts), only by X Premium accounts (X's
help centre), and deleting any version deletes the whole edit chain. X documents only the
success answer of a delete (`{"data": {"deleted": true}}`); what it answers for a post that
is gone, and the words of its refusals, are assumed (marked so below).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from tests.fakes.x_wire import invalid, problem, weighted_length

if TYPE_CHECKING:
    from tests.fakes.x import FakeMedia, FakeUser

EDIT_WINDOW = 30 * 60.0
MAX_EDITS = 5
DELETES_PER_WINDOW = (50, 900.0)


@dataclass
class FakePost:
    id: str
    author_id: str
    text: str
    media_ids: list[str]
    in_reply_to: str | None
    #: When it was posted (the fake's clock); an edit keeps the original's.
    created_at: float = 0.0
    #: Its edit history, oldest first, itself last (`edit_history_tweet_ids`).
    history: list[str] = field(default_factory=list)


class XPosts:
    """The posts part of FakeX (a mixin: FakeX holds the state)."""

    clock: Callable[[], float]
    posts_per_window: tuple[int, float]
    users: dict[str, FakeUser]
    media: dict[str, FakeMedia]
    #: The live posts: the latest version of each, in the order they were posted.
    posts: list[FakePost]
    #: Every version ever made, by id (edited and deleted ones included).
    versions: dict[str, FakePost]
    _hits: dict[str, deque[float]]

    def _new_id(self) -> str:
        raise NotImplementedError

    def _limit(self, key: str, limit: int, window: float) -> tuple[httpx.Response | None, dict]:
        """Count one request against a per-user window; a 429 when it is used up."""
        hits = self._hits.setdefault(key, deque())
        now = self.clock()
        while hits and hits[0] <= now - window:
            hits.popleft()
        reset = int((hits[0] if hits else now) + window)
        headers = {"x-rate-limit-limit": str(limit), "x-rate-limit-reset": str(reset)}
        if len(hits) >= limit:
            headers["x-rate-limit-remaining"] = "0"
            return problem(429, "Too Many Requests", "Too Many Requests", headers=headers), headers
        hits.append(now)
        headers["x-rate-limit-remaining"] = str(limit - len(hits))
        return None, headers

    def _create_post(
        self, request: httpx.Request, user: FakeUser, _: dict[str, str]
    ) -> httpx.Response:
        limit, window = self.posts_per_window
        throttled, headers = self._limit(user.id, limit, window)
        if throttled is not None:
            return throttled
        body = json.loads(request.content)
        text = str(body.get("text") or "")
        media_ids = [str(m) for m in (body.get("media") or {}).get("media_ids", [])]
        previous = (body.get("edit_options") or {}).get("previous_post_id")
        if previous is not None:
            return self._edit_post(user, str(previous), text, media_ids, headers)
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        refused = self._refuse(user, text, media_ids, reply_to)
        if refused is not None:
            return refused
        post = FakePost(self._new_id(), user.id, text, media_ids, reply_to, created_at=self.clock())
        post.history = [post.id]
        self.posts.append(post)
        self.versions[post.id] = post
        return self._post_answer(post, headers)

    def _edit_post(
        self,
        user: FakeUser,
        previous_id: str,
        text: str,
        media_ids: list[str],
        headers: dict[str, str],
    ) -> httpx.Response:
        old = next((p for p in self.posts if p.id == previous_id), None)
        if old is None or old.author_id != user.id:
            # assumed: the words; X refuses an edit of what is not the user's latest version
            return problem(403, "Forbidden", "You are not permitted to edit this Post.")
        if user.subscription_type == "None":
            return problem(403, "Forbidden", "Editing Posts requires an X Premium subscription.")
        if self.clock() > old.created_at + EDIT_WINDOW:
            return problem(403, "Forbidden", "This Post can no longer be edited.")  # assumed
        if len(old.history) > MAX_EDITS:
            return problem(403, "Forbidden", "This Post has reached its edit limit.")  # assumed
        refused = self._refuse(user, text, media_ids, None, chain=old.history)
        if refused is not None:
            return refused
        new = FakePost(
            self._new_id(),
            user.id,
            text,
            media_ids,
            old.in_reply_to,
            created_at=old.created_at,
            history=[*old.history],
        )
        new.history.append(new.id)
        self.posts[self.posts.index(old)] = new
        self.versions[new.id] = new
        return self._post_answer(new, headers)

    def _delete_post(
        self, request: httpx.Request, user: FakeUser, params: dict[str, str]
    ) -> httpx.Response:
        throttled, _ = self._limit(f"delete:{user.id}", *DELETES_PER_WINDOW)
        if throttled is not None:
            return throttled
        post_id = params["id"]
        live = next((p for p in self.posts if post_id in p.history), None)
        if live is None:
            # assumed: X documents no answer for a post that is gone
            return problem(
                404,
                "Not Found Error",
                f"Could not find tweet with id: [{post_id}].",
                "resource-not-found",
            )
        if live.author_id != user.id:
            return problem(403, "Forbidden", "You are not allowed to delete this Tweet.")
        self.posts.remove(live)  # the whole edit chain goes with any of its versions
        return httpx.Response(200, json={"data": {"deleted": True}})

    def _refuse(
        self,
        user: FakeUser,
        text: str,
        media_ids: list[str],
        reply_to: str | None,
        *,
        chain: list[str] = (),  # type: ignore[assignment]
    ) -> httpx.Response | None:
        if not text and not media_ids:
            return invalid("Post text is required unless media is attached.")  # assumed
        limit = 280 if user.subscription_type == "None" else 25_000
        if weighted_length(text) > limit:
            return invalid("Your Tweet text is too long.")  # assumed
        media = [self.media.get(m) for m in media_ids]
        if any(m is None or m.owner != user.id or m.state != "succeeded" for m in media):
            return invalid("Your media IDs are invalid.")
        kinds = [m.category for m in media if m is not None]
        if len(kinds) > 4 or (len(kinds) > 1 and set(kinds) != {"tweet_image"}):
            return invalid("Posts take up to 4 photos, or 1 video, or 1 GIF.")  # assumed
        if reply_to is not None and not any(reply_to in p.history for p in self.posts):
            return problem(
                403,
                "Forbidden",
                "You attempted to reply to a Tweet that is deleted or not visible to you.",
            )
        others = [p for p in self.posts if p.author_id == user.id and p.id not in chain]
        if text and any(p.text == text for p in others):
            return problem(
                403, "Forbidden", "You are not allowed to create a Tweet with duplicate content."
            )
        return None

    def _post_answer(self, post: FakePost, headers: dict[str, str]) -> httpx.Response:
        data: dict[str, Any] = {
            "id": post.id,
            "text": post.text,
            "edit_history_tweet_ids": list(post.history),
        }
        return httpx.Response(201, json={"data": data}, headers=headers)
