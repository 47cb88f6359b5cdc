"""/stats figures against a database seeded through the storage functions, on SQLite and
PostgreSQL. Expectations are computed from the seeding plan in plain Python, not by the
code under test."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.admin import stats
from storage import accounts, admin, posts, queue, users
from storage.db import Database
from storage.models import Account, PostStatus, TargetStatus, UserStatus


@dataclass(frozen=True)
class Planned:
    """One post with one target, and what happened to it."""

    user: int
    platform: str
    #: publish_at relative to now, minutes.
    minutes: float
    #: (attempt outcome, seconds after publish_at it started).
    tries: tuple[tuple[str, float], ...]
    final: TargetStatus
    error: str | None = None


P, F, U, Q = TargetStatus.PUBLISHED, TargetStatus.FAILED, TargetStatus.UNKNOWN, TargetStatus.QUEUED
PLAN: list[Planned] = [
    Planned(11, "dryrun", -60, (("published", 2.0),), P),
    Planned(
        11, "mastodon", -60, (("transient", 1.0), ("permanent", 40.0)), F, "Server error (500)"
    ),
    Planned(11, "dryrun", -30, (("transient", 1.0), ("published", 5.0)), P),
    Planned(12, "dryrun", 24 * 60, (), Q),
    Planned(13, "discord", -120, (("permanent", 0.5),), F, "Unknown Channel"),
    Planned(13, "discord", -10, (("ambiguous", 0.3),), U, "No answer within 120 s"),
    Planned(13, "discord", -90, (("permanent", 0.5),), F, "Unknown Channel"),
    *(Planned(12, "dryrun", -180, (("published", float(d)),), P) for d in range(1, 21)),
    # Due now and not yet tried: created last, so nothing claims it.
    Planned(11, "dryrun", -1, (), Q),
]
#: user -> (days since last seen, status)
USERS = {
    11: (0, UserStatus.ACTIVE),
    12: (0, UserStatus.ACTIVE),
    13: (10, UserStatus.ACTIVE),
    14: (3, UserStatus.BLOCKED),
    15: (30, UserStatus.BANNED),
}
#: Besides the plan: user 12 has one cancelled post and one draft.
CANCELLED_USER, DRAFT_USER = 12, 12


async def seed(session: AsyncSession, now: datetime) -> None:
    for uid in USERS:
        await users.upsert(
            session,
            user_id=uid,
            chat_id=uid,
            first_name=f"User {uid}",
            username=f"user{uid}",
            language="en",
            default_timezone="UTC",
            admin=False,
        )
    owned: dict[tuple[int, str], Account] = {}

    async def account(uid: int, platform: str) -> Account:
        if (uid, platform) not in owned:
            owned[uid, platform] = await accounts.add(
                session, user_id=uid, platform=platform, label=f"{platform} of {uid}"
            )
        return owned[uid, platform]

    for item in PLAN:
        publish_at = now + timedelta(minutes=item.minutes)
        draft = await posts.new_draft(session, item.user)
        draft.text = "Seeded"
        result = await posts.schedule(
            session, draft, [await account(item.user, item.platform)], publish_at, "UTC"
        )
        target = result.targets[0]
        for n, (outcome, after) in enumerate(item.tries, start=1):
            started = publish_at + timedelta(seconds=after)
            (claimed,) = await queue.claim(
                session, owner="seed", now=now, lease=timedelta(minutes=5), limit=1
            )
            assert claimed.id == target.id
            await queue.record_attempt(
                session, target_id=target.id, started_at=started, duration_ms=100, outcome=outcome
            )
            if n < len(item.tries):
                await queue.retry_at(
                    session, target_id=target.id, owner="seed", when=now, error="try again"
                )
            elif item.final == P:
                await queue.complete(
                    session,
                    target_id=target.id,
                    owner="seed",
                    platform_post_id="1",
                    url=None,
                    now=started,
                )
            else:
                await queue.fail(
                    session,
                    target_id=target.id,
                    owner="seed",
                    error=item.error or "",
                    status=item.final,
                )
    cancelled = await posts.new_draft(session, CANCELLED_USER)
    cancelled.text = "Never mind"
    await posts.schedule(
        session,
        cancelled,
        [await account(CANCELLED_USER, "dryrun")],
        now + timedelta(days=2),
        "UTC",
    )
    assert await posts.cancel(session, CANCELLED_USER, cancelled.id) == 1
    await posts.new_draft(session, DRAFT_USER)
    for uid, (days, status) in USERS.items():
        user = await users.get(session, uid)
        assert user is not None
        user.last_seen_at = now - timedelta(days=days)
        if status == UserStatus.BANNED:
            await admin.set_ban(session, uid, True)
        elif status != UserStatus.ACTIVE:
            await users.set_status(session, uid, status)
    await session.flush()


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(q / 100 * len(ordered)) - 1]


def expected(now: datetime, user: int | None = None) -> dict[str, object]:
    plan = [p for p in PLAN if user is None or p.user == user]
    targets = Counter(p.final for p in plan)
    post_counts = Counter({PostStatus.SCHEDULED: len(plan)})
    if user in (None, CANCELLED_USER):
        targets[TargetStatus.CANCELLED] += 1
        post_counts[PostStatus.CANCELLED] += 1
    if user in (None, DRAFT_USER):
        post_counts[PostStatus.DRAFT] += 1
    platforms: dict[str, Counter[TargetStatus]] = {}
    for p in plan:
        platforms.setdefault(p.platform, Counter())[p.final] += 1
    if user in (None, CANCELLED_USER):
        platforms["dryrun"][TargetStatus.CANCELLED] += 1
    delays = [after for p in plan for outcome, after in p.tries if outcome == "published"]
    failures = Counter(p.error for p in plan if p.final == F)
    queued = [p for p in plan if p.final == Q]
    return {
        "targets": dict(targets),
        "posts": {status: n for status, n in post_counts.items() if n},
        "attempted": sum(1 for p in plan if p.tries),
        "retried": sum(1 for p in plan if len(p.tries) > 1),
        "delays": sorted(delays),
        "platforms": {k: dict(v) for k, v in platforms.items()},
        "failures": sorted(failures.items(), key=lambda kv: (-kv[1], kv[0])),
        "queue": {
            "queued": len(queued),
            "due": sum(1 for p in queued if p.minutes <= 0),
            "publishing": 0,
        },
        "next_due": min(now + timedelta(minutes=p.minutes) for p in queued) if queued else None,
    }


def check(figures: stats.Stats, want: dict[str, object]) -> None:
    assert dict(figures.targets) == want["targets"]
    assert dict(figures.posts) == want["posts"]
    assert (figures.attempted, figures.retried) == (want["attempted"], want["retried"])
    assert sorted(figures.delays) == pytest.approx(want["delays"])
    assert {k: dict(v) for k, v in figures.platforms.items()} == want["platforms"]
    assert list(figures.failures) == want["failures"]
    assert dict(figures.queue) == want["queue"]
    assert figures.next_due == want["next_due"]


async def test_instance_figures_match_the_seeded_database(db: Database) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    await db.run(lambda s: seed(s, now))
    figures = await db.run(lambda s: stats.gather(s, now))

    want = expected(now)
    check(figures, want)
    assert figures.users == {"total": 5, "active_7d": 3, "blocked": 1, "banned": 1}
    delays: list[float] = want["delays"]  # type: ignore[assignment]
    assert len(delays) == 22
    assert figures.average_delay == pytest.approx(sum(delays) / len(delays))
    assert figures.p95_delay == nearest_rank(delays, 95) == 19.0
    assert figures.success_rate == pytest.approx(22 / 26)
    assert figures.retry_rate == pytest.approx(2 / 26)

    text = stats.render(figures, now=now, tz="UTC", platform_names={"dryrun": "Dry run"})
    assert "👥 Users: 5 · active 7d: 3 · blocked: 1 · banned: 1" in text
    assert "Success rate: 84.6% (22 of 26 finished)" in text
    assert "Retry rate: 7.7% (2 of 26 needed more than one attempt)" in text
    assert "p95 19.0 s" in text
    assert "• 2× Unknown Channel" in text
    assert "• Dry run: 22 published · 2 queued · 1 cancelled" in text
    assert "Queue: 2 queued (1 due now) · 0 publishing · next due" in text


async def test_one_users_figures_are_scoped_to_their_rows(db: Database) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    await db.run(lambda s: seed(s, now))
    for uid in (11, 12, 13, 14):
        figures = await db.run(lambda s, uid=uid: stats.gather(s, now, uid))  # type: ignore[misc]
        assert figures.users is None
        check(figures, expected(now, uid))
    eleven = await db.run(lambda s: stats.gather(s, now, 11))
    assert eleven.p95_delay == 5.0
    assert eleven.retry_rate == pytest.approx(2 / 3)


async def test_a_thousands_separator_and_empty_figures(db: Database) -> None:
    now = datetime.now(UTC)
    figures = await db.run(lambda s: stats.gather(s, now))
    text = stats.render(figures, now=now, tz="UTC", platform_names={})
    assert "Success rate: — (0 of 0 finished)" in text
    assert "avg — · p95 —" in text
    assert "nothing due" in text
    assert stats.number(1234567) == "1,234,567"
    assert stats.percentile([], 95) is None
    assert stats.percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert stats.duration(0.34) == "340 ms"
    assert stats.duration(185) == "3 min 5 s"
