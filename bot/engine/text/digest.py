"""One DM for many post outcomes. When a burst of posts settles, the user gets a digest
instead of a DM per post: Telegram lets a bot send about one message a second to a private
chat, so 500 separate summaries would take eight minutes to arrive (and bury the chat).

Pure text work over the summaries' own HTML (bot/render.py writes them): whole lines only,
so a cut never splits a tag.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: Telegram's limit for a message's text.
MAX_TEXT = 4096
#: Most posts given their own Retry / Mark buttons in a digest (the rest: /history).
MAX_BUTTON_ROWS = 10


def compose(texts: Sequence[str], buttons: Sequence[list[Any]]) -> tuple[str, list[Any]]:
    """The digest of these summaries (texts and their inline keyboards, in order)."""
    heads = [text.split("\n", 1)[0] for text in texts]
    ok = sum(head.startswith("✅") for head in heads)
    head = f"📬 <b>{len(texts)} posts settled</b>: {ok} published"
    if ok < len(texts):
        head += f", {len(texts) - ok} need a look"
    tail = "Details of each: /history"
    full = "\n\n".join([head, *texts, tail])
    text = full if len(full) <= MAX_TEXT else _heads_only(head, heads, tail)
    return text, _action_rows(heads, buttons)


def _heads_only(head: str, heads: Sequence[str], tail: str) -> str:
    lines = [head, ""]
    size = len(head) + len(tail) + 40  # room for the "… and N more" line
    for n, line in enumerate(heads):
        if size + len(line) + 1 > MAX_TEXT:
            lines.append(f"… and {len(heads) - n} more")
            break
        lines.append(line)
        size += len(line) + 1
    return "\n".join([*lines, "", tail])


def _action_rows(heads: Sequence[str], buttons: Sequence[list[Any]]) -> list[Any]:
    """The Retry / Mark-as-published buttons of the posts that need a look, labelled with
    their post (a digest has no Details button per post)."""
    rows: list[Any] = []
    for head, keyboard in zip(heads, buttons, strict=True):
        if head.startswith("✅") or not keyboard:
            continue
        actions = [b for b in keyboard[0] if not str(b.get("data", "")).startswith("p:status:")]
        if not actions:
            continue
        post = str(actions[0].get("data", "")).rsplit(":", 1)[-1]
        rows.append([{**b, "text": f"{b['text']} #{post}"} for b in actions])
        if len(rows) == MAX_BUTTON_ROWS:
            break
    return rows
