"""The fake Graph API enforces what Meta documents, so the adapters' tests can trust it:
appsecret_proof, Page tokens to post, photo types and sizes, upload offsets, reels finished
only once uploaded, containers published only when FINISHED, carousels of finished
children, and the Resumable Upload API's file types."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fakes.meta_graph import FakeMeta
from tests.fakes.meta_world import FakePage, FakeUser

SECRET = "meta-app-secret"
API = "https://graph.facebook.com/v27.0"


class Meta:
    def __init__(self) -> None:
        self.fake = FakeMeta(app_secret=SECRET, processing_polls=1)
        self.user: FakeUser = self.fake.add_user()
        self.page: FakePage = self.fake.add_page("Café", self.user)
        self.ig = self.fake.world.link_instagram(self.page, "cafe")
        self.user_token = self.fake.world.user_token(self.user)
        self.page_token = self.fake.world.page_token(self.page, self.user)
        self.http = httpx.Client(transport=httpx.MockTransport(self.fake))

    def call(
        self, method: str, url: str, token: str, *, proof: bool = True, **kwargs: Any
    ) -> httpx.Response:
        params = dict(kwargs.pop("params", {}))
        if proof:
            params["appsecret_proof"] = hmac.new(
                SECRET.encode(), token.encode(), hashlib.sha256
            ).hexdigest()
        headers = {"Authorization": f"OAuth {token}", **kwargs.pop("headers", {})}
        return self.http.request(method, url, params=params, headers=headers, **kwargs)


@pytest.fixture
def meta() -> Iterator[Meta]:
    made = Meta()
    yield made
    made.http.close()


def code(response: httpx.Response) -> tuple[int, int | None]:
    error = response.json()["error"]
    return error["code"], error.get("error_subcode")


def test_every_call_needs_a_proof_of_the_app_secret(meta: Meta) -> None:
    url = f"{API}/{meta.page.id}"
    assert code(meta.call("GET", url, meta.page_token, proof=False)) == (100, None)
    assert meta.call("GET", url, meta.page_token).status_code == 200
    wrong = meta.http.get(
        url, params={"appsecret_proof": "00"}, headers={"Authorization": f"OAuth {meta.page_token}"}
    )
    assert "Invalid appsecret_proof" in wrong.json()["error"]["message"]
    assert code(meta.http.get(url)) == (2500, None)


def test_only_the_page_token_posts_as_the_page(meta: Meta) -> None:
    feed = f"{API}/{meta.page.id}/feed"
    refused = meta.call("POST", feed, meta.user_token, data={"message": "hi"})
    assert (refused.status_code, code(refused)) == (403, (200, None))
    assert meta.call("POST", feed, meta.page_token, data={"message": "hi"}).status_code == 200
    assert code(meta.call("POST", feed, meta.page_token, data={"message": "x" * 63_207})) == (
        100,
        None,
    )


def test_photos_must_be_jpeg_or_png_and_at_most_4_mb(meta: Meta) -> None:
    url = f"{API}/{meta.page.id}/photos"
    gif = meta.call(
        "POST", url, meta.page_token, files={"source": ("a.gif", b"GIF89a", "image/gif")}
    )
    assert code(gif) == (100, 1366046)
    big = b"\xff\xd8\xff" + bytes(4_000_001)
    assert code(
        meta.call("POST", url, meta.page_token, files={"source": ("a.jpg", big, "image/jpeg")})
    ) == (100, 1366046)
    ok = meta.call(
        "POST", url, meta.page_token, files={"source": ("a.jpg", b"\xff\xd8\xff\xe0", "image/jpeg")}
    )
    assert set(ok.json()) == {"id", "post_id"}


def test_the_resumable_upload_api_checks_type_token_and_offset(meta: Meta) -> None:
    opened = f"{API}/{meta.fake.world.app_id}/uploads"
    params = {"file_name": "a.mov", "file_length": "8", "file_type": "video/quicktime"}
    assert code(meta.call("POST", opened, meta.user_token, params=params)) == (100, None)
    params["file_type"] = "video/mp4"
    assert code(meta.call("POST", opened, meta.page_token, params=params)) == (100, None)
    session = meta.call("POST", opened, meta.user_token, params=params).json()["id"]
    wrong = meta.call(
        "POST", f"{API}/{session}", meta.user_token, headers={"file_offset": "4"}, content=b"1234"
    )
    assert code(wrong) == (100, None)
    part = meta.call(
        "POST", f"{API}/{session}", meta.user_token, headers={"file_offset": "0"}, content=b"1234"
    )
    assert part.json()["file_offset"] == 4
    done = meta.call(
        "POST", f"{API}/{session}", meta.user_token, headers={"file_offset": "4"}, content=b"5678"
    )
    assert done.json()["h"].startswith("4::")


def test_a_reel_is_finished_only_once_every_byte_is_in(meta: Meta) -> None:
    reels = f"{API}/{meta.page.id}/video_reels"
    started = meta.call("POST", reels, meta.page_token, data={"upload_phase": "start"}).json()
    finish = {"upload_phase": "finish", "video_id": started["video_id"], "video_state": "PUBLISHED"}
    assert code(meta.call("POST", reels, meta.page_token, data=finish)) == (6000, 1363019)
    upload = started["upload_url"]
    no_offset = meta.http.post(
        upload, headers={"Authorization": f"OAuth {meta.page_token}"}, content=b"x"
    )
    assert no_offset.json()["debug_info"]["type"] == "ParameterValidationError"
    sent = meta.http.post(
        upload,
        headers={"Authorization": f"OAuth {meta.page_token}", "offset": "0", "file_size": "12"},
        content=b"\x00\x00\x00\x0cftypmp42",
    )
    assert sent.json() == {"success": True}
    assert meta.call("POST", reels, meta.page_token, data=finish).json() == {"success": True}
    status = meta.call("GET", f"{API}/{started['video_id']}", meta.page_token).json()["status"]
    assert status["video_status"] == "processing"


def test_containers_publish_only_when_finished_and_carousels_need_finished_children(
    meta: Meta,
) -> None:
    media = f"{API}/{meta.ig.id}/media"
    clip = meta.call(
        "POST",
        media,
        meta.page_token,
        data={
            "media_type": "VIDEO",
            "is_carousel_item": "true",
            "video_url": "https://x.example/a.mp4",
        },
    ).json()["id"]
    image = meta.call(
        "POST",
        media,
        meta.page_token,
        data={"is_carousel_item": "true", "image_url": "https://x.example/a.jpg"},
    ).json()["id"]
    carousel = {"media_type": "CAROUSEL", "children": f"{clip},{image}"}
    assert code(meta.call("POST", media, meta.page_token, data=carousel)) == (9007, 2207027)
    assert code(
        meta.call(
            "POST", media, meta.page_token, data={"media_type": "CAROUSEL", "children": image}
        )
    ) == (100, 2207028)
    reel = meta.call(
        "POST",
        media,
        meta.page_token,
        data={"media_type": "REELS", "video_url": "https://x.example/b.mp4"},
    ).json()["id"]
    publish = f"{API}/{meta.ig.id}/media_publish"
    assert code(meta.call("POST", publish, meta.page_token, data={"creation_id": reel})) == (
        9007,
        2207027,
    )
    assert code(meta.call("POST", publish, meta.page_token, data={"creation_id": image})) == (
        100,
        2207006,
    )
    single_video = {"media_type": "VIDEO", "video_url": "https://x.example/c.mp4"}
    assert code(meta.call("POST", media, meta.page_token, data=single_video)) == (100, None)
    plain = {"image_url": "http://x.example/a.jpg"}
    assert code(meta.call("POST", media, meta.page_token, data=plain)) == (9004, 2207052)
