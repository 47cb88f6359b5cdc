"""Bot API methods of the Telegram Bot API emulator that are not about messages.

getMe, getUpdates (long polling), webhooks, commands and descriptions, chats and members,
chat actions and getFile. Message methods are inherited from ``MessageMethods``.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import time
from typing import Any

from bot.demo.emulator.core import (
    CHAT_ACTIONS,
    DEFAULT_ALLOWED_UPDATES,
    GET_FILE_LIMIT,
)
from bot.demo.emulator.messages import MessageMethods
from bot.demo.emulator.world import (
    JSON,
    ApiError,
    FakeChat,
    Upload,
    bad_request,
    forbidden,
)


class BotApiMethods(MessageMethods):
    """All Bot API methods the emulator implements, as ``api_<methodName>``."""

    def api_getMe(self, p: JSON, files: dict[str, Upload]) -> Any:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def api_logOut(self, p: JSON, files: dict[str, Upload]) -> Any:
        return True

    def api_close(self, p: JSON, files: dict[str, Upload]) -> Any:
        return True

    # ---------------------------------------------------------------- updates

    def _confirm(self, offset: int | None) -> None:
        if offset is None or offset == 0:
            return
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        else:
            self._updates = self._updates[offset:]

    def _deliverable(self, limit: int) -> list[JSON]:
        kept = [u for u in self._updates if self._update_type(u) in self._allowed_updates]
        self._updates = kept
        return copy.deepcopy(kept[:limit])

    @staticmethod
    def _update_type(update: JSON) -> str:
        return next(key for key in update if key != "update_id")

    async def api_getUpdates(self, p: JSON, files: dict[str, Upload]) -> Any:
        if self.webhook.get("url"):
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = self._int_param(p, "offset")
        limit = min(max(self._int_param(p, "limit") or 100, 1), 100)
        try:
            timeout = max(float(p.get("timeout") or 0), 0.0)
        except (TypeError, ValueError):
            raise bad_request("invalid timeout specified") from None
        allowed = p.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_ALLOWED_UPDATES
        self._confirm(offset)
        me = object()
        self._active_poll = me
        self._wake(self._update_wakers)  # a newer request terminates the older one (409)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            batch = self._deliverable(limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._closing:
                return batch
            waker: asyncio.Future[None] = loop.create_future()
            self._update_wakers.add(waker)
            try:
                await asyncio.wait({waker}, timeout=remaining)
            finally:
                self._update_wakers.discard(waker)
                waker.cancel()
            if self._active_poll is not me:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running",
                )

    def api_setWebhook(self, p: JSON, files: dict[str, Upload]) -> Any:
        url = str(p.get("url") or "").strip()
        if url and not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if p.get("drop_pending_updates"):
            self._updates.clear()
        allowed = p.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_ALLOWED_UPDATES
        self.webhook = {"url": url}
        self._wake(self._update_wakers)
        return True

    def api_deleteWebhook(self, p: JSON, files: dict[str, Upload]) -> Any:
        if p.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {"url": ""}
        return True

    def api_getWebhookInfo(self, p: JSON, files: dict[str, Upload]) -> Any:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    # --------------------------------------------------------------- commands

    def _scope_key(self, p: JSON) -> str:
        scope = p.get("scope")
        if isinstance(scope, str):
            try:
                scope = json.loads(scope)
            except ValueError:
                raise bad_request("can't parse BotCommandScope JSON object") from None
        scope = scope or {"type": "default"}
        if not isinstance(scope, dict):
            raise bad_request("can't parse BotCommandScope JSON object")
        kind = str(scope.get("type", "default"))
        key = kind
        if kind in ("chat", "chat_administrators", "chat_member"):
            key += f":{self._resolve_chat(scope.get('chat_id'))}"
        if kind == "chat_member":
            key += f":{scope.get('user_id')}"
        language = p.get("language_code")
        return f"{key}/{language}" if language else key

    def api_setMyCommands(self, p: JSON, files: dict[str, Upload]) -> Any:
        commands = p.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        clean = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name = command.get("command")
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise bad_request("BOT_COMMAND_INVALID")
            description = command.get("description")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": description})
        key = self._scope_key(p)
        if clean:
            self.commands[key] = clean
        else:
            self.commands.pop(key, None)
        return True

    def api_getMyCommands(self, p: JSON, files: dict[str, Upload]) -> Any:
        return copy.deepcopy(self.commands.get(self._scope_key(p), []))

    def api_deleteMyCommands(self, p: JSON, files: dict[str, Upload]) -> Any:
        self.commands.pop(self._scope_key(p), None)
        return True

    def _set_text(self, store: dict[str, str], p: JSON, key: str, limit: int) -> bool:
        value = str(p.get(key) or "")
        if len(value) > limit:
            raise bad_request(f"{key} is too long")
        language = str(p.get("language_code") or "")
        if value:
            store[language] = value
        else:
            store.pop(language, None)
        return True

    def api_setMyDescription(self, p: JSON, files: dict[str, Upload]) -> Any:
        return self._set_text(self.descriptions, p, "description", 512)

    def api_getMyDescription(self, p: JSON, files: dict[str, Upload]) -> Any:
        language = str(p.get("language_code") or "")
        return {"description": self.descriptions.get(language, self.descriptions.get("", ""))}

    def api_setMyShortDescription(self, p: JSON, files: dict[str, Upload]) -> Any:
        return self._set_text(self.short_descriptions, p, "short_description", 120)

    def api_getMyShortDescription(self, p: JSON, files: dict[str, Upload]) -> Any:
        language = str(p.get("language_code") or "")
        default = self.short_descriptions.get("", "")
        return {"short_description": self.short_descriptions.get(language, default)}

    def api_setMyName(self, p: JSON, files: dict[str, Upload]) -> Any:
        return self._set_text(self.names, p, "name", 64)

    def api_getMyName(self, p: JSON, files: dict[str, Upload]) -> Any:
        language = str(p.get("language_code") or "")
        return {"name": self.names.get(language, self.names.get("", self.bot_first_name))}

    # ------------------------------------------------------------ chats/files

    def api_sendChatAction(self, p: JSON, files: dict[str, Upload]) -> Any:
        chat_id = self._resolve_chat(p.get("chat_id"))
        if p.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._check_can_send(chat_id, "text")
        # Shown "for 5 seconds or less (when a message arrives from your bot, Telegram
        # clients clear its typing status)".
        self.chat_actions[chat_id] = (p["action"], time.time())
        self._changed()
        return True

    def api_getChat(self, p: JSON, files: dict[str, Upload]) -> Any:
        chat_id = self._resolve_chat(p.get("chat_id"))
        info = self._chat_dict(chat_id)
        info.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": True,
                    "limited_gifts": True,
                    "unique_gifts": True,
                    "premium_subscription": True,
                    "gifts_from_channels": True,
                },
            }
        )
        return info

    def _administrator(self, user: JSON, chat: FakeChat, *, can_post: bool) -> JSON:
        member = {
            "status": "administrator",
            "user": user,
            "can_be_edited": False,
            "is_anonymous": False,
            "can_manage_chat": True,
            "can_delete_messages": True,
            "can_manage_video_chats": True,
            "can_restrict_members": True,
            "can_promote_members": False,
            "can_change_info": True,
            "can_invite_users": True,
            "can_post_stories": True,
            "can_edit_stories": True,
            "can_delete_stories": True,
        }
        if chat.type == "channel":
            member["can_post_messages"] = can_post
            member["can_edit_messages"] = can_post
        else:
            member["can_pin_messages"] = True
            if chat.type == "supergroup":
                member["can_manage_topics"] = False
        return member

    def _bot_member(self, chat: FakeChat) -> JSON:
        """The bot's ChatMember, its rights overridden by ``chat.bot_rights``."""
        member = self._status_member(chat.bot_status, self._bot_user(), chat, chat.bot_can_post)
        if member["status"] == "administrator":
            member.update(chat.bot_rights)
        return member

    def _status_member(self, status: str, user: JSON, chat: FakeChat, can_post: bool) -> JSON:
        if status == "creator":
            return {"status": "creator", "user": user, "is_anonymous": False}
        if status == "administrator":
            return self._administrator(user, chat, can_post=can_post)
        if status == "kicked":
            return {"status": "kicked", "user": user, "until_date": 0}
        return {"status": status, "user": user}

    def api_getChatMember(self, p: JSON, files: dict[str, Upload]) -> Any:
        chat_id = self._resolve_chat(p.get("chat_id"))
        user_id = self._int_param(p, "user_id")
        if user_id is None:
            raise bad_request("user not found")
        if user_id == self.bot_id:
            user = self._bot_user()
        elif user_id in self.users:
            user = self.users[user_id].as_dict()
        else:
            raise bad_request("user not found")
        if chat_id in self.users:
            if user_id in (chat_id, self.bot_id):
                return {"status": "member", "user": user}
            raise bad_request("user not found")
        chat = self.chats[chat_id]
        if user_id == self.bot_id:
            return self._bot_member(chat)
        if user_id in chat.admins:
            return self._status_member(chat.admins[user_id], user, chat, True)
        status = "member" if user_id in chat.members else "left"
        return {"status": status, "user": user}

    def api_getChatAdministrators(self, p: JSON, files: dict[str, Upload]) -> Any:
        chat_id = self._resolve_chat(p.get("chat_id"))
        if chat_id in self.users:
            raise bad_request("there are no administrators in the private chat")
        chat = self.chats[chat_id]
        admins = [
            self._status_member(status, self.users[uid].as_dict(), chat, True)
            for uid, status in chat.admins.items()
        ]
        if chat.bot_status in ("administrator", "creator"):
            admins.append(self._bot_member(chat))
        return admins

    def api_pinChatMessage(self, p: JSON, files: dict[str, Upload]) -> Any:
        """Pin a message: in a channel the bot needs "can_edit_messages", in a group
        "can_pin_messages". The chat gets a service message about the pin."""
        chat_id = self._resolve_chat(p.get("chat_id"))
        message_id = self._int_param(p, "message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        stored = self._lookup(chat_id, message_id)
        if stored is None:
            raise bad_request("message to pin not found")
        if chat_id in self.users:
            return True
        chat = self.chats[chat_id]
        right = "can_edit_messages" if chat.type == "channel" else "can_pin_messages"
        if chat.bot_status in ("left", "kicked"):
            raise forbidden(f"bot is not a member of the {chat.type} chat")
        if not self._bot_may(chat, right):
            raise bad_request("not enough rights to manage pinned messages in the chat")
        chat.pinned = [*(m for m in chat.pinned if m != message_id), message_id]
        pinned = copy.deepcopy(stored.msg)
        pinned.pop("reply_to_message", None)
        self._store(chat_id, {"pinned_message": pinned}, from_bot=True)
        return True

    def api_unpinChatMessage(self, p: JSON, files: dict[str, Upload]) -> Any:
        chat_id = self._resolve_chat(p.get("chat_id"))
        if chat_id in self.chats:
            chat = self.chats[chat_id]
            right = "can_edit_messages" if chat.type == "channel" else "can_pin_messages"
            if not self._bot_may(chat, right):
                raise bad_request("not enough rights to manage pinned messages in the chat")
            message_id = self._int_param(p, "message_id")
            if message_id is None:
                chat.pinned = chat.pinned[:-1]
            elif message_id in chat.pinned:
                chat.pinned.remove(message_id)
            else:
                raise bad_request("message to unpin not found")
            self._changed()
        return True

    def api_getFile(self, p: JSON, files: dict[str, Upload]) -> Any:
        file_id = str(p.get("file_id") or "").strip()
        if not file_id:
            raise bad_request("file_id is empty")
        stored = self.files.get(file_id)
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.size is not None and stored.size > GET_FILE_LIMIT:
            raise bad_request("file is too big")
        self._issued_paths.add(stored.file_path)
        result: JSON = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        if stored.size is not None:
            result["file_size"] = stored.size
        result["file_path"] = stored.file_path
        return result
