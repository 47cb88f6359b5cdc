"""Per-account versions of a post's text, as stored in `posts.overrides`.

`overrides["<account id>"]` is either the account's own text ("Customize for X"), or
`{"thread": [part, ...], "source": text, "post": text}`: the text split into a numbered
thread for that account, with the text it was split from (as the platform gets it, links
written out) and, when that came from the post's text, the post's text, so editing the
post's text drops a thread made from the old text (and keeps one made from the account's
own text).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.engine.text import formatting


def _value(overrides: Mapping[str, Any] | None, account_id: int) -> Any:
    return (overrides or {}).get(str(account_id))


def parts(overrides: Mapping[str, Any] | None, account_id: int) -> list[str] | None:
    """The account's version as posts ([own text], or a thread's parts); None: none."""
    value = _value(overrides, account_id)
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping) and isinstance(value.get("thread"), list) and value["thread"]:
        return [str(part) for part in value["thread"]]
    return None


def is_thread(overrides: Mapping[str, Any] | None, account_id: int) -> bool:
    value = _value(overrides, account_id)
    return isinstance(value, Mapping) and bool(value.get("thread"))


def thread_source(
    text: str,
    entities: Sequence[Mapping[str, Any]] | None,
    overrides: Mapping[str, Any] | None,
    account_id: int,
    platform: str,
) -> tuple[str, str | None]:
    """What "Split into a thread" splits for the account, and the post's text it comes
    from (None: the account's own text). The post's text is split as the platform gets it,
    links written out, so no part loses a link its words pointed to."""
    value = _value(overrides, account_id)
    if isinstance(value, str):
        return value, None
    if isinstance(value, Mapping) and isinstance(value.get("source"), str):
        origin = value.get("post")
        return str(value["source"]), origin if isinstance(origin, str) else None
    plain, _ = formatting.for_platform(platform, text, entities or ())
    return plain, text


def with_text(
    overrides: Mapping[str, Any] | None, account_id: int, text: str | None
) -> dict[str, Any]:
    """A copy with the account's own text set, or removed with None."""
    updated = dict(overrides or {})
    if text is None:
        updated.pop(str(account_id), None)
    else:
        updated[str(account_id)] = text
    return updated


def with_thread(
    overrides: Mapping[str, Any] | None,
    account_id: int,
    thread: Sequence[str],
    source: str,
    post_text: str | None = None,
) -> dict[str, Any]:
    """A copy with the account's thread set (a one-part "thread" is just its own text).
    `post_text`: the post's text `source` was made from, so changing it drops the thread."""
    updated = dict(overrides or {})
    if len(thread) == 1:
        updated[str(account_id)] = thread[0]
    else:
        value: dict[str, Any] = {"thread": list(thread), "source": source}
        if post_text is not None:
            value["post"] = post_text
        updated[str(account_id)] = value
    return updated


def after_text_change(overrides: Mapping[str, Any] | None, old_text: str) -> dict[str, Any]:
    """A copy without the threads split from the post's old text (they say what it said)."""
    return {
        key: value
        for key, value in (overrides or {}).items()
        if not (isinstance(value, Mapping) and old_text in (value.get("source"), value.get("post")))
    }


def only_for(overrides: Mapping[str, Any] | None, account_ids: Sequence[int]) -> dict[str, Any]:
    """A copy keeping the versions of these accounts only."""
    keep = {str(i) for i in account_ids}
    return {key: value for key, value in (overrides or {}).items() if key in keep}
