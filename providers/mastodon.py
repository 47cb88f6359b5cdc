"""Mastodon and servers that speak its client API (Pleroma, Akkoma, GoToSocial, ...).

One account is one server URL plus an access token the user created under Preferences ->
Development. At connect time `verify` reads the server's own limits (every server sets its
own character limit, attachment count and file sizes) and stores them in the account config,
so `limits_for` and `validate` stay pure.

Publishing uploads each file to `POST /api/v2/media` (which may answer 202 and keep
processing; we poll `GET /api/v1/media/:id` until it is ready) and then creates the status
with an `Idempotency-Key`, which Mastodon honours for an hour: retrying a publish with the
same key returns the status already created instead of posting twice.

`PublishResult.ref` holds {"status_ids" (every status of a thread, in order), "media_ids"
(the first status's attachments), "hashes" (of each part's text, so an edit sends only the
parts that changed), "parts"}. `delete` is DELETE /api/v1/statuses/:id for each, the last
reply first; `edit` is PUT /api/v1/statuses/:id (Mastodon 3.5+): text, content warning,
media (uploaded anew with `media_changed`, else kept with their descriptions updated).
`lookup` reads the account's recent statuses (providers/mastodon_lookup.py).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from providers import mastodon_lookup
from providers.base import (
    AccountRef,
    AfterPublish,
    ConnectField,
    Limits,
    MediaFile,
    MediaKind,
    NotPublished,
    PostContent,
    Problem,
    Provider,
    PublishResult,
    VerifiedAccount,
    check_limits,
)
from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from providers.http import (
    raise_for_status,
    retry_after_seconds,
    safe_to_repeat,
    sanitize,
    translate_network_errors,
)
from providers.mastodon_limits import (
    DEFAULT_RATE_LIMIT_WAIT,
    INSTANCE_URL_PATTERN,
    VISIBILITIES,
    ServerLimits,
    countable_text,
    normalize_instance_url,
    status_length,
)
from providers.text import grapheme_length

PLATFORM = "Mastodon"

AFTER_PUBLISH = AfterPublish(
    can_delete=True,
    can_edit_text=True,
    can_edit_media=True,
    can_edit_buttons=False,
    can_lookup=True,
)


class MastodonProvider(Provider):
    platform: ClassVar[str] = "mastodon"
    display_name: ClassVar[str] = "Mastodon"
    connect_fields: ClassVar[tuple[ConnectField, ...]] = (
        ConnectField(
            key="instance_url",
            prompt=(
                "What is your Mastodon server's address? For example "
                "<code>https://mastodon.social</code>."
            ),
            pattern=INSTANCE_URL_PATTERN,
            hint=(
                "Send just the server's address, like <code>https://mastodon.social</code> "
                "(plain <code>http://</code> works only for localhost)."
            ),
        ),
        ConnectField(
            key="access_token",
            prompt=(
                "Now an access token. On your server open <b>Preferences → Development → "
                "New application</b>, name it (say, Crier), tick only the scopes "
                "<code>read:accounts</code>, <code>read:statuses</code>, "
                "<code>write:statuses</code> and <code>write:media</code>, and save. Open the "
                "application and send me "
                "<b>Your access token</b>."
            ),
            secret=True,
            pattern=r"\S{16,}",
            hint="That doesn't look like an access token; copy the whole “Your access token”.",
        ),
    )

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        poll_first_delay: float = 0.5,
        poll_max_delay: float = 5.0,
        max_processing_wait: float = 180.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._http = http
        #: Media processing polls back off from the first delay, doubling up to the max, and
        #: give up (TransientError) once their total reaches `max_processing_wait` seconds.
        self._poll_first_delay = poll_first_delay
        self._poll_max_delay = poll_max_delay
        self._max_processing_wait = max_processing_wait
        self._sleep = sleep
        self._now = now
        #: The limits of a server that did not publish its own (Mastodon's defaults).
        self.limits = ServerLimits().to_limits()
        self.after_publish = AFTER_PUBLISH

    # -- contract ---------------------------------------------------------------------------

    def limits_for(self, account: AccountRef) -> Limits:
        return ServerLimits.from_config(account.config.get("limits")).to_limits()

    def validate(self, post: PostContent, account: AccountRef) -> list[Problem]:
        server = ServerLimits.from_config(account.config.get("limits"))
        limits = server.to_limits()
        # The base counts plain graphemes; Mastodon's own count replaces its check.
        problems = [
            p for p in check_limits(limits, post, self.display_name) if p.code != "text_too_long"
        ]
        if any(p.code == "empty" for p in problems):
            return problems
        warning = _content_warning(account.config)
        too_long: list[Problem] = []
        for number, part in enumerate(post.parts, start=1):
            length = status_length(part, warning, server.characters_reserved_per_url)
            if length > server.max_characters:
                where = account.config.get("domain") or self.display_name
                extra = " plus the content warning" if warning else ""
                what = f"Part {number} of {len(post.parts)}" if post.thread else "Text"
                too_long.append(
                    Problem(
                        code="text_too_long",
                        message=(
                            f"{what} is {length:,} characters as Mastodon counts them (each "
                            f"link counts as {server.characters_reserved_per_url}, @name@server "
                            f"as @name{extra}); {where} allows {server.max_characters:,}."
                        ),
                    )
                )
        problems[:0] = too_long
        for index, item in enumerate(post.media, start=1):
            problems.extend(_item_problems(index, item, server))
        visibility = account.config.get("visibility")
        if visibility is not None and visibility not in VISIBILITIES:
            choices = ", ".join(VISIBILITIES)
            problems.append(
                Problem(
                    code="visibility",
                    message=f"Unknown Mastodon visibility {visibility!r}; use one of {choices}.",
                )
            )
        return problems

    def text_length(self, text: str, account: AccountRef) -> int:
        server = ServerLimits.from_config(account.config.get("limits"))
        warning = _content_warning(account.config)
        return status_length(text, warning, server.characters_reserved_per_url)

    async def publish(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> PublishResult:
        """Create the status; a thread's other parts follow, each replying to the one before.

        Every status has its own Idempotency-Key (the target's, then "<key>:2", "<key>:3"...),
        so a retry after a failure midway finds the parts already out and goes on from there.
        """
        server = _server_url(account)
        token = _token(account)
        media_ids = [await self._upload(server, token, item) for item in post.media]
        first = await self._create_status(
            server, token, account, post.text, idempotency_key, media_ids=media_ids
        )
        parent = first
        statuses = [first]
        for number, part in enumerate(post.thread, start=2):
            try:
                parent = await self._create_status(
                    server, token, account, part, f"{idempotency_key}:{number}", reply_to=parent
                )
            except (AuthError, RateLimited):
                raise
            except PermanentError as exc:
                raise PermanentError(
                    f"The first {number - 1} of {len(post.parts)} posts of the thread are out, "
                    f"but Mastodon refused part {number}: {exc.message}",
                    http_status=exc.http_status,
                ) from exc
            statuses.append(parent)
        return _result(first, statuses, media_ids, post)

    async def _create_status(
        self,
        server: str,
        token: str,
        account: AccountRef,
        text: str,
        key: str,
        *,
        media_ids: list[str] | None = None,
        reply_to: Mapping[str, Any] | None = None,
    ) -> Mapping[str, Any]:
        body: dict[str, Any] = {
            "status": text,
            "visibility": account.config.get("visibility") or "public",
        }
        if media_ids:
            body["media_ids"] = media_ids
        if reply_to is not None:
            body["in_reply_to_id"] = str(reply_to["id"])
        body.update(_status_options(account))
        response = await self._call(
            "POST",
            f"{server}/api/v1/statuses",
            token,
            creates_post=True,
            json=body,
            headers={"Idempotency-Key": key},
        )
        status = _json(response, creates_post=True)
        if not status.get("id"):
            raise TransientError(
                "Mastodon answered without the new post; it may or may not have been published.",
                ambiguous=True,
            )
        return status

    async def verify(self, account: AccountRef) -> VerifiedAccount:
        """Check the token, learn who it belongs to and read the server's limits."""
        server = normalize_instance_url(str(account.config.get("instance_url") or ""))
        token = _token(account)
        response = await self._call("GET", f"{server}/api/v1/accounts/verify_credentials", token)
        me = _json(response)
        if not me.get("id") or not me.get("username"):
            raise PermanentError(f"{server} did not answer like a Mastodon server.")
        instance = await self._instance(server, token)
        host = urlsplit(server).netloc
        domain = _domain(instance) or host
        limits = ServerLimits.from_instance(instance) if instance else ServerLimits()
        config = {
            **account.config,
            "instance_url": server,
            "domain": domain,
            "account_id": str(me["id"]),
            "username": str(me["username"]),
            "limits": limits.to_config(),
        }
        return VerifiedAccount(
            label=f"@{me['username']}@{domain}",
            external_id=f"{host}:{me['id']}",
            config=config,
            credentials={"access_token": token},
        )

    # -- after publishing -------------------------------------------------------------------

    async def delete(self, published: PublishResult, account: AccountRef) -> None:
        """DELETE every status of the post, the last reply first (a status deleted first
        would leave its replies standing). A status already gone (404) counts as deleted."""
        server = _server_url(account)
        token = _token(account)
        ids = [str(i) for i in published.ref.get("status_ids") or ()] or [published.platform_id]
        for status_id in reversed(ids):
            try:
                with safe_to_repeat(PLATFORM, "deleting"):
                    await self._call(
                        "DELETE",
                        f"{server}/api/v1/statuses/{status_id}",
                        token,
                        creates_post=True,
                        # Mastodon 4.4+: remove the files now, not in a day (no redraft here).
                        params={"delete_media": "true"},
                    )
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
        """PUT each status whose text changed (the first always: its media and content
        warning go with it). New media are uploaded only with `media_changed`."""
        self.ensure_editable(published, post, account, media_changed=media_changed)
        server = _server_url(account)
        token = _token(account)
        ref = published.ref
        ids = [str(i) for i in ref.get("status_ids") or ()] or [published.platform_id]
        hashes = [str(h) for h in ref.get("hashes") or ()]
        media_ids = [str(i) for i in ref.get("media_ids") or ()]
        if media_changed:
            media_ids = [await self._upload(server, token, item) for item in post.media]
        first: Mapping[str, Any] = {"id": ids[0], "url": published.url}
        edited: list[Mapping[str, Any]] = []
        notes: list[str] = []
        for index, part in enumerate(post.parts):
            if index >= len(ids):
                notes.append(
                    f"Only the first {len(ids)} part(s) could be edited: Crier doesn't know "
                    "which statuses the others are."
                )
                break
            if index and index < len(hashes) and hashes[index] == _text_hash(part):
                edited.append({"id": ids[index]})
                continue
            body: dict[str, Any] = {"status": part, **_status_options(account)}
            if index == 0 and (media_changed or post.media):
                body["media_ids"] = media_ids
                if not media_changed and len(media_ids) == len(post.media):
                    body["media_attributes"] = [
                        {"id": media_id, "description": item.alt_text or ""}
                        for media_id, item in zip(media_ids, post.media, strict=True)
                    ]
            with safe_to_repeat(PLATFORM, "editing"):
                response = await self._call(
                    "PUT",
                    f"{server}/api/v1/statuses/{ids[index]}",
                    token,
                    creates_post=True,
                    json=body,
                )
            status = _json(response)
            if index == 0:
                first = status
            edited.append(status)
        result = _result(first, edited, media_ids, post)
        return PublishResult(
            platform_id=ids[0],
            url=result.url or published.url,
            ref={**result.ref, "status_ids": ids},
            notes=tuple(notes),
        )

    async def lookup(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> PublishResult | NotPublished | None:
        """Look for the post among the account's statuses since it was due (see
        providers/mastodon_lookup.py for what counts as found, not found and can't tell)."""
        server = _server_url(account)
        token = _token(account)
        account_id = str(account.config.get("account_id") or "")
        if not account_id:
            response = await self._call(
                "GET", f"{server}/api/v1/accounts/verify_credentials", token
            )
            account_id = str(_json(response).get("id") or "")
        reader = mastodon_lookup.Reader(self._call, server, token)
        found = await mastodon_lookup.find(
            reader,
            post,
            account_id=account_id,
            warning=_content_warning(account.config),
            private=account.config.get("visibility") in ("private", "direct"),
        )
        if not isinstance(found, list):
            return found
        media_ids = [str(m.get("id")) for m in found[0].get("media_attachments") or ()]
        return _result(found[0], found, media_ids, post)

    # -- media ------------------------------------------------------------------------------

    async def _upload(self, server: str, token: str, item: MediaFile) -> str:
        if item.path is None:
            raise PermanentError("A media file of this post is missing.")
        content = await asyncio.to_thread(item.path.read_bytes)
        data = {"description": item.alt_text} if item.alt_text else {}
        files = {"file": (item.file_name or item.path.name, content, item.mime)}
        try:
            response = await self._call(
                "POST", f"{server}/api/v2/media", token, data=data, files=files
            )
        except PermanentError as exc:
            if exc.http_status != 404:
                raise
            # Servers without the v2 endpoint (Mastodon < 3.1.3, some forks) process in v1.
            response = await self._call(
                "POST", f"{server}/api/v1/media", token, data=data, files=files
            )
        media = _json(response)
        if not media.get("id"):
            raise TransientError("Mastodon accepted a file but did not say which one.")
        # 200 with a url: processed synchronously (small images); 202: still processing.
        if response.status_code == 200 and media.get("url"):
            return str(media["id"])
        return await self._wait_until_processed(server, token, str(media["id"]))

    async def _wait_until_processed(self, server: str, token: str, media_id: str) -> str:
        waited = 0.0
        delay = self._poll_first_delay
        while waited < self._max_processing_wait:
            pause = min(delay, self._max_processing_wait - waited)
            await self._sleep(pause)
            waited += pause
            response = await self._call("GET", f"{server}/api/v1/media/{media_id}", token)
            # 206 Partial Content: still processing.
            if response.status_code == 200 and _json(response).get("url"):
                return media_id
            delay = min(delay * 2, self._poll_max_delay)
        raise TransientError(
            f"Mastodon was still processing a media file after {waited:.0f} seconds."
        )

    # -- HTTP -------------------------------------------------------------------------------

    async def _instance(self, server: str, token: str) -> Mapping[str, Any]:
        """The server's configuration: v2 (Mastodon 4.0+), else v1, else nothing."""
        for path in ("/api/v2/instance", "/api/v1/instance"):
            try:
                response = await self._call("GET", f"{server}{path}", token)
                return _json(response)
            except PermanentError:
                continue  # an older or other server (404): try the next, then the defaults
            except TransientError as exc:
                if exc.http_status is not None and exc.http_status < 400:
                    continue  # answered, but not with JSON: same as missing
                raise  # down or busy: connecting again later is better than wrong limits
        return {}

    async def _call(
        self,
        method: str,
        url: str,
        token: str,
        *,
        creates_post: bool = False,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """The one place requests go out and errors come back as provider errors. An empty
        `token` sends no Authorization (a public read)."""
        request_headers = {**({"Authorization": f"Bearer {token}"} if token else {})}
        request_headers.update(headers or {})
        try:
            with translate_network_errors(PLATFORM):
                response = await self._http.request(method, url, headers=request_headers, **kwargs)
        except TransientError as exc:
            if exc.ambiguous and not creates_post:
                # Only creating the status publishes anything; a lost upload or read is not.
                raise TransientError(
                    "The connection to Mastodon broke off or timed out; nothing was published."
                ) from exc
            raise
        if response.status_code >= 400:
            self._raise(response, token)
        return response

    def _raise(self, response: httpx.Response, token: str) -> None:
        reason = _error_message(response)
        status = response.status_code
        retry_after = None
        if status == 429:
            retry_after = _rate_limit_wait(response, self._now())
        elif status == 503 and response.headers.get("retry-after"):
            # The server asked for a pause: honour it like a rate limit.
            said = sanitize(reason or "", [token])
            raise RateLimited(
                retry_after_seconds(response),
                f"Mastodon is busy, try again later{': ' + said if said else ''}",
                http_status=status,
            )
        raise_for_status(
            response, platform=PLATFORM, reason=reason, secrets=[token], retry_after=retry_after
        )


# -- helpers --------------------------------------------------------------------------------


def _result(
    first: Mapping[str, Any],
    statuses: list[Mapping[str, Any]],
    media_ids: list[str],
    post: PostContent,
) -> PublishResult:
    url = first.get("url") or first.get("uri")
    return PublishResult(
        platform_id=str(first["id"]),
        url=str(url) if url else None,
        ref={
            "status_ids": [str(s["id"]) for s in statuses],
            "media_ids": list(media_ids),
            "hashes": [_text_hash(part) for part in post.parts[: len(statuses)]],
            "parts": len(statuses),
        },
    )


def _text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _status_options(account: AccountRef) -> dict[str, Any]:
    """What every status of the account carries besides its text: content warning,
    sensitive media, language."""
    options: dict[str, Any] = {}
    warning = _content_warning(account.config)
    if warning:
        options["spoiler_text"] = warning
    if account.config.get("sensitive"):
        options["sensitive"] = True
    if account.config.get("language"):
        options["language"] = account.config["language"]
    return options


def _server_url(account: AccountRef) -> str:
    if not account.config.get("instance_url"):
        raise PermanentError("This Mastodon account has no server address; connect it again.")
    return normalize_instance_url(str(account.config["instance_url"]))


def _token(account: AccountRef) -> str:
    token = str(account.credentials.get("access_token") or "").strip()
    if not token:
        raise AuthError("The Mastodon access token is missing; connect the account again.")
    return token


def _content_warning(config: Mapping[str, Any]) -> str:
    return str(config.get("content_warning") or config.get("spoiler_text") or "")


def _domain(instance: Mapping[str, Any]) -> str | None:
    """The domain in handles (LOCAL_DOMAIN), which may differ from the API host."""
    value = instance.get("domain") or instance.get("uri")
    if not value:
        return None
    text = str(value)
    return (urlsplit(text).hostname if "://" in text else text.strip("/")) or None


def _json(response: httpx.Response, *, creates_post: bool = False) -> Mapping[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, Mapping):
        raise TransientError(
            f"Mastodon sent an unexpected answer (HTTP {response.status_code}).",
            http_status=response.status_code,
            ambiguous=creates_post,
        )
    return body


def _error_message(response: httpx.Response) -> str | None:
    """Mastodon's errors are {"error": "..."}; OAuth ones may add "error_description"."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, Mapping):
        return None
    message = body.get("error_description") or body.get("error")
    return str(message) if message else None


def _rate_limit_wait(response: httpx.Response, now: datetime) -> float:
    """Seconds until Mastodon lets us in again: Retry-After, else X-RateLimit-Reset, which
    Mastodon sends as an ISO 8601 timestamp (some compatible servers send epoch seconds)."""
    if response.headers.get("retry-after"):
        return retry_after_seconds(response)
    reset = response.headers.get("x-ratelimit-reset")
    if not reset:
        return DEFAULT_RATE_LIMIT_WAIT
    try:
        number = float(reset)
    except ValueError:
        pass
    else:
        return max(0.0, number - now.timestamp()) if number > 1e9 else max(0.0, number)
    try:
        when = datetime.fromisoformat(reset.strip())
    except ValueError:
        return DEFAULT_RATE_LIMIT_WAIT
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _item_problems(index: int, item: MediaFile, server: ServerLimits) -> Iterable[Problem]:
    """What Mastodon checks per file beyond the kind-level limits."""
    # GIFs and image documents fall under the image size limit, not the video one.
    if (
        item.kind != MediaKind.PHOTO
        and item.mime.startswith("image/")
        and item.size > server.image_size_limit
    ):
        yield Problem(
            code="media_too_large",
            message=(
                f"Item {index} is {item.size / 1_000_000:.1f} MB; Mastodon allows "
                f"{server.image_size_limit / 1_000_000:.1f} MB per image."
            ),
        )
    if item.alt_text and grapheme_length(item.alt_text) > server.description_limit:
        yield Problem(
            code="alt_text_too_long",
            message=(
                f"The description of item {index} is {grapheme_length(item.alt_text):,} "
                f"characters; Mastodon allows {server.description_limit:,}."
            ),
        )


__all__ = [
    "MastodonProvider",
    "ServerLimits",
    "countable_text",
    "normalize_instance_url",
    "status_length",
]
