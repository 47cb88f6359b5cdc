"""Facebook Pages in the provider contract suite, against the fake Graph API
(tests/fakes/meta_graph.py). The suite's posts are text, so the "final create-the-post
call" is `POST /{page-id}/feed`."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs

import httpx
import respx

from providers.base import AccountRef, Provider
from providers.facebook import FacebookProvider
from providers.oauth import OAuthApp
from tests.contract.harness import ContractCase, ErrorKind
from tests.fakes.discord import parse_multipart
from tests.fakes.meta_graph import HOSTS, FakeMeta
from tests.fakes.meta_world import error, gone

APP = OAuthApp(client_id="1234567890", client_secret="SECRET-meta-app-secret")
PAGE_ID = "104000000000001"
IG_ID = "17841400000000077"
USER_TOKEN = "EAAG-SECRET-long-lived-user-token"
PAGE_TOKEN = "EAAG-SECRET-page-token-0123456789"
_POST_PATH = re.compile(rf"^/v27\.0/{PAGE_ID}_\d+$")


def meta(router: respx.MockRouter, **options: Any) -> FakeMeta:
    """The fake Meta with a person, their Page and its Instagram account, answering for
    Meta's hosts; the tokens are the cases'."""
    fake = FakeMeta(app_id=APP.client_id, app_secret=APP.client_secret, **options)
    user = fake.add_user("Alice")
    page = fake.add_page("Crier Café", user, page_id=PAGE_ID)
    fake.world.link_instagram(page, "criercafe", ig_id=IG_ID)
    fake.world.user_token(user, value=USER_TOKEN)
    fake.world.page_token(page, user, value=PAGE_TOKEN)
    for host in HOSTS:
        router.route(host=host).mock(side_effect=fake)
    return fake


def rate_limited(retry_after: int) -> httpx.Response:
    """Meta's app rate limit (code 4). Meta says how long in `estimated_time_to_regain_access`
    minutes (tests/unit/providers/test_meta_errors.py); the suite's seconds come as the
    Retry-After a proxy in front of Graph may add, which Crier honours first."""
    return error(
        400, 4, "(#4) Application request limit reached", headers={"Retry-After": str(retry_after)}
    )


def graph_error(kind: ErrorKind, retry_after: int, message: str) -> httpx.Response:
    if kind == "auth":
        return error(
            400,
            190,
            "Error validating access token: Session has expired on Monday, 07-Dec-26.",
            subcode=463,
        )
    if kind == "rate_limit":
        return rate_limited(retry_after)
    if kind == "server":
        return error(500, 2, message, transient=True)
    return error(400, 100, message)


def failing(fake_answer: httpx.Response | Exception) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        if isinstance(fake_answer, Exception):
            raise fake_answer
        return fake_answer

    return answer


class FacebookCase(ContractCase):
    name = "facebook"
    secrets = (USER_TOKEN, PAGE_TOKEN, APP.client_secret)

    def provider(self, http: httpx.AsyncClient) -> Provider:
        return FacebookProvider(http, oauth_app=APP)

    def account(self) -> AccountRef:
        return AccountRef(
            id=11,
            platform="facebook",
            label="Crier Café",
            config={"page_id": PAGE_ID, "name": "Crier Café"},
            credentials={"page_token": PAGE_TOKEN, "user_token": USER_TOKEN},
        )

    def mock_success(self, router: respx.MockRouter) -> None:
        meta(router)

    def mock_publish_answer(
        self, router: respx.MockRouter, answer: httpx.Response | Exception
    ) -> None:
        fake = meta(router)
        fake.fail_next("POST", f"/{PAGE_ID}/feed", answer)
        fake.fail_next("POST", f"/{PAGE_ID}/photos", answer)

    def error_response(
        self, kind: ErrorKind, *, retry_after: int = 17, message: str = "Nope"
    ) -> httpx.Response:
        return graph_error(kind, retry_after, message)

    def sent_alt_text(self, router: respx.MockRouter, alt: str) -> bool:
        for call in router.calls:
            if call.request.url.path.endswith("/photos"):
                fields = {p.name: p.data for p in parse_multipart(call.request)}
                return fields.get("alt_text_custom") == alt.encode()
        return False

    def mock_delete(
        self, router: respx.MockRouter, answer: httpx.Response | Exception | None = None
    ) -> None:
        if answer is not None:
            router.delete(url__regex=rf"^https://graph\.facebook\.com/v27\.0/{PAGE_ID}_\d+").mock(
                side_effect=failing(answer)
            )

    def gone_response(self) -> httpx.Response:
        return gone(f"{PAGE_ID}_1")

    def deleted(self, router: respx.MockRouter) -> bool:
        return any(
            c.request.method == "DELETE" and _POST_PATH.match(c.request.url.path)
            for c in router.calls
        )

    def mock_edit(self, router: respx.MockRouter) -> None:
        return None  # the fake edits what it published

    def edited_to(self, router: respx.MockRouter, text: str) -> bool:
        return any(
            c.request.method == "POST"
            and _POST_PATH.match(c.request.url.path)
            and parse_qs(c.request.content.decode()).get("message") == [text]
            for c in router.calls
        )

    def mock_lookup(self, router: respx.MockRouter, *, published: bool, key: str) -> None:
        fake = meta(router)
        if published:
            fake.new_post(fake.world.pages[PAGE_ID], "Hello from Crier")


CASE = FacebookCase()
