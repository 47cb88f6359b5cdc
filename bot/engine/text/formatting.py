"""Telegram formatting (message entities) and what each platform gets of it.

A post keeps the entities Telegram gave its text (Bot API JSON, offsets and lengths in UTF-16
code units, so an emoji before a bold word shifts it by two). Telegram targets get the text
and the entities unchanged; Discord gets Markdown; every other platform gets plain text with
each link's address written out after its words, "text (https://…)".

Only the formatting a person chose is kept: links, mentions and hashtags Telegram detected
by itself are detected again by every platform, and custom emoji only work for some bots.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from telegram import Message

Entity = dict[str, Any]

#: Entity types a post keeps; the rest are found again by the platforms themselves.
KEPT_TYPES = frozenset(
    {
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "pre",
        "text_link",
        "text_mention",
        "blockquote",
        "expandable_blockquote",
    }
)
#: Platforms that get Markdown instead of plain text.
MARKDOWN_PLATFORMS = frozenset({"discord"})
#: Platforms that take the text with its entities as they are.
ENTITY_PLATFORMS = frozenset({"telegram"})
#: What a text that was added to another is separated from it by.
SEPARATOR = "\n\n"

_WRAPS = {
    "bold": "**",
    "italic": "*",
    "underline": "__",
    "strikethrough": "~~",
    "spoiler": "||",
}
_QUOTES = frozenset({"blockquote", "expandable_blockquote"})
# Characters Discord reads as Markdown anywhere, and at the start of a line.
_MD_SPECIAL = re.compile(r"([\\*_~`|\[\]])")
_MD_LINE_START = re.compile(r"(^|\n)([>#-])")
_URL = re.compile(r"https?://[^\s<>]+")


def utf16_len(text: str) -> int:
    # surrogatepass: a lone surrogate (JSON can carry one) is one code unit, not an error.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _code_points(text: str) -> list[int]:
    """For each UTF-16 offset 0..len, the index of the code point that starts there (an
    offset inside a surrogate pair maps to the character it splits, rounded up)."""
    index: list[int] = []
    for position, char in enumerate(text):
        index.append(position)
        if ord(char) > 0xFFFF:
            index.append(position + 1)
    index.append(len(text))
    return index


def clean(text: str, entities: Iterable[Mapping[str, Any]] | None) -> list[Entity]:
    """The entities worth keeping, as small JSON dicts, each inside `text`, sorted."""
    total = utf16_len(text)
    kept: list[Entity] = []
    for raw in entities or ():
        kind = raw.get("type")
        try:
            offset, length = int(raw["offset"]), int(raw["length"])
        except (KeyError, TypeError, ValueError):
            continue
        if kind not in KEPT_TYPES or length <= 0 or offset < 0 or offset + length > total:
            continue
        entity: Entity = {"type": kind, "offset": offset, "length": length}
        if kind == "text_link":
            url = str(raw.get("url") or "")
            if not url:
                continue
            entity["url"] = url
        elif kind == "pre" and raw.get("language"):
            entity["language"] = str(raw["language"])
        elif kind == "text_mention":
            user = raw.get("user")
            if not isinstance(user, Mapping) or "id" not in user:
                continue
            entity["user"] = {
                "id": int(user["id"]),
                "is_bot": bool(user.get("is_bot", False)),
                "first_name": str(user.get("first_name") or ""),
            }
        kept.append(entity)
    kept.sort(key=lambda e: (e["offset"], -e["length"]))
    return kept


def entities_of(message: Message) -> list[Entity]:
    """A Telegram message's formatting (of its text, or of its caption), as kept."""
    if message.text is not None:
        text, found = message.text, message.entities
    else:
        text, found = message.caption or "", message.caption_entities
    return clean(text, [entity.to_dict() for entity in found or ()])


def shift(entities: Iterable[Mapping[str, Any]], by: int) -> list[Entity]:
    return [{**e, "offset": int(e["offset"]) + by} for e in entities]


def append(
    text: str,
    entities: Sequence[Mapping[str, Any]] | None,
    more: str,
    more_entities: Sequence[Mapping[str, Any]] = (),
) -> tuple[str, list[Entity]]:
    """`more` added to `text` after a blank line, each keeping its formatting."""
    if not text.strip():
        return more, [dict(e) for e in more_entities]
    head = text + SEPARATOR
    kept = [dict(e) for e in entities or ()]
    return head + more, kept + shift(more_entities, utf16_len(head))


def cut(
    text: str, entities: Sequence[Mapping[str, Any]], ends: Sequence[int]
) -> list[tuple[str, list[Entity]]]:
    """`text` (made by `append`) cut back into its pieces, each ending at one of `ends`
    (character indexes, the last `len(text)`), each with the formatting inside it."""
    pieces: list[tuple[str, list[Entity]]] = []
    start = 0
    for end in ends:
        piece = text[start:end]
        low, high = utf16_len(text[:start]), utf16_len(text[:end])
        kept = [
            {**e, "offset": int(e["offset"]) - low}
            for e in entities
            if int(e["offset"]) >= low and int(e["offset"]) + int(e["length"]) <= high
        ]
        pieces.append((piece, kept))
        start = end + len(SEPARATOR) if text[end : end + len(SEPARATOR)] == SEPARATOR else end
    return pieces


# -- characters that can't be posted or can't be seen ---------------------------------------

#: Format characters that do show something (Arabic number signs, the end of ayah, the
#: Syriac abbreviation mark, Kaithi number signs): never taken for invisible.
_VISIBLE_FORMAT = frozenset(
    "\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2\U000110bd\U000110cd"
)
#: Blank characters that are neither spaces nor format characters: the combining grapheme
#: joiner and the Hangul fillers, favourites for "empty" messages.
_FILLERS = frozenset("\u034f\u115f\u1160\u3164\uffa0")
#: Tag characters end a flag emoji (Scotland's is 🏴 and seven of them), as variation
#: selectors end many emoji: never trimmed, though alone they show nothing.
_TAGS = range(0xE0020, 0xE0080)
_VARIATION_SELECTORS = (range(0xFE00, 0xFE10), range(0xE0100, 0xE01F0))


def _unusable(char: str) -> bool:
    """Platforms refuse it: a C0 or C1 control other than tab and newline, DEL, a lone
    surrogate, or a noncharacter (U+FDD0–U+FDEF, U+FFFE and U+FFFF of every plane)."""
    code = ord(char)
    if code < 0x20:
        return char not in "\n\t"
    return (
        0x7F <= code <= 0x9F
        or 0xD800 <= code <= 0xDFFF
        or 0xFDD0 <= code <= 0xFDEF
        or code & 0xFFFE == 0xFFFE
    )


def _trimmable(char: str) -> bool:
    """Shows nothing and means nothing at either end of a text: whitespace, zero-width
    spaces and joiners, bidi controls, the soft hyphen, the BOM, other format characters."""
    if char.isspace() or char in _FILLERS:
        return True
    if ord(char) in _TAGS:
        return False
    return unicodedata.category(char) in ("Cc", "Cf") and char not in _VISIBLE_FORMAT


def _invisible(char: str) -> bool:
    code = ord(char)
    return (
        _trimmable(char)
        or code in _TAGS
        or any(code in selectors for selectors in _VARIATION_SELECTORS)
    )


def tidy(text: str, entities: Iterable[Mapping[str, Any]] | None = ()) -> tuple[str, list[Entity]]:
    """`text` without the characters platforms refuse and without the invisible ones at its
    ends, with its entities moved to match (UTF-16 offsets); ("", []) when nothing visible
    is left. Zero-width joiners inside the text stay: they join emoji ("👨‍👩‍👧") and make
    Persian and Indic words read right."""
    kept = [index for index, char in enumerate(text) if not _unusable(char)]
    first, last = 0, len(kept)
    while first < last and _trimmable(text[kept[first]]):
        first += 1
    while last > first and _trimmable(text[kept[last - 1]]):
        last -= 1
    chosen = kept[first:last]
    if all(_invisible(text[index]) for index in chosen):
        return "", []
    # Where each UTF-16 offset of `text` lands in the result.
    taken = set(chosen)
    moved: list[int] = []
    position = 0
    for index, char in enumerate(text):
        width = 2 if ord(char) > 0xFFFF else 1
        moved.extend([position] * width)
        if index in taken:
            position += width
    moved.append(position)
    result: list[Entity] = []
    for entity in clean(text, entities):
        start = moved[entity["offset"]]
        end = moved[entity["offset"] + entity["length"]]
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return "".join(text[index] for index in chosen), result


# -- the entity tree ------------------------------------------------------------------------


@dataclass
class _Node:
    entity: Entity
    #: Code point indexes into the text.
    start: int
    end: int
    children: list[_Node] = field(default_factory=list)


def _tree(text: str, entities: Sequence[Mapping[str, Any]]) -> list[_Node]:
    """Entities nested the way Telegram nests them; a partial overlap (Telegram never sends
    one) is clipped to its parent."""
    index = _code_points(text)
    last = len(index) - 1
    nodes = []
    for entity in clean(text, entities):
        start = index[min(entity["offset"], last)]
        end = index[min(entity["offset"] + entity["length"], last)]
        if end > start:
            nodes.append(_Node(entity, start, end))
    nodes.sort(key=lambda n: (n.start, -n.end))
    roots: list[_Node] = []
    stack: list[_Node] = []
    for node in nodes:
        while stack and node.start >= stack[-1].end:
            stack.pop()
        if stack:
            node.end = min(node.end, stack[-1].end)
            if node.end <= node.start:
                continue
            stack[-1].children.append(node)
        else:
            roots.append(node)
        stack.append(node)
    return roots


def _render(
    text: str,
    nodes: Sequence[_Node],
    start: int,
    end: int,
    plain: Callable[[str, int, int], str],
    styled: Callable[[str, _Node], str],
) -> str:
    out = []
    position = start
    for node in nodes:
        out.append(plain(text, position, node.start))
        out.append(styled(text, node))
        position = node.end
    out.append(plain(text, position, end))
    return "".join(out)


# -- plain text -----------------------------------------------------------------------------


def _same_link(words: str, url: str) -> bool:
    return words.strip().rstrip("/").lower() == url.strip().rstrip("/").lower()


def to_plain(text: str, entities: Sequence[Mapping[str, Any]]) -> str:
    """The text with every link's address written out after its words."""

    def plain(source: str, start: int, end: int) -> str:
        return source[start:end]

    def styled(source: str, node: _Node) -> str:
        inner = _render(source, node.children, node.start, node.end, plain, styled)
        if node.entity["type"] == "text_link":
            url = node.entity["url"]
            if not _same_link(inner, url):
                return f"{inner} ({url})"
        return inner

    if not entities:
        return text
    return _render(text, _tree(text, entities), 0, len(text), plain, styled)


# -- Markdown (Discord) ---------------------------------------------------------------------


def _escape_markdown(source: str, start: int, end: int) -> str:
    """Literal text, so that Discord shows `*` and `_` as typed; addresses stay intact."""
    chunk = source[start:end]
    out = []
    position = 0
    for match in _URL.finditer(chunk):
        out.append(_MD_SPECIAL.sub(r"\\\1", chunk[position : match.start()]))
        out.append(match.group(0))
        position = match.end()
    out.append(_MD_SPECIAL.sub(r"\\\1", chunk[position:]))
    escaped = "".join(out)
    at_line_start = start == 0 or source[start - 1] == "\n"

    def line_start(match: re.Match[str]) -> str:
        if not match[1] and not at_line_start:
            return match.group(0)  # the chunk starts mid-line
        return f"{match[1]}\\{match[2]}"

    return _MD_LINE_START.sub(line_start, escaped)


def _wrap(inner: str, marker: str) -> str:
    """Markers hug the words: Discord ignores `** bold **` with spaces inside."""
    core = inner.strip()
    if not core:
        return inner
    lead = inner[: len(inner) - len(inner.lstrip())]
    trail = inner[len(inner.rstrip()) :]
    return f"{lead}{marker}{core}{marker}{trail}"


def _markdown_url(url: str) -> str:
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def to_markdown(text: str, entities: Sequence[Mapping[str, Any]]) -> str:
    """The text in Discord's Markdown: **bold**, *italic*, __underline__, ~~strike~~,
    ||spoiler||, `code`, code blocks, > quotes and [words](links)."""

    def styled(source: str, node: _Node) -> str:
        kind = node.entity["type"]
        raw = source[node.start : node.end]
        if kind == "code":
            fence = "``" if "`" in raw else "`"
            pad = " " if fence == "``" else ""
            return f"{fence}{pad}{raw}{pad}{fence}"
        if kind == "pre":
            language = node.entity.get("language", "")
            lead = "" if node.start == 0 or source[node.start - 1] == "\n" else "\n"
            return f"{lead}```{language}\n{raw.strip(chr(10))}\n```"
        inner = _render(source, node.children, node.start, node.end, _escape_markdown, styled)
        if kind in _WRAPS:
            return _wrap(inner, _WRAPS[kind])
        if kind == "text_link":
            url = node.entity["url"]
            if _same_link(raw, url):
                return url
            return f"[{inner}]({_markdown_url(url)})"
        if kind in _QUOTES:
            lead = "" if node.start == 0 or source[node.start - 1] == "\n" else "\n"
            return lead + "\n".join(f"> {line}" for line in inner.split("\n"))
        return inner

    if not entities:
        return text  # nothing chosen: the text goes as typed, Markdown and all
    return _render(text, _tree(text, entities), 0, len(text), _escape_markdown, styled)


# -- per platform ---------------------------------------------------------------------------


def for_platform(
    platform: str, text: str, entities: Sequence[Mapping[str, Any]]
) -> tuple[str, tuple[Entity, ...]]:
    """The text (and the entities, for Telegram) as `platform` gets them."""
    kept = clean(text, entities)
    if platform in ENTITY_PLATFORMS:
        return text, tuple(kept)
    if platform in MARKDOWN_PLATFORMS:
        return to_markdown(text, kept), ()
    return to_plain(text, kept), ()


def describe(platforms: Iterable[str]) -> str:
    """One line for the preview: where the formatting survives."""
    chosen = set(platforms)
    names = {"telegram": "Telegram", "discord": "Discord (as Markdown)"}
    kept = [name for platform, name in names.items() if platform in chosen]
    if not chosen - set(names):
        return "Formatting is kept."
    if kept:
        return (
            f"Formatting is kept on {' and '.join(kept)}; the others get plain text with "
            "links written out."
        )
    return "Formatting becomes plain text here, with links written out."
