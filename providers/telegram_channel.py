"""Telegram channels and groups where the bot is an admin, over the Bot API's HTTP interface.

Media the user sent to the bot is re-sent by its Telegram file id (same bot, no upload);
other media is uploaded from the local copy.

Per-post options (`PostContent.telegram`, see providers/telegram_options.py) and URL buttons
(`PostContent.buttons`) become Bot API parameters: `disable_notification`,
`protect_content`, `has_spoiler` (photos, videos, GIFs), `link_preview_options` (text posts),
`reply_markup` (an inline keyboard of URL buttons), then `pinChatMessage` on the post's first
message. An album can't carry buttons: they go as a short message right under it, or are
dropped (`TelegramOptions.album_buttons`). Once the post is out, a refused pin or buttons
message is a note on the result, never a failure (failing would publish the post again).

`PublishResult.ref` holds {"chat_id", "message_ids" (every message, an album's in order),
"kind" ("text", "media" or "album"), "buttons_message_id" (or None), "parts": 1}: what
`delete` (deleteMessage(s), the buttons message too) and `edit` (editMessageText, or
editMessageCaption, and editMessageReplyMarkup) need. Telegram has no way to read a
channel's history, so `lookup` can't settle an unknown outcome: it answers None.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar

import httpx

from providers.base import (
    AccountOption,
    AccountRef,
    AfterPublish,
    AlbumButtons,
    Limits,
    LinkPreview,
    MediaFile,
    MediaKind,
    PostContent,
    Problem,
    Provider,
    PublishResult,
    Severity,
    TelegramOptions,
    TextCounting,
    VerifiedAccount,
    check_limits,
)
from providers.errors import AuthError, PermanentError, ProviderError, RateLimited, TransientError
from providers.http import safe_to_repeat, sanitize, translate_network_errors
from providers.telegram_buttons import button_problems, inline_keyboard
from providers.telegram_rights import (
    OWN_DELETE_WINDOW,
    ChatRights,
    delete_right,
    missing_post_rights,
    pin_right,
)

PLATFORM = "Telegram"
#: sendPhoto: "The photo's width and height must not exceed 10000 in total. Width and height
#: ratio must be at most 20."
PHOTO_MAX_SIDE_SUM = 10_000
PHOTO_MAX_RATIO = 20.0
#: Longest wait for Telegram's flood control before a follow-up call (pin, buttons message)
#: is given up as a note: the post itself is already out.
FOLLOW_UP_MAX_WAIT = 5.0

_SEND_ONE = {
    MediaKind.PHOTO: "sendPhoto",
    MediaKind.VIDEO: "sendVideo",
    MediaKind.ANIMATION: "sendAnimation",
    MediaKind.DOCUMENT: "sendDocument",
}
#: What `has_spoiler` can blur.
_SPOILABLE = frozenset({MediaKind.PHOTO, MediaKind.VIDEO, MediaKind.ANIMATION})

#: Descriptions that mean the bot lost its place in the chat: reconnecting fixes them.
_GONE = ("chat not found", "bot was kicked", "bot is not a member", "chat_write_forbidden")
#: Descriptions that mean the bot lacks a right: for publishing, reconnecting fixes them; for
#: pinning, deleting and editing, the post is fine and only that action is refused.
_NO_RIGHTS = ("need administrator rights", "not enough rights", "have no rights")
_NOT_MODIFIED = "message is not modified"
_ALREADY_GONE = ("message to delete not found", "message_id_invalid")


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
    url_buttons=True,
    idempotent_publish=False,
    concurrency=3,
)

#: Photos and videos can't be swapped here (editMessageMedia replaces one item at a time and
#: can't change an album's size): changing them is delete and post again.
AFTER_PUBLISH = AfterPublish(
    can_delete=True,
    can_edit_text=True,
    can_edit_media=False,
    can_edit_buttons=True,
    can_lookup=False,
)


#: The account's defaults for each new post (/accounts → ⚙️). The bot reads them (keys
#: "post_" + the post option's name, bot/engine/options/values.py) and fills in
#: `PostContent.telegram` and `delete_after`, over which a post's own choices win.
ACCOUNT_OPTIONS = (
    AccountOption(
        key="post_silent",
        label="Silent posts",
        default=False,
        help="members get new posts without a sound",
    ),
    AccountOption(
        key="post_protect_content",
        label="Protect content",
        default=False,
        help="posts can't be forwarded or saved",
    ),
    AccountOption(
        key="post_spoiler",
        label="Photos and videos as spoilers",
        default=False,
        help="blurred until tapped",
    ),
    AccountOption(
        key="post_link_preview",
        label="Link preview",
        choices=(
            ("auto", "Auto"),
            ("off", "Off"),
            ("small", "Small"),
            ("large", "Large"),
            ("above", "Above the text"),
        ),
        default="auto",
        help="how the first link of a text post is previewed",
    ),
    AccountOption(
        key="post_pin",
        label="Pin new posts",
        choices=(("off", "No"), ("silent", "Silently"), ("notify", "With a notification")),
        default="off",
        help="needs my “Edit messages of others” right in a channel",
    ),
    AccountOption(
        key="post_delete_after",
        label="Delete posts after",
        choices=(
            ("off", "Never"),
            ("1h", "1 hour"),
            ("6h", "6 hours"),
            ("12h", "12 hours"),
            ("24h", "24 hours"),
            ("48h", "48 hours"),
            ("7d", "7 days"),
            ("30d", "30 days"),
        ),
        default="off",
        help="past 48 hours needs my “Delete messages of others” right",
    ),
)


class TelegramChannelProvider(Provider):
    platform: ClassVar[str] = "telegram"
    display_name: ClassVar[str] = "Telegram channel"
    account_options: ClassVar[tuple[AccountOption, ...]] = ACCOUNT_OPTIONS

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        token: str,
        api_base_url: str = "https://api.telegram.org/bot",
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._http = http
        self._token = token
        self._base = api_base_url.rstrip("/")
        self._sleep = sleep
        self.bot_id = int(token.split(":", 1)[0]) if ":" in token else 0
        self.limits = LIMITS
        self.after_publish = AFTER_PUBLISH

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
        problems.extend(_button_problems(post))
        rights = ChatRights.from_config(account.config.get("rights"))
        if rights is not None:
            problems.extend(_rights_problems(post, rights, _title(account)))
        return problems

    async def validate_live(self, post: PostContent, account: AccountRef) -> list[Problem]:
        """The bot's rights as they are now (an admin may have changed them since connect)."""
        try:
            rights = await self.rights(account)
        except ProviderError:
            return []  # Telegram unreachable: validate's stored rights are all we know
        title = _title(account)
        problems: list[Problem] = []
        if not rights.can_post:
            problems.append(
                Problem(
                    code="cannot_post",
                    message=f"I can't post in {title} any more; check that I'm still an admin "
                    "who can post there.",
                )
            )
        problems.extend(_rights_problems(post, rights, title))
        return problems

    async def rights(self, account: AccountRef) -> ChatRights:
        """What the bot may do in the account's chat right now (getChatMember for the bot).
        Compose calls it through `validate_live`; the bot may also store `to_config()` in the
        account config as "rights" to refresh what `validate` checks."""
        chat_id = account.config.get("chat_id") or account.config.get("chat")
        kind = account.config.get("type")
        if not kind:
            chat = await self._call("getChat", {"chat_id": chat_id})
            kind = chat.get("type", "channel")
        member = await self._member(chat_id, self.bot_id)
        return ChatRights.from_member(str(kind), member)

    async def publish(
        self, post: PostContent, account: AccountRef, idempotency_key: str
    ) -> PublishResult:
        chat_id = account.config["chat_id"]
        options = post.telegram
        sending = _sending(options)
        markup = inline_keyboard(post.buttons) if post.buttons else None
        entities = list(post.entities)
        kind = "text"
        if not post.media:
            params: dict[str, Any] = {"chat_id": chat_id, "text": post.text, **sending}
            if entities:
                params["entities"] = entities
            preview = link_preview_options(options)
            if preview:
                params["link_preview_options"] = preview
            if markup:
                params["reply_markup"] = markup
            messages = [await self._call("sendMessage", params)]
        elif len(post.media) == 1:
            kind = "media"
            item = post.media[0]
            params = {"chat_id": chat_id, **sending}
            if post.text:
                params["caption"] = post.text
                if entities:
                    params["caption_entities"] = entities
            if options.spoiler and item.kind in _SPOILABLE:
                params["has_spoiler"] = True
            if markup:
                params["reply_markup"] = markup
            files: dict[str, Any] = {}
            params[item.kind.value] = self._input_file(item, "file0", files)
            messages = [await self._call(_SEND_ONE[item.kind], params, files)]
        else:
            kind = "album"
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
                if options.spoiler and item.kind in _SPOILABLE:
                    entry["has_spoiler"] = True
                media.append(entry)
            messages = await self._call(
                "sendMediaGroup",
                {"chat_id": chat_id, "media": json.dumps(media), **sending},
                files,
            )
        first = messages[0]
        chat_id = (first.get("chat") or {}).get("id", chat_id)
        notes: list[str] = []
        buttons_message_id: int | None = None
        if kind == "album" and markup and options.album_buttons == AlbumButtons.MESSAGE:
            try:
                sent = await self._follow_up(
                    "sendMessage",
                    {
                        "chat_id": chat_id,
                        "text": options.buttons_message_text,
                        "reply_markup": markup,
                        # The album already rang; the buttons under it need not ring again.
                        "disable_notification": True,
                        **({"protect_content": True} if options.protect_content else {}),
                    },
                )
                buttons_message_id = int(sent["message_id"])
            except ProviderError as exc:
                notes.append(f"The album is out, but its buttons could not be sent: {exc.message}")
        if options.pin:
            try:
                await self._follow_up(
                    "pinChatMessage",
                    {
                        "chat_id": chat_id,
                        "message_id": first["message_id"],
                        "disable_notification": not options.pin_notify,
                    },
                )
            except ProviderError as exc:
                notes.append(f"The post is out, but Telegram did not pin it: {exc.message}")
        ref = {
            "chat_id": chat_id,
            "message_ids": [int(m["message_id"]) for m in messages],
            "kind": kind,
            "buttons_message_id": buttons_message_id,
            "parts": 1,
        }
        return self._result(account, first, ref, tuple(notes))

    async def verify(self, account: AccountRef) -> VerifiedAccount:
        """Check that the chat exists, the bot may post there and the user administers it;
        store what the bot may do there (`ChatRights`) for `validate`."""
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
        missing = missing_post_rights(kind, me)
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
            config={
                "chat_id": chat["id"],
                "username": username,
                "title": title,
                "type": kind,
                "rights": ChatRights.from_member(kind, me).to_config(),
            },
        )

    # -- after publishing -------------------------------------------------------------------

    def validate_edit(
        self,
        published: PublishResult,
        post: PostContent,
        account: AccountRef,
        *,
        media_changed: bool = False,
    ) -> list[Problem]:
        problems = super().validate_edit(published, post, account, media_changed=media_changed)
        ref = _Ref.of(published, account, post)
        if media_changed:
            return problems  # the base refuses it: Telegram media are not edited here
        if (ref.kind == "text") != (not post.media) or (
            ref.kind == "album"
            and len(ref.message_ids) > 1
            and len(ref.message_ids) != len(post.media)
        ):
            problems.append(
                Problem(
                    code="media_not_editable",
                    message=(
                        "Telegram can't add, remove or swap the photos and videos of a post "
                        "that is out; delete it and post again."
                    ),
                )
            )
        wants_message = post.buttons and post.telegram.album_buttons == AlbumButtons.MESSAGE
        if ref.kind == "album" and wants_message and ref.buttons_message_id is None:
            problems.append(
                Problem(
                    code="album_buttons_missing",
                    message=(
                        "The album went out without a buttons message, and one sent now would "
                        "land below everything posted since: the buttons will be left out."
                    ),
                    severity=Severity.WARNING,
                )
            )
        return problems

    async def edit(
        self,
        published: PublishResult,
        post: PostContent,
        account: AccountRef,
        *,
        media_changed: bool = False,
    ) -> PublishResult:
        """editMessageText (text posts) or editMessageCaption (media, an album's first
        message), with the new buttons; an album's buttons message is edited with
        editMessageReplyMarkup, or deleted when the buttons are gone."""
        self.ensure_editable(published, post, account, media_changed=media_changed)
        ref = _Ref.of(published, account, post)
        markup = inline_keyboard(post.buttons) if post.buttons else None
        entities = list(post.entities)
        target = {"chat_id": ref.chat_id, "message_id": ref.message_ids[0]}
        if ref.kind == "text":
            params: dict[str, Any] = {**target, "text": post.text}
            if entities:
                params["entities"] = entities
            preview = link_preview_options(post.telegram)
            if preview:
                params["link_preview_options"] = preview
            if markup:
                params["reply_markup"] = markup
            await self._edit_call("editMessageText", params)
        else:
            params = {**target, "caption": post.text}
            if entities and post.text:
                params["caption_entities"] = entities
            if markup and ref.kind == "media":
                params["reply_markup"] = markup
            await self._edit_call("editMessageCaption", params)
        buttons_message_id = ref.buttons_message_id
        if ref.kind == "album" and buttons_message_id is not None:
            keep = markup and post.telegram.album_buttons == AlbumButtons.MESSAGE
            if keep:
                await self._edit_call(
                    "editMessageReplyMarkup",
                    {
                        "chat_id": ref.chat_id,
                        "message_id": buttons_message_id,
                        "reply_markup": markup,
                    },
                )
            else:
                await self._delete_ids(ref.chat_id, [buttons_message_id])
                buttons_message_id = None
        notes: tuple[str, ...] = ()
        if ref.kind == "album" and markup and buttons_message_id is None:
            notes = ("The album's buttons were left out: it went out without a buttons message.",)
        new_ref = {**ref.as_dict(), "buttons_message_id": buttons_message_id}
        return PublishResult(
            platform_id=published.platform_id, url=published.url, ref=new_ref, notes=notes
        )

    async def delete(self, published: PublishResult, account: AccountRef) -> None:
        """deleteMessages for every message of the post (an album's, its buttons message);
        deleteMessage when there is one. Messages already gone count as deleted."""
        ref = _Ref.of(published, account, None)
        ids = [*ref.message_ids]
        if ref.buttons_message_id is not None:
            ids.append(ref.buttons_message_id)
        await self._delete_ids(ref.chat_id, ids)

    async def _delete_ids(self, chat_id: Any, ids: list[int]) -> None:
        try:
            with safe_to_repeat(PLATFORM, "deleting"):
                if len(ids) == 1:
                    await self._call("deleteMessage", {"chat_id": chat_id, "message_id": ids[0]})
                else:
                    await self._call("deleteMessages", {"chat_id": chat_id, "message_ids": ids})
        except PermanentError as exc:
            lowered = exc.message.lower()
            if any(marker in lowered for marker in _ALREADY_GONE):
                return
            if "can't be deleted" in lowered or any(m in lowered for m in _NO_RIGHTS):
                hours = int(OWN_DELETE_WINDOW.total_seconds() // 3600)
                raise PermanentError(
                    f"{exc.message}. Telegram lets a bot delete its own posts only in the first "
                    f"{hours} hours; after that it needs the “Delete messages” admin right.",
                    http_status=exc.http_status,
                ) from exc
            raise

    async def _edit_call(self, method: str, params: dict[str, Any]) -> None:
        try:
            with safe_to_repeat(PLATFORM, "editing"):
                await self._call(method, params)
        except PermanentError as exc:
            if _NOT_MODIFIED in exc.message.lower():
                return  # already as asked: an edit retried, or nothing changed here
            raise

    # -- HTTP -------------------------------------------------------------------------------

    async def _member(self, chat_id: Any, user_id: int) -> Mapping[str, Any]:
        try:
            member: Mapping[str, Any] = await self._call(
                "getChatMember", {"chat_id": chat_id, "user_id": user_id}
            )
        except (PermanentError, AuthError):
            return {"status": "left"}
        return member

    async def _follow_up(self, method: str, params: dict[str, Any]) -> Any:
        """A call after the post is out: waits out a short flood-control pause once."""
        try:
            return await self._call(method, params)
        except RateLimited as exc:
            if exc.retry_after > FOLLOW_UP_MAX_WAIT:
                raise
            await self._sleep(exc.retry_after)
            return await self._call(method, params)

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
        raise self._error(response, body, publishing=method.startswith("send"))

    def _error(
        self, response: httpx.Response, body: Mapping[str, Any], *, publishing: bool
    ) -> ProviderError:
        status = int(body.get("error_code") or response.status_code)
        description = sanitize(
            str(body.get("description") or response.reason_phrase), [self._token]
        )
        parameters = body.get("parameters") or {}
        if status == 429:
            return RateLimited(float(parameters.get("retry_after", 30)), f"Telegram: {description}")
        lowered = description.lower()
        lost = any(marker in lowered for marker in _GONE)
        no_rights = any(marker in lowered for marker in _NO_RIGHTS)
        if status in (401, 403) or lost or (no_rights and publishing):
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

    def _result(
        self,
        account: AccountRef,
        message: Mapping[str, Any],
        ref: Mapping[str, Any],
        notes: tuple[str, ...] = (),
    ) -> PublishResult:
        return PublishResult(
            platform_id=str(message["message_id"]),
            url=message_link(message.get("chat") or {}, int(message["message_id"]), account),
            ref=ref,
            notes=notes,
        )


class _Ref:
    """A published post's ref, read back; results stored before refs existed fall back to
    the first message (`platform_id`) and the account's chat."""

    def __init__(
        self, chat_id: Any, message_ids: list[int], kind: str, buttons_message_id: int | None
    ) -> None:
        self.chat_id = chat_id
        self.message_ids = message_ids
        self.kind = kind
        self.buttons_message_id = buttons_message_id

    @classmethod
    def of(cls, published: PublishResult, account: AccountRef, post: PostContent | None) -> _Ref:
        ref = published.ref
        ids = [int(i) for i in ref.get("message_ids") or ()] or [int(published.platform_id)]
        kind = str(ref.get("kind") or "")
        if not kind:
            count = len(post.media) if post is not None else 0
            kind = "text" if count == 0 else "media" if count == 1 else "album"
        buttons = ref.get("buttons_message_id")
        return cls(
            chat_id=ref.get("chat_id") or account.config["chat_id"],
            message_ids=ids,
            kind=kind,
            buttons_message_id=int(buttons) if buttons is not None else None,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "chat_id": self.chat_id,
            "message_ids": list(self.message_ids),
            "kind": self.kind,
            "buttons_message_id": self.buttons_message_id,
            "parts": 1,
        }


def link_preview_options(options: TelegramOptions) -> dict[str, bool] | None:
    """`link_preview_options` for a text post; None leaves the preview to Telegram."""
    if options.link_preview == LinkPreview.OFF:
        return {"is_disabled": True}
    preview: dict[str, bool] = {}
    if options.link_preview == LinkPreview.SMALL:
        preview["prefer_small_media"] = True
    elif options.link_preview == LinkPreview.LARGE:
        preview["prefer_large_media"] = True
    if options.link_preview_above_text:
        preview["show_above_text"] = True
    return preview or None


def message_link(chat: Mapping[str, Any], message_id: int, account: AccountRef) -> str | None:
    username = chat.get("username") or account.config.get("username")
    if username:
        return f"https://t.me/{username}/{message_id}"
    chat_id = str(chat.get("id") or account.config.get("chat_id") or "")
    if chat_id.startswith("-100"):
        return f"https://t.me/c/{chat_id[4:]}/{message_id}"
    return None  # basic groups have no message links


def _sending(options: TelegramOptions) -> dict[str, bool]:
    """The parameters every send method shares; only those that change something."""
    sending: dict[str, bool] = {}
    if options.silent:
        sending["disable_notification"] = True
    if options.protect_content:
        sending["protect_content"] = True
    return sending


def _button_problems(post: PostContent) -> list[Problem]:
    if not post.buttons:
        return []
    problems = [Problem(code="buttons", message=said) for said in button_problems(post.buttons)]
    if len(post.media) > 1 and post.telegram.album_buttons == AlbumButtons.DROP:
        problems.append(
            Problem(
                code="album_buttons_dropped",
                message="Telegram albums can't carry buttons; they will be left out.",
                severity=Severity.WARNING,
            )
        )
    return problems


def _rights_problems(post: PostContent, rights: ChatRights, title: str) -> list[Problem]:
    problems: list[Problem] = []
    if post.telegram.pin and not rights.can_pin:
        problems.append(
            Problem(
                code="pin_not_allowed",
                message=(
                    f"I can't pin posts in {title}: give me the “{pin_right(rights.chat_type)}” "
                    "admin right, or don't pin this one."
                ),
            )
        )
    delay = post.delete_after
    if delay is not None and not rights.can_delete_after(delay):
        hours = int(OWN_DELETE_WINDOW.total_seconds() // 3600)
        why = (
            f"Telegram lets me delete my own posts only in the first {hours} hours"
            if rights.can_post
            else "I can't post there, so I can't delete either"
        )
        problems.append(
            Problem(
                code="delete_not_allowed",
                message=(
                    f"I won't be able to delete this post from {title} when you asked: {why}. "
                    f"Give me the “{delete_right(rights.chat_type)}” admin right, or pick a "
                    f"time within {hours} hours."
                ),
            )
        )
    return problems


def _title(account: AccountRef) -> str:
    return str(account.config.get("title") or account.label)


def _form(params: Mapping[str, Any]) -> dict[str, str]:
    return {
        key: value
        if isinstance(value, str)
        else json.dumps(value)
        if isinstance(value, (dict, list))
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
        for key, value in params.items()
    }
