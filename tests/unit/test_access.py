"""The pieces of access control that need no bot: the flood limit, deep links, caps, roles
and the settings that drive them."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from bot.admin import access
from bot.compose import posting
from bot.config import Settings
from bot.handlers.inbound import Flood, FloodGuard
from storage.models import Role, User


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_the_flood_limit_allows_a_burst_then_warns_once_per_window() -> None:
    clock = Clock()
    guard = FloodGuard(limit=3, window=3.0, clock=clock)
    assert [guard.hit(1) for _ in range(3)] == [Flood.OK] * 3
    assert guard.hit(1) is Flood.WARN
    assert guard.hit(1) is Flood.QUIET
    assert guard.hit(2) is Flood.OK, "each user has their own bucket"
    clock.now += 1.0  # one update's worth refilled (3 per 3 s)
    assert guard.hit(1) is Flood.OK
    assert guard.hit(1) is Flood.QUIET, "still within the window of the last warning"
    clock.now += 3.0
    assert [guard.hit(1) for _ in range(3)] == [Flood.OK] * 3
    assert guard.hit(1) is Flood.WARN, "a new window, a new warning"


def test_the_flood_limit_forgets_idle_users(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FloodGuard, "MAX_TRACKED", 3)
    clock = Clock()
    guard = FloodGuard(limit=2, window=10.0, clock=clock)
    for uid in range(3):
        guard.hit(uid)
    clock.now += 11
    guard.hit(99)
    assert set(guard._buckets) == {99}
    guard.hit(99)
    assert guard.hit(99) is Flood.WARN, "an active user's bucket is kept"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("/start abc-DEF_1", "abc-DEF_1"),
        ("/start@crier_bot abc", "abc"),
        ("/start", None),
        ("/start a b", None),
        ("hello", None),
        (None, None),
        ("/started abc", None),
    ],
)
def test_the_deep_link_payload_is_read_from_start_only(text: str | None, code: str | None) -> None:
    assert access.start_argument(text) == code


def test_text_and_pending_post_caps() -> None:
    small = settings(max_text_length=10)
    assert posting.text_problem("x" * 10, small) is None
    problem = posting.text_problem("x" * 12_345, small)
    assert problem is not None
    assert "12,345 characters" in problem
    assert "most I take is 10" in problem


def test_who_is_an_admin() -> None:
    config = settings(admin_ids="7, 8")
    assert access.is_admin(User(id=7, role=Role.USER), config), "from ADMIN_IDS"
    assert access.is_admin(User(id=9, role=Role.ADMIN), config), "promoted"
    assert not access.is_admin(User(id=9, role=Role.USER), config)
    assert not access.is_admin(None, config)


def test_settings_refuse_what_telegram_would_not_allow() -> None:
    assert settings(access="Allowlist").access == "allowlist"
    with pytest.raises(ValidationError, match="open"):
        settings(access="closed")
    with pytest.raises(ValidationError, match="BROADCAST_PAID"):
        settings(broadcast_rate=100)
    assert settings(broadcast_rate=100, broadcast_paid=True).broadcast_rate == 100
    with pytest.raises(ValidationError):
        settings(broadcast_rate=0)
    with pytest.raises(ValidationError):
        settings(user_rate_limit=0)
