"""State and shared helpers of the Telegram Bot API emulator.

``TelegramState`` declares the world (users, chats, messages, files, updates) and the rules
every method shares: chat resolution, sending rights, flood control, reply-markup
validation. Files are in ``files.py``; the methods are in ``messages.py`` and
``methods.py``; ``TelegramEmulator`` (``server.py``) puts it all together.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.demo.emulator.text import format_text
from bot.demo.emulator.world import (
    JSON,
    FakeChat,
    FakeUser,
    StoredFile,
    TokenBucket,
    bad_request,
    forbidden,
    retry_after_seconds,
    too_many_requests,
)

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
GET_FILE_LIMIT = 20 * 1024 * 1024
UPLOAD_LIMIT = 50 * 1024 * 1024
ALBUM_LIMIT = 10
#: deleteMessage: "A message can only be deleted if it was sent less than 48 hours ago",
#: unless the bot has the can_delete_messages right (seconds).
DELETE_WINDOW = 48 * 3600

INLINE_BUTTON_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post",
        "business_connection", "business_message", "edited_business_message",
        "deleted_business_messages", "inline_query", "chosen_inline_result",
        "callback_query", "shipping_query", "pre_checkout_query", "purchased_paid_media",
        "poll", "poll_answer", "my_chat_member", "chat_join_request", "chat_boost",
        "removed_chat_boost",
    }
)  # fmt: skip
CONTENT_FIELDS = (
    "text", "entities", "caption", "caption_entities", "photo", "video", "document",
    "animation", "audio", "voice", "sticker", "has_media_spoiler", "show_caption_above_media",
)  # fmt: skip
_RIGHTS_NAME = {
    "text": "text messages",
    "photo": "photos",
    "video": "videos",
    "document": "documents",
    "animation": "animations",
    "audio": "audios",
}
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


@dataclass
class StoredMessage:
    msg: JSON
    from_bot: bool
    deleted: bool = False
    touched: int = 0


class TelegramState:
    """The emulator's state and shared rules. Attributes are initialised by TelegramEmulator."""

    token: str
    bot_id: int
    bot_username: str
    bot_first_name: str
    users: dict[int, FakeUser]
    chats: dict[int, FakeChat]
    blocked: set[int]
    files: dict[str, StoredFile]
    calls: list[tuple[str, JSON]]
    commands: dict[str, list[JSON]]
    descriptions: dict[str, str]
    short_descriptions: dict[str, str]
    names: dict[str, str]
    callback_answers: list[JSON]
    webhook: JSON
    enforce_rate_limits: bool
    rate_limited_count: int
    clock: Callable[[], float]  # flood-control clock (seconds); tests may replace it
    _messages: dict[int, dict[int, StoredMessage]]
    _next_message_id: dict[int, int]
    _deleted: dict[int, list[int]]
    _reply_keyboards: dict[int, JSON]
    _files_by_path: dict[str, StoredFile]
    _issued_paths: set[str]
    _photo_sets: dict[str, list[JSON]]
    _file_counter: int
    _media_group_counter: int
    _updates: list[JSON]
    _next_update_id: int
    _allowed_updates: frozenset[str]
    _update_wakers: set[asyncio.Future[None]]
    _message_wakers: set[asyncio.Future[None]]
    _active_poll: object | None
    _closing: bool
    _seq: int
    chat_actions: dict[int, tuple[str, float]]  # chat -> (action, time.time() it was sent)
    _callback_queries: dict[str, bool]
    _chat_buckets: dict[int, TokenBucket]
    _global_bucket: TokenBucket | None

    # ------------------------------------------------------------------ helpers

    def _bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _chat_dict(self, chat_id: int) -> JSON:
        if chat_id in self.users:
            return self.users[chat_id].chat_dict()
        return self.chats[chat_id].as_dict()

    def _chat_type(self, chat_id: int) -> str:
        return "private" if chat_id in self.users else self.chats[chat_id].type

    def _find_chat_id(self, value: Any) -> int | None:
        """Numeric id of a known chat given an id or "@username"; None when unknown."""
        if isinstance(value, bool):
            return None
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("@"):
                name = text[1:].lower()
                for chat in self.chats.values():
                    if chat.username and chat.username.lower() == name:
                        return chat.id
                return None
            try:
                value = int(text)
            except ValueError:
                return None
        if isinstance(value, int) and (value in self.users or value in self.chats):
            return value
        return None

    def _resolve_chat(self, value: Any) -> int:
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        chat_id = self._find_chat_id(value)
        if chat_id is None:
            raise bad_request("chat not found")
        return chat_id

    def _int_param(self, p: JSON, key: str) -> int | None:
        value = p.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise bad_request(f"invalid {key} specified")
        if isinstance(value, int):
            return value
        try:
            return int(str(value))
        except ValueError:
            raise bad_request(f"invalid {key} specified") from None

    def _lookup(self, chat_id: int, message_id: Any) -> StoredMessage | None:
        if not isinstance(message_id, int):
            return None
        stored = self._messages.get(chat_id, {}).get(message_id)
        if stored is None or stored.deleted:
            return None
        return stored

    def _wake(self, wakers: set[asyncio.Future[None]]) -> None:
        for fut in list(wakers):
            if not fut.done():
                fut.set_result(None)

    def _changed(self) -> None:
        """Something a watcher shows changed (a deletion, a pin, a chat action)."""
        self._seq += 1
        self._wake(self._message_wakers)

    def _touch(self, stored: StoredMessage) -> None:
        self._seq += 1
        stored.touched = self._seq
        self._wake(self._message_wakers)

    def _store(
        self, chat_id: int, content: JSON, *, from_bot: bool, user: FakeUser | None = None
    ) -> StoredMessage:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        chat = self._chat_dict(chat_id)
        msg: JSON = {"message_id": message_id}
        if from_bot:
            self.chat_actions.pop(chat_id, None)  # a message from the bot ends its action
            if chat["type"] == "channel":
                msg["sender_chat"] = chat
            else:
                msg["from"] = self._bot_user()
        elif user is not None:
            msg["from"] = user.as_dict()
        msg["chat"] = chat
        msg["date"] = int(time.time())
        msg.update({k: v for k, v in content.items() if v is not None})
        stored = StoredMessage(msg=msg, from_bot=from_bot)
        self._messages.setdefault(chat_id, {})[message_id] = stored
        self._touch(stored)
        return stored

    def _enqueue(self, kind: str, payload: JSON) -> JSON:
        update = {"update_id": self._next_update_id, kind: copy.deepcopy(payload)}
        self._next_update_id += 1
        self._updates.append(update)
        self._wake(self._update_wakers)
        return copy.deepcopy(update)

    # -------------------------------------------------------------- permissions

    def _check_can_send(self, chat_id: int, what: str) -> None:
        if chat_id in self.users:
            if chat_id in self.blocked:
                raise forbidden("bot was blocked by the user")
            if self.users[chat_id].is_bot:
                raise forbidden("bot can't send messages to bots")
            return
        chat = self.chats[chat_id]
        if chat.bot_status == "kicked":
            raise forbidden(f"bot was kicked from the {chat.type} chat")
        if chat.bot_status == "left":
            raise forbidden(f"bot is not a member of the {chat.type} chat")
        if chat.type == "channel":
            if chat.bot_status not in ("administrator", "creator") or not chat.bot_can_post:
                raise bad_request("need administrator rights in the channel chat")
        elif not chat.bot_can_post:
            raise bad_request(f"not enough rights to send {_RIGHTS_NAME[what]} to the chat")

    def _bot_may(self, chat: FakeChat, right: str) -> bool:
        """Whether the bot holds an administrator right (``can_pin_messages``...) in the chat,
        as getChatMember reports it: a creator holds every right, a member none."""
        if chat.bot_status == "creator":
            return True
        if chat.bot_status != "administrator":
            return False
        if right in chat.bot_rights:
            return chat.bot_rights[right]
        if chat.type == "channel":
            if right in ("can_post_messages", "can_edit_messages"):
                return chat.bot_can_post
            return right == "can_delete_messages"
        return right in ("can_pin_messages", "can_delete_messages")

    def _rate_limit(self, chat_id: int, count: int = 1) -> None:
        """Flood control: ~1 msg/s per private chat, 20/min per group, 30/s overall."""
        if not self.enforce_rate_limits:
            return
        now = self.clock()
        private = chat_id in self.users
        bucket = self._chat_buckets.get(chat_id)
        if bucket is None:
            bucket = TokenBucket(3, 1.0, now) if private else TokenBucket(20, 20 / 60, now)
            self._chat_buckets[chat_id] = bucket
        if self._global_bucket is None:
            self._global_bucket = TokenBucket(30, 30.0, now)
        chat_count = 1 if private else count  # an album is one burst in a private chat
        wait = max(bucket.wait_time(now, chat_count), self._global_bucket.wait_time(now, count))
        if wait > 0:
            self.rate_limited_count += 1
            raise too_many_requests(retry_after_seconds(wait))
        bucket.take(chat_count)
        self._global_bucket.take(count)

    # ------------------------------------------------------------------ markup

    def _markup(self, value: Any) -> JSON | None:
        """Validate ``reply_markup``; returns the inline keyboard that messages carry."""
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise bad_request("can't parse reply keyboard markup JSON object") from None
        if not isinstance(value, dict):
            raise bad_request("object expected as reply markup")
        if "inline_keyboard" in value:
            rows = value["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise bad_request(
                    'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
                )
            clean: list[list[JSON]] = []
            for row in rows:
                for button in row:
                    self._check_inline_button(button)
                if row:
                    clean.append([dict(button) for button in row])
            return {"inline_keyboard": clean} if clean else None
        if any(key in value for key in ("keyboard", "remove_keyboard", "force_reply")):
            if "keyboard" in value and not isinstance(value["keyboard"], list):
                raise bad_request(
                    'field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays'
                )
            return None
        raise bad_request("can't parse reply keyboard markup JSON object")

    @staticmethod
    def _check_inline_button(button: Any) -> None:
        prefix = "can't parse inline keyboard button: "
        if not isinstance(button, dict):
            raise bad_request(prefix + "InlineKeyboardButton must be an Object")
        if "text" not in button:
            raise bad_request(prefix + 'Can\'t find field "text"')
        if not isinstance(button["text"], str):
            raise bad_request(prefix + 'Field "text" must be of type String')
        if not any(key in button for key in INLINE_BUTTON_ACTIONS):
            raise bad_request(prefix + "Text buttons are unallowed in the inline keyboard")
        if "callback_data" in button:
            data = button["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT:
                raise bad_request("BUTTON_DATA_INVALID")
        if "url" in button:
            url = button["url"]
            if not isinstance(url, str) or not url.strip() or any(c.isspace() for c in url):
                raise bad_request("BUTTON_URL_INVALID")

    def _remember_keyboard(self, chat_id: int, value: Any) -> None:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return
        if not isinstance(value, dict):
            return
        if "keyboard" in value:
            self._reply_keyboards[chat_id] = copy.deepcopy(value)
        elif "remove_keyboard" in value:
            self._reply_keyboards.pop(chat_id, None)

    def _reply_to(self, chat_id: int, p: JSON) -> JSON:
        params = p.get("reply_parameters")
        if isinstance(params, dict):
            message_id = params.get("message_id")
            allow = bool(params.get("allow_sending_without_reply"))
            target = params.get("chat_id")
            if target is not None:
                chat_id = self._resolve_chat(target)
        elif p.get("reply_to_message_id") is not None:
            message_id = p.get("reply_to_message_id")
            allow = bool(p.get("allow_sending_without_reply"))
        else:
            return {}
        stored = self._lookup(chat_id, message_id)
        if stored is None:
            if allow:
                return {}
            raise bad_request("message to be replied not found")
        replied = copy.deepcopy(stored.msg)
        replied.pop("reply_to_message", None)
        return {"reply_to_message": replied}

    def _text(self, p: JSON, *, key: str = "text") -> tuple[str, list[JSON]]:
        raw = p.get(key)
        if key == "text":
            return format_text(
                "" if raw is None else str(raw),
                p.get("parse_mode"),
                p.get("entities"),
                limit=TEXT_LIMIT,
                too_long="message is too long",
                empty="message text is empty",
            )
        return format_text(
            "" if raw is None else str(raw),
            p.get("parse_mode"),
            p.get("caption_entities"),
            limit=CAPTION_LIMIT,
            too_long="message caption is too long",
            empty=None,
        )
