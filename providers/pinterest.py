"""Pinterest boards, through the Pinterest API v5 (https://api.pinterest.com/v5; reference
5.23.0, https://developers.pinterest.com/docs/api/v5/).

Connecting is an OAuth 2.0 authorization-code login (https://www.pinterest.com/oauth/, token
endpoint `POST /v5/oauth/token` with HTTP Basic client authentication, comma-separated
scopes). Pinterest documents no PKCE, so none is sent. Access tokens last 30 days; refresh
tokens are "continuous" (60 days, and every refresh answers a new one), so an account that
is refreshed in time never needs signing in again.

A Pin goes on a board, so one login gives one destination per board (`accounts_for`): the
account's config holds the board, its credentials the login's token.

Publishing (the text rule is in providers/pinterest_pins.py):

- Photos: one `POST /v5/pins` with the image as base64, or 2-5 of them as a carousel.
- A video is two-phase. `publish` registers an upload (`POST /v5/media`), posts the file to
  the storage URL Pinterest answers with (an S3 form upload: its `upload_parameters` as form
  fields, then the file; no Pinterest token goes there) and answers `Processing` with the
  media id. `poll` reads `GET /v5/media/{id}` (registered -> processing -> succeeded or
  failed) and, once it succeeded, creates the Pin from the video (`video_id`). The upload's
  signed form fields are never stored: the handle is just `{"media_id", "polls"}`.

After publishing: `delete` is `DELETE /v5/pins/{id}` (a Pin already gone counts as
deleted); `edit` is `PATCH /v5/pins/{id}` with the title, description, link and alt text by
the same text rule (Pinterest marks Update Pin as a beta "not available to all apps": a
refusal says so and suggests deleting and pinning again). The image or video can't be
replaced; no lookup (Pinterest has no idempotency key and no way to find a Pin by one).
`PublishResult.ref`: {"pin_id", "parts": 1}.

Pinterest's answers become provider errors in providers/pinterest_errors.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from providers.base import (
    AccountRef,
    AfterPublish,
    Limits,
    MediaFile,
    PostContent,
    Problem,
    Processing,
    Provider,
    PublishResult,
    VerifiedAccount,
    check_limits,
)
from providers.errors import AuthError, PermanentError, TransientError
from providers.http import safe_to_repeat, translate_network_errors
from providers.oauth import OAuthApp, OAuthClient, OAuthSpec, Token, as_credentials, token_of
from providers.pinterest_errors import (
    PLATFORM,
    json_of,
    raise_for_pin_update,
    raise_for_pinterest,
    raise_for_upload,
)
from providers.pinterest_pins import (
    LIMITS,
    image_source,
    is_video,
    pin_body,
    pin_problems,
    pin_text,
    pin_update_body,
    video_source,
)

API_BASE_URL = "https://api.pinterest.com/v5"
#: The OAuth consent page and the Pins' public pages.
WEB_BASE_URL = "https://www.pinterest.com"
#: Read the account and its boards, create Pins. `POST /v5/pins` lists boards:write among
#: its required scopes in the reference, so it is asked for too.
SCOPES = ("boards:read", "boards:write", "pins:read", "pins:write", "user_accounts:read")
#: Boards a page: the most `GET /v5/boards` gives at once.
BOARDS_PAGE = 250
#: Stop listing after this many pages (a bookmark that never ends is a bug, not boards).
MAX_BOARD_PAGES = 40
#: Seconds between checks of a processing video; Pinterest advises none, so short at first
#: (short clips are ready in seconds), then every half minute.
POLL_DELAYS = (5.0, 10.0, 20.0, 30.0)
#: Delete a Pin, and change its title, description, link and alt text (`PATCH`); its image
#: or video can't be replaced, and Pinterest can't be asked whether a Pin is out.
AFTER_PUBLISH = AfterPublish(can_delete=True, can_edit_text=True)


class PinterestProvider(Provider):
    platform: ClassVar[str] = "pinterest"
    display_name: ClassVar[str] = "Pinterest"
    limits: Limits = LIMITS
    after_publish = AFTER_PUBLISH

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        oauth_app: OAuthApp | None = None,
        api_base_url: str = API_BASE_URL,
        web_base_url: str = WEB_BASE_URL,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._http = http
        self._api = api_base_url.rstrip("/")
        self._web = web_base_url.rstrip("/")
        self._now = now
        self.oauth_app = oauth_app
        self._spec = OAuthSpec(
            authorize_url=f"{self._web}/oauth/",
            token_url=f"{self._api}/oauth/token",
            scopes=SCOPES,
            token_auth="client_secret_basic",
            scope_separator=",",
        )
        self.oauth = self._spec

    # -- compose time -----------------------------------------------------------------------

    def validate(self, post: PostContent, account: AccountRef) -> list[Problem]:
        # The shared check counts the whole text; Pinterest limits title and description
        # apart, so its length check is replaced by the Pin's own.
        problems = [
            p
            for p in check_limits(self.limits, post, self.display_name)
            if p.code != "text_too_long"
        ]
        if any(p.code == "empty" for p in problems):
            return problems
        return problems + pin_problems(post, account.config.get("board_id"))

    def text_length(self, text: str, account: AccountRef) -> int:
        """The description's length: what `limits.max_text` (500) applies to."""
        return len(pin_text(text).description)

    def validate_edit(
        self,
        published: PublishResult,
        post: PostContent,
        account: AccountRef,
        *,
        media_changed: bool = False,
    ) -> list[Problem]:
        """An edit keeps the Pin's image or video, so a post without media is no problem."""
        problems = super().validate_edit(published, post, account, media_changed=media_changed)
        return [p for p in problems if p.code != "media_required" or media_changed]

    # -- connecting -------------------------------------------------------------------------

    async def accounts_for(self, token: Token) -> list[VerifiedAccount]:
        """One destination per board the login can pin to (its own and group boards)."""
        access = token.access_token
        username = await self._username(access)
        boards = await self._boards(access)
        if not boards:
            raise PermanentError(
                "Pins go on a board, and this Pinterest account has none yet: create a "
                "board on Pinterest, then connect again."
            )
        credentials = as_credentials(token)
        accounts = []
        for board in boards:
            board_id = str(board["id"])
            name = str(board.get("name") or board_id)
            accounts.append(
                VerifiedAccount(
                    label=f"{username} / {name}",
                    external_id=board_id,
                    config={"board_id": board_id, "board_name": name, "username": username},
                    credentials=credentials,
                )
            )
        return accounts

    async def verify(self, account: AccountRef) -> VerifiedAccount:
        """Who the token belongs to (`GET /v5/user_account`): AuthError when refused."""
        board_id = _board_id(account)
        username = await self._username(_token(account))
        board_name = str(account.config.get("board_name") or board_id)
        return VerifiedAccount(
            label=f"{username} / {board_name}",
            external_id=board_id,
            config={**account.config, "username": username},
        )

    async def refresh(self, account: AccountRef) -> Mapping[str, Any]:
        """New credentials from the refresh token; Pinterest answers a new refresh token
        each time (continuous refresh), and the old one is kept if it ever does not."""
        if self.oauth_app is None:
            raise AuthError(
                "Pinterest sign-in isn't set up on this server, so the account can't be "
                "refreshed; ask the operator."
            )
        refresh_token = token_of(account.credentials).refresh_token
        if not refresh_token:
            raise AuthError("This Pinterest account has no refresh token; connect it again.")
        client = OAuthClient(
            self._spec, self.oauth_app, self._http, platform=PLATFORM, clock=self._now
        )
        return as_credentials(await client.refresh(refresh_token))

    # -- publishing -------------------------------------------------------------------------

    async def publish(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> PublishResult | Processing:
        board_id = _board_id(account)
        token = _token(account)
        if not post.media:
            raise PermanentError("Pinterest needs a photo or a video for every Pin.")
        videos = [m for m in post.media if is_video(m)]
        if videos:
            if len(post.media) > 1:
                raise PermanentError("A Pinterest video Pin holds one video and nothing else.")
            media_id = await self._upload_video(token, videos[0])
            return _processing({"media_id": media_id, "polls": 0})
        images = [(item.mime, await _read(item)) for item in post.media]
        return await self._create_pin(token, pin_body(post, board_id, image_source(images)))

    async def poll(
        self,
        handle: Mapping[str, Any],
        post: PostContent,
        account: AccountRef,
        idempotency_key: str,
    ) -> PublishResult | Processing:
        """Check the uploaded video; once Pinterest has processed it, create the Pin."""
        media_id = str(handle.get("media_id") or "")
        if not media_id.isdigit():
            raise PermanentError("Crier lost track of the uploaded video; publish it again.")
        board_id = _board_id(account)
        token = _token(account)
        response = await self._call("GET", f"{self._api}/media/{media_id}", token)
        media = json_of(response)
        status = str(media.get("status") or "")
        if status == "succeeded":
            body = pin_body(post, board_id, video_source(media_id))
            return await self._create_pin(token, body)
        if status == "failed":
            raise PermanentError(
                "Pinterest couldn't process the video. It takes MP4 or MOV (H.264 or H.265), "
                "4 seconds to 15 minutes long; check the file and try again."
            )
        # "registered" (the upload not seen yet) or "processing": ask again later.
        polls = int(handle.get("polls") or 0) + 1
        return _processing({**handle, "media_id": media_id, "polls": polls})

    async def _create_pin(self, token: str, body: Mapping[str, Any]) -> PublishResult:
        response = await self._call(
            "POST", f"{self._api}/pins", token, creates_post=True, json=body
        )
        pin = json_of(response, creates_post=True)
        pin_id = str(pin.get("id") or "")
        if not pin_id:
            raise TransientError(
                "Pinterest answered without the new Pin; it may or may not have been published.",
                ambiguous=True,
            )
        return PublishResult(
            platform_id=pin_id,
            url=f"{self._web}/pin/{pin_id}/",
            ref={"pin_id": pin_id, "parts": 1},
        )

    # -- after publishing -------------------------------------------------------------------

    async def delete(self, published: PublishResult, account: AccountRef) -> None:
        """`DELETE /v5/pins/{id}` (204); a Pin already gone (404, code 50) counts as deleted."""
        pin_id = _pin_id(published)
        try:
            with safe_to_repeat(PLATFORM, "deleting"):
                await self._call(
                    "DELETE", f"{self._api}/pins/{pin_id}", _token(account), creates_post=True
                )
        except PermanentError as exc:
            if exc.http_status != 404:
                raise

    async def edit(
        self,
        published: PublishResult,
        post: PostContent,
        account: AccountRef,
        *,
        media_changed: bool = False,
    ) -> PublishResult:
        """`PATCH /v5/pins/{id}` with the Pin's text fields (providers/pinterest_pins.py)."""
        self.ensure_editable(published, post, account, media_changed=media_changed)
        pin_id = _pin_id(published)
        with safe_to_repeat(PLATFORM, "editing"):
            response = await self._call(
                "PATCH",
                f"{self._api}/pins/{pin_id}",
                _token(account),
                creates_post=True,
                refusal=raise_for_pin_update,
                json=pin_update_body(post),
            )
        json_of(response)
        return PublishResult(
            platform_id=pin_id,
            url=published.url or f"{self._web}/pin/{pin_id}/",
            ref={**published.ref, "pin_id": pin_id, "parts": 1},
        )

    async def _upload_video(self, token: str, item: MediaFile) -> str:
        """Register the upload and send the file; returns the media id to poll."""
        if item.path is None:
            raise PermanentError("The video of this post is missing.")
        response = await self._call(
            "POST", f"{self._api}/media", token, json={"media_type": "video"}
        )
        upload = json_of(response)
        media_id = str(upload.get("media_id") or "")
        upload_url = upload.get("upload_url")
        fields = upload.get("upload_parameters")
        if not media_id or not isinstance(upload_url, str) or not isinstance(fields, Mapping):
            raise TransientError("Pinterest didn't say where to upload the video.")
        try:
            handle = await asyncio.to_thread(item.path.open, "rb")
        except OSError as exc:
            raise PermanentError("The video of this post can't be read.") from exc
        try:
            with translate_network_errors(PLATFORM):
                stored = await self._http.post(
                    upload_url,
                    data={str(k): str(v) for k, v in fields.items()},
                    files={"file": (item.file_name or item.path.name, handle, item.mime)},
                )
        except TransientError as exc:
            raise TransientError(
                "The video upload to Pinterest broke off; nothing was published."
            ) from exc
        finally:
            handle.close()
        if stored.status_code >= 300:
            raise_for_upload(stored)
        return media_id

    # -- reading ----------------------------------------------------------------------------

    async def _username(self, token: str) -> str:
        me = json_of(await self._call("GET", f"{self._api}/user_account", token))
        username = me.get("username")
        if not username:
            raise TransientError("Pinterest answered without the account's username.")
        return str(username)

    async def _boards(self, token: str) -> list[Mapping[str, Any]]:
        """Every board, page by page (`bookmark`)."""
        boards: list[Mapping[str, Any]] = []
        bookmark: str | None = None
        for _ in range(MAX_BOARD_PAGES):
            params: dict[str, str | int] = {"page_size": BOARDS_PAGE}
            if bookmark:
                params["bookmark"] = bookmark
            page = json_of(await self._call("GET", f"{self._api}/boards", token, params=params))
            items = page.get("items") or []
            boards.extend(b for b in items if isinstance(b, Mapping) and b.get("id"))
            following = page.get("bookmark")
            if not following or following == bookmark:
                break
            bookmark = str(following)
        return boards

    # -- HTTP -------------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        url: str,
        token: str,
        *,
        creates_post: bool = False,
        refusal: Callable[[httpx.Response, str], None] = raise_for_pinterest,
        **kwargs: Any,
    ) -> httpx.Response:
        """The one place API requests go out and errors come back as provider errors
        (`refusal` reads the error answer; `creates_post`: a lost answer leaves the effect of
        the request unknown)."""
        headers = {"Authorization": f"Bearer {token}"}
        try:
            with translate_network_errors(PLATFORM):
                response = await self._http.request(method, url, headers=headers, **kwargs)
        except TransientError as exc:
            if exc.ambiguous and not creates_post:
                # Only creating the Pin publishes anything; a lost read or upload is not.
                raise TransientError(
                    "The connection to Pinterest broke off or timed out; nothing was published."
                ) from exc
            raise
        if response.status_code >= 400:
            refusal(response, token)
        return response


# -- helpers --------------------------------------------------------------------------------


def _processing(handle: Mapping[str, Any]) -> Processing:
    polls = int(handle.get("polls") or 0)
    return Processing(
        handle=dict(handle),
        retry_after=POLL_DELAYS[min(polls, len(POLL_DELAYS) - 1)],
        stage="processing the video",
    )


def _pin_id(published: PublishResult) -> str:
    pin_id = str(published.ref.get("pin_id") or published.platform_id)
    if not pin_id.isdigit():
        raise PermanentError("Crier doesn't know which Pin this is.")
    return pin_id


def _board_id(account: AccountRef) -> str:
    board_id = str(account.config.get("board_id") or "")
    if not board_id:
        raise PermanentError("This Pinterest account has no board to pin to; connect it again.")
    return board_id


def _token(account: AccountRef) -> str:
    token = str(account.credentials.get("access_token") or "").strip()
    if not token:
        raise AuthError("The Pinterest sign-in is missing; connect the account again.")
    return token


async def _read(item: MediaFile) -> bytes:
    if item.path is None:
        raise PermanentError("A photo of this post is missing.")
    return await asyncio.to_thread(item.path.read_bytes)


__all__ = ["API_BASE_URL", "SCOPES", "WEB_BASE_URL", "PinterestProvider"]
