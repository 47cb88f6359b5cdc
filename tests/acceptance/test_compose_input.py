"""Bad input while composing gets a clear answer and changes nothing."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from bot.app import Crier
from bot.config import Settings
from bot.engine.text.formatting import utf16_len
from storage.models import Post, PostStatus, Target
from tests.acceptance.conftest import Person, buttons, dm, jpeg, schedule_text
from tests.acceptance.test_compose_flow import CHANNEL, connect_channel
from tests.fakes.telegram_api import FakeTelegram


async def count_targets(crier: Crier) -> int:
    async with crier.db.session() as session:
        return await session.scalar(select(func.count()).select_from(Target)) or 0


async def at_time_step(person: Person, text: str = "Hello") -> dict:  # type: ignore[type-arg]
    status = await person.says(text, "New post")
    picker = await person.presses(status, "✅ Done", "Where should it go")
    return await person.presses(picker, "Next ➡", "When?")


async def test_past_and_nonsense_times_are_refused_and_asked_again(
    crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await at_time_step(alice)

    past = await alice.says("2020-01-01 10:00", "in the past")
    assert "When?" in past["text"]
    assert "⚡ Now" in buttons(past)
    nonsense = await alice.says("purple elephant", "couldn't read")
    assert "tomorrow 9am" in nonsense["text"]
    ambiguous = await alice.says("7", "ambiguous")
    assert "When?" in ambiguous["text"]
    assert await count_targets(crier) == 0

    preview = await alice.says("in 2 hours", "Preview")
    assert "in 2 h" in preview["text"]


async def test_done_with_an_empty_draft_is_refused(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    prompt = await alice.says("/new", "New post")
    answers = len(tg.callback_answers)
    tg.press(alice.user, prompt, "✖ Cancel")
    await alice.tg.wait_for(alice.user, "Cancelled")
    prompt = await alice.says("/new", "New post")
    # The prompt offers no Done: a Done forged onto it is refused while the draft is empty.
    answer = await alice.forges(prompt, "c:done")
    assert "Send some text or media first" in answer.get("text", "")
    assert len(tg.callback_answers) > answers
    async with crier.db.session() as session:
        drafts = await session.scalar(
            select(func.count()).select_from(Post).where(Post.status == PostStatus.DRAFT)
        )
    assert drafts == 1


async def test_next_without_accounts_is_refused(crier: Crier, alice: Person) -> None:
    await alice.says("/start", "Crier")
    status = await alice.says("Hi", "New post")
    picker = await alice.presses(status, "✅ Done", "Where should it go")
    picker = await alice.presses(picker, "✅ Dry run", lambda m: "▫️ Dry run" in buttons(m))
    answer = await alice.forges(picker, "c:next")
    assert answer["text"] == "Pick at least one account."
    assert answer.get("show_alert") is True


async def test_another_users_account_cannot_be_picked(
    tg: FakeTelegram, crier: Crier, alice: Person, bob: Person
) -> None:
    await bob.says("/start", "Crier")
    await connect_channel(tg, bob)
    await alice.says("/start", "Crier")
    status = await alice.says("Hi", "New post")
    picker = await alice.presses(status, "✅ Done", "Where should it go")
    bobs_channel = 3  # Bob's dry run is 1, his channel 2... find it for real:
    async with crier.db.session() as session:
        from storage.models import Account

        bobs_channel = await session.scalar(
            select(Account.id).where(Account.user_id == bob.id, Account.platform == "telegram")
        )
    answer = await alice.forges(picker, f"c:acc:{bobs_channel}")
    assert "isn't one of yours" in answer["text"]
    assert "@news" not in str(tg.sent(alice.user))


async def test_text_over_the_channel_limit_blocks_confirm_until_edited(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await connect_channel(tg, alice)
    status = await alice.says("x" * 4100, "New post")
    picker = await alice.presses(status, "✅ Done", "Where should it go")
    picker = await alice.presses(picker, "All", lambda m: "✅ Dry run" in buttons(m))
    ask_time = await alice.presses(picker, "Next ➡", "When?")
    preview = await alice.presses(ask_time, "In 1 hour", "Preview")

    assert "Text is 4,100 characters; Telegram channel allows 4,096" in preview["text"]
    assert "✅ Confirm" not in buttons(preview)
    answer = await alice.forges(preview, "c:confirm")
    assert answer is not None
    await dm(alice.tg, alice, "⚠️ @news:")
    assert await count_targets(crier) == 0

    asked = await alice.presses(preview, "✏️ Edit text", "Send the new text")
    assert asked
    fixed = await alice.says("Short and sweet", "Preview")
    assert "✅ Confirm" in buttons(fixed)
    await alice.presses(fixed, "✅ Confirm", "Scheduled #1")
    assert await count_targets(crier) == 2
    assert tg.sent(CHANNEL) == []


async def test_a_broken_image_file_is_refused_and_nothing_is_stored(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    waiting = tg.wait_for(alice.user, "can't be used")
    tg.send_document(alice.user, jpeg()[:200], file_name="photo.jpg", mime_type="image/jpeg")
    refused = await waiting
    assert "looks like a JPEG image but it is damaged or cut off" in refused["text"]
    stored = [p for p in crier.settings.media_dir.rglob("*") if p.is_file()]
    assert stored == []


async def test_a_file_over_the_download_limit_gets_a_clear_message(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    waiting = tg.wait_for(alice.user, "at most 20 MB")
    tg.send_video(alice.user, b"\x00" * 1000, file_size=25 * 1024 * 1024)
    refused = await waiting
    assert "25.0 MB" in refused["text"]
    assert tg.calls_to("getFile") == []


async def test_abort_leaves_without_saving_and_old_buttons_expire(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    status = await alice.says("Draft to drop", "New post")
    await alice.says("/abort", "Nothing was scheduled")
    async with crier.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Post)) == 0
    answer = await alice.forges(status, "c:done")
    assert "expired" in answer["text"]
    nothing = await alice.says("/abort", "Nothing to cancel")
    assert nothing


async def test_text_over_the_instance_cap_is_refused_and_nothing_added(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with Crier(make_settings(max_text_length=50)) as crier:
        await alice.says("/start", "Crier")
        await alice.says("Short start.", "New post")
        refused = await alice.says("x" * 60, "the most I take is 50")
        assert "Nothing was added" in refused["text"]
        async with crier.db.session() as session:
            post = await session.scalar(select(Post))
        assert post is not None
        assert post.text == "Short start."


async def test_too_many_pending_posts_are_refused_at_confirm(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with Crier(make_settings(max_pending_posts_per_user=1)) as crier:
        await alice.says("/start", "Crier")
        await schedule_text(alice, "First")
        status = await alice.says("Second", "New post")
        picker = await alice.presses(status, "✅ Done", "Where should it go")
        ask_time = await alice.presses(picker, "Next ➡", "When?")
        preview = await alice.presses(ask_time, "In 1 hour", "Preview")
        tg.press(alice.user, preview, "✅ Confirm")
        await dm(tg, alice, "posts waiting to go out")
        assert await count_targets(crier) == 1


async def test_one_file_more_than_a_post_holds_is_refused_before_downloading(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with Crier(make_settings(max_media_per_post=2)) as crier:
        await alice.says("/start", "Crier")
        await alice.sends_photo(jpeg(color="red"), caption="Two at most")
        await alice.sends_photo(jpeg(color="blue"), expect="2 photos")
        downloads = len(tg.calls_to("getFile"))
        waiting = tg.wait_for(alice.user, "at most 2 media items")
        tg.send_photo(alice.user, jpeg(color="green"))
        await waiting
        assert len(tg.calls_to("getFile")) == downloads, "the refused photo was downloaded"
        async with crier.db.session() as session:
            post = await session.scalar(select(Post))
            assert post is not None
            await session.refresh(post, ["media_links"])
            assert len(post.media_links) == 2


# -- text that shows nothing ------------------------------------------------------------------

#: Zero-width space, non-joiner, joiner, word joiner, BOM, bidi marks, embeddings, overrides
#: and isolates, a soft hyphen, spaces: a message that looks empty.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u202a\u202e\u2066\u2069\u00ad \u3000\x07"


async def draft_of(crier: Crier, person: Person) -> Post | None:
    async with crier.db.session() as session:
        return await session.scalar(
            select(Post).where(Post.user_id == person.id, Post.status == PostStatus.DRAFT)
        )


async def test_a_text_of_only_invisible_characters_is_refused_and_nothing_added(
    crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    refused = await alice.says(INVISIBLE, "nothing visible")
    assert refused["text"] == (
        "⚠️ That text has nothing visible in it, only invisible characters. Nothing was "
        "added: send the text you want to post."
    )
    await alice.tg.wait_for(alice.user, "Send me something else to post")
    draft = await draft_of(crier, alice)
    assert draft is None or draft.text == ""

    await alice.says("Real words", "New post")
    await alice.says(INVISIBLE, "nothing visible")
    draft = await draft_of(crier, alice)
    assert draft is not None
    assert draft.text == "Real words"


async def test_invisible_ends_are_trimmed_and_the_formatting_stays_on_its_words(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await connect_channel(tg, alice)
    # A family emoji (joined by zero-width joiners, which stay), a bell character (removed:
    # platforms refuse it) and invisible characters around it all.
    typed = "\u200b\ufeff👨\u200d👩\u200d👧 Big\x07 news for all\u200d\u2060\u200b"
    tidied = "👨\u200d👩\u200d👧 Big news for all"

    def on(text: str, words: str, kind: str) -> dict[str, object]:
        start = text.index(words)
        return {"type": kind, "offset": utf16_len(text[:start]), "length": utf16_len(words)}

    typed_entities = [on(typed, "Big\x07 news", "bold"), on(typed, "all\u200d", "italic")]
    waiting = tg.wait_for(alice.user, "New post")
    tg.send_message(alice.user, {"text": typed, "entities": typed_entities})
    status = await waiting
    picker = await alice.presses(status, "✅ Done", "Where should it go")
    picker = await alice.presses(
        picker, "▫️ @news · Telegram channel", lambda m: "✅ @news · Telegram channel" in buttons(m)
    )
    ask_time = await alice.presses(picker, "Next ➡", "When?")
    preview = await alice.presses(ask_time, "⚡ Now", "Preview")
    scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #1")
    await tg.wait_for(alice.user, "Post #1 is out", after=scheduled["message_id"], timeout=10)

    [channel_post] = tg.sent(CHANNEL)
    assert channel_post["text"] == tidied
    assert channel_post["entities"] == [
        on(tidied, "Big news", "bold"),
        on(tidied, "all", "italic"),
    ]


async def test_a_caption_of_invisible_characters_is_no_caption(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    status = await alice.sends_photo(jpeg(), caption="\u200b\u2060\u200d")
    assert "1 photo" in status["text"]
    await alice.sends_photo(jpeg(color="blue"), caption="\u200bSunset\u200f", expect="2 photos")
    draft = await draft_of(crier, alice)
    assert draft is not None
    assert draft.text == "Sunset"


async def test_invisible_only_text_is_refused_when_replacing_the_text_or_customizing(
    tg: FakeTelegram, crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await connect_channel(tg, alice)
    status = await alice.says("The post's text", "New post")
    picker = await alice.presses(status, "✅ Done", "Where should it go")
    picker = await alice.presses(picker, "All", lambda m: "✅ Dry run" in buttons(m))
    ask_time = await alice.presses(picker, "Next ➡", "When?")
    preview = await alice.presses(ask_time, "Tomorrow 09:00", "Preview")

    asked = await alice.presses(preview, "✏️ Edit text", "Send the new text")
    assert asked
    await alice.says(INVISIBLE, "nothing visible in it, only invisible characters")
    preview = await alice.says("\u200bNew text\u200b", "Preview")
    assert "New text" in preview["text"]

    asked = await alice.presses(preview, "🎨 Customize for @news", "Send the text")
    assert asked
    await alice.says(INVISIBLE, "nothing visible in it, only invisible characters")
    await alice.says("\u2066Channel words\u2069", "Preview")
    draft = await draft_of(crier, alice)
    assert draft is not None
    assert draft.text == "New text"
    assert list(draft.overrides.values()) == ["Channel words"]


# -- files Telegram won't let the bot download -------------------------------------------------


async def test_a_2_gb_file_is_refused_for_the_download_limit_before_room_and_quota(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    # The post is full and the storage nearly so: neither is why a 2 GB file can't be used.
    settings = make_settings(max_media_per_post=1, media_quota_bytes=len(jpeg()) + 1000)
    async with Crier(settings) as crier:
        await alice.says("/start", "Crier")
        await alice.sends_photo(jpeg(), caption="One photo")
        downloads = len(tg.calls_to("getFile"))
        waiting = tg.wait_for(alice.user, "Telegram lets bots download")
        tg.send_video(alice.user, b"\x00" * 1000, file_size=2 * 1024**3)
        refused = await waiting
        assert refused["text"].startswith(
            "⚠️ This file is 2.0 GB, and Telegram lets bots download at most 20 MB."
        )
        assert len(tg.calls_to("getFile")) == downloads
        said = " ".join(m.get("text") or "" for m in tg.sent(alice.user))
        assert "storage is full" not in said
        assert "media items" not in said
        draft = await draft_of(crier, alice)
        assert draft is not None
        assert draft.text == "One photo"


# -- relative times that point back --------------------------------------------------------------


async def test_a_negative_or_zero_relative_time_is_refused_and_asked_again(
    crier: Crier, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await at_time_step(alice)
    for typed in ("in -5 minutes", "in −5 min", "через -5 минут", "dans -2 heures"):
        refused = await alice.says(typed, "counts backwards")
        assert "When?" in refused["text"]
    zero = await alice.says("in 0 hours", "no time from now")
    assert "⚡ Now" in buttons(zero)
    assert await count_targets(crier) == 0
    preview = await alice.says("in 5 minutes", "Preview")
    assert "in 5 min" in preview["text"]
