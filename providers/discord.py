"""Discord channels, through an incoming webhook.

A webhook URL (`https://discord.com/api/webhooks/<id>/<token>`) is the whole credential:
anyone holding it can post in its channel, so it lives only in the encrypted credentials and
its token is scrubbed from every message a user may see. Messages are executed with
`?wait=true` so Discord answers with the created message, whose ids make the link.

Docs: https://discord.com/developers/docs/resources/webhook#execute-webhook and
https://discord.com/developers/docs/reference#uploading-files.

`PublishResult.ref` holds {"webhook_id", "message_id", "parts": 1}. A webhook may edit and
delete the messages it sent (`PATCH` and `DELETE /webhooks/{id}/{token}/messages/{id}`),
through the same webhook only: once the account is reconnected with a new webhook, its old
messages must be deleted in Discord. A webhook can't list its messages, so an unknown outcome
(the answer to `?wait=true` lost) can't be looked up: `lookup` answers None.
"""

from __future__ import annotations

import json
import mimetypes
import re
from collections.abc import Collection, Mapping
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
    Problem,
    Provider,
    PublishResult,
    Severity,
    TextCounting,
    VerifiedAccount,
    check_limits,
)
from providers.errors import AuthError, PermanentError, ProviderError
from providers.http import raise_for_status, safe_to_repeat, sanitize, translate_network_errors

PLATFORM = "Discord"

#: Hosts Discord serves webhooks from (stable, the legacy domain, and the two test clients).
DISCORD_HOSTS = frozenset(
    {"discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com"}
)

#: What "Copy Webhook URL" gives; checked by the /connect wizard before `verify`.
WEBHOOK_URL_PATTERN = (
    r"https://(?:discord|discordapp|ptb\.discord|canary\.discord)\.com"
    r"/api(?:/v\d+)?/webhooks/\d{17,20}/[A-Za-z0-9._-]{60,}"
)

_PATH = re.compile(r"^/api(?:/v\d+)?/webhooks/(?P<id>\d+)/(?P<token>[A-Za-z0-9._-]+)/?$")
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

MIB = 1024 * 1024
#: Default per-file upload limit without boosts or Nitro (reference#uploading-files; it was
#: 10 MiB from January 2025 until September 2026). Boosted servers allow more.
DEFAULT_MAX_FILE_BYTES = 20 * MIB
#: "The maximum request size when sending a message is 25 MiB" (resources/message).
DEFAULT_MAX_TOTAL_BYTES = 25 * MIB
#: Longest attachment description (alt text) Discord stores.
MAX_DESCRIPTION = 1024

#: JSON error codes that mean the webhook itself is gone or its token is wrong.
_UNKNOWN_WEBHOOK = 10015
_INVALID_TOKEN = 50027
#: The message is gone (deleted in Discord): deleting it again is done.
_UNKNOWN_MESSAGE = 10008

#: Alt text lives on the attachments: changing it is `media_changed` (the files go again).
AFTER_PUBLISH = AfterPublish(
    can_delete=True,
    can_edit_text=True,
    can_edit_media=True,
    can_edit_buttons=False,
    can_lookup=False,
)


class DiscordProvider(Provider):
    platform: ClassVar[str] = "discord"
    display_name: ClassVar[str] = "Discord"
    connect_fields: ClassVar[tuple[ConnectField, ...]] = (
        ConnectField(
            key="webhook_url",
            prompt=(
                "Send me the channel's <b>webhook URL</b>.\n"
                "In Discord: <b>Server Settings → Integrations → Webhooks → New Webhook</b>, "
                "pick the channel, then <b>Copy Webhook URL</b>.\n"
                "<i>Anyone with this URL can post in the channel.</i>"
            ),
            secret=True,
            pattern=WEBHOOK_URL_PATTERN,
            hint=(
                "That isn't a Discord webhook URL. It looks like "
                "<code>https://discord.com/api/webhooks/123…/abc…</code>."
            ),
        ),
    )

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        allowed_hosts: Collection[str] = DISCORD_HOSTS,
        web_base_url: str = "https://discord.com",
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    ) -> None:
        self._http = http
        self._hosts = frozenset(host.lower() for host in allowed_hosts)
        self._web = web_base_url.rstrip("/")
        self.max_total_bytes = max_total_bytes
        self.limits = Limits(
            max_text=2000,
            counting=TextCounting.CHARS,
            max_media=10,
            max_images=10,
            max_videos=10,
            mixed_media=True,
            # Any file is an attachment; Discord previews images and videos itself.
            mime_types={kind: frozenset() for kind in MediaKind},
            max_bytes={kind: max_file_bytes for kind in MediaKind},
            alt_text=True,
            threads=False,
            # Executing a webhook takes no nonce or idempotency key, and a webhook can't list
            # its messages, so a retry after an ambiguous failure could post twice.
            idempotent_publish=False,
            # Webhooks share a small per-webhook bucket (about 5 requests per 2 seconds).
            concurrency=1,
        )
        self.after_publish = AFTER_PUBLISH

    # -- contract ---------------------------------------------------------------------------

    def validate(self, post: PostContent, account: AccountRef) -> list[Problem]:
        problems = check_limits(self.limits_for(account), post, self.display_name)
        total = sum(item.size for item in post.media)
        if len(post.media) > 1 and total > self.max_total_bytes:
            problems.append(
                Problem(
                    code="media_total_too_large",
                    message=(
                        f"The files add up to {total / MIB:.1f} MiB; Discord takes "
                        f"{self.max_total_bytes / MIB:.0f} MiB in one message."
                    ),
                )
            )
        for index, item in enumerate(post.media, start=1):
            if item.alt_text and len(item.alt_text) > MAX_DESCRIPTION:
                problems.append(
                    Problem(
                        code="alt_text_too_long",
                        message=(
                            f"Item {index}'s description is {len(item.alt_text):,} characters; "
                            f"Discord keeps the first {MAX_DESCRIPTION:,}."
                        ),
                        severity=Severity.WARNING,
                    )
                )
        return problems

    async def publish(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> PublishResult:
        url, webhook_id, token = self._webhook(account.credentials)
        payload: dict[str, Any] = {
            # A scheduled post must never ping @everyone, @here, a role or a user by accident:
            # mentions still render as links, they just notify nobody.
            "allowed_mentions": {"parse": []},
        }
        if post.text:
            payload["content"] = post.text
        target = url.copy_merge_params({"wait": "true"})
        message = await self._send("POST", target, token, payload, post.media)
        message_id = str(message.get("id") or "")
        if not message_id:
            # wait=true always returns the message; without it the post still went out.
            return PublishResult(platform_id=idempotency_key, url=None)
        return PublishResult(
            platform_id=message_id,
            url=self._link(message, account),
            ref={"webhook_id": webhook_id, "message_id": message_id, "parts": 1},
        )

    # -- after publishing -------------------------------------------------------------------

    async def delete(self, published: PublishResult, account: AccountRef) -> None:
        """Delete Webhook Message; a message already gone (Unknown Message) is done."""
        url, token = self._message_url(published, account)
        try:
            with safe_to_repeat(PLATFORM, "deleting"):
                await self._call("DELETE", url, token)
        except PermanentError as exc:
            if exc.http_status != 404:
                raise

    async def edit(
        self,
        published: PublishResult,
        post: PostContent,
        account: AccountRef,
        *,
        media_changed: bool = False,
    ) -> PublishResult:
        """Edit Webhook Message (PATCH): the text; with `media_changed` the files too (the
        attachments not named again are removed), otherwise the attachments stay."""
        self.ensure_editable(published, post, account, media_changed=media_changed)
        url, token = self._message_url(published, account)
        payload: dict[str, Any] = {"content": post.text, "allowed_mentions": {"parse": []}}
        media = post.media if media_changed else ()
        if media_changed and not post.media:
            payload["attachments"] = []
        with safe_to_repeat(PLATFORM, "editing"):
            message = await self._send("PATCH", url, token, payload, media)
        return PublishResult(
            platform_id=published.platform_id,
            url=self._link(message, account) or published.url,
            ref=published.ref,
        )

    def _message_url(self, published: PublishResult, account: AccountRef) -> tuple[httpx.URL, str]:
        url, webhook_id, token = self._webhook(account.credentials)
        message_id = str(published.ref.get("message_id") or "")
        if not message_id:
            raise PermanentError(
                "Discord didn't say which message this post became, so Crier can't change it; "
                "do it in Discord."
            )
        if str(published.ref.get("webhook_id") or webhook_id) != webhook_id:
            raise PermanentError(
                "This post went out through a webhook the account no longer uses (it was "
                "reconnected since); only that webhook could change it: do it in Discord."
            )
        return url.copy_with(path=f"{url.path.rstrip('/')}/messages/{message_id}"), token

    async def _send(
        self,
        method: str,
        url: httpx.URL,
        token: str,
        payload: dict[str, Any],
        media: tuple[MediaFile, ...],
    ) -> Mapping[str, Any]:
        """A message as JSON, or as multipart with its files."""
        if not media:
            return await self._call(method, url, token, json=payload)
        payload = {
            **payload,
            "attachments": [_attachment(index, item) for index, item in enumerate(media)],
        }
        files = [
            (f"files[{index}]", (_file_name(index, item), _read(item), item.mime))
            for index, item in enumerate(media)
        ]
        return await self._call(
            method, url, token, data={"payload_json": json.dumps(payload)}, files=files
        )

    async def verify(self, account: AccountRef) -> VerifiedAccount:
        """Fetch the webhook with its token: proves the URL works and names the channel."""
        url, webhook_id, token = self._webhook(account.credentials)
        webhook = await self._call("GET", url, token)
        name = webhook.get("name") or None
        return VerifiedAccount(
            label=name or "Discord webhook",
            external_id=str(webhook.get("id") or webhook_id),
            config={
                "channel_id": _str_or_none(webhook.get("channel_id")),
                "guild_id": _str_or_none(webhook.get("guild_id")),
                "name": name,
            },
        )

    # -- HTTP -------------------------------------------------------------------------------

    def _webhook(self, credentials: Mapping[str, Any]) -> tuple[httpx.URL, str, str]:
        """The webhook URL, id and token, after checking that it points at Discord."""
        raw = str(credentials.get("webhook_url") or "").strip()
        problem = PermanentError(
            "That isn't a Discord webhook URL; copy it again from the channel's "
            "Integrations → Webhooks settings and reconnect."
        )
        try:
            url = httpx.URL(raw)
        except (httpx.InvalidURL, TypeError):
            raise problem from None
        host = (url.host or "").lower()
        secure = url.scheme == "https" or (url.scheme == "http" and host in _LOCAL_HOSTS)
        match = _PATH.match(url.path)
        if not secure or host not in self._hosts or match is None:
            raise problem
        return url, match["id"], match["token"]

    async def _call(
        self, method: str, url: httpx.URL, token: str, **kwargs: Any
    ) -> Mapping[str, Any]:
        with translate_network_errors(PLATFORM):
            response = await self._http.request(method, url, **kwargs)
        body = _json(response)
        if response.is_success:
            return body
        raise _error(response, body, [str(url), str(url.copy_with(query=None)), token])

    def _link(self, message: Mapping[str, Any], account: AccountRef) -> str | None:
        guild_id = message.get("guild_id") or account.config.get("guild_id")
        channel_id = message.get("channel_id") or account.config.get("channel_id")
        if not guild_id or not channel_id:
            return None
        return f"{self._web}/channels/{guild_id}/{channel_id}/{message['id']}"


def _error(response: httpx.Response, body: Mapping[str, Any], secrets: list[str]) -> ProviderError:
    """The one place a Discord answer becomes a provider error."""
    status = response.status_code
    reason = _reason(body) or response.reason_phrase
    code = body.get("code")
    if code == _UNKNOWN_MESSAGE:
        return PermanentError("Discord: that message is gone.", http_status=status)
    if status == 404 or code == _UNKNOWN_WEBHOOK:
        return AuthError(
            "Discord: the webhook was deleted: create a new one and reconnect.",
            http_status=status,
        )
    if status in (401, 403) or code == _INVALID_TOKEN:
        said = sanitize(reason, secrets)
        return AuthError(
            f"Discord refused the webhook ({said}): create a new one and reconnect.",
            http_status=status,
        )
    retry_after: float | None = None
    if status == 429:
        try:
            retry_after = float(body["retry_after"])
        except (KeyError, TypeError, ValueError):
            retry_after = None  # a Cloudflare page: fall back to the Retry-After header
    try:
        raise_for_status(
            response, platform=PLATFORM, reason=reason, secrets=secrets, retry_after=retry_after
        )
    except ProviderError as exc:
        return exc
    return PermanentError(f"Discord answered unexpectedly (HTTP {status}).", http_status=status)


def _reason(body: Mapping[str, Any]) -> str:
    """Discord's message, with the first field error of an "Invalid Form Body"."""
    message = str(body.get("message") or "")
    detail = _first_field_error(body.get("errors"), ())
    if detail:
        where, said = detail
        return f"{message} ({where}: {said})" if message else f"{where}: {said}"
    return message


def _first_field_error(errors: Any, path: tuple[str, ...]) -> tuple[str, str] | None:
    # Errors nest by field path: {"content": {"_errors": [{"code", "message"}]}}.
    if not isinstance(errors, Mapping):
        return None
    found = errors.get("_errors")
    if isinstance(found, list) and found and isinstance(found[0], Mapping):
        return ".".join(path) or "body", str(found[0].get("message") or found[0].get("code"))
    for key, value in errors.items():
        nested = _first_field_error(value, (*path, str(key)))
        if nested:
            return nested
    return None


def _json(response: httpx.Response) -> Mapping[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, Mapping) else {}


def _attachment(index: int, item: MediaFile) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": index, "filename": _file_name(index, item)}
    if item.alt_text:
        entry["description"] = item.alt_text[:MAX_DESCRIPTION]
    return entry


def _file_name(index: int, item: MediaFile) -> str:
    # Stored files are named by their hash; Discord shows the name, so prefer the user's.
    return item.file_name or f"file{index}{mimetypes.guess_extension(item.mime) or ''}"


def _read(item: MediaFile) -> bytes:
    if item.path is None:
        raise PermanentError("A media file of this post is missing.")
    try:
        return item.path.read_bytes()
    except OSError as exc:
        raise PermanentError("A media file of this post is missing.") from exc


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)
