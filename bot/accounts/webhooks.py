"""A user's outgoing webhook, as /webhook (and later /api and the REST API) manage it: set or
remove the URL, rotate the signing secret, see the latest deliveries.

The secret is `whsec_` and 32 random bytes in base64, as the Standard Webhooks
specification writes it; it is sealed at rest like account credentials and shown to the
user once, when it is made. Every call takes the user's id and touches only their rows.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import os
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import Services
from storage import webhooks
from storage.models import WebhookStatus

#: Event types a receiver may get.
EVENT_TYPES = ("post.published", "post.failed", "post.unknown", "post.cancelled")
MAX_URL = 2048
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


class WebhookProblem(Exception):
    """What the user is told when their webhook can't be set (a plain sentence)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    url: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, kw_only=True)
class Saved:
    url: str
    #: The new signing secret, to show once; None when the URL changed and the secret stayed.
    secret: str | None


@dataclass(frozen=True, kw_only=True)
class DeliveryView:
    event_id: str
    type: str
    post_id: int | None
    #: pending (waiting for a try or a retry), sending, delivered, failed (given up).
    status: WebhookStatus
    attempts: int
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def check_url(raw: str) -> str:
    """The URL as it will be called: https, or plain http on this machine only."""
    text = raw.strip()
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, TypeError):
        url = None
    problem = WebhookProblem(
        "That isn't a webhook URL I can use: send one that starts with https:// "
        "(http:// only for localhost)."
    )
    if url is None or len(text) > MAX_URL or not url.host:
        raise problem
    host = url.host.lower()
    local = host in _LOCAL_HOSTS or host.endswith(".localhost")
    if not (url.scheme == "https" or (url.scheme == "http" and local)):
        raise problem
    if url.userinfo:
        raise WebhookProblem("Leave the user name and password out of the URL.")
    return str(url)


async def _check_reachable(services: Services, url: str) -> None:
    """On a public instance, refuse URLs into the server's own network at once (the sender
    refuses them too, at each try)."""
    if not services.settings.webhook_block_private_hosts:
        return
    parsed = httpx.URL(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parsed.host, parsed.port or 443)
    except OSError:
        raise WebhookProblem(f"I can't find {parsed.host}: is the URL right?") from None
    for info in infos:
        if not ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]).is_global:
            raise WebhookProblem(f"{parsed.host} is on a private network; Crier won't send there.")


def _seal(services: Services, secret: str) -> str:
    if not services.secrets.available:
        raise WebhookProblem(
            "Webhooks need the server's encryption key (CRIER_ENCRYPTION_KEY) to keep the "
            "signing secret; ask whoever runs this Crier to set it."
        )
    return services.secrets.seal({"secret": secret})


async def get(services: Services, user_id: int) -> Endpoint | None:
    found = await services.db.run(lambda s: webhooks.endpoint(s, user_id))
    if found is None:
        return None
    return Endpoint(url=found.url, created_at=found.created_at, updated_at=found.updated_at)


async def set_url(services: Services, user_id: int, raw_url: str) -> Saved:
    """Set the user's URL. The first time, a secret is made (returned once); changing the
    URL keeps the secret, so the receiver keeps verifying."""
    url = check_url(raw_url)
    await _check_reachable(services, url)
    now = services.now()
    secret = new_secret()
    sealed = _seal(services, secret)

    async def work(session: AsyncSession) -> bool:
        had = await webhooks.endpoint(session, user_id) is not None
        await webhooks.set_endpoint(
            session, user_id, url=url, sealed_secret=None if had else sealed, now=now
        )
        return had

    had = await services.db.run(work)
    return Saved(url=url, secret=None if had else secret)


async def rotate_secret(services: Services, user_id: int) -> str | None:
    """A new secret at once (the old one stops verifying); None if no URL is set."""
    secret = new_secret()
    sealed = _seal(services, secret)
    now = services.now()
    changed = await services.db.run(lambda s: webhooks.set_secret(s, user_id, sealed, now))
    return secret if changed else None


async def clear(services: Services, user_id: int) -> bool:
    """Remove the URL (events still waiting are given up); False if none was set."""
    return await services.db.run(lambda s: webhooks.clear_endpoint(s, user_id))


async def deliveries(services: Services, user_id: int, limit: int = 10) -> list[DeliveryView]:
    """The user's latest events and what became of them, newest first."""
    rows = await services.db.run(lambda s: webhooks.recent(s, user_id, limit=limit))
    return [
        DeliveryView(
            event_id=row.event_id,
            type=row.type,
            post_id=(row.payload.get("data") or {}).get("post_id"),
            status=row.status,
            attempts=row.attempts,
            last_status=row.last_status,
            last_error=row.last_error,
            created_at=row.created_at,
            delivered_at=row.delivered_at,
        )
        for row in rows
    ]
