"""The one boundary between the Threads adapter and the Threads API (graph.threads.net, v1.0).

Requests carry the user's access token as the `access_token` parameter, as the reference
shows every call (in the query of a GET or DELETE, in the form body of a POST, so that it
stays out of URLs where it can). Every answer that is not a success becomes a provider
error (`graph_error`): Threads answers with Graph API error objects,
`{"error": {"message", "type", "code", "error_subcode", "error_user_msg", "is_transient",
"fbtrace_id"}}`, mostly as HTTP 400 whatever went wrong, so the class follows the `code`:

- 190 (invalid or expired token) and 102 (session) -> AuthError; 10 and 200-299 (a permission
  the user did not grant) -> AuthError too: reconnecting and allowing it is the fix;
- 4, 17, 32, 613 (call limits) and 80000-80099 (business use case limits), or HTTP 429 ->
  RateLimited, waiting what Retry-After says (Threads documents no reset header) or 15
  minutes;
- 24 with subcode 4279009 and 100 with subcode 33 ("does not exist") -> `NotFound`;
- 2 (service unavailable), 1 (unknown error) unless an OAuthException (a bad app secret
  is one too), `is_transient`, 5xx -> TransientError;
- anything else -> PermanentError with Threads' own words (`error_user_msg`, else `message`).

Only `POST /me/threads_publish` publishes: a lost answer anywhere else is not ambiguous (a
container that was created but never published harms nothing and expires in 24 hours).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

import httpx

from providers.errors import AuthError, PermanentError, ProviderError, RateLimited, TransientError
from providers.http import raise_for_status, retry_after_seconds, sanitize, translate_network_errors

PLATFORM: Final = "Threads"
API_BASE_URL: Final = "https://graph.threads.net"
API_VERSION: Final = "v1.0"
#: A call limit without Retry-After: Graph's call counts roll over within the hour.
DEFAULT_RATE_LIMIT_WAIT: Final = 15 * 60.0

_RATE_LIMIT_CODES: Final = frozenset({4, 17, 32, 613})
_TOKEN_CODES: Final = frozenset({102, 190})


class NotFound(PermanentError):
    """Threads says the object does not exist (not yet, or no longer)."""


class ThreadsApi:
    """The Threads API as one user's access token reaches it."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        token: str,
        *,
        base_url: str = API_BASE_URL,
        version: str = API_VERSION,
    ) -> None:
        self._http = http
        self._token = token
        self._graph = f"{base_url.rstrip('/')}/{version.strip('/')}"

    async def get(self, path: str, **params: str) -> Mapping[str, Any]:
        return await self._call("GET", path, params={**params, "access_token": self._token})

    async def post(
        self, path: str, form: Mapping[str, str], *, publishes: bool = False
    ) -> Mapping[str, Any]:
        """A form POST; `publishes` marks the one request that makes a post public."""
        return await self._call(
            "POST", path, publishes=publishes, data={**form, "access_token": self._token}
        )

    async def delete(self, path: str) -> Mapping[str, Any]:
        # A lost answer may or may not have deleted: the caller says that repeating is safe.
        return await self._call(
            "DELETE", path, publishes=True, params={"access_token": self._token}
        )

    async def _call(
        self, method: str, path: str, *, publishes: bool = False, **kwargs: Any
    ) -> Mapping[str, Any]:
        url = f"{self._graph}/{path.lstrip('/')}"
        return await send(self._http, method, url, [self._token], publishes=publishes, **kwargs)


async def send(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    secrets: Iterable[str],
    *,
    publishes: bool = False,
    **kwargs: Any,
) -> Mapping[str, Any]:
    """One request to Threads: its JSON answer, or the provider error it amounts to."""
    secrets = list(secrets)
    try:
        with translate_network_errors(PLATFORM):
            response = await http.request(method, url, **kwargs)
    except TransientError as exc:
        if exc.ambiguous and not publishes:
            raise TransientError(
                "The connection to Threads broke off or timed out; nothing was published."
            ) from exc
        raise
    if response.status_code >= 400:
        raise graph_error(response, secrets=secrets)
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, Mapping):
        raise TransientError(
            f"Threads sent an unexpected answer (HTTP {response.status_code}).",
            http_status=response.status_code,
            ambiguous=publishes,
        )
    return body


def graph_error(response: httpx.Response, *, secrets: Iterable[str]) -> ProviderError:
    """The provider error for one of Threads' error answers (see the module docstring)."""
    status = response.status_code
    error = _error_object(response)
    code, subcode = _int(error.get("code")), _int(error.get("error_subcode"))
    reason = error.get("error_user_msg") or error.get("message")
    said = sanitize(str(reason or ""), secrets)
    detail = f": {said}" if said else ""
    if status == 429 or code in _RATE_LIMIT_CODES or (code is not None and code // 100 == 800):
        wait = retry_after_seconds(response, default=DEFAULT_RATE_LIMIT_WAIT)
        return RateLimited(wait, f"Threads rate limit{detail}", http_status=status)
    if code in _TOKEN_CODES:
        return AuthError(
            f"Threads refused the account's sign-in{detail}. Please reconnect it.",
            http_status=status,
        )
    if code == 10 or (code is not None and 200 <= code < 300):
        return AuthError(
            f"Threads says Crier lacks a permission for this{detail}. Reconnect the account "
            "and allow everything Crier asks for.",
            http_status=status,
        )
    if (code, subcode) in ((24, 4279009), (100, 33)):
        return NotFound(f"Threads can't find it{detail}", http_status=status)
    unknown = code == 1 and error.get("type") != "OAuthException"  # 1 is also a bad secret
    if status >= 500 or code == 2 or unknown or error.get("is_transient") is True:
        return TransientError(f"Threads had a problem ({status}){detail}", http_status=status)
    try:
        raise_for_status(response, platform=PLATFORM, reason=said, secrets=secrets)
    except ProviderError as exc:
        return exc
    return TransientError(
        f"Threads answered HTTP {status}.", http_status=status
    )  # pragma: no cover


def _error_object(response: httpx.Response) -> Mapping[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, Mapping) else None
    return error if isinstance(error, Mapping) else {}


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


# -- tokens ---------------------------------------------------------------------------------
#
# Not OAuth refresh-token grants: a short-lived token (an hour) from the code exchange is
# swapped for a long-lived one (60 days), which is renewed with itself. Both live at the host's
# root, without the version.


async def long_lived_token(
    http: httpx.AsyncClient, base_url: str, client_secret: str, short_lived: str
) -> Mapping[str, Any]:
    """`GET /access_token?grant_type=th_exchange_token`: {access_token, token_type,
    expires_in}."""
    return await _token_call(
        http,
        f"{base_url.rstrip('/')}/access_token",
        {
            "grant_type": "th_exchange_token",
            "client_secret": client_secret,
            "access_token": short_lived,
        },
        [client_secret, short_lived],
        "sign-in",
    )


async def refreshed_token(
    http: httpx.AsyncClient, base_url: str, long_lived: str
) -> Mapping[str, Any]:
    """`GET /refresh_access_token?grant_type=th_refresh_token`: a long-lived token valid for
    60 days from now (Threads renews only tokens at least 24 hours old and not expired)."""
    return await _token_call(
        http,
        f"{base_url.rstrip('/')}/refresh_access_token",
        {"grant_type": "th_refresh_token", "access_token": long_lived},
        [long_lived],
        "token renewal",
    )


async def _token_call(
    http: httpx.AsyncClient,
    url: str,
    params: Mapping[str, str],
    secrets: list[str],
    what: str,
) -> Mapping[str, Any]:
    try:
        body = await send(http, "GET", url, secrets, params=params)
    except (TransientError, AuthError):
        raise
    except ProviderError as exc:
        # Whatever else Threads refuses here, only signing in again can fix it.
        raise AuthError(
            f"Threads refused the {what}: {exc.message}. Please reconnect the account.",
            http_status=exc.http_status,
        ) from exc
    if not body.get("access_token"):
        raise TransientError(f"Threads answered the {what} without a token.")
    return body
