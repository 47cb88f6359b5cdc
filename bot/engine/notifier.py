"""Delivers the notice outbox to Telegram. A notice stays a row until Telegram accepted it;
the worst a crash can cause is the same DM twice, never a lost one.

Post summaries of a burst are grouped: DIGEST_FROM or more waiting for one user go as one
digest (bot/digest.py), and after a digest that user's next summaries wait DIGEST_GAP and
go together, so 500 posts in a minute make a few DMs, not 500. Someone who is not in the
middle of a burst gets each summary at once.

Each run is short (RUN_SECONDS), so a long outbox never holds up a shutdown or the
database: the notifier re-arms itself and goes on.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.engine.hooks import Timer
from bot.engine.text import digest
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
#: This many summaries or more waiting for one user go as one digest.
DIGEST_FROM = 3
#: After a digest, a user's next summaries wait this long and go together (the default
#: of NOTICE_DIGEST_SECONDS).
DIGEST_GAP = timedelta(seconds=60)
#: Longest a run keeps the notifier busy before it yields and re-arms (seconds).
RUN_SECONDS = 2.0
#: Least time between the starts of two runs woken by new notices (seconds).
WAKE_SECONDS = 0.5


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
        digest_gap: timedelta = DIGEST_GAP,
    ) -> None:
        self._db = db
        self._digest_gap = digest_gap
        self._bot = bot
        self._clock = clock
        self._lock = asyncio.Lock()
        self._wakeup: Timer | None = None
        #: user id -> until when their summaries wait to go together (after a digest). Only
        #: pacing: lost on restart, which costs at most one early digest.
        self._digest_until: dict[int, datetime] = {}
        self._last_run = datetime.min.replace(tzinfo=UTC)
        self._again = False

    def attach(self, wakeup: Timer, sweep_seconds: float) -> None:
        self._wakeup = wakeup
        wakeup.every(sweep_seconds)
        wakeup.soon()

    def wake(self) -> None:
        """New notices: run soon, but not more often than every WAKE_SECONDS while a burst
        settles (each run is a few transactions the engine would otherwise wait behind)."""
        if self._wakeup is not None:
            self._wakeup.at(max(self._clock(), self._last_run + timedelta(seconds=WAKE_SECONDS)))

    async def tick(self) -> int:
        """The timer's entry: run, unless a run is under way; that one then re-arms, rather
        than a queue of waiting runs forming behind it (each a job a shutdown cancels)."""
        if self._lock.locked():
            self._again = True
            return 0
        return await self.run_due()

    async def run_due(self) -> int:
        """Send what is due now, for up to RUN_SECONDS; returns how many DMs went out."""
        sent = 0
        more = False
        async with self._lock:
            self._again = False
            began = time.monotonic()
            self._last_run = self._clock()
            while True:
                if time.monotonic() - began > RUN_SECONDS:
                    more = True  # yield to the engine and to shutdown; carry on right after
                    break
                now = self._clock()
                batch = await self._db.run(
                    partial(notices.claim, now=now, lease=LEASE, limit=BATCH)
                )
                if not batch:
                    break
                # One chat's DMs in order, different chats' at once: a chat waiting for its
                # pace (about a message a second) holds back only itself.
                chats: dict[int, list[list[Notice]]] = defaultdict(list)
                for group in await self._group(batch, now):
                    chats[group[0].chat_id].append(group)
                counts = await asyncio.gather(*(self._deliver_all(g) for g in chats.values()))
                sent += sum(counts)
            nxt = None if more else await self._db.run(notices.next_due)
        if (more or self._again) and self._wakeup is not None:
            self._wakeup.soon()
        elif nxt is not None and self._wakeup is not None:
            self._wakeup.at(nxt)
        return sent

    async def _group(self, batch: list[Notice], now: datetime) -> list[list[Notice]]:
        """Split a claimed batch into DMs: each notice alone, but a user's summaries together
        (with their other due summaries) when DIGEST_FROM or more are waiting; summaries of
        a user in a digest's gap are put back until it ends."""
        groups = [[n] for n in batch if n.kind != notices.SUMMARY]
        by_user: dict[int, list[Notice]] = defaultdict(list)
        for notice in batch:
            if notice.kind == notices.SUMMARY:
                by_user[notice.user_id].append(notice)
        waiting = {
            u: self._digest_until[u] for u in by_user if self._digest_until.get(u, now) > now
        }
        if waiting:

            async def put_back(session: Any) -> None:
                for user_id, until in waiting.items():
                    await notices.postpone(session, [n.id for n in by_user[user_id]], until)

            await self._db.run(put_back)
        users_now = [u for u in by_user if u not in waiting]
        if users_now:
            claimed = [n.id for n in batch]
            extra = await self._db.run(
                partial(
                    notices.take_summaries,
                    user_ids=users_now,
                    exclude=claimed,
                    now=now,
                    lease=LEASE,
                )
            )
            for notice in extra:
                by_user[notice.user_id].append(notice)
        for user_id in users_now:
            for burst in _bursts(by_user[user_id], self._digest_gap):
                if len(burst) >= DIGEST_FROM:
                    groups.append(burst)
                else:
                    groups.extend([n] for n in burst)
        return groups

    async def _deliver_all(self, groups: list[list[Notice]]) -> int:
        return sum([await self._deliver(group) for group in groups])

    async def _send(self, notice: Notice, text: str, buttons: list[Any]) -> None:
        try:
            await self._bot.send_message(
                chat_id=notice.chat_id,
                text=text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(buttons),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except BadRequest as exc:
            # Text Telegram can't read (bad markup, too long) must not cost the user the news:
            # send it once more as plain text. Other refusals (chat not found) fail again.
            log.warning("notice %s refused (%s); sending it as plain text", notice.id, exc.message)
            await self._bot.send_message(
                chat_id=notice.chat_id,
                text=plain_text(text),
                reply_markup=keyboard(buttons),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )

    async def _deliver(self, group: list[Notice]) -> int:
        """Send one DM for the group (one notice, or a user's summaries as a digest)."""
        notice = group[0]
        ids = [n.id for n in group]
        if len(group) == 1:
            text, buttons = notice.text, notice.buttons
        else:
            text, buttons = digest.compose([n.text for n in group], [n.buttons for n in group])
        now = self._clock()
        try:
            await self._send(notice, text, buttons)
        except RetryAfter as exc:
            wait = _seconds(exc.retry_after)
            await self._db.run(
                lambda s: notices.retry_later(
                    s, ids, now + timedelta(seconds=wait), "Telegram rate limit"
                )
            )
            return 0
        except Forbidden as exc:
            log.info("user %s blocked the bot; dropping their notices", notice.user_id)
            reason = exc.message

            async def _blocked(s: Any) -> None:
                await users.set_status(s, notice.user_id, UserStatus.BLOCKED)
                await notices.drop(s, ids, reason)
                await notices.drop_for_user(s, notice.user_id, "user blocked the bot")

            await self._db.run(_blocked)
            return 0
        except BadRequest as exc:
            log.warning("notice %s refused by Telegram: %s", notice.id, exc.message)
            reason = exc.message
            await self._db.run(lambda s: notices.drop(s, ids, reason))
            return 0
        except (NetworkError, TelegramError) as exc:
            # Telegram unreachable or failing: keep the notices and try again, less often.
            reason = str(exc)
            if now - notice.created_at > GIVE_UP_AFTER:
                log.error("notice %s undelivered for a week; giving up: %s", notice.id, reason)
                await self._db.run(lambda s: notices.drop(s, ids, reason))
                return 0
            wait = min(MAX_BACKOFF_SECONDS, 5.0 * 2 ** min(notice.attempts - 1, 20))
            await self._db.run(
                lambda s: notices.retry_later(s, ids, now + timedelta(seconds=wait), reason)
            )
            return 0
        await self._db.run(lambda s: notices.mark_sent(s, ids, self._clock()))
        if len(group) > 1:
            self._digest_until[notice.user_id] = self._clock() + self._digest_gap
        return 1


def _bursts(summaries: list[Notice], gap: timedelta) -> list[list[Notice]]:
    """A user's summaries in runs written within `gap` of each run's first (outcomes days
    apart that waited for Telegram together are still told one by one)."""
    runs: list[list[Notice]] = []
    for notice in sorted(summaries, key=lambda n: (n.created_at, n.id)):
        if runs and notice.created_at - runs[-1][0].created_at <= gap:
            runs[-1].append(notice)
        else:
            runs.append([notice])
    return runs


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def plain_text(text: str) -> str:
    """The notice's HTML as plain text, within Telegram's length limit."""
    plain = html.unescape(_TAG.sub("", text))
    return plain if len(plain) <= MAX_TEXT else plain[: MAX_TEXT - 1] + "…"


_TAG = re.compile(r"<[^>]+>")
