"""The one boundary between the Bluesky adapter and Bluesky's servers.

Every request goes through `Xrpc.send`, and every answer through `Xrpc.raise_for`, which turns
XRPC errors (`{"error": "ExpiredToken", "message": "Token has expired"}`) and HTTP statuses
into provider errors. It also finds an account's server (handle -> DID -> DID document ->
`#atproto_pds`) and keeps one session per account, renewing it when its token expires.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

import httpx

from providers.base import AccountRef
from providers.bluesky_records import check_server_url
from providers.errors import AuthError, PermanentError, TransientError
from providers.http import raise_for_status, sanitize, translate_network_errors

PLATFORM = "Bluesky"

#: XRPC error names that mean the account must be reconnected, whatever the HTTP status.
_AUTH_ERRORS = frozenset(
    {
        "AuthenticationRequired",
        "AuthMissing",
        "InvalidToken",
        "ExpiredToken",
        "AccountTakedown",
        "AccountDeactivated",
        "AuthFactorTokenRequired",
    }
)


@dataclass(frozen=True, kw_only=True)
class Session:
    access: str = ""
    refresh: str = ""
    did: str
    handle: str
    #: Where this account's repository lives (from the session's DID document).
    pds: str


class Xrpc:
    def __init__(self, http: httpx.AsyncClient, *, resolver_url: str, plc_url: str) -> None:
        self._http = http
        self.resolver = resolver_url.rstrip("/")
        self._plc = plc_url.rstrip("/")
        #: account id -> (fingerprint of what the session was opened with, the session).
        self._sessions: dict[int, tuple[str, Session]] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    # -- sessions ---------------------------------------------------------------------------

    async def session(self, account: AccountRef) -> Session:
        """The account's open session, opening one only if there is none yet."""
        fingerprint = _fingerprint(account)
        cached = self._sessions.get(account.id)
        if cached and cached[0] == fingerprint:
            return cached[1]
        async with self._lock(account.id):
            cached = self._sessions.get(account.id)
            if cached and cached[0] == fingerprint:
                return cached[1]
            session = await self._open(account)
            self._sessions[account.id] = (fingerprint, session)
            return session

    async def create_session(self, pds: str, identifier: str, password: str) -> Session:
        response = await self.send(
            "POST",
            xrpc_url(pds, "com.atproto.server.createSession"),
            json={"identifier": identifier, "password": password},
        )
        self.raise_for(response, [password])
        return self._session_from(_json(response), pds)

    async def _renewed(self, account: AccountRef, stale: Session) -> Session:
        """A fresh session after `stale` expired: refreshSession, else a new login."""
        fingerprint = _fingerprint(account)
        async with self._lock(account.id):
            cached = self._sessions.get(account.id)
            if cached and cached[0] == fingerprint and cached[1] is not stale:
                return cached[1]  # another publish already renewed it
            try:
                fresh = await self._refresh(account, stale)
            except (AuthError, PermanentError):
                # The refresh token expired or was revoked: sign in again.
                self._sessions.pop(account.id, None)
                fresh = await self._open(account)
            self._sessions[account.id] = (fingerprint, fresh)
            return fresh

    async def _open(self, account: AccountRef) -> Session:
        password = str(account.credentials.get("app_password") or "")
        identifier = str(account.config.get("did") or "") or normalize_handle(
            str(account.config.get("handle") or "")
        )
        pds_url = account.config.get("pds_url")
        pds = check_server_url(str(pds_url)) if pds_url else (await self.find_pds(identifier))[1]
        return await self.create_session(pds, identifier, password)

    async def _refresh(self, account: AccountRef, stale: Session) -> Session:
        response = await self.send(
            "POST",
            xrpc_url(stale.pds, "com.atproto.server.refreshSession"),
            headers={"Authorization": f"Bearer {stale.refresh}"},
        )
        self.raise_for(response, _secrets(account, stale))
        return self._session_from(_json(response), stale.pds)

    def _session_from(self, body: Mapping[str, Any], pds: str) -> Session:
        access, refresh, did = body.get("accessJwt"), body.get("refreshJwt"), body.get("did")
        if not (isinstance(access, str) and isinstance(refresh, str) and isinstance(did, str)):
            raise TransientError(f"{PLATFORM} answered the sign-in with something unexpected.")
        # Signing in through an entryway (bsky.social) returns the DID document naming the
        # account's own PDS, where its repository must be written.
        endpoint = pds_endpoint(body.get("didDoc"), did)
        return Session(
            access=access,
            refresh=refresh,
            did=did,
            handle=str(body.get("handle") or ""),
            pds=check_server_url(endpoint) if endpoint else pds,
        )

    def _lock(self, account_id: int) -> asyncio.Lock:
        return self._locks.setdefault(account_id, asyncio.Lock())

    # -- identity ---------------------------------------------------------------------------

    async def find_pds(self, identifier: str) -> tuple[str, str]:
        """(DID, PDS URL) for a handle or DID: resolveHandle, then the DID document."""
        if identifier.startswith("did:"):
            did = identifier
        else:
            try:
                did = await self.resolve_handle(self.resolver, identifier)
            except PermanentError as exc:
                raise PermanentError(
                    f"I couldn't find the Bluesky handle @{identifier}. Check the spelling; if "
                    "you host your own server, give its address too."
                ) from exc
        document = await self._did_document(did)
        endpoint = pds_endpoint(document, did)
        if not endpoint:
            raise PermanentError(f"The identity {did} names no Bluesky server (PDS).")
        return did, check_server_url(endpoint)

    async def resolve_handle(self, base: str, handle: str) -> str:
        answer = await self.get(base, "com.atproto.identity.resolveHandle", {"handle": handle})
        did = answer.get("did")
        if not isinstance(did, str) or not did.startswith("did:"):
            raise PermanentError(f"{PLATFORM} could not resolve @{handle}.")
        return did

    async def _did_document(self, did: str) -> Mapping[str, Any]:
        if did.startswith("did:plc:"):
            url = f"{self._plc}/{quote(did, safe=':')}"
        elif did.startswith("did:web:") and ":" not in did[len("did:web:") :]:
            # atproto allows only host-level did:web; a port is percent-encoded.
            host = unquote(did[len("did:web:") :])
            local = host.split(":", 1)[0] in ("localhost", "127.0.0.1")
            url = f"{'http' if local else 'https'}://{host}/.well-known/did.json"
        else:
            raise PermanentError(f"Crier can't use the identity {did} (unsupported DID method).")
        response = await self.send("GET", url)
        self.raise_for(response, [])
        document = _json(response)
        if document.get("id") != did:
            raise PermanentError(f"The identity document of {did} is not about {did}.")
        return document

    # -- requests ---------------------------------------------------------------------------

    async def authed(
        self,
        account: AccountRef,
        method: str,
        nsid: str,
        *,
        writes: bool = False,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Mapping[str, Any]:
        """An authenticated call on the account's PDS; an expired token is renewed once."""
        session = await self.session(account)
        for attempt in range(2):
            response = await self.send(
                method,
                xrpc_url(session.pds, nsid),
                writes=writes,
                headers={**(headers or {}), "Authorization": f"Bearer {session.access}"},
                **kwargs,
            )
            if attempt == 0 and _error_name(response) == "ExpiredToken":
                session = await self._renewed(account, session)
                continue
            break
        self.raise_for(response, _secrets(account, session))
        return _json(response)

    async def get(self, base: str, nsid: str, params: Mapping[str, str]) -> Mapping[str, Any]:
        """An unauthenticated query (resolveHandle, getRecord)."""
        response = await self.send("GET", xrpc_url(base, nsid), params=params)
        self.raise_for(response, [])
        return _json(response)

    async def send(
        self, method: str, url: str, *, writes: bool = False, **kwargs: Any
    ) -> httpx.Response:
        try:
            with translate_network_errors(PLATFORM):
                return await self._http.request(method, url, **kwargs)
        except TransientError as exc:
            if exc.ambiguous and not writes:
                # Only createRecord publishes; a lost answer to anything else changed nothing.
                raise TransientError(
                    f"{PLATFORM} did not answer in time; nothing was published yet."
                ) from exc
            raise

    def raise_for(self, response: httpx.Response, secrets: list[str]) -> None:
        if response.is_success:
            return
        body = _json(response)
        name = str(body.get("error") or "")
        reason = str(body.get("message") or name or "")
        if name == "AuthFactorTokenRequired":
            reason = "that is your main password; use an app password instead"
        if name in _AUTH_ERRORS:
            said = sanitize(reason, secrets)
            raise AuthError(
                f"{PLATFORM} refused the account's credentials" + (f": {said}" if said else ""),
                http_status=response.status_code,
            )
        raise_for_status(response, platform=PLATFORM, reason=reason, secrets=secrets)


def xrpc_url(base: str, nsid: str) -> str:
    return f"{base}/xrpc/{nsid}"


def pds_endpoint(document: object, did: str) -> str | None:
    """The `#atproto_pds` service endpoint of a DID document."""
    if not isinstance(document, Mapping):
        return None
    for service in document.get("service") or ():
        if not isinstance(service, Mapping):
            continue
        if service.get("id") in ("#atproto_pds", f"{did}#atproto_pds"):
            endpoint = service.get("serviceEndpoint")
            return endpoint if isinstance(endpoint, str) else None
    return None


def normalize_handle(handle: str) -> str:
    return handle.strip().removeprefix("@").lower()


def _json(response: httpx.Response) -> Mapping[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, Mapping) else {}


def _error_name(response: httpx.Response) -> str:
    if response.status_code not in (400, 401):
        return ""
    return str(_json(response).get("error") or "")


def error_name(response: httpx.Response) -> str:
    """The XRPC error name of a 400 or 401 answer ("RecordNotFound"), else ""."""
    return _error_name(response)


def json_body(response: httpx.Response) -> Mapping[str, Any]:
    """The answer's JSON object, or {}."""
    return _json(response)


def _fingerprint(account: AccountRef) -> str:
    """What a cached session belongs to: new credentials or a new server mean a new session."""
    parts = (
        str(account.config.get("did") or account.config.get("handle") or ""),
        str(account.config.get("pds_url") or ""),
        str(account.credentials.get("app_password") or ""),
    )
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _secrets(account: AccountRef, session: Session) -> list[str]:
    return [str(account.credentials.get("app_password") or ""), session.access, session.refresh]
