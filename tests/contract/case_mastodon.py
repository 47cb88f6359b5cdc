"""The Mastodon adapter in the shared contract suite, with respx answering as Mastodon does."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import respx

from providers.base import AccountRef, Provider
from providers.mastodon import MastodonProvider
from tests.contract.harness import ContractCase, ErrorKind

TOKEN = "SECRET-mastodon-token-0123456789"
SERVER = "https://mastodon.example"


async def _no_sleep(_: float) -> None:
    return None


def status_json(status_id: str = "113000000000000042") -> dict[str, object]:
    """A Status as POST /api/v1/statuses returns it (trimmed to what matters)."""
    return {
        "id": status_id,
        "created_at": "2025-01-01T12:00:00.000Z",
        "visibility": "public",
        "spoiler_text": "",
        "uri": f"{SERVER}/users/alice/statuses/{status_id}",
        "url": f"{SERVER}/@alice/{status_id}",
        "content": "<p>Hello from Crier</p>",
        "media_attachments": [],
    }


def media_json(media_id: str = "22348641", *, ready: bool = True) -> dict[str, object]:
    """A MediaAttachment as POST /api/v2/media returns it."""
    original = "https://files.mastodon.example/media_attachments/files/022/348/641/original/e9.jpeg"
    return {
        "id": media_id,
        "type": "image",
        "url": original if ready else None,
        "preview_url": original.replace("original", "small"),
        "remote_url": None,
        "description": None,
        "blurhash": "UFBWY:8_0Jxv4mx]t8t64.%M-:IUWGWAt6M}",
    }


class MastodonCase(ContractCase):
    name = "mastodon"
    secrets = (TOKEN,)

    def provider(self, http: httpx.AsyncClient) -> Provider:
        return MastodonProvider(http, sleep=_no_sleep)

    def account(self) -> AccountRef:
        # No "limits" in config: the server did not publish any, so Mastodon's defaults apply.
        return AccountRef(
            id=1,
            platform="mastodon",
            label="@alice@mastodon.example",
            config={"instance_url": SERVER, "domain": "mastodon.example", "username": "alice"},
            credentials={"access_token": TOKEN},
        )

    def mock_success(self, router: respx.MockRouter) -> None:
        router.post(f"{SERVER}/api/v2/media").mock(
            return_value=httpx.Response(200, json=media_json())
        )
        router.post(f"{SERVER}/api/v1/statuses").mock(
            return_value=httpx.Response(200, json=status_json())
        )

    def mock_publish_answer(
        self, router: respx.MockRouter, answer: httpx.Response | Exception
    ) -> None:
        router.post(f"{SERVER}/api/v2/media").mock(
            return_value=httpx.Response(200, json=media_json())
        )
        route = router.post(f"{SERVER}/api/v1/statuses")
        if isinstance(answer, Exception):
            route.mock(side_effect=answer)
        else:
            route.mock(return_value=answer)

    def error_response(
        self, kind: ErrorKind, *, retry_after: int = 17, message: str = "Nope"
    ) -> httpx.Response:
        if kind == "rate_limit":
            # Mastodon's throttle answer: no Retry-After, the reset as an ISO 8601 timestamp.
            reset = datetime.now(UTC) + timedelta(seconds=retry_after)
            return httpx.Response(
                429,
                json={"error": "Too many requests"},
                headers={
                    "X-RateLimit-Limit": "300",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": reset.isoformat(timespec="microseconds").replace(
                        "+00:00", "Z"
                    ),
                },
            )
        code = {"auth": 401, "server": 502, "rejected": 400}[kind]
        text = "The access token is invalid" if kind == "auth" else message
        return httpx.Response(code, json={"error": text})

    def mock_delete(
        self, router: respx.MockRouter, answer: httpx.Response | Exception | None = None
    ) -> None:
        route = router.delete(url__regex=rf"^{SERVER}/api/v1/statuses/\d+")
        if isinstance(answer, Exception):
            route.mock(side_effect=answer)
        else:
            route.mock(return_value=answer or httpx.Response(200, json=status_json()))

    def gone_response(self) -> httpx.Response:
        return httpx.Response(404, json={"error": "Record not found"})

    def deleted(self, router: respx.MockRouter) -> bool:
        return any(
            call.request.method == "DELETE"
            and call.request.url.path == "/api/v1/statuses/113000000000000042"
            for call in router.calls
        )

    def mock_edit(self, router: respx.MockRouter) -> None:
        router.put(f"{SERVER}/api/v1/statuses/113000000000000042").mock(
            return_value=httpx.Response(200, json=status_json())
        )

    def edited_to(self, router: respx.MockRouter, text: str) -> bool:
        return any(
            call.request.method == "PUT" and json.loads(call.request.content)["status"] == text
            for call in router.calls
        )

    def mock_lookup(self, router: respx.MockRouter, *, published: bool, key: str) -> None:
        router.get(f"{SERVER}/api/v1/accounts/verify_credentials").mock(
            return_value=httpx.Response(200, json={"id": "7", "username": "alice"})
        )
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        statuses = [{**status_json(), "created_at": now}] if published else []
        router.get(f"{SERVER}/api/v1/accounts/7/statuses").mock(
            return_value=httpx.Response(200, json=statuses)
        )

    def sent_alt_text(self, router: respx.MockRouter, alt: str) -> bool:
        for call in router.calls:
            request = call.request
            if request.url.path == "/api/v2/media":
                body = request.content
                marker = b'name="description"\r\n\r\n' + alt.encode()
                return marker in body
        return False


CASE = MastodonCase()
