"""What the LinkedIn tests share: a fake LinkedIn with a member who administers a page, the
adapter wired to it, connected accounts, and media files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from providers.base import AccountRef, MediaFile, MediaKind
from providers.linkedin import LinkedInProvider
from providers.oauth import OAuthApp
from tests.contract.harness import TINY_JPEG
from tests.fakes.linkedin import FakeLinkedIn
from tests.fakes.linkedin_state import Member, Organization

NOW = datetime(2026, 11, 3, 18, 30, tzinfo=UTC)
APP = OAuthApp(client_id="crier-client", client_secret="crier-secret")
REDIRECT = "https://crier.example/oauth/linkedin/callback"
MEMBER_SCOPES = "openid profile w_member_social"
PAGE_SCOPES = (
    "r_basicprofile w_member_social w_organization_social r_organization_social "
    "rw_organization_admin"
)


@dataclass
class World:
    fake: FakeLinkedIn
    http: httpx.AsyncClient
    alice: Member
    acme: Organization

    def provider(
        self, *, http: httpx.AsyncClient | None = None, organizations: bool = False
    ) -> LinkedInProvider:
        return LinkedInProvider(
            http or self.http, oauth_app=APP, organizations=organizations, now=lambda: NOW
        )

    def member_account(self, scopes: str = MEMBER_SCOPES) -> AccountRef:
        token = self.fake.grant(self.alice, scopes)
        return AccountRef(
            id=1,
            platform="linkedin",
            label=self.alice.name,
            config={"author": self.alice.urn, "kind": "member", "name": self.alice.name},
            credentials={"access_token": token, "scope": scopes.replace(" ", ",")},
        )

    def page_account(self, scopes: str = PAGE_SCOPES) -> AccountRef:
        token = self.fake.grant(self.alice, scopes)
        return AccountRef(
            id=2,
            platform="linkedin",
            label=self.acme.name,
            config={
                "author": self.acme.urn,
                "kind": "organization",
                "name": self.acme.name,
                "member": self.alice.urn,
            },
            credentials={"access_token": token, "scope": scopes.replace(" ", ",")},
        )


@asynccontextmanager
async def world(**fake_options: object) -> AsyncIterator[World]:
    fake = FakeLinkedIn(**fake_options)  # type: ignore[arg-type]
    alice = fake.add_member("Alice", "Smith")
    acme = fake.add_organization("Acme Corp", admins=[alice])
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handle)) as http:
        yield World(fake=fake, http=http, alice=alice, acme=acme)


def photo(tmp_path: Path, name: str, alt: str | None = None, data: bytes = TINY_JPEG) -> MediaFile:
    path = tmp_path / f"{name}.jpg"
    path.write_bytes(data)
    return MediaFile(
        kind=MediaKind.PHOTO,
        mime="image/jpeg",
        size=len(data),
        path=path,
        width=1,
        height=1,
        alt_text=alt,
        file_name=path.name,
    )


def video(tmp_path: Path, size: int = 250_000, duration: float = 12.0) -> MediaFile:
    """An MP4-sized file whose bytes say where they are (so misplaced ranges show)."""
    path = tmp_path / "clip.mp4"
    path.write_bytes(bytes(i % 251 for i in range(size)))
    return MediaFile(
        kind=MediaKind.VIDEO,
        mime="video/mp4",
        size=size,
        path=path,
        width=1280,
        height=720,
        duration=duration,
        file_name=path.name,
    )
