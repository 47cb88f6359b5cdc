"""Telegram channels and groups where the bot is an admin, over the Bot API's HTTP interface.

Media the user sent to the bot is re-sent by its Telegram file id (same bot, no upload);
other media is uploaded from the local copy.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from providers.base import (
    AccountRef,
    Limits,
    MediaFile,
    MediaKind,
    PostContent,
    Problem,
    Provider,
    PublishResult,
    TextCounting,
    VerifiedAccount,
    check_limits,
)
from providers.errors import AuthError, PermanentError, ProviderError, RateLimited, TransientError
from providers.http import sanitize, translate_network_errors

PLATFORM = "Telegram"
#: sendPhoto: "The photo's width and height must not exceed 10000 in total. Width and height
#: ratio must be at most 20."
PHOTO_MAX_SIDE_SUM = 10_000
PHOTO_MAX_RATIO = 20.0

_SEND_ONE = {
    MediaKind.PHOTO: "sendPhoto",
    MediaKind.VIDEO: "sendVideo",
    MediaKind.ANIMATION: "sendAnimation",
    MediaKind.DOCUMENT: "sendDocument",
}

#: Descriptions that mean the bot lost its place in the chat: reconnecting fixes them.
_LOST_ACCESS = (
    "chat not found",
    "bot was kicked",
    "bot is not a member",
    "need administrator rights",
    "not enough rights",
    "have no rights",
    "chat_write_forbidden",
)


LIMITS = Limits(
    max_text=4096,
    counting=TextCounting.UTF16,
    max_caption=1024,
    max_media=10,
    max_images=10,
    max_videos=10,
    mixed_media=True,
    mime_types={
        MediaKind.PHOTO: frozenset({"image/jpeg", "image/png", "image/webp"}),
        MediaKind.VIDEO: frozenset({"video/mp4", "video/quicktime", "video/webm"}),
        MediaKind.ANIMATION: frozenset({"image/gif", "video/mp4"}),
        MediaKind.DOCUMENT: frozenset(),
    },
    max_bytes={
        MediaKind.PHOTO: 10 * 1024 * 1024,
        MediaKind.VIDEO: 50 * 1024 * 1024,
        MediaKind.ANIMATION: 50 * 1024 * 1024,
        MediaKind.DOCUMENT: 50 * 1024 * 1024,
    },
    # sendPhoto refuses other photos with PHOTO_INVALID_DIMENSIONS: larger ones are
    # shrunk to fit, a longer panorama is a problem (shrinking keeps its shape).
    max_image_side_sum=PHOTO_MAX_SIDE_SUM,
    image_aspect_ratio=(1 / PHOTO_MAX_RATIO, PHOTO_MAX_RATIO),
    alt_text=False,
    threads=False,
    idempotent_publish=False,
    concurrency=3,
)


class TelegramChannelProvider(Provider):
    platform: ClassVar[str] = "telegram"
    display_name: ClassVar[str] = "Telegram channel"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        token: str,
        api_base_url: str = "https://api.telegram.org/bot",
    ) -> None:
        self._http = http
        self._token = token
        self._base = api_base_url.rstrip("/")
        self.bot_id = int(token.split(":", 1)[0]) if ":" in token else 0
        self.limits = LIMITS

    # -- contract ---------------------------------------------------------------------------

    def validate(self, post: PostContent, account: AccountRef) -> list[Problem]:
        problems = check_limits(self.limits, post, self.display_name)
        if len(post.media) > 1:
            kinds = {m.kind for m in post.media}
            if MediaKind.ANIMATION in kinds:
                problems.append(
                    Problem(
                        code="album_animation",
                        message="Telegram albums can't hold GIFs; send the GIF as its own post.",
                    )
                )
            if MediaKind.DOCUMENT in kinds and kinds != {MediaKind.DOCUMENT}:
                problems.append(
                    Problem(
                        code="album_mixed_documents",
                        message="Telegram albums can't mix files with photos or videos.",
                    )
                )
        return problems

    async def publish(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> PublishResult:
        chat_id = account.config["chat_id"]
        entities = list(post.entities)
        if not post.media:
            params: dict[str, Any] = {"chat_id": chat_id, "text": post.text}
            if entities:
                params["entities"] = entities
            message = await self._call("sendMessage", params)
            return self._result(account, message)
        if len(post.media) == 1:
            item = post.media[0]
            params = {"chat_id": chat_id}
            if post.text:
                params["caption"] = post.text
                if entities:
                    params["caption_entities"] = entities
            files: dict[str, Any] = {}
            params[item.kind.value] = self._input_file(item, "file0", files)
            message = await self._call(_SEND_ONE[item.kind], params, files)
            return self._result(account, message)
        files = {}
        media = []
        for index, item in enumerate(post.media):
            entry: dict[str, Any] = {
                "type": item.kind.value,
                "media": self._input_file(item, f"file{index}", files),
            }
            if index == 0 and post.text:
                entry["caption"] = post.text
                if entities:
                    entry["caption_entities"] = entities
            media.append(entry)
        messages = await self._call(
            "sendMediaGroup", {"chat_id": chat_id, "media": json.dumps(media)}, files
        )
        return self._result(account, messages[0])

    async def verify(self, account: AccountRef) -> VerifiedAccount:
        """Check that the chat exists, the bot may post there and the user administers it."""
        # At connect time the user names the chat; later checks use the stored id.
        chat_ref = account.config.get("chat") or account.config["chat_id"]
        user_id = account.config.get("user_id")
        try:
            chat = await self._call("getChat", {"chat_id": chat_ref})
        except ProviderError as exc:
            raise PermanentError(
                f"I can't find {chat_ref}. Add me to the channel as an admin first, "
                "then send its @username again or forward me a post from it."
            ) from exc
        title = chat.get("title") or chat.get("username") or str(chat["id"])
        kind = chat.get("type", "channel")
        me = await self._member(chat["id"], self.bot_id)
        missing = _missing_bot_rights(kind, me)
        if missing:
            raise PermanentError(f"I can't post in {title} yet: {missing}")
        if user_id is not None:
            them = await self._member(chat["id"], int(user_id))
            if them.get("status") not in ("creator", "administrator"):
                raise PermanentError(
                    f"Only an admin of {title} can connect it, and you are not one."
                )
        username = chat.get("username")
        return VerifiedAccount(
            label=f"@{username}" if username else title,
            external_id=str(chat["id"]),
            config={"chat_id": chat["id"], "username": username, "title": title, "type": kind},
        )

    # -- HTTP -------------------------------------------------------------------------------

    async def _member(self, chat_id: int, user_id: int) -> Mapping[str, Any]:
        try:
            member: Mapping[str, Any] = await self._call(
                "getChatMember", {"chat_id": chat_id, "user_id": user_id}
            )
        except (PermanentError, AuthError):
            return {"status": "left"}
        return member

    async def _call(
        self, method: str, params: dict[str, Any], files: dict[str, Any] | None = None
    ) -> Any:
        url = f"{self._base}{self._token}/{method}"
        with translate_network_errors(PLATFORM):
            if files:
                response = await self._http.post(url, data=_form(params), files=files)
            else:
                response = await self._http.post(url, json=params)
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.is_success and body.get("ok"):
            return body["result"]
        raise self._error(response, body)

    def _error(self, response: httpx.Response, body: Mapping[str, Any]) -> ProviderError:
        status = int(body.get("error_code") or response.status_code)
        description = sanitize(
            str(body.get("description") or response.reason_phrase), [self._token]
        )
        parameters = body.get("parameters") or {}
        if status == 429:
            return RateLimited(float(parameters.get("retry_after", 30)), f"Telegram: {description}")
        lowered = description.lower()
        if status in (401, 403) or any(marker in lowered for marker in _LOST_ACCESS):
            return AuthError(
                f"Telegram: {description}. Make sure the bot is still an admin who can post, "
                "then reconnect the channel.",
                http_status=status,
            )
        if status >= 500:
            return TransientError(f"Telegram: {description}", http_status=status)
        return PermanentError(f"Telegram: {description}", http_status=status)

    def _input_file(self, item: MediaFile, name: str, files: dict[str, Any]) -> str:
        if item.telegram_file_id:
            return item.telegram_file_id
        if item.path is None:
            raise PermanentError("A media file of this post is missing.")
        files[name] = (item.file_name or item.path.name, item.path.read_bytes(), item.mime)
        return f"attach://{name}"

    def _result(self, account: AccountRef, message: Mapping[str, Any]) -> PublishResult:
        return PublishResult(
            platform_id=str(message["message_id"]),
            url=message_link(message.get("chat") or {}, int(message["message_id"]), account),
        )


def message_link(chat: Mapping[str, Any], message_id: int, account: AccountRef) -> str | None:
    username = chat.get("username") or account.config.get("username")
    if username:
        return f"https://t.me/{username}/{message_id}"
    chat_id = str(chat.get("id") or account.config.get("chat_id") or "")
    if chat_id.startswith("-100"):
        return f"https://t.me/c/{chat_id[4:]}/{message_id}"
    return None  # basic groups have no message links


def _missing_bot_rights(kind: str, member: Mapping[str, Any]) -> str | None:
    status = member.get("status")
    if kind == "channel":
        if status != "administrator":
            return "make me an admin of the channel with the right to post messages."
        if not member.get("can_post_messages", False):
            return 'give me the "Post messages" right in the channel\'s admin settings.'
        return None
    if status in ("left", "kicked"):
        return "add me to the group first."
    if status == "restricted" and not member.get("can_send_messages", False):
        return "allow me to send messages in the group."
    return None


def _form(params: Mapping[str, Any]) -> dict[str, str]:
    return {
        key: value
        if isinstance(value, str)
        else json.dumps(value)
        if isinstance(value, (dict, list))
        else str(value)
        for key, value in params.items()
    }
