"""The posting-bot button syntax: what parses into which rows, and each error's words."""

from __future__ import annotations

import pytest

from providers.base import LinkButton
from providers.telegram_buttons import (
    MAX_BUTTONS,
    MAX_ROW,
    MAX_TEXT,
    ButtonError,
    button_problems,
    format_buttons,
    inline_keyboard,
    parse_buttons,
)


def b(text: str, url: str) -> LinkButton:
    return LinkButton(text=text, url=url)


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        pytest.param("", (), id="nothing"),
        pytest.param("\n  \n", (), id="blank-lines"),
        pytest.param(
            "Our site - https://example.com",
            ((b("Our site", "https://example.com"),),),
            id="one-button",
        ),
        pytest.param(
            "Site - https://example.com | Shop - http://shop.example.com/a?b=1#c",
            ((b("Site", "https://example.com"), b("Shop", "http://shop.example.com/a?b=1#c")),),
            id="two-on-a-row",
        ),
        pytest.param(
            "A - https://a.example\n\nB - tg://resolve?domain=crier | C - tg://user?id=42\n",
            (
                (b("A", "https://a.example"),),
                (b("B", "tg://resolve?domain=crier"), b("C", "tg://user?id=42")),
            ),
            id="rows-and-a-blank-line",
        ),
        pytest.param(
            "Before - after - https://example.com",
            ((b("Before - after", "https://example.com"),),),
            id="a-dash-in-the-text",
        ),
        pytest.param(
            "  Spaced   –   https://example.com  |  Em — HTTPS://EXAMPLE.COM ",
            ((b("Spaced", "https://example.com"), b("Em", "HTTPS://EXAMPLE.COM")),),
            id="en-and-em-dashes-and-extra-space",
        ),
        pytest.param(
            "🎉 Ünïcode - https://例え.jp/パス",
            ((b("🎉 Ünïcode", "https://例え.jp/パス"),),),
            id="unicode",
        ),
        pytest.param(
            " | ".join(f"{n} - https://{n}.example" for n in range(MAX_ROW)),
            (tuple(b(str(n), f"https://{n}.example") for n in range(MAX_ROW)),),
            id="a-full-row",
        ),
        pytest.param(
            f"{'x' * MAX_TEXT} - https://example.com",
            ((b("x" * MAX_TEXT, "https://example.com"),),),
            id="longest-text",
        ),
    ],
)
def test_parses(text: str, rows: tuple[tuple[LinkButton, ...], ...]) -> None:
    parsed = parse_buttons(text)
    assert parsed.errors == ()
    assert parsed.ok
    assert parsed.rows == rows


@pytest.mark.parametrize(
    ("text", "errors"),
    [
        pytest.param(
            "Just a label",
            [
                (
                    1,
                    "Line 1: write a button as its text, a dash and its link: “Our site - "
                    "https://example.com”.",
                )
            ],
            id="no-link",
        ),
        pytest.param(
            "Site -https://example.com",
            [
                (
                    1,
                    "Line 1: put spaces around the dash between the text and the link: "
                    "“Text - https://…”.",
                )
            ],
            id="no-space-after-the-dash",
        ),
        pytest.param(
            "- https://example.com",
            [(1, "Line 1: the button has no text before the dash.")],
            id="no-text",
        ),
        pytest.param(
            "Files - ftp://files.example.com",
            [
                (
                    1,
                    "Line 1: “ftp://files.example.com” can't be opened from a button; use a "
                    "https://, http:// or tg:// link.",
                )
            ],
            id="ftp",
        ),
        pytest.param(
            "Run - javascript:alert(1)",
            [
                (
                    1,
                    "Line 1: “javascript:alert(1)” can't be opened from a button; use a "
                    "https://, http:// or tg:// link.",
                )
            ],
            id="javascript",
        ),
        pytest.param(
            "Site - example.com",
            [
                (
                    1,
                    "Line 1: “example.com” can't be opened from a button; use a https://, "
                    "http:// or tg:// link.",
                )
            ],
            id="no-scheme",
        ),
        pytest.param(
            "Local - http://localhost:8080",
            [(1, "Line 1: “http://localhost:8080” is not a web address.")],
            id="no-public-host",
        ),
        pytest.param(
            "Empty - tg://",
            [(1, "Line 1: “tg://” is an empty tg:// link.")],
            id="empty-tg",
        ),
        pytest.param(
            "A - https://a.example|B - https://b.example",
            [
                (
                    1,
                    "Line 1: “https://a.example|B” has a “|” in it; put spaces around “|” "
                    "between buttons.",
                )
            ],
            id="pipe-without-spaces",
        ),
        pytest.param(
            "A - https://a.example |  | B - https://b.example",
            [
                (
                    1,
                    "Line 1, button 2: there is an empty button (two “|” in a row, or one at "
                    "an end).",
                )
            ],
            id="empty-button-in-a-row",
        ),
        pytest.param(
            "A - https://a.example |",
            [
                (
                    1,
                    "Line 1, button 2: there is an empty button (two “|” in a row, or one at "
                    "an end).",
                )
            ],
            id="trailing-pipe",
        ),
        pytest.param(
            f"{'y' * (MAX_TEXT + 1)} - https://example.com",
            [(1, f"Line 1: the text is {MAX_TEXT + 1} characters long; keep a button to 64.")],
            id="text-too-long",
        ),
        pytest.param(
            f"{'😀' * 33} - https://example.com",
            [(1, "Line 1: the text is 66 characters long; keep a button to 64.")],
            id="text-counted-in-utf16",
        ),
        pytest.param(
            " | ".join(f"{n} - https://{n}.example" for n in range(MAX_ROW + 1)),
            [
                (
                    1,
                    "Line 1 has 9 buttons; Telegram shows at most 8 in a row. Move some to a "
                    "new line.",
                )
            ],
            id="row-too-long",
        ),
        pytest.param(
            "Good - https://good.example\n\nBad\nAlso - https://ok.example | Worse - mailto:x@y.z",
            [
                (
                    3,
                    "Line 3: write a button as its text, a dash and its link: “Our site - "
                    "https://example.com”.",
                ),
                (
                    4,
                    "Line 4, button 2: “mailto:x@y.z” can't be opened from a button; use a "
                    "https://, http:// or tg:// link.",
                ),
            ],
            id="every-bad-line-named",
        ),
    ],
)
def test_errors_name_the_line_and_why(text: str, errors: list[tuple[int, str]]) -> None:
    parsed = parse_buttons(text)
    assert parsed.rows == ()
    assert not parsed.ok
    assert parsed.errors == tuple(ButtonError(line=n, message=m) for n, m in errors)


def test_more_than_a_hundred_buttons_is_named_at_the_line_that_passes_the_limit() -> None:
    row = " | ".join(f"{n} - https://{n}.example" for n in range(5))
    parsed = parse_buttons("\n".join([row] * 21))  # 105 buttons, five a line
    assert parsed.errors == (
        ButtonError(
            line=21,
            message=(
                f"Line 21 brings the buttons to 105; Telegram takes at most {MAX_BUTTONS} "
                "under one post."
            ),
        ),
    )


def test_format_reads_back_as_the_same_rows() -> None:
    rows = (
        (b("A - dash", "https://a.example"), b("B", "tg://resolve?domain=b")),
        (b("C", "http://c.example/x?y=1"),),
    )
    text = format_buttons(rows)
    assert text == (
        "A - dash - https://a.example | B - tg://resolve?domain=b\nC - http://c.example/x?y=1"
    )
    assert parse_buttons(text).rows == rows


def test_inline_keyboard_is_the_reply_markup() -> None:
    rows = ((b("A", "https://a.example"), b("B", "https://b.example")), (b("C", "tg://x"),))
    assert inline_keyboard(rows) == {
        "inline_keyboard": [
            [{"text": "A", "url": "https://a.example"}, {"text": "B", "url": "https://b.example"}],
            [{"text": "C", "url": "tg://x"}],
        ]
    }


@pytest.mark.parametrize(
    ("rows", "problems"),
    [
        pytest.param(((b("A", "https://a.example"),),), [], id="fine"),
        pytest.param(((),), ["Row 1 of the buttons is empty."], id="empty-row"),
        pytest.param(
            ((b("", "https://a.example"), b("B", "ftp://b.example")),),
            [
                "Row 1, button 1: the button has no text.",
                "Row 1, button 2: “ftp://b.example” can't be opened from a button; use a "
                "https://, http:// or tg:// link.",
            ],
            id="bad-buttons",
        ),
        pytest.param(
            (tuple(b("x", "https://x.example") for _ in range(9)),) * 12,
            ["108 buttons; Telegram takes at most 100 under one post."]
            + [f"Row {n} has 9 buttons; Telegram shows at most 8 in a row." for n in range(1, 13)],
            id="over-both-limits",
        ),
    ],
)
def test_button_problems_check_rows_however_made(
    rows: tuple[tuple[LinkButton, ...], ...], problems: list[str]
) -> None:
    assert button_problems(rows) == problems
