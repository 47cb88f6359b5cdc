"""Signed, expiring links to stored files, for platforms that fetch media from a URL
instead of taking an upload (Instagram, Threads, TikTok's photos).

A link is PUBLIC_URL/media/<name>?exp=<unix time>&sig=<HMAC-SHA256 of name and exp>, the key
derived from CRIER_ENCRYPTION_KEY, so nobody can guess a link to someone's file and a link
stops working after its time (a day: platforms fetch within minutes, a two-phase publish
may take hours). The web server's /media route checks it (bot/ops/web.py).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from pathlib import Path

#: How long a link works, seconds.
LINK_SECONDS = 24 * 3600


def link_key(secret: str) -> bytes:
    """A key for links only, from the credentials key (never the key itself)."""
    return hmac.new(secret.encode(), b"crier media links v1", hashlib.sha256).digest()


class MediaLinks:
    def __init__(
        self,
        base_url: str,
        key: bytes,
        *,
        seconds: int = LINK_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = key
        self._seconds = seconds
        self._clock = clock

    def url(self, path: Path) -> str:
        """The link to a stored file or a platform's copy of one (named by its sha256)."""
        name = path.name
        expires = int(self._clock()) + self._seconds
        return f"{self.base_url}/media/{name}?exp={expires}&sig={self._sign(name, expires)}"

    def valid(self, name: str, expires: str, signature: str) -> bool:
        if not expires.isdigit() or int(expires) < self._clock():
            return False
        return hmac.compare_digest(self._sign(name, int(expires)), signature)

    def _sign(self, name: str, expires: int) -> str:
        message = f"{name}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:40]
