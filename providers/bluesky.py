"""Bluesky (AT Protocol), with a handle and an app password, over XRPC.

One session per account (`com.atproto.server.createSession`), kept in this instance and
renewed with `refreshSession` when the access token expires: Bluesky limits how many sessions
an account may open (30 in 5 minutes, 300 a day), so a session per post would lock it out.
Each post is written with a record key derived from the idempotency key (a valid TID, as
`app.bsky.feed.post` requires), so a retry can never add a second post: the PDS refuses a
second create at the same key, and the adapter then reads the record that is already there
and reports it as published. The same key settles an unknown outcome (`lookup`): one read
of the record says whether the post is out.

`PublishResult.ref` holds {"did", "uris" (every record of the thread, in order), "parts"}.
`delete` removes every record with com.atproto.repo.deleteRecord, the replies first. There
is no edit: Bluesky's apps show a post as first written, so the bot offers delete and post
again instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urljoin

import httpx

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
    TextCounting,
    VerifiedAccount,
    check_limits,
)
from providers.bluesky_facets import detect, facets, first_link, mentioned_handles
from providers.bluesky_records import (
    POST,
    check_server_url,
    created_at,
    external_embed,
    fallback_title,
    images_embed,
    may_fetch_preview,
    page_card,
    post_record,
    tid_for_key,
)
from providers.bluesky_xrpc import (
    PLATFORM,
    Session,
    Xrpc,
    error_name,
    json_body,
    normalize_handle,
    xrpc_url,
)
from providers.errors import AuthError, PermanentError, ProviderError, RateLimited, TransientError
from providers.http import safe_to_repeat

#: `app.bsky.feed.post` text: 300 graphemes and 3000 UTF-8 bytes (the lexicon's maxLength).
MAX_GRAPHEMES = 300
MAX_TEXT_BYTES = 3000
#: `app.bsky.embed.images`: four images of at most 1,000,000 bytes each.
MAX_IMAGES = 4
MAX_IMAGE_BYTES = 1_000_000

LIMITS = Limits(
    max_text=MAX_GRAPHEMES,
    counting=TextCounting.GRAPHEMES,
    max_media=MAX_IMAGES,
    max_images=MAX_IMAGES,
    max_videos=0,  # app.bsky.embed.video needs a separate upload service; not yet
    mime_types={MediaKind.PHOTO: frozenset({"image/jpeg", "image/png", "image/webp"})},
    max_bytes={MediaKind.PHOTO: MAX_IMAGE_BYTES},
    alt_text=True,
    threads=True,
    idempotent_publish=True,
)

AFTER_PUBLISH = AfterPublish(can_delete=True, can_lookup=True)

_MAX_MENTIONS = 20
_SEGMENT = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HANDLE_PATTERN = rf"@?({_SEGMENT}\.)+[A-Za-z]([A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?"
_PREVIEW_BYTES = 512 * 1024
_PREVIEW_REDIRECTS = 3


class BlueskyProvider(Provider):
    platform: ClassVar[str] = "bluesky"
    display_name: ClassVar[str] = "Bluesky"
    connect_fields: ClassVar[tuple[ConnectField, ...]] = (
        ConnectField(
            key="handle",
            prompt=(
                "What is your Bluesky <b>handle</b>? For example <code>alice.bsky.social</code> "
                "(with or without the @)."
            ),
            pattern=_HANDLE_PATTERN,
            hint="A handle looks like alice.bsky.social or @yourdomain.com.",
        ),
        ConnectField(
            key="app_password",
            prompt=(
                "Now an <b>app password</b> for Crier: in Bluesky open <i>Settings → Privacy and "
                "security → App passwords</i>, add one and send it here (it looks like "
                "<code>abcd-efgh-ijkl-mnop</code>). <b>Never send your main password.</b> "
                "You can revoke the app password there at any time."
            ),
            secret=True,
            pattern=r"[A-Za-z0-9]{4}(-[A-Za-z0-9]{4}){3}",
            hint=(
                "That doesn't look like an app password (four groups of four letters or digits, "
                "like abcd-efgh-ijkl-mnop). Create one in Settings → Privacy and security → "
                "App passwords; never use your main password."
            ),
        ),
        ConnectField(
            key="pds_url",
            prompt=(
                "Only if you host your own server: its address, like "
                "<code>https://pds.example.com</code>. Otherwise skip this and I'll find your "
                "server from your handle."
            ),
            optional=True,
            pattern=r"https?://\S+",
            hint="A server address starts with https://.",
        ),
    )

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        resolver_url: str = "https://bsky.social",
        plc_url: str = "https://plc.directory",
        app_url: str = "https://bsky.app",
        link_previews: bool = True,
        preview_timeout: float = 5.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._http = http
        self._xrpc = Xrpc(http, resolver_url=resolver_url, plc_url=plc_url)
        self._app = app_url.rstrip("/")
        self._previews = link_previews
        self._preview_timeout = preview_timeout
        self._clock = clock or (lambda: datetime.now(UTC))
        self.limits = LIMITS
        self.after_publish = AFTER_PUBLISH

    # -- contract ---------------------------------------------------------------------------

    def validate(self, post: PostContent, account: AccountRef) -> list[Problem]:
        problems = check_limits(self.limits, post, self.display_name)
        for number, part in enumerate(post.parts, start=1):
            size = len(part.encode())
            if size > MAX_TEXT_BYTES:
                what = f"Part {number} of {len(post.parts)}" if post.thread else "Text"
                problems.append(
                    Problem(
                        code="text_too_many_bytes",
                        message=(
                            f"{what} is {size:,} bytes; Bluesky allows {MAX_TEXT_BYTES:,} "
                            "(emoji and non-Latin letters take several bytes each)."
                        ),
                    )
                )
        return problems

    async def verify(self, account: AccountRef) -> VerifiedAccount:
        """Find the account's server, open a session and report who it is."""
        handle = normalize_handle(str(account.config.get("handle") or ""))
        password = str(account.credentials.get("app_password") or "").strip()
        if not handle or not password:
            raise PermanentError("Bluesky needs your handle and an app password.")
        given = account.config.get("pds_url")
        pds = check_server_url(str(given)) if given else (await self._xrpc.find_pds(handle))[1]
        try:
            session = await self._xrpc.create_session(pds, handle, password)
        except AuthError as exc:
            raise AuthError(
                f"{exc.message}. Check the handle, and use an app password from Settings → "
                "Privacy and security → App passwords (not your main password).",
                http_status=exc.http_status,
            ) from exc
        return VerifiedAccount(
            label=f"@{session.handle}",
            external_id=session.did,
            config={"pds_url": session.pds, "did": session.did, "handle": session.handle},
        )

    async def publish(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> PublishResult:
        """Write the post; a thread's other parts follow as replies (root: the first post,
        parent: the one before). Each part has a record key derived from the idempotency key
        ("<key>:2", "<key>:3"...), so a retry after a failure midway re-uses what is out."""
        embed: dict[str, Any] | None = None
        if post.media:
            uploaded = [(item, await self._upload(account, item)) for item in post.media]
            embed = images_embed(uploaded)
        now = self._clock()
        first = await self._write_part(account, post.text, idempotency_key, now, embed=embed)
        root = parent = _strong_ref(first)
        uris = [root["uri"]]
        for number, part in enumerate(post.thread, start=2):
            key = f"{idempotency_key}:{number}"
            # A millisecond apart, so every app lists the parts in order.
            created = now + timedelta(milliseconds=number - 1)
            try:
                written = await self._write_part(
                    account, part, key, created, reply={"root": root, "parent": parent}
                )
            except PermanentError as exc:
                raise PermanentError(
                    f"The first {number - 1} of {len(post.parts)} posts of the thread are out, "
                    f"but Bluesky refused part {number}: {exc.message}",
                    http_status=exc.http_status,
                ) from exc
            parent = _strong_ref(written)
            uris.append(parent["uri"])
        return await self._result(account, first, uris)

    async def _write_part(
        self,
        account: AccountRef,
        text: str,
        key: str,
        created: datetime,
        *,
        embed: dict[str, Any] | None = None,
        reply: Mapping[str, Any] | None = None,
    ) -> Mapping[str, Any]:
        """One post of the thread, with its facets and (without media) its link card."""
        session = await self._xrpc.session(account)
        spans = detect(text)
        dids = await self._resolve_mentions(session.pds, mentioned_handles(spans))
        if embed is None:
            link = first_link(spans)
            if link:
                embed = await self._link_card(link)
        record = post_record(
            text=text,
            created=created_at(created),
            facets=facets(spans, dids),
            embed=embed,
            langs=_langs(account.config.get("langs")),
            reply=reply,
        )
        return await self._create_record(account, tid_for_key(key), record)

    # -- posting ----------------------------------------------------------------------------

    async def _create_record(
        self, account: AccountRef, rkey: str, record: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """Create the record, or find the one an earlier attempt created at `rkey`: its
        `uri` and `cid`."""
        session = await self._xrpc.session(account)
        body = {"repo": session.did, "collection": POST, "rkey": rkey, "record": record}
        try:
            created = await self._xrpc.authed(
                account, "POST", "com.atproto.repo.createRecord", json=body, writes=True
            )
        except (RateLimited, AuthError):
            raise
        except (TransientError, PermanentError) as exc:
            if isinstance(exc, TransientError) and not exc.ambiguous and exc.http_status is None:
                raise  # the request never reached Bluesky
            # An earlier attempt may have written this record: the PDS then refuses the create
            # (today with a 500). If the record is there, that attempt published the post.
            existing = await self._existing_record(session, rkey)
            if existing is None:
                raise
            created = existing
        uri = str(created.get("uri") or f"at://{session.did}/{POST}/{rkey}")
        return {"uri": uri, "cid": str(created.get("cid") or "")}

    async def _result(
        self, account: AccountRef, created: Mapping[str, Any], uris: list[str]
    ) -> PublishResult:
        session = await self._xrpc.session(account)
        uri = str(created["uri"])
        # A handle that stopped verifying reads "handle.invalid"; the DID always works.
        who = session.handle if session.handle not in ("", "handle.invalid") else session.did
        return PublishResult(
            platform_id=uri,
            url=f"{self._app}/profile/{who}/post/{uri.rsplit('/', 1)[-1]}",
            ref={"did": session.did, "uris": list(uris), "parts": len(uris)},
        )

    # -- after publishing -------------------------------------------------------------------

    async def delete(self, published: PublishResult, account: AccountRef) -> None:
        """deleteRecord for every record of the post, the last reply first; a record already
        gone is a no-op on the PDS, so deleting again is safe."""
        uris = [str(u) for u in published.ref.get("uris") or ()] or [published.platform_id]
        session = await self._xrpc.session(account)
        for uri in reversed(uris):
            did, collection, rkey = _at_uri(uri)
            if did != session.did:
                raise PermanentError(
                    "That post belongs to another Bluesky account than the one connected now; "
                    "delete it in the Bluesky app."
                )
            with safe_to_repeat(PLATFORM, "deleting"):
                await self._xrpc.authed(
                    account,
                    "POST",
                    "com.atproto.repo.deleteRecord",
                    json={"repo": did, "collection": collection, "rkey": rkey},
                    writes=True,
                )

    async def lookup(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> PublishResult | NotPublished | None:
        """Read the record at each part's derived key: all there is the post, the first
        missing is no post, some missing is a thread that publishing again finishes."""
        session = await self._xrpc.session(account)
        keys = [idempotency_key] + [
            f"{idempotency_key}:{number}" for number in range(2, len(post.parts) + 1)
        ]
        found: list[Mapping[str, Any]] = []
        for key in keys:
            record = await self._record_at(session, tid_for_key(key))
            if record is None:
                break
            found.append(record)
        if not found:
            return NotPublished(reason="No record at the key derived from this post's key.")
        if len(found) < len(keys):
            return NotPublished(
                reason=(
                    f"{len(found)} of {len(keys)} parts of the thread are out; publishing again "
                    "adds the rest."
                )
            )
        return await self._result(account, found[0], [str(r["uri"]) for r in found])

    async def _record_at(self, session: Session, rkey: str) -> Mapping[str, Any] | None:
        """The post at `rkey`, None when the PDS says there is none; raises when it can't say."""
        response = await self._xrpc.send(
            "GET",
            xrpc_url(session.pds, "com.atproto.repo.getRecord"),
            params={"repo": session.did, "collection": POST, "rkey": rkey},
        )
        if error_name(response) == "RecordNotFound":
            return None
        self._xrpc.raise_for(response, [])
        found = json_body(response)
        return found if found.get("uri") else None

    async def _existing_record(self, session: Session, rkey: str) -> Mapping[str, Any] | None:
        try:
            found = await self._xrpc.get(
                session.pds,
                "com.atproto.repo.getRecord",
                {"repo": session.did, "collection": POST, "rkey": rkey},
            )
        except ProviderError:
            return None  # RecordNotFound, or Bluesky can't say: the first error stands
        return found if found.get("uri") else None

    async def _upload(self, account: AccountRef, item: MediaFile) -> Mapping[str, Any]:
        if item.path is None:
            raise PermanentError("A media file of this post is missing.")
        data = await asyncio.to_thread(item.path.read_bytes)
        answer = await self._xrpc.authed(
            account,
            "POST",
            "com.atproto.repo.uploadBlob",
            content=data,
            headers={"Content-Type": item.mime},
        )
        blob = answer.get("blob")
        if not isinstance(blob, Mapping):
            raise TransientError(f"{PLATFORM} did not return the uploaded image.")
        return blob

    async def _resolve_mentions(self, pds: str, handles: list[str]) -> dict[str, str]:
        dids: dict[str, str] = {}
        for handle in handles[:_MAX_MENTIONS]:
            try:
                dids[handle] = await self._xrpc.resolve_handle(pds, handle)
            except PermanentError:
                continue  # not a Bluesky handle: the text stays as it is
        return dids

    async def _link_card(self, uri: str) -> dict[str, Any]:
        """An external link card; reading the page's title is best effort, never a failure."""
        title, description = fallback_title(uri), ""
        if self._previews:
            page = await self._fetch_page(uri)
            if page:
                found_title, description = page_card(page)
                title = found_title or title
        return external_embed(uri, title, description)

    async def _fetch_page(self, uri: str) -> str | None:
        url = uri
        try:
            for _ in range(_PREVIEW_REDIRECTS + 1):
                if not may_fetch_preview(url):
                    return None
                async with self._http.stream(
                    "GET",
                    url,
                    headers={"Accept": "text/html"},
                    timeout=self._preview_timeout,
                    follow_redirects=False,
                ) as response:
                    if response.is_redirect and "location" in response.headers:
                        url = urljoin(url, response.headers["location"])
                        continue
                    kind = response.headers.get("content-type", "")
                    if response.status_code != 200 or "html" not in kind:
                        return None
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in response.aiter_bytes():
                        chunks.append(chunk)
                        size += len(chunk)
                        if size >= _PREVIEW_BYTES:
                            break
                    return b"".join(chunks).decode(response.encoding or "utf-8", "replace")
        except (httpx.HTTPError, LookupError, ValueError):
            return None
        return None


def _at_uri(uri: str) -> tuple[str, str, str]:
    """(repo DID, collection, record key) of an at:// URI."""
    parts = uri.removeprefix("at://").split("/")
    if not uri.startswith("at://") or len(parts) != 3 or not all(parts):
        raise PermanentError(f"Crier can't tell which Bluesky post {uri!r} is.")
    return parts[0], parts[1], parts[2]


def _strong_ref(created: Mapping[str, Any]) -> dict[str, str]:
    """A `com.atproto.repo.strongRef` to a created post (what a reply points at)."""
    return {"uri": str(created["uri"]), "cid": str(created["cid"])}


def _langs(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return []
