"""/slots: each account's weekly queue slots, set by buttons or typed ("Mon-Fri 09:00 17:00").

"➕ Add to queue" in a new post puts it in the next free slot of every chosen account
(bot/compose/slots.py; the slot arithmetic is bot/schedule/slots.py). Every button carries
what it acts on (account, days, time), so the screens keep working after a restart; the
services check ownership on every tap.
"""

from __future__ import annotations

import re
from html import escape

from telegram import CallbackQuery, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.compose import slots as queue_slots
from bot.compose.slots import AccountSlots
from bot.schedule import slots as slot_times
from bot.schedule.parse import zone, zone_label
from bot.schedule.slots import DAY_NAMES, EXAMPLE, SlotError
from bot.services import CustomContext
from bot.ui import render
from bot.ui.asking import ASK_GROUP, leave_otherwise, stop_after
from bot.ui.chat import ID, Rows, callback_int, edit, parse_id, reply, user_id

TYPING = 0
#: Day choices for a new slot, as weekday bit masks (bit 0 = Monday).
DAY_CHOICES = (("Mon–Fri", 0b0011111), ("Every day", 0b1111111), ("Sat–Sun", 0b1100000))
MINUTES = (0, 15, 30, 45)
# Account, day mask, hour and minute, checked by the steps (the data may be forged).
_DAYS_PICKED = re.compile(rf"^sl:d:({ID}):({ID})$")
_HOUR_PICKED = re.compile(rf"^sl:h:({ID}):({ID}):({ID})$")
_MINUTE_PICKED = re.compile(rf"^sl:m:({ID}):({ID}):({ID}):({ID})$")
#: The typed slots of a `/slots ...` waiting for the user to pick an account (memory only).
PENDING = "slots_pending"


def _small(raw: str) -> int:
    """A day mask, hour or minute from callback data; -1 when it is no number (refused)."""
    found = parse_id(raw, smallest=0, largest=1_000)
    return -1 if found is None else found


def _mask_days(mask: int) -> list[int]:
    return [day for day in range(7) if mask >> day & 1]


def _tz_line(tz: str, context: CustomContext) -> str:
    label = zone_label(context.services.now().astimezone(zone(tz)))
    shown = tz if label == tz else f"{tz}, {label}"
    return f"Times are in your timezone ({escape(shown)}; /timezone changes it)."


def _name(entry: AccountSlots, context: CustomContext) -> str:
    return render.account_name(entry.account, context.services.platform_names)


async def overview(update: Update, context: CustomContext) -> tuple[str, Rows]:
    entries = await queue_slots.overview(context.services, user_id(update))
    tz = entries[0].tz if entries else context.services.settings.default_timezone
    lines = [
        "🗓 <b>Queue slots</b>",
        "Each account's weekly posting times. <b>➕ Add to queue</b> in a new post puts it "
        "in the next free slot of each account it goes to.",
        _tz_line(tz, context),
        "",
    ]
    for entry in entries:
        have = slot_times.summarise(entry.pairs) if entry.slots else "no slots yet"
        lines.append(f"• {_name(entry, context)}: {escape(have)}")
    lines += ["", f"Tap an account to change its slots, or type e.g. /slots {EXAMPLE}."]
    rows: Rows = [
        [(f"{entry.account.label} · {len(entry.slots)} slots", f"sl:acc:{entry.account.id}")]
        for entry in entries
    ]
    return "\n".join(lines), rows


async def account_view(
    update: Update, context: CustomContext, account_id: int, note: str = ""
) -> tuple[str, Rows]:
    entry = await queue_slots.account_slots(context.services, user_id(update), account_id)
    lines = [f"🗓 <b>Queue slots of {_name(entry, context)}</b>", _tz_line(entry.tz, context), ""]
    if note:
        lines += [note, ""]
    if entry.slots:
        lines.append(escape(slot_times.summarise(entry.pairs)))
        now = context.services.now()
        changes = slot_times.clock_change_notes(entry.pairs, entry.tz, now)
        lines += [f"🕰 {escape(note)}" for note in changes]
        lines += ["", "Tap 🗑 on a slot to remove it."]
    else:
        lines.append("No slots yet: add one, or type them like " + escape(EXAMPLE) + ".")
    cells = [
        (f"🗑 {slot_times.slot_label(s.weekday, s.minute)}", f"sl:del:{s.id}") for s in entry.slots
    ]
    rows: list[list[tuple[str, str]]] = [cells[i : i + 3] for i in range(0, len(cells), 3)]
    rows.append(
        [("➕ Add a slot", f"sl:add:{account_id}"), ("✏️ Type slots", f"sl:type:{account_id}")]
    )
    if entry.slots:
        rows.append([("🗑 Remove all", f"sl:clear:{account_id}")])
    rows.append([("⬅ All accounts", "sl:list")])
    return "\n".join(lines), rows


async def slots_command(update: Update, context: CustomContext) -> None:
    """Show every account's slots, or add typed ones: `/slots Mon-Fri 09:00 17:00`."""
    if not context.args:
        text, rows = await overview(update, context)
        await reply(update, text, rows)
        return
    try:
        pairs = slot_times.parse_slots(" ".join(context.args))
    except SlotError as exc:
        await reply(update, f"⚠️ {escape(str(exc))}")
        return
    entries = await queue_slots.overview(context.services, user_id(update))
    if not entries:
        await reply(update, "You have no accounts to give slots to. /connect one first.")
        return
    if len(entries) == 1:
        await _add_and_show(update, context, entries[0].account.id, pairs)
        return
    context.user_data[PENDING] = pairs  # type: ignore[index]
    choices: Rows = [[(e.account.label, f"sl:put:{e.account.id}")] for e in entries]
    await reply(
        update, f"🗓 Add <b>{escape(slot_times.summarise(pairs))}</b> to which account?", choices
    )


async def _add_and_show(
    update: Update, context: CustomContext, account_id: int, pairs: list[tuple[int, int]]
) -> None:
    """Add slots, then show the account (editing the tapped message, or replying)."""
    query = update.callback_query
    try:
        added = await queue_slots.add(context.services, user_id(update), account_id, pairs)
    except SlotError as exc:
        if query is not None:
            await query.answer(str(exc), show_alert=True)
        else:
            await reply(update, f"⚠️ {escape(str(exc))}")
        return
    what = escape(slot_times.summarise(pairs))
    note = f"✅ Added {added} slot{'s' if added != 1 else ''}: {what}."
    if added == 0:
        note = f"It already has {what}."
    text, rows = await account_view(update, context, account_id, note)
    if query is not None:
        await query.answer()
        await edit(query, text, rows)
    else:
        await reply(update, text, rows)


async def _show_account(query: CallbackQuery, update: Update, context: CustomContext) -> None:
    account_id = callback_int(query)
    try:
        text, rows = await account_view(update, context, account_id or 0)
    except SlotError as exc:
        await query.answer(str(exc), show_alert=True)
        return
    await query.answer()
    await edit(query, text, rows)


async def button(update: Update, context: CustomContext) -> None:
    """Every /slots button except typing."""
    query = update.callback_query
    assert query is not None
    data = query.data or ""
    uid = user_id(update)
    services = context.services
    if data == "sl:list":
        await query.answer()
        text, rows = await overview(update, context)
        await edit(query, text, rows)
    elif data.startswith("sl:acc:"):
        await _show_account(query, update, context)
    elif data.startswith("sl:del:"):
        account_id = await queue_slots.remove(services, uid, callback_int(query) or 0)
        if account_id is None:
            await query.answer("That slot is already gone.")
            return
        await query.answer("Removed")
        text, rows = await account_view(update, context, account_id)
        await edit(query, text, rows)
    elif data.startswith("sl:add:"):
        await _choose_days(query, update, context)
    elif match := _DAYS_PICKED.match(data):
        await _choose_hour(query, update, context, parse_id(match[1]) or 0, _small(match[2]))
    elif match := _HOUR_PICKED.match(data):
        account_id = parse_id(match[1]) or 0
        await _choose_minute(query, update, context, account_id, _small(match[2]), _small(match[3]))
    elif match := _MINUTE_PICKED.match(data):
        account_id = parse_id(match[1]) or 0
        mask, hour, minute = (_small(group) for group in match.groups()[1:])
        if not (0 < mask < 128 and 0 <= hour < 24 and 0 <= minute < 60):
            await query.answer("That button is not valid.")
            return
        pairs = [(day, hour * 60 + minute) for day in _mask_days(mask)]
        await _add_and_show(update, context, account_id, pairs)
    elif data.startswith("sl:put:"):
        pairs = context.user_data.pop(PENDING, None)  # type: ignore[union-attr]
        if not pairs:
            await query.answer("That request has expired: send it again.", show_alert=True)
            return
        await _add_and_show(update, context, callback_int(query) or 0, pairs)
    elif data.startswith("sl:clear:"):
        await _ask_clear(query, update, context)
    elif data.startswith("sl:wipe:"):
        account_id = callback_int(query) or 0
        if not await _owned(query, update, context, account_id):
            return
        removed = await queue_slots.clear(services, uid, account_id)  # scoped to the user
        if not removed:
            await query.answer("There were no slots to remove.")
            return
        await query.answer(f"Removed {removed}")
        text, rows = await account_view(update, context, account_id)
        await edit(query, text, rows)
    else:
        await query.answer("That button is not valid.")


async def _choose_days(query: CallbackQuery, update: Update, context: CustomContext) -> None:
    account_id = callback_int(query) or 0
    try:
        entry = await queue_slots.account_slots(context.services, user_id(update), account_id)
    except SlotError as exc:
        await query.answer(str(exc), show_alert=True)
        return
    await query.answer()
    singles = [(name, f"sl:d:{account_id}:{1 << day}") for day, name in enumerate(DAY_NAMES)]
    rows: Rows = [
        [(label, f"sl:d:{account_id}:{mask}") for label, mask in DAY_CHOICES],
        singles[:4],
        singles[4:],
        [("⬅ Back", f"sl:acc:{account_id}")],
    ]
    await edit(query, f"➕ New slot for {_name(entry, context)}: which days?", rows)


async def _owned(
    query: CallbackQuery, update: Update, context: CustomContext, account_id: int
) -> bool:
    """Whether the account is the user's; if not, the button is answered saying so."""
    try:
        await queue_slots.account_slots(context.services, user_id(update), account_id)
    except SlotError as exc:
        await query.answer(str(exc), show_alert=True)
        return False
    return True


async def _choose_hour(
    query: CallbackQuery, update: Update, context: CustomContext, account_id: int, mask: int
) -> None:
    if not 0 < mask < 128:
        await query.answer("That button is not valid.")
        return
    if not await _owned(query, update, context, account_id):
        return
    await query.answer()
    hours = [(f"{hour:02d}", f"sl:h:{account_id}:{mask}:{hour}") for hour in range(24)]
    rows: Rows = [hours[i : i + 6] for i in range(0, 24, 6)]
    days = slot_times.days_label(_mask_days(mask))
    await edit(
        query, f"➕ New slot on <b>{escape(days)}</b>: which hour?", [*rows, _back(account_id)]
    )


async def _choose_minute(
    query: CallbackQuery,
    update: Update,
    context: CustomContext,
    account_id: int,
    mask: int,
    hour: int,
) -> None:
    if not (0 < mask < 128 and 0 <= hour < 24):
        await query.answer("That button is not valid.")
        return
    if not await _owned(query, update, context, account_id):
        return
    await query.answer()
    cells = [
        (f"{hour:02d}:{minute:02d}", f"sl:m:{account_id}:{mask}:{hour}:{minute}")
        for minute in MINUTES
    ]
    await edit(query, "➕ New slot: which minute?", [cells, _back(account_id)])


def _back(account_id: int) -> list[tuple[str, str]]:
    return [("⬅ Back", f"sl:acc:{account_id}")]


async def _ask_clear(query: CallbackQuery, update: Update, context: CustomContext) -> None:
    account_id = callback_int(query) or 0
    try:
        entry = await queue_slots.account_slots(context.services, user_id(update), account_id)
    except SlotError as exc:
        await query.answer(str(exc), show_alert=True)
        return
    await query.answer()
    await edit(
        query,
        f"Remove all {len(entry.slots)} slots of {_name(entry, context)}? Posts already "
        "queued keep their times.",
        [[("🗑 Yes, remove all", f"sl:wipe:{account_id}"), ("Keep them", f"sl:acc:{account_id}")]],
    )


# -- typing slots -------------------------------------------------------------------------


async def type_start(update: Update, context: CustomContext) -> int:
    """✏️ Type slots: the next text is read as slots for that account."""
    query = update.callback_query
    assert query is not None
    account_id = callback_int(query) or 0
    try:
        entry = await queue_slots.account_slots(context.services, user_id(update), account_id)
    except SlotError as exc:
        await query.answer(str(exc), show_alert=True)
        return ConversationHandler.END
    await query.answer()
    context.user_data["slots_account"] = account_id  # type: ignore[index]
    await reply(
        update,
        f"✏️ Send the slots for {_name(entry, context)}: days, then times, like "
        f"<code>{EXAMPLE}</code>, <code>daily 12:30</code> or "
        "<code>Mon, Wed 8am; Sat 10:00</code>.",
        [[("✖ Cancel", "sl:typed:cancel")]],
    )
    return TYPING


async def typed(update: Update, context: CustomContext) -> int:
    """Read typed slots; ask again if they can't be read."""
    account_id = context.user_data.get("slots_account")  # type: ignore[union-attr]
    if account_id is None:
        return ConversationHandler.END
    text = update.effective_message.text or ""  # type: ignore[union-attr]
    try:
        pairs = slot_times.parse_slots(text)
    except SlotError as exc:
        await reply(update, f"⚠️ {escape(str(exc))}", [[("✖ Cancel", "sl:typed:cancel")]])
        return TYPING
    await _add_and_show(update, context, account_id, pairs)
    return ConversationHandler.END


async def type_cancel(update: Update, context: CustomContext) -> int:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await edit(query, "✖ No slots added. /slots shows them.")
    return ConversationHandler.END


def build() -> ConversationHandler:  # type: ignore[type-arg]
    return ConversationHandler(
        entry_points=[CallbackQueryHandler(stop_after(type_start), pattern=rf"^sl:type:{ID}$")],
        states={
            TYPING: [
                MessageHandler(
                    filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, stop_after(typed)
                ),
                CallbackQueryHandler(stop_after(type_cancel), pattern=r"^sl:typed:cancel$"),
            ],
        },
        fallbacks=[*leave_otherwise()],
        name="slots",
    )


def install(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(build(), group=ASK_GROUP)
    app.add_handler(CommandHandler("slots", slots_command, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(type_cancel, pattern=r"^sl:typed:cancel$"))
    app.add_handler(CallbackQueryHandler(button, pattern=rf"^sl:[a-z]+(:{ID})+$|^sl:list$"))
