"""The X adapter in the shared contract suite, against the in-memory fake X API."""

from __future__ import annotations

import json
import time

import httpx
import respx

from providers.base import AccountRef, Provider
from providers.x import SCOPES, XProvider
from tests.contract.harness import ContractCase, ErrorKind
from tests.fakes.x import FakeX

TOKEN = "SECRET-x-access-token-0123456789"
API = "https://api.x.com"


class XCase(ContractCase):
    name = "x"
    secrets = (TOKEN,)

    def provider(self, http: httpx.AsyncClient) -> Provider:
        return XProvider(http)

    def account(self) -> AccountRef:
        return AccountRef(
            id=1,
            platform="x",
            label="@crier_test",
            config={"user_id": "1", "username": "crier_test", "subscription_type": "None"},
            credentials={
                "access_token": TOKEN,
                "refresh_token": "SECRET-x-refresh-token",
                "scope": " ".join(SCOPES),
            },
        )

    def _fake(self, router: respx.MockRouter) -> FakeX:
        fake = FakeX()
        fake.issue_token(fake.add_user("crier_test"), token=TOKEN)
        router.route(host="api.x.com").mock(side_effect=fake)
        self.fake = fake
        return fake

    def mock_success(self, router: respx.MockRouter) -> None:
        self._fake(router)

    def mock_publish_answer(
        self, router: respx.MockRouter, answer: httpx.Response | Exception
    ) -> None:
        # Routes match in order: the canned answer to the post first, the fake for the rest.
        route = router.post(f"{API}/2/tweets")
        if isinstance(answer, Exception):
            route.mock(side_effect=answer)
        else:
            route.mock(return_value=answer)
        self._fake(router)

    def error_response(
        self, kind: ErrorKind, *, retry_after: int = 17, message: str = "Nope"
    ) -> httpx.Response:
        if kind == "rate_limit":
            reset = int(time.time()) + retry_after
            return httpx.Response(
                429,
                json={
                    "title": "Too Many Requests",
                    "detail": "Too Many Requests",
                    "type": "about:blank",
                    "status": 429,
                },
                headers={
                    "x-rate-limit-limit": "100",
                    "x-rate-limit-remaining": "0",
                    "x-rate-limit-reset": str(reset),
                },
            )
        if kind == "auth":
            return httpx.Response(
                401,
                json={
                    "title": "Unauthorized",
                    "type": "about:blank",
                    "status": 401,
                    "detail": "Unauthorized",
                },
            )
        if kind == "server":
            return httpx.Response(
                503,
                json={
                    "title": "Service Unavailable",
                    "detail": "Service Unavailable",
                    "type": "about:blank",
                    "status": 503,
                },
            )
        return httpx.Response(
            400,
            json={
                "errors": [{"parameters": {"text": ["Hello"]}, "message": message}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.x.com/2/problems/invalid-request",
            },
        )

    # -- after publishing: delete (editing is for X Premium accounts; this one is not) ------

    def mock_delete(
        self, router: respx.MockRouter, answer: httpx.Response | Exception | None = None
    ) -> None:
        # Without an answer the fake deletes (its route comes with `mock_success`).
        if answer is None:
            return
        route = router.delete(url__regex=rf"^{API}/2/tweets/\d+$")
        if isinstance(answer, Exception):
            route.mock(side_effect=answer)
        else:
            route.mock(return_value=answer)

    def gone_response(self) -> httpx.Response:
        return httpx.Response(
            404,
            json={
                "title": "Not Found Error",
                "detail": "Could not find tweet with id: [1].",
                "type": "https://api.x.com/2/problems/resource-not-found",
                "status": 404,
            },
        )

    def deleted(self, router: respx.MockRouter) -> bool:
        asked = any(
            call.request.method == "DELETE" and call.request.url.path.startswith("/2/tweets/")
            for call in router.calls
        )
        return asked and not self.fake.posts

    def sent_alt_text(self, router: respx.MockRouter, alt: str) -> bool:
        for call in router.calls:
            request = call.request
            if request.url.path == "/2/media/metadata":
                body = json.loads(request.content)
                return bool(body["metadata"]["alt_text"]["text"] == alt)
        return False


CASE = XCase()
