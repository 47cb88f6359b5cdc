"""Threads (Meta), over the Threads API v1.0 (graph.threads.net/v1.0; the reference at
developers.facebook.com/docs/threads: Get Started, Long-Lived Tokens, Threads Posts, Media
Container Status / Troubleshooting, Create Replies, Delete Posts, Overview for the limits).

Connecting: the Threads app's own OAuth (not Facebook Login): `https://threads.com/oauth/
authorize` with comma-separated scopes, then `POST https://graph.threads.net/oauth/
access_token` with the app id and secret in the form (no PKCE: Threads documents none). That
answers a short-lived token (an hour) and the user id, no refresh token. `accounts_for`
swaps it at once for a long-lived one (`GET /access_token?grant_type=th_exchange_token`, 60
days) and reads `GET /me`. `refresh` renews a long-lived token with itself
(`GET /refresh_access_token?grant_type=th_refresh_token`), which Threads does for a token at
least 24 hours old and not yet expired, for another 60 days. Credentials are
`as_credentials`' keys (`access_token`, `expires_at`, `scope` when known), so the bot's
refresh job renews the token before `expires_at` like any other.

Publishing goes through containers, in providers/threads_publish.py: the media are fetched
by Threads from `MediaFile.url` (`Limits.pulls_media`), and a thread's parts go out as
replies, each to the one before. `publish` makes the first containers and usually answers
`Processing`; `poll` goes on from the handle. Calls go to `/me/...`: the token names the user.

After publishing: `delete` (`DELETE /{threads-media-id}`, with the `threads_delete`
permission; 100 deletes a day) removes every part, the last reply first. Threads can't edit
a post through its API, and Crier can't tell whether a lost publish went out (no lookup).
`PublishResult.ref` is {"media_ids": every part's post id in order, "parts"}.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Final

import httpx

from providers.base import (
    AccountRef,
    AfterPublish,
    PostContent,
    Problem,
    Processing,
    Provider,
    PublishResult,
    Severity,
    VerifiedAccount,
    check_limits,
    delete_after_problems,
)
from providers.errors import AuthError, PermanentError, ProviderError, TransientError
from providers.http import safe_to_repeat
from providers.oauth import OAuthApp, OAuthSpec, Token, as_credentials
from providers.threads_api import (
    API_BASE_URL,
    API_VERSION,
    PLATFORM,
    NotFound,
    ThreadsApi,
    long_lived_token,
    refreshed_token,
)
from providers.threads_limits import LIMITS, threads_length, threads_problems
from providers.threads_publish import Progress, Publisher

#: The Authorization Window as the reference shows it today (threads.net, in older pages,
#: leads to the same place).
AUTH_BASE_URL: Final = "https://threads.com"
#: `threads_basic` for everything, `threads_content_publish` to post, `threads_manage_replies`
#: for a thread's replies (and the reply quota), `threads_delete` to delete.
SCOPES: Final = (
    "threads_basic",
    "threads_content_publish",
    "threads_manage_replies",
    "threads_delete",
)
#: What a long-lived token lasts when Threads doesn't say (`expires_in`).
LONG_LIVED: Final = timedelta(days=60)
PROFILE_FIELDS: Final = "id,username,name,threads_profile_picture_url"

AFTER_PUBLISH: Final = AfterPublish(can_delete=True)


class ThreadsProvider(Provider):
    platform: ClassVar[str] = "threads"
    display_name: ClassVar[str] = "Threads"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        oauth_app: OAuthApp | None = None,
        api_base_url: str = API_BASE_URL,
        auth_base_url: str = AUTH_BASE_URL,
        api_version: str = API_VERSION,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`oauth_app` is the Threads app's id and secret (THREADS_APP_ID and
        THREADS_APP_SECRET: the Threads ones, not the Meta app's); `api_base_url` the Graph
        host (token endpoints at its root, the API under `api_version`)."""
        self._http = http
        self._api_base_url = api_base_url.rstrip("/")
        self._api_version = api_version
        self._now = now
        self.oauth = OAuthSpec(
            authorize_url=f"{auth_base_url.rstrip('/')}/oauth/authorize",
            token_url=f"{self._api_base_url}/oauth/access_token",
            scopes=SCOPES,
            token_auth="client_secret_post",
            scope_separator=",",
        )
        self.oauth_app = oauth_app
        self.limits = LIMITS
        self.after_publish = AFTER_PUBLISH

    # -- connecting -----------------------------------------------------------------------------

    async def accounts_for(self, token: Token) -> list[VerifiedAccount]:
        """The signed-in profile, its short-lived token swapped for a long-lived one."""
        if self.oauth_app is None:
            raise PermanentError(
                "Threads sign-in is not configured on this bot (THREADS_APP_ID and "
                "THREADS_APP_SECRET)."
            )
        answer = await long_lived_token(
            self._http, self._api_base_url, self.oauth_app.client_secret, token.access_token
        )
        long_lived = self._token(answer, scope=token.scope)
        me = await self._me(long_lived.access_token)
        return [_verified(me, {}, as_credentials(long_lived))]

    async def verify(self, account: AccountRef) -> VerifiedAccount:
        me = await self._me(_token(account))
        return _verified(me, account.config, None)

    async def refresh(self, account: AccountRef) -> Mapping[str, Any]:
        """The long-lived token renewed for 60 days (Threads has no refresh token: the token
        renews itself, if it is at least a day old and not expired). The whole credentials to
        store come back, the new token and its expiry in place of the old."""
        answer = await refreshed_token(self._http, self._api_base_url, _token(account))
        renewed = self._token(answer, scope=account.credentials.get("scope"))
        return {**account.credentials, **as_credentials(renewed)}

    def _token(self, answer: Mapping[str, Any], *, scope: str | None) -> Token:
        expires_in = str(answer.get("expires_in") or "")
        lifetime = timedelta(seconds=int(expires_in)) if expires_in.isdigit() else LONG_LIVED
        return Token(
            access_token=str(answer["access_token"]),
            expires_at=self._now() + lifetime,
            scope=scope,
        )

    async def _me(self, access_token: str) -> Mapping[str, Any]:
        me = await self._api(access_token).get("me", fields=PROFILE_FIELDS)
        if not me.get("id") or not me.get("username"):
            raise TransientError("Threads answered without saying who is signed in.")
        return me

    # -- composing ------------------------------------------------------------------------------

    def validate(self, post: PostContent, account: AccountRef) -> list[Problem]:
        # The shared checks count plain characters; Threads' own count replaces theirs.
        shared = check_limits(self.limits, post, self.display_name)
        problems = [p for p in shared if p.code != "text_too_long"]
        if any(p.code == "empty" for p in problems):
            return problems
        own = list(threads_problems(post))
        too_long = [p for p in own if p.code == "text_too_long"]
        problems[:0] = too_long
        problems.extend(p for p in own if p.code != "text_too_long")
        problems.extend(delete_after_problems(self.after_publish, post, self.display_name))
        return problems

    def text_length(self, text: str, account: AccountRef) -> int:
        return threads_length(text)

    async def validate_live(self, post: PostContent, account: AccountRef) -> list[Problem]:
        """Whether the profile's 24-hour quota (250 posts, 1,000 replies, whichever app
        published them) is used up: the post would then wait."""
        fields = "quota_usage,config" + (",reply_quota_usage,reply_config" if post.thread else "")
        try:
            answer = await self._api(_token(account)).get(
                "me/threads_publishing_limit", fields=fields
            )
        except ProviderError:
            return []
        data = answer.get("data")
        usage = data[0] if isinstance(data, list) and data and isinstance(data[0], Mapping) else {}
        problems = []
        for what, used_key, config_key in (
            ("posts", "quota_usage", "config"),
            ("replies", "reply_quota_usage", "reply_config"),
        ):
            used, config = usage.get(used_key), usage.get(config_key)
            total = config.get("quota_total") if isinstance(config, Mapping) else None
            if isinstance(used, int) and isinstance(total, int) and used >= total:
                problems.append(
                    Problem(
                        code="quota_used_up",
                        message=(
                            f"This profile has published {used} {what} through apps in the last "
                            f"24 hours, all Threads allows ({total}); the post waits until "
                            "there is room again."
                        ),
                        severity=Severity.WARNING,
                    )
                )
        return problems

    # -- publishing -----------------------------------------------------------------------------

    async def publish(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> PublishResult | Processing:
        return await Publisher(self._api(_token(account)), post, Progress()).run()

    async def poll(
        self,
        handle: Mapping[str, Any],
        post: PostContent,
        account: AccountRef,
        idempotency_key: str,
    ) -> PublishResult | Processing:
        progress = Progress.from_handle(handle, post)
        return await Publisher(self._api(_token(account)), post, progress).run()

    # -- after publishing -----------------------------------------------------------------------

    async def delete(self, published: PublishResult, account: AccountRef) -> None:
        """DELETE every part, the last reply first; a part already gone counts as deleted."""
        api = self._api(_token(account))
        ids = [str(i) for i in published.ref.get("media_ids") or ()] or [published.platform_id]
        for media_id in reversed(ids):
            try:
                with safe_to_repeat(PLATFORM, "deleting"):
                    await api.delete(media_id)
            except NotFound:
                continue
            except PermanentError as exc:
                if exc.http_status != 404:
                    raise

    def _api(self, access_token: str) -> ThreadsApi:
        return ThreadsApi(
            self._http, access_token, base_url=self._api_base_url, version=self._api_version
        )


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
            "name": str(me.get("name") or ""),
        },
        credentials=credentials,
    )


def _token(account: AccountRef) -> str:
    token = str(account.credentials.get("access_token") or "").strip()
    if not token:
        raise AuthError("The Threads sign-in is missing; please reconnect the account.")
    return token
