"""A post's media per account: compose-time checks without encoding, publish-time adaptation."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from PIL import ExifTags, Image

from bot.engine.content import check, prepare_for
from bot.media.adapt import expect
from bot.media.prepare import check_media, item_label, media_info, profile_of
from bot.media.probe import MediaInfo, probe
from bot.media.profile import NotAdaptable, profile_for
from bot.media.receive import storage_key
from providers import instagram_limits
from providers.base import AccountRef, MediaFile, MediaKind, PostContent, Severity
from providers.bluesky import BlueskyProvider
from providers.dryrun import DryRunProvider
from providers.errors import PermanentError
from providers.mastodon import MastodonProvider
from providers.telegram_channel import TelegramChannelProvider
from storage.models import Account, Media, Post, PostMedia
from tests import media_samples as samples
from tests.fakes.mastodon import FakeMastodon

BLUESKY_REF = AccountRef(id=2, platform="bluesky", label="@a.test")


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def bluesky(http: httpx.AsyncClient) -> BlueskyProvider:
    return BlueskyProvider(http, link_previews=False)


@pytest.fixture
def telegram(http: httpx.AsyncClient) -> TelegramChannelProvider:
    return TelegramChannelProvider(http, token="1:T", api_base_url="http://127.0.0.1:9/bot")


def stored(media_dir: Path, source: Path, **row: object) -> Media:
    """A media row for `source`, its file placed in the store as the bot leaves it."""
    info = probe(source)
    target = media_dir / storage_key(info.sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes())
    extras = {
        k: v
        for k, v in dataclasses.asdict(info).items()
        if k in ("fps", "video_codec", "container", "has_alpha", "orientation", "has_location")
    }
    fields: dict[str, object] = {
        "id": len(list(media_dir.rglob("*"))),
        "user_id": 1,
        "sha256": info.sha256,
        "storage_key": storage_key(info.sha256),
        "kind": info.kind.value,
        "mime": info.mime,
        "size": info.size,
        "width": info.width,
        "height": info.height,
        "duration": info.duration,
        "probe": extras,
        **row,
    }
    return Media(**fields)


def draft(*media: Media, text: str = "Hello") -> Post:
    post = Post(id=7, user_id=1, text=text, overrides={})
    post.media_links = [
        PostMedia(post_id=7, position=i, media_id=m.id, media=m) for i, m in enumerate(media)
    ]
    return post


def account(platform: str, account_id: int = 2) -> Account:
    return Account(id=account_id, user_id=1, platform=platform, label=f"@{platform}", config={})


async def no_sleep(seconds: float) -> None:
    return None


@dataclasses.dataclass
class Connected:
    provider: MastodonProvider
    #: As stored.
    row: Account
    #: As the engine hands it to the provider, with the token.
    ref: AccountRef


Connect = Callable[[FakeMastodon, int], Awaitable[Connected]]


@pytest.fixture
async def mastodon() -> AsyncIterator[Connect]:
    """Connects accounts on fake Mastodon servers, as /connect does."""
    async with contextlib.AsyncExitStack() as stack:

        async def connect(fake: FakeMastodon, account_id: int) -> Connected:
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app))
            await stack.enter_async_context(client)
            provider = MastodonProvider(client, sleep=no_sleep)
            ref = AccountRef(
                id=account_id,
                platform="mastodon",
                label="",
                config={"instance_url": f"https://{fake.domain}"},
                credentials={"access_token": fake.token},
            )
            verified = await provider.verify(ref)  # reads the fake's /api/v2/instance
            row = account("mastodon", account_id)
            row.label, row.config = verified.label, dict(verified.config)
            return Connected(provider, row, dataclasses.replace(ref, config=row.config))

        yield connect


# -- expect: what adapt will make of a file, without encoding ---------------------------------


def test_expect_projects_a_large_photo_to_its_limit_without_encoding(
    tmp_path: Path, bluesky: BlueskyProvider
) -> None:
    path = samples.noisy_jpeg(tmp_path / "big.jpg", (3000, 2000))
    info = probe(path)
    assert info.size > 1_000_000
    path.unlink()  # no file needed: only what probing stored
    projected = expect(info, profile_of(bluesky, BLUESKY_REF))
    assert projected.size == 1_000_000
    assert (projected.width, projected.height, projected.mime) == (3000, 2000, "image/jpeg")


def test_expect_converts_heic_and_refuses_video_where_none_is_taken(
    tmp_path: Path, bluesky: BlueskyProvider
) -> None:
    profile = profile_of(bluesky, BLUESKY_REF)
    heic = probe(samples.heic(tmp_path / "photo.heic"))
    assert expect(heic, profile).mime == "image/jpeg"
    clip = probe(samples.mp4(tmp_path / "clip.mp4", seconds=0.4))
    with pytest.raises(NotAdaptable) as caught:
        expect(clip, profile)
    assert caught.value.code == "no_video"
    assert "Bluesky doesn't take videos" in str(caught.value)


def test_media_info_round_trips_the_probe_facts(tmp_path: Path) -> None:
    row = stored(tmp_path, samples.sideways_jpeg(tmp_path / "side.jpg"))
    info = media_info(row)
    assert info == probe(tmp_path / "side.jpg")
    assert info.orientation == 6
    assert info.has_location


def test_item_labels_say_which_item() -> None:
    assert item_label(MediaKind.PHOTO, 2, 3) == "Photo 2 of 3"
    assert item_label(MediaKind.VIDEO, 1, 1) == "Video"


# -- check: per-account problems at compose time ------------------------------------------------


async def test_a_video_is_a_problem_for_bluesky_only(
    tmp_path: Path, bluesky: BlueskyProvider
) -> None:
    clip = stored(tmp_path, samples.mp4(tmp_path / "clip.mp4", seconds=0.4))
    post = draft(clip)
    on_bluesky = check(post, account("bluesky"), bluesky, tmp_path)
    on_dry_run = check(post, account("dryrun", 3), DryRunProvider(), tmp_path)
    assert [p.code for p in on_bluesky] == ["no_video"]
    assert on_bluesky[0].message == "Video: Bluesky doesn't take videos here."
    assert on_bluesky[0].severity is Severity.ERROR
    assert on_dry_run == []


async def test_a_photo_too_large_for_bluesky_is_no_problem_since_it_will_shrink(
    tmp_path: Path, bluesky: BlueskyProvider
) -> None:
    big = stored(tmp_path, samples.noisy_jpeg(tmp_path / "big.jpg", (3000, 2000)))
    assert big.size > 1_000_000
    assert check(draft(big), account("bluesky"), bluesky, tmp_path) == []


async def test_mixed_items_name_the_one_that_cannot_go(
    tmp_path: Path, bluesky: BlueskyProvider
) -> None:
    photo = stored(tmp_path, samples.jpeg(tmp_path / "a.jpg"))
    gif = stored(tmp_path, samples.gif_animation(tmp_path / "b.gif"), id=99)
    problems = check(draft(photo, gif), account("bluesky"), bluesky, tmp_path)
    assert [(p.code, p.message.split(":")[0]) for p in problems] == [("no_animation", "GIF 2 of 2")]


@pytest.mark.parametrize(
    ("server", "clip", "problem"),
    [
        (
            {"video_matrix_limit": 640 * 360},
            {"size": (1280, 720)},
            (
                "video_resolution",
                "Video: This video is 1280×720 (0.92 megapixels); Mastodon takes up to 0.23 "
                "megapixels, such as 640×360. Export it at a lower resolution and send it again.",
            ),
        ),
        (
            {"video_frame_rate_limit": 30},
            {"fps": 60},
            (
                "video_fps",
                "Video: This video runs at 60 frames per second; Mastodon takes up to 30. "
                "Export it at a lower frame rate.",
            ),
        ),
    ],
    ids=["frame size", "frame rate"],
)
async def test_a_video_over_a_mastodon_servers_frame_limits_is_a_problem_for_that_account_only(
    tmp_path: Path,
    telegram: TelegramChannelProvider,
    mastodon: Connect,
    server: dict[str, int],
    clip: dict[str, object],
    problem: tuple[str, str],
) -> None:
    strict_server = FakeMastodon(domain="small.example", **server)  # type: ignore[arg-type]
    roomy_server = FakeMastodon(domain="big.example")  # Mastodon's own: 3840×2160, 120 fps
    strict = await mastodon(strict_server, 4)
    roomy = await mastodon(roomy_server, 5)
    for key, value in server.items():  # read from /api/v2/instance and stored
        assert strict.row.config["limits"][key] == value
    source = samples.mp4(tmp_path / "clip.mp4", seconds=0.2, **clip)  # type: ignore[arg-type]
    post = draft(stored(tmp_path, source, telegram_file_id="BAAD-video"))

    found = check(post, strict.row, strict.provider, tmp_path)
    assert [(p.code, p.message) for p in found] == [problem]
    assert check(post, roomy.row, roomy.provider, tmp_path) == []
    assert check(post, account("telegram", 6), telegram, tmp_path) == []
    assert check(post, account("dryrun", 7), DryRunProvider(), tmp_path) == []

    # Publishing anyway stops before uploading anything...
    with pytest.raises(PermanentError) as refused:
        await prepare_for(post, strict.ref, strict.provider, tmp_path)
    assert f"Video: {refused.value}" == problem[1]
    assert [r.path for r in strict_server.requests] == [  # verify's, nothing since
        "/api/v1/accounts/verify_credentials",
        "/api/v2/instance",
    ]
    # ... and the limit is the server's: it fails processing such a video, not another one.
    sent = PostContent(
        text="x", media=(MediaFile(kind=MediaKind.VIDEO, mime="video/mp4", size=1, path=source),)
    )
    with pytest.raises(PermanentError, match="Error processing thumbnail"):
        await strict.provider.publish(sent, strict.ref, "key-1")
    assert not strict_server.statuses
    await roomy.provider.publish(sent, roomy.ref, "key-1")
    assert len(roomy_server.statuses) == 1


async def test_a_panorama_over_20_to_1_is_a_problem_for_the_telegram_channel_only(
    tmp_path: Path, telegram: TelegramChannelProvider, bluesky: BlueskyProvider
) -> None:
    panorama = stored(tmp_path, samples.jpeg(tmp_path / "pano.jpg", (10500, 500)))
    post = draft(panorama)
    [problem] = check(post, account("telegram"), telegram, tmp_path)
    assert (problem.code, problem.message) == (
        "aspect_ratio",
        "Photo: This photo is 10500×500, an aspect ratio of 21.00:1; Telegram channel takes "
        "1:20 to 20:1. Crop it to fit and send it again.",
    )
    assert check(post, account("bluesky", 3), bluesky, tmp_path) == []
    assert check(post, account("dryrun", 4), DryRunProvider(), tmp_path) == []
    with pytest.raises(PermanentError, match="Crop it to fit"):
        await prepare_for(post, account("telegram"), telegram, tmp_path)


async def test_a_wide_panorama_is_shrunk_for_telegram_not_refused(
    tmp_path: Path, telegram: TelegramChannelProvider
) -> None:
    source = samples.jpeg(tmp_path / "pano.jpg", (12000, 1500))
    row = stored(tmp_path / "media", source, telegram_file_id="BQAD-document")
    post = draft(row)
    assert check(post, account("telegram"), telegram, tmp_path / "media") == []
    content = await prepare_for(post, account("telegram"), telegram, tmp_path / "media")
    [item] = content.media
    assert item.path is not None
    assert item.telegram_file_id is None  # the new bytes are uploaded
    with Image.open(item.path) as image:
        assert image.size == (item.width, item.height) == (8888, 1111)


async def test_a_released_file_is_reported_not_crashed_on(
    tmp_path: Path, bluesky: BlueskyProvider
) -> None:
    photo = stored(tmp_path, samples.jpeg(tmp_path / "a.jpg"), storage_key="")
    [problem] = check(draft(photo), account("bluesky"), bluesky, tmp_path)
    assert problem.code == "media_missing"


# -- prepare_for: what each provider is handed ------------------------------------------------


async def test_prepare_shrinks_for_bluesky_strips_location_and_drops_the_telegram_id(
    tmp_path: Path, bluesky: BlueskyProvider
) -> None:
    source = samples.noisy_jpeg(tmp_path / "big.jpg", (3000, 2000), exif=samples.gps_exif())
    row = stored(tmp_path / "media", source, telegram_file_id="AgAD-photo", alt_text="A field")
    content = await prepare_for(draft(row), account("bluesky"), bluesky, tmp_path / "media")
    [item] = content.media
    assert item.path is not None
    assert item.path.is_relative_to(tmp_path / "media" / "derived")
    assert item.size == item.path.stat().st_size <= 1_000_000
    assert item.width is not None
    assert item.height is not None
    assert abs(item.height - item.width * 2000 / 3000) <= 1
    assert item.telegram_file_id is None  # Telegram's copy is not what is sent
    assert item.alt_text == "A field"
    with Image.open(item.path) as image:
        assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert content.text == "Hello"
    assert content.post_id == 7


async def test_prepare_keeps_an_unchanged_photo_and_its_telegram_id(
    tmp_path: Path, telegram: TelegramChannelProvider
) -> None:
    row = stored(tmp_path, samples.jpeg(tmp_path / "ok.jpg"), telegram_file_id="AgAD-photo")
    content = await prepare_for(draft(row), account("telegram"), telegram, tmp_path)
    [item] = content.media
    assert item.telegram_file_id == "AgAD-photo"
    assert item.path == tmp_path / row.storage_key


async def test_prepare_accepts_plain_content_and_an_account_ref(
    tmp_path: Path, bluesky: BlueskyProvider
) -> None:
    source = samples.sideways_jpeg(tmp_path / "side.jpg")
    item = MediaFile(kind=MediaKind.PHOTO, mime="image/jpeg", size=1, path=source)
    content = await prepare_for(
        PostContent(text="x", media=(item,)), BLUESKY_REF, bluesky, tmp_path
    )
    [sent] = content.media
    assert (sent.width, sent.height) == (40, 80)  # turned upright
    assert sent.path != source


async def test_prepare_fails_permanently_for_what_cannot_go_or_is_gone(
    tmp_path: Path, bluesky: BlueskyProvider
) -> None:
    clip = stored(tmp_path, samples.mp4(tmp_path / "clip.mp4", seconds=0.4))
    with pytest.raises(PermanentError, match="doesn't take videos"):
        await prepare_for(draft(clip), account("bluesky"), bluesky, tmp_path)
    gone = stored(tmp_path, samples.jpeg(tmp_path / "a.jpg"), storage_key="")
    with pytest.raises(PermanentError, match="cleaned up"):
        await prepare_for(draft(gone), account("bluesky"), bluesky, tmp_path)
    deleted = stored(tmp_path, samples.jpeg(tmp_path / "b.jpg", color=(1, 2, 3)))
    (tmp_path / deleted.storage_key).unlink()
    with pytest.raises(PermanentError, match="missing"):
        await prepare_for(draft(deleted), account("bluesky"), bluesky, tmp_path)


def test_media_info_ignores_unknown_probe_keys() -> None:
    row = Media(
        kind="photo",
        mime="image/png",
        size=10,
        sha256="0" * 64,
        width=2,
        height=1,
        duration=None,
        probe={"has_alpha": True, "future_fact": 1},
    )
    assert media_info(row) == MediaInfo(
        kind=MediaKind.PHOTO,
        mime="image/png",
        size=10,
        sha256="0" * 64,
        width=2,
        height=1,
        has_alpha=True,
    )


def test_a_photo_the_account_fits_is_a_warning_in_the_preview(tmp_path: Path) -> None:
    panorama = stored(tmp_path, samples.jpeg(tmp_path / "pano.jpg", (3000, 1000)))
    asked = profile_for(instagram_limits.limits_for({}), "Instagram")
    [refused], items = check_media([panorama], asked, tmp_path)
    assert (refused.code, refused.severity, items) == ("aspect_ratio", Severity.ERROR, [])
    padded = profile_for(instagram_limits.limits_for({"instagram_fit": "pad"}), "Instagram")
    [warning], [item] = check_media([panorama], padded, tmp_path)
    assert (warning.code, warning.severity) == ("aspect_fit", Severity.WARNING)
    assert warning.message == (
        "Photo (3000×1000) will be padded with white to 1.91:1 for Instagram, as this account "
        "is set (/accounts → ⚙️)."
    )
    assert (item.width, item.height) == (3000, 1571)
