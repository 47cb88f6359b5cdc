"""Delivers the notice outbox to Telegram. A notice stays a row until Telegram accepted it;
the worst a crash can cause is the same DM twice, never a lost one."""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.engine.hooks import Timer
from storage import notices, users
from storage.db import Database
from storage.models import Notice, UserStatus

log = logging.getLogger(__name__)

#: Notices sent per batch; Telegram allows ~30 messages/s overall.
BATCH = 20
LEASE = timedelta(seconds=60)
#: Longest wait between two tries of a notice Telegram couldn't take (network, 5xx).
MAX_BACKOFF_SECONDS = 3600.0
#: A notice still undelivered this long after it was written is given up (and logged): an
#: outage of Telegram this long is not one a DM about it survives meaningfully.
GIVE_UP_AFTER = timedelta(days=7)
#: Telegram's limit for a message's text.
MAX_TEXT = 4096


def keyboard(rows: list[list[dict[str, str]]]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b["text"], url=b["url"])
                if "url" in b
                else InlineKeyboardButton(b["text"], callback_data=b["data"])
                for b in row
            ]
            for row in rows
        ]
    )


class Notifier:
    def __init__(
        self,
        db: Database,
        bot: Bot,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._db = db
        self._bot = bot
        self._clock = clock
        self._lock = asyncio.Lock()
        self._wakeup: Timer | None = None

    def attach(self, wakeup: Timer, sweep_seconds: float) -> None:
        self._wakeup = wakeup
        wakeup.every(sweep_seconds)
        wakeup.soon()

    def wake(self) -> None:
        if self._wakeup is not None:
            self._wakeup.soon()

    async def run_due(self) -> int:
        """Send everything due now; returns how many notices were delivered."""
        sent = 0
        async with self._lock:
            while True:
                now = self._clock()
                batch = await self._db.run(
                    partial(notices.claim, now=now, lease=LEASE, limit=BATCH)
                )
                if not batch:
                    break
                # One chat's notices in order, different chats' at once: a chat waiting for
                # its pace (about a message a second) holds back only itself.
                chats: dict[int, list[Notice]] = {}
                for notice in batch:
                    chats.setdefault(notice.chat_id, []).append(notice)
                counts = await asyncio.gather(*(self._deliver_all(n) for n in chats.values()))
                sent += sum(counts)
            nxt = await self._db.run(notices.next_due)
        if nxt is not None and self._wakeup is not None:
            self._wakeup.at(nxt)
        return sent

    async def _deliver_all(self, chat_notices: list[Notice]) -> int:
        return sum([await self._deliver(notice) for notice in chat_notices])

    async def _send(self, notice: Notice) -> None:
        try:
            await self._bot.send_message(
                chat_id=notice.chat_id,
                text=notice.text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(notice.buttons),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except BadRequest as exc:
            # Text Telegram can't read (bad markup, too long) must not cost the user the news:
            # send it once more as plain text. Other refusals (chat not found) fail again.
            log.warning("notice %s refused (%s); sending it as plain text", notice.id, exc.message)
            await self._bot.send_message(
                chat_id=notice.chat_id,
                text=plain_text(notice.text),
                reply_markup=keyboard(notice.buttons),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )

    async def _deliver(self, notice: Notice) -> int:
        now = self._clock()
        try:
            await self._send(notice)
        except RetryAfter as exc:
            wait = _seconds(exc.retry_after)
            await self._db.run(
                lambda s: notices.retry_later(
                    s, notice.id, now + timedelta(seconds=wait), "Telegram rate limit"
                )
            )
            return 0
        except Forbidden as exc:
            log.info("user %s blocked the bot; dropping their notices", notice.user_id)
            reason = exc.message

            async def _blocked(s: Any) -> None:
                await users.set_status(s, notice.user_id, UserStatus.BLOCKED)
                await notices.drop(s, notice.id, reason)
                await notices.drop_for_user(s, notice.user_id, "user blocked the bot")

            await self._db.run(_blocked)
            return 0
        except BadRequest as exc:
            log.warning("notice %s refused by Telegram: %s", notice.id, exc.message)
            reason = exc.message
            await self._db.run(lambda s: notices.drop(s, notice.id, reason))
            return 0
        except (NetworkError, TelegramError) as exc:
            # Telegram unreachable or failing: keep the notice and try again, less often.
            reason = str(exc)
            if now - notice.created_at > GIVE_UP_AFTER:
                log.error("notice %s undelivered for a week; giving up: %s", notice.id, reason)
                await self._db.run(lambda s: notices.drop(s, notice.id, reason))
                return 0
            wait = min(MAX_BACKOFF_SECONDS, 5.0 * 2 ** min(notice.attempts - 1, 20))
            await self._db.run(
                lambda s: notices.retry_later(s, notice.id, now + timedelta(seconds=wait), reason)
            )
            return 0
        await self._db.run(lambda s: notices.mark_sent(s, notice.id, self._clock()))
        return 1


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def plain_text(text: str) -> str:
    """The notice's HTML as plain text, within Telegram's length limit."""
    plain = html.unescape(_TAG.sub("", text))
    return plain if len(plain) <= MAX_TEXT else plain[: MAX_TEXT - 1] + "…"


_TAG = re.compile(r"<[^>]+>")
