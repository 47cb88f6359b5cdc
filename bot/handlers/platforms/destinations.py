"""/accounts → 🎯: point an account at another destination its sign-in reaches (another
LinkedIn page or the member, another Pinterest board, another YouTube channel or Page),
without signing in again. The choices are read fresh from the platform and kept a few
minutes in memory; picking one is owner-checked."""

from __future__ import annotations

import time
from html import escape

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot.accounts import connecting
from bot.services import CustomContext
from bot.ui.chat import callback_int, edit, parse_id, user_id
from providers.base import VerifiedAccount
from providers.errors import ProviderError

#: How long the destinations shown stay pickable, seconds.
KEEP = 600.0
_KEY = "destinations"


def _kept(context: CustomContext) -> dict[int, tuple[int, float, list[VerifiedAccount]]]:
    found = context.services.scratch.setdefault(_KEY, {})
    return found  # type: ignore[no-any-return]


async def show(update: Update, context: CustomContext) -> None:
    """List the destinations the account's sign-in reaches."""
    query = update.callback_query
    assert query is not None
    uid = user_id(update)
    account_id = callback_int(query) or 0
    await query.answer("Asking the platform…")
    try:
        account, found = await connecting.destinations(context.services, uid, account_id)
    except LookupError:
        await edit(query, "I can't find that account among yours.")
        return
    except ProviderError as exc:
        await edit(query, f"⚠️ {escape(exc.message)}")
        return
    _kept(context)[uid] = (account.id, time.monotonic(), found)
    rows = [
        [(("✅ " if d.external_id == account.external_id else "") + d.label, f"acc:dpick:{i}")]
        for i, d in enumerate(found[:20])
    ]
    await edit(
        query,
        f"🎯 Where should <b>{escape(account.label)}</b> publish? Posts already scheduled to it "
        "go to the one you pick.",
        rows,
    )


async def pick(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None
    uid = user_id(update)
    index = parse_id((query.data or "").rsplit(":", 1)[-1], smallest=0, largest=19)
    kept = _kept(context).get(uid)
    if kept is None or index is None or time.monotonic() - kept[1] > KEEP or index >= len(kept[2]):
        await query.answer("Those choices are gone; open /accounts again.", show_alert=True)
        return
    account_id, _, found = kept
    moved = await connecting.move(context.services, uid, account_id, found[index])
    if moved is None:
        await query.answer("I can't find that account among yours.", show_alert=True)
        return
    _kept(context).pop(uid, None)
    await query.answer("Done")
    await edit(
        query, f"🎯 <b>{escape(moved.label)}</b> now publishes to {escape(found[index].label)}."
    )


def install(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CallbackQueryHandler(show, pattern=r"^acc:dest:[^:]+$"))
    app.add_handler(CallbackQueryHandler(pick, pattern=r"^acc:dpick:[^:]+$"))
