"""The admin check every admin command and button goes through, and the admins' command
menu."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from telegram import Bot, BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError

from bot.admin import access
from bot.services import CustomContext
from bot.ui.chat import reply, user_id
from storage.models import User

log = logging.getLogger(__name__)

AdminHandler = Callable[[Update, CustomContext, User], Coroutine[Any, Any, None]]
Handler = Callable[[Update, CustomContext], Coroutine[Any, Any, None]]

ADMIN_COMMANDS = [
    BotCommand("broadcast", "Send a message to users"),
    BotCommand("broadcast_cancel", "Stop the running broadcast"),
    BotCommand("stats", "Statistics: /stats or /stats <user>"),
    BotCommand("users", "Find users: /users alice"),
    BotCommand("ban", "Ban a user: /ban <id or @username>"),
    BotCommand("unban", "Lift a ban: /unban <id or @username>"),
    BotCommand("promote", "Make a user an admin"),
    BotCommand("demote", "Take admin rights away"),
    BotCommand("apiaccess", "Turn a user's API access on or off"),
    BotCommand("allow", "Let someone in (allow-list): /allow <id>"),
    BotCommand("invite", "Create an invite link: /invite [uses]"),
    BotCommand("audit", "Recent admin actions"),
]


def admin_only(action: str) -> Callable[[AdminHandler], Handler]:
    """Run the handler only for a current admin (the role is read on every call). Anyone
    else is told "not allowed" and the attempt is audited."""

    def wrap(handler: AdminHandler) -> Handler:
        @functools.wraps(handler)
        async def guarded(update: Update, context: CustomContext) -> None:
            admin = await access.authorize(context.services, user_id(update), action)
            if admin is not None:
                await handler(update, context, admin)
                return
            if update.callback_query is not None:
                await update.callback_query.answer(access.NOT_ALLOWED, show_alert=True)
            else:
                await reply(update, access.NOT_ALLOWED)

        return guarded

    return wrap


async def show_admin_menu(bot: Bot, chat_id: int, everyone: Sequence[BotCommand]) -> None:
    """Admin commands in this admin's menu, after everyone's (a chat's list replaces the
    default one)."""
    try:
        await bot.set_my_commands([*everyone, *ADMIN_COMMANDS], scope=BotCommandScopeChat(chat_id))
    except TelegramError as exc:  # an ADMIN_IDS admin who never opened the bot
        log.info("admin menu for chat %s not set: %s", chat_id, exc)


async def hide_admin_menu(bot: Bot, chat_id: int) -> None:
    try:
        await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id))
    except TelegramError as exc:
        log.info("admin menu for chat %s not removed: %s", chat_id, exc)
