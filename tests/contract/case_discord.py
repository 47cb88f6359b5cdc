"""Discord (webhook) in the provider contract suite."""

from __future__ import annotations

import json

import httpx
import respx

from providers.base import AccountRef, Provider
from providers.discord import DiscordProvider
from tests.contract.harness import ContractCase, ErrorKind
from tests.fakes.discord import parse_multipart

WEBHOOK_ID = "1234567890123456789"
TOKEN = "SECRET-" + "a1B2c3D4" * 8
WEBHOOK_URL = f"https://discord.com/api/webhooks/{WEBHOOK_ID}/{TOKEN}"
GUILD_ID = "197038439483310086"
CHANNEL_ID = "197038439483310087"
MESSAGE_ID = "1300000000000000001"
MESSAGE_URL = f"{WEBHOOK_URL}/messages/{MESSAGE_ID}"


class DiscordCase(ContractCase):
    name = "discord"
    secrets = (WEBHOOK_URL, TOKEN)

    def provider(self, http: httpx.AsyncClient) -> Provider:
        return DiscordProvider(http)

    def account(self) -> AccountRef:
        return AccountRef(
            id=3,
            platform="discord",
            label="Announcements",
            config={"channel_id": CHANNEL_ID, "guild_id": GUILD_ID, "name": "Announcements"},
            credentials={"webhook_url": WEBHOOK_URL},
        )

    def _route(self, router: respx.MockRouter) -> respx.Route:
        return router.post(WEBHOOK_URL, params={"wait": "true"})

    def mock_success(self, router: respx.MockRouter) -> None:
        message = {
            "id": MESSAGE_ID,
            "type": 0,
            "channel_id": CHANNEL_ID,
            "webhook_id": WEBHOOK_ID,
            "content": "Hello from Crier",
            "attachments": [],
        }
        self._route(router).mock(return_value=httpx.Response(200, json=message))

    def mock_publish_answer(
        self, router: respx.MockRouter, answer: httpx.Response | Exception
    ) -> None:
        route = self._route(router)
        if isinstance(answer, Exception):
            route.mock(side_effect=answer)
        else:
            route.mock(return_value=answer)

    def error_response(
        self, kind: ErrorKind, *, retry_after: int = 17, message: str = "Nope"
    ) -> httpx.Response:
        if kind == "auth":
            return httpx.Response(404, json={"message": "Unknown Webhook", "code": 10015})
        if kind == "rate_limit":
            return httpx.Response(
                429,
                headers={"Retry-After": str(retry_after), "X-RateLimit-Scope": "user"},
                json={
                    "message": "You are being rate limited.",
                    "retry_after": retry_after - 0.25,
                    "global": False,
                },
            )
        if kind == "server":
            return httpx.Response(500, json={"message": "500: Internal Server Error", "code": 0})
        return httpx.Response(
            400,
            json={
                "message": "Invalid Form Body",
                "code": 50035,
                "errors": {"content": {"_errors": [{"code": "BASE_TYPE_BAD", "message": message}]}},
            },
        )

    def mock_delete(
        self, router: respx.MockRouter, answer: httpx.Response | Exception | None = None
    ) -> None:
        route = router.delete(MESSAGE_URL)
        if isinstance(answer, Exception):
            route.mock(side_effect=answer)
        else:
            route.mock(return_value=answer or httpx.Response(204))

    def gone_response(self) -> httpx.Response:
        return httpx.Response(404, json={"message": "Unknown Message", "code": 10008})

    def deleted(self, router: respx.MockRouter) -> bool:
        return any(
            call.request.method == "DELETE" and str(call.request.url) == MESSAGE_URL
            for call in router.calls
        )

    def mock_edit(self, router: respx.MockRouter) -> None:
        router.patch(MESSAGE_URL).mock(
            return_value=httpx.Response(200, json={"id": MESSAGE_ID, "channel_id": CHANNEL_ID})
        )

    def edited_to(self, router: respx.MockRouter, text: str) -> bool:
        return any(
            call.request.method == "PATCH" and json.loads(call.request.content)["content"] == text
            for call in router.calls
        )

    def sent_alt_text(self, router: respx.MockRouter, alt: str) -> bool:
        request = router.calls.last.request
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return False
        for part in parse_multipart(request):
            if part.name == "payload_json":
                attachments = json.loads(part.data).get("attachments") or []
                return any(entry.get("description") == alt for entry in attachments)
        return False


CASE = DiscordCase()
