"""The generic webhook in the provider contract suite."""

from __future__ import annotations

import json

import httpx
import respx

from providers.base import AccountRef, Provider
from providers.webhook import WebhookProvider
from tests.contract.harness import ContractCase, ErrorKind

URL_TOKEN = "tok_9f8e7d6c5b4a39281706"
URL = f"https://hooks.example.com/crier/{URL_TOKEN}?key=K3y-For-The-Hook"
SIGNING_SECRET = "b" * 64


class WebhookCase(ContractCase):
    name = "webhook"
    secrets = (URL, URL_TOKEN, "K3y-For-The-Hook", SIGNING_SECRET)

    def provider(self, http: httpx.AsyncClient) -> Provider:
        return WebhookProvider(http)

    def account(self) -> AccountRef:
        return AccountRef(
            id=4,
            platform="webhook",
            label="Webhook (hooks.example.com)",
            config={"host": "hooks.example.com", "media_mode": "inline"},
            credentials={"url": URL, "signing_secret": SIGNING_SECRET},
        )

    def _route(self, router: respx.MockRouter) -> respx.Route:
        return router.post(URL)

    def mock_success(self, router: respx.MockRouter) -> None:
        answer = {"id": "post-81", "url": "https://blog.example.org/posts/81"}
        self._route(router).mock(return_value=httpx.Response(201, json=answer))

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
            return httpx.Response(401, json={"error": "bad signature"})
        if kind == "rate_limit":
            return httpx.Response(
                429, headers={"Retry-After": str(retry_after)}, text="Too Many Requests"
            )
        if kind == "server":
            return httpx.Response(502, text="<html><h1>502 Bad Gateway</h1></html>")
        # Receivers are anything: a plain-text refusal that echoes the URL it was called on.
        return httpx.Response(422, text=f"{message} (called as {URL})")

    def mock_delete(
        self, router: respx.MockRouter, answer: httpx.Response | Exception | None = None
    ) -> None:
        route = router.post(URL, json__type="crier.deleted")
        if isinstance(answer, Exception):
            route.mock(side_effect=answer)
        else:
            route.mock(return_value=answer or httpx.Response(200, json={}))

    def gone_response(self) -> httpx.Response:
        return httpx.Response(404, json={"error": "no such post"})

    def deleted(self, router: respx.MockRouter) -> bool:
        events = [json.loads(call.request.content) for call in router.calls]
        return any(e["type"] == "crier.deleted" and e["original_id"] == "key-123" for e in events)

    def mock_edit(self, router: respx.MockRouter) -> None:
        pass  # the receiver answers every event alike

    def edited_to(self, router: respx.MockRouter, text: str) -> bool:
        events = [json.loads(call.request.content) for call in router.calls]
        return any(e["type"] == "crier.edited" and e["text"] == text for e in events)

    def sent_alt_text(self, router: respx.MockRouter, alt: str) -> bool:
        event = json.loads(router.calls.last.request.content)
        return any(item.get("alt_text") == alt for item in event.get("media", []))


CASE = WebhookCase()
