"""What a broadcast sends and how its progress reads: the message (text, one photo, video or
GIF, or an album, with optional URL buttons) read from the admin's message, sending it, the
segments, the progress bar and the summary."""

from __future__ import annotations

import math
import re
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    InputMediaVideo,
    Message,
    MessageEntity,
)

from bot.admin.stats import duration
from storage.models import Broadcast, BroadcastStatus, DeliveryStatus

#: Telegram's limits for a message's text and a media caption (UTF-16 code units).
TEXT_LIMIT, CAPTION_LIMIT = 4096, 1024
#: "Label - https://example.com" (several on one line with " | ").
BUTTON = re.compile(r"^(?P<label>\S.{0,63}?)\s+[-–—]\s+(?P<url>(?:https?|tg)://\S+)$")


class ContentError(ValueError):
    """The message can't be broadcast; says why, for the admin."""


#: Segment key (callback data) -> what the admin sees, and the stored segment.
SEGMENTS: dict[str, tuple[str, dict[str, Any]]] = {
    "all": ("All active users", {"kind": "all"}),
    "platform": ("Users with a connected platform", {"kind": "with_platform"}),
    "7d": ("Active in the last 7 days", {"kind": "active_days", "days": 7}),
    "30d": ("Active in the last 30 days", {"kind": "active_days", "days": 30}),
}


def segment_label(segment: dict[str, Any]) -> str:
    for label, stored in SEGMENTS.values():
        if stored == segment:
            return label
    return SEGMENTS["all"][0]


# -- reading the admin's message ---------------------------------------------------------------


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_buttons(text: str) -> tuple[str, list[list[dict[str, str]]]]:
    """Split trailing "Label - URL" lines off the text: (text, rows of buttons)."""
    lines = text.rstrip().split("\n")
    rows: list[list[dict[str, str]]] = []
    while lines:
        matches = [BUTTON.match(part.strip()) for part in lines[-1].split(" | ")]
        if not all(matches):
            break
        rows.insert(0, [{"text": m["label"], "url": m["url"]} for m in matches if m])
        lines.pop()
    return "\n".join(lines).rstrip(), rows


def _entities(entities: tuple[MessageEntity, ...], limit: int) -> list[dict[str, Any]]:
    """Formatting that still falls inside the text once the button lines are gone."""
    kept = []
    for entity in entities:
        if entity.offset >= limit:
            continue
        data = entity.to_dict()
        data["length"] = min(entity.length, limit - entity.offset)
        kept.append(data)
    return kept


def content_of(message: Message) -> dict[str, Any]:
    """The broadcast content a message carries (raises ContentError)."""
    media: list[dict[str, str]] = []
    if message.photo:
        media = [{"kind": "photo", "file_id": message.photo[-1].file_id}]
    elif message.animation:  # before video/document: a GIF message carries a document too
        media = [{"kind": "animation", "file_id": message.animation.file_id}]
    elif message.video:
        media = [{"kind": "video", "file_id": message.video.file_id}]
    elif message.text is None:
        raise ContentError(
            "I can broadcast text, a photo, a video, a GIF or an album of photos and videos. "
            "Send one of those, or tap ✖ Cancel above."
        )
    raw = message.text if message.text is not None else (message.caption or "")
    text, rows = parse_buttons(raw)
    entities = message.entities if message.text is not None else message.caption_entities
    return {
        "text": text,
        "entities": _entities(entities, utf16_len(text)),
        "media": media,
        "buttons": rows,
        "group": message.media_group_id,
        "awaiting": True,
    }


def problem(content: dict[str, Any]) -> str | None:
    """Why Telegram would refuse this content, or None."""
    text, media = content.get("text") or "", content.get("media") or []
    if not text.strip() and not media:
        return "The message is empty: send some text or media."
    limit = CAPTION_LIMIT if media else TEXT_LIMIT
    if utf16_len(text) > limit:
        kind = "a caption" if media else "a message"
        return f"That text is {utf16_len(text):,} characters; {kind} may have at most {limit:,}."
    if len(media) > 1 and content.get("buttons"):
        return (
            "Telegram albums can't carry buttons. Send the album without the button lines, "
            "or a single photo or video with them."
        )
    return None


# -- the message ------------------------------------------------------------------------------


async def send_content(
    bot: Bot, chat_id: int, content: dict[str, Any], *, paid: bool = False
) -> None:
    """Send a broadcast's message (text, one photo/video/GIF, or an album) to one chat."""
    text = content.get("text") or ""
    entities = [MessageEntity.de_json(e, None) for e in content.get("entities") or []] or None
    rows = content.get("buttons") or []
    markup = (
        InlineKeyboardMarkup(
            [[InlineKeyboardButton(b["text"], url=b["url"]) for b in row] for row in rows]
        )
        if rows
        else None
    )
    extra: dict[str, Any] = {"allow_paid_broadcast": True} if paid else {}
    media = content.get("media") or []
    if not media:
        await bot.send_message(chat_id, text, entities=entities, reply_markup=markup, **extra)
        return
    if len(media) == 1:
        kind, file_id = media[0]["kind"], media[0]["file_id"]
        common: dict[str, Any] = {
            "caption": text or None,
            "caption_entities": entities,
            "reply_markup": markup,
            **extra,
        }
        if kind == "video":
            await bot.send_video(chat_id, file_id, **common)
        elif kind == "animation":
            await bot.send_animation(chat_id, file_id, **common)
        else:
            await bot.send_photo(chat_id, file_id, **common)
        return
    album = [
        (InputMediaVideo if item["kind"] == "video" else InputMediaPhoto)(
            item["file_id"],
            caption=(text or None) if index == 0 else None,
            caption_entities=entities if index == 0 else None,
        )
        for index, item in enumerate(media)
    ]
    await bot.send_media_group(chat_id, album, **extra)


# -- progress -----------------------------------------------------------------------------------


def bar(done: int, total: int, width: int = 10) -> str:
    filled = width if total <= 0 else min(width, math.floor(width * done / total))
    return "▓" * filled + "░" * (width - filled)


def eta(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def progress_text(
    broadcast: Broadcast,
    tally: dict[DeliveryStatus, int],
    rate: float,
) -> str:
    done = sum(n for status, n in tally.items() if status != DeliveryStatus.PENDING)
    total = broadcast.total
    line = f"{bar(done, total)} {done:,}/{total:,} · {rate:.1f}/s"
    if tally[DeliveryStatus.BLOCKED]:
        line += f" · {tally[DeliveryStatus.BLOCKED]:,} blocked"
    if tally[DeliveryStatus.FAILED]:
        line += f" · {tally[DeliveryStatus.FAILED]:,} failed"
    if rate > 0 and done < total:
        line += f" · ETA {eta((total - done) / rate)}"
    return f"📣 <b>Broadcast #{broadcast.id}</b> · {segment_label(broadcast.segment)}\n{line}"


def summary_text(broadcast: Broadcast, *, interrupted: bool = False) -> str:
    """The final word (or, when the process stops mid-way, where it stands)."""
    sent, blocked, failed = broadcast.sent, broadcast.blocked, broadcast.failed
    left = broadcast.total - sent - blocked - failed
    figures = f"Sent: {sent:,} · blocked: {blocked:,} · failed: {failed:,}"
    if interrupted:
        return (
            f"⏸ <b>Broadcast #{broadcast.id}</b> is paused because Crier stopped. It resumes "
            f"where it left off when Crier starts again; nobody gets it twice.\n"
            f"{figures} · to go: {left:,}"
        )
    took = ""
    if broadcast.started_at and broadcast.finished_at:
        took = duration((broadcast.finished_at - broadcast.started_at).total_seconds())
    if broadcast.status == BroadcastStatus.CANCELLED:
        return (
            f"⏹ <b>Broadcast #{broadcast.id} was cancelled</b>"
            + (f" after {took}" if took else "")
            + f".\n{figures} · not sent: {left:,} (they won't get it)"
        )
    rest = f" · not sent: {left:,}" if left else ""
    return (
        f"✅ <b>Broadcast #{broadcast.id} is done</b>"
        + (f" in {took}" if took else "")
        + f".\n{figures}{rest}"
    )


def stop_button(broadcast_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton("⏹ Stop", callback_data=f"bc:stop:{broadcast_id}")]]
    )
