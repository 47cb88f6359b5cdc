"""What the WhatsApp tests share: the fake Cloud API with one business number, a clock both
the fake and the adapter read (the adapter's pacing sleeps move it on), the adapter wired to
the fake, connected accounts and media files."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from providers.base import AccountRef, MediaFile, MediaKind
from providers.whatsapp import WhatsAppProvider
from tests.contract.harness import TINY_JPEG
from tests.fakes.whatsapp import FakeNumber, FakeWhatsApp

TOKEN = "EAAGm0PX4ZCpsBAKsecretSystemUserToken1234567890"
ALICE = "+14155550101"
BOB = "+447700900202"
CAROL = "+5511987650303"


@dataclass
class Clock:
    """Seconds; `sleep` moves time on instead of waiting, and remembers each wait."""

    now: float = 1_000_000.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class World:
    fake: FakeWhatsApp
    http: httpx.AsyncClient
    clock: Clock
    number: FakeNumber

    def provider(self, **options: Any) -> WhatsAppProvider:
        return WhatsAppProvider(self.http, sleep=self.clock.sleep, clock=self.clock, **options)

    def account(
        self, recipients: Sequence[str] = (ALICE,), *, template: Any = None, **config: Any
    ) -> AccountRef:
        """A connected account as `verify` stores it."""
        stored: dict[str, Any] = {
            "phone_number_id": self.number.id,
            "display_phone_number": self.number.display_phone_number,
            "verified_name": self.number.verified_name,
            "quality_rating": "GREEN",
            "messaging_limit_tier": "TIER_250",
            "throughput_level": "STANDARD",
            "recipients": list(recipients),
            "waba_id": self.number.waba_id,
            "templates": [],
            "template": template,
        }
        return AccountRef(
            id=5,
            platform="whatsapp",
            label=f"WhatsApp {self.number.display_phone_number}",
            config=stored | config,
            credentials={"access_token": TOKEN},
        )

    def open_windows(self, *people: str) -> None:
        for person in people:
            self.fake.user_writes(self.number.id, person)

    def messages(self) -> list[httpx.Request]:
        return [r for r in self.fake.requests if r.url.path.endswith("/messages")]

    def uploads(self) -> list[httpx.Request]:
        return [r for r in self.fake.requests if r.url.path.endswith("/media")]


@asynccontextmanager
async def world() -> AsyncIterator[World]:
    clock = Clock()
    fake = FakeWhatsApp(clock=clock)
    number = fake.add_number(token=TOKEN)
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handle)) as http:
        yield World(fake=fake, http=http, clock=clock, number=number)


def photo(tmp_path: Path, name: str = "photo", data: bytes = TINY_JPEG) -> MediaFile:
    path = tmp_path / f"{name}.jpg"
    path.write_bytes(data)
    return MediaFile(
        kind=MediaKind.PHOTO,
        mime="image/jpeg",
        size=len(data),
        path=path,
        width=1,
        height=1,
        file_name=f"{name}.jpg",
    )


def video(tmp_path: Path, data: bytes = b"\x00\x00\x00\x18ftypmp42-video-bytes") -> MediaFile:
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    return MediaFile(
        kind=MediaKind.VIDEO,
        mime="video/mp4",
        size=len(data),
        path=path,
        width=720,
        height=1280,
        duration=12.0,
        file_name="clip.mp4",
    )


def document(tmp_path: Path, data: bytes = b"%PDF-1.7 report") -> MediaFile:
    path = tmp_path / "0f9a8b.bin"
    path.write_bytes(data)
    return MediaFile(
        kind=MediaKind.DOCUMENT,
        mime="application/pdf",
        size=len(data),
        path=path,
        file_name="report.pdf",
    )
