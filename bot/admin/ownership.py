"""One process at a time sends broadcasts, however many front-ends and workers share the
database: so a broadcast has one pace (BROADCAST_RATE, under Telegram's 30 messages a
second) across all of them, and a process that dies mid-broadcast is taken over by another
once its lease runs out (the deliveries already sent are rows: nothing is sent twice but
what was in flight)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from bot.services import utc_now
from storage import turns
from storage.db import Database


class Ownership:
    def __init__(
        self,
        db: Database,
        name: str,
        *,
        hold: timedelta = timedelta(seconds=30),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._db = db
        self.name = name
        #: How long a process that stopped renewing (it died) keeps the role.
        self.hold = hold
        self._clock = clock
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    @property
    def retry_seconds(self) -> float:
        """How often a process without the role looks again."""
        return self.hold.total_seconds() / 2

    async def take(self) -> bool:
        """Take or renew the role; False while another live process has it."""
        work = partial(
            turns.take_lease, name=self.name, owner=self.owner, now=self._clock(), hold=self.hold
        )
        return await self._db.run(work)

    async def give_back(self) -> None:
        await self._db.run(partial(turns.give_back_lease, name=self.name, owner=self.owner))
