"""LinkedIn's little text (escaping the reserved characters, keeping hashtags) and the link
card made for a text-only post with a link."""

from __future__ import annotations

import pytest

from providers.linkedin_text import MAX_TITLE, escape_commentary, first_link, link_card
from tests.fakes.linkedin_state import read_little


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("Plain words, numbers 1-2-3 & emoji 🎉", "Plain words, numbers 1-2-3 & emoji 🎉"),
        ("(a) [b] {c} <d>", "\\(a\\) \\[b\\] \\{c\\} \\<d\\>"),
        ("@alice | *bold* _it_", "\\@alice \\| \\*bold\\* \\_it\\_"),
        ("~strike~ back\\slash", "\\~strike\\~ back\\\\slash"),
        ("#launch day", "#launch day"),
        ("Day one #launch, #2026!", "Day one #launch, #2026!"),
        ("C# and a#b and # alone and ##double", "C\\# and a\\#b and \\# alone and \\#\\#double"),
        ("https://x.com/a_b#frag", "https://x.com/a\\_b\\#frag"),
        ("#café #日本", "#café #日本"),
    ],
    ids=[
        "plain", "brackets", "marks", "strike-and-backslash", "hashtag", "hashtags",
        "not-hashtags", "link", "unicode",
    ],
)  # fmt: skip
def test_escape_commentary(typed: str, sent: str) -> None:
    assert escape_commentary(typed) == sent


@pytest.mark.parametrize(
    "typed",
    [
        "Launch (beta) today: 50% off [ends Friday] {promo} <3",
        "Ping @alice, a_b * c ~ d | e \\ f \\\\ g",
        "Trailing backslash \\",
        "#tag_with_underscore and x#y",
        "https://en.wikipedia.org/wiki/Python_(programming_language)",
        "Line one\n\n  Line (two)\t#end",
    ],
)
def test_linkedin_reads_back_exactly_what_was_typed(typed: str) -> None:
    shown, _ = read_little(escape_commentary(typed))
    assert shown == typed


@pytest.mark.parametrize(
    ("text", "card"),
    [
        ("No link here", None),
        (
            "New post: Scaling Crier https://blog.example/scaling?x=1.",
            {"source": "https://blog.example/scaling?x=1", "title": "New post: Scaling Crier."},
        ),
        (
            "https://example.com/only",
            {"source": "https://example.com/only", "title": "example.com"},
        ),
        (
            "\n\nhttps://a.example/1 — Release notes\nmore text https://b.example/2",
            {"source": "https://a.example/1", "title": "Release notes"},
        ),
        (
            "See (https://en.wikipedia.org/wiki/Python_(programming_language))",
            {
                "source": "https://en.wikipedia.org/wiki/Python_(programming_language)",
                "title": "See",
            },
        ),
        ("ftp://old.example/file is not a web link", None),
    ],
    ids=["none", "text-and-link", "link-only", "first-of-two", "parentheses", "ftp"],
)
def test_link_card(text: str, card: dict[str, str] | None) -> None:
    assert link_card(text) == card


def test_a_long_title_is_cut_at_a_word_edge_with_an_ellipsis() -> None:
    card = link_card("word " * 100 + "https://example.com")
    assert card is not None
    assert len(card["title"]) <= MAX_TITLE
    assert card["title"].endswith("…")


def test_first_link_keeps_balanced_brackets_and_drops_trailing_punctuation() -> None:
    assert first_link("(see https://x.example/a).") == "https://x.example/a"
    assert first_link("https://x.example/f(1)!") == "https://x.example/f(1)"
