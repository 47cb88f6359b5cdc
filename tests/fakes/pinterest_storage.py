"""The storage Pinterest has videos uploaded to: an S3 bucket taking browser-style form
uploads (POST Object with a signed policy), as `POST /v5/media` describes it.

`register` hands out the form fields of one upload (what `upload_parameters` holds); a
POST to the bucket must carry every one of them unchanged, then the file as the last field,
and no `Authorization` header (S3 refuses two ways of signing one request). Answers are S3's:
204 on success, an XML `<Error>` otherwise (AccessDenied for a wrong or expired policy,
EntityTooLarge over the policy's size range, InvalidArgument for a malformed form).
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass, field

import httpx

from tests.fakes.discord import parse_multipart

UPLOAD_URL = "https://pinterest-media-upload.s3-accelerate.amazonaws.com/"
#: The policy's content-length-range: Pinterest takes videos of up to 2 GB.
MAX_UPLOAD_BYTES = 2 * 1024**3


@dataclass
class Upload:
    media_id: str
    #: The form fields Pinterest answered with (`upload_parameters`).
    fields: dict[str, str]
    #: (file name, content type, bytes) once uploaded.
    file: tuple[str, str, bytes] | None = None
    expired: bool = False
    attempts: list[int] = field(default_factory=list)


class FakeStorage:
    def __init__(self, *, url: str = UPLOAD_URL, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
        self.url = url
        self.max_bytes = max_bytes
        self.uploads: dict[str, Upload] = {}  # by key

    def register(self, media_id: str, user_id: str) -> Upload:
        key = f"uploads/{secrets.token_hex(1)}/{secrets.token_hex(1)}/3:video:{user_id}:{media_id}"
        policy = {
            "expiration": "2030-01-01T00:00:00Z",
            "conditions": [
                {"bucket": "pinterest-media-upload"},
                {"key": key},
                ["content-length-range", 0, self.max_bytes],
            ],
        }
        fields = {
            "x-amz-date": "20260101T000000Z",
            "x-amz-signature": secrets.token_hex(32),
            "x-amz-security-token": "SECRET-STS-" + secrets.token_urlsafe(24),
            "x-amz-algorithm": "AWS4-HMAC-SHA256",
            "key": key,
            "policy": base64.b64encode(json.dumps(policy).encode()).decode(),
            "x-amz-credential": "ASIAFAKE/20260101/us-east-1/s3/aws4_request",
            "Content-Type": "multipart/form-data",
        }
        upload = Upload(media_id=media_id, fields=fields)
        self.uploads[key] = upload
        return upload

    def expire_all(self) -> None:
        """Every policy handed out so far runs out (as after an hour)."""
        for upload in self.uploads.values():
            upload.expired = True

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST":
            return _error(405, "MethodNotAllowed", "The specified method is not allowed.")
        if "authorization" in request.headers:
            return _error(
                400,
                "InvalidArgument",
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                "Signature query string parameter or the Authorization header should be "
                "specified",
            )
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return _error(
                412, "PreconditionFailed", "Bucket POST must be of the enclosure-type multipart"
            )
        parts = parse_multipart(request)
        if not parts or parts[-1].name != "file" or parts[-1].filename is None:
            return _error(400, "InvalidArgument", "Bucket POST must contain a field named 'file'.")
        form = {p.name: p.data.decode() for p in parts[:-1]}
        upload = self.uploads.get(form.get("key", ""))
        if upload is None or any(form.get(k) != v for k, v in upload.fields.items()):
            return _error(
                403, "AccessDenied", "Invalid according to Policy: Policy Condition failed"
            )
        if upload.expired:
            return _error(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
        data = parts[-1].data
        upload.attempts.append(len(data))
        if len(data) > self.max_bytes:
            return _error(
                400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
            )
        upload.file = (parts[-1].filename or "", parts[-1].content_type or "", data)
        return httpx.Response(204)


def _error(status: int, code: str, message: str) -> httpx.Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        f"<RequestId>{secrets.token_hex(8).upper()}</RequestId></Error>"
    )
    return httpx.Response(status, text=body, headers={"content-type": "application/xml"})


__all__ = ["MAX_UPLOAD_BYTES", "UPLOAD_URL", "FakeStorage", "Upload"]
