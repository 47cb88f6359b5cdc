"""Adapting media to a platform: convert, turn upright, strip location, shrink, or say why not."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
from PIL import ExifTags, Image

import bot.media.adapt as media_adapt
from bot.media.adapt import Adapted, MediaProfile, NotAdaptable, adapt, profile_for
from bot.media.probe import MediaInfo, probe
from bot.media.profile import clock, clock_pair, human_bytes
from providers import instagram_limits
from providers.base import Limits, MediaKind
from providers.bluesky import LIMITS as BLUESKY_LIMITS
from providers.mastodon_limits import ServerLimits
from providers.telegram_channel import LIMITS as TELEGRAM_LIMITS
from tests import media_samples as samples

JPEG_PNG_WEBP = frozenset({"image/jpeg", "image/png", "image/webp"})
BLUESKY = MediaProfile(name="Bluesky", image_mimes=JPEG_PNG_WEBP, max_image_bytes=1_000_000)
JPEG_ONLY = MediaProfile(name="JPEG-only", image_mimes=frozenset({"image/jpeg"}))
JPEG_PNG = MediaProfile(name="JPEG and PNG", image_mimes=frozenset({"image/jpeg", "image/png"}))
TELEGRAM = profile_for(TELEGRAM_LIMITS, "Telegram channel")


def run(path: Path, profile: MediaProfile, cache: Path) -> Adapted:
    return adapt(probe(path), path, profile, cache)


def reopen(result: Adapted) -> Image.Image:
    """The adapted file decoded, with its format and metadata (and the file closed)."""
    with Image.open(result.path) as image:
        image.load()
        return image


@pytest.fixture(scope="module")
def big_photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6000×4000, 11 MB of noise (JPEG can't squeeze it), with a GPS position."""
    path = tmp_path_factory.mktemp("big") / "big.jpg"
    return samples.noisy_jpeg(path, (6000, 4000), exif=samples.gps_exif())


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-second 320×240 MP4 at 25 fps."""
    return samples.mp4(tmp_path_factory.mktemp("clip") / "clip.mp4", seconds=2.0)


# -- photos -----------------------------------------------------------------------------------


def test_large_photo_fits_under_the_byte_limit_keeping_its_shape(
    big_photo: Path, tmp_path: Path
) -> None:
    info = probe(big_photo)
    assert info.size > 5_000_000
    started = time.perf_counter()
    result = adapt(info, big_photo, BLUESKY, tmp_path)
    elapsed = time.perf_counter() - started
    assert result.changed
    assert result.info.size <= 1_000_000
    assert result.path.stat().st_size == result.info.size
    width, height = result.info.width, result.info.height
    assert width is not None
    assert height is not None
    assert width < 6000
    assert abs(height - width * 4000 / 6000) <= 1  # aspect ratio kept, to the pixel
    image = reopen(result)
    assert image.format == "JPEG"
    assert image.size == (width, height)
    assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert result.note.startswith(f"location removed, resized 6000×4000 → {width}×{height}, ")
    assert result.note.endswith(f"{human_bytes(info.size)} → {human_bytes(result.info.size)}")
    assert elapsed < 2.0


def test_photo_is_shrunk_to_the_largest_dimensions(tmp_path: Path) -> None:
    path = samples.noisy_jpeg(tmp_path / "photo.jpg", (2400, 1600))
    profile = dataclasses.replace(BLUESKY, max_width=1000, max_height=1000)
    result = run(path, profile, tmp_path / "cache")
    assert (result.info.width, result.info.height) == (1000, 666)
    assert reopen(result).size == (1000, 666)
    assert result.note.startswith("resized 2400×1600 → 1000×666, ")
    portrait = samples.noisy_jpeg(tmp_path / "portrait.jpg", (1600, 2400))
    assert run(portrait, profile, tmp_path / "cache").info.height == 1000


def test_location_is_removed_and_orientation_applied(tmp_path: Path) -> None:
    path = samples.sideways_jpeg(tmp_path / "sideways.jpg", orientation=6)
    with Image.open(path) as original:
        before = original.getexif()
    assert before.get_ifd(ExifTags.IFD.GPSInfo)
    assert before[ExifTags.Base.Orientation] == 6
    result = run(path, JPEG_ONLY, tmp_path / "cache")
    assert result.changed
    image = reopen(result)
    exif = image.getexif()
    assert not exif.get_ifd(ExifTags.IFD.GPSInfo)
    assert ExifTags.Base.Orientation not in exif
    assert "xmp" not in image.info
    # Stored 80×40 red|blue and turned 90° clockwise: 40×80, red on top, blue below.
    assert image.size == (40, 80)
    assert _near(image.getpixel((20, 10)), samples.RED)
    assert _near(image.getpixel((20, 70)), samples.BLUE)
    assert result.note == "turned upright, location removed, 1 KB → 1 KB"


def test_location_alone_is_removed_without_losing_quality(tmp_path: Path) -> None:
    path = samples.noisy_jpeg(tmp_path / "gps.jpg", (300, 200), exif=samples.gps_exif())
    with Image.open(path) as original:
        tables = original.quantization  # type: ignore[attr-defined]
    result = run(path, BLUESKY, tmp_path / "cache")
    image = reopen(result)
    assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert image.quantization == tables  # type: ignore[attr-defined]
    assert image.size == (300, 200)
    assert result.note.startswith("location removed, ")


def test_location_is_checked_in_the_file_not_taken_from_the_info(tmp_path: Path) -> None:
    path = samples.jpeg(tmp_path / "gps.jpg", (300, 200), exif=samples.gps_exif())
    stale = dataclasses.replace(probe(path), has_location=False, orientation=None)
    result = adapt(stale, path, BLUESKY, tmp_path / "cache")
    assert result.changed
    assert not reopen(result).getexif().get_ifd(ExifTags.IFD.GPSInfo)


def test_photo_that_already_fits_is_sent_as_it_is(tmp_path: Path) -> None:
    path = samples.jpeg(tmp_path / "plain.jpg", (800, 600))
    result = run(path, BLUESKY, tmp_path / "cache")
    assert result == Adapted(path=path, info=probe(path), changed=False, note="")
    assert not (tmp_path / "cache").exists()


def test_png_with_alpha_stays_png_when_accepted(tmp_path: Path) -> None:
    # A WebP with transparency, for a platform without WebP: PNG keeps the transparency.
    path = samples.webp(tmp_path / "sticker.webp", (200, 100), alpha=True)
    result = run(path, JPEG_PNG, tmp_path / "cache")
    assert result.info.mime == "image/png"
    assert result.info.has_alpha
    image = reopen(result).convert("RGBA")
    assert image.getpixel((10, 50))[3] == 0  # type: ignore[index]
    assert _near(image.getpixel((190, 50)), (*samples.RED, 255))
    assert result.note.startswith("converted WebP → PNG")


def test_png_with_alpha_is_resized_as_png(tmp_path: Path) -> None:
    path = samples.rgba_png(tmp_path / "logo.png", (400, 200))
    profile = dataclasses.replace(JPEG_PNG, max_width=200)
    result = run(path, profile, tmp_path / "cache")
    image = reopen(result)
    assert (image.format, image.mode, image.size) == ("PNG", "RGBA", (200, 100))
    assert image.getpixel((10, 50))[3] == 0  # type: ignore[index]


def test_png_with_alpha_is_flattened_on_white_for_jpeg_only(tmp_path: Path) -> None:
    path = samples.rgba_png(tmp_path / "logo.png", (200, 100))
    result = run(path, JPEG_ONLY, tmp_path / "cache")
    image = reopen(result)
    assert image.format == "JPEG"
    assert image.mode == "RGB"
    assert _near(image.getpixel((10, 50)), (255, 255, 255))  # was transparent
    assert _near(image.getpixel((190, 50)), samples.RED)
    assert result.note.startswith("converted PNG → JPEG, transparency filled with white")


def test_webp_is_converted_to_jpeg(tmp_path: Path) -> None:
    path = samples.webp(tmp_path / "photo.webp", (300, 200))
    result = run(path, JPEG_PNG, tmp_path / "cache")
    image = reopen(result)
    assert (image.format, image.size) == ("JPEG", (300, 200))
    assert result.info.mime == "image/jpeg"
    assert result.note.startswith("converted WebP → JPEG")


def test_heic_is_converted_to_jpeg(tmp_path: Path) -> None:
    pytest.importorskip("pillow_heif")
    path = samples.heic(tmp_path / "IMG_0001.HEIC", (320, 240))
    result = run(path, BLUESKY, tmp_path / "cache")
    assert reopen(result).format == "JPEG"
    assert result.note.startswith("converted HEIC → JPEG")


def test_opaque_png_too_large_becomes_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "screenshot.png"
    samples.noise((800, 800), strength=0.5).save(path)
    assert path.stat().st_size > 300_000
    profile = dataclasses.replace(BLUESKY, max_image_bytes=300_000)
    result = run(path, profile, tmp_path / "cache")
    assert result.info.mime == "image/jpeg"
    assert result.info.size <= 300_000


def test_aspect_ratio_out_of_range_is_not_adaptable(tmp_path: Path) -> None:
    path = samples.jpeg(tmp_path / "panorama.jpg", (3000, 1000))
    profile = dataclasses.replace(BLUESKY, name="Instagram", aspect_ratio=(0.8, 1.91))
    with pytest.raises(NotAdaptable) as caught:
        run(path, profile, tmp_path / "cache")
    assert caught.value.code == "aspect_ratio"
    assert str(caught.value) == (
        "This photo is 3000×1000, an aspect ratio of 3.00:1; Instagram takes 0.80:1 to "
        "1.91:1. Crop it to fit and send it again."
    )
    inside = samples.jpeg(tmp_path / "portrait.jpg", (1080, 1350))  # exactly 4:5
    assert not run(inside, profile, tmp_path / "cache").changed


def test_aspect_ratio_refusal_says_the_account_can_fit_when_it_can(tmp_path: Path) -> None:
    path = samples.jpeg(tmp_path / "panorama.jpg", (3000, 1000))
    profile = profile_for(instagram_limits.limits_for({}), "Instagram")
    with pytest.raises(NotAdaptable) as caught:
        run(path, profile, tmp_path / "cache")
    assert str(caught.value).endswith(
        "Crop it and send it again, or let Crier pad or crop photos for this account: "
        "/accounts → ⚙️."
    )


@pytest.mark.parametrize(
    ("size", "fit", "expected", "note"),
    [
        ((3000, 1000), "pad", (3000, 1571), "padded with white to 1.91:1"),
        ((1000, 3000), "pad", (2400, 3000), "padded with white to 4:5"),
        ((3000, 1000), "crop", (1910, 1000), "cropped to 1.91:1"),
        ((1000, 3000), "crop", (1000, 1250), "cropped to 4:5"),
    ],
)
def test_a_photo_is_padded_or_cropped_only_as_the_account_is_set(
    tmp_path: Path, size: tuple[int, int], fit: str, expected: tuple[int, int], note: str
) -> None:
    limits = instagram_limits.limits_for({"instagram_fit": fit})
    profile = profile_for(limits, "Instagram")
    path = samples.jpeg(tmp_path / "odd.jpg", size, color=(200, 30, 30))
    result = run(path, profile, tmp_path / "cache")
    image = reopen(result)
    assert image.size == expected
    low, high = instagram_limits.FEED_ASPECT
    assert low <= image.width / image.height <= high
    assert note in result.note
    # What the preview expects is what the publish sends.
    assert (media_adapt.expect(probe(path), profile).width, image.height) == (
        image.width,
        image.height,
    )
    middle = image.getpixel((image.width // 2, image.height // 2))
    corner = image.getpixel((1, 1))
    assert middle[0] > 150 > middle[1]  # the photo is still in the middle
    if fit == "pad":
        assert min(corner) > 240  # white bars
    else:
        assert corner[0] > 150 > corner[1]  # cropped: the photo reaches the corner


def test_a_photo_already_in_shape_is_left_alone_when_fitting_is_on(tmp_path: Path) -> None:
    profile = profile_for(instagram_limits.limits_for({"instagram_fit": "crop"}), "Instagram")
    inside = samples.jpeg(tmp_path / "square.jpg", (1080, 1080))
    assert not run(inside, profile, tmp_path / "cache").changed


def test_panorama_is_shrunk_to_telegrams_width_plus_height(tmp_path: Path) -> None:
    # 12000 + 1500 is over sendPhoto's 10000 in total; 8:1 is well within its 20:1.
    path = samples.jpeg(tmp_path / "panorama.jpg", (12000, 1500))
    result = run(path, TELEGRAM, tmp_path / "cache")
    assert result.changed
    image = reopen(result)
    assert image.size == (result.info.width, result.info.height) == (8888, 1111)
    assert sum(image.size) <= 10_000
    assert result.note.startswith("resized 12000×1500 → 8888×1111, ")


@pytest.mark.parametrize(
    ("size", "words"),
    [((10500, 500), "an aspect ratio of 21.00:1"), ((480, 10080), "an aspect ratio of 1:21.00")],
    ids=["wide", "tall"],
)
def test_panorama_longer_than_20_to_1_is_not_adaptable_for_telegram(
    tmp_path: Path, size: tuple[int, int], words: str
) -> None:
    path = samples.jpeg(tmp_path / "panorama.jpg", size)
    with pytest.raises(NotAdaptable) as caught:
        run(path, TELEGRAM, tmp_path / "cache")
    assert caught.value.code == "aspect_ratio"
    assert str(caught.value) == (
        f"This photo is {size[0]}×{size[1]}, {words}; Telegram channel takes 1:20 to 20:1. "
        "Crop it to fit and send it again."
    )


def test_panorama_at_exactly_20_to_1_goes_and_stays_within_it_when_shrunk(
    tmp_path: Path,
) -> None:
    as_is = samples.jpeg(tmp_path / "fits.jpg", (9000, 450))
    assert not run(as_is, TELEGRAM, tmp_path / "cache").changed
    # 10000 + 500 must shrink; rounding each side down alone would give 9523×476, 20.006:1.
    shrunk = run(samples.jpeg(tmp_path / "big.jpg", (10000, 500)), TELEGRAM, tmp_path / "cache")
    width, height = reopen(shrunk).size
    assert width + height <= 10_000
    assert width / height <= 20
    assert (width, height) == (9520, 476)


def test_platform_without_photos(tmp_path: Path) -> None:
    path = samples.jpeg(tmp_path / "photo.jpg")
    with pytest.raises(NotAdaptable, match=r"^Text-only doesn't take photos here"):
        run(path, MediaProfile(name="Text-only", image_mimes=frozenset()), tmp_path)


def test_cache_hit_returns_the_same_file_without_encoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = samples.noisy_jpeg(tmp_path / "photo.jpg", (1500, 1000), exif=samples.gps_exif())
    profile = dataclasses.replace(BLUESKY, max_image_bytes=200_000)
    cache = tmp_path / "cache"
    info = probe(photo)
    first = adapt(info, photo, profile, cache)
    assert first.changed
    written = first.path.stat().st_mtime_ns

    def no_encoding(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("encoded again")

    monkeypatch.setattr(media_adapt, "_encode", no_encoding)
    started = time.perf_counter()
    second = adapt(info, photo, profile, cache)
    assert time.perf_counter() - started < 0.05
    assert second == first
    assert second.path.stat().st_mtime_ns == written
    # One result and its index; no temporary files left behind.
    assert sorted(p.suffix for p in cache.rglob("*") if p.is_file()) == [".jpg", ".json"]


def test_cache_is_per_profile_and_shared_by_identical_rules(tmp_path: Path) -> None:
    path = samples.sideways_jpeg(tmp_path / "sideways.jpg")
    info = probe(path)
    jpeg_only = adapt(info, path, JPEG_ONLY, tmp_path / "cache")
    same_rules = adapt(info, path, dataclasses.replace(JPEG_ONLY, name="Other"), tmp_path / "cache")
    other_rules = adapt(info, path, JPEG_PNG, tmp_path / "cache")
    assert same_rules.path == jpeg_only.path
    assert other_rules.path != jpeg_only.path


def test_damaged_cache_entry_is_redone(tmp_path: Path) -> None:
    path = samples.sideways_jpeg(tmp_path / "sideways.jpg")
    info = probe(path)
    first = adapt(info, path, JPEG_ONLY, tmp_path / "cache")
    first.path.write_bytes(b"half")  # as a crash between write and rename could leave it
    again = adapt(info, path, JPEG_ONLY, tmp_path / "cache")
    assert again.path.stat().st_size == again.info.size
    assert reopen(again).size == (40, 80)


# -- videos, animations, documents ------------------------------------------------------------


def test_video_within_limits_is_sent_as_it_is(clip: Path, tmp_path: Path) -> None:
    profile = MediaProfile(
        name="Mastodon",
        video_mimes=frozenset({"video/mp4"}),
        video_codecs=frozenset({"h264", "mpeg4"}),
        max_video_bytes=40_000_000,
        max_video_duration=60,
    )
    result = run(clip, profile, tmp_path)
    assert result == Adapted(path=clip, info=probe(clip), changed=False, note="")


def test_video_longer_than_the_limit_is_not_adaptable(clip: Path, tmp_path: Path) -> None:
    profile = MediaProfile(name="Shorts", max_video_duration=1.0)
    with pytest.raises(NotAdaptable) as caught:
        run(clip, profile, tmp_path)
    assert caught.value.code == "video_too_long"
    assert str(caught.value) == (
        "This video is 0:02 long; Shorts takes videos up to 0:01. Trim it and send it again."
    )


def test_long_video_message_names_both_durations() -> None:
    info = _video(duration=600.0)
    with pytest.raises(NotAdaptable) as caught:
        adapt(info, Path("v.mp4"), MediaProfile(name="X", max_video_duration=140), Path("."))
    assert str(caught.value) == (
        "This video is 10:00 long; X takes videos up to 2:20. Trim it and send it again."
    )


@pytest.mark.parametrize(
    ("info", "profile", "code", "message"),
    [
        (
            {"mime": "video/webm", "container": "webm", "video_codec": "vp9"},
            {"video_mimes": frozenset({"video/mp4", "video/quicktime"})},
            "video_type",
            "This video is WebM; Site takes MOV or MP4. Export it as MP4 (H.264) and send it "
            "again.",
        ),
        (
            {"video_codec": "hevc"},
            {"video_codecs": frozenset({"h264"})},
            "video_codec",
            "This video uses HEVC (H.265); Site takes H.264. Export it as MP4 (H.264) and send "
            "it again.",
        ),
        (
            {"size": 612_000_000},
            {"max_video_bytes": 512_000_000},
            "video_too_large",
            "This video is 612.0 MB; Site allows 512.0 MB. Send a smaller video.",
        ),
        (
            {"fps": 120.0},
            {"max_video_fps": 60},
            "video_fps",
            "This video runs at 120 frames per second; Site takes up to 60. Export it at a "
            "lower frame rate.",
        ),
        (
            {"width": 3840, "height": 2160},
            {"max_video_pixels": 2_073_600},
            "video_resolution",
            "This video is 3840×2160 (8.3 megapixels); Site takes up to 2.1 megapixels, such as "
            "1920×1080. Export it at a lower resolution and send it again.",
        ),
        (
            {"width": 1080, "height": 1920},
            {"max_video_pixels": 409_920},
            "video_resolution",
            "This video is 1080×1920 (2.1 megapixels); Site takes up to 0.41 megapixels, such "
            "as 480×854. Export it at a lower resolution and send it again.",
        ),
        (
            {"width": 640, "height": 360},
            {"max_video_pixels": 100_000},
            "video_resolution",
            "This video is 640×360 (0.23 megapixels); Site takes up to 0.10 megapixels. Export "
            "it at a lower resolution and send it again.",
        ),
        ({}, {"video_mimes": frozenset()}, "no_video", "Site doesn't take videos here."),
    ],
)
def test_video_problems(
    info: dict[str, object], profile: dict[str, object], code: str, message: str
) -> None:
    with pytest.raises(NotAdaptable) as caught:
        adapt(_video(**info), Path("v.mp4"), MediaProfile(name="Site", **profile), Path("."))  # type: ignore[arg-type]
    assert (caught.value.code, str(caught.value)) == (code, message)


def test_real_video_over_a_frame_limit(tmp_path: Path) -> None:
    """Probed facts, not made-up ones: a 60 fps 640×360 clip against Mastodon servers."""
    path = samples.mp4(tmp_path / "clip.mp4", seconds=0.2, size=(640, 360), fps=60)
    info = probe(path)
    assert (info.width, info.height, info.fps) == (640, 360, 60.0)
    default = profile_for(ServerLimits().to_limits(), "Mastodon")
    assert not adapt(info, path, default, tmp_path).changed
    for server, code in (
        (ServerLimits(video_frame_rate_limit=30), "video_fps"),
        (ServerLimits(video_matrix_limit=320 * 240), "video_resolution"),
    ):
        with pytest.raises(NotAdaptable) as caught:
            adapt(info, path, profile_for(server.to_limits(), "Mastodon"), tmp_path)
        assert caught.value.code == code


def test_silent_mp4_animation_is_held_to_the_video_frame_limits() -> None:
    profile = MediaProfile(name="Mastodon", max_video_pixels=921_600, max_video_fps=120)
    gif_like = _video(kind=MediaKind.ANIMATION, width=1920, height=1080, audio_codec=None)
    with pytest.raises(NotAdaptable) as caught:
        adapt(gif_like, Path("a.mp4"), profile, Path("."))
    assert caught.value.code == "video_resolution"
    # A GIF file has no video codec: it is an image to the platform, not a video.
    gif = dataclasses.replace(gif_like, mime="image/gif", video_codec=None, container="gif")
    assert not adapt(gif, Path("a.gif"), profile, Path(".")).changed


def test_animation_for_a_platform_without_animations(tmp_path: Path) -> None:
    path = samples.gif_animation(tmp_path / "loop.gif")
    profile = profile_for(BLUESKY_LIMITS, "Bluesky")
    with pytest.raises(NotAdaptable, match=r"^Bluesky doesn't take animations"):
        run(path, profile, tmp_path / "cache")
    assert not run(path, MediaProfile(name="Any"), tmp_path / "cache").changed


def test_documents_are_checked_not_changed(tmp_path: Path) -> None:
    path = samples.pdf(tmp_path / "report.pdf")
    assert not run(path, MediaProfile(name="Discord"), tmp_path).changed
    with pytest.raises(NotAdaptable, match=r"^Bluesky doesn't take files here"):
        run(path, profile_for(BLUESKY_LIMITS, "Bluesky"), tmp_path)


# -- profiles ---------------------------------------------------------------------------------


def test_profile_from_todays_limits() -> None:
    profile = profile_for(BLUESKY_LIMITS, "Bluesky")
    assert profile.image_mimes == JPEG_PNG_WEBP
    assert profile.max_image_bytes == 1_000_000
    assert profile.video_mimes == frozenset()  # Bluesky takes no video (yet)
    assert not profile.animation
    assert profile.max_width is None
    assert profile.aspect_ratio is None


def test_profile_empty_type_set_means_any() -> None:
    limits = Limits(
        max_text=100,
        max_media=4,
        max_images=4,
        max_videos=1,
        mime_types={kind: frozenset() for kind in MediaKind},
    )
    profile = profile_for(limits, "Dry run")
    assert profile.image_mimes is None
    assert profile.video_mimes is None
    assert profile.animation
    text_only = profile_for(dataclasses.replace(limits, max_media=0), "Text")
    assert text_only.image_mimes == frozenset()
    assert not text_only.animation


def test_profile_takes_the_shape_limits_from_limits() -> None:
    limits = Limits(
        max_text=500,
        max_media=10,
        max_images=10,
        max_videos=1,
        mime_types={MediaKind.PHOTO: frozenset({"image/jpeg"})},
        max_image_width=1080,
        max_image_height=1350,
        max_image_pixels=1_458_000,
        max_image_side_sum=2430,
        image_aspect_ratio=(0.8, 1.91),
        video_codecs=frozenset({"h264"}),
        max_video_duration=90.0,
        max_video_pixels=2_073_600,
        max_video_fps=60.0,
    )
    profile = profile_for(limits, "Instagram")
    assert (profile.max_width, profile.max_height, profile.max_pixels) == (1080, 1350, 1_458_000)
    assert profile.max_side_sum == 2430
    assert profile.aspect_ratio == (0.8, 1.91)
    assert profile.video_codecs == frozenset({"h264"})
    assert profile.max_video_duration == 90.0
    assert (profile.max_video_pixels, profile.max_video_fps) == (2_073_600, 60.0)


def test_platform_profiles_declare_their_shape_limits() -> None:
    assert (TELEGRAM.max_side_sum, TELEGRAM.aspect_ratio) == (10_000, (0.05, 20.0))
    assert TELEGRAM.max_video_pixels is None  # Telegram takes videos of any size
    mastodon = profile_for(ServerLimits().to_limits(), "Mastodon")
    assert (mastodon.max_pixels, mastodon.max_video_pixels, mastodon.max_video_fps) == (
        33_177_600,
        8_294_400,
        120.0,
    )
    assert mastodon.aspect_ratio is None


def test_fingerprint_ignores_the_name_only() -> None:
    assert BLUESKY.fingerprint() == dataclasses.replace(BLUESKY, name="Other").fingerprint()
    assert BLUESKY.fingerprint() != dataclasses.replace(BLUESKY, max_width=100).fingerprint()


@pytest.mark.parametrize(
    ("length", "limit", "words"),
    [
        (600, 140, ("10:00", "2:20")),
        (2.04, 2.0, ("0:02.04", "0:02.00")),
        (2.4, 2.0, ("0:02.4", "0:02.0")),
        (3725, 3600, ("1:02:05", "1:00:00")),
    ],
)
def test_clock(length: float, limit: float, words: tuple[str, str]) -> None:
    assert clock_pair(length, limit) == words
    assert clock(59.6) == "1:00"
    assert clock(2.96, decimals=1) == "0:03.0"


# -- helpers ----------------------------------------------------------------------------------


def _video(**changes: object) -> MediaInfo:
    info = MediaInfo(
        kind=MediaKind.VIDEO,
        mime="video/mp4",
        size=5_000_000,
        sha256="0" * 64,
        width=1280,
        height=720,
        duration=30.0,
        fps=30.0,
        video_codec="h264",
        audio_codec="aac",
        container="mp4",
    )
    return dataclasses.replace(info, **changes)  # type: ignore[arg-type]


def _near(pixel: object, expected: tuple[int, ...], tolerance: int = 12) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))
