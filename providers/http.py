"""The one boundary where HTTP statuses and httpx exceptions become provider errors."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from providers.errors import AuthError, PermanentError, RateLimited, TransientError

#: Longest platform message kept in an error shown to a user.
MAX_REASON = 300

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


@contextmanager
def translate_network_errors(platform: str) -> Iterator[None]:
    """Turn httpx's exceptions into TransientError, saying whether the post may have gone out."""
    try:
        yield
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        # Nothing was sent: safe to retry anywhere.
        raise TransientError(f"Could not reach {platform}.") from exc
    except (httpx.ReadTimeout, httpx.WriteTimeout) as exc:
        raise TransientError(
            f"{platform} did not answer in time; the post may or may not have been published.",
            ambiguous=True,
        ) from exc
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
        raise TransientError(
            f"The connection to {platform} broke off; the post may or may not have been published.",
            ambiguous=True,
        ) from exc
    except httpx.TransportError as exc:
        raise TransientError(f"Network error talking to {platform}.", ambiguous=True) from exc


@contextmanager
def safe_to_repeat(platform: str, doing: str) -> Iterator[None]:
    """For requests that change nothing when repeated (deleting, editing to the same text): a
    lost answer is no ambiguity, so say that trying again is safe instead of "may or may not
    have been published"."""
    try:
        yield
    except TransientError as exc:
        if not exc.ambiguous:
            raise
        raise TransientError(
            f"{platform} did not answer in time; {doing} again is safe.",
            http_status=exc.http_status,
        ) from exc


def sanitize(message: str, secrets: Iterable[str] = ()) -> str:
    """Plain, short, secret-free text from whatever a platform answered."""
    text = html.unescape(_TAG.sub(" ", message))
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def retry_after_seconds(response: httpx.Response, default: float = 60.0) -> float:
    """Seconds to wait from Retry-After (seconds or HTTP date) or x-rate-limit-reset (epoch)."""
    value = response.headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
            except (TypeError, ValueError):
                pass
    reset = response.headers.get("x-rate-limit-reset") or response.headers.get("ratelimit-reset")
    if reset:
        try:
            number = float(reset)
        except ValueError:
            return default
        # Either an epoch timestamp or a number of seconds.
        return max(0.0, number - datetime.now(UTC).timestamp()) if number > 1e9 else number
    return default


def raise_for_status(
    response: httpx.Response,
    *,
    platform: str,
    reason: str | None = None,
    secrets: Iterable[str] = (),
    retry_after: float | None = None,
) -> None:
    """Raise the provider error that matches a non-2xx response; `reason` is the platform's
    own message, already extracted from its error body."""
    status = response.status_code
    if status < 400:
        return
    said = sanitize(reason or response.reason_phrase or "", secrets)
    detail = f": {said}" if said else ""
    if status == 429:
        wait = retry_after if retry_after is not None else retry_after_seconds(response)
        raise RateLimited(wait, f"{platform} rate limit{detail}", http_status=status)
    if status in (401, 403):
        raise AuthError(f"{platform} refused the account's credentials{detail}", http_status=status)
    if status in (408, 425) or status >= 500:
        raise TransientError(
            f"{platform} had a server error ({status}){detail}", http_status=status
        )
    raise PermanentError(f"{platform} rejected the post{detail}", http_status=status)
