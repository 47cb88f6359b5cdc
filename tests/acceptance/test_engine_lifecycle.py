"""The engine's lifecycle under stress, end to end: a publish longer than its lease keeps it,
a shutdown lets a publish in flight finish (or leaves it to recovery, never lost), and a
published outcome outlives a failing database. The real application and database, a
scripted platform, DMs through the fake Bot API; only the database is made to fail."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import event, select

from bot.app import Crier
from bot.config import Settings
from bot.engine.runner import Engine
from storage.db import Database
from storage.models import Attempt, Target, TargetStatus
from tests.acceptance.conftest import JSON, Person, buttons, dm, eventually
from tests.acceptance.seeding import attempts, seed_account, seed_post, seed_user, target
from tests.fakes.scripted_provider import ScriptedProvider
from tests.fakes.telegram_api import FakeTelegram

KEY = Fernet.generate_key().decode()

#: A short lease, seconds: the heartbeat renews it every second (a third, at least 1 s).
LEASE = 2.0
#: Generous: these are waits for something that should happen, not limits.
PATIENCE = 30.0


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(
        crier_encryption_key=KEY,
        engine_lease_seconds=LEASE,
        engine_sweep_seconds=0.2,
        engine_retry_base_seconds=0.05,
        engine_retry_max_seconds=0.2,
        engine_breaker_threshold=50,
    )


async def setup(crier: Crier, alice: Person) -> int:
    await seed_user(crier, alice.id)
    return await seed_account(crier, alice.id, "scripted", "@alice", credentials={"token": "t"})


def engine_of(crier: Crier) -> Engine:
    assert crier.services is not None
    assert crier.services.engine is not None
    return crier.services.engine


async def final(crier: Crier, target_id: int) -> TargetStatus:
    async def settled() -> TargetStatus | None:
        row = await target(crier, target_id)
        return row.status if row.status.is_final else None

    return await eventually(settled, timeout=PATIENCE)


@asynccontextmanager
async def reading(settings: Settings) -> AsyncIterator[Database]:
    """The database, read after the app stopped (and disposed its own handle)."""
    db = Database(settings.database_url)
    try:
        yield db
    finally:
        await db.dispose()


async def stored(db: Database, target_id: int) -> Target:
    async with db.session() as session:
        row = await session.get(Target, target_id)
        assert row is not None
        return row


async def stored_attempts(db: Database, target_id: int) -> list[Attempt]:
    async with db.session() as session:
        query = select(Attempt).where(Attempt.target_id == target_id).order_by(Attempt.id)
        return list(await session.scalars(query))


def links(message: JSON) -> list[str]:
    return [e["url"] for e in message.get("entities", []) if e["type"] == "text_link"]


def about(tg: FakeTelegram, person: Person, text: str) -> list[JSON]:
    return [m for m in tg.sent(person.user) if text in (m.get("text") or "")]


# -- 1. lease renewal ------------------------------------------------------------------------


async def test_a_publish_longer_than_its_lease_keeps_it_and_is_published_once(
    tg: FakeTelegram, settings: Settings, alice: Person
) -> None:
    # Idempotent: were the lease taken back, recovery would re-queue the post and publish it
    # again (the worst case: a silent second call to the platform).
    provider = ScriptedProvider(["block"], idempotent=True)
    async with Crier(settings, mode="worker", providers=[provider], owner="engine-a") as a:
        acc = await setup(a, alice)
        _, [tid] = await seed_post(a, alice.id, [acc], "A long video upload")
        await asyncio.wait_for(provider.blocked.wait(), timeout=PATIENCE)
        claimed = await target(a, tid)
        assert claimed.status == TargetStatus.PUBLISHING
        assert claimed.lease_owner == "engine-a"
        assert claimed.lease_expires_at is not None
        first_expiry = claimed.lease_expires_at

        seen: list[tuple[TargetStatus, str | None]] = []

        async def watch() -> None:
            while True:
                row = await target(a, tid)
                seen.append((row.status, row.lease_owner))
                await asyncio.sleep(0.05)

        watcher = asyncio.create_task(watch())
        # A second engine sweeps for abandoned leases every 0.2 s meanwhile.
        async with Crier(settings, mode="worker", providers=[provider], owner="engine-b") as b:
            # Several leases go by, with the other engine sweeping after each of them.
            long_past = first_expiry + timedelta(seconds=3 * LEASE)

            def swept_long_after() -> bool:
                last = engine_of(b).last_run_at
                return last is not None and last > long_past

            await eventually(swept_long_after, timeout=PATIENCE)
            renewed = await target(a, tid)
            assert renewed.status == TargetStatus.PUBLISHING
            assert renewed.lease_owner == "engine-a"
            assert renewed.lease_expires_at is not None
            assert renewed.lease_expires_at > long_past - timedelta(seconds=LEASE)

            provider.release()
            assert await final(a, tid) == TargetStatus.PUBLISHED
            summary = await dm(tg, alice, "Post #1 is out")
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
            tries = await attempts(a, tid)
            row = await target(a, tid)

    assert len(provider.calls) == 1, "the post was published a second time"
    assert [(t.outcome, t.worker) for t in tries] == [("published", "engine-a")]
    mid_publish = [s for s in seen if s[0] != TargetStatus.PUBLISHED]
    assert mid_publish, "the watcher saw nothing while the publish ran"
    assert set(mid_publish) == {(TargetStatus.PUBLISHING, "engine-a")}
    assert row.url == "https://scripted.example/p/1"
    assert links(summary) == [row.url]
    assert len(about(tg, alice, "Post #1")) == 1


# -- 2. graceful shutdown with a publish in flight -------------------------------------------


async def test_a_publish_finishing_within_the_shutdown_grace_is_recorded_and_reported(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    settings = make_settings(
        crier_encryption_key=KEY, engine_sweep_seconds=0.2, engine_shutdown_grace_seconds=60
    )
    provider = ScriptedProvider(["block"])
    crier = Crier(settings, providers=[provider])
    await crier.start()
    stopping: asyncio.Task[None] | None = None
    try:
        acc = await setup(crier, alice)
        _, [tid] = await seed_post(crier, alice.id, [acc], "Nearly there")
        await asyncio.wait_for(provider.blocked.wait(), timeout=PATIENCE)
        engine = engine_of(crier)

        stopping = asyncio.create_task(crier.stop())
        # The engine has stopped claiming and is waiting out the grace for this publish
        # (no public flag says so; `_stopping` is set just before the wait begins).
        await eventually(lambda: engine._stopping, timeout=PATIENCE)
        assert not stopping.done()
        assert engine.inflight == 1
        _, [late] = await seed_post(crier, alice.id, [acc], "Due while stopping")
        provider.release()
        await asyncio.wait_for(stopping, timeout=PATIENCE)
    finally:
        if stopping is None:
            await crier.stop()
        else:
            # Don't leave the app running if the test failed before the stop finished.
            await asyncio.gather(stopping, return_exceptions=True)

    # What stop() promises is already done when it returns: recorded and told.
    told = about(tg, alice, "Post #1 is out")
    async with reading(settings) as db:
        row = await stored(db, tid)
        later = await stored(db, late)
        tries = await stored_attempts(db, tid)

    assert row.status == TargetStatus.PUBLISHED
    assert row.url == "https://scripted.example/p/1"
    assert [t.outcome for t in tries] == ["published"]
    assert len(told) == 1, "the outcome was not delivered before the app stopped"
    assert links(told[0]) == [row.url]
    assert later.status == TargetStatus.QUEUED, "a stopping engine claimed new work"
    assert [c.text for c in provider.calls] == ["Nearly there"]


@pytest.mark.parametrize(
    ("idempotent", "outcome"),
    [
        pytest.param(False, TargetStatus.UNKNOWN, id="not-idempotent-asks-the-user"),
        pytest.param(True, TargetStatus.PUBLISHED, id="idempotent-is-retried"),
    ],
)
async def test_a_publish_cut_off_by_shutdown_is_recovered_after_a_restart(
    tg: FakeTelegram,
    make_settings: Callable[..., Settings],
    alice: Person,
    idempotent: bool,
    outcome: TargetStatus,
) -> None:
    settings = make_settings(
        crier_encryption_key=KEY,
        engine_lease_seconds=LEASE,
        engine_sweep_seconds=0.2,
        engine_shutdown_grace_seconds=0.2,
    )
    # The platform took the post, then never answers.
    provider = ScriptedProvider(["block"], idempotent=idempotent)
    async with Crier(settings, providers=[provider]) as first:
        acc = await setup(first, alice)
        _, [tid] = await seed_post(first, alice.id, [acc], "Cut off mid-publish")
        await asyncio.wait_for(provider.blocked.wait(), timeout=PATIENCE)
        owner = engine_of(first).owner
    # Stopped cleanly (no error) past the grace: the publish was cut off, not left running.
    assert provider.in_flight == 0

    async with reading(settings) as db:
        left = await stored(db, tid)
    assert left.status == TargetStatus.PUBLISHING, "cut off, it keeps its lease for recovery"
    assert left.lease_owner == owner
    assert about(tg, alice, "Post #1") == [], "nothing is known yet, so nothing is said"

    provider.script = ["ok"]  # the platform answers promptly from now on
    async with Crier(settings, providers=[provider]) as second:
        assert await final(second, tid) == outcome
        row = await target(second, tid)
        tries = await attempts(second, tid)
        if idempotent:
            told = await dm(tg, alice, "Post #1 is out")
        else:
            told = await dm(tg, alice, "can't tell whether it was published")

    assert len(about(tg, alice, "Post #1")) == 1
    assert len(provider.posts) == 1, "the platform has the post twice"
    if idempotent:
        # Retried with the same idempotency key: the platform returned the post it had.
        assert len(provider.calls) == 2
        assert provider.calls[0].idempotency_key == provider.calls[1].idempotency_key
        assert [t.outcome for t in tries] == ["abandoned", "published"]
        assert row.url == "https://scripted.example/p/1"
        assert links(told) == [row.url]
    else:
        assert len(provider.calls) == 1, "never a silent second publish"
        assert [t.outcome for t in tries] == ["abandoned"]
        assert "Cut off mid-publish" in told["text"]
        assert buttons(told)[:2] == ["🔁 Retry", "✔ Mark as published"]


# -- 3. the database fails right after a successful publish ----------------------------------


class LockedWhenRecordingPublished:
    """The database answers "database is locked" to the first `times` statements that
    record a published outcome (the UPDATE storing the platform's post id); all else works."""

    def __init__(self, db: Database, times: int) -> None:
        self.left = times
        self.raised = 0
        self._error = db.engine.dialect.loaded_dbapi.OperationalError
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._before)

    def _before(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.left and statement.startswith("UPDATE targets") and "platform_post_id" in statement:
            self.left -= 1
            self.raised += 1
            raise self._error("database is locked")


#: Outlasts `Database.run`'s own retries (5 a call) for the batch write and for two of the
#: writer's one-by-one writes (the third goes through), and lasts longer than the lease.
FAILURES = 17


async def test_a_published_outcome_is_recorded_despite_database_failures_and_reported(
    tg: FakeTelegram, settings: Settings, alice: Person
) -> None:
    provider = ScriptedProvider(["ok"])
    async with Crier(settings, providers=[provider]) as crier:
        acc = await setup(crier, alice)
        faults = LockedWhenRecordingPublished(crier.db, FAILURES)
        _, [tid] = await seed_post(crier, alice.id, [acc], "Worth keeping")
        assert await final(crier, tid) == TargetStatus.PUBLISHED
        summary = await dm(tg, alice, "Post #1 is out")
        row = await target(crier, tid)
        tries = await attempts(crier, tid)

    assert faults.raised == FAILURES
    assert row.platform_post_id == "1"
    assert row.url == "https://scripted.example/p/1"
    assert len(provider.calls) == 1, "the post was published twice"
    assert [t.outcome for t in tries] == ["published"]
    assert links(summary) == [row.url]
    assert len(about(tg, alice, "Post #1")) == 1
