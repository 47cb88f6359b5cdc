"""What the Facebook and Instagram adapters' tests share: the fake Meta (tests/fakes/
meta_graph.py) behind respx, a person with a Page and its linked Instagram account, both
adapters on the same HTTP client, accounts as the sign-in stores them, and media files."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from providers.base import AccountRef, MediaFile, MediaKind, PostContent
from providers.facebook import FacebookProvider
from providers.instagram import InstagramProvider
from providers.oauth import OAuthApp
from tests.fakes.discord import Part, parse_multipart
from tests.fakes.meta_graph import HOSTS, FakeMeta
from tests.fakes.meta_world import FakeInstagram, FakePage, FakeUser
from tests.media_samples import jpeg

APP = OAuthApp(client_id="1234567890", client_secret="meta-app-secret")
REDIRECT = "https://crier.example/oauth/facebook/callback"
KEY = "target-7-occurrence-1"
START = 1_796_644_800.0  # 2026-12-07 12:00 UTC
MEDIA_BASE = "https://crier.example/media"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)


@dataclass
class World:
    fake: FakeMeta
    router: respx.MockRouter
    http: httpx.AsyncClient
    facebook: FacebookProvider
    instagram: InstagramProvider
    clock: Clock
    user: FakeUser
    page: FakePage
    ig: FakeInstagram
    user_token: str
    page_token: str

    def page_account(self, **config: Any) -> AccountRef:
        return AccountRef(
            id=1,
            platform="facebook",
            label=self.page.name,
            config={"page_id": self.page.id, "name": self.page.name, **config},
            credentials=self.credentials(),
        )

    def ig_account(self, **config: Any) -> AccountRef:
        return AccountRef(
            id=2,
            platform="instagram",
            label=f"@{self.ig.username}",
            config={
                "ig_user_id": self.ig.id,
                "username": self.ig.username,
                "page_id": self.page.id,
                "page_name": self.page.name,
                **config,
            },
            credentials=self.credentials(),
        )

    def credentials(self) -> dict[str, Any]:
        return {"page_token": self.page_token, "user_token": self.user_token}

    def sent(self) -> list[str]:
        """Every request, as "METHOD host/path" without the version."""
        out = []
        for call in self.router.calls:
            url = call.request.url
            out.append(f"{call.request.method} {url.host}{url.path.replace('/v27.0', '')}")
        return out


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


def build(router: respx.MockRouter, fake: FakeMeta) -> None:
    for host in HOSTS:
        router.route(host=host).mock(side_effect=fake)


@asynccontextmanager
async def open_world(router: respx.MockRouter, **options: Any) -> AsyncIterator[World]:
    """A person with a Page and its Instagram account at a fake Meta (`options` for it)."""
    clock = Clock()
    fake = FakeMeta(app_id=APP.client_id, app_secret=APP.client_secret, clock=clock, **options)
    user = fake.add_user("Alice")
    page = fake.add_page("Crier Café", user)
    ig = fake.world.link_instagram(page, "criercafe")
    build(router, fake)
    async with httpx.AsyncClient() as http:
        yield World(
            fake=fake,
            router=router,
            http=http,
            facebook=FacebookProvider(http, oauth_app=APP, now=clock.datetime),
            instagram=InstagramProvider(http, oauth_app=APP, now=clock.datetime),
            clock=clock,
            user=user,
            page=page,
            ig=ig,
            user_token=fake.world.user_token(user),
            page_token=fake.world.page_token(page, user),
        )


@pytest.fixture(name="w")
async def world(router: respx.MockRouter) -> AsyncIterator[World]:
    async with open_world(router) as opened:
        yield opened


def form(request: httpx.Request) -> dict[str, str]:
    """A form-encoded body."""
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def parts(request: httpx.Request) -> dict[str, Part]:
    return {p.name: p for p in parse_multipart(request)}


def attached(request: httpx.Request) -> list[str]:
    body = form(request)
    keys = sorted(k for k in body if k.startswith("attached_media["))
    return [json.loads(body[k])["media_fbid"] for k in keys]


def photo(
    tmp_path: Path,
    name: str = "photo.jpg",
    *,
    size: tuple[int, int] = (1080, 1080),
    alt: str | None = None,
    url: bool = True,
) -> MediaFile:
    path = jpeg(tmp_path / name, size=size)
    return MediaFile(
        kind=MediaKind.PHOTO,
        mime="image/jpeg",
        size=path.stat().st_size,
        path=path,
        width=size[0],
        height=size[1],
        alt_text=alt,
        file_name=name,
        url=f"{MEDIA_BASE}/{name}?sig=abc" if url else None,
    )


def video(
    tmp_path: Path,
    name: str = "clip.mp4",
    *,
    size: tuple[int, int] = (1280, 720),
    seconds: float = 30.0,
    playable: bool = True,
    url: bool = True,
) -> MediaFile:
    path = tmp_path / name
    head = b"\x00\x00\x00\x18ftypmp42" if playable else b"\x00\x00\x00\x18junkjunk"
    path.write_bytes(head + bytes(range(256)) * 8)
    return MediaFile(
        kind=MediaKind.VIDEO,
        mime="video/mp4",
        size=path.stat().st_size,
        path=path,
        width=size[0],
        height=size[1],
        duration=seconds,
        file_name=name,
        url=f"{MEDIA_BASE}/{name}?sig=abc" if url else None,
    )


def post(text: str = "Hello from Crier", *media: MediaFile, **kw: Any) -> PostContent:
    return PostContent(text=text, media=media, **kw)
