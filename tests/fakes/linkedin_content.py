"""The content half of the fake LinkedIn (tests/fakes/linkedin.py): the Images, Videos and
Posts APIs, as a mixin over the server's state.

Images: initializeUpload gives a pre-signed upload URL; the bytes PUT there make the image
AVAILABLE (or PROCESSING_FAILED when they are no JPEG, PNG or GIF). Videos: initializeUpload
checks 75 KB to 500 MB and answers one upload instruction per `part_size` bytes; each PUT
must be exactly its byte range and is acknowledged with an ETag; finalizeUpload needs every
ETag in order; the video then answers PROCESSING for `processing_polls` reads before it is
AVAILABLE (or PROCESSING_FAILED). Posts: the author must be the member or a page they are an
approved ADMINISTRATOR of, with the matching scope; media must exist, be the author's and be
AVAILABLE; commentary is read as little text and counted; an identical post is a duplicate.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from tests.fakes.linkedin_state import (
    FakeImage,
    FakePost,
    FakeVideo,
    Grant,
    access_denied,
    error,
    input_error,
    read_little,
)

MIN_VIDEO_BYTES = 75 * 1000
MAX_VIDEO_BYTES = 500 * 1000 * 1000
MAX_COMMENTARY = 3000


class ContentRoutes:
    """Needs, from the server it is mixed into: `www`, `part_size`, `processing_polls`,
    `posts_per_day`, `_ids`, `now()` and `may_post_as()`."""

    www: str
    part_size: int
    processing_polls: int
    posts_per_day: int
    _ids: Iterator[int]
    now: Callable[[], float]
    may_post_as: Callable[[Grant, str], bool]
    images: dict[str, FakeImage]
    videos: dict[str, FakeVideo]
    posts: list[FakePost]

    # -- media ------------------------------------------------------------------------------

    def _images(
        self, request: httpx.Request, grant: Grant, params: dict[str, str]
    ) -> httpx.Response:
        if params.get("action") != "initializeUpload":
            return error(400, "Unknown action", "ILLEGAL_ARGUMENT")
        owner = ((json.loads(request.content) or {}).get("initializeUploadRequest") or {}).get(
            "owner"
        )
        if not isinstance(owner, str) or not self.may_post_as(grant, owner):
            return httpx.Response(403, json=access_denied("images.ACTION-initializeUpload"))
        image_id = f"D4E10AQ{next(self._ids):x}"
        image = FakeImage(urn=f"urn:li:image:{image_id}", owner=owner)
        self.images[image_id] = image
        return httpx.Response(
            200,
            json={
                "value": {
                    "uploadUrlExpiresAt": int(self.now() * 1000) + 86_400_000,
                    "uploadUrl": f"{self.www}/dms-uploads/sp/{image_id}/feedshare-uploadedImage/0"
                    "?ca=vector_feedshare&cn=uploads&sync=0&v=beta",
                    "image": image.urn,
                }
            },
        )

    def _videos(
        self, request: httpx.Request, grant: Grant, params: dict[str, str]
    ) -> httpx.Response:
        body = json.loads(request.content or b"{}")
        if params.get("action") == "initializeUpload":
            ask = body.get("initializeUploadRequest") or {}
            owner, size = ask.get("owner"), ask.get("fileSizeBytes")
            if not isinstance(owner, str) or not self.may_post_as(grant, owner):
                return httpx.Response(403, json=access_denied("videos.ACTION-initializeUpload"))
            if not isinstance(size, int) or not MIN_VIDEO_BYTES <= size <= MAX_VIDEO_BYTES:
                return httpx.Response(
                    400,
                    json=input_error(
                        400,
                        "Video file size must be between 75 KB and 500 MB",
                        "/initializeUploadRequest/fileSizeBytes",
                        "INVALID_VALUE",
                    ),
                )
            video_id = f"C5505AQ{next(self._ids):x}"
            ranges = [
                (first, min(first + self.part_size, size) - 1)
                for first in range(0, size, self.part_size)
            ]
            token = "" if len(ranges) == 1 else f"upload-token-{video_id}"
            upload = f"{self.www}/dms-uploads/sp/{video_id}/uploadedVideo"
            self.videos[video_id] = FakeVideo(
                urn=f"urn:li:video:{video_id}",
                owner=owner,
                size=size,
                ranges=ranges,
                upload_token=token,
            )
            return httpx.Response(
                200,
                json={
                    "value": {
                        "uploadUrlsExpireAt": int(self.now() * 1000) + 86_400_000,
                        "video": f"urn:li:video:{video_id}",
                        "uploadInstructions": [
                            {
                                "uploadUrl": f"{upload}/{n}?ca=vector_feedshare&cn=uploads",
                                "firstByte": first,
                                "lastByte": last,
                            }
                            for n, (first, last) in enumerate(ranges)
                        ],
                        "uploadToken": token,
                    }
                },
            )
        if params.get("action") == "finalizeUpload":
            ask = body.get("finalizeUploadRequest") or {}
            video = self.videos.get(str(ask.get("video", "")).removeprefix("urn:li:video:"))
            if video is None:
                return error(404, "Video not found", "NOT_FOUND")
            if not self.may_post_as(grant, video.owner):
                return httpx.Response(403, json=access_denied("videos.ACTION-finalizeUpload"))
            expected = [video.etags.get(n) for n in range(len(video.ranges))]
            if (
                ask.get("uploadToken") != video.upload_token
                or ask.get("uploadedPartIds") != expected
            ):
                return httpx.Response(
                    400,
                    json=input_error(
                        400,
                        "Uploaded part ids do not match the uploaded parts",
                        "/finalizeUploadRequest/uploadedPartIds",
                        "INVALID_VALUE",
                    ),
                )
            video.finalized = True
            video.polls_left = self.processing_polls
            return httpx.Response(200)
        return error(400, "Unknown action", "ILLEGAL_ARGUMENT")

    def _upload(self, request: httpx.Request, path: str) -> httpx.Response:
        if request.method != "PUT":
            return httpx.Response(405)
        media_id = path.split("/")[3]
        if media_id in self.images:
            image = self.images[media_id]
            image.data = request.content
            image.upload_authorization = request.headers.get("authorization")
            return httpx.Response(201)
        video = self.videos.get(media_id)
        if video is None:
            return httpx.Response(404, text="unknown upload")
        number = int(path.rsplit("/", 1)[-1])
        first, last = video.ranges[number]
        if len(request.content) != last - first + 1:
            return httpx.Response(400, text="part size does not match the upload instructions")
        video.parts[number] = request.content
        video.puts += 1
        video.etags[number] = f"/AQH{media_id}-part{number}-{len(request.content)}"
        return httpx.Response(200, headers={"ETag": video.etags[number]})

    def _video(self, grant: Grant, urn: str) -> httpx.Response:
        video = self.videos.get(urn.removeprefix("urn:li:video:"))
        if video is None:
            return error(404, f"Video {urn} not found", "NOT_FOUND")
        status = video.status()
        if status == "PROCESSING":
            video.polls_left -= 1
        body: dict[str, Any] = {"id": video.urn, "owner": video.owner, "status": status}
        if status == "AVAILABLE":
            body |= {
                "duration": 12_000,
                "aspectRatioWidth": 16.0,
                "aspectRatioHeight": 9.0,
                "downloadUrl": f"https://dms.licdn.com/playlist/{video.urn}",
            }
        if status == "PROCESSING_FAILED":
            body["processingFailureReason"] = "Unsupported video codec"
        return httpx.Response(200, json=body)

    # -- posts ------------------------------------------------------------------------------

    def _create_post(
        self, request: httpx.Request, grant: Grant, _: dict[str, str]
    ) -> httpx.Response:
        body = json.loads(request.content or b"{}")
        for name in ("author", "visibility", "distribution", "lifecycleState"):
            if name not in body:
                return httpx.Response(
                    422,
                    json=input_error(
                        422, f"Field /{name} is required", f"/{name}", "FIELD_VALUE_MISSING"
                    ),
                )
        author = str(body["author"])
        if not self.may_post_as(grant, author):
            return httpx.Response(
                403, json=access_denied("partnerApiPostsExternal.CREATE.20260501")
            )
        today = [p for p in self.posts if p.author == author and p.created_at > self.now() - 86_400]
        if len(today) >= self.posts_per_day:
            return error(
                429,
                "Resource level throttle MEMBER DAY limit for calls to this resource is reached.",
                "TOO_MANY_REQUESTS",
            )
        text, hashtags = read_little(str(body.get("commentary", "")))
        if len(text) > MAX_COMMENTARY:
            return httpx.Response(
                422,
                json=input_error(
                    422,
                    f"Commentary is {len(text)} characters long; the maximum is {MAX_COMMENTARY}",
                    "/commentary",
                    "MAX_LENGTH_EXCEEDED",
                ),
            )
        content = body.get("content")
        problem = self._check_content(author, content)
        if problem is not None:
            return problem
        for post in self.posts:
            if (post.author, post.commentary, post.content) == (
                author,
                body.get("commentary", ""),
                content,
            ):
                return error(422, f"Content is a duplicate of {post.urn}", "DUPLICATE_POST")
        urn = f"urn:li:share:{next(self._ids)}"
        self.posts.append(
            FakePost(
                urn=urn,
                author=author,
                commentary=body.get("commentary", ""),
                text=text,
                hashtags=hashtags,
                visibility=body["visibility"],
                content=content,
                created_at=self.now(),
            )
        )
        return httpx.Response(201, headers={"x-restli-id": urn, "x-linkedin-id": urn})

    def _check_content(self, author: str, content: Any) -> httpx.Response | None:
        if content is None:
            return None
        if "multiImage" in content:
            images = content["multiImage"].get("images") or []
            if not 2 <= len(images) <= 20:
                return httpx.Response(
                    422,
                    json=input_error(
                        422,
                        "A multi-image post takes 2 to 20 images",
                        "/content/multiImage/images",
                        "INVALID_VALUE",
                    ),
                )
            ids = [image.get("id") for image in images]
        elif "media" in content:
            ids = [content["media"].get("id")]
        elif "article" in content:
            article = content["article"]
            if not str(article.get("source", "")).startswith(("http://", "https://")):
                return httpx.Response(
                    422,
                    json=input_error(
                        422,
                        "Article source must be a URL",
                        "/content/article/source",
                        "INVALID_VALUE",
                    ),
                )
            if not article.get("title"):
                return httpx.Response(
                    422,
                    json=input_error(
                        422,
                        "Article title is required",
                        "/content/article/title",
                        "FIELD_VALUE_MISSING",
                    ),
                )
            return None
        else:
            return error(422, "Unsupported content", "INVALID_VALUE")
        for media_id in ids:
            media_id = str(media_id)
            media: FakeImage | FakeVideo | None = (
                self.images.get(media_id.removeprefix("urn:li:image:"))
                if media_id.startswith("urn:li:image:")
                else self.videos.get(media_id.removeprefix("urn:li:video:"))
            )
            if media is None or media.owner != author:
                return error(
                    422,
                    f"Media {media_id} does not exist or belongs to someone else",
                    "INVALID_VALUE",
                )
            status = media.status if isinstance(media, FakeImage) else media.status()
            if status != "AVAILABLE":
                return error(422, f"Media {media_id} is not ready ({status})", "INVALID_VALUE")
        return None
