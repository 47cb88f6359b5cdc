"""A post's URL buttons and Telegram options, as stored and as providers take them.

The post keeps only what the user chose for it (`Post.options`, keys below); whatever it
does not say comes from the account's defaults, which the Telegram adapter declares as
`AccountOption`s (/accounts → ⚙️) under the same keys prefixed with "post_". So a new post
starts from the account's defaults, and changing a default later changes the posts that
never chose otherwise.

Delete-after is either a duration counted from when the post goes out (1 hour … 30 days)
or a fixed time; the engine turns it into `targets.delete_at` when the post is published
(bot/engine/options/deleter.py deletes it then).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from providers.base import AlbumButtons, ButtonRows, LinkButton, LinkPreview, TelegramOptions

SILENT = "silent"
PROTECT = "protect_content"
SPOILER = "spoiler"
#: auto, off, small, large, above (Telegram's choice of size, above the text).
LINK_PREVIEW = "link_preview"
#: off, silent (members are not notified of the pin), notify.
PIN = "pin"
#: message, drop: what an album does with its buttons.
ALBUM_BUTTONS = "album_buttons"
#: A duration name of `DURATIONS` or "off"; or seconds (an int) for one not in the list.
DELETE_AFTER = "delete_after"
#: A fixed time (ISO 8601, UTC) to delete the post at, instead of a duration.
DELETE_AT = "delete_at"

#: The account config key of a default: "post_silent", "post_pin", ...
DEFAULT_PREFIX = "post_"

LINK_PREVIEWS = {
    "auto": "Auto",
    "off": "Off",
    "small": "Small",
    "large": "Large",
    "above": "Above the text",
}
PINS = {"off": "No", "silent": "Yes, silently", "notify": "Yes, notify"}
#: Delete-after durations offered, in order.
DURATIONS: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "12h": timedelta(hours=12),
    "24h": timedelta(hours=24),
    "48h": timedelta(hours=48),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
MIN_DELETE_AFTER = timedelta(hours=1)
MAX_DELETE_AFTER = timedelta(days=30)

_DEFAULTS: dict[str, Any] = {
    SILENT: False,
    PROTECT: False,
    SPOILER: False,
    LINK_PREVIEW: "auto",
    PIN: "off",
    ALBUM_BUTTONS: AlbumButtons.MESSAGE.value,
    DELETE_AFTER: "off",
}


def effective(chosen: Mapping[str, Any] | None, config: Mapping[str, Any] | None) -> dict[str, Any]:
    """Every option: the post's choice, else the account's default, else Crier's."""
    chosen = chosen or {}
    config = config or {}
    values: dict[str, Any] = {}
    for key, default in _DEFAULTS.items():
        if key in chosen:
            values[key] = chosen[key]
        elif DEFAULT_PREFIX + key in config:
            values[key] = config[DEFAULT_PREFIX + key]
        else:
            values[key] = default
    if chosen.get(DELETE_AT) and DELETE_AFTER not in chosen:
        values[DELETE_AFTER] = "off"  # a fixed time the user chose wins over a default
    values[DELETE_AT] = chosen.get(DELETE_AT)
    return values


def telegram_options(values: Mapping[str, Any]) -> TelegramOptions:
    preview = str(values.get(LINK_PREVIEW) or "auto")
    pin = str(values.get(PIN) or "off")
    album = str(values.get(ALBUM_BUTTONS) or AlbumButtons.MESSAGE.value)
    return TelegramOptions(
        silent=bool(values.get(SILENT)),
        protect_content=bool(values.get(PROTECT)),
        spoiler=bool(values.get(SPOILER)),
        link_preview=LinkPreview.AUTO if preview == "above" else _enum(LinkPreview, preview),
        link_preview_above_text=preview == "above",
        pin=pin in ("silent", "notify"),
        pin_notify=pin == "notify",
        album_buttons=_enum(AlbumButtons, album),
    )


def duration(value: object) -> timedelta | None:
    """A stored delete-after: a name of `DURATIONS`, or seconds; None for off."""
    if isinstance(value, bool) or value in (None, "", "off", 0):
        return None
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    return DURATIONS.get(str(value))


def fixed_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def delete_after(values: Mapping[str, Any], publish_at: datetime | None) -> timedelta | None:
    """How long after going out the post is to be deleted (a fixed time counted from
    `publish_at`, or from now when that is not known yet)."""
    at = fixed_time(values.get(DELETE_AT))
    if at is not None:
        start = publish_at or datetime.now(UTC)
        return max(at - start, timedelta(0))
    return duration(values.get(DELETE_AFTER))


def delete_at(values: Mapping[str, Any], published_at: datetime) -> datetime | None:
    """When the post published at `published_at` is to be deleted; None: never."""
    at = fixed_time(values.get(DELETE_AT))
    if at is not None:
        return max(at, published_at)
    after = duration(values.get(DELETE_AFTER))
    return published_at + after if after is not None else None


def delete_at_for(
    chosen: Mapping[str, Any] | None,
    config: Mapping[str, Any] | None,
    platform: str,
    published_at: datetime,
) -> datetime | None:
    """`targets.delete_at` of a post just published on an account of `platform`."""
    if platform != "telegram":
        return None
    return delete_at(effective(chosen, config), published_at)


# -- buttons --------------------------------------------------------------------------------


def buttons_of(stored: Sequence[Any] | None) -> ButtonRows:
    """The rows stored on a post (rows of {"text", "url"})."""
    rows: list[tuple[LinkButton, ...]] = []
    for row in stored or ():
        if isinstance(row, list):
            rows.append(
                tuple(
                    LinkButton(text=str(b.get("text", "")), url=str(b.get("url", "")))
                    for b in row
                    if isinstance(b, dict)
                )
            )
    return tuple(rows)


def buttons_json(rows: ButtonRows) -> list[list[dict[str, str]]] | None:
    """The rows as a post stores them; None for no buttons."""
    if not rows:
        return None
    return [[{"text": b.text, "url": b.url} for b in row] for row in rows]


def content_fields(
    stored_buttons: Sequence[Any] | None,
    chosen: Mapping[str, Any] | None,
    config: Mapping[str, Any] | None,
    platform: str,
    publish_at: datetime | None,
) -> dict[str, Any]:
    """`PostContent`'s buttons, telegram and delete_after for an account of `platform`:
    buttons and options reach Telegram only (elsewhere nothing can show them)."""
    if platform != "telegram":
        return {}
    values = effective(chosen, config)
    return {
        "buttons": buttons_of(stored_buttons),
        "telegram": telegram_options(values),
        "delete_after": delete_after(values, publish_at),
    }


def _enum(cls: Any, value: str) -> Any:
    try:
        return cls(value)
    except ValueError:
        return next(iter(cls))
