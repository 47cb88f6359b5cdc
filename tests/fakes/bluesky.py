"""An in-memory Bluesky: a PDS, a handle resolver (entryway), the PLC directory, web pages.

It answers the way the reference PDS (`@atproto/pds` 0.5.x) does — XRPC error bodies
(`{"error", "message"}`) with its error names and words, the `ratelimit-*` headers, a 500
for a create at a record key that is taken — keeps state (accounts, sessions, blobs,
records) and enforces what that PDS enforces:

- uploads of at most 5 MiB (`PDS_BLOB_UPLOAD_LIMIT`'s default), else 413 `PayloadTooLarge`;
- `app.bsky.feed.post` records validated by the lexicon, with @atproto/lex's messages:
  "Invalid app.bsky.feed.post record: grapheme too big (maximum 300, got 301) at
  $.record.text", a TID record key ("Invalid record key for app.bsky.feed.post: Invalid
  TID string ..."), four images of at most 1,000,000 bytes, `image/*` blobs only, alt text;
- blobs a record names must have been uploaded (400 `BlobNotFound`) with the MIME type and
  size the upload answered (400 `InvalidMimeType`, `InvalidSize`);
- `HandleNotFound` for a handle nobody has, `AuthMissing` for a call without a token;
- `didDoc` in createSession and refreshSession only when configured to
  (`PDS_ENABLE_DID_DOC_WITH_SESSION`: `did_doc_with_session=True`);
- a refresh token stays usable for two hours after its first use, answering with the same
  next refresh token (the PDS's grace period for clients that lost the answer);
- deleteRecord, a no-op for a record that is not there.

Use it as `httpx.MockTransport(fake)` or as a respx side effect; every request it saw is in
`requests`.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from providers.text import grapheme_length

POST = "app.bsky.feed.post"
SESSION_LIMIT = 30  # createSession: 30 per identifier per 5 minutes
SESSION_WINDOW = 300
MAX_GRAPHEMES = 300
MAX_TEXT_BYTES = 3000
MAX_IMAGES = 4
MAX_IMAGE_BYTES = 1_000_000
#: PDS_BLOB_UPLOAD_LIMIT's default: 5 MiB.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
#: How long a used refresh token still works (account-manager's REFRESH_GRACE_MS).
REFRESH_GRACE = 2 * 3600

_RKEY = re.compile(r"[A-Za-z0-9.\-_:~]{1,512}")
_TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
_S32 = "234567abcdefghijklmnopqrstuvwxyz"
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")

Failure = httpx.Response | Exception


@dataclass
class FakeAccount:
    handle: str
    did: str
    #: The main password; with `email_2fa` it only gets "AuthFactorTokenRequired".
    password: str = "main-password"
    app_passwords: set[str] = field(default_factory=set)
    email_2fa: bool = False
    taken_down: bool = False


@dataclass
class _Access:
    did: str
    expired: bool = False


@dataclass
class _Refresh:
    did: str
    expired: bool = False
    #: The refresh token this one was rotated to, and until when it may still be used.
    next: str | None = None
    grace_until: float | None = None


class FakeBluesky:
    def __init__(
        self,
        *,
        pds_url: str = "https://pds.example",
        resolver_url: str = "https://resolver.example",
        plc_url: str = "https://plc.example",
        clock: Callable[[], float] = time.time,
        did_doc_with_session: bool = False,
    ) -> None:
        self.pds_url = pds_url
        #: PDS_ENABLE_DID_DOC_WITH_SESSION: sessions carry the account's DID document.
        self.did_doc_with_session = did_doc_with_session
        self.resolver_url = resolver_url
        self.plc_url = plc_url
        self.clock = clock
        self.accounts: dict[str, FakeAccount] = {}
        #: (did, collection, rkey) -> {"uri", "cid", "value"}
        self.records: dict[tuple[str, str, str], dict[str, Any]] = {}
        #: cid -> (mime, bytes)
        self.blobs: dict[str, tuple[str, bytes]] = {}
        #: url -> canned answer for web pages (link cards)
        self.pages: dict[str, Failure] = {}
        self.requests: list[httpx.Request] = []
        self._access: dict[str, _Access] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._sessions_opened: dict[str, list[float]] = {}
        self._issued = 0
        self._tids = 0
        self._failures: dict[str, list[tuple[Failure, bool]]] = {}

    # -- setting up -------------------------------------------------------------------------

    def add_account(self, handle: str, did: str, *app_passwords: str, **kwargs: Any) -> FakeAccount:
        account = FakeAccount(handle=handle, did=did, app_passwords=set(app_passwords), **kwargs)
        self.accounts[did] = account
        return account

    def fail_next(self, nsid: str, answer: Failure) -> None:
        """Answer the next call of `nsid` with `answer` (a response, or an exception raised)."""
        self._failures.setdefault(nsid, []).append((answer, False))

    def lose_answer(self, nsid: str) -> None:
        """Do the next call of `nsid`, then time out as if the answer was lost on the way."""
        self._failures.setdefault(nsid, []).append((httpx.ReadTimeout("lost"), True))

    def expire_access_tokens(self) -> None:
        for access in self._access.values():
            access.expired = True

    def expire_refresh_tokens(self) -> None:
        for refresh in self._refresh.values():
            refresh.expired = True

    def posts(self, did: str) -> list[dict[str, Any]]:
        return [r["value"] for (d, c, _), r in self.records.items() if d == did and c == POST]

    def calls(self, nsid: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == f"/xrpc/{nsid}"]

    def did_document(self, account: FakeAccount, pds_url: str | None = None) -> dict[str, Any]:
        return {
            "@context": ["https://www.w3.org/ns/did/v1"],
            "id": account.did,
            "alsoKnownAs": [f"at://{account.handle}"],
            "verificationMethod": [],
            "service": [
                {
                    "id": "#atproto_pds",
                    "type": "AtprotoPersonalDataServer",
                    "serviceEndpoint": pds_url or self.pds_url,
                }
            ],
        }

    # -- the transport ----------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        url = request.url
        origin = f"{url.scheme}://{url.netloc.decode('ascii')}"
        if url.path.startswith("/xrpc/") and origin in (self.pds_url, self.resolver_url):
            nsid = url.path.removeprefix("/xrpc/")
            queued = self._failures.get(nsid)
            if queued:
                answer, after = queued.pop(0)
                if after:
                    self._xrpc(nsid, request)
                if isinstance(answer, Exception):
                    if isinstance(answer, httpx.RequestError):
                        answer.request = request
                    raise answer
                return answer
            return self._xrpc(nsid, request)
        if origin == self.plc_url:
            account = self.accounts.get(url.path.lstrip("/"))
            if account is None:
                return httpx.Response(404, json={"message": f"DID not registered: {url.path[1:]}"})
            return httpx.Response(200, json=self.did_document(account))
        if url.path == "/.well-known/did.json":
            account = self.accounts.get(f"did:web:{url.host}")
            if account is not None:
                return httpx.Response(200, json=self.did_document(account))
        page = self.pages.get(str(url))
        if isinstance(page, Exception):
            raise page
        if page is not None:
            return page
        return httpx.Response(404, text="Not Found")

    def _xrpc(self, nsid: str, request: httpx.Request) -> httpx.Response:
        handler = {
            "com.atproto.server.createSession": self._create_session,
            "com.atproto.server.refreshSession": self._refresh_session,
            "com.atproto.identity.resolveHandle": self._resolve_handle,
            "com.atproto.repo.uploadBlob": self._upload_blob,
            "com.atproto.repo.createRecord": self._create_record,
            "com.atproto.repo.getRecord": self._get_record,
            "com.atproto.repo.deleteRecord": self._delete_record,
        }.get(nsid)
        if handler is None:
            return _error(501, "MethodNotImplemented", "Method Not Implemented")
        return handler(request)

    # -- server -----------------------------------------------------------------------------

    def _create_session(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        identifier = str(body.get("identifier", "")).lower()
        now = self.clock()
        opened = [t for t in self._sessions_opened.get(identifier, []) if t > now - SESSION_WINDOW]
        if len(opened) >= SESSION_LIMIT:
            reset = int(opened[0] + SESSION_WINDOW)
            return _error(
                429,
                "RateLimitExceeded",
                "Rate Limit Exceeded",
                headers={
                    "ratelimit-limit": str(SESSION_LIMIT),
                    "ratelimit-remaining": "0",
                    "ratelimit-reset": str(reset),
                    "ratelimit-policy": f"{SESSION_LIMIT};w={SESSION_WINDOW}",
                },
            )
        self._sessions_opened[identifier] = [*opened, now]
        account = self._find(identifier)
        password = body.get("password")
        if account is None or (
            password != account.password and password not in account.app_passwords
        ):
            return _error(401, "AuthenticationRequired", "Invalid identifier or password")
        if password == account.password and account.email_2fa:
            return _error(
                401, "AuthFactorTokenRequired", "A sign in code has been sent to your email address"
            )
        if account.taken_down:
            return _error(401, "AccountTakedown", "Account has been taken down")
        return httpx.Response(200, json=self._issue(account))

    def _refresh_session(self, request: httpx.Request) -> httpx.Response:
        token = _bearer(request)
        if token is None:
            return _error(401, "AuthMissing", "Authentication Required")
        refresh = self._refresh.get(token)
        if refresh is None:
            return _error(400, "InvalidToken", "Token could not be verified")
        if refresh.expired:
            return _error(400, "ExpiredToken", "Token has expired")
        now = self.clock()
        account = self.accounts[refresh.did]
        if refresh.next is None:
            answer = self._issue(account)
            refresh.next, refresh.grace_until = answer["refreshJwt"], now + REFRESH_GRACE
            return httpx.Response(200, json=answer)
        if refresh.grace_until is not None and now < refresh.grace_until:
            # Used again within the grace period: a new access token, the same next refresh.
            return httpx.Response(200, json=self._issue(account, refresh=refresh.next))
        return _error(400, "ExpiredToken", "Token has been revoked")

    def _issue(self, account: FakeAccount, *, refresh: str | None = None) -> dict[str, Any]:
        self._issued += 1
        access = f"access-{self._issued}"
        self._access[access] = _Access(did=account.did)
        if refresh is None:
            refresh = f"refresh-{self._issued}"
            self._refresh[refresh] = _Refresh(did=account.did)
        answer: dict[str, Any] = {
            "accessJwt": access,
            "refreshJwt": refresh,
            "handle": account.handle,
            "did": account.did,
        }
        if self.did_doc_with_session:
            answer["didDoc"] = self.did_document(account)
        answer["active"] = True
        return answer

    def _resolve_handle(self, request: httpx.Request) -> httpx.Response:
        handle = request.url.params.get("handle", "").lower()
        account = next((a for a in self.accounts.values() if a.handle == handle), None)
        if account is None:
            return _error(400, "HandleNotFound", "Unable to resolve handle")
        return httpx.Response(200, json={"did": account.did})

    def _upload_blob(self, request: httpx.Request) -> httpx.Response:
        _, refused = self._authorize(request)
        if refused:
            return refused
        data = request.content
        if len(data) > MAX_UPLOAD_BYTES:
            return _error(413, "PayloadTooLarge", "request entity too large")
        # The PDS sniffs the type from the bytes and falls back to what the client said.
        mime = sniff_mime(data) or request.headers.get("content-type", "application/octet-stream")
        cid = blob_cid(data)
        self.blobs[cid] = (mime, data)
        blob = {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": len(data)}
        return httpx.Response(200, json={"blob": blob})

    def _create_record(self, request: httpx.Request) -> httpx.Response:
        did, refused = self._authorize(request)
        if refused:
            return refused
        body = json.loads(request.content)
        if body.get("repo") not in (did, self.accounts[did].handle):
            return _error(401, "AuthenticationRequired", "Authentication Required")
        collection = body.get("collection", "")
        rkey = body.get("rkey")
        if rkey is not None and (not _RKEY.fullmatch(rkey) or rkey in (".", "..")):
            return _error(400, "InvalidRequest", f"Invalid record key: {rkey}")
        rkey = rkey or self._next_tid()
        record = body.get("record") or {}
        if collection == POST:
            if not _TID.fullmatch(rkey):
                return _error(
                    400,
                    "InvalidRequest",
                    f"Invalid record key for {POST}: Invalid TID string (got {json.dumps(rkey)}) "
                    "at $",
                )
            problem = self._invalid_post(record)
            if problem:
                return problem
            problem = self._blob_problem(record)
            if problem:
                return problem
        if (did, collection, rkey) in self.records:
            # atproto issue #3718: the MST refuses the key and the PDS answers a bare 500.
            return _error(500, "InternalServerError", "Internal Server Error")
        uri = f"at://{did}/{collection}/{rkey}"
        cid = "bafyrei" + hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()
        self.records[(did, collection, rkey)] = {"uri": uri, "cid": cid[:47], "value": record}
        return httpx.Response(
            200,
            json={
                "uri": uri,
                "cid": cid[:47],
                "commit": {"cid": "bafyreicommit", "rev": rkey},
                "validationStatus": "valid",
            },
        )

    def _invalid_post(self, record: dict[str, Any]) -> httpx.Response | None:
        """The lexicon's verdict on an app.bsky.feed.post, worded as @atproto/lex words it
        (the first issue, in the lexicon's order of properties)."""

        def invalid(issue: str, path: str) -> httpx.Response:
            return _error(400, "InvalidRequest", f"Invalid {POST} record: {issue} at {path}")

        text = record.get("text")
        if "text" not in record:
            return invalid('Missing required key "text"', "$.record")
        if not isinstance(text, str):
            return invalid(
                f"Expected string value type (got {type(text).__name__})", "$.record.text"
            )
        size = len(text.encode())
        if size > MAX_TEXT_BYTES:
            return invalid(
                f"string too big (maximum {MAX_TEXT_BYTES}, got {size})", "$.record.text"
            )
        graphemes = grapheme_length(text)
        if graphemes > MAX_GRAPHEMES:
            return invalid(
                f"grapheme too big (maximum {MAX_GRAPHEMES}, got {graphemes})", "$.record.text"
            )
        embed = record.get("embed") or {}
        if embed.get("$type") == "app.bsky.embed.images":
            images = embed.get("images") or []
            if len(images) > MAX_IMAGES:
                return invalid(
                    f"array too big (maximum {MAX_IMAGES}, got {len(images)})",
                    "$.record.embed.images",
                )
            for index, image in enumerate(images):
                where = f"$.record.embed.images[{index}]"
                if "alt" not in image:
                    return invalid('Missing required key "alt"', where)
                blob = image.get("image") or {}
                mime = str(blob.get("mimeType", ""))
                if not mime.startswith("image/"):
                    return invalid(
                        f'Expected "image/*" (got {json.dumps(mime)})', f"{where}.image.mimeType"
                    )
                size = int(blob.get("size") or 0)
                if size > MAX_IMAGE_BYTES:
                    return invalid(
                        f"blob too big (maximum {MAX_IMAGE_BYTES}, got {size})", f"{where}.image"
                    )
        if embed.get("$type") == "app.bsky.embed.external":
            external = embed.get("external") or {}
            for key in ("uri", "title", "description"):
                if key not in external:
                    return invalid(f'Missing required key "{key}"', "$.record.embed.external")
        created = record.get("createdAt")
        if "createdAt" not in record:
            return invalid('Missing required key "createdAt"', "$.record")
        if not _DATETIME.fullmatch(str(created)):
            return invalid(f"Invalid datetime (got {json.dumps(created)})", "$.record.createdAt")
        return None

    def _blob_problem(self, record: dict[str, Any]) -> httpx.Response | None:
        """Every blob the record names must be an upload, as the upload described it."""
        embed = record.get("embed") or {}
        for image in embed.get("images") or ():
            blob = image.get("image") or {}
            cid = (blob.get("ref") or {}).get("$link")
            stored = self.blobs.get(str(cid))
            if stored is None:
                return _error(400, "BlobNotFound", f"Could not find blob: {cid}")
            mime, data = stored
            if blob.get("mimeType") != mime:
                return _error(
                    400,
                    "InvalidMimeType",
                    "Referenced Mimetype does not match stored blob. Expected: "
                    f"{mime}, Got: {blob.get('mimeType')}",
                )
            if blob.get("size") != len(data):
                return _error(
                    400,
                    "InvalidSize",
                    "Referenced Size does not match stored blob. Expected: "
                    f"{len(data)}, Got: {blob.get('size')}",
                )
        return None

    def _delete_record(self, request: httpx.Request) -> httpx.Response:
        did, refused = self._authorize(request)
        if refused:
            return refused
        body = json.loads(request.content)
        if body.get("repo") not in (did, self.accounts[did].handle):
            return _error(401, "AuthenticationRequired", "Authentication Required")
        key = (did, str(body.get("collection", "")), str(body.get("rkey", "")))
        if self.records.pop(key, None) is None:
            return httpx.Response(200, json={})  # no-op if the record doesn't exist
        return httpx.Response(
            200, json={"commit": {"cid": "bafyreicommit", "rev": self._next_tid()}}
        )

    def _next_tid(self) -> str:
        """A TID from the clock, as the PDS makes one for a create without a record key."""
        self._tids += 1
        micros = int(self.clock() * 1_000_000) + self._tids
        value = ((micros & ((1 << 53) - 1)) << 10) | (self._tids & 0x3FF)
        return "".join(_S32[(value >> shift) & 31] for shift in range(60, -1, -5))

    def _get_record(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        repo = params.get("repo", "")
        did = repo if repo in self.accounts else self._did_of(repo)
        key = (did or repo, params.get("collection", ""), params.get("rkey", ""))
        found = self.records.get(key)
        if found is None:
            return _error(400, "RecordNotFound", f"Could not locate record: at://{'/'.join(key)}")
        return httpx.Response(200, json=found)

    def _authorize(self, request: httpx.Request) -> tuple[str, httpx.Response | None]:
        token = _bearer(request)
        if token is None:
            return "", _error(401, "AuthMissing", "Authentication Required")
        access = self._access.get(token)
        if access is None:
            return "", _error(400, "InvalidToken", "Token could not be verified")
        if access.expired:
            return "", _error(400, "ExpiredToken", "Token has expired")
        return access.did, None

    def _find(self, identifier: str) -> FakeAccount | None:
        if identifier in self.accounts:
            return self.accounts[identifier]
        did = self._did_of(identifier)
        return self.accounts.get(did) if did else None

    def _did_of(self, handle: str) -> str | None:
        return next((a.did for a in self.accounts.values() if a.handle == handle.lower()), None)


def sniff_mime(data: bytes) -> str | None:
    """The MIME type of a few formats, from their magic bytes (as the PDS's file-type does)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    return None


def blob_cid(data: bytes) -> str:
    """The (made-up but content-addressed) CID the fake gives an uploaded blob."""
    return "bafkrei" + hashlib.sha256(data).hexdigest()[:40]


def _bearer(request: httpx.Request) -> str | None:
    value = request.headers.get("authorization", "")
    return value.removeprefix("Bearer ") if value.startswith("Bearer ") else None


def _error(
    status: int, name: str, message: str, *, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, json={"error": name, "message": message}, headers=headers)
