"""Instagram professional accounts (business or creator) linked to a Facebook Page, through
the Instagram API with Facebook Login (Graph API v27.0, graph.facebook.com; "Content
Publishing"). Meta fetches every photo and video from the signed `MediaFile.url` Crier
serves (`Limits.pulls_media`); publishing is two-phase (providers/instagram_containers.py).

Connecting: this adapter has no sign-in of its own (`oauth = None`, `signs_in_via =
"facebook"`): the Meta sign-in of the Facebook adapter returns the Instagram account linked
to each Page with `platform="instagram"` (providers/meta_auth.py). Config {"ig_user_id",
"username", "page_id", "page_name"}; credentials {"page_token" (the linked Page's, no
expiry: what publishing uses), "user_token", "expires_at" (the user token's, about 60
days), "scope"}. `refresh` renews them like the Page's.

A post's shape follows the account's config `instagram_format` ("feed", "reel", "story";
providers/instagram_limits.py). `publish` creates the containers and answers `Processing`;
`poll` waits for them (a carousel's parent is created once every child is FINISHED), then
publishes and answers the result with the media's permalink. The handle:

    {"format": "feed" | "reel" | "story" | "carousel", "container": "<id>",
     "children": ["<id>", ...], "looks": <n>}

`children` only for a carousel, `container` once it exists. Nothing is ever created twice
from a stored handle: a container whose answer to `media_publish` was lost (an ambiguous
TransientError: the post may be out) is PUBLISHED at the next poll, which then finds the
post instead of publishing again; `lookup` settles it too. (A carousel parent
created just before a crash, before the handle with it was stored, is made again from the
same children; the first one is never published and expires unseen within 24 hours.)

`PublishResult.ref`: {"media_id", "container_id" (not when found by `lookup`), "format",
"username", "parts": 1}. Delete: `DELETE /{ig-media-id}` with the user token. Captions
can't be edited through the API. `lookup` reads the account's latest media
(providers/meta_lookup.py).
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
    Limits,
    NotPublished,
    PostContent,
    Problem,
    Processing,
    Provider,
    PublishResult,
    VerifiedAccount,
)
from providers.errors import AuthError, PermanentError
from providers.http import safe_to_repeat
from providers.instagram_containers import (
    ERROR,
    EXPIRED,
    FINISHED,
    PUBLISHED,
    Containers,
    PublishingQuota,
    container_params,
)
from providers.instagram_limits import (
    LIMITS,
    format_of,
    instagram_problems,
    is_video,
    limits_for,
)
from providers.meta_auth import MetaLogin
from providers.meta_errors import graph_error
from providers.meta_graph import API_BASE_URL, GraphApi
from providers.meta_lookup import find, since
from providers.oauth import OAuthApp, OAuthSpec

PLATFORM = "Instagram"
#: Seconds until the next look: photos are usually ready at once, videos take minutes; Meta
#: advises once a minute after that.
FIRST_LOOK = {"photo": 3.0, "video": 20.0}
NEXT_LOOK = 60.0
_CANT_CONTINUE = "This Instagram post can't be carried on; schedule it again."


class InstagramProvider(Provider):
    platform: ClassVar[str] = "instagram"
    display_name: ClassVar[str] = "Instagram"
    #: No sign-in of its own: connected by the Meta sign-in of this platform's adapter.
    signs_in_via: ClassVar[str] = "facebook"
    account_options: ClassVar[tuple[AccountOption, ...]] = (
        AccountOption(
            key="instagram_format",
            label="Posts go out as",
            choices=(("feed", "Feed posts"), ("reel", "Reels"), ("story", "Stories")),
            default="feed",
            help="A video in the feed goes out as a reel, as Instagram requires.",
        ),
        AccountOption(
            key="instagram_fit",
            label="Feed photos not 4:5 to 1.91:1",
            choices=(
                ("ask", "Refuse them: I'll crop"),
                ("pad", "Pad with white bars"),
                ("crop", "Crop the middle"),
            ),
            default="ask",
            help="Instagram's feed takes nothing wider than 1.91:1 or taller than 4:5.",
        ),
    )
    oauth: OAuthSpec | None = None
    limits = LIMITS
    after_publish = AfterPublish(can_delete=True, can_lookup=True)

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        oauth_app: OAuthApp | None = None,
        api_base_url: str = API_BASE_URL,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        #: The Meta app (META_APP_ID/SECRET): for `refresh` and `appsecret_proof`.
        self.oauth_app = oauth_app
        self.graph = GraphApi(http, platform=PLATFORM, app=oauth_app, api_base_url=api_base_url)
        self._login = MetaLogin(self.graph, now=now)
        self._containers = Containers(self.graph)

    # -- connecting -------------------------------------------------------------------------

    async def verify(self, account: AccountRef) -> VerifiedAccount:
        ig_id, token = _account(account)
        body = await self.graph.call(
            "GET", self.graph.url(f"/{ig_id}"), token, params={"fields": "id,username,name"}
        )
        username = str(body.get("username") or account.config.get("username") or ig_id)
        return VerifiedAccount(
            label=f"@{username}",
            external_id=ig_id,
            config={**account.config, "ig_user_id": ig_id, "username": username},
        )

    async def refresh(self, account: AccountRef) -> Mapping[str, Any]:
        """Like the Facebook Page's: a fresh user token and the linked Page's token."""
        return await self._login.refresh(account)

    async def quota_left(self, account: AccountRef) -> PublishingQuota:
        """The 24-hour publishing limit and how much of it is used (for the bot to show)."""
        ig_id, token = _account(account)
        return await self._containers.quota(ig_id, token)

    # -- composing --------------------------------------------------------------------------

    def limits_for(self, account: AccountRef) -> Limits:
        return limits_for(account.config)

    def validate(self, post: PostContent, account: AccountRef) -> list[Problem]:
        problems = super().validate(post, account)
        if any(p.code == "empty" for p in problems):
            return problems
        return problems + instagram_problems(post, account.config)

    # -- publishing -------------------------------------------------------------------------

    async def publish(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> Processing:
        """Create the containers; `poll` publishes them once Instagram has the media."""
        ig_id, token = _account(account)
        if not post.media:
            raise PermanentError("Instagram needs a photo or video in every post.")
        chosen = format_of(account.config)
        story = chosen == "story"
        videos = any(is_video(m) for m in post.media)
        first_look = FIRST_LOOK["video" if videos else "photo"]
        if chosen == "feed" and len(post.media) > 1:
            children = [
                await self._containers.create(
                    ig_id,
                    token,
                    container_params(item, story=False, carousel_item=True, caption=None),
                )
                for item in post.media
            ]
            return Processing(
                handle={"format": "carousel", "children": children, "looks": 0},
                retry_after=first_look,
                stage="Instagram is fetching the media",
            )
        params = container_params(
            post.media[0], story=story, carousel_item=False, caption=post.text
        )
        container = await self._containers.create(ig_id, token, params)
        return Processing(
            handle={"format": chosen, "container": container, "looks": 0},
            retry_after=first_look,
            stage="Instagram is fetching the media",
        )

    async def poll(
        self,
        handle: Mapping[str, Any],
        post: PostContent,
        account: AccountRef,
        idempotency_key: str,
    ) -> PublishResult | Processing:
        ig_id, token = _account(account)
        container = str(handle.get("container") or "")
        looks = int(handle.get("looks") or 0) + 1
        if not container:
            children = [str(c) for c in handle.get("children") or ()]
            if handle.get("format") != "carousel" or not children:
                raise PermanentError(_CANT_CONTINUE)
            for child in children:
                status, reason = await self._containers.status(child, token)
                _refuse(status, reason)
                if status != FINISHED:
                    return _waiting(handle, looks)
            parent = await self._containers.carousel(ig_id, token, children, post.text)
            return Processing(
                handle={**handle, "container": parent, "looks": looks},
                retry_after=FIRST_LOOK["photo"],
                stage="Instagram is preparing the carousel",
            )
        status, reason = await self._containers.status(container, token)
        _refuse(status, reason)
        if status == PUBLISHED:  # published before, its answer lost: find it, never again
            return await self._found(ig_id, token, container, handle, post, account)
        if status != FINISHED:
            return _waiting(handle, looks)
        media_id = await self._containers.publish(ig_id, token, container)
        return await self._result(
            media_id, token, container, str(handle.get("format") or ""), account
        )

    async def _result(
        self,
        media_id: str,
        token: str,
        container: str | None,
        chosen: str,
        account: AccountRef,
    ) -> PublishResult:
        """The published media with its permalink; a failed look-up of the link never fails
        a post that is out (the profile's address then stands in, with a note)."""
        username = str(account.config.get("username") or "")
        notes: tuple[str, ...] = ()
        try:
            url = await self._containers.permalink(media_id, token)
        except Exception:  # the post is out: nothing may fail it now
            url = None
        if url is None:
            url = f"https://www.instagram.com/{username}/" if username else None
            notes = ("Instagram didn't give the post's link; the profile's is shown instead.",)
        ref: dict[str, Any] = {"media_id": media_id, "format": chosen, "username": username}
        if container:
            ref["container_id"] = container
        return PublishResult(platform_id=media_id, url=url, ref={**ref, "parts": 1}, notes=notes)

    async def _found(
        self,
        ig_id: str,
        token: str,
        container: str,
        handle: Mapping[str, Any],
        post: PostContent,
        account: AccountRef,
    ) -> PublishResult:
        """The media a PUBLISHED container became, among the account's latest."""
        chosen = str(handle.get("format") or "")
        caption = "" if chosen == "story" else post.text
        media = find(
            await self._containers.recent(ig_id, token),
            caption,
            start=None,
            text_key="caption",
            time_key="timestamp",
        )
        if isinstance(media, Mapping):
            return await self._result(str(media["id"]), token, container, chosen, account)
        username = str(account.config.get("username") or "")
        return PublishResult(
            platform_id=container,
            url=f"https://www.instagram.com/{username}/" if username else None,
            ref={"container_id": container, "format": chosen, "parts": 1},
            notes=("Instagram published the post, but Crier couldn't find its link.",),
        )

    async def lookup(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> PublishResult | NotPublished | None:
        """Look for the post among the account's latest media since it was due
        (providers/meta_lookup.py); stories never show there, so they can't be told."""
        chosen = format_of(account.config)
        if chosen == "story":
            return None
        ig_id, token = _account(account)
        found = find(
            await self._containers.recent(ig_id, token),
            post.text,
            start=since(post.scheduled_at),
            text_key="caption",
            time_key="timestamp",
        )
        if isinstance(found, Mapping):
            fmt = "carousel" if len(post.media) > 1 else chosen
            return await self._result(str(found["id"]), token, None, fmt, account)
        return found

    # -- after publishing -------------------------------------------------------------------

    async def delete(self, published: PublishResult, account: AccountRef) -> None:
        """`DELETE /{ig-media-id}` with the user token (Meta documents no other); media
        already gone counts as deleted."""
        media_id = str(published.ref.get("media_id") or "")
        if not media_id:
            raise PermanentError(
                "Crier doesn't know which Instagram post this became, so it can't delete it."
            )
        user_token = str(account.credentials.get("user_token") or "")
        if not user_token:
            raise AuthError("Deleting on Instagram needs a current Meta sign-in; connect again.")
        with safe_to_repeat(PLATFORM, "deleting"):
            response = await self.graph.send(
                "DELETE", self.graph.url(f"/{media_id}"), user_token, creates=True
            )
        error = graph_error(response)
        if response.status_code == 404 or (error is not None and error.gone):
            return
        if error is not None and (error.code == 10 or 200 <= (error.code or 0) <= 299):
            raise PermanentError(
                "Meta didn't let Crier delete this Instagram post (it needs the "
                "instagram_manage_contents permission); connect again and allow it, or delete "
                "it in the Instagram app."
            )
        self.graph.json_of(response, user_token)


def _account(account: AccountRef) -> tuple[str, str]:
    ig_id = str(account.config.get("ig_user_id") or "")
    token = str(account.credentials.get("page_token") or "").strip()
    if not ig_id:
        raise PermanentError("This Instagram account has no account id; connect it again.")
    if not token:
        raise AuthError("The Instagram account's sign-in is missing; connect it again.")
    return ig_id, token


def _refuse(status: str, reason: str) -> None:
    if status == ERROR:
        said = f": {reason}" if reason else ""
        raise PermanentError(f"Instagram couldn't prepare the media{said}.")
    if status == EXPIRED:
        raise PermanentError(
            "Instagram dropped the prepared post (not published within 24 hours); schedule it "
            "again."
        )


def _waiting(handle: Mapping[str, Any], looks: int) -> Processing:
    """Still IN_PROGRESS (or a state Meta adds later): look again in a minute."""
    return Processing(
        handle={**handle, "looks": looks},
        retry_after=NEXT_LOOK,
        stage="Instagram is processing the media",
    )
