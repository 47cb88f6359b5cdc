"""Bulk files: reading the CSV people export from spreadsheets, and the rows' cells."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from bot.compose import bulk
from bot.compose.bulk import BulkFileError, match_accounts, read, read_time
from bot.schedule.parse import TimeParseError
from storage.models import Account

# Sunday 22 Nov 2026, 10:00 in Berlin (CET, UTC+1).
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
BERLIN = "Europe/Berlin"


def account(id_: int, label: str, platform: str = "telegram") -> Account:
    return Account(id=id_, user_id=1, platform=platform, label=label, config={})


OWNED = [account(1, "Dry run", "dryrun"), account(2, "@news"), account(3, "Shop")]


# -- reading files -----------------------------------------------------------------------------


def test_a_comma_file_is_read_with_spreadsheet_row_numbers() -> None:
    data = (
        b"text,time,accounts\n"
        b"Hello,2026-12-24 18:00,Dry run\n"
        b",,\n"  # a blank row is skipped but still counts in the numbering
        b'"Two\nlines, with a comma",tomorrow 9am,all\n'
    )
    sheet = read(data, max_rows=10)
    assert sheet.delimiter == ","
    assert [(r.number, r.text, r.time, r.accounts) for r in sheet.rows] == [
        (2, "Hello", "2026-12-24 18:00", "Dry run"),
        (4, "Two\nlines, with a comma", "tomorrow 9am", "all"),
    ]
    assert sheet.rows[0].media_url == ""
    assert sheet.rows[0].alt_text == ""


def test_a_semicolon_file_with_a_byte_order_mark_is_read() -> None:
    data = (
        "\ufeffText;Time;Accounts;Media URL;Alt text\r\n"
        "Grüße, Welt;2026-12-24 18:00;Dry run;https://example.com/a.jpg;Ein Leuchtturm\r\n"
    ).encode()
    sheet = read(data, max_rows=10)
    assert sheet.delimiter == ";"
    row = sheet.rows[0]
    assert (row.text, row.accounts, row.media_url, row.alt_text) == (
        "Grüße, Welt",
        "Dry run",
        "https://example.com/a.jpg",
        "Ein Leuchtturm",
    )


def test_columns_may_come_in_any_order_with_extra_columns_ignored() -> None:
    data = b"notes,accounts,time,text\nmine,Shop,2026-12-24 18:00,Hi\n"
    row = read(data, max_rows=10).rows[0]
    assert (row.text, row.time, row.accounts) == ("Hi", "2026-12-24 18:00", "Shop")


def test_a_row_with_more_values_than_columns_says_to_quote() -> None:
    row = read(b"text,time,accounts\nHello, world,2026-12-24 18:00,Shop\n", max_rows=10).rows[0]
    assert "double quotes" in row.shape_problem


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "empty"),
        (b"text,when_exactly,accounts\nHi,now,all\n", "first row must name the columns"),
        (b"text,time,accounts\n", "no rows"),
        ("text,time,accounts\nCaf\u00e9,now,all\n".encode("cp1252"), "isn't UTF-8"),
        ("text,time,accounts\n".encode("utf-16"), "UTF-16"),
        (b"text,time,accounts,text\nHi,now,all,Ho\n", "appears twice"),
        (b'text,time,accounts\nOk,now,all\n"unclosed,now,all\nmore\n', "near line 4"),
        (b'text,time,accounts\n"Quoted" after,now,all\n', "double quotes"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(data: bytes, says: str) -> None:
    with pytest.raises(BulkFileError, match=says):
        read(data, max_rows=10)


def test_the_row_limit_is_enforced() -> None:
    data = b"text,time,accounts\n" + b"Hi,now,all\n" * 4
    assert len(read(data, max_rows=4).rows) == 4
    with pytest.raises(BulkFileError, match="more than 3 rows"):
        read(data, max_rows=3)


def test_looks_like_bulk_needs_the_header() -> None:
    assert bulk.looks_like_bulk(b"\xef\xbb\xbftext;time;accounts\nHi;now;all\n")
    assert not bulk.looks_like_bulk(b"name,price\nTea,3\n")
    assert not bulk.looks_like_bulk(b"\xff\xd8\xff\xe0 not text")


# -- cells -----------------------------------------------------------------------------------


def test_times_are_read_in_the_users_zone() -> None:
    assert read_time("2026-12-24 18:00", BERLIN, NOW) == datetime(2026, 12, 24, 17, tzinfo=UTC)
    assert read_time("tomorrow 9am", BERLIN, NOW) == datetime(2026, 11, 23, 8, tzinfo=UTC)


def test_an_iso_time_with_an_offset_is_that_instant() -> None:
    assert read_time("2027-03-28T03:30+02:00", BERLIN, NOW) == datetime(
        2027, 3, 28, 1, 30, tzinfo=UTC
    )
    assert read_time("2026-12-24 18:00Z", BERLIN, NOW) == datetime(2026, 12, 24, 18, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cell", "says"),
    [
        ("", "no time"),
        ("2026-11-01 09:00", "in the past"),
        ("2020-01-01T09:00+01:00", "in the past"),
        ("someday", "couldn't read"),
        ("2031-01-01 09:00", "3 years"),
    ],
)
def test_unusable_times_have_a_reason(cell: str, says: str) -> None:
    with pytest.raises(TimeParseError, match=says):
        read_time(cell, BERLIN, NOW)


def test_a_time_the_clocks_skip_is_an_error_that_says_how_to_write_it() -> None:
    # Berlin springs forward from 02:00 to 03:00 on 28 Mar 2027.
    with pytest.raises(TimeParseError) as caught:
        read_time("2027-03-28 02:30", BERLIN, NOW)
    reason = str(caught.value)
    assert "does not exist" in reason
    assert "2027-03-28T03:00+02:00" in reason
    assert "?" not in reason


def test_a_time_the_clocks_repeat_is_an_error_that_offers_both() -> None:
    # Berlin falls back from 03:00 to 02:00 on 31 Oct 2027: 02:30 happens twice.
    with pytest.raises(TimeParseError) as caught:
        read_time("2027-10-31 02:30", BERLIN, NOW)
    reason = str(caught.value)
    assert "happens twice" in reason
    assert "2027-10-31T02:30+02:00 or 2027-10-31T02:30+01:00" in reason
    # Written as offered, each reading is accepted.
    first, second = (read_time(t, BERLIN, NOW) for t in reason.split(": ")[-1].split(" or "))
    assert second - first == timedelta(hours=1)


def test_accounts_by_label_id_or_all_case_insensitive() -> None:
    chosen, problems = match_accounts("dry RUN; news ;#3", OWNED)
    assert [a.id for a in chosen] == [1, 2, 3]
    assert problems == []
    chosen, problems = match_accounts("ALL", OWNED)
    assert [a.id for a in chosen] == [1, 2, 3]
    chosen, _ = match_accounts("2", OWNED)
    assert [a.id for a in chosen] == [2]


def test_unknown_ambiguous_and_missing_accounts_are_named() -> None:
    owned = [*OWNED, account(4, "Shop", "mastodon")]
    chosen, problems = match_accounts("Shop; Mastodon; 99", owned)
    assert chosen == []
    assert problems[0] == "“Shop” is the name of 2 accounts: use its id (3, 4)"
    assert problems[1].startswith("unknown account “Mastodon” (yours: Dry run, @news, Shop")
    assert problems[2].startswith("unknown account “99”")
    assert match_accounts(" ; ", owned) == ([], [match_accounts("", owned)[1][0]])


def test_another_users_account_id_is_unknown() -> None:
    chosen, problems = match_accounts("7", OWNED)  # id 7 exists, but not among OWNED
    assert chosen == []
    assert problems == ["unknown account “7” (yours: Dry run, @news, Shop)"]


# -- files the bot sends ---------------------------------------------------------------------


def test_the_example_is_a_valid_bulk_file_with_future_times() -> None:
    data = bulk.example(OWNED, BERLIN, NOW)
    assert data.startswith(b"\xef\xbb\xbf")
    sheet = read(data, max_rows=10)
    assert len(sheet.rows) == 3
    assert "\n" in sheet.rows[1].text
    for row in sheet.rows:
        assert read_time(row.time, BERLIN, NOW) > NOW
        chosen, problems = match_accounts(row.accounts, OWNED)
        assert chosen
        assert problems == []
    assert sheet.rows[1].accounts == "Dry run;@news"
    assert sheet.rows[2].media_url.startswith("https://")
    assert sheet.rows[2].alt_text


def test_the_rejected_rows_file_keeps_the_cells_and_adds_a_reason() -> None:
    sheet = read(
        b'text;time;accounts;extra\nHi;yesterday;Shop;x\n"A; B";now;Nobody;y\n', max_rows=10
    )
    data = bulk.rejected(
        [(sheet.rows[0], ["in the past"]), (sheet.rows[1], ["unknown", "too long"])],
        sheet.header,
    )
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert lines == [
        ["row", "text", "time", "accounts", "extra", "reason"],
        ["2", "Hi", "yesterday", "Shop", "x", "in the past"],
        ["3", "A; B", "now", "Nobody", "y", "unknown; too long"],
    ]
    # Fixed and sent back as it is, it is a bulk file again.
    again = read(data, max_rows=10)
    assert [r.text for r in again.rows] == ["Hi", "A; B"]
