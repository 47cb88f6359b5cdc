"""YouTube, through the YouTube Data API v3 (videos.insert with resumable upload, videos.list,
channels.list), signed in with Google's OAuth 2.0 (authorization code with PKCE, offline
access for a refresh token).

A post is one video; its first line is the title and the rest the description
(`youtube_limits`). Publishing is two-phase, and the upload itself is part of it:

1. `publish` opens a resumable upload session carrying the video's metadata and answers
   `Processing` with the session URI in the handle. Nothing appears on YouTube yet, so
   publishing again (after a crash before the handle was stored) only leaves an unused
   session behind: `Limits.idempotent_publish` holds.
2. `poll` asks the session how much it has (`Content-Range: bytes */<size>`) and sends the
   rest, in 256 KiB-aligned chunks, for at most `upload_budget` seconds a call (a long
   upload goes on in the next poll, so the engine's lease and the hour-long access token
   both stay fresh). A lost connection, a 5xx or a restart resumes where YouTube says it
   is; nothing is sent twice. An expired session (404) starts a new one.
3. Once the last byte is in, YouTube has the video (`status.uploadStatus` "uploaded") and
   starts processing it. `poll` answers `Processing` until `videos.list` says "processed",
   and only then `PublishResult`: a video that fails processing or is rejected (duplicate,
   too long, copyright) never plays, so its link would be a lie; it ends in a
   `PermanentError` with YouTube's reason instead, and the DM's link always works.

The handle, stored on the target (JSON, never a secret token):

    {"stage": "upload", "session_uri": "<…&upload_id=…>", "size": <bytes>, "mime": "video/mp4",
     "short": false}
    {"stage": "processing", "video_id": "<id>", "short": false, "looks": <videos.list reads>}

After publishing (providers/youtube_manage.py): `delete` is videos.delete; `edit` sets a new
title and description with videos.update (the category, tags and languages read back and
kept); both need the `youtube.force-ssl` scope, which Crier asks for at sign-in. The video
can't be replaced; no lookup. `PublishResult.ref`: {"video_id", "parts": 1}.

The session URI is no token, but whoever holds it can finish this one upload into the
channel while Google keeps the session (about a week), so it is treated as half a secret:
redacted from every error message, and dropped from the handle as soon as the upload is
done.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from providers.base import (
    AccountOption,
    AccountRef,
    AfterPublish,
    Limits,
    PostContent,
    Problem,
    Processing,
    Provider,
    PublishResult,
    VerifiedAccount,
)
from providers.errors import AuthError, PermanentError, TransientError
from providers.oauth import OAuthApp, OAuthClient, OAuthSpec, Token, as_credentials
from providers.youtube_api import GoogleApi, json_of
from providers.youtube_limits import (
    LIMITS,
    is_short,
    limits_for,
    metadata_of,
    post_problems,
    privacy_of,
    schedule,
    title_length,
    video_of,
    video_url,
)
from providers.youtube_manage import (
    AFTER_PUBLISH,
    MANAGE_SCOPE,
    RECONNECT,
    delete_video,
    may_manage,
    update_snippet,
    video_id_of,
)
from providers.youtube_upload import DEFAULT_CHUNK, ResumableUpload, SessionGone, Uploaded
from providers.youtube_video import POLL_DEFAULT, processing_outcome

API_BASE_URL = "https://www.googleapis.com/youtube/v3"
UPLOAD_BASE_URL = "https://www.googleapis.com/upload/youtube/v3"
AUTH_BASE_URL = "https://accounts.google.com"
TOKEN_BASE_URL = "https://oauth2.googleapis.com"
UPLOAD_SCOPE = "https://www.googleapis.com/auth/youtube.upload"
READONLY_SCOPE = "https://www.googleapis.com/auth/youtube.readonly"
_CANT_CONTINUE = "This YouTube upload can't be continued; schedule the post again."


class YouTubeProvider(Provider):
    platform: ClassVar[str] = "youtube"
    display_name: ClassVar[str] = "YouTube"
    account_options: ClassVar[tuple[AccountOption, ...]] = (
        AccountOption(
            key="privacy",
            label="Videos are",
            choices=(("public", "Public"), ("unlisted", "Unlisted"), ("private", "Private")),
            default="public",
        ),
    )
    limits = LIMITS

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        oauth_app: OAuthApp | None = None,
        api_base_url: str = API_BASE_URL,
        upload_base_url: str = UPLOAD_BASE_URL,
        auth_base_url: str = AUTH_BASE_URL,
        token_base_url: str = TOKEN_BASE_URL,
        chunk_size: int = DEFAULT_CHUNK,
        upload_budget: float = 240.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._now = now
        self._api_base = api_base_url.rstrip("/")
        self._google = GoogleApi(http, now=now)
        self._upload = ResumableUpload(
            self._google,
            upload_base_url=upload_base_url,
            chunk_size=chunk_size,
            budget=upload_budget,
            monotonic=monotonic,
        )
        self.oauth_app = oauth_app
        self._spec = OAuthSpec(
            authorize_url=f"{auth_base_url.rstrip('/')}/o/oauth2/v2/auth",
            token_url=f"{token_base_url.rstrip('/')}/token",
            # Upload and read; managing videos (delete, edit) is optional on Google's consent
            # screen: without it, publishing still works.
            scopes=(UPLOAD_SCOPE, READONLY_SCOPE, MANAGE_SCOPE),
            pkce=True,
            token_auth="client_secret_post",
            # A refresh token comes back only with offline access, and on a repeated sign-in
            # only when the consent screen is shown again.
            authorize_params={"access_type": "offline", "prompt": "consent"},
        )
        self.oauth = self._spec

    # -- contract ---------------------------------------------------------------------------

    def limits_for(self, account: AccountRef) -> Limits:
        return limits_for(account)

    def validate(self, post: PostContent, account: AccountRef) -> list[Problem]:
        return post_problems(post, account)

    def text_length(self, text: str, account: AccountRef) -> int:
        """The title's length: what `max_text` limits (the rest is the description)."""
        return title_length(text)

    def after_publish_for(self, account: AccountRef) -> AfterPublish:
        """Delete and edit need the permission to manage videos (providers/youtube_manage)."""
        return AFTER_PUBLISH if may_manage(account.credentials) else AfterPublish()

    def validate_edit(
        self,
        published: PublishResult,
        post: PostContent,
        account: AccountRef,
        *,
        media_changed: bool = False,
    ) -> list[Problem]:
        """An edit keeps the video that is out, so a post without it is no problem."""
        if not may_manage(account.credentials):
            return [Problem(code="no_edit", message=RECONNECT.format(what="edit"))]
        problems = super().validate_edit(published, post, account, media_changed=media_changed)
        return [p for p in problems if p.code != "media_required" or media_changed]

    # -- after publishing (providers/youtube_manage.py) ---------------------------------------

    async def delete(self, published: PublishResult, account: AccountRef) -> None:
        """videos.delete; a video already gone counts as deleted."""
        if not may_manage(account.credentials):
            raise PermanentError(RECONNECT.format(what="delete"))
        await delete_video(self._google, self._api_base, _token(account), video_id_of(published))

    async def edit(
        self,
        published: PublishResult,
        post: PostContent,
        account: AccountRef,
        *,
        media_changed: bool = False,
    ) -> PublishResult:
        """New title and description (the first line and the rest), by videos.update."""
        self.ensure_editable(published, post, account, media_changed=media_changed)
        video_id = video_id_of(published)
        await update_snippet(
            self._google, self._api_base, _token(account), video_id, metadata_of(post)
        )
        return PublishResult(
            platform_id=video_id,
            url=published.url or video_url(video_id, short=False),
            ref={**published.ref, "video_id": video_id, "parts": 1},
        )

    async def accounts_for(self, token: Token) -> list[VerifiedAccount]:
        """Every channel the Google login reaches (usually one: a brand account is picked on
        Google's consent screen)."""
        granted = set((token.scope or "").split())
        if token.scope is not None and UPLOAD_SCOPE not in granted:
            raise AuthError(
                "Crier wasn't allowed to upload videos; connect again and tick “Manage your "
                "YouTube videos”."
            )
        channels = await self._channels(token.access_token)
        if not channels:
            raise PermanentError(
                "This Google account has no YouTube channel; create one at "
                "https://www.youtube.com/create_channel and connect again."
            )
        credentials = as_credentials(token)
        return [
            VerifiedAccount(
                label=_label(channel),
                external_id=str(channel["id"]),
                config=_config(channel),
                credentials=credentials,
            )
            for channel in channels
        ]

    async def verify(self, account: AccountRef) -> VerifiedAccount:
        """Read the channel again (title, handle, whether it may upload long videos)."""
        channels = await self._channels(_token(account))
        wanted = account.config.get("channel_id")
        channel = next((c for c in channels if not wanted or c["id"] == wanted), None)
        if channel is None:
            raise AuthError(
                "This sign-in doesn't reach the YouTube channel any more; connect it again "
                "with the Google account that owns it."
            )
        return VerifiedAccount(
            label=_label(channel),
            external_id=str(channel["id"]),
            config={**account.config, **_config(channel)},
        )

    async def refresh(self, account: AccountRef) -> Mapping[str, Any]:
        """A new access token (they last an hour); Google keeps the refresh token, so the
        stored one is kept. A revoked or expired refresh token (invalid_grant) → AuthError."""
        refresh_token = account.credentials.get("refresh_token")
        if self.oauth_app is None or not refresh_token:
            raise AuthError("YouTube needs you to connect this account again.")
        client = OAuthClient(
            self._spec, self.oauth_app, self._http, platform=self.display_name, clock=self._now
        )
        return as_credentials(await client.refresh(str(refresh_token)))

    async def publish(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> Processing:
        """Open the upload session; the bytes go up in `poll` (see the module docstring)."""
        video = video_of(post)
        if video is None:
            raise PermanentError("YouTube takes exactly one video per post.")
        if video.path is None or not video.path.is_file():
            raise PermanentError("The video file of this post is gone; send it again.")
        size = video.path.stat().st_size
        if size == 0:
            raise PermanentError("The video file is empty.")
        privacy = privacy_of(account.config)
        if privacy is None:
            raise PermanentError(
                "Unknown YouTube privacy setting; use public, unlisted or private."
            )
        token = _token(account)
        session = await self._upload.open(
            token, self._resource(post, account, privacy), size, video.mime
        )
        handle = {
            "stage": "upload",
            "session_uri": session,
            "size": size,
            "mime": video.mime,
            "short": is_short(video),
        }
        return Processing(handle=handle, retry_after=0.0, stage="uploading the video")

    async def poll(
        self,
        handle: Mapping[str, Any],
        post: PostContent,
        account: AccountRef,
        idempotency_key: str,
    ) -> PublishResult | Processing:
        if handle.get("stage") == "upload":
            return await self._go_on_uploading(handle, post, account)
        if handle.get("stage") == "processing" and handle.get("video_id"):
            return await self._check_processing(handle, account)
        raise PermanentError(_CANT_CONTINUE)

    # -- the upload -------------------------------------------------------------------------

    def _resource(self, post: PostContent, account: AccountRef, privacy: str) -> dict[str, Any]:
        meta = metadata_of(post)
        snippet: dict[str, Any] = {"title": meta.title}
        if meta.description:
            snippet["description"] = meta.description
        if account.config.get("category_id"):
            snippet["categoryId"] = str(account.config["category_id"])
        privacy_status, publish_at = schedule(privacy, post.scheduled_at, self._now())
        status: dict[str, Any] = {"privacyStatus": privacy_status, "selfDeclaredMadeForKids": False}
        if publish_at:
            status["publishAt"] = publish_at
        return {"snippet": snippet, "status": status}

    async def _go_on_uploading(
        self, handle: Mapping[str, Any], post: PostContent, account: AccountRef
    ) -> Processing:
        token = _token(account)
        try:
            session, size, mime = (
                str(handle["session_uri"]),
                int(handle["size"]),
                str(handle["mime"]),
            )
        except (KeyError, TypeError, ValueError):
            raise PermanentError(_CANT_CONTINUE) from None
        video = video_of(post)
        if video is None or video.path is None or not video.path.is_file():
            raise PermanentError("The video file of this post is gone; send it again.")
        if video.path.stat().st_size != size:
            raise PermanentError("The video file changed after it was scheduled; send it again.")
        try:
            progress = await self._upload.received(session, token, size)
            if not isinstance(progress, Uploaded):
                progress = await self._upload.send(session, token, video.path, size, mime, progress)
        except SessionGone:
            # The session expired before every byte arrived: nothing became a video.
            privacy = privacy_of(account.config) or "public"
            fresh = await self._upload.open(
                token, self._resource(post, account, privacy), size, mime
            )
            return Processing(
                handle={**handle, "session_uri": fresh},
                retry_after=0.0,
                stage="uploading the video",
            )
        if isinstance(progress, Uploaded):
            return self._uploaded(progress.video, handle)
        percent = min(99, progress * 100 // size)
        return Processing(handle=handle, retry_after=0.0, stage=f"uploading the video ({percent}%)")

    def _uploaded(self, video: Mapping[str, Any], handle: Mapping[str, Any]) -> Processing:
        video_id = video.get("id")
        if not video_id:
            raise TransientError("YouTube finished the upload without naming the video.")
        return Processing(
            handle={
                "stage": "processing",
                "video_id": str(video_id),
                "short": bool(handle.get("short")),
                "looks": 0,
            },
            retry_after=POLL_DEFAULT,
            stage="processing the video",
        )

    # -- processing -------------------------------------------------------------------------

    async def _check_processing(
        self, handle: Mapping[str, Any], account: AccountRef
    ) -> PublishResult | Processing:
        video_id = str(handle["video_id"])
        token = _token(account)
        response = await self._google.send(
            "GET",
            f"{self._api_base}/videos",
            token,
            params={"part": "status,processingDetails", "id": video_id},
        )
        if response.status_code != 200:
            self._google.fail(response, [token])
        items = json_of(response).get("items") or []
        video = next((v for v in items if isinstance(v, Mapping) and v.get("id") == video_id), None)
        looks = int(handle.get("looks") or 0) + 1
        outcome = processing_outcome(video, looks)
        if outcome is True:
            return PublishResult(
                platform_id=video_id,
                url=video_url(video_id, short=bool(handle.get("short"))),
                ref={"video_id": video_id, "parts": 1},
            )
        return Processing(
            handle={**handle, "looks": looks}, retry_after=outcome, stage="processing the video"
        )

    # -- identity ---------------------------------------------------------------------------

    async def _channels(self, token: str) -> list[Mapping[str, Any]]:
        response = await self._google.send(
            "GET",
            f"{self._api_base}/channels",
            token,
            params={"part": "snippet,status", "mine": "true"},
        )
        if response.status_code != 200:
            self._google.fail(response, [token])
        items = json_of(response).get("items") or []
        return [c for c in items if isinstance(c, Mapping) and c.get("id")]


def _token(account: AccountRef) -> str:
    token = str(account.credentials.get("access_token") or "").strip()
    if not token:
        raise AuthError("The YouTube sign-in is missing; connect the account again.")
    return token


def _label(channel: Mapping[str, Any]) -> str:
    snippet = channel.get("snippet") or {}
    title = str(snippet.get("title") or channel["id"])
    handle = str(snippet.get("customUrl") or "")
    return f"{title} ({handle})" if handle else title


def _config(channel: Mapping[str, Any]) -> dict[str, Any]:
    snippet = channel.get("snippet") or {}
    status = channel.get("status") or {}
    return {
        "channel_id": str(channel["id"]),
        "title": str(snippet.get("title") or ""),
        "custom_url": str(snippet.get("customUrl") or ""),
        "long_uploads_status": str(status.get("longUploadsStatus") or "longUploadsUnspecified"),
    }
