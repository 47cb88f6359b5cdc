"""/accounts → ⚙️ Options for Mastodon: visibility and content warning, end to end.

What is checked is what the fake Mastodon server received: the exact body of the status.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cryptography.fernet import Fernet

from bot.app import Crier
from bot.config import Settings
from storage.models import AccountStatus
from tests.acceptance.conftest import JSON, Person, buttons, eventually, schedule_draft
from tests.acceptance.test_connect_platforms import connect_mastodon, stored_accounts
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.telegram_api import FakeTelegram

KEY = Fernet.generate_key().decode()
MENU = "Visibility:"


async def open_options(person: Person) -> JSON:
    listing = await person.says("/accounts", "Your accounts")
    return await person.presses(listing, "⚙️ Options", MENU)


async def set_warning(person: Person, menu: JSON, warning: str) -> JSON:
    """Tap ⚠️, type the warning; returns the new menu the bot sends."""
    asked = await person.presses(menu, "⚠️ Set a content warning", "Send the content warning")
    assert "/abort" in asked["text"]
    return await person.says(warning, "Content warning set")


async def publish_now(tg: FakeTelegram, person: Person, text: str, number: int) -> None:
    """Compose `text`, send it to (at least) the Mastodon account now; wait until it is out."""
    status = await person.says(
        text, lambda m: "New post" in (m.get("text") or "") and "✅ Done" in buttons(m)
    )
    steps = await schedule_draft(
        person, status, accounts=["Mastodon"], when="⚡ Now", expect=f"Scheduled #{number}"
    )
    scheduled = steps.scheduled
    await tg.wait_for(person.user, f"Post #{number} is out", after=scheduled["message_id"])


def status_bodies(server: FakeMastodon) -> list[Any]:
    return [r.json for r in server.requests if r.method == "POST" and r.path == "/api/v1/statuses"]


async def test_unlisted_with_a_content_warning_reaches_mastodon(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with FakeMastodon() as server, Crier(make_settings(crier_encryption_key=KEY)) as crier:
        await alice.says("/start", "Crier")
        await connect_mastodon(tg, alice, server)
        menu = await open_options(alice)
        assert "Content warning: none" in menu["text"]
        assert buttons(menu) == [
            "✓ Public",
            "Unlisted",
            "Followers only",
            "⚠️ Set a content warning",
            "⬅ Back",
        ]

        menu = await alice.presses(menu, "Unlisted", lambda m: "✓ Unlisted" in buttons(m))
        assert "Visibility: Unlisted" in menu["text"]
        menu = await set_warning(alice, menu, "  Spoilers   for season 2 ")
        assert "Content warning: Spoilers for season 2" in menu["text"]
        assert "✖ No content warning" in buttons(menu)
        [account] = await stored_accounts(crier, "mastodon")
        assert account.config["visibility"] == "unlisted"
        assert account.config["content_warning"] == "Spoilers for season 2"

        listing = await alice.says("/accounts", "Your accounts")
        assert "· unlisted · CW: Spoilers for season 2" in listing["text"]
        back = await alice.presses(menu, "⬅ Back", "Your accounts")
        assert back["message_id"] == menu["message_id"], "Back edits the menu in place"

        await publish_now(tg, alice, "Hello fediverse", 1)
        assert status_bodies(server) == [
            {
                "status": "Hello fediverse",
                "visibility": "unlisted",
                "spoiler_text": "Spoilers for season 2",
            }
        ]
        [posted] = server.statuses
        assert (posted.visibility, posted.spoiler_text, posted.sensitive) == (
            "unlisted",
            "Spoilers for season 2",
            True,
        )


async def test_clearing_the_content_warning_and_refusing_a_bad_one(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with FakeMastodon() as server, Crier(make_settings(crier_encryption_key=KEY)) as crier:
        await alice.says("/start", "Crier")
        await connect_mastodon(tg, alice, server)
        menu = await open_options(alice)
        menu = await alice.presses(
            menu, "Followers only", lambda m: "✓ Followers only" in buttons(m)
        )
        menu = await set_warning(alice, menu, "Politics")

        # Too long: refused, still asked; /abort leaves the warning as it was.
        await alice.presses(menu, "⚠️ Set a content warning", "Send the content warning")
        refused = await alice.says("x" * 101, "101 characters")
        assert "100 or fewer" in refused["text"]
        menu = await alice.says("/abort", "Nothing changed")
        assert "Content warning: Politics" in menu["text"]
        [account] = await stored_accounts(crier, "mastodon")
        assert account.config["content_warning"] == "Politics"

        # Walking away from the question (another command) ends it: text is a post again.
        await alice.presses(menu, "⚠️ Set a content warning", "Send the content warning")
        await alice.says("/accounts", "Your accounts")
        await alice.says("Not a warning", "New post")
        [account] = await stored_accounts(crier, "mastodon")
        assert account.config["content_warning"] == "Politics"
        await alice.says("/abort", "Nothing was scheduled")
        # The question's ✖ Cancel brings the menu back in its place.
        menu = await alice.presses(menu, "✖ Cancel", MENU)

        menu = await alice.presses(
            menu, "✖ No content warning", lambda m: "Content warning: none" in m["text"]
        )
        assert "✖ No content warning" not in buttons(menu)
        assert "✓ Followers only" in buttons(menu)
        [account] = await stored_accounts(crier, "mastodon")
        assert "content_warning" not in account.config
        assert "spoiler_text" not in account.config
        listing = await alice.says("/accounts", "Your accounts")
        assert "· followers only" in listing["text"]
        assert "CW:" not in listing["text"]

        await publish_now(tg, alice, "No warning here", 1)
        assert status_bodies(server) == [{"status": "No warning here", "visibility": "private"}]


async def test_another_users_option_buttons_are_refused_and_change_nothing(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person, bob: Person
) -> None:
    async with FakeMastodon() as server, Crier(make_settings(crier_encryption_key=KEY)) as crier:
        await alice.says("/start", "Crier")
        await connect_mastodon(tg, alice, server)
        menu = await open_options(alice)
        menu = await alice.presses(menu, "Unlisted", lambda m: "✓ Unlisted" in buttons(m))
        await set_warning(alice, menu, "Spoilers")
        [account] = await stored_accounts(crier, "mastodon")
        before = dict(account.config)
        bobs = await bob.says("/start", "Crier")

        def refusals() -> int:
            return sum(
                "can't find that account" in (m.get("text") or "") for m in tg.sent(bob.user)
            )

        forged = [
            f"acc:opt:{account.id}",
            f"acc:vis:{account.id}:public",
            f"acc:vis:{account.id}:private",
            f"acc:cw:{account.id}",
            f"acc:cwoff:{account.id}",
        ]
        for count, data in enumerate(forged, start=1):
            await bob.forges(bobs, data)
            await eventually(lambda count=count: refusals() == count)  # type: ignore[misc]
        # Bob's forged ⚠️ did not open a question: his next text is a post of his own.
        await bob.says("Just a post", "New post")
        # A visibility the menu never offers is not taken either (even from the owner).
        await alice.forges(menu, f"acc:vis:{account.id}:direct")

        [after] = await stored_accounts(crier, "mastodon")
        assert after.config == before
        assert (after.user_id, after.status) == (account.user_id, AccountStatus.ACTIVE)
        assert "can't find that account" not in " ".join(
            m.get("text") or "" for m in tg.sent(bob.user) if m["message_id"] == bobs["message_id"]
        ), "bob's own message was overwritten"


async def test_options_survive_reconnecting_the_same_account(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with FakeMastodon() as server, Crier(make_settings(crier_encryption_key=KEY)) as crier:
        await alice.says("/start", "Crier")
        await connect_mastodon(tg, alice, server)
        menu = await open_options(alice)
        menu = await alice.presses(menu, "Unlisted", lambda m: "✓ Unlisted" in buttons(m))
        await set_warning(alice, menu, "Long read")

        server.max_characters = 1000  # the server changed its limit meanwhile
        await connect_mastodon(tg, alice, server)  # the same account again
        [account] = await stored_accounts(crier, "mastodon")
        assert account.config["limits"]["max_characters"] == 1000, "the platform's config is new"
        assert account.config["visibility"] == "unlisted"
        assert account.config["content_warning"] == "Long read"
        listing = await alice.says("/accounts", "Your accounts")
        assert "· unlisted · CW: Long read" in listing["text"]

        await publish_now(tg, alice, "After the reconnect", 1)
        assert status_bodies(server) == [
            {"status": "After the reconnect", "visibility": "unlisted", "spoiler_text": "Long read"}
        ]
