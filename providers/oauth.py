"""OAuth 2.0 for platforms that connect by a login in the browser (X, LinkedIn, Pinterest,
YouTube, Meta, TikTok), over `httpx-oauth`: the authorize URL, the code exchange (with PKCE
where the platform documents it), and refresh. An adapter declares its `OAuthSpec`; the
app's client id and secret come from settings (`OAuthApp`), so an adapter without them is
simply not offered in /connect.

Tokens travel as `Token`, stored as an account's credentials (encrypted) by `as_credentials`
and read back by `token_of`. A refresh answer without a new refresh token keeps the old one.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
from httpx_oauth.oauth2 import (
    BaseOAuth2,
    GetAccessTokenError,
    OAuth2RequestError,
    RefreshTokenError,
)

from providers.errors import AuthError, PermanentError, TransientError

#: Refresh this long before a token expires (the refresh job runs every few minutes).
REFRESH_MARGIN = timedelta(minutes=30)


@dataclass(frozen=True, kw_only=True)
class OAuthSpec:
    """How a platform's OAuth login works (from its API reference)."""

    authorize_url: str
    token_url: str
    scopes: tuple[str, ...]
    #: PKCE (S256) on the authorize and token requests (X, YouTube/Google, TikTok; Pinterest
    #: documents none, so its adapter sends none).
    pkce: bool = False
    #: How the token endpoint takes the app's credentials.
    token_auth: Literal["client_secret_basic", "client_secret_post"] = "client_secret_post"
    #: Extra parameters of the authorize URL (Google: access_type=offline, prompt=consent).
    authorize_params: Mapping[str, str] = field(default_factory=dict)
    #: What separates scopes in the authorize URL (Pinterest and TikTok: a comma).
    scope_separator: str = " "
    #: The name of the client id parameter (TikTok: client_key), in the authorize URL and in
    #: the token requests' body (with client_secret_post).
    client_id_param: str = "client_id"
    #: How the S256 code challenge is written: RFC 7636's unpadded base64url of the SHA-256
    #: digest, or its hexadecimal form (TikTok's Login Kit). `authorize_url` takes the RFC
    #: challenge (`pkce_pair`) and rewrites it.
    pkce_encoding: Literal["base64url", "hex"] = "base64url"


@dataclass(frozen=True, kw_only=True)
class OAuthApp:
    """The app registered with the platform (settings, never shown to users)."""

    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True, kw_only=True)
class Token:
    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None
    #: Granted scopes, as the platform reported them.
    scope: str | None = None
    #: The rest of the token answer (ids some platforms return with it: open_id, user_id).
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def needs_refresh(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at - REFRESH_MARGIN <= now


def pkce_pair() -> tuple[str, str]:
    """(code verifier, S256 code challenge), RFC 7636."""
    verifier = secrets.token_urlsafe(64)[:96]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def hex_challenge(challenge: str) -> str:
    """An RFC 7636 S256 challenge (base64url) as the hexadecimal digest TikTok expects."""
    return base64.urlsafe_b64decode(challenge + "=" * (-len(challenge) % 4)).hex()


def as_credentials(token: Token) -> dict[str, Any]:
    """What an account stores (encrypted) for a token."""
    credentials: dict[str, Any] = {"access_token": token.access_token}
    if token.refresh_token:
        credentials["refresh_token"] = token.refresh_token
    if token.expires_at is not None:
        credentials["expires_at"] = token.expires_at.isoformat()
    if token.scope:
        credentials["scope"] = token.scope
    return credentials


def token_of(credentials: Mapping[str, Any]) -> Token:
    expires = credentials.get("expires_at")
    return Token(
        access_token=str(credentials.get("access_token") or ""),
        refresh_token=credentials.get("refresh_token"),
        expires_at=datetime.fromisoformat(expires) if isinstance(expires, str) else None,
        scope=credentials.get("scope"),
    )


class _Client(BaseOAuth2[dict[str, Any]]):
    """httpx-oauth's client on our own httpx client (timeouts, tests' transport)."""

    def __init__(self, spec: OAuthSpec, app: OAuthApp, http: httpx.AsyncClient) -> None:
        self._client_id_param = spec.client_id_param
        super().__init__(
            app.client_id,
            app.client_secret,
            spec.authorize_url,
            spec.token_url,
            spec.token_url,
            token_endpoint_auth_method=spec.token_auth,
        )
        self._http = http

    def get_httpx_client(self) -> Any:
        return _Borrowed(self._http)

    def build_request(
        self,
        client: httpx.AsyncClient,
        method: str,
        url: str,
        *,
        auth_method: Any = None,
        data: Mapping[str, Any] | None = None,
    ) -> tuple[httpx.Request, httpx.Auth | None]:
        """httpx-oauth's token request, with the client id under the platform's own name
        (httpx-oauth itself always writes `client_id`)."""
        if (
            data is not None
            and auth_method == "client_secret_post"
            and self._client_id_param != "client_id"
        ):
            data = {
                **data,
                self._client_id_param: self.client_id,
                "client_secret": self.client_secret,
            }
            auth_method = None
        return super().build_request(client, method, url, auth_method=auth_method, data=data)


class _Borrowed:
    """An async context manager lending a client without closing it."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def __aenter__(self) -> httpx.AsyncClient:
        return self._http

    async def __aexit__(self, *exc: object) -> None:
        return None


class OAuthClient:
    """One platform's OAuth for one registered app."""

    def __init__(
        self,
        spec: OAuthSpec,
        app: OAuthApp,
        http: httpx.AsyncClient,
        *,
        platform: str,
        clock: Any = None,
    ) -> None:
        self.spec = spec
        self.app = app
        self.platform = platform
        self._client = _Client(spec, app, http)
        self._clock = clock or (lambda: datetime.now(UTC))

    async def authorize_url(
        self, redirect_uri: str, state: str, code_challenge: str | None = None
    ) -> str:
        spec = self.spec
        params: dict[str, str] = dict(spec.authorize_params)
        if spec.client_id_param != "client_id":
            params[spec.client_id_param] = self.app.client_id
        if code_challenge and spec.pkce_encoding == "hex":
            code_challenge = hex_challenge(code_challenge)
        url = await self._client.get_authorization_url(
            redirect_uri,
            state=state,
            scope=None,
            code_challenge=code_challenge if spec.pkce else None,
            code_challenge_method="S256" if spec.pkce and code_challenge else None,
            extras_params={"scope": spec.scope_separator.join(spec.scopes), **params},
        )
        if spec.client_id_param != "client_id":
            # Platforms with their own name for it (TikTok) must not see both.
            url = url.replace(f"client_id={self.app.client_id}&", "", 1)
        return url

    async def exchange(
        self, code: str, redirect_uri: str, code_verifier: str | None = None
    ) -> Token:
        """The authorization code, exchanged for tokens."""
        try:
            raw = await self._client.get_access_token(
                code, redirect_uri, code_verifier if self.spec.pkce else None
            )
        except GetAccessTokenError as exc:
            raise self._error(exc, "sign-in") from exc
        return self._token(dict(raw), "sign-in")

    async def refresh(self, refresh_token: str) -> Token:
        """A new access token; the old refresh token is kept when none comes back."""
        try:
            raw = await self._client.refresh_token(refresh_token)
        except RefreshTokenError as exc:
            raise self._error(exc, "token refresh") from exc
        token = self._token(dict(raw), "token refresh")
        if not token.refresh_token:
            token = Token(
                access_token=token.access_token,
                refresh_token=refresh_token,
                expires_at=token.expires_at,
                scope=token.scope,
                extra=token.extra,
            )
        return token

    def _token(self, raw: dict[str, Any], what: str = "sign-in") -> Token:
        access = raw.pop("access_token", None)
        if not access and raw.get("error"):
            # Some platforms (TikTok) refuse a grant with 200 and an RFC 6749 error body.
            reason = str(raw.get("error_description") or raw["error"])[:200]
            raise AuthError(f"{self.platform} refused the {what} ({reason}); please reconnect.")
        if not access:
            raise PermanentError(f"{self.platform} answered the sign-in without an access token.")
        expires_in = raw.pop("expires_in", None)
        expires_at = raw.pop("expires_at", None)
        when: datetime | None = None
        if isinstance(expires_in, int | float | str) and str(expires_in).isdigit():
            when = self._clock() + timedelta(seconds=int(expires_in))
        elif isinstance(expires_at, int | float):
            when = datetime.fromtimestamp(expires_at, UTC)
        scope = raw.pop("scope", None)
        return Token(
            access_token=str(access),
            refresh_token=raw.pop("refresh_token", None) or None,
            expires_at=when,
            scope=" ".join(scope) if isinstance(scope, list) else scope,
            extra=raw,
        )

    def _error(self, exc: OAuth2RequestError, what: str) -> Exception:
        """invalid_grant and other 4xx: the user must sign in again; 5xx and network:
        later may work."""
        response = exc.response
        if response is None or response.status_code >= 500 or response.status_code == 429:
            return TransientError(f"{self.platform} didn't answer the {what}; trying again later.")
        reason = ""
        try:
            body = response.json()
            reason = str(body.get("error_description") or body.get("error") or "")[:200]
        except ValueError:
            pass
        detail = f" ({reason})" if reason else ""
        return AuthError(f"{self.platform} refused the {what}{detail}; please reconnect.")
