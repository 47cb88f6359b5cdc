"""What a file really is, from its first bytes, and whether its container is whole.

Names and MIME types that come with a file are claims; these checks read the bytes. They
are byte-level and cheap: the decoding that proves an image or video plays is in
`bot.media.probe`.
"""

from __future__ import annotations

import enum
import mimetypes
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

#: How many leading bytes `sniff` looks at.
HEAD_BYTES = 4096
# Long fragmented MP4s have a few thousand top-level boxes; millions means a crafted file.
_MAX_BOXES = 100_000


class Family(enum.StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"
    ARCHIVE = "archive"
    EXECUTABLE = "executable"
    UNKNOWN = "unknown"


@dataclass(frozen=True, kw_only=True)
class Sniffed:
    """The type the bytes say a file has."""

    mime: str
    family: Family
    #: The type in words for a message to the user: "a Windows program", "a PDF document".
    label: str
    #: Short container name for videos ("mp4", "mov", "webm", "mkv", "avi"), else None.
    container: str | None = None


OCTET_STREAM = Sniffed(
    mime="application/octet-stream", family=Family.UNKNOWN, label="a file of an unknown type"
)

# (offset, magic, mime, family, label); checked in order, first match wins.
_MAGIC: tuple[tuple[int, bytes, str, Family, str], ...] = (
    (0, b"\xff\xd8\xff", "image/jpeg", Family.IMAGE, "a JPEG image"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png", Family.IMAGE, "a PNG image"),
    (0, b"GIF87a", "image/gif", Family.IMAGE, "a GIF image"),
    (0, b"GIF89a", "image/gif", Family.IMAGE, "a GIF image"),
    (0, b"II*\x00", "image/tiff", Family.IMAGE, "a TIFF image"),
    (0, b"MM\x00*", "image/tiff", Family.IMAGE, "a TIFF image"),
    (0, b"\x1a\x45\xdf\xa3", "video/x-matroska", Family.VIDEO, "a Matroska video"),
    (0, b"%PDF-", "application/pdf", Family.DOCUMENT, "a PDF document"),
    (0, b"{\\rtf", "application/rtf", Family.DOCUMENT, "an RTF document"),
    (0, b"PK\x03\x04", "application/zip", Family.ARCHIVE, "a ZIP archive"),
    (0, b"PK\x05\x06", "application/zip", Family.ARCHIVE, "a ZIP archive"),
    (0, b"Rar!\x1a\x07", "application/vnd.rar", Family.ARCHIVE, "a RAR archive"),
    (0, b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed", Family.ARCHIVE, "a 7-Zip archive"),
    (0, b"\x1f\x8b", "application/gzip", Family.ARCHIVE, "a gzip archive"),
    (0, b"BZh", "application/x-bzip2", Family.ARCHIVE, "a bzip2 archive"),
    (0, b"\xfd7zXZ\x00", "application/x-xz", Family.ARCHIVE, "an xz archive"),
    (0, b"\x28\xb5\x2f\xfd", "application/zstd", Family.ARCHIVE, "a zstd archive"),
    (257, b"ustar", "application/x-tar", Family.ARCHIVE, "a tar archive"),
    (0, b"\x7fELF", "application/x-executable", Family.EXECUTABLE, "a Linux program"),
    (
        0,
        b"MZ",
        "application/vnd.microsoft.portable-executable",
        Family.EXECUTABLE,
        "a Windows program",
    ),
    (0, b"\xfe\xed\xfa\xce", "application/x-mach-binary", Family.EXECUTABLE, "a macOS program"),
    (0, b"\xfe\xed\xfa\xcf", "application/x-mach-binary", Family.EXECUTABLE, "a macOS program"),
    (0, b"\xce\xfa\xed\xfe", "application/x-mach-binary", Family.EXECUTABLE, "a macOS program"),
    (0, b"\xcf\xfa\xed\xfe", "application/x-mach-binary", Family.EXECUTABLE, "a macOS program"),
    (0, b"\xca\xfe\xba\xbe", "application/x-mach-binary", Family.EXECUTABLE, "a program"),
    (0, b"\x00asm", "application/wasm", Family.EXECUTABLE, "a WebAssembly program"),
    (0, b"dex\n", "application/vnd.android.dex", Family.EXECUTABLE, "an Android program"),
    (0, b"#!", "text/x-shellscript", Family.EXECUTABLE, "a script"),
    (
        0,
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "application/x-ole-storage",
        Family.DOCUMENT,
        "an old Office document",
    ),
    (0, b"ID3", "audio/mpeg", Family.AUDIO, "an MP3 audio file"),
    (0, b"OggS", "audio/ogg", Family.AUDIO, "an Ogg audio file"),
    (0, b"fLaC", "audio/flac", Family.AUDIO, "a FLAC audio file"),
)

# ISO base media (MP4, MOV, HEIC, AVIF) name their flavour in the `ftyp` box's brands.
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
_AVIF_BRANDS = {b"avif", b"avis"}
_HEIF_BRANDS = {b"mif1", b"msf1"}
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A "}
# QuickTime files from old cameras start straight with one of these atoms, without `ftyp`.
_QT_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}

# Media extensions whose type must not depend on the host's mime.types.
_EXTENSION_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".avif": "image/avif",
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
    ".mkv": "video/x-matroska",
}

# What a claimed type is called in "that file says it's ... but it isn't one".
_CLAIM_WORDS = {
    "image/jpeg": "a JPEG",
    "image/png": "a PNG",
    "image/gif": "a GIF",
    "image/webp": "a WebP image",
    "image/heic": "a HEIC photo",
    "image/heif": "a HEIF photo",
    "video/mp4": "an MP4 video",
    "video/quicktime": "a QuickTime video",
    "video/webm": "a WebM video",
}


def sniff(head: bytes, path: Path | None = None) -> Sniffed:
    """The type the leading bytes say; `path` lets ZIP-based documents be told apart."""
    if head[4:8] == b"ftyp":
        return _sniff_ftyp(head)
    if head[4:8] in _QT_ATOMS:
        return Sniffed(
            mime="video/quicktime", family=Family.VIDEO, label="a QuickTime video", container="mov"
        )
    if head[:4] == b"RIFF":
        return _sniff_riff(head[8:12])
    if head[:2] == b"BM" and len(head) >= 18 and head[14] in (12, 40, 52, 56, 64, 108, 124):
        return Sniffed(mime="image/bmp", family=Family.IMAGE, label="a BMP image")
    if head[:1] == b"\xff" and head[1:2] in (b"\xfb", b"\xfa", b"\xf3", b"\xf2", b"\xe3"):
        # An MP3 without ID3 tags starts with a frame header (JPEG's second byte is D8).
        return Sniffed(mime="audio/mpeg", family=Family.AUDIO, label="an MP3 audio file")
    for offset, magic, mime, family, label in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            found = Sniffed(mime=mime, family=family, label=label)
            if mime == "video/x-matroska":
                return _sniff_ebml(head)
            if mime == "application/zip" and path is not None:
                return _sniff_zip(path) or found
            return found
    return _sniff_text(head)


def _sniff_ftyp(head: bytes) -> Sniffed:
    box_size = struct.unpack(">I", head[:4])[0]
    brands = {head[8:12]} | {
        head[i : i + 4] for i in range(16, min(box_size, len(head)) - 3, 4)
    }  # major brand, then the compatible ones
    major = head[8:12]
    if major in _AVIF_BRANDS or (major in _HEIF_BRANDS and brands & _AVIF_BRANDS):
        return Sniffed(mime="image/avif", family=Family.IMAGE, label="an AVIF image")
    if major in _HEIC_BRANDS or (major in _HEIF_BRANDS and brands & _HEIC_BRANDS):
        return Sniffed(mime="image/heic", family=Family.IMAGE, label="a HEIC photo")
    if major in _HEIF_BRANDS:
        return Sniffed(mime="image/heif", family=Family.IMAGE, label="a HEIF photo")
    if major in _AUDIO_BRANDS:
        return Sniffed(mime="audio/mp4", family=Family.AUDIO, label="an M4A audio file")
    if major == b"qt  ":
        return Sniffed(
            mime="video/quicktime", family=Family.VIDEO, label="a QuickTime video", container="mov"
        )
    if major.startswith(b"3g2"):
        return Sniffed(
            mime="video/3gpp2", family=Family.VIDEO, label="a 3GPP video", container="3gp"
        )
    if major.startswith(b"3gp"):
        return Sniffed(
            mime="video/3gpp", family=Family.VIDEO, label="a 3GPP video", container="3gp"
        )
    return Sniffed(mime="video/mp4", family=Family.VIDEO, label="an MP4 video", container="mp4")


def _sniff_riff(kind: bytes) -> Sniffed:
    if kind == b"WEBP":
        return Sniffed(mime="image/webp", family=Family.IMAGE, label="a WebP image")
    if kind == b"AVI ":
        return Sniffed(
            mime="video/x-msvideo", family=Family.VIDEO, label="an AVI video", container="avi"
        )
    if kind == b"WAVE":
        return Sniffed(mime="audio/wav", family=Family.AUDIO, label="a WAV audio file")
    return OCTET_STREAM


def _sniff_ebml(head: bytes) -> Sniffed:
    # The EBML header names its DocType ("webm" or "matroska") within its first bytes.
    if b"webm" in head[:64]:
        return Sniffed(
            mime="video/webm", family=Family.VIDEO, label="a WebM video", container="webm"
        )
    return Sniffed(
        mime="video/x-matroska", family=Family.VIDEO, label="a Matroska video", container="mkv"
    )


def _sniff_zip(path: Path) -> Sniffed | None:
    """Office documents, e-books and Android apps are ZIP files; their members tell them apart."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            first = names[0] if names else ""
            declared = (
                archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                if (first == "mimetype")
                else ""
            )
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError, ValueError):
        return None
    if declared:  # OpenDocument and EPUB store their type as the first member
        return Sniffed(mime=declared, family=Family.DOCUMENT, label="a document")
    tops = {PurePosixPath(name).parts[0] for name in names if name}
    if "AndroidManifest.xml" in tops:
        return Sniffed(
            mime="application/vnd.android.package-archive",
            family=Family.EXECUTABLE,
            label="an Android app",
        )
    if "[Content_Types].xml" in tops:
        for folder, mime, label in (
            (
                "word",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "a Word document",
            ),
            (
                "xl",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "an Excel spreadsheet",
            ),
            (
                "ppt",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                "a PowerPoint presentation",
            ),
        ):
            if folder in tops:
                return Sniffed(mime=mime, family=Family.DOCUMENT, label=label)
    if "META-INF" in tops and any(name.endswith(".class") for name in names):
        return Sniffed(
            mime="application/java-archive", family=Family.EXECUTABLE, label="a Java program"
        )
    return None


def _sniff_text(head: bytes) -> Sniffed:
    if b"\x00" in head:
        return OCTET_STREAM
    try:
        # The head may end in the middle of a multi-byte character.
        text = head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:
            return OCTET_STREAM
        text = head[: exc.start].decode("utf-8")
    start = text.lstrip()[:1024].lower()
    if start.startswith("<svg") or (start.startswith("<?xml") and "<svg" in start):
        # SVG can carry scripts and no platform takes it as a photo: a document.
        return Sniffed(mime="image/svg+xml", family=Family.DOCUMENT, label="an SVG drawing")
    if start.startswith(("<!doctype html", "<html")):
        return Sniffed(mime="text/html", family=Family.DOCUMENT, label="a web page")
    return Sniffed(mime="text/plain", family=Family.DOCUMENT, label="a text file")


def claimed_media(claimed_mime: str | None, claimed_name: str | None) -> str | None:
    """How to name the image or video a file claims to be ("a JPEG"), or None if it claims
    neither."""
    mime = (claimed_mime or "").split(";")[0].strip().lower()
    if not mime.startswith(("image/", "video/")) and claimed_name:
        suffix = PurePosixPath(claimed_name.lower()).suffix
        guessed = mimetypes.guess_type(claimed_name, strict=False)[0]
        mime = _EXTENSION_TYPES.get(suffix) or (guessed or "").lower()
    if not mime.startswith(("image/", "video/")) or mime == "image/svg+xml":
        return None
    if mime in _CLAIM_WORDS:
        return _CLAIM_WORDS[mime]
    return "an image" if mime.startswith("image/") else "a video"


def container_problem(path: Path, sniffed: Sniffed, size: int) -> str | None:
    """Why a video's container is not whole (cut off, no index), or None.

    A decoder happily plays the first frame of a file that was cut off halfway, so the
    container's own bookkeeping is checked against the file size.
    """
    try:
        with path.open("rb") as handle:
            if sniffed.container in ("mp4", "mov", "3gp"):
                return _iso_problem(handle, size)
            if sniffed.container in ("webm", "mkv"):
                return _ebml_problem(handle.read(HEAD_BYTES), size)
            if sniffed.container == "avi":
                declared = struct.unpack("<I", handle.read(8)[4:8])[0] + 8
                return "it is cut off" if declared > size else None
    except (OSError, struct.error):
        return "it can't be read"
    return None


def _iso_problem(handle: BinaryIO, size: int) -> str | None:
    """Walk the top-level boxes: each must fit in the file, and the index (moov) must exist."""
    offset, seen = 0, set[bytes]()
    for _ in range(_MAX_BOXES):
        if offset >= size:
            break
        handle.seek(offset)
        header = handle.read(16)
        if len(header) < 8:
            return "it is cut off"
        box_size, kind = struct.unpack(">I4s", header[:8])
        if box_size == 1:  # a 64-bit size follows the type
            if len(header) < 16:
                return "it is cut off"
            box_size = struct.unpack(">Q", header[8:16])[0]
        elif box_size == 0:  # the box runs to the end of the file
            box_size = size - offset
        if box_size < 8:
            return "its structure is damaged"
        if offset + box_size > size:
            return "it is cut off"
        seen.add(kind)
        offset += box_size
    else:
        return "its structure is damaged"
    if b"moov" not in seen:
        return "it has no index (the file was not finished when it was saved)"
    return None


def _ebml_problem(head: bytes, size: int) -> str | None:
    """A Matroska/WebM segment states its size; a file shorter than that was cut off."""
    position = head.find(b"\x18\x53\x80\x67")
    if position < 0:
        return "its structure is damaged"
    first = head[position + 4] if len(head) > position + 4 else 0
    length = 8 - first.bit_length() + 1 if first else 0
    if not 1 <= length <= 8 or len(head) < position + 4 + length:
        return "its structure is damaged"
    value = int.from_bytes(head[position + 4 : position + 4 + length], "big")
    value &= (1 << (7 * length)) - 1
    if value == (1 << (7 * length)) - 1:  # "unknown size": a live stream, nothing to check
        return None
    return "it is cut off" if position + 4 + length + value > size else None
