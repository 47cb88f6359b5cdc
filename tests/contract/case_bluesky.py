"""Bluesky in the provider contract suite, against the in-memory fake PDS."""

from __future__ import annotations

import json
import math
import time

import httpx
import respx

from providers.base import AccountRef, Provider
from providers.bluesky import BlueskyProvider
from providers.bluesky_records import tid_for_key
from tests.contract.harness import ContractCase, ErrorKind
from tests.fakes.bluesky import FakeBluesky

HANDLE = "crier-test.bsky.social"
DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
PDS = "https://pds.example"
CREATE_RECORD = f"{PDS}/xrpc/com.atproto.repo.createRecord"
DELETE_RECORD = f"{PDS}/xrpc/com.atproto.repo.deleteRecord"


class BlueskyCase(ContractCase):
    name = "bluesky"
    secrets = (APP_PASSWORD,)

    def provider(self, http: httpx.AsyncClient) -> Provider:
        return BlueskyProvider(
            http,
            resolver_url="https://resolver.example",
            plc_url="https://plc.example",
            link_previews=False,
        )

    def account(self) -> AccountRef:
        return AccountRef(
            id=1,
            platform="bluesky",
            label=f"@{HANDLE}",
            config={"pds_url": PDS, "did": DID, "handle": HANDLE},
            credentials={"app_password": APP_PASSWORD},
        )

    def _fake(self, router: respx.MockRouter) -> FakeBluesky:
        fake = FakeBluesky(pds_url=PDS)
        fake.add_account(HANDLE, DID, APP_PASSWORD)
        router.route(host="pds.example").mock(side_effect=fake)
        return fake

    def mock_success(self, router: respx.MockRouter) -> None:
        self._fake(router)

    def mock_publish_answer(
        self, router: respx.MockRouter, answer: httpx.Response | Exception
    ) -> None:
        # Routes match in order: the canned createRecord answer first, the fake for the rest
        # (createSession, and getRecord when the adapter checks for an earlier attempt).
        route = router.post(CREATE_RECORD)
        if isinstance(answer, Exception):
            route.mock(side_effect=answer)
        else:
            route.mock(return_value=answer)
        self._fake(router)

    def error_response(
        self, kind: ErrorKind, *, retry_after: int = 17, message: str = "Nope"
    ) -> httpx.Response:
        if kind == "rate_limit":
            # Bluesky says when the window resets, in whole epoch seconds (rounded up here so
            # the wait the adapter computes is 17 s, not 16.x, however fast the test runs).
            return httpx.Response(
                429,
                json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                headers={
                    "ratelimit-limit": "5000",
                    "ratelimit-remaining": "0",
                    "ratelimit-reset": str(math.ceil(time.time()) + retry_after),
                    "ratelimit-policy": "5000;w=3600",
                },
            )
        status, name = {
            "auth": (401, "AuthenticationRequired"),
            "server": (502, "UpstreamFailure"),
            "rejected": (400, "InvalidRequest"),
        }[kind]
        return httpx.Response(status, json={"error": name, "message": message})

    def mock_delete(
        self, router: respx.MockRouter, answer: httpx.Response | Exception | None = None
    ) -> None:
        # The fake deletes; an answer to the delete itself goes before it.
        if answer is not None:
            route = router.post(DELETE_RECORD)
            if isinstance(answer, Exception):
                route.mock(side_effect=answer)
            else:
                route.mock(return_value=answer)

    def gone_response(self) -> httpx.Response:
        return httpx.Response(200, json={})  # deleteRecord of a missing record: a no-op

    def deleted(self, router: respx.MockRouter) -> bool:
        return any(
            call.request.url.path == "/xrpc/com.atproto.repo.deleteRecord"
            and json.loads(call.request.content)
            == {"repo": DID, "collection": "app.bsky.feed.post", "rkey": tid_for_key("key-123")}
            and call.response is not None
            and call.response.status_code == 200
            for call in router.calls
        )

    def mock_lookup(self, router: respx.MockRouter, *, published: bool, key: str) -> None:
        fake = self._fake(router)
        if published:
            rkey = tid_for_key(key)
            fake.records[(DID, "app.bsky.feed.post", rkey)] = {
                "uri": f"at://{DID}/app.bsky.feed.post/{rkey}",
                "cid": "bafyreiexample",
                "value": {"$type": "app.bsky.feed.post", "text": "Hello from Crier"},
            }

    def sent_alt_text(self, router: respx.MockRouter, alt: str) -> bool:
        for call in router.calls:
            if call.request.url.path != "/xrpc/com.atproto.repo.createRecord":
                continue
            embed = json.loads(call.request.content)["record"].get("embed") or {}
            if any(image.get("alt") == alt for image in embed.get("images") or ()):
                return True
        return False


CASE = BlueskyCase()
