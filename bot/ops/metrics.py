"""Prometheus metrics.

Two kinds:

- Counters and histograms of what happens in this process (publish attempts, published and
  failed targets, publish delay, webhook updates, handler errors, alert DMs). They live in
  Crier's own `REGISTRY` and are updated by the small `observe_*` functions below; this
  module is the engine's observer (bot/engine/hooks.py), plugged in by bot/app.py.
- Figures read from the database when /metrics is scraped (queue depth, overdue work,
  notices waiting, broadcast progress), by `DatabaseFigures`, cached for a second or two so a
  burst of scrapes costs one round of queries. Every process reports the same figures; use
  `max without (instance)` in PromQL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.ops.logs import get_logger
from storage import alerts as figures_repo
from storage.db import Database

if TYPE_CHECKING:
    from bot.engine.runner import Engine

log = get_logger(__name__)

#: Crier's registry (not prometheus_client's global one, which libraries may also fill).
REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

ATTEMPTS = Counter(
    "crier_publish_attempts",
    "Publish attempts, by platform and outcome (published, transient, rate_limited, auth, "
    "permanent, ambiguous, abandoned).",
    ["platform", "outcome"],
    registry=REGISTRY,
)
ATTEMPT_SECONDS = Histogram(
    "crier_publish_attempt_seconds",
    "How long one publish call took.",
    ["platform"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
    registry=REGISTRY,
)
PUBLISHED = Counter(
    "crier_published", "Targets published, by platform.", ["platform"], registry=REGISTRY
)
FAILED = Counter(
    "crier_publish_failed",
    "Targets that ended without being published, by platform and status (failed, unknown).",
    ["platform", "status"],
    registry=REGISTRY,
)
DELAY = Histogram(
    "crier_publish_delay_seconds",
    "When a target was published minus when it was scheduled.",
    ["platform"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
    registry=REGISTRY,
)
WEBHOOK_UPDATES = Counter(
    "crier_webhook_updates",
    "Requests to /telegram, by result (accepted, forbidden, bad_request, unavailable).",
    ["result"],
    registry=REGISTRY,
)
HANDLER_ERRORS = Counter(
    "crier_handler_errors",
    "Unexpected errors caught by the error handler, by exception class.",
    ["error"],
    registry=REGISTRY,
)
ALERTS_SENT = Counter(
    "crier_alert_messages",
    "Alert DMs that reached at least one admin, by alert kind and state.",
    ["alert", "state"],
    registry=REGISTRY,
)


def observe_attempt(platform: str, outcome: str, duration_seconds: float) -> None:
    """One publish attempt finished (every try, retries included)."""
    ATTEMPTS.labels(platform, outcome).inc()
    ATTEMPT_SECONDS.labels(platform).observe(max(0.0, duration_seconds))


def observe_published(platform: str, delay_seconds: float) -> None:
    """A target was published `delay_seconds` after its scheduled time."""
    PUBLISHED.labels(platform).inc()
    DELAY.labels(platform).observe(max(0.0, delay_seconds))


def observe_failed(platform: str, status: str) -> None:
    """A target ended without being published (status: failed or unknown)."""
    FAILED.labels(platform, status).inc()


class DatabaseFigures(Collector):
    """Gauges read from the database (and the engine's liveness) at scrape time. Call
    `refresh()` before collecting: it queries at most once per `max_age` seconds."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], datetime],
        engine: Callable[[], Engine | None] = lambda: None,
        max_age: float = 2.0,
        timeout: float = 5.0,
    ) -> None:
        self._db = db
        self._clock = clock
        self._engine = engine
        self._max_age = max_age
        self._timeout = timeout
        self._lock = asyncio.Lock()
        self._figures: figures_repo.Figures | None = None
        self._taken_at: datetime | None = None
        self._refreshed = -float("inf")
        self._ok = False

    async def refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._refreshed < self._max_age:
                return
            now = self._clock()
            try:
                self._figures = await asyncio.wait_for(
                    self._db.run(lambda s: figures_repo.figures(s, now=now), tries=1),
                    timeout=self._timeout,
                )
                self._taken_at, self._ok = now, True
            except Exception as exc:  # a scrape must answer even when the database doesn't
                log.warning("metrics.database_failed", error=type(exc).__name__)
                self._ok = False
            self._refreshed = time.monotonic()

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily(
            "crier_database_up",
            "1 when the last metrics query succeeded.",
            value=1 if self._ok else 0,
        )
        yield from self._engine_figures()
        if not self._ok or self._figures is None or self._taken_at is None:
            return
        figures, now = self._figures, self._taken_at
        depth = GaugeMetricFamily(
            "crier_queue_targets", "Targets waiting or being published.", labels=["status"]
        )
        for status in ("queued", "publishing"):
            depth.add_metric([status], figures.targets.get(status, 0))
        yield depth
        yield GaugeMetricFamily(
            "crier_queue_due_targets",
            "Queued targets whose time has come.",
            value=figures.due.count,
        )
        yield GaugeMetricFamily(
            "crier_queue_oldest_due_seconds",
            "How long the longest-waiting due target has been due (0: none).",
            value=_age(now, figures.due.oldest),
        )
        yield GaugeMetricFamily(
            "crier_notices_pending", "DMs waiting in the outbox.", value=figures.notices.count
        )
        yield GaugeMetricFamily(
            "crier_notices_oldest_pending_seconds",
            "Age of the oldest DM waiting in the outbox (0: none).",
            value=_age(now, figures.notices.oldest),
        )
        done = CounterMetricFamily(
            "crier_broadcast_deliveries",
            "Recipients of running or paused broadcasts who were handled, by status.",
            labels=["broadcast", "status"],
        )
        pending = GaugeMetricFamily(
            "crier_broadcast_pending",
            "Recipients of running or paused broadcasts still waiting.",
            labels=["broadcast"],
        )
        for broadcast_id, counts in sorted(figures.broadcasts.items()):
            for status in ("sent", "blocked", "failed"):
                done.add_metric([str(broadcast_id), status], counts.get(status, 0))
            pending.add_metric([str(broadcast_id)], counts.get("pending", 0))
        yield done
        yield pending

    def _engine_figures(self) -> Iterable[Metric]:
        engine = self._engine()
        if engine is None:
            return
        last = engine.last_run_at
        yield GaugeMetricFamily(
            "crier_engine_last_run_age_seconds",
            "Seconds since this process's engine last looked for due work.",
            value=_age(self._clock(), last) if last is not None else float("nan"),
        )
        yield GaugeMetricFamily(
            "crier_engine_inflight", "Publishes running in this process.", value=engine.inflight
        )
        yield CounterMetricFamily(
            "crier_engine_sweeps",
            "Periodic sweeps this process's engine ran (work nothing woke it for).",
            value=engine.sweeps,
        )
        listener = engine.listener
        if listener is not None:
            yield CounterMetricFamily(
                "crier_engine_due_notices",
                "NOTIFY crier_due wake-ups this process received (PostgreSQL).",
                value=listener.notices,
            )
            yield CounterMetricFamily(
                "crier_engine_listen_connects",
                "Times this process's LISTEN connection was (re)established.",
                value=listener.connects,
            )


def _age(now: datetime, then: datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then is not None else 0.0


class _Forward(Collector):
    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterable[Metric]:
        return self._registry.collect()


def scrape_registry(figures: DatabaseFigures) -> CollectorRegistry:
    """What one Crier serves on /metrics: the process-wide registry and its own figures."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Forward(REGISTRY))
    registry.register(figures)
    return registry


async def exposition(registry: CollectorRegistry, figures: DatabaseFigures) -> bytes:
    await figures.refresh()
    return generate_latest(registry)
