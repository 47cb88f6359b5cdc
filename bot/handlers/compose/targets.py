"""Compose step 2: picking the accounts the post goes to."""

from __future__ import annotations

from telegram import Update

from bot.compose import posting
from bot.compose.posting import ACCOUNT_NOT_YOURS, ComposeError
from bot.handlers.compose.common import (
    CANCEL_ROW,
    PICK_ACCOUNTS,
    PICK_TIME,
    ask_time,
)
from bot.services import CustomContext
from bot.ui.chat import Rows, callback_int, edit, reply, user_id
from storage.models import Account


async def show_accounts(update: Update, context: CustomContext) -> None:
    services = context.services
    uid = user_id(update)
    owned = await posting.user_accounts(services, uid)
    draft = await posting.current_draft(services, uid)
    chosen = set(draft.draft_account_ids if draft else [])
    names = services.platform_names
    rows: list[list[tuple[str, str]]] = [
        [(("✅ " if a.id in chosen else "▫️ ") + _plain_name(a, names), f"c:acc:{a.id}")]
        for a in owned
    ]
    rows.append([("All", "c:all"), ("Next ➡", "c:next")])
    rows.append(CANCEL_ROW)
    text = "👥 <b>Where should it go?</b> Tap to select, then <b>Next</b>."
    if update.callback_query:
        await edit(update.callback_query, text, rows)
    else:
        await reply(update, text, rows)


def _plain_name(account: Account, names: dict[str, str]) -> str:
    platform = names.get(account.platform, account.platform)
    return platform if account.platform == "dryrun" else f"{account.label} · {platform}"


async def toggle(update: Update, context: CustomContext) -> int:
    """Select or unselect one account (or all of them)."""
    query = update.callback_query
    assert query is not None
    select_all = query.data == "c:all"
    account_id = None if select_all else callback_int(query)
    try:
        if account_id is None and not select_all:  # None would select every account
            raise ComposeError(ACCOUNT_NOT_YOURS)
        await posting.toggle_account(context.services, user_id(update), account_id)
    except ComposeError as exc:
        await query.answer(str(exc), show_alert=True)
        return PICK_ACCOUNTS
    await query.answer()
    await show_accounts(update, context)
    return PICK_ACCOUNTS


async def accounts_next(update: Update, context: CustomContext) -> int:
    """Go on to the time once at least one account is picked."""
    query = update.callback_query
    assert query is not None
    draft = await posting.current_draft(context.services, user_id(update))
    if draft is None or not draft.draft_account_ids:
        await query.answer("Pick at least one account.", show_alert=True)
        return PICK_ACCOUNTS
    await query.answer()
    await ask_time(update, context)
    return PICK_TIME


# -- time -----------------------------------------------------------------------------------

TIME_ROWS: Rows = [
    [("⚡ Now", "c:t:now"), ("In 1 hour", "c:t:1h"), ("Tomorrow 09:00", "c:t:tom9")],
    [("⬅ Accounts", "c:chacc"), *CANCEL_ROW],
]
