"""Every setting Crier reads, from the environment or `.env`.

Each knob has a default that works on one machine: a SQLite file, long polling,
the engine in the same process as the bot.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    #: The bot's token from @BotFather. Required by `crier run` and `crier worker`.
    telegram_bot_token: SecretStr | None = None
    #: Bot API endpoint; point it at a self-hosted Bot API server (or a test fake).
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    #: File download endpoint of the same server.
    telegram_file_base_url: str = "https://api.telegram.org/file/bot"
    #: True when the Bot API server is self-hosted with --local (no 20 MB download cap).
    telegram_local_mode: bool = False
    #: Long-poll timeout for getUpdates, seconds.
    telegram_poll_timeout: int = 10

    database_url: str = "sqlite+aiosqlite:///./data/crier.db"
    #: Telegram user ids that are admins from the start, comma-separated.
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    #: The timezone offered to new users.
    default_timezone: str = "UTC"
    media_dir: Path = Path("./data/media")
    #: Fernet key for credentials at rest; `crier keygen` prints a fresh one.
    crier_encryption_key: SecretStr | None = None

    #: Run the publish engine inside `crier run` (turn off when `crier worker`s do it).
    run_engine: bool = True
    #: Publishes running at once, across all accounts.
    engine_concurrency: int = 32
    #: Publishes running at once across every worker on the database (0: no cap beyond each
    #: worker's ENGINE_CONCURRENCY). Per-platform and per-account limits are always global.
    engine_cluster_concurrency: int = 0
    #: Lower (or raise) a platform's publishes at once across every worker, e.g.
    #: `{"mastodon": 2}` (JSON); unnamed platforms keep their adapter's own limit.
    engine_platform_concurrency: dict[str, int] = Field(default_factory=dict)
    #: How often the engine looks for work it was not woken for (other processes), seconds.
    engine_sweep_seconds: float = 5.0
    #: How long a claimed target may stay `publishing` before it counts as abandoned, seconds.
    engine_lease_seconds: float = 300.0
    #: Longest a single publish call may take before it counts as timed out, seconds.
    engine_publish_timeout: float = 120.0
    #: Attempts before a target that keeps failing transiently is marked failed.
    engine_max_attempts: int = 5
    #: First retry delay; later ones grow exponentially with full jitter, seconds.
    engine_retry_base_seconds: float = 120.0
    #: Cap on a single retry delay, seconds.
    engine_retry_max_seconds: float = 900.0
    #: Consecutive transient failures that open a platform's (or account's) circuit breaker.
    engine_breaker_threshold: int = 5
    #: How long an open breaker keeps calls away before one probe, seconds (doubles up to 15 min).
    engine_breaker_cooldown_seconds: float = 60.0
    #: On SIGTERM, how long publishes in flight may take to finish, seconds.
    engine_shutdown_grace_seconds: float = 30.0
    #: After a digest of post outcomes, how long a user's next summaries wait to go together
    #: (so a burst of posts makes a few DMs, not one per post), seconds.
    notice_digest_seconds: float = 60.0

    #: Largest file the bot downloads from Telegram (the cloud Bot API refuses more than 20 MB).
    max_download_bytes: int = 20 * 1024 * 1024
    #: Media items one post may carry.
    max_media_per_post: int = 10

    #: Bluesky: where handles are resolved and DID documents are read.
    bluesky_resolver_url: str = "https://bsky.social"
    bluesky_plc_url: str = "https://plc.directory"
    #: Refuse generic webhooks to loopback/private addresses (protects the server's network).
    webhook_block_private_hosts: bool = True
    #: Outgoing webhooks (a user's URL for post events): the first retry's wait, the longest
    #: wait, seconds; tries before giving up; each request's time-out, seconds.
    webhook_retry_base_seconds: float = 30.0
    webhook_retry_max_seconds: float = 6 * 3600.0
    webhook_max_attempts: int = 12
    webhook_timeout_seconds: float = 10.0

    log_level: str = "INFO"

    # --- platforms that connect by signing in (OAuth) ---
    #: Crier's public https address, e.g. https://crier.example.com: sign-ins come back to
    #: PUBLIC_URL/oauth/<platform>/callback on the web server (register that URL with each
    #: platform). Unset: no platform that needs a sign-in is offered.
    public_url: str | None = None
    #: X: an app in the X developer portal (OAuth 2.0, type "Web App", confidential).
    x_client_id: str | None = None
    x_client_secret: SecretStr | None = None
    #: The app's X API plan (pay_per_use, pro, basic, free): sets the per-account post quota.
    x_api_plan: Literal["pay_per_use", "pro", "basic", "free"] = "pay_per_use"
    #: LinkedIn: an app at linkedin.com/developers with "Share on LinkedIn" and "Sign In with
    #: LinkedIn using OpenID Connect"...
    linkedin_client_id: str | None = None
    linkedin_client_secret: SecretStr | None = None
    #: ...or, true, an app with the Community Management API (pages the user administers).
    linkedin_organizations: bool = False
    #: Pinterest: an app at developers.pinterest.com.
    pinterest_client_id: str | None = None
    pinterest_client_secret: SecretStr | None = None
    #: YouTube: an OAuth client (web application) in a Google Cloud project with the YouTube
    #: Data API v3 enabled.
    google_client_id: str | None = None
    google_client_secret: SecretStr | None = None
    #: Facebook Pages and Instagram: one Meta app (developers.facebook.com, Facebook Login for
    #: Business) signs in to both.
    meta_app_id: str | None = None
    meta_app_secret: SecretStr | None = None
    #: Threads: the Threads app id and secret (the Threads use case of a Meta app).
    threads_app_id: str | None = None
    threads_app_secret: SecretStr | None = None
    #: TikTok: an app at developers.tiktok.com with Login Kit and the Content Posting API.
    tiktok_client_key: str | None = None
    tiktok_client_secret: SecretStr | None = None
    #: How often tokens that expire soon are refreshed, seconds.
    token_refresh_seconds: float = Field(default=300.0, gt=0)

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an address like https://crier.example.com")
        return value

    # --- admin & access (issue 7) ---
    #: "open": anyone may use the bot. "allowlist": only admins, people an admin let in
    #: (/allow, or an invite from /invite) and people who already use the bot.
    access: str = "open"
    #: Days an invite code stays valid.
    invite_days: int = Field(default=14, ge=1, le=365)
    #: Broadcast messages per second. Telegram allows about 30/s (1,000/s as paid broadcasts).
    broadcast_rate: float = Field(default=30.0, gt=0, le=1000)
    #: Send broadcasts as paid broadcasts (each message costs Telegram Stars); needed above 30/s.
    broadcast_paid: bool = False
    #: Updates (messages, button presses) one user may send per USER_RATE_WINDOW seconds.
    user_rate_limit: int = Field(default=20, ge=1)
    user_rate_window: float = Field(default=10.0, gt=0)
    #: Updates one user may have waiting to be handled; past it, more are dropped at once.
    user_backlog: int = Field(default=1000, ge=1)
    #: Updates handled at once (of different users; one user's are always one at a time).
    update_concurrency: int = Field(default=64, ge=1)
    #: Telegram's limits, kept before sending (bot/ops/outbound.py): messages a second to all
    #: chats, and to one private chat after a burst of TELEGRAM_CHAT_BURST.
    telegram_rate: float = Field(default=28.0, gt=0)
    telegram_chat_rate: float = Field(default=0.9, gt=0)
    telegram_chat_burst: int = Field(default=3, ge=1)
    #: Longest text one post may have, in characters (each platform's own limit still applies).
    max_text_length: int = Field(default=20_000, ge=1)
    #: Posts one user may have waiting to be published at once.
    max_pending_posts_per_user: int = Field(default=500, ge=1)

    @field_validator("access")
    @classmethod
    def _access_mode(cls, value: str) -> str:
        if value.strip().lower() not in ("open", "allowlist"):
            raise ValueError('must be "open" or "allowlist"')
        return value.strip().lower()

    @model_validator(mode="after")
    def _paid_above_free_rate(self) -> Settings:
        if self.broadcast_rate > 30 and not self.broadcast_paid:
            raise ValueError(
                "BROADCAST_RATE above 30 needs BROADCAST_PAID=true: Telegram allows more than "
                "30 messages/s only as paid broadcasts"
            )
        return self

    # --- media (issue 5) ---
    #: Most bytes of media one user may keep stored (each distinct file once); 0: no limit.
    media_quota_bytes: int = 500_000_000
    #: Days a file stays after no draft or unfinished post needs it (finished posts can be
    #: retried until then).
    media_retention_days: float = 7.0
    #: How often the media clean-up runs, seconds.
    media_cleanup_interval: float = 3600.0

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(" ", "").split(",") if part]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA timezone {value!r}, e.g. Europe/Berlin") from exc
        return value

    @property
    def token(self) -> str:
        if self.telegram_bot_token is None:
            raise RuntimeError("TELEGRAM_BOT_TOKEN is not set")
        return self.telegram_bot_token.get_secret_value()

    # --- operations (issue 7) ---
    #: How updates arrive: `polling` (getUpdates) or `webhook` (Telegram POSTs to WEBHOOK_URL).
    telegram_mode: Literal["polling", "webhook"] = "polling"
    #: Public HTTPS URL Telegram posts updates to; the reverse proxy forwards it to /telegram.
    webhook_url: str | None = None
    #: Telegram sends it in X-Telegram-Bot-Api-Secret-Token; required in webhook mode.
    webhook_secret: SecretStr | None = None
    #: Where the web server (webhook, /healthz, /metrics) listens.
    web_host: str = "127.0.0.1"
    #: Its port; 0 turns the web server off (polling mode only).
    web_port: int = Field(default=8080, ge=0, le=65535)
    #: The public address of the web server's /media route, e.g.
    #: https://crier.example.com/media: webhooks in "urls" mode get links there instead of
    #: the files inline. Unset: files always go inline.
    public_media_url: str | None = None
    #: `console` (readable lines) or `json` (one object per line, for log collectors).
    log_format: Literal["console", "json"] = "console"
    #: /healthz: longest the database may take to answer a trivial query, seconds.
    health_db_timeout_seconds: float = Field(default=3.0, gt=0)
    #: How often alert conditions are checked, seconds (0 turns the checks off).
    alert_check_seconds: float = Field(default=30.0, ge=0)
    #: An alert that goes on is repeated at most this often, minutes.
    alert_repeat_minutes: float = Field(default=60.0, gt=0)
    #: The same unexpected error is reported at most this often, minutes.
    alert_error_repeat_minutes: float = Field(default=10.0, gt=0)
    #: A platform alerts when this share of its publish attempts failed in the window (0-1)...
    alert_failure_rate: float = Field(default=0.5, gt=0, le=1)
    #: ...counting only windows with at least this many attempts...
    alert_failure_min_attempts: int = Field(default=10, ge=1)
    #: ...over the last this many minutes.
    alert_failure_window_minutes: float = Field(default=60.0, gt=0)
    #: Posts still queued this long after their time mean the engine stalled, seconds.
    alert_overdue_seconds: float = Field(default=60.0, gt=0)
    #: A DM waiting in the outbox this long means notices are backing up, minutes.
    alert_notice_age_minutes: float = Field(default=10.0, gt=0)
    #: Free space under MEDIA_DIR below this alerts, megabytes.
    alert_disk_free_mb: int = Field(default=1024, ge=0)

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram accepts 1-256 characters A-Z, a-z, 0-9, _ and - (setWebhook secret_token).
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()
        ):
            raise ValueError(
                "must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule); "
                'generate one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'
            )
        return value

    @model_validator(mode="after")
    def _webhook_mode_complete(self) -> Settings:
        if self.telegram_mode != "webhook":
            return self
        needs = []
        if not self.webhook_url:
            needs.append("WEBHOOK_URL (the public https:// URL Telegram posts updates to)")
        elif not self.webhook_url.startswith("https://"):
            needs.append("WEBHOOK_URL to start with https:// (Telegram only calls HTTPS)")
        if self.webhook_secret is None:
            needs.append(
                "WEBHOOK_SECRET (Telegram sends it with every update, so nobody else can post "
                'fake ones; python -c "import secrets; print(secrets.token_urlsafe(32))")'
            )
        if self.web_port == 0:
            needs.append("WEB_PORT (the port /telegram listens on; 0 turns the server off)")
        if needs:
            raise ValueError("TELEGRAM_MODE=webhook needs " + "; and ".join(needs))
        return self

    # --- bulk scheduling from a CSV file (issue 6: bulk) ---
    #: Most rows one bulk CSV file may have (the header not counted).
    bulk_max_rows: int = Field(default=500, ge=1, le=5000)
    #: Longest one media link of a bulk file may take to download, redirects included, seconds.
    media_fetch_timeout: float = Field(default=30.0, gt=0)
    #: Largest file a media link may serve, bytes.
    media_fetch_max_bytes: int = Field(default=50_000_000, ge=1)
    #: Redirects followed for one media link.
    media_fetch_max_redirects: int = Field(default=3, ge=0, le=10)
    #: Let media links point at loopback and private addresses (tests and trusted networks
    #: only: on a public instance it would let users reach the server's own network).
    media_fetch_allow_private: bool = False

    # --- the REST API at /api/v1 (issue 18) ---
    #: Serve the REST API on the web app (WEB_PORT must not be 0).
    api_enabled: bool = True
    #: Requests one token may make per minute, on average, and in a burst.
    api_rate_per_minute: float = Field(default=120.0, gt=0)
    api_burst: int = Field(default=30, ge=1)
    #: Largest file one upload to POST /media may be, bytes.
    api_upload_max_bytes: int = Field(default=50_000_000, ge=1)
