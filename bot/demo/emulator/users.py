"""The world and the users of the Telegram Bot API emulator: what a test does as a person.

``UserActions`` creates users and chats and turns user actions (typing a message, sending
media, forwarding a channel post, pressing an inline button, blocking the bot) into the
updates Telegram would deliver to the bot through getUpdates.
"""

from __future__ import annotations

import time

from bot.demo.emulator.core import StoredMessage
from bot.demo.emulator.methods import BotApiMethods
from bot.demo.emulator.text import detect_entities
from bot.demo.emulator.world import JSON, FakeChat, FakeUser


def describe_message(msg: JSON) -> str:
    kind = next((k for k in ("photo", "video", "animation", "document", "audio") if k in msg), None)
    body = msg.get("text") if "text" in msg else msg.get("caption")
    parts = [f"#{msg['message_id']}"]
    if kind:
        parts.append(f"[{kind}]")
    parts.append(repr(body if body is not None else ""))
    markup = msg.get("reply_markup", {}).get("inline_keyboard")
    if markup:
        parts.append("buttons=" + repr([b.get("text") for row in markup for b in row]))
    if "edit_date" in msg:
        parts.append("(edited)")
    return " ".join(parts)


class UserActions(BotApiMethods):
    """Users, chats and the things users do; every action enqueues an Update."""

    _callback_counter: int

    # ------------------------------------------------------------------- world

    def add_user(
        self,
        user_id: int,
        first_name: str = "Alice",
        username: str | None = None,
        language_code: str = "en",
    ) -> FakeUser:
        """A user who has started the bot; their private chat id equals ``user_id``."""
        user = FakeUser(user_id, first_name, username, language_code)
        self.users[user_id] = user
        return user

    def add_channel(
        self,
        chat_id: int,
        title: str,
        username: str | None = None,
        *,
        kind: str = "channel",
        admins: dict[int, str] | None = None,
        bot_status: str = "administrator",
        bot_can_post: bool = True,
        members: set[int] | None = None,
        bot_rights: dict[str, bool] | None = None,
    ) -> FakeChat:
        """A channel/supergroup/group. ``admins`` maps user ids to "creator"/"administrator";
        ``bot_status`` is one of administrator, member, left, kicked; ``bot_rights``
        overrides the bot's administrator rights (``{"can_delete_messages": False}``)."""
        if kind not in ("channel", "supergroup", "group"):
            raise ValueError(f"kind must be channel, supergroup or group, not {kind!r}")
        if bot_status not in ("administrator", "creator", "member", "left", "kicked"):
            raise ValueError(f"unsupported bot_status {bot_status!r}")
        for user_id in admins or {}:
            if user_id not in self.users:
                self.add_user(user_id, f"Admin {user_id}")
        chat = FakeChat(
            id=chat_id,
            title=title,
            username=username,
            type=kind,
            admins=dict(admins or {}),
            members=set(members or set()),
            bot_status=bot_status,
            bot_can_post=bot_can_post,
            bot_rights=dict(bot_rights or {}),
        )
        self.chats[chat_id] = chat
        return chat

    def _user(self, user: FakeUser | int) -> FakeUser:
        user_id = user.id if isinstance(user, FakeUser) else user
        if user_id not in self.users:
            raise KeyError(f"unknown user {user_id}; call add_user() first")
        return self.users[user_id]

    def _chat_id(self, chat: FakeChat | FakeUser | int | str) -> int:
        if isinstance(chat, FakeChat | FakeUser):
            return chat.id
        found = self._find_chat_id(chat)
        if found is None:
            if isinstance(chat, int):
                return chat
            raise KeyError(f"unknown chat {chat!r}")
        return found

    def _my_chat_member(self, user: FakeUser, old: str, new: str) -> None:
        bot = self._bot_user()

        def member(status: str) -> JSON:
            # Telegram always sends until_date for a "kicked" (banned) member; 0 = forever.
            return {
                "user": bot,
                "status": status,
                **({"until_date": 0} if status == "kicked" else {}),
            }

        self._enqueue(
            "my_chat_member",
            {
                "chat": user.chat_dict(),
                "from": user.as_dict(),
                "date": int(time.time()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )

    def block_bot(self, user_id: int) -> None:
        """The user blocks the bot: sends to them now fail with 403 (and the bot gets a
        ``my_chat_member`` update, as from Telegram)."""
        user = self._user(user_id)
        if user.id not in self.blocked:
            self.blocked.add(user.id)
            self._my_chat_member(user, "member", "kicked")

    def unblock_bot(self, user_id: int) -> None:
        user = self._user(user_id)
        if user.id in self.blocked:
            self.blocked.discard(user.id)
            self._my_chat_member(user, "kicked", "member")

    def add_file(
        self,
        data: bytes,
        *,
        file_size: int | None = None,
        kind: str = "document",
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> tuple[str, str]:
        """Register a file Telegram knows; returns ``(file_id, file_unique_id)``."""
        if kind == "photo":
            sizes = self._photo_set(data, size=file_size)
            return sizes[-1]["file_id"], sizes[-1]["file_unique_id"]
        stored = self._new_file(
            kind,
            data=data,
            size=file_size if file_size is not None else len(data),
            file_name=file_name,
            mime_type=mime_type,
        )
        return stored.file_id, stored.file_unique_id

    def file_bytes(self, file_id: str) -> bytes:
        stored = self.files.get(file_id)
        if stored is None:
            raise KeyError(f"unknown file_id {file_id!r}")
        if stored.data is None:
            raise ValueError(f"file {file_id!r} was sent by URL ({stored.url}); no bytes stored")
        return stored.data

    # ------------------------------------------------------------ user actions

    def _user_message(self, user: FakeUser | int, content: JSON) -> JSON:
        sender = self._user(user)
        self.unblock_bot(sender.id)  # writing to a bot you blocked requires unblocking it
        stored = self._store(sender.id, content, from_bot=False, user=sender)
        return self._enqueue("message", stored.msg)

    @staticmethod
    def _caption(caption: str | None, entities: list[JSON] | None = None) -> JSON:
        """A caption with the formatting the person gave it, or what Telegram detects."""
        if not caption:
            return {}
        found = entities if entities is not None else detect_entities(caption)
        return {"caption": caption, "caption_entities": found or None}

    def send_message(self, user: FakeUser | int, content: JSON) -> JSON:
        """The user sends a message with these Bot API ``Message`` fields as they are: text
        with chosen ``entities`` (formatting), a ``forward_origin``, and so on."""
        return self._user_message(user, content)

    def send_location(self, user: FakeUser | int, latitude: float, longitude: float) -> JSON:
        """The user shares a location (📎 → Location, or a reply keyboard's request button)."""
        return self._user_message(
            user, {"location": {"latitude": latitude, "longitude": longitude}}
        )

    def send_text(self, user: FakeUser | int, text: str) -> JSON:
        """The user sends ``text``; commands, URLs, mentions and hashtags get entities."""
        return self._user_message(user, {"text": text, "entities": detect_entities(text) or None})

    def send_photo(
        self,
        user: FakeUser | int,
        data: bytes,
        *,
        caption: str | None = None,
        caption_entities: list[JSON] | None = None,
        media_group_id: str | None = None,
        width: int = 1280,
        height: int = 960,
        file_size: int | None = None,
    ) -> JSON:
        sizes = self._photo_set(data, width=width, height=height, size=file_size)
        content = {
            "media_group_id": media_group_id,
            "photo": sizes,
            **self._caption(caption, caption_entities),
        }
        return self._user_message(user, content)

    def send_video(
        self,
        user: FakeUser | int,
        data: bytes,
        *,
        caption: str | None = None,
        caption_entities: list[JSON] | None = None,
        media_group_id: str | None = None,
        width: int = 1280,
        height: int = 720,
        duration: int = 5,
        mime_type: str = "video/mp4",
        file_name: str = "video.mp4",
        file_size: int | None = None,
    ) -> JSON:
        stored = self._new_file(
            "video",
            data=data,
            size=file_size if file_size is not None else len(data),
            width=width,
            height=height,
            duration=duration,
            mime_type=mime_type,
            file_name=file_name,
        )
        content = {
            "media_group_id": media_group_id,
            "video": stored.as_media("video"),
            **self._caption(caption, caption_entities),
        }
        return self._user_message(user, content)

    def send_document(
        self,
        user: FakeUser | int,
        data: bytes,
        *,
        file_name: str,
        mime_type: str,
        caption: str | None = None,
        caption_entities: list[JSON] | None = None,
        media_group_id: str | None = None,
        file_size: int | None = None,
    ) -> JSON:
        stored = self._new_file(
            "document",
            data=data,
            size=file_size if file_size is not None else len(data),
            file_name=file_name,
            mime_type=mime_type,
        )
        content = {
            "media_group_id": media_group_id,
            "document": stored.as_media("document"),
            **self._caption(caption, caption_entities),
        }
        return self._user_message(user, content)

    def send_animation(
        self,
        user: FakeUser | int,
        data: bytes,
        *,
        caption: str | None = None,
        width: int = 320,
        height: int = 240,
        duration: int = 2,
        file_size: int | None = None,
    ) -> JSON:
        stored = self._new_file(
            "animation",
            data=data,
            size=file_size if file_size is not None else len(data),
            width=width,
            height=height,
            duration=duration,
            mime_type="video/mp4",
            file_name="animation.mp4",
        )
        return self._user_message(
            user, {**self._media_content("animation", stored), **self._caption(caption)}
        )

    def send_album(
        self, user: FakeUser | int, photos: list[bytes], *, caption: str | None = None
    ) -> list[JSON]:
        """Several photo messages sharing one media_group_id; the caption goes on the first."""
        group_id = self.new_media_group_id()
        return [
            self.send_photo(
                user, data, caption=caption if index == 0 else None, media_group_id=group_id
            )
            for index, data in enumerate(photos)
        ]

    def new_media_group_id(self) -> str:
        """The media_group_id of a new album (its messages arrive one by one, sharing it)."""
        self._media_group_counter += 1
        return str(13_000_000_000_000_000 + self._media_group_counter)

    def forward_from_channel(
        self,
        user: FakeUser | int,
        chat: FakeChat | int,
        *,
        text: str | None = None,
        message_id: int = 77,
    ) -> JSON:
        """The user forwards a post of ``chat`` to the bot (Bot API 7 ``forward_origin``)."""
        chat_id = chat.id if isinstance(chat, FakeChat) else chat
        if chat_id not in self.chats:
            raise KeyError(f"unknown channel {chat_id}; call add_channel() first")
        channel = self.chats[chat_id]
        text = text if text is not None else f"Post from {channel.title}"
        origin = {
            "type": "channel",
            "chat": channel.as_dict(),
            "message_id": message_id,
            "date": int(time.time()) - 60,
        }
        return self._user_message(
            user,
            {"forward_origin": origin, "text": text, "entities": detect_entities(text) or None},
        )

    def _current(self, message: JSON) -> StoredMessage:
        chat_id = message["chat"]["id"]
        message_id = message["message_id"]
        stored = self._messages.get(chat_id, {}).get(message_id)
        if stored is None:
            raise AssertionError(f"message {message_id} does not exist in chat {chat_id}")
        if stored.deleted:
            raise AssertionError(f"message {message_id} in chat {chat_id} was deleted")
        return stored

    def _callback(self, user: FakeUser | int, stored: StoredMessage, data: str) -> JSON:
        presser = self._user(user)
        self._callback_counter += 1
        query_id = str(4_000_000_000_000_000_000 + self._callback_counter * 7919)
        self._callback_queries[query_id] = False
        chat_id = stored.msg["chat"]["id"]
        return self._enqueue(
            "callback_query",
            {
                "id": query_id,
                "from": presser.as_dict(),
                "message": stored.msg,
                "chat_instance": str(abs(chat_id) * 1_000_003 % 10**19),
                "data": data,
            },
        )

    def press(self, user: FakeUser | int, message: JSON, button: str) -> JSON:
        """Press the inline button labelled ``button`` (or with that callback_data) on the
        message's *current* keyboard; returns the enqueued callback_query update."""
        stored = self._current(message)
        rows = stored.msg.get("reply_markup", {}).get("inline_keyboard", [])
        buttons = [b for row in rows for b in row]
        match = next((b for b in buttons if b.get("text") == button), None)
        if match is None:
            match = next((b for b in buttons if b.get("callback_data") == button), None)
        if match is None:
            available = [(b.get("text"), b.get("callback_data")) for b in buttons]
            raise AssertionError(
                f"no button {button!r} on message {stored.msg['message_id']} "
                f"({describe_message(stored.msg)}); available (text, callback_data): {available}"
            )
        if "callback_data" not in match:
            raise AssertionError(f"button {button!r} is not a callback button: {match}")
        return self._callback(user, stored, match["callback_data"])

    def press_data(self, user: FakeUser | int, message: JSON, data: str) -> JSON:
        """Send a callback_query with arbitrary (possibly forged) ``data`` for ``message``."""
        return self._callback(user, self._current(message), data)
