"""A post's Telegram options over its account's defaults, and when delete-after falls due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.engine.options import values
from providers.base import AlbumButtons, LinkButton, LinkPreview, TelegramOptions

OUT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_nothing_chosen_changes_nothing_on_the_wire() -> None:
    assert values.telegram_options(values.effective(None, None)) == TelegramOptions()
    assert values.delete_at(values.effective(None, None), OUT) is None


def test_the_post_wins_over_the_account_and_the_account_over_crier() -> None:
    config = {"post_silent": True, "post_pin": "notify", "post_delete_after": "24h"}
    chosen = values.effective({"pin": "off"}, config)
    options = values.telegram_options(chosen)
    assert options.silent is True
    assert options.pin is False
    assert values.delete_at(chosen, OUT) == OUT + timedelta(hours=24)


@pytest.mark.parametrize(
    ("preview", "kind", "above"),
    [
        ("auto", LinkPreview.AUTO, False),
        ("off", LinkPreview.OFF, False),
        ("small", LinkPreview.SMALL, False),
        ("large", LinkPreview.LARGE, False),
        ("above", LinkPreview.AUTO, True),
    ],
)
def test_link_preview_choices(preview: str, kind: LinkPreview, above: bool) -> None:
    options = values.telegram_options({"link_preview": preview})
    assert (options.link_preview, options.link_preview_above_text) == (kind, above)


def test_pin_and_album_choices() -> None:
    silent = values.telegram_options({"pin": "silent", "album_buttons": "drop"})
    assert (silent.pin, silent.pin_notify, silent.album_buttons) == (True, False, AlbumButtons.DROP)
    loud = values.telegram_options({"pin": "notify", "album_buttons": "nonsense"})
    assert (loud.pin, loud.pin_notify, loud.album_buttons) == (True, True, AlbumButtons.MESSAGE)


def test_a_fixed_time_wins_over_a_default_duration() -> None:
    at = OUT + timedelta(days=3)
    chosen = values.effective({"delete_at": at.isoformat()}, {"post_delete_after": "1h"})
    assert values.delete_at(chosen, OUT) == at
    assert values.delete_after(chosen, OUT) == timedelta(days=3)
    # Published late, past the fixed time: deleted at once, never before it was out.
    assert values.delete_at(chosen, at + timedelta(hours=1)) == at + timedelta(hours=1)


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("off", None),
        (None, None),
        (0, None),
        ("1h", timedelta(hours=1)),
        ("30d", timedelta(days=30)),
        (7200, timedelta(hours=2)),
        ("bogus", None),
    ],
)
def test_durations(stored: object, expected: timedelta | None) -> None:
    assert values.duration(stored) == expected


def test_buttons_round_trip_and_reach_only_telegram() -> None:
    rows = ((LinkButton(text="A", url="https://a.example"), LinkButton(text="B", url="tg://x")),)
    stored = values.buttons_json(rows)
    assert values.buttons_of(stored) == rows
    assert values.buttons_json(()) is None
    fields = values.content_fields(stored, {"silent": True}, None, "telegram", OUT)
    assert fields["buttons"] == rows
    assert fields["telegram"].silent is True
    assert values.content_fields(stored, {"silent": True}, None, "mastodon", OUT) == {}
    assert values.delete_at_for({"delete_after": "1h"}, None, "mastodon", OUT) is None
    assert values.delete_at_for({"delete_after": "1h"}, None, "telegram", OUT) == OUT + timedelta(
        hours=1
    )
