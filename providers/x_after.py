"""After an X post is out: deleting it and editing its text, over the X API v2 (docs.x.com,
OpenAPI 2.167), and what the published result's `ref` holds for that.

Deleting is `DELETE /2/tweets/:id` for every post of a thread, the last reply first (a post
deleted first would leave its replies standing). X documents only the success answer,
`{"data": {"deleted": true}}`; a post that is already gone answers 404 or `deleted: false`,
and both count as deleted, so deleting again is always safe. Deleting any version of an
edited post deletes its whole edit chain, so the latest version's id is enough.

Editing is `POST /2/tweets` with `edit_options.previous_post_id` ("Create or Edit Post"):
every edit makes a new version with a new id, and the original id stays the post's identity
(its link shows the latest version). X allows it within 30 minutes of posting and up to 5
times a post (docs.x.com/x-api/fundamentals/edit-posts), for X Premium accounts (editing is
a Premium feature on X). An edit replaces the whole post, so the first post carries its media
ids again (X keeps uploaded media for a day, well past the edit window); only the parts whose
text changed are edited, each edit counting against that part's five.

X has no way to find a post by an idempotency key, so there is no `lookup`: reading the
account's timeline (`GET /2/users/:id/tweets`) and matching text and time was judged
unreliable (X rewrites links to t.co and escapes `&<>` in the text it returns, the timeline
lags, and on pay-per-use every read costs credits), and X's own refusal of duplicate text
already makes publishing the same post again safe: it is refused as a duplicate, which Crier
reports as most likely published.

`PublishResult.ref`: {"post_ids": the latest version of every post of the thread, in order;
"media_ids": the first post's media; "hashes": of each part's text (an edit sends only the
parts that changed); "edits": how many times each part was edited; "posted_at": when the
thread went out (epoch seconds, for the edit window); "parts"}.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from providers.base import PostContent, Problem, PublishResult
from providers.errors import PermanentError, TransientError
from providers.http import safe_to_repeat
from providers.x_api import PLATFORM, XApi

#: X lets a post be edited for 30 minutes after it was posted...
EDIT_WINDOW: Final = 30 * 60.0
#: ...up to five times.
MAX_EDITS: Final = 5
#: `posted_at` is when the answer arrived, a little after X's own clock started: keep clear
#: of the window's end by this much.
WINDOW_MARGIN: Final = 60.0

NOT_PREMIUM: Final = (
    "X can't edit this account's posts: editing is for X Premium subscribers only, so "
    "delete it and post it again instead."
)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def published_ref(
    post_ids: Sequence[str], media_ids: Sequence[str], post: PostContent, posted_at: float
) -> dict[str, Any]:
    """The ref of a freshly published thread."""
    return {
        "post_ids": list(post_ids),
        "media_ids": list(media_ids),
        "hashes": [text_hash(p) for p in post.parts[: len(post_ids)]],
        "edits": [0] * len(post_ids),
        "posted_at": int(posted_at),
        "parts": len(post_ids),
    }


@dataclass(frozen=True)
class Stored:
    """A published result's ref, read back (refs from before it had keys fall back)."""

    post_ids: list[str]
    media_ids: list[str]
    hashes: list[str]
    edits: list[int]
    posted_at: float | None

    @classmethod
    def of(cls, published: PublishResult) -> Stored:
        ref = published.ref
        ids = [str(i) for i in ref.get("post_ids") or ()] or [published.platform_id]
        edits = [int(e) for e in ref.get("edits") or () if isinstance(e, int)]
        posted = ref.get("posted_at")
        return cls(
            post_ids=ids,
            media_ids=[str(i) for i in ref.get("media_ids") or ()],
            hashes=[str(h) for h in ref.get("hashes") or ()],
            edits=edits + [0] * (len(ids) - len(edits)),
            posted_at=float(posted) if isinstance(posted, int | float) else None,
        )

    def changed(self, index: int, text: str) -> bool:
        return index >= len(self.hashes) or self.hashes[index] != text_hash(text)

    def ref(self) -> dict[str, Any]:
        ref: dict[str, Any] = {
            "post_ids": self.post_ids,
            "media_ids": self.media_ids,
            "hashes": self.hashes,
            "edits": self.edits,
            "parts": len(self.post_ids),
        }
        if self.posted_at is not None:
            ref["posted_at"] = int(self.posted_at)
        return ref


def edit_window_problems(published: PublishResult, post: PostContent, now: float) -> list[Problem]:
    """What X's edit rules refuse: past the 30 minutes, or a part edited five times."""
    stored = Stored.of(published)
    problems: list[Problem] = []
    if stored.posted_at is not None and now - stored.posted_at > EDIT_WINDOW - WINDOW_MARGIN:
        minutes = int((now - stored.posted_at) // 60)
        problems.append(
            Problem(
                code="edit_window",
                message=(
                    f"X lets a post be edited only in its first 30 minutes, and this one went "
                    f"out {minutes} minutes ago. Delete it and post it again instead."
                ),
            )
        )
    for index, part in enumerate(post.parts[: len(stored.post_ids)]):
        if stored.changed(index, part) and stored.edits[index] >= MAX_EDITS:
            which = "The post" if len(stored.post_ids) == 1 else f"Part {index + 1}"
            problems.append(
                Problem(
                    code="edit_limit",
                    message=(
                        f"{which} was already edited {MAX_EDITS} times, as often as X allows. "
                        "Delete it and post it again instead."
                    ),
                )
            )
    return problems


async def delete_posts(api: XApi, published: PublishResult) -> None:
    """DELETE every post of the thread, the last first; what is already gone counts."""
    for post_id in reversed(Stored.of(published).post_ids):
        try:
            with safe_to_repeat(PLATFORM, "deleting"):
                answer = await api.call("DELETE", f"/2/tweets/{post_id}", creates_post=True)
        except PermanentError as exc:
            if exc.http_status == 404:
                continue  # already gone
            raise
        data = answer.get("data")
        if not isinstance(data, Mapping) or "deleted" not in data:
            raise TransientError("X answered the delete without saying whether it was done.")
        # `deleted: false`: nothing was deleted by this request, as the post was gone already
        # (a post X won't let the account delete is refused with a 403 instead).


async def edit_posts(api: XApi, published: PublishResult, post: PostContent) -> Stored:
    """Edit each part whose text changed; the stored ref with the new versions' ids."""
    stored = Stored.of(published)
    ids, edits = list(stored.post_ids), list(stored.edits)
    hashes = [*stored.hashes, *[""] * (len(ids) - len(stored.hashes))][: len(ids)]
    for index, part in enumerate(post.parts[: len(ids)]):
        if not stored.changed(index, part):
            continue
        body: dict[str, Any] = {"text": part, "edit_options": {"previous_post_id": ids[index]}}
        if index == 0 and stored.media_ids:
            body["media"] = {"media_ids": stored.media_ids}
        with safe_to_repeat(PLATFORM, "editing"):
            answer = await api.call("POST", "/2/tweets", creates_post=True, json=body)
        data = answer.get("data")
        new_id = str(data.get("id") or "") if isinstance(data, Mapping) else ""
        if not new_id:
            raise TransientError("X answered the edit without the post's new version.")
        ids[index] = new_id
        hashes[index] = text_hash(part)
        edits[index] += 1
    return Stored(
        post_ids=ids,
        media_ids=stored.media_ids,
        hashes=hashes,
        edits=edits,
        posted_at=stored.posted_at,
    )
