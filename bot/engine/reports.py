"""The engine's own words: the summary DM sent when every target of a post occurrence has an
outcome, and the line each target gets in it (/list and /status show the same lines).

Notices are the engine's output (bot/engine/outcomes.py writes them to the outbox, the
notifier delivers them), so their text lives here, where the engine may import it;
bot/ui/render.py builds the rest of what the bot shows on top of these helpers.
HTML parse mode; everything user-made is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape

from bot.engine.retry import CHECKING
from bot.schedule.localtime import format_short
from storage.models import Account, Post, Target, TargetStatus

ICONS: Mapping[TargetStatus, str] = {
    TargetStatus.QUEUED: "⏳",
    TargetStatus.PUBLISHING: "🔄",
    TargetStatus.PUBLISHED: "✅",
    TargetStatus.FAILED: "❌",
    TargetStatus.CANCELLED: "🚫",
    TargetStatus.UNKNOWN: "❓",
}

Buttons = list[list[dict[str, str]]]


def snippet(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def account_name(account: Account, platform_names: Mapping[str, str]) -> str:
    platform = platform_names.get(account.platform, account.platform)
    if account.platform == "dryrun":
        return escape(platform)
    return f"{escape(account.label)} ({escape(platform)})"


def target_line(target: Target, platform_names: Mapping[str, str]) -> str:
    name = account_name(target.account, platform_names)
    icon = ICONS[target.status]
    if target.status == TargetStatus.PUBLISHED and target.deleted_at is not None:
        return f"🗑 {name} — deleted"
    if target.status == TargetStatus.QUEUED and target.stage == CHECKING and not target.handle:
        platform = platform_names.get(target.account.platform, target.account.platform)
        return f"🔎 {name} — asking {escape(platform)} whether it went out"
    if target.status == TargetStatus.PUBLISHED:
        if target.url:
            line = f'{icon} {name} — <a href="{escape(target.url, quote=True)}">view post</a>'
        elif target.account.platform == "dryrun":
            line = f"{icon} {name} — done (dry run: nothing was posted)"
        else:
            line = f"{icon} {name} — published"
        # What went wrong after it was out: a refused pin, WhatsApp recipients not reached.
        notes = [str(n) for n in (target.notes or [])][:6]
        return line + "".join(f"\n      ⚠️ {escape(note)}" for note in notes)
    if target.status == TargetStatus.FAILED:
        return f"{icon} {name} — {escape(target.last_error or 'failed')}"
    if target.status == TargetStatus.UNKNOWN:
        return (
            f"{icon} {name} — we can't tell whether this reached it: check it, then press "
            f"Retry or Mark as published. ({escape(target.last_error or '')})"
        )
    if target.status == TargetStatus.CANCELLED:
        # With a reason when it wasn't the user's doing (a skipped repeat, a disconnect).
        return f"{icon} {name} — {escape(target.last_error or 'cancelled')}"
    if target.status in (TargetStatus.QUEUED, TargetStatus.PUBLISHING) and target.handle:
        # A two-phase publish under way: "processing the video at YouTube (2 min)".
        since = target.processing_since
        took = f" ({_minutes(since)})" if since is not None else ""
        platform = platform_names.get(target.account.platform, target.account.platform)
        stage = escape(target.stage or "processing")
        line = f"⚙️ {name} — {stage} at {escape(platform)}{took}"
        if target.last_error:
            line += f"; will ask again ({escape(target.last_error)})"
        return line
    if target.status == TargetStatus.QUEUED and target.last_error:
        return f"{icon} {name} — will retry ({escape(target.last_error)})"
    return f"{icon} {name} — {target.status.value}"


def after_row(post_id: int, after: tuple[bool, bool]) -> list[dict[str, str]]:
    """🗑 Delete and ✏️ Edit for a post that is out, where its platforms allow them."""
    can_delete, can_edit = after
    row = []
    if can_delete:
        row.append({"text": "🗑 Delete", "data": f"a:del:{post_id}"})
    if can_edit:
        row.append({"text": "✏️ Edit", "data": f"a:edit:{post_id}"})
    return row


def _minutes(since: datetime) -> str:
    minutes = int((datetime.now(UTC) - since).total_seconds() // 60)
    if minutes < 1:
        return "under a minute"
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"


def _deleting_line(post: Post, targets: Sequence[Target]) -> list[str]:
    """When a delete-after will take the post down, so it is no surprise."""
    due = [
        t.delete_at
        for t in targets
        if t.status == TargetStatus.PUBLISHED and t.delete_at and t.deleted_at is None
    ]
    if not due:
        return []
    when = format_short(min(due), post.user.timezone, datetime.now(UTC), with_zone=True)
    return ["", f"⏳ It deletes itself on {when}."]


def summary(
    post: Post,
    targets: Sequence[Target],
    platform_names: Mapping[str, str],
    after: tuple[bool, bool] = (False, False),
) -> tuple[str, Buttons]:
    """The one DM sent when every target of a post occurrence has an outcome; `after`: whether
    to offer 🗑 Delete and ✏️ Edit (bot/engine/after/manage.py's `offers`)."""
    ok = sum(t.status == TargetStatus.PUBLISHED for t in targets)
    bad = [t for t in targets if t.status in (TargetStatus.FAILED, TargetStatus.UNKNOWN)]
    unsure = all(t.status == TargetStatus.UNKNOWN for t in bad)
    if not bad:
        head = f"✅ <b>Post #{post.id} is out</b>"
    elif ok:
        head = f"⚠️ <b>Post #{post.id}</b>: {ok} of {len(targets)} published"
    elif unsure:
        head = f"❓ <b>Post #{post.id}: we can't tell whether it was published</b>"
    else:
        head = f"❌ <b>Post #{post.id} was not published</b>"
    lines = [head]
    if post.text.strip():
        lines.append(f"<i>{escape(snippet(post.text))}</i>")
    lines.append("")
    lines.extend(target_line(t, platform_names) for t in targets)
    lines.extend(_deleting_line(post, targets))
    buttons: Buttons = []
    row = []
    if bad:
        row.append({"text": "🔁 Retry", "data": f"p:retry:{post.id}"})
    if any(t.status == TargetStatus.UNKNOWN for t in targets):
        row.append({"text": "✔ Mark as published", "data": f"p:mark:{post.id}"})
    if row:
        buttons.append(row)
    done = after_row(post.id, after)
    if done:
        buttons.append(done)
    buttons.append([{"text": "📋 Details", "data": f"p:status:{post.id}"}])
    return "\n".join(lines), buttons
