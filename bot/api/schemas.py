"""The API's request and response bodies: the single source of the OpenAPI document.
Times are RFC 3339 with an offset (UTC in answers)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_TEXT = 100_000
MAX_IDS = 50
MAX_ID = 2**31 - 1
#: An id in a body: what the database's keys can hold (a bigger number is no id of ours).
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccountOut(BaseModel):
    id: int = Field(examples=[1])
    platform: str = Field(examples=["mastodon"])
    platform_name: str = Field(examples=["Mastodon"])
    label: str = Field(examples=["@crier@mastodon.social"])
    #: active, needs_reauth or disabled.
    status: str = Field(examples=["active"])


class AccountList(BaseModel):
    items: list[AccountOut]


class MediaOut(BaseModel):
    id: int = Field(examples=[7])
    kind: str = Field(description="photo, video or animation", examples=["photo"])
    mime: str = Field(examples=["image/jpeg"])
    size: int = Field(description="bytes", examples=[183204])
    width: int | None = Field(default=None, examples=[1600])
    height: int | None = Field(default=None, examples=[1200])
    duration: float | None = Field(default=None, description="seconds", examples=[None])
    alt_text: str | None = Field(default=None, examples=["A lighthouse at sunset"])
    sha256: str = Field(
        examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]
    )


class PostIn(Strict):
    """A post to schedule: the same checks as the chat's preview, then one copy per account."""

    text: str = Field(default="", max_length=MAX_TEXT, examples=["Launch day! 🚀"])
    media_ids: list[Id] = Field(
        default_factory=list, max_length=MAX_IDS, description="from POST /media", examples=[[7]]
    )
    account_ids: list[Id] = Field(min_length=1, max_length=MAX_IDS, examples=[[1, 3]])
    time: str | None = Field(
        default=None,
        max_length=100,
        description=(
            "RFC 3339 with an offset (`2026-12-24T18:00:00+01:00`), or words as typed in the "
            "chat, read in your timezone (`tomorrow 9am`, `in 2h`, `fri 18:30`), or `now` "
            "(the default). Leave out with `queue: true`."
        ),
        examples=["tomorrow 9am"],
    )
    queue: bool = Field(default=False, description="each account's next free queue slot (/slots)")
    repeat: str | None = Field(
        default=None,
        max_length=300,
        description="an RFC 5545 RRULE, in your timezone, starting at `time`",
        examples=["FREQ=WEEKLY;BYDAY=MO"],
    )
    per_account_text: dict[str, str] = Field(
        default_factory=dict,
        description='an account\'s own text instead of `text`: {"<account id>": "text"}',
        examples=[{"3": "Launch day! (shorter for Bluesky)"}],
    )
    thread: dict[str, list[str]] = Field(
        default_factory=dict,
        description='an account\'s post as a thread: {"<account id>": ["part 1", "part 2"]}',
        examples=[{"1": ["First part", "Second part"]}],
    )
    alt_text: dict[str, str] = Field(
        default_factory=dict,
        description='alt text per media id: {"<media id>": "description"}',
        examples=[{"7": "A lighthouse at sunset"}],
    )
    notify: bool = Field(
        default=True, description="false: no Telegram DMs about this post's outcome"
    )


class PostPatch(Strict):
    """Changes to a scheduled post's copies still waiting (the rules of /edit). Fields left
    out stay as they are."""

    text: str | None = Field(default=None, max_length=MAX_TEXT, examples=["Launch day, moved!"])
    time: str | None = Field(
        default=None, max_length=100, description="as in POST /posts", examples=["fri 18:30"]
    )
    account_ids: list[Id] | None = Field(default=None, max_length=MAX_IDS, examples=[[1]])
    media_ids: list[Id] | None = Field(default=None, max_length=MAX_IDS, examples=[[7]])
    per_account_text: dict[str, str | None] | None = Field(
        default=None,
        description="set (a text) or drop (null) an account's own text",
        examples=[{"3": None}],
    )


class AttemptOut(BaseModel):
    at: datetime
    outcome: str = Field(examples=["published"])
    http_status: int | None = None
    error: str | None = None
    duration_ms: int


class TargetOut(BaseModel):
    """One copy of the post: one account, one occurrence."""

    account_id: int = Field(examples=[1])
    account: str = Field(examples=["@news"])
    platform: str = Field(examples=["telegram"])
    occurrence: int = Field(description="0, then 1, 2… for a repeating post", examples=[0])
    status: Literal["queued", "publishing", "published", "failed", "cancelled", "unknown"]
    publish_at: datetime
    attempts: int = Field(examples=[1])
    url: str | None = Field(default=None, examples=["https://t.me/news/42"])
    published_at: datetime | None = None
    error: str | None = None
    history: list[AttemptOut] = Field(default_factory=list)


class PostOut(BaseModel):
    id: int = Field(examples=[12])
    status: Literal["scheduled", "cancelled"]
    text: str = Field(examples=["Launch day! 🚀"])
    media: list[MediaOut] = Field(default_factory=list)
    publish_at: datetime | None = None
    repeat: str | None = Field(default=None, examples=[None])
    timezone: str | None = Field(default=None, examples=["Europe/Berlin"])
    notify: bool = True
    created_at: datetime
    targets: list[TargetOut]


class PostPage(BaseModel):
    items: list[PostOut]
    next_cursor: str | None = Field(
        default=None, description="pass as `cursor` for the next page; null on the last"
    )


class Changed(BaseModel):
    """What an action did, and the post afterwards."""

    changed: int = Field(description="copies affected", examples=[2])
    series_stopped: bool = Field(default=False, description="DELETE of a whole series")
    post: PostOut
