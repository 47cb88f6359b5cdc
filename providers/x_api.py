"""The one boundary between the X adapter and X's API (v2, api.x.com).

`XApi.call` sends a request with the account's OAuth 2.0 user token and turns every answer
that is not a success into a provider error (`x_error`): X's problem bodies
(`{"title", "detail", "type", "status"}`, with an `errors` list for invalid requests) and its
rate-limit headers (`x-rate-limit-*` for the 15-minute window, `x-user-limit-24hour-*` and
`x-app-limit-24hour-*` for the daily caps, resets as epoch seconds).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

import httpx

from providers.errors import AuthError, PermanentError, ProviderError, RateLimited, TransientError
from providers.http import raise_for_status, sanitize, translate_network_errors

PLATFORM: Final = "X"
API_BASE_URL: Final = "https://api.x.com"
#: A 429 without any reset header: X's rate-limit windows are 15 minutes.
DEFAULT_RATE_LIMIT_WAIT: Final = 15 * 60.0

DUPLICATE: Final = (
    "X refused this post as a duplicate: the account already has a post with exactly this "
    "text, and X doesn't take the same text twice. If an earlier attempt timed out, it is "
    "probably already published; otherwise change the text."
)
OUT_OF_CREDITS: Final = (
    "X refused the request: the X developer app this bot uses is out of API credits. The "
    "bot's operator needs to add credits in the X Developer Console."
)

#: Header prefixes of X's limits, most lasting first (the one that resets last wins).
_LIMIT_HEADERS: Final = ("x-user-limit-24hour", "x-app-limit-24hour", "x-rate-limit")


class XApi:
    """X's API as one account's user token reaches it."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        token: str,
        *,
        base_url: str = API_BASE_URL,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._http = http
        self._token = token
        self.base_url = base_url.rstrip("/")
        self._now = now

    async def call(
        self, method: str, path: str, *, creates_post: bool = False, **kwargs: Any
    ) -> Mapping[str, Any]:
        """Send one request; the answer's JSON, or a provider error.

        `creates_post` marks the one request that publishes something (`POST /2/tweets`): only
        there is a lost answer ambiguous."""
        headers = {"Authorization": f"Bearer {self._token}"}
        try:
            with translate_network_errors(PLATFORM):
                response = await self._http.request(
                    method, f"{self.base_url}{path}", headers=headers, **kwargs
                )
        except TransientError as exc:
            if exc.ambiguous and not creates_post:
                raise TransientError(
                    "The connection to X broke off or timed out; nothing was published."
                ) from exc
            raise
        if response.status_code >= 400:
            raise x_error(response, secrets=[self._token], now=self._now())
        if not response.content.strip():
            return {}
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, Mapping):
            raise TransientError(
                f"X sent an unexpected answer (HTTP {response.status_code}).",
                http_status=response.status_code,
                ambiguous=creates_post,
            )
        if "data" not in body and body.get("errors"):
            # A 2xx that carries only errors: nothing was done.
            reason = sanitize(error_reason(body) or "", [self._token])
            raise PermanentError(
                f"X rejected the request: {reason}", http_status=response.status_code
            )
        return body


def x_error(response: httpx.Response, *, secrets: Iterable[str], now: float) -> ProviderError:
    """The provider error for one of X's error answers."""
    status = response.status_code
    body = _json(response)
    reason = error_reason(body)
    said = sanitize(reason or "", secrets)
    kind = str(body.get("type") or "")
    if status == 429:
        wait = rate_limit_wait(response.headers, now)
        detail = f": {said}" if said else ""
        return RateLimited(wait, f"X rate limit{detail}", http_status=status)
    if status == 402:
        return PermanentError(OUT_OF_CREDITS, http_status=status)
    if status == 403:
        if "duplicate content" in (reason or "").lower():
            return PermanentError(DUPLICATE, http_status=status)
        if kind.endswith("/unsupported-authentication"):
            return AuthError(f"X refused the account's sign-in: {said}", http_status=status)
        # X's 403s refuse an action (a reply it doesn't allow, a suspended or locked account,
        # an app without access): signing in again would not change the answer.
        detail = f": {said}" if said else ""
        return PermanentError(f"X refused the post{detail}", http_status=status)
    try:
        raise_for_status(response, platform=PLATFORM, reason=reason, secrets=secrets)
    except ProviderError as exc:
        return exc
    return TransientError(f"X answered HTTP {status}.", http_status=status)  # pragma: no cover


def error_reason(body: Mapping[str, Any]) -> str | None:
    """X's own words: the `errors` list's messages (invalid requests, v1.1-style errors),
    else the problem's `detail` or `title`, else an OAuth `error_description`."""
    errors = body.get("errors")
    if isinstance(errors, list):
        said = [
            str(e.get("message") or e.get("detail"))
            for e in errors
            if isinstance(e, Mapping) and (e.get("message") or e.get("detail"))
        ]
        if said:
            return "; ".join(dict.fromkeys(said))
    for key in ("detail", "title", "error_description", "error"):
        if body.get(key):
            return str(body[key])
    return None


def rate_limit_wait(headers: httpx.Headers, now: float) -> float:
    """Seconds until X lets us in again: the latest reset among the limits that are used up
    (the daily caps outlast the 15-minute window), else `x-rate-limit-reset`, else
    Retry-After, else a whole window."""
    exhausted: list[float] = []
    for prefix in _LIMIT_HEADERS:
        reset = _number(headers.get(f"{prefix}-reset"))
        if reset is not None and headers.get(f"{prefix}-remaining", "").strip() == "0":
            exhausted.append(reset)
    if exhausted:
        return max(0.0, max(exhausted) - now)
    reset = _number(headers.get("x-rate-limit-reset"))
    if reset is not None:
        return max(0.0, reset - now)
    after = _number(headers.get("retry-after"))
    if after is not None:
        return max(0.0, after)
    return DEFAULT_RATE_LIMIT_WAIT


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _json(response: httpx.Response) -> Mapping[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, Mapping) else {}
