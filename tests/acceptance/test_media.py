"""Media through the real bot: received, checked by content, stored once, adapted per platform.

Every file is made on the spot (tests/media_samples.py) and sent through the fake Bot API.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from PIL import ExifTags, Image
from sqlalchemy import select

from bot.app import Crier
from bot.config import Settings
from bot.media.profile import human_bytes
from bot.media.receive import storage_key
from providers.base import PostContent
from providers.dryrun import DryRunProvider
from storage import accounts
from storage.models import Media
from tests import media_samples as samples
from tests.acceptance.conftest import Person, buttons, eventually
from tests.acceptance.test_compose_flow import CHANNEL, connect_channel
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.serve import from_handler, serve
from tests.fakes.telegram_api import FakeTelegram

KEY = Fernet.generate_key().decode()
HANDLE = "alice.test"
DID = "did:plc:alicealicealicealice"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"


def originals(crier: Crier) -> list[Path]:
    """Stored files (not adapted copies, not downloads in progress)."""
    root = crier.settings.media_dir
    return [
        p
        for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).parts[0] not in ("derived", ".incoming")
    ]


def incoming(crier: Crier) -> list[Path]:
    return [p for p in (crier.settings.media_dir / ".incoming").glob("*") if p.is_file()]


async def media_rows(crier: Crier) -> list[Media]:
    async with crier.db.session() as session:
        return list(await session.scalars(select(Media).order_by(Media.id)))


def records(crier: Crier) -> list[PostContent]:
    assert crier.services is not None
    dry_run = crier.services.registry["dryrun"]
    assert isinstance(dry_run, DryRunProvider)
    return [record.post for record in dry_run.records]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def has_gps(image: Image.Image) -> bool:
    return bool(image.getexif().get_ifd(ExifTags.IFD.GPSInfo))


async def add_bluesky(crier: Crier, person: Person, **config: str) -> None:
    """A connected Bluesky account, as /connect leaves it."""
    assert crier.services is not None
    secrets = crier.services.secrets
    async with crier.db.session() as session:
        await accounts.add(
            session,
            user_id=person.id,
            platform="bluesky",
            label=f"@{HANDLE}",
            external_id=DID,
            config={"did": DID, "handle": HANDLE, **config},
            credentials=secrets.seal({"app_password": APP_PASSWORD}) if secrets.available else None,
        )


async def to_preview(person: Person, status: dict, *labels: str) -> dict:  # type: ignore[type-arg]
    """From the draft status: Done, pick the accounts labelled, Next, Now."""
    picker = await person.presses(status, "✅ Done", "Where should it go")
    for label in labels:
        picker = await person.presses(picker, f"▫️ {label}", _shows(f"✅ {label}"))
    ask_time = await person.presses(picker, "Next ➡", "When?")
    return await person.presses(ask_time, "⚡ Now", "Preview")


def _shows(button: str) -> Callable[[dict], bool]:  # type: ignore[type-arg]
    return lambda message: button in buttons(message)


@pytest.fixture
async def bsky() -> AsyncIterator[FakeBluesky]:
    """The fake Bluesky PDS, resolver and PLC directory, served over real HTTP."""
    fake = FakeBluesky()
    async with serve(from_handler(fake)) as url:
        fake.pds_url = fake.resolver_url = fake.plc_url = url
        fake.add_account(HANDLE, DID, APP_PASSWORD)
        yield fake


# -- receiving --------------------------------------------------------------------------------


async def test_an_album_of_three_photos_is_fetched_stored_once_each_and_sent_as_one_album(
    tg: FakeTelegram, crier: Crier, alice: Person, tmp_path: Path
) -> None:
    await alice.says("/start", "Crier")
    await connect_channel(tg, alice)
    photos = [
        samples.jpeg(tmp_path / f"{i}.jpg", (800, 600), color=color).read_bytes()
        for i, color in enumerate([(200, 30, 30), (30, 200, 30), (30, 30, 200)])
    ]
    waiting = tg.wait_for(alice.user, "3 photos")
    sent = tg.send_album(alice.user, photos, caption="Trip")
    status = await waiting

    # Each photo fetched once with getFile, in its largest size, and stored under its hash.
    largest = [update["message"]["photo"][-1]["file_id"] for update in sent]
    assert [call["file_id"] for call in tg.calls_to("getFile")] == largest
    assert len(tg.downloads) == 3
    assert sorted(p.name for p in originals(crier)) == sorted(sha256(p) for p in photos)
    rows = await media_rows(crier)
    assert [(r.kind, r.mime, r.width, r.height) for r in rows] == [
        ("photo", "image/jpeg", 800, 600)
    ] * 3
    assert [r.telegram_file_id for r in rows] == largest
    assert incoming(crier) == []

    preview = await to_preview(alice, status, "@news · Telegram channel")
    assert "3 photos" in preview["text"]
    scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #1")
    await tg.wait_for(alice.user, "Post #1 is out", after=scheduled["message_id"], timeout=10)

    [group] = tg.calls_to("sendMediaGroup")
    assert [item["media"] for item in group["media"]] == largest  # by file id, no re-upload
    album = [m for m in tg.sent(CHANNEL) if m.get("media_group_id")]
    assert len(album) == 3
    assert len({m["media_group_id"] for m in album}) == 1

    # The same photo in a new post is a new row but not a second file.
    again = tg.wait_for(alice.user, "1 photo")
    tg.send_photo(alice.user, photos[0])
    await again
    assert len(originals(crier)) == 3
    assert len(await media_rows(crier)) == 4


async def test_a_short_mp4_is_probed_for_its_real_duration_and_resolution(
    tg: FakeTelegram, crier: Crier, alice: Person, tmp_path: Path
) -> None:
    await alice.says("/start", "Crier")
    clip = samples.mp4(tmp_path / "clip.mp4", seconds=2.0, size=(320, 240), fps=25).read_bytes()
    waiting = tg.wait_for(alice.user, "1 video")
    # What Telegram says about the video is not trusted: the bytes are probed.
    tg.send_video(alice.user, clip, width=1280, height=720, duration=5)
    await waiting
    [row] = await media_rows(crier)
    assert (row.kind, row.mime, row.width, row.height) == ("video", "video/mp4", 320, 240)
    assert row.duration == pytest.approx(2.0, abs=0.1)
    assert row.size == len(clip)
    assert row.sha256 == sha256(clip)
    assert row.probe["container"] == "mp4"
    assert row.probe["fps"] == pytest.approx(25)
    assert row.probe["video_codec"] == samples.video_codec().removeprefix("lib").replace(
        "x264", "h264"
    )
    assert row.telegram_file_id is not None  # Telegram holds it as a video: resent by id


def _truncated_jpeg(tmp_path: Path) -> bytes:
    whole = samples.noisy_jpeg(tmp_path / "whole.jpg", (600, 400))
    return samples.truncated(whole, tmp_path / "cut.jpg").read_bytes()


@pytest.mark.parametrize(
    ("make", "name", "mime", "reason"),
    [
        (_truncated_jpeg, "photo.jpg", "image/jpeg", "damaged or cut off"),
        (
            lambda tmp: samples.elf(tmp / "x").read_bytes(),
            "holiday.jpg",
            "image/jpeg",
            "says it's a JPEG but it isn't one: it's a Linux program",
        ),
        (lambda tmp: b"", "empty.jpg", "image/jpeg", "empty (0 bytes)"),
        (
            lambda tmp: samples.pe(tmp / "x").read_bytes(),
            "setup.exe",
            "application/x-msdownload",
            "a Windows program",
        ),
    ],
    ids=["truncated-jpeg", "renamed-executable", "zero-bytes", "program"],
)
async def test_a_file_that_is_not_what_it_claims_is_refused_and_nothing_is_stored(
    tg: FakeTelegram,
    crier: Crier,
    alice: Person,
    tmp_path: Path,
    make: Callable[[Path], bytes],
    name: str,
    mime: str,
    reason: str,
) -> None:
    await alice.says("/start", "Crier")
    waiting = tg.wait_for(alice.user, "⚠️")
    tg.send_document(alice.user, make(tmp_path), file_name=name, mime_type=mime)
    refused = await waiting
    assert reason in refused["text"]
    assert "Traceback" not in refused["text"]
    await tg.wait_for(alice.user, "Send me something else", after=refused["message_id"] - 1)
    assert originals(crier) == []
    assert incoming(crier) == []
    assert await media_rows(crier) == []


# -- adapting per platform ---------------------------------------------------------------------


async def test_a_photo_too_big_for_bluesky_is_shrunk_at_publish_time_keeping_its_shape(
    tg: FakeTelegram,
    make_settings: Callable[..., Settings],
    alice: Person,
    bsky: FakeBluesky,
    tmp_path: Path,
) -> None:
    big = samples.noisy_jpeg(tmp_path / "big.jpg", (4000, 3000), exif=samples.gps_exif())
    data = big.read_bytes()
    assert len(data) > 3_000_000
    settings = make_settings(
        crier_encryption_key=KEY, bluesky_resolver_url=bsky.pds_url, bluesky_plc_url=bsky.pds_url
    )
    async with Crier(settings) as crier:
        await alice.says("/start", "Crier")
        await add_bluesky(crier, alice, pds_url=bsky.pds_url)
        waiting = tg.wait_for(alice.user, "New post")
        # Sent as a file, so Telegram did not compress it: a full-size camera photo.
        tg.send_document(alice.user, data, file_name="big.jpg", mime_type="image/jpeg")
        status = await waiting
        assert "1 photo" in status["text"]

        preview = await to_preview(alice, status, f"@{HANDLE} · Bluesky")
        assert f"✅ @{HANDLE} (Bluesky)" in preview["text"]  # too big, but it will fit
        scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #1")
        await tg.wait_for(alice.user, "Post #1 is out", after=scheduled["message_id"], timeout=15)

        [(mime, blob)] = bsky.blobs.values()
        assert mime == "image/jpeg"
        assert len(blob) <= 1_000_000
        with Image.open(io.BytesIO(blob)) as image:
            width, height = image.size
            assert not has_gps(image)
        assert width < 4000
        assert abs(height - width * 3000 / 4000) <= 1  # the aspect ratio kept
        [post] = bsky.posts(DID)
        [embedded] = post["embed"]["images"]
        assert embedded["aspectRatio"] == {"width": width, "height": height}
        # What is stored is the original, untouched; the shrunk copy is a derived file.
        stored = crier.settings.media_dir / storage_key(sha256(data))
        assert stored.read_bytes() == data
        assert list((crier.settings.media_dir / "derived").rglob("*.jpg"))


async def test_gps_is_removed_and_orientation_applied_in_what_a_provider_receives(
    tg: FakeTelegram, crier: Crier, alice: Person, tmp_path: Path
) -> None:
    await alice.says("/start", "Crier")
    data = samples.sideways_jpeg(tmp_path / "side.jpg", orientation=6, gps=True).read_bytes()
    waiting = tg.wait_for(alice.user, "1 photo")
    tg.send_document(alice.user, data, file_name="side.jpg", mime_type="image/jpeg")
    status = await waiting
    preview = await to_preview(alice, status)
    scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #1")
    await tg.wait_for(alice.user, "Post #1 is out", after=scheduled["message_id"], timeout=10)

    [post] = records(crier)
    [item] = post.media
    assert item.path is not None
    with Image.open(item.path) as image:
        assert not has_gps(image)
        assert image.getexif().get(ExifTags.Base.Orientation) in (None, 1)
        assert image.size == (40, 80)  # stored sideways, sent upright
        top = image.getpixel((20, 10))
        assert isinstance(top, tuple)
        assert top[0] > 200  # red on top
    [row] = await media_rows(crier)
    with Image.open(crier.settings.media_dir / row.storage_key) as original:
        assert has_gps(original)  # the stored original is not what is published


async def test_a_photo_sent_as_a_file_goes_to_a_channel_as_a_photo_upload(
    tg: FakeTelegram, crier: Crier, alice: Person, tmp_path: Path
) -> None:
    await alice.says("/start", "Crier")
    await connect_channel(tg, alice)
    data = samples.jpeg(tmp_path / "scan.jpg", (900, 600)).read_bytes()
    waiting = tg.wait_for(alice.user, "1 photo")
    tg.send_document(alice.user, data, file_name="scan.jpg", mime_type="image/jpeg")
    status = await waiting
    [row] = await media_rows(crier)
    # Telegram holds it as a document: its id can't be sent with sendPhoto.
    assert (row.kind, row.telegram_file_id) == ("photo", None)

    preview = await to_preview(alice, status, "@news · Telegram channel")
    scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #1")
    await tg.wait_for(alice.user, "Post #1 is out", after=scheduled["message_id"], timeout=10)
    [call] = tg.calls_to("sendPhoto")
    assert str(call["photo"]).startswith("attach://")
    [posted] = [m for m in tg.sent(CHANNEL) if "photo" in m]
    assert posted["photo"][-1]["width"] == 900


async def test_a_video_is_a_problem_for_the_bluesky_account_only(
    tg: FakeTelegram, crier: Crier, alice: Person, tmp_path: Path
) -> None:
    await alice.says("/start", "Crier")
    await add_bluesky(crier, alice)
    clip = samples.mp4(tmp_path / "clip.mp4", seconds=1.0).read_bytes()
    waiting = tg.wait_for(alice.user, "1 video")
    tg.send_video(alice.user, clip, caption="Watch this")
    status = await waiting

    preview = await to_preview(alice, status, "Dry run", f"@{HANDLE} · Bluesky")
    problem = f"❌ @{HANDLE} (Bluesky)\n    • Video: Bluesky doesn't take videos here."
    assert problem in preview["text"]
    assert "✅ Dry run" in preview["text"]
    assert "✅ Confirm" not in buttons(preview)

    picker = await alice.presses(preview, "👥 Change accounts", "Where should it go")
    picker = await alice.presses(
        picker, f"✅ @{HANDLE} · Bluesky", lambda m: f"▫️ @{HANDLE} · Bluesky" in buttons(m)
    )
    ask_time = await alice.presses(picker, "Next ➡", "When?")
    preview = await alice.presses(ask_time, "⚡ Now", "Preview")
    assert "❌" not in preview["text"]
    scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #1")
    await tg.wait_for(alice.user, "Post #1 is out", after=scheduled["message_id"], timeout=10)
    [post] = records(crier)
    assert [m.kind.value for m in post.media] == ["video"]


# -- alt text ---------------------------------------------------------------------------------


async def test_alt_text_is_asked_photo_by_photo_shown_in_the_preview_and_sent(
    tg: FakeTelegram, crier: Crier, alice: Person, tmp_path: Path
) -> None:
    await alice.says("/start", "Crier")
    photos = [
        samples.jpeg(tmp_path / f"{i}.jpg", color=color).read_bytes()
        for i, color in enumerate([(220, 0, 0), (0, 0, 220)])
    ]
    waiting = tg.wait_for(alice.user, "2 photos")
    tg.send_album(alice.user, photos)
    status = await waiting
    assert "🖼 Add alt text" in buttons(status)

    first = await alice.presses(status, "🖼 Add alt text", "Photo 1 of 2")
    assert buttons(first) == ["⏭ Skip", "✅ Finish"]
    too_long = await alice.says("x" * 1501, "⚠️")
    assert "1,501 characters" in too_long["text"]
    assert "at most 1,500" in too_long["text"]
    second = await alice.says("A red square", "Photo 2 of 2")
    done = await alice.presses(second, "⏭ Skip", "Alt text on 1 of 2 photos")
    status = await tg.wait_for(alice.user, "New post", after=done["message_id"])

    preview = await to_preview(alice, status)
    assert "alt text on photo 1 of 2" in preview["text"]
    # From the preview: photo 1 keeps its text (Skip), photo 2 gets one.
    first = await alice.presses(preview, "🖼 Add alt text", "Photo 1 of 2")
    assert "Now: A red square" in first["text"]
    await alice.presses(first, "⏭ Skip", "Photo 2 of 2")
    await alice.says("A blue square", "Alt text on 2 of 2 photos")
    preview = await tg.wait_for(alice.user, "Preview")
    assert "alt text on every photo" in preview["text"]
    scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #1")
    await tg.wait_for(alice.user, "Post #1 is out", after=scheduled["message_id"], timeout=10)

    assert [row.alt_text for row in await media_rows(crier)] == ["A red square", "A blue square"]
    [post] = records(crier)
    assert [m.alt_text for m in post.media] == ["A red square", "A blue square"]


# -- storage ----------------------------------------------------------------------------------


async def test_over_the_storage_quota_a_file_is_refused_with_the_usage_and_nothing_is_stored(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person, tmp_path: Path
) -> None:
    small = samples.noisy_jpeg(tmp_path / "small.jpg", (400, 300)).read_bytes()
    large = samples.noisy_jpeg(tmp_path / "large.jpg", (800, 600)).read_bytes()
    quota = len(small) + len(large) // 2
    async with Crier(make_settings(media_quota_bytes=quota)) as crier:
        await alice.says("/start", "Crier")
        waiting = tg.wait_for(alice.user, "1 photo")
        tg.send_photo(alice.user, small)
        await waiting

        waiting = tg.wait_for(alice.user, "storage is full")
        tg.send_photo(alice.user, large)
        refused = await waiting
        assert f"you use {human_bytes(len(small))} of your {human_bytes(quota)}" in refused["text"]
        assert "Nothing was saved" in refused["text"]
        assert len(tg.calls_to("getFile")) == 1  # refused before downloading it

        # Telegram may not say the size: the bytes are counted once downloaded.
        waiting = tg.wait_for(alice.user, "storage is full")
        tg.send_photo(alice.user, large, file_size=1)
        refused = await waiting
        assert human_bytes(len(large)) in refused["text"]
        assert len(tg.calls_to("getFile")) == 2
        assert [p.name for p in originals(crier)] == [sha256(small)]
        assert incoming(crier) == []
        assert len(await media_rows(crier)) == 1


async def test_the_clean_up_job_runs_by_itself_and_spares_what_a_draft_needs(
    tg: FakeTelegram, make_settings: Callable[..., Settings], alice: Person, tmp_path: Path
) -> None:
    settings = make_settings(media_cleanup_interval=0.2, media_retention_days=0)
    orphan = settings.media_dir / storage_key("f" * 64)
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"left behind")
    two_hours_ago = time.time() - 7200
    os.utime(orphan, (two_hours_ago, two_hours_ago))
    async with Crier(settings) as crier:
        await alice.says("/start", "Crier")
        photo = samples.jpeg(tmp_path / "p.jpg").read_bytes()
        waiting = tg.wait_for(alice.user, "1 photo")
        tg.send_photo(alice.user, photo)
        await waiting
        [kept] = [p for p in originals(crier) if p != orphan]
        os.utime(kept, (two_hours_ago, two_hours_ago))  # old, but its draft needs it
        await eventually(lambda: not orphan.exists())
        await asyncio.sleep(0.5)  # a few more runs
        assert kept.exists()
        assert [row.storage_key for row in await media_rows(crier)] == [storage_key(sha256(photo))]


async def test_a_gif_sent_as_an_animation_is_stored_as_one_and_goes_out_with_send_animation(
    tg: FakeTelegram, crier: Crier, alice: Person, tmp_path: Path
) -> None:
    await alice.says("/start", "Crier")
    await connect_channel(tg, alice)
    # Telegram turns GIFs into silent MP4 animations; the bytes are what gets probed.
    clip = samples.mp4(tmp_path / "loop.mp4", seconds=1.0, size=(160, 120), fps=10).read_bytes()
    waiting = tg.wait_for(alice.user, "1 GIF")
    tg.send_animation(alice.user, clip, caption="It loops", width=160, height=120, duration=1)
    status = await waiting
    [row] = await media_rows(crier)
    assert (row.kind, row.mime, row.width, row.height) == ("animation", "video/mp4", 160, 120)

    preview = await to_preview(alice, status, "@news · Telegram channel")
    scheduled = await alice.presses(preview, "✅ Confirm", "Scheduled #1")
    await tg.wait_for(alice.user, "Post #1 is out", after=scheduled["message_id"], timeout=10)
    [call] = tg.calls_to("sendAnimation")
    assert call["caption"] == "It loops"
    assert tg.calls_to("sendVideo") == []
    [posted] = [m for m in tg.sent(CHANNEL) if "animation" in m]
    assert posted["caption"] == "It loops"


async def test_a_caption_over_the_channel_limit_is_a_problem_before_confirming(
    tg: FakeTelegram, crier: Crier, alice: Person, tmp_path: Path
) -> None:
    await alice.says("/start", "Crier")
    await connect_channel(tg, alice)
    data = samples.jpeg(tmp_path / "long.jpg", (640, 480)).read_bytes()
    status = await alice.sends_photo(data, caption="y" * 1100, expect="1 photo")
    preview = await to_preview(alice, status, "@news · Telegram channel")
    assert "1,100 characters" in preview["text"]
    assert "1,024" in preview["text"]
    assert "✅ Confirm" not in buttons(preview)
