"""Delivers the webhook outbox: each event POSTed to its user's URL, signed as the Standard
Webhooks specification says, until the receiver answers 2xx.

At least once: a delivery is a row until a 2xx, retried with exponential backoff and jitter
(the engine's RetryPolicy) up to a limit, and a send cut short by a crash is taken again
after its lease. Every try carries the same `webhook-id`, so receivers drop repeats. The job
is woken like the notifier (a Timer), never by publishing waiting on it; the secret is
never logged nor stored in an error.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

import httpx
from standardwebhooks.webhooks import Webhook

from bot.config import Settings
from bot.engine.hooks import Timer
from bot.engine.retry import RetryPolicy
from providers.http import sanitize
from storage import webhooks
from storage.db import Database
from storage.models import WebhookDelivery, WebhookStatus
from storage.secrets import SecretBox

log = logging.getLogger(__name__)

#: Deliveries claimed per batch (sent at once, each to its own receiver).
BATCH = 20
LEASE = timedelta(seconds=120)
#: Longest a run keeps the sender busy before it yields and re-arms (seconds).
RUN_SECONDS = 2.0
#: Least time between the starts of two runs woken by new events (seconds).
WAKE_SECONDS = 0.2
USER_AGENT = "Crier-Webhooks/1"
#: Longest quote of a receiver's answer kept as the delivery's error.
MAX_ERROR = 200


@dataclass(frozen=True, kw_only=True)
class DeliveryPolicy:
    #: Backoff between tries (the engine's policy: exponential, jittered, capped).
    retry: RetryPolicy = field(
        default_factory=lambda: RetryPolicy(
            max_attempts=12, base_seconds=30.0, max_seconds=6 * 3600.0
        )
    )
    #: Each request's time-out, seconds.
    timeout: float = 10.0
    #: Refuse URLs that resolve to loopback, private or link-local addresses.
    block_private_hosts: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        return cls(
            retry=RetryPolicy(
                max_attempts=settings.webhook_max_attempts,
                base_seconds=settings.webhook_retry_base_seconds,
                max_seconds=settings.webhook_retry_max_seconds,
            ),
            timeout=settings.webhook_timeout_seconds,
            block_private_hosts=settings.webhook_block_private_hosts,
        )


def signed_headers(secret: str, event_id: str, when: datetime, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers for `body`: `webhook-signature` is
    v1,base64(HMAC-SHA256(secret bytes, f"{id}.{timestamp}.{body}"))."""
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, when, body),
    }


class WebhookSender:
    def __init__(
        self,
        db: Database,
        secrets: SecretBox,
        http: httpx.AsyncClient,
        *,
        policy: DeliveryPolicy | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._db = db
        self._secrets = secrets
        self._http = http
        self._policy = policy or DeliveryPolicy()
        self._clock = clock
        self._lock = asyncio.Lock()
        self._wakeup: Timer | None = None
        self._last_run = datetime.min.replace(tzinfo=UTC)
        self._again = False

    def attach(self, wakeup: Timer, sweep_seconds: float) -> None:
        self._wakeup = wakeup
        wakeup.every(sweep_seconds)
        wakeup.soon()

    def wake(self) -> None:
        """New events were queued: deliver them soon (a burst wakes it once per WAKE_SECONDS)."""
        if self._wakeup is not None:
            self._wakeup.at(max(self._clock(), self._last_run + timedelta(seconds=WAKE_SECONDS)))

    async def tick(self) -> int:
        """The timer's entry: run, unless a run is under way (that one re-arms)."""
        if self._lock.locked():
            self._again = True
            return 0
        return await self.run_due()

    async def run_due(self) -> int:
        """Send what is due now; returns how many events were delivered."""
        delivered = 0
        async with self._lock:
            self._again = False
            self._last_run = self._clock()
            began = time.monotonic()
            while True:
                if time.monotonic() - began > RUN_SECONDS:
                    self._again = True  # yield to shutdown and the rest; carry on right after
                    break
                batch = await self._db.run(
                    partial(webhooks.claim, now=self._clock(), lease=LEASE, limit=BATCH)
                )
                if not batch:
                    break
                results = await asyncio.gather(
                    *(self._deliver(c) for c in batch), return_exceptions=True
                )
                for claimed, result in zip(batch, results, strict=True):
                    if isinstance(result, BaseException):
                        # Left to its lease: it is tried again, never lost.
                        log.error(
                            "webhook %s: delivery broke (%s)",
                            claimed.delivery.event_id,
                            type(result).__name__,
                        )
                    else:
                        delivered += result
            nxt = await self._db.run(webhooks.next_due)
        if self._wakeup is not None:
            if self._again:
                self._wakeup.soon()
            elif nxt is not None:
                self._wakeup.at(nxt)
        return delivered

    async def _deliver(self, claimed: webhooks.Claimed) -> bool:
        delivery = claimed.delivery
        try:
            secret = str(self._secrets.open(claimed.sealed_secret).get("secret") or "")
        except Exception as exc:  # no key, or the wrong one: the operator must fix it
            log.error("webhook %s: can't read the signing secret (%s)", delivery.event_id, exc)
            await self._retry(delivery, None, "Crier can't read the signing secret")
            return False
        url = httpx.URL(claimed.url)
        body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            **signed_headers(secret, delivery.event_id, self._clock(), body),
        }
        hidden = [secret, claimed.url]
        try:
            if self._policy.block_private_hosts:
                await _refuse_private(url)
            response = await self._http.post(
                url,
                content=body,
                headers=headers,
                timeout=self._policy.timeout,
                follow_redirects=False,
            )
        except _Refused as exc:
            await self._give_up(delivery.id, None, str(exc))
            return False
        except httpx.HTTPError as exc:
            reason = f"could not reach {url.host} ({type(exc).__name__})"
            await self._retry(delivery, None, reason)
            return False
        if response.is_success:
            now = self._clock()
            await self._db.run(
                lambda s: webhooks.finish(
                    s, [delivery.id], WebhookStatus.DELIVERED, now, http_status=response.status_code
                )
            )
            return True
        said = sanitize(response.text[:MAX_ERROR], hidden).strip()
        reason = f"HTTP {response.status_code}" + (f": {said}" if said else "")
        await self._retry(delivery, response.status_code, reason)
        return False

    async def _retry(self, delivery: WebhookDelivery, status: int | None, why: str) -> None:
        policy = self._policy.retry
        if delivery.attempts >= policy.max_attempts:
            log.warning(
                "webhook %s given up after %d tries: %s", delivery.event_id, delivery.attempts, why
            )
            await self._give_up(
                delivery.id, status, f"{why} (gave up after {delivery.attempts} tries)"
            )
            return
        when = self._clock() + timedelta(seconds=policy.backoff(delivery.attempts))
        log.info("webhook %s try %d: %s", delivery.event_id, delivery.attempts, why)
        await self._db.run(
            lambda s: webhooks.retry_later(s, delivery.id, when, http_status=status, error=why)
        )

    async def _give_up(self, delivery_id: int, status: int | None, why: str) -> None:
        now = self._clock()
        await self._db.run(
            lambda s: webhooks.finish(
                s, [delivery_id], WebhookStatus.FAILED, now, http_status=status, error=why
            )
        )


class _Refused(Exception):
    """The URL points into the server's own network."""


async def _refuse_private(url: httpx.URL) -> None:
    """Stop users pointing the server at its own network (cloud metadata, databases)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(url.host, url.port or 443)
    except OSError as exc:
        raise httpx.ConnectError(f"could not resolve {url.host}") from exc
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not address.is_global:
            raise _Refused(f"{url.host} is on a private network; Crier won't send there")
