"""Pure helpers for Bluesky records: record keys, embeds, link-card metadata, server URLs."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from providers.base import MediaFile
from providers.errors import PermanentError

POST = "app.bsky.feed.post"

#: base32-sortable, the TID alphabet (atproto.com/specs/tid).
_S32 = "234567abcdefghijklmnopqrstuvwxyz"
#: The window the timestamp bits of a derived TID fall in: 2023-01-01 plus 2^44 µs (~203 days).
_TID_EPOCH_US = 1_672_531_200_000_000
_TID_WINDOW_BITS = 44

_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def tid_for_key(key: str) -> str:
    """A valid TID derived from the idempotency key alone, so every retry of one target asks
    the PDS for the same record key and a second create can't add a second post.

    A TID is 64 bits: a zero bit, 53 bits of microseconds, 10 bits of clock id, written as 13
    base32-sortable characters. The spec says a TID's time is not to be trusted, so its bits
    may come from a hash; they are kept inside a fixed window in the past so the key stays
    plausible. 54 bits of hash make two targets of one account colliding negligible.
    """
    digest = int.from_bytes(hashlib.sha256(f"crier/bluesky/{key}".encode()).digest()[:8], "big")
    micros = _TID_EPOCH_US + ((digest >> 10) & ((1 << _TID_WINDOW_BITS) - 1))
    return tid(micros, digest & 0x3FF)


def tid(micros: int, clock_id: int) -> str:
    """The TID of a microsecond timestamp and a 10-bit clock id."""
    value = ((micros & ((1 << 53) - 1)) << 10) | (clock_id & 0x3FF)
    return "".join(_S32[(value >> shift) & 31] for shift in range(60, -1, -5))


def created_at(now: datetime) -> str:
    """Lexicon datetime: UTC, milliseconds, "Z" (what the official clients write)."""
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def post_record(
    *,
    text: str,
    created: str,
    facets: list[dict[str, Any]],
    embed: Mapping[str, Any] | None = None,
    langs: Iterable[str] = (),
    reply: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An `app.bsky.feed.post` record. `reply` is `{"root": ref, "parent": ref}` with strong
    refs (`{"uri", "cid"}`), for threads."""
    record: dict[str, Any] = {"$type": POST, "text": text, "createdAt": created}
    if facets:
        record["facets"] = facets
    if embed:
        record["embed"] = dict(embed)
    languages = list(langs)
    if languages:
        record["langs"] = languages[:3]  # the lexicon allows three
    if reply:
        record["reply"] = dict(reply)
    return record


def images_embed(items: list[tuple[MediaFile, Mapping[str, Any]]]) -> dict[str, Any]:
    """`app.bsky.embed.images` from (media, uploaded blob) pairs; alt is required ("" if none)."""
    images: list[dict[str, Any]] = []
    for media, blob in items:
        image: dict[str, Any] = {"alt": media.alt_text or "", "image": dict(blob)}
        if media.width and media.height:
            # Without it the app crops the image to a guess.
            image["aspectRatio"] = {"width": media.width, "height": media.height}
        images.append(image)
    return {"$type": "app.bsky.embed.images", "images": images}


def external_embed(uri: str, title: str, description: str) -> dict[str, Any]:
    return {
        "$type": "app.bsky.embed.external",
        "external": {"uri": uri, "title": title, "description": description},
    }


def fallback_title(uri: str) -> str:
    """What a card shows when the page could not be read: its host name."""
    host = urlsplit(uri).hostname or uri
    return host.removeprefix("www.")


def check_server_url(url: str, what: str = "Bluesky server") -> str:
    """The URL without a trailing slash; https only, except plain http to this machine."""
    cleaned = url.strip().rstrip("/")
    try:
        parts = urlsplit(cleaned)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or not host or parts.scheme not in ("https", "http"):
        raise PermanentError(f"The {what} address {cleaned!r} is not a web address.")
    if parts.scheme == "http" and host not in _LOCAL_HOSTS:
        raise PermanentError(
            f"The {what} address must start with https:// — plain http is only allowed for "
            "localhost, when developing."
        )
    return cleaned


def may_fetch_preview(uri: str) -> bool:
    """Whether a link card may read this page: public web addresses only, so a post can't
    make the server read (and publish the title of) a page on its own network."""
    try:
        parts = urlsplit(uri)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host in _LOCAL_HOSTS or host.endswith((".local", ".internal", ".localhost")):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." in host
    return address.is_global


class _PageMeta(HTMLParser):
    """Collects <title> and the OpenGraph / description <meta> tags of a page's head."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): v or "" for k, v in attrs}
        if tag == "meta":
            key = (values.get("property") or values.get("name") or "").lower()
            if key and key not in self.meta and values.get("content"):
                self.meta[key] = values["content"]
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def page_card(html: str) -> tuple[str, str]:
    """(title, description) of a web page, from OpenGraph tags or its <title>."""
    parser = _PageMeta()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # a broken page is a page without a card, never a failed post
        pass
    title = parser.meta.get("og:title") or parser.meta.get("twitter:title") or parser.title
    description = (
        parser.meta.get("og:description")
        or parser.meta.get("twitter:description")
        or parser.meta.get("description")
        or ""
    )
    return _squash(title, 300), _squash(description, 1000)


def _squash(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
