"""The fake YouTube's videos after they are out (tests/fakes/youtube.py): videos.delete and
videos.update, after the YouTube Data API v3 reference, as a mixin over the server's state.

Both accept only the scopes that manage videos (youtube, youtube.force-ssl, youtubepartner:
403 insufficientPermissions otherwise) and cost 50 quota units. Delete answers 204, 404
videoNotFound for a video that is not there (deleted before, or never uploaded) and 403
forbidden for someone else's. Update needs `part`; with part=snippet it needs the resource's
`id`, `snippet.title` (checked as videos.insert checks it) and `snippet.categoryId` (400
invalidCategoryId when missing or unknown), overwrites every mutable snippet property (a tag
or language not sent is gone) and answers 200 with the video.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from tests.fakes.youtube_shapes import FakeVideo, google_error, metadata_problem, video_json

if TYPE_CHECKING:
    from tests.fakes.google_oauth import Grant

MANAGE_SCOPES = frozenset(
    {
        "https://www.googleapis.com/auth/youtube",
        "https://www.googleapis.com/auth/youtube.force-ssl",
        "https://www.googleapis.com/auth/youtubepartner",
    }
)
WRITE_COST = 50
#: videoCategories.list's assignable ids for most regions (a sample: 22 is People & Blogs).
CATEGORIES = frozenset({"1", "2", "10", "15", "17", "19", "20", "22", "23", "24", "25", "26",
                        "27", "28"})  # fmt: skip
MUTABLE_SNIPPET = ("title", "description", "tags", "categoryId", "defaultLanguage")


class ManageRoutes:
    """Needs `videos`, `_grant` and `_charge` from the server it is mixed into."""

    videos: list[FakeVideo]
    _grant: Callable[[httpx.Request, frozenset[str]], Grant | httpx.Response]
    _charge: Callable[[int], httpx.Response | None]

    def _find(self, video_id: str) -> FakeVideo | None:
        return next((v for v in self.videos if v.id == video_id and not v.deleted), None)

    def _delete_video(self, request: httpx.Request, query: dict[str, str]) -> httpx.Response:
        grant = self._grant(request, MANAGE_SCOPES)
        if isinstance(grant, httpx.Response):
            return grant
        if not query.get("id"):
            return google_error(400, "required", "Required parameter: id")
        if (refused := self._charge(WRITE_COST)) is not None:
            return refused
        video = self._find(query["id"])
        if video is None:
            return google_error(
                404, "videoNotFound", "The video that you are trying to delete cannot be found."
            )
        if video.channel.user != grant.user:
            return google_error(
                403, "forbidden", "The video that you are trying to delete cannot be deleted."
            )
        video.deleted = True
        return httpx.Response(204)

    def _update_video(self, request: httpx.Request, query: dict[str, str]) -> httpx.Response:
        grant = self._grant(request, MANAGE_SCOPES)
        if isinstance(grant, httpx.Response):
            return grant
        if not query.get("part"):
            return google_error(400, "required", "Required parameter: part")
        if (refused := self._charge(WRITE_COST)) is not None:
            return refused
        try:
            body: Any = json.loads(request.content or b"null")
        except ValueError:
            body = None
        video = self._find(str(body.get("id") or "")) if isinstance(body, dict) else None
        if video is None:
            return google_error(
                404, "videoNotFound", "The video that you are trying to update cannot be found."
            )
        if video.channel.user != grant.user:
            return google_error(
                403, "forbidden", "The video that you are trying to update cannot be updated."
            )
        snippet = body.get("snippet")
        if "snippet" in query["part"].split(","):
            if not isinstance(snippet, dict):
                return google_error(400, "invalidVideoMetadata", "The request metadata is invalid.")
            problem = metadata_problem({"snippet": snippet, "status": {}})
            if problem is not None:
                return problem
            if str(snippet.get("categoryId") or "") not in CATEGORIES:
                return google_error(
                    400,
                    "invalidCategoryId",
                    "The snippet.categoryId property specifies an invalid category ID.",
                )
            video.resource = {
                **video.resource,
                "snippet": {k: snippet[k] for k in MUTABLE_SNIPPET if k in snippet},
            }
        return httpx.Response(200, json=video_json(video, set(query["part"].split(","))))
