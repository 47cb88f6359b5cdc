"""Instagram in the provider contract suite, against the fake Graph API
(tests/fakes/meta_graph.py). Every post needs media (`needs_media`: a photo); Meta fetches it
from the URL `publish_to_end` gives it, as the engine does. The "final create-the-post call"
is `POST /{ig-user-id}/media_publish`."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

import httpx
import respx

from providers.base import AccountRef, Provider
from providers.instagram import InstagramProvider
from tests.contract.case_facebook import (
    APP,
    IG_ID,
    PAGE_ID,
    PAGE_TOKEN,
    USER_TOKEN,
    failing,
    graph_error,
    meta,
)
from tests.contract.harness import ContractCase, ErrorKind
from tests.fakes.meta_instagram import FakeMedia
from tests.fakes.meta_world import gone

_MEDIA_PATH = re.compile(r"^/v27\.0/18\d+$")


class InstagramCase(ContractCase):
    name = "instagram"
    secrets = (USER_TOKEN, PAGE_TOKEN, APP.client_secret)
    needs_media = True

    def provider(self, http: httpx.AsyncClient) -> Provider:
        return InstagramProvider(http, oauth_app=APP)

    def account(self) -> AccountRef:
        return AccountRef(
            id=12,
            platform="instagram",
            label="@criercafe",
            config={
                "ig_user_id": IG_ID,
                "username": "criercafe",
                "page_id": PAGE_ID,
                "page_name": "Crier Café",
            },
            credentials={"page_token": PAGE_TOKEN, "user_token": USER_TOKEN},
        )

    def mock_success(self, router: respx.MockRouter) -> None:
        meta(router, processing_polls=0)

    def mock_publish_answer(
        self, router: respx.MockRouter, answer: httpx.Response | Exception
    ) -> None:
        meta(router, processing_polls=0).fail_next("POST", f"/{IG_ID}/media_publish", answer)

    def error_response(
        self, kind: ErrorKind, *, retry_after: int = 17, message: str = "Nope"
    ) -> httpx.Response:
        return graph_error(kind, retry_after, message)

    def sent_alt_text(self, router: respx.MockRouter, alt: str) -> bool:
        return any(
            c.request.method == "POST"
            and c.request.url.path == f"/v27.0/{IG_ID}/media"
            and parse_qs(c.request.content.decode()).get("alt_text") == [alt]
            for c in router.calls
        )

    def mock_delete(
        self, router: respx.MockRouter, answer: httpx.Response | Exception | None = None
    ) -> None:
        if answer is not None:
            router.delete(url__regex=r"^https://graph\.facebook\.com/v27\.0/18\d+").mock(
                side_effect=failing(answer)
            )

    def gone_response(self) -> httpx.Response:
        return gone("18000000000000001")

    def deleted(self, router: respx.MockRouter) -> bool:
        return any(
            c.request.method == "DELETE"
            and _MEDIA_PATH.match(c.request.url.path)
            and c.request.headers["authorization"] == f"OAuth {USER_TOKEN}"
            for c in router.calls
        )

    def mock_lookup(self, router: respx.MockRouter, *, published: bool, key: str) -> None:
        fake = meta(router)
        if published:
            now = fake.world.clock()
            fake.instagram.media["18000000000000099"] = FakeMedia(
                id="18000000000000099",
                ig_id=IG_ID,
                container_id="17990000000000001",
                caption="Hello from Crier",
                media_type="IMAGE",
                product_type="FEED",
                permalink="https://www.instagram.com/p/DCrierTest/",
                published_at=now,
            )


CASE = InstagramCase()
