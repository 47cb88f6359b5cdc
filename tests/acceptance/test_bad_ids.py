"""Ids no row can have (past what an int4 column holds, signed, zero, "1e9", digits that aren't
ASCII) and other users' ids, typed after a command or forged into a button: each one gets
the answer an unknown id gets, and nothing is logged as an error or reported to the admins."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import Crier
from bot.config import Settings
from storage.models import Account, Post, PostStatus, Target, TargetStatus
from tests.acceptance.conftest import JSON, Person, buttons, schedule_text
from tests.acceptance.test_alerts import alerts_to, quiet_settings
from tests.fakes.telegram_api import FakeTelegram

#: Too big for the database (20 digits: once an OverflowError), signed, zero, not an integer.
BAD_IDS = ["99999999999999999999", "-1", "0", "1e9", "9" * 64]
#: Digits Python's str.isdigit takes but that aren't ASCII ("²" broke int(), "١٢" was 12).
ODD_DIGITS = ["²", "١٢"]
#: How the 64 digits are shown back: clipped.
SHOWN_LONG = "9" * 19 + "…"
POST_UNKNOWN = "I can't find post #{id} among your posts. /list shows them."


def shown(bad: str) -> str:
    return SHOWN_LONG if len(bad) > 20 else bad


def forged(prefix: str, bad: str, suffix: str = "") -> str:
    """`prefix + bad + suffix`, `bad` cut to fit the 64 bytes Telegram allows callback data."""
    room = 64 - len((prefix + suffix).encode())
    return prefix + bad[:room] + suffix


@pytest.fixture
async def setup(
    tg: FakeTelegram, make_settings: Callable[..., Settings], caplog: Any
) -> AsyncIterator[tuple[Crier, Person]]:
    """The bot with an admin who would be alerted; after the test, nothing went wrong."""
    admin = Person(tg, tg.add_user(3003, "Carol", "carol"))
    caplog.set_level(logging.WARNING)
    # Many tries in a row: no flood limit here.
    settings = quiet_settings(make_settings, admin_ids=[admin.id], user_rate_limit=100_000)
    async with Crier(settings) as crier:
        await admin.says("/start", "Crier")
        yield crier, admin
        await asyncio.sleep(0.5)  # an error's alert would be on its way by now
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors == [], [r.getMessage() for r in errors]
        assert alerts_to(tg, admin) == []
        for person in tg.users.values():
            said = " ".join(m.get("text") or "" for m in tg.sent(person.id))
            assert "Something went wrong" not in said


async def account_of(crier: Crier, person: Person) -> int:
    async with crier.db.session() as session:
        found = await session.scalar(
            select(Account.id).where(Account.user_id == person.id).order_by(Account.id)
        )
    assert found is not None
    return found


async def sees(person: Person, data: str, expect: str, on: JSON | None = None) -> str:
    """Press a forged button (on a fresh message, unless `on`): what the person is shown
    that contains `expect`, as the button's answer or as a message the bot sends or edits."""
    message = on or await person.says("/help", "/list")
    waiting = asyncio.ensure_future(person.tg.wait_for(person.user, expect))
    answer = await person.forges(message, data)
    text = answer.get("text") or ""
    if expect in text:
        waiting.cancel()
        return text
    return str((await waiting)["text"])


async def taps(person: Person, message: JSON, data: str, expect: str) -> JSON:
    """Press a button the message doesn't show (with one account there is no 🎨 Customize,
    but the step takes its data all the same)."""
    waiting = person.tg.wait_for(person.user, expect)
    person.tg.press_data(person.user, message, data)
    return await waiting


def same_answer(text: str) -> str:
    """The answer with its id taken out, to compare answers for different ids."""
    return re.sub(r"#\S+", "#…", text)


async def test_post_ids_in_commands_are_answered_like_unknown_ones(
    setup: tuple[Crier, Person], alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await schedule_text(alice, "Alice's post")
    for command in ("cancel", "edit", "status", "retry"):
        unknown = await alice.says(f"/{command} 999", "can't find post #999")
        for bad in [*BAD_IDS, *ODD_DIGITS, "#" + BAD_IDS[0]]:
            answer = await alice.says(f"/{command} {bad}", "can't find post #")
            expected = POST_UNKNOWN.format(id=shown(bad.removeprefix("#")))
            assert expected in answer["text"], (command, bad)
            assert same_answer(answer["text"]) == same_answer(unknown["text"])
        # No digit at all: which post? (as before)
        await alice.says(f"/{command} abc", "Tell me which post")
    # The real one still works, with a '#' too.
    await alice.says("/status #1", "Post #1")


async def test_post_ids_in_buttons_are_answered_like_unknown_ones(
    setup: tuple[Crier, Person], alice: Person, bob: Person
) -> None:
    await alice.says("/start", "Crier")
    await bob.says("/start", "Crier")
    await schedule_text(bob, "Bob's post")
    await alice.says("/drafts", "no drafts")
    for prefix, suffix in (
        ("p:cancel:", ""),
        ("p:cancel_yes:", ""),
        ("p:cancel_one:", ":0"),
        ("p:keep:", ""),
        ("p:now:", ""),
        ("p:retry:", ""),
        ("p:status:", ""),
        ("p:mark:", ""),
        ("p:edit:", ""),
        ("p:dup:", ""),
        ("t:save:", ""),
    ):
        # Bob's post #1 is someone else's: the same answer as no post at all.
        for bad in [*BAD_IDS, "1"]:
            data = forged(prefix, bad, suffix)
            text = await sees(alice, data, "can't find post #")
            cut = data.removeprefix(prefix).removesuffix(suffix)
            assert POST_UNKNOWN.format(id=shown(cut)) in text, data
    for prefix, gone in (
        ("d:resume:", "That draft is gone"),
        ("d:del:", "That draft is gone"),
        ("d:delyes:", "That draft is gone"),
        ("t:use:", "That template is gone"),
        ("t:del:", "That template is gone"),
        ("t:delyes:", "That template is gone"),
    ):
        for bad in BAD_IDS:
            await sees(alice, forged(prefix, bad), gone)
    async with setup[0].db.session() as session:
        [post] = await session.scalars(select(Post))
        [target] = await session.scalars(select(Target))
    assert (post.user_id, post.status) == (bob.id, PostStatus.SCHEDULED)
    assert target.status == TargetStatus.QUEUED


async def test_page_numbers_past_any_page_show_the_last(
    setup: tuple[Crier, Person], alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await schedule_text(alice, "Alice's post")
    for prefix, expect in (
        ("l:", "Your posts"),
        ("d:page:", "no drafts"),
        ("t:page:", "no templates"),
    ):
        for bad in ("99999999999999999999", "9" * 60):
            await sees(alice, forged(prefix, bad), expect)


async def test_account_ids_in_account_and_slot_buttons_are_answered(
    setup: tuple[Crier, Person], alice: Person, bob: Person
) -> None:
    crier, _admin = setup
    await alice.says("/start", "Crier")
    await bob.says("/start", "Crier")
    bobs = str(await account_of(crier, bob))
    not_found = "I can't find that account among yours."
    for bad in [*BAD_IDS, bobs]:
        for prefix, suffix in (
            ("acc:test:", ""),
            ("acc:rename:", ""),
            ("acc:off:", ""),
            ("acc:offyes:", ""),
            ("acc:opt:", ""),
            ("acc:vis:", ":public"),
            ("acc:cwoff:", ""),
            ("acc:cw:", ""),
        ):
            await sees(alice, forged(prefix, bad, suffix), not_found)
        for prefix, suffix in (
            ("sl:acc:", ""),
            ("sl:add:", ""),
            ("sl:d:", ":31"),
            ("sl:h:", ":31:9"),
            ("sl:m:", ":31:9:0"),
            ("sl:clear:", ""),
            ("sl:wipe:", ""),
            ("sl:type:", ""),
        ):
            await sees(alice, forged(prefix, bad, suffix), "That account isn't one of yours.")
        await sees(alice, forged("sl:del:", bad), "That slot is already gone.")
    async with crier.db.session() as session:
        accounts = list(await session.scalars(select(Account).where(Account.user_id == bob.id)))
    assert [a.label for a in accounts] == ["Dry run"]


async def test_account_ids_in_compose_buttons_are_answered_and_change_nothing(
    setup: tuple[Crier, Person], alice: Person, bob: Person
) -> None:
    crier, _admin = setup
    await alice.says("/start", "Crier")
    await bob.says("/start", "Crier")
    mine, bobs = await account_of(crier, alice), str(await account_of(crier, bob))
    not_yours = "That account isn't one of yours."

    status = await alice.says("Hello", "New post")
    picker = await alice.presses(status, "✅ Done", "Where should it go")
    picker = await alice.presses(picker, "✅ Dry run", lambda m: "▫️ Dry run" in buttons(m))
    for bad in [*BAD_IDS, bobs]:
        # Once, an id too big for the database selected every account.
        assert await sees(alice, forged("c:acc:", bad), not_yours, on=picker) == not_yours
    async with crier.db.session() as session:
        draft = await session.scalar(select(Post).where(Post.user_id == alice.id))
    assert draft is not None
    assert draft.draft_account_ids == []

    picker = await alice.presses(picker, "▫️ Dry run", lambda m: "✅ Dry run" in buttons(m))
    ask_time = await alice.presses(picker, "Next ➡", "When?")
    preview = await alice.presses(ask_time, "Tomorrow 09:00", "Preview")
    for bad in [*BAD_IDS, bobs]:
        # The per-account options of the preview: once answered with nothing at all.
        await sees(alice, forged("c:ovr:", bad), not_yours, on=preview)
        await sees(alice, forged("c:split:", bad), not_yours, on=preview)
    asked = await taps(alice, preview, f"c:ovr:{mine}", "Send the text")
    for bad in [*BAD_IDS, bobs]:
        await sees(alice, forged("c:ovr_clear:", bad), not_yours, on=asked)


async def test_account_ids_in_edit_buttons_are_answered(
    setup: tuple[Crier, Person], alice: Person, bob: Person
) -> None:
    crier, _admin = setup
    await alice.says("/start", "Crier")
    await bob.says("/start", "Crier")
    mine, bobs = await account_of(crier, alice), str(await account_of(crier, bob))
    not_yours = "That account isn't one of yours."
    await schedule_text(alice, "Alice's post")

    listing = await alice.says("/list", "Your posts")
    menu = await alice.presses(listing, "✏️ Edit #1", "Editing post #1")
    for bad in [*BAD_IDS, bobs]:
        # Once answered silently, the menu redrawn.
        await sees(alice, forged("e:ovr:", bad), not_yours, on=menu)
        await sees(alice, forged("e:split:", bad), not_yours, on=menu)
    asked = await taps(alice, menu, f"e:ovr:{mine}", "Send the text")
    for bad in [*BAD_IDS, bobs]:
        await sees(alice, forged("e:ovr_clear:", bad), not_yours, on=asked)
    menu = await alice.presses(asked, "⬅ Back", "Editing post #1")
    picker = await alice.presses(menu, "👥 Accounts", "Where should post #1 go")
    for bad in [*BAD_IDS, bobs]:
        await sees(alice, forged("e:acc:", bad), not_yours, on=picker)
    menu = await alice.presses(picker, "✅ Done", "Editing post #1")
    when = await alice.presses(menu, "🕒 Time", "When should post #1 go out")
    await sees(alice, "e:at:999999999999", "That time can't be used", on=when)
    menu = await alice.presses(when, "⬅ Back", "Editing post #1")
    await alice.presses(menu, "✖ Discard", "Edit discarded")


async def test_admin_ids_are_answered_like_unknown_ones(
    setup: tuple[Crier, Person], alice: Person
) -> None:
    _crier, admin = setup
    await alice.says("/start", "Crier")
    for bad in [*BAD_IDS, *ODD_DIGITS]:
        await admin.says(f"/broadcast_cancel {bad}", "There is no running broadcast #")
        for command in ("stats", "ban", "unban", "promote", "demote"):
            await admin.says(f"/{command} {bad}", "I don't know the user")
        await admin.says(f"/allow {bad}", "Tell me their numeric Telegram id")
        await admin.says(f"/invite {bad}", "Uses must be a number from 1 to 1000")
    gone = "This broadcast draft is gone"
    for bad in BAD_IDS:
        await sees(admin, forged("bc:go:", bad), gone)
        await sees(admin, forged("bc:drop:", bad), gone)
        await sees(admin, forged("bc:seg:", bad, ":all"), gone)
        await sees(admin, forged("bc:stop:", bad), "There is no running broadcast #")
        await sees(admin, forged("au:", bad, ":x"), "No users matching")
    # Someone who isn't an admin is still refused first.
    refused = await sees(alice, "bc:stop:99999999999999999999", "for admins only")
    assert refused
