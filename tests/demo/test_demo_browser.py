"""`crier demo` in a real browser: a person clicks through the page, the unmodified bot
answers through the emulator, posts appear in the demo channel's pane."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.async_api import Locator, Page, expect

from tests import media_samples as samples

pytestmark = pytest.mark.slow

#: Long enough for the bot's round trips through the emulator on a busy CI machine.
WAIT_MS = 20_000


def photo(path: Path, color: str) -> Path:
    Image.new("RGB", (800, 600), color).save(path, "JPEG", quality=80)
    return path


def bot_message(page: Page, text: str) -> Locator:
    """The chat's latest message (a bubble) that contains `text`."""
    return page.locator("#chat-messages .msg", has_text=text).last


async def press(page: Page, text: str, button: str) -> None:
    """Click `button` under the chat's latest message containing `text`."""
    await bot_message(page, text).get_by_role("button", name=button, exact=True).click()


async def see(page: Page, where: str, text: str) -> None:
    await expect(page.locator(where, has_text=text).last).to_be_visible(timeout=WAIT_MS)


async def test_a_photo_scheduled_in_a_minute_then_posted_now_reaches_the_channel_and_the_dm(
    page: Page, tmp_path: Path
) -> None:
    await see(page, "#notice", "local demo")
    await page.get_by_role("button", name="START").click()
    await see(page, "#chat-messages .msg", "Crier")

    async with page.expect_file_chooser() as chooser:
        await page.get_by_title("Attach").click()
        await page.get_by_role("button", name="🖼 Photo or video").click()
    await (await chooser.value).set_files(photo(tmp_path / "launch.jpg", "orange"))
    await page.locator("#caption").type("Launch day! ")
    await page.keyboard.press("Control+b")
    await page.keyboard.type("Tomorrow")
    await page.get_by_role("button", name="Send", exact=True).click()

    await see(page, "#chat-messages .msg.out", "Launch day!")
    await see(page, "#chat-messages .msg", "1 photo")
    await press(page, "1 photo", "✅ Done")
    await see(page, "#chat-messages .msg", "Where should it go")
    # On first start the demo user has Dry run and the demo channel connected.
    picker = bot_message(page, "Where should it go")
    await picker.get_by_role("button", name="▫️ Dry run").click()
    await see(page, "#chat-messages button", "✅ Dry run")
    await picker.get_by_role("button", name="▫️ @crier_demo · Telegram channel").click()
    await see(page, "#chat-messages button", "✅ @crier_demo · Telegram channel")
    await press(page, "Where should it go", "Next ➡")
    await see(page, "#chat-messages .msg", "When?")
    await page.locator("#input").type("in 1 minute")
    await page.keyboard.press("Enter")
    await see(page, "#chat-messages .msg", "Preview")
    await press(page, "Preview", "✅ Confirm")
    await see(page, "#chat-messages .msg", "Scheduled #1")
    # The minute need not pass: the scheduled post's ⚡ Post now sends it at once.
    assert await page.locator("#channel-messages .msg").count() == 0
    await press(page, "Scheduled #1", "⚡ Post now")

    await see(page, "#channel-messages .msg", "Launch day!")
    post = page.locator("#channel-messages .msg", has_text="Launch day!").last
    assert await post.locator("img").count() == 1
    assert await post.locator("b", has_text="Tomorrow").count() == 1, "the bold was lost"
    await see(page, "#chat-messages .msg", "is out")
    summary = bot_message(page, "is out")
    assert "Dry run" in await summary.inner_text()
    # The DM's link to the post shows it in the channel's pane (not t.me, in a demo).
    await summary.get_by_role("link", name="view post").click()
    await expect(post).to_have_class(re.compile("flash"))


async def test_an_album_with_a_caption_scheduled_then_cancelled_with_the_command(
    page: Page, tmp_path: Path
) -> None:
    await page.get_by_role("button", name="START").click()
    await see(page, "#chat-messages .msg", "Crier")

    async with page.expect_file_chooser() as chooser:
        await page.get_by_title("Attach").click()
        await page.get_by_role("button", name="🖼 Photo or video").click()
    await (await chooser.value).set_files(
        [photo(tmp_path / f"{color}.jpg", color) for color in ("red", "teal", "navy")]
    )
    await see(page, "#send-title", "Send 3 photos")
    await page.locator("#caption").type("Our trip, day one")
    await page.get_by_role("button", name="Send", exact=True).click()

    # One bubble for the album, as Telegram draws it; one status for the whole album.
    album = page.locator("#chat-messages .msg.out", has_text="Our trip, day one")
    await see(page, "#chat-messages .msg.out", "Our trip, day one")
    assert await album.locator("img").count() == 3
    await see(page, "#chat-messages .msg", "3 photos")
    await press(page, "3 photos", "✅ Done")
    await see(page, "#chat-messages .msg", "Where should it go")
    await press(page, "Where should it go", "▫️ @crier_demo · Telegram channel")
    await see(page, "#chat-messages button", "✅ @crier_demo · Telegram channel")
    await press(page, "Where should it go", "Next ➡")
    await see(page, "#chat-messages .msg", "When?")
    await page.locator("#input").type("in 10 minutes")
    await page.keyboard.press("Enter")
    await see(page, "#chat-messages .msg", "Preview")
    await press(page, "Preview", "✅ Confirm")
    await see(page, "#chat-messages .msg", "Scheduled #1")

    # The command menu, as setMyCommands set it: picking /cancel sends it at once.
    await page.locator("#input").type("/can")
    await page.locator("#commands").get_by_role("button", name="/cancel").click()
    await see(page, "#chat-messages .msg", "Tell me which post")
    await page.locator("#input").type("/cancel 1")
    await page.keyboard.press("Enter")
    await see(page, "#chat-messages .msg", "Cancel post #1?")
    await press(page, "Cancel post #1?", "🗑 Yes, cancel it")
    await see(page, "#chat-messages .msg", "Cancelled post #1")
    assert await page.locator("#channel-messages .msg").count() == 0


async def test_pasted_formatting_commands_menu_and_a_shared_location_for_the_timezone(
    page: Page,
) -> None:
    await page.context.grant_permissions(["geolocation"])
    await page.context.set_geolocation({"latitude": 52.52, "longitude": 13.405})  # Berlin
    await page.get_by_role("button", name="START").click()
    await see(page, "#chat-messages .msg", "Crier")

    # Formatted text pasted from elsewhere keeps its bold and its link as entities.
    await page.locator("#input").click()
    await page.locator("#input").evaluate(
        """(input, html) => {
            const data = new DataTransfer();
            data.setData("text/html", html);
            data.setData("text/plain", "Big news, read it");
            const paste = {clipboardData: data, bubbles: true, cancelable: true};
            input.dispatchEvent(new ClipboardEvent("paste", paste));
        }""",
        '<p><span style="font-weight:700">Big</span> news, '
        '<a href="https://example.com/x">read it</a></p>',
    )
    await page.keyboard.press("Enter")
    mine = page.locator("#chat-messages .msg.out", has_text="Big news").last
    await expect(mine.locator("b", has_text="Big")).to_be_visible(timeout=WAIT_MS)
    await expect(mine.get_by_role("link", name="read it")).to_have_attribute(
        "href", "https://example.com/x"
    )
    await see(page, "#chat-messages .msg", "New post")

    # The command menu lists what the bot set with setMyCommands.
    await page.get_by_role("button", name="☰ Menu").click()
    await page.locator("#commands").get_by_role("button", name="/timezone").click()
    await expect(page.locator("#keyboard")).to_be_visible(timeout=WAIT_MS)
    await page.locator("#keyboard").get_by_role("button", name="📍 Share my location").click()
    await see(page, "#chat-messages .msg.out", "Location")
    await see(page, "#chat-messages .msg", "Timezone set to")
    assert "Berlin" in await bot_message(page, "Timezone set to").inner_text()
    await expect(page.locator("#keyboard")).to_be_hidden()


async def test_a_photo_and_a_video_dropped_on_the_chat_go_out_as_one_channel_album(
    page: Page, tmp_path: Path
) -> None:
    await page.get_by_role("button", name="START").click()
    await see(page, "#chat-messages .msg", "Crier")
    files = [
        ("beach.jpg", "image/jpeg", photo(tmp_path / "beach.jpg", "gold")),
        ("waves.mp4", "video/mp4", samples.mp4(tmp_path / "waves.mp4", seconds=1.0)),
    ]
    dropped = [
        {"name": name, "type": kind, "b64": base64.b64encode(path.read_bytes()).decode()}
        for name, kind, path in files
    ]
    await page.locator("#chat").evaluate(
        """(chat, files) => {
            const data = new DataTransfer();
            for (const file of files) {
                const bytes = Uint8Array.from(atob(file.b64), (c) => c.charCodeAt(0));
                data.items.add(new File([bytes], file.name, {type: file.type}));
            }
            for (const type of ["dragover", "drop"]) {
                const init = {dataTransfer: data, bubbles: true, cancelable: true};
                chat.dispatchEvent(new DragEvent(type, init));
            }
        }""",
        dropped,
    )
    await see(page, "#send-title", "Send 2 items")
    await page.locator("#caption").type("Summer")
    await page.get_by_role("button", name="Send", exact=True).click()

    sent = page.locator("#chat-messages .msg.out", has_text="Summer")
    await expect(sent.locator("video")).to_have_count(1, timeout=WAIT_MS)
    await expect(sent.locator("img")).to_have_count(1)
    await see(page, "#chat-messages .msg", "1 video")
    await press(page, "1 video", "✅ Done")
    await see(page, "#chat-messages .msg", "Where should it go")
    await press(page, "Where should it go", "▫️ @crier_demo · Telegram channel")
    await see(page, "#chat-messages button", "✅ @crier_demo · Telegram channel")
    await press(page, "Where should it go", "Next ➡")
    await see(page, "#chat-messages .msg", "When?")
    await press(page, "When?", "⚡ Now")
    await see(page, "#chat-messages .msg", "Preview")
    await press(page, "Preview", "✅ Confirm")

    post = page.locator("#channel-messages .msg", has_text="Summer")
    await expect(post.locator("video")).to_have_count(1, timeout=WAIT_MS)
    await expect(post.locator("img")).to_have_count(1)
    await see(page, "#chat-messages .msg", "is out")
