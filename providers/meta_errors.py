"""Meta's Graph API errors (v27.0), turned into provider errors.

Every Graph error is one object, whatever the HTTP status (most are 400, permissions 403,
server trouble 500):

    {"error": {"message": "(#200) Requires pages_manage_posts permission ...",
               "type": "OAuthException", "code": 200, "error_subcode": 2069007,
               "error_user_title": "...", "error_user_msg": "...",
               "is_transient": false, "fbtrace_id": "AbC..."}}

The `code` (and for Instagram publishing the `error_subcode`) decides, not the status: a
rate limit is a 400 or 403 with code 4, 17, 32, 613 or 80001-80009, never a 429. Per
"Handling Errors" and the Instagram "Error Codes" reference:

- 190 (subcodes 458-467, 492), 102, 2500: the token is expired, revoked, or the password
  changed: the account must be reconnected (AuthError).
- 10 and 200-299: a permission is missing or was taken back: AuthError naming it.
- 4, 17, 32, 613, 80001-80009: rate limits: RateLimited, for as long as the usage headers'
  `estimated_time_to_regain_access` (minutes) says.
- 1, 2, `is_transient`, 5xx: Meta's own trouble: TransientError.
- 368: temporarily blocked from posting (policy): RateLimited for an hour.
- 9004, 9007, 36000-36004 and the 2207xxx subcodes of Instagram publishing: the media or
  the post is refused: PermanentError with a reason a person can act on; the few that only
  mean "not yet" (2207027 not ready, 2207032/2207053 upload trouble) are TransientError.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from providers.errors import (
    AuthError,
    PermanentError,
    ProviderError,
    RateLimited,
    TransientError,
)
from providers.http import retry_after_seconds, sanitize

#: Codes of the rate limits: app (4), user (17), Page (32), custom (613), and the Business
#: Use Case limits (80001 Pages, 80002 Instagram, ... 80009).
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80001, 80010)})
#: Codes meaning the token can't be used any more: invalid OAuth token (190), session key
#: invalid (102), no active token (2500).
TOKEN_CODES = frozenset({102, 190, 2500})
#: A throttled call with no usage header says how long: wait this long (seconds).
DEFAULT_RATE_WAIT = 300.0
#: Temporarily blocked from posting (code 368): wait this long.
POLICY_BLOCK_WAIT = 3600.0
#: The Instagram account published its 24-hour quota (subcode 2207042): look again then.
PUBLISH_LIMIT_WAIT = 3600.0

#: Usage headers that may carry `estimated_time_to_regain_access` (minutes).
_USAGE_HEADERS = ("x-business-use-case-usage", "x-page-usage", "x-app-usage", "x-ad-account-usage")
_PERMISSION = re.compile(
    r"\b(pages_[a-z_]+|instagram_[a-z_]+|business_management|publish_video|read_insights)\b"
)

#: 190's subcodes, per "Access Token errors".
_TOKEN_REASONS = {
    458: "Crier was removed from the Facebook account's apps",
    459: "Facebook wants the account's owner to log in on facebook.com and pass a check",
    460: "the Facebook password was changed",
    463: "the sign-in expired",
    464: "Facebook wants the account's owner to confirm their account on facebook.com",
    467: "the sign-in is no longer valid",
    492: "the Facebook user no longer has a role on this Page",
}

#: Instagram publishing subcodes (Instagram Platform "Error Codes"), and Facebook's own.
_PERMANENT_SUBCODES = {
    2207001: "Instagram thinks this post is spam; change it and try again.",
    2207004: "A photo is too large for Instagram (at most 8 MB).",
    2207005: "Instagram doesn't take this photo's format; use a JPEG.",
    2207006: "Instagram couldn't find the media to publish; schedule the post again.",
    2207008: "Instagram's container for this post expired; schedule it again.",
    2207009: "A photo's aspect ratio isn't one Instagram takes (4:5 to 1.91:1); crop it.",
    2207010: "The caption is too long for Instagram (2,200 characters).",
    2207020: "Instagram's container for this post expired; schedule it again.",
    2207023: "Instagram doesn't know this media type.",
    2207026: "Instagram doesn't take this video (MP4 or MOV, H.264 or HEVC, AAC sound).",
    2207028: "Instagram refused the carousel: it takes 2 to 10 photos and videos.",
    2207050: "Instagram has restricted this account; see the Instagram app.",
    2207051: "Instagram blocked this action on the account; see the Instagram app.",
    1366046: "A photo is too large for Facebook (at most 4 MB, JPEG or PNG).",
    1346003: "Facebook flagged the post as abusive.",
    1404102: "Facebook says the post goes against its Community Standards.",
    1609008: "Facebook doesn't allow links to facebook.com in a post's link.",
}
#: Subcodes that only mean "not yet": asking again later may work.
_TRANSIENT_SUBCODES = {
    2207003: "Instagram timed out fetching the media; trying again.",
    2207027: "Instagram isn't done preparing the media yet.",
    2207032: "Instagram couldn't create the media this time; trying again.",
    2207052: (
        "Meta couldn't fetch the media from Crier's link this time; trying again (if it keeps "
        "failing, PUBLIC_URL must be an https address reachable from the internet)."
    ),
    2207053: "Instagram had an unknown upload error; trying again.",
}


@dataclass(frozen=True, kw_only=True)
class GraphError:
    message: str = ""
    type: str = ""
    code: int | None = None
    subcode: int | None = None
    user_message: str = ""
    transient: bool = False
    fbtrace_id: str = ""

    @property
    def gone(self) -> bool:
        """The object doesn't exist (any more): code 100 subcode 33, or code 803."""
        return (self.code == 100 and self.subcode == 33) or self.code == 803


def graph_error(response: httpx.Response) -> GraphError | None:
    """The Graph error object of an answer, if it has one."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        return None
    return GraphError(
        message=str(error.get("message") or ""),
        type=str(error.get("type") or ""),
        code=_int(error.get("code")),
        subcode=_int(error.get("error_subcode")),
        user_message=str(error.get("error_user_msg") or ""),
        transient=bool(error.get("is_transient")),
        fbtrace_id=str(error.get("fbtrace_id") or ""),
    )


def regain_seconds(response: httpx.Response) -> float | None:
    """The longest `estimated_time_to_regain_access` (minutes) of the usage headers, in
    seconds; Retry-After where a proxy sent one; None when neither says."""
    if response.headers.get("retry-after"):
        return retry_after_seconds(response)
    longest: float | None = None
    for name in _USAGE_HEADERS:
        raw = response.headers.get(name)
        if not raw:
            continue
        try:
            usage = json.loads(raw)
        except ValueError:
            continue
        for minutes in _regain_minutes(usage):
            longest = max(longest or 0.0, minutes * 60.0)
    return longest


def error_for(
    response: httpx.Response, *, platform: str, secrets: Iterable[str] = ()
) -> ProviderError:
    """The provider error for a failed Graph answer (see the module docstring)."""
    status = response.status_code
    error = graph_error(response)
    if error is None:
        return _bare(response, platform, secrets)
    said = sanitize(error.user_message or error.message, secrets)
    code, subcode = error.code, error.subcode
    if code in TOKEN_CODES:
        why = _TOKEN_REASONS.get(subcode or 0, "the sign-in is no longer valid")
        return AuthError(
            f"{platform} refused Crier's access: {why}. Connect the account again.",
            http_status=status,
        )
    if subcode == 2207042:
        return RateLimited(
            PUBLISH_LIMIT_WAIT,
            "The Instagram account reached its limit of posts per 24 hours; it goes out later.",
            http_status=status,
        )
    if code in RATE_LIMIT_CODES:
        wait = regain_seconds(response)
        return RateLimited(
            max(wait, 1.0) if wait is not None else DEFAULT_RATE_WAIT,
            f"{platform} asked Crier to slow down: {said}" if said else None,
            http_status=status,
        )
    if code == 368:
        return RateLimited(
            POLICY_BLOCK_WAIT,
            f"{platform} has temporarily blocked posting from this account: {said}",
            http_status=status,
        )
    if subcode in _TRANSIENT_SUBCODES:
        return TransientError(_TRANSIENT_SUBCODES[subcode], http_status=status)
    if subcode in _PERMANENT_SUBCODES:
        return PermanentError(_PERMANENT_SUBCODES[subcode], http_status=status)
    if code == 10 or (code is not None and 200 <= code <= 299):
        permission = _PERMISSION.search(error.message)
        what = f"the {permission.group(1)} permission" if permission else "a permission"
        return AuthError(
            f"{platform} says Crier lacks {what} for this account ({said}). Connect it again "
            "and allow everything Crier asks for.",
            http_status=status,
        )
    if code in (9004, 36003, *range(36000, 36005)):
        return PermanentError(_media_refused(code, said), http_status=status)
    if code == 506:
        return PermanentError(
            f"{platform} refused a duplicate of a post that is already out.", http_status=status
        )
    if code in (1, 2) or error.transient or status >= 500:
        return TransientError(
            f"{platform} had a temporary problem: {said}" if said else None, http_status=status
        )
    return PermanentError(
        f"{platform} refused the post: {said}" if said else f"{platform} refused the post.",
        http_status=status,
    )


def _media_refused(code: int | None, said: str) -> str:
    if code == 9004:
        return (
            "Meta couldn't fetch the media from Crier's link: PUBLIC_URL must be an https "
            f"address reachable from the internet ({said})."
        )
    if code == 36003:
        return "A photo's aspect ratio isn't one Instagram takes (4:5 to 1.91:1); crop it."
    return f"Meta refused the media: {said}"


def _bare(response: httpx.Response, platform: str, secrets: Iterable[str]) -> ProviderError:
    """An answer without Meta's error object (a proxy, a load balancer): by status alone."""
    status = response.status_code
    if status == 429:
        wait = regain_seconds(response)
        return RateLimited(wait if wait is not None else DEFAULT_RATE_WAIT, http_status=status)
    if status in (401, 403):
        return AuthError(f"{platform} refused the account's credentials.", http_status=status)
    if status in (408, 425) or status >= 500:
        return TransientError(f"{platform} had a server error ({status}).", http_status=status)
    reason = sanitize(response.reason_phrase or "", secrets)
    return PermanentError(
        f"{platform} refused the request ({status} {reason}).".replace(" )", ")"),
        http_status=status,
    )


def _regain_minutes(usage: Any) -> Iterable[float]:
    """`estimated_time_to_regain_access` anywhere in a usage header: at the top (X-App-Usage,
    X-Page-Usage) or per business object (X-Business-Use-Case-Usage)."""
    if isinstance(usage, Mapping):
        value = usage.get("estimated_time_to_regain_access")
        if isinstance(value, int | float):
            yield float(value)
        for item in usage.values():
            if isinstance(item, list | Mapping):
                yield from _regain_minutes(item)
    elif isinstance(usage, list):
        for item in usage:
            yield from _regain_minutes(item)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
