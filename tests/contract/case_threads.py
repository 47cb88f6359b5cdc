"""Threads in the provider contract suite, against the in-memory fake Threads API
(tests/fakes/threads.py). The "final create-the-post call" is `POST /v1.0/me/threads_publish`,
the one request that makes a post public."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import httpx
import respx

from providers.base import AccountRef, Provider
from providers.threads import ThreadsProvider
from tests.contract.harness import ContractCase, ErrorKind
from tests.fakes.threads import FakeThreads
from tests.fakes.threads_wire import does_not_exist, graph_error

TOKEN = "THLL-SECRET-threads-access-token-0123456789"
API = "https://graph.threads.net/v1.0"


class ThreadsCase(ContractCase):
    name = "threads"
    secrets = (TOKEN,)

    def provider(self, http: httpx.AsyncClient) -> Provider:
        return ThreadsProvider(http)

    def account(self) -> AccountRef:
        return AccountRef(
            id=1,
            platform="threads",
            label="@crier_test",
            config={"user_id": "17841400000000001", "username": "crier_test"},
            credentials={"access_token": TOKEN, "expires_at": "2030-01-01T00:00:00+00:00"},
        )

    def _fake(self, router: respx.MockRouter) -> FakeThreads:
        fake = FakeThreads()
        fake.issue_token(fake.add_user("crier_test"), token=TOKEN)
        router.route(host="graph.threads.net").mock(side_effect=fake)
        return fake

    def mock_success(self, router: respx.MockRouter) -> None:
        self._fake(router)

    def mock_publish_answer(
        self, router: respx.MockRouter, answer: httpx.Response | Exception
    ) -> None:
        # Routes match in order: the canned answer to the publish first, the fake for the rest.
        route = router.post(f"{API}/me/threads_publish")
        if isinstance(answer, Exception):
            route.mock(side_effect=answer)
        else:
            route.mock(return_value=answer)
        self._fake(router)

    def error_response(
        self, kind: ErrorKind, *, retry_after: int = 17, message: str = "Nope"
    ) -> httpx.Response:
        if kind == "auth":
            return graph_error(
                400,
                "Error validating access token: The session has been invalidated because the "
                "user changed their password or Threads has changed the session for security "
                "reasons.",
                190,
                subcode=460,
            )
        if kind == "rate_limit":
            # Graph's call limit. Threads documents no reset header: a Retry-After, when one
            # comes, is honoured, and the suite's 17 seconds travel in one.
            answer = graph_error(400, "(#4) Application request limit reached", 4, transient=True)
            answer.headers["Retry-After"] = str(retry_after)
            return answer
        if kind == "server":
            return graph_error(
                500,
                "An unexpected error has occurred. Please retry your request later.",
                2,
                transient=True,
            )
        return graph_error(400, "Invalid parameter", 100, user_title="Can't post", user_msg=message)

    def sent_alt_text(self, router: respx.MockRouter, alt: str) -> bool:
        return any(
            call.request.method == "POST"
            and call.request.url.path == "/v1.0/me/threads"
            and parse_qs(call.request.content.decode()).get("alt_text") == [alt]
            for call in router.calls
        )

    def mock_delete(
        self, router: respx.MockRouter, answer: httpx.Response | Exception | None = None
    ) -> None:
        if answer is None:
            return  # the fake deletes
        route = router.delete(url__regex=rf"^{API}/\d+")
        if isinstance(answer, Exception):
            route.mock(side_effect=answer)
        else:
            route.mock(return_value=answer)

    def gone_response(self) -> httpx.Response:
        return does_not_exist("17841400000000009", "delete")

    def deleted(self, router: respx.MockRouter) -> bool:
        published = {
            json.loads(call.response.content)["id"]
            for call in router.calls
            if call.request.url.path == "/v1.0/me/threads_publish"
            and call.response is not None
            and call.response.status_code == 200
        }
        return bool(published) and all(
            any(
                call.request.method == "DELETE" and call.request.url.path == f"/v1.0/{media_id}"
                for call in router.calls
            )
            for media_id in published
        )


CASE = ThreadsCase()
