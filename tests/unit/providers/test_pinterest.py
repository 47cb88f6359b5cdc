"""The Pinterest adapter against the stateful fake (tests/fakes/pinterest.py): OAuth through
`OAuthClient` with the adapter's spec, boards as destinations, photo and carousel Pins, the
two-phase video path, and the exact requests each sends."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from providers.base import AccountRef, MediaFile, MediaKind, PostContent, Processing
from providers.errors import AuthError, PermanentError
from providers.oauth import OAuthApp, OAuthClient, Token, as_credentials
from providers.pinterest import PinterestProvider
from tests.fakes.discord import parse_multipart
from tests.fakes.pinterest import ALL_SCOPES, FakePinterest
from tests.fakes.pinterest_storage import UPLOAD_URL
from tests.media_samples import jpeg, mp4, rgba_png

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
APP = OAuthApp(client_id="app-id", client_secret="app-secret")
REDIRECT = "https://crier.example/oauth/pinterest/callback"
KEY = "target-9-occurrence-1"


@dataclass
class World:
    fake: FakePinterest
    provider: PinterestProvider
    router: respx.MockRouter
    http: httpx.AsyncClient
    token: str

    def account(self, board: str | None = None, **credentials: Any) -> AccountRef:
        board_id = board or self.fake.boards[0].id
        return AccountRef(
            id=1,
            platform="pinterest",
            label="crier / Recipes",
            config={"board_id": board_id, "board_name": "Recipes", "username": "crier"},
            credentials={"access_token": self.token, **credentials},
        )

    def sent(self) -> list[str]:
        return [
            f"{c.request.method} {c.request.url.host}{c.request.url.path}"
            for c in self.router.calls
        ]


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest.fixture
async def world(router: respx.MockRouter) -> AsyncIterator[World]:
    fake = FakePinterest()
    fake.add_board("Recipes")
    router.route(host="api.pinterest.com").mock(side_effect=fake)
    router.route(url__startswith=UPLOAD_URL).mock(side_effect=fake)
    async with httpx.AsyncClient() as http:
        provider = PinterestProvider(http, oauth_app=APP, now=lambda: NOW)
        yield World(fake, provider, router, http, fake.issue_token())


def body_of(request: httpx.Request) -> dict[str, Any]:
    body = json.loads(request.content)
    assert isinstance(body, dict)
    return body


def photo(path: Path, alt: str | None = None, mime: str = "image/jpeg") -> MediaFile:
    return MediaFile(
        kind=MediaKind.PHOTO,
        mime=mime,
        size=path.stat().st_size,
        path=path,
        alt_text=alt,
        file_name=path.name,
    )


def video(path: Path, seconds: float = 5.0) -> MediaFile:
    return MediaFile(
        kind=MediaKind.VIDEO,
        mime="video/mp4",
        size=path.stat().st_size,
        path=path,
        duration=seconds,
        file_name=path.name,
    )


# -- OAuth ----------------------------------------------------------------------------------


async def test_the_sign_in_asks_for_the_scopes_comma_separated_without_pkce(
    world: World,
) -> None:
    client = OAuthClient(world.provider.oauth, APP, world.http, platform="Pinterest")
    url = await client.authorize_url(REDIRECT, "st4te", "ignored-challenge")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://www.pinterest.com/oauth/"
    assert {k: v[0] for k, v in parse_qs(parts.query).items()} == {
        "response_type": "code",
        "client_id": "app-id",
        "redirect_uri": REDIRECT,
        "state": "st4te",
        "scope": "boards:read,boards:write,pins:read,pins:write,user_accounts:read",
    }


async def test_the_code_exchange_uses_basic_auth_and_gets_both_tokens(world: World) -> None:
    client = OAuthClient(
        world.provider.oauth, APP, world.http, platform="Pinterest", clock=lambda: NOW
    )
    code = world.fake.authorize(await client.authorize_url(REDIRECT, "st4te"))
    token = await client.exchange(code, REDIRECT)
    sent = world.fake.calls("POST", "/v5/oauth/token")[-1]
    assert str(sent.url) == "https://api.pinterest.com/v5/oauth/token"
    assert (
        sent.headers["authorization"] == "Basic " + base64.b64encode(b"app-id:app-secret").decode()
    )
    assert {k: v[0] for k, v in parse_qs(sent.content.decode()).items()} == {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
    }
    assert token.access_token.startswith("pina_")
    assert token.refresh_token is not None
    assert token.refresh_token.startswith("pinr_")
    assert token.expires_at == NOW + timedelta(days=30)
    assert token.scope == ",".join(ALL_SCOPES)
    # The code is spent: a second exchange is refused and means signing in again.
    with pytest.raises(AuthError):
        await client.exchange(code, REDIRECT)


async def test_refresh_takes_the_rotated_refresh_token(world: World) -> None:
    client = OAuthClient(world.provider.oauth, APP, world.http, platform="Pinterest")
    first = await client.exchange(
        world.fake.authorize(await client.authorize_url(REDIRECT, "s")), REDIRECT
    )
    account = world.account(**as_credentials(first))
    renewed = await world.provider.refresh(account)
    sent = world.fake.calls("POST", "/v5/oauth/token")[-1]
    assert {k: v[0] for k, v in parse_qs(sent.content.decode()).items()} == {
        "grant_type": "refresh_token",
        "refresh_token": first.refresh_token,
    }
    assert renewed["refresh_token"] != first.refresh_token  # continuous refresh rotates it
    assert renewed["access_token"] != first.access_token
    assert renewed["expires_at"] == (NOW + timedelta(days=30)).isoformat()
    # The old refresh token is retired: only the new one works now.
    with pytest.raises(AuthError, match="reconnect"):
        await world.provider.refresh(account)
    assert await world.provider.refresh(world.account(**renewed))


async def test_refresh_without_a_new_refresh_token_keeps_the_old_one(
    router: respx.MockRouter,
) -> None:
    fake = FakePinterest(continuous_refresh=False)  # a legacy refresh token
    router.route(host="api.pinterest.com").mock(side_effect=fake)
    async with httpx.AsyncClient() as http:
        provider = PinterestProvider(http, oauth_app=APP)
        client = OAuthClient(provider.oauth, APP, http, platform="Pinterest")
        token = await client.exchange(
            fake.authorize(await client.authorize_url(REDIRECT, "s")), REDIRECT
        )
        account = AccountRef(
            id=1,
            platform="pinterest",
            label="x",
            config={"board_id": "1"},
            credentials=as_credentials(token),
        )
        renewed = await provider.refresh(account)
    assert renewed["refresh_token"] == token.refresh_token
    assert renewed["access_token"] != token.access_token


@pytest.mark.parametrize(
    ("oauth_app", "credentials", "match"),
    [
        (None, {"refresh_token": "pinr_x"}, "isn't set up"),
        (APP, {}, "no refresh token"),
        (APP, {"refresh_token": "pinr_revoked"}, "refused the token refresh"),
    ],
    ids=["no app configured", "no refresh token", "refused"],
)
async def test_refresh_that_cannot_work_asks_to_reconnect(
    world: World, oauth_app: OAuthApp | None, credentials: dict[str, str], match: str
) -> None:
    provider = PinterestProvider(world.http, oauth_app=oauth_app)
    with pytest.raises(AuthError, match=match):
        await provider.refresh(world.account(**credentials))


# -- connecting -----------------------------------------------------------------------------


async def test_accounts_for_lists_every_board_page_by_page(world: World) -> None:
    for number in range(2, 253):
        world.fake.add_board(f"Board {number}")
    world.fake.add_board("Diary", privacy="SECRET")  # needs boards:read_secret: not listed
    token = Token(access_token=world.token, refresh_token="pinr_1", expires_at=NOW)
    accounts = await world.provider.accounts_for(token)
    assert world.sent() == [
        "GET api.pinterest.com/v5/user_account",
        "GET api.pinterest.com/v5/boards",
        "GET api.pinterest.com/v5/boards",
    ]
    boards = world.fake.calls("GET", "/v5/boards")
    assert dict(boards[0].url.params) == {"page_size": "250"}
    assert dict(boards[1].url.params) == {"page_size": "250", "bookmark": "250"}
    assert boards[0].headers["authorization"] == f"Bearer {world.token}"
    assert len(accounts) == 252
    first = accounts[0]
    assert first.label == "crier / Recipes"
    assert first.external_id == world.fake.boards[0].id
    assert first.config == {
        "board_id": world.fake.boards[0].id,
        "board_name": "Recipes",
        "username": "crier",
    }
    assert first.credentials == as_credentials(token)
    assert "Diary" not in {a.config["board_name"] for a in accounts}


async def test_accounts_for_without_boards_says_to_create_one(router: respx.MockRouter) -> None:
    fake = FakePinterest()
    router.route(host="api.pinterest.com").mock(side_effect=fake)
    async with httpx.AsyncClient() as http:
        with pytest.raises(PermanentError, match="create a board"):
            await PinterestProvider(http).accounts_for(Token(access_token=fake.issue_token()))


async def test_accounts_for_without_the_scope_means_reconnect(world: World) -> None:
    token = world.fake.issue_token(scopes=("pins:read", "pins:write"))
    with pytest.raises(AuthError, match="sufficient permissions"):
        await world.provider.accounts_for(Token(access_token=token))


async def test_verify_reads_the_user_and_keeps_the_board(world: World) -> None:
    verified = await world.provider.verify(world.account())
    assert world.sent() == ["GET api.pinterest.com/v5/user_account"]
    assert verified.label == "crier / Recipes"
    assert verified.external_id == world.fake.boards[0].id
    assert verified.credentials is None
    world.fake.expire_access_tokens()
    with pytest.raises(AuthError, match="Authentication failed"):
        await world.provider.verify(world.account())


# -- publishing photos ----------------------------------------------------------------------


async def test_a_text_post_is_refused_without_a_request(world: World) -> None:
    post = PostContent(text="Just words")
    assert "media_required" in [p.code for p in world.provider.validate(post, world.account())]
    with pytest.raises(PermanentError, match="photo or a video"):
        await world.provider.publish(post, world.account(), KEY)
    assert world.sent() == []


async def test_a_photo_pin_sends_title_description_link_and_alt_text(
    world: World, tmp_path: Path
) -> None:
    image = jpeg(tmp_path / "soup.jpg")
    post = PostContent(
        text="Tomato soup\nReady in 20 minutes: https://crier.example/soup.\nEnjoy!",
        media=(photo(image, alt="A bowl of tomato soup"),),
    )
    result = await world.provider.publish(post, world.account(), KEY)
    assert world.sent() == ["POST api.pinterest.com/v5/pins"]
    request = world.router.calls.last.request
    assert request.headers["authorization"] == f"Bearer {world.token}"
    assert request.headers["content-type"] == "application/json"
    assert body_of(request) == {
        "board_id": world.fake.boards[0].id,
        "title": "Tomato soup",
        "description": "Ready in 20 minutes: https://crier.example/soup.\nEnjoy!",
        "link": "https://crier.example/soup",
        "alt_text": "A bowl of tomato soup",
        "media_source": {
            "source_type": "image_base64",
            "content_type": "image/jpeg",
            "data": base64.b64encode(image.read_bytes()).decode(),
        },
    }
    (pin,) = world.fake.pins
    assert pin.images == [("image/jpeg", image.read_bytes())]
    assert (result.platform_id, result.url) == (pin.id, world.fake.pin_url(pin))


async def test_a_one_line_post_is_all_description(world: World, tmp_path: Path) -> None:
    post = PostContent(text="  Autumn colours  ", media=(photo(jpeg(tmp_path / "a.jpg")),))
    await world.provider.publish(post, world.account(), KEY)
    body = body_of(world.router.calls.last.request)
    assert (body.get("title"), body["description"], body.get("link")) == (
        None,
        "Autumn colours",
        None,
    )


async def test_several_photos_are_one_carousel_pin(world: World, tmp_path: Path) -> None:
    images = [jpeg(tmp_path / "1.jpg"), rgba_png(tmp_path / "2.png"), jpeg(tmp_path / "3.jpg")]
    media = (
        photo(images[0]),
        photo(images[1], alt="Second", mime="image/png"),
        photo(images[2], alt="Third"),
    )
    await world.provider.publish(PostContent(text="Three", media=media), world.account(), KEY)
    body = body_of(world.router.calls.last.request)
    assert body["alt_text"] == "Second"  # Pinterest takes one: the first written
    assert body["media_source"] == {
        "source_type": "multiple_image_base64",
        "items": [
            {"content_type": m.mime, "data": base64.b64encode(p.read_bytes()).decode()}
            for m, p in zip(media, images, strict=True)
        ],
    }
    assert [mime for mime, _ in world.fake.pins[0].images] == [
        "image/jpeg",
        "image/png",
        "image/jpeg",
    ]


# -- publishing a video: two phases ---------------------------------------------------------


async def test_a_video_uploads_then_is_polled_until_pinned(world: World, tmp_path: Path) -> None:
    clip = mp4(tmp_path / "clip.mp4", seconds=1.0, size=(160, 120), fps=10)
    world.fake.processing_polls = 1
    post = PostContent(text="Pasta\nHow to fold ravioli", media=(video(clip),))

    first = await world.provider.publish(post, world.account(), KEY)
    assert isinstance(first, Processing)
    (media_id,) = world.fake.media
    assert first.handle == {"media_id": media_id, "polls": 0}
    assert (first.retry_after, first.stage) == (5.0, "processing the video")
    assert world.sent() == [
        "POST api.pinterest.com/v5/media",
        "POST pinterest-media-upload.s3-accelerate.amazonaws.com/",
    ]
    register, upload = (c.request for c in world.router.calls)
    assert body_of(register) == {"media_type": "video"}
    assert "authorization" not in upload.headers  # no Pinterest token goes to the bucket
    parts = parse_multipart(upload)
    fields = world.fake.storage.uploads[world.fake.media[media_id].key].fields
    assert [p.name for p in parts] == [*fields, "file"]  # the file last, as S3 needs
    assert {p.name: p.data.decode() for p in parts[:-1]} == fields
    assert (parts[-1].filename, parts[-1].content_type) == ("clip.mp4", "video/mp4")
    assert parts[-1].data == clip.read_bytes()
    assert json.loads(json.dumps(first.handle)) == first.handle  # storable as it is
    assert not any("SECRET" in str(v) for v in first.handle.values())

    second = await world.provider.poll(first.handle, post, world.account(), KEY)
    assert isinstance(second, Processing)
    assert second.handle == {"media_id": media_id, "polls": 1}
    assert second.retry_after == 10.0
    assert world.fake.pins == []

    result = await world.provider.poll(second.handle, post, world.account(), KEY)
    assert not isinstance(result, Processing)
    assert world.sent()[2:] == [
        f"GET api.pinterest.com/v5/media/{media_id}",
        f"GET api.pinterest.com/v5/media/{media_id}",
        "POST api.pinterest.com/v5/pins",
    ]
    assert body_of(world.router.calls.last.request) == {
        "board_id": world.fake.boards[0].id,
        "title": "Pasta",
        "description": "How to fold ravioli",
        "media_source": {
            "source_type": "video_id",
            "media_id": media_id,
            "cover_image_key_frame_time": 1,
        },
    }
    (pin,) = world.fake.pins
    assert (result.platform_id, result.url) == (pin.id, world.fake.pin_url(pin))
    assert world.fake.storage.uploads[world.fake.media[media_id].key].attempts == [
        clip.stat().st_size
    ]


async def test_a_poll_from_the_stored_handle_alone_after_a_restart(
    world: World, tmp_path: Path
) -> None:
    clip = mp4(tmp_path / "clip.mp4", seconds=1.0, size=(160, 120), fps=10)
    world.fake.processing_polls = 2
    post = PostContent(text="Ravioli", media=(video(clip),))
    started = await world.provider.publish(post, world.account(), KEY)
    assert isinstance(started, Processing)
    stored = json.dumps(dict(started.handle))  # what the engine keeps on the target

    # A new process: a new client and adapter, nothing but the stored handle.
    async with httpx.AsyncClient() as http:
        provider = PinterestProvider(http)
        handle: Any = json.loads(stored)
        outcome: Any = None
        for _ in range(5):
            outcome = await provider.poll(handle, post, world.account(), KEY)
            if not isinstance(outcome, Processing):
                break
            handle = outcome.handle
    assert outcome is not None
    assert not isinstance(outcome, Processing)
    assert len(world.fake.calls("POST", "/v5/media")) == 1  # registered once
    assert len(world.fake.calls("POST", "/")) == 1  # uploaded once
    assert len(world.fake.pins) == 1  # exactly one Pin
    assert world.fake.pins[0].media_id == started.handle["media_id"]


async def test_a_video_pinterest_cannot_process_fails_for_good(
    world: World, tmp_path: Path
) -> None:
    bogus = tmp_path / "not-a-video.mp4"
    bogus.write_bytes(b"definitely not an mp4 container" * 10)
    post = PostContent(text="Broken", media=(video(bogus),))
    handle = (await world.provider.publish(post, world.account(), KEY)).handle  # type: ignore[union-attr]
    step = await world.provider.poll(handle, post, world.account(), KEY)
    assert isinstance(step, Processing)
    with pytest.raises(PermanentError, match="couldn't process the video"):
        await world.provider.poll(step.handle, post, world.account(), KEY)
    assert world.fake.pins == []


async def test_a_handle_without_a_media_id_is_refused(world: World) -> None:
    post = PostContent(text="x", media=())
    with pytest.raises(PermanentError, match="lost track"):
        await world.provider.poll({"polls": 3}, post, world.account(), KEY)
    assert world.sent() == []


async def test_the_wait_between_polls_grows_to_half_a_minute(world: World, tmp_path: Path) -> None:
    clip = mp4(tmp_path / "clip.mp4", seconds=1.0, size=(160, 120), fps=10)
    world.fake.processing_polls = 50
    post = PostContent(text="Slow", media=(video(clip),))
    step = await world.provider.publish(post, world.account(), KEY)
    waits = []
    for _ in range(6):
        assert isinstance(step, Processing)
        waits.append(step.retry_after)
        step = await world.provider.poll(step.handle, post, world.account(), KEY)
    assert waits == [5.0, 10.0, 20.0, 30.0, 30.0, 30.0]


async def test_a_video_with_a_photo_is_refused_before_any_upload(
    world: World, tmp_path: Path
) -> None:
    clip = mp4(tmp_path / "clip.mp4", seconds=1.0, size=(160, 120), fps=10)
    post = PostContent(text="Both", media=(photo(jpeg(tmp_path / "a.jpg")), video(clip)))
    assert "mixed_media" in [p.code for p in world.provider.validate(post, world.account())]
    with pytest.raises(PermanentError, match="one video and nothing else"):
        await world.provider.publish(post, world.account(), KEY)
    assert world.sent() == []
