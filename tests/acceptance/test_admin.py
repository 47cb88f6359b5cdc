"""Admin commands end to end: who may use them, /stats, /users, bans, roles and the audit."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.app import Crier
from bot.config import Settings
from storage.models import Audit, Role, TargetStatus, User, UserStatus
from tests.acceptance.conftest import Person, buttons, make_due, schedule_text
from tests.acceptance.test_broadcast import seed_users
from tests.acceptance.test_schedules import statuses
from tests.fakes.telegram_api import FakeTelegram
from tests.integration import test_stats as seeded

ADMIN_ONLY = "admins only"


@pytest.fixture
async def crier(make_settings: Callable[..., Settings], alice: Person) -> AsyncIterator[Crier]:
    """Alice is an admin from ADMIN_IDS; Bob is not."""
    async with Crier(make_settings(admin_ids=[alice.id])) as app:
        yield app


async def audit_rows(crier: Crier, actor: int) -> list[tuple[str, str | None]]:
    async with crier.db.session() as session:
        rows = await session.execute(
            select(Audit.action, Audit.subject).where(Audit.actor_id == actor).order_by(Audit.id)
        )
        return [(a, s) for a, s in rows]


async def test_non_admins_are_refused_every_admin_command_and_audited(
    tg: FakeTelegram, crier: Crier, alice: Person, bob: Person
) -> None:
    await alice.says("/start", "Crier")
    commands = [
        "/stats",
        f"/stats {alice.id}",
        "/users",
        f"/ban {alice.id}",
        f"/unban {alice.id}",
        f"/promote {bob.id}",
        f"/demote {alice.id}",
        "/allow 5",
        "/invite",
        "/audit",
        "/broadcast",
        "/broadcast_cancel",
    ]
    for command in commands:
        answer = await bob.says(command, ADMIN_ONLY)
        assert answer["text"] == "⛔ That is for admins only.", command
    denied = await audit_rows(crier, bob.id)
    assert [a for a, _ in denied] == ["denied"] * len(commands)
    assert [s for _, s in denied] == [
        "stats",
        "stats",
        "users",
        "ban",
        "unban",
        "promote",
        "demote",
        "allow",
        "invite",
        "audit",
        "broadcast",
        "broadcast.cancel",
    ]
    async with crier.db.session() as session:
        bobs = await session.get(User, bob.id)
        alices = await session.get(User, alice.id)
    assert bobs is not None
    assert bobs.role == Role.USER
    assert alices is not None
    assert alices.status == UserStatus.ACTIVE
    # Nobody but admins sees the admin commands in their menu.
    scopes = [c.get("scope") for c in tg.calls_to("setMyCommands")]
    assert {"type": "chat", "chat_id": alice.id} in scopes
    assert {"type": "chat", "chat_id": bob.id} not in scopes


async def test_promote_then_demote_takes_effect_on_the_next_call(
    tg: FakeTelegram, crier: Crier, alice: Person, bob: Person
) -> None:
    await alice.says("/start", "Crier")
    await bob.says("/start", "Crier")
    await bob.says("/stats", ADMIN_ONLY)
    await alice.says("/promote @BOB", "is an admin now")
    await bob.says("/stats", "Crier statistics")
    menu = tg.calls_to("setMyCommands")[-1]
    assert menu["scope"] == {"type": "chat", "chat_id": bob.id}
    assert "broadcast" in [c["command"] for c in menu["commands"]]
    assert "new" in [c["command"] for c in menu["commands"]], "everyone's commands stay"

    await bob.says(f"/demote {alice.id}", "from ADMIN_IDS")
    await bob.says(f"/demote {bob.id}", "can't demote yourself")
    await alice.says(f"/promote {bob.id}", "already an admin")
    await alice.says(f"/demote {bob.id}", "no longer an admin")
    await bob.says("/stats", ADMIN_ONLY)
    assert tg.calls_to("deleteMyCommands")[-1]["scope"] == {"type": "chat", "chat_id": bob.id}
    assert await audit_rows(crier, alice.id) == [
        ("promote", f"user:{bob.id}"),
        ("demote", f"user:{bob.id}"),
    ]


async def test_bad_admin_input_gets_a_clear_answer(crier: Crier, alice: Person) -> None:
    await alice.says("/start", "Crier")
    await alice.says("/ban", "Tell me who")
    await alice.says("/ban nobody_here", "don't know the user")
    await alice.says("/ban 99999", "don't know the user")
    await alice.says(f"/ban {alice.id}", "can't ban yourself")
    await alice.says("/stats @ghost", "don't know the user")
    await alice.says("/allow bob", "numeric Telegram id")
    await alice.says("/invite 0", "from 1 to 1000")
    await alice.says("/broadcast_cancel 7", "no running broadcast #7")
    await alice.says("/broadcast_cancel", "No broadcast is running")
    assert await audit_rows(crier, alice.id) == []


async def test_ban_holds_posts_and_tells_the_user_once_unban_releases(
    tg: FakeTelegram, crier: Crier, alice: Person, bob: Person
) -> None:
    await alice.says("/start", "Crier")
    await bob.says("/start", "Crier")
    await schedule_text(bob, "Held while banned", "in 10 minutes")
    reply = await alice.says(f"/ban {bob.id} spamming", "Banned Bob")
    assert "1 of their posts are on hold" in reply["text"]

    await make_due(crier)
    assert crier.services is not None
    await crier.services.engine.run_due()  # type: ignore[union-attr]
    assert await statuses(crier, 1) == [TargetStatus.QUEUED], "a banned user's post is held"

    told = await bob.says("hello?", "suspended your access")
    assert "on hold" in told["text"]
    before = len(tg.sent(bob.user))
    tg.send_text(bob.user, "/list")
    tg.send_text(bob.user, "anyone there?")
    await alice.says("/help", "/list")  # the bot has handled Bob's messages by now
    await alice.says("/help", "/list")
    assert len(tg.sent(bob.user)) == before, "told once, then silence"
    pressed = await bob.forges(told, "l:0")
    assert "suspended" in pressed.get("text", "")

    await alice.says(f"/ban {bob.id}", "already banned")
    released = await alice.says("/unban @bob", "Lifted the ban")
    assert "1 held posts are going out now" in released["text"]
    await tg.wait_for(bob.user, "restored your access")
    await tg.wait_for(bob.user, "Post #1 is out", timeout=10)
    assert await statuses(crier, 1) == [TargetStatus.PUBLISHED]
    await bob.says("/list", "Your posts")
    assert await audit_rows(crier, alice.id) == [
        ("ban", f"user:{bob.id}"),
        ("unban", f"user:{bob.id}"),
    ]
    async with crier.db.session() as session:
        detail = await session.scalar(select(Audit.detail).where(Audit.action == "ban"))
    assert detail == {"waiting_targets": 1, "reason": "spamming"}

    # A second ban is told again, once.
    await alice.says(f"/ban {bob.id}", "Banned Bob")
    await bob.says("still here", "suspended your access")


async def test_admins_cannot_be_banned(crier: Crier, alice: Person, bob: Person) -> None:
    await alice.says("/start", "Crier")
    await bob.says("/start", "Crier")
    await alice.says(f"/promote {bob.id}", "is an admin now")
    await alice.says(f"/ban {bob.id}", "demote them first")
    await bob.says(f"/ban {alice.id}", "is an admin")


async def test_users_pages_and_search(
    tg: FakeTelegram, crier: Crier, alice: Person, bob: Person
) -> None:
    await alice.says("/start", "Crier")
    await bob.says("/start", "Crier")
    await seed_users(crier, None, range(70_001, 70_024))
    first = await alice.says("/users", "Users")
    assert "25 · page 1/3" in first["text"]
    assert buttons(first) == ["▶"]
    second = await alice.presses(first, "▶", "page 2/3")
    assert second["message_id"] == first["message_id"]
    assert buttons(second) == ["◀", "▶"]

    found = await alice.says("/users bob", "matching")
    assert f"Bob @bob · {bob.id} · seen now" in found["text"]
    assert "page 1/1" in found["text"]
    assert "User 70001" not in found["text"]
    by_id = await alice.says("/users 70017", "matching")
    assert "User 70017" in by_id["text"]
    assert "1 · page 1/1" in by_id["text"]
    none = await alice.says("/users zzz%_", "No users")
    assert not buttons(none)
    crowd = await alice.says("/users user 7", "matching")
    assert "23 · page 1/3" in crowd["text"]
    more = await alice.presses(crowd, "▶", "page 2/3")
    assert "“user 7”" in more["text"], "the search is kept when turning pages"


async def test_stats_match_a_seeded_database(
    make_settings: Callable[..., Settings], alice: Person
) -> None:
    # No engine: it would publish the seeded post that is due now.
    async with Crier(make_settings(admin_ids=[alice.id], run_engine=False)) as crier:
        await alice.says("/start", "Crier")
        now = datetime.now(UTC).replace(microsecond=0)
        await crier.db.run(lambda s: seeded.seed(s, now))
        text = (await alice.says("/stats", "Crier statistics"))["text"]
        one = (await alice.says("/stats @user11", "Statistics for User 11"))["text"]
        audited = await audit_rows(crier, alice.id)
    want = seeded.expected(now)

    # The seeded users, and Alice.
    assert "Users: 6 · active 7d: 4 · blocked: 1 · banned: 1" in text
    assert "Posts: 30 (28 scheduled · 1 draft · 1 cancelled)" in text
    targets: dict[TargetStatus, int] = want["targets"]  # type: ignore[assignment]
    assert f"Targets: {sum(targets.values())} (22 published · 3 failed · 1 unknown" in text
    assert "Success rate: 84.6% (22 of 26 finished)" in text
    assert "Retry rate: 7.7% (2 of 26 needed more than one attempt)" in text
    delays: list[float] = want["delays"]  # type: ignore[assignment]
    average = sum(delays) / len(delays)
    assert f"avg {average:.1f} s · p95 19.0 s (last 22 published)" in text
    assert "• Dry run: 22 published · 2 queued · 1 cancelled" in text
    assert "• Discord: 2 failed · 1 unknown" in text
    assert "• 2× Unknown Channel" in text
    assert "Queue: 2 queued (1 due now) · 0 publishing · next due" in text

    assert "11 @user11 · user · active" in one
    assert "Targets: 4 (2 published · 1 failed · 1 queued)" in one
    assert "Retry rate: 66.7% (2 of 3" in one
    assert "p95 5.0 s" in one
    assert audited == [("stats.view", "user:11")]


async def test_audit_lists_the_latest_actions(crier: Crier, alice: Person, bob: Person) -> None:
    await alice.says("/start", "Crier")
    await bob.says("/start", "Crier")
    await alice.says(f"/ban {bob.id}", "Banned")
    await alice.says(f"/unban {bob.id}", "Lifted")
    listing = await alice.says("/audit", "Latest admin actions")
    lines = listing["text"].splitlines()
    assert re.search(rf"{alice.id} unban user:{bob.id}", lines[2])
    assert re.search(rf"{alice.id} ban user:{bob.id}", lines[3])
