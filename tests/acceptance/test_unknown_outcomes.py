"""An unknown outcome is settled by asking the platform first, where its adapter can look
(`AfterPublish.can_lookup`): a post found is published with its link and nobody is asked; a
post not there is published again under the same key; a platform that can't tell leaves the
question to the user; a platform that can't be asked now is asked again later."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx
from cryptography.fernet import Fernet
from sqlalchemy import update

from bot.app import Crier
from bot.config import Settings
from providers.base import AccountRef, PostContent
from providers.bluesky import BlueskyProvider
from storage.models import Target, TargetStatus
from tests.acceptance.conftest import Person, dm, eventually
from tests.acceptance.seeding import attempts, seed_account, seed_post, seed_user, target
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.scripted_provider import ScriptedProvider
from tests.fakes.telegram_api import FakeTelegram

KEY = Fernet.generate_key().decode()
HANDLE = "alice.test"
DID = "did:plc:alicealicealicealice"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"


@pytest.fixture
def bsky() -> Iterator[FakeBluesky]:
    """The PDS at https://pds.example, through respx: a lost answer reaches Crier as the
    read time-out it is (a served fake would turn it into a 500)."""
    fake = FakeBluesky()
    fake.add_account(HANDLE, DID, APP_PASSWORD)
    with respx.mock(assert_all_called=False) as router:
        router.route(host="127.0.0.1").pass_through()
        for url in (fake.pds_url, fake.resolver_url, fake.plc_url):
            router.route(host=httpx.URL(url).host).mock(side_effect=fake)
        yield fake


async def test_a_bluesky_post_left_by_a_dead_worker_is_settled_without_asking_or_a_duplicate(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person, bsky: FakeBluesky
) -> None:
    async with Crier(make_settings(crier_encryption_key=KEY)) as crier:
        await seed_user(crier, alice.id)
        account = await seed_account(
            crier,
            alice.id,
            "bluesky",
            f"@{HANDLE}",
            config={"did": DID, "handle": HANDLE, "pds_url": bsky.pds_url},
            credentials={"app_password": APP_PASSWORD},
        )
        later = datetime.now(UTC) + timedelta(hours=1)
        _, [target_id] = await seed_post(crier, alice.id, [account], "Hello, sky", when=later)
        row = await target(crier, target_id)
        # A worker published it, then died before writing that down: the record is on the
        # PDS, the target is still under the dead worker's lease.
        async with httpx.AsyncClient() as http:
            await BlueskyProvider(http).publish(
                PostContent(text="Hello, sky"),
                AccountRef(
                    id=account,
                    platform="bluesky",
                    label=f"@{HANDLE}",
                    config={"did": DID, "handle": HANDLE, "pds_url": bsky.pds_url},
                    credentials={"app_password": APP_PASSWORD},
                ),
                row.idempotency_key,
            )
        now = datetime.now(UTC)
        async with crier.db.session() as session:
            await session.execute(
                update(Target)
                .where(Target.id == target_id)
                .values(
                    status=TargetStatus.PUBLISHING,
                    publish_at=now,
                    next_attempt_at=now,
                    attempts=1,
                    lease_owner="dead-worker",
                    lease_expires_at=now - timedelta(minutes=1),
                )
            )
        assert crier.services is not None
        crier.services.wake_engine(now)
        told = await dm(tg, alice, "is out")
        row = await target(crier, target_id)
        assert row.status == TargetStatus.PUBLISHED
        [(_, _, rkey)] = list(bsky.records)
        assert row.url is not None
        assert row.url.endswith(f"/post/{rkey}")
        # Bluesky's publish is idempotent (the record key derives from the idempotency key):
        # sending it again is the check, and can't add a second post.
        outcomes = [a.outcome for a in await attempts(crier, target_id)]
        assert outcomes == ["abandoned", "published"]
    assert len(bsky.records) == 1, "not published twice"
    assert "can't tell" not in told["text"]
    assert "view post" in told["text"]


@pytest.mark.parametrize(
    ("publishes", "looks", "outcomes"),
    [
        # It went out, the platform was down when first asked: asked again, found.
        (["timeout"], ["error", "look"], ["ambiguous", "check_failed", "found"]),
        # It never arrived: published again under the same key.
        (["unsent", "ok"], ["look"], ["ambiguous", "not_out", "published"]),
    ],
    ids=["found-after-a-failed-check", "not-out-published-again"],
)
async def test_a_non_idempotent_platform_is_asked_before_the_user(
    tg: FakeTelegram,
    make_settings: Callable[..., Settings],
    alice: Person,
    publishes: list[str],
    looks: list[str],
    outcomes: list[str],
) -> None:
    platform = ScriptedProvider(publishes)
    platform.lookup_script = looks
    async with Crier(make_settings(), providers=[platform]) as crier:
        await seed_user(crier, alice.id)
        account = await seed_account(crier, alice.id, "scripted", "Studio")
        _, [target_id] = await seed_post(crier, alice.id, [account], "Once only")
        told = await dm(tg, alice, "is out")
        assert (await target(crier, target_id)).status == TargetStatus.PUBLISHED
        assert [a.outcome for a in await attempts(crier, target_id)] == outcomes
    assert len(platform.posts) == 1, "published exactly once"
    assert "can't tell" not in told["text"]


async def test_a_platform_that_cant_tell_leaves_the_question_to_the_user(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    platform = ScriptedProvider(["timeout"])
    platform.lookup_script = ["unsure"]
    async with Crier(make_settings(), providers=[platform]) as crier:
        await seed_user(crier, alice.id)
        account = await seed_account(crier, alice.id, "scripted", "Studio")
        _, [target_id] = await seed_post(crier, alice.id, [account], "Maybe out")
        told = await dm(tg, alice, "can't tell")
        assert "Mark as published" in str(told.get("reply_markup"))
        row = await target(crier, target_id)
        assert row.status == TargetStatus.UNKNOWN
        assert row.stage is None, "the user's Retry publishes again, it doesn't look again"
        assert [a.outcome for a in await attempts(crier, target_id)] == ["ambiguous", "cant_tell"]
        await eventually(lambda: len(platform.lookups) == 1)
    assert len(platform.calls) == 1
