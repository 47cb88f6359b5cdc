"""Instagram's side of the fake Graph API (tests/fakes/meta_graph.py): content publishing with
Facebook Login, after "Content Publishing", IG User Media, IG Container, IG Media and IG User
Content Publishing Limit.

Containers are made from public URLs Meta "fetches": a URL registered with `serve` is
fetched as registered (its type, size and shape are checked: JPEG only, 8 MB, feed photos
4:5 to 1.91:1, videos must be MP4/MOV), any other https URL as a good file of its kind, and
an http or unreachable one (`unreachable`) fails with 9004 / 2207052. A photo container is
FINISHED at once, a video IN_PROGRESS for `processing_polls` reads first, a carousel parent
is made only from FINISHED children (2 to 10). Containers expire after 24 hours.
`media_publish` wants a FINISHED container and refuses past the 100 posts a rolling 24 hours
(code 9, subcode 2207042); a published container reads PUBLISHED. Deleting needs a user token
with `instagram_manage_contents`; captions can't be changed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from tests.fakes.meta_world import FakeInstagram, FakeToken, MetaWorld, error, gone

QUOTA = 100
WINDOW = 86_400
_FEED_ASPECT = (0.8, 1.91)


@dataclass
class FakeFile:
    mime: str
    size: int = 1000
    width: int = 1080
    height: int = 1080
    #: An MP4 or MOV starts its ftyp box here; anything else fails processing.
    video_ok: bool = True


@dataclass
class FakeContainer:
    id: str
    ig_id: str
    media_type: str  # IMAGE, VIDEO, REELS, STORIES, CAROUSEL
    url: str | None
    caption: str
    alt_text: str | None
    carousel_item: bool
    created_at: float
    children: list[str] = field(default_factory=list)
    polls_left: int = 0
    status_code: str = "IN_PROGRESS"
    status: str = ""
    share_to_feed: bool | None = None


@dataclass
class FakeMedia:
    id: str
    ig_id: str
    container_id: str
    caption: str
    media_type: str
    product_type: str
    permalink: str
    published_at: float
    deleted: bool = False


class InstagramSide:
    def __init__(self, world: MetaWorld, *, processing_polls: int = 1) -> None:
        self.world = world
        self.processing_polls = processing_polls
        self.files: dict[str, FakeFile] = {}
        self.unreachable: set[str] = set()
        self.containers: dict[str, FakeContainer] = {}
        self.media: dict[str, FakeMedia] = {}

    def serve(self, url: str, file: FakeFile) -> None:
        """What Meta finds when it fetches `url`."""
        self.files[url] = file

    def published(self, ig: FakeInstagram) -> list[FakeMedia]:
        return [m for m in self.media.values() if m.ig_id == ig.id and not m.deleted]

    # -- routing ----------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, params: dict[str, str], token: FakeToken
    ) -> httpx.Response | None:
        parts = path.strip("/").split("/")
        ig = self.world.instagram(parts[0])
        if ig is not None:
            refused = self._allowed(ig, token)
            if refused is not None:
                return refused
            if len(parts) == 1 and method == "GET":
                return httpx.Response(
                    200, json={"id": ig.id, "username": ig.username, "name": ig.name}
                )
            edge = parts[1] if len(parts) == 2 else ""
            if (method, edge) == ("POST", "media"):
                return self._create(ig, params)
            if (method, edge) == ("GET", "media"):
                return self._list(ig, params)
            if (method, edge) == ("POST", "media_publish"):
                return self._publish(ig, params)
            if (method, edge) == ("GET", "content_publishing_limit"):
                return self._limit(ig)
            return error(400, 100, f"(#100) Unsupported {method} on /{path}")
        if len(parts) != 1:
            return None
        if parts[0] in self.containers:
            return self._container(method, self.containers[parts[0]], token)
        if parts[0] in self.media:
            return self._media(method, self.media[parts[0]], token, params)
        return None

    def _allowed(self, ig: FakeInstagram, token: FakeToken) -> httpx.Response | None:
        page = self.world.pages[ig.page_id]
        if token.page_id not in (None, page.id) or token.user_id not in page.roles:
            return error(
                400,
                100,
                f"Unsupported request. Object with ID '{ig.id}' does not exist, cannot be "
                "loaded due to missing permissions, or does not support this operation.",
                type="GraphMethodException",
                subcode=33,
            )
        for needed in ("instagram_basic", "instagram_content_publish"):
            if needed not in token.scopes:
                return error(403, 10, f"(#10) Application does not have permission: {needed}")
        return None

    # -- containers -------------------------------------------------------------------------

    def _create(self, ig: FakeInstagram, params: dict[str, str]) -> httpx.Response:
        kind = params.get("media_type") or "IMAGE"
        caption = params.get("caption", "")
        if len(caption) > 2200:
            return error(400, 100, "(#100) The caption is too long", subcode=2207010)
        if kind == "CAROUSEL":
            return self._carousel(ig, params, caption)
        video = "video_url" in params
        url = params.get("video_url") if video else params.get("image_url")
        if not url or (kind in ("VIDEO", "REELS") and not video):
            return error(400, 100, "(#100) image_url or video_url is required")
        if kind == "VIDEO" and params.get("is_carousel_item") != "true":
            return error(
                400,
                100,
                "(#100) The VIDEO media type is deprecated for single videos; use REELS.",
            )
        fetched = self._fetch(url, video=video, feed=kind == "IMAGE")
        if isinstance(fetched, httpx.Response):
            return fetched
        container = FakeContainer(
            id=self.world.new_id(),
            ig_id=ig.id,
            media_type="IMAGE" if kind == "IMAGE" else kind,
            url=url,
            caption=caption,
            alt_text=params.get("alt_text"),
            carousel_item=params.get("is_carousel_item") == "true",
            created_at=self.world.clock(),
            polls_left=self.processing_polls if video else 0,
            share_to_feed=params.get("share_to_feed") == "true"
            if "share_to_feed" in params
            else None,
        )
        if not fetched.video_ok:
            container.status = "Error: Media upload has failed with error code 2207026"
        if not video:
            container.status_code = "FINISHED"
        self.containers[container.id] = container
        return httpx.Response(200, json={"id": container.id})

    def _fetch(self, url: str, *, video: bool, feed: bool) -> FakeFile | httpx.Response:
        if not url.startswith("https://") or url in self.unreachable:
            return error(
                400,
                9004,
                "Only photo or video can be accepted as media type.",
                subcode=2207052,
                user_title="Media download has failed.",
                user_msg="The media could not be fetched from this uri: " + url,
            )
        file = self.files.get(url) or FakeFile(mime="video/mp4" if video else "image/jpeg")
        if not video and file.mime != "image/jpeg":
            return error(
                400, 9004, "Only photo or video can be accepted as media type.", subcode=2207005
            )
        if not video and file.size > 8_000_000:
            return error(400, 9004, "The image size is too large.", subcode=2207004)
        if feed and not video:
            ratio = file.width / file.height
            if not _FEED_ASPECT[0] - 0.01 <= ratio <= _FEED_ASPECT[1] + 0.01:
                return error(
                    400,
                    36003,
                    "The aspect ratio is not supported.",
                    subcode=2207009,
                    user_msg="The submitted image's aspect ratio isn't within the allowed range.",
                )
        return file

    def _carousel(self, ig: FakeInstagram, params: dict[str, str], caption: str) -> httpx.Response:
        ids = [c for c in params.get("children", "").split(",") if c]
        children = [self.containers.get(c) for c in ids]
        if not 2 <= len(ids) <= 10 or any(
            c is None or c.ig_id != ig.id or not c.carousel_item for c in children
        ):
            return error(
                400,
                100,
                "(#100) The carousel has too little or too many attachments.",
                subcode=2207028,
            )
        if any(c is not None and self._state(c) != "FINISHED" for c in children):
            return error(
                400,
                9007,
                "Media ID is not available",
                subcode=2207027,
                user_msg="The media is not ready for publishing, please wait for a moment.",
            )
        container = FakeContainer(
            id=self.world.new_id(),
            ig_id=ig.id,
            media_type="CAROUSEL",
            url=None,
            caption=caption,
            alt_text=None,
            carousel_item=False,
            created_at=self.world.clock(),
            children=ids,
            status_code="FINISHED",
        )
        self.containers[container.id] = container
        return httpx.Response(200, json={"id": container.id})

    def _state(self, container: FakeContainer) -> str:
        waiting = container.status_code in ("IN_PROGRESS", "FINISHED")
        if waiting and self.world.clock() - container.created_at >= WINDOW:
            container.status_code = "EXPIRED"
        return container.status_code

    def _container(self, method: str, container: FakeContainer, token: FakeToken) -> httpx.Response:
        if method != "GET":
            return error(400, 100, "(#100) Unsupported operation on a container")
        if container.status_code == "IN_PROGRESS":
            if container.polls_left > 0:
                container.polls_left -= 1
            elif container.status:
                container.status_code = "ERROR"
            else:
                container.status_code = "FINISHED"
        state = self._state(container)
        return httpx.Response(
            200,
            json={"id": container.id, "status_code": state, "status": container.status or state},
        )

    # -- publishing -------------------------------------------------------------------------

    def _publish(self, ig: FakeInstagram, params: dict[str, str]) -> httpx.Response:
        container = self.containers.get(params.get("creation_id", ""))
        if container is None or container.ig_id != ig.id or container.carousel_item:
            return error(400, 100, "(#100) Invalid creation_id", subcode=2207006)
        state = self._state(container)
        if state == "PUBLISHED":
            return error(400, 100, "(#100) The media has already been published", subcode=2207008)
        if state != "FINISHED":
            return error(
                400,
                9007,
                "Media ID is not available",
                subcode=2207027,
                user_msg="The media is not ready for publishing, please wait for a moment.",
            )
        now = self.world.clock()
        recent = [
            m for m in self.media.values() if m.ig_id == ig.id and now - m.published_at < WINDOW
        ]
        if len(recent) >= QUOTA:
            return error(
                400,
                9,
                "Application request limit reached",
                subcode=2207042,
                user_msg="You have reached the maximum number of posts that is allowed in a day.",
            )
        product = {"REELS": "REELS", "STORIES": "STORY"}.get(container.media_type, "FEED")
        kind = {"CAROUSEL": "CAROUSEL_ALBUM", "REELS": "VIDEO", "STORIES": "IMAGE"}.get(
            container.media_type, container.media_type
        )
        code = secrets.token_urlsafe(8)
        where = {"REELS": "reel", "STORY": "stories/" + ig.username}.get(product, "p")
        media = FakeMedia(
            id=str(18_000_000_000_000_000 + len(self.media) + 1),
            ig_id=ig.id,
            container_id=container.id,
            caption="" if product == "STORY" else container.caption,
            media_type=kind,
            product_type=product,
            permalink=f"https://www.instagram.com/{where}/{code}/",
            published_at=now,
        )
        self.media[media.id] = media
        container.status_code = "PUBLISHED"
        return httpx.Response(200, json={"id": media.id})

    def _list(self, ig: FakeInstagram, params: dict[str, str]) -> httpx.Response:
        limit = int(params.get("limit") or 25)
        items = sorted(self.published(ig), key=lambda m: m.published_at, reverse=True)[:limit]
        return httpx.Response(200, json={"data": [self._media_json(m) for m in items]})

    def _limit(self, ig: FakeInstagram) -> httpx.Response:
        now = self.world.clock()
        used = sum(
            1 for m in self.media.values() if m.ig_id == ig.id and now - m.published_at < WINDOW
        )
        return httpx.Response(
            200,
            json={
                "data": [
                    {
                        "config": {"quota_total": QUOTA, "quota_duration": WINDOW},
                        "quota_usage": used,
                    }
                ]
            },
        )

    def _media(
        self, method: str, media: FakeMedia, token: FakeToken, params: dict[str, str]
    ) -> httpx.Response:
        if media.deleted:
            return gone(media.id)
        if method == "GET":
            return httpx.Response(200, json=self._media_json(media))
        if method == "POST":
            if set(params) - {"comment_enabled", "access_token", "appsecret_proof"}:
                return error(400, 100, "(#100) Only comment_enabled can be updated")
            return httpx.Response(200, json={"success": True})
        if method == "DELETE":
            page = self.world.pages[self.world.instagram(media.ig_id).page_id]  # type: ignore[union-attr]
            if token.kind != "user" or token.user_id not in page.roles:
                return error(403, 10, "(#10) Application does not have permission for this action")
            if "instagram_manage_contents" not in token.scopes:
                return error(403, 200, "(#200) Requires instagram_manage_contents permission")
            media.deleted = True
            return httpx.Response(200, json={"success": True, "deleted_id": media.id})
        return error(400, 100, "(#100) Unsupported operation")

    def _media_json(self, media: FakeMedia) -> dict[str, object]:
        stamp = datetime.fromtimestamp(media.published_at, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
        return {
            "id": media.id,
            "caption": media.caption,
            "media_type": media.media_type,
            "media_product_type": media.product_type,
            "permalink": media.permalink,
            "timestamp": stamp,
        }


__all__ = ["QUOTA", "FakeContainer", "FakeFile", "FakeMedia", "InstagramSide"]
