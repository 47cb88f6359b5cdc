"""Allow-list mode, invites and the per-user flood limit, end to end."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.app import Crier
from bot.config import Settings
from storage.models import Audit, Invite, User
from tests.acceptance.conftest import Person, buttons
from tests.fakes.telegram_api import FakeTelegram

REFUSED = "invite-only"


async def registered(crier: Crier, uid: int) -> bool:
    async with crier.db.session() as session:
        return await session.get(User, uid) is not None


def allowlist(make_settings: Callable[..., Settings], admin: Person, **extra: object) -> Settings:
    return make_settings(admin_ids=[admin.id], access="allowlist", **extra)


async def test_a_stranger_is_refused_politely_until_an_admin_allows_them(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person, bob: Person
) -> None:
    async with Crier(allowlist(make_settings, alice)) as crier:
        await alice.says("/start", "I'm Crier")  # admins are always let in
        refusal = await bob.says("/start", REFUSED)
        assert f"Your Telegram id is {bob.id}" in refusal["text"]
        tg.send_text(bob.user, "hello?")
        tg.send_text(bob.user, "/new")
        await alice.says("/help", "/list")  # Bob's messages were handled before this
        assert len(tg.sent(bob.user)) == 1, "refused once, then quiet for a while"
        assert not await registered(crier, bob.id), "a stranger leaves no trace"

        await alice.says(f"/allow {bob.id}", "can use Crier now")
        welcome = await bob.says("/start", "I'm Crier")
        assert buttons(welcome)
        assert await registered(crier, bob.id)
        await alice.says(f"/allow {bob.id}", "was already let in")
        async with crier.db.session() as session:
            actions = list(await session.scalars(select(Audit.action).order_by(Audit.id)))
    assert actions == ["allow", "allow"]


async def test_an_invite_link_lets_in_as_many_people_as_it_has_uses(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person, bob: Person
) -> None:
    carol = Person(tg, tg.add_user(3003, "Carol"))
    dave = Person(tg, tg.add_user(4004, "Dave"))
    async with Crier(allowlist(make_settings, alice)) as crier:
        made = await alice.says("/invite 2", "Invite link for 2 people")
        match = re.search(r"https://t\.me/crier_test_bot\?start=([\w-]+)", made["text"])
        assert match, made["text"]
        code = match.group(1)

        await bob.says("/start not-a-code", "isn't valid any more")
        await bob.says(f"/start {code}", "I'm Crier")
        await carol.says(f"/start {code}", "I'm Crier")
        await dave.says(f"/start {code}", "isn't valid any more")
        await bob.says("/help", "/list")  # let in for good, no code needed now
        assert not await registered(crier, dave.id)

        another = await alice.says("/invite", "Invite link for 1 person")
        fresh = re.search(r"start=([\w-]+)", another["text"])
        assert fresh
        async with crier.db.session() as session:
            await session.execute(
                update(Invite)
                .where(Invite.code == fresh.group(1))
                .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
            )
        await dave.says(f"/start {fresh.group(1)}", "isn't valid any more")
        async with crier.db.session() as session:
            redeemed = list(
                await session.scalars(
                    select(Audit.actor_id).where(Audit.action == "invite.redeem").order_by(Audit.id)
                )
            )
    assert redeemed == [bob.id, 3003]


async def test_people_who_already_use_the_bot_keep_access_when_it_becomes_invite_only(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person, bob: Person
) -> None:
    async with Crier(make_settings(admin_ids=[alice.id])):
        await bob.says("/start", "I'm Crier")
    carol = Person(tg, tg.add_user(3003, "Carol"))
    async with Crier(allowlist(make_settings, alice)):
        await bob.says("/help", "/list")
        await carol.says("/help", REFUSED)
        await alice.says("/help", "/list")


SLOW_DOWN = "faster than I can keep up"


async def test_flooding_gets_one_slow_down_and_is_dropped(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person, bob: Person
) -> None:
    settings = make_settings(user_rate_limit=5, user_rate_window=60)
    async with Crier(settings):
        first = await bob.says("/help", "/list")
        for _ in range(7):
            tg.send_text(bob.user, "/help")
        slow = await tg.wait_for(bob.user, SLOW_DOWN, after=first["message_id"])
        await alice.says("/help", "/list")  # everything Bob sent has been handled by now
        replies = [m for m in tg.sent(bob.user) if "/list" in (m.get("text") or "")]
        assert len(replies) == 5, "the limit, and not one more"
        assert sum(SLOW_DOWN in (m.get("text") or "") for m in tg.sent(bob.user)) == 1
        # Other people are not slowed down by Bob.
        for _ in range(3):
            await alice.says("/help", "/list")
        # Buttons have their own, larger budget (3x): they still work for Bob, until he
        # overdoes them too: one "slow down" toast, then quiet answers.
        answers: list[str] = []
        while len(answers) < 25 and SLOW_DOWN not in (answers or [""])[-1]:
            answers.append((await bob.forges(slow, "nonsense")).get("text") or "")
        assert SLOW_DOWN in answers[-1]
        assert len(answers) > 15, "at least the 3x budget went through"
        assert all("expired" in a for a in answers[:-1])
        quiet = [(await bob.forges(slow, "nonsense")).get("text") for _ in range(2)]
        assert quiet == [None, None]
