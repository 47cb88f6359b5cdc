"""The tables, as typed SQLAlchemy models. Times are UTC, always timezone-aware in Python."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone, so it is stored naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


def _enum(cls: type[enum.Enum]) -> Enum:
    # Stored as plain strings so adding a member needs no database type change.
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Role(enum.StrEnum):
    USER = "user"
    ADMIN = "admin"


class UserStatus(enum.StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"  # the user blocked the bot
    BANNED = "banned"


class AccountStatus(enum.StrEnum):
    ACTIVE = "active"
    NEEDS_REAUTH = "needs_reauth"
    DISABLED = "disabled"


class PostStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class TargetStatus(enum.StrEnum):
    QUEUED = "queued"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"  # an attempt may or may not have reached the platform

    @property
    def is_final(self) -> bool:
        return self in FINAL_TARGET_STATUSES


FINAL_TARGET_STATUSES = frozenset(
    {TargetStatus.PUBLISHED, TargetStatus.FAILED, TargetStatus.CANCELLED, TargetStatus.UNKNOWN}
)


class NoticeStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DROPPED = "dropped"  # cannot be delivered (user blocked the bot, chat gone)


class User(Base):
    __tablename__ = "users"

    #: Telegram user id.
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    #: Private chat with the bot (equal to the user id in Telegram today).
    chat_id: Mapped[int] = mapped_column(BigInteger)
    first_name: Mapped[str] = mapped_column(String(128), default="")
    username: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64))
    #: False until the user confirmed or chose a timezone.
    timezone_set: Mapped[bool] = mapped_column(default=False)
    role: Mapped[Role] = mapped_column(_enum(Role), default=Role.USER)
    status: Mapped[UserStatus] = mapped_column(_enum(UserStatus), default=UserStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the user was last told about their status (a ban is announced once).
    status_notice_at: Mapped[datetime | None] = mapped_column()
    #: "Post now" waits this long with an ↩ Undo button first (0: off; /settings).
    undo_seconds: Mapped[int] = mapped_column(default=0, server_default="0")
    #: False when an admin turned off this user's REST API and MCP access (their tokens
    #: are refused while it is off).
    api_enabled: Mapped[bool] = mapped_column(default=True, server_default="1")


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (Index("ix_accounts_user", "user_id", "platform"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(32))
    #: What the user sees: "@mychannel", "alice.bsky.social".
    label: Mapped[str] = mapped_column(String(128))
    #: Stable platform-side identity (channel id, DID) used to spot duplicates.
    external_id: Mapped[str | None] = mapped_column(String(255))
    #: Non-secret settings: instance URL, channel username, board.
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Fernet token of the JSON credentials; never clear text.
    credentials: Mapped[str | None] = mapped_column(Text)
    status: Mapped[AccountStatus] = mapped_column(
        _enum(AccountStatus), default=AccountStatus.ACTIVE
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    token_expires_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship()


class Media(Base):
    __tablename__ = "media"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    #: Path under MEDIA_DIR; files are content-addressed and shared by equal media.
    storage_key: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # photo, video, animation, document
    mime: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column()
    height: Mapped[int | None] = mapped_column()
    duration: Mapped[float | None] = mapped_column()
    file_name: Mapped[str | None] = mapped_column(String(255))
    alt_text: Mapped[str | None] = mapped_column(Text)
    telegram_file_id: Mapped[str | None] = mapped_column(String(255))
    telegram_file_unique_id: Mapped[str | None] = mapped_column(String(128))
    #: What probing found beyond the columns: codecs, fps, container, alpha, orientation.
    probe: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PostMedia(Base):
    __tablename__ = "post_media"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="RESTRICT"), index=True)

    media: Mapped[Media] = relationship(lazy="joined")


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        Index("ix_posts_user_status", "user_id", "status"),
        # /list: a user's posts newest first (migration 0012).
        Index("ix_posts_user_id_id", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[PostStatus] = mapped_column(_enum(PostStatus), default=PostStatus.DRAFT)
    text: Mapped[str] = mapped_column(Text, default="")
    #: Per-account text overrides: {"<account id>": "text"}.
    overrides: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Accounts picked while composing (targets are created from them on confirm).
    draft_account_ids: Mapped[list[Any]] = mapped_column(default=list)
    #: The time picked while composing, or the first occurrence once scheduled.
    publish_at: Mapped[datetime | None] = mapped_column()
    #: RFC 5545 recurrence rule, evaluated in `timezone`.
    rrule: Mapped[str | None] = mapped_column(Text)
    timezone: Mapped[str | None] = mapped_column(String(64))
    #: The series' first occurrence as local wall time ("2026-12-24T09:00:00"), so every
    #: occurrence keeps that time of day across DST changes.
    dtstart_local: Mapped[str | None] = mapped_column(String(19))
    #: Telegram formatting of `text` (message entities as Bot API JSON), kept for Telegram
    #: targets and converted for others.
    entities: Mapped[list[Any]] = mapped_column(default=list)
    #: URL buttons under the post: rows of [{"text", "url"}] (None: none).
    buttons: Mapped[list[Any] | None] = mapped_column()
    #: The options the user chose for this post, over the account's defaults
    #: (bot/engine/options/values.py has the keys: silent, pin, delete_after, ...).
    options: Mapped[dict[str, Any] | None] = mapped_column()
    #: False when the post was made through the API with `notify: false`: no DMs about it.
    notify: Mapped[bool] = mapped_column(default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(lazy="raise")
    media_links: Mapped[list[PostMedia]] = relationship(
        order_by=PostMedia.position, cascade="all, delete-orphan", lazy="selectin"
    )
    targets: Mapped[list[Target]] = relationship(
        back_populates="post", order_by="Target.id", lazy="selectin"
    )


class Target(Base):
    __tablename__ = "targets"
    __table_args__ = (
        # id last: claims take the earliest due in (next_attempt_at, id) order, and without
        # it PostgreSQL sorted every due target on each claim (SQLite's rowid made it moot).
        Index("ix_targets_due", "status", "next_attempt_at", "id"),
        Index("ix_targets_post", "post_id", "occurrence"),
        Index("ix_targets_lease", "status", "lease_expires_at"),
        # The deleter's look for due deletions, on every sweep: those still to do first, so
        # the posts already deleted (which keep their delete_at) are never walked.
        Index("ix_targets_delete", "deleted_at", "delete_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    #: Owner, copied from the post so every read can be scoped without a join.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: 0 for a one-off post; n for the n-th occurrence of a recurring one.
    occurrence: Mapped[int] = mapped_column(default=0)
    #: The time the user chose (UTC).
    publish_at: Mapped[datetime] = mapped_column()
    status: Mapped[TargetStatus] = mapped_column(_enum(TargetStatus), default=TargetStatus.QUEUED)
    #: When the engine should next try: publish_at at first, later the retry time.
    next_attempt_at: Mapped[datetime] = mapped_column()
    attempts: Mapped[int] = mapped_column(default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    #: Stable per target and occurrence; sent to platforms that deduplicate on it.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    platform_post_id: Mapped[str | None] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column()
    #: Set when the outcome was included in a summary DM; cleared on retry.
    notified_at: Mapped[datetime | None] = mapped_column()
    #: A two-phase publish in progress: what the platform's adapter needs to carry on
    #: (`providers.base.Processing.handle`; never a secret), what it is doing ("processing
    #: the video") and since when. Kept across errors and restarts until the target is final,
    #: so nothing is uploaded twice.
    handle: Mapped[dict[str, Any] | None] = mapped_column()
    stage: Mapped[str | None] = mapped_column(String(160))
    processing_since: Mapped[datetime | None] = mapped_column()
    #: What the platform said it made (`PublishResult.ref`: every message or record id),
    #: for deleting or editing it later, and what went wrong after it was out (a refused pin).
    ref: Mapped[dict[str, Any] | None] = mapped_column()
    notes: Mapped[list[Any] | None] = mapped_column()
    #: Delete-after: when the published post is to be removed, and when it was.
    delete_at: Mapped[datetime | None] = mapped_column()
    deleted_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    post: Mapped[Post] = relationship(back_populates="targets")
    account: Mapped[Account] = relationship(lazy="joined")


class Attempt(Base):
    __tablename__ = "attempts"
    # Failure-rate alerts and stats read recent attempts by time.
    __table_args__ = (Index("ix_attempts_started", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column()
    duration_ms: Mapped[int] = mapped_column()
    #: published, transient, rate_limited, auth, permanent, ambiguous, abandoned
    outcome: Mapped[str] = mapped_column(String(20))
    http_status: Mapped[int | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(64))


class Notice(Base):
    """A DM waiting to be delivered: it stays a row until Telegram accepted it."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    #: "summary" (a post's outcome: several waiting for one chat go as one digest) or
    #: "message" (anything else, sent as it is).
    kind: Mapped[str] = mapped_column(String(20), default="message", server_default="message")
    text: Mapped[str] = mapped_column(Text)
    #: Inline keyboard as rows of [label, callback data].
    buttons: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[NoticeStatus] = mapped_column(_enum(NoticeStatus), default=NoticeStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()


class ConversationState(Base):
    """Where each user is in each conversation, so a restart resumes mid-compose."""

    __tablename__ = "conversation_states"
    __table_args__ = (UniqueConstraint("name", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    #: JSON of the conversation key tuple, e.g. "[42, 42]".
    key: Mapped[str] = mapped_column(String(128))
    state: Mapped[int] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FrontTurn(Base):
    """Which front-end is handling a user's update right now: several front-ends on one
    database take one user's updates in turn, as one process does (bot/handlers/persistence.py)."""

    __tablename__ = "front_turns"

    #: The Telegram user (no foreign key: a first /start comes before the users row).
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    owner: Mapped[str | None] = mapped_column(String(64))
    #: A front-end that died mid-update holds the turn until then.
    until: Mapped[datetime | None] = mapped_column()


class Lease(Base):
    """A role one process at a time plays among several on one database (sending the
    broadcasts): who has it, and until when if it dies. Also an open circuit breaker
    ("breaker:platform:x", "breaker:account:n"): until when every worker leaves it alone."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(64))
    until: Mapped[datetime | None] = mapped_column()


class Audit(Base):
    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class BroadcastStatus(enum.StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    DONE = "done"
    CANCELLED = "cancelled"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    BLOCKED = "blocked"  # 403: the user blocked the bot
    FAILED = "failed"


class Broadcast(Base):
    """An admin's message to many users; its deliveries make it resumable."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_by: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[BroadcastStatus] = mapped_column(
        _enum(BroadcastStatus), default=BroadcastStatus.DRAFT
    )
    #: What to send: text, media (ids or Telegram file ids), buttons.
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Who receives it: {"kind": "all" | "with_platform" | "active_days", ...}.
    segment: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Messages per second the broadcast may use.
    rate: Mapped[float] = mapped_column(default=30.0)
    total: Mapped[int] = mapped_column(default=0)
    sent: Mapped[int] = mapped_column(default=0)
    blocked: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    #: The admin's live progress message.
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()


class Delivery(Base):
    """One recipient of one broadcast: sent at most once."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "user_id"),
        Index("ix_deliveries_pending", "broadcast_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column()


class Invite(Base):
    """An invite code for allow-list mode."""

    __tablename__ = "invites"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_by: Mapped[int] = mapped_column(BigInteger)
    uses_left: Mapped[int] = mapped_column(default=1)
    expires_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AllowedUser(Base):
    """A Telegram user an admin let in (allow-list mode), possibly before they wrote."""

    __tablename__ = "allowed_users"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    added_by: Mapped[int | None] = mapped_column(BigInteger)
    #: The invite code used, if any.
    via_invite: Mapped[str | None] = mapped_column(String(32))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class Alert(Base):
    """Deduplication of operator alerts: one row per alert key."""

    __tablename__ = "alerts"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    first_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sent_at: Mapped[datetime | None] = mapped_column()
    count: Mapped[int] = mapped_column(default=0)
    resolved_at: Mapped[datetime | None] = mapped_column()


class Slot(Base):
    """A weekly posting time of one account ("Add to queue" fills the next free one)."""

    __tablename__ = "slots"
    __table_args__ = (UniqueConstraint("account_id", "weekday", "minute"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    #: 0 = Monday ... 6 = Sunday, in the user's timezone.
    weekday: Mapped[int] = mapped_column()
    #: Minutes after local midnight.
    minute: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Template(Base):
    """A saved post to start new ones from."""

    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text, default="")
    entities: Mapped[list[Any]] = mapped_column(default=list)
    #: Media ids, in order (rows stay owned by the user; clean-up keeps referenced files).
    media_ids: Mapped[list[Any]] = mapped_column(default=list)
    overrides: Mapped[dict[str, Any]] = mapped_column(default=dict)
    account_ids: Mapped[list[Any]] = mapped_column(default=list)
    #: The post's URL buttons and Telegram options, as on `Post` (None: none).
    buttons: Mapped[list[Any] | None] = mapped_column()
    options: Mapped[dict[str, Any] | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OAuthLogin(Base):
    """A sign-in started from /connect: bound to one user, single use, short-lived."""

    __tablename__ = "oauth_logins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: sha256 of the `state` sent to the platform; the state itself is never stored.
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    #: The PKCE code verifier, sealed like credentials (None: the platform has no PKCE).
    verifier: Mapped[str | None] = mapped_column(Text)
    #: pending (waiting for the platform), used (it came back, or it was refused).
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    #: A sign-in that reaches several destinations keeps its token (sealed) and the choices
    #: ({label, external_id, config}) until the user has picked, or it expires.
    token: Mapped[str | None] = mapped_column(Text)
    choices: Mapped[list[Any]] = mapped_column(default=list)


class WebhookStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # given up after every retry, or the URL was removed


class WebhookEndpoint(Base):
    """A user's outgoing webhook: where their post events go, and the signing secret."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True, index=True
    )
    url: Mapped[str] = mapped_column(String(2048))
    #: The `whsec_…` secret, sealed like account credentials (storage/secrets.py).
    secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One event for a user's webhook: a row until their receiver answered 2xx."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at", "id"),
        Index("ix_webhook_deliveries_user", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: The `webhook-id` header: the same on every try, so receivers can drop repeats.
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    #: post.published, post.failed, post.unknown, post.cancelled.
    type: Mapped[str] = mapped_column(String(32))
    #: The JSON body, as sent (type, timestamp, data).
    payload: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[WebhookStatus] = mapped_column(
        _enum(WebhookStatus), default=WebhookStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    #: The receiver's last HTTP status (None: no answer), and what went wrong.
    last_status: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column()


class ApiToken(Base):
    """A personal token for the REST API and the MCP server. Only its sha256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    #: "read" or "write" (write includes read).
    scope: Mapped[str] = mapped_column(String(8))
    #: sha256 of the whole token, hex.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()


class IdempotencyRecord(Base):
    """The first answer to a POST with an Idempotency-Key, replayed for 24 hours."""

    __tablename__ = "api_idempotency"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_api_idempotency_user_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    #: sha256 of method, path and body: another body with the same key is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column()
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
