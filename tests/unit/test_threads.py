"""Splitting into a numbered thread, with each platform's own counting: exact part lengths
for Bluesky (graphemes, and bytes), Mastodon (a link is 23), X (weighted: URLs 23, emoji and
CJK 2), never inside a link or a grapheme; and X's counting itself against twitter-text's
conformance cases."""

from __future__ import annotations

import httpx
import pytest

from bot.compose.threads import ThreadError, find_boundaries, fits_for, split, split_for
from bot.engine.content import post_text, post_thread
from bot.engine.text import overrides
from providers.base import AccountRef, MediaFile, MediaKind, PostContent
from providers.bluesky import BlueskyProvider
from providers.discord import DiscordProvider
from providers.mastodon import MastodonProvider
from providers.mastodon_limits import status_length
from providers.text import grapheme_length, url_spans, weighted_length
from storage.models import Post

FAMILY = "👨‍👩‍👧‍👦"  # man, woman, girl, boy joined by ZWJ: 1 grapheme, 7 code points, 25 bytes
THUMB = "👍🏽"  # thumbs up with a skin tone: 1 grapheme, 2 code points, 8 bytes


def bluesky_fits(text: str) -> bool:
    return grapheme_length(text) <= 300 and len(text.encode()) <= 3000


def mastodon_fits(limit: int) -> object:
    return lambda text: status_length(text) <= limit


def x_fits(text: str) -> bool:
    return weighted_length(text) <= 280


def numbered(parts: list[str]) -> list[str]:
    return [p.rsplit(" ", 1)[1] for p in parts]


# -- Bluesky: graphemes, and 3000 bytes ---------------------------------------------------


def test_bluesky_sentences_are_kept_whole() -> None:
    # Ten sentences of exactly 60 characters: four fit in 296 (300 less " 1/3").
    sentences = [f"Sentence {n:02d} " + "x" * 47 + "." for n in range(1, 11)]
    assert {len(s) for s in sentences} == {60}
    parts = split(" ".join(sentences), bluesky_fits, length=grapheme_length)
    assert [grapheme_length(p) for p in parts] == [247, 247, 125]
    assert numbered(parts) == ["1/3", "2/3", "3/3"]
    assert parts[0] == " ".join(sentences[:4]) + " 1/3"
    assert parts[2] == " ".join(sentences[8:]) + " 3/3"


def test_bluesky_emoji_with_skin_tones_are_never_cut() -> None:
    # 200 thumbs separated by spaces: 399 graphemes, 1,799 bytes. 148 thumbs and 147 spaces
    # make 295 graphemes; with " 1/2" that is 299.
    parts = split(" ".join([THUMB] * 200), bluesky_fits, length=grapheme_length)
    assert [grapheme_length(p) for p in parts] == [299, 107]
    assert [p.count(THUMB) for p in parts] == [148, 52]
    assert all(p.count("🏽") == p.count("👍") for p in parts)


def test_bluesky_bytes_bind_before_graphemes_for_zwj_families() -> None:
    # 115 families and 114 spaces are 2,989 bytes (+4 for " 1/2" = 2,993); 116 would be 3,019.
    parts = split(" ".join([FAMILY] * 200), bluesky_fits, length=grapheme_length)
    assert [len(p.encode()) for p in parts] == [2993, 2213]
    assert [grapheme_length(p) for p in parts] == [233, 173]
    assert [p.count(FAMILY) for p in parts] == [115, 85]


def test_a_word_longer_than_a_post_is_cut_between_graphemes_only() -> None:
    # No space at all: the only places to cut are between graphemes. 119 families are
    # 2,975 bytes, 2,979 with " 1/2"; a 120th would make 3,004.
    parts = split(FAMILY * 130, bluesky_fits, length=grapheme_length)
    assert [grapheme_length(p) for p in parts] == [123, 15]
    assert [p.count(FAMILY) for p in parts] == [119, 11]
    assert "".join(p.rsplit(" ", 1)[0] for p in parts) == FAMILY * 130


def test_a_link_is_never_cut() -> None:
    link = "https://example.com/" + "a" * 280  # 300 graphemes: alone it fills a post
    with pytest.raises(ThreadError, match="alone is longer than one post"):
        split(f"Look {link} now", bluesky_fits, length=grapheme_length)
    boundaries = {b.position for b in find_boundaries(f"Look {link} now")}
    assert not any(5 < position < 5 + len(link) for position in boundaries)


# -- Mastodon: characters, every link as 23, @name@server as @name ------------------------


def test_mastodon_counts_a_long_link_as_23() -> None:
    link = "https://example.com/" + "x" * 180  # 200 characters, counted as 23
    text = f"Start {link} " + " ".join(["word"] * 40)
    # Server limit 100: "Start <link>" is 29, then 13 words (65) make 94; " 1/3" -> 98.
    parts = split(text, mastodon_fits(100), length=status_length)  # type: ignore[arg-type]
    assert [status_length(p) for p in parts] == [98, 98, 43]
    assert [len(p) for p in parts] == [275, 98, 43]
    assert link in parts[0]
    assert [p.count("word") for p in parts] == [13, 19, 8]


def test_mastodon_mentions_count_as_the_local_part_and_stay_whole() -> None:
    mention = "@someone@a-very-long-server-name.example.social"  # counts as "@someone": 8
    text = " ".join([mention] * 30)  # 30 * 8 + 29 = 269 as Mastodon counts it
    parts = split(text, mastodon_fits(150), length=status_length)  # type: ignore[arg-type]
    # 16 mentions and 15 spaces are 143 (+4 for " 1/2"); the other 14 make 125 (+4).
    assert [status_length(p) for p in parts] == [147, 129]
    assert [len(p) for p in parts] == [16 * 48 - 1 + 4, 14 * 48 - 1 + 4]
    assert all(word == mention for p in parts for word in p.split()[:-1])


# -- X: weighted, URLs 23, emoji and CJK 2 ------------------------------------------------


def test_x_counts_urls_as_23_and_splits_at_words() -> None:
    link = "https://example.com/" + "x" * 180
    text = f"Start {link} " + " ".join(["word"] * 100)
    parts = split(text, x_fits, length=weighted_length)
    # "Start <link>" is 29; 49 words make 274; " 1/2" -> 278. The other 51 words: 254 + 4.
    assert [weighted_length(p) for p in parts] == [278, 258]
    assert [p.count("word") for p in parts] == [49, 51]


def test_x_cjk_weighs_two_and_breaks_after_ideographic_full_stops() -> None:
    sentence = "これは文です。"  # 7 characters, 14 weighted
    parts = split(sentence * 30, x_fits, length=weighted_length)
    # 19 sentences are 266, 20 would be 280 with no room for " 1/2".
    assert [weighted_length(p) for p in parts] == [270, 158]
    assert parts[0] == sentence * 19 + " 1/2"


def test_x_emoji_weigh_two_whatever_their_code_points() -> None:
    parts = split(" ".join([FAMILY] * 100), x_fits, length=weighted_length)
    # A family is 2, a space 1: 92 families and 91 spaces are 275; " 1/2" -> 279.
    assert [weighted_length(p) for p in parts] == [279, 27]
    assert [p.count(FAMILY) for p in parts] == [92, 8]


@pytest.mark.parametrize(
    ("text", "weighted"),
    [
        # From twitter-text's conformance/validate.yml (WeightedTweetsWithDiscountedEmoji...).
        ("Hi http://test.co", 26),
        ("http://test.co", 23),
        ("285 chars-" + "xxxxxxxxxx-" * 25, 285),
        ("https://www.twitter.com/aloha " * 10, 240),
        ("H🐱☺" + FAMILY, 7),
        ("😷👾😡🔥💩", 10),
        ("🙋🏽👨‍🎤", 4),
        ("1\u20e3", 2),
        ("Unicode 9.0 emoji: 🤠; 💃; 💃🏾", 29),
        ("example.com", 23),
        ("foo.co.jp", 23),
        ("A\u0301B", 2),  # NFC: Á is one character
        ("randomurlrandomurlrandomurlrandomurlrandomurlrandomurlrandomurls.com", 68),
        ("日本語", 6),
        ("see (https://en.wikipedia.org/wiki/Foo_(bar)).", 30),
    ],
)
def test_x_weighted_length(text: str, weighted: int) -> None:
    assert weighted_length(text) == weighted


def test_url_spans_leave_trailing_punctuation_out() -> None:
    text = "Go to https://example.com/a, then example.org."
    assert [text[a:b] for a, b in url_spans(text)] == ["https://example.com/a", "example.org"]


# -- numbering, refusals ------------------------------------------------------------------


def test_ten_parts_or_more_reserve_room_for_two_digit_numbers() -> None:
    words = " ".join(f"w{n:03d}" for n in range(400))  # 1,999 characters
    parts = split(words, lambda t: len(t) <= 200)
    assert len(parts) == 11
    assert numbered(parts) == [f"{n}/11" for n in range(1, 12)]
    assert max(len(p) for p in parts) <= 200
    assert " ".join(p.rsplit(" ", 1)[0] for p in parts) == words


def test_text_that_fits_is_returned_as_it_is() -> None:
    assert split("  Short enough.  ", bluesky_fits) == ["Short enough."]


def test_too_many_parts_is_refused() -> None:
    with pytest.raises(ThreadError, match="more than 25 posts"):
        split(" ".join(["word"] * 2000), lambda t: len(t) <= 60)


def test_paragraphs_win_over_sentences_when_the_part_stays_half_full() -> None:
    first = "First paragraph. " * 5  # 85 characters
    text = first.strip() + "\n\n" + "Second one goes on. " * 10
    parts = split(text, lambda t: len(t) <= 140)
    assert parts[0] == first.strip() + " 1/3"


# -- for an account: the provider's own validation decides ---------------------------------


def mastodon_account(max_characters: int) -> AccountRef:
    return AccountRef(
        id=3,
        platform="mastodon",
        label="@a@example.social",
        config={
            "instance_url": "https://example.social",
            "limits": {"max_characters": max_characters},
        },
    )


def test_split_for_uses_the_servers_own_limit() -> None:
    provider = MastodonProvider(httpx.AsyncClient())
    account = mastodon_account(100)
    link = "https://example.com/" + "x" * 180
    parts = split_for(provider, account, f"Start {link} " + " ".join(["word"] * 40))
    assert [provider.text_length(p, account) for p in parts] == [98, 98, 43]
    content = PostContent(text=parts[0], thread=tuple(parts[1:]))
    assert provider.validate(content, account) == []


def test_split_for_bluesky_and_refusal_without_threads() -> None:
    bluesky = BlueskyProvider(httpx.AsyncClient())
    ref = AccountRef(id=1, platform="bluesky", label="@a.test", config={})
    parts = split_for(bluesky, ref, " ".join([THUMB] * 200))
    assert [bluesky.text_length(p, ref) for p in parts] == [299, 107]
    discord = DiscordProvider(httpx.AsyncClient())
    with pytest.raises(ThreadError, match="can't publish threads"):
        split_for(discord, AccountRef(id=2, platform="discord", label="x"), "a " * 3000)


def test_fits_for_ignores_media_problems_but_not_caption_limits() -> None:
    bluesky = BlueskyProvider(httpx.AsyncClient())
    ref = AccountRef(id=1, platform="bluesky", label="@a.test", config={})
    video = MediaFile(kind=MediaKind.VIDEO, mime="video/mp4", size=10)  # Bluesky: not yet
    assert fits_for(bluesky, ref, [video])("short")
    assert not fits_for(bluesky, ref, [video])("x" * 301)


# -- how a thread is stored for one account ------------------------------------------------


def test_overrides_hold_an_own_text_or_a_thread_and_mapping_reads_both() -> None:
    stored = overrides.with_text({}, 7, "Own words")
    stored = overrides.with_thread(stored, 8, ["One 1/2", "Two 2/2"], source="One Two")
    post = Post(id=1, user_id=1, text="One Two", overrides=stored)
    assert (post_text(post, 7), post_thread(post, 7)) == ("Own words", ())
    assert (post_text(post, 8), post_thread(post, 8)) == ("One 1/2", ("Two 2/2",))
    assert (post_text(post, 9), post_thread(post, 9)) == ("One Two", ())
    assert overrides.thread_source(post.text, (), stored, 8, "bluesky") == ("One Two", None)
    assert overrides.thread_source(post.text, (), stored, 7, "bluesky") == ("Own words", None)
    # Editing the post's text drops the thread split from it, not the account's own text.
    assert overrides.after_text_change(stored, "One Two") == {"7": "Own words"}
    assert overrides.with_text(stored, 7, None) == {"8": stored["8"]}


def test_a_thread_is_split_from_the_text_the_platform_gets_links_written_out() -> None:
    text = "Read the announcement now"
    link = [{"type": "text_link", "offset": 9, "length": 12, "url": "https://example.com/a"}]
    source, origin = overrides.thread_source(text, link, {}, 8, "mastodon")
    assert source == "Read the announcement (https://example.com/a) now"
    assert origin == text
    stored = overrides.with_thread({}, 8, ["Read the … 1/2", "… now 2/2"], source, origin)
    assert overrides.thread_source(text, link, stored, 8, "mastodon") == (source, text)
    # Changing the post's text drops the thread made from it.
    assert overrides.after_text_change(stored, text) == {}
    assert overrides.after_text_change(stored, "Something else") == stored
