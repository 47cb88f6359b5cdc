"""The YouTube adapter against YouTube Data API v3's documented requests and answers (respx):
the Google sign-in, channels, the resumable upload in two phases, processing, and errors.
The whole flow against the stateful fake is in test_youtube_fake.py."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from providers.base import MediaFile, MediaKind, PostContent, Processing
from providers.errors import AuthError, PermanentError, TransientError
from providers.oauth import OAuthClient, Token
from providers.youtube import YouTubeProvider
from tests.unit.providers.youtube_support import (
    APP,
    CHANNEL,
    CHANNELS,
    KEY,
    KIB,
    NOW,
    REFRESH,
    SESSION,
    TOKEN,
    TOKEN_URL,
    account,
    clip,
    open_session,
    post_of,
    sent,
)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def provider(http: httpx.AsyncClient) -> YouTubeProvider:
    return YouTubeProvider(http, oauth_app=APP, now=lambda: NOW, chunk_size=256 * KIB)


# -- the Google sign-in ---------------------------------------------------------------------


async def test_the_authorize_url_asks_for_offline_access_consent_and_pkce(
    provider: YouTubeProvider, http: httpx.AsyncClient
) -> None:
    assert provider.oauth is not None
    client = OAuthClient(provider.oauth, APP, http, platform="YouTube")
    url = await client.authorize_url("https://crier.example/oauth/youtube/callback", "st", "ch")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://accounts.google.com/o/oauth2/v2/auth"
    )
    assert {k: v[0] for k, v in parse_qs(parts.query).items()} == {
        "response_type": "code",
        "client_id": APP.client_id,
        "redirect_uri": "https://crier.example/oauth/youtube/callback",
        "state": "st",
        "scope": "https://www.googleapis.com/auth/youtube.upload "
        "https://www.googleapis.com/auth/youtube.readonly "
        "https://www.googleapis.com/auth/youtube.force-ssl",
        "code_challenge": "ch",
        "code_challenge_method": "S256",
        "access_type": "offline",
        "prompt": "consent",
    }
    assert provider.oauth.token_url == TOKEN_URL


async def test_the_code_exchange_posts_the_client_secret_and_verifier(
    provider: YouTubeProvider, http: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    route = router.post(TOKEN_URL).respond(
        200,
        json={
            "access_token": "ya29.new",
            "expires_in": 3599,
            "refresh_token": "1//first",
            "scope": "https://www.googleapis.com/auth/youtube.upload "
            "https://www.googleapis.com/auth/youtube.readonly",
            "token_type": "Bearer",
        },
    )
    assert provider.oauth is not None
    client = OAuthClient(provider.oauth, APP, http, platform="YouTube", clock=lambda: NOW)
    token = await client.exchange("4/0code", "https://crier.example/cb", "verifier")
    form = {k: v[0] for k, v in parse_qs(route.calls.last.request.content.decode()).items()}
    assert form == {
        "grant_type": "authorization_code",
        "code": "4/0code",
        "redirect_uri": "https://crier.example/cb",
        "code_verifier": "verifier",
        "client_id": APP.client_id,
        "client_secret": APP.client_secret,
    }
    assert "authorization" not in route.calls.last.request.headers  # client_secret_post
    assert (token.access_token, token.refresh_token) == ("ya29.new", "1//first")
    assert token.expires_at == NOW + timedelta(seconds=3599)


@pytest.mark.parametrize(
    ("answer", "refresh_token"),
    [
        ({"access_token": "ya29.two", "expires_in": 3599, "token_type": "Bearer"}, REFRESH),
        (
            {"access_token": "ya29.two", "expires_in": 3599, "refresh_token": "1//rotated"},
            "1//rotated",
        ),
    ],
    ids=["google keeps the refresh token", "a rotated one is taken"],
)
async def test_refresh_renews_the_access_token(
    provider: YouTubeProvider, router: respx.MockRouter, answer: dict[str, Any], refresh_token: str
) -> None:
    route = router.post(TOKEN_URL).respond(200, json=answer)
    credentials = await provider.refresh(account())
    form = {k: v[0] for k, v in parse_qs(route.calls.last.request.content.decode()).items()}
    assert form == {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH,
        "client_id": APP.client_id,
        "client_secret": APP.client_secret,
    }
    assert credentials == {
        "access_token": "ya29.two",
        "refresh_token": refresh_token,
        "expires_at": (NOW + timedelta(seconds=3599)).isoformat(),
    }


async def test_a_revoked_refresh_token_means_reconnect(
    provider: YouTubeProvider, router: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    router.post(TOKEN_URL).respond(
        400,
        json={"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
    )
    with pytest.raises(AuthError, match="expired or revoked"):
        await provider.refresh(account())
    router.post(TOKEN_URL).respond(503, text="unavailable")
    with pytest.raises(TransientError):
        await provider.refresh(account())
    with pytest.raises(AuthError):
        await YouTubeProvider(http).refresh(account())  # no app configured: nothing to refresh with


# -- channels -------------------------------------------------------------------------------


def channel_json(channel_id: str, title: str, handle: str, long_uploads: str) -> dict[str, Any]:
    return {
        "kind": "youtube#channel",
        "id": channel_id,
        "snippet": {"title": title, "customUrl": handle, "description": ""},
        "status": {"privacyStatus": "public", "isLinked": True, "longUploadsStatus": long_uploads},
    }


async def test_accounts_for_lists_every_channel_of_the_login(
    provider: YouTubeProvider, router: respx.MockRouter
) -> None:
    route = router.get(CHANNELS).respond(
        200,
        json={
            "items": [
                channel_json(CHANNEL, "Crier Tests", "@criertests", "allowed"),
                channel_json("UCsecond", "Second", "", "eligible"),
            ]
        },
    )
    token = Token(
        access_token=TOKEN,
        refresh_token=REFRESH,
        expires_at=NOW + timedelta(hours=1),
        scope="https://www.googleapis.com/auth/youtube.upload "
        "https://www.googleapis.com/auth/youtube.readonly",
    )
    found = await provider.accounts_for(token)
    request = route.calls.last.request
    assert dict(request.url.params) == {"part": "snippet,status", "mine": "true"}
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert [(a.label, a.external_id) for a in found] == [
        ("Crier Tests (@criertests)", CHANNEL),
        ("Second", "UCsecond"),
    ]
    assert found[0].config == {
        "channel_id": CHANNEL,
        "title": "Crier Tests",
        "custom_url": "@criertests",
        "long_uploads_status": "allowed",
    }
    assert found[1].config["long_uploads_status"] == "eligible"
    assert found[0].credentials == {
        "access_token": TOKEN,
        "refresh_token": REFRESH,
        "expires_at": (NOW + timedelta(hours=1)).isoformat(),
        "scope": token.scope,
    }


async def test_a_login_without_a_channel_or_the_upload_scope_is_refused(
    provider: YouTubeProvider, router: respx.MockRouter
) -> None:
    router.get(CHANNELS).respond(200, json={"kind": "youtube#channelListResponse", "items": []})
    with pytest.raises(PermanentError, match="create_channel"):
        await provider.accounts_for(Token(access_token=TOKEN))
    calls = len(router.calls)
    readonly = Token(access_token=TOKEN, scope="https://www.googleapis.com/auth/youtube.readonly")
    with pytest.raises(AuthError, match="upload"):
        await provider.accounts_for(readonly)
    assert len(router.calls) == calls  # refused before asking YouTube


async def test_verify_reads_the_channel_again(
    provider: YouTubeProvider, router: respx.MockRouter
) -> None:
    router.get(CHANNELS).respond(
        200, json={"items": [channel_json(CHANNEL, "Renamed", "@criertests", "eligible")]}
    )
    verified = await provider.verify(account({"privacy": "unlisted"}))
    assert verified.label == "Renamed (@criertests)"
    assert verified.config["long_uploads_status"] == "eligible"
    assert verified.config["privacy"] == "unlisted"  # the user's options are kept
    assert verified.credentials is None
    with pytest.raises(AuthError, match="doesn't reach"):
        await provider.verify(account({"channel_id": "UCsomeoneelse"}))


# -- publish: the session -------------------------------------------------------------------


@dataclass
class SessionCase:
    id: str
    text: str
    config: dict[str, Any]
    scheduled_at: datetime | None
    resource: dict[str, Any]


SESSION_CASES = [
    SessionCase(
        "title and description",
        "  \nMy <b>title</b>\r\nLine one\n\nLine two  ",
        {},
        None,
        {
            "snippet": {"title": "My ‹b›title‹/b›", "description": "Line one\n\nLine two"},
            "status": {"privacyStatus": "public", "selfDeclaredMadeForKids": False},
        },
    ),
    SessionCase(
        "unlisted, a category, a past time",
        "Only a title",
        {"privacy": "unlisted", "category_id": 27},
        NOW - timedelta(minutes=1),
        {
            "snippet": {"title": "Only a title", "categoryId": "27"},
            "status": {"privacyStatus": "unlisted", "selfDeclaredMadeForKids": False},
        },
    ),
    SessionCase(
        "public, due later: private until publishAt",
        "Later",
        {},
        NOW + timedelta(hours=3),
        {
            "snippet": {"title": "Later"},
            "status": {
                "privacyStatus": "private",
                "selfDeclaredMadeForKids": False,
                "publishAt": "2026-01-15T15:00:00Z",
            },
        },
    ),
    SessionCase(
        "private, due later: stays private",
        "Mine",
        {"privacy": "private"},
        NOW + timedelta(hours=3),
        {
            "snippet": {"title": "Mine"},
            "status": {"privacyStatus": "private", "selfDeclaredMadeForKids": False},
        },
    ),
]


@pytest.mark.parametrize("case", SESSION_CASES, ids=[c.id for c in SESSION_CASES])
async def test_publish_opens_a_resumable_session_and_uploads_nothing_yet(
    provider: YouTubeProvider, router: respx.MockRouter, tmp_path: Path, case: SessionCase
) -> None:
    route = open_session(router)
    video = clip(tmp_path, 1234)
    post = post_of(video, case.text, scheduled_at=case.scheduled_at)
    result = await provider.publish(post, account(case.config), KEY)
    assert sent(router) == ["POST /upload/youtube/v3/videos"]
    request = route.calls.last.request
    assert dict(request.url.params) == {"uploadType": "resumable", "part": "snippet,status"}
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json; charset=UTF-8"
    assert request.headers["x-upload-content-length"] == "1234"
    assert request.headers["x-upload-content-type"] == "video/mp4"
    assert json.loads(request.content) == case.resource
    assert result == Processing(
        handle={
            "stage": "upload",
            "session_uri": SESSION,
            "size": 1234,
            "mime": "video/mp4",
            "short": False,
        },
        retry_after=0.0,
        stage="uploading the video",
    )


@pytest.mark.parametrize(
    "media",
    [(), "photo", "two videos"],
    ids=["text only", "a photo", "two videos"],
)
async def test_what_is_not_one_video_is_refused_without_a_request(
    provider: YouTubeProvider, router: respx.MockRouter, tmp_path: Path, media: Any
) -> None:
    if media == "photo":
        items: tuple[MediaFile, ...] = (
            MediaFile(kind=MediaKind.PHOTO, mime="image/jpeg", size=10, path=tmp_path / "a.jpg"),
        )
    elif media == "two videos":
        items = (clip(tmp_path), clip(tmp_path))
    else:
        items = ()
    with pytest.raises(PermanentError, match="one video"):
        await provider.publish(PostContent(text="Hello", media=items), account(), KEY)
    assert not router.calls


async def test_a_session_uri_elsewhere_is_not_followed(
    provider: YouTubeProvider, router: respx.MockRouter, tmp_path: Path
) -> None:
    open_session(router, "https://evil.example/upload?upload_id=1")
    with pytest.raises(TransientError, match="where to upload"):
        await provider.publish(post_of(clip(tmp_path)), account(), KEY)
