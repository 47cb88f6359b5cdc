"""Splitting a text too long for one post into a numbered thread ("… 1/3").

Each part ends with its number and stays within the limit as the platform counts it: the
caller passes `fits`, which asks the platform's own validation (Bluesky graphemes and bytes,
Mastodon characters with every link as 23, X weighted characters), so the splitter never
counts anything itself. Parts break at the best place that keeps them at least half full:
a blank line, then the end of a sentence, a clause (, ; :), a word, and only for a single
word longer than a post, between two user-perceived characters — never inside a link or a
mention, and never inside a grapheme (an emoji with its skin tone stays whole).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import regex

from providers.base import AccountRef, MediaFile, PostContent, Provider
from providers.text import url_spans

#: A part (its number included) is short enough for the platform.
Fits = Callable[[str], bool]
#: How long the platform counts a text (only to judge how full a part is).
Length = Callable[[str], int]

#: More parts than this is not a thread anyone reads; the text is refused instead.
MAX_PARTS = 25
#: A part is not cut at a better boundary if that leaves it less than this full.
MIN_FILL = 0.5
#: What the platform's validation says when a text is over its limit.
TEXT_LIMIT_CODES = frozenset({"text_too_long", "text_too_many_bytes"})

# Boundary ranks: the higher, the better a place to end a part.
PARAGRAPH, SENTENCE, CLAUSE, WORD, GRAPHEME = 5, 4, 3, 2, 1

_GRAPHEME = regex.compile(r"\X")
_SPACE = regex.compile(r"\s+")
_SENTENCE_END = regex.compile(r"[.!?…‼⁇⁈⁉][\"'”’»)\]]*$")
_CLAUSE_END = regex.compile(r"[,;:—–][\"'”’»)\]]*$")
# Sentence ends that need no space after them (Chinese, Japanese).
_CJK_STOP = frozenset("。！？")
# A handle kept whole: @name, @name@server (Mastodon), @alice.bsky.social.
_MENTION = regex.compile(r"(?<![\w@])@[\w.-]+(?:@[\w.-]+)?\w")


class ThreadError(ValueError):
    """The text can't be split into a thread; the message says why, for the user."""


@dataclass(frozen=True)
class Boundary:
    #: Index in the text where a part may end.
    position: int
    rank: int


def split(
    text: str, fits: Fits, *, fits_first: Fits | None = None, length: Length = len
) -> list[str]:
    """The parts of `text`, each ending " i/n", each passing `fits` (the first one
    `fits_first`, e.g. a caption limit); `[text]` when it already fits in one post.
    `length` is the platform's count, which decides how full a part is."""
    text = text.strip()
    first = fits_first or fits
    if not text:
        raise ThreadError("There is no text to split.")
    if first(text):
        return [text]
    boundaries = find_boundaries(text)
    digits = 1
    while True:
        reserve = f" {'9' * digits}/{'9' * digits}"
        pieces = _greedy(text, boundaries, fits, first, reserve, length)
        if len(pieces) > MAX_PARTS:
            raise ThreadError(
                f"That would take more than {MAX_PARTS} posts. Shorten the text, or write a "
                "shorter version for this account."
            )
        if len(str(len(pieces))) <= digits:
            break
        digits += 1  # "10/12" needs more room than "9/9": split again with it reserved
    total = len(pieces)
    parts = [f"{piece} {number}/{total}" for number, piece in enumerate(pieces, start=1)]
    for number, part in enumerate(parts):
        if not (first if number == 0 else fits)(part):  # pragma: no cover - a counting bug
            raise ThreadError("I couldn't split this text so that every part fits.")
    return parts


def find_boundaries(text: str) -> list[Boundary]:
    """Every place a part may end, ranked; none inside a link, a mention or a grapheme."""
    blocked = _atomic_spans(text)
    ends = [m.end() for m in _GRAPHEME.finditer(text)]
    found: list[Boundary] = []
    for position in ends[:-1]:
        if any(start < position < end for start, end in blocked):
            continue
        found.append(Boundary(position, _rank(text, position)))
    return found


def _atomic_spans(text: str) -> list[tuple[int, int]]:
    return [*url_spans(text), *((m.start(), m.end()) for m in _MENTION.finditer(text))]


def _rank(text: str, position: int) -> int:
    before, after = text[:position], text[position:]
    if before[-1].isspace():
        return 0  # inside a run of spaces: the break is where the run starts
    space = _SPACE.match(after)
    if space is None:
        if before[-1] in _CJK_STOP:
            return SENTENCE
        return GRAPHEME
    gap = space.group(0)
    if gap.count("\n") >= 2:
        return PARAGRAPH
    if _SENTENCE_END.search(before) or "\n" in gap:
        return SENTENCE
    if _CLAUSE_END.search(before):
        return CLAUSE
    return WORD


def _greedy(
    text: str,
    boundaries: Sequence[Boundary],
    fits: Fits,
    first: Fits,
    reserve: str,
    length: Length,
) -> list[str]:
    """Cut parts from the front, each as full as fits with `reserve` (its number) added,
    ending at the best-ranked boundary that keeps it at least `MIN_FILL` full."""
    usable = [b for b in boundaries if b.rank > 0]
    positions = [b.position for b in usable]
    pieces: list[str] = []
    start = 0
    while True:
        check = first if not pieces else fits
        rest = text[start:]
        if check(rest + reserve):
            pieces.append(rest)
            return pieces
        if len(pieces) >= MAX_PARTS:
            pieces.append(rest)
            return pieces  # the caller refuses it
        low = bisect.bisect_right(positions, start)
        end = _longest_fitting(text, start, usable, low, check, reserve)
        if end is None:
            raise ThreadError(_unsplittable(text, start, positions, low))
        cut = _best_cut(text, usable, low, end, start, length)
        pieces.append(text[start:cut].rstrip())
        space = _SPACE.match(text, cut)
        start = space.end() if space else cut


def _longest_fitting(
    text: str, start: int, usable: Sequence[Boundary], low: int, check: Fits, reserve: str
) -> int | None:
    """Index in `usable` of the furthest boundary whose part fits (fitting only shrinks as a
    part grows, so a binary search finds it), or None if not even the nearest does."""
    found = None
    high = len(usable) - 1
    while low <= high:
        middle = (low + high) // 2
        if check(text[start : usable[middle].position].rstrip() + reserve):
            found = middle
            low = middle + 1
        else:
            high = middle - 1
    return found


def _best_cut(
    text: str, usable: Sequence[Boundary], low: int, end: int, start: int, length: Length
) -> int:
    enough = length(text[start : usable[end].position]) * MIN_FILL
    window = [b for b in usable[low : end + 1] if length(text[start : b.position]) >= enough]
    best = max(b.rank for b in window)
    return max(b.position for b in window if b.rank == best)


def _unsplittable(text: str, start: int, positions: Sequence[int], low: int) -> str:
    end = positions[low] if low < len(positions) else len(text)
    word = text[start:end].strip()
    shown = word if len(word) <= 40 else word[:39] + "…"
    return f"“{shown}” alone is longer than one post allows, so it can't be split."


# -- for one account -------------------------------------------------------------------------


def fits_for(provider: Provider, account: AccountRef, media: Sequence[MediaFile] = ()) -> Fits:
    """A part fits when the platform's own validation finds nothing wrong with its text."""

    def fits(text: str) -> bool:
        content = PostContent(text=text, media=tuple(media))
        return not any(p.code in TEXT_LIMIT_CODES for p in provider.validate(content, account))

    return fits


def split_for(
    provider: Provider, account: AccountRef, text: str, media: Sequence[MediaFile] = ()
) -> list[str]:
    """`text` as a thread for this account; ThreadError if its platform has no threads."""
    if not provider.limits_for(account).threads:
        raise ThreadError(f"{provider.display_name} can't publish threads.")
    return split(
        text,
        fits_for(provider, account),
        fits_first=fits_for(provider, account, media),
        length=lambda part: provider.text_length(part, account),
    )
