"""Telegram channel posts with URL buttons and per-post options, composed in the chat.

The user connects a channel, composes, and sets 🔗 Buttons and ⚙️ Options from the
preview; what reaches the fake Bot API is asserted on the wire.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.app import Crier
from bot.config import Settings
from storage.models import Post, Target
from tests.acceptance.conftest import (
    Person,
    buttons,
    dm,
    eventually,
    jpeg,
    make_due,
    to_preview,
)
from tests.acceptance.timekeeping import Clock, crier_at
from tests.fakes.telegram_api import FakeTelegram

CHANNEL = -1001234567890
JSON = dict[str, Any]

TWO_ROWS = (
    "Our site - https://example.com | Shop - https://shop.example.com\n"
    "Join the chat - tg://resolve?domain=examplechat"
)
TWO_ROWS_MARKUP = {
    "inline_keyboard": [
        [
            {"text": "Our site", "url": "https://example.com"},
            {"text": "Shop", "url": "https://shop.example.com"},
        ],
        [{"text": "Join the chat", "url": "tg://resolve?domain=examplechat"}],
    ]
}


async def connect_channel(tg: FakeTelegram, person: Person, **rights: bool) -> None:
    tg.add_channel(
        CHANNEL, "News", "news", admins={person.id: "creator"}, bot_rights=rights or None
    )
    await person.says("/start", "Crier")
    menu = await person.says("/connect", "Connect an account")
    await person.presses(menu, "📣 Telegram channel or group", "Post messages")
    await person.says("@news", "Connected @news")


async def channel_preview(person: Person, status: JSON, when: str = "⚡ Now") -> JSON:
    """Only the channel ticked, a time, the preview."""
    steps = await to_preview(person, status, accounts="@news", when=when)
    preview = steps.preview
    dry = next((b for b in buttons(steps.picked) if "Dry run" in b), None)
    if dry and dry.startswith("✅"):
        picker = await person.presses(preview, "👥 Change accounts", "Where should it go")
        picker = await person.presses(picker, dry, lambda m: "▫️ Dry run" in str(buttons(m)))
        ask = await person.presses(picker, "Next ➡", "When?")
        preview = await person.presses(ask, when, "Preview")
    return preview


async def add_buttons(person: Person, preview: JSON, lines: str) -> JSON:
    asked = await person.presses(preview, "🔗 Buttons", "Buttons under the post")
    assert asked
    return await person.says(lines, "Preview")


async def publish(tg: FakeTelegram, person: Person, preview: JSON) -> JSON:
    scheduled = await person.presses(preview, "✅ Confirm", "Scheduled #")
    return await tg.wait_for(person.user, "is out", after=scheduled["message_id"], timeout=10)


def channel_calls(tg: FakeTelegram, method: str) -> list[JSON]:
    return [c for c in tg.calls_to(method) if str(c.get("chat_id")) == str(CHANNEL)]


def link_rows(message: JSON) -> list[list[JSON]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [[b for b in row if "url" in b] for row in rows if any("url" in b for b in row)]


async def test_two_rows_of_buttons_reach_the_channel_as_shown_in_the_preview(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await connect_channel(tg, alice)
    status = await alice.says("Big news today", "New post")
    preview = await channel_preview(alice, status)
    preview = await add_buttons(alice, preview, TWO_ROWS)
    # The preview shows the buttons exactly as they will be, above its own controls.
    assert link_rows(preview) == TWO_ROWS_MARKUP["inline_keyboard"]
    assert "✅ Confirm" in buttons(preview)

    await publish(tg, alice, preview)
    [sent] = channel_calls(tg, "sendMessage")
    assert sent["text"] == "Big news today"
    assert sent["reply_markup"] == TWO_ROWS_MARKUP
    [posted] = tg.sent(CHANNEL)
    assert posted["reply_markup"] == TWO_ROWS_MARKUP


async def test_a_bad_button_line_is_refused_with_its_number_and_nothing_is_stored(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await connect_channel(tg, alice)
    status = await alice.says("Post with buttons", "New post")
    preview = await channel_preview(alice, status)
    await alice.presses(preview, "🔗 Buttons", "Buttons under the post")
    refused = await alice.says(
        "Our site - https://example.com\nShop - ftp://shop.example.com", "nothing was saved"
    )
    assert "Line 2" in refused["text"]
    assert "ftp://shop.example.com" in refused["text"]
    async with crier.db.session() as session:
        post = await session.scalar(select(Post).where(Post.user_id == alice.id))
        assert post is not None
        assert post.buttons is None
    # Fixed, they are taken.
    fixed = await alice.says("Our site - https://example.com", "Preview")
    assert link_rows(fixed) == [[{"text": "Our site", "url": "https://example.com"}]]


async def test_silent_protected_spoiler_photo_carries_the_parameters(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await connect_channel(tg, alice)
    status = await alice.sends_photo(jpeg(), caption="Quiet photo")
    preview = await channel_preview(alice, status)
    options = await alice.presses(preview, "⚙️ Options", "Telegram options")
    for label in ("▫️ Silent", "▫️ Protect", "▫️ Spoiler"):
        ticked = "✅ " + label.split(" ", 1)[1]
        options = await alice.presses(options, label, lambda m, t=ticked: t in buttons(m))
    preview = await alice.presses(options, "⬅ Back to the preview", "Preview")
    assert "silent, protected, spoiler" in preview["text"]

    await publish(tg, alice, preview)
    [sent] = channel_calls(tg, "sendPhoto")
    assert sent["disable_notification"] in (True, "true")
    assert sent["protect_content"] in (True, "true")
    assert sent["has_spoiler"] in (True, "true")


async def test_link_preview_options_reach_the_wire(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await connect_channel(tg, alice)
    for choice, expected in (
        ("Off", {"is_disabled": True}),
        ("Small", {"prefer_small_media": True}),
        ("Above the text", {"show_above_text": True}),
    ):
        status = await alice.says(f"Read https://example.com/{choice}", "New post")
        preview = await channel_preview(alice, status)
        options = await alice.presses(preview, "⚙️ Options", "Telegram options")
        options = await alice.presses(options, choice, lambda m, c=choice: f"✓ {c}" in buttons(m))
        preview = await alice.presses(options, "⬅ Back to the preview", "Preview")
        await publish(tg, alice, preview)
        sent = channel_calls(tg, "sendMessage")[-1]
        preview_options = sent["link_preview_options"]
        if isinstance(preview_options, str):
            import json

            preview_options = json.loads(preview_options)
        assert preview_options == expected


async def test_pin_after_publishing_pins_the_published_message(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await connect_channel(tg, alice)
    status = await alice.says("Pin me", "New post")
    preview = await channel_preview(alice, status)
    options = await alice.presses(preview, "⚙️ Options", "Telegram options")
    options = await alice.presses(options, "Pin silently", lambda m: "✓ Pin silently" in buttons(m))
    assert "⚠️" not in options["text"]
    preview = await alice.presses(options, "⬅ Back to the preview", "Preview")
    await publish(tg, alice, preview)
    posted = tg.sent(CHANNEL)[0]  # then Telegram's "pinned a message" service message
    assert posted["text"] == "Pin me"
    [pin] = channel_calls(tg, "pinChatMessage")
    assert int(pin["message_id"]) == posted["message_id"]
    assert pin["disable_notification"] in (True, "true")
    assert tg.pinned(CHANNEL) == [posted["message_id"]]


async def test_without_the_right_to_pin_the_user_is_told_at_compose_time(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await connect_channel(tg, alice, can_edit_messages=False)
    status = await alice.says("Pin me", "New post")
    preview = await channel_preview(alice, status)
    options = await alice.presses(preview, "⚙️ Options", "Telegram options")
    options = await alice.presses(options, "Pin silently", "can't pin")
    assert "Edit messages of others" in options["text"]
    preview = await alice.presses(options, "⬅ Back to the preview", "Preview")
    assert "can't pin" in preview["text"]
    assert "✅ Confirm" not in buttons(preview)
    assert channel_calls(tg, "pinChatMessage") == []


async def test_an_album_with_buttons_follows_the_choice(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await connect_channel(tg, alice)
    for choice in ("message", "drop"):
        waiting = tg.wait_for(alice.user, "2 photos")
        tg.send_album(alice.user, [jpeg(color="red"), jpeg(color="blue")], caption="Two")
        status = await waiting
        preview = await channel_preview(alice, status)
        preview = await add_buttons(alice, preview, "Our site - https://example.com")
        assert "can't attach buttons to an album" in preview["text"]
        if choice == "drop":
            preview = await alice.presses(
                preview, "Drop the buttons", lambda m: "✓ Drop the buttons" in buttons(m)
            )
            assert "left out" in preview["text"]
        before = len(channel_calls(tg, "sendMessage"))
        await publish(tg, alice, preview)
        assert channel_calls(tg, "sendMediaGroup")
        under = channel_calls(tg, "sendMessage")[before:]
        if choice == "message":
            [message] = under
            markup = message["reply_markup"]
            if isinstance(markup, str):
                import json

                markup = json.loads(markup)
            assert markup == {
                "inline_keyboard": [[{"text": "Our site", "url": "https://example.com"}]]
            }
        else:
            assert under == []


# -- delete-after ---------------------------------------------------------------------------


async def compose_deleting_after_an_hour(tg: FakeTelegram, person: Person, text: str) -> JSON:
    """A text post to the channel, ⚙️ Options → delete after 1h, published now."""
    status = await person.says(text, "New post")
    preview = await channel_preview(person, status)
    options = await person.presses(preview, "⚙️ Options", "Telegram options")
    options = await person.presses(options, "1h", lambda m: "✓ 1h" in buttons(m))
    assert "1 hour after it is out" in options["text"]
    preview = await person.presses(options, "⬅ Back to the preview", "Preview")
    assert "deleted after 1 hour" in preview["text"]
    summary = await publish(tg, person, preview)
    assert "⏳ It deletes itself on " in summary["text"]
    return summary


async def published_target(crier: Crier) -> Target:
    async with crier.db.session() as session:
        target = await session.scalar(select(Target).where(Target.url.is_not(None)))
        assert target is not None
        return target


async def test_delete_after_an_hour_deletes_the_post_once(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    clock = Clock(datetime.now(UTC))
    async with crier_at(make_settings, clock) as crier:
        await connect_channel(tg, alice)
        await compose_deleting_after_an_hour(tg, alice, "Gone in an hour")
        [posted] = tg.sent(CHANNEL)
        target = await published_target(crier)
        assert target.published_at is not None
        assert target.delete_at == target.published_at + timedelta(hours=1)

        clock.advance(minutes=59)
        await crier.engine.run_due()  # type: ignore[union-attr]
        assert channel_calls(tg, "deleteMessage") == []

        clock.advance(minutes=2)
        await eventually(lambda: posted["message_id"] in tg.deleted(CHANNEL))
        await crier.engine.run_due()  # type: ignore[union-attr]  # and again: nothing more
        assert len(channel_calls(tg, "deleteMessage")) == 1
        assert (await published_target(crier)).deleted_at is not None


async def test_delete_after_survives_a_restart(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    clock = Clock(datetime.now(UTC))
    async with crier_at(make_settings, clock):
        await connect_channel(tg, alice)
        await compose_deleting_after_an_hour(tg, alice, "Outlives a restart")
        [posted] = tg.sent(CHANNEL)
    assert channel_calls(tg, "deleteMessage") == []

    clock.advance(hours=1, minutes=1)  # Crier was down when the hour passed
    async with crier_at(make_settings, clock) as crier:
        await eventually(lambda: posted["message_id"] in tg.deleted(CHANNEL))
        await crier.engine.run_due()  # type: ignore[union-attr]
        assert len(channel_calls(tg, "deleteMessage")) == 1
        assert (await published_target(crier)).deleted_at is not None


async def test_a_deletion_telegram_refuses_is_dmed_with_the_reason(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    clock = Clock(datetime.now(UTC))
    async with crier_at(make_settings, clock) as crier:
        await connect_channel(tg, alice)
        await compose_deleting_after_an_hour(tg, alice, "Refused")
        tg.fail_next(
            "deleteMessage", status=400, description="Bad Request: message can't be deleted"
        )
        clock.advance(hours=2)
        told = await dm(tg, alice, "couldn't delete")
        assert "message can't be deleted" in told["text"]
        assert "@news" in told["text"] or "News" in told["text"]
        target = await published_target(crier)
        assert target.deleted_at is None
        assert target.delete_at is None  # given up: never tried again
        assert len(tg.sent(CHANNEL)) == 1


async def test_a_new_post_starts_from_the_accounts_defaults(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await connect_channel(tg, alice)
    listing = await alice.says("/accounts", "@news")
    settings = await alice.presses(listing, "⚙️", "Delete posts after")
    settings = await alice.presses(
        settings, "▫️ Silent posts", lambda m: "✅ Silent posts" in buttons(m)
    )
    assert "without a sound" in settings["text"]

    status = await alice.says("Quiet by default", "New post")
    preview = await channel_preview(alice, status)
    assert "Telegram: silent" in preview["text"]
    options = await alice.presses(preview, "⚙️ Options", "Telegram options")
    assert "✅ Silent" in buttons(options)
    preview = await alice.presses(options, "⬅ Back to the preview", "Preview")
    await publish(tg, alice, preview)
    [sent] = channel_calls(tg, "sendMessage")
    assert sent["disable_notification"] in (True, "true")


async def test_edit_of_a_scheduled_post_changes_its_buttons_and_options(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await connect_channel(tg, alice)
    status = await alice.says("Edited later", "New post")
    preview = await channel_preview(alice, status, when="Tomorrow 09:00")
    scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #")
    number = scheduled["text"].split("Scheduled #", 1)[1].split()[0].strip(".:")

    menu = await alice.says(f"/edit {number}", "Editing post")
    asked = await alice.presses(menu, "🔗 Buttons", "Buttons under the post")
    refused = await alice.says("Shop https://shop.example.com", "nothing was saved")
    assert "Line 1" in refused["text"]
    menu = await alice.says("Shop - https://shop.example.com", "Editing post")
    assert asked
    assert link_rows(menu) == [[{"text": "Shop", "url": "https://shop.example.com"}]]
    options = await alice.presses(menu, "⚙️ Options", "Telegram options")
    options = await alice.presses(options, "▫️ Silent", lambda m: "✅ Silent" in buttons(m))
    menu = await alice.presses(options, "⬅ Back to the post", "Editing post")
    assert "Telegram: silent" in menu["text"]
    await alice.presses(menu, "💾 Save", "Saved post")

    await make_due(crier)
    await tg.wait_for(alice.user, "is out", timeout=10)
    [sent] = channel_calls(tg, "sendMessage")
    assert sent["reply_markup"] == {
        "inline_keyboard": [[{"text": "Shop", "url": "https://shop.example.com"}]]
    }
    assert sent["disable_notification"] in (True, "true")


async def test_a_duplicate_keeps_the_buttons_and_options(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await connect_channel(tg, alice)
    status = await alice.says("Evergreen", "New post")
    preview = await channel_preview(alice, status, when="Tomorrow 09:00")
    preview = await add_buttons(alice, preview, "Shop - https://shop.example.com")
    options = await alice.presses(preview, "⚙️ Options", "Telegram options")
    options = await alice.presses(options, "▫️ Protect", lambda m: "✅ Protect" in buttons(m))
    preview = await alice.presses(options, "⬅ Back to the preview", "Preview")
    await alice.presses(preview, "✅ Confirm", "Scheduled #1")

    listing = await alice.says("/list", "Your posts")
    ask_time = await alice.presses(listing, "📄 Duplicate #1", "When?")
    copy = await alice.presses(ask_time, "Tomorrow 09:00", "Preview")
    assert link_rows(copy) == [[{"text": "Shop", "url": "https://shop.example.com"}]]
    assert "Telegram: protected" in copy["text"]


async def test_deleting_past_48_hours_without_the_right_is_refused_at_compose_time(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await connect_channel(tg, alice, can_delete_messages=False)
    status = await alice.says("Week-long", "New post")
    preview = await channel_preview(alice, status)
    options = await alice.presses(preview, "⚙️ Options", "Telegram options")
    options = await alice.presses(options, "7d", "won't be able to delete")
    assert "Delete messages of others" in options["text"]
    assert "48 hours" in options["text"]
    # Within 48 hours the bot may delete its own post: no complaint.
    options = await alice.presses(options, "24h", lambda m: "✓ 24h" in buttons(m))
    assert "⚠️" not in options["text"]


async def test_editing_a_published_post_keeps_its_url_buttons(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await connect_channel(tg, alice)
    status = await alice.says("Doors open at 9", "New post")
    preview = await add_buttons(alice, await channel_preview(alice, status), TWO_ROWS)
    summary = await publish(tg, alice, preview)

    await alice.presses(summary, "✏️ Edit", "Send the new text")
    await alice.says("Doors open at 10", "edited")
    [edited] = channel_calls(tg, "editMessageText")
    assert edited["text"] == "Doors open at 10"
    assert edited["reply_markup"] == TWO_ROWS_MARKUP
    [posted] = tg.sent(CHANNEL)
    assert posted["text"] == "Doors open at 10"
    assert posted["reply_markup"] == TWO_ROWS_MARKUP


async def test_a_template_keeps_the_buttons_and_options(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await connect_channel(tg, alice)
    status = await alice.says("Weekly digest", "New post")
    preview = await channel_preview(alice, status, when="Tomorrow 09:00")
    preview = await add_buttons(alice, preview, "Shop - https://shop.example.com")
    options = await alice.presses(preview, "⚙️ Options", "Telegram options")
    options = await alice.presses(options, "▫️ Protect", lambda m: "✅ Protect" in buttons(m))
    preview = await alice.presses(options, "⬅ Back to the preview", "Preview")
    scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #1")
    await alice.presses(scheduled, "💾 Save as template", "Name the template")
    await alice.says("Digest", "Saved the template")

    listing = await alice.says("/templates", "Your templates")
    status = await alice.presses(listing, "📄 Use 1", "New post")
    copy = await channel_preview(alice, status, when="Tomorrow 09:00")
    assert link_rows(copy) == [[{"text": "Shop", "url": "https://shop.example.com"}]]
    assert "Telegram: protected" in copy["text"]
