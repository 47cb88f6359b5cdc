"""Bluesky rich text: finding links, mentions and hashtags, with UTF-8 byte offsets.

Bluesky has no markup; a post carries `facets` that point at byte ranges of its text
(`app.bsky.richtext.facet`: `index.byteStart` inclusive, `index.byteEnd` exclusive, counted in
UTF-8 bytes, not characters — an emoji before a link shifts it by four bytes, not one). The
detection rules follow the reference client (`@atproto/api` RichText.detectFacets): a mention
or link starts the text or follows whitespace or "(", trailing punctuation is not part of a
link, and a hashtag needs at least one character that is not a digit or punctuation.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import regex

from providers.text import grapheme_length

LINK = "app.bsky.richtext.facet#link"
MENTION = "app.bsky.richtext.facet#mention"
TAG = "app.bsky.richtext.facet#tag"

#: A handle's segment (atproto handle syntax): letters, digits, inner hyphens, 1-63 long.
_SEGMENT = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
_HANDLE = regex.compile(rf"(?:{_SEGMENT}\.)+[a-zA-Z](?:[a-zA-Z0-9-]{{0,61}}[a-zA-Z0-9])?")

# JavaScript's \b is ASCII-only; the lookahead spells out what the reference regex means.
_MENTION = regex.compile(r"(?:^|(?<=[\s(]))@([a-zA-Z0-9.-]*[a-zA-Z0-9])(?![a-zA-Z0-9_])")
_URL = regex.compile(r"(?:^|(?<=[\s(]))(https?://\S+)", regex.IGNORECASE)
# Characters that end a tag: whitespace and the invisible joiners and breaks.
_NOT_TAG = r"\s\u00AD\u2060\u200A\u200B\u200C\u200D\u20e2"
_HASHTAG = regex.compile(
    rf"(?:^|(?<=\s))[#＃]((?!\ufe0f)[^{_NOT_TAG}]*[^\d\p{{P}}{_NOT_TAG}]+[^{_NOT_TAG}]*)?"
)
_TRAILING_PUNCTUATION = regex.compile(r"\p{P}+$")
_LINK_TRAILING = ".,;:!?\"'"

#: Bluesky's own limits on a tag (`app.bsky.richtext.facet#tag`).
MAX_TAG_GRAPHEMES = 64
MAX_TAG_BYTES = 640


class Kind(enum.StrEnum):
    LINK = "link"
    MENTION = "mention"
    TAG = "tag"


@dataclass(frozen=True, kw_only=True)
class Span:
    """One decorated range of the text."""

    kind: Kind
    #: UTF-8 byte offsets into the text: start inclusive, end exclusive.
    byte_start: int
    byte_end: int
    #: The link's URI, the mentioned handle (lower case, no "@") or the tag (no "#").
    value: str


def detect(text: str) -> list[Span]:
    """Links, mentions and hashtags in `text`, in order, none overlapping another."""
    offsets = _ByteOffsets(text)
    found: list[tuple[int, int, Kind, str]] = []
    for match in _URL.finditer(text):
        uri = _trim_link(match.group(1))
        if _is_web_url(uri):
            found.append((match.start(1), match.start(1) + len(uri), Kind.LINK, uri))
    for match in _MENTION.finditer(text):
        handle = match.group(1)
        if len(handle) <= 253 and _HANDLE.fullmatch(handle):
            found.append((match.start(), match.end(), Kind.MENTION, handle.lower()))
    for match in _HASHTAG.finditer(text):
        tag = match.group(1)
        if not tag:
            continue
        tag = _TRAILING_PUNCTUATION.sub("", tag.strip())
        if not tag or grapheme_length(tag) > MAX_TAG_GRAPHEMES:
            continue
        if len(tag.encode()) > MAX_TAG_BYTES:
            continue
        found.append((match.start(), match.start() + 1 + len(tag), Kind.TAG, tag))
    spans: list[Span] = []
    last_end = -1
    # Facets must not overlap; keep the first of any overlapping pair.
    for start, end, kind, value in sorted(found, key=lambda item: (item[0], item[1])):
        if start < last_end:
            continue
        spans.append(
            Span(
                kind=kind,
                byte_start=offsets.byte(start),
                byte_end=offsets.byte(end),
                value=value,
            )
        )
        last_end = end
    return spans


def mentioned_handles(spans: list[Span]) -> list[str]:
    """The distinct handles mentioned, in order of first appearance."""
    return list(dict.fromkeys(s.value for s in spans if s.kind == Kind.MENTION))


def facets(spans: list[Span], dids: Mapping[str, str]) -> list[dict[str, Any]]:
    """The `facets` array of a post; mentions whose handle has no DID in `dids` are left out."""
    result: list[dict[str, Any]] = []
    for span in spans:
        feature: dict[str, Any]
        if span.kind == Kind.LINK:
            feature = {"$type": LINK, "uri": span.value}
        elif span.kind == Kind.TAG:
            feature = {"$type": TAG, "tag": span.value}
        else:
            did = dids.get(span.value)
            if did is None:
                continue  # not a Bluesky user: leave the text plain
            feature = {"$type": MENTION, "did": did}
        result.append(
            {
                "index": {"byteStart": span.byte_start, "byteEnd": span.byte_end},
                "features": [feature],
            }
        )
    return result


def first_link(spans: list[Span]) -> str | None:
    return next((s.value for s in spans if s.kind == Kind.LINK), None)


class _ByteOffsets:
    """Character index -> UTF-8 byte offset, computed once per text."""

    def __init__(self, text: str) -> None:
        self._starts = [0]
        for char in text:
            self._starts.append(self._starts[-1] + len(char.encode()))

    def byte(self, index: int) -> int:
        return self._starts[index]


def _trim_link(uri: str) -> str:
    # "see https://example.com." and "(https://example.com)" mean the link without the dot
    # or the closing parenthesis.
    while uri:
        if uri[-1] in _LINK_TRAILING or (uri[-1] == ")" and uri.count("(") < uri.count(")")):
            uri = uri[:-1]
        else:
            break
    return uri


def _is_web_url(uri: str) -> bool:
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
