"""The one boundary between the TikTok adapter and TikTok's API v2 (open.tiktokapis.com/v2:
the Content Posting API and the Display API's user info).

Every answer comes in TikTok's envelope,

    {"data": {...}, "error": {"code": "ok", "message": "", "log_id": "2026..."}}

and `TikTokApi.call` answers `data` when `error.code` is "ok". Anything else becomes a
provider error in `tiktok_error`, which goes by the code first: TikTok refuses most posts
with a 403 whose code says why (a daily cap, a banned account, an app not audited yet), so
the status alone would call them sign-in problems. A bare status (a proxy's HTML page) goes
through the shared `raise_for_status`.

The reasons a publish fails later (`fail_reason` of a FAILED status) are mapped the same way
by `failure_error`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

import httpx

from providers.errors import AuthError, PermanentError, ProviderError, RateLimited, TransientError
from providers.http import raise_for_status, retry_after_seconds, sanitize, translate_network_errors

PLATFORM: Final = "TikTok"
API_BASE_URL: Final = "https://open.tiktokapis.com/v2"
#: A 429 without Retry-After: TikTok's limits are per minute (6 inits, 30 status reads).
RATE_LIMIT_WAIT: Final = 60.0
#: TikTok's daily caps (posts per creator, active users per app) say nothing of when they
#: free up (the creator's cap is a rolling 24 hours): look again in an hour. Only the
#: creator-info read and the init are repeated, and nothing is posted by them.
DAILY_CAP_WAIT: Final = 3600.0

#: The sign-in can't do this any more: the account must be reconnected.
_AUTH: Final = {
    "access_token_invalid": (
        "TikTok no longer accepts this sign-in (it expired or was revoked); connect the "
        "account again."
    ),
    "scope_not_authorized": (
        "Crier isn't allowed to post to this TikTok account; connect it again and allow "
        "everything Crier asks for."
    ),
    "scope_permission_missed": (
        "Crier isn't allowed to post to this TikTok account; connect it again and allow "
        "everything Crier asks for."
    ),
    "auth_removed": "Crier's access to this TikTok account was removed; connect it again.",
}
#: A quota that frees up by itself: the post waits (`DAILY_CAP_WAIT`) instead of failing.
_DAILY: Final = {
    "spam_risk_too_many_posts": (
        "This TikTok account has reached TikTok's daily limit of posts made through apps; "
        "Crier will try again later."
    ),
    "reached_active_user_cap": (
        "This Crier's TikTok app has reached TikTok's daily limit of accounts posting through "
        "it; Crier will try again later."
    ),
}
#: TikTok will never take this post as it is (or not from this account or app).
_REFUSED: Final = {
    "spam_risk_user_banned_from_posting": "TikTok has banned this account from posting for now.",
    "unaudited_client_can_only_post_to_private_accounts": (
        "This Crier's TikTok app hasn't passed TikTok's audit yet, so TikTok lets it post only "
        "to private accounts: make the TikTok account private (Settings and privacy → Privacy "
        "→ Private account), or ask the operator to have the app audited."
    ),
    "url_ownership_unverified": (
        "TikTok fetches media only from a domain the app has verified: the operator must "
        "verify Crier's PUBLIC_URL domain in the TikTok developer portal, or turn off "
        "fetching videos from a URL for this account."
    ),
    "privacy_level_option_mismatch": (
        "TikTok doesn't offer this account the chosen audience any more; choose who can see "
        "its posts again."
    ),
    "file_format_check_failed": (
        "TikTok can't read this file; send the video as MP4 (H.264), or photos as JPEG or WebP."
    ),
    "duration_check_failed": "TikTok refused the video's length for this account.",
    "frame_rate_check_failed": "TikTok takes videos of 23 to 60 frames per second only.",
    "picture_size_check_failed": (
        "TikTok refused the picture size: videos need 360 to 4096 pixels a side, photos at "
        "most 1080p."
    ),
    "spam_risk_text": "TikTok refused the text as spam.",
    "spam_risk": "TikTok refused the post as spam.",
    "video_pull_failed": (
        "TikTok couldn't download the video from Crier; the operator must check that "
        "PUBLIC_URL is reachable from the internet."
    ),
    "photo_pull_failed": (
        "TikTok couldn't download the photos from Crier; the operator must check that "
        "PUBLIC_URL is reachable from the internet."
    ),
    "publish_cancelled": "The post was cancelled on TikTok before it went out.",
}
_SERVER: Final = frozenset({"internal_error", "internal"})


class TikTokApi:
    """TikTok's API as one account's user token reaches it."""

    def __init__(
        self, http: httpx.AsyncClient, token: str, *, base_url: str = API_BASE_URL
    ) -> None:
        self._http = http
        self._token = token
        self.base_url = base_url.rstrip("/")

    async def call(
        self,
        method: str,
        path: str,
        *,
        creates: bool = False,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> Mapping[str, Any]:
        """One request; its `data`, or a provider error. `creates` marks a request whose
        success may publish (an init that makes TikTok pull media): only there is a lost
        answer ambiguous."""
        headers = {"Authorization": f"Bearer {self._token}"}
        if method == "POST":
            headers["Content-Type"] = "application/json; charset=UTF-8"
        try:
            with translate_network_errors(PLATFORM):
                response = await self._http.request(
                    method,
                    f"{self.base_url}{path}",
                    headers=headers,
                    params=params,
                    json=dict(json or {}) if method == "POST" else None,
                )
        except TransientError as exc:
            if exc.ambiguous and not creates:
                raise TransientError(
                    "The connection to TikTok broke off or timed out; nothing was published."
                ) from exc
            raise
        body = _json(response)
        error = body.get("error")
        code = str(error.get("code") or "") if isinstance(error, Mapping) else ""
        if response.status_code < 300 and code in ("ok", ""):
            data = body.get("data")
            if isinstance(data, Mapping):
                return data
            raise TransientError(
                f"TikTok sent an unexpected answer (HTTP {response.status_code}).",
                http_status=response.status_code,
                ambiguous=creates,
            )
        raise tiktok_error(response, body, secrets=[self._token])


def tiktok_error(
    response: httpx.Response, body: Mapping[str, Any], *, secrets: Iterable[str] = ()
) -> ProviderError:
    """The provider error for one of TikTok's refusals."""
    status = response.status_code
    error = body.get("error")
    error = error if isinstance(error, Mapping) else {}
    code = str(error.get("code") or "")
    said = sanitize(str(error.get("message") or ""), secrets)
    if code == "rate_limit_exceeded" or status == 429:
        detail = f": {said}" if said else ""
        return RateLimited(
            retry_after_seconds(response, RATE_LIMIT_WAIT),
            f"TikTok asked to slow down{detail}",
            http_status=status,
        )
    known = code_error(code, http_status=status)
    if known is not None:
        return known
    if code in _SERVER:
        return TransientError(f"TikTok had a server error: {said or code}", http_status=status)
    reason = f"{said} ({code})" if said and code else said or code or None
    try:
        raise_for_status(response, platform=PLATFORM, reason=reason, secrets=secrets)
    except ProviderError as exc:
        return exc
    # A 2xx with an error code TikTok doesn't document: the request was refused.
    return PermanentError(f"TikTok refused the request: {reason}", http_status=status)


def code_error(code: str, *, http_status: int | None = None) -> ProviderError | None:
    """The error for one of TikTok's documented codes (API errors and fail reasons)."""
    if code in _AUTH:
        return AuthError(_AUTH[code], http_status=http_status)
    if code in _DAILY:
        return RateLimited(DAILY_CAP_WAIT, _DAILY[code], http_status=http_status)
    if code in _REFUSED:
        return PermanentError(_REFUSED[code], http_status=http_status)
    return None


def failure_error(reason: str) -> ProviderError:
    """Why TikTok failed a publish it had accepted (`fail_reason` of a FAILED status). The
    publish is over: even a daily cap fails it (publishing again later makes a new one)."""
    known = code_error(reason)
    if isinstance(known, RateLimited):
        return PermanentError(f"{_DAILY[reason].split(';')[0]}; try again tomorrow.")
    if known is not None:
        return known
    if reason in _SERVER:
        return PermanentError("TikTok failed to publish the post (an error on TikTok's side).")
    said = sanitize(reason) or "no reason given"
    return PermanentError(f"TikTok failed to publish the post ({said}).")


def _json(response: httpx.Response) -> Mapping[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, Mapping) else {}
