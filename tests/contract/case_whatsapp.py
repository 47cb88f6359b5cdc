"""WhatsApp (Cloud API) in the provider contract suite: a text post to one recipient whose
24-hour window is open; a photo is uploaded first and sent by id."""

from __future__ import annotations

import httpx
import respx

from providers.base import AccountRef, Provider
from providers.whatsapp import WhatsAppProvider
from tests.contract.harness import ContractCase, ErrorKind
from tests.fakes.whatsapp_wire import graph_error

TOKEN = "EAAGm0PX4ZCpsBAContractSecretToken0123456789"
PHONE_NUMBER_ID = "106540352242922"
RECIPIENT = "+14155550101"
BASE = f"https://graph.facebook.com/v26.0/{PHONE_NUMBER_ID}"
WAMID = "wamid.HBgLMTQxNTU1NTAxMDEVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"


class WhatsAppCase(ContractCase):
    name = "whatsapp"
    secrets = (TOKEN,)

    def provider(self, http: httpx.AsyncClient) -> Provider:
        return WhatsAppProvider(http)

    def account(self) -> AccountRef:
        return AccountRef(
            id=11,
            platform="whatsapp",
            label="WhatsApp +1 555-010-0000 (Acme News)",
            config={
                "phone_number_id": PHONE_NUMBER_ID,
                "display_phone_number": "+1 555-010-0000",
                "verified_name": "Acme News",
                "messaging_limit_tier": "TIER_1K",
                "throughput_level": "STANDARD",
                "recipients": [RECIPIENT],
                "waba_id": None,
                "templates": [],
                "template": None,
            },
            credentials={"access_token": TOKEN},
        )

    def mock_success(self, router: respx.MockRouter) -> None:
        router.post(f"{BASE}/media").mock(
            return_value=httpx.Response(200, json={"id": "1037543291543636"})
        )
        self._messages(router).mock(
            return_value=httpx.Response(
                200,
                json={
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": RECIPIENT, "wa_id": RECIPIENT[1:]}],
                    "messages": [{"id": WAMID}],
                },
            )
        )

    def mock_publish_answer(
        self, router: respx.MockRouter, answer: httpx.Response | Exception
    ) -> None:
        route = self._messages(router)
        if isinstance(answer, Exception):
            route.mock(side_effect=answer)
        else:
            route.mock(return_value=answer)

    def error_response(
        self, kind: ErrorKind, *, retry_after: int = 17, message: str = "Nope"
    ) -> httpx.Response:
        if kind == "auth":
            return graph_error(190)
        if kind == "rate_limit":
            # Graph sends no Retry-After; a proxy in front of it may, and it is honoured.
            return graph_error(130429, headers={"Retry-After": str(retry_after)})
        if kind == "server":
            return graph_error(131000)
        return graph_error(100, message)

    def sent_alt_text(self, router: respx.MockRouter, alt: str) -> bool:
        return False  # WhatsApp takes no alt text

    def _messages(self, router: respx.MockRouter) -> respx.Route:
        return router.post(f"{BASE}/messages", json__to=RECIPIENT)


CASE = WhatsAppCase()
