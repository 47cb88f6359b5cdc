"""TikTok, through the Content Posting API v2 (Direct Post: open.tiktokapis.com/v2/post/
publish/...), signed in with Login Kit for Web (OAuth 2.0, PKCE with TikTok's hex challenge).

Connecting: `accounts_for` reads the user (`GET /v2/user/info/`, user.info.basic fields)
and what they may post (`POST /v2/post/publish/creator_info/query/`, which also gives the
handle without the user.info.profile scope): one destination, "@username", whose
`external_id` is the open_id. Access tokens last hours (TikTok says how many in
`expires_in`), refresh tokens months, and a refresh answers a new refresh token that
replaces the old one (`refresh`).

Publishing is two-phase. `publish` reads creator_info again (TikTok's guidelines want it
fresh for every post: who the post may be shown to, whether comments, duets and stitches
can be on, the longest video), then starts the post:

- a video, by default: `POST /v2/post/publish/video/init/` with source FILE_UPLOAD and the
  chunk plan (providers/tiktok_upload.py). Nothing is posted until every chunk is in, so a
  lost answer here is no ambiguity. `Processing` hands the upload to `poll`, which asks TikTok
  how many bytes it has (`uploaded_bytes` of the status) and sends the rest: a restart goes
  on where TikTok is, never starts a second post. An upload URL that expired (an hour)
  fails the post clearly; nothing was posted and retrying starts afresh.
- a video with the account's `pull_from_url`: the same init with PULL_FROM_URL and
  `MediaFile.url` (the operator must have verified the domain with TikTok);
- photos: `POST /v2/post/publish/content/init/`, media_type PHOTO, post_mode DIRECT_POST,
  PULL_FROM_URL with every photo's `MediaFile.url` (TikTok takes photos no other way).

Then `poll` reads `POST /v2/post/publish/status/fetch/` until PUBLISH_COMPLETE (the result,
`https://www.tiktok.com/@<username>/video/<post id>`) or FAILED (the reason, mapped in
providers/tiktok_api.py). A post shown to others goes through TikTok's moderation before
TikTok names it; Crier waits up to `moderation_wait` for the id, then reports it published
without a link (a note says so), as it does for a private post, which TikTok never names.

The handle, stored on the target (JSON; the upload URL is half a secret, and goes once the
upload is done):

    {"stage": "upload", "publish_id": "v_pub_file~v2-1.7…", "upload_url": "https://…",
     "size": <bytes>, "chunk_size": <bytes>, "chunks": <count>, "next": <chunk index>,
     "mime": "video/mp4", "privacy_level": "PUBLIC_TO_EVERYONE", "notes": [...]}
    {"stage": "status", "publish_id": "…", "privacy_level": "…", "notes": [...], "looks": 0}

TikTok's API can't delete or edit a post, nor find one by anything Crier knows: nothing is
declared after publishing, and `lookup` can't tell.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, Final

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
    Severity,
    VerifiedAccount,
    delete_after_problems,
)
from providers.errors import AuthError, PermanentError, ProviderError
from providers.oauth import OAuthApp, OAuthClient, OAuthSpec, Token, as_credentials
from providers.tiktok_api import API_BASE_URL, TikTokApi
from providers.tiktok_limits import (
    LIMITS,
    CreatorInfo,
    TikTokOptions,
    limits_for,
    photos_of,
    post_problems,
    too_long,
    unaudited_warning,
    video_of,
)
from providers.tiktok_posting import Posting, read_creator
from providers.tiktok_upload import DEFAULT_CHUNK, ChunkedUpload

AUTH_BASE_URL: Final = "https://www.tiktok.com"
#: Direct Post needs video.publish (photos too); video.upload is only for inbox drafts.
SCOPES: Final = ("user.info.basic", "video.publish")
USER_FIELDS: Final = "open_id,union_id,avatar_url,display_name"


class TikTokProvider(Provider):
    platform: ClassVar[str] = "tiktok"
    display_name: ClassVar[str] = "TikTok"
    limits = LIMITS
    after_publish = AfterPublish()
    account_options: ClassVar[tuple[AccountOption, ...]] = (
        AccountOption(
            key="privacy_level",
            label="Who can see",
            choices=(
                ("PUBLIC_TO_EVERYONE", "Everyone"),
                ("MUTUAL_FOLLOW_FRIENDS", "Friends"),
                ("FOLLOWER_OF_CREATOR", "Followers"),
                ("SELF_ONLY", "Only me"),
            ),
            default="SELF_ONLY",
            offered_by="privacy_level_options",
            help="TikTok asks you to choose; until you do, posts are private.",
        ),
        AccountOption(key="disable_comment", label="Comments off", default=True),
        AccountOption(key="disable_duet", label="Duets off", default=True),
        AccountOption(key="disable_stitch", label="Stitches off", default=True),
        AccountOption(key="is_aigc", label="AI-generated content", default=False),
    )

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        oauth_app: OAuthApp | None = None,
        api_base_url: str = API_BASE_URL,
        auth_base_url: str = AUTH_BASE_URL,
        chunk_size: int = DEFAULT_CHUNK,
        upload_budget: float = 240.0,
        moderation_wait: float = 1800.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._api_base = api_base_url.rstrip("/")
        self._posting = Posting(
            ChunkedUpload(http, budget=upload_budget, monotonic=monotonic),
            chunk_size=chunk_size,
            moderation_wait=moderation_wait,
        )
        self._now = now
        self.oauth_app = oauth_app
        self.oauth: OAuthSpec = OAuthSpec(
            authorize_url=f"{auth_base_url.rstrip('/')}/v2/auth/authorize/",
            token_url=f"{self._api_base}/oauth/token/",
            scopes=SCOPES,
            pkce=True,
            pkce_encoding="hex",
            token_auth="client_secret_post",
            scope_separator=",",
            client_id_param="client_key",
        )

    # -- contract ---------------------------------------------------------------------------

    def limits_for(self, account: AccountRef) -> Limits:
        return limits_for(account)

    def validate(self, post: PostContent, account: AccountRef) -> list[Problem]:
        problems = post_problems(post, account)
        problems.extend(delete_after_problems(self.after_publish, post, self.display_name))
        return problems

    def pulls_media_for(self, post: PostContent, account: AccountRef) -> bool:
        """Whether this post needs `MediaFile.url` (photos; a video with pull_from_url):
        `Limits.pulls_media` is set because photos always do, but a video uploaded from
        its file needs no PUBLIC_URL."""
        if photos_of(post):
            return True
        return (
            video_of(post) is not None and TikTokOptions.from_config(account.config).pull_from_url
        )

    async def creator_info(self, account: AccountRef) -> CreatorInfo:
        """What TikTok lets this creator post now, for the preview (audiences, whether
        comments, duets and stitches can be on, the longest video)."""
        return await read_creator(self._api(account))

    async def validate_live(self, post: PostContent, account: AccountRef) -> list[Problem]:
        """The post against what TikTok says now (`creator_info`); nothing when TikTok
        can't be asked."""
        try:
            creator = await self.creator_info(account)
        except ProviderError:
            return []
        options = TikTokOptions.from_config(account.config)
        problems: list[Problem] = []
        if creator.only_private or options.unaudited:
            problems.append(unaudited_warning())
        elif options.privacy_level and options.privacy_level not in creator.privacy_level_options:
            offered = ", ".join(creator.privacy_level_options) or "none"
            problems.append(
                Problem(
                    code="privacy_not_offered",
                    message=(
                        f"TikTok doesn't offer this account the audience {options.privacy_level} "
                        f"now (it offers {offered}); choose another one."
                    ),
                )
            )
        video = video_of(post)
        longest = creator.max_video_post_duration_sec
        if video is not None and video.duration is not None and video.duration > longest:
            problems.append(too_long(video.duration, longest))
        turned_off = [
            what
            for what, wanted, disabled, for_video in (
                ("comments", not options.disable_comment, creator.comment_disabled, False),
                ("duets", not options.disable_duet, creator.duet_disabled, True),
                ("stitches", not options.disable_stitch, creator.stitch_disabled, True),
            )
            if wanted and disabled and (video is not None or not for_video)
        ]
        if turned_off:
            problems.append(
                Problem(
                    code="interaction_off",
                    message=(
                        f"This TikTok account has {' and '.join(turned_off)} turned off in "
                        "TikTok, so the post will have none."
                    ),
                    severity=Severity.WARNING,
                )
            )
        return problems

    # -- connecting -------------------------------------------------------------------------

    async def accounts_for(self, token: Token) -> list[VerifiedAccount]:
        """The one TikTok account this login is."""
        granted = {s for s in (token.scope or "").replace(" ", ",").split(",") if s}
        if token.scope is not None and "video.publish" not in granted:
            raise AuthError(
                "Crier wasn't allowed to post to TikTok; connect again and allow posting."
            )
        api = TikTokApi(self._http, token.access_token, base_url=self._api_base)
        user, creator = await self._user(api), await read_creator(api)
        open_id = str(user.get("open_id") or token.extra.get("open_id") or "")
        if not open_id:
            raise PermanentError("TikTok didn't say which account signed in; try again.")
        return [
            VerifiedAccount(
                label=_label(creator, user),
                external_id=open_id,
                config=_identity(open_id, user, creator),
                credentials=as_credentials(token),
            )
        ]

    async def verify(self, account: AccountRef) -> VerifiedAccount:
        """Read the account again (handle, audiences, longest video); AuthError when TikTok
        refuses the sign-in."""
        api = self._api(account)
        user, creator = await self._user(api), await read_creator(api)
        open_id = str(user.get("open_id") or account.config.get("open_id") or "")
        if account.config.get("open_id") and open_id != account.config["open_id"]:
            raise AuthError(
                "This sign-in is a different TikTok account; connect the account again."
            )
        return VerifiedAccount(
            label=_label(creator, user),
            external_id=open_id,
            config={**account.config, **_identity(open_id, user, creator)},
        )

    async def refresh(self, account: AccountRef) -> Mapping[str, Any]:
        """A new access token, and the new refresh token TikTok answers with (the old one
        stops working). A refused refresh (revoked, expired) → AuthError."""
        refresh_token = account.credentials.get("refresh_token")
        if self.oauth_app is None or not refresh_token:
            raise AuthError("TikTok needs you to connect this account again.")
        client = OAuthClient(
            self.oauth, self.oauth_app, self._http, platform=self.display_name, clock=self._now
        )
        return as_credentials(await client.refresh(str(refresh_token)))

    # -- publishing -------------------------------------------------------------------------

    async def publish(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> Processing:
        """Start the post (see the module docstring); `poll` carries it on."""
        options = TikTokOptions.from_config(account.config)
        return await self._posting.start(self._api(account), post, options)

    async def poll(
        self,
        handle: Mapping[str, Any],
        post: PostContent,
        account: AccountRef,
        idempotency_key: str,
    ) -> PublishResult | Processing:
        """Go on uploading, or read the status. Every error but PermanentError leaves the
        handle good: polling it again is always safe."""
        return await self._posting.carry_on(self._api(account), handle, post, account)

    # -- reading ----------------------------------------------------------------------------

    def _api(self, account: AccountRef) -> TikTokApi:
        token = str(account.credentials.get("access_token") or "").strip()
        if not token:
            raise AuthError("The TikTok sign-in is missing; connect the account again.")
        return TikTokApi(self._http, token, base_url=self._api_base)

    @staticmethod
    async def _user(api: TikTokApi) -> Mapping[str, Any]:
        data = await api.call("GET", "/user/info/", params={"fields": USER_FIELDS})
        user = data.get("user")
        return user if isinstance(user, Mapping) else {}


def _label(creator: CreatorInfo, user: Mapping[str, Any]) -> str:
    if creator.username:
        return f"@{creator.username}"
    return str(user.get("display_name") or creator.nickname or "TikTok account")


def _identity(open_id: str, user: Mapping[str, Any], creator: CreatorInfo) -> dict[str, Any]:
    """What an account stores of who it is and what TikTok lets it post."""
    return {
        "open_id": open_id,
        "username": creator.username,
        "display_name": str(user.get("display_name") or creator.nickname or ""),
        "privacy_level_options": list(creator.privacy_level_options),
        "max_video_post_duration_sec": creator.max_video_post_duration_sec,
    }
