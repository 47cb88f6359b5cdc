"""Bulk scheduling files: reading a CSV of posts, and the CSVs the bot hands back.

Pure functions, no I/O: `bot.compose.bulk_plan` checks the rows against the user's accounts,
platforms and media, and stores them. A file has a header row naming its columns (text,
time, accounts; optionally media_url and alt_text, in any order, extra columns ignored),
is UTF-8 with or without a byte-order mark, and is separated by commas or semicolons
(what spreadsheets in many countries write). Rows are numbered as a spreadsheet shows
them: the header is row 1, so the first post is row 2.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.schedule.parse import (
    MAX_AHEAD,
    NOW_GRACE,
    NeedsChoice,
    TimeParseError,
    format_when,
    parse_when,
    zone,
)
from storage.models import Account

#: Largest CSV file read, bytes (500 long posts fit in well under this).
MAX_FILE_BYTES = 5_000_000
COLUMNS = ("text", "time", "accounts", "media_url", "alt_text")
REQUIRED = ("text", "time", "accounts")
#: Other names people give the columns (after lower-casing; spaces and dashes become _).
ALIASES = {
    "media": "media_url",
    "media_link": "media_url",
    "image_url": "media_url",
    "url": "media_url",
    "alt": "alt_text",
    "alt_texts": "alt_text",
    "description": "alt_text",
    "account": "accounts",
    "when": "time",
    "date": "time",
}
ALL_ACCOUNTS = "all"
_DELIMITERS = (",", ";", "\t")
_SEPARATOR = ";"


class BulkFileError(ValueError):
    """The file as a whole can't be read; the message says why, for the user."""


@dataclass(frozen=True, kw_only=True)
class Row:
    """One post as the file gives it: every cell as text, stripped."""

    #: As a spreadsheet shows it: the header is row 1.
    number: int
    text: str = ""
    time: str = ""
    accounts: str = ""
    media_url: str = ""
    alt_text: str = ""
    #: Why the row's shape is wrong (more cells than columns), or "".
    shape_problem: str = ""
    #: The cells as read, for the CSV of rejected rows.
    cells: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Sheet:
    rows: list[Row]
    #: The column names as the file wrote them, in order.
    header: list[str]
    delimiter: str


def normalise_column(name: str) -> str:
    key = re.sub(r"[\s\-]+", "_", name.strip().lower())
    return ALIASES.get(key, key)


def decode(data: bytes) -> str:
    """The file's text: UTF-8, with or without a byte-order mark."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BulkFileError(
            "That file is UTF-16 text. Save it as “CSV UTF-8” (Excel) or download it as CSV "
            "(Google Sheets, Numbers, LibreOffice) and send it again."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BulkFileError(
            "That file isn't UTF-8 text. Save it as “CSV UTF-8” (Excel) or download it as "
            "CSV (Google Sheets, Numbers, LibreOffice) and send it again."
        ) from exc


def looks_like_bulk(data: bytes) -> bool:
    """Whether the file's header names the required columns (without reading further)."""
    try:
        text = decode(data)
    except BulkFileError:
        return False
    return _header(text) is not None


def _header(text: str) -> tuple[str, list[str]] | None:
    """The delimiter and header of the file, if some delimiter gives the required columns."""
    for delimiter in _DELIMITERS:
        try:
            first = next(csv.reader(io.StringIO(text), delimiter=delimiter), None)
        except csv.Error:
            continue
        if first and set(REQUIRED) <= {normalise_column(name) for name in first}:
            return delimiter, first
    return None


def read(data: bytes, *, max_rows: int) -> Sheet:
    """Every non-blank row of a bulk file; raise `BulkFileError` if the file can't be used."""
    if len(data) > MAX_FILE_BYTES:
        raise BulkFileError(
            f"That file is {len(data) / 1_000_000:.1f} MB; a bulk file can be at most "
            f"{MAX_FILE_BYTES / 1_000_000:g} MB. Split it into smaller files."
        )
    text = decode(data)
    if not text.strip():
        raise BulkFileError("That file is empty.")
    found = _header(text)
    if found is None:
        raise BulkFileError(
            "The first row must name the columns: text, time, accounts (and optionally "
            "media_url, alt_text), separated by commas or semicolons. Send /bulk for an example."
        )
    delimiter, header = found
    names = [normalise_column(name) for name in header]
    repeated = sorted({n for n in names if n in COLUMNS and names.count(n) > 1})
    if repeated:
        raise BulkFileError(f"The column {repeated[0]} appears twice in the header.")
    # strict: an unclosed quote is an error, not the rest of the file read as one text.
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    rows: list[Row] = []
    try:
        next(reader)
        for index, record in enumerate(reader):
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) >= max_rows:
                raise BulkFileError(
                    f"That file has more than {max_rows:,} rows; I take at most {max_rows:,} "
                    "at once. Split it into smaller files and send them one by one."
                )
            rows.append(_row(index + 2, names, header, record))
    except csv.Error as exc:
        raise BulkFileError(
            f"The file can't be read as CSV near line {reader.line_num}: {exc}. A text with "
            "quotes, commas or line breaks must be in double quotes."
        ) from exc
    if not rows:
        raise BulkFileError("That file has a header but no rows to schedule.")
    return Sheet(rows=rows, header=header, delimiter=delimiter)


def _row(number: int, names: list[str], header: list[str], record: list[str]) -> Row:
    values = {name: "" for name in COLUMNS}
    cells: dict[str, str] = {}
    for index, cell in enumerate(record[: len(names)]):
        cells[header[index]] = cell
        if names[index] in values:
            values[names[index]] = cell.strip()
    extra = [cell for cell in record[len(names) :] if cell.strip()]
    shape = ""
    if extra:
        shape = (
            f"it has {len(names) + len(extra)} values but the header names {len(names)} "
            "columns: put a text with commas or semicolons in double quotes"
        )
    return Row(number=number, shape_problem=shape, cells=cells, **values)


# -- cells ---------------------------------------------------------------------------------


def read_time(cell: str, tz: str, now: datetime, language: str | None = None) -> datetime:
    """The UTC instant a time cell means in the user's zone; raise `TimeParseError` with a
    reason for the user. An ISO time with its offset ("2026-03-29T03:30+02:00") is taken
    as that instant: it is how a time the clocks skip or repeat is written unambiguously."""
    text = cell.strip()
    if not text:
        raise TimeParseError("no time given")
    exact = _iso_with_offset(text)
    if exact is None:
        try:
            return parse_when(text, tz, now, language)
        except NeedsChoice as exc:
            raise TimeParseError(_dst_reason(exc, tz)) from exc
    if exact < now - NOW_GRACE:
        shown = format_when(exact, tz, now, with_distance=False, style="abbr")
        raise TimeParseError(f"{shown} is in the past")
    if exact - now > MAX_AHEAD:
        raise TimeParseError("that is more than 3 years away")
    return max(exact, now)


def _iso_with_offset(text: str) -> datetime | None:
    if not re.fullmatch(
        r"\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(:\d{2})?\s?(Z|[+-]\d{2}:?\d{2})", text
    ):
        return None
    try:
        value = datetime.fromisoformat(text.replace(" Z", "Z").replace(" +", "+"))
    except ValueError:
        return None
    if value.tzinfo is None:
        return None
    return value.astimezone(UTC)


def _dst_reason(exc: NeedsChoice, tz: str) -> str:
    """The clock change in words, and how to write each reading of the time."""
    message = exc.resolution.message
    for question in ("Which time do you mean?", "Which one do you mean?"):
        message = message.replace(question, "").strip()
    spelled = [c.instant.astimezone(zone(tz)).isoformat(timespec="minutes") for c in exc.choices]
    return f"{message} Write the one you mean with its UTC offset: {' or '.join(spelled)}"


def split_accounts(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(_SEPARATOR) if part.strip()]


def match_accounts(cell: str, owned: Sequence[Account]) -> tuple[list[Account], list[str]]:
    """The user's accounts a cell names (labels, case-insensitive, with or without "@"; or
    ids; or "all"), and a reason for each name that matches none or several."""
    names = split_accounts(cell)
    if not names:
        return [], ["no accounts given (name them separated by “;”, or write all)"]
    chosen: dict[int, Account] = {}
    problems: list[str] = []
    for name in names:
        if name.lower() == ALL_ACCOUNTS:
            chosen.update((a.id, a) for a in owned)
            continue
        found = _find(name, owned)
        if len(found) == 1:
            chosen[found[0].id] = found[0]
        elif found:
            ids = ", ".join(str(a.id) for a in found)
            problems.append(f"“{name}” is the name of {len(found)} accounts: use its id ({ids})")
        else:
            problems.append(f"unknown account “{name}” (yours: {_labels(owned)})")
    return sorted(chosen.values(), key=lambda a: a.id), problems


def _find(name: str, owned: Sequence[Account]) -> list[Account]:
    wanted = name.strip().lower()
    if wanted.lstrip("#").isdigit():
        by_id = [a for a in owned if a.id == int(wanted.lstrip("#"))]
        if by_id:
            return by_id
    plain = wanted.lstrip("@")
    return [a for a in owned if a.label.strip().lower().lstrip("@") == plain]


def _labels(owned: Sequence[Account], limit: int = 6) -> str:
    labels = [a.label for a in owned[:limit]]
    more = len(owned) - len(labels)
    return ", ".join(labels) + (f" and {more} more" if more > 0 else "") if labels else "none"


# -- files the bot sends -------------------------------------------------------------------


def example(owned: Sequence[Account], tz: str, now: datetime) -> bytes:
    """A ready-to-edit example with times in the coming days of the user's zone, naming
    the user's own accounts."""
    local = now.astimezone(zone(tz))
    day = [(local + timedelta(days=n)).strftime("%Y-%m-%d") for n in (1, 2, 3)]
    first = owned[0].label if owned else "Dry run"
    several = _SEPARATOR.join(a.label for a in owned[:2]) if len(owned) > 1 else ALL_ACCOUNTS
    rows = [
        list(COLUMNS),
        ["Good morning! Our new season starts today.", f"{day[0]} 09:00", first, "", ""],
        [
            "A text over several lines:\nsecond line, with a comma and a “quote”.",
            f"{day[1]} 12:30",
            several,
            "",
            "",
        ],
        [
            "A photo from a link, with a description for screen readers.",
            f"{day[2]} 18:00",
            first,
            "https://example.com/photo.jpg",
            "A lighthouse at sunset",
        ],
    ]
    return _csv(rows)


def rejected(rows: Iterable[tuple[Row, Sequence[str]]], header: Sequence[str]) -> bytes:
    """The rejected rows as they were, with their row number and a `reason` column; the
    file can be fixed and sent back as it is (the extra columns are ignored)."""
    lines = [["row", *header, "reason"]]
    for row, reasons in rows:
        lines.append([str(row.number), *(row.cells.get(n, "") for n in header), "; ".join(reasons)])
    return _csv(lines)


def _csv(rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    # With a byte-order mark, Excel opens the file as UTF-8 (others ignore it).
    return buffer.getvalue().encode("utf-8-sig")
