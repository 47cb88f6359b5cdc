"""End-to-end harness: the real application, over real HTTP, against a fake Bot API."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.app import Crier
from bot.config import Settings
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_world import FakeUser

JSON = dict[str, Any]


def jpeg(width: int = 640, height: int = 480, color: str = "orange") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def make_settings(tmp_path: Path, tg: FakeTelegram) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "telegram_bot_token": tg.token,
            "telegram_api_base_url": tg.base_url,
            "telegram_file_base_url": tg.file_base_url,
            "telegram_poll_timeout": 2,
            "database_url": f"sqlite+aiosqlite:///{tmp_path / 'crier.db'}",
            "media_dir": tmp_path / "media",
            "default_timezone": "UTC",
            "engine_sweep_seconds": 1.0,
            "engine_retry_base_seconds": 0.2,
            "engine_retry_max_seconds": 1.0,
            "web_port": 0,
            # Tests press buttons faster than any person: Telegram's per-chat pace is kept
            # only where a test asks for it (TELEGRAM_PACE), against a fake that enforces it.
            "telegram_chat_rate": 1000.0,
            "telegram_chat_burst": 1000,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


#: Telegram's pace as Crier keeps it by default (for tests that enforce Telegram's limits).
TELEGRAM_PACE: dict[str, Any] = {
    name: Settings.model_fields[name].default
    for name in ("telegram_rate", "telegram_chat_rate", "telegram_chat_burst")
}


@pytest.fixture
async def crier(make_settings: Callable[..., Settings]) -> AsyncIterator[Crier]:
    async with Crier(make_settings()) as app:
        yield app


class Person:
    """A Telegram user talking to the bot, as a test drives them."""

    def __init__(self, tg: FakeTelegram, user: FakeUser) -> None:
        self.tg = tg
        self.user = user

    @property
    def id(self) -> int:
        return self.user.id

    async def says(
        self, text: str, expect: str | Callable[[JSON], bool] = lambda m: True, timeout: float = 5.0
    ) -> JSON:
        """Send a text and return the bot's first reply matching `expect`."""
        waiting = self.tg.wait_for(self.user, expect, timeout=timeout)
        self.tg.send_text(self.user, text)
        return await waiting

    async def sends_photo(
        self, data: bytes, caption: str | None = None, expect: str = "New post"
    ) -> JSON:
        waiting = self.tg.wait_for(self.user, expect)
        self.tg.send_photo(self.user, data, caption=caption)
        return await waiting

    async def presses(
        self,
        message: JSON,
        button: str,
        expect: str | Callable[[JSON], bool] = lambda m: True,
        timeout: float = 5.0,
    ) -> JSON:
        """Press a button and return the bot's next message or edit matching `expect`."""
        waiting = self.tg.wait_for(self.user, expect, timeout=timeout)
        self.tg.press(self.user, message, button)
        return await waiting

    async def forges(self, message: JSON, data: str) -> JSON:
        """Press a button that isn't there, with made-up callback data; returns the answer."""
        answered = len(self.tg.callback_answers)
        self.tg.press_data(self.user, message, data)
        for _ in range(200):
            if len(self.tg.callback_answers) > answered:
                return self.tg.callback_answers[-1]
            await _tick()
        raise AssertionError("the bot never answered the callback query")

    def last(self) -> JSON:
        return self.tg.sent(self.user)[-1]


async def _tick() -> None:
    import asyncio

    await asyncio.sleep(0.025)


@pytest.fixture
def alice(tg: FakeTelegram) -> Person:
    return Person(tg, tg.add_user(1001, "Alice", "alice"))


@pytest.fixture
def bob(tg: FakeTelegram) -> Person:
    return Person(tg, tg.add_user(2002, "Bob", "bob"))


def buttons(message: JSON) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["text"] for row in rows for b in row]


@dataclass(frozen=True)
class Composed:
    """The screens of one way through the compose steps, as the user saw each of them."""

    #: The account picker as ✅ Done showed it, and once the accounts were ticked.
    picker: JSON
    picked: JSON
    #: "When?", and the preview of the chosen time.
    ask_time: JSON
    preview: JSON
    #: "Scheduled #n" (empty before ✅ Confirm).
    scheduled: JSON = field(default_factory=dict)


def account_buttons(picker: JSON) -> list[str]:
    """The picker's account toggles ("✅ Dry run", "▫️ @news · Telegram channel")."""
    labels = buttons(picker)
    return labels[: labels.index("All")] if "All" in labels else labels


async def to_preview(
    person: Person,
    status: JSON,
    *,
    accounts: str | Sequence[str] | None = None,
    when: str = "Tomorrow 09:00",
) -> Composed:
    """From a draft's status message: ✅ Done, tick the accounts, Next ➡, the time: the
    preview.

    `accounts`: "All"; or the accounts to have ticked, each by part of its label ("Mastodon",
    "@news · Telegram channel"), pressed only if not ticked yet; None: as they are, or the
    first account when none is. `when`: a time button's label, or a time to type."""
    picker = await person.presses(status, "✅ Done", "Where should it go")
    picked = picker
    if accounts == "All":
        picked = await person.presses(
            picker, "All", lambda m: all(b.startswith("✅") for b in account_buttons(m))
        )
    elif accounts is None:
        if not any(label.startswith("✅") for label in account_buttons(picker)):
            picked = await person.presses(picker, buttons(picker)[0], lambda m: True)
    else:
        for name in [accounts] if isinstance(accounts, str) else accounts:
            label = next(b for b in account_buttons(picked) if name in b)
            if not label.startswith("✅"):
                ticked = "✅ " + label.split(" ", 1)[1]
                picked = await person.presses(picked, label, lambda m, t=ticked: t in buttons(m))
    ask_time = await person.presses(picked, "Next ➡", "When?")
    if when in buttons(ask_time):
        preview = await person.presses(ask_time, when, "Preview")
    else:
        preview = await person.says(when, "Preview")
    return Composed(picker=picker, picked=picked, ask_time=ask_time, preview=preview)


async def schedule_draft(
    person: Person,
    status: JSON,
    *,
    accounts: str | Sequence[str] | None = None,
    when: str = "Tomorrow 09:00",
    expect: str = "Scheduled #",
) -> Composed:
    """`to_preview`, then ✅ Confirm; `expect` is in the "Scheduled #n" message."""
    steps = await to_preview(person, status, accounts=accounts, when=when)
    return replace(steps, scheduled=await person.presses(steps.preview, "✅ Confirm", expect))


async def schedule_text(person: Person, text: str, when: str = "Tomorrow 09:00") -> JSON:
    """Compose `text` for the already-picked single account and schedule it; `when` is a
    time button's label or a typed time. Returns the "Scheduled #n" message."""
    status = await person.says(text, "New post")
    return (await schedule_draft(person, status, when=when)).scheduled


async def make_due(crier: Crier) -> None:
    """Time passes: every queued target falls due now, and the engine is told."""
    from datetime import UTC, datetime

    from sqlalchemy import update

    from storage.models import Target, TargetStatus

    now = datetime.now(UTC)
    async with crier.db.session() as session:
        await session.execute(
            update(Target)
            .where(Target.status == TargetStatus.QUEUED)
            .values(publish_at=now, next_attempt_at=now)
        )
    assert crier.services is not None
    crier.services.wake_engine(now)


async def eventually(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Await `check()` (sync or async) until it returns something truthy."""
    import asyncio
    import inspect

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition still false after {timeout}s: {check}")
        await asyncio.sleep(0.05)


async def dm(tg: FakeTelegram, person: Person, text: str) -> dict:  # type: ignore[type-arg]
    """The bot's message containing `text`, whether it came already or comes soon."""

    def found() -> dict | None:  # type: ignore[type-arg]
        return next((m for m in tg.sent(person.user) if text in (m.get("text") or "")), None)

    return await eventually(found, timeout=10)
