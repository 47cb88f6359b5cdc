"""Repeating posts through the real bot, with a controllable clock and no real waiting.

The clock drives the services and the engine; each occurrence is made due by setting the
clock to its time and running the engine (`engine.run_due()`), as a timer would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.app import Crier
from bot.config import Settings
from bot.engine import series
from storage.models import Post, PostStatus, Target, TargetStatus
from storage.posts import idempotency_key
from tests.acceptance.conftest import JSON, Person, buttons, dm
from tests.fakes.telegram_api import FakeTelegram

BERLIN = ZoneInfo("Europe/Berlin")
#: Monday 15 March 2027, 11:00 in Berlin: two weeks before the spring-forward change
#: (28 March) and well ahead of the real date, so real timers armed at fake times never fire.
START = datetime(2027, 3, 15, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class App:
    crier: Crier
    clock: Clock


@pytest.fixture
async def app(make_settings: Callable[..., Settings]) -> AsyncIterator[App]:
    clock = Clock(START)
    async with Crier(make_settings(default_timezone="Europe/Berlin"), clock=clock) as crier:
        yield App(crier, clock)


async def targets(crier: Crier, post_id: int = 1) -> list[Target]:
    async with crier.db.session() as session:
        return list(
            await session.scalars(
                select(Target)
                .where(Target.post_id == post_id)
                .order_by(Target.occurrence, Target.id)
            )
        )


async def queued(crier: Crier, post_id: int = 1) -> list[Target]:
    return [t for t in await targets(crier, post_id) if t.status == TargetStatus.QUEUED]


async def run_engine(app: App, at: datetime) -> None:
    """Time passes to `at`: the engine runs what is due and records every outcome."""
    app.clock.now = at
    assert app.crier.services is not None
    assert app.crier.services.engine is not None
    engine = app.crier.services.engine
    await engine.run_due()
    await engine.wait_idle()


async def compose_until_preview(person: Person, text: str, when: str) -> JSON:
    status = await person.says(text, "New post")
    picker = await person.presses(status, "✅ Done", "Where should it go")
    await person.presses(picker, "Next ➡", "When?")
    return await person.says(when, "Preview")


async def open_repeat(person: Person, preview: JSON) -> JSON:
    return await person.presses(preview, "🔁 Repeat", "doesn't repeat")


async def daily_menu(person: Person, text: str, when: str, at: str) -> JSON:
    """Compose `text` for `when`, open 🔁 Repeat and pick Daily (every day at `at`)."""
    preview = await compose_until_preview(person, text, when)
    menu = await open_repeat(person, preview)
    return await person.presses(menu, "Daily", f"every day at {at}")


async def confirm_series(person: Person, menu: JSON) -> None:
    preview = await person.presses(menu, "✅ Done", "Preview")
    await person.presses(preview, "✅ Confirm", "Scheduled #1")


def local(instant: datetime) -> str:
    return instant.astimezone(BERLIN).strftime("%a %H:%M %Z")


async def test_weekly_repeat_stays_at_nine_local_across_both_dst_changes(
    tg: FakeTelegram, app: App, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    preview = await compose_until_preview(alice, "Weekly digest", "2027-03-22 09:00")
    menu = await open_repeat(alice, preview)
    menu = await alice.presses(menu, "Weekly", "every Monday at 09:00")
    assert "✓ Mo" in buttons(menu)
    assert "Mon 22 Mar 09:00 CET, Mon 29 Mar 09:00 CEST" in menu["text"], "DST shows"
    preview = await alice.presses(menu, "✅ Done", "Preview")
    assert "🔁 every Monday at 09:00" in preview["text"]
    scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #1")
    assert "🔁 every Monday at 09:00" in scheduled["text"]

    async with app.crier.db.session() as session:
        post = await session.get(Post, 1)
        assert post is not None
        assert (post.rrule, post.timezone) == ("FREQ=WEEKLY;BYDAY=MO", "Europe/Berlin")
        assert post.dtstart_local == "2027-03-22T09:00:00"

    # Through both changes: 22 March (CET) to 8 November 2027 (CET again).
    last_seen = 0
    while True:
        [upcoming] = await queued(app.crier)
        if upcoming.publish_at > datetime(2027, 11, 8, 9, tzinfo=UTC):
            break
        await run_engine(app, upcoming.publish_at)
        done = await targets(app.crier)
        assert done[upcoming.occurrence].status == TargetStatus.PUBLISHED
        last_seen = upcoming.occurrence
    published = [t for t in await targets(app.crier) if t.status == TargetStatus.PUBLISHED]
    assert len(published) == last_seen + 1 == 34

    # Every occurrence is its own target with its own key, at 09:00 Berlin time ...
    assert [t.occurrence for t in published] == list(range(34))
    assert {local(t.publish_at) for t in published} == {"Mon 09:00 CET", "Mon 09:00 CEST"}
    assert len({t.idempotency_key for t in published}) == 34
    assert published[1].idempotency_key == idempotency_key(1, published[1].account_id, 1)
    # ... which in UTC is 08:00 in winter and 07:00 in summer: the shift is the zone's.
    hours = [(t.publish_at.date().isoformat(), t.publish_at.hour) for t in published]
    assert hours[0] == ("2027-03-22", 8)
    assert hours[1] == ("2027-03-29", 7), "first Monday after spring forward"
    assert hours[31] == ("2027-10-25", 7), "last Monday of summer time"
    assert hours[32] == ("2027-11-01", 8), "first Monday after fall back"
    assert all(hour == 7 for _, hour in hours[1:32])
    # Nothing was published early.
    assert all(t.published_at is not None and t.published_at >= t.publish_at for t in published)

    # One summary DM per occurrence, telling when the next one is.
    await app.crier.services.notifier.run_due()  # type: ignore[union-attr]
    summaries = [m for m in tg.sent(alice.user) if "Post #1 is out" in (m.get("text") or "")]
    assert len(summaries) == 34
    assert "🔁 Next: Mon 29 Mar 09:00 CEST" in summaries[0]["text"]
    assert "🔁 Next: Mon 01 Nov 09:00 CET" in summaries[31]["text"]


async def test_daily_repeat_with_count_three_creates_exactly_three_occurrences(
    tg: FakeTelegram, app: App, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    preview = await compose_until_preview(alice, "Three days of news", "tomorrow 9am")
    menu = await open_repeat(alice, preview)
    menu = await alice.presses(menu, "Daily", "every day at 09:00")
    ask = await alice.presses(menu, "After … times", "How many posts")
    wrong = await alice.says("lots", "Send a number")
    assert "⬅ Back" in buttons(wrong)
    menu = await alice.says("3", "every day at 09:00, 3 times")
    assert "✓ 3 times" in buttons(menu)
    assert ask
    preview = await alice.presses(menu, "✅ Done", "Preview")
    assert "every day at 09:00, 3 times" in preview["text"]
    await alice.presses(preview, "✅ Confirm", "Scheduled #1")

    for _ in range(10):  # more rounds than occurrences: the series must stop by itself
        pending = await queued(app.crier)
        if not pending:
            break
        await run_engine(app, pending[0].publish_at)
    done = await targets(app.crier)
    assert [t.occurrence for t in done] == [0, 1, 2]
    assert all(t.status == TargetStatus.PUBLISHED for t in done)
    assert [local(t.publish_at) for t in done] == [
        "Tue 09:00 CET",
        "Wed 09:00 CET",
        "Thu 09:00 CET",
    ]

    await app.crier.services.notifier.run_due()  # type: ignore[union-attr]
    summaries = [m["text"] for m in tg.sent(alice.user) if "is out" in (m.get("text") or "")]
    assert len(summaries) == 3
    assert "That was the last one of this series" in summaries[-1]
    listing = await alice.says("/list", "Your posts")
    assert "every day at 09:00, 3 times" in listing["text"]
    assert "🏁 Series finished" in listing["text"]


async def test_list_shows_the_rule_in_words_and_the_next_occurrence(
    app: App, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    preview = await compose_until_preview(alice, "Standup notes", "2027-03-16 09:00")
    menu = await open_repeat(alice, preview)
    menu = await alice.presses(menu, "Weekdays", "every weekday at 09:00")
    preview = await alice.presses(menu, "✅ Done", "Preview")
    await alice.presses(preview, "✅ Confirm", "Scheduled #1")

    listing = await alice.says("/list", "Your posts")
    assert "#1 · 🔁 every weekday at 09:00 · Standup notes" in listing["text"]
    assert "⏭ Next: Tue 16 Mar 09:00 CET — in 22 h" in listing["text"]
    assert "✖ Cancel #1" in buttons(listing)

    await run_engine(app, datetime(2027, 3, 16, 8, 0, tzinfo=UTC))
    listing = await alice.says("/list", "Your posts")
    assert "⏭ Next: Wed 17 Mar 09:00 CET — in 1 day" in listing["text"]
    assert "↩ Last: 16 Mar 09:00" in listing["text"]
    assert "✅ Dry run — done" in listing["text"]


async def test_cancel_only_this_one_keeps_the_series_and_the_whole_series_stops_it(
    tg: FakeTelegram, app: App, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await confirm_series(alice, await daily_menu(alice, "Daily tip", "tomorrow 9am", "09:00"))

    question = await alice.says("/cancel 1", "Cancel only the next one")
    assert "repeats every day at 09:00" in question["text"]
    assert buttons(question) == ["🗑 Only this one", "🛑 The whole series", "Keep it"]
    done = await alice.presses(question, "🗑 Only this one", "Cancelled the")
    assert "Tue 16 Mar 09:00 CET" in done["text"]
    assert "The series goes on: next Wed 17 Mar 09:00 CET" in done["text"]
    [first, second] = await targets(app.crier)
    assert (first.occurrence, first.status) == (0, TargetStatus.CANCELLED)
    assert (second.occurrence, second.status) == (1, TargetStatus.QUEUED)
    assert local(second.publish_at) == "Wed 09:00 CET"

    # A stale "Only this one" (for the occurrence already cancelled) changes nothing.
    await alice.forges(done, "p:cancel_one:1:0")
    await dm(tg, alice, "isn't waiting any more")
    assert [t.status for t in await targets(app.crier)] == [
        TargetStatus.CANCELLED,
        TargetStatus.QUEUED,
    ]

    listing = await alice.says("/list", "Your posts")
    question = await alice.presses(listing, "✖ Cancel #1", "Cancel only the next one")
    stopped = await alice.presses(question, "🛑 The whole series", "Stopped the series #1")
    assert "Nothing more will go out" in stopped["text"]
    assert [t.status for t in await targets(app.crier)] == [TargetStatus.CANCELLED] * 2
    async with app.crier.db.session() as session:
        post = await session.get(Post, 1)
        assert post is not None
        assert post.status == PostStatus.CANCELLED

    # Days pass: nothing is published or created any more.
    await run_engine(app, datetime(2027, 3, 20, 9, tzinfo=UTC))
    assert len(await targets(app.crier)) == 2
    listing = await alice.says("/list", "Your posts")
    assert "🛑 Series stopped" in listing["text"]
    await alice.says("/cancel 1", "nothing left to cancel")


async def test_custom_rule_every_minute_is_refused_with_a_reason(app: App, alice: Person) -> None:
    await alice.says("/start", "Crier")
    preview = await compose_until_preview(alice, "Spam?", "tomorrow 9am")
    menu = await open_repeat(alice, preview)
    ask = await alice.presses(menu, "✍️ Custom", "Send a repeat rule")
    assert buttons(ask) == ["⬅ Back"]

    refused = await alice.says("FREQ=MINUTELY", "at most once an hour")
    assert refused["text"].startswith("⚠️")
    refused = await alice.says("FREQ=HOURLY;BYMINUTE=0,30", "at most once an hour")
    refused = await alice.says("FREQ=DAILY;COLOR=red", "I don't know")
    menu = await alice.presses(refused, "⬅ Back", "doesn't repeat")
    await alice.presses(menu, "✍️ Custom", "Send a repeat rule")
    async with app.crier.db.session() as session:
        post = await session.get(Post, 1)
        assert post is not None
        assert post.rrule is None, "a refused rule changes nothing"

    menu = await alice.says(
        "rrule:freq=weekly;interval=2;byday=mo,fr", "every 2 weeks on Monday and Friday"
    )
    assert "✓ ✍️ Custom" in buttons(menu)
    preview = await alice.presses(menu, "✅ Done", "Preview")
    assert "every 2 weeks on Monday and Friday at 09:00 — first Fri 19 Mar" in preview["text"]
    scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #1")
    assert "Fri 19 Mar 09:00" in scheduled["text"], "the first post is the rule's first day"


async def test_after_three_days_down_the_series_skips_to_the_present_without_a_burst(
    app: App, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    preview = await compose_until_preview(alice, "Morning post", "tomorrow 9am")
    menu = await open_repeat(alice, preview)
    menu = await alice.presses(menu, "Daily", "every day at 09:00")
    preview = await alice.presses(menu, "✅ Done", "Preview")
    await alice.presses(preview, "✅ Confirm", "Scheduled #1")
    [tuesday] = await queued(app.crier)
    await run_engine(app, tuesday.publish_at)

    # Nothing ran from Tuesday 09:00 until Friday 09:20. Before claiming, the engine skips
    # what was missed (run here first, so no sweep can claim Wednesday's post meanwhile):
    # Wednesday and Thursday are skipped; Friday's, 20 minutes late, goes out once, now.
    back = datetime(2027, 3, 19, 8, 20, tzinfo=UTC)
    assert await app.crier.db.run(lambda s: series.skip_missed(s, back)) == 1
    rows = await targets(app.crier)
    assert [(t.occurrence, t.status) for t in rows] == [
        (0, TargetStatus.PUBLISHED),
        (1, TargetStatus.CANCELLED),
        (2, TargetStatus.QUEUED),
    ]
    assert rows[1].last_error is not None
    assert "Skipped 2 repeats, the first due 17 Mar 09:00 CET" in rows[1].last_error
    assert local(rows[2].publish_at) == "Fri 09:00 CET"
    assert rows[2].next_attempt_at == back, "a missed one less than an hour late goes now"

    await run_engine(app, back)
    rows = await targets(app.crier)
    assert [(t.occurrence, t.status) for t in rows] == [
        (0, TargetStatus.PUBLISHED),
        (1, TargetStatus.CANCELLED),
        (2, TargetStatus.PUBLISHED),
        (3, TargetStatus.QUEUED),
    ]
    assert local(rows[3].publish_at) == "Sat 09:00 CET", "then the next future one"

    status = await alice.says("/status 1", "📋 Post #1")
    assert "Skipped 2 repeats, the first due 17 Mar 09:00 CET" in status["text"]


async def test_weekly_days_are_toggled_and_one_always_stays(app: App, alice: Person) -> None:
    await alice.says("/start", "Crier")
    preview = await compose_until_preview(alice, "Gym days", "2027-03-22 18:30")
    menu = await open_repeat(alice, preview)
    menu = await alice.presses(menu, "Weekly", "every Monday at 18:30")
    menu = await alice.presses(menu, "Th", "every Monday and Thursday at 18:30")
    menu = await alice.presses(menu, "✓ Mo", "every Thursday at 18:30")

    answered = await alice.forges(menu, "c:rep:d:3")  # untick Thursday, the last day left
    assert answered["text"] == "Keep at least one day of the week."
    assert answered["show_alert"] is True
    async with app.crier.db.session() as session:
        post = await session.get(Post, 1)
        assert post is not None
        assert post.rrule == "FREQ=WEEKLY;BYDAY=TH"

    menu = await alice.presses(menu, "Until a day…", "Until which day")
    await alice.says("2027-03-01", "in the past")
    menu = await alice.says("2027-04-30", "until 30 Apr 2027")
    assert "✓ Until 30 Apr 2027" in buttons(menu)
    preview = await alice.presses(menu, "✅ Done", "Preview")
    shown = "🔁 every Thursday at 18:30 until 30 Apr 2027 — first Thu 25 Mar 18:30 CET"
    assert shown in preview["text"]


async def test_a_daily_repeat_at_a_time_the_clocks_skip_says_when_that_post_goes_out(
    tg: FakeTelegram, app: App, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    menu = await daily_menu(alice, "Night owl", "tomorrow 02:30", "02:30")
    # START is mid-March 2027: the clocks spring forward on Sunday 28 March.
    note = "the clocks in Europe/Berlin skip 02:30: that post goes out at 03:00 CEST"
    assert f"On Sun 28 Mar 2027 {note}" in menu["text"]
    preview = await alice.presses(menu, "✅ Done", "Preview")
    assert note in preview["text"]


async def test_editing_a_series_time_moves_every_later_post_to_the_new_time(
    tg: FakeTelegram, app: App, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    await confirm_series(alice, await daily_menu(alice, "Daily tip", "2027-03-16 09:00", "09:00"))

    editing = await alice.says("/edit 1", "Editing post #1")
    asked = await alice.presses(editing, "🕒 Time", "the series moves")
    assert "⚡ Now" not in buttons(asked)
    editing = await alice.says("2027-03-16 18:30", "next: Tue 16 Mar 18:30 CET")
    assert "Repeats every day at 18:30; next" in editing["text"]
    await alice.presses(editing, "💾 Save", "Saved post")

    async with app.crier.db.session() as session:
        post = await session.get(Post, 1)
        assert post is not None
        assert post.dtstart_local == "2027-03-16T18:30:00"
    [first] = await queued(app.crier)
    assert local(first.publish_at) == "Tue 18:30 CET"
    await run_engine(app, first.publish_at)
    [second] = await queued(app.crier)
    assert second.occurrence == first.occurrence + 1
    assert second.publish_at == first.publish_at + timedelta(days=1)


async def test_a_series_of_a_set_number_of_posts_is_not_moved(
    tg: FakeTelegram, app: App, alice: Person
) -> None:
    await alice.says("/start", "Crier")
    menu = await daily_menu(alice, "Three tips", "2027-03-16 09:00", "09:00")
    await alice.presses(menu, "After … times", "How many posts")
    await confirm_series(alice, await alice.says("3", "3 times"))
    [before] = await queued(app.crier)

    editing = await alice.says("/edit 1", "Editing post #1")
    await alice.presses(editing, "🕒 Time", "the series moves")
    refused = await alice.says("2027-03-16 18:30", "set number of posts")
    assert "Cancel it in /list" in refused["text"]
    [after] = await queued(app.crier)
    assert after.publish_at == before.publish_at
