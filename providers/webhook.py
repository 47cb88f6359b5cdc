"""A generic outgoing webhook: each post is POSTed as signed JSON to a URL the user runs.

The signature follows Stripe's scheme, so the timestamp is covered and receivers can refuse
replays: `X-Crier-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">` with
`X-Crier-Timestamp: <unix seconds>`. The payload, the headers and how to check them are
documented for receivers in docs/WEBHOOK.md; keep the two in step.

After publishing, deleting and editing a post are events like `crier.post`, signed the same
way: `crier.deleted` and `crier.edited` name the post by `original_id` (the `id` of its
`crier.post`) and `receiver_id` (the id the receiver answered with, if any). Their own `id`
(and Idempotency-Key) is stable across retries: "<original id>:deleted", and
"<original id>:edited:<digest of the new content>". A receiver that answers 404 or 410 to a
`crier.deleted` has nothing left to delete: that counts as deleted. `PublishResult.ref`
holds {"delivery_id", "post_id", "receiver_id", "parts": 1}. A receiver can't be asked
whether it got a post, so `lookup` answers None.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import ipaddress
import json
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from providers.base import (
    AccountRef,
    AfterPublish,
    ConnectField,
    Limits,
    MediaFile,
    MediaKind,
    PostContent,
    Provider,
    PublishResult,
    TextCounting,
    VerifiedAccount,
)
from providers.errors import AuthError, PermanentError, ProviderError, TransientError
from providers.http import raise_for_status, safe_to_repeat, sanitize, translate_network_errors

USER_AGENT = "Crier-Webhook/1"
TIMESTAMP_HEADER = "X-Crier-Timestamp"
SIGNATURE_HEADER = "X-Crier-Signature"
#: Largest file sent inline (base64 inside the JSON body).
MAX_INLINE_BYTES = 20_000_000
#: Longest piece of a receiver's error body quoted back to the user.
MAX_SNIPPET = 200

MEDIA_MODES = ("inline", "urls")
DELETED = "crier.deleted"
EDITED = "crier.edited"

AFTER_PUBLISH = AfterPublish(
    can_delete=True,
    can_edit_text=True,
    can_edit_media=True,
    can_edit_buttons=False,
    can_lookup=False,
)
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `X-Crier-Signature` value for `body` sent at `timestamp` (unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


class WebhookProvider(Provider):
    platform: ClassVar[str] = "webhook"
    display_name: ClassVar[str] = "Webhook"
    connect_fields: ClassVar[tuple[ConnectField, ...]] = (
        ConnectField(
            key="url",
            prompt=(
                "Send me the <b>URL</b> Crier should POST each post to.\n"
                "It must be <code>https://</code> (plain <code>http://</code> only for "
                "localhost). Crier sends signed JSON; the format is in "
                "<code>docs/WEBHOOK.md</code>.\n"
                "<i>URLs often carry a token, so treat it as a secret.</i>"
            ),
            secret=True,
            pattern=r"https?://\S+",
            hint="Send a full URL starting with <code>https://</code>.",
        ),
        ConnectField(
            key="media_mode",
            prompt=(
                "How should photos and videos be sent? <code>inline</code> (the default): "
                "the file's bytes, base64, inside the JSON. <code>urls</code>: a link to the "
                "file instead — only where this Crier serves media publicly; otherwise "
                "files go inline."
            ),
            optional=True,
            pattern=r"(?i)inline|urls",
            hint="Answer <code>inline</code> or <code>urls</code>.",
        ),
        ConnectField(
            key="signing_secret",
            prompt=(
                "If your receiver already has a <b>signing secret</b> from Crier (you are "
                "reconnecting), send it to keep it. Skip to get a new one; I'll show it once."
            ),
            secret=True,
            optional=True,
            pattern=r"\S{16,200}",
            hint="A signing secret is at least 16 characters, with no spaces.",
        ),
    )

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        media_base_url: str | None = None,
        block_private_hosts: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._http = http
        #: Where this Crier serves stored media publicly, if anywhere (for "urls" mode).
        self._media_base = media_base_url
        #: Refuse receivers on loopback, private or link-local addresses (public instances).
        self._block_private = block_private_hosts
        self._clock = clock
        self.limits = Limits(
            max_text=100_000,
            counting=TextCounting.CHARS,
            max_media=10,
            max_images=10,
            max_videos=10,
            mixed_media=True,
            mime_types={kind: frozenset() for kind in MediaKind},  # empty: any type
            max_bytes={kind: MAX_INLINE_BYTES for kind in MediaKind},
            alt_text=True,
            threads=False,
            # Every request carries Idempotency-Key, but nothing says a receiver honours it.
            idempotent_publish=False,
            concurrency=2,
        )
        self.after_publish = AFTER_PUBLISH

    # -- contract ---------------------------------------------------------------------------

    def limits_for(self, account: AccountRef) -> Limits:
        if self._media_base_for(account):
            # Links instead of bytes: the inline size cap does not apply.
            return dataclasses.replace(self.limits, max_bytes={})
        return self.limits

    async def publish(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> PublishResult:
        url, secret = self._destination(account)
        media_base = self._media_base_for(account)
        payload = {
            "type": "crier.post",
            "id": idempotency_key,
            "post_id": post.post_id,
            "scheduled_at": _iso(post.scheduled_at),
            "text": post.text,
            "media": [_media(item, media_base) for item in post.media],
        }
        response = await self._call(url, secret, payload, idempotency_key)
        body = _json(response)
        found_id = _receiver_id(body)
        found_url = body.get("url")
        # The receiver's own id and link when it gives them; else our key identifies the post.
        return PublishResult(
            platform_id=found_id or idempotency_key,
            url=found_url if _is_http_url(found_url) else None,
            ref={
                "delivery_id": idempotency_key,
                "post_id": post.post_id,
                "receiver_id": found_id,
                "parts": 1,
            },
        )

    # -- after publishing -------------------------------------------------------------------

    async def delete(self, published: PublishResult, account: AccountRef) -> None:
        """POST a signed `crier.deleted`; 404 or 410 means the receiver has nothing left."""
        url, secret = self._destination(account)
        original, receiver_id, post_id = _names(published)
        event = {
            "type": DELETED,
            "id": f"{original or receiver_id}:deleted",
            "post_id": post_id,
            "original_id": original,
            "receiver_id": receiver_id,
            "deleted_at": _iso(self._now()),
        }
        try:
            with safe_to_repeat(url.host, "deleting"):
                await self._call(url, secret, event, str(event["id"]))
        except PermanentError as exc:
            if exc.http_status not in (404, 410):
                raise

    async def edit(
        self,
        published: PublishResult,
        post: PostContent,
        account: AccountRef,
        *,
        media_changed: bool = False,
    ) -> PublishResult:
        """POST a signed `crier.edited` with the new text, and the media when they changed
        (no "media" key: keep those you have)."""
        self.ensure_editable(published, post, account, media_changed=media_changed)
        url, secret = self._destination(account)
        original, receiver_id, post_id = _names(published)
        media = [_media(item, self._media_base_for(account)) for item in post.media]
        digest = hashlib.sha256(
            json.dumps([post.text, media if media_changed else None], sort_keys=True).encode()
        ).hexdigest()[:16]
        event: dict[str, Any] = {
            "type": EDITED,
            "id": f"{original or receiver_id}:edited:{digest}",
            "post_id": post_id,
            "original_id": original,
            "receiver_id": receiver_id,
            "edited_at": _iso(self._now()),
            "text": post.text,
        }
        if media_changed:
            event["media"] = media
        with safe_to_repeat(url.host, "editing"):
            response = await self._call(url, secret, event, str(event["id"]))
        found_url = _json(response).get("url")
        return PublishResult(
            platform_id=published.platform_id,
            url=found_url if _is_http_url(found_url) else published.url,
            ref=published.ref,
        )

    def _destination(self, account: AccountRef) -> tuple[httpx.URL, str]:
        url = _target(account.credentials.get("url"))
        secret = str(account.credentials.get("signing_secret") or "")
        if not secret:
            raise AuthError("The webhook has no signing secret stored; reconnect it.")
        return url, secret

    async def verify(self, account: AccountRef) -> VerifiedAccount:
        """Send a signed `crier.ping`; any 2xx proves the URL works."""
        raw = str(account.credentials.get("url") or "").strip()
        url = _target(raw)
        mode = str(account.config.get("media_mode") or "inline").strip().lower()
        if mode not in MEDIA_MODES:
            raise PermanentError('Media mode is "inline" or "urls".')
        secret = str(account.credentials.get("signing_secret") or "").strip()
        secret = secret or secrets.token_hex(32)
        ping_id = f"ping-{uuid.uuid4().hex}"
        ping = {"type": "crier.ping", "id": ping_id, "sent_at": _iso(self._now())}
        try:
            await self._call(url, secret, ping, ping_id)
        except ProviderError as exc:
            if exc.http_status is None and not isinstance(exc, TransientError):
                raise  # refused before sending (a private address): its message says why
            raise _verify_error(url, exc) from exc
        return VerifiedAccount(
            label=f"Webhook ({url.host})",
            # A fingerprint, not the URL: the URL may hold a token and ids are not secret.
            external_id=hashlib.sha256(str(url).encode()).hexdigest()[:32],
            config={"host": url.host, "media_mode": mode},
            credentials={"url": raw, "signing_secret": secret},
            notice=(
                "🔑 Your signing secret (shown once — keep it with your receiver; "
                "docs/WEBHOOK.md shows how to check signatures):\n"
                f"<code>{secret}</code>"
            ),
        )

    # -- HTTP -------------------------------------------------------------------------------

    async def _call(
        self, url: httpx.URL, secret: str, payload: Mapping[str, Any], key: str
    ) -> httpx.Response:
        """POST one signed event; the one place answers become provider errors."""
        if self._block_private:
            await _refuse_private(url)
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = int(self._now().timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(secret, timestamp, body),
            "Idempotency-Key": key,
        }
        with translate_network_errors(url.host):
            response = await self._http.post(url, content=body, headers=headers)
        if response.is_success:
            return response
        raise _error(response, url, [secret, *_url_secrets(url)])

    def _media_base_for(self, account: AccountRef) -> str | None:
        """Where media links point in "urls" mode; None means files go inline."""
        if str(account.config.get("media_mode") or "inline").lower() != "urls":
            return None
        base = account.config.get("media_base_url") or self._media_base
        return str(base).rstrip("/") if base else None

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)


def _error(response: httpx.Response, url: httpx.URL, hidden: list[str]) -> ProviderError:
    status = response.status_code
    said = _snippet(response, hidden)
    detail = f": {said}" if said else ""
    if 300 <= status < 400:
        return PermanentError(
            f"{url.host} answered with a redirect (HTTP {status}); "
            "reconnect with the address it redirects to.",
            http_status=status,
        )
    if status in (401, 403):
        return AuthError(
            f"{url.host} refused the request (HTTP {status}){detail}. Check that it uses "
            "the signing secret Crier showed you, or reconnect the webhook.",
            http_status=status,
        )
    try:
        # 429 waits for Retry-After; 408, 425 and 5xx are transient; other 4xx permanent.
        raise_for_status(response, platform=url.host, reason=said, secrets=hidden)
    except ProviderError as exc:
        return exc
    return PermanentError(f"{url.host} answered HTTP {status}.", http_status=status)


def _verify_error(url: httpx.URL, exc: ProviderError) -> ProviderError:
    """Connect-time wording: say what came back and suggest checking the URL."""
    status = exc.http_status
    if status is None:
        return TransientError(f"Could not reach {url.host}: is the URL right?")
    message = f"{url.host} answered HTTP {status} to Crier's test event. Is the URL right?"
    if status in (401, 403):
        message += (
            " If your receiver checks signatures, let it answer 2xx to the crier.ping event "
            "until it has the secret Crier shows after connecting."
        )
    return PermanentError(message, http_status=status)


def _snippet(response: httpx.Response, hidden: list[str]) -> str:
    """A short, secret-free quote of the receiver's answer (its message if it is JSON)."""
    body = _json(response)
    text = next(
        (str(body[k]) for k in ("message", "error", "detail") if isinstance(body.get(k), str)),
        None,
    )
    if text is None:
        try:
            text = response.text
        except (UnicodeDecodeError, LookupError):
            text = ""
    # Redact before cutting, so a secret can't survive half-truncated.
    said = sanitize(text, hidden)
    return said if len(said) <= MAX_SNIPPET else said[: MAX_SNIPPET - 1] + "…"


def _target(raw: Any) -> httpx.URL:
    """The receiver URL: https, or plain http on this machine only."""
    problem = PermanentError(
        "The webhook URL must start with https:// (http:// only for localhost); reconnect it."
    )
    try:
        url = httpx.URL(str(raw or "").strip())
    except httpx.InvalidURL:
        raise problem from None
    host = url.host.lower()
    local = host in _LOCAL_HOSTS or host.endswith(".localhost")
    if not host or not (url.scheme == "https" or (url.scheme == "http" and local)):
        raise problem
    return url


async def _refuse_private(url: httpx.URL) -> None:
    """Stop users pointing the server at its own network (cloud metadata, databases)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(url.host, url.port or 443)
    except OSError as exc:
        raise TransientError(f"Could not find {url.host}: is the URL right?") from exc
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not address.is_global:
            raise PermanentError(f"{url.host} is on a private network; Crier won't post there.")


def _url_secrets(url: httpx.URL) -> list[str]:
    """Parts of the URL that may be tokens, to scrub from anything a user sees."""
    parts = [str(url), str(url).split("://", 1)[-1], url.query.decode()]
    if url.password:
        parts.append(url.password)
    parts += [value for _, value in url.params.multi_items() if len(value) >= 8]
    parts += [segment for segment in url.path.split("/") if len(segment) >= 16]
    return [part for part in parts if part]


def _media(item: MediaFile, media_base: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "kind": item.kind.value,
        "mime": item.mime,
        "size": item.size,
        "width": item.width,
        "height": item.height,
        "duration": item.duration,
        "alt_text": item.alt_text,
        "file_name": item.file_name,
    }
    if item.path is None:
        raise PermanentError("A media file of this post is missing.")
    if media_base:
        entry["url"] = f"{media_base}/{item.path.name}"
        return entry
    try:
        data = item.path.read_bytes()
    except OSError as exc:
        raise PermanentError("A media file of this post is missing.") from exc
    entry["data_base64"] = base64.b64encode(data).decode("ascii")
    return entry


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the database keeps UTC without a zone
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _json(response: httpx.Response) -> Mapping[str, Any]:
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, Mapping) else {}


def _receiver_id(body: Mapping[str, Any]) -> str | None:
    """The receiver's own id for the post, from its JSON answer, if it gave one."""
    found = body.get("id")
    if isinstance(found, bool) or not isinstance(found, (str, int)) or not str(found):
        return None
    return str(found)[:255]


def _names(published: PublishResult) -> tuple[str | None, str | None, Any]:
    """(the crier.post's id, the receiver's id, Crier's post id) of a published post; a result
    stored before refs existed knows only its platform id (the receiver's, or the key)."""
    ref = published.ref
    if not ref:
        return None, published.platform_id, None
    delivery = ref.get("delivery_id")
    receiver = ref.get("receiver_id")
    return (
        str(delivery) if delivery else None,
        str(receiver) if receiver else None,
        ref.get("post_id"),
    )


def _is_http_url(value: Any) -> bool:
    if not isinstance(value, str) or len(value) > 2048:
        return False
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL:
        return False
    return url.scheme in ("http", "https") and bool(url.host)
