"""An in-memory Bluesky: a PDS, a handle resolver (entryway), the PLC directory, web pages.

It answers the way the real services do — XRPC error bodies (`{"error", "message"}`), the
`ratelimit-*` headers, a 500 for a create at a record key that is taken (what the reference
PDS does today) — keeps state (accounts, sessions, blobs, records) and enforces the limits a
real PDS enforces on `app.bsky.feed.post` (300 graphemes, 3000 bytes, four images of at most
1,000,000 bytes, alt text present). Use it as `httpx.MockTransport(fake)` or as a respx
side effect; every request it saw is in `requests`.
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
MAX_UPLOAD_BYTES = 50_000_000

_RKEY = re.compile(r"[A-Za-z0-9.\-_:~]{1,512}")
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


class FakeBluesky:
    def __init__(
        self,
        *,
        pds_url: str = "https://pds.example",
        resolver_url: str = "https://resolver.example",
        plc_url: str = "https://plc.example",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.pds_url = pds_url
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
        self._refresh: dict[str, str] = {}
        self._expired_refresh: set[str] = set()
        self._sessions_opened: dict[str, list[float]] = {}
        self._issued = 0
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
        self._expired_refresh |= set(self._refresh)
        self._refresh.clear()

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
        if token in self._expired_refresh:
            return _error(400, "ExpiredToken", "Token has expired")
        did = self._refresh.pop(token or "", None)
        if did is None:
            return _error(400, "InvalidToken", "Token could not be verified")
        return httpx.Response(200, json=self._issue(self.accounts[did]))

    def _issue(self, account: FakeAccount) -> dict[str, Any]:
        self._issued += 1
        access, refresh = f"access-{self._issued}", f"refresh-{self._issued}"
        self._access[access] = _Access(did=account.did)
        self._refresh[refresh] = account.did
        return {
            "accessJwt": access,
            "refreshJwt": refresh,
            "handle": account.handle,
            "did": account.did,
            "didDoc": self.did_document(account),
            "active": True,
        }

    def _resolve_handle(self, request: httpx.Request) -> httpx.Response:
        handle = request.url.params.get("handle", "").lower()
        account = next((a for a in self.accounts.values() if a.handle == handle), None)
        if account is None:
            return _error(400, "InvalidRequest", "Unable to resolve handle")
        return httpx.Response(200, json={"did": account.did})

    def _upload_blob(self, request: httpx.Request) -> httpx.Response:
        _, refused = self._authorize(request)
        if refused:
            return refused
        data = request.content
        if len(data) > MAX_UPLOAD_BYTES:
            return _error(413, "PayloadTooLarge", "request entity too large")
        mime = request.headers.get("content-type", "application/octet-stream")
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
        rkey = body.get("rkey") or f"3k{self._issued:011d}"
        if not _RKEY.fullmatch(rkey) or rkey in (".", ".."):
            return _error(400, "InvalidRequest", f"Invalid record key: {rkey}")
        record = body.get("record") or {}
        problem = self._invalid_post(record) if collection == POST else None
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
        def invalid(detail: str) -> httpx.Response:
            return _error(400, "InvalidRequest", f"Invalid app.bsky.feed.post record: {detail}")

        text = record.get("text")
        if not isinstance(text, str):
            return invalid('Record must have the property "text"')
        if len(text.encode()) > MAX_TEXT_BYTES:
            return invalid(f"Record/text must not be longer than {MAX_TEXT_BYTES} characters")
        if grapheme_length(text) > MAX_GRAPHEMES:
            return invalid(f"Record/text must not be longer than {MAX_GRAPHEMES} graphemes")
        if not _DATETIME.fullmatch(str(record.get("createdAt", ""))):
            return invalid("Record/createdAt must be an valid atproto datetime")
        embed = record.get("embed") or {}
        if embed.get("$type") == "app.bsky.embed.images":
            images = embed.get("images") or []
            if len(images) > MAX_IMAGES:
                return invalid(f"Record/embed/images must not have more than {MAX_IMAGES} elements")
            for index, image in enumerate(images):
                if not isinstance(image.get("alt"), str):
                    return invalid(f'Record/embed/images/{index} must have the property "alt"')
                cid = ((image.get("image") or {}).get("ref") or {}).get("$link")
                if cid not in self.blobs:
                    return _error(400, "InvalidRequest", f"Could not find blob: {cid}")
                size = len(self.blobs[cid][1])
                if size > MAX_IMAGE_BYTES:
                    return _error(
                        400,
                        "BlobTooLarge",
                        f"This file is too large. It is {size / 1024:.2f}KB but the maximum "
                        f"size is {MAX_IMAGE_BYTES / 1024:.2f}KB.",
                    )
        if embed.get("$type") == "app.bsky.embed.external":
            external = embed.get("external") or {}
            for key in ("uri", "title", "description"):
                if not isinstance(external.get(key), str):
                    return invalid(f'Record/embed/external must have the property "{key}"')
        return None

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
            return "", _error(401, "AuthenticationRequired", "Authentication Required")
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
