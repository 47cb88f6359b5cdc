"""URL buttons under a Telegram post: the syntax posting bots use, parsed and checked.

One line per row of buttons, ` | ` between the buttons of a row, each button its text, a
dash and its link::

    Our site - https://example.com | Shop - https://shop.example.com
    Join the chat - tg://resolve?domain=examplechat

Blank lines are skipped; an en or em dash works as well as "-" (phones like to turn one into
the other). Links must be https://, http:// (to a named host) or tg://.

Limits: the Bot API documents none for inline keyboards, but Telegram's servers refuse more
than 8 buttons in a row (`MAX_ROW`) or 100 under one message (`MAX_BUTTONS`). The label has
no documented limit either; longer than `MAX_TEXT` UTF-16 units is cut off on every client,
so Crier refuses it instead of publishing a truncated button.

Pure functions, no I/O: the bot parses what the user typed with `parse_buttons` and shows
`ButtonError.message` for each bad line; `button_problems` checks rows however they were
made (the adapter's `validate` runs it); `format_buttons` writes rows back in the syntax,
for editing; `inline_keyboard` is the `reply_markup` that goes on the wire.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from providers.base import ButtonRows, LinkButton
from providers.text import utf16_length

#: Most buttons in one row, and under one message.
MAX_ROW = 8
MAX_BUTTONS = 100
#: Longest label, in UTF-16 code units (what Telegram counts).
MAX_TEXT = 64
#: Longest link.
MAX_URL = 2048

_BUTTON = re.compile(r"^(?P<text>.*?\S)\s+[-–—]\s+(?P<url>\S+)$")
_ROW_SEPARATOR = re.compile(r"\s\|\s")
_SCHEMES = ("https", "http", "tg")


@dataclass(frozen=True, kw_only=True)
class ButtonError:
    """Why one line of the user's buttons can't be used."""

    #: 1-based line number in the text the user sent.
    line: int
    #: A sentence for the user, starting with where: "Line 3, button 2: ...".
    message: str


@dataclass(frozen=True, kw_only=True)
class ParsedButtons:
    #: The rows, when there are no errors; () otherwise.
    rows: ButtonRows
    errors: tuple[ButtonError, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_buttons(text: str) -> ParsedButtons:
    """Rows of URL buttons from the posting-bot syntax, or every error found, each naming
    its line. Empty text gives no rows and no errors (no buttons)."""
    rows: list[tuple[LinkButton, ...]] = []
    errors: list[ButtonError] = []
    total = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        # Padded, so a "|" at either end leaves an empty button to complain about.
        pieces = [piece.strip() for piece in _ROW_SEPARATOR.split(f" {line} ")]
        several = len(pieces) > 1
        row: list[LinkButton] = []
        line_errors: list[ButtonError] = []
        for index, piece in enumerate(pieces, start=1):
            where = f"Line {number}, button {index}" if several else f"Line {number}"
            button, problem = _button(piece)
            if problem:
                line_errors.append(ButtonError(line=number, message=f"{where}: {problem}"))
            elif button is not None:
                row.append(button)
        if len(pieces) > MAX_ROW:
            line_errors.append(
                ButtonError(
                    line=number,
                    message=(
                        f"Line {number} has {len(pieces)} buttons; Telegram shows at most "
                        f"{MAX_ROW} in a row. Move some to a new line."
                    ),
                )
            )
        before = total
        total += len(pieces)
        if before <= MAX_BUTTONS < total:
            line_errors.append(
                ButtonError(
                    line=number,
                    message=(
                        f"Line {number} brings the buttons to {total}; Telegram takes at most "
                        f"{MAX_BUTTONS} under one post."
                    ),
                )
            )
        errors.extend(line_errors)
        if not line_errors:
            rows.append(tuple(row))
    if errors:
        return ParsedButtons(rows=(), errors=tuple(errors))
    return ParsedButtons(rows=tuple(rows))


def button_problems(rows: ButtonRows) -> list[str]:
    """What Telegram would refuse about these rows, however they were made."""
    problems: list[str] = []
    total = sum(len(row) for row in rows)
    if total > MAX_BUTTONS:
        problems.append(f"{total} buttons; Telegram takes at most {MAX_BUTTONS} under one post.")
    for number, row in enumerate(rows, start=1):
        if not row:
            problems.append(f"Row {number} of the buttons is empty.")
        if len(row) > MAX_ROW:
            problems.append(
                f"Row {number} has {len(row)} buttons; Telegram shows at most {MAX_ROW} in a row."
            )
        for index, button in enumerate(row, start=1):
            where = f"Row {number}, button {index}" if len(row) > 1 else f"Row {number}"
            problem = _text_problem(button.text) or _url_problem(button.url)
            if problem:
                problems.append(f"{where}: {problem}")
    return problems


def format_buttons(rows: ButtonRows) -> str:
    """The rows in the syntax `parse_buttons` reads (what the user edits)."""
    return "\n".join(" | ".join(f"{b.text} - {b.url}" for b in row) for row in rows)


def inline_keyboard(rows: ButtonRows) -> dict[str, Any]:
    """The `reply_markup` for these rows: an InlineKeyboardMarkup of URL buttons."""
    return {"inline_keyboard": [[{"text": b.text, "url": b.url} for b in row] for row in rows]}


# -- one button -----------------------------------------------------------------------------


def _button(piece: str) -> tuple[LinkButton | None, str | None]:
    if not piece:
        return None, "there is an empty button (two “|” in a row, or one at an end)."
    glued = re.search(r"(?i)\S*(https?|tg)://\S*\|\S*", piece)
    if glued:
        return None, _url_problem(glued[0])
    match = _BUTTON.match(piece)
    if match is None:
        if re.match(r"^[-–—]\s*\S", piece):
            return None, "the button has no text before the dash."
        if re.search(r"(?i)(https?|tg)://\S*$", piece) and not re.search(r"\s[-–—]\s", piece):
            return (
                None,
                "put spaces around the dash between the text and the link: “Text - https://…”.",
            )
        return (
            None,
            "write a button as its text, a dash and its link: “Our site - https://example.com”.",
        )
    text, url = match["text"].strip(), match["url"]
    problem = _text_problem(text) or _url_problem(url)
    if problem:
        return None, problem
    return LinkButton(text=text, url=url), None


def _text_problem(text: str) -> str | None:
    if not text.strip():
        return "the button has no text."
    length = utf16_length(text)
    if length > MAX_TEXT:
        return f"the text is {length} characters long; keep a button to {MAX_TEXT}."
    return None


def _url_problem(url: str) -> str | None:
    shown = url if len(url) <= 60 else url[:59] + "…"
    if "|" in url:
        return f"“{shown}” has a “|” in it; put spaces around “|” between buttons."
    if len(url) > MAX_URL:
        return f"the link is {len(url):,} characters long; Telegram takes {MAX_URL:,}."
    try:
        parts = urlsplit(url)
    except ValueError:
        return f"“{shown}” is not a link."
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        return f"“{shown}” can't be opened from a button; use a https://, http:// or tg:// link."
    if scheme == "tg":
        if not (parts.netloc or parts.path.strip("/")):
            return f"“{shown}” is an empty tg:// link."
        return None
    host = parts.hostname or ""
    if not host or "." not in host.strip(".") or any(c.isspace() for c in url):
        return f"“{shown}” is not a web address."
    return None
