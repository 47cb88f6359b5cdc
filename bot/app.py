"""Assembles Crier: the PTB application, the services, the engine and the notifier.
The only module that knows every part."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

import httpx
from starlette.types import ASGIApp
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from bot.accounts import oauth, tokens
from bot.admin import access
from bot.admin import alerts as alerts_registry
from bot.admin.alerts import Alerts
from bot.api import app as rest_api
from bot.api import mcp as mcp_server
from bot.config import Settings
from bot.engine.cluster.listen import listen_dsn
from bot.engine.notifier import Notifier
from bot.engine.runner import Engine, EngineConfig
from bot.engine.webhooks.sender import DeliveryPolicy, WebhookSender
from bot.handlers import accounts, connect, conversation, gate, start
from bot.handlers import bulk as bulk_handlers  # issue 6: bulk
from bot.handlers import options as account_options  # /accounts → ⚙️ Options
from bot.handlers import settings as user_settings  # issue 6: timezone
from bot.handlers import slots as queue_slots  # issue 6: queue slots
from bot.handlers.admin import broadcast as broadcast_handlers
from bot.handlers.admin import commands as admin
from bot.handlers.automation import api_tokens
from bot.handlers.automation import webhook as webhook_handlers  # issue 18: outgoing webhooks
from bot.handlers.inbound import Budget, FairUpdates
from bot.handlers.persistence import DatabasePersistence, SharedConversations
from bot.handlers.platforms import destinations
from bot.handlers.platforms import settings as platform_settings
from bot.handlers.posts import drafts as draft_handlers  # issue 6: drafts
from bot.handlers.posts import history, published, schedules
from bot.handlers.posts import templates as template_handlers  # issue 6: templates
from bot.media import cleanup as media_cleanup
from bot.media.links import MediaLinks, link_key
from bot.ops import metrics, signin
from bot.ops.metrics import DatabaseFigures, scrape_registry
from bot.ops.outbound import PacedLimiter, PaceLimits, TelegramPace
from bot.ops.platforms import build_registry
from bot.ops.wakeup import Wakeup
from bot.ops.web import Health, MediaFiles, Webhook, WebServer, WebServerError, build_app
from bot.services import BotData, CustomContext, Services, utc_now
from providers.base import Provider
from storage import accounts as accounts_repo
from storage.db import Database
from storage.migrate import upgrade
from storage.secrets import SecretBox, SecretsUnavailable

log = logging.getLogger(__name__)

#: The updates Crier handles, asked for by polling and by setWebhook alike.
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]


async def check_secrets(db: Database, secrets: SecretBox) -> None:
    """Refuse to start with a key that can't read the stored credentials (nothing is
    overwritten); without any key, warn that credentials can't be stored."""
    sample = await db.run(accounts_repo.any_credentials)
    if sample is None:
        if not secrets.available:
            log.warning(
                "CRIER_ENCRYPTION_KEY is not set: Dry run and Telegram channels work, but "
                "accounts that need a password or token can't be connected. Generate a key "
                "with `crier keygen` and set CRIER_ENCRYPTION_KEY."
            )
        return
    if not secrets.available:
        raise SecretsUnavailable(
            "Accounts with stored credentials exist, but CRIER_ENCRYPTION_KEY is not set. "
            "Set it to the key they were stored with."
        )
    secrets.open(sample)  # raises WrongKey


class Crier:
    """The running application. `mode` is "bot" (Telegram front-end, plus the engine unless
    RUN_ENGINE is off) or "worker" (engine and notices only)."""

    def __init__(
        self,
        settings: Settings,
        *,
        mode: str = "bot",
        providers: Sequence[Provider] = (),
        clock: Callable[[], datetime] = utc_now,
        owner: str | None = None,
    ) -> None:
        self.settings = settings
        self.mode = mode
        self._extra_providers = providers
        self._clock = clock
        self._owner = owner
        self.db = Database(settings.database_url)
        #: Signed links to stored files for platforms that fetch media (Instagram, Threads,
        #: TikTok's photos): needs PUBLIC_URL, and a key (from CRIER_ENCRYPTION_KEY).
        key = settings.crier_encryption_key
        self.links = (
            MediaLinks(settings.public_url, link_key(key.get_secret_value()))
            if settings.public_url and key is not None
            else None
        )
        #: The pace of everything sent to Telegram: replies, notices, broadcasts.
        self.pace = TelegramPace(
            PaceLimits(
                overall_per_second=settings.telegram_rate,
                overall_burst=settings.telegram_rate,
                private_per_second=settings.telegram_chat_rate,
                private_burst=settings.telegram_chat_burst,
            )
        )
        self.updates = FairUpdates(
            Budget(settings.user_rate_limit, settings.user_rate_window),
            active=settings.update_concurrency,
            backlog=settings.user_backlog,
            on_overflow=self._overflowed,
        )
        builder = (
            ApplicationBuilder()
            .token(settings.token)
            .base_url(settings.telegram_api_base_url)
            .base_file_url(settings.telegram_file_base_url)
            .local_mode(settings.telegram_local_mode)
            .context_types(ContextTypes(context=CustomContext, bot_data=BotData))
            .get_updates_read_timeout(settings.telegram_poll_timeout + 10)
            # Every message waits for its chat's and the overall slot before it is sent.
            .rate_limiter(PacedLimiter(self.pace))
            # One user's updates in order, different users' at once (bot/handlers/inbound.py).
            .concurrent_updates(self.updates)
        )
        if mode == "bot":
            builder = builder.persistence(DatabasePersistence(self.db))
        if mode != "bot" or settings.telegram_mode == "webhook":
            builder = builder.updater(None)  # webhook: updates arrive through bot/ops/web.py
        self.app: Application[Any, CustomContext, Any, Any, BotData, Any] = builder.build()  # type: ignore[assignment]
        # Only webhook mode can run behind a load balancer (getUpdates allows one poller), so
        # only there may a user's next update land on another front-end.
        if mode == "bot" and not self.db.is_sqlite and settings.telegram_mode == "webhook":
            self.updates.shared = SharedConversations(self.db, self.app)
        self.services: Services | None = None
        #: The publish engine (None when RUN_ENGINE is off) and the notice outbox.
        self.engine: Engine | None = None
        self.notifier: Notifier | None = None
        #: The outbox of users' webhook events (bot/engine/webhooks/).
        self.webhooks: WebhookSender | None = None
        self.alerts: Alerts | None = None
        #: The web server (webhook, /healthz, /metrics); None when WEB_PORT=0.
        self.web: WebServer | None = None
        self._health: Health | None = None
        self._started = False
        #: What runs beside the web server until stop() (the MCP session manager).
        self._running = contextlib.AsyncExitStack()

    async def start(self) -> None:
        settings = self.settings
        await upgrade(self.db)
        secrets = SecretBox(
            settings.crier_encryption_key.get_secret_value()
            if settings.crier_encryption_key
            else None
        )
        await check_secrets(self.db, secrets)
        http = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=10.0))
        registry = build_registry(settings, http, self._extra_providers)
        notifier = self.notifier = Notifier(
            self.db,
            self.app.bot,
            clock=self._clock,
            digest_gap=timedelta(seconds=settings.notice_digest_seconds),
        )
        sender = self.webhooks = WebhookSender(
            self.db, secrets, http, policy=DeliveryPolicy.from_settings(settings), clock=self._clock
        )
        alerts = self.alerts = Alerts(
            self.db,
            self.app.bot,
            settings,
            clock=self._clock,
            platform_names={name: p.display_name for name, p in registry.items()},
        )
        alerts_registry.register(self.app, alerts)
        run_engine = self.mode == "worker" or settings.run_engine
        engine = self.engine = (
            Engine(
                db=self.db,
                registry=registry,
                secrets=secrets,
                notifier=notifier,
                media_dir=settings.media_dir,
                config=EngineConfig.from_settings(settings),
                clock=self._clock,
                owner=self._owner,
                on_breaker_open=alerts.breaker_opened,
                observers=[metrics],  # counts every attempt for /metrics
                links=self.links,
            )
            if run_engine
            else None
        )
        self.services = Services(
            settings=settings,
            db=self.db,
            registry=registry,
            secrets=secrets,
            http=http,
            notifier=notifier,
            engine=engine,
            clock=self._clock,
            pace=self.pace,
            webhooks=sender,
        )
        self.app.bot_data.services = self.services
        if self.mode == "bot":
            gate.install_gate(self.app)
            start.install(self.app)
            user_settings.install(self.app)  # issue 6: /timezone (before compose)
            queue_slots.install(self.app)  # issue 6: /slots
            webhook_handlers.install(self.app)  # issue 18: /webhook (before compose)
            connect.install(self.app)
            accounts.install(self.app)
            destinations.install(self.app)  # /accounts → 🎯
            platform_settings.install(self.app)  # /accounts → ⚙️ (settings an adapter declares)
            account_options.install(self.app)
            schedules.install(self.app)
            published.install(self.app)  # issue 17: 🗑 Delete, ✏️ Edit once out
            admin.install(self.app)  # issue 7: admin
            api_tokens.install(self.app)  # issue 18: /api tokens
            history.install(self.app)
            bulk_handlers.install(self.app)  # issue 6: bulk
            draft_handlers.install(self.app)  # issue 6: /drafts (Resume is in compose)
            template_handlers.install(self.app)  # issue 6: /templates (Use is in compose)
            conversation.install(self.app)  # the compose conversation
            gate.install_fallbacks(self.app)
        await self.app.initialize()
        await self.app.start()
        self._started = True
        job_queue = self.app.job_queue
        assert job_queue is not None, "python-telegram-bot[job-queue] is required"
        notifier.attach(
            Wakeup(job_queue, "notifier", notifier.tick, self._clock),
            settings.engine_sweep_seconds,
        )
        if self.mode == "bot":  # issue 7: admin: resume broadcasts, admins' command menus
            await admin.start(self.app, start.COMMANDS)
        else:  # a worker takes over a broadcast whose sender died (one sends at a time)
            await broadcast_handlers.start_runner(self.services)
        sender.attach(
            Wakeup(job_queue, "webhooks", sender.tick, self._clock),
            settings.engine_sweep_seconds,
        )
        if engine is not None:
            engine.writer.on_events(sender.wake)  # events queued with outcomes go out soon
            engine.attach(Wakeup(job_queue, "engine", engine.run_due, self._clock))
            if not self.db.is_sqlite:  # other processes' new work wakes it (NOTIFY)
                engine.listen(listen_dsn(self.db.url))
        every = settings.media_cleanup_interval  # issue 5: media
        first = min(every, 300)  # issue 5: media (soon after a start, then every interval)
        job_queue.run_repeating(self._clean_media, every, first, name="media-cleanup")  # issue 5
        alerts.attach(job_queue)
        job_queue.run_repeating(
            self._refresh_tokens, settings.token_refresh_seconds, first=5, name="token-refresh"
        )
        if self.mode != "bot":
            # Jobs' errors: logged with context and reported to admins, as in the bot.
            self.app.add_error_handler(gate.on_error)
        if self.mode == "bot":
            await self.app.bot.set_my_commands(start.COMMANDS)
        if self.mode == "bot" and settings.telegram_mode == "polling":
            assert self.app.updater is not None
            await self.app.updater.start_polling(
                timeout=settings.telegram_poll_timeout,
                drop_pending_updates=False,
                allowed_updates=ALLOWED_UPDATES,
            )
        await self._start_web(engine)
        if self.mode == "bot" and settings.telegram_mode == "webhook":
            # Set on every start (the URL or secret may have changed) and left set on stop:
            # Telegram keeps updates while the bot restarts.
            assert settings.webhook_url is not None
            assert settings.webhook_secret is not None
            await self.app.bot.set_webhook(
                settings.webhook_url,
                secret_token=settings.webhook_secret.get_secret_value(),
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
            )
        log.info(
            "crier %s started as @%s (engine: %s)",
            self.mode,
            self.app.bot.username,
            "on" if engine else "off",
        )

    async def _clean_media(self, _context: CustomContext) -> None:
        """The JobQueue callback: one media clean-up run (bot/media/cleanup.py)."""
        settings = self.settings
        retention = timedelta(days=settings.media_retention_days)
        await media_cleanup.run(self.db, settings.media_dir, retention=retention, now=self._clock())

    async def _overflowed(self, update: Update) -> None:
        """A user's lane is full: the update was dropped before its turn."""
        user = update.effective_user
        if self.services is not None and user is not None:
            resume = self.updates.waiting(user.id) / max(1.0, self.settings.update_concurrency)
            await access.over_budget(
                self.services, user.id, update, resume, alerts_registry.of(self.app)
            )

    async def _refresh_tokens(self, _context: object) -> None:
        if self.services is not None:
            await tokens.refresh_due(self.services)

    async def _finish_sign_in(self, platform: str, params: Mapping[str, str]) -> signin.SignInPage:
        assert self.services is not None
        return await oauth.complete(self.services, platform, params)

    async def _start_web(self, engine: Engine | None) -> None:
        """Serve /healthz and /metrics (and /telegram in webhook mode) unless WEB_PORT=0."""
        settings = self.settings
        if settings.web_port == 0:
            return
        figures = DatabaseFigures(self.db, clock=self._clock, engine=lambda: engine)
        self._health = Health(
            db=self.db,
            clock=self._clock,
            engine=lambda: engine,
            db_timeout=settings.health_db_timeout_seconds,
            stale_after=max(30.0, 3 * settings.engine_sweep_seconds),
            mode=self.mode,
        )
        webhook = None
        if self.mode == "bot" and settings.telegram_mode == "webhook":
            assert settings.webhook_secret is not None
            webhook = Webhook(self.app, settings.webhook_secret.get_secret_value())
        self.web = WebServer(
            build_app(
                health=self._health,
                registry=scrape_registry(figures),
                figures=figures,
                webhook=webhook,
                media=MediaFiles(
                    self.db,
                    settings.media_dir,
                    links=self.links,
                    open_access=bool(settings.public_media_url),
                )
                if settings.public_media_url or self.links
                else None,
                oauth_routes=signin.routes(self._finish_sign_in),
                api=rest_api.build(self.services)
                if self.services and settings.api_enabled
                else None,
                mcp=await self._mcp_endpoint(),
            ),
            settings.web_host,
            settings.web_port,
        )
        try:
            await self.web.start()
        except WebServerError as exc:
            # Webhook mode needs the server, and a port the operator chose must work; the
            # default port being taken (8080 is popular) doesn't stop a polling bot.
            if settings.telegram_mode == "webhook" or "web_port" in settings.model_fields_set:
                raise
            log.warning("%s /healthz and /metrics are off.", exc)
            self.web = None

    async def _mcp_endpoint(self) -> ASGIApp | None:
        """The MCP server for assistants (bot/api/mcp.py), its session manager running until
        stop()."""
        if self.services is None or not self.settings.api_enabled:
            return None
        server = mcp_server.build(self.services)
        endpoint = mcp_server.http_app(server)
        # In a task of its own: its task group must end in the task it began in, and stop()
        # may run in another.
        started, done = asyncio.Event(), asyncio.Event()

        async def run() -> None:
            async with server.session_manager.run():
                started.set()
                await done.wait()

        task = asyncio.create_task(run(), name="mcp-sessions")

        async def finish() -> None:
            done.set()
            await task

        self._running.push_async_callback(finish)
        await started.wait()
        return endpoint

    async def stop(self) -> None:
        # First stop taking updates and scrapes; then the rest winds down as before.
        if self.web is not None:
            await self.web.stop()
            self.web = None
        await self._running.aclose()
        self._running = contextlib.AsyncExitStack()
        if self._health is not None:
            await self._health.close()
        alerts_registry.register(self.app, None)
        if self._started:
            if self.app.updater is not None and self.app.updater.running:
                await self.app.updater.stop()
            await admin.stop(self.app)  # issue 7: admin: finish the broadcast sends in flight
            if self.engine is not None:
                await self.engine.stop(grace=self.settings.engine_shutdown_grace_seconds)
            if self.notifier is not None:
                # Deliver what the last publishes produced before going away.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.notifier.run_due(), timeout=5)
            if self.app.running:
                await self.app.stop()
            await self.app.shutdown()
            self._started = False
        if self.services is not None:
            await self.services.http.aclose()
        await self.db.dispose()
        log.info("crier %s stopped", self.mode)

    async def __aenter__(self) -> Crier:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
