"""A JobQueue timer that calls back at the earliest instant anyone asked for: the `Timer`
the engine and the notifier are given (bot/engine/hooks.py), so they never see PTB's JobQueue.

The database decides what is due; the timer is only a wake-up. It is armed with no
misfire grace, so a late firing (event loop busy) still runs instead of being skipped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from telegram.ext import CallbackContext, JobQueue


class Wakeup:
    def __init__(
        self,
        job_queue: JobQueue[Any],
        name: str,
        callback: Callable[[], Awaitable[object]],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._job_queue = job_queue
        self._name = name
        self._callback = callback
        self._clock = clock
        #: How many times the periodic sweep has called back (work found by the sweep alone
        #: is work nothing woke us for; tests and benchmarks count these).
        self.sweeps = 0

    def at(self, when: datetime) -> None:
        """Make sure the callback runs at `when` or sooner."""
        when = max(when, self._clock())
        jobs = self._job_queue.get_jobs_by_name(self._name)
        if any(job.next_t is not None and job.next_t <= when for job in jobs):
            return
        for job in jobs:
            job.schedule_removal()
        self._job_queue.run_once(
            self._fire,
            when=when,
            name=self._name,
            job_kwargs={"misfire_grace_time": None, "coalesce": True},
        )

    def soon(self) -> None:
        self.at(self._clock())

    def every(self, seconds: float) -> None:
        """Also call back periodically (the sweep for work other processes queued)."""
        self._job_queue.run_repeating(
            self._sweep,
            interval=seconds,
            first=seconds,
            name=f"{self._name}:sweep",
            job_kwargs={"misfire_grace_time": None, "coalesce": True},
        )

    async def _fire(self, _context: CallbackContext[Any, Any, Any, Any]) -> None:
        await self._callback()

    async def _sweep(self, _context: CallbackContext[Any, Any, Any, Any]) -> None:
        self.sweeps += 1
        await self._callback()
