"""The YouTube adapter against the stateful fake (tests/fakes/youtube.py): sign in with Google,
list the channel, upload a real video in chunks across polls and restarts, wait for
processing; and the fake's own fidelity to YouTube's rules."""

from __future__ import annotations

import json
import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from providers.base import (
    AccountRef,
    MediaFile,
    MediaKind,
    PostContent,
    Processing,
    PublishResult,
    VerifiedAccount,
)
from providers.errors import AuthError, PermanentError, RateLimited, TransientError
from providers.oauth import OAuthApp, OAuthClient, pkce_pair
from providers.youtube import YouTubeProvider
from tests.fakes.serve import from_handler, serve
from tests.fakes.youtube import INSERT_COST, FakeYouTube
from tests.media_samples import mp4

KIB = 1024
CHUNK = 256 * KIB
REDIRECT = "https://crier.example/oauth/youtube/callback"


def padded_mp4(path: Path, padding: int = 600 * KIB) -> Path:
    """A real MP4 made longer than a chunk by a `free` box, which players skip."""
    mp4(path, seconds=1.0, size=(64, 48), fps=10)
    with path.open("ab") as file:
        file.write(struct.pack(">I", padding + 8) + b"free" + bytes(padding))
    return path


def media(path: Path, *, width: int = 64, height: int = 48) -> MediaFile:
    return MediaFile(
        kind=MediaKind.VIDEO,
        mime="video/mp4",
        size=path.stat().st_size,
        path=path,
        width=width,
        height=height,
        duration=1.0,
        file_name=path.name,
    )


def connected(found: VerifiedAccount, **config: Any) -> AccountRef:
    return AccountRef(
        id=7,
        platform="youtube",
        label=found.label,
        config={**found.config, **config},
        credentials=found.credentials or {},
    )


async def to_the_end(
    provider: YouTubeProvider, post: PostContent, account: AccountRef
) -> tuple[PublishResult, list[Processing]]:
    steps: list[Processing] = []
    result = await provider.publish(post, account, "key")
    while isinstance(result, Processing):
        steps.append(result)
        assert len(steps) < 20
        result = await provider.poll(result.handle, post, account, "key")
    return result, steps


@pytest.fixture
async def fake_http() -> AsyncIterator[tuple[FakeYouTube, httpx.AsyncClient]]:
    fake = FakeYouTube()
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handle)) as client:
        yield fake, client


def provider_for(fake: FakeYouTube, http: httpx.AsyncClient, **kw: Any) -> YouTubeProvider:
    app = OAuthApp(client_id=fake.oauth.client_id, client_secret=fake.oauth.client_secret)
    return YouTubeProvider(http, oauth_app=app, **{"chunk_size": CHUNK, **kw})


async def sign_in(
    provider: YouTubeProvider, fake: FakeYouTube, http: httpx.AsyncClient
) -> AccountRef:
    """The browser round trip: consent on Google's side, the code exchanged, channels listed."""
    assert provider.oauth is not None
    assert provider.oauth_app is not None
    client = OAuthClient(provider.oauth, provider.oauth_app, http, platform="YouTube")
    verifier, challenge = pkce_pair()
    await client.authorize_url(REDIRECT, "state", challenge)
    code = fake.oauth.authorize(
        provider.oauth.scopes, code_challenge=challenge, redirect_uri=REDIRECT
    )
    token = await client.exchange(code, REDIRECT, verifier)
    [found] = await provider.accounts_for(token)
    return connected(found)


async def test_sign_in_then_publish_a_video_through_both_phases(
    fake_http: tuple[FakeYouTube, httpx.AsyncClient], tmp_path: Path
) -> None:
    fake, http = fake_http
    provider = provider_for(fake, http)
    account = await sign_in(provider, fake, http)
    assert account.label == "Crier Tests (@criertests)"
    assert account.config["channel_id"] == fake.channels[0].id
    assert set(account.credentials) == {"access_token", "refresh_token", "expires_at", "scope"}

    video = media(padded_mp4(tmp_path / "holiday.mp4"))
    post = PostContent(text="Our holiday\nTwo weeks by the sea.", media=(video,))
    assert provider.validate(post, account) == []
    result, steps = await to_the_end(provider, post, account)

    [made] = fake.published
    assert result == PublishResult(
        platform_id=made.id,
        url=f"https://www.youtube.com/watch?v={made.id}",
        ref={"video_id": made.id, "parts": 1},
    )
    assert [s.stage for s in steps] == [
        "uploading the video",  # publish: the session is open
        "processing the video",  # poll: every chunk went up
        "processing the video",  # poll: still "uploaded"
    ]
    assert made.data == video.path.read_bytes()  # type: ignore[union-attr]
    assert made.resource == {
        "snippet": {"title": "Our holiday", "description": "Two weeks by the sea."},
        "status": {"privacyStatus": "public", "selfDeclaredMadeForKids": False},
    }
    puts = [r.headers.get("content-range") for r in fake.requests if r.method == "PUT"]
    size = video.size
    assert puts == [
        f"bytes */{size}",
        f"bytes 0-{CHUNK - 1}/{size}",
        f"bytes {CHUNK}-{2 * CHUNK - 1}/{size}",
        f"bytes {2 * CHUNK}-{size - 1}/{size}",
    ]
    assert fake.quota_used == INSERT_COST + 1 + 2  # the upload, channels.list, two videos.list


async def test_a_broken_upload_resumes_after_a_restart_and_makes_one_video(
    fake_http: tuple[FakeYouTube, httpx.AsyncClient], tmp_path: Path
) -> None:
    fake, http = fake_http
    account = await sign_in(provider_for(fake, http), fake, http)
    video = media(padded_mp4(tmp_path / "clip.mp4"))
    post = PostContent(text="Resumed", media=(video,))
    started = await provider_for(fake, http, chunk_size=2 * CHUNK).publish(post, account, "key")
    stored = json.loads(json.dumps(started.handle))  # what the engine keeps on the target

    fake.break_at = CHUNK + 1000  # the connection dies in the first chunk, past its first block
    with pytest.raises(TransientError):
        await provider_for(fake, http, chunk_size=2 * CHUNK).poll(stored, post, account, "key")

    # A new process, with the stored handle alone.
    fresh = provider_for(fake, http, chunk_size=2 * CHUNK)
    result: PublishResult | Processing = await fresh.poll(stored, post, account, "key")
    while isinstance(result, Processing):
        result = await fresh.poll(result.handle, post, account, "key")

    assert len(fake.sessions) == 1
    [made] = fake.videos
    assert made.data == video.path.read_bytes()  # type: ignore[union-attr]
    assert result.platform_id == made.id
    puts = [r.headers.get("content-range") for r in fake.requests if r.method == "PUT"]
    size = video.size
    assert puts == [
        f"bytes */{size}",
        f"bytes 0-{2 * CHUNK - 1}/{size}",  # broke off; Google kept its first 256 KiB
        f"bytes */{size}",  # the restart asks
        f"bytes {CHUNK}-{size - 1}/{size}",  # and sends only what is missing
    ]


async def test_bytes_that_are_not_a_video_fail_processing(
    fake_http: tuple[FakeYouTube, httpx.AsyncClient], tmp_path: Path
) -> None:
    fake, http = fake_http
    provider = provider_for(fake, http)
    account = await sign_in(provider, fake, http)
    path = tmp_path / "fake.mp4"
    path.write_bytes(b"this is not a video" * 100)
    with pytest.raises(PermanentError, match="couldn't read the file as a video"):
        await to_the_end(provider, PostContent(text="Broken", media=(media(path),)), account)
    assert fake.videos[0].upload_status == "failed"


async def test_a_rejected_video_is_reported_with_youtubes_reason(
    fake_http: tuple[FakeYouTube, httpx.AsyncClient], tmp_path: Path
) -> None:
    fake, http = fake_http
    provider = provider_for(fake, http)
    account = await sign_in(provider, fake, http)
    fake.next_outcome = ("rejected", "duplicate")
    video = media(padded_mp4(tmp_path / "again.mp4", padding=1000))
    with pytest.raises(PermanentError, match="duplicates a video"):
        await to_the_end(provider, PostContent(text="Again", media=(video,)), account)


async def test_an_expired_access_token_is_refreshed_and_the_upload_goes_on(
    fake_http: tuple[FakeYouTube, httpx.AsyncClient], tmp_path: Path
) -> None:
    fake, http = fake_http
    provider = provider_for(fake, http)
    account = await sign_in(provider, fake, http)
    video = media(padded_mp4(tmp_path / "clip.mp4", padding=1000))
    post = PostContent(text="Later", media=(video,))
    started = await provider.publish(post, account, "key")
    fake.advance(3600)  # the access token has expired
    with pytest.raises(AuthError):
        await provider.poll(started.handle, post, account, "key")
    credentials = await provider.refresh(account)
    assert credentials["refresh_token"] == account.credentials["refresh_token"]
    assert credentials["access_token"] != account.credentials["access_token"]
    renewed = AccountRef(
        id=7, platform="youtube", label="", config=account.config, credentials=credentials
    )
    result = await provider.poll(started.handle, post, renewed, "key")
    assert isinstance(result, Processing)
    assert result.stage == "processing the video"
    fake.oauth.revoke(str(credentials["refresh_token"]))
    with pytest.raises(AuthError, match="expired or revoked"):
        await provider.refresh(renewed)


async def test_the_quota_and_the_daily_upload_limit(
    fake_http: tuple[FakeYouTube, httpx.AsyncClient], tmp_path: Path
) -> None:
    fake, http = fake_http
    provider = provider_for(fake, http)
    account = await sign_in(provider, fake, http)
    post = PostContent(text="One", media=(media(padded_mp4(tmp_path / "a.mp4", padding=8)),))
    fake.upload_limit = 1
    await provider.publish(post, account, "k1")
    with pytest.raises(PermanentError, match="daily upload limit"):
        await provider.publish(post, account, "k2")
    fake.upload_limit = None
    fake.quota = fake.quota_used + INSERT_COST - 1
    with pytest.raises(RateLimited, match="midnight Pacific") as raised:
        await provider.publish(post, account, "k3")
    assert 60 < raised.value.retry_after <= 24 * 3600 + 60


async def test_a_token_without_the_readonly_scope_cannot_list_channels(
    fake_http: tuple[FakeYouTube, httpx.AsyncClient],
) -> None:
    fake, http = fake_http
    provider = provider_for(fake, http)
    token = fake.token(scopes=("https://www.googleapis.com/auth/youtube.upload",))
    account = AccountRef(id=1, platform="youtube", label="", credentials={"access_token": token})
    with pytest.raises(AuthError, match="permission"):
        await provider.verify(account)


async def test_over_real_http(tmp_path: Path) -> None:
    fake = FakeYouTube(processing_polls=0)
    async with serve(from_handler(fake.handle)) as base, httpx.AsyncClient() as http:
        provider = provider_for(
            fake,
            http,
            api_base_url=f"{base}/youtube/v3",
            upload_base_url=f"{base}/upload/youtube/v3",
            auth_base_url=base,
            token_base_url=base,
        )
        account = await sign_in(provider, fake, http)
        video = media(padded_mp4(tmp_path / "v.mp4"), width=48, height=64)
        result, _ = await to_the_end(provider, PostContent(text="Tall", media=(video,)), account)
    [made] = fake.videos
    assert result == PublishResult(
        platform_id=made.id,
        url=f"https://youtube.com/shorts/{made.id}",
        ref={"video_id": made.id, "parts": 1},
    )
    assert made.data == video.path.read_bytes()  # type: ignore[union-attr]


# -- the fake keeps YouTube's rules ---------------------------------------------------------


async def test_the_fake_refuses_what_youtube_refuses(
    fake_http: tuple[FakeYouTube, httpx.AsyncClient],
) -> None:
    fake, http = fake_http
    auth = {"Authorization": f"Bearer {fake.token()}"}
    url = "https://www.googleapis.com/upload/youtube/v3/videos"
    params = {"uploadType": "resumable", "part": "snippet,status"}
    head = {**auth, "X-Upload-Content-Length": str(3 * CHUNK), "X-Upload-Content-Type": "video/mp4"}

    async def start(resource: dict[str, Any]) -> httpx.Response:
        return await http.post(url, params=params, headers=head, json=resource)

    bad_title = await start({"snippet": {"title": "a <b>"}, "status": {}})
    assert bad_title.json()["error"]["errors"][0]["reason"] == "invalidTitle"
    early = await start(
        {
            "snippet": {"title": "t"},
            "status": {"privacyStatus": "public", "publishAt": "2030-01-01T00:00:00Z"},
        }
    )
    assert early.json()["error"]["errors"][0]["reason"] == "invalidPublishAt"
    ok = await start({"snippet": {"title": "t"}, "status": {}})
    session = ok.headers["location"]
    odd = await http.put(
        session, headers={**auth, "Content-Range": f"bytes 0-999/{3 * CHUNK}"}, content=bytes(1000)
    )
    assert odd.status_code == 400  # not a multiple of 256 KiB, and not the last chunk
    ahead = await http.put(
        session,
        headers={**auth, "Content-Range": f"bytes {CHUNK}-{2 * CHUNK - 1}/{3 * CHUNK}"},
        content=bytes(CHUNK),
    )
    assert "exceeds already uploaded size of 0" in ahead.json()["error"]["message"]
    query = await http.put(session, headers={**auth, "Content-Range": f"bytes */{3 * CHUNK}"})
    assert (query.status_code, query.headers.get("range")) == (308, None)
    fake.expire_sessions()
    gone = await http.put(session, headers={**auth, "Content-Range": f"bytes */{3 * CHUNK}"})
    assert gone.status_code == 404
