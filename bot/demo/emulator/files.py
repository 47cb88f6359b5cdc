"""Files as the emulated Bot API keeps them: uploads, file ids, photo sizes, URLs.

Telegram stores a sent photo as a set of sizes (a thumbnail plus the original), gives every
file an opaque ``file_id`` and a ``file_path`` for getFile, and refuses uploads over 50 MB
("Request Entity Too Large").
"""

from __future__ import annotations

import copy
import io
import mimetypes
import secrets
from typing import Any

from bot.demo.emulator.core import UPLOAD_LIMIT, TelegramState
from bot.demo.emulator.world import JSON, ApiError, StoredFile, Upload, bad_request

_FILE_ID_PREFIX = {
    "photo": "AgACAgIAAxkBAAI",
    "video": "BAACAgIAAxkBAAI",
    "document": "BQACAgIAAxkBAAI",
    "animation": "CgACAgIAAxkBAAI",
    "audio": "CQACAgIAAxkBAAI",
}
_FILE_DIR = {
    "photo": ("photos", ".jpg"),
    "video": ("videos", ".mp4"),
    "document": ("documents", ""),
    "animation": ("animations", ".mp4"),
    "audio": ("music", ".mp3"),
}


def _image_info(data: bytes) -> tuple[int, int, bytes] | None:
    """(width, height, JPEG thumbnail bytes) when ``data`` is an image Pillow can read."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            thumb = image.convert("RGB")
            thumb.thumbnail((320, 320))
            buffer = io.BytesIO()
            thumb.save(buffer, format="JPEG")
            return width, height, buffer.getvalue()
    except Exception:
        return None


class FileStore(TelegramState):
    """Registering and resolving files (mixed into the emulator)."""

    def _new_file(self, kind: str, **fields: Any) -> StoredFile:
        self._file_counter += 1
        n = self._file_counter
        directory, ext = _FILE_DIR[kind]
        name = fields.get("file_name") or ""
        if kind == "document" and "." in name:
            ext = "." + name.rsplit(".", 1)[1].lower()
        stored = StoredFile(
            file_id=f"{_FILE_ID_PREFIX[kind]}{n:05d}{secrets.token_urlsafe(12)}",
            file_unique_id=f"AgAD{n:05d}{secrets.token_hex(3)}",
            kind=kind,
            file_path=f"{directory}/file_{n}{ext}",
            **fields,
        )
        self.files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _photo_set(
        self,
        data: bytes | None,
        *,
        width: int = 1280,
        height: int = 960,
        size: int | None = None,
        url: str | None = None,
    ) -> list[JSON]:
        """Register a photo the way Telegram stores one: a thumbnail size plus the original."""
        thumb_data = data
        info = _image_info(data) if data else None
        if info is not None:
            width, height, thumb_data = info
        full = self._new_file(
            "photo",
            data=data,
            size=size if size is not None else (len(data) if data is not None else None),
            url=url,
            width=width,
            height=height,
        )
        sizes = []
        if max(width, height) > 320:
            scale = 320 / max(width, height)
            thumb = self._new_file(
                "photo",
                data=thumb_data,
                size=len(thumb_data) if thumb_data is not None else None,
                url=url,
                width=max(1, round(width * scale)),
                height=max(1, round(height * scale)),
            )
            sizes.append(thumb.photo_size())
        sizes.append(full.photo_size())
        for photo_size in sizes:
            self._photo_sets[photo_size["file_id"]] = sizes
        return sizes

    def _input_file(self, value: Any, files: dict[str, Upload], kind: str, p: JSON) -> JSON:
        """Resolve an uploaded file, a known file_id or a URL into message content."""
        if isinstance(value, str) and value.startswith("attach://"):
            name = value[len("attach://") :]
            if name not in files:
                raise bad_request(f'can\'t find attached file "{name}"')
            value = files[name]
        if value is None or value == "":
            raise bad_request(f"there is no {kind} in the request")
        meta = {k: self._int_param(p, k) for k in ("width", "height", "duration")}
        if isinstance(value, Upload):
            if not value.data:
                raise bad_request("file must be non-empty")
            if len(value.data) > UPLOAD_LIMIT:
                raise ApiError(413, "Request Entity Too Large")
            if kind == "photo":
                return {"photo": self._photo_set(value.data)}
            guessed = mimetypes.guess_type(value.filename)[0]
            stored = self._new_file(
                kind,
                data=value.data,
                size=len(value.data),
                file_name=value.filename,
                mime_type=guessed or value.content_type or "application/octet-stream",
                width=meta["width"] or (1280 if kind in ("video", "animation") else None),
                height=meta["height"] or (720 if kind in ("video", "animation") else None),
                duration=meta["duration"] or 0,
            )
            return self._media_content(kind, stored)
        if not isinstance(value, str):
            raise bad_request("wrong file identifier/HTTP URL specified")
        ref = value.strip()
        if ref.startswith(("http://", "https://")):
            if kind == "photo":
                return {"photo": self._photo_set(None, url=ref)}
            url_name: str | None = ref.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or None
            stored = self._new_file(
                kind,
                url=ref,
                file_name=url_name,
                mime_type=(mimetypes.guess_type(url_name)[0] if url_name else None),
                width=meta["width"],
                height=meta["height"],
                duration=meta["duration"],
            )
            return self._media_content(kind, stored)
        known = self.files.get(ref)
        if known is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if known.kind != kind:
            raise bad_request(
                f"can't use file of type {known.kind.capitalize()} as {kind.capitalize()}"
            )
        if kind == "photo":
            return {"photo": copy.deepcopy(self._photo_sets.get(ref, [known.photo_size()]))}
        return self._media_content(kind, known)

    @staticmethod
    def _media_content(kind: str, stored: StoredFile) -> JSON:
        content: JSON = {kind: stored.as_media(kind)}
        if kind == "animation":  # Telegram also sets "document" for animations
            content["document"] = stored.as_media("document")
        return content
