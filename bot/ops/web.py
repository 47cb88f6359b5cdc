"""The web server: Telegram's webhook (`/telegram`), `/healthz`, `/metrics`, stored media for
webhooks in "urls" mode (`/media`, when PUBLIC_MEDIA_URL is set), the route table where
OAuth callbacks for platform logins live, the REST API mounted at `/api/v1`, and the MCP
server's streamable-HTTP endpoint at `/mcp`.

One Starlette app served by uvicorn, in both modes: polling mode serves only /healthz and
/metrics. It follows PTB's custom-webhook example: the endpoint checks Telegram's secret
header and puts the update on the application's queue; PTB processes it as if polled.
uvicorn's own signal handling is off: `crier`'s CLI owns SIGTERM and stops the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import mimetypes
import re
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp
from telegram import Update
from telegram.ext import Application

from bot.media.links import MediaLinks
from bot.media.receive import storage_key
from bot.ops import metrics
from bot.ops.logs import get_logger, redact
from storage import media as media_store
from storage.db import Database

if TYPE_CHECKING:
    from bot.engine.runner import Engine

log = get_logger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: Telegram's updates are a few kilobytes; anything this big is not one.
MAX_UPDATE_BYTES = 1024 * 1024

#: OAuth callbacks, mounted under /oauth: a platform that signs in with OAuth adds its
#: `Route("/<platform>/callback", endpoint)` here (or passes it to `build_app`).
OAUTH_ROUTES: tuple[BaseRoute, ...] = ()

#: A stored original (its sha256) or an adapted copy of one ("<sha256>-<profile>.<ext>").
_MEDIA_NAME = re.compile(r"([0-9a-f]{64})(?:-[0-9a-f]{16}\.[a-z0-9]{2,5})?")


@dataclass
class MediaFiles:
    """`/media/<name>`: the files webhook receivers in "urls" mode fetch, and the files
    platforms that pull media fetch by a signed link. A file is served while some media row
    still keeps it; the clean-up ends that (the link then says 404)."""

    db: Database
    media_dir: Path
    #: Signed links for platforms that fetch media (media/links.py); without open access,
    #: only a valid, unexpired signature opens a file.
    links: MediaLinks | None = None
    #: PUBLIC_MEDIA_URL is set: webhook receivers in "urls" mode fetch without signatures.
    open_access: bool = True

    async def handle(self, request: Request) -> Response:
        name = str(request.path_params["name"])
        match = _MEDIA_NAME.fullmatch(name)
        if match is None:
            return Response(status_code=404)
        if not self.open_access:
            query = request.query_params
            signed = self.links is not None and self.links.valid(
                name, query.get("exp", ""), query.get("sig", "")
            )
            if not signed:
                return Response(status_code=404)
        sha = match.group(1)
        mime = await self.db.run(lambda s: media_store.stored_mime(s, sha))
        if mime is None:
            return Response(status_code=404)
        if name == sha:
            path = self.media_dir / storage_key(sha)
        else:
            path = self.media_dir / "derived" / sha[:2] / name
            mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if not path.is_file():
            return Response(status_code=404)
        headers = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}
        return FileResponse(path, media_type=mime, headers=headers)


@dataclass
class Health:
    """What /healthz checks: the database answers a trivial query in time, and this
    process's engine (if it runs one) looked for due work recently."""

    db: Database
    clock: Callable[[], datetime]
    engine: Callable[[], Engine | None] = lambda: None
    #: Longest the database may take to answer, seconds.
    db_timeout: float = 3.0
    #: Longest the engine may go without a sweep, seconds.
    stale_after: float = 30.0
    mode: str = "bot"
    started_at: datetime = field(init=False)
    #: The database query in flight; a slow one is waited on, never started twice.
    _probe: asyncio.Task[float] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.started_at = self.clock()

    async def check(self) -> tuple[bool, dict[str, Any]]:
        checks = {"database": await self._database(), "engine": self._engine()}
        failing = [name for name, result in checks.items() if not result["ok"]]
        body: dict[str, Any] = {
            "status": "failing" if failing else "ok",
            "mode": self.mode,
            "checks": checks,
        }
        if failing:
            body["failing"] = failing
        return not failing, body

    async def _database(self) -> dict[str, Any]:
        if self._probe is None or self._probe.done():
            if self._probe is not None and not self._probe.cancelled():
                self._probe.exception()  # seen (a late failure nobody waited for)
            self._probe = asyncio.create_task(self._query(), name="healthz:database")
        probe = self._probe
        await asyncio.wait({probe}, timeout=self.db_timeout)
        if not probe.done():
            return {"ok": False, "error": f"no answer within {self.db_timeout:g} s"}
        error = probe.exception()
        if error is not None:
            summary = (str(error).strip().splitlines() or [""])[0][:200]
            return {"ok": False, "error": redact(f"{type(error).__name__}: {summary}")}
        return {"ok": True, "ms": round(probe.result() * 1000, 1)}

    async def _query(self) -> float:
        started = time.monotonic()
        async with self.db.session() as session:
            await session.execute(text("SELECT 1"))
        return time.monotonic() - started

    def _engine(self) -> dict[str, Any]:
        engine = self.engine()
        if engine is None:
            return {"ok": True, "running": False}
        now = self.clock()
        last = engine.last_run_at
        age = (now - (last or self.started_at)).total_seconds()
        return {
            "ok": age <= self.stale_after,
            "running": True,
            "last_run_age_seconds": round(age, 3) if last is not None else None,
            "stale_after_seconds": self.stale_after,
        }

    async def close(self) -> None:
        if self._probe is not None and not self._probe.done():
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._probe


@dataclass
class Webhook:
    """Takes Telegram's updates for `application` when they carry `secret`."""

    application: Application[Any, Any, Any, Any, Any, Any]
    secret: str

    async def handle(self, request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER)
        if given is None or not hmac.compare_digest(given.encode(), self.secret.encode()):
            return _refuse(
                request, 403, "forbidden", "missing secret" if given is None else "wrong secret"
            )
        if not self.application.running:
            # Telegram retries later; the update is not lost.
            return _refuse(request, 503, "unavailable", "stopping")
        body = await _read_at_most(request, MAX_UPDATE_BYTES)
        if body is None:
            return _refuse(request, 413, "bad_request", "too large")
        try:
            data = json.loads(body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, self.application.bot)
        except Exception:  # whatever the body is, the answer is 400
            return _refuse(request, 400, "bad_request", "not an update")
        await self.application.update_queue.put(update)
        metrics.WEBHOOK_UPDATES.labels("accepted").inc()
        log.debug("webhook.update", update_id=update.update_id)
        return Response(status_code=200)


def _refuse(request: Request, status: int, result: str, reason: str) -> Response:
    metrics.WEBHOOK_UPDATES.labels(result).inc()
    client = request.client.host if request.client else None
    log.warning("webhook.refused", status=status, reason=reason, client=client)
    return Response(status_code=status)


async def _read_at_most(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def build_app(
    *,
    health: Health,
    registry: CollectorRegistry,
    figures: metrics.DatabaseFigures,
    webhook: Webhook | None = None,
    media: MediaFiles | None = None,
    oauth_routes: Sequence[BaseRoute] = OAUTH_ROUTES,
    api: ASGIApp | None = None,
    mcp: ASGIApp | None = None,
) -> Starlette:
    async def healthz(_request: Request) -> Response:
        ok, body = await health.check()
        return JSONResponse(body, status_code=200 if ok else 503)

    async def scrape(_request: Request) -> Response:
        return Response(await metrics.exposition(registry, figures), media_type=CONTENT_TYPE_LATEST)

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", scrape, methods=["GET"]),
        Mount("/oauth", routes=list(oauth_routes)),
    ]
    if webhook is not None:
        routes.append(Route("/telegram", webhook.handle, methods=["POST"]))
    if media is not None:
        routes.append(Route("/media/{name}", media.handle, methods=["GET", "HEAD"]))
    if api is not None:
        # The REST API (bot/api/, built by bot/app.py: this room never imports it).
        routes.append(Mount("/api/v1", app=api))
    if mcp is not None:
        # The MCP server's streamable-HTTP endpoint (bot/api/mcp.py), exactly at /mcp.
        routes.append(Route("/mcp", mcp, methods=["GET", "POST", "DELETE"]))
    return Starlette(routes=routes)


class WebServerError(RuntimeError):
    """The web server could not start listening."""


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # crier's CLI owns SIGINT/SIGTERM and stops the server itself.
        yield


class WebServer:
    """uvicorn serving `app` on host:port, started and stopped by Crier."""

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        self._app = app
        self.host = host
        self.port = port
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        sock = socket.socket(
            socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM
        )
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise WebServerError(
                f"The web server could not listen on {self.host}:{self.port} ({exc.strerror}). "
                "Set WEB_HOST/WEB_PORT to a free address (WEB_PORT=0 turns it off in polling "
                "mode)."
            ) from exc
        config = uvicorn.Config(
            self._app,
            log_config=None,
            access_log=False,
            lifespan="off",
            ws="none",
            server_header=False,
            timeout_graceful_shutdown=5,
        )
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="web")
        while not self._server.started:
            if self._task.done():
                sock.close()
                await self._task
                raise WebServerError(f"The web server on {self.host}:{self.port} exited.")
            await asyncio.sleep(0.01)
        log.info("web.listening", host=self.host, port=self.port)

    async def stop(self) -> None:
        """Stop accepting connections and let requests in progress finish."""
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
            self._server, self._task = None, None
