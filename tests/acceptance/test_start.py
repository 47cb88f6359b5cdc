"""First contact: registration, timezone, commands menu, help."""

from __future__ import annotations

from bot.app import Crier
from tests.acceptance.conftest import Person, buttons
from tests.fakes.telegram_api import FakeTelegram


async def test_start_registers_offers_timezone_and_a_dry_run_account(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    welcome = await alice.says("/start", "Crier")

    assert "Dry run" in welcome["text"]
    assert "UTC" in welcome["text"]
    done = await alice.presses(welcome, "✅ Use UTC", "Timezone set")
    assert "UTC" in done["text"]

    accounts = await alice.says("/accounts", "Your accounts")
    assert "Dry run" in accounts["text"]


async def test_typing_a_timezone_name_sets_it(crier: Crier, alice: Person) -> None:
    await alice.says("/start", "Crier")
    reply = await alice.says("europe/berlin", "Timezone set")
    assert "Europe/Berlin" in reply["text"]

    shown = await alice.says("/timezone", "Your timezone")
    assert "Europe/Berlin" in shown["text"]
    bad = await alice.says("/timezone Mars/Olympus", "don't know")
    assert "Mars/Olympus" in bad["text"]
    still = await alice.says("/timezone", "Your timezone")
    assert "Europe/Berlin" in still["text"]


async def test_commands_are_registered_for_the_menu(tg: FakeTelegram, crier: Crier) -> None:
    names = [c["command"] for c in tg.commands["default"]]
    assert {"new", "list", "cancel", "timezone", "help", "abort", "connect", "accounts"} <= set(
        names
    )


async def test_help_lists_the_commands(crier: Crier, alice: Person) -> None:
    reply = await alice.says("/help", "/list")
    for command in ("/new", "/cancel", "/timezone", "/abort"):
        assert command in reply["text"]
    assert not buttons(reply)
