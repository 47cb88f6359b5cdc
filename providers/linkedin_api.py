"""LinkedIn's HTTP API as the LinkedIn adapter uses it: the requests, and the one place its
answers become provider errors.

Versioned calls go to `{api}/rest/…` with `LinkedIn-Version: YYYYMM` and
`X-Restli-Protocol-Version: 2.0.0`; the identity calls (`/v2/userinfo`, `/v2/me`) are not
versioned. URNs in a path are percent-encoded. Errors are Rest.li's JSON
(`{"status", "serviceErrorCode", "code", "message"}`, validation errors with
`errorDetails.inputErrors`); LinkedIn sends no Retry-After with a 429: its limits are per day
and reset at midnight UTC (learn.microsoft.com/linkedin/shared/api-guide/concepts/rate-limits).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from providers.http import (
    raise_for_status,
    retry_after_seconds,
    safe_to_repeat,
    sanitize,
    translate_network_errors,
)

PLATFORM = "LinkedIn"
#: Wait after a 429 that is not a daily limit ("infrastructure protection"), seconds.
DEFAULT_RATE_LIMIT_WAIT = 300.0
_DAY_LIMIT = re.compile(r"\bDAY\b")


@dataclass(frozen=True, kw_only=True)
class UploadPart:
    """One byte range of a video and where to PUT it (`uploadInstructions`)."""

    url: str
    #: Inclusive byte offsets.
    first_byte: int
    last_byte: int


@dataclass(frozen=True, kw_only=True)
class VideoUpload:
    video: str
    parts: tuple[UploadPart, ...]
    upload_token: str


class LinkedInApi:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_base_url: str,
        api_version: str,
        now: Callable[[], datetime],
    ) -> None:
        self._http = http
        self._base = api_base_url.rstrip("/")
        self._version = api_version
        self._now = now

    # -- identity and organisations -------------------------------------------------------

    async def userinfo(self, token: str) -> Mapping[str, Any]:
        """OpenID Connect userinfo (scopes openid, profile): `sub`, `name`."""
        return _json(await self._call("GET", f"{self._base}/v2/userinfo", token, rest=False))

    async def me(self, token: str) -> Mapping[str, Any]:
        """The member's lite profile (r_basicprofile): `id`, localized first and last name."""
        return _json(await self._call("GET", f"{self._base}/v2/me", token, rest=False))

    async def administered_organizations(self, token: str, *, page: int = 100) -> list[str]:
        """URNs of the organisations the member is an approved ADMINISTRATOR of, all pages."""
        urns: list[str] = []
        start = 0
        while True:
            params = {
                "q": "roleAssignee",
                "role": "ADMINISTRATOR",
                "state": "APPROVED",
                "start": str(start),
                "count": str(page),
            }
            url = f"{self._base}/rest/organizationAcls"
            body = _json(
                await self._call("GET", url, token, params=params, needs="rw_organization_admin")
            )
            elements = [e for e in body.get("elements") or () if isinstance(e, Mapping)]
            for element in elements:
                urn = element.get("organization") or element.get("organizationalTarget")
                if isinstance(urn, str) and urn.startswith("urn:li:organization:"):
                    urns.append(urn)
            total = (body.get("paging") or {}).get("total")
            start += len(elements)
            if len(elements) < page or (isinstance(total, int) and start >= total):
                return list(dict.fromkeys(urns))

    async def organization_names(self, token: str, urns: list[str]) -> dict[str, str]:
        """urn -> localizedName, by one batch get (ids=List(…), Rest.li 2.0)."""
        if not urns:
            return {}
        ids = [urn.rsplit(":", 1)[-1] for urn in urns]
        url = f"{self._base}/rest/organizations?ids=List({','.join(ids)})"
        answer = await self._call("GET", url, token, needs="rw_organization_admin")
        results = _json(answer).get("results") or {}
        names: dict[str, str] = {}
        for urn, org_id in zip(urns, ids, strict=True):
            org = results.get(org_id) if isinstance(results, Mapping) else None
            if isinstance(org, Mapping) and org.get("localizedName"):
                names[urn] = str(org["localizedName"])
        return names

    # -- media ----------------------------------------------------------------------------

    async def upload_image(self, token: str, owner: str, data: bytes, *, needs: str) -> str:
        """Images API: initializeUpload, then PUT the bytes; the image URN."""
        body = {"initializeUploadRequest": {"owner": owner}}
        value = _value(
            await self._call(
                "POST",
                f"{self._base}/rest/images",
                token,
                params={"action": "initializeUpload"},
                json=body,
                needs=needs,
            )
        )
        upload_url, image = value.get("uploadUrl"), value.get("image")
        if not isinstance(upload_url, str) or not isinstance(image, str):
            raise TransientError("LinkedIn did not say where to upload an image.")
        # The docs' upload carries the member's bearer token, like every other call.
        await self._call("PUT", upload_url, token, rest=False, content=data)
        return image

    async def initialize_video(
        self, token: str, owner: str, size: int, *, needs: str
    ) -> VideoUpload:
        body = {
            "initializeUploadRequest": {
                "owner": owner,
                "fileSizeBytes": size,
                "uploadCaptions": False,
                "uploadThumbnail": False,
            }
        }
        value = _value(
            await self._call(
                "POST",
                f"{self._base}/rest/videos",
                token,
                params={"action": "initializeUpload"},
                json=body,
                needs=needs,
            )
        )
        parts = tuple(
            UploadPart(
                url=str(part["uploadUrl"]),
                first_byte=int(part["firstByte"]),
                last_byte=int(part["lastByte"]),
            )
            for part in value.get("uploadInstructions") or ()
            if isinstance(part, Mapping) and part.get("uploadUrl")
        )
        if not isinstance(value.get("video"), str) or not parts:
            raise TransientError("LinkedIn did not say where to upload the video.")
        return VideoUpload(
            video=str(value["video"]), parts=parts, upload_token=str(value.get("uploadToken") or "")
        )

    async def upload_part(self, part: UploadPart, data: bytes) -> str:
        """PUT one byte range to its pre-signed URL (no bearer token, as the docs show);
        LinkedIn's ETag for it."""
        response = await self._call(
            "PUT",
            part.url,
            None,
            rest=False,
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        etag = response.headers.get("etag")
        if not etag:
            raise TransientError("LinkedIn took a part of the video without acknowledging it.")
        return etag

    async def finalize_video(
        self, token: str, upload: VideoUpload, etags: list[str], *, needs: str
    ) -> None:
        body = {
            "finalizeUploadRequest": {
                "video": upload.video,
                "uploadToken": upload.upload_token,
                "uploadedPartIds": etags,
            }
        }
        await self._call(
            "POST",
            f"{self._base}/rest/videos",
            token,
            params={"action": "finalizeUpload"},
            json=body,
            needs=needs,
        )

    async def video(self, token: str, urn: str) -> Mapping[str, Any]:
        """GET /rest/videos/{urn}: `status` (PROCESSING, AVAILABLE, PROCESSING_FAILED, ...)."""
        return _json(await self._call("GET", f"{self._base}/rest/videos/{_encode(urn)}", token))

    # -- posts ----------------------------------------------------------------------------

    async def create_post(self, token: str, body: Mapping[str, Any], *, needs: str) -> str:
        """POST /rest/posts; the new post's URN from the `x-restli-id` header."""
        response = await self._call(
            "POST", f"{self._base}/rest/posts", token, json=body, creates_post=True, needs=needs
        )
        urn = response.headers.get("x-restli-id")
        if not urn:
            raise TransientError(
                "LinkedIn answered without the new post's id; it may or may not have been "
                "published.",
                http_status=response.status_code,
                ambiguous=True,
            )
        return urn

    async def delete_post(self, token: str, urn: str, *, needs: str) -> None:
        """DELETE /rest/posts/{urn}: 204, also for a post already deleted (LinkedIn's deletes
        are idempotent); a post LinkedIn never had answers 404, which counts as deleted too."""
        try:
            with safe_to_repeat(PLATFORM, "deleting"):
                await self._call(
                    "DELETE",
                    f"{self._base}/rest/posts/{_encode(urn)}",
                    token,
                    headers={"X-RestLi-Method": "DELETE"},
                    creates_post=True,
                    needs=needs,
                )
        except PermanentError as exc:
            if exc.http_status != 404:
                raise

    async def update_commentary(self, token: str, urn: str, commentary: str, *, needs: str) -> None:
        """A Rest.li PARTIAL_UPDATE of the post's commentary (POST /rest/posts/{urn}); 204."""
        with safe_to_repeat(PLATFORM, "editing"):
            await self._call(
                "POST",
                f"{self._base}/rest/posts/{_encode(urn)}",
                token,
                headers={"X-RestLi-Method": "PARTIAL_UPDATE"},
                json={"patch": {"$set": {"commentary": commentary}}},
                creates_post=True,
                needs=needs,
            )

    # -- HTTP -----------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        url: str,
        token: str | None,
        *,
        rest: bool = True,
        creates_post: bool = False,
        needs: str | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """The one place requests go out and LinkedIn's errors come back as provider errors;
        `needs` names the permission a 403 means is missing; `creates_post` marks a request
        whose lost answer leaves its effect unknown (creating, deleting or editing a post)."""
        sent: dict[str, str] = {}
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        if rest:
            sent["LinkedIn-Version"] = self._version
            sent["X-Restli-Protocol-Version"] = "2.0.0"
        sent.update(headers or {})
        try:
            with translate_network_errors(PLATFORM):
                response = await self._http.request(method, url, headers=sent, **kwargs)
        except TransientError as exc:
            if exc.ambiguous and not creates_post:
                # Only creating the post publishes anything; a lost upload or read does not.
                raise TransientError(
                    "The connection to LinkedIn broke off or timed out; nothing was published."
                ) from exc
            raise
        if response.status_code >= 400:
            self._raise(response, token, needs)
        return response

    def _raise(self, response: httpx.Response, token: str | None, needs: str | None) -> None:
        status = response.status_code
        secrets = [token] if token else []
        error = _error_body(response)
        reason = _reason(error)
        said = sanitize(reason or "", secrets)
        detail = f" (LinkedIn: {said})" if said else ""
        if status == 401:
            raise AuthError(
                f"LinkedIn refused the sign-in: the access token expired or was revoked{detail}. "
                "Reconnect the account.",
                http_status=status,
            )
        if status == 403:
            what = f"the {needs} permission" if needs else "a permission"
            raise AuthError(
                f"LinkedIn refused access: the sign-in lacks {what}, or you are no longer "
                f"allowed to act for this account{detail}. Reconnect it (for a page, as one of "
                "its administrators).",
                http_status=status,
            )
        if status == 426:
            raise PermanentError(
                f"LinkedIn no longer accepts API version {self._version}{detail}; Crier needs "
                "an update.",
                http_status=status,
            )
        if status == 429:
            raise RateLimited(
                self._rate_limit_wait(response, reason or ""),
                f"LinkedIn rate limit{': ' + said if said else ''}",
                http_status=status,
            )
        raise_for_status(response, platform=PLATFORM, reason=reason, secrets=secrets)

    def _rate_limit_wait(self, response: httpx.Response, message: str) -> float:
        """Retry-After if anything in front of LinkedIn sent one; until midnight UTC for a
        daily limit ("… MEMBER DAY limit …"); otherwise a few minutes."""
        if response.headers.get("retry-after"):
            return retry_after_seconds(response, DEFAULT_RATE_LIMIT_WAIT)
        if _DAY_LIMIT.search(message):
            now = self._now()
            midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
            return (midnight - now).total_seconds() + 60.0
        return DEFAULT_RATE_LIMIT_WAIT


def _encode(urn: str) -> str:
    return quote(urn, safe="")


def _error_body(response: httpx.Response) -> Mapping[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, Mapping) else {}


def _reason(error: Mapping[str, Any]) -> str | None:
    """LinkedIn's message, with the first field-level validation error where there is one."""
    message = str(error.get("message") or error.get("error_description") or "").strip()
    details = error.get("errorDetails")
    inputs = details.get("inputErrors") if isinstance(details, Mapping) else None
    if isinstance(inputs, list) and inputs and isinstance(inputs[0], Mapping):
        first = inputs[0]
        description = str(first.get("description") or first.get("code") or "").strip()
        path = ((first.get("input") or {}).get("inputPath") or {}).get("fieldPath")
        if description:
            where = f" at {path}" if path else ""
            message = f"{message}: {description}{where}" if message else f"{description}{where}"
    return message or (str(error["code"]) if error.get("code") else None)


def _json(response: httpx.Response) -> Mapping[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, Mapping):
        raise TransientError(
            f"LinkedIn sent an unexpected answer (HTTP {response.status_code}).",
            http_status=response.status_code,
        )
    return body


def _value(response: httpx.Response) -> Mapping[str, Any]:
    """The `value` of a Rest.li action's answer."""
    value = _json(response).get("value")
    if not isinstance(value, Mapping):
        raise TransientError("LinkedIn answered an upload request without its details.")
    return value
