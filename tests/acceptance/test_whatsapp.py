"""WhatsApp end to end, through the fake Telegram and the fake Cloud API: /connect asks for
the number's id, a token (deleted from the chat at once) and the recipients; the preview
says plainly that people outside their 24-hour window can only get approved templates; a
post goes to each recipient, and the DM says who it didn't reach and why."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest
import respx
from cryptography.fernet import Fernet

from bot.app import Crier
from bot.config import Settings
from tests.acceptance.conftest import Person, dm, make_due, schedule_draft
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.whatsapp import FakeWhatsApp

KEY = Fernet.generate_key().decode()
TOKEN = "EAAG" + "x" * 60
NEAR, FAR, OTHER = "+4915112345678", "+4917612345678", "+14155550123"


@pytest.fixture
def whatsapp() -> Iterator[FakeWhatsApp]:
    fake = FakeWhatsApp()
    with respx.mock(assert_all_called=False) as router:
        router.route(host="127.0.0.1").pass_through()
        router.route(host=httpx.URL(fake.base_url).host).mock(side_effect=fake.handle)
        yield fake


@pytest.fixture
async def crier(
    make_settings: Callable[..., Settings], whatsapp: FakeWhatsApp
) -> AsyncIterator[Crier]:
    async with Crier(make_settings(crier_encryption_key=KEY)) as app:
        yield app


async def test_connect_whatsapp_and_post_to_each_recipient_with_who_was_missed(
    tg: FakeTelegram, crier: Crier, whatsapp: FakeWhatsApp, alice: Person
) -> None:
    number = whatsapp.add_number(token=TOKEN)
    # Two people wrote to the business today; one didn't (outside the 24-hour window).
    whatsapp.user_writes(number.id, NEAR.lstrip("+"))
    whatsapp.user_writes(number.id, OTHER.lstrip("+"))
    await alice.says("/start", "Crier")
    menu = await alice.says("/connect", "Connect an account")
    await alice.presses(menu, "💬 WhatsApp", "phone number ID")
    await alice.says(number.id, "access token")
    await alice.says(TOKEN, "Who gets the posts?")
    assert not any((m.get("text") or "") == TOKEN for m in tg.messages(alice.user)), (
        "the token was deleted from the chat"
    )
    step = await alice.says(f"{NEAR}, {FAR}\n{OTHER}", "Business Account ID")
    step = await alice.presses(step, "Skip ➡", "approved message template")
    done = await alice.presses(step, "Skip ➡", "Connected")
    assert "3" in done["text"], "the recipients are counted back"

    status = await alice.says("Opening hours change on Monday", "New post")
    steps = await schedule_draft(alice, status, accounts="WhatsApp")
    assert "24" in steps.preview["text"]
    assert "template" in steps.preview["text"].lower(), "the 24-hour rule, said in the preview"
    await make_due(crier)
    summary = await dm(tg, alice, "is out")
    assert {m.to.lstrip("+") for m in whatsapp.messages} == {NEAR.lstrip("+"), OTHER.lstrip("+")}
    assert "2 of 3" in summary["text"]
    assert FAR in summary["text"] or FAR.lstrip("+") in summary["text"]
