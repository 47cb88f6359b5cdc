"""Two-phase publishing in the engine: a platform that answers "processing" with a handle
frees the slot, is polled at its advised pace, carries on after a restart of Crier from the
stored handle (the upload is never made twice, the post is published once), shows in
/status while it lasts, and fails with a clear reason when processing fails or takes longer
than the platform's time-out."""

from __future__ import annotations

from collections.abc import Callable

from bot.app import Crier
from bot.config import Settings
from storage.models import TargetStatus
from tests.acceptance.conftest import Person, dm, eventually
from tests.acceptance.seeding import seed_account, seed_post, seed_user, target
from tests.fakes.scripted_provider import ScriptedProvider
from tests.fakes.telegram_api import FakeTelegram


async def test_a_video_is_processed_across_a_restart_and_published_once(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    platform = ScriptedProvider(["process:6"])
    platform.poll_after = 0.3
    settings = make_settings(engine_sweep_seconds=3600)
    async with Crier(settings, providers=[platform]) as crier:
        await seed_user(crier, alice.id)
        account = await seed_account(crier, alice.id, "scripted", "Studio")
        post_id, [target_id] = await seed_post(crier, alice.id, [account], "My film")

        async def waiting_between_polls() -> bool:
            # Between two polls the target is queued again (the slot is free while the
            # platform works); during a poll it is briefly publishing, so wait for a gap.
            row = await target(crier, target_id)
            return (
                row.handle is not None
                and len(platform.polls) >= 1
                and row.status == TargetStatus.QUEUED
            )

        await eventually(waiting_between_polls, timeout=10)
        row = await target(crier, target_id)
        assert row.stage == "processing the video"
        assert row.processing_since is not None
        shown = await alice.says(f"/status {post_id}", "Studio")
        assert "processing the video at Scripted" in shown["text"]
    # Crier stops while the platform is still processing; another start carries on.
    async with Crier(settings, providers=[platform]):
        await dm(tg, alice, "is out")
    assert platform.uploads == 1, "the upload was made once, before the restart"
    assert len(platform.posts) == 1
    assert len(platform.polls) == 7
    assert all(p["upload"] == "upload-1" for p in platform.polls)


async def test_processing_that_fails_or_takes_too_long_fails_with_the_reason(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person
) -> None:
    platform = ScriptedProvider(["process_fail", "process:1000"], processing_timeout=1.0)
    platform.poll_after = 0.2
    async with Crier(make_settings(), providers=[platform]) as crier:
        await seed_user(crier, alice.id)
        account = await seed_account(crier, alice.id, "scripted", "Studio")
        _, [failed] = await seed_post(crier, alice.id, [account], "Bad codec")
        told = await dm(tg, alice, "unsupported codec")
        assert "failed" in told["text"].lower() or "❌" in told["text"]
        assert (await target(crier, failed)).status == TargetStatus.FAILED

        _, [slow] = await seed_post(crier, alice.id, [account], "Never ready")

        async def gave_up() -> bool:
            return (await target(crier, slow)).status == TargetStatus.FAILED

        await eventually(gave_up, timeout=15)
        reason = (await target(crier, slow)).last_error or ""
        assert "still processing the post after" in reason
        assert platform.uploads == 2
