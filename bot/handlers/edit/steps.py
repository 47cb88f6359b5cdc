"""The steps of editing a scheduled post: new media, a new time, its accounts, and each
account's own text or thread. Each one changes the staged edit and returns to the menu
(`edit.show`); nothing is stored before 💾 Save."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from html import escape

from telegram import Update

from bot.accounts import users
from bot.compose import editing, posting
from bot.compose.editing import EditDraft, EditError
from bot.engine.text import overrides
from bot.handlers.compose import versions
from bot.handlers.compose.common import EDIT_ACCOUNTS, EDIT_MEDIA, EDIT_OVERRIDE, EDIT_TIME, EDITING
from bot.handlers.compose.content import incoming_media
from bot.handlers.edit.menu import BACK_ROW, DONE, gone, show, staged
from bot.media.receive import MediaRejected, check_download_size, receive
from bot.schedule.parse import NeedsChoice, TimeParseError, format_when, parse_when, tomorrow_at
from bot.services import CustomContext
from bot.ui.chat import Rows, callback_int, edit, keyboard, reply, user_id
from storage.models import Account

# -- media ----------------------------------------------------------------------------------


async def ask_media(update: Update, context: CustomContext) -> int:
    query = update.callback_query
    assert query is not None
    await query.answer()
    draft = staged(context, update)
    if draft is None:
        return await gone(update)
    draft.media_replaced = False
    count = len(draft.media_ids)
    now = f"It has {count} media item{'s' if count != 1 else ''}." if count else "It has none."
    rows: Rows = [[("🗑 Remove the media", "e:media_rm")], BACK_ROW] if count else [BACK_ROW]
    await edit(
        query,
        f"📎 Send photos, videos or files to <b>replace</b> this post's media. {now}",
        rows,
    )
    return EDIT_MEDIA


async def media_received(update: Update, context: CustomContext) -> int:
    """Download and probe a file sent in the media step and stage it."""
    message = update.effective_message
    assert message is not None
    services = context.services
    uid = user_id(update)
    draft = staged(context, update)
    if draft is None:
        return await gone(update)
    incoming = incoming_media(message)
    if incoming is None:
        await reply(update, "Send a photo, video or file, or tap ✅ Done.", [[DONE]])
        return EDIT_MEDIA
    settings = services.settings
    max_bytes = None if settings.telegram_local_mode else settings.max_download_bytes
    try:
        # Refused before downloading, the download limit first: nothing else would help.
        check_download_size(incoming, max_bytes)
        editing.check_media_room(services, draft)
        await posting.check_quota(services, uid, incoming)
        received = await receive(context.bot, incoming, settings.media_dir, max_bytes=max_bytes)
        try:
            count = await editing.add_media(services, uid, draft, received)
        finally:
            received.discard()
    except (MediaRejected, posting.ComposeError, EditError) as exc:
        await reply(update, f"⚠️ {escape(str(exc))}", [[DONE]])
        return EDIT_MEDIA
    if message.media_group_id and context.job_queue is not None:
        # One status for a whole album, once its last file is in.
        name = f"edit-media:{message.chat_id}"
        for job in context.job_queue.get_jobs_by_name(name):
            job.schedule_removal()
        context.job_queue.run_once(
            _media_status,  # type: ignore[arg-type]  # PTB types jobs with the default context
            1.0,
            chat_id=message.chat_id,
            user_id=uid,
            name=name,
        )
        return EDIT_MEDIA
    await reply(update, _media_count(count), [[DONE]])
    return EDIT_MEDIA


def _media_count(count: int) -> str:
    items = f"{count} media item{'s' if count != 1 else ''}"
    return f"📎 The post now has {items}. Send more, or tap ✅ Done."


async def _media_status(context: CustomContext) -> None:
    job = context.job
    assert job is not None
    assert job.chat_id is not None
    assert job.user_id is not None
    draft = editing.current(context.services, job.user_id)
    if draft is None:
        return
    await context.bot.send_message(
        job.chat_id,
        _media_count(len(draft.media_ids)),
        reply_markup=keyboard([[DONE]]),
    )


async def remove_media(update: Update, context: CustomContext) -> int:
    assert update.callback_query is not None
    draft = staged(context, update)
    if draft is None:
        return await gone(update)
    editing.remove_media(draft)
    await update.callback_query.answer("Media removed")
    return await show(update, context)


# -- time -----------------------------------------------------------------------------------


async def ask_time(update: Update, context: CustomContext, problem: str | None = None) -> int:
    services = context.services
    draft = staged(context, update)
    if draft is None:
        return await gone(update)
    user = await users.get_user(services, user_id(update))
    tz = user.timezone if user else services.settings.default_timezone
    now = services.now()
    soon = (now + timedelta(hours=1)).replace(second=0, microsecond=0)
    quick = [
        ("⚡ Now", "e:at:now"),
        ("In 1 hour", f"e:at:{int(soon.timestamp())}"),
        ("Tomorrow 09:00", f"e:at:{int(tomorrow_at(now, tz, 9).timestamp())}"),
    ]
    rows: Rows = [quick[1:] if draft.repeats else quick, BACK_ROW]
    text = (
        f"🕒 <b>When should post #{draft.post_id} go out?</b> It's set for "
        f"{escape(format_when(draft.publish_at, tz, now, style='abbr'))}. Tap a button, or type "
        f"a time like <i>in 2 hours</i> or <i>fri 18:30</i> ({escape(tz)})."
    )
    if draft.repeats:
        text += (
            "\n\n🔁 It repeats: the series moves, and every later post keeps the new time "
            "of day (the days its rule names stay)."
        )
    if problem:
        text = f"⚠️ {escape(problem)}\n\n{text}"
    if update.callback_query and not problem:
        await update.callback_query.answer()
        await edit(update.callback_query, text, rows)
    else:
        await reply(update, text, rows)
    return EDIT_TIME


async def time_button(update: Update, context: CustomContext) -> int:
    """A quick time, or one reading of a time a clock change skips or repeats."""
    query = update.callback_query
    assert query is not None
    draft = staged(context, update)
    if draft is None:
        return await gone(update)
    choice = (query.data or "").removeprefix("e:at:")
    try:
        when = None if choice == "now" else datetime.fromtimestamp(int(choice), UTC)
    except (ValueError, OverflowError, OSError):  # forged: past what a datetime holds
        await query.answer("That time can't be used. Pick one again.", show_alert=True)
        return EDIT_TIME
    try:
        editing.set_time(context.services, draft, when)
    except EditError as exc:
        await query.answer()
        return await ask_time(update, context, problem=str(exc))
    await query.answer()
    return await show(update, context)


async def typed_time(update: Update, context: CustomContext) -> int:
    """Read a typed time in the user's timezone; ask again if it can't be used."""
    services = context.services
    draft = staged(context, update)
    if draft is None:
        return await gone(update)
    user = await users.get_user(services, user_id(update))
    assert user is not None
    text = update.effective_message.text or ""  # type: ignore[union-attr]
    try:
        when = parse_when(text, user.timezone, services.now(), user.language)
        editing.set_time(services, draft, when)
    except NeedsChoice as exc:
        rows: Rows = [
            [(c.short, f"e:at:{int(c.instant.timestamp())}") for c in exc.choices],
            BACK_ROW,
        ]
        await reply(update, f"🕰 {escape(str(exc))}", rows)
        return EDIT_TIME
    except (TimeParseError, EditError) as exc:
        return await ask_time(update, context, problem=str(exc))
    return await show(update, context, fresh=True)


# -- accounts -------------------------------------------------------------------------------


async def ask_accounts(update: Update, context: CustomContext) -> int:
    query = update.callback_query
    assert query is not None
    await query.answer()
    draft = staged(context, update)
    if draft is None:
        return await gone(update)
    owned = await posting.user_accounts(context.services, user_id(update))
    rows: list[list[tuple[str, str]]] = []
    for account in owned:
        name = versions.short_name(account, context.services)
        if account.id in draft.locked:
            mark = "🔒 "
        elif account.id in draft.account_ids:
            mark = "✅ "
        else:
            mark = "▫️ "
        rows.append([(mark + name, f"e:acc:{account.id}")])
    rows.append([DONE])
    await edit(
        query,
        f"👥 <b>Where should post #{draft.post_id} go?</b> Tap to add or take off an account "
        "(🔒: it already went out there).",
        rows,
    )
    return EDIT_ACCOUNTS


async def toggle(update: Update, context: CustomContext) -> int:
    query = update.callback_query
    assert query is not None
    draft = staged(context, update)
    if draft is None:
        return await gone(update)
    account_id = callback_int(query)
    try:
        if account_id is None:
            raise EditError(posting.ACCOUNT_NOT_YOURS)
        await editing.toggle_account(context.services, user_id(update), draft, account_id)
    except EditError as exc:
        await query.answer(str(exc), show_alert=True)
        return EDIT_ACCOUNTS
    return await ask_accounts(update, context)


# -- each account's own version -------------------------------------------------------------


def _account_problem(
    account_id: int | None, owned: Mapping[int, Account], draft: EditDraft
) -> str | None:
    """Why a button's account can't have its own version of this post, or None."""
    if account_id is None or account_id not in owned:
        return posting.ACCOUNT_NOT_YOURS
    if account_id not in draft.account_ids:
        return editing.NOT_ON_POST
    return None


async def ask_override(update: Update, context: CustomContext) -> int:
    """Ask for one account's own text."""
    query = update.callback_query
    assert query is not None
    draft = staged(context, update)
    if draft is None:
        return await gone(update)
    account_id = callback_int(query)
    owned = {a.id: a for a in await posting.user_accounts(context.services, user_id(update))}
    if problem := _account_problem(account_id, owned, draft):
        await query.answer(problem, show_alert=True)
        return EDITING
    assert account_id is not None
    await query.answer()
    draft.awaiting = account_id
    own = overrides.parts(draft.overrides, account_id)
    rows: Rows = [
        [("↩ Use the post's text", f"e:ovr_clear:{account_id}")] if own else [],
        BACK_ROW,
    ]
    await edit(query, versions.prompt(owned[account_id], context.services, draft.text, own), rows)
    return EDIT_OVERRIDE


async def override_typed(update: Update, context: CustomContext) -> int:
    draft = staged(context, update)
    if draft is None or draft.awaiting is None:
        return await gone(update)
    text = update.effective_message.text or ""  # type: ignore[union-attr]
    try:
        editing.set_override(draft, context.services, draft.awaiting, text)
    except EditError as exc:
        await reply(update, f"⚠️ {escape(str(exc))}", [BACK_ROW])
        return EDIT_OVERRIDE
    draft.awaiting = None
    return await show(update, context, fresh=True)


async def override_clear(update: Update, context: CustomContext) -> int:
    query = update.callback_query
    assert query is not None
    draft = staged(context, update)
    if draft is None:
        return await gone(update)
    account_id = callback_int(query)
    owned = {a.id: a for a in await posting.user_accounts(context.services, user_id(update))}
    if problem := _account_problem(account_id, owned, draft):
        await query.answer(problem, show_alert=True)
        return EDIT_OVERRIDE
    assert account_id is not None
    editing.set_override(draft, context.services, account_id, None)
    draft.awaiting = None
    await query.answer("Back to the post's text")
    return await show(update, context)


async def split(update: Update, context: CustomContext) -> int:
    """Split the account's text into a numbered thread, as its platform counts."""
    query = update.callback_query
    assert query is not None
    draft = staged(context, update)
    if draft is None:
        return await gone(update)
    account_id = callback_int(query)
    owned = {a.id: a for a in await posting.user_accounts(context.services, user_id(update))}
    if problem := _account_problem(account_id, owned, draft):
        await query.answer(problem, show_alert=True)
        return EDITING
    assert account_id is not None
    try:
        parts = await editing.split(context.services, user_id(update), draft, account_id)
    except EditError as exc:
        await query.answer(str(exc), show_alert=True)
        return EDITING
    await query.answer(f"🧵 Split into {len(parts)} posts")
    return await show(update, context)
