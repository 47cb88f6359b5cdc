"""The WhatsApp Cloud API over httpx (Graph API v26.0), and the one place its errors become
provider errors.

Requests (developers.facebook.com/documentation/business-messaging/whatsapp):
- ``GET /{phone-number-id}?fields=...``: the business number (display number, verified
  name, quality rating, the portfolio's messaging limit, throughput level).
- ``GET /{waba-id}/message_templates?fields=...&limit=100``: the account's templates,
  paged by ``paging.next``.
- ``POST /{phone-number-id}/media`` (multipart: ``messaging_product``, ``type``, ``file``):
  an uploaded medium's ``id``, usable in messages from that number for 30 days.
- ``POST /{phone-number-id}/messages`` (JSON): one message to one person; the answer's
  ``messages[0].id`` is its ``wamid``.

Every call sends ``Authorization: Bearer <token>``. Errors are Graph errors,
``{"error": {"message": "(#131047) Re-engagement message", "type", "code",
"error_data": {"messaging_product", "details"}, "error_subcode"?, "is_transient"?,
"fbtrace_id"}}``: Meta asks clients to act on ``code`` and ``details``, not on titles or
HTTP statuses, so `error_for` maps codes first and falls back to the status (a proxy's bare
answer) through `providers.http.raise_for_status`.

Two kinds of error concern one recipient only, not the post: `RecipientRefused` (a
permanent refusal, such as the closed 24-hour window) and `PairRateLimited` (too many
messages to that person lately). The adapter goes on with the other recipients after them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from providers.base import MediaFile
from providers.errors import (
    AuthError,
    PermanentError,
    ProviderError,
    RateLimited,
    TransientError,
)
from providers.http import raise_for_status, retry_after_seconds, sanitize, translate_network_errors

PLATFORM = "WhatsApp"
#: The Graph API version Crier speaks (released 29 July 2026).
GRAPH_API_VERSION = "v26.0"
GRAPH_BASE_URL = "https://graph.facebook.com"

#: `messaging_limit_tier` is deprecated (limits are per business portfolio since October
#: 2025); `whatsapp_business_manager_messaging_limit` replaces it.
PHONE_FIELDS = (
    "display_phone_number",
    "verified_name",
    "quality_rating",
    "whatsapp_business_manager_messaging_limit",
    "throughput",
)
TEMPLATE_FIELDS = ("name", "language", "status", "category", "parameter_format", "components")
#: Template pages read at most (100 templates a page).
MAX_TEMPLATE_PAGES = 5

#: Seconds to wait before trying again, per rate-limit code, when no Retry-After is sent.
PAIR_WAIT = 6.0  # 131056: one message every 6 seconds to the same person
THROUGHPUT_WAIT = 2.0  # 130429: messages per second of the number
SPAM_WAIT = 900.0  # 131048: Meta restricts the number for a while; it says no longer
CALLS_WAIT = 60.0  # 4, 80007: API call budgets (hourly buckets)
SERVER_WAIT = 30.0


class RecipientRefused(PermanentError):
    """WhatsApp won't deliver this message to this one recipient."""

    def __init__(self, message: str, *, code: int, http_status: int | None = None) -> None:
        super().__init__(message, http_status=http_status)
        #: The Graph error code (131047 for the closed 24-hour window).
        self.code = code


class PairRateLimited(RateLimited):
    """Too many messages from this number to this one recipient lately (131056)."""


#: Errors that are about the person, not the post: the reason told to the user.
_RECIPIENT_REASONS: Mapping[int, str] = {
    131047: (
        "more than 24 hours since they last wrote to this number, so WhatsApp takes only an "
        "approved template for them (connect the account again to choose one)"
    ),
    131026: (
        "WhatsApp couldn't deliver to this number (not on WhatsApp, an outdated app, or "
        "WhatsApp's terms not accepted)"
    ),
    131030: (
        "not on the test number's list of allowed recipients (add it under API Setup in the "
        "Meta app, or use a real business number)"
    ),
    131021: "that is the business number itself",
    131050: "they stopped marketing messages from this business",
    131049: "WhatsApp held it back to keep engagement healthy (too many marketing messages)",
    130472: "they are in a WhatsApp marketing experiment group",
    130497: "the business may not message people in their country",
}
_AUTH_CODES = frozenset({0, 3, 10, 104, 190, 131005})
_RATE_WAITS: Mapping[int, float] = {
    4: CALLS_WAIT,
    80007: CALLS_WAIT,
    130429: THROUGHPUT_WAIT,
    131048: SPAM_WAIT,
    133016: CALLS_WAIT,
}
_TRANSIENT_CODES = frozenset({1, 2, 131000, 131016, 131057})
_ACCOUNT_REASONS: Mapping[int, str] = {
    368: "WhatsApp has restricted the business account for a policy violation",
    131031: "the WhatsApp Business Account is locked",
    131042: "the WhatsApp Business Account has a payment problem",
}
_CODE_PREFIX = re.compile(r"^\(#\d+\)\s*")
#: Invalid-parameter errors (100, 131009) whose details name the recipient: "the recipient
#: phone number is not a WhatsApp phone number" is one of 100's documented causes.
_ABOUT_RECIPIENT = re.compile(r"param(?:eter)?\W+to\b|phone number|recipient|wa_id", re.I)


def error_for(response: httpx.Response, secrets: Iterable[str] = ()) -> ProviderError:
    """The provider error a non-2xx Graph answer means."""
    hidden = list(secrets)
    status = response.status_code
    error = _error_object(response)
    code = _int(error.get("code"))
    if code is None:
        try:
            raise_for_status(response, platform=PLATFORM, reason=None, secrets=hidden)
        except ProviderError as exc:
            return exc
        return PermanentError(f"WhatsApp answered unexpectedly (HTTP {status}).")
    said = _reason(error, hidden)
    wait = retry_after_seconds(response, default=-1.0)
    if code in _AUTH_CODES or 200 <= code <= 299 or (code == 100 and status in (401, 403)):
        return AuthError(
            f"WhatsApp refused the access token ({said}). Create a new system-user token with "
            "whatsapp_business_messaging and whatsapp_business_management and reconnect.",
            http_status=status,
        )
    if code == 131056:
        return PairRateLimited(
            wait if wait >= 0 else PAIR_WAIT,
            f"WhatsApp: too many messages to this person lately ({said})",
            http_status=status,
        )
    if code in _RATE_WAITS:
        return RateLimited(
            wait if wait >= 0 else _RATE_WAITS[code],
            f"WhatsApp rate limit: {said}",
            http_status=status,
        )
    if code in _RECIPIENT_REASONS:
        return RecipientRefused(_RECIPIENT_REASONS[code], code=code, http_status=status)
    if code in (100, 131009) and _ABOUT_RECIPIENT.search(said):
        return RecipientRefused(f"WhatsApp refused the number: {said}", code=code)
    if code in _ACCOUNT_REASONS:
        return PermanentError(f"{_ACCOUNT_REASONS[code]}: {said}", http_status=status)
    if code in _TRANSIENT_CODES or error.get("is_transient") is True or status >= 500:
        return TransientError(f"WhatsApp had a problem: {said}", http_status=status)
    return PermanentError(f"WhatsApp refused the message: {said}", http_status=status)


class WhatsAppApi:
    """The calls Crier makes, with one account's token."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        token: str,
        *,
        base_url: str = GRAPH_BASE_URL,
        version: str = GRAPH_API_VERSION,
    ) -> None:
        self._http = http
        self._token = token
        self._root = f"{base_url.rstrip('/')}/{version.strip('/')}"

    async def phone_number(self, phone_number_id: str) -> Mapping[str, Any]:
        return await self._call(
            "GET", f"/{phone_number_id}", params={"fields": ",".join(PHONE_FIELDS)}
        )

    async def templates(self, waba_id: str) -> list[Mapping[str, Any]]:
        """Every template of the account (up to `MAX_TEMPLATE_PAGES` pages of 100)."""
        found: list[Mapping[str, Any]] = []
        params: dict[str, str] | None = {"fields": ",".join(TEMPLATE_FIELDS), "limit": "100"}
        url: str = f"{self._root}/{waba_id}/message_templates"
        for _ in range(MAX_TEMPLATE_PAGES):
            page = await self._call("GET", url, params=params)
            found.extend(t for t in page.get("data") or () if isinstance(t, Mapping))
            after = (page.get("paging") or {}).get("cursors", {}).get("after")
            if not (page.get("paging") or {}).get("next") or not after:
                break
            params = {"fields": ",".join(TEMPLATE_FIELDS), "limit": "100", "after": str(after)}
        return found

    async def upload(self, phone_number_id: str, item: MediaFile, name: str) -> str:
        """Upload one medium; its media id."""
        data = {"messaging_product": "whatsapp", "type": item.mime}
        files = {"file": (name, _read(item), item.mime)}
        answer = await self._call("POST", f"/{phone_number_id}/media", data=data, files=files)
        media_id = str(answer.get("id") or "")
        if not media_id:
            raise TransientError("WhatsApp took the file but sent back no media id.")
        return media_id

    async def send(self, phone_number_id: str, message: Mapping[str, Any]) -> str | None:
        """Send one message; its wamid (None if WhatsApp accepted it but named no id)."""
        answer = await self._call("POST", f"/{phone_number_id}/messages", json=dict(message))
        messages = answer.get("messages") or [{}]
        return str(messages[0].get("id") or "") or None

    async def _call(self, method: str, path: str, **kwargs: Any) -> Mapping[str, Any]:
        url = path if path.startswith(("http://", "https://")) else f"{self._root}{path}"
        headers = {"Authorization": f"Bearer {self._token}"}
        with translate_network_errors(PLATFORM):
            response = await self._http.request(method, url, headers=headers, **kwargs)
        if response.is_success:
            try:
                body = response.json()
            except ValueError:
                return {}
            return body if isinstance(body, Mapping) else {}
        raise error_for(response, [self._token])


def _error_object(response: httpx.Response) -> Mapping[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, Mapping) else None
    return error if isinstance(error, Mapping) else {}


def _reason(error: Mapping[str, Any], secrets: list[str]) -> str:
    """Meta's title (the message without its "(#code)") and details, plainly."""
    title = _CODE_PREFIX.sub("", str(error.get("message") or "")).strip()
    data = error.get("error_data")
    details = str(data.get("details") or "") if isinstance(data, Mapping) else str(data or "")
    user = str(error.get("error_user_msg") or "")
    parts = [p for p in (title, details or user) if p]
    if len(parts) == 2 and parts[1].lower().startswith(parts[0].lower()):
        parts = parts[1:]
    text = ": ".join(parts) or f"error {error.get('code')}"
    return sanitize(text, secrets)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _read(item: MediaFile) -> bytes:
    if item.path is None:
        raise PermanentError("A media file of this post is missing.")
    try:
        return item.path.read_bytes()
    except OSError as exc:
        raise PermanentError("A media file of this post is missing.") from exc
