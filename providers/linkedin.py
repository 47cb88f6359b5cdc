"""LinkedIn: a member's profile and the organisation pages they administer, over the versioned
REST API (Posts, Images and Videos APIs of the Community Management API), `LinkedIn-Version:
202605` (May 2026; supported until May 2027: pass `api_version` to move on).

Signing in is OAuth 2.0 with an authorization code (no PKCE for web apps; the app's secret
goes in the token request's body). LinkedIn lets an app hold the Community Management API
only as its sole product, so an app is one of two kinds, and `organizations` says which:

* a member-only app ("Share on LinkedIn" + "Sign In with LinkedIn using OpenID Connect"):
  scopes `openid profile w_member_social`; who signed in comes from `/v2/userinfo`;
* a Community Management app: scopes `r_basicprofile w_member_social w_organization_social
  r_organization_social rw_organization_admin` (`openid` would be refused); who signed in
  comes from `/v2/me`, their pages from `organizationAcls` (approved ADMINISTRATOR roles).

Access tokens last 60 days. Only apps LinkedIn approved for it get refresh tokens (valid 365
days from the sign-in, not renewed by refreshing); without one the account must be
reconnected before the token expires.

Publishing creates one post with `POST /rest/posts` (its URN comes back in `x-restli-id`):
commentary in little text (providers/linkedin_text.py); 1 image as `content.media`, 2-20 as
`content.multiImage`, each with its alt text; a text-only post with a link as an article card
(LinkedIn does not fetch link previews for API posts). A video is two-phase: upload in the
byte ranges LinkedIn asks for, finalize, answer `Processing`; `poll` reads the video's status
and creates the post once it is AVAILABLE. LinkedIn has no idempotency key: a post created
twice is twice, though LinkedIn refuses an identical one as a duplicate (422).

After publishing: `delete` is `DELETE /rest/posts/{urn}` (idempotent: a post already deleted
answers 204 again); `edit` replaces the commentary with a Rest.li PARTIAL_UPDATE (`POST
/rest/posts/{urn}`, `X-RestLi-Method: PARTIAL_UPDATE`, `{"patch": {"$set": {"commentary"}}}`),
the only content the Posts API lets change: images, video and the link card stay as they went
out. No lookup (no idempotency key, and reading the author's posts back needs scopes a
member-only app can't have). `PublishResult.ref`: {"urn", "link" (the link card's source, or
None), "parts": 1}.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import httpx

from providers.base import (
    AccountRef,
    AfterPublish,
    Limits,
    MediaFile,
    MediaKind,
    PostContent,
    Problem,
    Processing,
    Provider,
    PublishResult,
    VerifiedAccount,
    check_limits,
)
from providers.errors import AuthError, PermanentError
from providers.linkedin_api import LinkedInApi
from providers.linkedin_limits import LIMITS, VIDEO_POLL_INTERVAL, item_problems
from providers.linkedin_text import card_edit_problems, escape_commentary, link_card
from providers.oauth import OAuthApp, OAuthClient, OAuthSpec, Token, as_credentials, token_of

API_BASE_URL = "https://api.linkedin.com"
AUTH_BASE_URL = "https://www.linkedin.com"
API_VERSION = "202605"
MEMBER_SCOPES = ("openid", "profile", "w_member_social")
ORGANIZATION_SCOPES = (
    "r_basicprofile",
    "w_member_social",
    "w_organization_social",
    "r_organization_social",
    "rw_organization_admin",
)
#: Delete, and edit the commentary (a Rest.li PARTIAL_UPDATE); a post's media and link card
#: can't be changed once it is out, and LinkedIn can't be asked whether a post is out.
AFTER_PUBLISH = AfterPublish(can_delete=True, can_edit_text=True)


class LinkedInProvider(Provider):
    platform: ClassVar[str] = "linkedin"
    display_name: ClassVar[str] = "LinkedIn"
    limits: Limits = LIMITS
    after_publish = AFTER_PUBLISH

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        oauth_app: OAuthApp | None = None,
        organizations: bool = False,
        api_base_url: str = API_BASE_URL,
        auth_base_url: str = AUTH_BASE_URL,
        api_version: str = API_VERSION,
        video_poll_interval: float = VIDEO_POLL_INTERVAL,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._http = http
        self.oauth_app = oauth_app
        #: The app is a Community Management API app: pages can be connected too.
        self.organizations = organizations
        auth = auth_base_url.rstrip("/")
        spec = OAuthSpec(
            authorize_url=f"{auth}/oauth/v2/authorization",
            token_url=f"{auth}/oauth/v2/accessToken",
            scopes=ORGANIZATION_SCOPES if organizations else MEMBER_SCOPES,
            token_auth="client_secret_post",
        )
        self.oauth: OAuthSpec = spec
        self._video_poll_interval = video_poll_interval
        self._now = now
        self._api = LinkedInApi(http, api_base_url=api_base_url, api_version=api_version, now=now)

    # -- connecting -------------------------------------------------------------------------

    async def accounts_for(self, token: Token) -> list[VerifiedAccount]:
        """The member, and with a Community Management app every page they administer."""
        credentials = self._credentials(token)
        granted = _scopes(token.scope)
        member_urn, name = await self._identity(token.access_token, granted)
        accounts = [
            VerifiedAccount(
                label=name,
                external_id=member_urn,
                config={"author": member_urn, "kind": "member", "name": name},
                credentials=credentials,
            )
        ]
        if not self.organizations:
            return accounts
        if (
            granted is not None
            and not {"rw_organization_admin", "w_organization_social"} <= granted
        ):
            return accounts  # the member declined the page permissions
        try:
            urns = await self._api.administered_organizations(token.access_token)
            names = await self._api.organization_names(token.access_token, urns)
        except AuthError as exc:
            # The member can still post as themselves; say why no page is offered.
            notice = f"LinkedIn did not let Crier list your pages: {exc.message}"
            return [replace(accounts[0], notice=notice)]
        for urn in urns:
            page = names.get(urn) or f"LinkedIn page {urn.rsplit(':', 1)[-1]}"
            accounts.append(
                VerifiedAccount(
                    label=page,
                    external_id=urn,
                    config={
                        "author": urn,
                        "kind": "organization",
                        "name": page,
                        "member": member_urn,
                    },
                    credentials=credentials,
                )
            )
        return accounts

    async def verify(self, account: AccountRef) -> VerifiedAccount:
        """Who the token belongs to (a cheap identity call); AuthError when it is refused."""
        token = _token(account)
        member_urn, name = await self._identity(token, _scopes(account.credentials.get("scope")))
        author = str(account.config.get("author") or member_urn)
        if author.startswith("urn:li:person:") and author != member_urn:
            raise AuthError("This LinkedIn sign-in belongs to someone else; reconnect the account.")
        label = name if author == member_urn else account.label
        return VerifiedAccount(label=label, external_id=author, config=dict(account.config))

    async def refresh(self, account: AccountRef) -> Mapping[str, Any]:
        """A new access token from the refresh token, where LinkedIn gave the app one."""
        refresh_token = account.credentials.get("refresh_token")
        if not refresh_token:
            raise AuthError(
                "LinkedIn access tokens last 60 days and this app gets no refresh tokens; "
                "reconnect the LinkedIn account."
            )
        if self.oauth_app is None:
            raise AuthError("LinkedIn sign-in is not configured; reconnect the account later.")
        client = OAuthClient(
            self.oauth, self.oauth_app, self._http, platform=self.display_name, clock=self._now
        )
        token = await client.refresh(str(refresh_token))
        return {**account.credentials, **self._credentials(token)}

    def _credentials(self, token: Token) -> dict[str, Any]:
        """What an account stores: the token, plus when the refresh token itself expires."""
        credentials = as_credentials(token)
        lifetime = token.extra.get("refresh_token_expires_in")
        if token.refresh_token and isinstance(lifetime, int | float):
            expires = self._now() + timedelta(seconds=float(lifetime))
            credentials["refresh_token_expires_at"] = expires.isoformat()
        return credentials

    async def _identity(self, token: str, granted: frozenset[str] | None) -> tuple[str, str]:
        """(person URN, display name): OpenID userinfo where the token has `openid`, else the
        lite profile (Community Management apps can't have OpenID Connect)."""
        openid = "openid" in granted if granted is not None else not self.organizations
        if openid:
            info = await self._api.userinfo(token)
            member_id = info.get("sub")
            name = info.get("name") or " ".join(
                str(info[k]) for k in ("given_name", "family_name") if info.get(k)
            )
        else:
            me = await self._api.me(token)
            member_id = me.get("id")
            name = " ".join(
                str(me[k]) for k in ("localizedFirstName", "localizedLastName") if me.get(k)
            )
        if not member_id:
            raise PermanentError("LinkedIn did not say who signed in.")
        return f"urn:li:person:{member_id}", str(name or "LinkedIn member")

    # -- checking ---------------------------------------------------------------------------

    def validate(self, post: PostContent, account: AccountRef) -> list[Problem]:
        problems = check_limits(self.limits, post, self.display_name)
        for index, item in enumerate(post.media, start=1):
            problems.extend(item_problems(index, item))
        return problems

    def validate_edit(
        self,
        published: PublishResult,
        post: PostContent,
        account: AccountRef,
        *,
        media_changed: bool = False,
    ) -> list[Problem]:
        problems = super().validate_edit(published, post, account, media_changed=media_changed)
        return problems + card_edit_problems(published.ref, post.text, bool(post.media))

    # -- publishing -------------------------------------------------------------------------

    async def publish(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> PublishResult | Processing:
        token, author, needs = _token(account), _author(account), _permission(account)
        videos = [m for m in post.media if m.kind in (MediaKind.VIDEO, MediaKind.ANIMATION)]
        if videos:
            video = await self._upload_video(token, author, videos[0], needs)
            return Processing(
                handle={"video": video},
                retry_after=self._video_poll_interval,
                stage="processing the video",
            )
        content: dict[str, Any] | None = None
        if post.media:
            images = []
            for item in post.media:
                urn = await self._api.upload_image(token, author, await _read(item), needs=needs)
                images.append({"id": urn, **({"altText": item.alt_text} if item.alt_text else {})})
            content = (
                {"media": images[0]} if len(images) == 1 else {"multiImage": {"images": images}}
            )
        else:
            card = link_card(post.text)
            content = {"article": card} if card else None
        return await self._create_post(token, author, needs, post.text, content)

    async def poll(
        self,
        handle: Mapping[str, Any],
        post: PostContent,
        account: AccountRef,
        idempotency_key: str,
    ) -> PublishResult | Processing:
        """Look at the uploaded video; once LinkedIn has it AVAILABLE, create the post."""
        video = handle.get("video")
        if not isinstance(video, str) or not video.startswith("urn:li:video:"):
            raise PermanentError("The LinkedIn upload of this post was lost; publish it again.")
        token, author, needs = _token(account), _author(account), _permission(account)
        answer = await self._api.video(token, video)
        status = str(answer.get("status") or "")
        if status == "AVAILABLE":
            return await self._create_post(
                token, author, needs, post.text, {"media": {"id": video}}
            )
        if status == "PROCESSING_FAILED":
            why = answer.get("processingFailureReason")
            raise PermanentError(
                "LinkedIn could not process the video"
                + (f" ({why})" if why else "")
                + ". Try an MP4 (H.264) of 3 seconds to 30 minutes."
            )
        # PROCESSING, or WAITING_UPLOAD while LinkedIn catches up with the finalized parts.
        return Processing(
            handle=dict(handle),
            retry_after=self._video_poll_interval,
            stage="processing the video",
        )

    async def _upload_video(self, token: str, author: str, item: MediaFile, needs: str) -> str:
        """Upload in the byte ranges LinkedIn asks for (4 MB each), read from disk one at a
        time, and finalize with their ETags in order."""
        if item.path is None:
            raise PermanentError("A media file of this post is missing.")
        path = item.path
        size = await asyncio.to_thread(lambda: path.stat().st_size)
        upload = await self._api.initialize_video(token, author, size, needs=needs)
        etags = []
        for part in upload.parts:
            data = await asyncio.to_thread(_read_range, path, part.first_byte, part.last_byte)
            etags.append(await self._api.upload_part(part, data))
        await self._api.finalize_video(token, upload, etags, needs=needs)
        return upload.video

    async def _create_post(
        self,
        token: str,
        author: str,
        needs: str,
        text: str,
        content: Mapping[str, Any] | None,
    ) -> PublishResult:
        body: dict[str, Any] = {
            "author": author,
            "commentary": escape_commentary(text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if content:
            body["content"] = content
        urn = await self._api.create_post(token, body, needs=needs)
        article = (content or {}).get("article")
        link = article.get("source") if isinstance(article, Mapping) else None
        return PublishResult(
            platform_id=urn, url=post_url(urn), ref={"urn": urn, "link": link, "parts": 1}
        )

    # -- after publishing -------------------------------------------------------------------

    async def delete(self, published: PublishResult, account: AccountRef) -> None:
        """DELETE the post; one already deleted (or never there) counts as deleted."""
        urn = _urn_of(published)
        await self._api.delete_post(_token(account), urn, needs=_permission(account))

    async def edit(
        self,
        published: PublishResult,
        post: PostContent,
        account: AccountRef,
        *,
        media_changed: bool = False,
    ) -> PublishResult:
        """Replace the commentary (as little text); the media and link card stay."""
        self.ensure_editable(published, post, account, media_changed=media_changed)
        urn = _urn_of(published)
        await self._api.update_commentary(
            _token(account), urn, escape_commentary(post.text), needs=_permission(account)
        )
        return PublishResult(
            platform_id=urn, url=published.url or post_url(urn), ref={**published.ref, "urn": urn}
        )


def post_url(urn: str) -> str:
    """The public link of a post (a share or ugcPost URN)."""
    return f"https://www.linkedin.com/feed/update/{urn}/"


def _urn_of(published: PublishResult) -> str:
    urn = str(published.ref.get("urn") or published.platform_id)
    if not urn.startswith(("urn:li:share:", "urn:li:ugcPost:")):
        raise PermanentError("Crier doesn't know which LinkedIn post this is.")
    return urn


def _scopes(scope: object) -> frozenset[str] | None:
    """Granted scopes; LinkedIn lists them comma-separated. None when unknown."""
    if not isinstance(scope, str) or not scope.strip():
        return None
    return frozenset(s for s in scope.replace(",", " ").split() if s)


def _token(account: AccountRef) -> str:
    token = token_of(account.credentials).access_token.strip()
    if not token:
        raise AuthError("The LinkedIn access token is missing; reconnect the account.")
    return token


def _author(account: AccountRef) -> str:
    author = account.config.get("author")
    if not isinstance(author, str) or not author.startswith(
        ("urn:li:person:", "urn:li:organization:")
    ):
        raise PermanentError("This LinkedIn account has no author; reconnect it.")
    return author


def _permission(account: AccountRef) -> str:
    """The scope posting as this account needs (named in a 403's message)."""
    return (
        "w_organization_social"
        if _author(account).startswith("urn:li:organization:")
        else ("w_member_social")
    )


def _read_range(path: Path, first: int, last: int) -> bytes:
    with path.open("rb") as file:
        file.seek(first)
        return file.read(last - first + 1)


async def _read(item: MediaFile) -> bytes:
    if item.path is None:
        raise PermanentError("A media file of this post is missing.")
    return await asyncio.to_thread(item.path.read_bytes)


__all__ = ["API_VERSION", "LIMITS", "LinkedInProvider", "post_url"]
