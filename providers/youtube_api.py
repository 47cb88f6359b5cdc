"""The one boundary between the YouTube adapter and Google's servers (YouTube Data API v3).

Requests go out through `GoogleApi.send`; a non-2xx answer becomes a provider error in
`GoogleApi.fail`, which reads Google's error shape

    {"error": {"code": 403, "message": "...",
               "errors": [{"domain": "youtube.quota", "reason": "quotaExceeded", ...}]}}

The `reason` decides where the status alone would mislead: a 403 is a used-up quota, a
refused token or a refused setting, and a 400 may be the channel's daily upload limit.
Everything else goes through the shared `raise_for_status`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import httpx

from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from providers.http import raise_for_status, retry_after_seconds, sanitize, translate_network_errors

PLATFORM = "YouTube"

#: The token or the channel can't be used: the account must be reconnected (or looked at).
AUTH_REASONS = frozenset(
    {
        "authError",
        "forbidden",
        "insufficientPermissions",
        "accountDelegationForbidden",
        "authenticatedUserAccountClosed",
        "authenticatedUserAccountSuspended",
        "authenticatedUserNotChannel",
        "channelClosed",
        "channelSuspended",
        "youtubeSignupRequired",
    }
)
#: The Cloud project's daily quota is used up; it comes back at midnight Pacific time.
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
#: Too many requests in a short time.
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
#: videos.insert's 403s about the video's settings: the post, not the account, is wrong.
REFUSED_SETTINGS = frozenset(
    {"forbiddenLicenseSetting", "forbiddenPrivacySetting", "forbiddenEmbedSetting"}
)
#: Where YouTube's daily quota resets ("midnight Pacific Time").
PACIFIC = ZoneInfo("America/Los_Angeles")
#: Wait this much past midnight, so the first try lands after the reset.
QUOTA_RESET_MARGIN = 60.0
#: A burst refused without a Retry-After: wait a minute.
DEFAULT_RATE_WAIT = 60.0

_MESSAGES = {
    "youtubeSignupRequired": (
        "This Google account has no YouTube channel; create one at "
        "https://www.youtube.com/create_channel and connect again."
    ),
    "channelSuspended": "YouTube has suspended this channel.",
    "authenticatedUserAccountSuspended": "YouTube has suspended this account.",
    "channelClosed": "This YouTube channel is closed.",
    "authenticatedUserAccountClosed": "This YouTube account is closed.",
    "insufficientPermissions": (
        "Crier lacks a permission it needs on this channel; connect it again and allow "
        "everything Crier asks for."
    ),
}


@dataclass(frozen=True, kw_only=True)
class GoogleError:
    #: errors[0].reason ("quotaExceeded"), or an OAuth error name ("invalid_token").
    reason: str
    #: error.message, or the OAuth error_description.
    message: str


def google_error(response: httpx.Response) -> GoogleError:
    try:
        body = response.json()
    except ValueError:
        return GoogleError(reason="", message="")
    if not isinstance(body, Mapping):
        return GoogleError(reason="", message="")
    error = body.get("error")
    if isinstance(error, Mapping):
        errors = error.get("errors")
        first = errors[0] if isinstance(errors, list) and errors else {}
        reason = first.get("reason") if isinstance(first, Mapping) else None
        message = error.get("message") or (first.get("message") if first else None)
        return GoogleError(reason=str(reason or ""), message=str(message or ""))
    # The OAuth shape some endpoints answer 401 with: {"error": "invalid_token", ...}.
    return GoogleError(reason=str(error or ""), message=str(body.get("error_description") or ""))


def quota_reset_wait(now: datetime) -> float:
    """Seconds until YouTube's daily quota resets (midnight Pacific time), plus a margin."""
    local = now.astimezone(PACIFIC)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=PACIFIC)
    return (midnight.astimezone(UTC) - now.astimezone(UTC)).total_seconds() + QUOTA_RESET_MARGIN


class GoogleApi:
    """Sends requests with the account's token and maps Google's errors."""

    def __init__(self, http: httpx.AsyncClient, *, now: Callable[[], datetime]) -> None:
        self._http = http
        self._now = now

    async def send(
        self,
        method: str,
        url: str,
        token: str,
        *,
        creates: bool = False,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One request; `creates` when its success may have made the video (an ambiguous
        failure of any other request published nothing). Redirects are never followed: a
        resumable upload answers 308 to say how much it has."""
        request_headers = {"Authorization": f"Bearer {token}", **(headers or {})}
        try:
            with translate_network_errors(PLATFORM):
                return await self._http.request(
                    method, url, headers=request_headers, follow_redirects=False, **kwargs
                )
        except TransientError as exc:
            if exc.ambiguous and not creates:
                raise TransientError(
                    "The connection to YouTube broke off or timed out; nothing was published."
                ) from exc
            raise

    def fail(self, response: httpx.Response, secrets: Iterable[str] = ()) -> NoReturn:
        """Raise the provider error for a non-2xx answer."""
        secrets = tuple(secrets)
        status = response.status_code
        error = google_error(response)
        said = sanitize(error.message, secrets)
        detail = (
            f"{said.rstrip('.')} ({error.reason})"
            if said and error.reason
            else said or error.reason
        )
        if error.reason in QUOTA_REASONS:
            raise RateLimited(
                quota_reset_wait(self._now()),
                "Crier's daily YouTube API quota is used up; it resets at midnight Pacific time.",
                http_status=status,
            )
        if status == 429 or error.reason in RATE_REASONS:
            raise RateLimited(
                retry_after_seconds(response, DEFAULT_RATE_WAIT),
                f"YouTube asked to slow down: {detail}" if detail else None,
                http_status=status,
            )
        if error.reason == "uploadLimitExceeded":
            raise PermanentError(
                "This channel has reached YouTube's daily upload limit (the same limit as "
                "uploading on youtube.com); try again in 24 hours.",
                http_status=status,
            )
        if status == 401 or error.reason in AUTH_REASONS:
            known = _MESSAGES.get(error.reason)
            message = known or (
                f"YouTube refused the account's credentials: {detail}"
                if detail
                else "YouTube refused the account's credentials."
            )
            raise AuthError(message, http_status=status)
        if status == 403 and error.reason in REFUSED_SETTINGS:
            raise PermanentError(
                f"YouTube refused the video's settings: {detail}", http_status=status
            )
        raise_for_status(response, platform=PLATFORM, reason=detail or None, secrets=secrets)
        # A non-error status reached here (a caller's mistake): fail loudly, never pass.
        raise TransientError(f"YouTube answered HTTP {status} unexpectedly.", http_status=status)


def json_of(response: httpx.Response, *, creates: bool = False) -> Mapping[str, Any]:
    """The JSON object of a 2xx answer; anything else is a broken answer (TransientError)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, Mapping):
        raise TransientError(
            f"YouTube sent an unexpected answer (HTTP {response.status_code}).",
            http_status=response.status_code,
            ambiguous=creates,
        )
    return body
