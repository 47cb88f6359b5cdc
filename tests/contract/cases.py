"""One ContractCase per adapter; every case runs the whole suite in test_contract.py."""

from __future__ import annotations

import importlib
import json

import httpx
import respx

from providers.base import AccountRef, Provider
from providers.telegram_channel import TelegramChannelProvider
from tests.contract.harness import ContractCase, ErrorKind

TG_TOKEN = "999:SECRET-bot-token"
TG_BASE = "https://tg.example/bot"


class TelegramChannelCase(ContractCase):
    name = "telegram"
    secrets = (TG_TOKEN,)

    def provider(self, http: httpx.AsyncClient) -> Provider:
        return TelegramChannelProvider(http, token=TG_TOKEN, api_base_url=TG_BASE)

    def account(self) -> AccountRef:
        return AccountRef(
            id=1,
            platform="telegram",
            label="@news",
            config={"chat_id": -1001234567890, "username": "news"},
        )

    def _message(self, message_id: int = 5) -> dict[str, object]:
        return {
            "message_id": message_id,
            "date": 0,
            "chat": {"id": -1001234567890, "type": "channel", "username": "news"},
        }

    def mock_success(self, router: respx.MockRouter) -> None:
        ok = httpx.Response(200, json={"ok": True, "result": self._message()})
        router.post(url__regex=rf"^{TG_BASE}{TG_TOKEN}/send\w+$").mock(return_value=ok)

    def mock_publish_answer(
        self, router: respx.MockRouter, answer: httpx.Response | Exception
    ) -> None:
        route = router.post(url__regex=rf"^{TG_BASE}{TG_TOKEN}/send\w+$")
        if isinstance(answer, Exception):
            route.mock(side_effect=answer)
        else:
            route.mock(return_value=answer)

    def error_response(
        self, kind: ErrorKind, *, retry_after: int = 17, message: str = "Nope"
    ) -> httpx.Response:
        code, description, parameters = {
            "auth": (403, f"Forbidden: {message}", None),
            "rate_limit": (
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            ),
            "server": (502, f"Bad Gateway: {message}", None),
            "rejected": (400, f"Bad Request: {message}", None),
        }[kind]
        body: dict[str, object] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return httpx.Response(code, json=body)

    def sent_alt_text(self, router: respx.MockRouter, alt: str) -> bool:
        return False  # Telegram has no alt text

    def _method(self, router: respx.MockRouter, method: str) -> respx.Route:
        return router.post(f"{TG_BASE}{TG_TOKEN}/{method}")

    def mock_delete(
        self, router: respx.MockRouter, answer: httpx.Response | Exception | None = None
    ) -> None:
        route = self._method(router, "deleteMessage")
        if isinstance(answer, Exception):
            route.mock(side_effect=answer)
        else:
            route.mock(
                return_value=answer or httpx.Response(200, json={"ok": True, "result": True})
            )

    def gone_response(self) -> httpx.Response:
        body = {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: message to delete not found",
        }
        return httpx.Response(400, json=body)

    def deleted(self, router: respx.MockRouter) -> bool:
        return any(
            call.request.url.path.endswith("/deleteMessage")
            and json.loads(call.request.content) == {"chat_id": -1001234567890, "message_id": 5}
            for call in router.calls
        )

    def mock_edit(self, router: respx.MockRouter) -> None:
        edited = {**self._message(), "text": "edited", "edit_date": 1}
        self._method(router, "editMessageText").mock(
            return_value=httpx.Response(200, json={"ok": True, "result": edited})
        )

    def edited_to(self, router: respx.MockRouter, text: str) -> bool:
        return any(
            call.request.url.path.endswith("/editMessageText")
            and json.loads(call.request.content).get("text") == text
            and json.loads(call.request.content).get("message_id") == 5
            for call in router.calls
        )

    @staticmethod
    def last_params(router: respx.MockRouter) -> dict[str, object]:
        request = router.calls.last.request
        return (
            json.loads(request.content)
            if request.headers.get("content-type", "").startswith("application/json")
            else {}
        )


def _cases() -> list[ContractCase]:
    cases: list[ContractCase] = [TelegramChannelCase()]
    # Each adapter's case lives in its own module; the list is explicit, not scanned.
    for name in (
        "bluesky",
        "mastodon",
        "discord",
        "webhook",
        "linkedin",
        "x",
        "pinterest",
        "youtube",
        "whatsapp",
        "threads",
        "tiktok",
        "facebook",
        "instagram",
    ):
        try:
            module = importlib.import_module(f"tests.contract.case_{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"tests.contract.case_{name}":
                raise
            continue
        cases.append(module.CASE)
    return cases


CASES: list[ContractCase] = _cases()
