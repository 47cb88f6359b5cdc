"""What a post to a Telegram channel or group can ask for beyond its text and media.

Plain data, carried in `PostContent.telegram` (and the URL buttons in `PostContent.buttons`),
read only by `providers.telegram_channel`. Account defaults (/accounts → options) are the
bot's business: it fills these in per post. Each field says which Bot API parameter it
becomes, so what the preview promises is what goes on the wire.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class LinkPreview(enum.StrEnum):
    """How the preview of the first link of a text post is shown (`link_preview_options`).
    Photos, videos and files have no link preview: these apply to text posts only."""

    #: Telegram decides (no `link_preview_options` sent).
    AUTO = "auto"
    #: No preview: `{"is_disabled": true}`.
    OFF = "off"
    #: A small picture: `{"prefer_small_media": true}`.
    SMALL = "small"
    #: A large picture: `{"prefer_large_media": true}`.
    LARGE = "large"


class AlbumButtons(enum.StrEnum):
    """What to do with URL buttons on an album, which Telegram can't attach them to
    (`sendMediaGroup` takes no `reply_markup`)."""

    #: Send them as a short message (`TelegramOptions.buttons_message_text`) right under
    #: the album; deleting or editing the post deletes or edits that message too.
    MESSAGE = "message"
    #: Leave them out (`validate` warns that they will be).
    DROP = "drop"


@dataclass(frozen=True, kw_only=True)
class TelegramOptions:
    """Per-post options of a Telegram target; the defaults change nothing on the wire."""

    #: `disable_notification`: members get the post without a sound.
    silent: bool = False
    #: `protect_content`: the post can't be forwarded or saved.
    protect_content: bool = False
    #: `has_spoiler` on every photo, video and GIF (files can't be blurred).
    spoiler: bool = False
    #: `link_preview_options` of a text post.
    link_preview: LinkPreview = LinkPreview.AUTO
    #: `link_preview_options.show_above_text`: the preview above the text (not with OFF).
    link_preview_above_text: bool = False
    #: Pin the post once it is out (`pinChatMessage` on its first message). Needs the bot's
    #: "Edit messages" right in a channel, "Pin messages" in a group (`ChatRights.can_pin`).
    pin: bool = False
    #: Notify members about the pin (`disable_notification` false). Channels never notify.
    pin_notify: bool = False
    #: What an album does with `PostContent.buttons`.
    album_buttons: AlbumButtons = AlbumButtons.MESSAGE
    #: The text of the buttons message under an album (Telegram needs some text).
    buttons_message_text: str = "🔗"
