"""Pinterest in the provider contract suite, against the in-memory fake (tests/fakes/pinterest.py).
Every Pin needs media, so the suite's posts carry a photo (`needs_media`)."""

from __future__ import annotations

import json

import httpx
import respx

from providers.base import AccountRef, Provider
from providers.pinterest import PinterestProvider
from tests.contract.harness import ContractCase, ErrorKind
from tests.fakes.pinterest import FakePinterest

TOKEN = "pina_SECRET-pinterest-access-token-0123456789"
REFRESH = "pinr_SECRET-pinterest-refresh-token-0123456789"
API = "https://api.pinterest.com/v5"


class PinterestCase(ContractCase):
    name = "pinterest"
    secrets = (TOKEN, REFRESH)
    needs_media = True

    def provider(self, http: httpx.AsyncClient) -> Provider:
        return PinterestProvider(http)

    def account(self) -> AccountRef:
        return AccountRef(
            id=5,
            platform="pinterest",
            label="crier / Recipes",
            config={"board_id": "549755885175", "board_name": "Recipes", "username": "crier"},
            credentials={"access_token": TOKEN, "refresh_token": REFRESH},
        )

    def _fake(self, router: respx.MockRouter) -> FakePinterest:
        fake = FakePinterest()
        fake.add_board("Recipes")
        fake.issue_token(token=TOKEN)
        router.route(host="api.pinterest.com").mock(side_effect=fake)
        self.fake = fake
        return fake

    def mock_success(self, router: respx.MockRouter) -> None:
        self._fake(router)

    def mock_publish_answer(
        self, router: respx.MockRouter, answer: httpx.Response | Exception
    ) -> None:
        # Routes match in order: the canned answer to creating the Pin, the fake for the rest.
        route = router.post(f"{API}/pins")
        if isinstance(answer, Exception):
            route.mock(side_effect=answer)
        else:
            route.mock(return_value=answer)
        self._fake(router)

    def error_response(
        self, kind: ErrorKind, *, retry_after: int = 17, message: str = "Nope"
    ) -> httpx.Response:
        if kind == "rate_limit":
            return httpx.Response(
                429,
                json={"code": 8, "message": "This request exceeded a rate limit."},
                headers={
                    "x-ratelimit-limit": "100, 100;w=60",
                    "x-ratelimit-remaining": "0",
                    "x-ratelimit-reset": str(retry_after),
                },
            )
        status, code, text = {
            "auth": (401, 2, "Authentication failed."),
            "server": (503, 0, "Service unavailable"),
            "rejected": (400, 1, message),
        }[kind]
        return httpx.Response(status, json={"code": code, "message": text})

    # -- after publishing: delete, and edit the Pin's text (the fake does both) -------------

    def mock_delete(
        self, router: respx.MockRouter, answer: httpx.Response | Exception | None = None
    ) -> None:
        # Without an answer the fake deletes (its route comes with `mock_success`).
        if answer is None:
            return
        route = router.delete(url__regex=rf"^{API}/pins/\d+$")
        if isinstance(answer, Exception):
            route.mock(side_effect=answer)
        else:
            route.mock(return_value=answer)

    def gone_response(self) -> httpx.Response:
        return httpx.Response(404, json={"code": 50, "message": "Pin not found."})

    def deleted(self, router: respx.MockRouter) -> bool:
        asked = any(call.request.method == "DELETE" for call in router.calls)
        return asked and not self.fake.pins

    def mock_edit(self, router: respx.MockRouter) -> None:
        return None  # the fake updates Pins

    def edited_to(self, router: respx.MockRouter, text: str) -> bool:
        return [p.description for p in self.fake.pins] == [text] and any(
            call.request.method == "PATCH" for call in router.calls
        )

    def sent_alt_text(self, router: respx.MockRouter, alt: str) -> bool:
        return any(
            call.request.method == "POST"
            and call.request.url.path == "/v5/pins"
            and json.loads(call.request.content).get("alt_text") == alt
            for call in router.calls
        )


CASE = PinterestCase()
