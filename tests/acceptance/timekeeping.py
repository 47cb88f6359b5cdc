"""Helpers for the time tests: a clock the test sets, Crier running on it, a user in a zone,
and a shared location (the fake Bot API has no helper for that message kind)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.app import Crier
from bot.config import Settings
from storage.models import Post, PostStatus, Target, User
from tests.acceptance.conftest import Person
from tests.fakes.telegram_api import FakeTelegram

JSON = dict[str, Any]


class Clock:
    """What `Crier(clock=...)` reads as now: services, the engine and notices."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@asynccontextmanager
async def crier_at(make_settings: Callable[..., Settings], clock: Clock) -> AsyncIterator[Crier]:
    async with Crier(make_settings(), clock=clock) as app:
        yield app


def share_location(tg: FakeTelegram, person: Person, latitude: float, longitude: float) -> None:
    """The user taps "share location": Telegram sends a location message."""
    tg.send_location(person.user, latitude, longitude)


async def timezone_of(crier: Crier, person: Person) -> str:
    async with crier.db.session() as session:
        user = await session.get(User, person.id)
        assert user is not None
        return user.timezone


async def set_timezone(person: Person, tz: str) -> None:
    """Register the user and set their zone by its exact name."""
    await person.says("/start", "Crier")
    await person.says(tz, "Timezone set")


async def draft_time(crier: Crier, person: Person) -> datetime | None:
    async with crier.db.session() as session:
        post = await session.scalar(
            select(Post).where(Post.user_id == person.id, Post.status == PostStatus.DRAFT)
        )
        assert post is not None
        return post.publish_at


async def targets_of(crier: Crier, post_id: int) -> list[Target]:
    async with crier.db.session() as session:
        found = await session.scalars(
            select(Target).where(Target.post_id == post_id).order_by(Target.account_id)
        )
        return list(found)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)
