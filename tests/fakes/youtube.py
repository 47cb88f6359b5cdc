"""A stateful fake of the YouTube Data API v3 as a publisher uses it, for tests over httpx.

It serves `channels.list` (mine=true), `videos.insert` over the resumable upload protocol,
`videos.list`, and `videos.delete` and `videos.update` (tests/fakes/youtube_manage.py), plus
Google's token endpoint (tests/fakes/google_oauth.py), and follows their documentation:

- every call needs a valid access token with a scope the method accepts (401 authError,
  403 insufficientPermissions), and costs quota (videos.insert 1,600 units, a list 1) from
  the project's daily 10,000 (403 quotaExceeded once it is used up);
- the upload session checks the video resource as YouTube does (title: 1 to 100 characters,
  description: at most 5,000 bytes, neither with < or >; privacyStatus; publishAt only on
  a private video), the channel's daily upload limit (400 uploadLimitExceeded), and answers
  200 with the session URI in `Location`;
- the session takes chunks of 256 KiB multiples with `Content-Range`, answers 308 with the
  `Range` received, a status query (`bytes */<size>`) likewise, 201 with the video once
  the last byte is in, 404 once it has expired;
- the video is then "uploaded" for `processing_polls` reads of videos.list, then processed,
  or failed (empty or unreadable file) or rejected (over 15 minutes on a channel without
  long uploads), as YouTube's processing would end.

Errors have Google's shape: {"error": {"code", "message", "errors": [{"message", "domain",
"reason"}], "status"}}. Use `fake.handle` with `httpx.MockTransport`, as a respx side effect,
or served over HTTP with `tests.fakes.serve.serve(from_handler(fake.handle))`.
"""

from __future__ import annotations

import itertools
import json
from urllib.parse import parse_qs, urlencode

import httpx

from tests.fakes.google_oauth import FakeGoogleOAuth, Grant
from tests.fakes.youtube_manage import ManageRoutes
from tests.fakes.youtube_shapes import (
    FakeChannel,
    FakeSession,
    FakeVideo,
    channel_json,
    google_error,
    metadata_problem,
    processing_outcome,
    video_json,
)

UPLOAD = "https://www.googleapis.com/auth/youtube.upload"
READONLY = "https://www.googleapis.com/auth/youtube.readonly"
MANAGE = "https://www.googleapis.com/auth/youtube"
#: Scopes each method accepts (from the API reference).
_UPLOAD_SCOPES = frozenset({UPLOAD, MANAGE, "https://www.googleapis.com/auth/youtube.force-ssl"})
_READ_SCOPES = frozenset({READONLY, MANAGE, "https://www.googleapis.com/auth/youtube.force-ssl"})
DAILY_QUOTA = 10_000
INSERT_COST = 1600
CHUNK_ALIGN = 256 * 1024
MAX_SIZE = 274_877_906_944


class FakeYouTube(ManageRoutes):
    def __init__(
        self,
        *,
        channels: list[FakeChannel] | None = None,
        processing_polls: int = 1,
        upload_limit: int | None = None,
        quota: int = DAILY_QUOTA,
    ) -> None:
        self.clock = 1_767_000_000.0
        self.oauth = FakeGoogleOAuth(now=lambda: self.clock)
        self.channels = channels or [
            FakeChannel("UCfakeChannel0000000001", "Crier Tests", "@criertests")
        ]
        #: videos.list reads that still answer "uploaded" for each new video.
        self.processing_polls = processing_polls
        #: Uploads a channel may start a day (None: no limit).
        self.upload_limit = upload_limit
        self.quota = quota
        self.quota_used = 0
        self.sessions: dict[str, FakeSession] = {}
        self.videos: list[FakeVideo] = []
        self.requests: list[httpx.Request] = []
        #: The connection dies once a session has this many bytes: what arrived is kept in
        #: whole 256 KiB blocks (as Google persists it) and the chunk's answer is a 503.
        self.break_at: int | None = None
        #: How the next video's processing ends, instead of what its bytes decide.
        self.next_outcome: tuple[str, str] | None = None
        self._failures: list[tuple[str, str | None, httpx.Response]] = []
        self._ids = itertools.count(1)

    # -- knobs and inspection ---------------------------------------------------------------

    def token(self, scopes: tuple[str, ...] = (UPLOAD, READONLY), user: str = "user") -> str:
        return self.oauth.issue(scopes, user=user)

    def advance(self, seconds: float) -> None:
        self.clock += seconds

    def fail_next(
        self,
        path: str,
        status: int,
        reason: str = "backendError",
        message: str = "Backend Error",
        *,
        method: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next request to `path` with this error, in Google's shape."""
        response = google_error(status, reason, message, headers=headers)
        self._failures.append((path, method, response))

    def expire_sessions(self) -> None:
        for session in self.sessions.values():
            session.expired = True

    @property
    def published(self) -> list[FakeVideo]:
        return [v for v in self.videos if not v.deleted]

    # -- dispatch ---------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        for index, (where, method, response) in enumerate(self._failures):
            if where == path and method in (None, request.method):
                del self._failures[index]
                return response
        if path == "/token":
            return self.oauth.handle(request)
        query = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
        routes = {
            ("GET", "/youtube/v3/channels"): self._channels,
            ("POST", "/upload/youtube/v3/videos"): self._insert,
            ("PUT", "/upload/youtube/v3/videos"): self._put,
            ("GET", "/youtube/v3/videos"): self._list_videos,
            ("DELETE", "/youtube/v3/videos"): self._delete_video,
            ("PUT", "/youtube/v3/videos"): self._update_video,
        }
        route = routes.get((request.method, path))
        if route is None:
            return google_error(404, "notFound", "Not Found")
        return route(request, query)

    def _grant(self, request: httpx.Request, scopes: frozenset[str]) -> Grant | httpx.Response:
        grant = self.oauth.grant_of(request.headers.get("authorization"))
        if grant is None:
            return google_error(
                401,
                "authError",
                "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                "login cookie or other valid authentication credential.",
                domain="global",
            )
        if not grant.scopes & scopes:
            return google_error(
                403, "insufficientPermissions", "Request had insufficient authentication scopes."
            )
        return grant

    def _charge(self, units: int) -> httpx.Response | None:
        if self.quota_used + units > self.quota:
            return google_error(
                403,
                "quotaExceeded",
                'The request cannot be completed because you have exceeded your <a href="/youtube'
                '/v3/getting-started#quota">quota</a>.',
                domain="youtube.quota",
            )
        self.quota_used += units
        return None

    # -- channels.list ----------------------------------------------------------------------

    def _channels(self, request: httpx.Request, query: dict[str, str]) -> httpx.Response:
        grant = self._grant(request, _READ_SCOPES)
        if isinstance(grant, httpx.Response):
            return grant
        if not query.get("part"):
            return google_error(400, "required", "Required parameter: part")
        if (refused := self._charge(1)) is not None:
            return refused
        parts = set(query["part"].split(","))
        mine = [c for c in self.channels if c.user == grant.user] if query.get("mine") else []
        items = [channel_json(c, parts) for c in mine]
        return httpx.Response(
            200,
            json={
                "kind": "youtube#channelListResponse",
                "etag": "fake-etag",
                "pageInfo": {"totalResults": len(items), "resultsPerPage": 5},
                "items": items,
            },
        )

    # -- videos.insert, resumable -----------------------------------------------------------

    def _insert(self, request: httpx.Request, query: dict[str, str]) -> httpx.Response:
        grant = self._grant(request, _UPLOAD_SCOPES)
        if isinstance(grant, httpx.Response):
            return grant
        if query.get("uploadType") != "resumable":
            return google_error(
                400, "mediaBodyRequired", "The request does not include the video content."
            )
        if not query.get("part"):
            return google_error(400, "required", "Required parameter: part")
        channel = next((c for c in self.channels if c.user == grant.user), None)
        if channel is None:
            return google_error(401, "youtubeSignupRequired", "Unauthorized")
        try:
            resource = json.loads(request.content)
            size = int(request.headers["x-upload-content-length"])
        except (ValueError, KeyError):
            return google_error(400, "badRequest", "Invalid request metadata or upload length.")
        mime = request.headers.get("x-upload-content-type", "")
        if not (mime.startswith("video/") or mime == "application/octet-stream"):
            return google_error(
                400,
                "badContent",
                f"Media type '{mime}' is not supported. Valid media types: [video/*, "
                "application/octet-stream]",
            )
        if not 0 < size <= MAX_SIZE:
            return google_error(400, "badContent", f"Media size {size} is not accepted.")
        if (problem := metadata_problem(resource)) is not None:
            return problem
        if self.upload_limit is not None:
            started = sum(1 for s in self.sessions.values() if s.channel is channel)
            if started >= self.upload_limit:
                return google_error(
                    400,
                    "uploadLimitExceeded",
                    "The user has exceeded the number of videos they may upload.",
                )
        if (refused := self._charge(INSERT_COST)) is not None:
            return refused
        session = FakeSession(
            id=f"AUm-fake-upload-{next(self._ids)}",
            channel=channel,
            resource=resource,
            size=size,
            mime=mime,
        )
        self.sessions[session.id] = session
        params = urlencode(
            {"uploadType": "resumable", "part": query["part"], "upload_id": session.id}
        )
        location = f"{request.url.scheme}://{request.url.netloc.decode()}/upload/youtube/v3/videos?{params}"
        return httpx.Response(
            200, headers={"Location": location, "X-GUploader-UploadID": session.id}
        )

    def _put(self, request: httpx.Request, query: dict[str, str]) -> httpx.Response:
        session = self.sessions.get(query.get("upload_id", ""))
        if session is None or session.expired:
            return google_error(404, "notFound", "Not Found")
        grant = self._grant(request, _UPLOAD_SCOPES)
        if isinstance(grant, httpx.Response):
            return grant
        spec = request.headers.get("content-range", "")
        unit, _, spans = spec.partition(" ")
        first, _, total = spans.partition("/")
        if unit != "bytes" or total != str(session.size):
            return google_error(400, "badRequest", f"Invalid Content-Range: {spec!r}")
        if first == "*":
            return self._progress(session)
        try:
            start, end = (int(n) for n in first.split("-"))
        except ValueError:
            return google_error(400, "badRequest", f"Invalid Content-Range: {spec!r}")
        data = request.content
        received = len(session.received)
        if session.video_id is not None:
            return self._progress(session)
        if start > received:
            return google_error(
                400,
                "badRequest",
                f"Invalid request. According to the Content-Range header, the upload offset is "
                f"{start} byte(s), which exceeds already uploaded size of {received} byte(s).",
            )
        if len(data) != end - start + 1 or end >= session.size:
            return google_error(
                400, "badRequest", "The chunk's length doesn't match Content-Range."
            )
        if end + 1 < session.size and len(data) % CHUNK_ALIGN:
            return google_error(
                400,
                "badRequest",
                f"Invalid request. The number of bytes uploaded is required to be a multiple of "
                f"{CHUNK_ALIGN} except for the final request.",
            )
        keep = data[received - start :]
        if self.break_at is not None and received + len(keep) > self.break_at:
            kept = max(received, self.break_at // CHUNK_ALIGN * CHUNK_ALIGN)
            session.received += keep[: kept - received]
            self.break_at = None
            return google_error(503, "backendError", "Backend Error")
        session.received += keep
        if len(session.received) == session.size:
            video = self._make_video(session)
            return httpx.Response(201, json=video_json(video, {"snippet", "status"}))
        return self._progress(session)

    def _progress(self, session: FakeSession) -> httpx.Response:
        if session.video_id is not None:
            video = next(v for v in self.videos if v.id == session.video_id)
            return httpx.Response(200, json=video_json(video, {"snippet", "status"}))
        headers = {"Range": f"bytes=0-{len(session.received) - 1}"} if session.received else {}
        return httpx.Response(308, headers=headers)

    def _make_video(self, session: FakeSession) -> FakeVideo:
        data = bytes(session.received)
        outcome = self.next_outcome or processing_outcome(data, session.channel)
        self.next_outcome = None
        video = FakeVideo(
            id=f"vid{next(self._ids):08d}",
            channel=session.channel,
            resource=session.resource,
            data=data,
            outcome=outcome,
            polls_left=self.processing_polls,
        )
        session.video_id = video.id
        self.videos.append(video)
        return video

    # -- videos.list ------------------------------------------------------------------------

    def _list_videos(self, request: httpx.Request, query: dict[str, str]) -> httpx.Response:
        grant = self._grant(request, _READ_SCOPES)
        if isinstance(grant, httpx.Response):
            return grant
        if not query.get("part") or not query.get("id"):
            return google_error(400, "required", "Required parameters: part and id")
        if (refused := self._charge(1)) is not None:
            return refused
        parts = set(query["part"].split(","))
        wanted = set(query["id"].split(","))
        items = []
        for video in self.videos:
            if video.id not in wanted or video.deleted:
                continue
            owner = video.channel.user == grant.user
            if video.upload_status == "uploaded":
                if video.polls_left > 0:
                    video.polls_left -= 1
                else:
                    video.upload_status = video.outcome[0]
            items.append(video_json(video, parts if owner else parts - {"processingDetails"}))
        return httpx.Response(
            200,
            json={
                "kind": "youtube#videoListResponse",
                "etag": "fake-etag",
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
                "items": items,
            },
        )


__all__ = ["FakeChannel", "FakeSession", "FakeVideo", "FakeYouTube"]
