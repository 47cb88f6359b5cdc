"""LinkedIn's text: the "little" text format of a post's commentary, and the link card.

The Posts API reads `commentary` as little text: `@[Name](urn:li:person:…)` is a mention,
`#word` a hashtag, `{…|…}` a template, and the reserved characters ``\\ | { } @ [ ] ( ) < >
# * _ ~`` must be escaped with a backslash to be plain text (learn.microsoft.com/linkedin/
marketing/community-management/shares/little-text-format). Unescaped, LinkedIn may cut the
post short at the first one and still answer 201. `escape_commentary` escapes every reserved
character except the `#` that starts a hashtag, so a post comes out as typed, hashtags
clickable as they are when typed on LinkedIn. Links are escaped too: the escapes are part of
the format, not of the text LinkedIn shows.

The Posts API does not fetch a page to build a link card (no URL scraping): an article needs
its `source` and `title` given. `link_card` takes the first link of a text-only post as the
source and the text around it as the title.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import regex

from providers.base import Problem, Severity

#: Characters little text reserves (the docs' "Text" element).
RESERVED = frozenset("\\|{}@[]()<>#*_~")
#: A `#` that starts a hashtag: not inside a word, a link or an escape, followed by a letter
#: or a digit.
_HASHTAG_START = regex.compile(r"(?<![\p{L}\p{N}_&/#\\])#(?=[\p{L}\p{N}])")
_URL = regex.compile(r"https?://[^\s<>\"]+", regex.IGNORECASE)
_URL_TRAILING = ".,:;!?'\")]}*"
_SPACE = regex.compile(r"\s+")
_EMPTY_BRACKETS = regex.compile(r"\(\s*\)|\[\s*\]")
_SPACE_BEFORE_MARK = regex.compile(r"[ \t]+([.,;:!?])")
#: Longest link-card title Crier makes from the text.
MAX_TITLE = 200


def escape_commentary(text: str) -> str:
    """`text` as little text that LinkedIn shows exactly as typed (hashtags stay hashtags)."""
    hashtags = {match.start() for match in _HASHTAG_START.finditer(text)}
    out: list[str] = []
    for index, char in enumerate(text):
        if char in RESERVED and index not in hashtags:
            out.append("\\")
        out.append(char)
    return "".join(out)


def first_link(text: str) -> str | None:
    """The first http(s) link in `text`, trailing punctuation left out."""
    links = _links(text)
    return links[0][2] if links else None


def link_card(text: str) -> dict[str, str] | None:
    """An article (`content.article`) for a text-only post with a link: the first link as
    the source, the text without its links as the title (the host when nothing is left)."""
    links = _links(text)
    if not links:
        return None
    url = links[0][2]
    rest = text
    for start, end, _ in reversed(links):
        rest = rest[:start] + " " + rest[end:]
    rest = _SPACE_BEFORE_MARK.sub(r"\1", _EMPTY_BRACKETS.sub(" ", rest))
    lines = [_SPACE.sub(" ", line).strip(" \t-–—:|·•") for line in rest.splitlines()]
    title = next((line for line in lines if line), "") or str(urlsplit(url).hostname)
    if len(title) > MAX_TITLE:
        title = title[: MAX_TITLE - 1].rstrip() + "…"
    return {"source": url, "title": title}


def card_source(text: str, has_media: bool) -> str | None:
    """The link card a post of `text` gets: its source, or None (a post with media has none)."""
    card = None if has_media else link_card(text)
    return card["source"] if card else None


def card_edit_problems(ref: Mapping[str, Any], text: str, has_media: bool) -> list[Problem]:
    """An edit can change the commentary only: the link card a post went out with stays."""
    if "link" not in ref:  # a result from before refs said: nothing to compare with
        return []
    before, after = ref.get("link"), card_source(text, has_media)
    if after == before:
        return []
    message = (
        f"LinkedIn can't change the link preview of a post that is out: it keeps showing {before}."
        if before
        else "LinkedIn can't add a link preview to a post that is out; the link stays in the text."
    )
    return [Problem(code="link_card_kept", message=message, severity=Severity.WARNING)]


def _links(text: str) -> list[tuple[int, int, str]]:
    """(start, end, url) of every http(s) link, trailing punctuation left out."""
    links = []
    for match in _URL.finditer(text):
        url = match.group(0)
        while url and url[-1] in _URL_TRAILING and not _balanced(url):
            url = url[:-1]
        if urlsplit(url).hostname:
            links.append((match.start(), match.start() + len(url), url))
    return links


def _balanced(url: str) -> bool:
    """Whether the closing bracket ending `url` belongs to it: "(…)" in a Wikipedia link."""
    pairs = {")": "(", "]": "[", "}": "{"}
    last = url[-1]
    return last in pairs and url.count(pairs[last]) >= url.count(last)
