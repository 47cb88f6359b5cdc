"""/healthz and /metrics on the real application's web server, in polling mode."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import Crier
from bot.config import Settings
from bot.ops import metrics
from bot.ops.web import WebServerError
from tests.acceptance.conftest import Person, eventually, make_due, schedule_text
from tests.fakes.telegram_api import FakeTelegram
from tests.ports import free_port


def web(crier: Crier) -> httpx.AsyncClient:
    assert crier.web is not None, "the web server is not running"
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{crier.web.port}", trust_env=False)


async def scrape(crier: Crier) -> str:
    async with web(crier) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def sample(text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return None


async def health(crier: Crier) -> tuple[int, dict[str, Any]]:
    async with web(crier) as client:
        response = await client.get("/healthz")
    return response.status_code, response.json()


async def test_healthz_answers_200_with_the_checks_when_all_is_well(
    make_settings: Callable[..., Settings],
) -> None:
    async with Crier(make_settings(web_port=free_port())) as crier:
        status, body = await health(crier)
    assert status == 200, body
    assert body["status"] == "ok"
    assert body["mode"] == "bot"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["engine"]["ok"] is True
    assert body["checks"]["engine"]["running"] is True
    assert "failing" not in body


async def test_healthz_answers_503_while_the_database_does_not_answer(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(web_port=free_port(), health_db_timeout_seconds=1)
    async with Crier(settings) as crier:

        async def healthy() -> bool:
            return (await health(crier))[0] == 200

        await eventually(healthy, timeout=15)
        # Another process holds the database's write lock and doesn't let go. It takes the
        # lock from a thread: blocking the event loop would freeze a transaction of the app
        # half-way, holding the lock the test waits for (a deadlock until the timeout).
        other = sqlite3.connect(
            tmp_path / "crier.db", isolation_level=None, timeout=30, check_same_thread=False
        )
        try:
            await asyncio.to_thread(other.execute, "BEGIN EXCLUSIVE")
            status, body = await health(crier)
        finally:
            await asyncio.to_thread(other.rollback)
            other.close()
        assert status == 503, body
        assert body["status"] == "failing"
        assert body["failing"] == ["database"]
        assert "no answer within 1 s" in body["checks"]["database"]["error"]
        await eventually(healthy, timeout=15)


async def test_healthz_answers_503_when_the_engine_loop_stalls(
    make_settings: Callable[..., Settings],
) -> None:
    # A long sweep, so nothing but this test moves last_run_at during the test.
    async with Crier(make_settings(web_port=free_port(), engine_sweep_seconds=60)) as crier:
        engine = crier.services.engine if crier.services else None
        assert engine is not None
        await eventually(lambda: engine.last_run_at is not None)
        engine.last_run_at = datetime.now(UTC) - timedelta(minutes=10)
        status, body = await health(crier)
        assert status == 503, body
        assert body["failing"] == ["engine"]
        assert body["checks"]["engine"]["last_run_age_seconds"] >= 600
        assert body["checks"]["engine"]["stale_after_seconds"] == 180
        assert body["checks"]["database"]["ok"] is True

        engine.last_run_at = datetime.now(UTC)
        assert (await health(crier))[0] == 200


async def test_metrics_show_the_queue_before_and_after_a_publish(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with Crier(make_settings(web_port=free_port())) as crier:
        await alice.says("/start", "Crier")
        scheduled = await schedule_text(alice, "Counted", "in 10 minutes")
        text = await scrape(crier)
        assert sample(text, "crier_database_up") == 1
        assert sample(text, "crier_queue_targets", status="queued") == 1
        assert sample(text, "crier_queue_due_targets") == 0
        assert sample(text, "crier_engine_last_run_age_seconds") is not None

        await make_due(crier)
        await tg.wait_for(alice.user, "is out", after=scheduled["message_id"])

        async def drained() -> bool:
            # Figures are cached for a couple of seconds; wait for a fresh read.
            text = await scrape(crier)
            return (
                sample(text, "crier_queue_targets", status="queued") == 0
                and sample(text, "crier_notices_pending") == 0
            )

        await eventually(drained, timeout=10)


async def test_metrics_count_attempts_and_publishes_from_the_engine(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    async with Crier(make_settings(web_port=free_port())) as crier:
        before = await scrape(crier)
        await alice.says("/start", "Crier")
        scheduled = await schedule_text(alice, "Counted", "in 10 minutes")
        await make_due(crier)
        await tg.wait_for(alice.user, "is out", after=scheduled["message_id"])
        after = await scrape(crier)

    def grew(name: str, **labels: str) -> float:
        return (sample(after, name, **labels) or 0) - (sample(before, name, **labels) or 0)

    assert grew("crier_publish_attempts_total", platform="dryrun", outcome="published") == 1
    assert grew("crier_published_total", platform="dryrun") == 1
    assert grew("crier_publish_delay_seconds_count", platform="dryrun") == 1


async def test_metrics_expose_what_the_observe_functions_count(
    make_settings: Callable[..., Settings],
) -> None:
    async with Crier(make_settings(web_port=free_port())) as crier:
        before = await scrape(crier)
        metrics.observe_attempt("mastodon", "transient", 0.3)
        metrics.observe_attempt("mastodon", "published", 0.2)
        metrics.observe_published("mastodon", 1.5)
        metrics.observe_failed("mastodon", "failed")
        after = await scrape(crier)

    def grew(name: str, **labels: str) -> float:
        return (sample(after, name, **labels) or 0) - (sample(before, name, **labels) or 0)

    assert grew("crier_publish_attempts_total", platform="mastodon", outcome="transient") == 1
    assert grew("crier_publish_attempts_total", platform="mastodon", outcome="published") == 1
    assert grew("crier_publish_attempt_seconds_count", platform="mastodon") == 2
    assert grew("crier_published_total", platform="mastodon") == 1
    assert grew("crier_publish_delay_seconds_bucket", platform="mastodon", le="2.5") == 1
    assert grew("crier_publish_delay_seconds_bucket", platform="mastodon", le="1.0") == 0
    assert grew("crier_publish_failed_total", platform="mastodon", status="failed") == 1


async def test_web_port_zero_turns_the_server_off_in_polling_mode(
    make_settings: Callable[..., Settings],
) -> None:
    async with Crier(make_settings(web_port=0)) as crier:
        assert crier.web is None


async def test_a_chosen_port_that_is_taken_stops_start_up_with_a_clear_error(
    make_settings: Callable[..., Settings],
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(WebServerError, match=f"127.0.0.1:{port}.*WEB_PORT"):
            async with Crier(make_settings(web_port=port)):
                pass


async def test_a_worker_serves_health_and_metrics_too(
    make_settings: Callable[..., Settings],
) -> None:
    async with Crier(make_settings(web_port=free_port()), mode="worker") as crier:
        status, body = await health(crier)
        text = await scrape(crier)
    assert status == 200, body
    assert body["mode"] == "worker"
    assert body["checks"]["engine"]["running"] is True
    assert sample(text, "crier_database_up") == 1
