"""Finding a status an attempt may have published, for settling an unknown outcome.

Re-sending the status with its Idempotency-Key is no lookup: Mastodon keeps a key for an
hour, and within it the engine already retries the publish itself (`idempotent_publish`);
a key re-sent later (and `lookup` can't know the attempt's age) would post a second status.
So `lookup` reads the account's statuses since the post was due
(GET /api/v1/accounts/:id/statuses) and compares their text with the post's, the way
Mastodon renders plain text: its `content` is HTML, links keep their full address in
invisible spans, a mention of @name@server shows as @name.

The verdicts are careful: the status found (and every part of a thread) is the post; no
status at all since it was due means it is not out; anything else, such as statuses that
don't quite match, or statuses older than the pages read, is "can't tell", and the user is
asked.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from providers.base import NotPublished, PostContent
from providers.errors import AuthError, TransientError

#: The adapter's one request function: (method, url, token, **httpx arguments); an empty
#: token sends no Authorization.
Call = Callable[..., Awaitable[httpx.Response]]

#: Pages of 40 statuses read back at most.
LOOKBACK_PAGES = 3
PAGE_SIZE = 40
#: How much earlier than its due time a post may have gone out (clocks, early claims).
CLOCK_SKEW = timedelta(minutes=5)

_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_PARAGRAPH = re.compile(r"</p>\s*<p[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_REMOTE_MENTION = re.compile(r"(?<![=/\w])@(\w+)@[\w.-]+\w")
_SPACE = re.compile(r"\s+")


def content_text(content: str) -> str:
    """The plain text of a status's HTML `content`."""
    text = _PARAGRAPH.sub("\n\n", content)
    text = _BREAK.sub("\n", text)
    return html.unescape(_TAG.sub("", text))


def comparable(text: str) -> str:
    """Text reduced to what survives Mastodon's rendering: @name@server as @name, any run
    of white space as one space, Unicode NFC."""
    reduced = _REMOTE_MENTION.sub(r"@\1", unicodedata.normalize("NFC", text))
    return _SPACE.sub(" ", reduced).strip()


def same_text(status: Mapping[str, Any], text: str, warning: str) -> bool:
    """Whether `status` says `text` under the content warning `warning`."""
    if str(status.get("spoiler_text") or "") != warning:
        return False
    return comparable(content_text(str(status.get("content") or ""))) == comparable(text)


def created(status: Mapping[str, Any]) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(status.get("created_at") or "").replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def since(scheduled_at: datetime | None) -> datetime | None:
    """From when a status may be the post's: its due time, less the clock skew."""
    if scheduled_at is None:
        return None
    due = scheduled_at if scheduled_at.tzinfo else scheduled_at.replace(tzinfo=UTC)
    return due.astimezone(UTC) - CLOCK_SKEW


def thread_chain(
    first: Mapping[str, Any],
    descendants: list[Mapping[str, Any]],
    parts: tuple[str, ...],
    account_id: str,
    warning: str,
) -> list[Mapping[str, Any]] | None:
    """The statuses of a thread after `first`, each replying to the one before, or None when
    a part is missing."""
    chain = [first]
    for part in parts:
        found = next(
            (
                status
                for status in descendants
                if str(status.get("in_reply_to_id") or "") == str(chain[-1]["id"])
                and str((status.get("account") or {}).get("id") or "") == account_id
                and same_text(status, part, warning)
            ),
            None,
        )
        if found is None:
            return None
        chain.append(found)
    return chain


class Reader:
    """GETs with the token, or without it (public and unlisted statuses only) once the token
    is refused for lacking read:statuses (403, as `authorize_if_got_token!` answers)."""

    def __init__(self, call: Call, server: str, token: str) -> None:
        self._call = call
        self._server = server
        self._token = token
        #: Set once the token was refused.
        self.public_only = False

    async def get(self, path: str, params: Mapping[str, str]) -> Any:
        url = f"{self._server}{path}"
        response: httpx.Response | None = None
        if not self.public_only:
            try:
                response = await self._call("GET", url, self._token, params=params)
            except AuthError as exc:
                if exc.http_status != 403:
                    raise
                self.public_only = True
        if response is None:
            response = await self._call("GET", url, "", params=params)
        try:
            return response.json()
        except ValueError:
            raise TransientError(
                f"Mastodon sent an unexpected answer (HTTP {response.status_code})."
            ) from None


async def statuses_since(
    reader: Reader, account_id: str, start: datetime | None
) -> tuple[list[Mapping[str, Any]], bool]:
    """The account's statuses, newest first, back to `start` or `LOOKBACK_PAGES` pages; and
    whether they reach back to `start` (so none since then is missing)."""
    found: list[Mapping[str, Any]] = []
    params = {"limit": str(PAGE_SIZE), "exclude_reblogs": "true"}
    for _ in range(LOOKBACK_PAGES if start else 1):
        body = await reader.get(f"/api/v1/accounts/{account_id}/statuses", params)
        page = [s for s in body if isinstance(s, Mapping)] if isinstance(body, list) else []
        for status in page:
            moment = created(status)
            if start is not None and moment is not None and moment < start:
                return found, True
            found.append(status)
        if len(page) < PAGE_SIZE:
            return found, start is not None
        params = {**params, "max_id": str(page[-1].get("id"))}
    return found, False


async def find(
    reader: Reader, post: PostContent, *, account_id: str, warning: str, private: bool
) -> list[Mapping[str, Any]] | NotPublished | None:
    """The post's statuses (a thread's, in order) if it is out, `NotPublished` if the account
    posted nothing since it was due, else None (can't tell)."""
    statuses, complete = await statuses_since(reader, account_id, since(post.scheduled_at))
    firsts = [s for s in statuses if not s.get("in_reply_to_id")]
    match = next(
        (
            status
            for status in reversed(firsts)  # the oldest: a later one may be a manual repost
            if same_text(status, post.text, warning)
            and len(status.get("media_attachments") or ()) == len(post.media)
        ),
        None,
    )
    if match is None:
        hidden = reader.public_only and private  # its statuses can't be seen without the scope
        if complete and not firsts and not hidden:
            return NotPublished(reason="The account has posted nothing since the post was due.")
        return None
    if not post.thread:
        return [match]
    context = await reader.get(f"/api/v1/statuses/{match['id']}/context", {})
    descendants = context.get("descendants") if isinstance(context, Mapping) else None
    replies = [d for d in descendants or () if isinstance(d, Mapping)]
    # A thread cut short is "can't tell": publishing again could repeat a part that is out.
    return thread_chain(match, replies, post.thread, account_id, warning)
