"""Media files made on the spot (Pillow, PyAV), so no binary fixture lives in the repository.

Every helper writes to the path it is given and returns it. Random content is seeded, so a
file is the same on every run.
"""

from __future__ import annotations

import random
import struct
import zlib
from pathlib import Path

import av
from PIL import ExifTags, Image

RED = (255, 0, 0)
BLUE = (0, 0, 255)


def noise(size: tuple[int, int], *, seed: int = 1, strength: float = 0.25) -> Image.Image:
    """A photo-like image JPEG can't compress much: a random tile repeated (fast at 24 MP,
    since JPEG can't exploit repetition far apart), blended towards grey."""
    rng = random.Random(seed)
    side = 500
    tile = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    tile = Image.blend(Image.new("RGB", tile.size, (120, 140, 160)), tile, strength)
    image = Image.new("RGB", size)
    for x in range(0, size[0], side):
        for y in range(0, size[1], side):
            image.paste(tile, (x, y))
    return image


def gps_exif(*, orientation: int | None = None) -> Image.Exif:
    """EXIF with a GPS position (the Eiffel Tower) and, optionally, an orientation."""
    exif = Image.Exif()
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "Crier Test Camera"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 29.6)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (2.0, 17.0, 40.2)
    return exif


def jpeg(
    path: Path,
    size: tuple[int, int] = (640, 480),
    *,
    color: tuple[int, int, int] = (30, 120, 200),
    quality: int = 90,
    exif: Image.Exif | None = None,
) -> Path:
    image = Image.new("RGB", size, color)
    image.save(path, "JPEG", quality=quality, exif=exif or Image.Exif())
    return path


def noisy_jpeg(
    path: Path, size: tuple[int, int] = (6000, 4000), *, exif: Image.Exif | None = None
) -> Path:
    noise(size).save(path, "JPEG", quality=90, exif=exif or Image.Exif())
    return path


def sideways_jpeg(path: Path, *, orientation: int = 6, gps: bool = True) -> Path:
    """Stored 80×40, left half red and right half blue, with an EXIF orientation: shown
    upright (orientation 6: turned 90° clockwise) it is 40×80, red on top."""
    image = Image.new("RGB", (80, 40), BLUE)
    image.paste(RED, (0, 0, 40, 40))
    exif = gps_exif(orientation=orientation) if gps else Image.Exif()
    if not gps:
        exif[ExifTags.Base.Orientation] = orientation
    image.save(path, "JPEG", quality=95, exif=exif)
    return path


def rgba(size: tuple[int, int] = (200, 100)) -> Image.Image:
    """Left half fully transparent, right half opaque red."""
    image = Image.new("RGBA", size, (*RED, 255))
    image.paste((0, 0, 0, 0), (0, 0, size[0] // 2, size[1]))
    return image


def rgba_png(path: Path, size: tuple[int, int] = (200, 100)) -> Path:
    rgba(size).save(path, "PNG")
    return path


def webp(path: Path, size: tuple[int, int] = (300, 200), *, alpha: bool = False) -> Path:
    image = rgba(size) if alpha else noise(size)
    image.save(path, "WEBP", quality=80)
    return path


def heic(path: Path, size: tuple[int, int] = (320, 240)) -> Path:
    import pillow_heif

    pillow_heif.register_heif_opener()
    noise(size).save(path, "HEIF", quality=80)
    return path


def gif_animation(path: Path, *, frames: int = 5, frame_ms: int = 100) -> Path:
    images = [
        Image.new("RGB", (64, 48), (index * 40, 0, 255 - index * 40)) for index in range(frames)
    ]
    images[0].save(path, "GIF", save_all=True, append_images=images[1:], duration=frame_ms)
    return path


def video_codec() -> str:
    """H.264 when the PyAV wheel has an encoder for it, else MPEG-4 Part 2."""
    return "libx264" if "libx264" in av.codecs_available else "mpeg4"


def mp4(
    path: Path,
    *,
    seconds: float = 2.0,
    size: tuple[int, int] = (320, 240),
    fps: int = 25,
    faststart: bool = False,
) -> Path:
    """A silent MP4; with `faststart` the index (moov) comes before the data (mdat)."""
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as container:
        stream = container.add_stream(video_codec(), rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        if stream.codec_context.name == "h264":
            stream.options = {"preset": "ultrafast"}
        for index in range(round(seconds * fps)):
            shade = (index * 5) % 256
            frame = av.VideoFrame.from_image(Image.new("RGB", size, (shade, 90, 255 - shade)))
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def mdat_span(path: Path) -> tuple[int, int]:
    """Where the top-level mdat box's payload starts and ends."""
    data = path.read_bytes()
    offset = 0
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if kind == b"mdat":
            return offset + 8, offset + size
        offset += size
    raise ValueError("no mdat")


def cut_in_mdat(source: Path, dest: Path) -> Path:
    """The file cut off halfway through its media data, as an interrupted upload leaves it."""
    start, end = mdat_span(source)
    dest.write_bytes(source.read_bytes()[: (start + end) // 2])
    return dest


def zeroed_mdat(source: Path, dest: Path) -> Path:
    """Whole container, garbage pictures: every byte of media data set to zero."""
    start, end = mdat_span(source)
    data = bytearray(source.read_bytes())
    data[start:end] = bytes(end - start)
    dest.write_bytes(bytes(data))
    return dest


def truncated(source: Path, dest: Path, *, keep: float = 0.6) -> Path:
    data = source.read_bytes()
    dest.write_bytes(data[: int(len(data) * keep)])
    return dest


def elf(path: Path) -> Path:
    """The start of a 64-bit Linux executable, then filler."""
    header = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + struct.pack("<HHI", 2, 0x3E, 1)
    path.write_bytes(header + bytes(range(256)) * 8)
    return path


def pe(path: Path) -> Path:
    """A DOS stub pointing at a PE header, as every Windows .exe starts."""
    stub = bytearray(b"MZ" + bytes(0x3A) + struct.pack("<I", 0x80))
    stub += bytes(0x80 - len(stub)) + b"PE\x00\x00" + struct.pack("<HH", 0x8664, 1)
    path.write_bytes(bytes(stub) + bytes(range(256)) * 8)
    return path


def pdf(path: Path) -> Path:
    path.write_bytes(
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
        b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )
    return path


def png_bomb(path: Path, width: int = 30_000, height: int = 30_000) -> Path:
    """A tiny PNG whose header claims a huge picture: what a decompression bomb looks like."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit grey
    rows = zlib.compress(bytes(1 + (width + 7) // 8) * 4)  # a few rows; the rest is missing
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )
    return path
