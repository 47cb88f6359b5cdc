"""Counting text the way each platform counts it."""

from __future__ import annotations

import enum
import unicodedata

import regex


class TextCounting(enum.StrEnum):
    #: Unicode code points (Mastodon, most web APIs).
    CHARS = "chars"
    #: UTF-16 code units (Telegram).
    UTF16 = "utf16"
    #: User-perceived characters (Bluesky).
    GRAPHEMES = "graphemes"
    #: X's weighted characters: URLs 23, emoji and CJK 2 (`providers.text.weighted_length`).
    WEIGHTED = "weighted"


_GRAPHEME = regex.compile(r"\X")


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def grapheme_length(text: str) -> int:
    return len(_GRAPHEME.findall(text))


def count_text(text: str, counting: TextCounting) -> int:
    if counting == "utf16":
        return utf16_length(text)
    if counting == "graphemes":
        return grapheme_length(text)
    if counting == "weighted":
        return weighted_length(text)
    return len(text)


# -- X's weighted length (twitter-text v3) ---------------------------------------------------
#
# X counts NFC-normalised text: every URL (with or without http(s)://) as 23, every emoji
# (a whole sequence: skin tones, ZWJ families, flags, keycaps) as 2, a code point in the
# Latin, Greek, Cyrillic, Hebrew, Arabic ... ranges below as 1 and any other (CJK, ...) as 2.

#: X's limit for one post, in weighted characters.
X_MAX_WEIGHTED = 280
#: What X counts a URL as (t.co).
X_URL_LENGTH = 23
_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
_EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3]")
# Top-level domains X links without http(s)://: every two-letter one (country codes) and the
# common generic ones. Counting a word that X leaves alone as a link under-counts only when
# it is shorter than 23, which a bare "name.tld" rarely is not.
_GTLDS = (
    "com|org|net|edu|gov|mil|int|info|biz|name|pro|mobi|aero|coop|museum|jobs|travel|app|dev|"
    "io|ai|xyz|online|site|tech|store|shop|blog|news|cloud|page|social|media|live|life|world|"
    "today|space|website|email|club|design|art|agency|studio|digital|network|systems|link|"
    "click|one|top|wiki|zone|guru|run|fyi|ly|tel|asia|cat|post|xxx|eu"
)
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_X_URL = regex.compile(
    r"(?<![\p{L}\p{N}@$#＠＃_./-])"
    r"(?:(?:https?://)(?:[\p{L}\p{N}-]+\.)+[\p{L}\p{N}-]+"
    rf"|(?:{_LABEL}\.)+(?:{_GTLDS}|[A-Za-z]{{2}})(?![\p{{L}}\p{{N}}_-]))"
    r"(?::\d+)?(?:/[^\s]*)?",
    regex.IGNORECASE,
)
_URL_TRAILING = ".,:;!?'\"*)]"


def url_spans(text: str) -> list[tuple[int, int]]:
    """Where X sees links in `text` (start, end), trailing punctuation left out."""
    spans = []
    for match in _X_URL.finditer(text):
        url = match.group(0)
        while url and url[-1] in _URL_TRAILING and not _balanced(url):
            url = url[:-1]
        spans.append((match.start(), match.start() + len(url)))
    return spans


def _balanced(url: str) -> bool:
    """Whether the closing bracket ending `url` belongs to it: "(…)" in a Wikipedia link."""
    last = url[-1]
    pairs = {")": "(", "]": "["}
    return last in pairs and url.count(pairs[last]) >= url.count(last)


def weighted_length(text: str) -> int:
    """How long X considers `text` (its limit is `X_MAX_WEIGHTED`)."""
    text = unicodedata.normalize("NFC", text)
    total, position = 0, 0
    for start, end in url_spans(text):
        total += _weigh(text[position:start]) + X_URL_LENGTH
        position = end
    return total + _weigh(text[position:])


def _weigh(text: str) -> int:
    total = 0
    for grapheme in _GRAPHEME.findall(text):
        if _EMOJI.search(grapheme):
            total += 2  # one emoji, however many code points make it
            continue
        for char in grapheme:
            code = ord(char)
            total += 1 if any(lo <= code <= hi for lo, hi in _LIGHT_RANGES) else 2
    return total
