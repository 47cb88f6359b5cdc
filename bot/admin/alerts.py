"""Alerts to admins: DMs about what needs an operator, deduplicated and rate-limited through
the `alerts` table so that every process may check and report, and admins hear once.

An alert is a key and a text. It is sent when it starts, repeated at most every
ALERT_REPEAT_MINUTES while it lasts (with how often it happened since the last DM), and
followed by a short "resolved" DM when it clears. Other parts report through:

- `raise_alert(key, text)` / `resolve_alert(key, text)`: anything with a key of its own;
- `breaker_opened(platform, cooldown)` / `breaker_closed(platform)`: the engine's circuit
  breakers (an open breaker's alert also clears once posts reach the platform again);
- `report_error(error, ...)`: unexpected errors, at most one DM per kind per
  ALERT_ERROR_REPEAT_MINUTES.

`check()` runs every ALERT_CHECK_SECONDS and evaluates the conditions read from the
database and the disk: platform failure rates, overdue posts, the DM outbox, free space.
"""

from __future__ import annotations

import shutil
import socket
import traceback
import weakref
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot
from telegram.error import Forbidden, TelegramError
from telegram.ext import CallbackContext, JobQueue

from bot.config import Settings
from bot.ops import metrics
from bot.ops.logs import get_logger, redact
from storage import alerts as repo
from storage.db import Database

log = get_logger(__name__)

#: Longest alert text sent (Telegram allows 4096 characters).
MAX_TEXT = 3500
#: The packages whose frames name where an error happened.
_OWN = ("bot", "providers", "storage")
_ROOT = Path(__file__).resolve().parents[2]


class Alerts:
    def __init__(
        self,
        db: Database,
        bot: Bot,
        settings: Settings,
        *,
        clock: Callable[[], datetime],
        platform_names: Mapping[str, str] | None = None,
    ) -> None:
        self._db = db
        self._bot = bot
        self._settings = settings
        self._clock = clock
        self._names = dict(platform_names or {})
        self._repeat = timedelta(minutes=settings.alert_repeat_minutes)
        self._error_repeat = timedelta(minutes=settings.alert_error_repeat_minutes)
        self._started_at = clock()
        self._host = socket.gethostname()

    def attach(self, job_queue: JobQueue[Any]) -> None:
        """Check the conditions periodically (ALERT_CHECK_SECONDS; 0: never)."""
        seconds = self._settings.alert_check_seconds
        if seconds > 0 and not job_queue.get_jobs_by_name("alerts:check"):
            job_queue.run_repeating(
                self._job,
                interval=seconds,
                first=seconds,
                name="alerts:check",
                job_kwargs={"misfire_grace_time": None, "coalesce": True},
            )

    async def _job(self, _context: CallbackContext[Any, Any, Any, Any]) -> None:
        await self.check()

    # -- reporting ---------------------------------------------------------------------------

    async def raise_alert(
        self, key: str, text: str, *, repeat_every: timedelta | None = None
    ) -> bool:
        """`key` is happening: DM admins if it is new or its repeat is due. Returns whether
        a DM went out. Never raises: alerting must not break the caller."""
        key = key[:128]
        now = self._clock()
        repeat = repeat_every or self._repeat
        try:
            report = await self._db.run(lambda s: repo.record(s, key, now=now, repeat_every=repeat))
            if report is None:
                return False
            return await self._send(report, _render(report, text, now), now)
        except Exception:
            log.exception("alert.failed", key=key)
            return False

    async def resolve_alert(self, key: str, text: str) -> bool:
        """`key` is over: DM admins who were told about it. Returns whether a DM went out."""
        key = key[:128]
        now = self._clock()
        try:
            report = await self._db.run(lambda s: repo.resolve(s, key, now=now))
            if report is None:
                return False
            return await self._send(report, _render(report, text, now), now)
        except Exception:
            log.exception("alert.failed", key=key)
            return False

    async def breaker_opened(self, platform: str, cooldown: float) -> None:
        """The engine stopped calling `platform` for `cooldown` seconds."""
        name = self._name(platform)
        await self.raise_alert(
            f"breaker:{platform}",
            f"{name} keeps failing, so its circuit breaker opened: Crier stopped calling it "
            f"for {_duration(cooldown)} and will then try one post. Posts to {name} stay "
            "queued and go out when it answers again.",
        )

    async def breaker_closed(self, platform: str) -> None:
        await self.resolve_alert(
            f"breaker:{platform}", f"{self._name(platform)} answers again; queued posts go out."
        )

    async def report_error(self, error: BaseException, *, where: str, detail: str = "") -> bool:
        """An unexpected error: one DM per kind (class and place) per error-repeat period."""
        kind = type(error).__name__
        message = redact(str(error)).strip()
        if len(message) > 300:
            message = message[:299] + "…"
        text = f"Unexpected {kind} in {where}" + (f": {message}" if message else "") + "."
        if detail:
            text += f"\n{detail}"
        text += "\nThe traceback is in the log."
        return await self.raise_alert(
            f"error:{kind}@{where}", text, repeat_every=self._error_repeat
        )

    async def _send(self, report: repo.Report, text: str, now: datetime) -> bool:
        log.warning("alert", key=report.key, state=report.kind, count=report.count)
        if await self._deliver(text):
            metrics.ALERTS_SENT.labels(report.key.split(":", 1)[0], report.kind).inc()
            return True
        await self._db.run(lambda s: repo.unsend(s, report, sent_at=now))
        return False

    async def _deliver(self, text: str) -> bool:
        """DM every admin; False when Telegram failed for all of them (try again later)."""
        chats = await self._db.run(repo.admin_chats)
        if not chats:
            log.warning("alert.no_admin", hint="set ADMIN_IDS and send /start to the bot")
            return True  # the log line above is all there is; don't retry every check
        delivered, failed = 0, 0
        for chat_id in chats:
            try:
                await self._bot.send_message(chat_id, text)
                delivered += 1
            except Forbidden:
                log.info("alert.admin_blocked_bot", chat_id=chat_id)
            except TelegramError as exc:
                log.warning("alert.send_failed", chat_id=chat_id, error=str(exc))
                failed += 1
        return delivered > 0 or failed == 0

    # -- conditions --------------------------------------------------------------------------

    async def check(self) -> None:
        """Evaluate every condition once; raise what holds, resolve what cleared."""
        for step in (self._failure_rates, self._overdue, self._notices, self._disk, self._breakers):
            try:
                await step(self._clock())
            except Exception:
                log.exception("alert.check_failed", check=step.__name__)

    async def _settle(
        self, prefix: str, firing: dict[str, str], cleared: Callable[[str], str]
    ) -> None:
        for key, text in firing.items():
            await self.raise_alert(key, text)
        going_on = await self._db.run(lambda s: repo.active(s, prefix))
        for key in sorted(going_on.keys() - firing.keys()):
            await self.resolve_alert(key, cleared(key))

    async def _failure_rates(self, now: datetime) -> None:
        s = self._settings
        window = timedelta(minutes=s.alert_failure_window_minutes)
        rates = await self._db.run(lambda ses: repo.failure_rates(ses, since=now - window))
        by_platform = {r.platform: r for r in rates}
        firing = {
            f"failure_rate:{r.platform}": (
                f"{self._name(r.platform)} is failing: {r.failed} of {r.attempts} publish "
                f"attempts failed in the last {_duration(window.total_seconds())}."
            )
            for r in rates
            if r.attempts >= s.alert_failure_min_attempts
            and r.failed >= s.alert_failure_rate * r.attempts
        }

        def cleared(key: str) -> str:
            platform = key.split(":", 1)[1]
            r = by_platform.get(platform)
            figures = f"{r.failed} of {r.attempts}" if r else "no"
            return (
                f"{self._name(platform)} publishing is back to normal ({figures} attempts "
                f"failed in the last {_duration(window.total_seconds())})."
            )

        await self._settle("failure_rate:", firing, cleared)

    async def _overdue(self, now: datetime) -> None:
        late = timedelta(seconds=self._settings.alert_overdue_seconds)
        if now - self._started_at < late:
            return  # just started: what fell due while it was down is going out now
        rows = await self._db.run(lambda s: repo.overdue(s, before=now - late))
        firing = {}
        if rows:
            total = sum(r.count for r in rows)
            oldest = min(r.oldest for r in rows)
            parts = ", ".join(f"{self._name(r.platform)} {r.count}" for r in rows)
            firing["overdue"] = (
                f"Publishing has stalled: {total} post(s) are waiting more than "
                f"{_duration(late.total_seconds())} past their time ({parts}; the oldest for "
                f"{_duration((now - oldest).total_seconds())}). Check that an engine is "
                "running (crier run with RUN_ENGINE=true, or crier worker) and its log."
            )
        await self._settle(
            "overdue",
            firing,
            lambda _key: "Publishing caught up: no post is waiting past its time.",
        )

    async def _notices(self, now: datetime) -> None:
        age = timedelta(minutes=self._settings.alert_notice_age_minutes)
        backlog = await self._db.run(lambda s: repo.notice_backlog(s, before=now - age))
        firing = {}
        if backlog.count and backlog.oldest is not None:
            firing["notices"] = (
                f"DMs are backing up: {backlog.count} notice(s) older than "
                f"{_duration(age.total_seconds())} are still waiting (the oldest for "
                f"{_duration((now - backlog.oldest).total_seconds())}). Telegram may be "
                "refusing messages; see the log."
            )
        await self._settle("notices", firing, lambda _key: "DMs are flowing again.")

    async def _disk(self, now: datetime) -> None:
        path = _existing(self._settings.media_dir)
        free_mb = shutil.disk_usage(path).free // (1024 * 1024)
        key = f"disk:{self._host}"
        firing = {}
        if free_mb < self._settings.alert_disk_free_mb:
            firing[key] = (
                f"Disk space is low on {self._host}: {free_mb} MB free where media is kept "
                f"({path}). Below {self._settings.alert_disk_free_mb} MB, uploads may fail."
            )
        # Only this host's key: other hosts check their own disks.
        await self._settle(
            key, firing, lambda _key: f"Disk space on {self._host} is fine: {free_mb} MB free."
        )

    async def _breakers(self, now: datetime) -> None:
        """An open breaker's alert also clears once posts reach its platform again (a
        restart forgets breakers, and another process may have closed it)."""
        going_on = await self._db.run(lambda s: repo.active(s, "breaker:"))
        for key, since in going_on.items():
            platform = key.split(":", 1)[1]

            async def recovered(s: AsyncSession, p: str = platform, t: datetime = since) -> bool:
                return await repo.published_since(s, p, t)

            if await self._db.run(recovered):
                await self.breaker_closed(platform)

    def _name(self, platform: str) -> str:
        return self._names.get(platform, platform)


def error_origin(error: BaseException) -> tuple[str, str]:
    """(handler, where) for an error: the outermost and innermost frames in Crier's own
    packages, as "module:function"; the innermost frame of all when none is Crier's."""
    frames = traceback.extract_tb(error.__traceback__)
    own = [f for f in frames if _module(f.filename) is not None]
    if not own:
        last = frames[-1] if frames else None
        where = f"{Path(last.filename).stem}:{last.name}" if last else "unknown"
        return where, where
    first, last = own[0], own[-1]
    return f"{_module(first.filename)}:{first.name}", f"{_module(last.filename)}:{last.name}"


def _module(filename: str) -> str | None:
    try:
        relative = Path(filename).resolve().relative_to(_ROOT)
    except ValueError:
        return None
    if relative.parts[0] not in _OWN or relative.suffix != ".py":
        return None
    return ".".join(relative.with_suffix("").parts)


def _render(report: repo.Report, text: str, now: datetime) -> str:
    lasted = _duration((now - report.since).total_seconds())
    if report.kind == "started":
        body = f"🚨 {text}"
        if report.count > 1:
            body += f"\n(Seen {report.count} times since {_clock_time(report.since)}.)"
    elif report.kind == "repeat":
        last = report.previous_sent_at or report.since
        body = (
            f"🚨 Still going on, for {lasted} now: {text}\n"
            f"(Seen {report.count} time(s) since the last alert at {_clock_time(last)}.)"
        )
    else:
        body = f"✅ Resolved after {lasted}: {text}"
    return body if len(body) <= MAX_TEXT else body[: MAX_TEXT - 1] + "…"


def _clock_time(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M UTC")


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _existing(path: Path) -> Path:
    """The nearest existing directory at or above `path` (media_dir may not exist yet)."""
    path = path.resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


#: Each running application's Alerts, for code that only has the application (the PTB error
#: handler); Services has no field for it yet.
_BY_APPLICATION: weakref.WeakKeyDictionary[object, Alerts] = weakref.WeakKeyDictionary()


def register(application: object, alerts: Alerts | None) -> None:
    if alerts is None:
        _BY_APPLICATION.pop(application, None)
    else:
        _BY_APPLICATION[application] = alerts


def of(application: object) -> Alerts | None:
    return _BY_APPLICATION.get(application)
