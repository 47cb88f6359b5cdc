"""Fetching media links: checked like uploads, and never a way into the server's network.

Files are served over real HTTP by a local server (tests/fakes/serve.py); the addresses
a name resolves to are scripted where the test is about them.
"""

from __future__ import annotations

import asyncio
import io
import re
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from bot.media.fetch import (
    Fetched,
    FetchPolicy,
    MediaFetcher,
    MediaRejected,
    Resolver,
    check_url,
    is_public,
    system_resolve,
)
from bot.media.receive import INCOMING_DIR
from providers.base import MediaKind
from tests import media_samples as samples
from tests.fakes.serve import serve

LOCAL = FetchPolicy(timeout=5.0, max_bytes=1_000_000, max_redirects=2, allow_private=True)


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(buffer, "JPEG")
    return buffer.getvalue()


class Site:
    """What the test server serves, and every request it saw (path, Host header)."""

    def __init__(self, tmp_path: Path) -> None:
        self.requests: list[tuple[str, str]] = []
        self.jpeg = jpeg_bytes()
        self.exe = samples.pe(tmp_path / "setup.exe").read_bytes()

    async def handle(self, request: Request) -> Response:
        path = request.url.path
        self.requests.append((path, request.headers.get("host", "")))
        if path == "/photo.jpg":
            return Response(self.jpeg, media_type="image/jpeg")
        if path == "/renamed.jpg":  # a Windows program pretending to be a photo
            return Response(self.exe, media_type="image/jpeg")
        if path == "/download":
            return Response(self.exe, media_type="application/octet-stream")
        if path == "/page":
            return Response("<!doctype html><html><img src=x></html>", media_type="text/html")
        if path == "/empty.jpg":
            return Response(b"", media_type="image/jpeg")
        if path == "/missing.jpg":
            return Response("not here", status_code=404)
        if path.startswith("/hop/"):
            left = int(path.rsplit("/", 1)[1])
            target = "/photo.jpg" if left == 0 else f"/hop/{left - 1}"
            return Response(status_code=302, headers={"location": target})
        if path == "/to-http":
            return Response(status_code=301, headers={"location": "http://example.com/a.jpg"})
        if path == "/big.jpg":
            return Response(b"\xff\xd8\xff" + bytes(2_000_000), media_type="image/jpeg")
        if path == "/streamed.jpg":

            async def chunks() -> AsyncIterator[bytes]:
                yield b"\xff\xd8\xff"
                for _ in range(40):
                    yield bytes(64 * 1024)

            return StreamingResponse(chunks(), media_type="image/jpeg")
        if path == "/slow.jpg":
            await asyncio.sleep(3)
            return Response(self.jpeg, media_type="image/jpeg")
        return Response(status_code=500)


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[tuple[Site, str]]:
    site = Site(tmp_path)
    app = Starlette(routes=[Route("/{path:path}", site.handle)])
    async with serve(app) as url:
        yield site, url


def incoming(media_dir: Path) -> list[Path]:
    folder = media_dir / INCOMING_DIR
    return [p for p in folder.iterdir() if p.is_file()] if folder.exists() else []


async def fetch(
    media_dir: Path, url: str, policy: FetchPolicy = LOCAL, resolve: Resolver = system_resolve
) -> Fetched:
    async with MediaFetcher(media_dir, policy, resolve=resolve) as fetcher:
        return await fetcher.fetch(url)


async def test_a_photo_is_fetched_probed_and_kept_content_addressed(
    site: tuple[Site, str], tmp_path: Path
) -> None:
    server, url = site
    media_dir = tmp_path / "media"
    fetched = await fetch(media_dir, f"{url}/photo.jpg")
    assert fetched.kind is MediaKind.PHOTO
    assert (fetched.info.mime, fetched.info.width, fetched.info.height) == ("image/jpeg", 64, 48)
    assert fetched.file_name == "photo.jpg"
    assert fetched.temp.parent == media_dir / INCOMING_DIR
    fetched.keep(media_dir)
    stored = media_dir / fetched.storage_key
    assert stored.read_bytes() == server.jpeg
    assert incoming(media_dir) == []
    fetched.keep(media_dir)  # idempotent


async def test_redirects_are_followed_up_to_the_limit(
    site: tuple[Site, str], tmp_path: Path
) -> None:
    _, url = site
    fetched = await fetch(tmp_path, f"{url}/hop/1")  # two redirects
    assert fetched.kind is MediaKind.PHOTO
    with pytest.raises(MediaRejected, match="redirects more than 2 times"):
        await fetch(tmp_path, f"{url}/hop/2")
    assert len(incoming(tmp_path)) == 1  # only the first, not kept yet


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/renamed.jpg", "says it's a JPEG but it isn't one: it's a Windows program"),
        ("/download", "serves a Windows program"),
        ("/page", "leads to a web page"),
        ("/empty.jpg", "empty"),
        ("/missing.jpg", "answered 404"),
        ("/to-http", "redirects to a link Crier won't follow"),
        ("/big.jpg", "2.0 MB; links may serve at most 1 MB"),
        ("/streamed.jpg", "more than 1 MB"),
    ],
)
async def test_unusable_files_are_refused_and_leave_nothing(
    site: tuple[Site, str], tmp_path: Path, path: str, says: str
) -> None:
    _, url = site
    with pytest.raises(MediaRejected, match=says):
        await fetch(tmp_path, f"{url}{path}")
    assert incoming(tmp_path) == []


async def test_a_slow_server_is_cut_off_at_the_deadline(
    site: tuple[Site, str], tmp_path: Path
) -> None:
    _, url = site
    policy = FetchPolicy(timeout=0.3, max_bytes=1_000_000, allow_private=True)
    with pytest.raises(MediaRejected, match=re.escape("took longer than 0.3 s")):
        await fetch(tmp_path, f"{url}/slow.jpg", policy)
    assert incoming(tmp_path) == []


async def test_an_unreachable_server_is_a_clear_reason(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(MediaRejected, match=re.escape("Couldn't connect to 127.0.0.1")):
        await fetch(tmp_path, f"http://127.0.0.1:{port}/photo.jpg")


async def test_private_addresses_are_refused_before_any_request(
    site: tuple[Site, str], tmp_path: Path
) -> None:
    server, url = site
    public_only = FetchPolicy(timeout=5.0, max_bytes=1_000_000)
    with pytest.raises(MediaRejected, match="private network"):
        await fetch(tmp_path, f"{url}/photo.jpg", public_only)

    async def to_metadata(host: str, port: int) -> list[str]:
        return ["169.254.169.254"]  # a name that resolves to the cloud metadata service

    with pytest.raises(MediaRejected, match=re.escape("cdn.example is on a private network")):
        await fetch(tmp_path, "https://cdn.example/a.jpg", public_only, resolve=to_metadata)
    assert server.requests == []


async def test_the_checked_address_is_the_one_connected_to(
    site: tuple[Site, str], tmp_path: Path
) -> None:
    """The name is resolved once and the request goes to that address, with the name in
    the Host header: a second, different DNS answer can't redirect the connection."""
    server, url = site
    port = int(url.rsplit(":", 1)[1])
    answers = iter([["127.0.0.1"], ["10.1.2.3"]])
    seen: list[str] = []

    async def resolve(host: str, port_: int) -> list[str]:
        seen.append(host)
        return next(answers)

    fetched = await fetch(tmp_path, f"http://media.localhost:{port}/photo.jpg", resolve=resolve)
    assert fetched.kind is MediaKind.PHOTO
    assert seen == ["media.localhost"]
    assert server.requests == [("/photo.jpg", f"media.localhost:{port}")]


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://example.com/a.jpg", "must start with https://"),
        ("ftp://example.com/a.jpg", "not an https:// link"),
        ("example.com/a.jpg", "not an https:// link"),
        ("https://user:secret@example.com/a.jpg", "user name or password"),
        ("https:///a.jpg", "not an https:// link"),
    ],
)
def test_only_https_links_are_taken(url: str, says: str) -> None:
    with pytest.raises(MediaRejected, match=says):
        check_url(url)


def test_http_is_allowed_only_to_this_machine() -> None:
    assert check_url("http://127.0.0.1:8000/a.jpg").host == "127.0.0.1"
    assert check_url("http://files.localhost/a.jpg").host == "files.localhost"
    assert check_url(" https://example.com/a.jpg ").scheme == "https"


def addresses() -> Iterator[tuple[str, bool]]:
    yield from [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fd00::1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("224.0.0.1", False),
        ("not-an-ip", False),
    ]


@pytest.mark.parametrize(("address", "public"), list(addresses()))
def test_is_public(address: str, public: bool) -> None:
    assert is_public(address) is public
