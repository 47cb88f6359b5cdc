"""/stats: the figures as data, then as a message.

Percentiles are computed here, in Python, over the most recent DELAY_WINDOW published
targets: SQLite has no percentile function, and one code path on both databases gives the
same answer on both.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.schedule.parse import distance, format_short
from storage import admin as admin_repo
from storage.models import PostStatus, TargetStatus, User

S = TypeVar("S", PostStatus, TargetStatus)

#: Published targets the delay figures are computed over (the most recent ones).
DELAY_WINDOW = 10_000
#: Target outcomes that count towards the success rate (cancelled ones don't).
OUTCOMES = (TargetStatus.PUBLISHED, TargetStatus.FAILED, TargetStatus.UNKNOWN)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least q% of values at or
    below it (p95 of 1..100 is 95). None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, kw_only=True)
class Stats:
    #: total, active_7d, blocked, banned (instance-wide figures only).
    users: Mapping[str, int] | None
    posts: Mapping[PostStatus, int]
    targets: Mapping[TargetStatus, int]
    #: Targets with at least one attempt, and those with more than one.
    attempted: int
    retried: int
    #: Publish delays in seconds (first successful attempt's start minus publish_at).
    delays: Sequence[float]
    platforms: Mapping[str, Mapping[TargetStatus, int]]
    #: (last error, count) of failed targets, most frequent first.
    failures: Sequence[tuple[str, int]]
    #: queued, due (queued and due now), publishing.
    queue: Mapping[str, int]
    next_due: datetime | None

    @property
    def finished(self) -> int:
        return sum(self.targets.get(status, 0) for status in OUTCOMES)

    @property
    def success_rate(self) -> float | None:
        done = self.finished
        return self.targets.get(TargetStatus.PUBLISHED, 0) / done if done else None

    @property
    def retry_rate(self) -> float | None:
        return self.retried / self.attempted if self.attempted else None

    @property
    def average_delay(self) -> float | None:
        return sum(self.delays) / len(self.delays) if self.delays else None

    @property
    def p95_delay(self) -> float | None:
        return percentile(self.delays, 95)


async def gather(session: AsyncSession, now: datetime, user_id: int | None = None) -> Stats:
    """Every figure, instance-wide or for one user's rows, in one transaction."""
    attempted, retried = await admin_repo.retry_counts(session, user_id)
    return Stats(
        users=None if user_id is not None else await admin_repo.user_counts(session, now),
        posts=await admin_repo.post_counts(session, user_id),
        targets=await admin_repo.target_counts(session, user_id),
        attempted=attempted,
        retried=retried,
        delays=await admin_repo.publish_delays(session, user_id, limit=DELAY_WINDOW),
        platforms=await admin_repo.platform_counts(session, user_id),
        failures=await admin_repo.failure_reasons(session, user_id),
        queue=await admin_repo.queue_depth(session, now, user_id),
        next_due=await admin_repo.next_due(session, user_id),
    )


# -- rendering ------------------------------------------------------------------------------


def number(n: int) -> str:
    return f"{n:,}"


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"


def duration(seconds: float | None) -> str:
    """'340 ms', '2.4 s', '3 min 5 s', '2 h 10 min'."""
    if seconds is None:
        return "—"
    sign = "−" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 1:
        return f"{sign}{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{sign}{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{sign}{minutes} min {secs} s" if secs else f"{sign}{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{sign}{hours} h {minutes} min" if minutes else f"{sign}{hours} h"


def _by_status(counts: Mapping[S, int], order: Sequence[S]) -> str:
    parts = [f"{number(counts[s])} {s.value}" for s in order if counts.get(s)]
    return " · ".join(parts) if parts else "none"


POST_ORDER = (PostStatus.SCHEDULED, PostStatus.DRAFT, PostStatus.CANCELLED)
TARGET_ORDER = (
    TargetStatus.PUBLISHED,
    TargetStatus.FAILED,
    TargetStatus.UNKNOWN,
    TargetStatus.QUEUED,
    TargetStatus.PUBLISHING,
    TargetStatus.CANCELLED,
)


def render(
    stats: Stats,
    *,
    now: datetime,
    tz: str,
    platform_names: Mapping[str, str],
    user: User | None = None,
) -> str:
    title = f"Statistics for {escape(user.first_name)}" if user else "Crier statistics"
    lines = [f"📊 <b>{title}</b>"]
    if user is not None:
        handle = f" @{escape(user.username)}" if user.username else ""
        lines.append(
            f"🪪 <code>{user.id}</code>{handle} · {user.role.value} · {user.status.value} · "
            f"joined {format_short(user.created_at, tz, now, with_zone=True)} · "
            f"seen {distance(user.last_seen_at - now)}"
        )
    if stats.users is not None:
        u = stats.users
        lines.append(
            f"👥 Users: {number(u['total'])} · active 7d: {number(u['active_7d'])} · "
            f"blocked: {number(u['blocked'])} · banned: {number(u['banned'])}"
        )
    total_posts = sum(stats.posts.values())
    total_targets = sum(stats.targets.values())
    published = stats.targets.get(TargetStatus.PUBLISHED, 0)
    lines += [
        "",
        f"📝 Posts: {number(total_posts)} ({_by_status(stats.posts, POST_ORDER)})",
        f"🎯 Targets: {number(total_targets)} ({_by_status(stats.targets, TARGET_ORDER)})",
        f"✅ Success rate: {percent(published, stats.finished)} "
        f"({number(published)} of {number(stats.finished)} finished)",
        f"🔁 Retry rate: {percent(stats.retried, stats.attempted)} "
        f"({number(stats.retried)} of {number(stats.attempted)} needed more than one attempt)",
        f"⏱ Publish delay: avg {duration(stats.average_delay)} · "
        f"p95 {duration(stats.p95_delay)} (last {number(len(stats.delays))} published)",
    ]
    if stats.platforms:
        lines += ["", "🌐 <b>By platform</b>"]
        ranked = sorted(stats.platforms.items(), key=lambda item: (-sum(item[1].values()), item[0]))
        for platform, counts in ranked:
            name = escape(platform_names.get(platform, platform))
            lines.append(f"• {name}: {_by_status(counts, TARGET_ORDER)}")
    if stats.failures:
        lines += ["", "❌ <b>Top failure reasons</b>"]
        for reason, count in stats.failures:
            lines.append(f"• {number(count)}× {escape(_clip(reason))}")
    q = stats.queue
    next_due = "nothing due"
    if stats.next_due is not None:
        when = format_short(stats.next_due, tz, now, with_zone=True)
        next_due = f"next due {distance(stats.next_due - now)} ({escape(when)})"
    lines += [
        "",
        f"⏳ Queue: {number(q['queued'])} queued ({number(q['due'])} due now) · "
        f"{number(q['publishing'])} publishing · {next_due}",
    ]
    return "\n".join(lines)


def _clip(text: str, limit: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
