"""The requests that put a post on a Facebook Page (Pages API "Posts", Page Photos, Video API
"Publish a video" with the Resumable Upload API, and "Reels Publishing"), Graph API v27.0.

- Text and link: `POST /{page-id}/feed` with `message` and `link`.
- One photo: `POST /{page-id}/photos`, multipart, the file as `source`, with `message` and
  `alt_text_custom`.
- Several photos: each `POST /{page-id}/photos` with `published=false` (an unpublished photo
  nobody sees), then `POST /{page-id}/feed` with `attached_media[i]={"media_fbid": id}`.
- A regular video: `POST /{app-id}/uploads` (`file_name`, `file_length`, `file_type`) opens
  an upload session `upload:<id>`; `POST /upload:<id>` with `file_offset: 0` and the bytes
  answers a file handle `h`; `POST graph-video.../{page-id}/videos` with
  `fbuploader_video_file_chunk=<h>` and `description` creates the video. Both upload calls
  take only a user token ("You will need: a User access token"); the video is created with
  the Page token.
- A reel: `POST /{page-id}/video_reels` `upload_phase=start` answers `video_id` and
  `upload_url`; `POST <upload_url>` (rupload.facebook.com) with `offset: 0`, `file_size` and
  the bytes; `POST /{page-id}/video_reels` `upload_phase=finish`, `video_state=PUBLISHED`
  and `description` publishes it once Facebook has processed it.
- Both kinds: `GET /{video-id}?fields=status,permalink_url` tells how processing goes:
  `status.video_status` ("uploading", "upload_complete", "processing", "ready", "error",
  "expired") and, for reels, `status.publishing_phase.status` ("not_started",
  "in_progress", "complete", "error").

Only the calls marked `creates` can put something on the Page; an upload whose answer was
lost left nothing visible, so publishing again is safe then.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from providers.base import MediaFile, PublishResult
from providers.errors import PermanentError, TransientError
from providers.meta_graph import GraphApi

#: Seconds between looks at a processing video: the first looks sooner.
POLL_DELAYS = (5.0, 10.0, 20.0, 30.0)


class PageUploads:
    def __init__(self, graph: GraphApi) -> None:
        self.graph = graph

    # -- posts and photos -------------------------------------------------------------------

    async def feed(
        self,
        page_id: str,
        token: str,
        message: str,
        *,
        link: str | None = None,
        photo_ids: Sequence[str] = (),
    ) -> str:
        """Create the post; its id (`<page-id>_<post-id>`)."""
        data: dict[str, str] = {"message": message}
        if link:
            data["link"] = link
        for index, photo_id in enumerate(photo_ids):
            data[f"attached_media[{index}]"] = json.dumps({"media_fbid": photo_id})
        body = await self.graph.call(
            "POST", self.graph.url(f"/{page_id}/feed"), token, creates=True, data=data
        )
        return _id_of(body, "id", creates=True)

    async def photo(
        self, page_id: str, token: str, item: MediaFile, *, message: str, published: bool
    ) -> Mapping[str, Any]:
        """Upload one photo: published with the message (answers `id` and `post_id`), or
        unpublished to attach to a post (answers `id`)."""
        content = await read_file(item)
        data = {"published": "true" if published else "false"}
        if published and message:
            data["message"] = message
        if item.alt_text:
            data["alt_text_custom"] = item.alt_text
        name = item.file_name or (item.path.name if item.path else "photo")
        return await self.graph.call(
            "POST",
            self.graph.url(f"/{page_id}/photos"),
            token,
            creates=published,
            data=data,
            files={"source": (name, content, item.mime)},
        )

    # -- regular videos ---------------------------------------------------------------------

    async def upload_video(self, user_token: str, item: MediaFile) -> str:
        """Send the file through the Resumable Upload API; its file handle."""
        app = self.graph.app
        if app is None:
            raise PermanentError(
                "Crier has no Meta app (META_APP_ID), which Facebook's video upload needs."
            )
        content = await read_file(item)
        name = item.file_name or (item.path.name if item.path else "video.mp4")
        session = await self.graph.call(
            "POST",
            self.graph.url(f"/{app.client_id}/uploads"),
            user_token,
            params={"file_name": name, "file_length": str(len(content)), "file_type": item.mime},
        )
        session_id = _id_of(session, "id")
        if not session_id.startswith("upload:"):
            raise TransientError("Facebook opened no upload session for the video.")
        uploaded = await self.graph.call(
            "POST",
            self.graph.url(f"/{session_id}"),
            user_token,
            headers={"file_offset": "0", "Content-Type": "application/octet-stream"},
            content=content,
        )
        return _id_of(uploaded, "h")

    async def create_video(self, page_id: str, token: str, handle: str, description: str) -> str:
        """Create the Page video from an uploaded file handle; its id."""
        data = {"fbuploader_video_file_chunk": handle}
        if description:
            data["description"] = description
        body = await self.graph.call(
            "POST", f"{self.graph.video_base}/{page_id}/videos", token, creates=True, data=data
        )
        return _id_of(body, "id", creates=True)

    # -- reels ------------------------------------------------------------------------------

    async def reel(self, page_id: str, token: str, item: MediaFile, description: str) -> str:
        """Start, upload and publish a reel (it goes out once processed); its video id."""
        content = await read_file(item)
        started = await self.graph.call(
            "POST",
            self.graph.url(f"/{page_id}/video_reels"),
            token,
            data={"upload_phase": "start"},
        )
        video_id = _id_of(started, "video_id")
        upload_url = str(started.get("upload_url") or f"{self.graph.upload_base}/{video_id}")
        if not self._ours(upload_url):
            raise TransientError("Facebook named an upload address Crier doesn't trust.")
        uploaded = await self.graph.call(
            "POST",
            upload_url,
            token,
            proof=False,
            headers={"offset": "0", "file_size": str(len(content))},
            content=content,
        )
        if uploaded.get("success") is not True:
            raise TransientError("Facebook didn't take the reel's video; trying again.")
        data = {"upload_phase": "finish", "video_id": video_id, "video_state": "PUBLISHED"}
        if description:
            data["description"] = description
        finished = await self.graph.call(
            "POST",
            self.graph.url(f"/{page_id}/video_reels"),
            token,
            creates=True,
            data=data,
        )
        if finished.get("success") is False:
            raise PermanentError("Facebook refused to publish the reel.")
        return video_id

    def _ours(self, url: str) -> bool:
        """The Page token goes with the upload: only to the configured upload host or to
        Facebook's own over https."""
        parts, base = urlsplit(url), urlsplit(self.graph.upload_base)
        if (parts.scheme, parts.netloc) == (base.scheme, base.netloc):
            return True
        host = parts.hostname or ""
        facebook = host == "facebook.com" or host.endswith(".facebook.com")
        return parts.scheme == "https" and facebook

    # -- processing -------------------------------------------------------------------------

    async def video_status(self, video_id: str, token: str) -> Mapping[str, Any]:
        return await self.graph.call(
            "GET",
            self.graph.url(f"/{video_id}"),
            token,
            params={"fields": "status,permalink_url"},
        )


def video_ready(video: Mapping[str, Any], *, reel: bool) -> bool:
    """Whether the video is out (True), still processing (False), or failed (raises)."""
    status = video.get("status")
    if not isinstance(status, Mapping):
        return False
    overall = str(status.get("video_status") or "")
    processing = _phase(status, "processing_phase")
    publishing = _phase(status, "publishing_phase")
    if overall == "error" or processing.get("status") == "error":
        raise PermanentError(f"Facebook couldn't process the video: {_reason(processing)}")
    if publishing.get("status") == "error":
        raise PermanentError(f"Facebook couldn't publish the reel: {_reason(publishing)}")
    if overall == "expired":
        raise PermanentError("Facebook dropped the video before it was published; post again.")
    if overall != "ready":
        return False
    if reel:
        return publishing.get("status") == "complete" or publishing.get("publish_status") in (
            "published",
        )
    return True


def video_result(
    video: Mapping[str, Any], *, video_id: str, page_id: str, reel: bool
) -> PublishResult:
    """The published video: a reel's link is /reel/<id>, a video's its permalink."""
    if reel:
        url = f"https://www.facebook.com/reel/{video_id}"
    else:
        permalink = str(video.get("permalink_url") or "")
        if permalink.startswith("https://"):
            url = permalink
        elif permalink.startswith("/"):
            url = f"https://www.facebook.com{permalink}"
        else:
            url = f"https://www.facebook.com/{page_id}/videos/{video_id}/"
    kind = "reel" if reel else "video"
    return PublishResult(
        platform_id=video_id,
        url=url,
        ref={"kind": kind, "video_id": video_id, "page_id": page_id, "parts": 1},
    )


def poll_delay(looks: int) -> float:
    return POLL_DELAYS[min(looks, len(POLL_DELAYS) - 1)]


async def read_file(item: MediaFile) -> bytes:
    path: Path | None = item.path
    if path is None:
        raise PermanentError("A media file of this post is missing; send it again.")
    try:
        return await asyncio.to_thread(path.read_bytes)
    except FileNotFoundError:
        raise PermanentError("A media file of this post is gone; send it again.") from None
    except OSError as exc:
        raise TransientError(f"A media file could not be read: {exc.strerror}.") from None


def _phase(status: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    phase = status.get(name)
    return phase if isinstance(phase, Mapping) else {}


def _reason(phase: Mapping[str, Any]) -> str:
    errors = phase.get("errors") or phase.get("error")
    if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
        return str(errors[0].get("message") or "no reason given")
    if isinstance(errors, Mapping):
        return str(errors.get("message") or "no reason given")
    return "no reason given"


def _id_of(body: Mapping[str, Any], key: str, *, creates: bool = False) -> str:
    value = body.get(key)
    if not value:
        raise TransientError(
            f"Facebook answered without the {key} Crier asked for.", ambiguous=creates
        )
    return str(value)


__all__ = [
    "POLL_DELAYS",
    "PageUploads",
    "poll_delay",
    "read_file",
    "video_ready",
    "video_result",
]
