"""The LISTEN connection of a worker: a server it can't reach is tried again with growing
waits, each failure logged, and nothing is woken meanwhile (the sweep still runs)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import pytest

from bot.engine.cluster.listen import DueListener
from tests.ports import free_port


async def test_an_unreachable_server_is_retried_with_backoff_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    woken: list[datetime] = []
    connected: list[bool] = []

    async def on_connect() -> None:
        connected.append(True)

    listener = DueListener(
        f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere",
        on_due=woken.append,
        on_connect=on_connect,
        first_delay=0.01,
        max_delay=0.04,
    )
    with caplog.at_level(logging.WARNING, logger="bot.engine.cluster.listen"):
        listener.start()
        for _ in range(200):
            if len(caplog.records) >= 4:
                break
            await asyncio.sleep(0.01)
        await listener.stop()

    failures = [r.getMessage() for r in caplog.records]
    assert len(failures) >= 4
    assert all("LISTEN crier_due failed" in text for text in failures)
    assert "trying again in 0.01 s" in failures[0]
    assert "trying again in 0.02 s" in failures[1]
    assert "trying again in 0.04 s" in failures[3], "the wait stops growing at max_delay"
    assert woken == []
    assert connected == []
    assert not listener.listening.is_set()
