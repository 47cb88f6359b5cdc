"""Telegram entities -> what each platform gets (bot/engine/formatting.py), UTF-16 offsets
and all."""

from __future__ import annotations

import pytest

from bot.engine.text.formatting import (
    append,
    clean,
    cut,
    describe,
    for_platform,
    tidy,
    to_markdown,
    to_plain,
    utf16_len,
)


def entity(kind: str, text: str, part: str, **extra: object) -> dict[str, object]:
    """The entity Telegram would send for the first `part` of `text` (UTF-16 offsets)."""
    start = text.index(part)
    return {
        "type": kind,
        "offset": utf16_len(text[:start]),
        "length": utf16_len(part),
        **extra,
    }


EMOJI = "🚀🎉 Big news, read it here"
LINK = "https://example.com/post_1"


def test_utf16_length_counts_astral_characters_twice() -> None:
    assert utf16_len("a🚀b") == 4
    assert utf16_len("👨‍👩‍👧") == 8  # three people joined by two zero-width joiners


def test_clean_keeps_chosen_formatting_and_drops_what_platforms_detect() -> None:
    text = "Bold #tag @someone https://x.org code"
    raw = [
        entity("hashtag", text, "#tag"),
        entity("mention", text, "@someone"),
        entity("url", text, "https://x.org"),
        entity("pre", text, "code", language="python", custom="ignored"),
        entity("bold", text, "Bold"),
        {"type": "italic", "offset": 30, "length": 99},  # past the end: dropped
        {"type": "text_link", "offset": 0, "length": 4},  # no url: dropped
        {"type": "bold", "offset": "x", "length": 1},  # malformed: dropped
        {"type": "custom_emoji", "offset": 0, "length": 2, "custom_emoji_id": "5"},
    ]
    assert clean(text, raw) == [
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "pre", "offset": 33, "length": 4, "language": "python"},
    ]


def test_clean_keeps_a_text_mention_with_only_the_user_fields_needed() -> None:
    text = "Thanks Ann"
    raw = [
        entity(
            "text_mention", text, "Ann", user={"id": 7, "first_name": "Ann", "language_code": "en"}
        )
    ]
    assert clean(text, raw) == [
        {
            "type": "text_mention",
            "offset": 7,
            "length": 3,
            "user": {"id": 7, "is_bot": False, "first_name": "Ann"},
        }
    ]


def test_append_shifts_the_added_texts_entities_by_utf16_units() -> None:
    first = "🚀 Launch"
    second = "Read more"
    text, entities = append(
        first, [entity("bold", first, "Launch")], second, [entity("italic", second, "more")]
    )
    assert text == "🚀 Launch\n\nRead more"
    assert entities == [entity("bold", text, "Launch"), entity("italic", text, "more")]
    assert entities[1]["offset"] == utf16_len("🚀 Launch\n\nRead ")  # 16, not 15


def test_append_to_an_empty_draft_takes_the_text_as_it_is() -> None:
    assert append("", None, "Hi", [{"type": "bold", "offset": 0, "length": 2}]) == (
        "Hi",
        [{"type": "bold", "offset": 0, "length": 2}],
    )


def test_plain_text_writes_out_link_addresses_after_emoji() -> None:
    entities = [entity("bold", EMOJI, "Big news"), entity("text_link", EMOJI, "here", url=LINK)]
    assert to_plain(EMOJI, entities) == f"🚀🎉 Big news, read it here ({LINK})"


def test_plain_text_does_not_repeat_a_link_whose_words_are_its_address() -> None:
    text = f"See {LINK}/ now"
    entities = [entity("text_link", text, f"{LINK}/", url=LINK)]
    assert to_plain(text, entities) == text


def test_plain_text_keeps_formatting_nested_in_a_link() -> None:
    text = "Get the app today"
    entities = [
        entity("text_link", text, "the app", url="https://app.example"),
        entity("bold", text, "app"),
    ]
    assert to_plain(text, entities) == "Get the app (https://app.example) today"


def test_markdown_for_each_kind_of_formatting() -> None:
    text = "bold italic under strike secret code quote link"
    entities = [
        entity("bold", text, "bold"),
        entity("italic", text, "italic"),
        entity("underline", text, "under"),
        entity("strikethrough", text, "strike"),
        entity("spoiler", text, "secret"),
        entity("code", text, "code"),
        entity("text_link", text, "link", url="https://e.com/a(b)"),
    ]
    assert to_markdown(text, entities) == (
        "**bold** *italic* __under__ ~~strike~~ ||secret|| `code` quote "
        "[link](https://e.com/a%28b%29)"
    )


def test_markdown_offsets_after_emoji_land_on_the_right_words() -> None:
    entities = [entity("bold", EMOJI, "Big news"), entity("text_link", EMOJI, "here", url=LINK)]
    assert to_markdown(EMOJI, entities) == f"🚀🎉 **Big news**, read it [here]({LINK})"


def test_markdown_escapes_literal_markup_but_not_addresses() -> None:
    text = "Use *stars* and_under | [x] in https://e.com/a_b*c ok"
    entities = [entity("bold", text, "Use")]
    assert to_markdown(text, entities) == (
        r"**Use** \*stars\* and\_under \| \[x\] in https://e.com/a_b*c ok"
    )


def test_markdown_keeps_markers_tight_around_words() -> None:
    text = "say hello world"
    entities = [entity("bold", text, " hello ")]
    assert to_markdown(text, entities) == "say **hello** world"


def test_markdown_nests_and_quotes_line_by_line() -> None:
    text = "Intro\nQuoted line one\nline two\n# not a heading\n- not a list"
    entities = [
        entity("blockquote", text, "Quoted line one\nline two"),
        entity("italic", text, "one"),
    ]
    assert to_markdown(text, entities) == (
        "Intro\n> Quoted line *one*\n> line two\n\\# not a heading\n\\- not a list"
    )


def test_markdown_code_keeps_its_content_raw() -> None:
    text = "Run a_b`c then\nprint(1)\n"
    entities = [
        entity("code", text, "a_b`c"),
        entity("pre", text, "print(1)\n", language="python"),
    ]
    assert to_markdown(text, entities) == "Run `` a_b`c `` then\n```python\nprint(1)\n```"


def test_markdown_without_formatting_is_the_text_as_typed() -> None:
    assert to_markdown("Use **markdown** myself", []) == "Use **markdown** myself"


def test_an_offset_inside_a_surrogate_pair_does_not_split_the_emoji() -> None:
    # One unit into "🚀": Telegram never sends this, but nothing may break or garble.
    text = "🚀go"
    assert to_markdown(text, [{"type": "bold", "offset": 1, "length": 3}]) == "🚀**go**"


def test_a_partial_overlap_is_clipped_to_its_parent() -> None:
    text = "abcdef"
    entities = [
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "italic", "offset": 2, "length": 4},
    ]
    assert to_markdown(text, entities) == "**ab*cd***ef"


@pytest.mark.parametrize(
    ("platform", "expected_text", "keeps_entities"),
    [
        ("telegram", EMOJI, True),
        ("discord", f"🚀🎉 **Big news**, read it [here]({LINK})", False),
        ("mastodon", f"🚀🎉 Big news, read it here ({LINK})", False),
        ("bluesky", f"🚀🎉 Big news, read it here ({LINK})", False),
        ("webhook", f"🚀🎉 Big news, read it here ({LINK})", False),
        ("dryrun", f"🚀🎉 Big news, read it here ({LINK})", False),
    ],
)
def test_each_platform_gets_its_own_version(
    platform: str, expected_text: str, keeps_entities: bool
) -> None:
    entities = [
        entity("bold", EMOJI, "Big news"),
        entity("text_link", EMOJI, "here", url=LINK),
        entity("url", EMOJI, "🚀"),
    ]
    text, kept = for_platform(platform, EMOJI, entities)
    assert text == expected_text
    assert kept == (tuple(entities[:2]) if keeps_entities else ())


def test_the_preview_says_where_formatting_is_kept() -> None:
    assert describe(["telegram"]) == "Formatting is kept."
    assert describe(["telegram", "discord", "dryrun"]).startswith(
        "Formatting is kept on Telegram and Discord (as Markdown); the others"
    )
    assert describe(["mastodon"]) == "Formatting becomes plain text here, with links written out."


def test_cut_gives_back_the_pieces_append_joined_with_their_formatting() -> None:
    text, entities = "", list[dict[str, object]]()
    ends: list[int] = []
    pieces: list[tuple[str, list[dict[str, object]]]] = [
        ("🚀 Launch", [{"type": "bold", "offset": 3, "length": 6}]),
        ("", []),  # a photo without a caption adds no text
        ("Read more", [{"type": "text_link", "offset": 5, "length": 4, "url": "https://x.io"}]),
    ]
    for piece, piece_entities in pieces:
        if piece:
            text, entities = append(text, entities, piece, piece_entities)
        ends.append(len(text))
    assert cut(text, entities, ends) == pieces


# -- invisible and unusable characters --------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "\u200b",
        "\u200b\u200c\u200d\u2060\ufeff",
        "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
        "\u00ad \u00ad",
        " \n\t\u3000\u00a0",
        "\u3164\u115f",  # Hangul fillers
        "\x07\x1b\x85\u200b",
        "\ufe0f\u200d",  # a variation selector with nothing to select
        "\U000e0067\U000e007f",  # tag characters with no flag
        "\ud800\ufffe\uffff\u200b",
    ],
)
def test_text_of_only_invisible_characters_tidies_to_nothing(text: str) -> None:
    assert tidy(text, [{"type": "bold", "offset": 0, "length": 1}]) == ("", [])


def test_invisible_ends_are_trimmed_and_entities_move_with_the_text() -> None:
    text = "\u200b\ufeff 🚀 Big \u200dnews\u200b\u2060 "
    bold = entity("bold", text, "Big")
    italic = entity("italic", text, "🚀 Big \u200dnews\u200b")  # ends in what is trimmed
    tidied, entities = tidy(text, [bold, italic])
    assert tidied == "🚀 Big \u200dnews"
    assert entities == [
        {"type": "italic", "offset": 0, "length": utf16_len(tidied)},
        entity("bold", tidied, "Big"),
    ]


def test_unusable_characters_go_everywhere_and_entities_after_them_shift() -> None:
    text = "a\x00b\x1f\r\n\x7f\x9f\ud800c\ufdd0\U0001fffe👋 bold\tend"
    bold = {"type": "bold", "offset": utf16_len(text[: text.index("bold")]), "length": 4}
    spanning = {"type": "italic", "offset": 0, "length": utf16_len(text)}
    tidied, entities = tidy(text, [spanning, bold])
    assert tidied == "ab\nc👋 bold\tend"
    assert entities == [
        {"type": "italic", "offset": 0, "length": utf16_len(tidied)},
        entity("bold", tidied, "bold"),
    ]


def test_an_entity_only_on_what_is_removed_is_dropped() -> None:
    text = "\u200b\u200bHello"
    assert tidy(text, [{"type": "bold", "offset": 0, "length": 2}]) == ("Hello", [])


@pytest.mark.parametrize(
    "text",
    [
        "👨\u200d👩\u200d👧",  # a family: the joiners make it one emoji
        "می\u200cخواهم",  # Persian "I want": the non-joiner keeps the letters apart
        "क्\u200dष",  # Devanagari with a joiner
        "❤\ufe0f",  # the variation selector makes the heart red
        "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # Scotland
        "\u0600\u0661",  # the Arabic number sign shows
        "tab\tinside\nlines",
    ],
)
def test_meaningful_invisible_characters_stay(text: str) -> None:
    assert tidy(text) == (text, [])


def test_utf16_length_counts_a_lone_surrogate_once() -> None:
    assert utf16_len("a\ud800b") == 3
