"""X (formerly Twitter), over the X API v2 (docs.x.com; OpenAPI 2.167).

Connecting: OAuth 2.0 Authorization Code with PKCE (`https://x.com/i/oauth2/authorize`, token
endpoint `https://api.x.com/2/oauth2/token` with the app's credentials as HTTP Basic: a
confidential client). Access tokens last two hours; `offline.access` brings a refresh token,
and every refresh answers a new one (the old one stops working), so the credentials
`refresh` returns must replace the stored ones at once. `GET /2/users/me` says who signed in.

Publishing: media first (providers/x_media.py), then `POST /2/tweets` with `text`,
`media.media_ids` and, for a thread's later parts, `reply.in_reply_to_tweet_id`. X has no
idempotency key; it refuses the same text twice (403, "duplicate content"), which Crier
reports rather than retries.

After publishing (providers/x_after.py): delete every post of a thread; edit the text in the
first 30 minutes (X Premium accounts only); no lookup.

Two phases: a video or GIF is still processing after FINALIZE, so `publish` answers
`Processing` with a handle and `poll` asks X (STATUS) until it has succeeded, then sets the
alt text and creates the posts. The handle (`XProgress`) says which files X has and which
posts of the thread are out. Whenever a call made progress (a chunked upload finished, a post
was created) and then failed in a way that may pass (rate limit, server error, lost answer,
refused token), it answers `Processing` with that progress instead of raising, so the next
`poll` goes on from there: nothing is uploaded or posted twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

import httpx

from providers.base import (
    AccountRef,
    AfterPublish,
    Limits,
    PostContent,
    Problem,
    Processing,
    Provider,
    PublishResult,
    VerifiedAccount,
    check_limits,
)
from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from providers.oauth import OAuthApp, OAuthClient, OAuthSpec, Token, as_credentials
from providers.x_after import (
    NOT_PREMIUM,
    Stored,
    delete_posts,
    edit_posts,
    edit_window_problems,
    published_ref,
)
from providers.x_api import API_BASE_URL, DUPLICATE, PLATFORM, XApi
from providers.x_limits import is_premium, x_limits, x_problems
from providers.x_media import CHUNK_SIZE, Upload, check, set_alt_text, upload

AUTH_BASE_URL: Final = "https://x.com"
WEB_BASE_URL: Final = "https://x.com"
#: Read and write posts, read the profile, upload media, and a refresh token.
SCOPES: Final = ("tweet.read", "tweet.write", "users.read", "media.write", "offline.access")
#: Look again this soon after a failure that may pass, once progress is saved.
RETRY_AFTER: Final = 30.0
HANDLE_VERSION: Final = 1
#: Delete always; edit the text where the account is X Premium (`after_publish_for`); the
#: media of a post that is out can't be changed, and X can't be asked whether a post is out.
AFTER_PUBLISH: Final = AfterPublish(can_delete=True, can_edit_text=True)
NO_EDIT: Final = AfterPublish(can_delete=True)


@dataclass
class XProgress:
    """How far one publish got: the handle `Processing` carries (JSON, no secrets)."""

    #: The post's media as X has them, in order.
    media: list[Upload] = field(default_factory=list)
    #: Ids of the thread's posts already out, in order (the first is the post itself).
    posted: list[str] = field(default_factory=list)

    def to_handle(self) -> dict[str, Any]:
        return {
            "version": HANDLE_VERSION,
            "media": [m.to_json() for m in self.media],
            "posted": list(self.posted),
        }

    @classmethod
    def from_handle(cls, handle: Mapping[str, Any], post: PostContent) -> XProgress:
        media, posted = handle.get("media"), handle.get("posted")
        if (
            handle.get("version") != HANDLE_VERSION
            or not isinstance(media, list)
            or not isinstance(posted, list)
        ):
            raise PermanentError("The stored state of this X publish is unreadable; publish again.")
        progress = cls(media=[Upload.from_json(m) for m in media], posted=[str(p) for p in posted])
        if len(progress.media) > len(post.media) or len(progress.posted) > len(post.parts):
            raise PermanentError("This post changed while X was processing it; publish again.")
        return progress


class XProvider(Provider):
    platform: ClassVar[str] = "x"
    display_name: ClassVar[str] = "X"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        oauth_app: OAuthApp | None = None,
        api_base_url: str = API_BASE_URL,
        auth_base_url: str = AUTH_BASE_URL,
        plan: str = "pay_per_use",
        chunk_size: int = CHUNK_SIZE,
        now: Callable[[], float] = time.time,
    ) -> None:
        """`plan` is the X API plan of the app (`pay_per_use`, or a former tier: `pro`,
        `basic`, `free`), which decides the per-account posting quota."""
        self._http = http
        self._api_base_url = api_base_url.rstrip("/")
        self._chunk_size = chunk_size
        self._now = now
        self._spec = OAuthSpec(
            authorize_url=f"{auth_base_url.rstrip('/')}/i/oauth2/authorize",
            token_url=f"{self._api_base_url}/2/oauth2/token",
            scopes=SCOPES,
            pkce=True,
            token_auth="client_secret_basic",
        )
        self.oauth = self._spec
        self.oauth_app = oauth_app
        self.limits = x_limits(plan)
        self._premium_limits = x_limits(plan, premium=True)
        self.after_publish = AFTER_PUBLISH

    # -- connecting ---------------------------------------------------------------------------

    async def accounts_for(self, token: Token) -> list[VerifiedAccount]:
        """The signed-in account: X's OAuth reaches exactly one."""
        me = await self._me(token.access_token)
        return [_verified(me, {}, as_credentials(token))]

    async def verify(self, account: AccountRef) -> VerifiedAccount:
        me = await self._me(_token(account))
        return _verified(me, account.config, None)

    async def refresh(self, account: AccountRef) -> Mapping[str, Any]:
        """New credentials; X rotates the refresh token, so store all of them at once."""
        refresh_token = str(account.credentials.get("refresh_token") or "")
        if not refresh_token:
            raise AuthError("X gave this account no refresh token; please reconnect it.")
        if self.oauth_app is None:
            raise AuthError("X sign-in is not configured on this bot; the account can't renew.")
        client = OAuthClient(self._spec, self.oauth_app, self._http, platform=PLATFORM)
        token = await client.refresh(refresh_token)
        return as_credentials(token)

    async def _me(self, access_token: str) -> Mapping[str, Any]:
        if not access_token:
            raise AuthError("The X sign-in is missing; please reconnect the account.")
        answer = await self._api(access_token).call(
            "GET", "/2/users/me", params={"user.fields": "subscription_type"}
        )
        me = answer.get("data")
        if not isinstance(me, Mapping) or not me.get("id") or not me.get("username"):
            raise TransientError("X answered without saying who is signed in.")
        return me

    # -- composing ----------------------------------------------------------------------------

    def limits_for(self, account: AccountRef) -> Limits:
        """X Premium accounts may post long texts; everything else is the same."""
        return self._premium_limits if is_premium(account.config) else self.limits

    def validate(self, post: PostContent, account: AccountRef) -> list[Problem]:
        problems = check_limits(self.limits_for(account), post, self.display_name)
        if any(p.code == "empty" for p in problems):
            return problems
        return [*problems, *x_problems(post)]

    def after_publish_for(self, account: AccountRef) -> AfterPublish:
        """Editing posts is an X Premium feature."""
        return AFTER_PUBLISH if is_premium(account.config) else NO_EDIT

    def validate_edit(
        self,
        published: PublishResult,
        post: PostContent,
        account: AccountRef,
        *,
        media_changed: bool = False,
    ) -> list[Problem]:
        """The shared checks, X's edit window and edit count, and why a non-Premium account
        can't edit at all."""
        if not is_premium(account.config):
            return [Problem(code="no_edit", message=NOT_PREMIUM)]
        problems = super().validate_edit(published, post, account, media_changed=media_changed)
        return [*problems, *edit_window_problems(published, post, self._now())]

    # -- publishing ---------------------------------------------------------------------------

    async def publish(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> PublishResult | Processing:
        return await self._advance(XProgress(), post, account, polling=False)

    async def poll(
        self,
        handle: Mapping[str, Any],
        post: PostContent,
        account: AccountRef,
        idempotency_key: str,
    ) -> PublishResult | Processing:
        progress = XProgress.from_handle(handle, post)
        return await self._advance(progress, post, account, polling=True)

    async def _advance(
        self, progress: XProgress, post: PostContent, account: AccountRef, *, polling: bool
    ) -> PublishResult | Processing:
        """Take the publish as far as it goes: upload, wait for processing, alt text, posts."""
        api = self._api(_token(account))
        granted = str(account.credentials.get("scope") or "").split()
        if post.media and granted and "media.write" not in granted:
            raise AuthError(
                "This X account was connected without permission to upload media; "
                "reconnect it to post photos and videos."
            )
        saved = _Saved()
        try:
            for number, item in enumerate(post.media, start=1):
                if number <= len(progress.media):
                    continue
                uploaded = await upload(api, item, number, self._chunk_size)
                progress.media.append(uploaded)
                saved.changed = saved.changed or uploaded.category != "tweet_image"
            waiting = [m for m in progress.media if not m.ready]
            if polling:
                for number, media in enumerate(progress.media, start=1):
                    if not media.ready:
                        await check(api, media, number)
                waiting = [m for m in progress.media if not m.ready]
            if waiting:
                return Processing(
                    handle=progress.to_handle(),
                    retry_after=min(m.check_after for m in waiting),
                    stage=_processing_stage(waiting),
                )
            for media, item in zip(progress.media, post.media, strict=True):
                if item.alt_text and media.category != "tweet_video" and not media.alt_set:
                    await set_alt_text(api, media, item.alt_text)
            await self._create_posts(api, progress, post, saved)
        except (TransientError, AuthError) as exc:
            if not saved.changed:
                raise
            # Keep what was done: the next poll goes on from here (and meets the error again
            # if it has not passed, with nothing new to lose).
            wait = RETRY_AFTER
            if isinstance(exc, RateLimited):
                wait = exc.retry_after
            elif isinstance(exc, AuthError):
                wait = 1.0  # surface it at once
            return Processing(
                handle=progress.to_handle(), retry_after=wait, stage=_posting_stage(progress, post)
            )
        first = progress.posted[0]
        media_ids = [m.id for m in progress.media]
        return PublishResult(
            platform_id=first,
            url=_post_url(account, first),
            ref=published_ref(progress.posted, media_ids, post, self._now()),
        )

    async def _create_posts(
        self, api: XApi, progress: XProgress, post: PostContent, saved: _Saved
    ) -> None:
        parts = post.parts
        for number in range(len(progress.posted) + 1, len(parts) + 1):
            body: dict[str, Any] = {"text": parts[number - 1]}
            if number == 1 and progress.media:
                body["media"] = {"media_ids": [m.id for m in progress.media]}
            if number > 1:
                body["reply"] = {"in_reply_to_tweet_id": progress.posted[-1]}
            try:
                answer = await api.call("POST", "/2/tweets", creates_post=True, json=body)
            except PermanentError as exc:
                if number == 1:
                    raise
                raise _thread_refused(exc, number, len(parts)) from exc
            data = answer.get("data")
            post_id = str(data.get("id") or "") if isinstance(data, Mapping) else ""
            if not post_id:
                raise TransientError(
                    "X answered without the new post; it may or may not have been published.",
                    ambiguous=True,
                )
            progress.posted.append(post_id)
            saved.changed = True

    # -- after publishing (providers/x_after.py) ----------------------------------------------

    async def delete(self, published: PublishResult, account: AccountRef) -> None:
        await delete_posts(self._api(_token(account)), published)

    async def edit(
        self,
        published: PublishResult,
        post: PostContent,
        account: AccountRef,
        *,
        media_changed: bool = False,
    ) -> PublishResult:
        """Edit the text of each post of the thread that changed (X Premium, in the first
        30 minutes); the original id stays, the link goes to the latest version."""
        self.ensure_editable(published, post, account, media_changed=media_changed)
        stored: Stored = await edit_posts(self._api(_token(account)), published, post)
        return PublishResult(
            platform_id=published.platform_id,
            url=_post_url(account, stored.post_ids[0]),
            ref=stored.ref(),
        )

    def _api(self, access_token: str) -> XApi:
        return XApi(self._http, access_token, base_url=self._api_base_url, now=self._now)


@dataclass
class _Saved:
    #: This call made progress worth keeping in a handle.
    changed: bool = False


def _verified(
    me: Mapping[str, Any], config: Mapping[str, Any], credentials: Mapping[str, Any] | None
) -> VerifiedAccount:
    username = str(me["username"])
    return VerifiedAccount(
        label=f"@{username}",
        external_id=str(me["id"]),
        config={
            **config,
            "user_id": str(me["id"]),
            "username": username,
            "subscription_type": str(me.get("subscription_type") or "None"),
        },
        credentials=credentials,
    )


def _token(account: AccountRef) -> str:
    token = str(account.credentials.get("access_token") or "").strip()
    if not token:
        raise AuthError("The X sign-in is missing; please reconnect the account.")
    return token


def _post_url(account: AccountRef, post_id: str) -> str:
    username = str(account.config.get("username") or "").lstrip("@")
    if username:
        return f"{WEB_BASE_URL}/{username}/status/{post_id}"
    return f"{WEB_BASE_URL}/i/web/status/{post_id}"


def _thread_refused(exc: PermanentError, number: int, total: int) -> PermanentError:
    out = f"The first {number - 1} of {total} posts of the thread are out"
    if exc.message == DUPLICATE:
        return PermanentError(
            f"{out}; X refused part {number} as a duplicate, so it is most likely out too "
            "from an earlier attempt whose answer was lost. The rest was not posted.",
            http_status=exc.http_status,
        )
    return PermanentError(
        f"{out}, but part {number} failed. {exc.message}", http_status=exc.http_status
    )


def _processing_stage(waiting: list[Upload]) -> str:
    return "processing the GIF" if waiting[0].category == "tweet_gif" else "processing the video"


def _posting_stage(progress: XProgress, post: PostContent) -> str:
    if not progress.posted:
        return "posting"
    return f"posting the thread ({len(progress.posted)} of {len(post.parts)} out)"
