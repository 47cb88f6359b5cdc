"""Finding a post an attempt may have published, for settling an unknown outcome, on a
Facebook Page (`GET /{page-id}/posts?fields=id,message,created_time&since=<unix time>`) or
an Instagram account (`GET /{ig-user-id}/media?fields=id,caption,permalink,timestamp`,
newest first). Neither platform takes an idempotency key, so reading back is the only way.

The verdicts are careful, as for Mastodon (providers/mastodon_lookup.py): a post since it
was due with the same text is the post (the oldest such, a later one may be a manual
repost); nothing at all since it was due means it is not out; anything else (posts that
don't match, a page of results that doesn't reach back far enough) is "can't tell", and the
user is asked. Instagram stories never show in `/media`: a story can't be looked up.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from providers.base import NotPublished

#: How much earlier than its due time a post may have gone out (clocks, early claims).
CLOCK_SKEW = timedelta(minutes=5)
#: Posts read back at most.
PAGE_SIZE = 25


def since(scheduled_at: datetime | None) -> datetime | None:
    if scheduled_at is None:
        return None
    due = scheduled_at if scheduled_at.tzinfo else scheduled_at.replace(tzinfo=UTC)
    return due.astimezone(UTC) - CLOCK_SKEW


def moment(value: Any) -> datetime | None:
    """Graph's times: "2026-12-07T12:00:00+0000"."""
    try:
        parsed = datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None
    return parsed.astimezone(UTC)


def comparable(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def find(
    items: Sequence[Mapping[str, Any]],
    text: str,
    *,
    start: datetime | None,
    text_key: str,
    time_key: str,
) -> Mapping[str, Any] | NotPublished | None:
    """The item that is the post, `NotPublished`, or None (can't tell); `items` newest first."""
    recent: list[Mapping[str, Any]] = []
    reaches_back = False
    for item in items:
        when = moment(item.get(time_key))
        if start is not None and when is not None and when < start:
            reaches_back = True
            break
        recent.append(item)
    wanted = comparable(text)
    for item in reversed(recent):  # the oldest first
        if comparable(str(item.get(text_key) or "")) == wanted and item.get("id"):
            return item
    complete = reaches_back or len(items) < PAGE_SIZE
    if start is not None and complete and not recent:
        return NotPublished(reason="The account has posted nothing since the post was due.")
    return None
