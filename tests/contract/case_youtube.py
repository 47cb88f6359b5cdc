"""YouTube in the provider contract suite, with respx answering as YouTube's resumable upload
and videos.list do. The "final create-the-post call" is the PUT that carries the video's
last byte: its success makes the video."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import respx

from providers.base import AccountRef, MediaFile, MediaKind, Provider
from providers.youtube import YouTubeProvider
from tests.contract.harness import ContractCase, ErrorKind

TOKEN = "ya29.SECRET-youtube-access-token"
REFRESH = "1//SECRET-youtube-refresh-token"
CHANNEL_ID = "UC_x5XG1OV2P6uZZ5FSM9Ttw"
UPLOAD_URL = "https://www.googleapis.com/upload/youtube/v3/videos"
SESSION = f"{UPLOAD_URL}?uploadType=resumable&part=snippet%2Cstatus&upload_id=ADPycdu-SECRET-up"
VIDEOS_URL = "https://www.googleapis.com/youtube/v3/videos"
VIDEO_ID = "dQw4w9WgXcQ"


def google_error(status: int, reason: str, message: str, **headers: str) -> httpx.Response:
    """Google's JSON error body."""
    body = {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": "youtube.video", "reason": reason}],
        }
    }
    return httpx.Response(status, json=body, headers=headers)


def video_json(upload_status: str = "uploaded", video_id: str = VIDEO_ID) -> dict[str, object]:
    """A video resource as videos.insert (part=snippet,status) and videos.list return it."""
    return {
        "kind": "youtube#video",
        "id": video_id,
        "snippet": {"channelId": CHANNEL_ID, "title": "Hello from Crier", "description": ""},
        "status": {"uploadStatus": upload_status, "privacyStatus": "public", "license": "youtube"},
    }


def mock_session(router: respx.MockRouter, upload: httpx.Response | Exception) -> respx.Route:
    """The session: a status query answers 308 with nothing received, the bytes `upload`."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers.get("content-range", "").startswith("bytes */"):
            return httpx.Response(308)
        if isinstance(upload, Exception):
            raise upload
        return upload

    router.post(UPLOAD_URL, params={"uploadType": "resumable"}).mock(
        return_value=httpx.Response(200, headers={"Location": SESSION})
    )
    return router.put(SESSION).mock(side_effect=answer)


class YouTubeCase(ContractCase):
    name = "youtube"
    secrets = (TOKEN, REFRESH, SESSION, "ADPycdu-SECRET-up")

    def provider(self, http: httpx.AsyncClient) -> Provider:
        return YouTubeProvider(http)

    def account(self) -> AccountRef:
        return AccountRef(
            id=4,
            platform="youtube",
            label="Crier Tests (@criertests)",
            config={
                "channel_id": CHANNEL_ID,
                "title": "Crier Tests",
                "custom_url": "@criertests",
                "long_uploads_status": "allowed",
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
                width=1280,
                height=720,
                duration=42.0,
                file_name="clip.mp4",
            ),
        )

    def mock_success(self, router: respx.MockRouter) -> None:
        mock_session(router, httpx.Response(201, json=video_json()))
        router.get(VIDEOS_URL).mock(
            return_value=httpx.Response(200, json={"items": [video_json("processed")]})
        )

    def mock_publish_answer(
        self, router: respx.MockRouter, answer: httpx.Response | Exception
    ) -> None:
        mock_session(router, answer)

    def error_response(
        self, kind: ErrorKind, *, retry_after: int = 17, message: str = "Nope"
    ) -> httpx.Response:
        if kind == "auth":
            return google_error(401, "authError", "Request had invalid authentication credentials.")
        if kind == "rate_limit":
            return google_error(
                429, "rateLimitExceeded", "Rate Limit Exceeded", **{"Retry-After": str(retry_after)}
            )
        if kind == "server":
            return google_error(503, "backendError", message)
        return google_error(400, "invalidVideoMetadata", message)

    # -- after publishing: videos.delete, and videos.update of the snippet -----------------

    def mock_delete(
        self, router: respx.MockRouter, answer: httpx.Response | Exception | None = None
    ) -> None:
        route = router.delete(VIDEOS_URL, params={"id": VIDEO_ID})
        if isinstance(answer, Exception):
            route.mock(side_effect=answer)
        else:
            route.mock(return_value=answer or httpx.Response(204))

    def gone_response(self) -> httpx.Response:
        return google_error(
            404, "videoNotFound", "The video that you are trying to delete cannot be found."
        )

    def deleted(self, router: respx.MockRouter) -> bool:
        return any(
            call.request.method == "DELETE" and call.request.url.params.get("id") == VIDEO_ID
            for call in router.calls
        )

    def mock_edit(self, router: respx.MockRouter) -> None:
        video = video_json("processed")
        video["snippet"] = {**video["snippet"], "categoryId": "22"}  # type: ignore[dict-item]
        router.get(VIDEOS_URL, params={"part": "snippet", "id": VIDEO_ID}).mock(
            return_value=httpx.Response(200, json={"items": [video]})
        )
        router.put(VIDEOS_URL, params={"part": "snippet"}).mock(
            return_value=httpx.Response(200, json=video)
        )

    def edited_to(self, router: respx.MockRouter, text: str) -> bool:
        return any(
            call.request.method == "PUT"
            and call.request.url.path == "/youtube/v3/videos"
            and json.loads(call.request.content)
            == {"id": VIDEO_ID, "snippet": {"categoryId": "22", "title": text, "description": ""}}
            for call in router.calls
        )

    def sent_alt_text(self, router: respx.MockRouter, alt: str) -> bool:
        return False  # YouTube takes no photos, so no alt text


CASE = YouTubeCase()
