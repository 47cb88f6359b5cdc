"""Texts and buttons the bot shows. HTML parse mode; everything user-made is escaped.

The outcome of a post (the summary DM and each target's line) is the engine's to say, in
bot/engine/reports.py: `snippet`, `account_name` and `target_line` come from there."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape

from bot.engine import series
from bot.engine.reports import account_name, snippet, target_line
from bot.engine.text import formatting
from bot.schedule.parse import format_short, format_when
from providers.base import Problem, Severity
from storage.models import Account, Media, Post, PostStatus, TargetStatus


def media_summary(kinds: Sequence[str]) -> str:
    if not kinds:
        return ""
    counts: dict[str, int] = {}
    for kind in kinds:
        counts[kind] = counts.get(kind, 0) + 1
    names = {"photo": "photo", "video": "video", "animation": "GIF", "document": "file"}
    parts = []
    for kind, count in counts.items():
        name = names.get(kind, kind)
        parts.append(f"{count} {name}" + ("s" if count > 1 else ""))
    return ", ".join(parts)


def photos(post: Post) -> list[Media]:
    """The post's photos, in order: what alt text is asked for."""
    return [link.media for link in post.media_links if link.media.kind == "photo"]


def alt_text_summary(post: Post) -> str:
    """ "no alt text", "alt text on photos 1 and 3 of 3", "alt text on every photo"."""
    shots = photos(post)
    described = [str(index) for index, photo in enumerate(shots, start=1) if photo.alt_text]
    if not shots:
        return ""
    if not described:
        return "no alt text"
    if len(described) == len(shots):
        return "alt text on the photo" if len(shots) == 1 else "alt text on every photo"
    listed = described[0] if len(described) == 1 else ", ".join(described[:-1])
    if len(described) > 1:
        listed += f" and {described[-1]}"
    word = "photo" if len(described) == 1 else "photos"
    return f"alt text on {word} {listed} of {len(shots)}"


def draft_status(post: Post, messages: int = 0) -> str:
    """The compose status; `messages`: how many the user sent for it (shown from 2 on)."""
    kinds = [link.media.kind for link in post.media_links]
    parts = []
    if post.text.strip():
        formatted = ", formatted" if post.entities else ""  # issue 6: kept for Telegram
        parts.append(f"text ({len(post.text):,} characters{formatted})")
    if kinds:
        parts.append(media_summary(kinds))
    have = " + ".join(parts) if parts else "nothing yet"
    count = f" ({messages:,} messages)" if messages > 1 else ""
    return (
        f"📝 <b>New post</b>{count}: {have}.\n"
        "Send more text, photos, videos or files, or tap <b>Done</b>."
    )


def age(then: datetime, now: datetime) -> str:
    """ "just now", "5 min ago", "3 h ago", "2 days ago"."""
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86400
    return f"{days} day{'s' if days != 1 else ''} ago"


def draft_line(post: Post, now: datetime) -> str:
    """ "«Launch day…» · 📎 2 photos · 3 h ago"."""
    parts = []
    if post.text.strip():
        parts.append(f"«{escape(snippet(post.text, 60))}»")
    kinds = [link.media.kind for link in post.media_links]
    if kinds:
        parts.append(f"📎 {media_summary(kinds)}")
    parts.append(age(post.updated_at, now))
    return " · ".join(parts)


def preview(
    post: Post,
    checks: Sequence[tuple[Account, Sequence[Problem]]],
    platform_names: Mapping[str, str],
    when_text: str,
    repeat: str | None = None,
    *,
    title: str = "👀 <b>Preview</b>",  # issue 6: editing ("✏️ Editing post #n")
    notes: Mapping[int, Sequence[str]] | None = None,  # issue 6: each account's own version
) -> str:
    lines = [title, f"🕒 {escape(when_text)}", ""]
    if repeat:
        lines.insert(2, f"🔁 {escape(repeat)}")
    if post.text.strip():
        lines.append(f"<blockquote>{escape(snippet(post.text, 700))}</blockquote>")
    kinds = [link.media.kind for link in post.media_links]
    if kinds:
        alt = alt_text_summary(post)
        lines.append(f"📎 {media_summary(kinds)}" + (f" · 🖼 {alt}" if alt else ""))
    if post.entities and checks:  # issue 6: where Telegram formatting survives
        lines.append(f"✨ {escape(formatting.describe(a.platform for a, _ in checks))}")
    lines.append("")
    for account, problems in checks:
        errors = [p for p in problems if p.severity == Severity.ERROR]
        warnings = [p for p in problems if p.severity == Severity.WARNING]
        mark = "❌" if errors else "⚠️" if warnings else "✅"
        lines.append(f"{mark} {account_name(account, platform_names)}")
        lines.extend((notes or {}).get(account.id, ()))  # issue 6: own text, thread
        lines.extend(f"    • {escape(p.message)}" for p in [*errors, *warnings])
    if any(p.severity == Severity.ERROR for _, problems in checks for p in problems):
        lines += [
            "",
            "Fix the problems marked ❌ before scheduling: edit the text or change accounts.",
        ]
    return "\n".join(lines)


def version_lines(parts: Sequence[str], lengths: Sequence[int], limit: int) -> list[str]:
    """An account's own version under its line in the preview: its text, or its thread
    with each part's length as the platform counts it."""
    if len(parts) == 1:
        shown = escape(snippet(parts[0], 120))
        return [f"    🎨 Own text ({lengths[0]:,}/{limit:,}): <i>{shown}</i>"]
    counts = " · ".join(f"{n:,}" for n in lengths)
    lines = [f"    🧵 Thread of {len(parts)} ({counts} of {limit:,} each):"]
    lines.extend(f"      <i>{escape(snippet(part, 80))}</i>" for part in parts)
    return lines


def post_entry(post: Post, tz: str, now: datetime, platform_names: Mapping[str, str]) -> str:
    when = post.publish_at or post.created_at
    shown = format_short(when, tz, now, with_zone=True)
    head = f"🔁 {series.words(post, tz)}" if post.rrule else shown
    lines = [f"<b>#{post.id}</b> · {escape(head)}"]
    if post.text.strip():
        lines[0] += f" · {escape(snippet(post.text, 50))}"
    kinds = [link.media.kind for link in post.media_links]
    if kinds:
        lines[0] += f" 📎{media_summary(kinds)}"
    if post.rrule:
        return "\n".join(lines + series_lines(post, tz, now, platform_names))
    for target in post.targets:
        # Queue slots give each account its own time: shown where it differs from the post's.
        own = target.status == TargetStatus.QUEUED and target.publish_at != when
        at = f" · {escape(format_short(target.publish_at, tz, now, with_zone=True))}" if own else ""
        lines.append("   " + target_line(target, platform_names) + at)
    return "\n".join(lines)


def series_lines(
    post: Post, tz: str, now: datetime, platform_names: Mapping[str, str]
) -> list[str]:
    """A repeating post in /list: its next occurrence and the last one done, not every one."""
    groups = series.occurrences(post)
    pending = [n for n, targets in groups.items() if not all(t.status.is_final for t in targets)]
    done = [n for n in groups if n not in pending]
    lines = []
    if pending:
        upcoming = groups[min(pending)]
        when = format_when(upcoming[0].publish_at, tz, now, style="abbr")
        lines.append(f"   ⏭ Next: {escape(when)}")
        lines.extend("   " + target_line(t, platform_names) for t in upcoming)
    elif post.status == PostStatus.CANCELLED:
        lines.append("   🛑 Series stopped")
    else:
        lines.append("   🏁 Series finished")
    if done:
        last = groups[max(done)]
        when = format_short(last[0].publish_at, tz, now, with_zone=True)
        lines.append(f"   ↩ Last: {escape(when)}")
        lines.extend("   " + target_line(t, platform_names) for t in last)
    return lines


def scheduled_confirmation(
    post: Post, accounts: Sequence[Account], tz: str, now: datetime, names: Mapping[str, str]
) -> str:
    who = ", ".join(account_name(a, names) for a in accounts)
    when = post.publish_at or now
    repeat = f"\n🔁 {escape(series.words(post, tz))}" if post.rrule else ""
    if when <= now:
        return f"✅ <b>Scheduled #{post.id}</b> to go out now → {who}{repeat}"
    return (
        f"✅ <b>Scheduled #{post.id}</b> for {escape(format_when(when, tz, now, style='abbr'))}"
        f"\n→ {who}{repeat}"
    )
