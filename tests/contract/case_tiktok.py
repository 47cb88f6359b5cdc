"""TikTok in the provider contract suite, with respx answering as the Content Posting API
does. Every TikTok post needs media: the suite's post carries a video that TikTok fetches from
Crier's URL (the account has `pull_from_url`), so the "final create-the-post call" is the
video init, whose success makes TikTok post it (the default upload path, where the init
publishes nothing by itself, is tested in tests/unit/providers/test_tiktok_publish.py). The
photo post of the alt-text test goes through the photo init."""

from __future__ import annotations

from pathlib import Path

import httpx
import respx

from providers.base import AccountRef, MediaFile, MediaKind, Provider
from providers.tiktok import TikTokProvider
from tests.contract.harness import ContractCase, ErrorKind

TOKEN = "act.SECRET-tiktok-access-token"
REFRESH = "rft.SECRET-tiktok-refresh-token"
API = "https://open.tiktokapis.com/v2"
OPEN_ID = "-000AbCdEfGhIjKlMnOpQrStUvWxYz"
POST_ID = 7412345678901234567
VIDEO_URL = "https://crier.example/media/clip.mp4?exp=1796000000&sig=contract"


def envelope(data: dict[str, object]) -> httpx.Response:
    return httpx.Response(
        200, json={"data": data, "error": {"code": "ok", "message": "", "log_id": "2026120712"}}
    )


def tiktok_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    body = {"data": {}, "error": {"code": code, "message": message, "log_id": "2026120712"}}
    return httpx.Response(status, json=body, headers=headers)


CREATOR = {
    "creator_avatar_url": "https://p16.tiktokcdn.example/avatar.jpeg",
    "creator_username": "crier.tests",
    "creator_nickname": "Crier Tests",
    "privacy_level_options": ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
    "comment_disabled": False,
    "duet_disabled": False,
    "stitch_disabled": False,
    "max_video_post_duration_sec": 600,
}


class TikTokCase(ContractCase):
    name = "tiktok"
    secrets = (TOKEN, REFRESH)

    def provider(self, http: httpx.AsyncClient) -> Provider:
        return TikTokProvider(http)

    def account(self) -> AccountRef:
        return AccountRef(
            id=9,
            platform="tiktok",
            label="@crier.tests",
            config={
                "open_id": OPEN_ID,
                "username": "crier.tests",
                "privacy_level": "PUBLIC_TO_EVERYONE",
                "pull_from_url": True,
            },
            credentials={"access_token": TOKEN, "refresh_token": REFRESH},
        )

    def required_media(self, tmp_path: Path) -> tuple[MediaFile, ...]:
        path = tmp_path / "clip.mp4"
        path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(1000))
        return (
            MediaFile(
                kind=MediaKind.VIDEO,
                mime="video/mp4",
                size=path.stat().st_size,
                path=path,
                width=1080,
                height=1920,
                duration=12.0,
                file_name="clip.mp4",
                url=VIDEO_URL,
            ),
        )

    def _creator_and_status(self, router: respx.MockRouter) -> None:
        router.post(f"{API}/post/publish/creator_info/query/").mock(return_value=envelope(CREATOR))
        router.post(f"{API}/post/publish/status/fetch/").mock(
            return_value=envelope(
                {"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [POST_ID]}
            )
        )

    def mock_success(self, router: respx.MockRouter) -> None:
        self._creator_and_status(router)
        router.post(f"{API}/post/publish/video/init/").mock(
            return_value=envelope({"publish_id": "v_pub_url~v2-1.7300000000000000001"})
        )
        router.post(f"{API}/post/publish/content/init/").mock(
            return_value=envelope({"publish_id": "p_pub_url~v2-1.7300000000000000002"})
        )

    def mock_publish_answer(
        self, router: respx.MockRouter, answer: httpx.Response | Exception
    ) -> None:
        self._creator_and_status(router)
        route = router.post(f"{API}/post/publish/video/init/")
        if isinstance(answer, Exception):
            route.mock(side_effect=answer)
        else:
            route.mock(return_value=answer)

    def error_response(
        self, kind: ErrorKind, *, retry_after: int = 17, message: str = "Nope"
    ) -> httpx.Response:
        if kind == "auth":
            return tiktok_error(
                401,
                "access_token_invalid",
                "The access token is invalid or not found in the request.",
            )
        if kind == "rate_limit":
            return tiktok_error(
                429,
                "rate_limit_exceeded",
                "API rate limit was exceeded, only 6 requests per minute are allowed.",
                {"Retry-After": str(retry_after)},
            )
        if kind == "server":
            return tiktok_error(500, "internal_error", message)
        return tiktok_error(400, "invalid_params", message)

    def sent_alt_text(self, router: respx.MockRouter, alt: str) -> bool:
        return any(alt.encode() in call.request.content for call in router.calls)


CASE = TikTokCase()
