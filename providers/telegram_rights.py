"""What the bot may do in a Telegram channel or group, read from getChatMember.

The Bot API's rules, as its docs state them:

- pinChatMessage: "the bot must be an administrator in the chat for this to work and must
  have the 'can_pin_messages' administrator right in a supergroup or 'can_edit_messages'
  administrator right in a channel" (pins never notify anyone in a channel);
- deleteMessage: "A message can only be deleted if it was sent less than 48 hours ago ...
  Bots granted can_post_messages permissions can delete outgoing messages in channels ...
  If the bot has can_delete_messages administrator right in a supergroup or a channel, it
  can delete any message there."

`verify` stores `ChatRights.to_config()` in the account config as "rights", so `validate`
can check pin and delete-after without I/O; `TelegramChannelProvider.rights(account)` (and
`validate_live`) read them afresh at compose time, since an admin may change them any time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

#: How long the bot may delete its own posts without the "Delete messages" right.
OWN_DELETE_WINDOW = timedelta(hours=48)


@dataclass(frozen=True, kw_only=True)
class ChatRights:
    """The bot's standing in one chat."""

    #: The bot's ChatMember status: creator, administrator, member, restricted, left, kicked.
    status: str
    #: channel, supergroup or group.
    chat_type: str
    #: May publish there.
    can_post: bool
    #: May pin: "can_edit_messages" in a channel, "can_pin_messages" in a group.
    can_pin: bool
    #: May delete any message at any age ("can_delete_messages"); without it, only its own
    #: messages within `OWN_DELETE_WINDOW` of sending them.
    can_delete_any: bool

    def can_delete_after(self, delay: timedelta) -> bool:
        """Whether the bot will still be allowed to delete its post `delay` after sending it."""
        if self.can_delete_any:
            return True
        return self.can_post and delay < OWN_DELETE_WINDOW

    @classmethod
    def from_member(cls, chat_type: str, member: Mapping[str, Any]) -> ChatRights:
        """From the bot's ChatMember (getChatMember)."""
        status = str(member.get("status") or "left")
        creator = status == "creator"
        admin = status == "administrator"
        if chat_type == "channel":
            can_post = creator or (admin and bool(member.get("can_post_messages")))
            can_pin = creator or (admin and bool(member.get("can_edit_messages")))
        else:
            can_post = status in ("creator", "administrator", "member") or (
                status == "restricted" and bool(member.get("can_send_messages"))
            )
            can_pin = creator or (admin and bool(member.get("can_pin_messages")))
        can_delete_any = creator or (admin and bool(member.get("can_delete_messages")))
        return cls(
            status=status,
            chat_type=chat_type,
            can_post=can_post,
            can_pin=can_pin,
            can_delete_any=can_delete_any,
        )

    def to_config(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_config(cls, value: object) -> ChatRights | None:
        """What `to_config` stored; None when nothing (usable) was stored."""
        if not isinstance(value, Mapping):
            return None
        try:
            return cls(
                status=str(value["status"]),
                chat_type=str(value["chat_type"]),
                can_post=bool(value["can_post"]),
                can_pin=bool(value["can_pin"]),
                can_delete_any=bool(value["can_delete_any"]),
            )
        except KeyError:
            return None


def pin_right(chat_type: str) -> str:
    """The admin right pinning needs, as Telegram's apps name it."""
    return "Edit messages of others" if chat_type == "channel" else "Pin messages"


def delete_right(chat_type: str) -> str:
    """The admin right deleting any message needs, as Telegram's apps name it."""
    return "Delete messages of others" if chat_type == "channel" else "Delete messages"


def missing_post_rights(kind: str, member: Mapping[str, Any]) -> str | None:
    """What the user must change before the bot can post there; None when it can."""
    status = member.get("status")
    if kind == "channel":
        if status == "creator":
            return None
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
