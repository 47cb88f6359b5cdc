"""Telegram's HTML parse mode for the Bot API emulator, plus shared text primitives.

A port of TDLib's ``parse_html``: the same accepted tags and attributes, the same entities,
and TDLib's error messages (byte offsets are in UTF-8, as TDLib reports them). Entity offsets
and lengths are in UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

HTML_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
        "tg-spoiler", "code", "pre", "blockquote", "tg-emoji",
    }
)  # fmt: skip
_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class EntityParseError(Exception):
    """Raised with TDLib's message; the API wraps it as ``can't parse entities: ...``."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


class TextBuilder:
    """Accumulates plain text and tracks its UTF-16 length."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0

    def add(self, chunk: str) -> None:
        self.parts.append(chunk)
        self.length += utf16_len(chunk)

    def text(self) -> str:
        return "".join(self.parts)


def link_entity(url: str, offset: int, length: int) -> JSON | None:
    url = url.strip()
    if not url:
        return None
    mention = re.fullmatch(r"tg://user\?id=(\d+)", url, flags=re.IGNORECASE)
    if mention:
        user = {"id": int(mention.group(1)), "is_bot": False, "first_name": ""}
        return {"type": "text_mention", "offset": offset, "length": length, "user": user}
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", url):
        if not re.match(r"^[\w-]+(\.[\w-]+)+", url):
            return None  # Telegram silently drops links that are not URLs
        url = "http://" + url
    return {"type": "text_link", "offset": offset, "length": length, "url": url}


# --------------------------------------------------------------------------- HTML


@dataclass
class _HtmlTag:
    name: str
    attrs: dict[str, str]
    offset: int
    part_index: int
    children: list[JSON] = field(default_factory=list)


def _decode_html_entity(text: str, i: int) -> tuple[str, int]:
    """Decode the character reference at ``text[i] == '&'``; returns (chars, next index)."""
    n = len(text)
    if i + 1 < n and text[i + 1] == "#":
        j = i + 2
        base = 10
        if j < n and text[j] in "xX":
            base = 16
            j += 1
        start = j
        digits = "0123456789abcdefABCDEF" if base == 16 else "0123456789"
        while j < n and text[j] in digits:
            j += 1
        if j > start:
            code = int(text[start:j], base)
            end = j + 1 if j < n and text[j] == ";" else j
            if 0xD800 <= code <= 0xDFFF:
                raise EntityParseError(
                    "Text contains invalid Unicode characters after decoding HTML entities, "
                    "check for unmatched surrogate code units"
                )
            if 0 < code <= 0x10FFFF:
                return chr(code), end
        return "&", i + 1
    j = i + 1
    while j < n and text[j].isascii() and text[j].isalpha():
        j += 1
    name = text[i + 1 : j]
    if name in _NAMED_ENTITIES:
        end = j + 1 if j < n and text[j] == ";" else j
        return _NAMED_ENTITIES[name], end
    return "&", i + 1


def _html_entity(tag: _HtmlTag, text: str, end: int) -> JSON | None:
    length = end - tag.offset
    if length <= 0:
        return None
    name = tag.name
    if name == "a":
        href = tag.attrs.get("href")
        return link_entity(href if href is not None else text, tag.offset, length)
    if name == "blockquote":
        kind = "expandable_blockquote" if "expandable" in tag.attrs else "blockquote"
        return {"type": kind, "offset": tag.offset, "length": length}
    if name == "tg-emoji":
        emoji_id = tag.attrs.get("emoji-id", "")
        return {
            "type": "custom_emoji",
            "offset": tag.offset,
            "length": length,
            "custom_emoji_id": emoji_id,
        }
    entity: JSON = {"type": _HTML_ENTITY_TYPES[name], "offset": tag.offset, "length": length}
    if name == "pre":
        # <pre><code class="language-x">...</code></pre> is one "pre" entity with a language
        for child in tag.children:
            if (
                child.get("type") == "code"
                and child.get("_language")
                and child["offset"] == tag.offset
                and child["length"] == length
            ):
                entity["language"] = child["_language"]
                child["_merged"] = True
    if name == "code":
        language = tag.attrs.get("class", "")
        if language.startswith("language-") and len(language) > len("language-"):
            entity["_language"] = language[len("language-") :]
    return entity


def parse_html(text: str) -> tuple[str, list[JSON]]:
    out = TextBuilder()
    entities: list[JSON] = []
    stack: list[_HtmlTag] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c == "&":
            chars, i = _decode_html_entity(text, i)
            out.add(chars)
            continue
        if c != "<":
            j = i
            while j < n and text[j] not in "&<":
                j += 1
            out.add(text[i:j])
            i = j
            continue
        begin = i
        i += 1
        if i < n and text[i] != "/":
            j = i
            while j < n and not text[j].isspace() and text[j] != ">":
                j += 1
            if j == n:
                raise EntityParseError(
                    f"Unclosed start tag at byte offset {byte_offset(text, begin)}"
                )
            name = text[i:j].lower()
            i = j
            if name not in HTML_TAGS:
                raise EntityParseError(
                    f'Unsupported start tag "{name}" at byte offset {byte_offset(text, begin)}'
                )
            attrs: dict[str, str] = {}
            while True:
                while i < n and text[i].isspace():
                    i += 1
                if i == n:
                    raise EntityParseError(
                        f'Unclosed start tag "{name}" at byte offset {byte_offset(text, begin)}'
                    )
                if text[i] == ">":
                    i += 1
                    break
                j = i
                while j < n and not text[j].isspace() and text[j] not in "=>":
                    j += 1
                attr = text[i:j].lower()
                if not attr:
                    raise EntityParseError(
                        f'Empty attribute name in the tag "{name}" at byte offset '
                        f"{byte_offset(text, begin)}"
                    )
                i = j
                while i < n and text[i].isspace():
                    i += 1
                if i == n:
                    raise EntityParseError(
                        f'Unclosed start tag "{name}" at byte offset {byte_offset(text, begin)}'
                    )
                if text[i] != "=":
                    attrs.setdefault(attr, "")
                    continue
                i += 1
                while i < n and text[i].isspace():
                    i += 1
                if i == n:
                    raise EntityParseError(
                        f'Unclosed start tag "{name}" at byte offset {byte_offset(text, begin)}'
                    )
                if text[i] in "\"'":
                    quote = text[i]
                    end = text.find(quote, i + 1)
                    if end == -1:
                        raise EntityParseError(
                            f"Unclosed start tag at byte offset {byte_offset(text, begin)}"
                        )
                    raw, i = text[i + 1 : end], end + 1
                    value, k = [], 0
                    while k < len(raw):
                        if raw[k] == "&":
                            chars, k = _decode_html_entity(raw, k)
                            value.append(chars)
                        else:
                            value.append(raw[k])
                            k += 1
                    attrs.setdefault(attr, "".join(value))
                else:
                    j = i
                    while j < n and ((text[j].isascii() and text[j].isalnum()) or text[j] in ".-"):
                        j += 1
                    if j < n and not text[j].isspace() and text[j] != ">":
                        raise EntityParseError(
                            f"Unexpected end of name token at byte offset {byte_offset(text, i)}"
                        )
                    attrs.setdefault(attr, text[i:j])
                    i = j
            if name == "span" and attrs.get("class") != "tg-spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset '
                    f"{byte_offset(text, begin)}"
                )
            stack.append(_HtmlTag(name, attrs, out.length, len(out.parts)))
            continue
        # end tag
        if not stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {byte_offset(text, begin)}")
        i += 1
        j = i
        while j < n and not text[j].isspace() and text[j] != ">":
            j += 1
        end_name = text[i:j].lower()
        i = j
        while i < n and text[i].isspace():
            i += 1
        if i == n or text[i] != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {byte_offset(text, begin)}")
        i += 1
        tag = stack.pop()
        if end_name and end_name != tag.name:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {byte_offset(text, begin)}, "
                f'expected "</{tag.name}>", found "</{end_name}>"'
            )
        inner = "".join(out.parts[tag.part_index :])
        entity = _html_entity(tag, inner, out.length)
        if entity is not None:
            entities.append(entity)
            if stack:
                stack[-1].children.append(entity)
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    clean = []
    for entity in entities:
        if entity.pop("_merged", False):
            continue
        entity.pop("_language", None)
        clean.append(entity)
    return out.text(), clean
