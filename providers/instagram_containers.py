"""Instagram's container publishing (Instagram API with Facebook Login, "Content Publishing",
IG User Media, IG Container, IG Media and IG User Content Publishing Limit references;
Graph API v27.0 on graph.facebook.com).

1. `POST /{ig-user-id}/media` makes a container: Meta fetches the media from the URL given
   (`image_url` or `video_url`; Crier's signed `MediaFile.url`). A photo: `image_url`,
   `caption`, `alt_text`. A single video: `media_type=REELS`, `video_url`, `caption`,
   `share_to_feed=true`. A story: `media_type=STORIES` with the URL, no caption. A carousel:
   a child per item (`is_carousel_item=true`; videos `media_type=VIDEO`), then, once they
   are FINISHED, `media_type=CAROUSEL` with `children` (comma-separated) and the caption.
2. `GET /{container-id}?fields=status_code,status`: IN_PROGRESS, FINISHED, ERROR (`status`
   says why), EXPIRED (not published within 24 hours), PUBLISHED.
3. `POST /{ig-user-id}/media_publish` with `creation_id`: the media id.
4. `GET /{ig-media-id}?fields=permalink`: its link.

Deleting is `DELETE /{ig-media-id}` (since 3 December 2025, Facebook Login only, with a
*user* token and `instagram_manage_contents`; stories, reels and whole carousels). A
published caption can't be changed (`POST /{ig-media-id}` takes only `comment_enabled`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from providers.base import MediaFile
from providers.errors import PermanentError, TransientError
from providers.instagram_limits import is_video
from providers.meta_graph import GraphApi
from providers.meta_lookup import PAGE_SIZE

IN_PROGRESS, FINISHED, ERROR, EXPIRED, PUBLISHED = (
    "IN_PROGRESS",
    "FINISHED",
    "ERROR",
    "EXPIRED",
    "PUBLISHED",
)
_NO_URL = (
    "Instagram fetches photos and videos from Crier's own address, and this post's media has "
    "none: the operator must set PUBLIC_URL to an https address reachable from the internet."
)


@dataclass(frozen=True, kw_only=True)
class PublishingQuota:
    """How much of the 24-hour publishing limit the account has used."""

    used: int
    total: int
    #: The window, in seconds (86,400).
    window: int

    @property
    def left(self) -> int:
        return max(0, self.total - self.used)


def container_params(
    item: MediaFile, *, story: bool, carousel_item: bool, caption: str | None
) -> dict[str, str]:
    """What `POST /{ig-user-id}/media` gets for one item."""
    if not item.url:
        raise PermanentError(_NO_URL)
    params: dict[str, str] = {}
    video = is_video(item)
    if story:
        params["media_type"] = "STORIES"
    elif carousel_item:
        params["is_carousel_item"] = "true"
        if video:
            params["media_type"] = "VIDEO"
    elif video:
        params["media_type"] = "REELS"
        params["share_to_feed"] = "true"
    params["video_url" if video else "image_url"] = item.url
    if not video and not story and item.alt_text:
        params["alt_text"] = item.alt_text  # image posts only: not reels, not stories
    if caption and not story and not carousel_item:
        params["caption"] = caption
    return params


class Containers:
    def __init__(self, graph: GraphApi) -> None:
        self.graph = graph

    async def create(self, ig_user_id: str, token: str, params: Mapping[str, str]) -> str:
        body = await self.graph.call(
            "POST", self.graph.url(f"/{ig_user_id}/media"), token, data=dict(params)
        )
        return _id(body)

    async def carousel(
        self, ig_user_id: str, token: str, children: Sequence[str], caption: str
    ) -> str:
        params = {"media_type": "CAROUSEL", "children": ",".join(children)}
        if caption:
            params["caption"] = caption
        return await self.create(ig_user_id, token, params)

    async def status(self, container_id: str, token: str) -> tuple[str, str]:
        """(status_code, status) of a container."""
        body = await self.graph.call(
            "GET",
            self.graph.url(f"/{container_id}"),
            token,
            params={"fields": "status_code,status"},
        )
        return str(body.get("status_code") or ""), str(body.get("status") or "")

    async def publish(self, ig_user_id: str, token: str, container_id: str) -> str:
        """`media_publish`: the media id. A lost answer is ambiguous (the post may be out);
        the container's status (PUBLISHED) tells at the next poll."""
        body = await self.graph.call(
            "POST",
            self.graph.url(f"/{ig_user_id}/media_publish"),
            token,
            creates=True,
            data={"creation_id": container_id},
        )
        return _id(body)

    async def permalink(self, media_id: str, token: str) -> str | None:
        body = await self.graph.call(
            "GET", self.graph.url(f"/{media_id}"), token, params={"fields": "permalink"}
        )
        link = body.get("permalink")
        return str(link) if link else None

    async def recent(self, ig_user_id: str, token: str) -> list[Mapping[str, Any]]:
        """The account's latest media, newest first."""
        body = await self.graph.call(
            "GET",
            self.graph.url(f"/{ig_user_id}/media"),
            token,
            params={"fields": "id,caption,permalink,timestamp", "limit": str(PAGE_SIZE)},
        )
        return [m for m in body.get("data") or () if isinstance(m, Mapping)]

    async def quota(self, ig_user_id: str, token: str) -> PublishingQuota:
        body = await self.graph.call(
            "GET",
            self.graph.url(f"/{ig_user_id}/content_publishing_limit"),
            token,
            params={"fields": "config,quota_usage"},
        )
        data = body.get("data")
        first: Mapping[str, Any] = {}
        if isinstance(data, list) and data and isinstance(data[0], Mapping):
            first = data[0]
        config = first.get("config")
        if not isinstance(config, Mapping):
            config = {}
        return PublishingQuota(
            used=int(first.get("quota_usage") or 0),
            total=int(config.get("quota_total") or 0),
            window=int(config.get("quota_duration") or 86_400),
        )


def _id(body: Mapping[str, Any]) -> str:
    value = body.get("id")
    if not value:
        raise TransientError("Instagram answered without the id Crier asked for.")
    return str(value)
