"""Message methods of the Telegram Bot API emulator: send, edit, delete, copy.

Each ``api_<methodName>`` takes the decoded parameters and the uploaded multipart files and
returns the call's ``result`` or raises :class:`ApiError` with Telegram's error shape.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from bot.demo.emulator.core import (
    ALBUM_LIMIT,
    CONTENT_FIELDS,
    DELETE_WINDOW,
    NOT_MODIFIED,
    QUERY_INVALID,
    StoredMessage,
)
from bot.demo.emulator.files import FileStore
from bot.demo.emulator.world import JSON, Upload, bad_request


class MessageMethods(FileStore):
    """sendMessage/sendPhoto/.../sendMediaGroup, forward/copy, edits, deletes, callbacks."""

    # ---------------------------------------------------------------- sending

    def _send(self, chat_id: int, content: JSON, p: JSON, what: str, *, count: int = 1) -> JSON:
        """Common tail of every send method: rights, replies, flood control, storage."""
        markup = self._markup(p.get("reply_markup"))
        self._check_can_send(chat_id, what)
        reply = self._reply_to(chat_id, p)
        self._rate_limit(chat_id, count)
        if p.get("has_spoiler"):
            content["has_media_spoiler"] = True
        if p.get("show_caption_above_media"):
            content["show_caption_above_media"] = True
        if p.get("protect_content"):
            content["has_protected_content"] = True
        stored = self._store(chat_id, {**reply, **content, "reply_markup": markup}, from_bot=True)
        self._remember_keyboard(chat_id, p.get("reply_markup"))
        return copy.deepcopy(stored.msg)

    @staticmethod
    def _text_content(text: str, entities: list[JSON], *, caption: bool = False) -> JSON:
        if caption:
            return {"caption": text or None, "caption_entities": entities or None}
        return {"text": text, "entities": entities or None}

    def api_sendMessage(self, p: JSON, files: dict[str, Upload]) -> Any:
        text, entities = self._text(p)
        chat_id = self._resolve_chat(p.get("chat_id"))
        content = self._text_content(text, entities)
        link_preview = p.get("link_preview_options")
        if isinstance(link_preview, dict) and link_preview:
            content["link_preview_options"] = link_preview
        return self._send(chat_id, content, p, "text")

    def _send_media(self, p: JSON, files: dict[str, Upload], kind: str) -> JSON:
        caption, entities = self._text(p, key="caption")
        chat_id = self._resolve_chat(p.get("chat_id"))
        media = self._input_file(p.get(kind, files.get(kind)), files, kind, p)
        content = {**media, **self._text_content(caption, entities, caption=True)}
        return self._send(chat_id, content, p, kind)

    def api_sendPhoto(self, p: JSON, files: dict[str, Upload]) -> Any:
        return self._send_media(p, files, "photo")

    def api_sendVideo(self, p: JSON, files: dict[str, Upload]) -> Any:
        return self._send_media(p, files, "video")

    def api_sendDocument(self, p: JSON, files: dict[str, Upload]) -> Any:
        return self._send_media(p, files, "document")

    def api_sendAnimation(self, p: JSON, files: dict[str, Upload]) -> Any:
        return self._send_media(p, files, "animation")

    def api_sendAudio(self, p: JSON, files: dict[str, Upload]) -> Any:
        return self._send_media(p, files, "audio")

    def api_sendMediaGroup(self, p: JSON, files: dict[str, Upload]) -> Any:
        media = p.get("media")
        if media is None:
            raise bad_request('parameter "media" is required')
        if not isinstance(media, list):
            raise bad_request("can't parse media JSON object")
        chat_id = self._resolve_chat(p.get("chat_id"))
        if not media:
            raise bad_request("there are no messages to send")
        if len(media) > ALBUM_LIMIT:
            raise bad_request("too many messages to send as an album")
        kinds = []
        for item in media:
            if not isinstance(item, dict):
                raise bad_request("can't parse InputMedia JSON object")
            kind = item.get("type")
            if kind not in ("photo", "video", "document", "audio"):
                raise bad_request(f'can\'t parse InputMedia: unsupported media type "{kind}"')
            kinds.append(kind)
        for lonely in ("document", "audio"):
            if lonely in kinds and any(kind != lonely for kind in kinds):
                raise bad_request(f"{lonely} can't be mixed with other media types")
        contents = []
        for item, kind in zip(media, kinds, strict=True):
            caption, entities = self._text(item, key="caption")
            content = {
                **self._input_file(item.get("media"), files, kind, item),
                **self._text_content(caption, entities, caption=True),
            }
            if item.get("has_spoiler"):
                content["has_media_spoiler"] = True
            contents.append(content)
        self._check_can_send(chat_id, kinds[0])
        reply = self._reply_to(chat_id, p)
        self._rate_limit(chat_id, len(contents))
        self._media_group_counter += 1
        group_id = str(13_000_000_000_000_000 + self._media_group_counter)
        sent = []
        for content in contents:
            if p.get("protect_content"):
                content["has_protected_content"] = True
            stored = self._store(
                chat_id, {**reply, **content, "media_group_id": group_id}, from_bot=True
            )
            sent.append(copy.deepcopy(stored.msg))
        return sent

    def _copy_source(self, p: JSON, verb: str) -> tuple[int, StoredMessage]:
        source_chat = self._resolve_chat(p.get("from_chat_id"))
        stored = self._lookup(source_chat, self._int_param(p, "message_id"))
        if stored is None:
            raise bad_request(f"message to {verb} not found")
        return source_chat, stored

    @staticmethod
    def _what(content: JSON) -> str:
        kinds = ("photo", "video", "animation", "audio", "document")
        return next((kind for kind in kinds if kind in content), "text")

    def api_forwardMessage(self, p: JSON, files: dict[str, Upload]) -> Any:
        _, stored = self._copy_source(p, "forward")
        chat_id = self._resolve_chat(p.get("chat_id"))
        source = stored.msg
        if "sender_chat" in source and source["chat"]["type"] == "channel":
            origin: JSON = {
                "type": "channel",
                "chat": source["chat"],
                "message_id": source["message_id"],
                "date": source["date"],
            }
        else:
            origin = {"type": "user", "sender_user": source.get("from"), "date": source["date"]}
        content = {k: copy.deepcopy(source[k]) for k in CONTENT_FIELDS if k in source}
        content = {"forward_origin": origin, **content}
        return self._send(chat_id, content, {**p, "reply_markup": None}, self._what(content))

    def api_copyMessage(self, p: JSON, files: dict[str, Upload]) -> Any:
        _, stored = self._copy_source(p, "copy")
        chat_id = self._resolve_chat(p.get("chat_id"))
        source = stored.msg
        content = {k: copy.deepcopy(source[k]) for k in CONTENT_FIELDS if k in source}
        if "caption" in p and "text" not in content:
            caption, entities = self._text(p, key="caption")
            content.pop("caption", None)
            content.pop("caption_entities", None)
            content.update(self._text_content(caption, entities, caption=True))
        sent = self._send(chat_id, content, p, self._what(content))
        return {"message_id": sent["message_id"]}

    # ---------------------------------------------------------------- editing

    def _edit_target(self, p: JSON) -> tuple[int, StoredMessage]:
        if p.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat_id = self._resolve_chat(p.get("chat_id"))
        message_id = self._int_param(p, "message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        stored = self._lookup(chat_id, message_id)
        if stored is None:
            raise bad_request("message to edit not found")
        if not stored.from_bot:
            raise bad_request("message can't be edited")
        return chat_id, stored

    def _apply_edit(self, stored: StoredMessage, changes: JSON) -> JSON:
        msg = stored.msg
        if all(msg.get(key) == value for key, value in changes.items()):
            raise bad_request(NOT_MODIFIED)
        for key, value in changes.items():
            if value is None:
                msg.pop(key, None)
            else:
                msg[key] = value
        msg["edit_date"] = int(time.time())
        self._touch(stored)
        return copy.deepcopy(msg)

    def api_editMessageText(self, p: JSON, files: dict[str, Upload]) -> Any:
        text, entities = self._text(p)
        _, stored = self._edit_target(p)
        if "text" not in stored.msg:
            raise bad_request("there is no text in the message to edit")
        markup = self._markup(p.get("reply_markup"))
        changes = {"text": text, "entities": entities or None, "reply_markup": markup}
        preview = p.get("link_preview_options")
        if isinstance(preview, dict):
            changes["link_preview_options"] = preview or None
        return self._apply_edit(stored, changes)

    def api_editMessageCaption(self, p: JSON, files: dict[str, Upload]) -> Any:
        caption, entities = self._text(p, key="caption")
        _, stored = self._edit_target(p)
        if "text" in stored.msg:
            raise bad_request("there is no caption in the message to edit")
        markup = self._markup(p.get("reply_markup"))
        changes = {
            "caption": caption or None,
            "caption_entities": entities or None,
            "reply_markup": markup,
        }
        return self._apply_edit(stored, changes)

    def api_editMessageReplyMarkup(self, p: JSON, files: dict[str, Upload]) -> Any:
        _, stored = self._edit_target(p)
        return self._apply_edit(stored, {"reply_markup": self._markup(p.get("reply_markup"))})

    def _delete(self, chat_id: int, message_id: Any) -> None:
        """deleteMessage's rules: the bot's own messages within 48 hours; anything, of any
        age, with the "can_delete_messages" right (any message, in a basic group, as admin)."""
        stored = self._lookup(chat_id, message_id)
        if stored is None:
            raise bad_request("message to delete not found")
        if chat_id in self.chats:
            chat = self.chats[chat_id]
            may_delete_any = self._bot_may(chat, "can_delete_messages") or (
                chat.type == "group" and chat.bot_status in ("administrator", "creator")
            )
            recent = time.time() - int(stored.msg.get("date", 0)) < DELETE_WINDOW
            if chat.type == "channel" and not self._bot_may(chat, "can_post_messages"):
                recent = False  # without the posting right, not even its own posts
            if not may_delete_any and not (stored.from_bot and recent):
                raise bad_request("message can't be deleted")
        stored.deleted = True
        self._deleted.setdefault(chat_id, []).append(stored.msg["message_id"])
        self._changed()

    def api_deleteMessage(self, p: JSON, files: dict[str, Upload]) -> Any:
        chat_id = self._resolve_chat(p.get("chat_id"))
        self._delete(chat_id, self._int_param(p, "message_id"))
        return True

    def api_deleteMessages(self, p: JSON, files: dict[str, Upload]) -> Any:
        chat_id = self._resolve_chat(p.get("chat_id"))
        ids = p.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("message_ids must be a non-empty list of at most 100 ids")
        for message_id in ids:
            if self._lookup(chat_id, message_id) is not None:
                self._delete(chat_id, message_id)
        return True

    def api_answerCallbackQuery(self, p: JSON, files: dict[str, Upload]) -> Any:
        query_id = str(p.get("callback_query_id") or "")
        if self._callback_queries.get(query_id, True):
            raise bad_request(QUERY_INVALID)
        if len(str(p.get("text") or "")) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self._callback_queries[query_id] = True
        self.callback_answers.append(copy.deepcopy(p))
        self._changed()
        return True
