"""A stateful fake of TikTok's API v2 as a publisher uses it (Login Kit, Display API's user
info, Content Posting API's Direct Post), for tests over httpx.

It follows TikTok for Developers' reference ("Direct Post", "Photo Post", "Media Transfer
Guide", "Get Post Status", "Query Creator Info", "Get User Info"):

- OAuth: tests/fakes/tiktok_oauth.py (client_key, hex PKCE, rotated refresh tokens);
- every call needs a valid bearer token (401 access_token_invalid) with the scope it needs
  (401 scope_not_authorized): user.info.basic for basic user fields (user.info.profile for
  `username`), video.publish for creator info and posting;
- per-minute limits per token: 6 inits (video and photo together), 20 creator-info reads,
  30 status reads (429 rate_limit_exceeded); a creator's daily cap of posts (403
  spam_risk_too_many_posts); a banned creator (403 spam_risk_user_banned_from_posting);
- creator info offers audiences by the app's audit and the account: an unaudited app only
  SELF_ONLY, and only to a private account (403 unaudited_client_can_only_post_to_private_
  accounts); an audience not offered is 403 privacy_level_option_mismatch;
- a video init checks the post info (title at most 2,200 UTF-16 units, branded content not
  private) and the source: FILE_UPLOAD's chunk rules (5 to 64 MB chunks, count = size //
  chunk size, a video under 5 MB whole, one over 64 MB in two chunks at least, at most
  1,000), or PULL_FROM_URL from a verified prefix (403 url_ownership_unverified); it answers
  a publish_id and, for FILE_UPLOAD, an upload URL on the upload host, good for an hour;
- the upload URL takes chunks in order with `Content-Range` (206 until the last, then 201;
  416 for a range out of step, 400 for a wrong size or type, 404 once expired);
- a photo init (media_type PHOTO, post_mode DIRECT_POST, PULL_FROM_URL, 1 to 35 images from a
  verified prefix, a cover index among them, title at most 90 and description 4,000);
- the status goes PROCESSING_UPLOAD (with `uploaded_bytes`) or PROCESSING_DOWNLOAD, then,
  after `processing_polls` reads, PUBLISH_COMPLETE, which makes the post; a post shown to
  others gets its `publicaly_available_post_id` after `moderation_polls` more reads, a
  private one never; or FAILED with `fail_reason` (`next_outcome`).

Errors have TikTok's envelope: {"data": {}, "error": {"code", "message", "log_id"}}. Use
`fake.handle` with `httpx.MockTransport` or as a respx side effect.
"""

from __future__ import annotations

import itertools
import json
import secrets
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx

from tests.fakes.tiktok_oauth import FakeTikTokOAuth, Grant
from tests.fakes.tiktok_state import (
    PRIVATE,
    FakeCreator,
    FakePost,
    FakePublish,
    RateWindows,
    api_error,
    ok,
    utf16,
)
from tests.fakes.tiktok_upload import UPLOAD_TTL, chunk_problem, receive_chunk

API = "https://open.tiktokapis.com"
UPLOAD = "https://open-upload.tiktokapis.com"
BASIC_FIELDS = {
    "open_id",
    "union_id",
    "avatar_url",
    "avatar_url_100",
    "avatar_large_url",
    "display_name",
}
PROFILE_FIELDS = {"username", "bio_description", "profile_deep_link", "is_verified"}


class FakeTikTok:
    def __init__(
        self,
        *,
        creators: Iterable[FakeCreator] = (),
        audited: bool = True,
        processing_polls: int = 1,
        moderation_polls: int = 0,
        daily_cap: int = 15,
        verified_prefixes: Iterable[str] = ("https://crier.example/media/",),
        oauth_error_status: int = 400,
    ) -> None:
        self.clock = 1_796_000_000.0
        self.oauth = FakeTikTokOAuth(clock=lambda: self.clock, error_status=oauth_error_status)
        found = list(creators) or [FakeCreator("open-id-0001", "crier.tests", "Crier Tests")]
        self.creators = {c.open_id: c for c in found}
        self.audited = audited
        self.processing_polls = processing_polls
        self.moderation_polls = moderation_polls
        self.daily_cap = daily_cap
        self.verified_prefixes = tuple(verified_prefixes)
        self.publishes: dict[str, FakePublish] = {}
        self.posts: list[FakePost] = []
        self.requests: list[httpx.Request] = []
        #: How the next publish's processing ends: a fail_reason, or None to publish it.
        self.next_outcome: str | None = None
        #: The connection breaks right after TikTok has stored this many chunks of an upload.
        self.drop_after_chunks: int | None = None
        self._failures: list[tuple[str, httpx.Response]] = []
        self._limits = RateWindows()
        self._ids = itertools.count(1)

    # -- knobs and inspection ---------------------------------------------------------------

    @property
    def creator(self) -> FakeCreator:
        return next(iter(self.creators.values()))

    def token(self, scopes: Iterable[str] = ("user.info.basic", "video.publish")) -> str:
        return self.oauth.issue(self.creator.open_id, scopes)

    def advance(self, seconds: float) -> None:
        self.clock += seconds

    def fail_next(
        self, path: str, status: int, code: str, message: str = "", **headers: str
    ) -> None:
        """Answer the next request to `path` with this error envelope."""
        self._failures.append((path, api_error(status, code, message or code, headers)))

    def sent(self) -> list[str]:
        """Every request so far, as "METHOD /path" (a PUT with its Content-Range)."""
        out = []
        for r in self.requests:
            extra = f" {r.headers['content-range']}" if "content-range" in r.headers else ""
            out.append(f"{r.method} {r.url.path}{extra}")
        return out

    # -- dispatch ---------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        for index, (where, response) in enumerate(self._failures):
            if where == path:
                del self._failures[index]
                return response
        if request.url.host == httpx.URL(UPLOAD).host:
            if request.method != "PUT":
                return httpx.Response(405)
            return self._put(request)
        if (request.method, path) == ("POST", "/v2/oauth/token/"):
            return self.oauth.token_endpoint(request)
        routes = {
            ("GET", "/v2/user/info/"): self._user_info,
            ("POST", "/v2/post/publish/creator_info/query/"): self._creator_info,
            ("POST", "/v2/post/publish/video/init/"): self._video_init,
            ("POST", "/v2/post/publish/content/init/"): self._photo_init,
            ("POST", "/v2/post/publish/status/fetch/"): self._status,
        }
        route = routes.get((request.method, path))
        if route is None:
            return api_error(404, "invalid_params", "Unknown path.")
        grant = self.oauth.grant_of(request)
        if grant is None:
            return api_error(
                401,
                "access_token_invalid",
                "The access token is invalid or not found in the request.",
            )
        if request.method == "POST" and not request.headers.get("content-type", "").startswith(
            "application/json"
        ):
            return api_error(400, "invalid_params", "Content-Type must be application/json.")
        return route(request, grant)

    def _needs(self, grant: Grant, scope: str) -> httpx.Response | None:
        if scope in grant.scopes:
            return None
        return api_error(
            401,
            "scope_not_authorized",
            "The user did not authorize the scope required for completing this request.",
        )

    def _limit(self, request: httpx.Request, bucket: str, limit: int) -> httpx.Response | None:
        token = request.headers.get("authorization", "")
        if self._limits.take(token, bucket, limit, self.clock):
            return None
        return api_error(
            429,
            "rate_limit_exceeded",
            "API rate limit was exceeded, only 6 requests per minute are allowed.",
        )

    def _refusal(self, creator: FakeCreator) -> httpx.Response | None:
        """A creator who may not post now."""
        if creator.banned:
            return api_error(
                403, "spam_risk_user_banned_from_posting", "The user is banned from posting."
            )
        recent = [p for p in self.publishes.values() if p.creator is creator]
        if sum(1 for p in recent if p.created_at > self.clock - 86400) >= self.daily_cap:
            return api_error(
                403,
                "spam_risk_too_many_posts",
                "The daily post cap from the API is reached for the current user.",
            )
        return None

    @staticmethod
    def _body(request: httpx.Request) -> dict[str, Any] | None:
        try:
            body = json.loads(request.content or b"{}")
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    # -- user info and creator info ---------------------------------------------------------

    def _user_info(self, request: httpx.Request, grant: Grant) -> httpx.Response:
        fields = set(parse_qs(request.url.query.decode()).get("fields", [""])[0].split(","))
        if not fields - {""} or fields - BASIC_FIELDS - PROFILE_FIELDS:
            return api_error(400, "invalid_params", "Invalid fields.")
        if refused := self._needs(grant, "user.info.basic"):
            return refused
        if fields & PROFILE_FIELDS and (refused := self._needs(grant, "user.info.profile")):
            return refused
        creator = self.creators[grant.open_id]
        every = {
            "open_id": creator.open_id,
            "union_id": creator.union_id,
            "avatar_url": f"https://p16.tiktokcdn.example/{creator.open_id}.jpeg",
            "avatar_url_100": f"https://p16.tiktokcdn.example/{creator.open_id}~100.jpeg",
            "avatar_large_url": f"https://p16.tiktokcdn.example/{creator.open_id}~720.jpeg",
            "display_name": creator.display_name,
            "username": creator.username,
            "bio_description": "",
            "profile_deep_link": f"https://vm.tiktok.com/{creator.username}",
            "is_verified": False,
        }
        return ok({"user": {k: v for k, v in every.items() if k in fields}})

    def _creator_info(self, request: httpx.Request, grant: Grant) -> httpx.Response:
        if refused := self._needs(grant, "video.publish"):
            return refused
        if limited := self._limit(request, "creator_info", 20):
            return limited
        creator = self.creators[grant.open_id]
        if refused := self._refusal(creator):
            return refused
        return ok(
            {
                "creator_avatar_url": f"https://p16.tiktokcdn.example/{creator.open_id}.jpeg",
                "creator_username": creator.username,
                "creator_nickname": creator.display_name,
                "privacy_level_options": creator.privacy_options(self.audited),
                "comment_disabled": creator.comment_disabled,
                "duet_disabled": creator.duet_disabled,
                "stitch_disabled": creator.stitch_disabled,
                "max_video_post_duration_sec": creator.max_video_post_duration_sec,
            }
        )

    # -- inits ------------------------------------------------------------------------------

    def _post_info_refusal(
        self, creator: FakeCreator, info: Any, title_max: int
    ) -> httpx.Response | None:
        if not isinstance(info, dict):
            return api_error(400, "invalid_params", "post_info is required.")
        if not self.audited and not creator.private_account:
            return api_error(
                403,
                "unaudited_client_can_only_post_to_private_accounts",
                "Unaudited clients can only post to a private account.",
            )
        privacy = info.get("privacy_level")
        if privacy not in creator.privacy_options(self.audited):
            return api_error(
                403,
                "privacy_level_option_mismatch",
                "privacy_level is unspecified or not an option in privacy_level_options.",
            )
        if utf16(str(info.get("title") or "")) > title_max:
            return api_error(400, "invalid_params", f"The title is over {title_max} characters.")
        if info.get("brand_content_toggle") and privacy == PRIVATE:
            return api_error(400, "invalid_params", "Branded content can't be private.")
        return None

    def _new_publish(self, creator: FakeCreator, **fields: Any) -> FakePublish:
        number = next(self._ids)
        publish = FakePublish(
            id=f"v_pub_{fields['source'].lower()}~v2-1.{7_300_000_000 + number}",
            creator=creator,
            created_at=self.clock,
            polls_left=self.processing_polls,
            outcome=self.next_outcome,
            **fields,
        )
        self.next_outcome = None
        self.publishes[publish.id] = publish
        return publish

    def _video_init(self, request: httpx.Request, grant: Grant) -> httpx.Response:
        if refused := self._needs(grant, "video.publish"):
            return refused
        if limited := self._limit(request, "init", 6):
            return limited
        body = self._body(request)
        if body is None:
            return api_error(400, "invalid_params", "The body is not JSON.")
        creator = self.creators[grant.open_id]
        if refused := self._refusal(creator):
            return refused
        info = body.get("post_info")
        if refused := self._post_info_refusal(creator, info, 2200):
            return refused
        source = body.get("source_info")
        if not isinstance(source, dict):
            return api_error(400, "invalid_params", "source_info is required.")
        if source.get("source") == "PULL_FROM_URL":
            url = str(source.get("video_url") or "")
            if not url.startswith(self.verified_prefixes):
                return _unverified()
            publish = self._new_publish(
                creator, kind="video", source="PULL_FROM_URL", post_info=info, urls=[url]
            )
            publish.status = "PROCESSING_DOWNLOAD"
            return ok({"publish_id": publish.id})
        if source.get("source") != "FILE_UPLOAD":
            return api_error(400, "invalid_params", "source must be FILE_UPLOAD or PULL_FROM_URL.")
        size, chunk, count = (
            source.get(k) for k in ("video_size", "chunk_size", "total_chunk_count")
        )
        if problem := chunk_problem(size, chunk, count):
            return api_error(400, "invalid_params", problem)
        publish = self._new_publish(
            creator,
            kind="video",
            source="FILE_UPLOAD",
            post_info=info,
            size=size,
            chunk_size=chunk,
            chunk_count=count,
            upload_id=str(7_000_000 + next(self._ids)),
            upload_token=secrets.token_urlsafe(16),
        )
        query = urlencode({"upload_id": publish.upload_id, "upload_token": publish.upload_token})
        return ok({"publish_id": publish.id, "upload_url": f"{UPLOAD}/upload/?{query}"})

    def _photo_init(self, request: httpx.Request, grant: Grant) -> httpx.Response:
        if refused := self._needs(grant, "video.publish"):
            return refused
        if limited := self._limit(request, "init", 6):
            return limited
        body = self._body(request)
        if body is None:
            return api_error(400, "invalid_params", "The body is not JSON.")
        if body.get("media_type") != "PHOTO" or body.get("post_mode") != "DIRECT_POST":
            return api_error(
                400, "invalid_params", "media_type must be PHOTO, post_mode DIRECT_POST."
            )
        creator = self.creators[grant.open_id]
        if refused := self._refusal(creator):
            return refused
        info = body.get("post_info")
        if refused := self._post_info_refusal(creator, info, 90):
            return refused
        if utf16(str(info.get("description") or "")) > 4000:
            return api_error(400, "invalid_params", "The description is over 4000 characters.")
        source = body.get("source_info") or {}
        images = source.get("photo_images")
        if source.get("source") != "PULL_FROM_URL" or not isinstance(images, list):
            return api_error(400, "invalid_params", "Photos are posted with PULL_FROM_URL only.")
        if not 1 <= len(images) <= 35:
            return api_error(400, "invalid_params", "photo_images takes 1 to 35 images.")
        if not 0 <= int(source.get("photo_cover_index", -1)) < len(images):
            return api_error(400, "invalid_params", "photo_cover_index is out of range.")
        if not all(str(u).startswith(self.verified_prefixes) for u in images):
            return _unverified()
        publish = self._new_publish(
            creator, kind="photo", source="PULL_FROM_URL", post_info=info, urls=list(images)
        )
        publish.status = "PROCESSING_DOWNLOAD"
        return ok({"publish_id": publish.id})

    # -- the upload -------------------------------------------------------------------------

    def _put(self, request: httpx.Request) -> httpx.Response:
        query = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
        publish = next(
            (
                p
                for p in self.publishes.values()
                if p.upload_id
                and p.upload_id == query.get("upload_id")
                and p.upload_token == query.get("upload_token")
            ),
            None,
        )
        if publish is None or self.clock > publish.created_at + UPLOAD_TTL:
            return httpx.Response(404, text="upload url not found or expired")
        response = receive_chunk(publish, request)
        if (
            response.status_code in (201, 206)
            and self.drop_after_chunks is not None
            and publish.chunks_in >= self.drop_after_chunks
        ):
            self.drop_after_chunks = None
            raise httpx.ReadError("connection reset by peer", request=request)
        return response

    # -- status -----------------------------------------------------------------------------

    def _status(self, request: httpx.Request, grant: Grant) -> httpx.Response:
        if not grant.scopes & {"video.publish", "video.upload"}:
            return self._needs(grant, "video.publish") or httpx.Response(500)
        if limited := self._limit(request, "status", 30):
            return limited
        body = self._body(request) or {}
        publish = self.publishes.get(str(body.get("publish_id")))
        if publish is None or publish.creator.open_id != grant.open_id:
            return api_error(400, "invalid_params", "publish_id not found.")
        self._advance(publish)
        data: dict[str, Any] = {"status": publish.status}
        if publish.status == "FAILED":
            data["fail_reason"] = publish.outcome
        if publish.source == "FILE_UPLOAD":
            data["uploaded_bytes"] = len(publish.received)
        else:
            data["downloaded_bytes"] = 0 if publish.status == "PROCESSING_DOWNLOAD" else 1
        if publish.status == "PUBLISH_COMPLETE":
            private = publish.post_info.get("privacy_level") == PRIVATE
            named = not (publish.moderation_left or private)
            # TikTok names a post only once it is public (after moderation).
            data["publicaly_available_post_id"] = [publish.post_id] if named else []
        return ok(data)

    def _advance(self, publish: FakePublish) -> None:
        """One status read's worth of TikTok's work."""
        if publish.status == "PUBLISH_COMPLETE" and publish.moderation_left:
            publish.moderation_left -= 1
            return
        if publish.status not in ("PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD"):
            return
        if not publish.uploaded:
            return
        if publish.polls_left > 0:
            publish.polls_left -= 1
            return
        if publish.outcome is not None:
            publish.status = "FAILED"
            return
        publish.status = "PUBLISH_COMPLETE"
        publish.moderation_left = self.moderation_polls
        publish.post_id = 7_412_000_000_000_000_000 + len(self.posts) + 1
        self.posts.append(
            FakePost(
                id=publish.post_id,
                open_id=publish.creator.open_id,
                kind=publish.kind,
                privacy_level=str(publish.post_info.get("privacy_level")),
                post_info=publish.post_info,
                publish_id=publish.id,
                video=bytes(publish.received),
                photos=list(publish.urls) if publish.kind == "photo" else [],
                created_at=self.clock,
            )
        )


def _unverified() -> httpx.Response:
    return api_error(
        403,
        "url_ownership_unverified",
        "Please review our URL ownership verification rules.",
    )


__all__ = ["API", "UPLOAD", "FakeCreator", "FakePost", "FakePublish", "FakeTikTok"]
