"""/accounts: each connected account with Test, Rename, Options and Disconnect.

Options (Mastodon's visibility and content warning) are in `bot/handlers/options.py`.
"""

from __future__ import annotations

from html import escape

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.accounts import choices, connecting
from bot.accounts import options as account_options
from bot.compose import posting
from bot.services import CustomContext, Services
from bot.ui.chat import ID, Rows, callback_int, edit, reply, user_id
from bot.ui.render import account_name
from storage.models import AccountStatus

RENAME = 0
NOT_YOURS = "I can't find that account among yours."
STATUS = {
    AccountStatus.ACTIVE: "✅",
    AccountStatus.NEEDS_REAUTH: "🔑",
    AccountStatus.DISABLED: "⏸",
}


async def accounts_command(update: Update, context: CustomContext) -> None:
    """List the user's accounts with buttons for each."""
    await reply(update, *await listing(context.services, user_id(update)))


async def listing(services: Services, uid: int) -> tuple[str, Rows]:
    """The /accounts message: a line and a row of buttons per account."""
    owned = await posting.user_accounts(services, uid)
    names = services.platform_names
    lines = ["👥 <b>Your accounts</b>", ""]
    rows: list[list[tuple[str, str]]] = []
    for account in owned:
        line = f"{STATUS[account.status]} {account_name(account, names)}"
        if connecting.renamed(account):
            line += f" · {escape(connecting.handle(account))}"
        for option in [*account_options.summary(account), *choices.summary(services, account)]:
            line += f" · {escape(option)}"
        if account.status == AccountStatus.NEEDS_REAUTH:
            line += " — needs reconnecting: /connect it again"
            if account.status_reason:
                line += f"\n    <i>{escape(account.status_reason)}</i>"
        lines.append(line)
        if account.platform != "dryrun":
            short = account.label if len(account.label) <= 20 else account.label[:19] + "…"
            row = [
                (f"🧪 {short}", f"acc:test:{account.id}"),
                ("✏️ Rename", f"acc:rename:{account.id}"),
            ]
            if account_options.has_options(account):
                row.append(("⚙️ Options", f"acc:opt:{account.id}"))
            if account.platform in connecting.MOVABLE:
                row.append(("🎯", f"acc:dest:{account.id}"))
            if choices.declared(services, account):
                row.append(("⚙️", f"po:{account.id}"))
            rows.append([*row, ("🗑", f"acc:off:{account.id}")])
    lines += ["", "Connect another with /connect."]
    return "\n".join(lines), rows


async def test_button(update: Update, context: CustomContext) -> None:
    """Check the account's credentials against its platform now."""
    query = update.callback_query
    assert query is not None
    account_id = callback_int(query)
    await query.answer("Checking…")
    try:
        account, problem = await connecting.test(context.services, user_id(update), account_id or 0)
    except LookupError:
        await reply(update, NOT_YOURS)
        return
    if problem is None:
        await reply(update, f"✅ <b>{escape(account.label)}</b> works.")
    else:
        await reply(
            update,
            f"⚠️ <b>{escape(account.label)}</b>: {escape(problem)}\n\n"
            "Reconnect it with /connect to fix this.",
        )


async def rename_button(update: Update, context: CustomContext) -> int:
    query = update.callback_query
    assert query is not None
    await query.answer()
    account_id = callback_int(query)
    account = await connecting.get(context.services, user_id(update), account_id or 0)
    if account is None:
        await reply(update, NOT_YOURS)
        return ConversationHandler.END
    context.services.scratch.setdefault("rename", {})[user_id(update)] = account.id
    await reply(update, f"✏️ Send a new name for <b>{escape(account.label)}</b> (or /abort).")
    return RENAME


async def rename_text(update: Update, context: CustomContext) -> int:
    uid = user_id(update)
    account_id = context.services.scratch.setdefault("rename", {}).pop(uid, None)
    label = " ".join((update.effective_message.text or "").split())[:64]  # type: ignore[union-attr]
    if account_id is None:
        await reply(update, "That rename was interrupted. Open /accounts and try again.")
        return ConversationHandler.END
    if not label:
        await reply(update, "Send a name with some letters in it.")
        context.services.scratch["rename"][uid] = account_id
        return RENAME
    if await connecting.rename(context.services, uid, account_id, label):
        await reply(update, f"✅ Renamed to <b>{escape(label)}</b>.")
    else:
        await reply(update, NOT_YOURS)
    return ConversationHandler.END


async def rename_abort(update: Update, context: CustomContext) -> int:
    context.services.scratch.setdefault("rename", {}).pop(user_id(update), None)
    await reply(update, "👍 Nothing changed.")
    return ConversationHandler.END


async def disconnect_button(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    account_id = callback_int(query)
    account = await connecting.get(context.services, user_id(update), account_id or 0)
    if account is None:
        await reply(update, NOT_YOURS)
        return
    await reply(
        update,
        f"Disconnect <b>{escape(account.label)}</b>? Its stored credentials are deleted and "
        "posts waiting to go there are cancelled.",
        [[("🗑 Yes, disconnect", f"acc:offyes:{account.id}"), ("Keep it", "acc:keep")]],
    )


async def disconnect_yes(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    account_id = callback_int(query)
    cancelled = await connecting.disconnect(context.services, user_id(update), account_id or 0)
    if cancelled is None:
        await edit(query, NOT_YOURS)
        return
    extra = f" {cancelled} waiting post(s) to it were cancelled." if cancelled else ""
    await edit(query, f"🗑 Disconnected.{extra}")


async def keep_account(update: Update, context: CustomContext) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer()
    await edit(update.callback_query, "👍 Nothing changed.")


def install(app: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    app.add_handler(
        ConversationHandler(
            entry_points=[CallbackQueryHandler(rename_button, pattern=rf"^acc:rename:{ID}$")],
            states={
                RENAME: [MessageHandler(private & filters.TEXT & ~filters.COMMAND, rename_text)]
            },
            fallbacks=[CommandHandler("abort", rename_abort)],
            name="rename",
            persistent=True,
            allow_reentry=True,
        )
    )
    app.add_handler(CommandHandler("accounts", accounts_command, filters=private))
    app.add_handler(CallbackQueryHandler(test_button, pattern=rf"^acc:test:{ID}$"))
    app.add_handler(CallbackQueryHandler(disconnect_button, pattern=rf"^acc:off:{ID}$"))
    app.add_handler(CallbackQueryHandler(disconnect_yes, pattern=rf"^acc:offyes:{ID}$"))
    app.add_handler(CallbackQueryHandler(keep_account, pattern=r"^acc:keep$"))
