"""Publishing to TikTok against the fake TikTok: a video through the two phases (the init,
the chunks, the status until TikTok names the post), a chunked upload broken off and resumed
after a restart with exactly one post, an upload link that expired, photos, a video TikTok
fetches, processing failures, the unaudited app's private posts and moderation."""

from __future__ import annotations

from pathlib import Path

import pytest

from providers.base import Processing, PublishResult, Severity
from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from providers.tiktok_posting import NO_URL
from tests.fakes.tiktok import FakeTikTok
from tests.fakes.tiktok_state import FakeCreator
from tests.unit.providers.tiktok_support import (
    CHUNK,
    KEY,
    MEDIA,
    account,
    body,
    clip,
    photo,
    post_of,
    world,
)

INIT = "POST /v2/post/publish/video/init/"
CREATOR = "POST /v2/post/publish/creator_info/query/"
STATUS = "POST /v2/post/publish/status/fetch/"


def link(fake: FakeTikTok, number: int = 0) -> str:
    return f"https://www.tiktok.com/@crier.tests/video/{fake.posts[number].id}"


# -- a video, two-phase ----------------------------------------------------------------------


async def test_a_video_goes_up_then_is_processed_then_answers_its_link(tmp_path: Path) -> None:
    fake = FakeTikTok()
    video = clip(tmp_path)
    post = post_of(video, text="A 🎬 clip #crier")
    acct = account(fake, disable_comment=False)
    async with world(fake) as (provider, _):
        first = await provider.publish(post, acct, KEY)
        assert isinstance(first, Processing)
        assert first.stage == "uploading the video"
        assert first.retry_after == 0.0
        assert set(first.handle) == {
            "stage",
            "publish_id",
            "upload_url",
            "size",
            "chunk_size",
            "chunks",
            "next",
            "mime",
            "privacy_level",
            "notes",
        }
        second = await provider.poll(first.handle, post, acct, KEY)
        assert isinstance(second, Processing)
        assert second.handle == {
            "stage": "status",
            "publish_id": first.handle["publish_id"],
            "privacy_level": "PUBLIC_TO_EVERYONE",
            "notes": [],
            "looks": 0,
        }  # the upload URL is gone
        third = await provider.poll(second.handle, post, acct, KEY)
        assert third == Processing(
            handle=second.handle, retry_after=10.0, stage="TikTok is receiving the video"
        )
        done = await provider.poll(third.handle, post, acct, KEY)
    assert done == PublishResult(
        platform_id=str(fake.posts[0].id),
        url=link(fake),
        ref={
            "publish_id": first.handle["publish_id"],
            "post_id": str(fake.posts[0].id),
            "parts": 1,
        },
    )
    assert fake.sent() == [
        CREATOR,
        INIT,
        STATUS,
        "PUT /upload/ bytes 0-999/1000",
        STATUS,
        STATUS,
    ]
    init = fake.requests[1]
    assert init.headers["authorization"] == f"Bearer {acct.credentials['access_token']}"
    assert init.headers["content-type"] == "application/json; charset=UTF-8"
    assert body(init) == {
        "post_info": {
            "privacy_level": "PUBLIC_TO_EVERYONE",
            "disable_duet": True,
            "disable_comment": False,
            "disable_stitch": True,
            "brand_content_toggle": False,
            "brand_organic_toggle": False,
            "is_aigc": False,
            "title": "A 🎬 clip #crier",
        },
        "source_info": {
            "source": "FILE_UPLOAD",
            "video_size": 1000,
            "chunk_size": 1000,
            "total_chunk_count": 1,
        },
    }
    put = fake.requests[3]
    assert "authorization" not in put.headers  # the upload URL alone authorizes it
    assert put.headers["content-type"] == "video/mp4"
    assert put.headers["content-length"] == "1000"
    [made] = fake.posts
    assert made.video == video.path.read_bytes()  # type: ignore[union-attr]
    assert made.post_info["title"] == "A 🎬 clip #crier"


async def test_a_big_video_goes_up_in_chunks_the_last_one_taking_the_rest(tmp_path: Path) -> None:
    fake = FakeTikTok()
    size = 3 * CHUNK + 123
    video = clip(tmp_path, size)
    acct = account(fake)
    async with world(fake) as (provider, _):
        started = await provider.publish(post_of(video), acct, KEY)
        assert isinstance(started, Processing)
        uploaded = await provider.poll(started.handle, post_of(video), acct, KEY)
    assert isinstance(uploaded, Processing)
    assert body(fake.requests[1])["source_info"] == {
        "source": "FILE_UPLOAD",
        "video_size": size,
        "chunk_size": CHUNK,
        "total_chunk_count": 3,
    }
    assert fake.sent()[2:] == [
        STATUS,
        f"PUT /upload/ bytes 0-{CHUNK - 1}/{size}",
        f"PUT /upload/ bytes {CHUNK}-{2 * CHUNK - 1}/{size}",
        f"PUT /upload/ bytes {2 * CHUNK}-{size - 1}/{size}",
    ]
    publish = next(iter(fake.publishes.values()))
    assert bytes(publish.received) == video.path.read_bytes()  # type: ignore[union-attr]


async def test_an_upload_broken_off_resumes_after_a_restart_with_exactly_one_post(
    tmp_path: Path,
) -> None:
    """The connection dies after TikTok stored the first chunk, and Crier restarts: the new
    process has only the handle `publish` stored (next chunk: 0). It asks TikTok, which has
    one chunk, sends the other two, and one post comes of it."""
    fake = FakeTikTok()
    size = 3 * CHUNK + 7
    video = clip(tmp_path, size)
    post, acct = post_of(video), account(fake)
    async with world(fake) as (provider, _):
        started = await provider.publish(post, acct, KEY)
        assert isinstance(started, Processing)
        fake.drop_after_chunks = 1
        with pytest.raises(TransientError) as broke:
            await provider.poll(started.handle, post, acct, KEY)
        assert broke.value.ambiguous is False
    stored = dict(started.handle)
    assert stored["next"] == 0
    async with world(fake) as (restarted, _):
        result: PublishResult | Processing = await restarted.poll(stored, post, acct, KEY)
        for _ in range(5):
            if isinstance(result, PublishResult):
                break
            result = await restarted.poll(result.handle, post, acct, KEY)
    assert isinstance(result, PublishResult)
    assert result.url == link(fake)
    puts = [s for s in fake.sent() if s.startswith("PUT")]
    assert puts == [
        f"PUT /upload/ bytes 0-{CHUNK - 1}/{size}",
        f"PUT /upload/ bytes {CHUNK}-{2 * CHUNK - 1}/{size}",
        f"PUT /upload/ bytes {2 * CHUNK}-{size - 1}/{size}",
    ]  # the first chunk went once
    assert fake.sent().count(INIT) == 1
    [made] = fake.posts
    assert made.video == video.path.read_bytes()  # type: ignore[union-attr]


async def test_a_restart_after_the_last_chunk_sends_nothing_again(tmp_path: Path) -> None:
    fake = FakeTikTok()
    video = clip(tmp_path, 2 * CHUNK)
    post, acct = post_of(video), account(fake)
    async with world(fake) as (provider, _):
        started = await provider.publish(post, acct, KEY)
        assert isinstance(started, Processing)
        fake.drop_after_chunks = 2  # the answer to the last chunk is lost
        with pytest.raises(TransientError):
            await provider.poll(started.handle, post, acct, KEY)
        before = len(fake.requests)
        again = await provider.poll(started.handle, post, acct, KEY)
    assert isinstance(again, Processing)
    assert again.handle["stage"] == "status"
    assert fake.sent()[before:] == [STATUS]


async def test_a_long_upload_hands_back_between_chunks(tmp_path: Path) -> None:
    fake = FakeTikTok()
    ticks = iter(range(0, 10_000, 100))
    video = clip(tmp_path, 3 * CHUNK)
    post, acct = post_of(video), account(fake)
    async with world(fake, upload_budget=150, monotonic=lambda: next(ticks)) as (provider, _):
        started = await provider.publish(post, acct, KEY)
        assert isinstance(started, Processing)
        part = await provider.poll(started.handle, post, acct, KEY)
        assert part == Processing(
            handle={**started.handle, "next": 2},
            retry_after=0.0,
            stage="uploading the video (66%)",
        )
        rest = await provider.poll(part.handle, post, acct, KEY)
    assert isinstance(rest, Processing)
    assert rest.handle["stage"] == "status"
    assert len([s for s in fake.sent() if s.startswith("PUT")]) == 3


async def test_an_expired_upload_link_fails_clearly_and_never_starts_a_second_post(
    tmp_path: Path,
) -> None:
    fake = FakeTikTok()
    video = clip(tmp_path, 2 * CHUNK)
    post, acct = post_of(video), account(fake)
    async with world(fake) as (provider, _):
        started = await provider.publish(post, acct, KEY)
        assert isinstance(started, Processing)
        fake.advance(3601)
        with pytest.raises(PermanentError, match=r"upload link expired .* nothing was posted"):
            await provider.poll(started.handle, post, acct, KEY)
    assert fake.sent().count(INIT) == 1
    assert fake.posts == []


@pytest.mark.parametrize(
    ("reason", "said"),
    [
        ("duration_check_failed", "length"),
        ("frame_rate_check_failed", "23 to 60 frames"),
        ("file_format_check_failed", "can't read this file"),
        ("picture_size_check_failed", "picture size"),
        ("spam_risk_too_many_posts", "daily limit .* try again tomorrow"),
        ("internal", "TikTok's side"),
        ("something_new", "something_new"),
    ],
)
async def test_processing_that_fails_fails_the_post_with_the_reason(
    tmp_path: Path, reason: str, said: str
) -> None:
    fake = FakeTikTok(processing_polls=0)
    fake.next_outcome = reason
    video = clip(tmp_path)
    post, acct = post_of(video), account(fake)
    async with world(fake) as (provider, _):
        started = await provider.publish(post, acct, KEY)
        assert isinstance(started, Processing)
        uploaded = await provider.poll(started.handle, post, acct, KEY)
        assert isinstance(uploaded, Processing)
        with pytest.raises(PermanentError, match=said):
            await provider.poll(uploaded.handle, post, acct, KEY)
    assert fake.posts == []


# -- photos and fetched videos --------------------------------------------------------------


async def test_photos_are_fetched_by_tiktok_with_a_title_and_a_description(
    tmp_path: Path,
) -> None:
    fake = FakeTikTok()
    photos = [photo(tmp_path, n) for n in (1, 2, 3)]
    post = post_of(*photos, text="Autumn walk\nLeaves everywhere 🍂 #autumn")
    acct = account(fake, auto_add_music=True)
    async with world(fake) as (provider, _):
        started = await provider.publish(post, acct, KEY)
        assert started == Processing(
            handle={
                "stage": "status",
                "publish_id": started.handle["publish_id"],
                "privacy_level": "PUBLIC_TO_EVERYONE",
                "notes": [],
                "looks": 0,
            },
            retry_after=10.0,
            stage="TikTok is fetching the photos",
        )
        waiting = await provider.poll(started.handle, post, acct, KEY)
        assert isinstance(waiting, Processing)
        done = await provider.poll(waiting.handle, post, acct, KEY)
    assert isinstance(done, PublishResult)
    assert done.url == link(fake)
    assert fake.sent()[:2] == [CREATOR, "POST /v2/post/publish/content/init/"]
    assert body(fake.requests[1]) == {
        "media_type": "PHOTO",
        "post_mode": "DIRECT_POST",
        "post_info": {
            "privacy_level": "PUBLIC_TO_EVERYONE",
            "disable_comment": True,
            "brand_content_toggle": False,
            "brand_organic_toggle": False,
            "title": "Autumn walk",
            "description": "Leaves everywhere 🍂 #autumn",
            "auto_add_music": True,
        },
        "source_info": {
            "source": "PULL_FROM_URL",
            "photo_cover_index": 0,
            "photo_images": [f"{MEDIA}photo{n}.jpg?sig=s{n}" for n in (1, 2, 3)],
        },
    }
    assert fake.posts[0].photos == [p.url for p in photos]


async def test_photos_without_a_public_url_fail_before_asking_tiktok(tmp_path: Path) -> None:
    fake = FakeTikTok()
    async with world(fake) as (provider, _):
        with pytest.raises(PermanentError) as refused:
            await provider.publish(post_of(photo(tmp_path, url=False)), account(fake), KEY)
    assert str(refused.value) == NO_URL
    assert "PUBLIC_URL" in NO_URL
    assert "POST /v2/post/publish/content/init/" not in fake.sent()


async def test_a_video_set_to_be_fetched_is_pulled_from_its_url(tmp_path: Path) -> None:
    fake = FakeTikTok()
    video = clip(tmp_path, url=f"{MEDIA}clip.mp4?sig=v")
    post, acct = post_of(video), account(fake, pull_from_url=True)
    async with world(fake) as (provider, _):
        started = await provider.publish(post, acct, KEY)
        assert isinstance(started, Processing)
        assert started.stage == "TikTok is fetching the video"
        assert "upload_url" not in started.handle
        result: PublishResult | Processing = started
        while isinstance(result, Processing):
            result = await provider.poll(result.handle, post, acct, KEY)
    assert result.url == link(fake)
    assert body(fake.requests[1])["source_info"] == {
        "source": "PULL_FROM_URL",
        "video_url": f"{MEDIA}clip.mp4?sig=v",
    }
    assert not [s for s in fake.sent() if s.startswith("PUT")]


async def test_a_video_fetched_from_an_unverified_domain_fails_saying_so(tmp_path: Path) -> None:
    fake = FakeTikTok(verified_prefixes=("https://elsewhere.example/",))
    video = clip(tmp_path, url=f"{MEDIA}clip.mp4?sig=v")
    async with world(fake) as (provider, _):
        with pytest.raises(PermanentError, match="verify Crier's PUBLIC_URL domain"):
            await provider.publish(post_of(video), account(fake, pull_from_url=True), KEY)


# -- audiences, audit, moderation ------------------------------------------------------------


async def test_an_unaudited_app_posts_privately_with_a_note_and_a_warning(tmp_path: Path) -> None:
    fake = FakeTikTok(
        audited=False, creators=[FakeCreator("oid-1", "crier.tests", "Crier", private_account=True)]
    )
    video = clip(tmp_path)
    post, acct = post_of(video), account(fake)
    async with world(fake) as (provider, _):
        warnings = await provider.validate_live(post, acct)
        assert [(p.code, p.severity) for p in warnings] == [
            ("private_until_audited", Severity.WARNING)
        ]
        result: PublishResult | Processing = await provider.publish(post, acct, KEY)
        while isinstance(result, Processing):
            result = await provider.poll(result.handle, post, acct, KEY)
    assert body(fake.requests[2])["post_info"]["privacy_level"] == "SELF_ONLY"
    assert result.url is None  # TikTok never names a private post
    assert result.platform_id == result.ref["publish_id"]
    assert result.notes == (
        "Posted privately (only you can see it): this Crier's TikTok app hasn't passed "
        "TikTok's audit yet.",
        "It is private, so TikTok gives no link to it: find it on your profile.",
    )
    assert fake.posts[0].privacy_level == "SELF_ONLY"


async def test_an_unaudited_app_and_a_public_account_fail_with_what_to_do(tmp_path: Path) -> None:
    fake = FakeTikTok(audited=False)
    async with world(fake) as (provider, _):
        with pytest.raises(PermanentError, match="make the TikTok account private"):
            await provider.publish(post_of(clip(tmp_path)), account(fake), KEY)


async def test_no_chosen_audience_posts_privately_and_says_so(tmp_path: Path) -> None:
    fake = FakeTikTok()
    acct = account(fake, privacy_level=None)
    async with world(fake) as (provider, _):
        started = await provider.publish(post_of(clip(tmp_path)), acct, KEY)
    assert isinstance(started, Processing)
    assert started.handle["privacy_level"] == "SELF_ONLY"
    assert started.handle["notes"] == [
        "Posted privately (only you): no audience is chosen for this account."
    ]


async def test_an_audience_tiktok_does_not_offer_is_refused_before_the_init(
    tmp_path: Path,
) -> None:
    fake = FakeTikTok()
    acct = account(fake, privacy_level="FOLLOWER_OF_CREATOR")  # a public account's
    post = post_of(clip(tmp_path))
    async with world(fake) as (provider, _):
        [problem] = await provider.validate_live(post, acct)
        assert problem.code == "privacy_not_offered"
        with pytest.raises(PermanentError, match="doesn't offer this account the audience"):
            await provider.publish(post, acct, KEY)
    assert INIT not in fake.sent()


async def test_moderation_holds_the_link_back_then_gives_it(tmp_path: Path) -> None:
    fake = FakeTikTok(processing_polls=0, moderation_polls=2)
    video = clip(tmp_path)
    post, acct = post_of(video), account(fake)
    stages = []
    async with world(fake) as (provider, _):
        result: PublishResult | Processing = await provider.publish(post, acct, KEY)
        while isinstance(result, Processing):
            stages.append((result.stage, result.retry_after))
            result = await provider.poll(result.handle, post, acct, KEY)
    assert stages[-2:] == [
        ("waiting for TikTok's moderation", 30.0),
        ("waiting for TikTok's moderation", 30.0),
    ]
    assert result.url == link(fake)


async def test_a_long_moderation_settles_without_a_link(tmp_path: Path) -> None:
    fake = FakeTikTok(processing_polls=0, moderation_polls=100)
    video = clip(tmp_path)
    post, acct = post_of(video), account(fake)
    async with world(fake, moderation_wait=60) as (provider, _):
        result: PublishResult | Processing = await provider.publish(post, acct, KEY)
        while isinstance(result, Processing):
            result = await provider.poll(result.handle, post, acct, KEY)
    assert result.url is None
    assert "still reviewing it" in result.notes[-1]
    assert len(fake.posts) == 1


async def test_interactions_the_creator_turned_off_stay_off_and_the_preview_says_so(
    tmp_path: Path,
) -> None:
    fake = FakeTikTok(
        creators=[FakeCreator("oid-1", "crier.tests", "Crier", comment_disabled=True)]
    )
    acct = account(fake, disable_comment=False, disable_duet=False)
    post = post_of(clip(tmp_path))
    async with world(fake) as (provider, _):
        [warning] = await provider.validate_live(post, acct)
        assert warning.code == "interaction_off"
        assert "comments turned off" in warning.message
        await provider.publish(post, acct, KEY)
    info = body(fake.requests[-1])["post_info"]
    assert (info["disable_comment"], info["disable_duet"]) == (True, False)


async def test_a_video_longer_than_the_creator_may_post_is_refused(tmp_path: Path) -> None:
    fake = FakeTikTok(
        creators=[FakeCreator("oid-1", "crier.tests", "Crier", max_video_post_duration_sec=60)]
    )
    post, acct = post_of(clip(tmp_path, seconds=75)), account(fake)
    async with world(fake) as (provider, _):
        [problem] = await provider.validate_live(post, acct)
        assert problem.code == "video_too_long"
        assert "1:15 long" in problem.message
        assert "up to 1:00" in problem.message
        with pytest.raises(PermanentError, match="1:15 long"):
            await provider.publish(post, acct, KEY)
    assert INIT not in fake.sent()


async def test_creator_info_is_what_the_preview_shows() -> None:
    fake = FakeTikTok(
        creators=[FakeCreator("oid-1", "crier.tests", "Crier Tests", stitch_disabled=True)]
    )
    async with world(fake) as (provider, _):
        info = await provider.creator_info(account(fake))
    assert info.username == "crier.tests"
    assert info.nickname == "Crier Tests"
    assert info.privacy_level_options == (
        "PUBLIC_TO_EVERYONE",
        "MUTUAL_FOLLOW_FRIENDS",
        "SELF_ONLY",
    )
    assert (info.comment_disabled, info.duet_disabled, info.stitch_disabled) == (False, False, True)
    assert info.max_video_post_duration_sec == 600
    assert not info.only_private


async def test_validate_live_has_nothing_to_add_when_tiktok_cannot_be_asked(
    tmp_path: Path,
) -> None:
    fake = FakeTikTok()
    fake.fail_next("/v2/post/publish/creator_info/query/", 500, "internal_error")
    async with world(fake) as (provider, _):
        assert await provider.validate_live(post_of(clip(tmp_path)), account(fake)) == []


# -- limits TikTok enforces -----------------------------------------------------------------


async def test_the_daily_post_cap_makes_the_post_wait(tmp_path: Path) -> None:
    fake = FakeTikTok(daily_cap=0)
    async with world(fake) as (provider, _):
        with pytest.raises(RateLimited) as waited:
            await provider.publish(post_of(clip(tmp_path)), account(fake), KEY)
    assert waited.value.retry_after == 3600.0
    assert "daily limit" in str(waited.value)


async def test_the_init_rate_limit_makes_the_post_wait(tmp_path: Path) -> None:
    fake = FakeTikTok()
    acct = account(fake)
    async with world(fake) as (provider, _):
        for _ in range(6):
            await provider.publish(post_of(clip(tmp_path)), acct, KEY)
        with pytest.raises(RateLimited) as waited:
            await provider.publish(post_of(clip(tmp_path)), acct, KEY)
    assert waited.value.retry_after == 60.0


async def test_a_refused_token_means_reconnect(tmp_path: Path) -> None:
    fake = FakeTikTok()
    acct = account(fake)
    fake.oauth.revoke(fake.creator.open_id)
    async with world(fake) as (provider, _):
        with pytest.raises(AuthError, match="connect the account again"):
            await provider.publish(post_of(clip(tmp_path)), acct, KEY)
