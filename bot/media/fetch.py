"""Fetching a media file from a link a user gave (bulk scheduling), safely.

A link is a request the server makes on the user's behalf, so it is held to more than an
upload: https only (plain http just for local test servers), no loopback, private or
link-local addresses unless MEDIA_FETCH_ALLOW_PRIVATE is set, at most a few redirects (each
hop checked again), one deadline for the whole fetch, and a byte limit enforced while
reading. The address that was checked is the one connected to (the host name travels in
the Host header and TLS SNI), so a DNS answer that changes between the check and the
connection can't lead anywhere else. The bytes then go through the same probe as uploads:
what the file is comes from its content, never from its name or Content-Type.

`take_upload` is the REST API's way in (POST /media): a file sent to Crier rather than
fetched by it, copied to MEDIA_DIR/.incoming within a byte limit and probed the same way.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any, BinaryIO
from urllib.parse import unquote

import httpx

from bot.config import Settings
from bot.media.probe import MediaInfo, MediaRejected, probe
from bot.media.receive import INCOMING_DIR, storage_key
from bot.media.sniff import HEAD_BYTES, Family, sniff
from providers.base import MediaKind

__all__ = ["FetchPolicy", "Fetched", "MediaFetcher", "MediaRejected", "Resolver"]

#: Host name, port -> the IP addresses it resolves to.
Resolver = Callable[[str, int], Awaitable[list[str]]]

USER_AGENT = "Crier/0.1 (media link fetcher; +https://github.com/crier)"
_LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_CHUNK = 64 * 1024
# The same facts `bot.media.receive.Received` keeps in `media.probe`.
_PROBE_EXTRAS = (
    "fps",
    "video_codec",
    "audio_codec",
    "container",
    "has_alpha",
    "orientation",
    "animated",
    "has_location",
)


@dataclass(frozen=True, kw_only=True)
class FetchPolicy:
    #: The whole fetch, redirects and body included, seconds.
    timeout: float = 30.0
    #: Largest body taken, bytes.
    max_bytes: int = 50_000_000
    #: Redirects followed.
    max_redirects: int = 3
    #: Allow loopback and private addresses (tests, trusted networks).
    allow_private: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchPolicy:
        return cls(
            timeout=settings.media_fetch_timeout,
            max_bytes=settings.media_fetch_max_bytes,
            max_redirects=settings.media_fetch_max_redirects,
            allow_private=settings.media_fetch_allow_private,
        )


@dataclass(frozen=True, kw_only=True)
class Fetched:
    """A downloaded and probed file in MEDIA_DIR/.incoming, waiting to be kept or dropped."""

    url: str
    info: MediaInfo
    kind: MediaKind
    temp: Path
    #: The last part of the link's path, for platforms that show a file name.
    file_name: str | None

    @property
    def storage_key(self) -> str:
        return storage_key(self.info.sha256)

    def probe_extras(self) -> dict[str, Any]:
        facts = asdict(self.info)
        return {key: facts[key] for key in _PROBE_EXTRAS if facts[key] not in (None, False)}

    def keep(self, media_dir: Path) -> None:
        """Move the file to its content-addressed place, as uploads are; idempotent."""
        final = media_dir / self.storage_key
        if final.exists() and final.stat().st_size == self.info.size:
            os.utime(final)  # a clean-up running right now must treat it as new
            self.discard()
            return
        if not self.temp.exists():
            raise MediaRejected(
                "A file fetched from a link was lost before it was saved. Send the CSV again."
            )
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.temp, final)

    def discard(self) -> None:
        self.temp.unlink(missing_ok=True)


async def system_resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]).split("%", 1)[0] for info in infos]


class MediaFetcher:
    """Fetches links into MEDIA_DIR/.incoming; one per batch (`async with`)."""

    def __init__(
        self,
        media_dir: Path,
        policy: FetchPolicy,
        *,
        resolve: Resolver = system_resolve,
    ) -> None:
        self._media_dir = media_dir
        self._policy = policy
        self._resolve = resolve
        self._client = httpx.AsyncClient(
            # Never through a proxy from the environment: the address checked is the one used.
            trust_env=False,
            follow_redirects=False,
            timeout=httpx.Timeout(policy.timeout),
            # A connection opened for one host name must never carry a request for another.
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    async def __aenter__(self) -> MediaFetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._client.aclose()

    async def fetch(self, url: str) -> Fetched:
        """Download and probe one link; raise `MediaRejected` saying why it can't be used."""
        target = check_url(url)
        download = _Download.start(self._media_dir / INCOMING_DIR)
        try:
            try:
                async with asyncio.timeout(self._policy.timeout):
                    final, content_type = await self._download(target, download.sink)
            except TimeoutError:
                raise MediaRejected(
                    f"{target.host} took longer than {self._policy.timeout:g} s to send the file."
                ) from None
            finally:
                download.sink.close()
            file_name = _file_name(final)
            info = await asyncio.to_thread(
                probe, download.path, claimed_mime=content_type, claimed_name=file_name
            )
            if info.kind is MediaKind.DOCUMENT:
                _refuse_documents(download.path)
        except BaseException:
            download.drop()
            raise
        return Fetched(url=url, info=info, kind=info.kind, temp=download.path, file_name=file_name)

    async def _download(self, url: httpx.URL, sink: BinaryIO) -> tuple[httpx.URL, str | None]:
        """Follow redirects (each hop checked) and write the body; returns the final URL
        and its Content-Type."""
        for _hop in range(self._policy.max_redirects + 1):
            response = await self._open(url)
            try:
                if response.is_redirect:
                    location = response.headers.get("location", "")
                    try:
                        url = check_url(str(url.join(location)))
                    except (httpx.InvalidURL, MediaRejected) as exc:
                        raise MediaRejected(
                            f"{url.host} redirects to a link Crier won't follow."
                        ) from exc
                    continue
                if response.status_code != 200:
                    raise MediaRejected(
                        f"{url.host} answered {response.status_code} "
                        f"{response.reason_phrase or ''}".rstrip()
                        + " instead of sending the file: is the link right and public?"
                    )
                await self._read_body(url, response, sink)
                return url, response.headers.get("content-type")
            finally:
                await response.aclose()
        raise MediaRejected(
            f"The link redirects more than {self._policy.max_redirects} times; "
            "link to the file itself."
        )

    async def _open(self, url: httpx.URL) -> httpx.Response:
        """Send the GET to a checked address of the host, trying each until one answers."""
        host = url.raw_host.decode("ascii")
        port = url.port or (443 if url.scheme == "https" else 80)
        addresses = await self._addresses(url.host, host, port)
        headers = {
            "Host": url.netloc.decode("ascii"),
            "User-Agent": USER_AGENT,
            "Accept": "image/*, video/*;q=0.9, */*;q=0.5",
            # Media is compressed already; this keeps the byte limit about the real file.
            "Accept-Encoding": "identity",
        }
        extensions = {"sni_hostname": host} if url.scheme == "https" else {}
        failure: httpx.HTTPError | None = None
        for address in addresses:
            request = self._client.build_request(
                "GET", url.copy_with(host=address), headers=headers, extensions=extensions
            )
            try:
                return await self._client.send(request, stream=True)
            except httpx.ConnectError as exc:
                failure = exc  # another address of the same host may work
            except httpx.TimeoutException:
                raise TimeoutError from None
            except httpx.HTTPError as exc:
                raise MediaRejected(f"The download from {url.host} failed: {_why(exc)}.") from exc
        raise MediaRejected(f"Couldn't connect to {url.host}: {_why(failure)}.")

    async def _addresses(self, shown: str, host: str, port: int) -> list[str]:
        try:
            found = await self._resolve(host, port)
        except OSError as exc:
            raise MediaRejected(f"Couldn't find {shown}: is the link right?") from exc
        if not found:
            raise MediaRejected(f"Couldn't find {shown}: is the link right?")
        if not self._policy.allow_private:
            for address in found:
                if not is_public(address):
                    raise MediaRejected(
                        f"{shown} is on a private network; Crier only fetches public links."
                    )
        return found

    async def _read_body(self, url: httpx.URL, response: httpx.Response, sink: BinaryIO) -> None:
        limit = self._policy.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise MediaRejected(_too_large(int(declared), limit))
        total = 0
        try:
            async for chunk in response.aiter_bytes(_CHUNK):
                total += len(chunk)
                if total > limit:
                    raise MediaRejected(_too_large(total, limit, more=True))
                sink.write(chunk)
        except httpx.TimeoutException:
            raise TimeoutError from None
        except httpx.HTTPError as exc:
            raise MediaRejected(f"The download from {url.host} broke off: {_why(exc)}.") from exc


@dataclass(frozen=True)
class _Download:
    """The file a download is written to, in MEDIA_DIR/.incoming (the clean-up removes one
    a crash left behind)."""

    path: Path
    sink: BinaryIO

    @classmethod
    def start(cls, folder: Path) -> _Download:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix="fetch-")
        return cls(Path(name), os.fdopen(fd, "wb"))

    def drop(self) -> None:
        self.sink.close()
        self.path.unlink(missing_ok=True)


def check_url(raw: str) -> httpx.URL:
    """The link as a URL Crier may fetch: https, or http to this machine (test servers)."""
    text = raw.strip()
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise MediaRejected(f"“{text[:80]}” is not a link.") from exc
    if not url.host or url.scheme not in ("http", "https"):
        raise MediaRejected(f"“{text[:80]}” is not an https:// link.")
    if url.scheme == "http" and not is_local_name(url.host):
        raise MediaRejected(f"Links must start with https:// (“{text[:80]}” doesn't).")
    if url.userinfo:
        raise MediaRejected("Links with a user name or password in them aren't fetched.")
    return url


def is_local_name(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host in _LOCAL_NAMES or host.endswith(".localhost")


def is_public(address: str) -> bool:
    """Whether an IP address is on the public internet (not loopback, private, link-local,
    shared, reserved or multicast; an IPv4 address inside IPv6 counts as itself)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def take_upload(
    source: BinaryIO,
    media_dir: Path,
    *,
    claimed_mime: str | None,
    file_name: str | None,
    max_bytes: int,
) -> Fetched:
    """A file uploaded to the API, copied into MEDIA_DIR/.incoming and probed like any other:
    the bytes decide what it is, a claim they contradict is refused, and only photos, videos
    and animations are taken (what the platforms post). `MediaRejected` says why not."""
    download = _Download.start(media_dir / INCOMING_DIR)
    try:
        size = 0
        try:
            while chunk := await asyncio.to_thread(source.read, 1 << 20):
                size += len(chunk)
                if size > max_bytes:
                    raise MediaRejected(
                        f"The file is more than {max_bytes / 1_000_000:g} MB; uploads may be at "
                        f"most {max_bytes / 1_000_000:g} MB."
                    )
                download.sink.write(chunk)
        finally:
            download.sink.close()
        if size == 0:
            raise MediaRejected("The file is empty.")
        name = PurePosixPath(file_name or "").name[:255] or None
        info = await asyncio.to_thread(
            probe, download.path, claimed_mime=claimed_mime, claimed_name=name
        )
        if info.kind is MediaKind.DOCUMENT:
            with download.path.open("rb") as handle:
                sniffed = sniff(handle.read(HEAD_BYTES), download.path)
            raise MediaRejected(
                f"That file is {sniffed.label} ({size / 1_000_000:.1f} MB), not a photo or a "
                "video: upload a JPEG, PNG, GIF, WebP or HEIC photo, or an MP4, MOV or WebM video."
            )
    except BaseException:
        download.drop()
        raise
    return Fetched(
        url=f"upload:{name or ''}", info=info, kind=info.kind, temp=download.path, file_name=name
    )


def _file_name(url: httpx.URL) -> str | None:
    name = PurePosixPath(unquote(url.path)).name
    return name[:255] or None


def _refuse_documents(path: Path) -> None:
    """Programs never; and a web page where a file was expected is a wrong link."""
    with path.open("rb") as handle:
        sniffed = sniff(handle.read(HEAD_BYTES), path)
    if sniffed.family is Family.EXECUTABLE:
        raise MediaRejected(
            f"That link serves {sniffed.label}. Crier only posts photos, videos and "
            "documents, never programs."
        )
    if sniffed.mime == "text/html":
        raise MediaRejected(
            "That link leads to a web page, not to a file: link to the photo or video itself."
        )


def _too_large(size: int, limit: int, *, more: bool = False) -> str:
    shown = f"more than {limit / 1_000_000:g} MB" if more else f"{size / 1_000_000:.1f} MB"
    return f"The file is {shown}; links may serve at most {limit / 1_000_000:g} MB."


def _why(exc: BaseException | None) -> str:
    """A short reason without the URL (which may carry a token)."""
    if isinstance(exc, httpx.ConnectError):
        return "the connection was refused or failed"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the server broke the connection"
    return type(exc).__name__ if exc is not None else "no address answered"
