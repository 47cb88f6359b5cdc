"""Probing media: the real type from the bytes, integrity, and what a file is like."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from bot.media.probe import MediaRejected, probe
from bot.media.sniff import Family, claimed_media, sniff
from providers.base import MediaKind
from tests import media_samples as samples


@pytest.fixture(scope="module", params=[False, True], ids=["index-last", "faststart"])
def clip(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-second 320×240 MP4 at 25 fps, with its index (moov) after or before the data."""
    folder = tmp_path_factory.mktemp("clip")
    return samples.mp4(
        folder / "clip.mp4", seconds=2.0, size=(320, 240), fps=25, faststart=request.param
    )


def test_photo_is_identified_and_hashed(tmp_path: Path) -> None:
    path = samples.jpeg(tmp_path / "photo.jpg", (640, 480))
    info = probe(path, claimed_mime="image/jpeg", claimed_name="photo.jpg")
    assert info.kind == MediaKind.PHOTO
    assert info.mime == "image/jpeg"
    assert (info.width, info.height) == (640, 480)
    assert info.size == path.stat().st_size
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert info.container == "jpeg"
    assert not info.has_location
    assert not info.animated


def test_type_comes_from_the_bytes_not_the_name(tmp_path: Path) -> None:
    path = tmp_path / "holiday.jpg"
    samples.rgba(size=(20, 10)).save(path, "PNG")
    info = probe(path, claimed_mime="image/jpeg", claimed_name="holiday.jpg")
    assert info.mime == "image/png"
    assert info.has_alpha


def test_opaque_alpha_channel_is_not_transparency(tmp_path: Path) -> None:
    path = tmp_path / "opaque.png"
    Image.new("RGBA", (20, 10), (10, 20, 30, 255)).save(path)
    assert not probe(path).has_alpha


def test_zero_byte_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(MediaRejected, match=r"^That file is empty \(0 bytes\)"):
        probe(path, claimed_name="empty.jpg")


def test_truncated_jpeg_is_rejected(tmp_path: Path) -> None:
    whole = samples.noisy_jpeg(tmp_path / "whole.jpg", (400, 300))
    cut = samples.truncated(whole, tmp_path / "cut.jpg", keep=0.6)
    with pytest.raises(MediaRejected, match="looks like a JPEG image but it is damaged or cut off"):
        probe(cut, claimed_mime="image/jpeg")


def test_truncated_png_is_rejected(tmp_path: Path) -> None:
    whole = tmp_path / "whole.png"
    samples.noise((300, 300)).save(whole)
    cut = samples.truncated(whole, tmp_path / "cut.png", keep=0.5)
    with pytest.raises(MediaRejected, match="looks like a PNG image but it is damaged"):
        probe(cut)


@pytest.mark.parametrize(
    ("make", "what"),
    [(samples.elf, "a Linux program"), (samples.pe, "a Windows program")],
)
def test_executable_renamed_jpg_is_rejected(
    tmp_path: Path, make: Callable[[Path], Path], what: str
) -> None:
    path = make(tmp_path / "cat.jpg")
    with pytest.raises(MediaRejected) as caught:
        probe(path, claimed_name="cat.jpg")
    assert str(caught.value) == f"That file says it's a JPEG but it isn't one: it's {what}."


def test_executable_claiming_jpeg_by_mime_is_rejected(tmp_path: Path) -> None:
    path = samples.elf(tmp_path / "upload.bin")
    with pytest.raises(MediaRejected, match="says it's a JPEG but it isn't one"):
        probe(path, claimed_mime="image/jpeg")


def test_unknown_bytes_claiming_to_be_a_video_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(bytes(range(256)) * 16)
    with pytest.raises(MediaRejected) as caught:
        probe(path, claimed_name="clip.mp4")
    assert str(caught.value) == (
        "That file says it's an MP4 video but it isn't one, and Crier can't tell what it is."
    )


def test_archive_claiming_to_be_a_photo_is_rejected(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "photo.png"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("payload.txt", "hello")
    with pytest.raises(MediaRejected, match="says it's a PNG but it isn't one: it's a ZIP archive"):
        probe(path, claimed_mime="image/png")


def test_documents_are_allowed_with_their_real_type(tmp_path: Path) -> None:
    info = probe(samples.pdf(tmp_path / "report.pdf"), claimed_name="report.pdf")
    assert info.kind == MediaKind.DOCUMENT
    assert info.mime == "application/pdf"
    # A document that claims nothing is a document, whatever it is.
    program = probe(samples.elf(tmp_path / "tool"), claimed_mime="application/octet-stream")
    assert program.kind == MediaKind.DOCUMENT
    assert program.mime == "application/x-executable"


def test_orientation_and_location_are_read(tmp_path: Path) -> None:
    info = probe(samples.sideways_jpeg(tmp_path / "sideways.jpg", orientation=6))
    assert info.orientation == 6
    assert info.has_location
    # Stored 80×40, shown upright as 40×80.
    assert (info.width, info.height) == (40, 80)


def test_decompression_bomb_is_rejected(tmp_path: Path) -> None:
    path = samples.png_bomb(tmp_path / "bomb.png", 30_000, 30_000)
    assert path.stat().st_size < 1_000
    with pytest.raises(MediaRejected, match="too large to process"):
        probe(path)


def test_pixel_cap_is_ours_to_set(tmp_path: Path) -> None:
    path = samples.jpeg(tmp_path / "photo.jpg", (400, 300))
    with pytest.raises(MediaRejected, match=r"400×300 \(0 megapixels\); Crier handles up to"):
        probe(path, max_pixels=100_000)


def test_gif_animation(tmp_path: Path) -> None:
    info = probe(samples.gif_animation(tmp_path / "loop.gif", frames=5, frame_ms=100))
    assert info.kind == MediaKind.ANIMATION
    assert info.animated
    assert info.duration == pytest.approx(0.5)
    assert info.fps == pytest.approx(10)


def test_heic_photo(tmp_path: Path) -> None:
    pytest.importorskip("pillow_heif")
    info = probe(samples.heic(tmp_path / "IMG_0001.HEIC", (320, 240)))
    assert info.kind == MediaKind.PHOTO
    assert info.mime == "image/heic"
    assert (info.width, info.height) == (320, 240)


def test_short_mp4_is_probed(clip: Path) -> None:
    info = probe(clip, claimed_mime="video/mp4")
    assert info.kind == MediaKind.VIDEO
    assert info.mime == "video/mp4"
    assert info.container == "mp4"
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert (info.width, info.height) == (320, 240)
    assert info.fps == pytest.approx(25)
    expected = "h264" if samples.video_codec() == "libx264" else "mpeg4"
    assert info.video_codec == expected
    assert info.audio_codec is None


def test_mp4_cut_in_the_middle_of_its_data_is_rejected(clip: Path, tmp_path: Path) -> None:
    # With the index first (faststart) the first frame still decodes: only the container's
    # sizes show the file is incomplete.
    cut = samples.cut_in_mdat(clip, tmp_path / "cut.mp4")
    with pytest.raises(MediaRejected) as caught:
        probe(cut, claimed_mime="video/mp4")
    assert str(caught.value) == (
        "That video can't be played: it is cut off. Send the original file again."
    )


def test_mp4_with_undecodable_pictures_is_rejected(clip: Path, tmp_path: Path) -> None:
    broken = samples.zeroed_mdat(clip, tmp_path / "broken.mp4")
    with pytest.raises(MediaRejected, match="none of its pictures could be decoded"):
        probe(broken)


@pytest.mark.parametrize(
    ("head", "mime", "family"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg", Family.IMAGE),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp", Family.IMAGE),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "image/heic", Family.IMAGE),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "image/avif", Family.IMAGE),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ", "video/quicktime", Family.VIDEO),
        (b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00M4A isom", "audio/mp4", Family.AUDIO),
        (
            b"\x1aE\xdf\xa3\x9fB\x86\x81\x01B\xf7\x81\x01B\xf2\x81\x04B\xf3\x81\x08B\x82\x84webm",
            "video/webm",
            Family.VIDEO,
        ),
        (b"%PDF-1.7\n", "application/pdf", Family.DOCUMENT),
        (b"\x7fELF\x02\x01\x01", "application/x-executable", Family.EXECUTABLE),
        (b"#!/bin/sh\nrm -rf /\n", "text/x-shellscript", Family.EXECUTABLE),
        (b"Rar!\x1a\x07\x01\x00", "application/vnd.rar", Family.ARCHIVE),
        (
            b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'/>",
            "image/svg+xml",
            Family.DOCUMENT,
        ),
        ("plain words, café".encode(), "text/plain", Family.DOCUMENT),
        (b"\x00\x01\x02\x03garbage", "application/octet-stream", Family.UNKNOWN),
    ],
)
def test_sniff_table(head: bytes, mime: str, family: Family) -> None:
    sniffed = sniff(head)
    assert (sniffed.mime, sniffed.family) == (mime, family)


@pytest.mark.parametrize(
    ("mime", "name", "claim"),
    [
        ("image/jpeg", None, "a JPEG"),
        (None, "IMG_0001.HEIC", "a HEIC photo"),
        ("application/octet-stream", "clip.mov", "a QuickTime video"),
        ("video/x-flv", None, "a video"),
        (None, "notes.txt", None),
        ("application/pdf", "report.pdf", None),
    ],
)
def test_what_a_file_claims_to_be(mime: str | None, name: str | None, claim: str | None) -> None:
    assert claimed_media(mime, name) == claim
