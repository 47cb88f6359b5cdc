"""The LinkedIn adapter in the shared contract suite, with respx answering as LinkedIn's
versioned REST API does (Posts API: 201 and the post's URN in `x-restli-id`; Rest.li errors)."""

from __future__ import annotations

import json

import httpx
import respx

from providers.base import AccountRef, Provider
from providers.linkedin import LinkedInProvider
from tests.contract.harness import ContractCase, ErrorKind

TOKEN = "AQV-SECRET-linkedin-access-token-0123456789"
API = "https://api.linkedin.com"
MEMBER = "urn:li:person:m1Xy9"
POST_URN = "urn:li:share:7300000000000000042"
ENCODED = "urn%3Ali%3Ashare%3A7300000000000000042"
IMAGE_URN = "urn:li:image:D4E10AQHk1"
UPLOAD_URL = "https://www.linkedin.com/dms-uploads/sp/D4E10AQHk1/feedshare-uploadedImage/0"


class LinkedInCase(ContractCase):
    name = "linkedin"
    secrets = (TOKEN,)

    def provider(self, http: httpx.AsyncClient) -> Provider:
        return LinkedInProvider(http)

    def account(self) -> AccountRef:
        return AccountRef(
            id=1,
            platform="linkedin",
            label="Alice Smith",
            config={"author": MEMBER, "kind": "member", "name": "Alice Smith"},
            credentials={"access_token": TOKEN, "scope": "openid,profile,w_member_social"},
        )

    def _media(self, router: respx.MockRouter) -> None:
        router.post(f"{API}/rest/images", params={"action": "initializeUpload"}).mock(
            return_value=httpx.Response(
                200,
                json={
                    "value": {
                        "uploadUrlExpiresAt": 1_900_000_000_000,
                        "uploadUrl": UPLOAD_URL,
                        "image": IMAGE_URN,
                    }
                },
            )
        )
        router.put(UPLOAD_URL).mock(return_value=httpx.Response(201))

    def mock_success(self, router: respx.MockRouter) -> None:
        self._media(router)
        router.post(f"{API}/rest/posts").mock(
            return_value=httpx.Response(201, headers={"x-restli-id": POST_URN})
        )

    def mock_publish_answer(
        self, router: respx.MockRouter, answer: httpx.Response | Exception
    ) -> None:
        self._media(router)
        route = router.post(f"{API}/rest/posts")
        if isinstance(answer, Exception):
            route.mock(side_effect=answer)
        else:
            route.mock(return_value=answer)

    def error_response(
        self, kind: ErrorKind, *, retry_after: int = 17, message: str = "Nope"
    ) -> httpx.Response:
        if kind == "rate_limit":
            # LinkedIn documents no Retry-After (its limits reset at midnight UTC); the adapter
            # honours one when anything in front of LinkedIn sends it, which is what the suite
            # checks here. The daily-limit default is covered in test_linkedin.py.
            return httpx.Response(
                429,
                json={
                    "status": 429,
                    "serviceErrorCode": 101,
                    "code": "TOO_MANY_REQUESTS",
                    "message": "Resource level throttle MEMBER DAY limit for calls to this "
                    "resource is reached.",
                },
                headers={"Retry-After": str(retry_after)},
            )
        if kind == "auth":
            return httpx.Response(
                401,
                json={
                    "status": 401,
                    "serviceErrorCode": 65601,
                    "code": "REVOKED_ACCESS_TOKEN",
                    "message": "The token used in the request has been revoked by the user",
                },
            )
        status = {"server": 504, "rejected": 422}[kind]
        return httpx.Response(status, json={"status": status, "message": message})

    # -- after publishing: delete and edit the commentary ----------------------------------

    def mock_delete(
        self, router: respx.MockRouter, answer: httpx.Response | Exception | None = None
    ) -> None:
        route = router.delete(f"{API}/rest/posts/{ENCODED}")
        if isinstance(answer, Exception):
            route.mock(side_effect=answer)
        else:
            route.mock(return_value=answer or httpx.Response(204))

    def gone_response(self) -> httpx.Response:
        # LinkedIn's deletes are idempotent: a post already deleted answers 204 again (a post
        # it never had answers 404, which the unit tests cover).
        return httpx.Response(204)

    def deleted(self, router: respx.MockRouter) -> bool:
        return any(
            call.request.method == "DELETE"
            and call.request.url.raw_path.decode() == f"/rest/posts/{ENCODED}"
            and call.request.headers.get("x-restli-method") == "DELETE"
            for call in router.calls
        )

    def mock_edit(self, router: respx.MockRouter) -> None:
        router.post(f"{API}/rest/posts/{ENCODED}").mock(return_value=httpx.Response(204))

    def edited_to(self, router: respx.MockRouter, text: str) -> bool:
        return any(
            call.request.url.raw_path.decode() == f"/rest/posts/{ENCODED}"
            and call.request.headers.get("x-restli-method") == "PARTIAL_UPDATE"
            and json.loads(call.request.content) == {"patch": {"$set": {"commentary": text}}}
            for call in router.calls
        )

    def sent_alt_text(self, router: respx.MockRouter, alt: str) -> bool:
        for call in router.calls:
            if call.request.url.path == "/rest/posts":
                media = json.loads(call.request.content).get("content", {}).get("media", {})
                return bool(media.get("altText") == alt)
        return False


CASE = LinkedInCase()
