"""Repeating posts: the first occurrence, each next one, cancelling one or all, and words.

Each occurrence is its own set of targets (own statuses, own summary DM). The next one is
created when the previous one settles, in the same transaction (bot/engine/outcomes.py calls
`advance`), or when the user cancels "only this one". Times come from bot/schedule/recurrence.py,
which works in the wall-clock time of the post's zone, so "every day at 09:00" stays at
09:00 local across DST changes: never `+ timedelta(days=1)` here.

Missed occurrences are never published in a burst, and never more than an hour late:
- when an occurrence settles and the rule's next time has already passed (Crier was down,
  or this occurrence was held up), the series jumps to the present. The most recent missed
  time goes out once, now, if it is less than MISSED_GRACE late; older ones are skipped,
  and one cancelled entry per account records them ("Skipped 3 repeats ...", in /status).
  So after three days of downtime the next occurrence is the next future one.
- an occurrence still queued and never tried more than MISSED_GRACE after its time (the
  engine was stopped when it was due) is skipped the same way by `skip_missed`, for the
  engine to run before it claims work (until it does, such an occurrence is published
  late like any overdue post, and the series then moves on as above).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from sqlalchemy.ext.asyncio import AsyncSession

from bot.engine.webhooks import events
from bot.schedule.parse import format_short, format_when, zone
from bot.schedule.recurrence import (
    RecurrenceError,
    describe_rule,
    next_occurrence,
    occurrence_instant,
)
from storage import series as store
from storage.models import Account, AccountStatus, Post, PostStatus, Target, TargetStatus

log = logging.getLogger(__name__)

#: A missed occurrence still goes out if it is less late than this; older ones are skipped.
MISSED_GRACE = timedelta(hours=1)
#: Most missed occurrences counted for the note ("5+"): each step walks the rule from its
#: start (measured: 75 ms for an hourly series a year old), inside the outcome's transaction.
_COUNT_CAP = 5


# -- times ----------------------------------------------------------------------------------


def wall(instant: datetime, tz: str) -> datetime:
    """The naive wall time of `instant` in `tz`, to the minute: where a series starts."""
    return instant.astimezone(zone(tz)).replace(tzinfo=None, second=0, microsecond=0)


def stored_start(value: str | None) -> datetime | None:
    """A post's `dtstart_local` ("2027-03-22T09:00:00") as a naive wall time."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError:
        return None


def stored_form(start: datetime) -> str:
    """How a series' start is kept in `dtstart_local` (what `stored_start` reads back)."""
    return start.strftime("%Y-%m-%dT%H:%M:%S")


def first_occurrence(rule: str, tz: str, when: datetime) -> tuple[datetime, datetime]:
    """The series' start (naive local wall time) and its first occurrence (UTC), for a
    series beginning at the chosen time `when`: the first time the rule gives at or after
    it (the chosen day need not be one of the rule's days)."""
    start = wall(when, tz)
    first = next_occurrence(rule, tz, start, occurrence_instant(start, tz) - timedelta(seconds=1))
    if first is None:
        raise RecurrenceError(
            "This repeat ends before its first post: change the end, or pick an earlier time."
        )
    return start, first


def upcoming_from(rule: str, tz: str, start: datetime, limit: int = 3) -> list[datetime]:
    """The first `limit` occurrences of a series starting at the wall time `start`."""
    found: list[datetime] = []
    moment = occurrence_instant(start, tz) - timedelta(seconds=1)
    while len(found) < limit:
        following = next_occurrence(rule, tz, start, moment)
        if following is None:
            break
        found.append(following)
        moment = following
    return found


@dataclass(frozen=True, kw_only=True)
class Plan:
    """Where a series goes after an occurrence."""

    #: The next occurrence to queue (UTC); None when the rule has no more.
    at: datetime | None
    #: Missed occurrences passed over (at most _COUNT_CAP), and the first of them.
    skipped: int = 0
    first_skipped: datetime | None = None
    #: More were passed over than counted.
    more: bool = False


def plan_next(rule: str, tz: str, start: datetime, after: datetime, now: datetime) -> Plan:
    """The occurrence that follows the one at `after`, never a burst of past ones."""
    following = next_occurrence(rule, tz, start, after)
    if following is None or following > now:
        return Plan(at=following)
    # The rule's next time has passed (nothing ran, or this occurrence was held up): the
    # first occurrence after now - MISSED_GRACE goes out (now, if it has passed already).
    recent = next_occurrence(rule, tz, start, now - MISSED_GRACE)
    skipped = 0
    moment: datetime | None = following
    while moment is not None and (recent is None or moment < recent) and skipped < _COUNT_CAP:
        skipped += 1
        moment = next_occurrence(rule, tz, start, moment)
    more = moment is not None and (recent is None or moment < recent)
    return Plan(at=recent, skipped=skipped, first_skipped=following if skipped else None, more=more)


def _skip_note(count: int, more: bool, first: datetime, tz: str, now: datetime) -> str:
    shown = format_short(first, tz, now, with_zone=True)
    if count == 1 and not more:
        what = f"Skipped the repeat due {shown}"
    else:
        what = f"Skipped {count}{'+' if more else ''} repeats, the first due {shown}"
    return f"{what}: posts weren't going out then, and missed repeats aren't published late."


# -- moving a series on ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Next:
    """What `advance` did."""

    tz: str
    #: The occurrence now queued (UTC); None: the series is over.
    at: datetime | None


async def advance(
    session: AsyncSession, post_id: int, targets: Sequence[Target], now: datetime
) -> Next | None:
    """An occurrence settled (every target of it final, `targets`): queue the next one in
    this transaction. None when there is nothing to do: not a series, stopped, or it had
    moved on already (an old occurrence retried)."""
    if not targets:
        return None
    found = await store.lock(session, post_id, user_id=None)
    if found is None or not found.rrule or found.status != PostStatus.SCHEDULED:
        return None
    occurrence = max(t.occurrence for t in targets)
    latest = await store.latest_occurrence(session, post_id)
    if latest is not None and latest > occurrence:
        return None
    return await _move_on(session, found, targets, occurrence, now)


async def _move_on(
    session: AsyncSession,
    found: store.Series,
    targets: Sequence[Target],
    occurrence: int,
    now: datetime,
    *,
    skipped_here: Sequence[Target] = (),
) -> Next:
    """Queue the occurrence after `occurrence` for the accounts of `targets`. With
    `skipped_here`, those (stale, queued) targets are the skipped record themselves."""
    assert found.rrule is not None
    tz = found.timezone or "UTC"
    after = max(t.publish_at for t in targets)
    start = stored_start(found.dtstart_local) or wall(after, tz)
    try:
        plan = plan_next(found.rrule, tz, start, after, now)
    except (RecurrenceError, ValueError):
        # A stored rule we can no longer read must not block recording the outcome.
        log.exception(
            "post %s: can't work out the next occurrence; the series stops", found.post_id
        )
        plan = Plan(at=None)
    number = occurrence + 1
    still: dict[int, Account] = {}
    for target in targets:
        if target.account.status != AccountStatus.DISABLED:
            still.setdefault(target.account_id, target.account)
    accounts = list(still.values())
    if skipped_here:
        count, first = plan.skipped + 1, after
        note = _skip_note(count, plan.more, first, tz, now)
        ids = [t.id for t in skipped_here]
        await store.skip(session, ids, note=note, now=now)
        # Skipped repeats are cancelled posts to a webhook (with the note as the reason).
        await events.emit_for_targets(session, found.user_id, ids, TargetStatus.CANCELLED, now)
    elif plan.skipped and plan.first_skipped is not None and accounts:
        note = _skip_note(plan.skipped, plan.more, plan.first_skipped, tz, now)
        recorded = await store.add_skipped(
            session,
            found,
            accounts,
            occurrence=number,
            publish_at=plan.first_skipped,
            note=note,
            now=now,
        )
        ids = [t.id for t in recorded]
        await events.emit_for_targets(session, found.user_id, ids, TargetStatus.CANCELLED, now)
        number += 1
    if plan.at is None or not accounts:
        return Next(tz=tz, at=None)
    await store.add_occurrence(
        session, found, accounts, occurrence=number, publish_at=plan.at, due_at=max(plan.at, now)
    )
    return Next(tz=tz, at=plan.at)


async def skip_missed(session: AsyncSession, now: datetime) -> int:
    """Skip occurrences still queued, never tried, more than MISSED_GRACE after their time
    (the engine wasn't running then), and move their series on. Returns how many."""
    stale = await store.missed(session, before=now - MISSED_GRACE)
    stale_ids = {t.id for t in stale}
    skipped = 0
    for post_id, occurrence in sorted({(t.post_id, t.occurrence) for t in stale}):
        found = await store.lock(session, post_id, user_id=None)
        if found is None or not found.rrule or found.status != PostStatus.SCHEDULED:
            continue
        targets = await store.occurrence_targets(session, post_id, occurrence)
        if not targets or any(t.id not in stale_ids for t in targets):
            continue  # partly under way: the engine publishes the rest as usual
        await _move_on(session, found, targets, occurrence, now, skipped_here=targets)
        skipped += 1
    return skipped


# -- reading a series ---------------------------------------------------------------------------


def words(post: Post, viewer_tz: str | None = None) -> str:
    """The post's rule in words ("every weekday at 09:00"), naming its zone if the viewer's
    differs."""
    if not post.rrule:
        return ""
    tz = post.timezone or viewer_tz or "UTC"
    try:
        said = describe_rule(post.rrule, tz, dtstart_local=stored_start(post.dtstart_local))
    except RecurrenceError:
        said = "a custom repeat"
    if viewer_tz and tz != viewer_tz:
        said += f" ({tz} time)"
    return said


def occurrences(post: Post) -> dict[int, list[Target]]:
    """The post's targets by occurrence, in order."""
    grouped: dict[int, list[Target]] = {}
    for target in sorted(post.targets, key=lambda t: (t.occurrence, t.id)):
        grouped.setdefault(target.occurrence, []).append(target)
    return grouped


def pending_occurrence(post: Post) -> int | None:
    """The earliest occurrence with a target still queued (what "only this one" cancels)."""
    queued = [t.occurrence for t in post.targets if t.status == TargetStatus.QUEUED]
    return min(queued) if queued else None


def is_live(post: Post) -> bool:
    """A series that will still publish: not stopped, with an occurrence not yet settled."""
    return (
        bool(post.rrule)
        and post.status == PostStatus.SCHEDULED
        and any(not t.status.is_final for t in post.targets)
    )


def summary_line(following: Next | None, now: datetime) -> str:
    """The line an occurrence's summary DM ends with: when the series posts next."""
    if following is None:
        return ""
    if following.at is None:
        return "\n\n🔁 That was the last one of this series."
    when = format_when(following.at, following.tz, now, style="abbr")
    return f"\n\n🔁 Next: {escape(when)}"
