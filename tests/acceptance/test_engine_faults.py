"""Fault injection: what the engine does with each kind of failure, end to end (the real
engine, writer and notifier; a scripted platform; DMs through the fake Bot API)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet

from bot.accounts import connecting
from bot.app import Crier
from bot.config import Settings
from storage.models import AccountStatus, Target, TargetStatus
from tests.acceptance.conftest import Person, buttons, dm, eventually
from tests.acceptance.seeding import (
    account,
    attempts,
    seed_account,
    seed_post,
    seed_user,
    target,
)
from tests.fakes.scripted_provider import ScriptedProvider
from tests.fakes.telegram_api import FakeTelegram

KEY = Fernet.generate_key().decode()


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(
        crier_encryption_key=KEY,
        engine_retry_base_seconds=0.05,
        engine_retry_max_seconds=0.2,
        engine_breaker_threshold=50,
    )


async def start(settings: Settings, provider: ScriptedProvider) -> AsyncIterator[Crier]:
    async with Crier(settings, providers=[provider]) as crier:
        yield crier


async def setup(crier: Crier, alice: Person, token: str = "t0") -> int:
    await seed_user(crier, alice.id)
    return await seed_account(crier, alice.id, "scripted", "@alice", credentials={"token": token})


async def final(crier: Crier, target_id: int) -> TargetStatus:
    async def settled() -> TargetStatus | None:
        row = await target(crier, target_id)
        return row.status if row.status.is_final else None

    return await eventually(settled, timeout=10)


async def test_a_server_error_then_success_is_retried_and_published_once(
    tg: FakeTelegram, settings: Settings, alice: Person
) -> None:
    provider = ScriptedProvider(["500", "ok"])
    async with Crier(settings, providers=[provider]) as crier:
        acc = await setup(crier, alice)
        _, [tid] = await seed_post(crier, alice.id, [acc], "Hello")
        assert await final(crier, tid) == TargetStatus.PUBLISHED
        summary = await dm(tg, alice, "Post #1 is out")
        outcomes = [a.outcome for a in await attempts(crier, tid)]

    assert outcomes == ["transient", "published"]
    assert len(provider.published_keys()) == 1
    assert "view post" in summary["text"]


async def test_a_rate_limit_waits_what_the_platform_said_without_counting(
    tg: FakeTelegram, settings: Settings, alice: Person
) -> None:
    provider = ScriptedProvider(["429:1", "ok"])
    async with Crier(settings, providers=[provider]) as crier:
        acc = await setup(crier, alice)
        _, [tid] = await seed_post(crier, alice.id, [acc], "Hello")
        assert await final(crier, tid) == TargetStatus.PUBLISHED
        first, second = await attempts(crier, tid)
        row = await target(crier, tid)

    assert first.outcome == "rate_limited"
    assert second.started_at - first.started_at >= timedelta(seconds=1)
    assert row.attempts == 1, "a rate limit is not a failed attempt"


async def test_an_auth_error_refreshes_the_credentials_once_then_publishes(
    tg: FakeTelegram, settings: Settings, alice: Person
) -> None:
    provider = ScriptedProvider(["401", "ok"], refresh_to="t1")
    async with Crier(settings, providers=[provider]) as crier:
        acc = await setup(crier, alice)
        _, [tid] = await seed_post(crier, alice.id, [acc], "Hello")
        assert await final(crier, tid) == TargetStatus.PUBLISHED
        stored = await account(crier, acc)
        assert crier.services is not None
        assert crier.services.secrets.open(stored.credentials) == {"token": "t1"}

    assert provider.refreshes == 1
    assert [c.token for c in provider.calls] == ["t0", "t1"]
    assert stored.status == AccountStatus.ACTIVE


async def test_an_auth_error_without_refresh_holds_posts_until_reconnected(
    tg: FakeTelegram, settings: Settings, alice: Person
) -> None:
    provider = ScriptedProvider(["ok"])
    provider.valid_tokens = {"good"}
    async with Crier(settings, providers=[provider]) as crier:
        acc = await setup(crier, alice, token="revoked")
        _, [first] = await seed_post(crier, alice.id, [acc], "One")
        _, [second] = await seed_post(crier, alice.id, [acc], "Two")
        notice = await dm(tg, alice, "needs reconnecting")
        assert "not lost" in notice["text"]
        assert (await account(crier, acc)).status == AccountStatus.NEEDS_REAUTH
        for tid in (first, second):
            assert (await target(crier, tid)).status == TargetStatus.QUEUED
        assert sum("needs reconnecting" in m["text"] for m in tg.sent(alice.user)) == 1

        assert crier.services is not None
        await connecting.connect(
            crier.services, alice.id, "scripted", {"handle": "@alice"}, {"token": "good"}
        )
        assert await final(crier, first) == TargetStatus.PUBLISHED
        assert await final(crier, second) == TargetStatus.PUBLISHED

    assert sorted(c.text for c in provider.calls if c.token == "good") == ["One", "Two"]


async def test_a_permanent_error_fails_at_once_with_the_platforms_reason(
    tg: FakeTelegram, settings: Settings, alice: Person
) -> None:
    provider = ScriptedProvider(["400"])
    async with Crier(settings, providers=[provider]) as crier:
        acc = await setup(crier, alice)
        _, [tid] = await seed_post(crier, alice.id, [acc], "Spicy")
        assert await final(crier, tid) == TargetStatus.FAILED
        failed = await dm(tg, alice, "was not published")
        tries = await attempts(crier, tid)

    assert "too spicy" in failed["text"]
    assert "🔁 Retry" in buttons(failed)
    assert len(tries) == 1


async def test_a_timeout_on_a_non_idempotent_platform_asks_the_user(
    tg: FakeTelegram, settings: Settings, alice: Person
) -> None:
    provider = ScriptedProvider(["timeout"], idempotent=False)
    async with Crier(settings, providers=[provider]) as crier:
        acc = await setup(crier, alice)
        _, [tid] = await seed_post(crier, alice.id, [acc], "Did it go?")
        assert await final(crier, tid) == TargetStatus.UNKNOWN
        asked = await dm(tg, alice, "can't tell whether this reached")
        assert buttons(asked)[:2] == ["🔁 Retry", "✔ Mark as published"]
        assert len(provider.calls) == 1, "never a silent second publish"

        await alice.presses(asked, "✔ Mark as published", "Marked post #1 as published")
        assert (await target(crier, tid)).status == TargetStatus.PUBLISHED


async def test_a_timeout_on_an_idempotent_platform_is_retried_once_published(
    tg: FakeTelegram, settings: Settings, alice: Person
) -> None:
    provider = ScriptedProvider(["timeout", "ok"], idempotent=True)
    async with Crier(settings, providers=[provider]) as crier:
        acc = await setup(crier, alice)
        _, [tid] = await seed_post(crier, alice.id, [acc], "Once")
        assert await final(crier, tid) == TargetStatus.PUBLISHED

    assert len(provider.calls) == 2
    assert len(provider.published_keys()) == 1, "the retry found the first post"


async def test_the_circuit_breaker_opens_waits_and_lets_one_probe_through(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    settings = make_settings(
        crier_encryption_key=KEY,
        engine_retry_base_seconds=0.01,
        engine_retry_max_seconds=0.02,
        engine_max_attempts=20,
        engine_breaker_threshold=3,
        engine_breaker_cooldown_seconds=1.5,
        engine_sweep_seconds=0.2,
    )
    provider = ScriptedProvider(["500", "500", "500", "block", "ok"], platform_concurrency=5)
    async with Crier(settings, providers=[provider]) as crier:
        acc = await setup(crier, alice)
        other = await seed_account(
            crier, alice.id, "scripted", "@other", credentials={"token": "x"}
        )
        _, [first] = await seed_post(crier, alice.id, [acc], "First")
        await eventually(lambda: len(provider.calls) >= 3)
        assert crier.services is not None
        assert crier.services.engine is not None
        engine = crier.services.engine
        assert not engine.breakers.allows("platform:scripted")
        opened_at = len(provider.calls)
        # While open nothing is sent, even for other accounts of the platform.
        await seed_post(crier, alice.id, [other], "Second")
        await seed_post(crier, alice.id, [acc], "Third")
        await eventually(provider.blocked.is_set, timeout=5)
        # Half-open: exactly one probe is out.
        assert provider.in_flight == 1
        assert len(provider.calls) == opened_at + 1
        provider.release()
        assert await final(crier, first) == TargetStatus.PUBLISHED
        await eventually(lambda: len(provider.published_keys()) == 3, timeout=5)
        waits = await attempts(crier, first)

    assert [a.outcome for a in waits] == ["transient", "transient", "transient", "published"]
    assert waits[3].started_at - waits[2].started_at >= timedelta(seconds=1.5)


async def test_per_account_concurrency_is_respected(
    tg: FakeTelegram, settings: Settings, alice: Person
) -> None:
    provider = ScriptedProvider(["block"], concurrency=2)
    async with Crier(settings, providers=[provider]) as crier:
        acc = await setup(crier, alice)
        ids = [(await seed_post(crier, alice.id, [acc], f"Post {n}"))[1][0] for n in range(5)]
        await eventually(lambda: provider.in_flight == 2)
        await eventually(lambda: True)
        assert provider.max_in_flight == 2
        provider.release()
        for tid in ids:
            assert await final(crier, tid) == TargetStatus.PUBLISHED
    assert provider.max_in_flight == 2


async def test_a_posting_quota_makes_posts_wait_not_fail(
    tg: FakeTelegram, settings: Settings, alice: Person
) -> None:
    provider = ScriptedProvider(["ok"], quota=(2, 1.5))
    async with Crier(settings, providers=[provider]) as crier:
        acc = await setup(crier, alice)
        ids = [(await seed_post(crier, alice.id, [acc], f"Post {n}"))[1][0] for n in range(3)]
        await eventually(lambda: len(provider.calls) == 2)

        async def third_waits() -> Target | None:
            # Claimed once one of the account's two slots frees up, then put back to wait.
            row = await target(crier, ids[2])
            return row if "limit" in (row.last_error or "") else None

        third = await eventually(third_waits)
        assert third.status == TargetStatus.QUEUED
        assert len(provider.calls) == 2
        assert await final(crier, ids[2]) == TargetStatus.PUBLISHED
        rows = [await target(crier, tid) for tid in ids]

    assert rows[2].published_at is not None
    assert rows[0].published_at is not None
    assert rows[2].published_at - rows[0].published_at >= timedelta(seconds=1.4)


@pytest.mark.parametrize(
    ("provider_args", "engine_concurrency", "most"),
    [
        ({"concurrency": 5, "platform_concurrency": 3}, 32, 3),  # the platform's limit
        ({"concurrency": 5, "platform_concurrency": 10}, 2, 2),  # ENGINE_CONCURRENCY
    ],
    ids=["per-platform", "engine-wide"],
)
async def test_platform_and_engine_wide_concurrency_are_respected(
    tg: FakeTelegram,
    make_settings: Callable[..., Settings],
    alice: Person,
    provider_args: dict[str, int],
    engine_concurrency: int,
    most: int,
) -> None:
    provider = ScriptedProvider(["block"], **provider_args)
    settings = make_settings(crier_encryption_key=KEY, engine_concurrency=engine_concurrency)
    async with Crier(settings, providers=[provider]) as crier:
        await seed_user(crier, alice.id)
        accounts = [
            await seed_account(crier, alice.id, "scripted", f"@a{n}", credentials={"t": str(n)})
            for n in range(2)
        ]
        ids = [
            (await seed_post(crier, alice.id, [accounts[n % 2]], f"Post {n}"))[1][0]
            for n in range(8)
        ]
        await eventually(lambda: provider.in_flight == most)
        await asyncio.sleep(0.3)  # room for one too many to start, if the limit leaked
        assert provider.max_in_flight == most
        provider.release()
        for tid in ids:
            assert await final(crier, tid) == TargetStatus.PUBLISHED
    assert provider.max_in_flight == most
