"""Facebook Pages, through Meta's Graph API v27.0 (Pages API, Video API, Reels Publishing),
signed in with Facebook Login for Business. The same sign-in connects the Instagram accounts
linked to the Pages (providers/instagram.py; providers/meta_auth.py has the login).

One account is one Page: config {"page_id", "name"}; credentials {"page_token" (no expiry),
"user_token" (long-lived, about 60 days), "expires_at" (the user token's), "scope" (the
permissions granted, comma-separated)}. Publishing uses the Page token; a regular video's
upload needs the user token too (providers/facebook_media.py).

Publishing (providers/facebook_media.py has the requests):

- text, with the first link as the post's link, or photos: one request, `PublishResult` at
  once, the link `https://www.facebook.com/<page-id>_<post-id>`;
- a video: uploaded and created (a reel when it is short and vertical, see
  providers/facebook_limits.py), then `Processing` while Facebook processes it; `poll` asks
  `GET /{video-id}?fields=status,permalink_url` and answers the result once it is ready
  (never uploads again: the handle holds only the video id).

The handle: {"kind": "video" | "reel", "video_id": "<id>", "page_id": "<id>", "looks": <n>}.
`PublishResult.ref`: {"kind": "post" | "video" | "reel", "post_id" or "video_id", "page_id",
"parts": 1}. `delete` is `DELETE /{post-id}` (or `/{video-id}`); `edit` is `POST /{post-id}`
with `message` (a video's `description`), which Meta allows for posts the same app made;
`lookup` reads the Page's posts since the post was due (providers/meta_lookup.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from providers.base import (
    AccountOption,
    AccountRef,
    AfterPublish,
    NotPublished,
    PostContent,
    Problem,
    Processing,
    Provider,
    PublishResult,
    VerifiedAccount,
)
from providers.errors import AuthError, PermanentError, TransientError
from providers.facebook_limits import LIMITS, first_link, is_reel, is_video, page_problems
from providers.facebook_media import PageUploads, poll_delay, video_ready, video_result
from providers.http import safe_to_repeat
from providers.meta_auth import MetaLogin, meta_oauth_spec
from providers.meta_errors import graph_error
from providers.meta_graph import (
    API_BASE_URL,
    AUTH_BASE_URL,
    RUPLOAD_BASE_URL,
    VIDEO_BASE_URL,
    GraphApi,
)
from providers.meta_lookup import PAGE_SIZE, find, since
from providers.oauth import OAuthApp, Token

PLATFORM = "Facebook"
_CANT_CONTINUE = "This Facebook video can't be followed any more; schedule the post again."


class FacebookProvider(Provider):
    platform: ClassVar[str] = "facebook"
    display_name: ClassVar[str] = "Facebook Page"
    account_options: ClassVar[tuple[AccountOption, ...]] = (
        AccountOption(
            key="facebook_video_format",
            label="Videos go out as",
            choices=(("auto", "Reels when vertical"), ("reel", "Reels"), ("video", "Videos")),
            default="auto",
        ),
    )
    #: The one /connect entry of the Meta sign-in: it connects Pages and the Instagram
    #: accounts linked to them (those come back from `accounts_for` with platform
    #: "instagram"; the Instagram adapter has no sign-in of its own).
    sign_in_label: ClassVar[str] = "Facebook & Instagram (Meta)"
    #: The other platforms this sign-in connects.
    also_connects: ClassVar[tuple[str, ...]] = ("instagram",)
    limits = LIMITS
    after_publish = AfterPublish(can_delete=True, can_edit_text=True, can_lookup=True)

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        oauth_app: OAuthApp | None = None,
        api_base_url: str = API_BASE_URL,
        video_base_url: str = VIDEO_BASE_URL,
        upload_base_url: str = RUPLOAD_BASE_URL,
        auth_base_url: str = AUTH_BASE_URL,
        config_id: str | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.oauth_app = oauth_app
        self.graph = GraphApi(
            http,
            platform=PLATFORM,
            app=oauth_app,
            api_base_url=api_base_url,
            video_base_url=video_base_url,
            upload_base_url=upload_base_url,
        )
        #: `config_id`: a Facebook Login for Business configuration, which then decides the
        #: permissions asked for (the scopes are sent too).
        self.oauth = meta_oauth_spec(
            auth_base_url=auth_base_url, api_base_url=api_base_url, config_id=config_id
        )
        self._login = MetaLogin(self.graph, now=now)
        self._uploads = PageUploads(self.graph)

    # -- connecting -------------------------------------------------------------------------

    async def accounts_for(self, token: Token) -> list[VerifiedAccount]:
        """Every Page the login may post to and the Instagram account linked to each (those
        with `platform="instagram"`); see providers/meta_auth.py."""
        return await self._login.destinations(token)

    async def verify(self, account: AccountRef) -> VerifiedAccount:
        page_id, token = _page(account)
        body = await self.graph.call(
            "GET", self.graph.url(f"/{page_id}"), token, params={"fields": "id,name"}
        )
        name = str(body.get("name") or account.label)
        return VerifiedAccount(
            label=name,
            external_id=page_id,
            config={**account.config, "page_id": page_id, "name": name},
        )

    async def refresh(self, account: AccountRef) -> Mapping[str, Any]:
        """A fresh long-lived user token and the Page token read with it; AuthError when
        Meta refuses the user token (only signing in again helps then)."""
        return await self._login.refresh(account)

    # -- composing --------------------------------------------------------------------------

    def validate(self, post: PostContent, account: AccountRef) -> list[Problem]:
        problems = super().validate(post, account)
        if any(p.code == "empty" for p in problems):
            return problems
        return problems + page_problems(post, account.config)

    # -- publishing -------------------------------------------------------------------------

    async def publish(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> PublishResult | Processing:
        page_id, token = _page(account)
        videos = [m for m in post.media if is_video(m)]
        if videos:
            return await self._publish_video(post, account, page_id, token)
        if not post.media:
            post_id = await self._uploads.feed(
                page_id, token, post.text, link=first_link(post.text)
            )
        elif len(post.media) == 1:
            photo = await self._uploads.photo(
                page_id, token, post.media[0], message=post.text, published=True
            )
            post_id = str(photo.get("post_id") or f"{page_id}_{photo.get('id')}")
        else:
            photo_ids = []
            for item in post.media:  # unpublished: nobody sees them until the post is made
                photo = await self._uploads.photo(page_id, token, item, message="", published=False)
                photo_ids.append(str(photo.get("id") or ""))
            post_id = await self._uploads.feed(page_id, token, post.text, photo_ids=photo_ids)
        return _post_result(post_id, page_id)

    async def _publish_video(
        self, post: PostContent, account: AccountRef, page_id: str, token: str
    ) -> Processing:
        video = next(m for m in post.media if is_video(m))
        reel = is_reel(video, account.config)
        if reel:
            video_id = await self._uploads.reel(page_id, token, video, post.text)
        else:
            user_token = str(account.credentials.get("user_token") or "")
            if not user_token:
                raise AuthError(
                    "Facebook takes videos only with a current sign-in; connect the Page again."
                )
            handle = await self._uploads.upload_video(user_token, video)
            video_id = await self._uploads.create_video(page_id, token, handle, post.text)
        return Processing(
            handle={"kind": "reel" if reel else "video", "video_id": video_id, "page_id": page_id},
            retry_after=poll_delay(0),
            stage="processing the video",
        )

    async def poll(
        self,
        handle: Mapping[str, Any],
        post: PostContent,
        account: AccountRef,
        idempotency_key: str,
    ) -> PublishResult | Processing:
        """Ask how the video is doing; never uploads again."""
        kind, video_id = handle.get("kind"), str(handle.get("video_id") or "")
        if kind not in ("video", "reel") or not video_id:
            raise PermanentError(_CANT_CONTINUE)
        page_id = str(handle.get("page_id") or account.config.get("page_id") or "")
        _, token = _page(account)
        video = await self._uploads.video_status(video_id, token)
        if video_ready(video, reel=kind == "reel"):
            return video_result(video, video_id=video_id, page_id=page_id, reel=kind == "reel")
        looks = int(handle.get("looks") or 0) + 1
        return Processing(
            handle={**handle, "looks": looks},
            retry_after=poll_delay(looks),
            stage="processing the video",
        )

    # -- after publishing -------------------------------------------------------------------

    async def delete(self, published: PublishResult, account: AccountRef) -> None:
        """`DELETE` the post (or the video); one already gone counts as deleted."""
        _, token = _page(account)
        target = _target(published)
        with safe_to_repeat(PLATFORM, "deleting"):
            response = await self.graph.send(
                "DELETE", self.graph.url(f"/{target}"), token, creates=True
            )
        if response.status_code == 404 or _gone(response):
            return
        self.graph.json_of(response, token)

    async def edit(
        self,
        published: PublishResult,
        post: PostContent,
        account: AccountRef,
        *,
        media_changed: bool = False,
    ) -> PublishResult:
        """Change the post's message (a video's description) in place."""
        self.ensure_editable(published, post, account, media_changed=media_changed)
        _, token = _page(account)
        field = "description" if published.ref.get("kind") in ("video", "reel") else "message"
        with safe_to_repeat(PLATFORM, "editing"):
            body = await self.graph.call(
                "POST",
                self.graph.url(f"/{_target(published)}"),
                token,
                creates=True,
                data={field: post.text},
            )
        if body.get("success") is False:
            raise TransientError("Facebook didn't confirm the edit; editing again is safe.")
        return PublishResult(
            platform_id=published.platform_id, url=published.url, ref=dict(published.ref)
        )

    async def lookup(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> PublishResult | NotPublished | None:
        """Look for the post among the Page's posts since it was due
        (providers/meta_lookup.py)."""
        page_id, token = _page(account)
        start = since(post.scheduled_at)
        params = {"fields": "id,message,created_time", "limit": str(PAGE_SIZE)}
        if start is not None:
            params["since"] = str(int(start.timestamp()))
        body = await self.graph.call(
            "GET", self.graph.url(f"/{page_id}/posts"), token, params=params
        )
        items = [p for p in body.get("data") or () if isinstance(p, Mapping)]
        found = find(items, post.text, start=start, text_key="message", time_key="created_time")
        if isinstance(found, Mapping):
            return _post_result(str(found["id"]), page_id)
        return found


def _page(account: AccountRef) -> tuple[str, str]:
    page_id = str(account.config.get("page_id") or "")
    token = str(account.credentials.get("page_token") or "").strip()
    if not page_id:
        raise PermanentError("This Facebook account has no Page id; connect it again.")
    if not token:
        raise AuthError("The Facebook Page's sign-in is missing; connect it again.")
    return page_id, token


def _post_result(post_id: str, page_id: str) -> PublishResult:
    return PublishResult(
        platform_id=post_id,
        url=f"https://www.facebook.com/{post_id}",
        ref={"kind": "post", "post_id": post_id, "page_id": page_id, "parts": 1},
    )


def _target(published: PublishResult) -> str:
    ref = published.ref
    return str(ref.get("video_id") or ref.get("post_id") or published.platform_id)


def _gone(response: httpx.Response) -> bool:
    error = graph_error(response)
    return error is not None and error.gone
