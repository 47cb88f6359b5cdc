"""Compose step "🔁 Repeat" (from the preview): none, daily, weekdays, weekly on chosen days,
monthly, or a typed RRULE, and an optional end (after N times, or until a day).

Every tap changes the draft's rule at once (it is a row, so a restart keeps it) and redraws
the menu in place; ✅ Done goes back to the preview.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from html import escape

from telegram import Update
from telegram.ext import ConversationHandler

from bot.compose import series_draft
from bot.compose.series_draft import DraftRepeat
from bot.handlers.compose import preview
from bot.handlers.compose.common import REPEAT, REPEAT_COUNT, REPEAT_RULE, REPEAT_UNTIL
from bot.schedule.parse import format_when
from bot.schedule.recurrence import MAX_COUNT, RecurrenceError, Repeat
from bot.services import CustomContext, Services
from bot.ui.chat import Rows, edit, reply, user_id

_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_KINDS = {
    "none": Repeat.NONE,
    "daily": Repeat.DAILY,
    "weekdays": Repeat.WEEKDAYS,
    "weekly": Repeat.WEEKLY,
    "monthly": Repeat.MONTHLY,
    "lastday": Repeat.MONTHLY,
}
BACK_ROW = [("⬅ Back", "c:rep:menu")]


def _mark(on: bool, label: str) -> str:
    return f"✓ {label}" if on else label


def menu(view: DraftRepeat, problem: str | None = None) -> tuple[str, Rows]:
    """The repeat menu: what is chosen, the next few dates, and the choices."""
    choice, kind = view.choice, view.choice.kind
    if view.words is None:
        lines = ["🔁 <b>Repeat</b>: doesn't repeat."]
    else:
        lines = [f"🔁 <b>Repeat</b>: {escape(view.words)}."]
        shown = [
            format_when(t, view.tz, view.now, with_distance=False, style="abbr")
            for t in view.upcoming[:3]
        ]
        more = "…" if len(view.upcoming) > 3 else ""
        if shown:
            lines.append(f"First posts: {escape(', '.join(shown))}{more}")
        if view.clock_change:
            lines.append(f"🕰 {escape(view.clock_change)}")
    if kind is Repeat.MONTHLY and (choice.day_of_month or 0) > 28:
        lines.append(
            f"Months without a day {choice.day_of_month} are skipped; "
            "“On the last day” posts at every month's end."
        )
    lines.append("\nHow often? Every post of the series goes to the same accounts.")
    if problem:
        lines.insert(0, f"⚠️ {escape(problem)}\n")
    rows: list[list[tuple[str, str]]] = [
        [
            (_mark(kind is Repeat.NONE, "Never"), "c:rep:none"),
            (_mark(kind is Repeat.DAILY, "Daily"), "c:rep:daily"),
            (_mark(kind is Repeat.WEEKDAYS, "Weekdays"), "c:rep:weekdays"),
        ],
        [
            (_mark(kind is Repeat.WEEKLY, "Weekly"), "c:rep:weekly"),
            (_mark(kind is Repeat.MONTHLY, "Monthly"), "c:rep:monthly"),
            (_mark(kind is Repeat.CUSTOM, "✍️ Custom"), "c:rep:custom"),
        ],
    ]
    if kind is Repeat.WEEKLY:
        rows.append(
            [
                (_mark(day in choice.weekdays, name), f"c:rep:d:{day}")
                for day, name in enumerate(_DAYS)
            ]
        )
    if kind is Repeat.MONTHLY:
        last = choice.day_of_month == -1
        rows.append(
            [
                (_mark(not last, f"On day {view.start.day}"), "c:rep:monthly"),
                (_mark(last, "On the last day"), "c:rep:lastday"),
            ]
        )
    if kind is not Repeat.NONE:
        count = f"{choice.count} times" if choice.count else "After … times"
        until = f"Until {choice.until:%d %b %Y}" if choice.until else "Until a day…"
        rows.append(
            [
                (_mark(not choice.count and not choice.until, "No end"), "c:rep:end:never"),
                (_mark(bool(choice.count), count), "c:rep:end:count"),
                (_mark(bool(choice.until), until), "c:rep:end:until"),
            ]
        )
    rows.append([("✅ Done", "c:rep:done")])
    return "\n".join(lines), rows


async def _show(update: Update, view: DraftRepeat, problem: str | None = None) -> int:
    text, rows = menu(view, problem)
    if update.callback_query is not None:
        await edit(update.callback_query, text, rows)
    else:
        await reply(update, text, rows)
    return REPEAT


async def open_menu(update: Update, context: CustomContext) -> int:
    """Show the repeat menu for the draft."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    try:
        view = await series_draft.show(context.services, user_id(update))
    except RecurrenceError as exc:  # the draft is gone
        await reply(update, f"⚠️ {escape(str(exc))}")
        return ConversationHandler.END
    return await _show(update, view)


async def kind_button(update: Update, context: CustomContext) -> int:
    """Never, Daily, Weekdays, Weekly, Monthly (on the picked day, or the last day)."""
    query = update.callback_query
    assert query is not None
    name = (query.data or "").removeprefix("c:rep:")
    return await _change(
        update,
        context,
        lambda uid: series_draft.choose(
            context.services, uid, _KINDS[name], last_day=name == "lastday"
        ),
    )


async def day_button(update: Update, context: CustomContext) -> int:
    """Toggle one day of a weekly repeat."""
    query = update.callback_query
    assert query is not None
    day = int((query.data or "0")[-1])
    return await _change(
        update, context, lambda uid: series_draft.toggle_day(context.services, uid, day)
    )


async def no_end(update: Update, context: CustomContext) -> int:
    """Repeat with no end."""
    return await _change(update, context, lambda uid: series_draft.clear_end(context.services, uid))


async def _change(
    update: Update, context: CustomContext, action: Callable[[int], Awaitable[DraftRepeat]]
) -> int:
    query = update.callback_query
    assert query is not None
    try:
        view = await action(user_id(update))
    except RecurrenceError as exc:
        await query.answer(str(exc), show_alert=True)
        return REPEAT
    await query.answer()
    return await _show(update, view)


_PROMPTS = {
    REPEAT_RULE: (
        "✍️ Send a repeat rule (RFC 5545 RRULE), for example\n"
        "<code>FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR</code> — every other Monday and Friday\n"
        "<code>FREQ=MONTHLY;BYDAY=1MO</code> — the first Monday of every month\n"
        "Posts repeat at most once an hour; the time of day is the post's."
    ),
    REPEAT_COUNT: f"🔢 How many posts in all? Send a number from 1 to {MAX_COUNT}, like 10.",
    REPEAT_UNTIL: (
        "📅 Until which day? Send a date like <i>2027-12-31</i> or <i>31 Dec</i>: "
        "the last post is on that day or before."
    ),
}


async def ask(update: Update, context: CustomContext) -> int:
    """Ask for a typed rule, a number of times, or an end day."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    state = {
        "c:rep:custom": REPEAT_RULE,
        "c:rep:end:count": REPEAT_COUNT,
        "c:rep:end:until": REPEAT_UNTIL,
    }[query.data or ""]
    await edit(query, _PROMPTS[state], [BACK_ROW])
    return state


async def back(update: Update, context: CustomContext) -> int:
    """Back to the menu without typing anything."""
    return await open_menu(update, context)


async def typed_rule(update: Update, context: CustomContext) -> int:
    """Take a typed RRULE, or say why it can't be used."""
    return await _typed(update, context, REPEAT_RULE, series_draft.set_custom)


async def typed_count(update: Update, context: CustomContext) -> int:
    """End after a typed number of posts."""
    return await _typed(update, context, REPEAT_COUNT, series_draft.set_count)


async def typed_until(update: Update, context: CustomContext) -> int:
    """End on a typed day."""
    return await _typed(update, context, REPEAT_UNTIL, series_draft.set_until)


async def _typed(
    update: Update,
    context: CustomContext,
    state: int,
    action: Callable[[Services, int, str], Awaitable[DraftRepeat]],
) -> int:
    text = update.effective_message.text or ""  # type: ignore[union-attr]
    try:
        view = await action(context.services, user_id(update), text)
    except RecurrenceError as exc:
        await reply(update, f"⚠️ {escape(str(exc))}\n\n{_PROMPTS[state]}", [BACK_ROW])
        return state
    return await _show(update, view)


async def done(update: Update, context: CustomContext) -> int:
    """Back to the preview, which now shows the repeat."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    return await preview.show_preview(update, context)
