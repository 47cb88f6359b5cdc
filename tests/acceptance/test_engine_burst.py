"""Posts due at the same instant go out back to back: each finishing publish leads straight to
the next claim, so a burst needs no sweep (the sweep is set to an hour and counted), and the
per-account limit is kept the whole way. Their outcomes reach the user as a few digests."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from bot.app import Crier
from bot.config import Settings
from storage.models import Target, TargetStatus
from tests.acceptance.conftest import Person, eventually
from tests.acceptance.seeding import seed_account, seed_many, seed_user
from tests.fakes.scripted_provider import ScriptedProvider
from tests.fakes.telegram_api import FakeTelegram

KEY = Fernet.generate_key().decode()
#: Each publish takes a few milliseconds, so publishes to one account do overlap.
STEP = "ok:3"


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(
        crier_encryption_key=KEY,
        engine_sweep_seconds=3600.0,  # an hour: a burst must not wait for it
        engine_concurrency=8,
        notice_digest_seconds=2.0,
    )


async def published(crier: Crier) -> int:
    async with crier.db.session() as session:
        count = await session.scalar(
            select(func.count()).where(Target.status == TargetStatus.PUBLISHED)
        )
    return count or 0


async def burst(crier: Crier, alice: Person, accounts: int, posts: int) -> list[int]:
    """`posts` posts due at one instant, dealt round robin over `accounts` accounts."""
    await seed_user(crier, alice.id)
    ids = [
        await seed_account(crier, alice.id, "scripted", f"@a{n}", credentials={"token": "t"})
        for n in range(accounts)
    ]
    due = datetime.now(UTC) + timedelta(milliseconds=300)
    for n, account_id in enumerate(ids):
        await seed_many(
            crier, alice.id, account_id, [due] * (posts // accounts + (n < posts % accounts))
        )
    assert crier.services is not None
    crier.services.wake_engine(due)  # what confirming a post does: one timer, at its time
    return ids


@pytest.mark.parametrize(("accounts", "per_account"), [(1, 2), (20, 2)], ids=["one", "twenty"])
async def test_200_posts_due_at_once_all_go_out_without_a_sweep_within_each_accounts_limit(
    tg: FakeTelegram, settings: Settings, alice: Person, accounts: int, per_account: int
) -> None:
    provider = ScriptedProvider([STEP], concurrency=per_account, platform_concurrency=50)
    async with Crier(settings, mode="worker", providers=[provider]) as crier:
        await burst(crier, alice, accounts, 200)

        async def all_out() -> bool:
            return await published(crier) == 200

        await eventually(all_out, timeout=60)
        assert crier.services is not None
        assert crier.services.engine is not None
        sweeps = crier.services.engine.sweeps

    assert sweeps == 0
    keys = Counter(call.idempotency_key for call in provider.calls)
    assert len(keys) == 200
    assert max(keys.values()) == 1, "a post was published twice"
    assert len(provider.max_in_flight_by_account) == accounts
    assert max(provider.max_in_flight_by_account.values()) == per_account
    assert provider.max_in_flight <= settings.engine_concurrency


async def test_a_burst_of_outcomes_reaches_the_user_as_a_few_digests(
    tg: FakeTelegram, settings: Settings, alice: Person
) -> None:
    provider = ScriptedProvider([STEP], concurrency=2, platform_concurrency=50)
    async with Crier(settings, mode="worker", providers=[provider]) as crier:
        await burst(crier, alice, 4, 200)

        async def all_told() -> list[str] | None:
            texts = [m.get("text") or "" for m in tg.sent(alice.user)]
            return texts if told(texts) == 200 else None

        texts = await eventually(all_told, timeout=60)

    assert len(texts) < 10, f"{len(texts)} DMs for 200 posts"
    assert any(text.startswith("📬 ") for text in texts)


def told(texts: list[str]) -> int:
    """How many posts these DMs report on: a digest's count, or one per single summary."""
    count = 0
    for text in texts:
        digest = re.match(r"📬 (\d+) posts settled", re.sub(r"</?b>", "", text))
        count += int(digest.group(1)) if digest else int("is out" in text)
    return count
