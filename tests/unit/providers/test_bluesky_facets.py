"""Bluesky rich-text facets: which ranges, at which UTF-8 byte offsets."""

from __future__ import annotations

from typing import Any

import pytest

from providers.bluesky_facets import detect, facets, mentioned_handles

DIDS = {"alice.test": "did:plc:alice", "bob.bsky.social": "did:plc:bob"}


def link(start: int, end: int, uri: str) -> dict[str, Any]:
    return {
        "index": {"byteStart": start, "byteEnd": end},
        "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}],
    }


def mention(start: int, end: int, did: str) -> dict[str, Any]:
    return {
        "index": {"byteStart": start, "byteEnd": end},
        "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}],
    }


def tag(start: int, end: int, name: str) -> dict[str, Any]:
    return {
        "index": {"byteStart": start, "byteEnd": end},
        "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": name}],
    }


CASES = [
    pytest.param(
        # The classic bug: the emoji is 1 character but 4 bytes, so everything after it
        # sits 3 bytes further than a character count says.
        "🎉 New post https://example.com/a?b=1, by @alice.test with #Crier!",
        [
            link(14, 39, "https://example.com/a?b=1"),
            mention(44, 55, "did:plc:alice"),
            tag(61, 67, "Crier"),
        ],
        id="emoji-link-mention-hashtag",
    ),
    pytest.param("Café https://x.org", [link(6, 19, "https://x.org")], id="accent-is-two-bytes"),
    pytest.param("👨‍👩‍👧‍👦 #family", [tag(26, 33, "family")], id="zwj-family-is-25-bytes"),
    pytest.param(
        "(see https://en.wikipedia.org/wiki/Foo_(bar))",
        [link(5, 44, "https://en.wikipedia.org/wiki/Foo_(bar)")],
        id="balanced-parenthesis-kept-outer-dropped",
    ),
    pytest.param(
        "Read https://example.com.", [link(5, 24, "https://example.com")], id="trailing-dot"
    ),
    pytest.param(
        "#123 #tag123 a#b #日本語",
        [tag(5, 12, "tag123"), tag(17, 27, "日本語")],
        id="tags-need-a-letter-and-a-space-before",
    ),
    pytest.param("＃タグ", [tag(0, 9, "タグ")], id="fullwidth-hash"),
    pytest.param("#️⃣ keycap", [], id="keycap-emoji-is-not-a-tag"),
    pytest.param("mail me@alice.test or @nobody", [], id="email-and-dotless-are-not-mentions"),
    pytest.param(
        "hi @ghost.test and @Alice.Test",
        [mention(19, 30, "did:plc:alice")],
        id="unresolvable-mention-skipped-case-folded",
    ),
    pytest.param(
        "https://x.com/#frag @bob.bsky.social's",
        [link(0, 19, "https://x.com/#frag"), mention(20, 36, "did:plc:bob")],
        id="fragment-is-not-a-tag-possessive-mention",
    ),
    pytest.param("#" + "a" * 64, [tag(0, 65, "a" * 64)], id="tag-of-64"),
    pytest.param("#" + "a" * 65, [], id="tag-of-65-too-long"),
    pytest.param("ftp://example.com and https:// alone", [], id="not-web-links"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_facets(text: str, expected: list[dict[str, Any]]) -> None:
    assert facets(detect(text), DIDS) == expected


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_facet_ranges_cover_what_they_name(text: str, expected: list[dict[str, Any]]) -> None:
    data = text.encode()
    for facet in expected:
        piece = data[facet["index"]["byteStart"] : facet["index"]["byteEnd"]].decode()
        feature = facet["features"][0]
        if "uri" in feature:
            assert piece == feature["uri"]
        elif "tag" in feature:
            assert piece[1:] == feature["tag"]
            assert piece[0] in "#＃"
        else:
            assert piece.startswith("@")


def test_mentioned_handles_are_distinct_and_in_order() -> None:
    spans = detect("@bob.bsky.social @alice.test @Bob.Bsky.Social")
    assert mentioned_handles(spans) == ["bob.bsky.social", "alice.test"]
