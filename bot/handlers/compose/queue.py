"""Compose step 3, by the queue: "➕ Add to queue" puts the post in the next free slot of each
chosen account (bot/compose/slots.py), so one post may go out at different times per account.

The preview shows each account's time and its Confirm button says "queue" in its data, so
confirming recomputes the slots in the same transaction that creates the targets (a slot
another post took meanwhile is skipped), even after a restart. What the preview shows is
remembered in memory only: if that is lost, the draft shows its one time again, and that is
what a plain Confirm schedules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from telegram import Update
from telegram.ext import ConversationHandler

from bot.compose import posting
from bot.compose.posting import ComposeError
from bot.handlers.compose.common import PICK_TIME, PREVIEW, ask_time, user_timezone
from bot.schedule.parse import format_when
from bot.schedule.slots import NoSlots
from bot.services import CustomContext, Services
from bot.ui import render
from bot.ui.chat import edit, reply, user_id
from storage.models import Account, Post

#: Services.scratch key: user id -> the queue times the preview shows.
MARKS = "compose_queue"
CONFIRM = "c:confirm:q"


@dataclass(frozen=True)
class QueueMark:
    post_id: int
    times: dict[int, datetime]


def _marks(services: Services) -> dict[int, QueueMark]:
    return services.scratch.setdefault(MARKS, {})  # type: ignore[no-any-return]


def remember(services: Services, uid: int, post_id: int, times: dict[int, datetime]) -> None:
    """The queue times ➕ Add to queue found for this draft, for the preview to show."""
    _marks(services)[uid] = QueueMark(post_id=post_id, times=times)


def forget(services: Services, uid: int) -> None:
    _marks(services).pop(uid, None)


def remembered(services: Services, post: Post) -> dict[int, datetime] | None:
    """The per-account queue times of this draft, while they are still what it holds."""
    mark = _marks(services).get(post.user_id)
    if mark is None or mark.post_id != post.id or not mark.times:
        return None
    if post.publish_at != min(mark.times.values()):
        return None  # another step set a time since
    if set(mark.times) != set(post.draft_account_ids):
        return None
    return mark.times


def _plain_name(account: Account, names: dict[str, str]) -> str:
    platform = names.get(account.platform, account.platform)
    return platform if account.platform == "dryrun" else f"{account.label} ({platform})"


def when_text(
    services: Services, post: Post, chosen: Sequence[Account], tz: str, now: datetime
) -> str | None:
    """For the preview: each account's queue slot, or None when the post isn't queued."""
    times = remembered(services, post)
    if times is None:
        return None
    names = services.platform_names
    lines = ["In the queue, each account at its next free slot:"]
    lines += [
        f"  • {_plain_name(a, names)}: {format_when(times[a.id], tz, now, style='abbr')}"
        for a in chosen
        if a.id in times
    ]
    return "\n".join(lines)


async def confirm(update: Update, context: CustomContext) -> int:
    """Schedule the draft in the queue: each account's target at its own next free slot."""
    query = update.callback_query
    assert query is not None
    services = context.services
    uid = user_id(update)
    try:
        result, chosen = await posting.confirm(services, uid, queue=True)
    except (NoSlots, ComposeError) as exc:
        await query.answer()
        if isinstance(exc, NoSlots) or "passed" in str(exc):
            await ask_time(update, context, problem=str(exc))
            return PICK_TIME
        await reply(update, f"⚠️ {escape(str(exc))}")
        return PREVIEW
    forget(services, uid)
    await query.answer("Added to the queue")
    tz, _ = await user_timezone(services, uid)
    now = services.now()
    post = result.post
    names = services.platform_names
    at = {target.account_id: target.publish_at for target in result.targets}
    lines = [f"✅ <b>Scheduled #{post.id}</b> in the queue:"]
    lines += [
        f"→ {render.account_name(a, names)}: {escape(format_when(at[a.id], tz, now, style='abbr'))}"
        for a in chosen
    ]
    await edit(
        query,
        "\n".join(lines),
        [
            [("⚡ Post now", f"p:now:{post.id}"), ("✖ Cancel", f"p:cancel:{post.id}")],
            [("✏️ Edit", f"p:edit:{post.id}")],
            [("💾 Save as template", f"t:save:{post.id}")],
        ],
    )
    return ConversationHandler.END
