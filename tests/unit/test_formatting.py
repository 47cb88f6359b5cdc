"""Telegram entities -> what each platform gets (bot/formatting.py), UTF-16 offsets and all."""

from __future__ import annotations

import pytest

from bot.formatting import (
    append,
    clean,
    cut,
    describe,
    for_platform,
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
