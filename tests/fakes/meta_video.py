"""Page videos in the fake Graph API (tests/fakes/meta_graph.py), after the Video API's
"Publish a video" (with the Resumable Upload API) and "Reels Publishing".

- `POST /{app-id}/uploads` (a user token; `file_type` one of pdf, jpeg, jpg, png, mp4) opens
  `upload:<id>`; `POST /upload:<id>` with `file_offset` equal to what it has takes bytes and,
  once all are in, answers the file handle `h`; `POST graph-video.../{page-id}/videos` with
  `fbuploader_video_file_chunk=<h>` makes the video and its post.
- `POST /{page-id}/video_reels` `upload_phase=start` answers `video_id` and `upload_url`;
  `POST rupload.facebook.com/video-upload/v27.0/{video-id}` with `offset` and `file_size`
  (the Page token in `Authorization: OAuth`) takes bytes; `upload_phase=finish` with
  `video_state=PUBLISHED` publishes it, only once every byte is in.
- `GET /{video-id}?fields=status,permalink_url`: "processing" for `processing_polls` reads,
  then "ready" (published) or "error" when the bytes aren't an MP4 (no `ftyp`).
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from tests.fakes.meta_world import FakePage, FakeToken, FakeVideo, MetaWorld, error, gone

VERSION = "v27.0"
RUPLOAD = "rupload.facebook.com"
_UPLOAD_TYPES = ("application/pdf", "image/jpeg", "image/jpg", "image/png", "video/mp4")


class PageVideos:
    def __init__(self, world: MetaWorld, *, processing_polls: int = 1) -> None:
        self.world = world
        self.processing_polls = processing_polls
        self._sessions: dict[str, dict[str, Any]] = {}
        self._handles: dict[str, bytes] = {}

    def open_upload(self, app_id: str, token: FakeToken, params: dict[str, str]) -> httpx.Response:
        if app_id != self.world.app_id:
            return error(400, 100, f"(#100) Invalid application ID {app_id}")
        if token.kind != "user":
            return error(400, 100, "(#100) A User access token is required for this request")
        if params.get("file_type") not in _UPLOAD_TYPES:
            return error(400, 100, f"(#100) Invalid file_type {params.get('file_type')}")
        length = params.get("file_length", "")
        if not length.isdigit() or not params.get("file_name"):
            return error(400, 100, "(#100) file_name and file_length are required")
        session = "upload:" + secrets.token_urlsafe(16)
        self._sessions[session] = {"length": int(length), "data": b"", "user": token.user_id}
        return httpx.Response(200, json={"id": session})

    def upload(self, session_id: str, token: FakeToken, request: httpx.Request) -> httpx.Response:
        session = self._sessions.get(session_id)
        if session is None or token.user_id != session["user"]:
            return error(400, 100, "(#100) Invalid upload session")
        offset = request.headers.get("file_offset", "")
        if offset != str(len(session["data"])):
            return error(400, 100, f"(#100) file_offset must be {len(session['data'])}")
        session["data"] += request.content
        if len(session["data"]) < session["length"]:
            return httpx.Response(200, json={"id": session_id, "file_offset": len(session["data"])})
        handle = "4::" + secrets.token_urlsafe(20)
        self._handles[handle] = session["data"]
        return httpx.Response(200, json={"h": handle})

    def create_video(
        self, page: FakePage, token: FakeToken, params: dict[str, str]
    ) -> httpx.Response:
        refused = self.world.as_page(page, token)
        if refused is not None:
            return refused
        data = self._handles.get(params.get("fbuploader_video_file_chunk", ""))
        if data is None:
            return error(400, 100, "(#100) Invalid fbuploader_video_file_chunk")
        video = self.new_video(page, reel=False, data=data)
        video.description = params.get("description", "")
        video.state, video.published = "processing", True
        video.polls_left = self.processing_polls
        self.world.new_post(page, video.description, video_id=video.id)
        return httpx.Response(200, json={"id": video.id})

    def new_video(self, page: FakePage, *, reel: bool, data: bytes = b"") -> FakeVideo:
        video = FakeVideo(id=self.world.new_id(), page_id=page.id, reel=reel, data=data)
        self.world.videos[video.id] = video
        return video

    def reels(
        self, page: FakePage, token: FakeToken, params: dict[str, str], _: httpx.Request
    ) -> httpx.Response:
        refused = self.world.as_page(page, token)
        if refused is not None:
            return refused
        phase = params.get("upload_phase")
        if phase == "start":
            video = self.new_video(page, reel=True)
            url = f"https://{RUPLOAD}/video-upload/{VERSION}/{video.id}"
            return httpx.Response(200, json={"video_id": video.id, "upload_url": url})
        video = self.world.videos.get(params.get("video_id", ""))
        if phase != "finish" or video is None or not video.reel:
            return error(400, 100, "(#100) Invalid upload_phase or video_id")
        if video.state == "uploading" or len(video.data) < video.size:
            return error(
                400, 6000, "There was a problem uploading your video file.", subcode=1363019
            )
        if params.get("video_state") != "PUBLISHED":
            return error(400, 100, "(#100) video_state must be PUBLISHED, DRAFT or SCHEDULED")
        video.description, video.published = params.get("description", ""), True
        self.world.new_post(page, video.description, video_id=video.id)
        return httpx.Response(200, json={"success": True})

    def rupload(self, request: httpx.Request) -> httpx.Response:
        video_id = request.url.path.rsplit("/", 1)[-1]
        video = self.world.videos.get(video_id)
        header = request.headers.get("authorization", "")
        token = self.world.check(header[6:]) if header.startswith("OAuth ") else None
        if not isinstance(token, FakeToken) or video is None or token.page_id != video.page_id:
            return httpx.Response(
                401,
                json={
                    "debug_info": {
                        "type": "AuthException",
                        "message": "Invalid OAuth access token.",
                    }
                },
            )
        try:
            offset, size = int(request.headers["offset"]), int(request.headers["file_size"])
        except (KeyError, ValueError):
            return httpx.Response(
                400,
                json={
                    "debug_info": {
                        "type": "ParameterValidationError",
                        "message": (
                            "HeaderValuePredicate: Header Offset not convertable to unsigned long"
                        ),
                    }
                },
            )
        if offset != len(video.data):
            return httpx.Response(
                400,
                json={
                    "debug_info": {
                        "type": "OffsetInvalidError",
                        "message": f"Offset must be {len(video.data)}",
                    }
                },
            )
        video.size = size
        video.data += request.content
        if len(video.data) >= size:
            video.state, video.polls_left = "processing", self.processing_polls
        return httpx.Response(200, json={"success": True})

    def node(
        self, method: str, video: FakeVideo, token: FakeToken, params: dict[str, str]
    ) -> httpx.Response:
        if video.deleted:
            return gone(video.id)
        if method == "DELETE":
            refused = self.world.as_page(self.world.pages[video.page_id], token)
            if refused is not None:
                return refused
            video.deleted = True
            for post in self.world.posts.values():
                if post.video_id == video.id:
                    post.deleted = True
            return httpx.Response(200, json={"success": True})
        if method == "POST":
            video.description = params.get("description", video.description)
            return httpx.Response(200, json={"success": True})
        self._advance(video)
        return httpx.Response(200, json=_video_json(video))

    def _advance(self, video: FakeVideo) -> None:
        if video.state != "processing":
            return
        if video.polls_left > 0:
            video.polls_left -= 1
            return
        if video.data[4:8] != b"ftyp":
            video.state, video.failed = "error", "The video file you uploaded is not supported."
        else:
            video.state = "ready"


def _video_json(video: FakeVideo) -> dict[str, Any]:
    processing = {"processing": "in_progress", "ready": "complete", "error": "error"}
    status: dict[str, Any] = {
        "video_status": video.state,
        "uploading_phase": {
            "status": "complete" if video.state != "uploading" else "in_progress",
            "bytes_transferred": len(video.data),
        },
        "processing_phase": {"status": processing.get(video.state, "not_started")},
        "publishing_phase": {
            "status": "complete" if video.state == "ready" and video.published else "not_started",
        },
    }
    if video.state == "ready" and video.published:
        status["publishing_phase"]["publish_status"] = "published"
    if video.failed:
        status["processing_phase"]["errors"] = [{"code": 1363008, "message": video.failed}]
    return {
        "id": video.id,
        "status": status,
        "permalink_url": f"/{video.page_id}/videos/{video.id}/",
    }


__all__ = ["RUPLOAD", "PageVideos"]
