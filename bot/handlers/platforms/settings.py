"""/accounts → ⚙️ for platforms whose adapter declares settings (TikTok's audience and
interactions, Instagram's format, YouTube's privacy, Facebook's videos): each setting with
its choices as buttons, the current one ticked; a tap sets it (owner-checked)."""

from __future__ import annotations

from html import escape

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot.accounts import choices, connecting
from bot.services import CustomContext, Services
from bot.ui.chat import Rows, edit, parse_id, user_id
from storage.models import Account


def screen(services: Services, account: Account) -> tuple[str, Rows]:
    name = services.platform_names.get(account.platform, account.platform)
    lines = [f"⚙️ <b>{escape(account.label)}</b> ({escape(name)})", ""]
    rows: list[list[tuple[str, str]]] = []
    for index, option in enumerate(choices.declared(services, account)):
        value = choices.current(account, option)
        if option.choices:
            shown = dict(option.choices).get(str(value), str(value))
            lines.append(f"{escape(option.label)}: <b>{escape(shown)}</b>")
            if option.help:
                lines.append(f"<i>{escape(option.help)}</i>")
            rows.append(
                [
                    (("✅ " if v == value else "") + label, f"po:{account.id}:{index}:{v}")
                    for v, label in choices.offered(account, option)
                ]
            )
        else:
            mark = "✅" if value else "▫️"
            if option.help:  # what the flag does, since its button has room only for its name
                lines.append(f"{escape(option.label)}: <i>{escape(option.help)}</i>")
            rows.append([(f"{mark} {option.label}", f"po:{account.id}:{index}:")])
    return "\n".join(lines), rows


async def show(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None
    account_id = parse_id((query.data or "").split(":")[1])
    account = await connecting.get(context.services, user_id(update), account_id or 0)
    if account is None or not choices.declared(context.services, account):
        await query.answer("I can't find that account among yours.", show_alert=True)
        return
    await query.answer()
    await edit(query, *screen(context.services, account))


async def choose(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None
    _, raw_account, raw_index, value = (query.data or "").split(":", 3)
    account_id, index = parse_id(raw_account), parse_id(raw_index, smallest=0, largest=20)
    try:
        if account_id is None or index is None:
            raise choices.OptionError("That option isn't there any more.")
        account = await choices.set_choice(
            context.services, user_id(update), account_id, index, value or None
        )
    except choices.OptionError as exc:
        await query.answer(str(exc), show_alert=True)
        return
    await query.answer("Saved")
    await edit(query, *screen(context.services, account))


def install(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CallbackQueryHandler(show, pattern=r"^po:[^:]+$"))
    app.add_handler(CallbackQueryHandler(choose, pattern=r"^po:[^:]+:[^:]+:[^:]*$"))
