"""Telegram's MarkdownV2 and legacy Markdown parse modes for the Bot API emulator.

Ports of TDLib's ``parse_markdown_v2`` and ``parse_markdown`` with TDLib's error messages
(checked against TDLib's own test vectors in ``test/message_entities.cpp``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.demo.emulator.markup import (
    JSON,
    EntityParseError,
    TextBuilder,
    byte_offset,
    link_entity,
)

# ------------------------------------------------------------------- MarkdownV2

_MD2_RESERVED = "_*[]()~`>#+-=|{}.!"
_MD2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "pre_code": "PreCode",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


@dataclass
class _Open:
    kind: str
    offset: int
    byte_pos: int
    text_start: int  # index into the output characters list
    argument: str = ""


def _reserved(c: str) -> EntityParseError:
    return EntityParseError(
        f"Character '{c}' is reserved and must be escaped with the preceding '\\'"
    )


def parse_markdown_v2(text: str) -> tuple[str, list[JSON]]:
    out = TextBuilder()
    chars: list[str] = []
    entities: list[JSON] = []
    stack: list[_Open] = []
    quote_start: int | None = None
    quote_expandable = False
    n = len(text)
    i = 0

    def emit(s: str) -> None:
        out.add(s)
        chars.append(s)

    def close_quote() -> None:
        nonlocal quote_start, quote_expandable
        if quote_start is not None and out.length > quote_start:
            kind = "expandable_blockquote" if quote_expandable else "blockquote"
            entities.append(
                {"type": kind, "offset": quote_start, "length": out.length - quote_start}
            )
        quote_start = None
        quote_expandable = False

    while i < n:
        c = text[i]
        in_code = bool(stack) and stack[-1].kind in ("code", "pre", "pre_code")
        at_line_start = i == 0 or text[i - 1] in "\r\n"
        if at_line_start and not in_code:
            if text.startswith("**>", i):
                close_quote()
                quote_start, quote_expandable = out.length, True
                i += 3
                continue
            if c == ">":
                if quote_start is None:
                    quote_start = out.length
                i += 1
                continue
            if quote_start is not None:
                close_quote()
        if c == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            emit(text[i + 1])
            i += 2
            continue
        reserved = "`" if in_code else _MD2_RESERVED
        if c not in reserved:
            emit(c)
            i += 1
            continue
        if (
            quote_start is not None
            and text.startswith("||", i)
            and (i + 2 == n or text[i + 2] in "\r\n")
            and not (stack and stack[-1].kind == "spoiler")
        ):
            quote_expandable = True
            i += 2
            continue
        top = stack[-1] if stack else None
        closes = top is not None and (
            (top.kind == "bold" and c == "*")
            or (top.kind == "italic" and c == "_" and not text.startswith("__", i))
            or (top.kind == "underline" and text.startswith("__", i))
            or (top.kind == "strikethrough" and c == "~")
            or (top.kind == "spoiler" and text.startswith("||", i))
            or (top.kind == "code" and c == "`")
            or (top.kind in ("pre", "pre_code") and text.startswith("```", i))
            or (top.kind in ("text_link", "custom_emoji") and c == "]")
        )
        if not closes:
            begin = i
            argument = ""
            if c == "_":
                kind = "underline" if text.startswith("__", i) else "italic"
                i += 2 if kind == "underline" else 1
            elif c == "*":
                kind, i = "bold", i + 1
            elif c == "~":
                kind, i = "strikethrough", i + 1
            elif c == "|":
                if not text.startswith("||", i):
                    raise _reserved(c)
                kind, i = "spoiler", i + 2
            elif c == "[":
                kind, i = "text_link", i + 1
            elif c == "!" and text.startswith("![", i):
                kind, i = "custom_emoji", i + 2
            elif c == "`":
                if text.startswith("```", i):
                    i += 3
                    kind = "pre"
                    j = i
                    while j < n and not text[j].isspace() and text[j] != "`":
                        j += 1
                    if j != i and j < n and text[j] != "`":
                        kind, argument, i = "pre_code", text[i:j], j
                    if i < n and text[i] in "\r\n":
                        pair = text[i : i + 2]
                        i += 2 if pair in ("\r\n", "\n\r") else 1
                else:
                    kind, i = "code", i + 1
            else:
                raise _reserved(c)
            stack.append(_Open(kind, out.length, byte_offset(text, begin), len(chars), argument))
            continue
        assert top is not None
        stack.pop()
        inner = "".join(chars[top.text_start :])
        length = out.length - top.offset
        entity: JSON | None = None
        if top.kind in ("underline", "spoiler"):
            i += 2
        elif top.kind in ("pre", "pre_code"):
            i += 3
        else:
            i += 1
        if top.kind == "text_link":
            url = inner
            if i < n and text[i] == "(":
                i += 1
                url_begin = i
                url_chars: list[str] = []
                while i < n and text[i] != ")":
                    if text[i] == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
                        url_chars.append(text[i + 1])
                        i += 2
                        continue
                    url_chars.append(text[i])
                    i += 1
                if i == n:
                    raise EntityParseError(
                        f"Can't find end of a URL at byte offset {byte_offset(text, url_begin)}"
                    )
                i += 1
                url = "".join(url_chars)
            if length:
                entity = link_entity(url, top.offset, length)
        elif top.kind == "custom_emoji":
            if i >= n or text[i] != "(":
                raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
            end = text.find(")", i)
            if end == -1:
                offset = byte_offset(text, i + 1)
                raise EntityParseError(
                    f"Can't find end of a custom emoji URL at byte offset {offset}"
                )
            match = re.search(r"[?&]id=(\d+)", text[i + 1 : end])
            if not match:
                raise EntityParseError("Custom emoji URL must have an emoji identifier")
            i = end + 1
            entity = {
                "type": "custom_emoji",
                "offset": top.offset,
                "length": length,
                "custom_emoji_id": match.group(1),
            }
        elif length:
            kind = "pre" if top.kind == "pre_code" else top.kind
            entity = {"type": kind, "offset": top.offset, "length": length}
            if top.kind == "pre_code":
                entity["language"] = top.argument
        if entity is not None and length:
            entities.append(entity)
    if stack:
        top = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MD2_NAMES[top.kind]} entity at byte offset {top.byte_pos}"
        )
    close_quote()
    return out.text(), entities


# ------------------------------------------------------------- legacy Markdown


def parse_markdown(text: str) -> tuple[str, list[JSON]]:
    out = TextBuilder()
    entities: list[JSON] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.add(text[i + 1])
            i += 2
            continue
        if c not in "_*`[":
            out.add(c)
            i += 1
            continue
        begin = i
        kind = {"_": "italic", "*": "bold", "`": "code", "[": "text_link"}[c]
        end_tag = "]" if c == "[" else c
        language = ""
        if text.startswith("```", i):
            kind, end_tag = "pre", "```"
            i += 3
            j = i
            while j < n and not text[j].isspace() and text[j] != "`":
                j += 1
            if j != i and j < n and text[j] in "\r\n":
                language, i = text[i:j], j + 1
        else:
            i += 1
        end = text.find(end_tag, i)
        if end == -1:
            raise EntityParseError(
                f"Can't find end of the entity starting at byte offset {byte_offset(text, begin)}"
            )
        inner = text[i:end]
        i = end + len(end_tag)
        offset = out.length
        out.add(inner)
        length = out.length - offset
        if kind == "text_link":
            url = inner
            if i < n and text[i] == "(":
                close = text.find(")", i)
                if close == -1:
                    raise EntityParseError(
                        f"Can't find end of the entity starting at byte offset "
                        f"{byte_offset(text, begin)}"
                    )
                url, i = text[i + 1 : close], close + 1
            entity = link_entity(url, offset, length) if length else None
        elif length:
            entity = {"type": kind, "offset": offset, "length": length}
            if language:
                entity["language"] = language
        else:
            entity = None
        if entity is not None:
            entities.append(entity)
    return out.text(), entities
