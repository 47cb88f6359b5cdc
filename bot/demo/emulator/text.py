"""Telegram's text handling for the Bot API emulator: parse modes, limits, entities.

``format_text`` applies ``parse_mode``/``entities`` the way Telegram does (HTML, MarkdownV2
and legacy Markdown parsers live in ``markup.py`` and ``markdown.py``),
trims surrounding whitespace and enforces length limits counted in UTF-16 code units.
"""

from __future__ import annotations

import re

from bot.demo.emulator.markdown import parse_markdown, parse_markdown_v2
from bot.demo.emulator.markup import JSON, EntityParseError, parse_html, utf16_len
from bot.demo.emulator.world import bad_request

__all__ = ["EntityParseError", "detect_entities", "format_text", "utf16_len"]

_TRIM = " \t\r\n"
_OPAQUE = frozenset(
    {
        "code", "pre", "text_link", "text_mention", "custom_emoji", "url", "mention",
        "hashtag", "bot_command", "email", "cashtag", "phone_number",
    }
)  # fmt: skip


def _trim(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Telegram strips leading and trailing whitespace, clipping entities to match."""
    stripped_left = text.lstrip(_TRIM)
    shift = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip(_TRIM)
    total = utf16_len(result)
    clipped: list[JSON] = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, total)
        if end > start:
            clipped.append({**entity, "offset": start, "length": end - start})
    return result, clipped


def format_text(
    text: str,
    parse_mode: str | None,
    entities: list[JSON] | None,
    *,
    limit: int,
    too_long: str,
    empty: str | None,
) -> tuple[str, list[JSON]]:
    """Apply ``parse_mode``/``entities`` like Telegram and enforce the length ``limit``.

    Raises :class:`ApiError` (400) with Telegram's descriptions. ``empty`` is the error for
    an empty result, or None when empty is allowed (captions).
    """
    mode = (parse_mode or "").strip().lower()
    try:
        if entities:
            plain, parsed = text, [dict(e) for e in entities]
        elif mode == "html":
            plain, parsed = parse_html(text)
        elif mode == "markdownv2":
            plain, parsed = parse_markdown_v2(text)
        elif mode == "markdown":
            plain, parsed = parse_markdown(text)
        elif mode:
            raise bad_request("unsupported parse_mode")
        else:
            plain, parsed = text, []
    except EntityParseError as exc:
        raise bad_request(f"can't parse entities: {exc}") from None
    plain, parsed = _trim(plain, parsed)
    if not plain and empty is not None:
        raise bad_request(empty)
    if utf16_len(plain) > limit:
        raise bad_request(too_long)
    # Telegram also detects links, mentions, hashtags and commands in what bots send,
    # except inside code, pre and links.
    opaque = [e for e in parsed if e.get("type") in _OPAQUE]
    for found in detect_entities(plain):
        start, end = found["offset"], found["offset"] + found["length"]
        if all(end <= e["offset"] or start >= e["offset"] + e["length"] for e in opaque):
            parsed.append(found)
    parsed.sort(key=lambda e: (e["offset"], -e["length"]))
    return plain, parsed


def detect_entities(text: str) -> list[JSON]:
    """Entities Telegram's servers detect in plain text: commands, URLs, mentions, hashtags."""
    entities: list[JSON] = []
    patterns = (
        ("bot_command", r"(?:(?<=\s)|^)/[a-zA-Z0-9_]{1,32}(?:@[a-zA-Z0-9_]{3,32})?"),
        ("url", r"https?://[^\s<>\"']+"),
        ("mention", r"(?:(?<=\s)|^)@[a-zA-Z0-9_]{5,32}"),
        ("hashtag", r"(?:(?<=\s)|^)#\w+"),
    )
    for kind, pattern in patterns:
        for match in re.finditer(pattern, text):
            offset = utf16_len(text[: match.start()])
            entities.append({"offset": offset, "length": utf16_len(match.group(0)), "type": kind})
    entities.sort(key=lambda e: e["offset"])
    return entities
