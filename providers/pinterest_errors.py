"""Pinterest's answers as provider errors: the API's `{"code", "message"}` bodies and rate
limit headers, and the XML errors of the S3 bucket videos are uploaded to.

- 401 -> AuthError; 403 about the token (a missing scope, code 3) or without a body ->
  AuthError; any other 403 (a board the account may not pin to, code 7; an app with Trial
  access pinning in production, code 29) -> PermanentError saying what would help.
- Updating a Pin (a beta endpoint): a 403 not about the token -> PermanentError saying the
  app may not update Pins.
- 429 -> RateLimited, waiting Retry-After, else `x-ratelimit-reset` (seconds, or an epoch
  time), else a minute; a 429 whose message says "spam" is Pinterest refusing the Pin ->
  PermanentError.
- Other 4xx -> PermanentError with Pinterest's message; 5xx -> TransientError.
- The bucket: a refused file (400 EntityTooLarge, a malformed form) -> PermanentError; an
  expired or refused upload slot (403) and 5xx -> TransientError (a new upload may work).

Messages are sanitized and never carry the token.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from providers.errors import PermanentError, RateLimited, TransientError
from providers.http import raise_for_status, retry_after_seconds, sanitize

PLATFORM = "Pinterest"
DEFAULT_RATE_LIMIT_WAIT = 60.0
#: Error codes about the token itself: authentication failed (2), a scope missing (3), the
#: grant invalid (283), the token invalid or expired (1104). Signing in again fixes them.
AUTH_CODES = frozenset({2, 3, 283, 1104})

_S3_MESSAGE = re.compile(r"<Message>(.*?)</Message>", re.DOTALL)


def json_of(response: httpx.Response, *, creates_post: bool = False) -> Mapping[str, Any]:
    """The JSON object Pinterest answered; anything else is a transient oddity (ambiguous
    when it answered the creation of a Pin)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, Mapping):
        maybe = "; the Pin may or may not have been published" if creates_post else ""
        raise TransientError(
            f"Pinterest sent an unexpected answer (HTTP {response.status_code}){maybe}.",
            http_status=response.status_code,
            ambiguous=creates_post,
        )
    return body


def _error_of(response: httpx.Response) -> tuple[int | None, str | None]:
    """Pinterest's errors are `{"code": <int>, "message": "..."}`."""
    try:
        body = response.json()
    except ValueError:
        return None, None
    if not isinstance(body, Mapping):
        return None, None
    code = body.get("code")
    message = body.get("message") or body.get("message_detail")
    return (code if isinstance(code, int) else None), (str(message) if message else None)


def raise_for_pinterest(response: httpx.Response, token: str) -> None:
    """Raise the provider error for an API answer that is not a success."""
    status = response.status_code
    code, message = _error_of(response)
    said = sanitize(message or "", [token])
    detail = f": {said}" if said else ""
    if status == 429:
        if "spam" in said.lower():
            raise PermanentError(f"Pinterest refused this Pin as spam{detail}", http_status=status)
        raise RateLimited(rate_limit_wait(response), f"Pinterest rate limit{detail}")
    if status == 403 and code is not None and code not in AUTH_CODES:
        raise PermanentError(_refusal(said), http_status=status)
    raise_for_status(response, platform=PLATFORM, reason=message, secrets=[token])


def raise_for_pin_update(response: httpx.Response, token: str) -> None:
    """Like `raise_for_pinterest`, for `PATCH /v5/pins/{id}`: Update Pin is in beta and "not
    available to all apps", so a 403 that is not about the token means this app may not
    update Pins, and signing in again would not help."""
    code, message = _error_of(response)
    if response.status_code == 403 and code not in AUTH_CODES:
        said = sanitize(message or "", [token])
        detail = f" ({said})" if said else ""
        raise PermanentError(
            f"Pinterest didn't let Crier change the Pin{detail}. Updating Pins is in beta at "
            "Pinterest and not open to every app; delete the Pin and post it again instead.",
            http_status=403,
        )
    raise_for_pinterest(response, token)


def _refusal(said: str) -> str:
    """Why Pinterest forbids this Pin, with what would help."""
    detail = f": {said}" if said else ""
    if "trial access" in said.lower():
        return (
            f"Pinterest refused the Pin{detail}. This server's Pinterest app has Trial access, "
            "which creates Pins only in Pinterest's sandbox; its operator must apply for "
            "Standard access."
        )
    if "board" in said.lower():
        return (
            f"Pinterest won't let this account pin to the board{detail}. Pick another board "
            "or connect the account again."
        )
    return f"Pinterest refused the Pin{detail}"


def rate_limit_wait(response: httpx.Response) -> float:
    """Seconds until Pinterest lets us in again: Retry-After, else `x-ratelimit-reset`
    (seconds to wait, or an epoch time), else a minute."""
    if response.headers.get("retry-after"):
        return retry_after_seconds(response, DEFAULT_RATE_LIMIT_WAIT)
    try:
        reset = float(response.headers.get("x-ratelimit-reset") or "")
    except ValueError:
        return DEFAULT_RATE_LIMIT_WAIT
    if reset > 1e9:  # an epoch timestamp
        return max(0.0, reset - datetime.now(UTC).timestamp())
    return max(0.0, reset)


def raise_for_upload(response: httpx.Response) -> None:
    """The storage Pinterest uploads to answers like S3 (XML `<Error>`); an expired or
    refused upload slot is worth a new one later, a file it refuses is not."""
    found = _S3_MESSAGE.search(response.text or "")
    said = sanitize(found.group(1) if found else "")
    detail = f": {said}" if said else ""
    status = response.status_code
    if status in (400, 413) and "expired" not in said.lower():
        raise PermanentError(f"Pinterest's upload refused the video{detail}", http_status=status)
    raise TransientError(
        f"Pinterest's upload didn't take the video ({status}){detail}; nothing was published.",
        http_status=status,
    )
